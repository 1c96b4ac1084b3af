//! One TCP connection (the TCB) as a sans-IO state machine.
//!
//! A [`Connection`] is driven by four kinds of calls:
//! - the user calls of RFC 9293 §3.9: [`Connection::connect`] /
//!   [`Connection::listen`] (OPEN), [`send`](Connection::send),
//!   [`recv`](Connection::recv), [`shutdown`](Connection::shutdown) and
//!   [`close`](Connection::close) (CLOSE), [`abort`](Connection::abort),
//!   [`status`](Connection::status);
//! - [`handle_segment`](Connection::handle_segment): a segment arrived
//!   (or [`handle_unverified_segment`](Connection::handle_unverified_segment),
//!   with its checksum still to verify: `fused`);
//! - [`handle_timeout`](Connection::handle_timeout): the deadline from
//!   [`poll_timeout`](Connection::poll_timeout) passed;
//! - [`poll_transmit`](Connection::poll_transmit) and
//!   [`poll_event`](Connection::poll_event): what to send, what happened.
//!
//! Time is always passed in. Each concern has its file: `input` (segment
//! arrival, §3.10.7), `output` (what to send), `send` and `recv` (the two
//! sequence spaces), `options`, `rtt`, `congestion`, `timers`; loss
//! recovery in `recovery` (the state machine) with one file per
//! mechanism: `sent` (segments in flight), `sack` (the scoreboard),
//! `rack`, `tlp`, `prr`, `undo`, `pacing`.

mod ackfast;
#[cfg(test)]
mod budget;
pub mod config;
pub mod congestion;
pub mod event;
mod fused;
mod handoff;
mod icmp;
mod input;
mod lend;
mod options;
mod output;
pub mod pacing;
mod predict;
mod prr;
mod rack;
mod recovery;
mod recv;
mod recycle;
pub mod rtt;
mod sack;
mod send;
mod sent;
pub mod state;
mod stats;
mod timers;
mod tlp;
mod undo;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use wire::tcp::{TcpFlags, TcpOptions};
use wire::{Instant, SeqNum};

use congestion::{Algorithm, Congestion, Controller};
use options::Negotiated;
use recovery::{Loss, Recovery};
use recv::RecvState;
use rtt::RttEstimator;
use send::SendState;
use stats::Counters;
use timers::{Timer, Timers};

pub use config::{Config, Keepalive};
pub use event::{Cause, CloseReason, Event, SegmentInfo, SendReason, Verdict};
pub use fused::Checked;
pub use handoff::{SynInfo, TimeWaitInfo};
pub use icmp::SoftError;
pub use input::reset_for;
pub(crate) use lend::CallSpares;
pub use lend::CallStorage;
pub use output::Segment;
pub use pacing::Pacing;
pub use recovery::CaState;
pub(crate) use recycle::{LossStorage, RingPool};
pub use state::State;
pub use stats::Stats;

/// Errors of the user calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// Nothing to read yet, or no room to queue data: try again later.
    WouldBlock,
    /// The call does not fit the state (sending before opening, after
    /// shutdown, opening twice, …).
    InvalidState,
    /// The connection ended; the reason says how.
    Closed(CloseReason),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WouldBlock => f.write_str("operation would block"),
            Error::InvalidState => f.write_str("invalid connection state for this call"),
            Error::Closed(reason) => f.write_str(reason.describe()),
        }
    }
}

impl core::error::Error for Error {}

/// A snapshot of a connection, like RFC 9293 §3.9.1.7 STATUS or Linux's
/// `tcp_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The state.
    pub state: State,
    /// The local port.
    pub local_port: u16,
    /// The remote port.
    pub remote_port: u16,
    /// SND.UNA.
    pub snd_una: SeqNum,
    /// SND.NXT.
    pub snd_nxt: SeqNum,
    /// SND.WND (scaled).
    pub snd_wnd: u32,
    /// RCV.NXT.
    pub rcv_nxt: SeqNum,
    /// RCV.WND.
    pub rcv_wnd: u32,
    /// The effective send MSS.
    pub mss: u32,
    /// The congestion window, bytes.
    pub cwnd: u32,
    /// The slow-start threshold, bytes.
    pub ssthresh: u32,
    /// The smoothed RTT, once measured.
    pub srtt: Option<Duration>,
    /// The RTT variation.
    pub rttvar: Duration,
    /// The current retransmission timeout.
    pub rto: Duration,
    /// Bytes in flight: RFC 6675's `pipe` with SACK (outstanding, less
    /// what is SACKed or deemed lost, plus retransmissions in flight),
    /// else SND.NXT − SND.UNA.
    pub bytes_in_flight: u32,
    /// Bytes outstanding that the receiver SACKed.
    pub sacked_bytes: u32,
    /// Bytes outstanding deemed lost (resent or waiting to be).
    pub lost_bytes: u32,
    /// Bytes of retransmissions in flight.
    pub retrans_bytes: u32,
    /// The congestion control algorithm.
    pub congestion: Algorithm,
    /// Where loss recovery stands.
    pub ca_state: CaState,
    /// The lowest RTT measured.
    pub min_rtt: Option<Duration>,
    /// The pacing rate, bytes per second, when pacing.
    pub pacing_rate: Option<u64>,
    /// Whether reordering was seen (RACK widened its reordering window).
    pub reordering: bool,
    /// Bytes queued to send (unacknowledged included).
    pub send_queue: usize,
    /// Bytes readable.
    pub recv_queue: usize,
    /// Whether window scaling, SACK and timestamps are in use.
    pub wscale: Option<(u8, u8)>,
    /// SACK in use.
    pub sack: bool,
    /// Timestamps in use.
    pub timestamps: bool,
    /// Counters.
    pub stats: Stats,
}

/// What is owed to the peer besides data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pending {
    /// An ACK, now, and why.
    ack: Option<SendReason>,
    /// A RST answering a segment (RFC 9293 §3.10.7): seq, ack, flags.
    rst: Option<(SeqNum, SeqNum, TcpFlags)>,
    /// The port that RST goes to when it is not the remote port: a
    /// listener, or a closed listener, answers whoever sent the segment
    /// (RFC 9293 §3.10.7.1, §3.10.7.2).
    rst_port: Option<u16>,
    /// A window probe is due.
    probe: bool,
    /// A keep-alive probe is due.
    keepalive: bool,
}

/// Rate limits for the ACKs a peer can provoke at will: challenge ACKs
/// (RFC 5961 §7) and duplicate ACKs for data-less unacceptable segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ChallengeLimit {
    window_start: Instant,
    sent: u32,
    /// When the last duplicate ACK for a data-less unacceptable segment
    /// went out.
    last_oow_ack: Option<Instant>,
}

/// One TCP connection. See the [module documentation](self).
#[derive(Debug)]
pub struct Connection {
    /// Shared by the connections of an endpoint or listener; copied on
    /// write (`set_nodelay`).
    config: Arc<Config>,
    state: State,
    local_port: u16,
    remote_port: u16,
    /// Opened by a passive OPEN: a RST in SYN-RECEIVED returns to LISTEN
    /// (RFC 9293 §3.10.7.4).
    passive: bool,
    /// The application called `close`: it reads no more (RFC 1122
    /// §4.2.2.13).
    user_closed: bool,
    snd: SendState,
    rcv: RecvState,
    opts: Negotiated,
    timers: Timers,
    rtt: RttEstimator,
    /// A segment being timed without timestamps: (seq just past it, sent
    /// at). Karn's rule: never a retransmitted one.
    rtt_probe: Option<(SeqNum, Instant)>,
    cc: Congestion,
    recovery: Recovery,
    /// SACK-based recovery and pacing, allocated when data first flows
    /// (`recovery.rs`).
    loss: Option<Box<Loss>>,
    /// Storage for `loss` lent by the endpoint, or left by recovery state
    /// dropped when the connection ended (`recycle.rs`).
    loss_spare: Option<Box<Loss>>,
    pending: Pending,
    challenge: ChallengeLimit,
    /// Consecutive retransmission timeouts of the same data.
    retries: u32,
    /// When the oldest unacknowledged data was first sent, for the user
    /// timeout.
    unacked_since: Option<Instant>,
    /// Keep-alive probes sent without an answer.
    keepalive_probes: u32,
    /// The last time anything was received.
    last_recv: Instant,
    /// The last time data was sent, for restart after idle (RFC 5681 §4.1).
    last_send: Instant,
    events: VecDeque<Event>,
    /// It became established and its owner has not been told yet (see
    /// [`take_newly_established`](Self::take_newly_established)): kept
    /// apart from the events, which its owner may have turned off.
    newly_established: bool,
    close_reason: Option<CloseReason>,
    readable_signalled: bool,
    writable_wanted: bool,
    /// The last ICMP error reported for the path (RFC 1122 §4.2.3.9).
    soft_error: Option<SoftError>,
    stats: Counters,
}

impl Connection {
    /// A connection in CLOSED that has not opened yet: an endpoint stores
    /// it, then opens it where it lies ([`open_active`], [`open_passive`]).
    /// An endpoint builds one only in a slot never used before, and
    /// [`renew`](Self::renew)s the connection a freed slot kept. (Not
    /// inlined: returned into the endpoint's entry, the connection, about
    /// a kilobyte, is copied once on its way into its slot; inlined, the
    /// compiler built it aside and copied it twice.)
    ///
    /// [`open_active`]: Self::open_active
    /// [`open_passive`]: Self::open_passive
    #[inline(never)]
    pub(crate) fn new(
        config: Arc<Config>,
        local_port: u16,
        remote_port: u16,
        iss: SeqNum,
        now: Instant,
    ) -> Self {
        let mut rtt = RttEstimator::new(config.initial_rto, config.min_rto, config.max_rto);
        rtt.reset_backoff();
        let mut snd = SendState::new(iss, config.send_buffer);
        snd.mss = u32::from(config.default_peer_mss);
        let cc = Congestion::new(config.congestion, snd.mss);
        let ts_offset = Connection::ts_offset_for(iss);
        Connection {
            opts: Negotiated::new(&config, ts_offset),
            rcv: RecvState::new(config.recv_buffer),
            config,
            state: State::Closed,
            local_port,
            remote_port,
            passive: false,
            user_closed: false,
            snd,
            timers: Timers::default(),
            rtt,
            rtt_probe: None,
            cc,
            recovery: Recovery::new(iss),
            loss: None,
            loss_spare: None,
            pending: Pending::default(),
            challenge: ChallengeLimit::default(),
            retries: 0,
            unacked_since: None,
            keepalive_probes: 0,
            last_recv: now,
            last_send: now,
            events: VecDeque::new(),
            newly_established: false,
            close_reason: None,
            readable_signalled: false,
            writable_wanted: false,
            soft_error: None,
            stats: Counters::default(),
        }
    }

    /// Makes this connection what [`new`](Self::new) with these arguments
    /// returns, in place: an endpoint renews the connection a freed slot
    /// kept, where building a new one would build it aside and copy it
    /// (about a kilobyte) into the slot. Every field is set (the pattern
    /// below names them all, so a field added to `Connection` must be
    /// added here); what the old occupant still owned is dropped as its
    /// field is overwritten.
    pub(crate) fn renew(
        &mut self,
        config: Arc<Config>,
        local_port: u16,
        remote_port: u16,
        iss: SeqNum,
        now: Instant,
    ) {
        let Connection {
            config: this_config,
            state,
            local_port: this_local_port,
            remote_port: this_remote_port,
            passive,
            user_closed,
            snd,
            rcv,
            opts,
            timers,
            rtt,
            rtt_probe,
            cc,
            recovery,
            loss,
            loss_spare,
            pending,
            challenge,
            retries,
            unacked_since,
            keepalive_probes,
            last_recv,
            last_send,
            events,
            newly_established,
            close_reason,
            readable_signalled,
            writable_wanted,
            soft_error,
            stats,
        } = self;
        // As in `new`.
        *rtt = RttEstimator::new(config.initial_rto, config.min_rto, config.max_rto);
        rtt.reset_backoff();
        *snd = SendState::new(iss, config.send_buffer);
        snd.mss = u32::from(config.default_peer_mss);
        *cc = Congestion::new(config.congestion, snd.mss);
        *opts = Negotiated::new(&config, Connection::ts_offset_for(iss));
        *rcv = RecvState::new(config.recv_buffer);
        *this_config = config;
        *state = State::Closed;
        *this_local_port = local_port;
        *this_remote_port = remote_port;
        *passive = false;
        *user_closed = false;
        *timers = Timers::default();
        *rtt_probe = None;
        *recovery = Recovery::new(iss);
        *loss = None;
        *loss_spare = None;
        *pending = Pending::default();
        *challenge = ChallengeLimit::default();
        *retries = 0;
        *unacked_since = None;
        *keepalive_probes = 0;
        *last_recv = now;
        *last_send = now;
        *events = VecDeque::new();
        *newly_established = false;
        *close_reason = None;
        *readable_signalled = false;
        *writable_wanted = false;
        *soft_error = None;
        *stats = Counters::default();
    }

    /// The offset of the timestamp clock of a connection whose ISS is
    /// `iss`. It is derived from the ISS, which the endpoint already chose
    /// unpredictably (RFC 6528), so no extra secret is needed for RFC 7323
    /// §5.4's per-connection offset; SYN cookies use it to send the
    /// timestamps the recreated connection will expect.
    pub fn ts_offset_for(iss: SeqNum) -> u32 {
        iss.0.rotate_left(16) ^ 0x5bd1_e995
    }

    /// Replaces the offset of the timestamp clock (RFC 7323 §5.4) of a
    /// connection that has sent nothing yet. An endpoint gives the
    /// connections it opens an offset keyed by the 4-tuple, so that
    /// successive connections of one 4-tuple send increasing timestamps
    /// and a peer holding the 4-tuple in TIME-WAIT can reopen it at once
    /// (RFC 6191 §2).
    pub fn set_ts_offset(&mut self, offset: u32) {
        self.opts.ts_offset = offset;
    }

    /// Active OPEN (RFC 9293 §3.10.1): a connection in SYN-SENT whose SYN,
    /// with sequence number `iss`, goes out at the next `poll_transmit`.
    pub fn connect(
        config: impl Into<Arc<Config>>,
        local_port: u16,
        remote_port: u16,
        iss: SeqNum,
        now: Instant,
    ) -> Connection {
        let mut no_storage: VecDeque<Event> = VecDeque::new();
        Connection::connect_lent(
            config.into(),
            local_port,
            remote_port,
            iss,
            now,
            &mut no_storage,
        )
    }

    /// [`connect`](Self::connect), its first events written into the
    /// storage of `spare` (see [`lend_event_storage`]) rather than into a
    /// new allocation.
    ///
    /// [`lend_event_storage`]: Self::lend_event_storage
    pub(crate) fn connect_lent(
        config: Arc<Config>,
        local_port: u16,
        remote_port: u16,
        iss: SeqNum,
        now: Instant,
        spare: &mut impl CallStorage,
    ) -> Connection {
        let mut c = Connection::new(config, local_port, remote_port, iss, now);
        c.open_active(spare);
        c
    }

    /// [`listen`](Self::listen), with event storage lent as in
    /// [`connect_lent`](Self::connect_lent).
    pub(crate) fn listen_lent(
        config: Arc<Config>,
        local_port: u16,
        iss: SeqNum,
        now: Instant,
        spare: &mut impl CallStorage,
    ) -> Connection {
        let mut c = Connection::new(config, local_port, 0, iss, now);
        c.open_passive(spare);
        c
    }

    /// Active OPEN of a [`new`](Self::new) connection: SYN-SENT, its first
    /// events written into the storage of `spare` (an endpoint opens
    /// connections by the thousand).
    pub(crate) fn open_active(&mut self, spare: &mut impl CallStorage) {
        self.lend_event_storage(spare);
        self.set_state(State::SynSent, Cause::ActiveOpen);
    }

    /// Passive OPEN of a [`new`](Self::new) connection: LISTEN, as
    /// [`open_active`](Self::open_active) lends storage.
    pub(crate) fn open_passive(&mut self, spare: &mut impl CallStorage) {
        self.lend_event_storage(spare);
        self.passive = true;
        self.set_state(State::Listen, Cause::PassiveOpen);
    }

    /// Passive OPEN (RFC 9293 §3.10.1): a connection in LISTEN on
    /// `local_port` that will answer the first SYN with a SYN-ACK whose
    /// sequence number is `iss`.
    pub fn listen(
        config: impl Into<Arc<Config>>,
        local_port: u16,
        iss: SeqNum,
        now: Instant,
    ) -> Connection {
        let mut no_storage: VecDeque<Event> = VecDeque::new();
        Connection::listen_lent(config.into(), local_port, iss, now, &mut no_storage)
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The local port.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// The remote port (0 while listening).
    pub fn remote_port(&self) -> u16 {
        self.remote_port
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Why the connection ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    /// Whether the connection is over (CLOSED after having been open) and
    /// its handle can be dropped.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// SEND (RFC 9293 §3.10.2): queues as much of `data` as the send
    /// buffer takes. Data queued before the handshake completes is sent
    /// after it.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        if let Some(reason) = self.close_reason {
            return Err(Error::Closed(reason));
        }
        if !self.state.can_send() || self.snd.fin_queued {
            return Err(Error::InvalidState);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let n = self.snd.buf.write(data);
        if n == 0 {
            self.writable_wanted = true;
            return Err(Error::WouldBlock);
        }
        if n < data.len() {
            self.writable_wanted = true;
        }
        Ok(n)
    }

    /// Room in the send buffer.
    pub fn send_capacity(&self) -> usize {
        if self.state.can_send() && !self.snd.fin_queued {
            self.snd.buf.free()
        } else {
            0
        }
    }

    /// Bytes queued and not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.snd.buf.len()
    }

    /// RECEIVE (RFC 9293 §3.10.3): reads in-order data. `Ok(0)` (with a
    /// non-empty `out`) means the peer closed its side and everything was
    /// read; `WouldBlock` means no data yet.
    pub fn recv(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        let n = self.rcv.read(out);
        if n > 0 {
            self.readable_signalled = false;
            if self.rcv.window_update_due(self.rcv_mss()) && self.state.accepts_data() {
                self.pending.ack.get_or_insert(SendReason::WindowUpdate);
            }
            return Ok(n);
        }
        if out.is_empty() {
            return Ok(0);
        }
        if self.rcv.fin_done {
            return Ok(0);
        }
        match self.close_reason {
            Some(CloseReason::Normal) => Ok(0),
            Some(reason) => Err(Error::Closed(reason)),
            None if self.state == State::Listen || self.state == State::Closed => {
                Err(Error::InvalidState)
            }
            None => Err(Error::WouldBlock),
        }
    }

    /// Bytes ready to read.
    pub fn recv_queue(&self) -> usize {
        self.rcv.buf.len()
    }

    /// Heap bytes held by the send and receive buffers: zero for an idle
    /// connection, growing with the data queued, in flight or held
    /// (DESIGN.md: "memory grows with data in flight").
    pub fn buffer_memory(&self) -> usize {
        self.snd.buf.allocated() + self.rcv.buf.allocated()
    }

    /// Whether the peer's FIN has been received and all data before it
    /// read.
    pub fn at_eof(&self) -> bool {
        self.rcv.fin_done && self.rcv.buf.is_empty()
    }

    /// Closes the sending side (half-close, RFC 9293 §3.10.4 CLOSE): a FIN
    /// follows the queued data, and data keeps arriving until the peer
    /// closes too.
    pub fn shutdown(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        match self.state {
            State::Listen | State::SynSent => {
                // Nothing was synchronized: delete the TCB.
                self.finish(CloseReason::Normal, Cause::Close);
                Ok(())
            }
            State::SynReceived => {
                // RFC 9293 §3.10.4: "queue for processing after entering
                // ESTABLISHED state". Our SYN may still need resending, so
                // the FIN waits for its ACK (input.rs moves on to
                // FIN-WAIT-1 then).
                self.snd.fin_queued = true;
                Ok(())
            }
            State::Established => {
                self.snd.fin_queued = true;
                self.set_state(State::FinWait1, Cause::Close);
                Ok(())
            }
            State::CloseWait => {
                self.snd.fin_queued = true;
                self.set_state(State::LastAck, Cause::Close);
                Ok(())
            }
            State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait => Ok(()),
            State::Closed => match self.close_reason {
                Some(reason) if reason != CloseReason::Normal => Err(Error::Closed(reason)),
                _ => Ok(()),
            },
        }
    }

    /// CLOSE (RFC 9293 §3.10.4) of both directions: like `shutdown`, and
    /// the application reads no more. Unread data, or data that arrives
    /// later, resets the connection (RFC 1122 §4.2.2.13).
    pub fn close(&mut self, now: Instant) {
        if !self.rcv.buf.is_empty() && self.state.is_synchronized() {
            self.abort_with(CloseReason::Aborted, Cause::DataAfterClose);
            return;
        }
        self.user_closed = true;
        let _ = self.shutdown(now);
        if self.state == State::FinWait2 {
            self.arm_fin_wait_2(now);
        }
    }

    /// ABORT (RFC 9293 §3.10.5): a RST goes to the peer in the states
    /// that have one, queues are dropped, the connection is CLOSED.
    pub fn abort(&mut self) {
        self.abort_with(CloseReason::Aborted, Cause::Abort);
    }

    fn abort_with(&mut self, reason: CloseReason, cause: Cause) {
        match self.state {
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait => {
                // <SEQ=SND.NXT><CTL=RST>
                self.pending.rst = Some((self.snd.nxt, SeqNum(0), TcpFlags::RST));
            }
            _ => {}
        }
        self.finish(reason, cause);
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&mut self, nodelay: bool) {
        if self.config.nodelay != nodelay {
            Arc::make_mut(&mut self.config).nodelay = nodelay;
        }
    }

    /// STATUS (RFC 9293 §3.10.6).
    pub fn status(&self) -> Status {
        Status {
            state: self.state,
            local_port: self.local_port,
            remote_port: self.remote_port,
            snd_una: self.snd.una,
            snd_nxt: self.snd.nxt,
            snd_wnd: self.snd.wnd,
            rcv_nxt: self.rcv.nxt,
            rcv_wnd: self.rcv.window(),
            mss: self.snd.mss,
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            rto: self.rtt.rto(),
            bytes_in_flight: self.pipe(),
            sacked_bytes: self.loss_counts().0,
            lost_bytes: self.loss_counts().1,
            retrans_bytes: self.loss_counts().2,
            congestion: self.cc.algorithm(),
            ca_state: self.ca_state(),
            min_rtt: self.rtt.min_rtt(),
            pacing_rate: self.pacing_rate_now(),
            reordering: self.reordering_seen(),
            send_queue: self.snd.buf.len(),
            recv_queue: self.rcv.buf.len(),
            wscale: (self.opts.snd_wscale > 0 || self.opts.rcv_wscale > 0)
                .then_some((self.opts.snd_wscale, self.opts.rcv_wscale)),
            sack: self.opts.sack,
            timestamps: self.opts.timestamps,
            stats: self.stats.to_stats(),
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_none() && self.events.capacity() > 0 {
            // Events come in bursts; an idle connection keeps no queue.
            self.events = VecDeque::new();
        }
        event
    }

    /// Lends the event queue the storage of `spare` when it holds none of
    /// its own. An owner that drains every connection's events after each
    /// call (an endpoint) lends one buffer before the call and takes it
    /// back with [`poll_event_into`](Self::poll_event_into), so bursts of
    /// events reuse one allocation instead of allocating per burst, and an
    /// idle connection still keeps no queue. Does nothing unless both
    /// queues are empty, nor for a connection that queues no events
    /// ([`Config::events`] and `trace_segments` off). (An endpoint lends
    /// more the same way: see [`CallStorage`].)
    pub fn lend_event_storage<S: CallStorage + ?Sized>(&mut self, spare: &mut S) {
        spare.lend_to(self);
    }

    /// [`poll_event`](Self::poll_event), except that the emptied queue
    /// gives its storage to `spare` when `spare` has none (instead of
    /// freeing it).
    pub fn poll_event_into(&mut self, spare: &mut VecDeque<Event>) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_none() && self.events.capacity() > 0 {
            if spare.capacity() == 0 {
                core::mem::swap(&mut self.events, spare);
            } else {
                self.events = VecDeque::new();
            }
        }
        event
    }

    /// Hands every queued event to `f`, oldest first, then gives the
    /// emptied queue's storage to `spare` as
    /// [`poll_event_into`](Self::poll_event_into) does. One pass over the
    /// queue, for an owner that takes all events after each call (an
    /// endpoint) and would otherwise pop them one by one.
    #[inline]
    pub(crate) fn drain_events_into(&mut self, spare: &mut VecDeque<Event>, f: impl FnMut(Event)) {
        if self.events.capacity() == 0 {
            return;
        }
        // Storage lent for a call that reported nothing (most segments)
        // goes straight back, without setting up a drain of nothing.
        if !self.events.is_empty() {
            self.events.drain(..).for_each(f);
        }
        if spare.capacity() == 0 {
            core::mem::swap(&mut self.events, spare);
        } else {
            self.events = VecDeque::new();
        }
    }

    /// Gives back the storage lent for a call and not kept (see
    /// `recycle.rs`): recovery state, only looked at when there is a
    /// spare (most calls have none), and ring storage.
    #[inline]
    pub(crate) fn reclaim_call_storage(
        &mut self,
        loss_pool: &mut alloc::vec::Vec<LossStorage>,
        rings: &mut RingPool,
    ) {
        if self.loss_spare.is_some() {
            self.reclaim_loss_storage(loss_pool);
        }
        self.reclaim_ring_storage(rings);
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The MSS we announced, the unit of "full-sized segment" on receive.
    fn rcv_mss(&self) -> u32 {
        u32::from(self.config.mss)
    }

    fn set_state(&mut self, to: State, cause: Cause) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.report(Event::StateChanged { from, to, cause });
        if to == State::Established {
            self.newly_established = true;
            if matches!(from, State::SynSent | State::SynReceived) {
                self.report(Event::Connected);
                self.signal_writable();
            }
        }
    }

    /// Queues `event` for the owner, if it wants events
    /// ([`Config::events`]).
    #[inline]
    fn report(&mut self, event: Event) {
        if self.config.events {
            self.events.push_back(event);
        }
    }

    /// Whether the connection may queue events: reported ones
    /// ([`Config::events`]) or segment traces.
    #[inline]
    pub(crate) fn reports_events(&self) -> bool {
        self.config.events || self.config.trace_segments
    }

    /// Whether the connection became established since the last call,
    /// once: an endpoint queues a passive connection for `accept` then,
    /// whether or not events are on.
    #[inline]
    pub(crate) fn take_newly_established(&mut self) -> bool {
        core::mem::take(&mut self.newly_established)
    }

    /// Established, and the endpoint has heard so: nothing about the
    /// connection needs the endpoint's bookkeeping at once (it may owe
    /// its sync, `Entry::may_owe_sync`).
    #[inline]
    pub(crate) fn steady(&self) -> bool {
        self.state == State::Established && !self.newly_established
    }

    /// Enters CLOSED for good, reporting why.
    fn finish(&mut self, reason: CloseReason, cause: Cause) {
        self.timers.clear();
        self.pending.ack = None;
        self.pending.probe = false;
        self.pending.keepalive = false;
        // Retired rather than released: small storage stays for the
        // endpoint to pass on (`recycle.rs`; `sync` takes it at once).
        self.snd.buf.retire();
        if reason != CloseReason::Normal {
            // An error discards what was not read (RFC 9293 §3.10.7.4:
            // "all segment queues should be flushed").
            self.rcv.buf.retire();
        }
        self.rcv.ooo.clear();
        self.retire_loss();
        self.set_state(State::Closed, cause);
        if self.close_reason.is_none() {
            self.close_reason = Some(reason);
            self.report(Event::Closed(reason));
            // Readers and writers waiting must learn of it.
            self.report(Event::Readable);
        }
    }

    fn signal_readable(&mut self) {
        if !self.readable_signalled {
            self.readable_signalled = true;
            self.report(Event::Readable);
        }
    }

    fn signal_writable(&mut self) {
        self.writable_wanted = false;
        self.report(Event::Writable);
    }

    fn arm_fin_wait_2(&mut self, now: Instant) {
        if let Some(t) = self.config.fin_wait_2_timeout {
            self.timers.set(Timer::FinWait2, Some(now + t));
        }
    }

    fn enter_time_wait(&mut self, now: Instant, cause: Cause) {
        self.timers.clear();
        self.retire_loss();
        self.timers
            .set(Timer::TimeWait, Some(now + 2 * self.config.msl));
        self.set_state(State::TimeWait, cause);
    }

    /// The options we put on a non-SYN segment.
    fn segment_options(&self, now: Instant, with_sack: bool) -> TcpOptions {
        let mut o = TcpOptions {
            timestamps: self.opts.ts_option(now),
            ..TcpOptions::default()
        };
        let dsack = self.config.dsack && self.rcv.dsack.is_some();
        if with_sack && self.opts.sack && (!self.rcv.ooo.is_empty() || dsack) {
            // RFC 2018 §3: three blocks fit beside timestamps, four without.
            let max = if self.opts.timestamps { 3 } else { 4 };
            o.sack = if dsack {
                self.rcv.sack_blocks_with_dsack(max)
            } else {
                self.rcv.sack_blocks(max)
            };
        }
        o
    }

    /// Sets the effective send MSS from the peer's MSS and ours
    /// (RFC 9293 §3.7.1), leaving room for per-segment options.
    fn settle_mss(&mut self) {
        let mss = u32::from(self.opts.peer_mss.min(self.config.mss))
            .saturating_sub(self.opts.per_segment_option_len())
            .max(32);
        self.snd.mss = mss;
        self.cc.set_mss(mss);
    }

    /// Sends a challenge ACK unless the rate limit is spent (RFC 5961 §7).
    fn challenge_ack(&mut self, now: Instant) {
        if now.saturating_since(self.challenge.window_start) >= Duration::from_secs(1) {
            self.challenge.window_start = now;
            self.challenge.sent = 0;
        }
        if self.challenge.sent < self.config.challenge_ack_limit {
            self.challenge.sent += 1;
            self.stats.challenge_acks += 1;
            self.pending.ack = Some(SendReason::ChallengeAck);
        }
    }
}
