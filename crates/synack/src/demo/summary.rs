//! The transfer in numbers: goodput, RTT, retransmissions, fast
//! retransmits, timeouts and the largest congestion window, from the
//! sender's own counters.

use std::fmt::Write as _;
use std::time::Duration;

use proto::conn::Status;
use sim::LinkStats;
use wire::Instant;

use crate::viz::text::{fmt_count, fmt_duration, Paint};
use crate::viz::Lang;

/// What the bulk transfer achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Bytes sent and acknowledged.
    pub bytes: u64,
    /// From the end of the handshake to the last byte acknowledged.
    pub duration: Duration,
    /// Application bytes per second, in bits.
    pub goodput_bps: f64,
    /// The sender's smoothed RTT at the end.
    pub srtt: Option<Duration>,
    /// The sender's RTO at the end.
    pub rto: Duration,
    /// Data segments sent (retransmissions included).
    pub segments: u64,
    /// Segments sent again (after a timeout or on duplicate ACKs).
    pub retransmissions: u64,
    /// Of those, sent on duplicate ACKs (or SACK's DupThresh rule).
    pub fast_retransmits: u64,
    /// Of those, sent because RACK deemed them lost.
    pub rack_retransmits: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// The largest congestion window, bytes.
    pub peak_cwnd: u32,
    /// The MSS, bytes.
    pub mss: u32,
    /// Packets the network lost, both ways.
    pub lost: u64,
    /// Packets the network carried, both ways.
    pub carried: u64,
}

impl Summary {
    /// The summary from the sender's status when everything was
    /// acknowledged, and the two links' counters.
    pub fn new(
        bytes: u64,
        start: Instant,
        end: Instant,
        status: &Status,
        links: [LinkStats; 2],
    ) -> Summary {
        let duration = end.saturating_since(start);
        let secs = duration.as_secs_f64().max(1e-9);
        Summary {
            bytes,
            duration,
            goodput_bps: bytes as f64 * 8.0 / secs,
            srtt: status.srtt,
            rto: status.rto,
            segments: status.stats.segs_out,
            retransmissions: status.stats.retransmits,
            fast_retransmits: status.stats.fast_retransmits,
            rack_retransmits: status.stats.rack_retransmits,
            timeouts: status.stats.timeouts,
            peak_cwnd: status.stats.max_cwnd,
            mss: status.mss,
            lost: links.iter().map(|l| l.dropped_loss + l.dropped_queue).sum(),
            carried: links.iter().map(|l| l.sent_packets).sum(),
        }
    }

    /// The summary as indented lines.
    pub fn render(&self, lang: Lang, color: bool) -> String {
        let p = Paint(color);
        let mut out = String::new();
        let rate = fmt_rate(self.goodput_bps);
        let row = |out: &mut String, k: &str, v: String| {
            let _ = writeln!(out, "  {} {}", p.dim(&crate::viz::width::pad(k, 22)), v);
        };
        row(
            &mut out,
            lang.pick("data", "数据量"),
            format!(
                "{} {} ({})",
                fmt_count(self.bytes),
                lang.pick("bytes", "字节"),
                fmt_bytes(self.bytes)
            ),
        );
        row(
            &mut out,
            lang.pick("time", "用时"),
            format!(
                "{} {}",
                fmt_duration(self.duration),
                lang.pick("(simulated)", "（模拟时间）")
            ),
        );
        row(&mut out, lang.pick("goodput", "有效吞吐量"), p.bold(&rate));
        row(
            &mut out,
            lang.pick("RTT (smoothed)", "RTT（平滑）"),
            format!(
                "{}, RTO {}",
                self.srtt.map_or("-".into(), fmt_duration),
                fmt_duration(self.rto)
            ),
        );
        row(
            &mut out,
            lang.pick("segments sent", "发送的报文段"),
            fmt_count(self.segments),
        );
        row(
            &mut out,
            lang.pick("retransmissions", "重传"),
            format!(
                "{} ({} {}, {} {}, {} {})",
                fmt_count(self.retransmissions),
                fmt_count(self.fast_retransmits),
                lang.pick(
                    if self.fast_retransmits == 1 {
                        "fast retransmit"
                    } else {
                        "fast retransmits"
                    },
                    "次快速重传"
                ),
                fmt_count(self.rack_retransmits),
                lang.pick("by RACK", "次 RACK 重传"),
                fmt_count(self.timeouts),
                lang.pick(
                    if self.timeouts == 1 {
                        "timeout"
                    } else {
                        "timeouts"
                    },
                    "次超时"
                ),
            ),
        );
        row(
            &mut out,
            lang.pick("peak cwnd", "最大拥塞窗口"),
            format!(
                "{} ({} × {} B {})",
                fmt_bytes(u64::from(self.peak_cwnd)),
                self.peak_cwnd / self.mss.max(1),
                self.mss,
                lang.pick("segments", "报文段")
            ),
        );
        row(
            &mut out,
            lang.pick("lost by the network", "网络丢包"),
            format!(
                "{} {} {}",
                fmt_count(self.lost),
                lang.pick("of", "/"),
                fmt_count(self.carried)
            ),
        );
        out
    }
}

/// Bits per second for people.
pub fn fmt_rate(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2} Gbit/s", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.1} Mbit/s", bps / 1e6)
    } else {
        format!("{:.1} kbit/s", bps / 1e3)
    }
}

/// Bytes for people (binary units).
pub fn fmt_bytes(n: u64) -> String {
    let x = n as f64;
    if x >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", x / 1024.0 / 1024.0)
    } else if x >= 1024.0 {
        format!("{:.1} KiB", x / 1024.0)
    } else {
        format!("{n} B")
    }
}
