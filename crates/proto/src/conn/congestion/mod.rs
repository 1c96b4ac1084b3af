//! Congestion control: how large the congestion window (cwnd) is.
//!
//! A [`Controller`] owns cwnd and ssthresh and decides how they grow and
//! shrink; it is told about ACKs, loss, timeouts and idleness. *Detecting*
//! loss and running recovery (which segments to resend, duplicate-ACK
//! counting, SACK scoreboard, PRR) is the connection's job, as with Linux's
//! `tcp_congestion_ops`: during recovery the connection sets cwnd directly
//! with [`Controller::set_cwnd`]. So a controller can be loss-based (Reno,
//! CUBIC) or model-based (BBR-like) without the connection knowing which.
//!
//! Connections hold a [`Congestion`], an enum over every algorithm (static
//! dispatch, no `Box`), chosen by an [`Algorithm`].
//!
//! All windows are in bytes.
//!
//! # Adding an algorithm
//!
//! Write `foo.rs` with a type that implements [`Controller`] and has
//! `fn new(mss: u32) -> Self`, then add two lines here: `pub mod foo;` and
//! one line in the `algorithms!` invocation below. That creates the
//! [`Algorithm`] and [`Congestion`] variants and the dispatch. A
//! loss-based algorithm keeps SMSS, cwnd and ssthresh in a
//! `window::Window`, which already has the rules every such controller
//! shares (initial window, one reduction per episode, recovery exit,
//! restart after idle, undo), and writes only what is its own.

pub mod cubic;
pub mod newreno;
mod window;

use core::fmt;
use wire::Instant;

/// The initial window for a sender MSS (RFC 6928 §2):
/// `IW = min(10 * MSS, max(2 * MSS, 14600))`.
pub fn initial_window(mss: u32) -> u32 {
    mss.saturating_mul(10)
        .min(mss.saturating_mul(2).max(14_600))
}

/// Whether the window was in use when an ACK of `acked_bytes` arrived,
/// leaving `bytes_in_flight`: the flight before it was at least half of
/// `cwnd`. Only then may the window grow (RFC 7661 §4.3's validated
/// window; Linux's `tcp_is_cwnd_limited`); otherwise the sender is
/// application-limited.
pub fn cwnd_in_use(cwnd: u32, acked_bytes: u32, bytes_in_flight: u32) -> bool {
    bytes_in_flight
        .saturating_add(acked_bytes)
        .saturating_mul(2)
        >= cwnd
}

/// One ACK's slow start (RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2 byte
/// counting, L = 2): `cwnd` grows by the bytes acknowledged, at most
/// 2 SMSS, divided by `divisor` (1, or HyStart++'s CSS divisor, RFC 9406),
/// and never past `ssthresh` (which must be above `cwnd`). Returns the
/// acknowledged bytes left over once `cwnd` reached `ssthresh`, for
/// congestion avoidance; 0 while slow start goes on.
pub fn slow_start(cwnd: &mut u32, ssthresh: u32, mss: u32, acked: u32, divisor: u32) -> u32 {
    let increase = acked.min(mss.saturating_mul(2)) / divisor.max(1);
    let room = ssthresh - *cwnd;
    if increase < room {
        *cwnd += increase;
        return 0;
    }
    *cwnd = ssthresh;
    acked - room
}

/// A congestion control algorithm. See the [module docs](self).
///
/// `bytes_in_flight` arguments are the connection's estimate of the data
/// outstanding in the network (FlightSize, RFC 5681 §2, or `pipe` with
/// SACK, RFC 6675 §2), *after* the event being reported (for an ACK: with
/// the bytes it acknowledges already removed).
pub trait Controller {
    /// A short lowercase name ("newreno").
    fn name(&self) -> &'static str;

    /// The congestion window, in bytes.
    fn cwnd(&self) -> u32;

    /// The slow start threshold, in bytes; `u32::MAX` initially (RFC 5681
    /// §3.1: "arbitrarily high").
    fn ssthresh(&self) -> u32;

    /// The effective send MSS (SMSS) changed or became known. If the window
    /// has not been used yet, cwnd becomes the initial window
    /// [`initial_window`] (RFC 6928).
    fn set_mss(&mut self, mss: u32);

    /// Whether the controller is in slow start (RFC 5681 §3.1: cwnd <
    /// ssthresh).
    fn in_slow_start(&self) -> bool {
        self.cwnd() < self.ssthresh()
    }

    /// New data was acknowledged outside loss recovery: grow cwnd (slow
    /// start, congestion avoidance, or whatever the algorithm does).
    /// `acked_bytes` is the newly acknowledged (cumulatively or, with SACK,
    /// selectively) data; `rtt` the RTT sample this ACK gave, if any, in
    /// nanoseconds (as the RTT estimator keeps it: every ACK passes here,
    /// and a `Duration` would be built and taken apart on each).
    fn on_ack(&mut self, now: Instant, acked_bytes: u32, rtt: Option<u64>, bytes_in_flight: u32);

    /// A loss was detected (fast retransmit, entering recovery): set
    /// ssthresh for the reduction and return it. cwnd is not changed here;
    /// the connection's recovery sets it with [`set_cwnd`](Controller::set_cwnd).
    fn on_congestion_event(&mut self, now: Instant, bytes_in_flight: u32) -> u32;

    /// Set cwnd directly: the connection's recovery logic does this during
    /// recovery (NewReno inflation, RFC 6582; PRR, RFC 6937).
    fn set_cwnd(&mut self, cwnd: u32);

    /// Recovery ended (the recovery point was acknowledged): settle cwnd
    /// (for example to ssthresh).
    fn on_recovery_exit(&mut self, now: Instant, bytes_in_flight: u32);

    /// The retransmission timer expired: reduce ssthresh and set cwnd to the
    /// loss window, 1 SMSS (RFC 5681 §3.1, eq. 4 and "loss window").
    fn on_rto(&mut self, now: Instant, bytes_in_flight: u32);

    /// The last reduction was spurious (detected by DSACK, RFC 3708; F-RTO,
    /// RFC 5682; or timestamps, the Eifel algorithm, RFC 3522): restore
    /// cwnd and ssthresh to what they were before it.
    fn undo(&mut self);

    /// Sending resumes after an idle period longer than an RTO (RFC 5681
    /// §4.1): cwnd = min(cwnd, restart window), the restart window being
    /// the initial window.
    fn on_idle_restart(&mut self, now: Instant);

    /// `bytes` were sent (new data or retransmissions), bringing the flight
    /// to `bytes_in_flight`. For algorithms that track sending (CUBIC's
    /// epoch, BBR's delivery rate); ignored by default.
    fn on_sent(&mut self, now: Instant, bytes: u32, bytes_in_flight: u32) {
        let _ = (now, bytes, bytes_in_flight);
    }

    /// The rate, in bytes per second, at which the algorithm wants segments
    /// paced; `None` (the default) leaves it to the connection, which
    /// paces at a multiple of cwnd / SRTT when pacing is on
    /// (`Config::pacing`).
    fn pacing_rate(&self) -> Option<u64> {
        None
    }

    /// The connection's RTT estimate changed: `srtt` is the smoothed RTT
    /// (RFC 6298), `min_rtt` the lowest sample, both in nanoseconds. For
    /// algorithms whose growth depends on the RTT (CUBIC's
    /// W_cubic(t + RTT), RFC 9438 §4.2); ignored by default.
    fn on_rtt(&mut self, srtt: u64, min_rtt: u64) {
        let _ = (srtt, min_rtt);
    }
}

/// Declares the algorithms: generates [`Algorithm`], [`Congestion`], the
/// constructor and the enum dispatch of [`Controller`].
macro_rules! algorithms {
    ($(
        $(#[$doc:meta])*
        $variant:ident($ty:ty) = $name:literal,
    )+) => {
        /// Which congestion control algorithm a connection uses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Algorithm {
            $( $(#[$doc])* $variant, )+
        }

        impl Algorithm {
            /// Every algorithm, in declaration order.
            pub const ALL: &'static [Algorithm] = &[$(Algorithm::$variant),+];

            /// The algorithm's short lowercase name (as
            /// [`Controller::name`]).
            pub const fn name(self) -> &'static str {
                match self {
                    $( Algorithm::$variant => $name, )+
                }
            }
        }

        /// A congestion controller of any [`Algorithm`]: enum dispatch, no
        /// allocation.
        #[derive(Debug, Clone)]
        pub enum Congestion {
            $( $(#[$doc])* $variant($ty), )+
        }

        impl Congestion {
            /// A controller running `algorithm` for a sender MSS of `mss`.
            pub fn new(algorithm: Algorithm, mss: u32) -> Congestion {
                match algorithm {
                    $( Algorithm::$variant => Congestion::$variant(<$ty>::new(mss)), )+
                }
            }

            /// The algorithm this controller runs.
            pub fn algorithm(&self) -> Algorithm {
                match self {
                    $( Congestion::$variant(_) => Algorithm::$variant, )+
                }
            }
        }

        /// Calls `$call` on the concrete controller inside a [`Congestion`].
        macro_rules! dispatch {
            ($this:expr, $c:ident => $call:expr) => {
                match $this {
                    $( Congestion::$variant($c) => $call, )+
                }
            };
        }
    };
}

algorithms! {
    /// CUBIC (RFC 9438): cubic window growth with a Reno-friendly region
    /// and fast convergence; β = 0.7. The default, as in Linux.
    Cubic(cubic::Cubic) = "cubic",
    /// NewReno: RFC 5681 slow start and congestion avoidance with
    /// Appropriate Byte Counting (RFC 3465); recovery per RFC 6582.
    NewReno(newreno::NewReno) = "newreno",
}

impl Default for Algorithm {
    /// CUBIC.
    fn default() -> Algorithm {
        Algorithm::Cubic
    }
}

impl Algorithm {
    /// Whether connections running this algorithm pace their sending when
    /// `Config::pacing` is `Auto`.
    pub const fn paced_by_default(self) -> bool {
        match self {
            Algorithm::Cubic => PACE_CUBIC,
            Algorithm::NewReno => false,
        }
    }
}

/// Whether CUBIC paces by default (see `synack bench loss` for the
/// measurements behind this choice).
const PACE_CUBIC: bool = false;

impl Algorithm {
    /// The algorithm called `name` (ASCII case-insensitive), as printed by
    /// [`Algorithm::name`].
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .iter()
            .copied()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Controller for Congestion {
    fn name(&self) -> &'static str {
        dispatch!(self, c => c.name())
    }

    fn cwnd(&self) -> u32 {
        dispatch!(self, c => c.cwnd())
    }

    fn ssthresh(&self) -> u32 {
        dispatch!(self, c => c.ssthresh())
    }

    fn set_mss(&mut self, mss: u32) {
        dispatch!(self, c => c.set_mss(mss))
    }

    fn in_slow_start(&self) -> bool {
        dispatch!(self, c => c.in_slow_start())
    }

    fn on_ack(&mut self, now: Instant, acked_bytes: u32, rtt: Option<u64>, bytes_in_flight: u32) {
        dispatch!(self, c => c.on_ack(now, acked_bytes, rtt, bytes_in_flight))
    }

    fn on_congestion_event(&mut self, now: Instant, bytes_in_flight: u32) -> u32 {
        dispatch!(self, c => c.on_congestion_event(now, bytes_in_flight))
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        dispatch!(self, c => c.set_cwnd(cwnd))
    }

    fn on_recovery_exit(&mut self, now: Instant, bytes_in_flight: u32) {
        dispatch!(self, c => c.on_recovery_exit(now, bytes_in_flight))
    }

    fn on_rto(&mut self, now: Instant, bytes_in_flight: u32) {
        dispatch!(self, c => c.on_rto(now, bytes_in_flight))
    }

    fn undo(&mut self) {
        dispatch!(self, c => c.undo())
    }

    fn on_idle_restart(&mut self, now: Instant) {
        dispatch!(self, c => c.on_idle_restart(now))
    }

    fn on_sent(&mut self, now: Instant, bytes: u32, bytes_in_flight: u32) {
        dispatch!(self, c => c.on_sent(now, bytes, bytes_in_flight))
    }

    fn pacing_rate(&self) -> Option<u64> {
        dispatch!(self, c => c.pacing_rate())
    }

    fn on_rtt(&mut self, srtt: u64, min_rtt: u64) {
        dispatch!(self, c => c.on_rtt(srtt, min_rtt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_windows() {
        // RFC 6928 §2.
        assert_eq!(initial_window(1460), 14_600);
        assert_eq!(initial_window(536), 5_360);
        assert_eq!(initial_window(9000), 18_000);
        assert_eq!(initial_window(1), 10);
        assert_eq!(initial_window(u32::MAX), u32::MAX);
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(Algorithm::default(), Algorithm::Cubic);
        assert_eq!(Algorithm::NewReno.name(), "newreno");
        assert_eq!(Algorithm::Cubic.name(), "cubic");
        assert_eq!(std::format!("{}", Algorithm::NewReno), "newreno");
        assert_eq!(Algorithm::from_name("NewReno"), Some(Algorithm::NewReno));
        assert_eq!(Algorithm::from_name("CUBIC"), Some(Algorithm::Cubic));
        assert_eq!(Algorithm::from_name("bogus"), None);
        assert_eq!(Algorithm::ALL, &[Algorithm::Cubic, Algorithm::NewReno]);
    }

    #[test]
    fn congestion_dispatches() {
        let mut c = Congestion::new(Algorithm::NewReno, 1460);
        assert_eq!(c.algorithm(), Algorithm::NewReno);
        assert_eq!(c.name(), "newreno");
        assert_eq!(c.cwnd(), 14_600);
        assert_eq!(c.ssthresh(), u32::MAX);
        assert!(c.in_slow_start());
        c.set_mss(536);
        assert_eq!(c.cwnd(), 5_360);
        let now = Instant::ZERO;
        c.on_sent(now, 5_360, 5_360);
        c.on_ack(now, 536, None, 5_360 - 536);
        assert_eq!(c.cwnd(), 5_896);
        assert_eq!(c.on_congestion_event(now, 5_896), 2_948);
        c.set_cwnd(2_948 + 3 * 536);
        assert_eq!(c.cwnd(), 4_556);
        c.on_recovery_exit(now, 0);
        assert_eq!(c.cwnd(), 1_072);
        c.undo();
        assert_eq!(c.cwnd(), 5_896);
        assert_eq!(c.ssthresh(), u32::MAX);
        c.on_rto(now, 5_896);
        assert_eq!(c.cwnd(), 536);
        c.set_cwnd(100_000);
        c.on_idle_restart(now);
        assert_eq!(c.cwnd(), 5_360);
        assert_eq!(c.pacing_rate(), None);
    }

    /// The trait stays dyn-compatible, for tools that want `&dyn Controller`.
    #[test]
    fn dyn_compatible() {
        let c = Congestion::new(Algorithm::NewReno, 1460);
        let d: &dyn Controller = &c;
        assert_eq!(d.cwnd(), 14_600);
    }
}
