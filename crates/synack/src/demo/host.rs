//! The demo's hosts on the simulated network: a full synack [`Endpoint`]
//! running a [`Script`] after every packet and timeout, recording what it
//! sends and receives; and a flooder of spoofed SYNs.

use std::collections::VecDeque;

use proto::conn::{Event, SendReason};
use proto::endpoint::{Endpoint, EndpointConfig, EndpointEvent};
use sim::Host;
use wire::tcp::TcpFlags;
use wire::Instant;

use super::script::Script;
use crate::viz::{Mark, Seg};

/// A packet a host sent.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// When.
    pub at: Instant,
    /// The IP packet.
    pub bytes: Vec<u8>,
    /// Why the connection sent it, when it said so.
    pub reason: Option<SendReason>,
    /// A remark the demo knows about it.
    pub mark: Option<Mark>,
}

/// FNV-1a of a packet, to find it again at the receiver.
pub(crate) fn digest(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// An endpoint with its application, as a simulator host.
pub(crate) struct PeerHost {
    /// The host's TCP/IP layer.
    pub ep: Endpoint,
    /// What the application does.
    pub script: Script,
    /// Everything sent, in order.
    pub sent: Vec<Sent>,
    /// Digests of everything received, with the time.
    pub received: Vec<(Instant, u64)>,
    /// Raw packets to send at a given time (spoofing an old duplicate).
    pub inject: VecDeque<(Instant, Vec<u8>, Mark)>,
    /// Events not yet shown to the application, with when they happened.
    pending: Vec<(Instant, EndpointEvent)>,
    /// Cookie SYN-ACKs queued and not yet sent.
    cookies: u64,
}

impl PeerHost {
    pub fn new(config: EndpointConfig, addr: std::net::IpAddr, script: Script) -> PeerHost {
        PeerHost {
            ep: Endpoint::new(config, &[addr]),
            script,
            sent: Vec::new(),
            received: Vec::new(),
            inject: VecDeque::new(),
            pending: Vec::new(),
            cookies: 0,
        }
    }

    /// Runs the application until it has seen every event.
    pub fn step_app(&mut self, now: Instant) {
        for round in 0..16 {
            self.drain_events(now);
            if round > 0 && self.pending.is_empty() {
                break;
            }
            let events = std::mem::take(&mut self.pending);
            self.script.run(&mut self.ep, now, &events);
        }
    }

    fn drain_events(&mut self, now: Instant) {
        while let Some(e) = self.ep.poll_event() {
            if let EndpointEvent::Conn(_, Event::SegmentSent { info, reason }) = e {
                // Belongs to the packet just sent (see poll_transmit).
                if let Some(last) = self.sent.last_mut() {
                    let seg = Seg::parse_ip(&last.bytes);
                    if seg.is_some_and(|s| s.seq == info.seq && s.flags == info.flags) {
                        last.reason = Some(reason);
                    }
                }
                continue;
            }
            if matches!(e, EndpointEvent::Conn(_, Event::SegmentReceived { .. })) {
                continue;
            }
            self.pending.push((now, e));
        }
    }
}

impl Host for PeerHost {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        self.received.push((now, digest(packet)));
        let before = self.ep.stats().syn_cookies_sent;
        self.ep.handle_packet(now, packet);
        self.cookies += self.ep.stats().syn_cookies_sent - before;
        self.step_app(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.inject.front().is_some_and(|(at, ..)| *at <= now) {
            let (_, bytes, mark) = self.inject.pop_front()?;
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            self.sent.push(Sent {
                at: now,
                bytes,
                reason: None,
                mark: Some(mark),
            });
            return Some(n);
        }
        let n = self.ep.poll_transmit(now, buf)?;
        let mut mark = None;
        if self.cookies > 0 {
            if let Some(seg) = Seg::parse_ip(&buf[..n]) {
                if seg.has(TcpFlags::SYN | TcpFlags::ACK) {
                    self.cookies -= 1;
                    mark = Some(Mark::SynCookie);
                }
            }
        }
        self.sent.push(Sent {
            at: now,
            bytes: buf[..n].to_vec(),
            reason: None,
            mark,
        });
        self.drain_events(now);
        Some(n)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        [
            self.ep.poll_timeout(),
            self.script.wake(),
            self.inject.front().map(|(at, ..)| *at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.step_app(now);
    }
}

/// Sends prepared packets (spoofed SYNs) at their times.
pub(crate) struct Flooder {
    /// What to send and when, in time order.
    pub queue: VecDeque<(Instant, Vec<u8>)>,
    /// What was sent.
    pub sent: Vec<Sent>,
}

impl Host for Flooder {
    fn receive(&mut self, _: Instant, _: &[u8]) {}

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.queue.front().is_none_or(|(at, _)| *at > now) {
            return None;
        }
        let (_, bytes) = self.queue.pop_front()?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.sent.push(Sent {
            at: now,
            bytes,
            reason: None,
            mark: None,
        });
        Some(n)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }

    fn handle_timeout(&mut self, _: Instant) {}
}

/// Any host of the demo's network.
pub(crate) enum Node {
    /// A client or server.
    Peer(Box<PeerHost>),
    /// The SYN flooder.
    Flood(Flooder),
}

impl Node {
    /// The endpoint host.
    pub fn peer(&self) -> &PeerHost {
        match self {
            Node::Peer(p) => p,
            Node::Flood(_) => panic!("not a peer host"),
        }
    }

    /// The endpoint host, to change.
    pub fn peer_mut(&mut self) -> &mut PeerHost {
        match self {
            Node::Peer(p) => p,
            Node::Flood(_) => panic!("not a peer host"),
        }
    }

    /// What it sent.
    pub fn sent(&self) -> &[Sent] {
        match self {
            Node::Peer(p) => &p.sent,
            Node::Flood(f) => &f.sent,
        }
    }
}

impl Host for Node {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        match self {
            Node::Peer(p) => p.receive(now, packet),
            Node::Flood(f) => f.receive(now, packet),
        }
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        match self {
            Node::Peer(p) => p.poll_transmit(now, buf),
            Node::Flood(f) => f.poll_transmit(now, buf),
        }
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            Node::Peer(p) => p.poll_timeout(),
            Node::Flood(f) => f.poll_timeout(),
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Node::Peer(p) => p.handle_timeout(now),
            Node::Flood(f) => f.handle_timeout(now),
        }
    }
}
