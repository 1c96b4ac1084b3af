//! The time–sequence graph (Stevens graph) of one direction of a
//! connection, as SVG: each data segment a vertical bar from its first to
//! its last sequence number at the time it was sent (retransmissions in
//! red), the receiver's ACK line and advertised-window line as steps, and
//! its SACK blocks as bars.

use std::fmt::Write as _;

use wire::tcp::TcpFlags;

use super::capture::{Mark, Packet};
use super::conns::Conversation;
use super::lang::Lang;
use super::svg::escape;

const W: f64 = 1000.0;
const H: f64 = 640.0;
const ML: f64 = 90.0;
const MR: f64 = 30.0;
const MT: f64 = 50.0;
const MB: f64 = 70.0;

/// Nice tick values covering `[lo, hi]`, about `n` of them.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut out = Vec::new();
    let mut v = (lo / step).ceil() * step;
    while v <= hi + step * 1e-9 && out.len() < 100 {
        out.push(v);
        v += step;
    }
    out
}

/// A tick label: integers with thousands in k/M, times with sensible
/// decimals.
fn label(v: f64, seconds: bool) -> String {
    if seconds {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else if v.abs() >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v.abs() >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Which direction carries the data: true for left to right.
fn data_rightward(conv: &Conversation) -> bool {
    let (r, l) = conv.data_bytes();
    r >= l
}

/// Draws the graph of the direction that carries more data.
pub fn render(conv: &Conversation, lang: Lang) -> String {
    let rightward = data_rightward(conv);
    let from_sender = |p: &Packet| conv.is_rightward(p) == rightward;
    let shift = |p: &Packet| {
        // The receiver's window scale applies to its non-SYN segments once
        // both SYNs offered scaling.
        p.seg.options.window_scale
    };
    let mut sender_ws = None;
    let mut receiver_ws = None;
    for p in conv.packets.iter().filter(|p| p.seg.has(TcpFlags::SYN)) {
        if from_sender(p) {
            sender_ws = Some(shift(p));
        } else {
            receiver_ws = Some(shift(p));
        }
    }
    let scale = match (sender_ws, receiver_ws) {
        (Some(Some(_)), Some(Some(r))) => u32::from(r.min(14)),
        _ => 0,
    };
    let base = conv
        .packets
        .iter()
        .filter(|p| from_sender(p) && !p.has(Mark::OldDuplicate))
        .fold(None, |b, p| {
            if p.seg.has(TcpFlags::SYN) {
                Some(p.seg.seq.0)
            } else {
                b.or(Some(p.seg.seq.0))
            }
        })
        .unwrap_or(0);
    let rel = |n: u32| f64::from(n.wrapping_sub(base));
    let secs = |p: &Packet| p.sent.micros() as f64 / 1e6;
    let t0 = conv.packets.first().map_or(0.0, secs);
    let t1 = conv.packets.last().map_or(1.0, secs).max(t0 + 1e-3);
    // Everything to plot, in graph units.
    let mut data = Vec::new();
    let mut acks = Vec::new();
    let mut sacks = Vec::new();
    let mut ymax: f64 = 1.0;
    for p in &conv.packets {
        let t = secs(p);
        if from_sender(p) {
            if p.seg.len > 0 {
                let a = rel(p.seg.seq.0);
                let b = a + f64::from(p.seg.len);
                let kind = if p.has(Mark::Retransmission) || p.has(Mark::FastRetransmit) {
                    1
                } else if p.has(Mark::WindowProbe) {
                    2
                } else {
                    0
                };
                data.push((t, a, b, kind, p.lost));
                ymax = ymax.max(b);
            }
        } else if p.seg.has(TcpFlags::ACK) && !p.seg.has(TcpFlags::RST) {
            let ack = rel(p.seg.ack.0);
            let win = if p.seg.has(TcpFlags::SYN) {
                f64::from(p.seg.window)
            } else {
                f64::from(u32::from(p.seg.window) << scale)
            };
            acks.push((t, ack, ack + win));
            for b in p.seg.options.sack.as_slice() {
                sacks.push((t, rel(b.start.0), rel(b.end.0)));
            }
        }
    }
    let data_max = ymax;
    for &(_, a, w) in &acks {
        // Keep the window line from flattening everything else.
        ymax = ymax.max(a).max(w.min(data_max * 1.25 + 1.0));
    }
    let x = |t: f64| ML + (t - t0) / (t1 - t0) * (W - ML - MR);
    let y = |v: f64| H - MB - v / ymax * (H - MT - MB);
    let mut out = String::new();
    let (l, r) = (conv.left, conv.right);
    let (src, dst) = if rightward { (l, r) } else { (r, l) };
    let title = format!(
        "{}: {src} → {dst}",
        lang.pick("Time–sequence graph", "时间–序号图")
    );
    let _ = write!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="'DejaVu Sans', Arial, sans-serif" font-size="12">
<title>{t}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="{cx}" y="28" text-anchor="middle" font-size="16" font-weight="bold">{t}</text>
"##,
        t = escape(&title),
        cx = W / 2.0
    );
    // Axes and grid.
    for v in ticks(t0, t1, 10) {
        let xv = x(v);
        let _ = writeln!(
            out,
            r##"<line x1="{xv:.1}" y1="{MT}" x2="{xv:.1}" y2="{:.1}" stroke="#eeeeee"/><text x="{xv:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
            H - MB,
            H - MB + 16.0,
            label(v, true)
        );
    }
    for v in ticks(0.0, ymax, 8) {
        let yv = y(v);
        let _ = writeln!(
            out,
            r##"<line x1="{ML}" y1="{yv:.1}" x2="{:.1}" y2="{yv:.1}" stroke="#eeeeee"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
            W - MR,
            ML - 6.0,
            yv + 4.0,
            label(v, false)
        );
    }
    let _ = writeln!(
        out,
        r##"<g class="axes" stroke="#212121"><line x1="{ML}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><line x1="{ML}" y1="{MT}" x2="{ML}" y2="{:.1}"/></g>
<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>
<text transform="translate(22,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
        H - MB,
        W - MR,
        H - MB,
        H - MB,
        (ML + W - MR) / 2.0,
        H - 24.0,
        escape(lang.pick("time (s)", "时间（秒）")),
        (MT + H - MB) / 2.0,
        escape(lang.pick("sequence number (bytes, relative)", "序号（字节，相对值）")),
    );
    // The window and ACK lines as steps.
    for (class, color, pick) in [("window", "#f9a825", 2usize), ("ack", "#2e7d32", 1usize)] {
        if acks.is_empty() {
            continue;
        }
        let mut d = String::new();
        let mut prev: Option<f64> = None;
        for &(t, a, w) in &acks {
            let v = if pick == 1 { a } else { w };
            match prev {
                None => {
                    let _ = write!(d, "M{:.1},{:.1}", x(t), y(v));
                }
                Some(_) => {
                    let _ = write!(d, " H{:.1} V{:.1}", x(t), y(v));
                }
            }
            prev = Some(v);
        }
        let _ = write!(d, " H{:.1}", x(t1));
        let _ = writeln!(
            out,
            r#"<path class="{class}" d="{d}" fill="none" stroke="{color}" stroke-width="1.5"/>"#
        );
    }
    for &(t, a, b) in &sacks {
        let _ = writeln!(
            out,
            r##"<line class="sack" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#7b1fa2" stroke-width="3" opacity="0.7"/>"##,
            x(t) + 2.0,
            y(a),
            x(t) + 2.0,
            y(b)
        );
    }
    for &(t, a, b, kind, lost) in &data {
        let color = match kind {
            1 => "#d32f2f",
            2 => "#ef6c00",
            _ => "#1565c0",
        };
        let class = match kind {
            1 => "segment retransmission",
            2 => "segment probe",
            _ => "segment",
        };
        let _ = writeln!(
            out,
            r#"<line class="{class}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"{}/>"#,
            x(t),
            y(a),
            x(t),
            y(b).min(y(a) - 1.0),
            if lost {
                r#" stroke-dasharray="2,2""#
            } else {
                ""
            }
        );
        if kind == 1 {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="none" stroke="{color}"/>"#,
                x(t),
                y(b)
            );
        }
    }
    // Legend.
    let items = [
        ("#1565c0", lang.pick("data segment", "数据报文段")),
        ("#d32f2f", lang.pick("retransmission", "重传")),
        ("#ef6c00", lang.pick("window probe", "窗口探测")),
        ("#2e7d32", lang.pick("ACK", "确认号 ACK")),
        (
            "#f9a825",
            lang.pick("ACK + advertised window", "ACK + 通告窗口"),
        ),
        ("#7b1fa2", lang.pick("SACK block", "SACK 块")),
    ];
    for (i, (color, text)) in items.iter().enumerate() {
        let lx = ML + 12.0;
        let ly = MT + 14.0 + 16.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{lx}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{ly:.1}" font-size="11">{}</text>"#,
            ly - 4.0,
            lx + 16.0,
            ly - 4.0,
            lx + 22.0,
            escape(text)
        );
    }
    out.push_str("</svg>\n");
    out
}
