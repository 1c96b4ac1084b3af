//! Undoing spurious window reductions.
//!
//! A retransmission is spurious when the original was not lost, only
//! late (reordering, a delay spike). The window was then cut for nothing,
//! and the cut is taken back with [`Controller::undo`] once one of these
//! shows it:
//!
//! - D-SACK (RFC 2883, RFC 3708 §3): every retransmission of the episode
//!   was reported received twice;
//! - timestamps, the Eifel detection (RFC 3522 §2): the ACK for the
//!   retransmitted data echoes a timestamp older than the first
//!   retransmission, so it was the original that arrived;
//! - F-RTO (RFC 5682 §3, the SACK-enhanced variant) after a timeout: new
//!   data is sent instead of more retransmissions, and if the next ACKs
//!   acknowledge segments that were never retransmitted, the originals
//!   were delivered and the timeout was spurious.
//!
//! [`Controller::undo`]: super::congestion::Controller::undo

use wire::SeqNum;

/// F-RTO's progress after a timeout (RFC 5682 §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Frto {
    /// Not running.
    #[default]
    Off,
    /// Step 1 done (the first unacknowledged segment was resent); waiting
    /// for the first ACK. `high` is SND.MAX at the timeout ("recover").
    WaitFirstAck {
        /// SND.MAX when the timer fired.
        high: SeqNum,
    },
    /// Step 2.b done: new data goes out instead of retransmissions;
    /// waiting for the second ACK.
    WaitSecondAck {
        /// SND.MAX when the timer fired.
        high: SeqNum,
    },
}

/// The state for detecting a spurious reduction, per recovery episode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Undo {
    /// SND.UNA when the episode began; `None` when there is nothing to
    /// undo (Linux's `undo_marker`).
    pub marker: Option<SeqNum>,
    /// Retransmissions of the episode not yet shown redundant by a D-SACK
    /// (Linux's `undo_retrans`).
    pub retrans: u32,
    /// Our TSval when the episode's first retransmission left (Linux's
    /// `retrans_stamp`), for the Eifel check.
    pub first_retrans_ts: Option<u32>,
    /// Where that retransmission began.
    pub first_retrans_seq: Option<SeqNum>,
    /// F-RTO's progress.
    pub frto: Frto,
    /// Segments of new data to send before any retransmission (F-RTO
    /// step 2.b: up to two).
    pub frto_new_data: u8,
    /// Something was retransmitted in the episode.
    pub any_retrans: bool,
}

impl Undo {
    /// A reduction episode begins with SND.UNA at `una`.
    pub fn start(&mut self, una: SeqNum) {
        *self = Undo {
            marker: Some(una),
            ..Undo::default()
        };
    }

    /// Nothing to undo any more.
    pub fn clear(&mut self) {
        *self = Undo::default();
    }

    /// A retransmission of the episode left, from `seq`, with our TSval
    /// `ts` (if timestamps are in use).
    pub fn on_retransmit(&mut self, ts: Option<u32>, seq: SeqNum) {
        if self.marker.is_some() {
            self.retrans = self.retrans.saturating_add(1);
            if !self.any_retrans {
                self.first_retrans_ts = ts;
                self.first_retrans_seq = Some(seq);
            }
            self.any_retrans = true;
        }
    }

    /// A D-SACK for `[start, end)` arrived, SND.UNA having been `una`
    /// before the ACK: if it reports data of this episode that was
    /// retransmitted (below SND.UNA, above the marker), one retransmission
    /// fewer was needed (RFC 3708 §3). Returns whether every
    /// retransmission is now known to have been spurious.
    pub fn on_dsack(&mut self, start: SeqNum, end: SeqNum, una: SeqNum) -> bool {
        let Some(marker) = self.marker else {
            return false;
        };
        if end > marker && end <= una && self.retrans > 0 {
            self.retrans -= 1;
            return self.retrans == 0;
        }
        let _ = start;
        false
    }

    /// The Eifel detection (RFC 3522 §2): the first ACK that acknowledges
    /// the first retransmitted segment — it moved SND.UNA from `prior_una`
    /// past its start, to `una` — echoing `tsecr` older than that
    /// retransmission's timestamp shows the original was delivered.
    /// Other ACKs (for data below the hole, delayed in a queue) say
    /// nothing about it.
    pub fn eifel_spurious(&self, tsecr: Option<u32>, prior_una: SeqNum, una: SeqNum) -> bool {
        let covers = self
            .first_retrans_seq
            .is_some_and(|s| prior_una <= s && s < una);
        match (self.marker, self.first_retrans_ts, tsecr) {
            (Some(_), Some(first), Some(echo)) if echo != 0 && covers => {
                (echo.wrapping_sub(first) as i32) < 0
            }
            _ => false,
        }
    }

    /// Whether every retransmission of the episode was D-SACKed: the
    /// reduction was for nothing.
    #[cfg(test)]
    pub fn all_retransmissions_redundant(&self) -> bool {
        self.marker.is_some() && self.retrans == 0 && self.any_retrans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsacks_count_down_the_retransmissions() {
        let mut u = Undo::default();
        assert!(!u.on_dsack(SeqNum(0), SeqNum(100), SeqNum(100)));
        u.start(SeqNum(1000));
        u.on_retransmit(Some(7), SeqNum(1000));
        u.on_retransmit(Some(9), SeqNum(2000));
        assert_eq!((u.retrans, u.first_retrans_ts), (2, Some(7)));
        // Below the marker: another episode's duplicate.
        assert!(!u.on_dsack(SeqNum(500), SeqNum(600), SeqNum(3000)));
        assert!(!u.on_dsack(SeqNum(1000), SeqNum(1100), SeqNum(3000)));
        assert!(u.on_dsack(SeqNum(1100), SeqNum(1200), SeqNum(3000)));
        assert!(u.all_retransmissions_redundant());
    }

    #[test]
    fn eifel_compares_the_echo_with_the_first_retransmission() {
        let (a, b) = (SeqNum(1000), SeqNum(2000));
        let mut u = Undo::default();
        u.start(a);
        assert!(!u.eifel_spurious(Some(5), a, b), "nothing resent yet");
        u.on_retransmit(Some(100), a);
        assert!(u.eifel_spurious(Some(99), a, b));
        assert!(!u.eifel_spurious(Some(100), a, b));
        assert!(!u.eifel_spurious(None, a, b));
        assert!(!u.eifel_spurious(Some(0), a, b), "no echo");
        // Only the ACK that covers the retransmission counts: not one for
        // data below it, nor a later one.
        assert!(!u.eifel_spurious(Some(99), SeqNum(500), a));
        assert!(!u.eifel_spurious(Some(99), SeqNum(1500), b));
        // Across the wrap of the timestamp clock.
        let mut u = Undo::default();
        u.start(SeqNum(0));
        u.on_retransmit(Some(5), SeqNum(0));
        assert!(u.eifel_spurious(Some(u32::MAX - 3), SeqNum(0), SeqNum(10)));
        // Without timestamps there is nothing to compare.
        let mut u = Undo::default();
        u.start(SeqNum(0));
        u.on_retransmit(None, SeqNum(0));
        assert!(!u.eifel_spurious(Some(1), SeqNum(0), SeqNum(10)));
    }
}
