//! [`Network`]: hosts around one router, the event loop and the virtual
//! clock.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;

use wire::Instant;

use crate::event::{Action, EventQueue};
use crate::host::Host;
use crate::link::{Far, Fate, Link, LinkId, Verdict};
use crate::pcap::PcapSink;
use crate::route::destination;
use crate::spec::LinkSpec;
use crate::stats::{HostStats, LinkStats, RouterStats};

/// The size of the buffer handed to [`Host::poll_transmit`]: the largest IP
/// packet (IPv4's total length is 16 bits).
pub const MAX_PACKET: usize = 65535;

/// Identifies a host of a [`Network`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub(crate) usize);

impl HostId {
    /// The host's index: hosts are numbered from 0 in the order they were
    /// added.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A host and what the network keeps about it.
struct Slot<H> {
    host: H,
    addrs: Vec<IpAddr>,
    uplink: LinkId,
    downlink: LinkId,
    tap: Option<PcapSink>,
    stats: HostStats,
    /// The host's deadline, as last read from `poll_timeout`.
    deadline: Option<Instant>,
    /// The earliest timer event queued for this host, if known.
    scheduled: Option<Instant>,
    /// Borrowed mutably by the user: poll it before the next event.
    dirty: bool,
}

/// A star network on a virtual clock: every host is attached to one central
/// router by an uplink (host → router) and a downlink (router → host), each
/// with its own [`LinkSpec`]. The router forwards instantly, by destination
/// address, without changing the packet (no TTL decrement).
///
/// Nothing here reads a real clock: time moves from event to event. All
/// randomness comes from the seed given to [`Network::new`], each link having
/// its own random streams (derived from the seed and the link's index), so
/// that the same seed and the same hosts give the same packets, byte for
/// byte, and adding a host or a tap changes nothing on the other links.
///
/// ```
/// use sim::{Host, LinkSpec, Network};
/// use wire::Instant;
///
/// /// A host that sends nothing and counts what it receives.
/// struct Sink(u32);
/// impl Host for Sink {
///     fn receive(&mut self, _: Instant, _: &[u8]) { self.0 += 1 }
///     fn poll_transmit(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> { None }
///     fn poll_timeout(&mut self) -> Option<Instant> { None }
///     fn handle_timeout(&mut self, _: Instant) {}
/// }
///
/// let mut net = Network::new(7);
/// let spec: LinkSpec = "rate=10mbit,delay=5ms,loss=0.01".parse().unwrap();
/// let a = net.add_host(Sink(0), &["10.0.0.1".parse().unwrap()], spec.clone(), spec);
/// net.run_until(Instant::from_secs(1));
/// assert_eq!(net.host(a).0, 0);
/// ```
pub struct Network<H> {
    seed: u64,
    now: Instant,
    hosts: Vec<Slot<H>>,
    links: Vec<Link>,
    routes: HashMap<IpAddr, HostId>,
    default_route: Option<HostId>,
    router: RouterStats,
    events: EventQueue,
    /// Buffers of delivered or dropped packets, for reuse.
    pool: Vec<Vec<u8>>,
    /// Where hosts write the packets they send.
    scratch: Box<[u8]>,
    /// Hosts to poll before the next event.
    dirty: Vec<HostId>,
}

impl<H: Host> Network<H> {
    /// An empty network at time zero whose randomness all derives from
    /// `seed`.
    pub fn new(seed: u64) -> Network<H> {
        Network {
            seed,
            now: Instant::ZERO,
            hosts: Vec::new(),
            links: Vec::new(),
            routes: HashMap::new(),
            default_route: None,
            router: RouterStats::default(),
            events: EventQueue::default(),
            pool: Vec::new(),
            scratch: vec![0; MAX_PACKET].into_boxed_slice(),
            dirty: Vec::new(),
        }
    }

    /// The seed the network was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A seed for the hosts' own randomness (ISNs, secrets, ports…), derived
    /// from the network's seed and `label` (for example the host's index),
    /// independent of every stream the links use.
    pub fn derive_seed(&self, label: u64) -> u64 {
        /// Keeps host seeds apart from the links' streams.
        const HOSTS: u64 = 0x686f_7374_7365_6564; // "hostseed"
        crate::rng::derive_seed(crate::rng::derive_seed(self.seed, HOSTS), label)
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Attaches `host`, reachable at `addrs`, with an `uplink` (host to
    /// router) and a `downlink` (router to host). The host is polled for
    /// packets and its timeout at the current time, before the next event.
    ///
    /// # Panics
    ///
    /// If another host already has one of `addrs`.
    pub fn add_host(
        &mut self,
        host: H,
        addrs: &[IpAddr],
        uplink: LinkSpec,
        downlink: LinkSpec,
    ) -> HostId {
        let id = HostId(self.hosts.len());
        for addr in addrs {
            if let Some(other) = self.routes.insert(*addr, id) {
                panic!("address {addr} is already host {}'s", other.0);
            }
        }
        let up = LinkId(self.links.len());
        self.links
            .push(Link::new(self.seed, up.0, uplink, Far::Router));
        let down = LinkId(self.links.len());
        self.links
            .push(Link::new(self.seed, down.0, downlink, Far::Host(id)));
        self.hosts.push(Slot {
            host,
            addrs: addrs.to_vec(),
            uplink: up,
            downlink: down,
            tap: None,
            stats: HostStats::default(),
            deadline: None,
            scheduled: None,
            dirty: false,
        });
        self.mark_dirty(id);
        id
    }

    /// The host `id`.
    ///
    /// # Panics
    ///
    /// If `id` is not of this network (as do all methods taking an id).
    pub fn host(&self, id: HostId) -> &H {
        &self.hosts[id.0].host
    }

    /// The host `id`, to act on it (connect, send, …). Because the host may
    /// now have packets to send or a new deadline, the network polls it at
    /// the current time before the next event.
    pub fn host_mut(&mut self, id: HostId) -> &mut H {
        self.mark_dirty(id);
        &mut self.hosts[id.0].host
    }

    /// The ids of all hosts, in the order they were added.
    pub fn host_ids(&self) -> impl Iterator<Item = HostId> + '_ {
        (0..self.hosts.len()).map(HostId)
    }

    /// The addresses of host `id`.
    pub fn addrs(&self, id: HostId) -> &[IpAddr] {
        &self.hosts[id.0].addrs
    }

    /// The host that has `addr`, if any.
    pub fn host_by_addr(&self, addr: IpAddr) -> Option<HostId> {
        self.routes.get(&addr).copied()
    }

    /// Sends packets for addresses no host has to `host` (a "rest of the
    /// internet" host) instead of dropping them; `None` to drop them again.
    pub fn set_default_route(&mut self, host: Option<HostId>) {
        self.default_route = host;
    }

    /// Host `id`'s uplink (host → router).
    pub fn uplink(&self, id: HostId) -> LinkId {
        self.hosts[id.0].uplink
    }

    /// Host `id`'s downlink (router → host).
    pub fn downlink(&self, id: HostId) -> LinkId {
        self.hosts[id.0].downlink
    }

    /// The spec of `link`.
    pub fn link_spec(&self, link: LinkId) -> &LinkSpec {
        &self.links[link.0].spec
    }

    /// Changes `link`'s behaviour from now on. Packets already on the link
    /// keep the times they were given; the queue, the busy time and the
    /// Gilbert–Elliott state carry over.
    pub fn set_link_spec(&mut self, link: LinkId, spec: LinkSpec) {
        self.links[link.0].spec = spec;
    }

    /// The counters of `link`.
    pub fn link_stats(&self, link: LinkId) -> LinkStats {
        self.links[link.0].stats
    }

    /// The counters of host `id`.
    pub fn host_stats(&self, id: HostId) -> HostStats {
        self.hosts[id.0].stats
    }

    /// The counters of the router.
    pub fn router_stats(&self) -> RouterStats {
        self.router
    }

    /// Adds a filter at the entry of `link`: it sees every packet offered to
    /// the link (with the current time) before the queue, and may drop it
    /// ([`LinkStats::dropped_filter`]). Filters run in the order they were
    /// added; the first [`Verdict::Drop`] wins. A packet a filter drops draws
    /// no random numbers, so the link's random decisions for the other
    /// packets are the same as if it had never been sent.
    pub fn add_filter(
        &mut self,
        link: LinkId,
        filter: impl FnMut(Instant, &[u8]) -> Verdict + Send + 'static,
    ) {
        self.links[link.0].filters.push(Box::new(filter));
    }

    /// Drops the next packet offered to `link` for which `matches` is true,
    /// once (for example one particular SYN).
    pub fn drop_next(
        &mut self,
        link: LinkId,
        mut matches: impl FnMut(&[u8]) -> bool + Send + 'static,
    ) {
        let mut armed = true;
        self.add_filter(link, move |_, packet| {
            if armed && matches(packet) {
                armed = false;
                Verdict::Drop
            } else {
                Verdict::Pass
            }
        });
    }

    /// Removes all filters of `link`.
    pub fn clear_filters(&mut self, link: LinkId) {
        self.links[link.0].filters.clear();
    }

    /// Captures what host `id` sends (when `poll_transmit` returns it, even if
    /// the network then drops it) and receives (when it is delivered), like
    /// tcpdump on that host, as a pcap stream into `writer`. Replaces (and
    /// flushes) an earlier tap of that host.
    pub fn tap_host(&mut self, id: HostId, writer: impl Write + Send + 'static) -> io::Result<()> {
        let sink = PcapSink::new(writer)?;
        if let Some(mut old) = self.hosts[id.0].tap.replace(sink) {
            old.flush()?;
        }
        Ok(())
    }

    /// Captures the packets coming out of `link` (as delivered at its far
    /// end, after every impairment; lost packets do not appear) as a pcap
    /// stream into `writer`. Replaces (and flushes) an earlier tap of that
    /// link.
    pub fn tap_link(
        &mut self,
        link: LinkId,
        writer: impl Write + Send + 'static,
    ) -> io::Result<()> {
        let sink = PcapSink::new(writer)?;
        if let Some(mut old) = self.links[link.0].tap.replace(sink) {
            old.flush()?;
        }
        Ok(())
    }

    /// Flushes every tap; returns the first I/O error any tap met. Taps are
    /// also flushed when the network is dropped (errors then are lost).
    pub fn flush_taps(&mut self) -> io::Result<()> {
        let mut result = Ok(());
        let sinks = self
            .hosts
            .iter_mut()
            .filter_map(|h| h.tap.as_mut())
            .chain(self.links.iter_mut().filter_map(|l| l.tap.as_mut()));
        for sink in sinks {
            if let Err(e) = sink.flush() {
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }

    /// When the next event happens: the current time if a host is waiting to
    /// be polled, `None` when nothing is left to do.
    pub fn next_event_time(&self) -> Option<Instant> {
        if !self.dirty.is_empty() {
            return Some(self.now);
        }
        self.events.peek_time()
    }

    /// How many events are pending (packets in flight and timers).
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Processes the next event (or polls the hosts that were borrowed with
    /// [`host_mut`](Network::host_mut)), advancing the clock to its time.
    /// Returns `false`, without moving the clock, when nothing is left.
    pub fn step(&mut self) -> bool {
        if !self.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.dirty);
            for &id in &dirty {
                self.hosts[id.0].dirty = false;
                self.poll_host(id);
            }
            // Give the vector back to keep its capacity.
            self.dirty = dirty;
            self.dirty.clear();
            return true;
        }
        let Some(event) = self.events.pop() else {
            return false;
        };
        debug_assert!(event.at >= self.now, "event scheduled in the past");
        self.now = event.at;
        match event.action {
            Action::Deliver { link, packet } => self.deliver(link, packet),
            Action::Timer { host } => self.timer(host),
        }
        true
    }

    /// Processes every event up to and including `t`, then sets the clock to
    /// `t` (if it is later than now).
    pub fn run_until(&mut self, t: Instant) {
        while self.next_event_time().is_some_and(|next| next <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Processes events while `keep_going(self)` is true; returns `true` when
    /// it became false, `false` when no event was left.
    pub fn run_while(&mut self, mut keep_going: impl FnMut(&Network<H>) -> bool) -> bool {
        loop {
            if !keep_going(self) {
                return true;
            }
            if !self.step() {
                return false;
            }
        }
    }

    /// Processes events until none is left, but none after `limit`; returns
    /// `true` when the network went idle, `false` when events remain after
    /// `limit` (the clock then stays at the last event processed).
    pub fn run_until_idle(&mut self, limit: Instant) -> bool {
        while let Some(next) = self.next_event_time() {
            if next > limit {
                return false;
            }
            self.step();
        }
        true
    }

    fn mark_dirty(&mut self, id: HostId) {
        let slot = &mut self.hosts[id.0];
        if !slot.dirty {
            slot.dirty = true;
            self.dirty.push(id);
        }
    }

    /// A buffer from the pool holding a copy of `bytes`.
    fn buffer_from(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(bytes);
        buf
    }

    /// Collects everything host `id` has to send now, then re-reads its
    /// deadline.
    fn poll_host(&mut self, id: HostId) {
        let now = self.now;
        loop {
            let slot = &mut self.hosts[id.0];
            let Some(n) = slot.host.poll_transmit(now, &mut self.scratch) else {
                break;
            };
            assert!(
                n <= self.scratch.len(),
                "host {} returned a {n}-byte packet from a {}-byte buffer",
                id.0,
                self.scratch.len()
            );
            slot.stats.sent_packets += 1;
            slot.stats.sent_bytes += n as u64;
            if let Some(tap) = slot.tap.as_mut() {
                tap.record(now, &self.scratch[..n]);
            }
            let uplink = slot.uplink;
            let mut buf = self.pool.pop().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(&self.scratch[..n]);
            self.offer(uplink, buf);
        }
        let deadline = self.hosts[id.0].host.poll_timeout();
        self.arm(id, deadline);
    }

    /// Records host `id`'s deadline and makes sure a timer event is queued
    /// no later than it. A later deadline queues nothing: the earlier event
    /// re-arms when it fires (so a timer pushed back on every packet costs no
    /// heap growth).
    fn arm(&mut self, id: HostId, deadline: Option<Instant>) {
        let slot = &mut self.hosts[id.0];
        slot.deadline = deadline;
        if let Some(d) = deadline {
            let d = d.max(self.now);
            if slot.scheduled.is_none_or(|s| d < s) {
                slot.scheduled = Some(d);
                self.events.push(d, Action::Timer { host: id });
            }
        }
    }

    fn timer(&mut self, id: HostId) {
        let now = self.now;
        let slot = &mut self.hosts[id.0];
        if slot.scheduled == Some(now) {
            slot.scheduled = None;
        }
        match slot.deadline {
            Some(d) if d <= now => {
                slot.deadline = None;
                slot.stats.timeouts += 1;
                slot.host.handle_timeout(now);
                self.poll_host(id);
            }
            later => self.arm(id, later),
        }
    }

    /// Offers `packet` to `link` at the current time and queues its
    /// delivery (twice if duplicated), or recycles it.
    fn offer(&mut self, link: LinkId, mut packet: Vec<u8>) {
        match self.links[link.0].offer(self.now, &mut packet) {
            Fate::Dropped => self.pool.push(packet),
            Fate::Deliver { at, dup } => {
                let copy = dup.then(|| self.buffer_from(&packet));
                self.events.push(at, Action::Deliver { link, packet });
                if let Some(copy) = copy {
                    self.events.push(at, Action::Deliver { link, packet: copy });
                }
            }
        }
    }

    fn deliver(&mut self, link_id: LinkId, packet: Vec<u8>) {
        let now = self.now;
        let link = &mut self.links[link_id.0];
        link.stats.delivered_packets += 1;
        link.stats.delivered_bytes += packet.len() as u64;
        if let Some(tap) = link.tap.as_mut() {
            tap.record(now, &packet);
        }
        match link.far {
            Far::Router => match destination(&packet) {
                None => {
                    self.router.malformed += 1;
                    self.pool.push(packet);
                }
                Some(addr) => match self.routes.get(&addr).copied().or(self.default_route) {
                    None => {
                        self.router.unroutable += 1;
                        self.pool.push(packet);
                    }
                    Some(host) => {
                        self.router.forwarded += 1;
                        let downlink = self.hosts[host.0].downlink;
                        self.offer(downlink, packet);
                    }
                },
            },
            Far::Host(id) => {
                let slot = &mut self.hosts[id.0];
                slot.stats.received_packets += 1;
                slot.stats.received_bytes += packet.len() as u64;
                if let Some(tap) = slot.tap.as_mut() {
                    tap.record(now, &packet);
                }
                slot.host.receive(now, &packet);
                self.pool.push(packet);
                self.poll_host(id);
            }
        }
    }
}

impl<H> fmt::Debug for Network<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("seed", &self.seed)
            .field("now", &self.now)
            .field("hosts", &self.hosts.len())
            .field("links", &self.links)
            .field("router", &self.router)
            .field("pending_events", &self.events.len())
            .finish_non_exhaustive()
    }
}
