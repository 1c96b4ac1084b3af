//! All TCP connections of one host, sans-IO: IP packets in, IP packets
//! out, events and one deadline for the whole host.
//!
//! ```text
//! ep.handle_packet(now, &bytes);                  // an IP packet arrived
//! while let Some(n) = ep.poll_transmit(now, &mut buf) { dev.send(&buf[..n]) }
//! ep.poll_timeout()      // when to call handle_timeout
//! ep.handle_timeout(now);
//! ep.poll_event()        // connected, readable, closed(reason), incoming, …
//! ```
//!
//! Connections are found by 4-tuple in a keyed hash map; deadlines sit in
//! a heap; connections with something to send wait in a queue. Nothing per
//! packet or per tick looks at all connections.

mod addrs;
mod config;
mod cookie;
mod demux;
mod expiry_ring;
mod handle;
mod input;
mod listener;
mod output;
#[cfg(test)]
mod owed_sync_tests;
#[cfg(test)]
mod port_tests;
#[cfg(test)]
mod ring_pool_tests;
mod secrets;
#[cfg(test)]
mod slot_reuse_tests;
mod timer_heap;
mod timewait;
mod tuple_map;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use wire::Instant;

use crate::conn::{self, CallSpares, CloseReason, Connection, Event, LossStorage, State, Status};
use addrs::LocalAddrs;
use demux::{KeyedHasher, Map};
use listener::Listener;
use secrets::Secrets;
use timer_heap::TimerHeap;
use timewait::{TimeWait, TimeWaitTable};
use tuple_map::{PackedTuple, TupleKey, TupleMap};

pub use config::EndpointConfig;
use config::FamilyConfigs;
pub use cookie::MSS_TABLE;
pub use demux::FourTuple;
pub use handle::{ConnHandle, ListenerHandle};

/// Something that happened on the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointEvent {
    /// An event of a connection the application holds.
    Conn(ConnHandle, Event),
    /// A listener has an established connection to accept.
    Incoming(ListenerHandle),
}

/// Why an endpoint call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointError {
    /// The address and port are already in use (a listener exists).
    AddrInUse,
    /// No local address of the needed family, or the address is not ours.
    AddrNotAvailable,
    /// Every ephemeral port to that destination is taken.
    NoPortsAvailable,
    /// The connection limit is reached.
    TooManyConnections,
    /// The handle names nothing (it was closed and released).
    InvalidHandle,
    /// The connection refused the call.
    Conn(conn::Error),
}

impl core::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EndpointError::AddrInUse => f.write_str("address in use"),
            EndpointError::AddrNotAvailable => f.write_str("address not available"),
            EndpointError::NoPortsAvailable => f.write_str("no ephemeral port available"),
            EndpointError::TooManyConnections => f.write_str("too many connections"),
            EndpointError::InvalidHandle => f.write_str("invalid connection handle"),
            EndpointError::Conn(e) => core::fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for EndpointError {}

impl From<conn::Error> for EndpointError {
    fn from(e: conn::Error) -> Self {
        EndpointError::Conn(e)
    }
}

/// Counters of the whole endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// IP packets received.
    pub packets_in: u64,
    /// IP packets sent.
    pub packets_out: u64,
    /// Packets that did not parse (bad lengths, versions, options).
    pub malformed: u64,
    /// Packets whose IP, TCP or ICMP checksum failed.
    pub bad_checksum: u64,
    /// TCP segments whose data was checksummed as it was copied into the
    /// receive buffer (the fused receive of the fast path).
    pub fused_in: u64,
    /// IP fragments (not reassembled, dropped).
    pub fragments: u64,
    /// Packets for an address that is not ours.
    pub not_ours: u64,
    /// RSTs sent for segments that matched nothing.
    pub resets_sent: u64,
    /// SYNs answered with a cookie.
    pub syn_cookies_sent: u64,
    /// Connections recreated from a returned cookie.
    pub syn_cookies_accepted: u64,
    /// ACKs that looked like cookie returns but did not verify.
    pub syn_cookies_invalid: u64,
    /// SYNs dropped (accept queue full, connection limit, cookies off).
    pub syns_dropped: u64,
    /// Connections created (both directions).
    pub connections_opened: u64,
    /// Connections freed.
    pub connections_freed: u64,
    /// ICMP echo requests answered.
    pub echo_replies: u64,
    /// ICMP errors acted on (path MTU, soft errors).
    pub icmp_errors: u64,
    /// Stateless replies dropped because their queue was full.
    pub replies_dropped: u64,
    /// Connections that ended in TIME-WAIT but were freed at once because
    /// the TIME-WAIT table was full (`EndpointConfig::max_time_wait`; as
    /// Linux's `TCPTimeWaitOverflow`).
    pub time_wait_overflow: u64,
    /// Segments that were not acceptable to a TIME-WAIT entry and went
    /// unanswered, because it had answered one within the last 500 ms (as
    /// Linux's `TCPACKSkippedTimeWait`).
    pub time_wait_acks_limited: u64,
}

/// One connection with what the endpoint knows about it.
#[derive(Debug)]
struct Entry {
    conn: Connection,
    tuple: PackedTuple,
    /// The tuple's keyed hash (`TupleKey`), for the tables it leaves
    /// when the connection is freed.
    hash: u64,
    /// The listener that created it, until it is accepted.
    listener: Option<ListenerHandle>,
    /// Counted in the half-open (SYN queue) totals.
    half_open: bool,
    /// The application has the handle (connected or accepted).
    owned: bool,
    /// The application closed or aborted and no longer looks at it.
    released: bool,
    /// In the queue of connections that may have output.
    in_ready: bool,
    /// The time of this connection's entry in the timer heap. It is never
    /// later than the connection's own next deadline (it may be earlier:
    /// a deadline that moves later, as the RTO does on every ACK, costs no
    /// heap operation; the early entry re-arms when it comes due).
    deadline: Option<Instant>,
}

impl Entry {
    /// Whether the sync after a segment in or out may wait for the next
    /// call (`Endpoint::unsynced`), with `waiting` connections in the
    /// output queue: while it is established (and was at its last sync)
    /// and no other connection waits to send. Only then does a sync find
    /// nothing but bookkeeping that can wait: its events (`poll_event`
    /// settles), its deadline (`poll_timeout` and `handle_timeout`
    /// settle) and its place in the output queue (`poll_transmit` polls
    /// it). A state that can end, or that moves half-open and accept
    /// queues, is synced at once.
    #[inline(always)]
    fn may_owe_sync(&self, waiting: usize) -> bool {
        // The queue holds a connection at most once.
        self.conn.steady() && !self.half_open && waiting == usize::from(self.in_ready)
    }
}

/// How a connection came to be.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// The application connected.
    Connect,
    /// A SYN to a listener: half-open until the handshake completes.
    Syn(ListenerHandle),
    /// An ACK returning a valid SYN cookie: established at once.
    Cookie(ListenerHandle),
}

/// The connection [`Endpoint::insert`] files.
// Only ever a value on its way into `insert`, which is inlined and takes
// it apart where it was made: boxing the large variant would cost each
// cookie connection an allocation and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum NewConn {
    /// A connection still to be made, in its slot.
    Fresh(Fresh),
    /// Built already (from a SYN cookie: rare), moved in.
    Built(Connection),
}

/// The arguments of [`Connection::new`], for a connection to be made
/// where it will live.
#[derive(Debug)]
struct Fresh {
    config: Arc<conn::Config>,
    local_port: u16,
    remote_port: u16,
    iss: wire::SeqNum,
    now: Instant,
}

impl Fresh {
    /// The connection, built whole (for a slot that never held one).
    fn build(self) -> Connection {
        Connection::new(
            self.config,
            self.local_port,
            self.remote_port,
            self.iss,
            self.now,
        )
    }

    /// Makes `conn` (what a freed slot kept) the connection `build` would
    /// return, in place.
    fn renew(self, conn: &mut Connection) {
        conn.renew(
            self.config,
            self.local_port,
            self.remote_port,
            self.iss,
            self.now,
        );
    }
}

/// A host's TCP/IP layer. See the [module documentation](self).
#[derive(Debug)]
pub struct Endpoint {
    config: EndpointConfig,
    /// The connection settings, shared by the connections made with them.
    configs: FamilyConfigs,
    secrets: Secrets,
    addrs: LocalAddrs,
    conns: handle::Slab<Entry>,
    by_tuple: TupleMap<ConnHandle>,
    listeners: handle::Slab<Listener>,
    listen_map: Map<(Option<IpAddr>, u16), ListenerHandle>,
    time_wait: TimeWaitTable,
    timers: TimerHeap,
    ready: VecDeque<ConnHandle>,
    replies: VecDeque<output::Reply>,
    events: VecDeque<EndpointEvent>,
    /// Storage lent to the connection being called and taken back by
    /// `sync` (see `conn/lend.rs`): event storage, since connections
    /// report events in bursts and each burst would otherwise allocate;
    /// and the small rings of connections that ended, for connections
    /// about to receive or queue their first bytes (`conn/recycle.rs`).
    event_spare: CallSpares,
    /// Loss-recovery storage of connections that ended, lent to the
    /// connection about to be polled for output (see `conn/recycle.rs`).
    loss_pool: Vec<LossStorage>,
    half_open: usize,
    next_ephemeral: u32,
    stats: EndpointStats,
    /// The latest time any call brought.
    now: Instant,
    /// A connection whose `sync` is owed (see `Entry::may_owe_sync`): a
    /// burst of segments sent by one connection, or arriving for it, costs
    /// one `sync` instead of one per segment. Every entry point that touches
    /// another connection, or asks what a sync would have told it
    /// (events, deadlines), settles it first ([`settle`](Self::settle)).
    /// `poll_transmit` polls it first if no other connection waits.
    unsynced: Option<ConnHandle>,
}

impl Endpoint {
    /// An endpoint with `config`, owning the addresses `addrs`.
    /// `config.seed` must come from a real source of randomness outside
    /// simulations: ISNs, ports and cookies derive from it.
    pub fn new(config: EndpointConfig, addrs: &[IpAddr]) -> Endpoint {
        let (secrets, (k0, k1)) = Secrets::new(config.seed);
        let hasher = KeyedHasher::new(k0, k1);
        Endpoint {
            configs: FamilyConfigs::new(&config.conn, config.mtu),
            config,
            secrets,
            addrs: LocalAddrs::new(addrs),
            conns: handle::Slab::new(),
            by_tuple: TupleMap::with_hasher(hasher),
            listeners: handle::Slab::new(),
            listen_map: Map::with_hasher(hasher),
            time_wait: TimeWaitTable::new(),
            timers: TimerHeap::new(),
            ready: VecDeque::new(),
            replies: VecDeque::new(),
            events: VecDeque::new(),
            event_spare: CallSpares::default(),
            loss_pool: Vec::new(),
            half_open: 0,
            next_ephemeral: (k0 as u32) ^ (k1 as u32),
            stats: EndpointStats::default(),
            now: Instant::ZERO,
            unsynced: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// The addresses this endpoint owns.
    pub fn addresses(&self) -> &[IpAddr] {
        self.addrs.as_slice()
    }

    /// Adds an address.
    pub fn add_address(&mut self, addr: IpAddr) {
        self.addrs.insert(addr);
    }

    /// Counters.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// Live connections (full TCBs, half-open included).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Half-open connections (SYN-RECEIVED from listeners).
    pub fn half_open_count(&self) -> usize {
        self.half_open
    }

    /// Gives back memory that bursts of connections left behind (table
    /// capacity, queue capacity, freed slots). Cheap to call now and then.
    pub fn shrink_to_fit(&mut self) {
        self.settle();
        self.conns.shrink_to_fit();
        self.by_tuple.shrink_to_fit();
        self.time_wait.shrink_to_fit();
        self.ready.shrink_to_fit();
        self.replies.shrink_to_fit();
        self.events.shrink_to_fit();
        self.event_spare = CallSpares::default();
        self.loss_pool = Vec::new();
        self.timers.shrink_to_fit();
    }

    /// Connections held in compact TIME-WAIT form.
    pub fn time_wait_count(&self) -> usize {
        self.time_wait.len()
    }

    /// Whether `addr` is one of ours (or anything is, in
    /// `accept_any_address` mode).
    fn is_ours(&self, addr: IpAddr) -> bool {
        self.config.accept_any_address || self.addrs.contains(&addr)
    }

    /// Listens on `local` (an unspecified address listens on every
    /// address) with a backlog for each of the SYN and accept queues.
    pub fn listen(
        &mut self,
        local: SocketAddr,
        backlog: usize,
    ) -> Result<ListenerHandle, EndpointError> {
        let key = (
            (!local.ip().is_unspecified()).then_some(local.ip()),
            local.port(),
        );
        if let Some(ip) = key.0 {
            if !self.is_ours(ip) {
                return Err(EndpointError::AddrNotAvailable);
            }
        }
        if self.listen_map.contains_key(&key) {
            return Err(EndpointError::AddrInUse);
        }
        let listener = Listener::new(local, backlog, self.configs.clone());
        let (index, generation) = self.listeners.insert(listener);
        let h = ListenerHandle { index, generation };
        self.listen_map.insert(key, h);
        Ok(h)
    }

    /// Sets the settings of connections a listener creates from now on.
    pub fn set_listener_config(&mut self, l: ListenerHandle, config: conn::Config) {
        if let Some(listener) = self.listeners.get_mut(l.index, l.generation) {
            listener.configs = FamilyConfigs::new(&config, self.config.mtu);
        }
    }

    /// Stops listening. Connections not yet accepted are reset.
    pub fn unlisten(&mut self, l: ListenerHandle) {
        self.settle();
        let Some(listener) = self.listeners.remove(l.index, l.generation) else {
            return;
        };
        let key = (
            (!listener.local.ip().is_unspecified()).then_some(listener.local.ip()),
            listener.local.port(),
        );
        self.listen_map.remove(&key);
        for h in listener.accept_queue {
            if let Some(e) = self.conns.get_mut(h.index, h.generation) {
                e.conn.abort();
                e.released = true;
                e.listener = None;
            }
            self.sync(h, true);
        }
    }

    /// The local address of a listener.
    pub fn listener_addr(&self, l: ListenerHandle) -> Option<SocketAddr> {
        self.listeners.get(l.index, l.generation).map(|x| x.local)
    }

    /// Takes the next established connection from a listener's accept
    /// queue.
    pub fn accept(&mut self, l: ListenerHandle) -> Option<ConnHandle> {
        self.settle();
        loop {
            let listener = self.listeners.get_mut(l.index, l.generation)?;
            let h = listener.accept_queue.pop_front()?;
            let Some(e) = self.conns.get_mut(h.index, h.generation) else {
                continue;
            };
            e.listener = None;
            e.owned = true;
            if !e.conn.config().events {
                return Some(h);
            }
            // What happened before the application had the handle.
            self.events
                .push_back(EndpointEvent::Conn(h, Event::Connected));
            if e.conn.recv_queue() > 0 || e.conn.at_eof() || e.conn.is_closed() {
                self.events
                    .push_back(EndpointEvent::Conn(h, Event::Readable));
            }
            self.events
                .push_back(EndpointEvent::Conn(h, Event::Writable));
            if let Some(reason) = e.conn.close_reason() {
                self.events
                    .push_back(EndpointEvent::Conn(h, Event::Closed(reason)));
            }
            return Some(h);
        }
    }

    /// Opens a connection to `remote` (RFC 9293 active OPEN) from `local`,
    /// or from our first address of the right family and an ephemeral port
    /// (RFC 6056).
    pub fn connect(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Result<ConnHandle, EndpointError> {
        self.now = self.now.max(now);
        self.settle();
        if self.conns.len() >= self.config.max_connections {
            return Err(EndpointError::TooManyConnections);
        }
        let local_ip = match local {
            Some(l) if !l.ip().is_unspecified() => {
                if !self.is_ours(l.ip()) {
                    return Err(EndpointError::AddrNotAvailable);
                }
                l.ip()
            }
            _ => *self
                .addrs
                .as_slice()
                .iter()
                .find(|a| a.is_ipv4() == remote.is_ipv4())
                .ok_or(EndpointError::AddrNotAvailable)?,
        };
        let (port, hash) = match local.map(|l| l.port()) {
            Some(p) if p != 0 => {
                let tuple = FourTuple {
                    local: SocketAddr::new(local_ip, p),
                    remote,
                };
                let key = self.by_tuple.key(&tuple);
                if self.tuple_in_use(&key) {
                    return Err(EndpointError::AddrInUse);
                }
                (p, key.hash())
            }
            _ => self.ephemeral_port(local_ip, remote)?,
        };
        let tuple = FourTuple {
            local: SocketAddr::new(local_ip, port),
            remote,
        };
        let key = TupleKey::with_hash(&tuple, hash);
        let (iss, ts_offset) = self.secrets.isn_and_ts_offset(&tuple, now);
        let cfg = self.configs.get(remote.is_ipv6());
        let conn = NewConn::Fresh(Fresh {
            config: cfg,
            local_port: port,
            remote_port: remote.port(),
            iss,
            now,
        });
        let (h, conn) = self.insert(&key, conn, Origin::Connect);
        // RFC 6191: timestamps that increase across connections of a
        // 4-tuple let the peer reopen it from TIME-WAIT.
        conn.set_ts_offset(ts_offset);
        self.sync(h, true);
        Ok(h)
    }

    /// Whether a connection or a TIME-WAIT entry holds the tuple (one
    /// hash for both tables).
    fn tuple_in_use(&self, key: &TupleKey<'_>) -> bool {
        self.by_tuple.contains_key(key) || self.time_wait.contains_key(key)
    }

    /// RFC 6056 §3.3.3 (Algorithm 3): search from a keyed offset so the
    /// sequence of ports is unpredictable, skipping 4-tuples in use or in
    /// TIME-WAIT. The port, and the hash of its tuple for the tables the
    /// connection enters.
    fn ephemeral_port(
        &mut self,
        local: IpAddr,
        remote: SocketAddr,
    ) -> Result<(u16, u64), EndpointError> {
        let (lo, hi) = self.config.ephemeral_ports;
        let count = u32::from(hi.saturating_sub(lo)) + 1;
        let offset = self.secrets.port_offset(local, remote);
        for _ in 0..count {
            let port = lo + (offset.wrapping_add(self.next_ephemeral) % count) as u16;
            self.next_ephemeral = self.next_ephemeral.wrapping_add(1);
            let tuple = FourTuple {
                local: SocketAddr::new(local, port),
                remote,
            };
            let key = self.by_tuple.key(&tuple);
            if !self.tuple_in_use(&key) {
                return Ok((port, key.hash()));
            }
        }
        Err(EndpointError::NoPortsAvailable)
    }

    /// Files a new connection under `key`; how it began (`origin`) sets
    /// its entry's first state and opens it (a [`NewConn::Fresh`] one, for
    /// `Connect` and `Syn`). The handle, and the connection to go on with.
    ///
    /// A fresh connection is built where it will live: a slot that held a
    /// connection before still holds it (`Slab::retire`) and it is renewed
    /// in place, field by field (`Connection::renew`); only a slot never
    /// used builds one whole. (A connection built by `Connection::new`
    /// and moved into its slot was copied, about a kilobyte, once or
    /// twice on the way: a `memcpy` a side of every connection.) Inlined,
    /// so that `conn` is taken apart where it was made.
    #[inline(always)]
    fn insert(
        &mut self,
        key: &TupleKey<'_>,
        conn: NewConn,
        origin: Origin,
    ) -> (ConnHandle, &mut Connection) {
        let (listener, half_open, owned) = match origin {
            Origin::Connect => (None, false, true),
            Origin::Syn(l) => (Some(l), true, false),
            Origin::Cookie(l) => (Some(l), false, false),
        };
        let (index, generation, slot) = self.conns.vacant();
        let e = match (slot, conn) {
            (Some(e), NewConn::Fresh(fresh)) => {
                fresh.renew(&mut e.conn);
                let Entry {
                    conn: _,
                    tuple,
                    hash,
                    listener: this_listener,
                    half_open: this_half_open,
                    owned: this_owned,
                    released,
                    in_ready,
                    deadline,
                } = e;
                *tuple = key.packed();
                *hash = key.hash();
                *this_listener = listener;
                *this_half_open = half_open;
                *this_owned = owned;
                *released = false;
                *in_ready = false;
                *deadline = None;
                e
            }
            (slot, conn) => {
                let conn = match conn {
                    NewConn::Fresh(fresh) => fresh.build(),
                    NewConn::Built(conn) => conn,
                };
                slot.insert(Entry {
                    conn,
                    tuple: key.packed(),
                    hash: key.hash(),
                    listener,
                    half_open,
                    owned,
                    released: false,
                    in_ready: false,
                    deadline: None,
                })
            }
        };
        match origin {
            Origin::Connect => e.conn.open_active(&mut self.event_spare.events),
            Origin::Syn(_) => e.conn.open_passive(&mut self.event_spare),
            // Built opened, from the cookie.
            Origin::Cookie(_) => {}
        }
        let h = ConnHandle { index, generation };
        self.by_tuple.insert(key, h);
        self.stats.connections_opened += 1;
        (h, &mut e.conn)
    }

    fn entry(&self, h: ConnHandle) -> Result<&Entry, EndpointError> {
        self.conns
            .get(h.index, h.generation)
            .ok_or(EndpointError::InvalidHandle)
    }

    fn entry_mut(&mut self, h: ConnHandle) -> Result<&mut Entry, EndpointError> {
        self.conns
            .get_mut(h.index, h.generation)
            .ok_or(EndpointError::InvalidHandle)
    }

    /// The entry behind `h`, its connection holding the spare event
    /// storage for the call that follows (`sync` takes it back).
    fn entry_for_call(&mut self, h: ConnHandle) -> Result<&mut Entry, EndpointError> {
        let e = self
            .conns
            .get_mut(h.index, h.generation)
            .ok_or(EndpointError::InvalidHandle)?;
        e.conn.lend_event_storage(&mut self.event_spare.events);
        Ok(e)
    }

    /// The connection behind a handle, to look at.
    pub fn connection(&self, h: ConnHandle) -> Option<&Connection> {
        self.conns.get(h.index, h.generation).map(|e| &e.conn)
    }

    /// Changes a connection through a closure; the endpoint then takes
    /// note of what it wants to send and when.
    pub fn with_connection<R>(
        &mut self,
        h: ConnHandle,
        f: impl FnOnce(&mut Connection) -> R,
    ) -> Option<R> {
        self.settle();
        let e = self.entry_for_call(h).ok()?;
        let r = f(&mut e.conn);
        self.sync(h, true);
        Some(r)
    }

    /// The connection's status.
    pub fn status(&self, h: ConnHandle) -> Option<Status> {
        self.connection(h).map(|c| c.status())
    }

    /// The local address and port.
    pub fn local_addr(&self, h: ConnHandle) -> Option<SocketAddr> {
        self.entry(h).ok().map(|e| e.tuple.unpack().local)
    }

    /// The peer's address and port.
    pub fn peer_addr(&self, h: ConnHandle) -> Option<SocketAddr> {
        self.entry(h).ok().map(|e| e.tuple.unpack().remote)
    }

    /// Queues data to send.
    pub fn send(&mut self, h: ConnHandle, data: &[u8]) -> Result<usize, EndpointError> {
        self.settle();
        let e = self
            .conns
            .get_mut(h.index, h.generation)
            .ok_or(EndpointError::InvalidHandle)?;
        // As `entry_for_call`, and ring storage for a first write.
        e.conn.lend_event_storage(&mut self.event_spare.events);
        e.conn.lend_send_ring(&mut self.event_spare.rings);
        let r = e.conn.send(data);
        self.sync(h, true);
        Ok(r?)
    }

    /// Reads received data: `Ok(0)` at the end of the stream.
    pub fn recv(&mut self, h: ConnHandle, buf: &mut [u8]) -> Result<usize, EndpointError> {
        self.settle();
        let r = self.entry_for_call(h)?.conn.recv(buf);
        // A read that took no bytes changed nothing (`Connection::recv`
        // only reports the state then), so there is nothing to collect or
        // send: polling loops that read until `WouldBlock` stay cheap.
        if matches!(r, Ok(n) if n > 0) {
            self.sync(h, true);
        }
        Ok(r?)
    }

    /// Closes the sending side (FIN after the queued data); reading goes on.
    pub fn shutdown(&mut self, h: ConnHandle, now: Instant) -> Result<(), EndpointError> {
        self.now = self.now.max(now);
        self.settle();
        let r = self.entry_for_call(h)?.conn.shutdown(now);
        self.sync(h, true);
        Ok(r?)
    }

    /// Closes the connection gracefully and gives up the handle: the
    /// endpoint finishes the close (and TIME-WAIT) on its own.
    pub fn close(&mut self, h: ConnHandle, now: Instant) {
        self.now = self.now.max(now);
        self.settle();
        if let Ok(e) = self.entry_for_call(h) {
            e.conn.close(now);
            e.released = true;
            self.sync(h, true);
        }
    }

    /// Resets the connection (RST) and gives up the handle.
    pub fn abort(&mut self, h: ConnHandle) {
        self.settle();
        if let Ok(e) = self.entry_for_call(h) {
            e.conn.abort();
            e.released = true;
            self.sync(h, true);
        }
    }

    /// Gives up a handle without closing (for a connection that already
    /// ended, after reading its error).
    pub fn release(&mut self, h: ConnHandle) {
        self.settle();
        if let Ok(e) = self.entry_mut(h) {
            e.released = true;
            self.sync(h, false);
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.settle();
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must run next.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.settle();
        let conn_next = self.timers.next();
        let tw_next = self.time_wait.next_expiry();
        match (conn_next, tw_next) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs every deadline that has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.settle();
        while let Some((at, h)) = self.timers.pop_due(now) {
            let Some(e) = self.conns.get_mut(h.index, h.generation) else {
                continue;
            };
            // The heap holds each connection's `deadline` and nothing
            // else (sync schedules it, free cancels it).
            debug_assert_eq!(e.deadline, Some(at));
            e.deadline = None;
            match e.conn.poll_timeout() {
                Some(due) if due <= now => {
                    e.conn.lend_event_storage(&mut self.event_spare.events);
                    e.conn.handle_timeout(now);
                    self.sync(h, true);
                }
                Some(later) => {
                    // The deadline moved later since this entry was made.
                    e.deadline = Some(later);
                    self.timers.schedule(later, h);
                }
                None => {}
            }
        }
        self.time_wait.expire(now);
    }

    /// Runs the `sync` that is owed, if any (see `unsynced`).
    #[inline]
    fn settle(&mut self) {
        if let Some(h) = self.unsynced.take() {
            self.sync(h, true);
        }
    }

    /// `sync(h, true)` after a segment in or out of `h`, or owed instead
    /// (`owe`, from [`Entry::may_owe_sync`]) until the next call.
    #[inline(always)]
    fn sync_or_owe(&mut self, h: ConnHandle, owe: bool) {
        if owe {
            self.unsynced = Some(h);
        } else {
            self.unsynced = None;
            self.sync(h, true);
        }
    }

    /// After anything touched connection `h`: collect its events, move it
    /// between queues, reschedule its deadline, queue it for output, and
    /// free it once it is over.
    fn sync(&mut self, h: ConnHandle, may_output: bool) {
        // Another connection synced while one is owed its sync: an entry
        // point that forgot to settle.
        debug_assert!(self.unsynced.is_none_or(|u| u == h));
        let Some(e) = self.conns.get_mut(h.index, h.generation) else {
            return;
        };
        // Events reach the application only while it holds the handle.
        let forward = e.owned && !e.released;
        let events = &mut self.events;
        e.conn
            .drain_events_into(&mut self.event_spare.events, |ev| {
                if forward {
                    events.push_back(EndpointEvent::Conn(h, ev));
                }
            });
        e.conn
            .reclaim_call_storage(&mut self.loss_pool, &mut self.event_spare.rings);
        let became_established = e.conn.take_newly_established();
        let state = e.conn.state();
        if e.half_open && state != State::SynReceived {
            e.half_open = false;
            self.half_open -= 1;
            if let Some(l) = e.listener {
                if let Some(listener) = self.listeners.get_mut(l.index, l.generation) {
                    listener.syn_queue = listener.syn_queue.saturating_sub(1);
                }
            }
        }
        if became_established && !e.owned {
            if let Some(l) = e.listener {
                if let Some(listener) = self.listeners.get_mut(l.index, l.generation) {
                    listener.accept_queue.push_back(h);
                    self.events.push_back(EndpointEvent::Incoming(l));
                }
            }
        }
        let dead = match state {
            // A passive connection reset in SYN-RECEIVED went back to
            // LISTEN: the listener itself is the LISTEN, drop the copy.
            State::Listen => true,
            State::Closed => e.released || !e.owned,
            State::TimeWait => e.released,
            _ => false,
        };
        if dead {
            self.free(h);
            return;
        }
        // Queued for output only if a poll could find something: a poll
        // that would find nothing is skipped (before the deadline below,
        // since `wants_poll` may arm a timer).
        if may_output && !e.in_ready && e.conn.wants_poll(self.now) {
            e.in_ready = true;
            self.ready.push_back(h);
        }
        if let Some(at) = e.conn.poll_timeout() {
            // Only a deadline earlier than the scheduled entry needs a new
            // one (see `Entry::deadline`).
            if e.deadline.is_none_or(|scheduled| at < scheduled) {
                e.deadline = Some(at);
                self.timers.schedule(at, h);
            }
        }
    }

    /// Frees a connection: TIME-WAIT moves to its compact form, anything
    /// else is forgotten. What it still owed (a RST, the last ACK) is sent
    /// first as a stateless reply. (Kept out of `sync`, which runs after
    /// every call and would otherwise save and restore the registers this
    /// needs every time.)
    #[inline(never)]
    fn free(&mut self, h: ConnHandle) {
        // Work on the entry where it lies and drop it there at the end:
        // moving a whole connection (about a kilobyte) out of the slab
        // only to drop it cost two copies per connection.
        let Some(e) = self.conns.get_mut(h.index, h.generation) else {
            return;
        };
        let tuple = e.tuple.unpack();
        let key = TupleKey::with_hash(&tuple, e.hash);
        self.by_tuple.remove(&key);
        if e.deadline.is_some() {
            self.timers.cancel(h);
        }
        self.stats.connections_freed += 1;
        if e.half_open {
            self.half_open -= 1;
        }
        if let Some(l) = e.listener {
            if let Some(listener) = self.listeners.get_mut(l.index, l.generation) {
                if e.half_open {
                    listener.syn_queue = listener.syn_queue.saturating_sub(1);
                }
                listener.accept_queue.retain(|x| *x != h);
            }
        }
        // Flush what the connection still has to say (its RST, or the ACK
        // of the peer's FIN) before it disappears. Polled only while a
        // poll could find something (`may_send_more`, the test `sync`
        // queues connections by): most ending connections owe nothing,
        // and the poll that finds nothing costs several times the test.
        while e.conn.may_send_more() {
            let Some(seg) = e.conn.poll_transmit(self.now) else {
                break;
            };
            if seg.payload_len == 0 {
                // What `push_reply` does with a `Segment`: never capped
                // (bounded by the connection limit), so queued directly
                // while the entry is borrowed.
                self.replies
                    .push_back(output::Reply::Segment { tuple, seg });
            }
        }
        if let Some(info) = e.conn.time_wait_info() {
            if self.time_wait.len() < self.config.max_time_wait {
                self.time_wait.insert(&key, TimeWait::new(&info));
            } else {
                self.stats.time_wait_overflow += 1;
            }
        }
        if e.owned && !e.released && e.conn.config().events {
            let reason = e.conn.close_reason().unwrap_or(CloseReason::Normal);
            self.events
                .push_back(EndpointEvent::Conn(h, Event::Closed(reason)));
        }
        e.conn.recycle_rings(&mut self.event_spare.rings);
        // Left in its slot for the next connection to renew in place.
        self.conns.retire(h.index, h.generation);
    }
}
