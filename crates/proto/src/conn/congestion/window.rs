//! The window state that every loss-based controller keeps (SMSS, cwnd,
//! ssthresh, where the reduction episode stands) and the rules on it that
//! do not depend on the algorithm: the initial window follows the MSS
//! until the window is used (RFC 6928), an ACK ends a reduction episode
//! and may grow the window only while it is in use (RFC 7661), one
//! reduction per episode, the recovery exit (RFC 6582), the restart
//! after idle (RFC 5681 §4.1) and undo.
//!
//! How the window grows in congestion avoidance, how far ssthresh drops
//! and what else an undo restores differ by algorithm and stay in each
//! controller's file.

use super::{cwnd_in_use, initial_window, slow_start};

/// Where the window stands between reductions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Episode {
    /// Nothing has used the window yet (no ACK, loss or explicit cwnd): it
    /// is still the initial window of the current MSS.
    Unused,
    /// In use, and no reduction is in force.
    Open,
    /// A reduction (congestion event or timeout) is in force and no new
    /// data has been acknowledged outside recovery since: another timeout
    /// of the same episode does not reduce ssthresh again (RFC 5681 §3.1).
    Reducing,
}

/// SMSS, cwnd and ssthresh, in bytes, with the reduction episode they are
/// in. The controllers read and write the windows directly; the episode
/// changes only through the methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Window {
    /// The sender MSS, SMSS (at least 1).
    pub mss: u32,
    /// The congestion window.
    pub cwnd: u32,
    /// The slow start threshold.
    pub ssthresh: u32,
    episode: Episode,
}

impl Window {
    /// The window for sender MSS `mss`: cwnd is the initial window
    /// (RFC 6928), ssthresh "arbitrarily high" (RFC 5681 §3.1).
    pub fn new(mss: u32) -> Window {
        let mss = mss.max(1);
        Window {
            mss,
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            episode: Episode::Unused,
        }
    }

    /// The SMSS changed; an unused window becomes the initial window of
    /// the new one (RFC 6928 §2, and RFC 5681 §3.1: IW from the SMSS in
    /// use).
    pub fn set_mss(&mut self, mss: u32) {
        self.mss = mss.max(1);
        if self.episode == Episode::Unused {
            self.cwnd = initial_window(self.mss);
        }
    }

    /// The connection sets cwnd (during recovery): the window is in use.
    pub fn set_cwnd(&mut self, cwnd: u32) {
        if self.episode == Episode::Unused {
            self.episode = Episode::Open;
        }
        self.cwnd = cwnd;
    }

    /// Whether a reduction is in force (see [`Window::begin_reduction`]).
    pub fn is_reducing(&self) -> bool {
        self.episode == Episode::Reducing
    }

    /// New data was acknowledged outside recovery, `acked_bytes` of it,
    /// leaving `bytes_in_flight`: the reduction episode, if any, is over.
    /// Returns whether the window may grow: something was acknowledged
    /// and the window was in use ([`cwnd_in_use`], RFC 7661 §4.3).
    pub fn on_ack(&mut self, acked_bytes: u32, bytes_in_flight: u32) -> bool {
        self.episode = Episode::Open;
        acked_bytes != 0 && cwnd_in_use(self.cwnd, acked_bytes, bytes_in_flight)
    }

    /// [`slow_start`] on this window: returns the acknowledged bytes left
    /// for congestion avoidance once cwnd reached ssthresh.
    pub fn slow_start(&mut self, acked: u32, divisor: u32) -> u32 {
        slow_start(&mut self.cwnd, self.ssthresh, self.mss, acked, divisor)
    }

    /// A reduction (congestion event or timeout) begins or goes on.
    /// Returns whether it is the first of its episode, when the caller
    /// saves what an undo restores.
    pub fn begin_reduction(&mut self) -> bool {
        let first = self.episode != Episode::Reducing;
        self.episode = Episode::Reducing;
        first
    }

    /// Recovery ended: RFC 6582 §3.2 step 3, option (1), cwnd =
    /// min(ssthresh, max(FlightSize, SMSS) + SMSS). This deflates the
    /// window without allowing a burst when little data is in flight;
    /// option (2), cwnd = ssthresh, can send a line-rate burst of up to
    /// ssthresh. The reduction episode is over.
    pub fn exit_recovery(&mut self, bytes_in_flight: u32) {
        self.episode = Episode::Open;
        let settled = bytes_in_flight.max(self.mss).saturating_add(self.mss);
        self.cwnd = self.ssthresh.min(settled);
    }

    /// A spurious reduction is taken back: cwnd and ssthresh become at
    /// least `cwnd` and `ssthresh`, their values before it (the larger of
    /// the current and the saved value, as Linux's undo does, so growth
    /// since is not lost), and the episode is over.
    pub fn undo(&mut self, cwnd: u32, ssthresh: u32) {
        self.cwnd = self.cwnd.max(cwnd);
        self.ssthresh = self.ssthresh.max(ssthresh);
        self.episode = Episode::Open;
    }

    /// Sending resumes after an idle period: RFC 5681 §4.1, cwnd =
    /// min(cwnd, RW) with RW = min(IW, cwnd). Before that, ssthresh =
    /// max(ssthresh, 3/4 cwnd) (RFC 2861 §3, as Linux does), so slow start
    /// quickly returns to the window that worked.
    pub fn idle_restart(&mut self) {
        let iw = initial_window(self.mss);
        if self.cwnd > iw {
            let three_quarters = self.cwnd / 4 * 3 + self.cwnd % 4 * 3 / 4;
            self.ssthresh = self.ssthresh.max(three_quarters);
            self.cwnd = iw;
        }
    }
}
