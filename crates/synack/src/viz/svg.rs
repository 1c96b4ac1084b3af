//! The ladder as an SVG picture: two lifelines, a sloped arrow per segment
//! with its label, state boxes where each side changes state, folded gaps
//! as dotted bands. One picture may hold several ladders, one under the
//! other. Every arrow is a `<g class="arrow">`, which tests count.

use std::fmt::Write as _;

use proto::conn::Cause;
use wire::tcp::TcpFlags;
use wire::Instant;

use super::infer::Side;
use super::ladder::{Arrow, Gap, Ladder, Row, StateRow};
use super::lang::Lang;
use super::text::{
    arrow_label, fmt_duration, fmt_time, gap_retransmitted, gap_traffic, option_words,
};

const WIDTH: i32 = 1000;
const LEFT: i32 = 300;
const RIGHT: i32 = 700;
const RIGHT_COLOR: &str = "#1565c0";
const LEFT_COLOR: &str = "#6a1b9a";
const BAD_COLOR: &str = "#c62828";
const STATE_FILL: &str = "#e8f5e9";
const STATE_STROKE: &str = "#2e7d32";

/// Escapes text for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Draws `ladders`, each under its heading, in one picture titled
/// `title`.
pub fn render(title: &str, ladders: &[(String, &Ladder)], lang: Lang) -> String {
    let mut body = String::new();
    let mut y = 60;
    for (heading, ladder) in ladders {
        y = draw_ladder(&mut body, heading, ladder, lang, y) + 40;
    }
    let height = y;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="'DejaVu Sans Mono', 'Noto Sans Mono CJK SC', Menlo, Consolas, monospace" font-size="12">
<title>{t}</title>
<defs>
<marker id="tip-r" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{RIGHT_COLOR}"/></marker>
<marker id="tip-l" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{LEFT_COLOR}"/></marker>
<marker id="tip-bad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{BAD_COLOR}"/></marker>
</defs>
<rect width="100%" height="100%" fill="white"/>
<text x="{cx}" y="30" text-anchor="middle" font-size="16" font-weight="bold">{t}</text>
"##,
        t = escape(title),
        cx = WIDTH / 2,
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// A state box centred on `x` at `y`.
fn state_box(out: &mut String, x: i32, y: i32, name: &str) {
    let w = 8 * name.chars().count() as i32 + 16;
    let _ = writeln!(
        out,
        r#"<g class="state"><rect x="{}" y="{}" width="{w}" height="20" rx="6" fill="{STATE_FILL}" stroke="{STATE_STROKE}"/><text x="{x}" y="{}" text-anchor="middle" font-weight="bold" fill="{STATE_STROKE}">{}</text></g>"#,
        x - w / 2,
        y - 10,
        y + 4,
        escape(name)
    );
}

/// Where a side's state boxes go: outside its lifeline.
fn box_x(side: Side) -> i32 {
    match side {
        Side::Left => LEFT - 90,
        Side::Right => RIGHT + 90,
    }
}

/// Where a side's times go.
fn time_x(side: Side) -> (i32, &'static str) {
    match side {
        Side::Left => (LEFT - 8, "end"),
        Side::Right => (RIGHT + 8, "start"),
    }
}

fn time_text(out: &mut String, side: Side, y: i32, t: Instant) {
    let (x, anchor) = time_x(side);
    let _ = writeln!(
        out,
        r##"<text x="{x}" y="{}" text-anchor="{anchor}" font-size="10" fill="#757575">{} s</text>"##,
        y - 3,
        fmt_time(t)
    );
}

/// Draws one ladder from `y` down; returns the `y` where it ends.
fn draw_ladder(out: &mut String, heading: &str, l: &Ladder, lang: Lang, mut y: i32) -> i32 {
    let _ = writeln!(
        out,
        r#"<text x="20" y="{y}" font-size="14" font-weight="bold">{}</text>"#,
        escape(heading)
    );
    y += 30;
    let top = y;
    for (i, x) in [LEFT, RIGHT].into_iter().enumerate() {
        let peer = &l.peers[i];
        let name = if peer.name.is_empty() {
            peer.addr.to_string()
        } else {
            format!("{} {}", peer.name, peer.addr)
        };
        let w = 8 * name.chars().count() as i32 + 20;
        let _ = writeln!(
            out,
            r##"<g class="host"><rect x="{}" y="{}" width="{w}" height="24" rx="4" fill="#eceff1" stroke="#455a64"/><text x="{x}" y="{}" text-anchor="middle" font-weight="bold">{}</text></g>"##,
            x - w / 2,
            y - 12,
            y + 4,
            escape(&name)
        );
    }
    y += 30;
    state_box(out, box_x(Side::Left), y, l.peers[0].initial.name());
    state_box(out, box_x(Side::Right), y, l.peers[1].initial.name());
    y += 24;
    let mut gaps: Vec<(i32, i32)> = Vec::new();
    for row in &l.rows {
        y = match row {
            Row::Arrow(a) => draw_arrow(out, a, lang, y),
            Row::State(s) => draw_state_row(out, s, lang, y),
            Row::Gap(g) => {
                let end = draw_gap(out, g, lang, y);
                gaps.push((y, end));
                end
            }
        };
    }
    y += 10;
    // Lifelines, broken where segments were folded.
    for x in [LEFT, RIGHT] {
        let mut from = top + 12;
        for &(a, b) in &gaps {
            let _ = writeln!(
                out,
                r##"<line class="lifeline" x1="{x}" y1="{from}" x2="{x}" y2="{a}" stroke="#455a64" stroke-width="2"/>"##
            );
            let _ = writeln!(
                out,
                r##"<line x1="{x}" y1="{a}" x2="{x}" y2="{b}" stroke="#9e9e9e" stroke-width="2" stroke-dasharray="2,6"/>"##
            );
            from = b;
        }
        let _ = writeln!(
            out,
            r##"<line class="lifeline" x1="{x}" y1="{from}" x2="{x}" y2="{y}" stroke="#455a64" stroke-width="2"/>"##
        );
    }
    y
}

fn draw_arrow(out: &mut String, a: &Arrow, lang: Lang, y: i32) -> i32 {
    let y0 = y + 16;
    let y1 = y0 + 28;
    let (x0, x1) = match a.from {
        Side::Left => (LEFT, RIGHT),
        Side::Right => (RIGHT, LEFT),
    };
    let bad = a.lost || a.flags.contains(TcpFlags::RST);
    let (color, tip) = if bad {
        (BAD_COLOR, "tip-bad")
    } else if a.from == Side::Left {
        (RIGHT_COLOR, "tip-r")
    } else {
        (LEFT_COLOR, "tip-l")
    };
    let _ = writeln!(out, r#"<g class="arrow">"#);
    if a.lost {
        // The segment dies two thirds of the way.
        let xe = x0 + (x1 - x0) * 2 / 3;
        let ye = y0 + (y1 - y0) * 2 / 3;
        let _ = writeln!(
            out,
            r#"<line x1="{x0}" y1="{y0}" x2="{xe}" y2="{ye}" stroke="{color}" stroke-width="2" stroke-dasharray="6,4"/><text x="{xe}" y="{}" text-anchor="middle" font-size="16" font-weight="bold" fill="{color}">✗</text>"#,
            ye + 6
        );
    } else {
        let _ = writeln!(
            out,
            r#"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="{color}" stroke-width="2" marker-end="url(#{tip})"/>"#
        );
    }
    // Labels run along the arrow, read left to right.
    let (yl, yr) = match a.from {
        Side::Left => (y0, y1),
        Side::Right => (y1, y0),
    };
    let angle = f64::from(yr - yl)
        .atan2(f64::from(RIGHT - LEFT))
        .to_degrees();
    let (cx, cy) = ((LEFT + RIGHT) / 2, (y0 + y1) / 2);
    let _ = writeln!(
        out,
        r#"<g transform="rotate({angle:.2} {cx} {cy})"><text x="{cx}" y="{}" text-anchor="middle" fill="{color}" font-weight="bold">{}</text>"#,
        cy - 6,
        escape(&arrow_label(a))
    );
    let mut extra: Vec<String> = a.marks.iter().map(|m| lang.mark(*m).to_string()).collect();
    // Timestamps would not fit between the lifelines.
    let words: Vec<String> = option_words(a, false)
        .into_iter()
        .filter(|w| !w.starts_with("TSval"))
        .collect();
    if !words.is_empty() {
        extra.push(words.join(" · "));
    }
    let end = y1 + 18;
    if !extra.is_empty() {
        let _ = writeln!(
            out,
            r##"<text x="{cx}" y="{}" text-anchor="middle" font-size="10" fill="{}">{}</text>"##,
            cy + 14,
            if a.marks.is_empty() {
                "#616161"
            } else {
                "#e65100"
            },
            escape(&extra.join(" · "))
        );
    }
    let _ = writeln!(out, "</g>");
    let _ = writeln!(out, "</g>");
    time_text(out, a.from, y0, a.sent);
    if let Some(t) = a.arrived {
        time_text(out, a.from.other(), y1, t);
    }
    for side in [Side::Left, Side::Right] {
        if let Some(s) = a.states[side.index()] {
            let at = if side == a.from { y0 } else { y1 };
            state_box(out, box_x(side), at + 12, s.name());
        }
    }
    end + 10
}

fn draw_state_row(out: &mut String, s: &StateRow, lang: Lang, y: i32) -> i32 {
    let y0 = y + 14;
    let text = match (s.cause, s.after) {
        (Some(Cause::TimeWaitExpired), Some(d)) => format!(
            "{} {}",
            lang.pick("2·MSL wait over after", "2·MSL 等待结束，历时"),
            fmt_duration(d)
        ),
        (Some(c), _) => lang.cause(c).to_string(),
        (None, _) => String::new(),
    };
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" text-anchor="middle" font-style="italic" fill="#616161">⋯ {} ⋯</text>"##,
        (LEFT + RIGHT) / 2,
        y0 + 4,
        escape(&text)
    );
    time_text(out, s.side, y0, s.at);
    state_box(out, box_x(s.side), y0 + 12, s.to.name());
    y0 + 30
}

fn draw_gap(out: &mut String, g: &Gap, lang: Lang, y: i32) -> i32 {
    let h = 40;
    let mut text = gap_traffic(g, lang);
    if let Some(r) = gap_retransmitted(g, lang) {
        let _ = write!(text, ", {r}");
    }
    let _ = writeln!(
        out,
        r##"<g class="gap"><rect x="{}" y="{}" width="{}" height="{h}" fill="#fafafa" stroke="#bdbdbd" stroke-dasharray="4,4"/><text x="{}" y="{}" text-anchor="middle" fill="#616161">⋮ {} ⋮</text></g>"##,
        LEFT + 10,
        y + 6,
        RIGHT - LEFT - 20,
        (LEFT + RIGHT) / 2,
        y + 6 + h / 2 + 4,
        escape(&text)
    );
    for side in [Side::Left, Side::Right] {
        if let Some(s) = g.states[side.index()] {
            state_box(out, box_x(side), y + 6 + h / 2, s.name());
        }
    }
    y + h + 16
}
