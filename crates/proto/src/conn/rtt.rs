//! Round-trip time estimation and the retransmission timeout (RFC 6298).
//!
//! [`RttEstimator`] keeps SRTT and RTTVAR from RTT samples and derives the
//! RTO, with exponential backoff. Which segments yield samples (Karn's
//! algorithm, RFC 6298 §3; timestamps, RFC 7323 §4) and when the timer runs
//! (RFC 6298 §5) is the connection's business; this is only the arithmetic.
//!
//! The arithmetic is exact to the nanosecond: SRTT and RTTVAR are kept as
//! integer nanoseconds and the RFC's fractions (alpha = 1/8, beta = 1/4)
//! are applied in 128 bits, so it never overflows.

use core::time::Duration;

use wire::Instant;

/// The clock granularity G of RFC 6298 §2: the RTO is at least SRTT + G.
pub const CLOCK_GRANULARITY: Duration = Duration::from_millis(1);

/// The RTO before any RTT sample: 1 s (RFC 6298 §2.1).
pub const DEFAULT_INITIAL_RTO: Duration = Duration::from_secs(1);

/// The lower bound of the RTO: 1 s (RFC 6298 §2.4, a SHOULD; Linux uses
/// 200 ms).
pub const DEFAULT_MIN_RTO: Duration = Duration::from_secs(1);

/// The upper bound of the RTO, backoff included: 120 s (RFC 6298 §2.5
/// allows any bound of at least 60 s; 120 s is Linux's `TCP_RTO_MAX`).
pub const DEFAULT_MAX_RTO: Duration = Duration::from_secs(120);

/// The RTO once data flows after the SYN had to be retransmitted and no RTT
/// sample exists: 3 s (RFC 6298 §5.7).
pub const SYN_TIMEOUT_RTO: Duration = Duration::from_secs(3);

/// RFC 6298 estimator of SRTT, RTTVAR and the RTO, with exponential
/// backoff.
///
/// Every connection has one, so times are kept as whole nanoseconds in a
/// `u64` (584 years; longer durations saturate) and "no sample yet" as
/// a reserved value rather than `Option<Duration>`, 16 bytes each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RttEstimator {
    /// SRTT; [`NONE`] until the first sample.
    srtt: u64,
    /// RTTVAR (zero until the first sample).
    rttvar: u64,
    /// The RTO before backoff, already clamped to `[min_rto, max_rto]`.
    base_rto: u64,
    min_rto: u64,
    max_rto: u64,
    /// The lowest sample; [`NONE`] until the first.
    min_rtt: u64,
    /// The latest sample; [`NONE`] until the first.
    latest: u64,
    /// How many times the timer was backed off since the last sample.
    backoff: u32,
}

impl Default for RttEstimator {
    /// [`DEFAULT_INITIAL_RTO`], [`DEFAULT_MIN_RTO`], [`DEFAULT_MAX_RTO`].
    fn default() -> RttEstimator {
        RttEstimator::new(DEFAULT_INITIAL_RTO, DEFAULT_MIN_RTO, DEFAULT_MAX_RTO)
    }
}

/// The stored value meaning "no sample".
const NONE: u64 = u64::MAX;

/// Nanoseconds of `d`, saturating below [`NONE`].
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).map_or(NONE - 1, |n| n.min(NONE - 1))
}

/// A nanosecond count computed in 128 bits, saturating below [`NONE`].
fn clamp(n: u128) -> u64 {
    u64::try_from(n).map_or(NONE - 1, |n| n.min(NONE - 1))
}

/// `now` plus `nanos`, truncated to whole microseconds as `Instant +
/// Duration` truncates it, without a `Duration` in between.
pub(crate) fn after(now: Instant, nanos: u64) -> Instant {
    Instant::from_micros(now.micros().saturating_add(nanos / 1000))
}

/// The nanoseconds from `since` to `now` (0 if `now` is earlier),
/// saturating: `nanos(now.saturating_since(since))` in integers.
pub(crate) fn nanos_since(since: Instant, now: Instant) -> u64 {
    now.micros()
        .saturating_sub(since.micros())
        .saturating_mul(1000)
}

fn duration(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn optional(n: u64) -> Option<Duration> {
    (n != NONE).then(|| duration(n))
}

impl RttEstimator {
    /// An estimator with no sample yet: the RTO is `initial_rto` (RFC 6298
    /// §2.1 says 1 s). Every RTO, backoff included, is kept within
    /// `[min_rto, max_rto]` (RFC 6298 §2.4, §2.5); if `max_rto < min_rto`,
    /// `max_rto` is raised to `min_rto`.
    pub fn new(initial_rto: Duration, min_rto: Duration, max_rto: Duration) -> RttEstimator {
        let (min_rto, max_rto) = (nanos(min_rto), nanos(max_rto));
        let max_rto = max_rto.max(min_rto);
        RttEstimator {
            srtt: NONE,
            rttvar: 0,
            base_rto: nanos(initial_rto).max(min_rto).min(max_rto),
            min_rto,
            max_rto,
            min_rtt: NONE,
            latest: NONE,
            backoff: 0,
        }
    }

    /// Take an RTT measurement R (RFC 6298 §2.2, §2.3) and clear the
    /// backoff. The caller applies Karn's algorithm (RFC 6298 §3): no
    /// samples from retransmitted segments unless timestamps disambiguate.
    pub fn sample(&mut self, rtt: Duration) {
        self.sample_nanos(nanos(rtt));
    }

    /// [`sample`](Self::sample) of `r` nanoseconds (saturating below
    /// [`NONE`]): the ACK path measures in integers and never builds the
    /// `Duration`.
    pub(crate) fn sample_nanos(&mut self, r: u64) {
        let r = r.min(NONE - 1);
        if self.srtt == NONE {
            // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
            self.srtt = r;
            self.rttvar = r / 2;
        } else {
            // RFC 6298 §2.3, in this order (RTTVAR uses the old SRTT):
            //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4
            //   SRTT   <- (1 - alpha) * SRTT + alpha * R',          alpha = 1/8
            let (s, r) = (u128::from(self.srtt), u128::from(r));
            let delta = s.abs_diff(r);
            self.rttvar = clamp((3 * u128::from(self.rttvar) + delta) / 4);
            self.srtt = clamp((7 * s + r) / 8);
        }
        self.base_rto = self.computed_rto();
        // A new sample means the path answers again: the backed-off timer is
        // replaced by the fresh RTO (RFC 6298 §5.5 ends with the next
        // measurement; Karn's algorithm keeps the backoff until then).
        self.backoff = 0;
        self.min_rtt = self.min_rtt.min(r);
        self.latest = r;
    }

    /// RTO <- SRTT + max(G, K * RTTVAR), K = 4 (RFC 6298 §2.3), rounded up
    /// to the minimum (§2.4) and capped at the maximum (§2.5).
    fn computed_rto(&self) -> u64 {
        let srtt = if self.srtt == NONE { 0 } else { self.srtt };
        let var = nanos(CLOCK_GRANULARITY).max(self.rttvar.saturating_mul(4));
        srtt.saturating_add(var).max(self.min_rto).min(self.max_rto)
    }

    /// The current RTO, backoff included: the base RTO doubled once per
    /// backoff (RFC 6298 §5.5), capped at the maximum.
    pub fn rto(&self) -> Duration {
        duration(self.rto_nanos())
    }

    /// [`rto`](Self::rto) in nanoseconds.
    fn rto_nanos(&self) -> u64 {
        match 1u64.checked_shl(self.backoff) {
            Some(factor) => self.base_rto.saturating_mul(factor).min(self.max_rto),
            None => self.max_rto,
        }
    }

    /// When an RTO that starts at `now` ends: `now + rto()`, without a
    /// `Duration` in between (the timers ask on every segment sent).
    /// Adding a `Duration` to an [`Instant`] truncates it to whole
    /// microseconds, as this does.
    pub fn rto_from(&self, now: Instant) -> Instant {
        after(now, self.rto_nanos())
    }

    /// Whether more than an RTO passed from `since` to `now`:
    /// `now.saturating_since(since) > rto()`, in integers (a product too
    /// large for 64 bits saturates, and is then larger than any RTO, as
    /// the exact one is).
    pub fn rto_passed(&self, since: Instant, now: Instant) -> bool {
        nanos_since(since, now) > self.rto_nanos()
    }

    /// The RTO without backoff: from SRTT and RTTVAR, or the initial RTO
    /// before any sample.
    pub fn base_rto(&self) -> Duration {
        duration(self.base_rto)
    }

    /// The retransmission timer expired: double the RTO ("back off the
    /// timer", RFC 6298 §5.5). [`rto`](RttEstimator::rto) stays capped at
    /// the maximum however often this is called.
    pub fn backoff(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// How many times the RTO was doubled since the last sample or reset.
    pub fn backoff_count(&self) -> u32 {
        self.backoff
    }

    /// Drop the backoff without a new sample (for example when an ACK for
    /// new data arrives but yields no valid sample under Karn's rule).
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// RFC 6298 §5.7: if the SYN (or SYN-ACK) was retransmitted and the
    /// handshake yielded no RTT sample, the RTO used once data transmission
    /// begins is re-initialized to 3 s (when it was less). Call this when
    /// the connection is established; a no-op if a sample exists. Also
    /// clears the handshake's backoff, so [`rto`](RttEstimator::rto) is then
    /// 3 s (within the configured bounds).
    pub fn set_initial_after_syn_timeout(&mut self) {
        if self.srtt == NONE {
            self.base_rto = self
                .base_rto
                .max(nanos(SYN_TIMEOUT_RTO))
                .max(self.min_rto)
                .min(self.max_rto);
            self.backoff = 0;
        }
    }

    /// Forget SRTT and RTTVAR, so the next sample counts as the first
    /// (RFC 6298 §5: "a TCP implementation MAY clear SRTT and RTTVAR after
    /// backing off the timer multiple times"). The RTO and its backoff, the
    /// minimum and the latest sample are kept.
    pub fn discard_estimate(&mut self) {
        self.srtt = NONE;
        self.rttvar = 0;
    }

    /// The smoothed RTT, once there is a sample.
    pub fn srtt(&self) -> Option<Duration> {
        optional(self.srtt)
    }

    /// [`srtt`](Self::srtt) in nanoseconds.
    pub(crate) fn srtt_nanos(&self) -> Option<u64> {
        (self.srtt != NONE).then_some(self.srtt)
    }

    /// The RTT variation (zero before the first sample).
    pub fn rttvar(&self) -> Duration {
        duration(self.rttvar)
    }

    /// The lowest RTT sample seen.
    pub fn min_rtt(&self) -> Option<Duration> {
        optional(self.min_rtt)
    }

    /// [`min_rtt`](Self::min_rtt) in nanoseconds.
    pub(crate) fn min_rtt_nanos(&self) -> Option<u64> {
        (self.min_rtt != NONE).then_some(self.min_rtt)
    }

    /// The most recent RTT sample.
    pub fn latest(&self) -> Option<Duration> {
        optional(self.latest)
    }

    /// Whether any sample was taken.
    pub fn has_sample(&self) -> bool {
        self.latest != NONE
    }

    /// The lower bound of the RTO.
    pub fn min_rto(&self) -> Duration {
        duration(self.min_rto)
    }

    /// The upper bound of the RTO, backoff included.
    pub fn max_rto(&self) -> Duration {
        duration(self.max_rto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// No minimum in the way of the arithmetic.
    fn unclamped() -> RttEstimator {
        RttEstimator::new(ms(1000), Duration::ZERO, ms(60_000))
    }

    #[test]
    fn rto_from_and_rto_passed_agree_with_duration_arithmetic() {
        let mut e = RttEstimator::new(ms(1000), Duration::ZERO, Duration::MAX);
        let nows = [
            0,
            1,
            999,
            1_000_001,
            123_456_789_012,
            u64::MAX / 2,
            u64::MAX - 2,
        ];
        for step in 0..80 {
            if step % 3 == 0 {
                e.sample(Duration::from_nanos(1_234_567 * (step + 1) + step));
            } else {
                e.backoff();
            }
            for &n in &nows {
                let now = Instant::from_micros(n);
                assert_eq!(e.rto_from(now), now + e.rto(), "step {step} now {n}");
                for &m in &nows {
                    let since = Instant::from_micros(m);
                    assert_eq!(
                        e.rto_passed(since, now),
                        now.saturating_since(since) > e.rto(),
                        "step {step} now {n} since {m}"
                    );
                }
            }
        }
    }

    #[test]
    fn before_any_sample() {
        let e = RttEstimator::default();
        assert_eq!(e.rto(), ms(1000));
        assert_eq!(e.base_rto(), ms(1000));
        assert_eq!(e.srtt(), None);
        assert_eq!(e.rttvar(), Duration::ZERO);
        assert_eq!(e.min_rtt(), None);
        assert_eq!(e.latest(), None);
        assert!(!e.has_sample());
        assert_eq!(e.backoff_count(), 0);
        assert_eq!(e.min_rto(), DEFAULT_MIN_RTO);
        assert_eq!(e.max_rto(), DEFAULT_MAX_RTO);
    }

    #[test]
    fn samples_by_hand() {
        let mut e = unclamped();
        // R = 100: SRTT = 100, RTTVAR = 50, RTO = 100 + 4 * 50 = 300.
        e.sample(ms(100));
        assert_eq!(e.srtt(), Some(ms(100)));
        assert_eq!(e.rttvar(), ms(50));
        assert_eq!(e.rto(), ms(300));
        // R = 120: RTTVAR = 3/4 * 50 + 1/4 * |100 - 120| = 37.5 + 5 = 42.5,
        // SRTT = 7/8 * 100 + 1/8 * 120 = 87.5 + 15 = 102.5,
        // RTO = 102.5 + 4 * 42.5 = 272.5.
        e.sample(ms(120));
        assert_eq!(e.rttvar(), us(42_500));
        assert_eq!(e.srtt(), Some(us(102_500)));
        assert_eq!(e.rto(), us(272_500));
        // R = 80: RTTVAR = 3/4 * 42.5 + 1/4 * |102.5 - 80| = 31.875 + 5.625
        // = 37.5, SRTT = 7/8 * 102.5 + 1/8 * 80 = 89.6875 + 10 = 99.6875,
        // RTO = 99.6875 + 4 * 37.5 = 249.6875 ms.
        e.sample(ms(80));
        assert_eq!(e.rttvar(), us(37_500));
        assert_eq!(e.srtt(), Some(Duration::from_nanos(99_687_500)));
        assert_eq!(e.rto(), Duration::from_nanos(249_687_500));
        assert_eq!(e.min_rtt(), Some(ms(80)));
        assert_eq!(e.latest(), Some(ms(80)));
        assert!(e.has_sample());
    }

    #[test]
    fn clock_granularity_bounds_the_variance_term() {
        let mut e = unclamped();
        for _ in 0..200 {
            e.sample(ms(50));
        }
        // RTTVAR decays towards 0; the RTO does not drop below SRTT + G.
        assert_eq!(e.srtt(), Some(ms(50)));
        assert!(e.rttvar() < us(250));
        assert_eq!(e.rto(), ms(51));
    }

    #[test]
    fn min_and_max_clamp() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        // R = 1 ms: 1 + max(1, 4 * 0.5) = 3 ms, rounded up to 200 ms.
        e.sample(ms(1));
        assert_eq!(e.rto(), ms(200));
        let mut e = RttEstimator::default();
        e.sample(ms(10));
        assert_eq!(e.rto(), ms(1000), "RFC 6298 §2.4: at least 1 s");
        e.sample(Duration::from_secs(1000));
        assert_eq!(e.rto(), ms(120_000), "RFC 6298 §2.5: capped");
        // Initial RTO outside the bounds is clamped too.
        assert_eq!(RttEstimator::new(ms(5), ms(200), ms(900)).rto(), ms(200));
        assert_eq!(RttEstimator::new(ms(5000), ms(200), ms(900)).rto(), ms(900));
        // Inverted bounds do not panic: max is raised to min.
        let e = RttEstimator::new(ms(5), ms(300), ms(100));
        assert_eq!(e.rto(), ms(300));
        assert_eq!(e.max_rto(), ms(300));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        e.backoff();
        assert_eq!(e.rto(), ms(2000));
        e.backoff();
        e.backoff();
        assert_eq!(e.rto(), ms(8000));
        assert_eq!(e.backoff_count(), 3);
        for _ in 0..3 {
            e.backoff();
        }
        // 1 s << 6 = 64 s > 60 s.
        assert_eq!(e.rto(), ms(60_000));
        for _ in 0..100 {
            e.backoff();
        }
        assert_eq!(e.rto(), ms(60_000));
        assert_eq!(e.backoff_count(), 106);
        e.reset_backoff();
        assert_eq!(e.rto(), ms(1000));
        // Backoff never overflows its counter.
        e.backoff = u32::MAX;
        e.backoff();
        assert_eq!(e.rto(), ms(60_000));
    }

    #[test]
    fn sample_clears_backoff() {
        let mut e = unclamped();
        e.sample(ms(100));
        e.backoff();
        e.backoff();
        assert_eq!(e.rto(), ms(1200));
        e.sample(ms(100));
        assert_eq!(e.backoff_count(), 0);
        // RTTVAR = 3/4 * 50 = 37.5, SRTT = 100, RTO = 100 + 150.
        assert_eq!(e.rto(), ms(250));
    }

    #[test]
    fn syn_timeout_fallback() {
        // RFC 6298 §5.7: SYN retransmitted, no sample: 3 s once established.
        let mut e = RttEstimator::default();
        e.backoff();
        assert_eq!(e.rto(), ms(2000));
        e.set_initial_after_syn_timeout();
        assert_eq!(e.rto(), ms(3000));
        assert_eq!(e.backoff_count(), 0);
        // The first sample replaces it.
        e.sample(ms(100));
        assert_eq!(e.rto(), ms(1000));
        // A no-op once a sample exists.
        e.set_initial_after_syn_timeout();
        assert_eq!(e.rto(), ms(1000));
        // Never lowers a larger initial RTO, and stays within the maximum.
        let mut e = RttEstimator::new(ms(5000), ms(200), ms(60_000));
        e.set_initial_after_syn_timeout();
        assert_eq!(e.rto(), ms(5000));
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(2000));
        e.set_initial_after_syn_timeout();
        assert_eq!(e.rto(), ms(2000));
    }

    #[test]
    fn discard_estimate_restarts_from_the_next_sample() {
        let mut e = unclamped();
        e.sample(ms(100));
        e.sample(ms(300));
        e.discard_estimate();
        assert_eq!(e.srtt(), None);
        assert_eq!(e.min_rtt(), Some(ms(100)));
        e.sample(ms(40));
        assert_eq!(e.srtt(), Some(ms(40)));
        assert_eq!(e.rttvar(), ms(20));
        assert_eq!(e.rto(), ms(120));
    }

    #[test]
    fn extreme_samples_do_not_panic() {
        let mut e = RttEstimator::new(ms(1000), Duration::ZERO, Duration::MAX);
        e.sample(Duration::ZERO);
        assert_eq!(e.rto(), CLOCK_GRANULARITY);
        e.sample(Duration::MAX);
        e.sample(Duration::MAX);
        e.backoff();
        assert!(e.rto() >= e.base_rto());
        e.sample(Duration::ZERO);
        assert_eq!(e.min_rtt(), Some(Duration::ZERO));
        assert_eq!(e.latest(), Some(Duration::ZERO));
    }
}
