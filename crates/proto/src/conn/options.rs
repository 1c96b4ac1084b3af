//! Options agreed in the handshake (MSS, window scale, SACK, timestamps)
//! and the timestamp rules that follow from them: RTT measurement and PAWS
//! (RFC 7323 §3–§5).

use core::time::Duration;

use wire::tcp::{TcpOptions, TcpRepr, Timestamps};
use wire::{Instant, SeqNum};

use super::config::Config;

/// PAWS gives up on a TS.Recent older than this (RFC 7323 §5.5: 24 days).
const PAWS_IDLE_LIMIT: Duration = Duration::from_secs(24 * 24 * 3600);

/// What both sides agreed on in the SYNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// The peer's MSS (its option, or the default when absent).
    pub peer_mss: u16,
    /// The shift applied to windows the peer sends (its SYN's option).
    pub snd_wscale: u8,
    /// The shift applied to windows we send (our SYN's option).
    pub rcv_wscale: u8,
    /// SACK permitted in both SYNs (RFC 2018 §2).
    pub sack: bool,
    /// Timestamps in both SYNs (RFC 7323 §3.2).
    pub timestamps: bool,
    /// TS.Recent: the timestamp to echo (RFC 7323 §4.3).
    pub ts_recent: u32,
    /// When TS.Recent was last updated, for the PAWS idle limit.
    pub ts_recent_age: Instant,
    /// A per-connection random offset added to our timestamp clock
    /// (RFC 7323 §5.4), chosen by the endpoint.
    pub ts_offset: u32,
    /// Whether we offer window scaling in our SYN.
    pub offered_wscale: bool,
    /// Whether the peer's SYN carried a window scale option.
    pub peer_wscale: bool,
}

impl Negotiated {
    /// Before the handshake: what we will offer.
    pub fn new(config: &Config, ts_offset: u32) -> Negotiated {
        Negotiated {
            peer_mss: config.default_peer_mss,
            snd_wscale: 0,
            rcv_wscale: if config.window_scaling {
                config.rcv_wscale()
            } else {
                0
            },
            sack: config.sack,
            timestamps: config.timestamps,
            ts_recent: 0,
            ts_recent_age: Instant::ZERO,
            ts_offset,
            offered_wscale: config.window_scaling,
            peer_wscale: false,
        }
    }

    /// Settles the options from the peer's SYN (or SYN-ACK). Each option is
    /// in force only when both SYNs carried it.
    pub fn on_peer_syn(&mut self, config: &Config, opts: &TcpOptions, now: Instant) {
        if let Some(mss) = opts.mss {
            // RFC 9293 §3.7.1: an MSS of zero is nonsense; keep a floor so
            // that segmentation always progresses (Linux uses 88 bytes).
            self.peer_mss = mss.max(64);
        }
        self.peer_wscale = opts.window_scale.is_some();
        match (config.window_scaling, opts.window_scale) {
            (true, Some(shift)) => {
                // RFC 7323 §2.3: a shift above 14 is used as 14.
                self.snd_wscale = shift.min(14);
            }
            _ => {
                // RFC 7323 §2.2: scaling is on only if both SYNs carry it.
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
        self.sack = config.sack && opts.sack_permitted;
        match opts.timestamps {
            Some(ts) if config.timestamps => {
                self.timestamps = true;
                self.ts_recent = ts.tsval;
                self.ts_recent_age = now;
            }
            _ => self.timestamps = false,
        }
    }

    /// Our timestamp clock: milliseconds plus the connection's offset
    /// (RFC 7323 §5.4 allows any clock from 1 ms to 1 s per tick).
    pub fn ts_now(&self, now: Instant) -> u32 {
        (now.millis() as u32).wrapping_add(self.ts_offset)
    }

    /// The timestamps option for an outgoing non-SYN segment.
    pub fn ts_option(&self, now: Instant) -> Option<Timestamps> {
        self.timestamps.then(|| Timestamps {
            tsval: self.ts_now(now),
            tsecr: self.ts_recent,
        })
    }

    /// RFC 7323 §5.3 R1: whether a segment fails PAWS (its TSval is older
    /// than TS.Recent). A TS.Recent idle for more than 24 days is not
    /// trusted (§5.5).
    pub fn paws_rejects(&mut self, ts: Option<Timestamps>, now: Instant) -> bool {
        let Some(ts) = ts else { return false };
        if !self.timestamps {
            return false;
        }
        if (ts.tsval.wrapping_sub(self.ts_recent) as i32) >= 0 {
            return false;
        }
        if now.saturating_since(self.ts_recent_age) > PAWS_IDLE_LIMIT {
            // The old value is meaningless now: adopt the new one.
            self.ts_recent = ts.tsval;
            self.ts_recent_age = now;
            return false;
        }
        true
    }

    /// Whether `tsval` is older than TS.Recent (RFC 7323 §5.3 R1: what
    /// PAWS looks at before it asks whether TS.Recent is too old to trust).
    pub fn ts_older_than_recent(&self, tsval: u32) -> bool {
        (tsval.wrapping_sub(self.ts_recent) as i32) < 0
    }

    /// RFC 7323 §4.3 (2): TS.Recent follows the TSval of a segment that
    /// covers Last.ACK.sent and is not older than TS.Recent.
    pub fn update_ts_recent(
        &mut self,
        ts: Option<Timestamps>,
        seg_seq: SeqNum,
        last_ack_sent: SeqNum,
        now: Instant,
    ) {
        let Some(ts) = ts else { return };
        if self.timestamps
            && seg_seq <= last_ack_sent
            && (ts.tsval.wrapping_sub(self.ts_recent) as i32) >= 0
        {
            self.ts_recent = ts.tsval;
            self.ts_recent_age = now;
        }
    }

    /// The timestamp `seg` echoes (TSecr), if timestamps are in use on
    /// this connection (RFC 7323 §3.2: otherwise an echo means nothing).
    #[inline]
    pub fn echo_of(&self, seg: &TcpRepr<'_>) -> Option<u32> {
        seg.options
            .timestamps
            .filter(|_| self.timestamps)
            .map(|t| t.tsecr)
    }

    /// An RTT sample from the echoed timestamp of an ACK that acknowledges
    /// new data (RFC 7323 §4.2), in nanoseconds. Echoes from the future
    /// are ignored.
    pub fn rtt_from_echo(&self, ts: Option<Timestamps>, now: Instant) -> Option<u64> {
        let ts = ts?;
        if !self.timestamps || ts.tsecr == 0 {
            return None;
        }
        let ms = self.ts_now(now).wrapping_sub(ts.tsecr) as i32;
        // More than a minute, or negative, is not a real RTT.
        (0..60_000).contains(&ms).then(|| ms as u64 * 1_000_000)
    }

    /// Option bytes on every non-SYN segment (RFC 9293 §3.7.1: the
    /// effective send MSS leaves room for them).
    pub fn per_segment_option_len(&self) -> u32 {
        if self.timestamps {
            12
        } else {
            0
        }
    }
}
