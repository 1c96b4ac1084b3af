//! Endpoints as simulator hosts, each with an application that runs
//! whenever its host does (after every packet and timeout), and ready-made
//! applications: a bulk sender, a sink that hashes what it receives, an
//! echo-style request/response pair.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use proto::endpoint::{ConnHandle, Endpoint, EndpointConfig, EndpointEvent, ListenerHandle};
use sim::{Host, HostId, LinkSpec, Network};
use wire::Instant;

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

/// An endpoint plugged into the simulator, running an application.
pub struct SimHost {
    pub ep: Endpoint,
    pub app: Box<dyn App>,
    pending: Vec<EndpointEvent>,
    /// Every event seen, when `keep_events` is set.
    pub events: Vec<EndpointEvent>,
    pub keep_events: bool,
}

impl SimHost {
    pub fn new(config: EndpointConfig, addr: IpAddr, app: Box<dyn App>) -> SimHost {
        SimHost {
            ep: Endpoint::new(config, &[addr]),
            app,
            pending: Vec::new(),
            events: Vec::new(),
            keep_events: false,
        }
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
        self.ep.handle_packet(now, packet);
        self.step_app(now);
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.ep.poll_transmit(now, buf)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.ep.poll_timeout()
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
    let mut net = Network::new(seed);
    let link: LinkSpec = spec.parse().unwrap();
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
        link.clone(),
        link.clone(),
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
        link.clone(),
        link,
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
