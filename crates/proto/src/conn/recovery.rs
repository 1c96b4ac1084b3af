//! Loss recovery on duplicate ACKs: fast retransmit and NewReno fast
//! recovery (RFC 5681 §3.2, RFC 6582). Which segment to resend and when
//! lives here; how the window changes is asked of the congestion
//! controller.

use wire::{Instant, SeqNum};

use super::congestion::{Congestion, Controller};
use super::send::SendState;

/// Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2).
const DUPACK_THRESHOLD: u32 = 3;

/// The recovery state of a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// Consecutive duplicate ACKs.
    pub dupacks: u32,
    /// In fast recovery until `recover` is acknowledged.
    pub in_recovery: bool,
    /// RFC 6582 "recover", kept as SND.MAX when recovery began (or at the
    /// last timeout): one past the highest sequence number sent.
    pub recover: SeqNum,
    /// A segment to resend at once, starting at this sequence number.
    pub retransmit_now: Option<SeqNum>,
}

/// What an ACK meant for recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckKind {
    /// Outside recovery: the controller grows the window.
    Normal,
    /// A partial ACK during recovery (RFC 6582 §3.2 step 5): restart the
    /// retransmission timer.
    Partial,
    /// The ACK that ended recovery.
    Exit,
}

impl Recovery {
    /// No recovery yet; `iss` is the initial "recover" (RFC 6582 §3.2
    /// step 1).
    pub fn new(iss: SeqNum) -> Recovery {
        Recovery {
            dupacks: 0,
            in_recovery: false,
            recover: iss,
            retransmit_now: None,
        }
    }

    /// A duplicate ACK arrived (RFC 5681 §2 definition, checked by the
    /// caller).
    pub fn on_dupack(&mut self, snd: &SendState, cc: &mut Congestion, now: Instant) {
        self.dupacks = self.dupacks.saturating_add(1);
        let mss = snd.mss;
        if self.in_recovery {
            // RFC 6582 §3.2 step 4: inflate by one segment per dup ACK,
            // letting a new segment out for each one that left.
            cc.set_cwnd(cc.cwnd().saturating_add(mss));
        } else if self.dupacks == DUPACK_THRESHOLD {
            // RFC 6582 §3.2 step 2: only if the ACK covers more than
            // "recover", so one loss event causes one reduction. `recover`
            // is kept as SND.MAX, one past the highest sequence number
            // sent, so "covers more than" the highest is `>=` here.
            if snd.una >= self.recover {
                self.in_recovery = true;
                self.recover = snd.max;
                let ssthresh = cc.on_congestion_event(now, snd.in_flight());
                // RFC 5681 §3.2 step 3: cwnd = ssthresh + 3·SMSS.
                cc.set_cwnd(ssthresh.saturating_add(3 * mss));
                self.retransmit_now = Some(snd.una);
            }
        }
    }

    /// An ACK of new data arrived, acknowledging `acked` bytes of sequence
    /// space; `snd` already reflects it.
    pub fn on_new_ack(
        &mut self,
        snd: &SendState,
        acked: u32,
        cc: &mut Congestion,
        now: Instant,
    ) -> AckKind {
        self.dupacks = 0;
        if !self.in_recovery {
            return AckKind::Normal;
        }
        if snd.una >= self.recover {
            // RFC 6582 §3.2 step 3: a full acknowledgment ends recovery:
            // it acknowledges everything up to and including the highest
            // sequence number sent (SND.MAX - 1) when recovery began.
            self.in_recovery = false;
            self.retransmit_now = None;
            cc.on_recovery_exit(now, snd.in_flight());
            AckKind::Exit
        } else {
            // Step 5: a partial acknowledgment. Resend the next hole and
            // deflate the window by what was acknowledged, adding back one
            // segment if at least one segment's worth was.
            self.retransmit_now = Some(snd.una);
            let mut cwnd = cc.cwnd().saturating_sub(acked);
            if acked >= snd.mss {
                cwnd = cwnd.saturating_add(snd.mss);
            }
            cc.set_cwnd(cwnd.max(snd.mss));
            AckKind::Partial
        }
    }

    /// A retransmission timeout: recovery ends and "recover" moves to the
    /// highest sequence number sent (RFC 6582 §4).
    pub fn on_timeout(&mut self, snd: &SendState) {
        self.in_recovery = false;
        self.dupacks = 0;
        self.retransmit_now = None;
        self.recover = snd.max;
    }
}
