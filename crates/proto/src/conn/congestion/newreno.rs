//! NewReno congestion control: RFC 5681 slow start and congestion avoidance,
//! with Appropriate Byte Counting (RFC 3465).
//!
//! The window rules only; fast retransmit and the NewReno recovery itself
//! (RFC 6582: partial ACKs, window inflation) live in the connection, which
//! calls [`Controller::on_congestion_event`] on entering recovery,
//! [`Controller::set_cwnd`] during it and [`Controller::on_recovery_exit`]
//! when the recovery point is acknowledged.

use super::window::Window;
use super::Controller;
use wire::Instant;

/// NewReno window state. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReno {
    win: Window,
    /// Bytes acknowledged in congestion avoidance not yet turned into
    /// window growth (`bytes_acked` of RFC 3465 §2.1).
    ca_acked: u32,
    /// cwnd and ssthresh before the current reduction episode, for undo.
    prior: Option<(u32, u32)>,
}

impl NewReno {
    /// A NewReno controller for sender MSS `mss`: cwnd is the initial
    /// window (RFC 6928), ssthresh "arbitrarily high" (RFC 5681 §3.1).
    pub fn new(mss: u32) -> NewReno {
        NewReno {
            win: Window::new(mss),
            ca_acked: 0,
            prior: None,
        }
    }

    /// The sender MSS in use.
    pub fn mss(&self) -> u32 {
        self.win.mss
    }

    /// RFC 5681 §3.1, eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS).
    fn reduced_ssthresh(&self, flight: u32) -> u32 {
        (flight / 2).max(self.win.mss.saturating_mul(2))
    }

    /// Remember the window before the first reduction of an episode.
    fn begin_reduction(&mut self) {
        if self.win.begin_reduction() {
            self.prior = Some((self.win.cwnd, self.win.ssthresh));
        }
        self.ca_acked = 0;
    }
}

impl Controller for NewReno {
    fn name(&self) -> &'static str {
        "newreno"
    }

    fn cwnd(&self) -> u32 {
        self.win.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.win.ssthresh
    }

    fn set_mss(&mut self, mss: u32) {
        self.win.set_mss(mss);
    }

    /// Slow start grows cwnd by the bytes acknowledged, at most 2 SMSS per
    /// ACK (RFC 5681 §3.1 eq. 2 with RFC 3465 §2.2, L = 2); an ACK that
    /// carries cwnd past ssthresh spends the rest in congestion avoidance.
    /// Congestion avoidance grows cwnd by exactly 1 SMSS per cwnd of bytes
    /// acknowledged (RFC 5681 §3.1 eq. 3, done by byte counting as in
    /// RFC 3465 §2.1).
    ///
    /// The window grows only while it is used: if the flight before this
    /// ACK (`bytes_in_flight + acked_bytes`) was under half of cwnd, the
    /// sender is application-limited and cwnd is left alone (RFC 7661
    /// §4.3's "validated" cwnd; Linux's `tcp_is_cwnd_limited`).
    fn on_ack(&mut self, _now: Instant, acked_bytes: u32, _rtt: Option<u64>, bytes_in_flight: u32) {
        if !self.win.on_ack(acked_bytes, bytes_in_flight) {
            return;
        }
        let mut acked = acked_bytes;
        if self.win.cwnd < self.win.ssthresh {
            acked = self.win.slow_start(acked, 1);
            if self.win.cwnd < self.win.ssthresh {
                return;
            }
        }
        self.ca_acked = self.ca_acked.saturating_add(acked);
        let window = self.win.cwnd.max(1);
        if self.ca_acked >= window {
            let windows = self.ca_acked / window;
            self.ca_acked %= window;
            self.win.cwnd = self
                .win
                .cwnd
                .saturating_add(windows.saturating_mul(self.win.mss));
        }
    }

    /// Sets ssthresh by RFC 5681 §3.1 eq. 4, max(FlightSize / 2, 2 SMSS),
    /// and returns it. cwnd is the connection's to set during recovery
    /// (RFC 6582 §3.2 step 2: ssthresh + 3 SMSS).
    fn on_congestion_event(&mut self, _now: Instant, bytes_in_flight: u32) -> u32 {
        self.begin_reduction();
        self.win.ssthresh = self.reduced_ssthresh(bytes_in_flight);
        self.win.ssthresh
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        self.win.set_cwnd(cwnd);
    }

    /// RFC 6582 §3.2 step 3, option (1) (see `Window::exit_recovery`);
    /// congestion avoidance counts afresh.
    fn on_recovery_exit(&mut self, _now: Instant, bytes_in_flight: u32) {
        self.ca_acked = 0;
        self.win.exit_recovery(bytes_in_flight);
    }

    /// cwnd becomes the loss window, 1 SMSS (RFC 5681 §3.1). ssthresh is
    /// reduced by eq. 4 only at the first timeout of an episode: "when ...
    /// the given segment has not yet been resent by way of the
    /// retransmission timer" (RFC 5681 §3.1); repeated timeouts of the same
    /// segment, or a timeout during fast recovery that already reduced it,
    /// keep ssthresh. An episode ends when new data is acknowledged
    /// ([`on_ack`](Controller::on_ack)) or recovery exits.
    fn on_rto(&mut self, _now: Instant, bytes_in_flight: u32) {
        if !self.win.is_reducing() {
            self.begin_reduction();
            self.win.ssthresh = self.reduced_ssthresh(bytes_in_flight);
        }
        self.ca_acked = 0;
        self.win.cwnd = self.win.mss;
    }

    /// Restores cwnd and ssthresh to at least their values before the
    /// reduction episode (`Window::undo`). A no-op if there is no
    /// reduction to undo.
    fn undo(&mut self) {
        if let Some((cwnd, ssthresh)) = self.prior.take() {
            self.win.undo(cwnd, ssthresh);
            self.ca_acked = 0;
        }
    }

    /// RFC 5681 §4.1 with RFC 2861's ssthresh (`Window::idle_restart`).
    fn on_idle_restart(&mut self, _now: Instant) {
        self.win.idle_restart();
        self.ca_acked = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1460;
    const T: Instant = Instant::ZERO;

    /// ACK one window of full segments, one ACK per segment, with a sender
    /// that keeps the window full.
    fn ack_window(c: &mut NewReno) {
        let segments = c.cwnd() / MSS;
        for _ in 0..segments {
            let flight = c.cwnd() - MSS;
            c.on_ack(T, MSS, None, flight);
        }
    }

    /// A controller in congestion avoidance with cwnd = ssthresh = `w`.
    fn in_ca(w: u32) -> NewReno {
        let mut c = NewReno::new(MSS);
        assert_eq!(c.on_congestion_event(T, 2 * w), w);
        c.set_cwnd(w);
        c.on_recovery_exit(T, w);
        assert_eq!(c.cwnd(), w);
        assert!(!c.in_slow_start());
        c
    }

    #[test]
    fn initial_window() {
        // RFC 6928: min(10 MSS, max(2 MSS, 14600)).
        assert_eq!(NewReno::new(1460).cwnd(), 14_600);
        assert_eq!(NewReno::new(536).cwnd(), 5_360);
        assert_eq!(NewReno::new(9000).cwnd(), 18_000);
        let c = NewReno::new(1460);
        assert_eq!(c.ssthresh(), u32::MAX);
        assert!(c.in_slow_start());
        assert_eq!(c.name(), "newreno");
        assert_eq!(c.mss(), 1460);
    }

    #[test]
    fn set_mss_resets_iw_only_before_use() {
        let mut c = NewReno::new(536);
        c.set_mss(1460);
        assert_eq!(c.cwnd(), 14_600);
        c.on_ack(T, 1460, None, 13_140);
        assert_eq!(c.cwnd(), 16_060);
        c.set_mss(9000);
        assert_eq!(c.cwnd(), 16_060, "used window is kept");
        assert_eq!(c.mss(), 9000);
        c.set_mss(0);
        assert_eq!(c.mss(), 1);
    }

    #[test]
    fn slow_start_doubles_per_round_trip() {
        let mut c = NewReno::new(MSS);
        ack_window(&mut c);
        assert_eq!(c.cwnd(), 29_200);
        ack_window(&mut c);
        assert_eq!(c.cwnd(), 58_400);
        ack_window(&mut c);
        assert_eq!(c.cwnd(), 116_800);
    }

    #[test]
    fn slow_start_byte_counting_is_limited_to_two_segments_per_ack() {
        // RFC 3465 §2.2, L = 2 SMSS.
        let mut c = NewReno::new(MSS);
        c.on_ack(T, 2 * MSS, None, 14_600 - 2 * MSS);
        assert_eq!(c.cwnd(), 17_520);
        c.on_ack(T, 10 * MSS, None, 7_300);
        assert_eq!(c.cwnd(), 20_440);
        // A small ACK counts its bytes, not a whole segment.
        c.on_ack(T, 100, None, 20_000);
        assert_eq!(c.cwnd(), 20_540);
    }

    #[test]
    fn slow_start_spills_into_congestion_avoidance() {
        let mut c = NewReno::new(MSS);
        c.on_congestion_event(T, 32_000);
        assert_eq!(c.ssthresh(), 16_000);
        c.set_cwnd(14_600);
        c.on_ack(T, 2 * MSS, None, 14_600);
        // 1 400 bytes reach ssthresh, 1 520 go to congestion avoidance.
        assert_eq!(c.cwnd(), 16_000);
        assert!(!c.in_slow_start());
        assert_eq!(c.ca_acked, 1_520);
    }

    #[test]
    fn congestion_avoidance_grows_one_segment_per_window() {
        let mut c = in_ca(14_600);
        for _ in 0..9 {
            c.on_ack(T, MSS, None, 14_600 - MSS);
        }
        assert_eq!(c.cwnd(), 14_600);
        c.on_ack(T, MSS, None, 14_600 - MSS);
        assert_eq!(c.cwnd(), 16_060);
        // The next window is 16 060 bytes: 11 segments.
        for _ in 0..10 {
            c.on_ack(T, MSS, None, 16_060 - MSS);
        }
        assert_eq!(c.cwnd(), 16_060);
        c.on_ack(T, MSS, None, 16_060 - MSS);
        assert_eq!(c.cwnd(), 17_520);
        // A stretch ACK of two windows grows it by two segments.
        c.on_ack(T, 2 * 17_520, None, 17_520);
        assert_eq!(c.cwnd(), 20_440);
    }

    #[test]
    fn application_limited_does_not_grow() {
        let mut c = NewReno::new(MSS);
        // Only one segment was in flight: the window was not used.
        c.on_ack(T, MSS, None, 0);
        assert_eq!(c.cwnd(), 14_600);
        // Half the window in flight counts as used (RFC 7661).
        c.on_ack(T, MSS, None, 7_300 - MSS);
        assert_eq!(c.cwnd(), 16_060);
        let mut c = in_ca(14_600);
        for _ in 0..20 {
            c.on_ack(T, MSS, None, 0);
        }
        assert_eq!(c.cwnd(), 14_600);
    }

    #[test]
    fn ssthresh_by_equation_4() {
        // RFC 5681 eq. 4: max(FlightSize / 2, 2 SMSS).
        let mut c = NewReno::new(MSS);
        assert_eq!(c.on_congestion_event(T, 100_000), 50_000);
        assert_eq!(c.ssthresh(), 50_000);
        assert_eq!(c.cwnd(), 14_600, "cwnd is the connection's to set");
        assert_eq!(c.on_congestion_event(T, 1_000), 2_920);
        assert_eq!(c.on_congestion_event(T, 0), 2_920);
        assert_eq!(c.on_congestion_event(T, 5_841), 2_920);
        assert_eq!(c.on_congestion_event(T, 5_842), 2_921);
        assert_eq!(c.on_congestion_event(T, u32::MAX), u32::MAX / 2);
    }

    #[test]
    fn recovery_exit_option_one() {
        // RFC 6582 §3.2 step 3 (1): min(ssthresh, max(FlightSize, SMSS) + SMSS).
        let mut c = NewReno::new(MSS);
        c.on_congestion_event(T, 29_200);
        c.set_cwnd(14_600 + 3 * MSS);
        c.on_recovery_exit(T, 5_000);
        assert_eq!(c.cwnd(), 6_460);
        c.on_recovery_exit(T, 20_000);
        assert_eq!(c.cwnd(), 14_600);
        c.on_recovery_exit(T, 0);
        assert_eq!(c.cwnd(), 2_920);
    }

    #[test]
    fn rto_sets_the_loss_window() {
        let mut c = NewReno::new(MSS);
        ack_window(&mut c);
        assert_eq!(c.cwnd(), 29_200);
        c.on_rto(T, 29_200);
        assert_eq!(c.cwnd(), MSS);
        assert_eq!(c.ssthresh(), 14_600);
        // The same segment times out again: ssthresh is kept.
        c.on_rto(T, MSS);
        assert_eq!(c.cwnd(), MSS);
        assert_eq!(c.ssthresh(), 14_600);
        // Slow start from the loss window.
        c.on_ack(T, MSS, None, 0);
        assert_eq!(c.cwnd(), 2 * MSS);
        // Progress was made; a new timeout reduces again.
        c.on_rto(T, 10_000);
        assert_eq!(c.ssthresh(), 5_000);
        assert_eq!(c.cwnd(), MSS);
    }

    #[test]
    fn rto_during_fast_recovery_keeps_its_ssthresh() {
        let mut c = NewReno::new(MSS);
        ack_window(&mut c);
        c.on_congestion_event(T, 29_200);
        c.set_cwnd(14_600 + 3 * MSS);
        c.on_rto(T, 4_000);
        assert_eq!(c.ssthresh(), 14_600);
        assert_eq!(c.cwnd(), MSS);
        // Undo goes back to before the episode.
        c.undo();
        assert_eq!(c.cwnd(), 29_200);
        assert_eq!(c.ssthresh(), u32::MAX);
    }

    #[test]
    fn undo_restores_the_prior_window() {
        let mut c = NewReno::new(MSS);
        ack_window(&mut c);
        c.on_congestion_event(T, 29_200);
        c.set_cwnd(14_600 + 3 * MSS);
        c.undo();
        assert_eq!(c.cwnd(), 29_200);
        assert_eq!(c.ssthresh(), u32::MAX);
        assert!(c.in_slow_start());
        // Nothing more to undo.
        c.set_cwnd(20_000);
        c.undo();
        assert_eq!(c.cwnd(), 20_000);
        // Undo after a timeout and some regrowth.
        let mut c = in_ca(30_000);
        c.on_rto(T, 30_000);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, 15_000));
        c.on_ack(T, MSS, None, 0);
        c.undo();
        assert_eq!((c.cwnd(), c.ssthresh()), (30_000, 30_000));
    }

    #[test]
    fn idle_restart() {
        let mut c = NewReno::new(MSS);
        c.set_cwnd(50_000);
        c.on_idle_restart(T);
        assert_eq!(c.cwnd(), 14_600);
        assert_eq!(c.ssthresh(), u32::MAX);
        let mut c = in_ca(40_000);
        c.on_idle_restart(T);
        assert_eq!(c.cwnd(), 14_600);
        assert_eq!(c.ssthresh(), 40_000);
        let mut c = in_ca(20_000);
        c.set_cwnd(60_000);
        c.on_idle_restart(T);
        assert_eq!(c.ssthresh(), 45_000, "RFC 2861: 3/4 of the old cwnd");
        // A window already below IW is kept.
        c.set_cwnd(5_000);
        c.on_idle_restart(T);
        assert_eq!(c.cwnd(), 5_000);
    }

    #[test]
    fn extremes_do_not_panic() {
        let mut c = NewReno::new(u32::MAX);
        assert_eq!(c.cwnd(), u32::MAX);
        c.on_ack(T, u32::MAX, None, u32::MAX);
        assert_eq!(c.cwnd(), u32::MAX);
        c.on_rto(T, u32::MAX);
        c.on_recovery_exit(T, u32::MAX);
        c.on_idle_restart(T);
        let mut c = NewReno::new(MSS);
        c.set_cwnd(u32::MAX - 10);
        c.on_ack(T, u32::MAX, None, u32::MAX);
        assert_eq!(c.cwnd(), u32::MAX);
        c.set_cwnd(0);
        c.on_ack(T, u32::MAX, None, u32::MAX);
        c.on_ack(T, 0, None, 0);
        let mut c = in_ca(2_920);
        c.set_cwnd(0);
        c.on_ack(T, u32::MAX, None, u32::MAX);
        assert!(c.cwnd() > 0);
        let mut c = NewReno::new(0);
        assert_eq!(c.cwnd(), 10);
        c.on_rto(T, 0);
        assert_eq!(c.cwnd(), 1);
        assert_eq!(c.ssthresh(), 2);
    }
}
