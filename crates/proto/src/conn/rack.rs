//! RACK, Recent ACKnowledgment (RFC 8985 §6): time-based loss detection.
//!
//! A segment is deemed lost when a segment sent *after* it has been
//! delivered (acknowledged or SACKed) and more than one RTT plus a
//! reordering window has passed since it was sent. Unlike counting
//! duplicate ACKs, this detects lost retransmissions and losses at the
//! tail, and tolerates reordering: the window starts at min_RTT/4 once
//! reordering has been seen (zero before, so the first loss is repaired
//! as fast as by three duplicate ACKs), and grows while D-SACKs show
//! retransmissions were spurious (RFC 8985 §6.2 step 4).
//!
//! Transmission times come from the sent-segment log (`sent.rs`). When a
//! segment's deadline is still ahead, [`Rack::detect_loss`] returns it and
//! the connection arms the reordering timer.

use core::time::Duration;

use wire::{Instant, SeqNum};

use super::rtt;
use super::sent::{LostBy, Rec, SentLog, EVER_RETRANS, LOST, RETRANS, SACKED};

/// RFC 8985 §6.2: DupThresh, the number of SACKed segments beyond which
/// the reordering window is zero until reordering has been observed.
pub const DUP_THRESH: u32 = 3;

/// Rounds of D-SACK-free recoveries after which the window's multiplier
/// returns to 1 (RFC 8985 §6.2 step 4: 16).
const REO_WND_PERSIST: u8 = 16;

/// RACK's state (RFC 8985 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rack {
    /// RACK.xmit_ts: the latest transmission time of a delivered segment.
    pub xmit_ts: Instant,
    /// RACK.end_seq: that segment's end.
    pub end_seq: SeqNum,
    /// Its send order (see `Rec::order`), which breaks ties between
    /// segments sent at the same instant.
    pub order: u32,
    /// When that segment was delivered: RACK.rtt is the time from
    /// RACK.xmit_ts to this ([`rtt_micros`](Rack::rtt_micros)). Kept as
    /// an instant, so that taking a delivered segment (dozens per ACK)
    /// stores two times instead of working out their difference.
    pub delivered: Instant,
    /// Whether any segment was delivered yet (RACK.xmit_ts is valid).
    pub valid: bool,
    /// RACK.fack: the highest sequence number delivered, plus one.
    pub fack: SeqNum,
    /// RACK.reord: reordering was observed on this connection.
    pub reord: bool,
    /// RACK.reo_wnd_mult.
    pub reo_wnd_mult: u8,
    /// RACK.reo_wnd_persist.
    pub reo_wnd_persist: u8,
    /// RACK.dsack_round: SND.NXT when the window last grew on a D-SACK.
    pub dsack_round: Option<SeqNum>,
}

impl Rack {
    /// Before anything was delivered; `una` is SND.UNA.
    pub fn new(una: SeqNum) -> Rack {
        Rack {
            xmit_ts: Instant::ZERO,
            end_seq: una,
            order: 0,
            delivered: Instant::ZERO,
            valid: false,
            fack: una,
            reord: false,
            reo_wnd_mult: 1,
            reo_wnd_persist: REO_WND_PERSIST,
            dsack_round: None,
        }
    }

    /// RACK_sent_after (RFC 8985 §6.2): whether (t1, o1) was sent after
    /// (t2, o2). The RFC breaks ties between equal timestamps by sequence
    /// number, assuming a burst goes out in sequence order; here the
    /// actual send order does it (a retransmission can leave after new
    /// data within the same microsecond, and must not then be deemed
    /// lost when that data is SACKed).
    pub fn sent_after(t1: Instant, o1: u32, t2: Instant, o2: u32) -> bool {
        t1 > t2 || (t1 == t2 && (o1.wrapping_sub(o2) as i32) > 0)
    }

    /// RFC 8985 §6.2 step 3: a segment delivered below RACK.fack that was
    /// never retransmitted arrived out of order. Call for every newly
    /// delivered segment, in sequence order.
    pub fn note_delivered(&mut self, r: &Rec) {
        if !r.has(EVER_RETRANS) && r.end < self.fack {
            self.reord = true;
        }
        self.fack = self.fack.max(r.end);
    }

    /// RFC 8985 §6.2 step 2: RACK.xmit_ts, RACK.end_seq and RACK.rtt from
    /// a newly delivered segment. A retransmitted one whose delivery may
    /// be that of the original (the RTT is below min_RTT, in nanoseconds,
    /// or its echoed timestamp predates the retransmission) is not used;
    /// `echo_predates` is consulted only for a retransmitted one.
    pub fn update(&mut self, r: &Rec, now: Instant, min_rtt: Option<u64>, echo_predates: bool) {
        if r.has(EVER_RETRANS) {
            if echo_predates {
                return;
            }
            if min_rtt.is_some_and(|m| rtt::nanos_since(r.xmit, now) < m) {
                return;
            }
        }
        if !self.valid || Rack::sent_after(r.xmit, r.order, self.xmit_ts, self.order) {
            self.delivered = now;
            self.xmit_ts = r.xmit;
            self.end_seq = r.end;
            self.order = r.order;
            self.valid = true;
        }
    }

    /// RACK.rtt: the RTT of the delivery of the latest sent segment
    /// delivered.
    /// In whole microseconds, as the times it is taken from.
    pub fn rtt_micros(&self) -> u64 {
        self.delivered
            .micros()
            .saturating_sub(self.xmit_ts.micros())
    }

    /// RFC 8985 §6.2 step 4, the D-SACK part: a D-SACK arrived; `snd_nxt`
    /// is SND.NXT. The window grows by min_RTT/4 per round trip in which
    /// D-SACKs arrive.
    pub fn on_dsack(&mut self, una: SeqNum, snd_nxt: SeqNum) {
        if self.dsack_round.is_some_and(|r| una >= r) {
            self.dsack_round = None;
        }
        if self.dsack_round.is_none() {
            self.dsack_round = Some(snd_nxt);
            self.reo_wnd_mult = self.reo_wnd_mult.saturating_add(1).min(64);
            self.reo_wnd_persist = REO_WND_PERSIST;
        }
        // A duplicate delivery is reordering (or duplication) seen.
        self.reord = true;
    }

    /// RFC 8985 §6.2 step 4: a fast or RTO recovery ended; after 16 of
    /// them without D-SACKs the window's multiplier goes back to 1.
    pub fn on_recovery_exit(&mut self) {
        self.reo_wnd_persist = self.reo_wnd_persist.saturating_sub(1);
        if self.reo_wnd_persist == 0 {
            self.reo_wnd_mult = 1;
            self.reo_wnd_persist = REO_WND_PERSIST;
        }
    }

    /// RACK.reo_wnd (RFC 8985 §6.2 step 4): zero before reordering was
    /// seen if in recovery or DupThresh segments are SACKed (so that the
    /// first loss is repaired at once), else min_RTT/4 times the
    /// multiplier, at most SRTT. In nanoseconds, as the estimator keeps
    /// min_RTT and SRTT (every ACK with data outstanding asks).
    pub fn reo_wnd(
        &self,
        in_recovery: bool,
        sacked_segments: u32,
        min_rtt: Option<u64>,
        srtt: Option<u64>,
    ) -> u64 {
        if !self.reord && (in_recovery || sacked_segments >= DUP_THRESH) {
            return 0;
        }
        let Some(min_rtt) = min_rtt else {
            return 0;
        };
        let wnd = (min_rtt / 4).saturating_mul(u64::from(self.reo_wnd_mult));
        match srtt {
            Some(s) => wnd.min(s),
            None => wnd,
        }
    }

    /// RACK_detect_loss (RFC 8985 §6.2 step 5): marks lost every segment
    /// not yet delivered that was sent before RACK.xmit_ts and has waited
    /// RACK.rtt + `reo_wnd` (nanoseconds) since it was sent. Returns how
    /// many bytes were newly marked, and how long until the next segment
    /// would be (the reordering timer), if one is waiting.
    pub fn detect_loss(
        &self,
        log: &mut SentLog,
        now: Instant,
        reo_wnd: u64,
    ) -> (u32, Option<Duration>) {
        if !self.valid {
            return (0, None);
        }
        // RACK.rtt + reo_wnd in whole microseconds: a deadline is
        // `xmit + RACK.rtt + reo_wnd`, and `Instant + Duration` truncates
        // each addend to microseconds (RACK.rtt is whole ones already).
        let wait_us = self.rtt_micros().saturating_add(reo_wnd / 1000);
        let mut marked = 0u32;
        let mut timeout: Option<Duration> = None;
        let mut i = 0;
        while let Some(&r) = log.get(i) {
            let retransmitted = r.has(EVER_RETRANS);
            let sent_before = Rack::sent_after(self.xmit_ts, self.order, r.xmit, r.order);
            if !sent_before {
                if !retransmitted {
                    // Segments never resent go out in sequence order, so
                    // every later one was sent later still: none of them
                    // can be deemed lost yet.
                    break;
                }
                i += 1;
                continue;
            }
            // Delivered ones are done; those marked lost and not resent
            // already wait for their retransmission.
            let skip = r.has(SACKED) || (r.has(LOST) && !r.has(RETRANS));
            if !skip {
                let deadline = Instant::from_micros(r.xmit.micros().saturating_add(wait_us));
                if deadline <= now {
                    log.mark_lost(i, LostBy::Rack);
                    marked = marked.saturating_add(r.len());
                } else {
                    let remaining = deadline.saturating_since(now);
                    timeout = Some(timeout.map_or(remaining, |t| t.max(remaining)));
                }
            }
            i += 1;
        }
        (marked, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `n` milliseconds in nanoseconds.
    fn ns(n: u64) -> u64 {
        n * 1_000_000
    }

    fn t(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    /// Five 100-byte segments sent 1 ms apart from t = 0.
    fn log5() -> SentLog {
        let mut l = SentLog::default();
        for k in 0..5u32 {
            l.on_send(SeqNum(100 * k), SeqNum(100 * k + 100), t(u64::from(k)));
        }
        l
    }

    /// Delivers record `i` by SACK at `now` through RACK.
    fn sack(rack: &mut Rack, l: &mut SentLog, i: usize, now: Instant) {
        let r = *l.get(i).unwrap();
        l.mark_sacked(r.start, r.end, |_, _| true, |_| {});
        rack.note_delivered(&r);
        rack.update(&r, now, Some(ns(50)), false);
    }

    #[test]
    fn a_segment_is_lost_one_rtt_plus_the_window_after_it_was_sent() {
        let mut l = log5();
        let mut rack = Rack::new(SeqNum(0));
        // Segment 2 (sent at 2 ms) is SACKed at 52 ms: RACK.rtt = 50 ms.
        sack(&mut rack, &mut l, 2, t(52));
        assert_eq!(rack.rtt_micros(), 50_000);
        let reo = rack.reo_wnd(false, 1, Some(ns(50)), Some(ns(50)));
        assert_eq!(reo, ns(12) + 500_000, "min_RTT / 4");
        // Segment 0 was sent at 0: lost at 0 + 50 + 12.5 = 62.5 ms;
        // segment 1 at 63.5 ms. Nothing yet at 52 ms: the timer is for the
        // latest deadline.
        let (n, timer) = rack.detect_loss(&mut l, t(52), reo);
        assert_eq!(n, 0);
        assert_eq!(timer, Some(Duration::from_micros(11_500)));
        let (n, timer) = rack.detect_loss(&mut l, Instant::from_micros(62_500), reo);
        assert_eq!((n, timer), (100, Some(ms(1))));
        assert!(l.get(0).unwrap().has(LOST));
        let (n, timer) = rack.detect_loss(&mut l, Instant::from_micros(63_500), reo);
        assert_eq!((n, timer), (100, None));
        // Segments 3 and 4 were sent after the delivered one: never lost.
        assert!(!l.get(3).unwrap().has(LOST) && !l.get(4).unwrap().has(LOST));
    }

    #[test]
    fn the_window_is_zero_without_reordering_once_three_are_sacked() {
        let rack = Rack::new(SeqNum(0));
        assert_eq!(rack.reo_wnd(false, 3, Some(ns(40)), None), 0);
        assert_eq!(rack.reo_wnd(true, 0, Some(ns(40)), None), 0);
        assert_eq!(rack.reo_wnd(false, 2, Some(ns(40)), None), ns(10));
        assert_eq!(rack.reo_wnd(false, 2, None, None), 0);
    }

    #[test]
    fn reordering_is_seen_and_dsacks_grow_the_window() {
        let mut l = log5();
        let mut rack = Rack::new(SeqNum(0));
        sack(&mut rack, &mut l, 3, t(53));
        assert!(!rack.reord);
        // Segment 1 arrives after 3, never resent: reordering.
        sack(&mut rack, &mut l, 1, t(54));
        assert!(rack.reord);
        assert_eq!(rack.reo_wnd(true, 5, Some(ns(40)), Some(ns(100))), ns(10));
        rack.on_dsack(SeqNum(0), SeqNum(500));
        assert_eq!(rack.reo_wnd_mult, 2);
        // Another D-SACK in the same round does not grow it again.
        rack.on_dsack(SeqNum(100), SeqNum(500));
        assert_eq!(rack.reo_wnd_mult, 2);
        rack.on_dsack(SeqNum(500), SeqNum(900));
        assert_eq!(rack.reo_wnd_mult, 3);
        // Bounded by SRTT.
        assert_eq!(rack.reo_wnd(true, 5, Some(ns(40)), Some(ns(20))), ns(20));
        for _ in 0..16 {
            rack.on_recovery_exit();
        }
        assert_eq!(rack.reo_wnd_mult, 1);
    }

    #[test]
    fn a_lost_retransmission_is_detected() {
        let mut l = log5();
        let mut rack = Rack::new(SeqNum(0));
        l.mark_lost(0, LostBy::Rack);
        // Resent at 60 ms; then segment 4's later retransmission... is
        // delivered: a segment sent at 70 ms.
        l.on_send(SeqNum(0), SeqNum(100), t(60));
        l.mark_lost(4, LostBy::Rack);
        l.on_send(SeqNum(400), SeqNum(500), t(70));
        sack(&mut rack, &mut l, 4, t(120));
        assert_eq!(rack.xmit_ts, t(70));
        // The retransmission of segment 0 (sent at 60 ms, before 70 ms) is
        // lost at 60 + 50 = 110 ms: marked again.
        let (n, _) = rack.detect_loss(&mut l, t(120), 0);
        assert_eq!(n, 100 + 100 + 100 + 100, "0 again, and 1, 2, 3");
        assert!(l.get(0).unwrap().wants_resend());
    }

    #[test]
    fn a_possibly_spurious_retransmission_gives_no_rtt() {
        let mut l = log5();
        let mut rack = Rack::new(SeqNum(0));
        l.mark_lost(0, LostBy::Rack);
        l.on_send(SeqNum(0), SeqNum(100), t(60));
        let r = *l.get(0).unwrap();
        // Acknowledged 5 ms after the retransmission: the original's ACK.
        rack.update(&r, t(65), Some(ns(50)), false);
        assert!(!rack.valid);
        rack.update(&r, t(120), Some(ns(50)), true);
        assert!(!rack.valid, "the echo predates the retransmission");
        rack.update(&r, t(120), Some(ns(50)), false);
        assert!(rack.valid);
    }
}
