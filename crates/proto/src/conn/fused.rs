//! The fused receive: a segment handed over with its checksum not yet
//! verified, so that the fast path reads its data once instead of twice.
//!
//! A verified segment's data is read twice: once to sum it, once to copy it
//! into the receive buffer. When header prediction (`predict`) would take
//! the segment, its data is instead copied into the buffer's free space
//! and summed in the same pass, invisible to readers; the segment is then
//! taken only if its checksum verifies, and otherwise dropped with nothing
//! changed, as a segment that fails its checksum must be (RFC 9293 §3.1,
//! MUST-3; the bytes copied stay garbage past the buffer's contents). Any
//! other segment is verified first and then handled as usual.

use wire::checksum::Checksum;
use wire::tcp::{PendingChecksum, TcpRepr};
use wire::Instant;

use super::Connection;

/// What became of a segment handed over with its checksum unverified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The checksum failed: the segment was dropped and nothing changed.
    BadChecksum,
    /// Verified first, then handled as by
    /// [`handle_segment`](Connection::handle_segment).
    Verified,
    /// Taken by the fast path, its data summed as it was copied.
    Fused,
}

impl Connection {
    /// A segment for this connection arrived, parsed with its checksum
    /// still `pending` (`TcpRepr::parse_deferred`; its ports were checked
    /// by the caller). It is handled as by
    /// [`handle_segment`](Self::handle_segment) if, and only if, the
    /// checksum verifies. (Inlined into the endpoint's receive path, with
    /// the prediction: it runs once per data segment.)
    #[inline(always)]
    pub fn handle_unverified_segment(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        pending: PendingChecksum,
    ) -> Checked {
        let mut sum = Checksum::new();
        // Staging changes nothing the connection or a reader can see:
        // the bytes lie past the buffer's contents until committed.
        let staged = if self.is_predicted(seg) {
            self.rcv.buf.stage_summed(seg.payload, &mut sum)
        } else {
            None
        };
        match staged {
            Some(staged) => {
                if !pending.finish(sum) {
                    return Checked::BadChecksum;
                }
                self.segment_arrives(now, seg, Some(staged));
                Checked::Fused
            }
            None => {
                if !pending.verify(seg.payload) {
                    return Checked::BadChecksum;
                }
                self.handle_segment(now, seg);
                Checked::Verified
            }
        }
    }
}
