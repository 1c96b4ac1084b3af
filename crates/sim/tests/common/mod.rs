//! A toy host for the simulator's tests: it sends numbered UDP-like IPv4
//! packets at a fixed interval to a peer, and records what arrives.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sim::{Host, HostId, Instant, LinkSpec, Network};

/// Bytes before the sequence number: IPv4 header (20) and UDP header (8).
pub const SEQ_AT: usize = 28;
/// The smallest packet: headers and the 8-byte sequence number.
pub const MIN_SIZE: usize = SEQ_AT + 8;

/// One packet that arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// The sequence number read from the packet (garbage if corrupted there).
    pub seq: u64,
    /// When it arrived.
    pub at: Instant,
    /// Its bytes, when the host keeps them.
    pub bytes: Vec<u8>,
}

/// Sends `count` packets of `size` bytes to `peer`, one every `interval`
/// from `start` (all at once when `interval` is zero), and records arrivals.
#[derive(Debug)]
pub struct Toy {
    pub addr: Ipv4Addr,
    pub peer: Ipv4Addr,
    pub count: u64,
    pub size: usize,
    pub interval: Duration,
    pub start: Instant,
    pub keep_bytes: bool,
    pub sent: u64,
    pub arrivals: Vec<Arrival>,
    pub timeouts: Vec<Instant>,
}

impl Toy {
    /// A host at `addr` that sends nothing until configured.
    pub fn new(addr: Ipv4Addr, peer: Ipv4Addr) -> Toy {
        Toy {
            addr,
            peer,
            count: 0,
            size: MIN_SIZE,
            interval: Duration::ZERO,
            start: Instant::ZERO,
            keep_bytes: false,
            sent: 0,
            arrivals: Vec::new(),
            timeouts: Vec::new(),
        }
    }

    /// Sends `count` packets of `size` bytes every `interval`.
    pub fn sending(mut self, count: u64, size: usize, interval: Duration) -> Toy {
        self.count = count;
        self.size = size;
        self.interval = interval;
        self
    }

    /// When packet `seq` is sent.
    pub fn send_time(&self, seq: u64) -> Instant {
        let offset = self.interval.as_micros() as u64 * seq;
        Instant::from_micros(self.start.micros() + offset)
    }

    /// Sequence numbers of the arrivals, in arrival order.
    pub fn seqs(&self) -> Vec<u64> {
        self.arrivals.iter().map(|a| a.seq).collect()
    }
}

/// The packet `seq` of a flow from `src` to `dst`, `size` bytes long.
pub fn build_packet(src: Ipv4Addr, dst: Ipv4Addr, seq: u64, size: usize) -> Vec<u8> {
    assert!(size >= MIN_SIZE);
    let mut p = vec![0u8; size];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(size as u16).to_be_bytes());
    p[8] = 64; // TTL
    p[9] = 17; // UDP
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let sum = checksum(&p[..20]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p[20..22].copy_from_slice(&9000u16.to_be_bytes());
    p[22..24].copy_from_slice(&9001u16.to_be_bytes());
    p[24..26].copy_from_slice(&((size - 20) as u16).to_be_bytes());
    // UDP checksum 0: "none", allowed over IPv4.
    p[SEQ_AT..SEQ_AT + 8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in p[MIN_SIZE..].iter_mut().enumerate() {
        *b = (seq as usize).wrapping_add(i) as u8;
    }
    p
}

/// The internet checksum of `bytes` (even length).
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Host for Toy {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        let seq = packet
            .get(SEQ_AT..SEQ_AT + 8)
            .map(|b| u64::from_be_bytes(b.try_into().unwrap()))
            .unwrap_or(u64::MAX);
        let bytes = if self.keep_bytes {
            packet.to_vec()
        } else {
            Vec::new()
        };
        self.arrivals.push(Arrival {
            seq,
            at: now,
            bytes,
        });
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.sent >= self.count || now < self.send_time(self.sent) {
            return None;
        }
        let p = build_packet(self.addr, self.peer, self.sent, self.size);
        buf[..p.len()].copy_from_slice(&p);
        self.sent += 1;
        Some(p.len())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        (self.sent < self.count).then(|| self.send_time(self.sent))
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.timeouts.push(now);
    }
}

pub const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A network of a sender `a` (with `sender`'s settings) and a receiver `b`;
/// `a`'s uplink is `up`, `b`'s downlink `down`, the others perfect.
pub fn pair(seed: u64, sender: Toy, up: &str, down: &str) -> (Network<Toy>, HostId, HostId) {
    let mut net = Network::new(seed);
    let perfect = LinkSpec::default();
    let a = net.add_host(
        sender,
        &[IpAddr::V4(A)],
        up.parse().unwrap(),
        perfect.clone(),
    );
    let b = net.add_host(
        Toy::new(B, A),
        &[IpAddr::V4(B)],
        perfect,
        down.parse().unwrap(),
    );
    (net, a, b)
}

/// Runs until idle (with a generous bound on simulated time).
pub fn run(net: &mut Network<Toy>) {
    assert!(
        net.run_until_idle(Instant::from_secs(3600)),
        "network did not go idle"
    );
}
