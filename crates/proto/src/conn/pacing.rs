//! Pacing: spreading a window of segments over the round trip instead of
//! sending them back to back.
//!
//! ACK clocking releases segments as fast as ACKs come back, which after
//! an idle period, a stretch ACK or the end of a recovery means a burst at
//! the sender's line rate that a shallow bottleneck queue drops. A pacer
//! lets data out at `rate` bytes per second — by default a multiple of
//! cwnd / SRTT (twice it in slow start, so that slow start can still
//! double the window each round trip; 1.2 times in congestion avoidance,
//! the ratios Linux uses) — and tells the connection when the next segment
//! may go, which becomes a deadline of
//! [`poll_timeout`](super::Connection::poll_timeout).

use core::time::Duration;

use wire::Instant;

/// The pacing rate over cwnd / SRTT in slow start, in percent.
pub const SLOW_START_RATIO: u64 = 200;
/// The pacing rate over cwnd / SRTT in congestion avoidance, in percent.
pub const AVOIDANCE_RATIO: u64 = 120;

/// Whether to pace a connection's sending (`Config::pacing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Pacing {
    /// Whatever the congestion controller prefers (see
    /// [`Algorithm::paced_by_default`](super::congestion::Algorithm::paced_by_default)).
    #[default]
    Auto,
    /// Always pace.
    On,
    /// Never pace: ACK clocking alone.
    Off,
}

/// When the next segment may go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pacer {
    /// The earliest time of the next data segment.
    pub next: Instant,
    /// The rate the last segment was paced at, bytes per second.
    pub rate: u64,
    /// A data segment is held back until `next`.
    pub waiting: bool,
}

impl Pacer {
    /// The rate for `cwnd` bytes per `srtt`, in bytes per second:
    /// `ratio` percent of cwnd / SRTT. `None` when there is no RTT yet
    /// or it is too small to pace at (nothing to spread).
    pub fn rate_for(cwnd: u32, srtt: Option<Duration>, ratio: u64) -> Option<u64> {
        let us = srtt?.as_micros();
        if us < 100 {
            return None;
        }
        let rate = u128::from(cwnd) * u128::from(ratio) * 10_000 / us;
        Some(rate.clamp(1, u128::from(u64::MAX)) as u64)
    }

    /// Whether a data segment may go at `now`.
    pub fn allows(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// A data segment of `bytes` left at `now`, paced at `rate` bytes per
    /// second: the next may go `bytes / rate` later (from now, or from
    /// when this one was due if that was later, so that a pacer woken late
    /// does not make up by bursting).
    pub fn on_sent(&mut self, now: Instant, bytes: u32, rate: u64) {
        self.rate = rate;
        self.waiting = false;
        let gap_us = (u128::from(bytes) * 1_000_000).div_ceil(u128::from(rate.max(1)));
        let gap = Duration::from_micros(gap_us.min(u128::from(u64::MAX)) as u64);
        self.next = self.next.max(now - gap.min(Duration::from_millis(1))) + gap;
        if self.next < now {
            self.next = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_a_ratio_of_cwnd_over_srtt() {
        // 100 000 bytes per 50 ms = 2 MB/s; 120 % = 2.4 MB/s.
        assert_eq!(
            Pacer::rate_for(100_000, Some(Duration::from_millis(50)), 120),
            Some(2_400_000)
        );
        assert_eq!(Pacer::rate_for(100_000, None, 120), None);
        assert_eq!(
            Pacer::rate_for(100_000, Some(Duration::from_micros(10)), 120),
            None
        );
    }

    #[test]
    fn segments_are_spaced_by_size_over_rate() {
        let mut p = Pacer::default();
        let t0 = Instant::from_secs(1);
        assert!(p.allows(t0));
        // 1000 bytes at 1 MB/s: 1 ms apart, after one gap of credit.
        p.on_sent(t0, 1000, 1_000_000);
        assert_eq!(p.next, t0);
        p.on_sent(t0, 1000, 1_000_000);
        assert_eq!(p.next, t0 + Duration::from_millis(1));
        assert!(!p.allows(t0 + Duration::from_micros(999)));
        p.on_sent(p.next, 1000, 1_000_000);
        assert_eq!(p.next, t0 + Duration::from_millis(2));
        // Sending late does not earn a burst.
        p.on_sent(t0 + Duration::from_millis(5), 1000, 1_000_000);
        assert_eq!(p.next, t0 + Duration::from_millis(5));
        // After an idle second, sending starts from now, with at most one
        // gap of credit.
        let t1 = t0 + Duration::from_secs(1);
        p.on_sent(t1, 1000, 1_000_000);
        assert_eq!(p.next, t1);
        p.on_sent(t1, 1000, 1_000_000);
        assert_eq!(p.next, t1 + Duration::from_millis(1));
    }
}
