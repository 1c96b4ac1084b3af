//! Packets as observed: a segment with the time it was sent and, when the
//! observer knows it (the demo does, a capture does not), when it arrived or
//! that it was lost; and the remarks a diagram makes about it.

use wire::Instant;

use super::segment::Seg;

/// Something worth saying about a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mark {
    /// The network dropped it.
    Lost,
    /// It carries sequence space that was sent before.
    Retransmission,
    /// A retransmission on duplicate ACKs (known only from the sender).
    FastRetransmit,
    /// A probe into a zero window (persist timer).
    WindowProbe,
    /// It advertises a zero window: the receiver's buffer is full.
    ZeroWindow,
    /// A pure ACK that reopens a window that was zero.
    WindowUpdate,
    /// A pure ACK repeating the previous acknowledgment.
    DupAck,
    /// A keep-alive probe.
    KeepAlive,
    /// A challenge ACK (RFC 5961).
    ChallengeAck,
    /// An old duplicate from an earlier connection (injected by the demo).
    OldDuplicate,
    /// A SYN-ACK whose sequence number is a SYN cookie (RFC 4987).
    SynCookie,
    /// The network delivered it twice.
    Duplicated,
    /// The network flipped a bit: the receiver dropped it.
    Corrupted,
}

/// One observed segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The segment.
    pub seg: Seg,
    /// When it was sent (for a capture: when it was captured).
    pub sent: Instant,
    /// When it arrived, if known.
    pub arrived: Option<Instant>,
    /// Whether it is known to have been lost.
    pub lost: bool,
    /// Remarks, in no particular order and without repeats.
    pub marks: Vec<Mark>,
}

impl Packet {
    /// A packet seen at `at`, with nothing known of its fate.
    pub fn seen(seg: Seg, at: Instant) -> Packet {
        Packet {
            seg,
            sent: at,
            arrived: None,
            lost: false,
            marks: Vec::new(),
        }
    }

    /// Adds a remark once.
    pub fn mark(&mut self, mark: Mark) {
        if !self.marks.contains(&mark) {
            self.marks.push(mark);
        }
    }

    /// Whether it has a remark.
    pub fn has(&self, mark: Mark) -> bool {
        self.marks.contains(&mark)
    }

    /// When the receiver saw it: its arrival if known, else when it was
    /// seen (a capture's single timestamp); `None` when lost.
    pub fn effect_time(&self) -> Option<Instant> {
        if self.lost {
            None
        } else {
            Some(self.arrived.unwrap_or(self.sent))
        }
    }
}
