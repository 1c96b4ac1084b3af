//! Per-connection settings, with the defaults a modern Linux uses where the
//! RFCs leave a choice.

use core::time::Duration;

use super::congestion::Algorithm;
use super::pacing::Pacing;
use super::tlp::WC_DEL_ACK;

/// Keep-alive settings (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe (RFC 1122: at least two hours by
    /// default).
    pub idle: Duration,
    /// Time between unanswered probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is declared dead.
    pub probes: u32,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            idle: Duration::from_secs(7200),
            interval: Duration::from_secs(75),
            probes: 9,
        }
    }
}

/// Settings of one connection. `Config::default()` is what synack uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The MSS this side announces: the largest segment payload it can
    /// receive, from the MTU (1460 for IPv4 over a 1500-byte MTU).
    pub mss: u16,
    /// The MSS assumed for the peer when its SYN carries no MSS option
    /// (RFC 9293 §3.7.1, MUST-15: 536 for IPv4, 1220 for IPv6).
    pub default_peer_mss: u16,
    /// The largest amount of data queued for sending (acknowledged bytes
    /// are freed). Memory is taken only as data is queued.
    pub send_buffer: usize,
    /// The receive buffer: the largest window advertised. Memory is taken
    /// only as data arrives.
    pub recv_buffer: usize,
    /// Offer window scaling (RFC 7323 §2).
    pub window_scaling: bool,
    /// Offer selective acknowledgments (RFC 2018).
    pub sack: bool,
    /// Offer timestamps (RFC 7323 §3).
    pub timestamps: bool,
    /// Disable Nagle's algorithm (RFC 9293 §3.7.4).
    pub nodelay: bool,
    /// Delay for acknowledging in-order data, or `None` to acknowledge
    /// every segment at once (RFC 9293 §3.8.6.3: at most 500 ms).
    pub delayed_ack: Option<Duration>,
    /// The RTO before any RTT sample (RFC 6298 §2.1: 1 s).
    pub initial_rto: Duration,
    /// The lower bound of the RTO (RFC 6298 §2.4: 1 s).
    pub min_rto: Duration,
    /// The upper bound of the RTO, backoff included.
    pub max_rto: Duration,
    /// SYN (or SYN-ACK) retransmissions before the open fails
    /// (RFC 1122 §4.2.3.5 R2 for SYN; Linux tcp_syn_retries = 6).
    pub syn_retries: u32,
    /// Consecutive retransmissions of data before the connection is
    /// declared timed out (RFC 1122 §4.2.3.5 R2; Linux tcp_retries2 = 15).
    pub max_retransmissions: u32,
    /// If set, the longest time data may stay unacknowledged before the
    /// connection times out (RFC 5482 user timeout), whatever the count.
    pub user_timeout: Option<Duration>,
    /// Maximum segment lifetime; TIME-WAIT lasts 2·MSL (RFC 9293 §3.4.2).
    pub msl: Duration,
    /// How long a connection that the application has fully closed may
    /// wait in FIN-WAIT-2 for the peer's FIN (Linux tcp_fin_timeout).
    pub fin_wait_2_timeout: Option<Duration>,
    /// Keep-alive probing, off unless set.
    pub keepalive: Option<Keepalive>,
    /// The congestion controller (CUBIC by default, RFC 9438).
    pub congestion: Algorithm,
    /// With SACK: detect losses by time with RACK (RFC 8985); `false`
    /// counts duplicate ACKs and SACKed segments instead (RFC 6675's
    /// DupThresh).
    pub rack: bool,
    /// With SACK: tail loss probes (RFC 8985 §7).
    pub tlp: bool,
    /// WCDelAckT (RFC 8985 §7.2): how long the peer may delay the ACK of
    /// a lone segment, added to the probe timeout when only one segment
    /// is in flight. 200 ms by default, the RFC's recommendation (Linux
    /// adds its 200 ms minimum RTO there too). Where every peer is known
    /// to acknowledge sooner (synack's delayed-ACK timer is 40 ms; Linux's
    /// is 40 ms to 200 ms), a smaller allowance recovers a lost last
    /// segment sooner: in `synack bench tail-loss`, 2.9 RTT with 40 ms
    /// instead of 6.1 RTT with 200 ms. Too small a one sends needless
    /// probes.
    pub tlp_delayed_ack_allowance: Duration,
    /// Report duplicate segments with D-SACK (RFC 2883).
    pub dsack: bool,
    /// With SACK: F-RTO after a retransmission timeout (RFC 5682), to
    /// detect and undo spurious timeouts.
    pub frto: bool,
    /// Pace the sending rate over the RTT; `Auto` leaves it to the
    /// congestion controller.
    pub pacing: Pacing,
    /// At most this many challenge ACKs a second (RFC 5961 §7).
    pub challenge_ack_limit: u32,
    /// A data-less segment outside the window (or failing PAWS) draws a
    /// duplicate ACK at most once in this interval, so that two ends with
    /// out-of-step state cannot keep answering each other's ACKs forever
    /// (an "ACK war"; Linux's tcp_invalid_ratelimit, 500 ms). Segments
    /// with data are always answered: their sender needs RCV.NXT.
    pub invalid_ack_interval: Duration,
    /// Report every segment sent and received as an event (for tracers
    /// and the demo); off by default because it costs time per segment.
    pub trace_segments: bool,
    /// Report what happens as events (`poll_event`): state changes,
    /// readiness, the end of the connection. On by default. An owner that
    /// polls instead (accepts until there is none, reads until
    /// `WouldBlock`, looks at the status) turns them off and saves their
    /// cost, a score of events per connection; the connection behaves
    /// and sends exactly the same. (Segment traces, `trace_segments`,
    /// are reported either way.)
    pub events: bool,
    /// Take an ACK that finds nothing of loss recovery going on (see
    /// `conn/ackfast.rs`) by a shorter path that leaves the connection in
    /// exactly the state the general one would. On by default; turning it
    /// off changes nothing but the instructions spent, and exists so that
    /// tests can check that claim by running both paths side by side.
    #[doc(hidden)]
    pub ack_fast_path: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mss: 1460,
            default_peer_mss: 536,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            window_scaling: true,
            sack: true,
            timestamps: true,
            nodelay: false,
            delayed_ack: Some(Duration::from_millis(40)),
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(120),
            syn_retries: 6,
            max_retransmissions: 15,
            user_timeout: None,
            msl: Duration::from_secs(30),
            fin_wait_2_timeout: Some(Duration::from_secs(60)),
            keepalive: None,
            congestion: Algorithm::default(),
            rack: true,
            tlp: true,
            tlp_delayed_ack_allowance: WC_DEL_ACK,
            dsack: true,
            frto: true,
            pacing: Pacing::Auto,
            challenge_ack_limit: 10,
            invalid_ack_interval: Duration::from_millis(500),
            trace_segments: false,
            events: true,
            ack_fast_path: true,
        }
    }
}

impl Config {
    /// The window scale shift this side offers: the smallest shift that
    /// lets the receive buffer be advertised in 16 bits, at most 14
    /// (RFC 7323 §2.3).
    pub fn rcv_wscale(&self) -> u8 {
        let mut shift = 0u8;
        while shift < 14 && (self.recv_buffer >> shift) > 0xffff {
            shift += 1;
        }
        shift
    }
}
