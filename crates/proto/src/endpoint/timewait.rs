//! TIME-WAIT in compact form: a few dozen bytes per connection instead of
//! a full TCB (RFC 9293 §3.6.1, §3.10.7.4 TIME-WAIT; RFC 6191 for a new
//! SYN on the same 4-tuple).

use wire::tcp::{TcpFlags, TcpRepr, Timestamps};
use wire::{Instant, SeqNum};

use crate::conn::TimeWaitInfo;

/// What a compact TIME-WAIT entry does with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TwVerdict {
    /// Acknowledge (and keep waiting).
    Ack,
    /// Acknowledge the retransmitted FIN and restart the 2·MSL wait.
    AckAndRestart,
    /// Forget the entry: a valid RST.
    Close,
    /// A new SYN that may reopen the 4-tuple (RFC 6191 / RFC 1122
    /// §4.2.2.13): the entry goes, the SYN goes to the listener.
    Reopen,
    /// Nothing.
    Drop,
}

/// A connection in TIME-WAIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeWait {
    pub info: TimeWaitInfo,
}

impl TimeWait {
    pub fn judge(&self, seg: &TcpRepr<'_>) -> TwVerdict {
        let flags = seg.flags;
        let rcv_nxt = self.info.rcv_nxt;
        if flags.contains(TcpFlags::RST) {
            // RFC 5961 §3: only an exact RCV.NXT counts.
            return if seg.seq == rcv_nxt {
                TwVerdict::Close
            } else {
                TwVerdict::Drop
            };
        }
        if flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK) {
            // RFC 6191 §2: with timestamps, a SYN whose TSval is newer than
            // TS.Recent; without, a SYN beyond RCV.NXT (RFC 1122).
            let newer = match (self.info.ts_recent, seg.options.timestamps) {
                (Some(recent), Some(ts)) => (ts.tsval.wrapping_sub(recent) as i32) > 0,
                (Some(_), None) => false,
                (None, _) => seg.seq > rcv_nxt,
            };
            return if newer {
                TwVerdict::Reopen
            } else {
                TwVerdict::Ack
            };
        }
        if flags.contains(TcpFlags::FIN) && seg.seq + seg.seq_len() == rcv_nxt {
            return TwVerdict::AckAndRestart;
        }
        TwVerdict::Ack
    }

    /// The ACK to send: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    pub fn ack(&self, now: Instant) -> (SeqNum, SeqNum, u16, Option<Timestamps>) {
        let ts = self.info.ts_recent.map(|recent| Timestamps {
            tsval: (now.millis() as u32).wrapping_add(self.info.ts_offset),
            tsecr: recent,
        });
        (self.info.snd_nxt, self.info.rcv_nxt, self.info.window, ts)
    }
}
