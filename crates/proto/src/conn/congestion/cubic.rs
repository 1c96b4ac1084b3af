//! CUBIC congestion control (RFC 9438).
//!
//! After a congestion event the window follows a cubic function of the
//! time since the event (RFC 9438 §4.1):
//!
//! ```text
//! W_cubic(t) = C · (t − K)³ + W_max        K = ∛((W_max − cwnd_epoch) / C)
//! ```
//!
//! with `C = 0.4` segments/s³: concave up to `W_max` (the window where
//! the last loss happened), a plateau around it, then convex probing
//! beyond. Where Reno would do better (short RTTs, small windows), the
//! Reno-friendly estimate `W_est` (§4.3) takes over, so CUBIC is never
//! less aggressive than Reno with the same β. The window is cut to
//! `β_cubic = 0.7` of the flight on loss (§4.6); fast convergence (§4.7)
//! releases bandwidth to newer flows by lowering `W_max` when losses come
//! before the old `W_max` was reached.
//!
//! Everything is integer arithmetic on bytes and microseconds: `C` is
//! applied as 2/5 segment per second cubed, with time cubed in 128 bits,
//! and the cube root is computed exactly on integers, so the window is
//! the same on every target and in `no_std`.
//!
//! Slow start is RFC 5681's (with RFC 3465 byte counting, L = 2), and
//! the initial one ends early with HyStart++ (RFC 9406), as RFC 9438
//! §4.10 recommends: when the round trip grows by an eighth (4–16 ms),
//! the queue is filling; growth slows to a quarter (Conservative Slow
//! Start) and after five such rounds congestion avoidance begins, before
//! the slow-start overshoot drops a window's worth of segments. Recovery
//! itself (which segments to resend, PRR) is the connection's; it calls
//! [`Controller::on_congestion_event`] and [`Controller::set_cwnd`].

use core::time::Duration;

use super::window::Window;
use super::Controller;
use wire::Instant;

/// β_cubic = 0.7 (RFC 9438 §4.6), as a fraction.
const BETA_NUM: u64 = 7;
const BETA_DEN: u64 = 10;
/// α_cubic = 3 (1 − β) / (1 + β) = 9/17 (RFC 9438 §4.3).
const ALPHA_NUM: u64 = 9;
const ALPHA_DEN: u64 = 17;
/// C = 0.4 (RFC 9438 §5), as 2/5.
const C_NUM: i128 = 2;
const C_DEN: i128 = 5;
/// Microseconds per second, cubed.
const US3: i128 = 1_000_000_000_000_000_000;
/// The longest time since the epoch fed to the cube (keeps it in range):
/// about 18 minutes, far beyond any window of interest.
const MAX_T_US: i128 = 1 << 30;

/// HyStart++ (RFC 9406 §4.3): the RTT increase that ends slow start is
/// lastRoundMinRTT / 8, within [4 ms, 16 ms].
const HS_MIN_RTT_THRESH: Duration = Duration::from_millis(4);
const HS_MAX_RTT_THRESH: Duration = Duration::from_millis(16);
const HS_MIN_RTT_DIVISOR: u32 = 8;
/// RTT samples per round before a decision (N_RTT_SAMPLE).
const HS_N_RTT_SAMPLE: u32 = 8;
/// Growth in Conservative Slow Start is divided by this
/// (CSS_GROWTH_DIVISOR).
const HS_CSS_GROWTH_DIVISOR: u32 = 4;
/// Rounds of Conservative Slow Start before congestion avoidance
/// (CSS_ROUNDS).
const HS_CSS_ROUNDS: u32 = 5;

/// Where HyStart++ is (RFC 9406 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HyPhase {
    /// Standard slow start, watching the RTT.
    SlowStart,
    /// Conservative Slow Start.
    Css,
    /// The initial slow start is over (a loss, or CSS ended): plain
    /// RFC 5681 slow start from now on.
    Done,
}

/// "No RTT measured" in the compact fields.
const NO_RTT: u32 = u32::MAX;

/// HyStart++ state, compact (RTTs in microseconds). Rounds are counted in
/// bytes: a round ends when as many bytes were acknowledged as cwnd held
/// when it began (the controller does not see sequence numbers; RFC 9406
/// uses SND.NXT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HyStart {
    phase: HyPhase,
    css_rounds: u8,
    samples: u16,
    /// cssBaselineMinRtt.
    baseline_us: u32,
    /// lastRoundMinRTT.
    last_round_min_us: u32,
    /// currentRoundMinRTT.
    round_min_us: u32,
    round_acked: u32,
    round_bytes: u32,
}

/// A duration in whole microseconds, saturating.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Nanoseconds in whole microseconds, at most 71 minutes.
fn micros32(nanos: u64) -> u32 {
    u32::try_from(nanos / 1000).unwrap_or(NO_RTT - 1)
}

impl HyStart {
    fn new() -> HyStart {
        HyStart {
            phase: HyPhase::SlowStart,
            css_rounds: 0,
            samples: 0,
            baseline_us: NO_RTT,
            last_round_min_us: NO_RTT,
            round_min_us: NO_RTT,
            round_acked: 0,
            round_bytes: 0,
        }
    }

    /// An ACK of `acked` bytes in slow start with an RTT sample `rtt`,
    /// cwnd being `cwnd`. Returns the divisor of this ACK's growth (1 in
    /// slow start, 4 in CSS), or `None` when slow start ends now.
    fn on_ack(&mut self, acked: u32, rtt: Option<u64>, cwnd: u32) -> Option<u32> {
        if self.phase == HyPhase::Done {
            return Some(1);
        }
        // RFC 9406 §4.2: at the start of each round.
        self.round_acked = self.round_acked.saturating_add(acked);
        if self.round_acked >= self.round_bytes {
            self.last_round_min_us = self.round_min_us;
            self.round_min_us = NO_RTT;
            self.samples = 0;
            self.round_acked = 0;
            self.round_bytes = cwnd.max(1);
            if self.phase == HyPhase::Css {
                self.css_rounds = self.css_rounds.saturating_add(1);
                if u32::from(self.css_rounds) >= HS_CSS_ROUNDS {
                    // §4.2: CSS_ROUNDS in CSS: congestion avoidance.
                    self.phase = HyPhase::Done;
                    return None;
                }
            }
        }
        if let Some(r) = rtt {
            self.round_min_us = self.round_min_us.min(micros32(r));
            self.samples = self.samples.saturating_add(1);
        }
        let (cur, last) = (self.round_min_us, self.last_round_min_us);
        if u32::from(self.samples) >= HS_N_RTT_SAMPLE && cur != NO_RTT && last != NO_RTT {
            match self.phase {
                HyPhase::SlowStart => {
                    let last_d = Duration::from_micros(u64::from(last));
                    let thresh =
                        (last_d / HS_MIN_RTT_DIVISOR).clamp(HS_MIN_RTT_THRESH, HS_MAX_RTT_THRESH);
                    if u64::from(cur) >= u64::from(last) + micros(thresh) {
                        // The queue is building: Conservative Slow Start.
                        self.phase = HyPhase::Css;
                        self.css_rounds = 0;
                        self.baseline_us = cur;
                    }
                }
                HyPhase::Css if cur < self.baseline_us => {
                    // A false alarm (the RTT went back down): slow start.
                    self.phase = HyPhase::SlowStart;
                    self.baseline_us = NO_RTT;
                }
                _ => {}
            }
        }
        Some(match self.phase {
            HyPhase::Css => HS_CSS_GROWTH_DIVISOR,
            _ => 1,
        })
    }
}

/// CUBIC's state. See the [module docs](self). All windows in bytes,
/// times in microseconds; kept small, as every connection holds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cubic {
    win: Window,
    /// W_max: the window before the last reduction (after fast
    /// convergence).
    w_max: u32,
    /// cwnd_prior: cwnd before the last reduction (§4.6), for the switch
    /// of α_cubic to 1 (§4.3).
    cwnd_prior: u32,
    /// K, in microseconds.
    k_us: u32,
    /// cwnd_epoch: cwnd when the congestion avoidance stage began.
    cwnd_epoch: u32,
    /// W_est, the Reno-friendly estimate.
    w_est: u32,
    /// The smoothed RTT in microseconds (0: none yet), for
    /// W_cubic(t + RTT) (§4.2).
    srtt_us: u32,
    /// Fractions of a byte of cubic growth (numerator over cwnd).
    cubic_acc: u32,
    /// Fractions of a byte of W_est growth (numerator over cwnd · 17).
    est_acc: u64,
    /// t_epoch: when the current congestion avoidance stage began (valid
    /// with `has_epoch`).
    epoch: Instant,
    /// What an undo restores (RFC 9438 §4.9): cwnd, ssthresh, W_max and
    /// cwnd_prior before the reduction (valid with `saved_valid`).
    saved: [u32; 4],
    /// HyStart++ for the initial slow start.
    hystart: HyStart,
    has_epoch: bool,
    saved_valid: bool,
    /// The first congestion avoidance stage after a timeout uses K = 0
    /// and W_max = cwnd_epoch (§4.8).
    after_rto: bool,
}

/// The integer cube root: the largest `r` with `r³ ≤ n`.
pub fn icbrt(n: u128) -> u64 {
    if n == 0 {
        return 0;
    }
    // Bit by bit from the top: r < 2^43 for n < 2^128.
    let mut r: u128 = 0;
    for bit in (0..43).rev() {
        let cand = r | (1u128 << bit);
        if cand
            .checked_mul(cand)
            .and_then(|x| x.checked_mul(cand))
            .is_some_and(|c| c <= n)
        {
            r = cand;
        }
    }
    r as u64
}

impl Cubic {
    /// A CUBIC controller for sender MSS `mss`: cwnd is the initial window
    /// (RFC 6928), ssthresh "arbitrarily high" (RFC 5681 §3.1).
    pub fn new(mss: u32) -> Cubic {
        Cubic {
            win: Window::new(mss),
            w_max: 0,
            cwnd_prior: 0,
            k_us: 0,
            cwnd_epoch: 0,
            w_est: 0,
            srtt_us: 0,
            cubic_acc: 0,
            est_acc: 0,
            epoch: Instant::ZERO,
            saved: [0; 4],
            hystart: HyStart::new(),
            has_epoch: false,
            saved_valid: false,
            after_rto: false,
        }
    }

    /// W_max, in bytes.
    pub fn w_max(&self) -> u32 {
        self.w_max
    }

    /// K, the time from the epoch to the plateau at W_max.
    pub fn k(&self) -> Duration {
        Duration::from_micros(u64::from(self.k_us))
    }

    /// W_est, the Reno-friendly estimate, in bytes.
    pub fn w_est(&self) -> u32 {
        self.w_est
    }

    /// When the current congestion avoidance stage began.
    pub fn epoch(&self) -> Option<Instant> {
        self.has_epoch.then_some(self.epoch)
    }

    /// K for a window that must grow back from `cwnd_epoch` to `w_max`
    /// (RFC 9438 §4.2, Figure 2): ∛((W_max − cwnd_epoch) / C) seconds,
    /// windows in segments of `mss` bytes. In microseconds.
    pub fn k_for(w_max: u32, cwnd_epoch: u32, mss: u32) -> u64 {
        let diff = u128::from(w_max.saturating_sub(cwnd_epoch));
        // (diff / mss) / C s³ = diff · 5 / (2 · mss) s³, in µs³.
        icbrt(diff * (US3 as u128) * (C_DEN as u128) / (C_NUM as u128 * u128::from(mss.max(1))))
    }

    /// W_cubic(t) (RFC 9438 §4.2, Figure 1) in bytes, for `t_us`
    /// microseconds since the epoch: C · (t − K)³ + W_max.
    pub fn w_cubic(w_max: u32, k_us: u64, mss: u32, t_us: u64) -> u32 {
        let dt = (i128::from(t_us) - i128::from(k_us)).clamp(-MAX_T_US, MAX_T_US);
        let grow = C_NUM * i128::from(mss) * dt * dt * dt / (C_DEN * US3);
        (i128::from(w_max) + grow).clamp(0, i128::from(u32::MAX)) as u32
    }

    /// Remember the state before the first reduction of an episode.
    fn begin_reduction(&mut self) {
        // RFC 9406 §4.2: a loss in slow start or CSS ends HyStart++.
        self.hystart.phase = HyPhase::Done;
        if self.win.begin_reduction() {
            self.saved = [
                self.win.cwnd,
                self.win.ssthresh,
                self.w_max,
                self.cwnd_prior,
            ];
            self.saved_valid = true;
        }
    }

    /// RFC 9438 §4.6 and §4.7: W_max with fast convergence, cwnd_prior,
    /// and the new ssthresh from the flight.
    fn reduce(&mut self, bytes_in_flight: u32) {
        let cwnd = u64::from(self.win.cwnd);
        // §4.7: a flow that loses before regaining its old W_max releases
        // some bandwidth: W_max = cwnd · (1 + β) / 2.
        self.w_max = if self.win.cwnd < self.w_max {
            (cwnd * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN)) as u32
        } else {
            self.win.cwnd
        };
        self.cwnd_prior = self.win.cwnd;
        // §4.6: ssthresh = flight_size · β_cubic, at least 2 segments.
        let flight = u64::from(bytes_in_flight);
        self.win.ssthresh =
            ((flight * BETA_NUM / BETA_DEN) as u32).max(self.win.mss.saturating_mul(2));
        self.has_epoch = false;
    }

    /// Starts a congestion avoidance stage at `now` (RFC 9438 §4.2).
    fn start_epoch(&mut self, now: Instant) {
        self.epoch = now;
        self.has_epoch = true;
        self.cwnd_epoch = self.win.cwnd;
        // §4.3: W_est starts at cwnd_epoch.
        self.w_est = self.win.cwnd;
        self.est_acc = 0;
        self.cubic_acc = 0;
        if self.after_rto || self.w_max <= self.win.cwnd {
            // §4.8 (after a timeout), or a window already past the last
            // W_max (an undo, slow start without loss): the plateau is
            // here.
            self.w_max = self.win.cwnd;
            self.k_us = 0;
        } else {
            let k = Cubic::k_for(self.w_max, self.cwnd_epoch, self.win.mss);
            self.k_us = u32::try_from(k).unwrap_or(u32::MAX);
        }
        self.after_rto = false;
    }

    /// Congestion avoidance on `acked` bytes (RFC 9438 §4.2–§4.5).
    fn avoid(&mut self, now: Instant, acked: u32) {
        if !self.has_epoch {
            self.start_epoch(now);
        }
        let mss = u64::from(self.win.mss);
        let cwnd = u64::from(self.win.cwnd.max(1));
        let t_us = micros(now.saturating_since(self.epoch));
        let k_us = u64::from(self.k_us);
        // §4.3: W_est grows by α_cubic segments per window acknowledged;
        // α_cubic becomes 1 once W_est reaches cwnd_prior.
        let (an, ad) = if self.w_est >= self.cwnd_prior {
            (1, 1)
        } else {
            (ALPHA_NUM, ALPHA_DEN)
        };
        self.est_acc = self
            .est_acc
            .saturating_add((an * mss).saturating_mul(u64::from(acked)));
        let step = cwnd * ad;
        if self.est_acc >= step {
            let grow = self.est_acc / step;
            self.est_acc %= step;
            self.w_est = self
                .w_est
                .saturating_add(grow.min(u64::from(u32::MAX)) as u32);
        }
        let w_cubic_now = Cubic::w_cubic(self.w_max, k_us, self.win.mss, t_us);
        if w_cubic_now < self.w_est {
            // §4.3: the Reno-friendly region.
            self.win.cwnd = self.win.cwnd.max(self.w_est);
            return;
        }
        // §4.4, §4.5: towards W_cubic(t + RTT), at most 1.5 cwnd.
        let rtt_us = u64::from(self.srtt_us);
        let target = u64::from(Cubic::w_cubic(
            self.w_max,
            k_us,
            self.win.mss,
            t_us.saturating_add(rtt_us),
        ))
        .clamp(cwnd, cwnd * 3 / 2);
        // cwnd += (target − cwnd) / cwnd per segment acknowledged, by
        // byte counting; the remainder (below cwnd) carries over.
        let acc = u64::from(self.cubic_acc)
            .saturating_add((target - cwnd).saturating_mul(u64::from(acked)));
        self.cubic_acc = (acc % cwnd) as u32;
        let grow = acc / cwnd;
        if grow > 0 {
            self.win.cwnd = self
                .win
                .cwnd
                .saturating_add(grow.min(u64::from(u32::MAX)) as u32);
        }
    }
}

impl Controller for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
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

    /// Slow start as RFC 5681 (RFC 3465 byte counting, at most 2 SMSS per
    /// ACK), ended early by HyStart++ (RFC 9406); congestion avoidance as
    /// RFC 9438 §4.2–§4.5. The window grows only while it is used (the
    /// flight before the ACK was at least half of it, as in NewReno;
    /// RFC 7661).
    fn on_ack(&mut self, now: Instant, acked_bytes: u32, rtt: Option<u64>, bytes_in_flight: u32) {
        if !self.win.on_ack(acked_bytes, bytes_in_flight) {
            return;
        }
        let mut acked = acked_bytes;
        if self.win.cwnd < self.win.ssthresh {
            let divisor = match self.hystart.on_ack(acked, rtt, self.win.cwnd) {
                Some(d) => d,
                None => {
                    // RFC 9406 §4.2: CSS is over: congestion avoidance
                    // from this window (RFC 9438 §4.10: W_max = cwnd,
                    // K = 0, as no loss told where the limit is).
                    self.win.ssthresh = self.win.cwnd;
                    self.has_epoch = false;
                    return;
                }
            };
            acked = self.win.slow_start(acked, divisor);
            if acked == 0 {
                return;
            }
        }
        self.avoid(now, acked);
    }

    fn on_congestion_event(&mut self, _now: Instant, bytes_in_flight: u32) -> u32 {
        self.begin_reduction();
        self.reduce(bytes_in_flight);
        self.win.ssthresh
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        self.win.set_cwnd(cwnd);
    }

    /// As NewReno (RFC 6582 §3.2 step 3, option 1): cwnd = min(ssthresh,
    /// max(FlightSize, SMSS) + SMSS); a new congestion avoidance stage
    /// begins with the next ACK.
    fn on_recovery_exit(&mut self, _now: Instant, bytes_in_flight: u32) {
        self.win.exit_recovery(bytes_in_flight);
        self.has_epoch = false;
    }

    /// RFC 9438 §4.8: ssthresh as on loss (with β_cubic), cwnd the loss
    /// window of one segment (RFC 5681 §3.1); the first congestion
    /// avoidance stage after it starts with K = 0. Repeated timeouts of
    /// one episode keep ssthresh.
    fn on_rto(&mut self, _now: Instant, bytes_in_flight: u32) {
        if !self.win.is_reducing() {
            self.begin_reduction();
            self.reduce(bytes_in_flight);
        }
        self.after_rto = true;
        self.has_epoch = false;
        self.win.cwnd = self.win.mss;
    }

    /// RFC 9438 §4.9: a spurious reduction is taken back — cwnd and
    /// ssthresh to at least their values before it, W_max and cwnd_prior
    /// as they were; a new congestion avoidance stage starts with the next
    /// ACK (K from the restored W_max and the window then).
    fn undo(&mut self) {
        if self.saved_valid {
            let [cwnd, ssthresh, w_max, cwnd_prior] = self.saved;
            self.saved_valid = false;
            self.win.undo(cwnd, ssthresh);
            self.w_max = w_max;
            self.cwnd_prior = cwnd_prior;
            self.has_epoch = false;
            self.after_rto = false;
        }
    }

    /// RFC 5681 §4.1 as NewReno; the cubic epoch restarts with the next
    /// ACK (the idle time is not growth time).
    fn on_idle_restart(&mut self, _now: Instant) {
        self.win.idle_restart();
        self.has_epoch = false;
    }

    fn on_rtt(&mut self, srtt: u64, _min_rtt: u64) {
        self.srtt_us = micros32(srtt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn at_ms(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn cube_root_is_exact() {
        assert_eq!(icbrt(0), 0);
        assert_eq!(icbrt(1), 1);
        assert_eq!(icbrt(7), 1);
        assert_eq!(icbrt(8), 2);
        assert_eq!(icbrt(26), 2);
        assert_eq!(icbrt(27), 3);
        assert_eq!(icbrt(1_000_000_000_000_000_000), 1_000_000);
        assert_eq!(icbrt(u128::MAX), 6_981_463_658_331);
    }

    #[test]
    fn k_and_w_cubic_follow_the_rfc_formulas() {
        // W_max = 100 segments, cwnd_epoch = 70: K = ∛(30 / 0.4) = ∛75
        // = 4.217163 s.
        let k = Cubic::k_for(100 * MSS, 70 * MSS, MSS);
        assert_eq!(k, 4_217_163);
        // W_cubic(0) = W_max − C K³ = cwnd_epoch (to the byte: K is
        // rounded down to the microsecond); W_cubic(K) = W_max.
        assert_eq!(Cubic::w_cubic(100 * MSS, k, MSS, 0), 70 * MSS + 1);
        assert_eq!(Cubic::w_cubic(100 * MSS, k, MSS, k), 100 * MSS);
        // Two seconds past K: 100 + 0.4 · 8 = 103.2 segments.
        assert_eq!(Cubic::w_cubic(100 * MSS, k, MSS, k + 2_000_000), 103_200);
        // One second before K: 100 − 0.4 = 99.6 segments.
        assert_eq!(Cubic::w_cubic(100 * MSS, k, MSS, k - 1_000_000), 99_600);
    }

    #[test]
    fn loss_cuts_to_beta_with_fast_convergence() {
        let mut c = Cubic::new(MSS);
        c.set_cwnd(100 * MSS);
        // RFC 9438 §4.6: ssthresh = 0.7 · flight.
        assert_eq!(c.on_congestion_event(at_ms(0), 100 * MSS), 70 * MSS);
        assert_eq!(c.w_max(), 100 * MSS);
        // A second loss before W_max was regained: §4.7, W_max = cwnd ·
        // (1 + β) / 2 = 80 · 0.85 = 68 segments.
        c.set_cwnd(80 * MSS);
        c.on_recovery_exit(at_ms(0), 80 * MSS);
        c.on_ack(at_ms(10), MSS, None, 79 * MSS);
        c.set_cwnd(80 * MSS);
        c.on_congestion_event(at_ms(20), 80 * MSS);
        assert_eq!(c.w_max(), 68 * MSS);
        assert_eq!(c.ssthresh(), 56 * MSS);
    }

    /// Runs congestion avoidance for `secs` seconds at a fixed RTT with a
    /// window of ACKs per RTT, checking cwnd against W_cubic(t) at every
    /// RTT: the per-ACK steps towards W_cubic(t + RTT) keep cwnd on the
    /// curve, within a segment or two.
    #[test]
    fn the_window_follows_the_cubic_curve() {
        let rtt = 100u64; // ms
        let mut c = Cubic::new(MSS);
        c.on_rtt(rtt * 1_000_000, rtt * 1_000_000);
        c.set_cwnd(100 * MSS);
        c.on_congestion_event(at_ms(0), 100 * MSS);
        c.set_cwnd(70 * MSS);
        c.on_recovery_exit(at_ms(0), 70 * MSS);
        assert_eq!(c.cwnd(), 70 * MSS);
        let mut now = 1000u64;
        // The first ACK starts the epoch.
        c.on_ack(at_ms(now), MSS, None, 69 * MSS);
        let epoch = c.epoch().unwrap();
        let k = c.k();
        assert_eq!(k.as_micros(), 4_217_163);
        let mut worst = 0i64;
        for _ in 0..80 {
            let segs = c.cwnd() / MSS;
            for i in 0..segs {
                let t =
                    at_ms(now) + Duration::from_micros(u64::from(i) * rtt * 1000 / u64::from(segs));
                c.on_ack(t, MSS, None, c.cwnd() - MSS);
            }
            now += rtt;
            let t_us = at_ms(now).saturating_since(epoch).as_micros() as u64;
            let model = Cubic::w_cubic(c.w_max(), k.as_micros() as u64, MSS, t_us);
            let model = model.max(c.w_est());
            let err = i64::from(c.cwnd()) - i64::from(model);
            worst = worst.max(err.abs());
        }
        // Within two segments of the RFC's curve at every RTT over 8 s:
        // through the concave region, the plateau at W_max (t = K) and
        // into the convex region.
        assert!(worst <= 2 * i64::from(MSS), "off by {worst} bytes");
        assert!(c.cwnd() > 100 * MSS, "probing beyond W_max: {}", c.cwnd());
    }

    #[test]
    fn reno_friendly_region_for_small_windows() {
        // W_max 10 segments, cut to 7: K = ∛(3 / 0.4) = 1.957 s. With a
        // 1 ms RTT, W_est (Reno at α = 9/17) outgrows the cubic curve.
        let mut c = Cubic::new(MSS);
        c.on_rtt(1_000_000, 1_000_000);
        c.set_cwnd(10 * MSS);
        c.on_congestion_event(at_ms(0), 10 * MSS);
        c.set_cwnd(7 * MSS);
        c.on_recovery_exit(at_ms(0), 7 * MSS);
        let mut now = Instant::from_millis(10);
        for _ in 0..400 {
            let segs = c.cwnd() / MSS;
            for _ in 0..segs {
                c.on_ack(now, MSS, None, c.cwnd() - MSS);
            }
            now += Duration::from_millis(1);
        }
        // 400 windows at ≥ 9/17 segment each (1 once W_est passes 10):
        // far beyond the cubic curve at t = 0.4 s (< 7.5 segments).
        assert!(c.cwnd() > 150 * MSS, "{}", c.cwnd());
        assert_eq!(c.cwnd(), c.w_est());
    }

    #[test]
    fn timeout_then_k_zero_and_undo() {
        let mut c = Cubic::new(MSS);
        c.set_cwnd(50 * MSS);
        c.on_rto(at_ms(0), 50 * MSS);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, 35 * MSS));
        c.on_rto(at_ms(1000), MSS);
        assert_eq!(c.ssthresh(), 35 * MSS, "the same episode");
        c.undo();
        assert_eq!((c.cwnd(), c.ssthresh()), (50 * MSS, u32::MAX));
        // After a timeout, the first avoidance stage has K = 0.
        let mut c = Cubic::new(MSS);
        c.set_cwnd(50 * MSS);
        c.on_rto(at_ms(0), 50 * MSS);
        c.set_cwnd(35 * MSS);
        c.on_ack(at_ms(100), MSS, None, 35 * MSS);
        assert_eq!(c.k(), Duration::ZERO);
        assert_eq!(c.w_max(), 35 * MSS);
    }

    #[test]
    fn slow_start_and_application_limits() {
        let mut c = Cubic::new(MSS);
        assert_eq!(c.cwnd(), 10 * MSS);
        c.on_ack(at_ms(0), MSS, None, 9 * MSS);
        assert_eq!(c.cwnd(), 11 * MSS);
        c.on_ack(at_ms(0), MSS, None, 0);
        assert_eq!(c.cwnd(), 11 * MSS, "not using the window");
        assert_eq!(c.name(), "cubic");
    }

    /// Slow start with a window of ACKs per round, each with RTT `rtt(round)`.
    fn slow_start_rounds(
        c: &mut Cubic,
        rounds: u32,
        rtt: impl Fn(u32) -> u64,
    ) -> std::vec::Vec<u32> {
        let mut out = std::vec::Vec::new();
        for round in 0..rounds {
            let segs = c.cwnd() / MSS;
            for _ in 0..segs {
                let flight = c.cwnd() - MSS;
                c.on_ack(at_ms(0), MSS, Some(rtt(round) * 1_000_000), flight);
            }
            out.push(c.cwnd() / MSS);
        }
        out
    }

    #[test]
    fn hystart_doubles_while_the_rtt_stays_flat() {
        let mut c = Cubic::new(MSS);
        let w = slow_start_rounds(&mut c, 5, |_| 50);
        assert_eq!(w, [20, 40, 80, 160, 320]);
        assert_eq!(c.ssthresh(), u32::MAX);
    }

    #[test]
    fn hystart_slows_down_when_the_rtt_grows_then_avoids() {
        // RFC 9406: the RTT grows by 10 ms (> 50/8 = 6.25 ms) in the fourth
        // round: Conservative Slow Start (a quarter of the growth) for
        // five rounds, then congestion avoidance with ssthresh = cwnd.
        let mut c = Cubic::new(MSS);
        let w = slow_start_rounds(&mut c, 12, |r| if r < 3 { 50 } else { 60 });
        assert_eq!(&w[..3], &[20, 40, 80]);
        // The fourth round: the first 8 ACKs at 2 segments, then CSS.
        assert!(w[3] < 160 && w[3] > 80, "{w:?}");
        // CSS: +25 % per round.
        assert!(w[4] * 4 <= w[3] * 5 + 4, "{w:?}");
        assert!(c.ssthresh() < u32::MAX, "avoidance after CSS: {w:?}");
        assert_eq!(c.ssthresh(), c.cwnd().min(c.ssthresh()));
        assert!(!c.in_slow_start());
    }

    #[test]
    fn hystart_resumes_slow_start_on_a_false_alarm() {
        let mut c = Cubic::new(MSS);
        // One round of higher RTT, then back to 50 ms.
        let w = slow_start_rounds(&mut c, 6, |r| if r == 3 { 60 } else { 50 });
        assert_eq!(c.ssthresh(), u32::MAX);
        assert!(w[5] >= 2 * w[4] - 2, "{w:?}");
    }

    #[test]
    fn a_loss_ends_hystart() {
        let mut c = Cubic::new(MSS);
        slow_start_rounds(&mut c, 2, |_| 50);
        c.on_congestion_event(at_ms(0), 40 * MSS);
        assert_eq!(c.hystart.phase, HyPhase::Done);
        // Every connection holds one: keep it small.
        assert!(
            core::mem::size_of::<Cubic>() <= 104,
            "{}",
            core::mem::size_of::<Cubic>()
        );
    }

    #[test]
    fn extremes_do_not_panic() {
        let mut c = Cubic::new(u32::MAX);
        c.on_rtt(u64::MAX, u64::MAX);
        c.on_ack(Instant::FAR_FUTURE, u32::MAX, None, u32::MAX);
        c.on_congestion_event(Instant::ZERO, u32::MAX);
        c.on_ack(Instant::FAR_FUTURE, u32::MAX, None, u32::MAX);
        c.on_rto(Instant::ZERO, 0);
        c.on_ack(Instant::FAR_FUTURE, u32::MAX, None, u32::MAX);
        let mut c = Cubic::new(0);
        c.set_cwnd(0);
        c.on_congestion_event(Instant::ZERO, 0);
        c.on_ack(Instant::ZERO, 1, None, 0);
        c.on_recovery_exit(Instant::ZERO, 0);
        c.on_ack(Instant::from_secs(100), u32::MAX, None, u32::MAX);
        assert!(c.cwnd() >= 1);
        assert_eq!(Cubic::w_cubic(u32::MAX, 0, u32::MAX, u64::MAX), u32::MAX);
        assert_eq!(Cubic::w_cubic(0, u64::MAX, u32::MAX, 0), 0);
    }
}
