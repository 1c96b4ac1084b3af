//! `synack trace`: the connections of a capture, each with its inferred
//! states, ready to draw.

use std::fmt::Write as _;

use wire::tcp::TcpFlags;

use super::capture::Packet;
use super::conns::{group, Conversation};
use super::infer::{infer, Side, Timeline};
use super::ladder::{build, Ladder, View};
use super::lang::Lang;
use super::marks;
use super::pcap::{read, Capture, ReadError};
use super::text::{fmt_count, Paint};
use super::width::pad;

/// One connection of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traced {
    /// Its packets, with remarks.
    pub conversation: Conversation,
    /// Both sides' states, inferred from the segments.
    pub timeline: Timeline,
}

impl Traced {
    /// Who is who: the side that sent the first SYN is the client.
    pub fn names(&self) -> [&'static str; 2] {
        let syn = self
            .conversation
            .packets
            .iter()
            .any(|p| p.seg.has(TcpFlags::SYN) && !p.seg.has(TcpFlags::ACK));
        let simultaneous = self.timeline.initial == [proto::conn::State::Closed; 2];
        if syn && !simultaneous {
            ["client", "server"]
        } else {
            ["", ""]
        }
    }

    /// The connection as a ladder.
    pub fn ladder(&self, view: &View) -> Ladder {
        build(&self.conversation, &self.timeline, self.names(), view)
    }

    /// Each side's last state.
    pub fn final_states(&self) -> [proto::conn::State; 2] {
        let at = self
            .conversation
            .packets
            .last()
            .map_or(wire::Instant::ZERO, |p: &Packet| {
                p.sent.max(p.arrived.unwrap_or(p.sent))
            });
        [
            self.timeline.state_at(Side::Left, at),
            self.timeline.state_at(Side::Right, at),
        ]
    }
}

/// Groups packets into connections and infers their remarks and states.
pub fn connections(packets: Vec<Packet>) -> Vec<Traced> {
    group(packets)
        .into_iter()
        .map(|mut conversation| {
            marks::infer(&mut conversation);
            let timeline = infer(&conversation);
            Traced {
                conversation,
                timeline,
            }
        })
        .collect()
}

/// Reads a capture's bytes into its connections.
pub fn trace(bytes: &[u8]) -> Result<(Capture, Vec<Traced>), ReadError> {
    let mut capture = read(bytes)?;
    let packets = std::mem::take(&mut capture.packets);
    Ok((capture, connections(packets)))
}

/// One line per connection: number, addresses, packets, bytes each way and
/// the states each side ended in.
pub fn listing(conns: &[Traced], lang: Lang, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!(
            "  #  {}  {}  {}",
            pad(lang.pick("connection", "连接"), 47),
            pad(lang.pick("segments", "报文段"), 8),
            lang.pick("data bytes → / ←, final states", "数据字节 → / ←，最终状态")
        ))
    );
    for (i, c) in conns.iter().enumerate() {
        let (r, l) = c.conversation.data_bytes();
        let st = c.final_states();
        let _ = writeln!(
            out,
            "{:>3}  {}  {:>8}  {} / {}, {} / {}",
            i + 1,
            pad(
                &format!("{} → {}", c.conversation.left, c.conversation.right),
                47
            ),
            c.conversation.packets.len(),
            fmt_count(r),
            fmt_count(l),
            st[0].name(),
            st[1].name()
        );
    }
    out
}
