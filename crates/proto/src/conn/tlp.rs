//! Tail Loss Probe (RFC 8985 §7): when the last segments of a flight are
//! lost, no ACK comes back to reveal it and only the retransmission timer
//! would; TLP instead sends a probe about two round trips after the last
//! activity — new data if the window allows, else the last segment again —
//! so that the ACK it draws lets RACK detect and repair the loss.
//!
//! One probe per episode: another is sent only after an ACK shows the
//! previous one was answered. If the probe itself repaired a loss (it was
//! a retransmission and was acknowledged without a D-SACK), congestion
//! control must still be told (§7.4.2).

use core::time::Duration;

use wire::{Instant, SeqNum};

use super::rtt::nanos;

/// WCDelAckT: the worst-case delayed-ACK timer of the receiver, added to
/// the PTO when only one segment is in flight (RFC 8985 §7.2: 200 ms
/// RECOMMENDED).
pub const WC_DEL_ACK: Duration = Duration::from_millis(200);

/// The PTO before any RTT sample (RFC 8985 §7.2: 1 s).
pub const PTO_WITHOUT_RTT: Duration = Duration::from_secs(1);

/// The state of tail loss probing (RFC 8985 §7.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tlp {
    /// TLP.end_seq: SND.NXT when the probe was sent, while its episode
    /// lasts.
    pub end_seq: Option<SeqNum>,
    /// TLP.is_retrans: the probe was a retransmission.
    pub is_retrans: bool,
    /// Where the probe's data began (to match a D-SACK to it).
    pub probe_start: SeqNum,
    /// The PTO fired: a probe is to be sent.
    pub due: bool,
    /// When the PTO fires, if armed.
    pub deadline: Option<Instant>,
    /// When it was last (re)armed or cancelled.
    pub armed_at: Option<Instant>,
}

/// What an ACK meant for the probe's episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlpOutcome {
    /// Nothing to do.
    None,
    /// The probe repaired a loss: congestion control must react
    /// (RFC 8985 §7.4.2).
    LossRepaired,
}

impl Tlp {
    /// TLP_calc_PTO (RFC 8985 §7.2): two SRTTs, plus the worst-case
    /// delayed ACK when one segment is in flight, and never later than
    /// the RTO (`rto_left` is the time until it fires). In nanoseconds,
    /// as the RTT estimator keeps them (the PTO is armed for every flight
    /// sent: no `Duration` is built and taken apart each time); sums past
    /// `u64::MAX` (584 years) saturate.
    pub fn pto(
        srtt: Option<u64>,
        one_segment: bool,
        wc_del_ack: u64,
        rto_left: Option<u64>,
    ) -> u64 {
        let mut pto = match srtt {
            Some(s) => {
                let p = s.saturating_mul(2);
                if one_segment {
                    p.saturating_add(wc_del_ack)
                } else {
                    p
                }
            }
            None => nanos(PTO_WITHOUT_RTT),
        };
        if let Some(left) = rto_left {
            pto = pto.min(left);
        }
        pto
    }

    /// The probe went out (RFC 8985 §7.3): `snd_nxt` is SND.NXT after it.
    pub fn on_probe_sent(&mut self, snd_nxt: SeqNum, retransmission: bool) {
        self.due = false;
        self.deadline = None;
        self.end_seq = Some(snd_nxt);
        self.is_retrans = retransmission;
    }

    /// TLP_process_ack (RFC 8985 §7.4.1): an ACK with acknowledgment
    /// number `ack` arrived; `dsack_for_probe` says whether it carried a
    /// D-SACK covering the probe's data, `is_dup` whether it was a pure
    /// duplicate (no progress, no new SACK).
    pub fn on_ack(&mut self, ack: SeqNum, dsack_for_probe: bool, is_dup: bool) -> TlpOutcome {
        let Some(end) = self.end_seq else {
            return TlpOutcome::None;
        };
        if ack < end {
            return TlpOutcome::None;
        }
        if !self.is_retrans || dsack_for_probe {
            // A probe of new data was delivered (RACK takes care of any
            // loss), or the D-SACK shows the original arrived as well.
            self.end_seq = None;
            return TlpOutcome::None;
        }
        if ack > end {
            // The ACK goes beyond the probe and no D-SACK came for it: the
            // probe repaired a loss.
            self.end_seq = None;
            return TlpOutcome::LossRepaired;
        }
        if is_dup {
            // A pure duplicate at the probe's end: the original and the
            // probe both arrived.
            self.end_seq = None;
        }
        // Otherwise wait: a D-SACK for the probe may still come.
        TlpOutcome::None
    }

    /// The episode ends without a verdict (a timeout, a recovery).
    pub fn reset(&mut self) {
        *self = Tlp::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` milliseconds in nanoseconds.
    fn ms(n: u64) -> u64 {
        n * 1_000_000
    }

    #[test]
    fn pto_is_two_srtt_plus_delayed_ack_for_a_lone_segment() {
        let wc = nanos(WC_DEL_ACK);
        assert_eq!(Tlp::pto(Some(ms(50)), false, wc, None), ms(100));
        assert_eq!(Tlp::pto(Some(ms(50)), true, wc, None), ms(300));
        assert_eq!(Tlp::pto(None, false, wc, None), ms(1000));
        // Never after the RTO.
        assert_eq!(Tlp::pto(Some(ms(50)), true, wc, Some(ms(250))), ms(250));
        // Saturating, not wrapping.
        assert_eq!(Tlp::pto(Some(u64::MAX / 2 + 1), true, wc, None), u64::MAX);
    }

    #[test]
    fn a_retransmitted_probe_acknowledged_without_dsack_was_a_repair() {
        let mut t = Tlp::default();
        t.on_probe_sent(SeqNum(1000), true);
        assert_eq!(t.on_ack(SeqNum(900), false, false), TlpOutcome::None);
        assert_eq!(t.end_seq, Some(SeqNum(1000)));
        // Up to the probe's end: a D-SACK may still show it redundant.
        assert_eq!(t.on_ack(SeqNum(1000), false, false), TlpOutcome::None);
        assert_eq!(
            t.on_ack(SeqNum(1500), false, false),
            TlpOutcome::LossRepaired
        );
        assert_eq!(t.end_seq, None);
        // A D-SACK says the original arrived too.
        t.on_probe_sent(SeqNum(2000), true);
        assert_eq!(t.on_ack(SeqNum(2000), true, false), TlpOutcome::None);
        // New data probes leave losses to RACK.
        t.on_probe_sent(SeqNum(3000), false);
        assert_eq!(t.on_ack(SeqNum(3000), false, false), TlpOutcome::None);
        assert_eq!(t.end_seq, None);
    }
}
