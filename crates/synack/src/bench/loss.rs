//! `synack bench loss`: loss recovery and congestion control, synack
//! beside smoltcp 0.14 (its CUBIC, with the `rivals` feature), over the
//! same simulated paths.
//!
//! The path: 100 Mbit/s, 50 ms round trip. The sender's uplink is the
//! bottleneck — rate, drop-tail queue, and the row's impairment (random or
//! bursty loss, reordering) on the data direction only; the three other
//! links only add delay (12.5 ms each). Both stacks get 4 MiB socket
//! buffers each way, so the congestion controller, not the window, limits
//! the sending. Time is simulated: a 30 s transfer costs about a second.
//!
//! Each row prints goodput (application bytes delivered, Mbit/s) and, as
//! extras, the fraction of the link rate, the model figure for random
//! loss (RFC 9438 §5: CUBIC's average window, or the Reno-friendly one
//! where larger, at the row's loss rate), spurious retransmissions,
//! completion times and Jain's fairness index.
//!
//! With `SYNACK_LOSS_DEBUG` set in the environment, each transfer also
//! prints the stacks' own counters (recoveries, timeouts, undos, probes,
//! retransmissions by kind, D-SACKs) on stderr.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use proto::conn::Config;
use proto::endpoint::{ConnHandle, Endpoint, EndpointConfig, ListenerHandle};
use sim::{Host, HostId, LinkSpec, Network};
use wire::Instant;

use super::{Extra, Row};

/// The bottleneck rate, bit/s.
pub const RATE: u64 = 100_000_000;
/// The round-trip time without queueing.
pub const RTT: Duration = Duration::from_millis(50);
/// Full-sized IP packets.
const MTU: u64 = 1500;
/// The bandwidth-delay product in full-sized packets (416).
pub const BDP_PACKETS: usize = (RATE / 8 * RTT.as_millis() as u64 / 1000 / MTU) as usize;
/// Socket buffers, both stacks, both directions.
pub const BUFFER: usize = 4 << 20;
/// The response of the tail-loss row.
const RESPONSE: usize = 100 * 1024;
/// Its request.
const REQUEST: usize = 100;
/// The server's port.
pub(crate) const PORT: u16 = 80;
/// The data sender (or the server).
const SENDER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The data receiver (or the client).
const RECEIVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// What the application on a host does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Opens `flows` connections to the peer and writes into them without
    /// end.
    BulkSender {
        /// Connections.
        flows: usize,
    },
    /// Accepts connections and reads everything.
    Sink,
    /// Connects, writes a request, reads the response.
    Client,
    /// Accepts, reads the request, writes the response.
    Server,
}

/// What the application measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppStats {
    /// Bytes read, per connection (in the order they were opened or
    /// accepted).
    pub received: Vec<u64>,
    /// When the client had read the whole response.
    pub done_at: Option<Instant>,
}

/// The socket calls the application needs, over either stack.
pub(crate) trait Sockets {
    /// A connection.
    type Conn: Copy;
    /// Opens connection number `flow` to the peer.
    fn connect(&mut self, now: Instant, flow: usize) -> Option<Self::Conn>;
    /// A connection the peer opened, if one is new.
    fn accept(&mut self) -> Option<Self::Conn>;
    /// Writes what fits; 0 when nothing does (or not yet connected).
    fn send(&mut self, c: Self::Conn, data: &[u8]) -> usize;
    /// Reads what is there; 0 when nothing is.
    fn recv(&mut self, c: Self::Conn, buf: &mut [u8]) -> usize;
}

/// The application of a host: the same for both stacks.
pub(crate) struct App<C> {
    role: Role,
    started: bool,
    pub(crate) conns: Vec<(C, u64)>,
    /// What it measured.
    pub stats: AppStats,
    chunk: Vec<u8>,
    buf: Vec<u8>,
}

impl<C: Copy> App<C> {
    /// An application playing `role`.
    pub fn new(role: Role) -> App<C> {
        App {
            role,
            started: false,
            conns: Vec::new(),
            stats: AppStats::default(),
            chunk: vec![0x5a; 64 * 1024],
            buf: vec![0; 64 * 1024],
        }
    }

    /// Whether it has run at all.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Runs once: after every packet and timeout of its host.
    pub fn step(&mut self, s: &mut impl Sockets<Conn = C>, now: Instant) {
        if !self.started {
            self.started = true;
            let flows = match self.role {
                Role::BulkSender { flows } => flows,
                Role::Client => 1,
                _ => 0,
            };
            for i in 0..flows {
                if let Some(c) = s.connect(now, i) {
                    self.conns.push((c, 0));
                    self.stats.received.push(0);
                }
            }
        }
        while let Some(c) = s.accept() {
            self.conns.push((c, 0));
            self.stats.received.push(0);
        }
        for (i, (c, sent)) in self.conns.iter_mut().enumerate() {
            // Read whatever arrived.
            loop {
                let n = s.recv(*c, &mut self.buf);
                if n == 0 {
                    break;
                }
                self.stats.received[i] += n as u64;
            }
            let (goal, may_write) = match self.role {
                Role::BulkSender { .. } => (u64::MAX, true),
                Role::Sink => (0, false),
                Role::Client => (REQUEST as u64, true),
                Role::Server => (RESPONSE as u64, self.stats.received[i] >= REQUEST as u64),
            };
            while may_write && *sent < goal {
                let want = (goal - *sent).min(self.chunk.len() as u64) as usize;
                let n = s.send(*c, &self.chunk[..want]);
                if n == 0 {
                    break;
                }
                *sent += n as u64;
            }
            if self.role == Role::Client
                && self.stats.done_at.is_none()
                && self.stats.received[i] >= RESPONSE as u64
            {
                self.stats.done_at = Some(now);
            }
        }
    }
}

/// Data segments a host sent, and how many of them resent data already
/// sent (a sequence range at or below the highest sent before), from the
/// packets themselves: the same count for every stack.
#[derive(Debug, Clone, Default)]
pub(crate) struct TxCount {
    /// Segments carrying data (or a FIN).
    pub data_segments: u64,
    /// Those that were retransmissions.
    pub retransmissions: u64,
    /// Per connection (by port pair): the highest sequence number sent,
    /// plus one.
    flows: Vec<((u16, u16), u32)>,
}

impl TxCount {
    /// Counts an IPv4 packet the host sent.
    pub fn count(&mut self, packet: &[u8]) {
        let Some(t) = parse_tcp(packet) else { return };
        let len = t.payload + u32::from(t.fin);
        if len == 0 || t.syn {
            return;
        }
        self.data_segments += 1;
        let end = t.seq.wrapping_add(len);
        match self.flows.iter_mut().find(|(k, _)| *k == t.ports) {
            Some((_, max)) => {
                if (max.wrapping_sub(t.seq) as i32) > 0 {
                    self.retransmissions += 1;
                }
                if (end.wrapping_sub(*max) as i32) > 0 {
                    *max = end;
                }
            }
            None => self.flows.push((t.ports, end)),
        }
    }
}

/// Data segments that arrived at a host although every byte of them had
/// arrived before: spurious retransmissions, seen by the receiver,
/// whatever the stack.
#[derive(Debug, Clone, Default)]
pub(crate) struct RxDup {
    /// Duplicate data segments.
    pub duplicates: u64,
    /// Per connection (by port pair): the first sequence number seen and
    /// the ranges received, as offsets from it (sorted, disjoint).
    flows: Vec<RxFlow>,
}

/// A connection's port pair, its first data sequence number, and the
/// ranges received as offsets from it.
type RxFlow = ((u16, u16), u32, Vec<(u64, u64)>);

impl RxDup {
    /// Looks at an IPv4 packet the host received.
    pub fn count(&mut self, packet: &[u8]) {
        let Some(t) = parse_tcp(packet) else { return };
        if t.payload == 0 {
            return;
        }
        let seq = t.seq.wrapping_add(u32::from(t.syn));
        let i = match self.flows.iter().position(|(k, _, _)| *k == t.ports) {
            Some(i) => i,
            None => {
                self.flows.push((t.ports, seq, Vec::new()));
                self.flows.len() - 1
            }
        };
        let (_, base, ranges) = &mut self.flows[i];
        // Offsets within 2 GiB of the first byte (the bench moves less).
        let s = u64::from(seq.wrapping_sub(*base));
        let e = s + u64::from(t.payload);
        let at = ranges.partition_point(|&(_, re)| re < s);
        if ranges.get(at).is_some_and(|&(rs, re)| rs <= s && e <= re) {
            self.duplicates += 1;
            return;
        }
        // Merge [s, e) with the ranges it touches.
        let mut j = at;
        let (mut ns, mut ne) = (s, e);
        while let Some(&(rs, re)) = ranges.get(j) {
            if rs > ne {
                break;
            }
            ns = ns.min(rs);
            ne = ne.max(re);
            j += 1;
        }
        ranges.splice(at..j, [(ns, ne)]);
    }
}

/// The TCP header fields the bench looks at.
struct TcpView {
    ports: (u16, u16),
    seq: u32,
    payload: u32,
    syn: bool,
    fin: bool,
}

fn parse_tcp(p: &[u8]) -> Option<TcpView> {
    if p.len() < 20 || p[0] >> 4 != 4 || p[9] != 6 {
        return None;
    }
    let ihl = usize::from(p[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]])).min(p.len());
    let t = p.get(ihl..total)?;
    if t.len() < 20 {
        return None;
    }
    let doff = usize::from(t[12] >> 4) * 4;
    Some(TcpView {
        ports: (
            u16::from_be_bytes([t[0], t[1]]),
            u16::from_be_bytes([t[2], t[3]]),
        ),
        seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
        payload: t.len().saturating_sub(doff) as u32,
        syn: t[13] & 0x02 != 0,
        fin: t[13] & 0x01 != 0,
    })
}

/// A host of the loss bench: a stack with an [`App`] on it.
pub(crate) trait LossHost: Host + Send + Sized + 'static {
    /// A host at `addr` whose application plays `role` towards `peer`.
    fn create(addr: Ipv4Addr, peer: Ipv4Addr, role: Role, seed: u64) -> Self;
    /// What its application measured.
    fn stats(&self) -> &AppStats;
    /// What it sent.
    fn tx(&self) -> &TxCount;
    /// The duplicates it received.
    fn rx_dup(&self) -> &RxDup;
    /// The stack's own counters of its first connection, for the notes.
    fn detail(&self) -> String {
        String::new()
    }
}

/// synack's endpoint as a simulator host.
pub(crate) struct SynackHost {
    ep: Endpoint,
    listener: Option<ListenerHandle>,
    peer: SocketAddr,
    app: App<ConnHandle>,
    tx: TxCount,
    rx: RxDup,
}

struct EpSockets<'a> {
    ep: &'a mut Endpoint,
    listener: Option<ListenerHandle>,
    peer: SocketAddr,
}

impl Sockets for EpSockets<'_> {
    type Conn = ConnHandle;
    fn connect(&mut self, now: Instant, _flow: usize) -> Option<ConnHandle> {
        self.ep.connect(now, self.peer, None).ok()
    }
    fn accept(&mut self) -> Option<ConnHandle> {
        self.ep.accept(self.listener?)
    }
    fn send(&mut self, c: ConnHandle, data: &[u8]) -> usize {
        self.ep.send(c, data).unwrap_or(0)
    }
    fn recv(&mut self, c: ConnHandle, buf: &mut [u8]) -> usize {
        self.ep.recv(c, buf).unwrap_or(0)
    }
}

/// The connection settings of both synack ends: the defaults (CUBIC,
/// SACK, RACK-TLP, …) with the bench's buffers.
pub fn synack_config() -> Config {
    Config {
        send_buffer: BUFFER,
        recv_buffer: BUFFER,
        ..Config::default()
    }
}

impl SynackHost {
    fn step(&mut self, now: Instant) {
        while self.ep.poll_event().is_some() {}
        let mut s = EpSockets {
            ep: &mut self.ep,
            listener: self.listener,
            peer: self.peer,
        };
        self.app.step(&mut s, now);
        while self.ep.poll_event().is_some() {}
    }
}

impl LossHost for SynackHost {
    fn create(addr: Ipv4Addr, peer: Ipv4Addr, role: Role, seed: u64) -> SynackHost {
        let config = EndpointConfig {
            conn: synack_config(),
            seed,
            ..EndpointConfig::default()
        };
        let mut ep = Endpoint::new(config, &[IpAddr::V4(addr)]);
        let listener = matches!(role, Role::Sink | Role::Server)
            .then(|| ep.listen(SocketAddr::new(IpAddr::V4(addr), PORT), 64).ok())
            .flatten();
        SynackHost {
            ep,
            listener,
            peer: SocketAddr::new(IpAddr::V4(peer), PORT),
            app: App::new(role),
            tx: TxCount::default(),
            rx: RxDup::default(),
        }
    }
    fn stats(&self) -> &AppStats {
        &self.app.stats
    }
    fn tx(&self) -> &TxCount {
        &self.tx
    }
    fn rx_dup(&self) -> &RxDup {
        &self.rx
    }
    fn detail(&self) -> String {
        let Some(st) = self.app.conns.first().and_then(|&(c, _)| self.ep.status(c)) else {
            return String::new();
        };
        let s = st.stats;
        format!(
            "recoveries {} timeouts {} undone {} probes {} retrans fast/rack/rto {}/{}/{} \
             dsacks in/out {}/{} max_cwnd {} srtt {:?} unacceptable {}",
            s.recoveries,
            s.timeouts,
            s.spurious_undos,
            s.loss_probes,
            s.fast_retransmits,
            s.rack_retransmits,
            s.rto_retransmits,
            s.dsacks_in,
            s.dsacks_out,
            s.max_cwnd,
            st.srtt,
            s.unacceptable_in
        )
    }
}

impl Host for SynackHost {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        self.rx.count(packet);
        self.ep.handle_packet(now, packet);
        self.step(now);
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if !self.app.started() {
            self.step(now);
        }
        let n = self.ep.poll_transmit(now, buf)?;
        self.tx.count(&buf[..n]);
        Some(n)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.ep.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.step(now);
    }
}

/// One path of the bench.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Path {
    /// Packet loss rate on the data direction.
    pub loss: f64,
    /// Gilbert–Elliott burstiness (see `sim::LinkSpec::burst`).
    pub burst: Option<f64>,
    /// Reordering probability on the data direction.
    pub reorder: f64,
    /// The bottleneck queue, packets.
    pub queue: usize,
    /// Random extra delay on the return (ACK) path: a link never
    /// reorders, but flows sharing a drop-tail queue lose the
    /// deterministic phase lock of a jitter-free simulation.
    pub ack_jitter: Duration,
}

impl Path {
    /// A clean path with a queue of one BDP.
    pub const CLEAN: Path = Path {
        loss: 0.0,
        burst: None,
        reorder: 0.0,
        queue: BDP_PACKETS,
        ack_jitter: Duration::ZERO,
    };

    fn bottleneck(&self) -> LinkSpec {
        LinkSpec {
            rate: Some(RATE),
            delay: RTT / 4,
            queue: self.queue,
            loss: self.loss,
            burst: self.burst,
            reorder: self.reorder,
            ..LinkSpec::PERFECT
        }
    }

    /// The path as one link each way, for a real-time bridge: (data
    /// direction — the bottleneck and the hop after it; return
    /// direction — two plain hops).
    fn folded(&self) -> (LinkSpec, LinkSpec) {
        let data = LinkSpec {
            delay: RTT / 2,
            ..self.bottleneck()
        };
        let acks = LinkSpec {
            delay: RTT / 2,
            jitter: self.ack_jitter,
            ..LinkSpec::PERFECT
        };
        (data, acks)
    }

    /// The loss event rate (a burst counts once).
    fn event_rate(&self) -> f64 {
        match self.burst {
            Some(b) => self.loss * (1.0 - b),
            None => self.loss,
        }
    }
}

/// Two hosts: `sender` (whose uplink is the bottleneck) and `receiver`.
fn network<H: LossHost>(
    path: &Path,
    seed: u64,
    sender: Role,
    receiver: Role,
) -> (Network<H>, HostId, HostId) {
    let mut net = Network::new(seed);
    let plain = LinkSpec {
        delay: RTT / 4,
        ..LinkSpec::PERFECT
    };
    // The side that listens first, so that the first SYN finds it.
    let listening_first = matches!(sender, Role::Server);
    let ack_path = LinkSpec {
        jitter: path.ack_jitter,
        ..plain.clone()
    };
    let add = |net: &mut Network<H>, addr, peer, role, up: LinkSpec| {
        let h = H::create(
            addr,
            peer,
            role,
            net.derive_seed(u64::from(u32::from(addr))),
        );
        net.add_host(h, &[IpAddr::V4(addr)], up, plain.clone())
    };
    if listening_first {
        let s = add(&mut net, SENDER, RECEIVER, sender, path.bottleneck());
        let r = add(&mut net, RECEIVER, SENDER, receiver, ack_path);
        (net, s, r)
    } else {
        let r = add(&mut net, RECEIVER, SENDER, receiver, ack_path);
        let s = add(&mut net, SENDER, RECEIVER, sender, path.bottleneck());
        (net, s, r)
    }
}

/// What a bulk run measured.
#[derive(Debug, Clone)]
pub(crate) struct Bulk {
    /// Goodput of each flow, Mbit/s.
    pub flows: Vec<f64>,
    /// Data segments sent, and how many were retransmissions.
    pub segments: u64,
    /// Retransmitted segments.
    pub retransmissions: u64,
    /// Segments the receiver got twice (spurious retransmissions).
    pub duplicates: u64,
    /// Jain's index, when this is a mean of runs.
    jain: f64,
}

impl Bulk {
    /// The mean of several runs (Jain's index: the mean of each run's).
    fn mean(runs: impl Iterator<Item = Bulk>) -> Bulk {
        let runs: Vec<Bulk> = runs.collect();
        let n = runs.len().max(1) as f64;
        let flows = runs.first().map_or(0, |r| r.flows.len());
        Bulk {
            flows: (0..flows)
                .map(|i| runs.iter().map(|r| r.flows[i]).sum::<f64>() / n)
                .collect(),
            segments: runs.iter().map(|r| r.segments).sum(),
            retransmissions: runs.iter().map(|r| r.retransmissions).sum(),
            duplicates: runs.iter().map(|r| r.duplicates).sum(),
            jain: runs.iter().map(Bulk::jain).sum::<f64>() / n,
        }
    }

    /// The total goodput, Mbit/s.
    pub fn total(&self) -> f64 {
        self.flows.iter().sum()
    }

    /// Jain's fairness index of the flows: (Σx)² / (n Σx²).
    pub fn jain(&self) -> f64 {
        if self.jain > 0.0 {
            return self.jain;
        }
        let n = self.flows.len() as f64;
        let sum: f64 = self.flows.iter().sum();
        let sq: f64 = self.flows.iter().map(|x| x * x).sum();
        if sq == 0.0 {
            0.0
        } else {
            sum * sum / (n * sq)
        }
    }

    /// Retransmissions as a percentage of data segments.
    pub fn retrans_pct(&self) -> f64 {
        100.0 * self.retransmissions as f64 / self.segments.max(1) as f64
    }

    /// Spurious retransmissions (data the receiver already had) as a
    /// percentage of data segments.
    pub fn spurious_pct(&self) -> f64 {
        100.0 * self.duplicates as f64 / self.segments.max(1) as f64
    }
}

/// `flows` connections moving data for `time` of simulated time over
/// `path`, counted from the first SYN.
pub(crate) fn bulk<H: LossHost>(path: &Path, flows: usize, time: Duration, seed: u64) -> Bulk {
    let (mut net, s, r) = network::<H>(path, seed, Role::BulkSender { flows }, Role::Sink);
    net.run_until(Instant::ZERO + time);
    let secs = time.as_secs_f64();
    let mut got: Vec<f64> = net
        .host(r)
        .stats()
        .received
        .iter()
        .map(|&b| b as f64 * 8.0 / secs / 1e6)
        .collect();
    got.resize(flows.max(got.len()), 0.0);
    if std::env::var_os("SYNACK_LOSS_DEBUG").is_some() {
        eprintln!(
            "    {}: {} | receiver: {} | dups {}",
            std::any::type_name::<H>(),
            net.host(s).detail(),
            net.host(r).detail(),
            net.host(r).rx_dup().duplicates
        );
    }
    let tx = net.host(s).tx();
    Bulk {
        flows: got,
        segments: tx.data_segments,
        retransmissions: tx.retransmissions,
        duplicates: net.host(r).rx_dup().duplicates,
        jain: 0.0,
    }
}

/// A 100 KiB response over `path`: the time from the client's SYN to its
/// last byte read; with `drop_tail`, the response's last data segment is
/// lost once on the way.
pub(crate) fn response_time<H: LossHost>(
    path: &Path,
    drop_tail: bool,
    seed: u64,
) -> Option<Duration> {
    let (mut net, s, c) = network::<H>(path, seed, Role::Server, Role::Client);
    if drop_tail {
        net.drop_next(net.uplink(s), response_tail());
    }
    let limit = Instant::from_secs(60);
    net.run_while(|n| n.host(c).stats().done_at.is_none() && n.now() < limit);
    let done = net.host(c).stats().done_at?;
    Some(done.saturating_since(Instant::ZERO))
}

/// Matches the server's data segment that ends the response, the first
/// time only: its retransmission goes through (the matcher learns the
/// response's first sequence number from the server's SYN-ACK).
fn response_tail() -> impl FnMut(&[u8]) -> bool + Send + 'static {
    let mut isn: Option<u32> = None;
    let mut armed = true;
    move |p| {
        let Some(t) = parse_tcp(p) else { return false };
        if t.syn {
            isn = Some(t.seq.wrapping_add(1));
            return false;
        }
        let end = t.seq.wrapping_add(t.payload);
        let hit =
            armed && t.payload > 0 && isn.is_some_and(|i| end.wrapping_sub(i) as usize == RESPONSE);
        armed &= !hit;
        hit
    }
}

/// The same exchange between two Linux kernels over the same path folded
/// into one real-time link each way (see `kernel_path`): the median of
/// `runs` exchanges. `None` without root, or when the tail was not lost
/// as it should have been.
fn kernel_response(path: &Path, drop_tail: bool, runs: u64) -> Option<Duration> {
    if !super::tun::available() {
        return None;
    }
    let mut times = Vec::new();
    for seed in 0..runs {
        let (data, acks) = path.folded();
        let kp = super::kernel_path::KernelPath {
            data,
            acks,
            data_filter: drop_tail.then(|| Box::new(response_tail()) as super::kernel_path::Filter),
            seed,
        };
        match kp.exchange(REQUEST, RESPONSE) {
            Ok(x) if x.filtered == u64::from(drop_tail) => times.push(x.time),
            Ok(x) => {
                eprintln!("tail-loss (kernel): {} packets filtered", x.filtered);
                return None;
            }
            Err(e) => {
                eprintln!("tail-loss (kernel): {e}");
                return None;
            }
        }
    }
    times.sort();
    times.get(times.len() / 2).copied()
}

/// Goodput of one kernel flow over `path` for `time`, Mbit/s, the mean
/// over `seeds` (see `kernel_path`). `None` without root. The runs go at
/// once, each on its own pair of namespaces: in real time a run mostly
/// waits, and 30 s each in turn would make the row minutes long.
fn kernel_bulk(path: &Path, time: Duration, seeds: &[u64]) -> Option<f64> {
    if !super::tun::available() {
        return None;
    }
    let runs: Vec<_> = seeds
        .iter()
        .map(|&seed| {
            let (data, acks) = path.folded();
            let kp = super::kernel_path::KernelPath {
                data,
                acks,
                data_filter: None,
                seed,
            };
            std::thread::spawn(move || kp.bulk(time))
        })
        .collect();
    let mut total = 0.0;
    for run in runs {
        let result = run
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("panicked")));
        match result {
            Ok(bytes) => total += bytes as f64 * 8.0 / time.as_secs_f64() / 1e6,
            Err(e) => {
                eprintln!("loss rows (kernel): {e}");
                return None;
            }
        }
    }
    Some(total / seeds.len() as f64)
}

/// RFC 9438 §5.1: CUBIC's average window at loss event rate `p` and
/// round trip `rtt` — `((C (3 + β)) / (4 (1 − β)))^(1/4) · RTT^(3/4) /
/// p^(3/4)` segments — or the Reno-friendly average `√(3 / (2p))` where
/// that is larger; as goodput, Mbit/s, at most the link's.
pub fn model_mbps(p: f64, rtt: Duration, mss: f64) -> f64 {
    let (c, beta) = (0.4f64, 0.7f64);
    let rtt_s = rtt.as_secs_f64();
    let cubic =
        ((c * (3.0 + beta)) / (4.0 * (1.0 - beta))).powf(0.25) * rtt_s.powf(0.75) / p.powf(0.75);
    let reno = (3.0 / (2.0 * p)).sqrt();
    let window = cubic.max(reno);
    let link = RATE as f64 / 1e6 * mss / MTU as f64;
    (window * mss * 8.0 / rtt_s / 1e6).min(link)
}

/// The path and shape of each row.
fn spec(name: &str) -> Option<(Path, usize)> {
    let clean = Path::CLEAN;
    Some(match name {
        "loss-0" => (clean, 1),
        "loss-0.1" => (
            Path {
                loss: 0.001,
                ..clean
            },
            1,
        ),
        "loss-1" => (
            Path {
                loss: 0.01,
                ..clean
            },
            1,
        ),
        "loss-3" => (
            Path {
                loss: 0.03,
                ..clean
            },
            1,
        ),
        // 1 % of packets, in bursts of 2 on average. (The simulator's
        // Gilbert–Elliott chain moves per packet, not per unit of time:
        // with longer bursts a sender in timeout backoff, one packet per
        // RTO, stays in the lossy state for minutes, and the row measures
        // that artifact rather than recovery.)
        "burst" => (
            Path {
                loss: 0.01,
                burst: Some(0.5),
                ..clean
            },
            1,
        ),
        // 2 % of packets held back 3.1 ms (a quarter of the link's delay)
        // and overtaken; nothing lost.
        "reorder-2" => (
            Path {
                reorder: 0.02,
                ..clean
            },
            1,
        ),
        "bloat" => (
            Path {
                queue: 10 * BDP_PACKETS,
                ..clean
            },
            1,
        ),
        "shallow" => (
            Path {
                queue: BDP_PACKETS / 5,
                ..clean
            },
            1,
        ),
        "fairness" => (
            Path {
                ack_jitter: Duration::from_millis(2),
                ..clean
            },
            2,
        ),
        "tail-loss" => (clean, 1),
        _ => return None,
    })
}

/// Exchanges per kernel figure of the tail-loss row (real time: each
/// takes a few hundred milliseconds, and the scheduler adds jitter).
const KERNEL_RUNS: u64 = 3;

/// The payload of a full segment for a stack: synack uses timestamps
/// (1448 bytes), smoltcp does not (1460).
const SYNACK_MSS: f64 = 1448.0;

/// Runs row `name` with bulk transfers of `time`; with `rivals`,
/// smoltcp's and the kernel's figures beside synack's.
pub fn row(name: &str, time: Duration, rivals: bool) -> Option<Row> {
    let (path, flows) = spec(name)?;
    let seed = 7;
    let link = RATE as f64 / 1e6;
    if name == "tail-loss" {
        let rtts = |d: Duration| d.as_secs_f64() / RTT.as_secs_f64();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let lossy = response_time::<SynackHost>(&path, true, seed);
        let clean = response_time::<SynackHost>(&path, false, seed);
        // Each rival: (name, with the loss, without it).
        let figures = [
            (
                "smoltcp",
                rivals.then(|| rival_response(&path, true, seed)).flatten(),
                rivals.then(|| rival_response(&path, false, seed)).flatten(),
            ),
            (
                "kernel",
                rivals
                    .then(|| kernel_response(&path, true, KERNEL_RUNS))
                    .flatten(),
                rivals
                    .then(|| kernel_response(&path, false, KERNEL_RUNS))
                    .flatten(),
            ),
        ];
        let goodput = |d: Duration| RESPONSE as f64 * 8.0 / d.as_secs_f64() / 1e6;
        // How long the lost tail cost: completion with the loss less
        // completion without it.
        let recovery = |l: Option<Duration>, c: Option<Duration>| Some(rtts(l?) - rtts(c?));
        let extra = |key, f: &dyn Fn(Option<Duration>, Option<Duration>) -> Option<f64>| Extra {
            key,
            synack: f(lossy, clean),
            rivals: figures
                .iter()
                .filter_map(|&(name, l, c)| Some((name, f(l, c)?)))
                .collect(),
        };
        let mut r = Row::new(name, "Mbit/s", lossy.map(goodput))
            .extra(extra("completion_ms", &|l, _| l.map(ms)))
            .extra(extra("completion_rtts", &|l, _| l.map(rtts)))
            .extra(extra("recovery_rtts", &recovery));
        for (rival, l, _) in figures {
            r = r.rival(rival, l.map(goodput));
        }
        return Some(r.note(
            "tail-loss: a 100 KiB response whose last segment is lost once; goodput of the \
             response, completion from the client's SYN; recovery_rtts = the time the loss added; \
             kernel = two Linux stacks (CUBIC) over the same path in real time (root only; median of 3)",
        ));
    }
    // Random loss is noisy over 30 s (a few dozen loss events, and one
    // timeout costs seconds): those rows average four seeds, the same for
    // both stacks.
    // The same for the fairness row, whose Jain index over 30 s depends
    // on how the first slow starts happened to split the link (each seed
    // changes the return path's jitter).
    let seeds: &[u64] = if path.loss > 0.0 || flows > 1 {
        &[7, 8, 9, 10]
    } else {
        &[7]
    };
    // Two CUBIC flows converge over several loss epochs (RFC 9438 §4.7's
    // fast convergence), each some seconds long at this BDP: the Jain
    // index of the first 30 s mostly says how the two slow starts split
    // the link. The fairness row runs four times as long.
    let time = if flows > 1 { time * 4 } else { time };
    let ours = Bulk::mean(
        seeds
            .iter()
            .map(|&s| bulk::<SynackHost>(&path, flows, time, s)),
    );
    let theirs: Option<Bulk> = seeds
        .iter()
        .map(|&s| {
            if rivals {
                rival_bulk(&path, flows, time, s)
            } else {
                None
            }
        })
        .collect::<Option<Vec<_>>>()
        .map(|v| Bulk::mean(v.into_iter()));
    // The kernel: one flow only (the fairness row is synack's own), the
    // same seeds, in real time.
    let kernel = if flows == 1 && rivals {
        kernel_bulk(&path, time, seeds)
    } else {
        None
    };
    let rival_figures = [
        ("smoltcp", theirs.as_ref().map(Bulk::total)),
        ("kernel", kernel),
    ];
    let pct_of = |of: f64| -> Vec<(&'static str, f64)> {
        rival_figures
            .iter()
            .filter_map(|&(n, v)| Some((n, 100.0 * v? / of)))
            .collect()
    };
    let mut r = Row::new(name, "Mbit/s", Some(ours.total())).extra(Extra {
        key: "link_pct",
        synack: Some(100.0 * ours.total() / link),
        rivals: pct_of(link),
    });
    for (rival, v) in rival_figures {
        r = r.rival(rival, v);
    }
    if path.loss > 0.0 {
        let model = model_mbps(path.event_rate(), RTT, SYNACK_MSS);
        let mut rivals = vec![("model_mbps", model)];
        rivals.extend(pct_of(model));
        r = r.extra(Extra {
            key: "model_pct",
            synack: Some(100.0 * ours.total() / model),
            rivals,
        });
    }
    let rivals_of = |f: &dyn Fn(&Bulk) -> f64| -> Vec<(&'static str, f64)> {
        theirs
            .as_ref()
            .map(|b| ("smoltcp", f(b)))
            .into_iter()
            .collect()
    };
    match name {
        "reorder-2" => {
            r = r
                .extra(Extra {
                    key: "spurious_pct",
                    synack: Some(ours.spurious_pct()),
                    rivals: rivals_of(&Bulk::spurious_pct),
                })
                .extra(Extra {
                    key: "retrans_pct",
                    synack: Some(ours.retrans_pct()),
                    rivals: rivals_of(&Bulk::retrans_pct),
                })
                .note(
                    "reorder-2: spurious_pct = data segments the receiver got twice, of all sent; \
                     retrans_pct also counts real losses (the queue overflowing as CUBIC probes)",
                )
        }
        "fairness" => {
            r = r
                .extra(Extra {
                    key: "jain",
                    synack: Some(ours.jain()),
                    rivals: rivals_of(&Bulk::jain),
                })
                .note(format!(
                    "fairness: two connections from one host through the bottleneck, {} s, 2 ms \
                     jitter on the ACK path, Jain's index averaged over 4 seeds",
                    time.as_secs()
                ))
        }
        _ => {
            r = r.extra(Extra {
                key: "retrans_pct",
                synack: Some(ours.retrans_pct()),
                rivals: rivals_of(&Bulk::retrans_pct),
            })
        }
    }
    if name == "loss-0" {
        r = r.note(format!(
            "loss rows: {} Mbit/s bottleneck, {} ms RTT, queue {} packets (1 BDP; bloat 10x, \
             shallow 0.2x), {} MiB buffers, {} s per transfer (random loss: mean of 4 seeds), \
             impairments on the data direction; model = RFC 9438 §5 average window at the loss \
             event rate; kernel = Linux (CUBIC) at both ends, the same path folded into one \
             real-time link each way by a bridge between two TUN interfaces (root only; the same \
             seeds, run at once)",
            RATE / 1_000_000,
            RTT.as_millis(),
            BDP_PACKETS,
            BUFFER >> 20,
            time.as_secs()
        ));
    }
    Some(r)
}

#[cfg(feature = "rivals")]
fn rival_bulk(path: &Path, flows: usize, time: Duration, seed: u64) -> Option<Bulk> {
    Some(bulk::<super::smol_sim::SmolHost>(path, flows, time, seed))
}

#[cfg(not(feature = "rivals"))]
fn rival_bulk(_path: &Path, _flows: usize, _time: Duration, _seed: u64) -> Option<Bulk> {
    None
}

#[cfg(feature = "rivals")]
fn rival_response(path: &Path, drop_tail: bool, seed: u64) -> Option<Duration> {
    response_time::<super::smol_sim::SmolHost>(path, drop_tail, seed)
}

#[cfg(not(feature = "rivals"))]
fn rival_response(_path: &Path, _drop_tail: bool, _seed: u64) -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_figures() {
        // RFC 9438 §5.1 at p = 1 %: CUBIC's average window is 3.5
        // segments at 50 ms, Reno's √150 = 12.2 is larger.
        let m = model_mbps(0.01, RTT, 1448.0);
        assert!((m - 12.247 * 1448.0 * 8.0 / 0.05 / 1e6).abs() < 0.01, "{m}");
        // Capped at the link.
        assert!(model_mbps(1e-9, RTT, 1448.0) < 100.0);
        assert_eq!(BDP_PACKETS, 416);
    }

    #[test]
    fn tx_count_sees_retransmissions() {
        let pkt = |seq, len| segment(seq, len, false);
        let mut t = TxCount::default();
        t.count(&pkt(u32::MAX - 5, 100));
        t.count(&pkt(94, 100));
        t.count(&pkt(u32::MAX - 5, 100));
        t.count(&pkt(194, 0));
        assert_eq!((t.data_segments, t.retransmissions), (3, 1));
        let mut d = RxDup::default();
        d.count(&pkt(1000, 100));
        d.count(&pkt(1200, 100));
        d.count(&pkt(1000, 100));
        assert_eq!(d.duplicates, 1);
        d.count(&pkt(1050, 200));
        assert_eq!(d.duplicates, 1, "partly new");
        d.count(&pkt(1100, 150));
        assert_eq!(d.duplicates, 2);
    }

    /// An IPv4/TCP packet from port 80 with `seq`, `len` bytes of
    /// payload and the SYN flag if `syn`.
    fn segment(seq: u32, len: usize, syn: bool) -> Vec<u8> {
        let mut p = vec![0u8; 40 + len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((40 + len) as u16).to_be_bytes());
        p[9] = 6;
        p[20..22].copy_from_slice(&80u16.to_be_bytes());
        p[24..28].copy_from_slice(&seq.to_be_bytes());
        p[32] = 5 << 4;
        p[33] = if syn { 0x12 } else { 0x10 };
        p
    }

    #[test]
    fn response_tail_matches_the_segment_ending_the_response_once() {
        let isn = u32::MAX - 1000;
        let first = isn.wrapping_add(1);
        let tail_len = RESPONSE % 1448;
        let tail_seq = first.wrapping_add((RESPONSE - tail_len) as u32);
        let mut m = response_tail();
        assert!(
            !m(&segment(tail_seq, tail_len, false)),
            "before the SYN-ACK"
        );
        assert!(!m(&segment(isn, 0, true)));
        assert!(!m(&segment(first, 1448, false)));
        assert!(
            !m(&segment(tail_seq, tail_len - 1, false)),
            "short of the end"
        );
        assert!(
            !m(&segment(tail_seq.wrapping_add(tail_len as u32), 0, false)),
            "a bare ACK"
        );
        assert!(m(&segment(tail_seq, tail_len, false)), "the tail");
        assert!(
            !m(&segment(tail_seq, tail_len, false)),
            "its retransmission passes"
        );
    }

    /// The kernel reference's bridge carries a whole exchange, and its
    /// filter drops exactly the tail (root only; required in CI).
    #[test]
    fn the_kernel_bridge_carries_an_exchange_and_drops_only_the_tail() {
        if !super::super::tun::available() {
            let required = std::env::var("SYNACK_REQUIRE_NETNS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "SYNACK_REQUIRE_NETNS=1 but no root or /dev/net/tun"
            );
            eprintln!("skipped: needs root and /dev/net/tun");
            return;
        }
        let (data, acks) = Path::CLEAN.folded();
        for drop_tail in [false, true] {
            let kp = super::super::kernel_path::KernelPath {
                data: data.clone(),
                acks: acks.clone(),
                data_filter: drop_tail
                    .then(|| Box::new(response_tail()) as super::super::kernel_path::Filter),
                seed: 1000 + u64::from(drop_tail),
            };
            let x = kp
                .exchange(REQUEST, RESPONSE)
                .expect("the exchange completes");
            assert_eq!(x.filtered, u64::from(drop_tail));
            // At least the handshake and the request's round trip.
            assert!(x.time >= RTT * 2, "{x:?}");
        }
    }

    #[test]
    fn a_short_clean_transfer_fills_most_of_the_link() {
        let b = bulk::<SynackHost>(&Path::CLEAN, 1, Duration::from_secs(3), 1);
        assert!(b.total() > 60.0, "{b:?}");
        assert_eq!(b.retransmissions, b.retransmissions.min(b.segments));
        let t = response_time::<SynackHost>(&Path::CLEAN, true, 1).expect("completes");
        assert!(t < Duration::from_secs(1), "{t:?}");
    }
}
