//! Segment scripts: drive one connection with hand-built segments at given
//! times and look at exactly what comes out; and two connections wired
//! back to back through a seeded, impaired pipe.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use proto::conn::{CloseReason, Config, Connection, Event, Segment, SendReason, State};
use wire::tcp::{SackBlock, SackBlocks, TcpFlags, TcpOptions, TcpRepr, Timestamps};
use wire::{Instant, SeqNum};

/// Our port in the scripts.
pub const LOCAL: u16 = 40000;
/// The peer's port.
pub const REMOTE: u16 = 80;
/// Our ISS: the textbook's x.
pub const X: u32 = 1000;
/// The peer's ISS: the textbook's y.
pub const Y: u32 = 5000;

/// A configuration without the options, for scripts that count bytes
/// exactly: no timestamps (no PAWS, no option bytes), no window scaling,
/// no SACK, no delayed ACK.
pub fn plain() -> Config {
    Config {
        timestamps: false,
        window_scaling: false,
        sack: false,
        delayed_ack: None,
        recv_buffer: 64 * 1024,
        send_buffer: 64 * 1024,
        ..Config::default()
    }
}

/// A segment as the peer sends it.
#[derive(Debug, Clone, Default)]
pub struct Seg {
    pub seq: u32,
    pub ack: Option<u32>,
    pub flags: TcpFlags,
    pub window: u16,
    pub options: TcpOptions,
    pub data: Vec<u8>,
}

/// Starts a segment with sequence number `seq` and a 64 KiB - 1 window.
pub fn seg(seq: u32) -> Seg {
    Seg {
        seq,
        window: 65535,
        ..Seg::default()
    }
}

impl Seg {
    pub fn syn(mut self) -> Self {
        self.flags |= TcpFlags::SYN;
        self
    }
    pub fn fin(mut self) -> Self {
        self.flags |= TcpFlags::FIN;
        self
    }
    pub fn rst(mut self) -> Self {
        self.flags |= TcpFlags::RST;
        self
    }
    pub fn psh(mut self) -> Self {
        self.flags |= TcpFlags::PSH;
        self
    }
    pub fn ack(mut self, ack: u32) -> Self {
        self.flags |= TcpFlags::ACK;
        self.ack = Some(ack);
        self
    }
    pub fn win(mut self, window: u16) -> Self {
        self.window = window;
        self
    }
    pub fn data(mut self, data: &[u8]) -> Self {
        self.data = data.to_vec();
        self
    }
    pub fn mss(mut self, mss: u16) -> Self {
        self.options.mss = Some(mss);
        self
    }
    pub fn wscale(mut self, shift: u8) -> Self {
        self.options.window_scale = Some(shift);
        self
    }
    pub fn sack_ok(mut self) -> Self {
        self.options.sack_permitted = true;
        self
    }
    pub fn ts(mut self, tsval: u32, tsecr: u32) -> Self {
        self.options.timestamps = Some(Timestamps { tsval, tsecr });
        self
    }
    pub fn sack(mut self, blocks: &[(u32, u32)]) -> Self {
        let blocks: Vec<_> = blocks
            .iter()
            .map(|&(s, e)| SackBlock {
                start: SeqNum(s),
                end: SeqNum(e),
            })
            .collect();
        self.options.sack = SackBlocks::from_slice(&blocks).unwrap();
        self
    }

    pub fn repr(&self) -> TcpRepr<'_> {
        TcpRepr {
            src_port: REMOTE,
            dst_port: LOCAL,
            seq: SeqNum(self.seq),
            ack: SeqNum(self.ack.unwrap_or(0)),
            flags: self.flags,
            window: self.window,
            urgent: 0,
            options: self.options,
            payload: &self.data,
        }
    }
}

/// A segment the connection sent, with its data copied out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub options: TcpOptions,
    pub data: Vec<u8>,
    pub reason: SendReason,
}

impl Sent {
    pub fn is(&self, flags: TcpFlags) -> bool {
        self.flags == flags
    }
    pub fn len(&self) -> u32 {
        self.data.len() as u32
    }
}

/// One connection under test, with its own clock.
pub struct Tcb {
    pub conn: Connection,
    pub now: Instant,
    pub events: Vec<Event>,
}

/// The clock starts here, not at zero, so that "time zero" bugs show.
pub const T0: Instant = Instant::from_secs(100);

impl Tcb {
    /// An active open: SYN-SENT, the SYN not yet polled.
    pub fn client(config: Config) -> Tcb {
        Tcb::wrap(Connection::connect(config, LOCAL, REMOTE, SeqNum(X), T0))
    }

    /// A passive open: LISTEN.
    pub fn listener(config: Config) -> Tcb {
        Tcb::wrap(Connection::listen(config, LOCAL, SeqNum(X), T0))
    }

    fn wrap(conn: Connection) -> Tcb {
        let mut t = Tcb {
            conn,
            now: T0,
            events: Vec::new(),
        };
        t.drain_events();
        t
    }

    /// An established connection after a plain handshake (client side):
    /// SND.NXT = X+1, RCV.NXT = Y+1.
    pub fn established(config: Config) -> Tcb {
        let mut t = Tcb::client(config);
        let syn = t.out1();
        assert!(syn.is(TcpFlags::SYN));
        let mut synack = seg(Y).syn().ack(X + 1).mss(1460);
        if config.timestamps {
            synack = synack.ts(1, syn.options.timestamps.unwrap().tsval);
        }
        if config.window_scaling {
            synack = synack.wscale(7);
        }
        if config.sack {
            synack = synack.sack_ok();
        }
        t.input(synack);
        let ack = t.out1();
        assert!(ack.is(TcpFlags::ACK));
        assert_eq!(t.conn.state(), State::Established);
        t.drain_events();
        t.events.clear();
        t
    }

    /// A passive connection established by a SYN at Y and our SYN-ACK at X.
    pub fn established_passive(config: Config) -> Tcb {
        let mut t = Tcb::listener(config);
        t.input(seg(Y).syn().mss(1460));
        let synack = t.out1();
        assert!(synack.is(TcpFlags::SYN | TcpFlags::ACK));
        t.input(seg(Y + 1).ack(X + 1));
        assert_eq!(t.conn.state(), State::Established);
        t.drain_events();
        t.events.clear();
        t
    }

    pub fn input(&mut self, s: Seg) {
        self.conn.handle_segment(self.now, &s.repr());
        self.drain_events();
    }

    pub fn drain_events(&mut self) {
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
    }

    /// Everything the connection wants to send now.
    pub fn out(&mut self) -> Vec<Sent> {
        let mut v = Vec::new();
        while let Some(s) = poll_checked(&mut self.conn, self.now) {
            let (a, b) = self.conn.payload(&s);
            v.push(Sent {
                seq: s.seq.0,
                ack: s.ack.0,
                flags: s.flags,
                window: s.window,
                options: s.options,
                data: [a, b].concat(),
                reason: s.reason,
            });
            assert!(v.len() < 10_000, "runaway output");
        }
        self.drain_events();
        v
    }

    /// Exactly one segment.
    pub fn out1(&mut self) -> Sent {
        let mut v = self.out();
        assert_eq!(v.len(), 1, "expected one segment, got {v:#?}");
        v.pop().unwrap()
    }

    /// Nothing.
    pub fn none(&mut self) {
        let v = self.out();
        assert!(v.is_empty(), "expected no segment, got {v:#?}");
    }

    /// Moves the clock by `d`, firing every deadline passed on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.conn.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.conn.handle_timeout(self.now);
            self.drain_events();
        }
        self.now = end;
    }

    /// Moves the clock to the next deadline and fires it.
    pub fn fire(&mut self) -> Instant {
        let t = self.conn.poll_timeout().expect("a deadline");
        self.now = self.now.max(t);
        self.conn.handle_timeout(self.now);
        self.drain_events();
        t
    }

    /// The state changes seen so far, as (from, to), and forgets them.
    pub fn transitions(&mut self) -> Vec<(State, State)> {
        let v = self
            .events
            .iter()
            .filter_map(|e| match e {
                Event::StateChanged { from, to, .. } => Some((*from, *to)),
                _ => None,
            })
            .collect();
        self.events.clear();
        v
    }

    pub fn closed_with(&self) -> Option<CloseReason> {
        self.events.iter().find_map(|e| match e {
            Event::Closed(r) => Some(*r),
            _ => None,
        })
    }

    pub fn state(&self) -> State {
        self.conn.state()
    }

    pub fn read_all(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.conn.recv(&mut buf) {
            if n == 0 {
                break;
            }
            v.extend_from_slice(&buf[..n]);
        }
        v
    }
}

/// A small deterministic generator for the pipe and the property tests.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Impairments of the pipe between two connections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Impair {
    pub loss: f64,
    pub reorder: f64,
    pub dup: f64,
    /// One-way delay.
    pub delay: Duration,
}

/// A packet in flight: the serialized segment and when it lands.
struct InFlight {
    at: Instant,
    order: u64,
    to_b: bool,
    bytes: Vec<u8>,
}

/// Two connections, A (client) and B (server), wired through a pipe that
/// serializes every segment with its checksum and parses it back.
pub struct Pair {
    pub a: Connection,
    pub b: Connection,
    pub now: Instant,
    pub impair: Impair,
    pub rng: Rng,
    flight: Vec<InFlight>,
    order: u64,
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
    pub delivered: usize,
    pub dropped: usize,
    /// Drops the segments for which it returns true (`true` for A to B),
    /// before the random impairments: for scripted losses.
    pub filter: Option<Filter>,
}

/// A scripted loss for [`Pair`]: given the direction (`true` for A to B)
/// and the segment, whether to drop it.
pub type Filter = Box<dyn FnMut(bool, &Segment) -> bool>;

const ADDR_A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const ADDR_B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

impl Pair {
    /// A client connecting to a listener, not yet started.
    pub fn new(a_cfg: Config, b_cfg: Config, impair: Impair, seed: u64) -> Pair {
        let mut rng = Rng::new(seed);
        let iss_a = SeqNum(rng.next() as u32);
        let iss_b = SeqNum(rng.next() as u32);
        Pair {
            a: Connection::connect(a_cfg, LOCAL, REMOTE, iss_a, T0),
            b: Connection::listen(b_cfg, REMOTE, iss_b, T0),
            now: T0,
            impair,
            rng,
            flight: Vec::new(),
            order: 0,
            a_events: Vec::new(),
            b_events: Vec::new(),
            delivered: 0,
            dropped: 0,
            filter: None,
        }
    }

    fn transmit(&mut self) {
        let mut buf = vec![0u8; 70_000];
        for to_b in [true, false] {
            loop {
                let (conn, src, dst) = if to_b {
                    (&mut self.a, ADDR_A, ADDR_B)
                } else {
                    (&mut self.b, ADDR_B, ADDR_A)
                };
                let Some(seg) = poll_checked(conn, self.now) else {
                    break;
                };
                let n = conn.emit(&seg, &mut buf, &src, &dst).unwrap();
                let bytes = buf[..n].to_vec();
                if self.filter.as_mut().is_some_and(|f| f(to_b, &seg)) {
                    self.dropped += 1;
                    continue;
                }
                if self.rng.chance(self.impair.loss) {
                    self.dropped += 1;
                    continue;
                }
                let copies = if self.rng.chance(self.impair.dup) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let mut at = self.now + self.impair.delay;
                    if self.rng.chance(self.impair.reorder) {
                        at += Duration::from_micros(self.rng.below(3000) + 500);
                    }
                    self.order += 1;
                    self.flight.push(InFlight {
                        at,
                        order: self.order,
                        to_b,
                        bytes: bytes.clone(),
                    });
                }
            }
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
    }

    /// Runs until `done` holds or `limit` of simulated time passes.
    /// Returns whether `done` held.
    pub fn run_until(&mut self, limit: Duration, done: impl FnMut(&mut Pair) -> bool) -> bool {
        self.run_until_observed(limit, done, |_| {})
    }

    /// `run_until`, calling `observe` after every segment delivered and
    /// every round of timers (to follow the connections' state step by
    /// step).
    pub fn run_until_observed(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&mut Pair) -> bool,
        mut observe: impl FnMut(&Pair),
    ) -> bool {
        let end = self.now + limit;
        loop {
            self.transmit();
            if done(self) {
                return true;
            }
            // What `done` queued (a write, a close) goes out at this same
            // instant; otherwise a last FIN could be left unsent when
            // nothing else is in flight or timed.
            self.transmit();
            let next_packet = self.flight.iter().map(|p| (p.at, p.order)).min();
            let next_timer = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let next = match (next_packet, next_timer) {
                (Some((p, _)), Some(t)) => p.min(t),
                (Some((p, _)), None) => p,
                (None, Some(t)) => t,
                (None, None) => {
                    // Idle: `done` may still queue something (a close, a
                    // window update after a read). Send it and go on.
                    if done(self) {
                        return true;
                    }
                    self.transmit();
                    if self.idle() {
                        return false;
                    }
                    continue;
                }
            };
            if next > end {
                return false;
            }
            self.now = self.now.max(next);
            if let Some((at, order)) = next_packet.filter(|(at, _)| *at <= self.now) {
                let i = self
                    .flight
                    .iter()
                    .position(|p| p.at == at && p.order == order)
                    .unwrap();
                let p = self.flight.swap_remove(i);
                let (dst, src, dst_addr) = if p.to_b {
                    (&mut self.b, ADDR_A, ADDR_B)
                } else {
                    (&mut self.a, ADDR_B, ADDR_A)
                };
                let repr = TcpRepr::parse_bytes(&p.bytes, &src, &dst_addr, true).unwrap();
                dst.handle_segment(self.now, &repr);
                self.delivered += 1;
            } else {
                self.a.handle_timeout(self.now);
                self.b.handle_timeout(self.now);
            }
            observe(self);
        }
    }
}

/// Reads everything `conn` has into `out`; returns whether EOF was seen.
/// `poll_transmit`, holding the connection to its word: when
/// `may_send_more` says nothing is owed, the poll finds nothing (the
/// endpoint skips that poll). Every script and simulation here checks it.
pub fn poll_checked(conn: &mut Connection, now: Instant) -> Option<Segment> {
    let more = conn.may_send_more();
    let seg = conn.poll_transmit(now);
    assert!(
        more || seg.is_none(),
        "may_send_more said no, the poll sent {seg:?} in {:?}",
        conn.state()
    );
    seg
}

pub fn drain(conn: &mut Connection, out: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 16384];
    loop {
        match conn.recv(&mut buf) {
            Ok(0) => return true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return false,
        }
    }
}

/// Writes as much of `data[*at..]` as `conn` takes.
pub fn feed(conn: &mut Connection, data: &[u8], at: &mut usize) {
    while *at < data.len() {
        match conn.send(&data[*at..]) {
            Ok(n) => *at += n,
            Err(_) => break,
        }
    }
}

/// Keeps a queue of expected events for readable assertions.
pub fn states_of(events: &[Event]) -> Vec<State> {
    let mut v: VecDeque<State> = VecDeque::new();
    for e in events {
        if let Event::StateChanged { from, to, .. } = e {
            if v.is_empty() {
                v.push_back(*from);
            }
            v.push_back(*to);
        }
    }
    v.into()
}

// ---- Helpers for the data-transfer scripts (transfer_*, flow_*, options_*,
// loss_*, wrap, props). ----

impl Tcb {
    /// An active open with a chosen ISS: SYN-SENT, the SYN not yet polled.
    pub fn client_iss(config: Config, iss: u32) -> Tcb {
        Tcb::wrap(Connection::connect(config, LOCAL, REMOTE, SeqNum(iss), T0))
    }

    /// An active open with ISS `iss`, completed by the SYN-ACK that `peer`
    /// builds from our SYN, arriving `rtt` after the SYN left. The final
    /// ACK is consumed and the events forgotten.
    pub fn open(config: Config, iss: u32, rtt: Duration, peer: impl FnOnce(&Sent) -> Seg) -> Tcb {
        let mut t = Tcb::client_iss(config, iss);
        let syn = t.out1();
        assert!(syn.is(TcpFlags::SYN));
        t.now += rtt;
        t.input(peer(&syn));
        let ack = t.out1();
        assert!(ack.is(TcpFlags::ACK), "{ack:?}");
        assert_eq!(t.conn.state(), State::Established);
        t.events.clear();
        t
    }

    /// Moves the clock by `d` without firing anything.
    pub fn wait(&mut self, d: Duration) {
        self.now += d;
    }

    /// The deadline the connection reports, relative to now.
    pub fn next_in(&self) -> Option<Duration> {
        self.conn
            .poll_timeout()
            .map(|t| t.saturating_since(self.now))
    }
}

impl Sent {
    /// The TSval of a segment that carries timestamps.
    pub fn tsval(&self) -> u32 {
        self.options.timestamps.expect("timestamps").tsval
    }
    /// The TSecr of a segment that carries timestamps.
    pub fn tsecr(&self) -> u32 {
        self.options.timestamps.expect("timestamps").tsecr
    }
    /// The SACK blocks, as (start, end) numbers.
    pub fn sacks(&self) -> Vec<(u32, u32)> {
        self.options
            .sack
            .as_slice()
            .iter()
            .map(|b| (b.start.0, b.end.0))
            .collect()
    }
}

impl Pair {
    /// Like [`Pair::new`], with the two ISSs chosen (for sequence wrap).
    pub fn with_iss(
        a_cfg: Config,
        b_cfg: Config,
        impair: Impair,
        seed: u64,
        iss_a: u32,
        iss_b: u32,
    ) -> Pair {
        let mut p = Pair::new(a_cfg, b_cfg, impair, seed);
        p.a = Connection::connect(a_cfg, LOCAL, REMOTE, SeqNum(iss_a), T0);
        p.b = Connection::listen(b_cfg, REMOTE, SeqNum(iss_b), T0);
        p
    }
}

impl Pair {
    /// Nothing in flight and no timer running: only the application can
    /// make something happen.
    pub fn idle(&self) -> bool {
        self.flight.is_empty() && self.a.poll_timeout().is_none() && self.b.poll_timeout().is_none()
    }
}

// ---- Helpers for the loss recovery scripts (recovery_*, cubic). ----

/// For recovery scripts: SACK on, Nagle off, and no timestamps, window
/// scaling or delayed ACK (so that bytes count exactly).
pub fn sack_plain() -> Config {
    Config {
        sack: true,
        nodelay: true,
        ..plain()
    }
}

impl Tcb {
    /// Established with SACK agreed (and timestamps if `cfg.timestamps`,
    /// window scaling if `cfg.window_scaling`), the peer's SYN-ACK with MSS
    /// 1460 arriving `rtt` after our SYN: the first RTT sample.
    pub fn open_sack(cfg: Config, rtt: Duration) -> Tcb {
        Tcb::open(cfg, X, rtt, |syn| {
            let mut s = seg(Y).syn().ack(X + 1).mss(1460).sack_ok();
            if cfg.timestamps {
                s = s.ts(1, syn.tsval());
            }
            if cfg.window_scaling {
                s = s.wscale(7);
            }
            s
        })
    }
}
