//! Endpoints as simulator hosts, each with an application that runs
//! whenever its host does (after every packet and timeout), and ready-made
//! applications: a bulk sender, a sink that hashes what it receives, an
//! echo-style request/response pair.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use proto::conn::{CloseReason, Error as ConnError, Event};
use proto::endpoint::{
    ConnHandle, Endpoint, EndpointConfig, EndpointError, EndpointEvent, ListenerHandle,
};
use sim::{Host, HostId, LinkSpec, Network};
use wire::ip::{IpProtocol, IpRepr};
use wire::tcp::{TcpFlags, TcpOptions, TcpRepr};
use wire::{Instant, SeqNum};

/// What runs on a host: called after every packet and timeout, with the
/// events the endpoint reported since the last call.
pub trait App: Send + std::any::Any {
    fn run(&mut self, ep: &mut Endpoint, now: Instant, events: &[EndpointEvent]);
}

/// An application that does nothing.
pub struct Idle;
impl App for Idle {
    fn run(&mut self, _: &mut Endpoint, _: Instant, _: &[EndpointEvent]) {}
}

/// Raw packets a host sends besides its endpoint's (a flooder, an
/// attacker): asked for packets whenever the host is polled.
pub trait Source: Send + std::any::Any {
    /// When the source next has a packet, if ever.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Writes the next packet due at `now` into `buf`; `None` when none is
    /// due (the source must then report a later time from `poll_timeout`).
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;
}

/// An endpoint plugged into the simulator, running an application.
pub struct SimHost {
    pub ep: Endpoint,
    pub app: Box<dyn App>,
    pending: Vec<EndpointEvent>,
    /// Every event seen, when `keep_events` is set.
    pub events: Vec<EndpointEvent>,
    pub keep_events: bool,
    /// Raw IP packets to send before the endpoint's (the test builds them).
    pub raw_out: VecDeque<Vec<u8>>,
    /// A generator of raw packets, polled before the endpoint.
    pub source: Option<Box<dyn Source>>,
    /// Every packet received, with its time, when `Some`.
    pub captured: Option<Vec<(Instant, Vec<u8>)>>,
}

impl SimHost {
    pub fn new(config: EndpointConfig, addr: IpAddr, app: Box<dyn App>) -> SimHost {
        SimHost {
            ep: Endpoint::new(config, &[addr]),
            app,
            pending: Vec::new(),
            events: Vec::new(),
            keep_events: false,
            raw_out: VecDeque::new(),
            source: None,
            captured: None,
        }
    }

    /// Runs the application once now (to start it, or after the test
    /// changed it through `app_mut`).
    pub fn kick(&mut self, now: Instant) {
        self.step_app(now);
    }

    /// The application as its concrete type, to change it.
    pub fn app_mut<T: App>(&mut self) -> &mut T {
        let app: &mut dyn std::any::Any = &mut *self.app;
        app.downcast_mut::<T>().expect("the app has another type")
    }

    /// Runs `f` on the application (as its concrete type) and the
    /// endpoint, then lets the application see what followed.
    pub fn with_app<T: App, R>(
        &mut self,
        now: Instant,
        f: impl FnOnce(&mut T, &mut Endpoint) -> R,
    ) -> R {
        let app: &mut dyn std::any::Any = &mut *self.app;
        let app = app.downcast_mut::<T>().expect("the app has another type");
        let r = f(app, &mut self.ep);
        self.step_app(now);
        r
    }

    /// The source as its concrete type.
    pub fn source<T: Source>(&self) -> &T {
        let s: &dyn std::any::Any = &**self.source.as_ref().expect("no source");
        s.downcast_ref::<T>().expect("the source has another type")
    }

    fn step_app(&mut self, now: Instant) {
        // The application may cause more events (accept, close): loop a
        // few rounds until it settles.
        for _ in 0..8 {
            while let Some(e) = self.ep.poll_event() {
                self.pending.push(e);
            }
            let events = std::mem::take(&mut self.pending);
            self.app.run(&mut self.ep, now, &events);
            if self.keep_events {
                self.events.extend_from_slice(&events);
            }
            if events.is_empty() {
                break;
            }
        }
    }
}

impl Host for SimHost {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        if let Some(c) = self.captured.as_mut() {
            c.push((now, packet.to_vec()));
        }
        self.ep.handle_packet(now, packet);
        self.step_app(now);
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if let Some(p) = self.raw_out.pop_front() {
            buf[..p.len()].copy_from_slice(&p);
            return Some(p.len());
        }
        if let Some(s) = self.source.as_mut() {
            if let Some(n) = s.poll_transmit(now, buf) {
                return Some(n);
            }
        }
        self.ep.poll_transmit(now, buf)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        let ep = self.ep.poll_timeout();
        match self.source.as_ref().and_then(|s| s.poll_timeout()) {
            Some(t) => Some(ep.map_or(t, |e| e.min(t))),
            None => ep,
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.step_app(now);
    }
}

pub const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
pub const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
pub const PORT: u16 = 80;

pub fn server_addr() -> SocketAddr {
    SocketAddr::new(SERVER, PORT)
}

/// A client and a server host, every link with `spec`; the apps start at
/// time zero.
pub fn two_hosts(
    seed: u64,
    spec: &str,
    config: EndpointConfig,
    client: Box<dyn App>,
    server: Box<dyn App>,
) -> (Network<SimHost>, HostId, HostId) {
    let link: LinkSpec = spec.parse().unwrap();
    two_hosts_with(seed, link.clone(), link, config, client, server)
}

/// A client and a server host whose uplinks (host → router) are `up` and
/// downlinks `down`: with the impairments on the uplinks only, each
/// direction of the path crosses exactly one impaired link, so "loss=0.2"
/// loses 20 % of each direction's packets, not 36 %.
pub fn two_hosts_with(
    seed: u64,
    up: LinkSpec,
    down: LinkSpec,
    config: EndpointConfig,
    client: Box<dyn App>,
    server: Box<dyn App>,
) -> (Network<SimHost>, HostId, HostId) {
    let mut net = Network::new(seed);
    let s = net.add_host(
        SimHost::new(
            EndpointConfig {
                seed: seed ^ 2,
                ..config
            },
            SERVER,
            server,
        ),
        &[SERVER],
        up.clone(),
        down.clone(),
    );
    let c = net.add_host(
        SimHost::new(
            EndpointConfig {
                seed: seed ^ 1,
                ..config
            },
            CLIENT,
            client,
        ),
        &[CLIENT],
        up,
        down,
    );
    // Start both applications.
    let now = net.now();
    net.host_mut(s).step_app(now);
    net.host_mut(c).step_app(now);
    (net, c, s)
}

/// FNV-1a, to compare streams without keeping them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(pub u64);
impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}
impl Fnv {
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
    pub fn of(data: &[u8]) -> Fnv {
        let mut f = Fnv::default();
        f.update(data);
        f
    }
}

/// The byte at position `i` of every generated stream.
pub fn pattern(i: u64, seed: u64) -> u8 {
    let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed;
    (x >> 29) as u8 ^ (i % 251) as u8
}

/// Opens `count` connections to `remote` and sends `size` pattern bytes on
/// each, then closes; counts the connections fully closed.
pub struct BulkClient {
    pub remote: SocketAddr,
    pub size: u64,
    pub count: usize,
    pub seed: u64,
    conns: Vec<(ConnHandle, u64, bool)>,
    pub opened: usize,
    pub finished: usize,
    pub errors: Vec<proto::conn::CloseReason>,
}

impl BulkClient {
    pub fn new(remote: SocketAddr, size: u64, count: usize, seed: u64) -> BulkClient {
        BulkClient {
            remote,
            size,
            count,
            seed,
            conns: Vec::new(),
            opened: 0,
            finished: 0,
            errors: Vec::new(),
        }
    }
}

impl App for BulkClient {
    fn run(&mut self, ep: &mut Endpoint, now: Instant, _events: &[EndpointEvent]) {
        while self.opened < self.count {
            match ep.connect(now, self.remote, None) {
                Ok(h) => {
                    self.conns.push((h, 0, false));
                    self.opened += 1;
                }
                Err(_) => break,
            }
        }
        let mut chunk = [0u8; 16384];
        let mut i = 0;
        while i < self.conns.len() {
            let (h, sent, shut) = &mut self.conns[i];
            while *sent < self.size {
                let n = (self.size - *sent).min(chunk.len() as u64) as usize;
                for (k, b) in chunk[..n].iter_mut().enumerate() {
                    *b = pattern(*sent + k as u64, self.seed);
                }
                match ep.send(*h, &chunk[..n]) {
                    Ok(k) => *sent += k as u64,
                    Err(_) => break,
                }
            }
            if *sent == self.size && !*shut {
                // Half-close; the server closes after reading everything.
                let _ = ep.shutdown(*h, now);
                *shut = true;
            }
            // Read until the server's FIN (or an error), then close, as
            // an application drops its socket.
            let mut buf = [0u8; 4096];
            let end = loop {
                match ep.recv(*h, &mut buf) {
                    Ok(0) => break Some(None),
                    Ok(_) => continue,
                    Err(proto::endpoint::EndpointError::Conn(proto::conn::Error::WouldBlock)) => {
                        break None
                    }
                    Err(proto::endpoint::EndpointError::Conn(proto::conn::Error::Closed(r))) => {
                        break Some(Some(r))
                    }
                    Err(_) => break Some(Some(proto::conn::CloseReason::Aborted)),
                }
            };
            match end {
                None => i += 1,
                Some(error) => {
                    if let Some(r) = error {
                        self.errors.push(r);
                    }
                    ep.close(*h, now);
                    self.finished += 1;
                    self.conns.swap_remove(i);
                }
            }
        }
    }
}

/// Accepts every connection, hashes what each one sends, and closes when
/// the peer has.
#[derive(Default)]
pub struct Sink {
    pub listener: Option<ListenerHandle>,
    pub backlog: usize,
    conns: Vec<(ConnHandle, Fnv, u64)>,
    /// (bytes, hash) of every stream that ended with a FIN.
    pub done: Vec<(u64, Fnv)>,
    pub accepted: usize,
}

impl Sink {
    pub fn new(backlog: usize) -> Sink {
        Sink {
            backlog,
            ..Sink::default()
        }
    }
}

impl App for Sink {
    fn run(&mut self, ep: &mut Endpoint, now: Instant, _events: &[EndpointEvent]) {
        let l = *self
            .listener
            .get_or_insert_with(|| ep.listen(server_addr(), self.backlog).unwrap());
        while let Some(h) = ep.accept(l) {
            self.conns.push((h, Fnv::default(), 0));
            self.accepted += 1;
        }
        let mut buf = [0u8; 16384];
        let mut i = 0;
        while i < self.conns.len() {
            let (h, hash, len) = &mut self.conns[i];
            let mut ended = false;
            loop {
                match ep.recv(*h, &mut buf) {
                    Ok(0) => {
                        ended = true;
                        break;
                    }
                    Ok(n) => {
                        hash.update(&buf[..n]);
                        *len += n as u64;
                    }
                    Err(proto::endpoint::EndpointError::Conn(proto::conn::Error::WouldBlock)) => {
                        break
                    }
                    Err(_) => {
                        ended = true;
                        break;
                    }
                }
            }
            if ended {
                self.done.push((*len, *hash));
                ep.close(*h, now);
                self.conns.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
}

/// The hash of the stream a BulkClient sends.
pub fn expected(size: u64, seed: u64) -> Fnv {
    let mut f = Fnv::default();
    let data: Vec<u8> = (0..size).map(|i| pattern(i, seed)).collect();
    f.update(&data);
    f
}

/// The app of a host, as its concrete type.
pub fn app<T: App>(net: &Network<SimHost>, id: HostId) -> &T {
    let app: &dyn std::any::Any = &*net.host(id).app;
    app.downcast_ref::<T>().expect("the app has another type")
}

/// The length of the table streams are cut from (a prime, so that streams
/// of different seeds do not line up).
const TABLE_LEN: usize = 65521;

fn table() -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..TABLE_LEN as u64).map(|i| pattern(i, 0x5eed)).collect())
}

/// Fills `buf` with the bytes at `offset..` of stream `seed` (cut from a
/// table, so that generating gigabytes costs memcpy, even in debug).
pub fn fill(buf: &mut [u8], offset: u64, seed: u64) {
    let t = table();
    let mut pos = ((offset + seed.wrapping_mul(7919)) % TABLE_LEN as u64) as usize;
    let mut done = 0;
    while done < buf.len() {
        let n = (buf.len() - done).min(TABLE_LEN - pos);
        buf[done..done + n].copy_from_slice(&t[pos..pos + n]);
        done += n;
        pos = 0;
    }
}

/// A 64-bit hash of a byte stream that does not depend on how the stream
/// is cut into pieces: FNV-style over 8-byte words (8 times fewer steps
/// than byte-wise FNV, for debug builds), the length mixed in at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamHash {
    h: u64,
    tail: [u8; 8],
    tail_len: usize,
    len: u64,
}

impl StreamHash {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn word(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(Self::PRIME).rotate_left(29);
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.tail_len > 0 {
            let n = (8 - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + n].copy_from_slice(&data[..n]);
            self.tail_len += n;
            data = &data[n..];
            if self.tail_len < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.tail));
            self.tail_len = 0;
        }
        let mut words = data.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().unwrap()));
        }
        let rest = words.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    /// The hash of everything so far.
    pub fn finish(&self) -> u64 {
        let mut c = *self;
        let mut last = [0u8; 8];
        last[..c.tail_len].copy_from_slice(&c.tail[..c.tail_len]);
        c.word(u64::from_le_bytes(last));
        c.word(c.len);
        c.h
    }
}

/// The hash of stream `seed` of `size` bytes.
pub fn stream_hash(size: u64, seed: u64) -> u64 {
    let mut h = StreamHash::default();
    let mut buf = vec![0u8; 1 << 16];
    let mut off = 0;
    while off < size {
        let n = (size - off).min(buf.len() as u64) as usize;
        fill(&mut buf[..n], off, seed);
        h.update(&buf[..n]);
        off += n as u64;
    }
    h.finish()
}

/// The [`StreamHash`] of `data`.
pub fn stream_hash_of(data: &[u8]) -> u64 {
    let mut h = StreamHash::default();
    h.update(data);
    h.finish()
}

/// One stream a [`Client`] sends: `size` bytes of stream `seed` ([`fill`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub size: u64,
    pub seed: u64,
}

struct ClientConn {
    job: Job,
    sent: u64,
    connected: bool,
    shut: bool,
    received: u64,
    hash: StreamHash,
}

/// Opens one connection per job to `remote` (all at the first run),
/// sends each job's stream, half-closes (unless held), reads what the
/// server sends until its FIN, then closes. Driven by events only: it
/// touches just the connections the endpoint reported something about.
pub struct Client {
    pub remote: SocketAddr,
    jobs: Vec<Job>,
    started: bool,
    /// Do not half-close until [`Client::release`].
    pub hold: bool,
    conns: BTreeMap<ConnHandle, ClientConn>,
    pub opened: usize,
    /// Connections that reported `Connected`.
    pub connected: usize,
    /// Connections that reached the server's FIN (or failed).
    pub finished: usize,
    /// (job seed, reason) of connections that ended in error.
    pub errors: Vec<(u64, CloseReason)>,
    /// `connect` calls that failed.
    pub connect_errors: Vec<EndpointError>,
    /// (job seed, bytes, hash) of what the server sent on each connection.
    pub replies: Vec<(u64, u64, u64)>,
}

impl Client {
    pub fn new(remote: SocketAddr, jobs: Vec<Job>) -> Client {
        Client {
            remote,
            jobs,
            started: false,
            hold: false,
            conns: BTreeMap::new(),
            opened: 0,
            connected: 0,
            finished: 0,
            errors: Vec::new(),
            connect_errors: Vec::new(),
            replies: Vec::new(),
        }
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The handles of the live connections.
    pub fn handles(&self) -> Vec<ConnHandle> {
        self.conns.keys().copied().collect()
    }

    /// Lets held connections half-close once their data is queued.
    pub fn release(&mut self, ep: &mut Endpoint, now: Instant) {
        self.hold = false;
        let handles = self.handles();
        for h in handles {
            self.pump(ep, now, h);
        }
    }

    fn pump(&mut self, ep: &mut Endpoint, now: Instant, h: ConnHandle) {
        let Some(c) = self.conns.get_mut(&h) else {
            return;
        };
        let mut chunk = [0u8; 16384];
        while c.sent < c.job.size {
            // Generate only what the buffer takes (at least one byte: a
            // refused send is what arms the Writable event).
            let room = ep.connection(h).map_or(0, |x| x.send_capacity()).max(1);
            let n = (c.job.size - c.sent)
                .min(chunk.len() as u64)
                .min(room as u64) as usize;
            fill(&mut chunk[..n], c.sent, c.job.seed);
            match ep.send(h, &chunk[..n]) {
                Ok(k) => c.sent += k as u64,
                Err(_) => break,
            }
        }
        // A half-close before the handshake completes would delete the
        // connection (RFC 9293 §3.10.4, SYN-SENT), so wait for it.
        if c.sent == c.job.size && c.connected && !c.shut && !self.hold {
            c.shut = true;
            let _ = ep.shutdown(h, now);
        }
    }

    fn read(&mut self, ep: &mut Endpoint, now: Instant, h: ConnHandle) {
        let Some(c) = self.conns.get_mut(&h) else {
            return;
        };
        let mut buf = [0u8; 16384];
        let end = loop {
            match ep.recv(h, &mut buf) {
                Ok(0) => break Some(None),
                Ok(n) => {
                    c.hash.update(&buf[..n]);
                    c.received += n as u64;
                }
                Err(EndpointError::Conn(ConnError::WouldBlock)) => break None,
                Err(EndpointError::Conn(ConnError::Closed(r))) => break Some(Some(r)),
                Err(_) => break Some(Some(CloseReason::Aborted)),
            }
        };
        if let Some(error) = end {
            self.end(ep, now, h, error);
        }
    }

    fn end(&mut self, ep: &mut Endpoint, now: Instant, h: ConnHandle, error: Option<CloseReason>) {
        let Some(c) = self.conns.remove(&h) else {
            return;
        };
        match error {
            None => {
                self.replies.push((c.job.seed, c.received, c.hash.finish()));
                ep.close(h, now);
            }
            Some(r) => {
                self.errors.push((c.job.seed, r));
                ep.release(h);
            }
        }
        self.finished += 1;
    }
}

impl App for Client {
    fn run(&mut self, ep: &mut Endpoint, now: Instant, events: &[EndpointEvent]) {
        if !self.started {
            self.started = true;
            for job in self.jobs.clone() {
                match ep.connect(now, self.remote, None) {
                    Ok(h) => {
                        self.conns.insert(
                            h,
                            ClientConn {
                                job,
                                sent: 0,
                                connected: false,
                                shut: false,
                                received: 0,
                                hash: StreamHash::default(),
                            },
                        );
                        self.opened += 1;
                        self.pump(ep, now, h);
                    }
                    Err(e) => self.connect_errors.push(e),
                }
            }
        }
        for ev in events {
            let EndpointEvent::Conn(h, ev) = *ev else {
                continue;
            };
            match ev {
                Event::Connected => {
                    if let Some(c) = self.conns.get_mut(&h) {
                        if !c.connected {
                            c.connected = true;
                            self.connected += 1;
                        }
                    }
                    self.pump(ep, now, h);
                }
                Event::Writable => self.pump(ep, now, h),
                Event::Readable => self.read(ep, now, h),
                Event::Closed(CloseReason::Normal) => self.read(ep, now, h),
                Event::Closed(r) => self.end(ep, now, h, Some(r)),
                _ => {}
            }
        }
    }
}

/// Listens on `addr`, accepts everything, hashes what each connection
/// brings; at the peer's FIN it sends `reply` and closes. Driven by
/// events only.
pub struct Server {
    pub addr: SocketAddr,
    pub backlog: usize,
    pub listener: Option<ListenerHandle>,
    conns: BTreeMap<ConnHandle, (StreamHash, u64)>,
    /// (bytes, hash) of every stream that ended with a FIN.
    pub done: Vec<(u64, u64)>,
    /// Reasons of streams that ended in error.
    pub errors: Vec<CloseReason>,
    pub accepted: usize,
    /// Accepted connections not yet at their end, and the most at once.
    pub open: usize,
    pub peak_open: usize,
    /// Sent on every connection after the peer's FIN.
    pub reply: Vec<u8>,
}

impl Server {
    pub fn new(addr: SocketAddr, backlog: usize) -> Server {
        Server {
            addr,
            backlog,
            listener: None,
            conns: BTreeMap::new(),
            done: Vec::new(),
            errors: Vec::new(),
            accepted: 0,
            open: 0,
            peak_open: 0,
            reply: Vec::new(),
        }
    }

    /// The handles of the accepted, not yet ended connections.
    pub fn handles(&self) -> Vec<ConnHandle> {
        self.conns.keys().copied().collect()
    }

    fn read(&mut self, ep: &mut Endpoint, now: Instant, h: ConnHandle) {
        let Some((hash, len)) = self.conns.get_mut(&h) else {
            return;
        };
        let mut buf = [0u8; 16384];
        let end = loop {
            match ep.recv(h, &mut buf) {
                Ok(0) => break Some(None),
                Ok(n) => {
                    hash.update(&buf[..n]);
                    *len += n as u64;
                }
                Err(EndpointError::Conn(ConnError::WouldBlock)) => break None,
                Err(EndpointError::Conn(ConnError::Closed(r))) => break Some(Some(r)),
                Err(_) => break Some(Some(CloseReason::Aborted)),
            }
        };
        let Some(error) = end else {
            return;
        };
        let (hash, len) = self.conns.remove(&h).unwrap();
        self.open -= 1;
        match error {
            None => {
                self.done.push((len, hash.finish()));
                if !self.reply.is_empty() {
                    let _ = ep.send(h, &self.reply);
                }
                ep.close(h, now);
            }
            Some(r) => {
                self.errors.push(r);
                ep.release(h);
            }
        }
    }
}

impl App for Server {
    fn run(&mut self, ep: &mut Endpoint, now: Instant, events: &[EndpointEvent]) {
        let l = match self.listener {
            Some(l) => l,
            None => {
                let l = ep.listen(self.addr, self.backlog).unwrap();
                self.listener = Some(l);
                l
            }
        };
        for ev in events {
            match *ev {
                EndpointEvent::Incoming(_) => {
                    while let Some(h) = ep.accept(l) {
                        self.conns.insert(h, (StreamHash::default(), 0));
                        self.accepted += 1;
                        self.open += 1;
                        self.peak_open = self.peak_open.max(self.open);
                    }
                }
                EndpointEvent::Conn(h, Event::Readable | Event::Closed(_)) => self.read(ep, now, h),
                _ => {}
            }
        }
    }
}

/// The (bytes, hash) pairs a server should have received from `jobs`,
/// sorted, and the same for what it did receive.
pub fn expected_streams(jobs: &[Job]) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = jobs
        .iter()
        .map(|j| (j.size, stream_hash(j.size, j.seed)))
        .collect();
    v.sort_unstable();
    v
}

pub fn sorted_streams(done: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut v = done.to_vec();
    v.sort_unstable();
    v
}

/// An IPv4 packet carrying `tcp`, with valid checksums.
pub fn ipv4_tcp(src: IpAddr, dst: IpAddr, tcp: &TcpRepr<'_>) -> Vec<u8> {
    let ip = IpRepr::new(src, dst, IpProtocol::TCP, tcp.buffer_len(), 64).unwrap();
    let mut buf = vec![0u8; ip.total_len()];
    let h = ip.emit(&mut buf).unwrap();
    tcp.emit(&mut buf[h..], &src, &dst).unwrap();
    buf
}

/// An IPv4 packet carrying the ICMP message `icmp`, with valid checksums.
pub fn ipv4_icmp(src: IpAddr, dst: IpAddr, icmp: &wire::icmpv4::Icmpv4Repr<'_>) -> Vec<u8> {
    let ip = IpRepr::new(src, dst, IpProtocol::ICMP, icmp.buffer_len(), 64).unwrap();
    let mut buf = vec![0u8; ip.total_len()];
    let h = ip.emit(&mut buf).unwrap();
    icmp.emit(&mut buf[h..]).unwrap();
    buf
}

/// A bare TCP segment with the given fields.
#[allow(clippy::too_many_arguments)]
pub fn segment(
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    options: TcpOptions,
    payload: &[u8],
) -> TcpRepr<'_> {
    TcpRepr {
        src_port,
        dst_port,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window,
        urgent: 0,
        options,
        payload,
    }
}

/// Parses a captured IPv4/TCP packet (checksums verified).
pub fn parse_tcp(packet: &[u8]) -> Option<(IpRepr, TcpRepr<'_>)> {
    let (ip, payload) = wire::ip::parse(packet, true).ok()?;
    if ip.protocol() != IpProtocol::TCP {
        return None;
    }
    let tcp = TcpRepr::parse_bytes(payload, &ip.src_addr(), &ip.dst_addr(), true).ok()?;
    Some((ip, tcp))
}

/// Whether the environment asks for the long runs.
pub fn soak() -> bool {
    std::env::var("SYNACK_SOAK").is_ok_and(|v| v == "1")
}
