//! The fused receive (conn/fused.rs): on the fast path a segment's data is
//! copied into the receive buffer while it is summed, and the segment is
//! taken only if its checksum then verifies. A corrupted segment must
//! leave no trace: no byte for the application, no ACK, no timer, no state
//! change; the endpoint counts it, as it counted segments verified first.
//!
//! Packets move between the endpoints only when a test moves them. The
//! client may have a shadow: an endpoint with the same seed that verifies
//! nothing itself and is given only the packets that verify. The client
//! must behave exactly like it, packet for packet and byte for byte.

use std::net::SocketAddr;
use std::time::Duration;

use proto::conn::Config;
use proto::endpoint::{ConnHandle, Endpoint, EndpointConfig, EndpointStats};
use sim::Rng;
use wire::ip::{self, IpProtocol};
use wire::tcp::TcpRepr;
use wire::{Error, Instant};

use crate::harness::{parse_tcp, CLIENT, PORT, SERVER};

const T0: Instant = Instant::from_secs(100);

/// A server endpoint and a client endpoint (with its shadow), joined by
/// the test.
struct Rig {
    now: Instant,
    server: Endpoint,
    sh: ConnHandle,
    client: Endpoint,
    ch: ConnHandle,
    shadow: Option<(Endpoint, ConnHandle)>,
}

fn endpoint(addr: std::net::IpAddr, conn: Config, verify_checksums: bool) -> Endpoint {
    let config = EndpointConfig {
        conn,
        seed: 7,
        verify_checksums,
        ..EndpointConfig::default()
    };
    Endpoint::new(config, &[addr])
}

/// Everything about a connection that a segment could change: its whole
/// state, and the endpoint's next deadline.
fn state_of(e: &mut Endpoint, h: ConnHandle) -> String {
    let deadline = e.poll_timeout();
    format!("{:?} {deadline:?}", e.connection(h).unwrap())
}

/// Whether the IP packet's checksums (IP and TCP) verify.
fn verifies(packet: &[u8]) -> bool {
    parse_tcp(packet).is_some()
}

/// Where the TCP header starts in an IPv4 packet.
fn tcp_start(packet: &[u8]) -> usize {
    usize::from(packet[0] & 0xf) * 4
}

/// The TCP payload's offset in an IPv4 packet.
fn payload_start(packet: &[u8]) -> usize {
    let t = tcp_start(packet);
    t + usize::from(packet[t + 12] >> 4) * 4
}

impl Rig {
    /// An established connection; the client with `client` settings (and a
    /// shadow if `shadow`), the server with `server` settings.
    fn new(client: Config, server: Config, shadow: bool) -> Rig {
        let now = T0;
        let mut s = endpoint(SERVER, server, true);
        let l = s.listen(SocketAddr::new(SERVER, PORT), 8).unwrap();
        let remote = SocketAddr::new(SERVER, PORT);
        let mut c = endpoint(CLIENT, client, true);
        let ch = c.connect(now, remote, None).unwrap();
        let shadow = shadow.then(|| {
            let mut e = endpoint(CLIENT, client, false);
            let h = e.connect(now, remote, None).unwrap();
            (e, h)
        });
        let mut rig = Rig {
            now,
            server: s,
            sh: ch, // replaced below
            client: c,
            ch,
            shadow,
        };
        for _ in 0..4 {
            for p in rig.client_out() {
                rig.server.handle_packet(now, &p);
            }
            for p in rig.server_out() {
                rig.deliver(&p);
            }
        }
        rig.sh = rig.server.accept(l).expect("the handshake completes");
        while rig.client.poll_event().is_some() {}
        if let Some((e, _)) = rig.shadow.as_mut() {
            while e.poll_event().is_some() {}
        }
        rig
    }

    fn server_out(&mut self) -> Vec<Vec<u8>> {
        transmitted(&mut self.server, self.now)
    }

    /// What the client sends (the shadow must send the same).
    fn client_out(&mut self) -> Vec<Vec<u8>> {
        let out = transmitted(&mut self.client, self.now);
        if let Some((e, _)) = self.shadow.as_mut() {
            let theirs = transmitted(e, self.now);
            assert_eq!(out, theirs, "the client and its shadow sent differently");
        }
        out
    }

    /// A packet from the server arrives at the client (and at the shadow
    /// if it verifies).
    fn deliver(&mut self, packet: &[u8]) {
        self.client.handle_packet(self.now, packet);
        if let Some((e, _)) = self.shadow.as_mut() {
            if verifies(packet) {
                e.handle_packet(self.now, packet);
            }
        }
    }

    /// The client application reads up to `max` bytes (the shadow's the
    /// same).
    fn read(&mut self, max: usize) -> Vec<u8> {
        let mut buf = vec![0u8; max];
        let n = self.client.recv(self.ch, &mut buf).unwrap_or(0);
        buf.truncate(n);
        if let Some((e, h)) = self.shadow.as_mut() {
            let mut theirs = vec![0u8; max];
            let m = e.recv(*h, &mut theirs).unwrap_or(0);
            assert_eq!(
                buf,
                theirs[..m],
                "the client and its shadow read differently"
            );
        }
        buf
    }

    fn client_state(&mut self) -> String {
        state_of(&mut self.client, self.ch)
    }

    fn assert_like_shadow(&mut self) {
        let mine = self.client_state();
        if let Some((e, h)) = self.shadow.as_mut() {
            assert_eq!(mine, state_of(e, *h));
        }
    }

    /// Runs the deadlines that have passed, everywhere.
    fn timers(&mut self) {
        let now = self.now;
        self.server.handle_timeout(now);
        self.client.handle_timeout(now);
        if let Some((e, _)) = self.shadow.as_mut() {
            e.handle_timeout(now);
        }
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        match (self.server.poll_timeout(), self.client.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The server sends `data`; the client takes every packet whole and
    /// reads everything (to grow its buffer for the fused path); the ACKs
    /// go back.
    fn transfer_clean(&mut self, data: &[u8]) -> Vec<u8> {
        let mut got = Vec::new();
        let mut sent = 0;
        for _ in 0..10_000 {
            if got.len() == data.len() {
                return got;
            }
            if sent < data.len() {
                sent += self.server.send(self.sh, &data[sent..]).unwrap_or(0);
            }
            let pkts = self.server_out();
            for p in &pkts {
                self.deliver(p);
            }
            loop {
                let chunk = self.read(65536);
                if chunk.is_empty() {
                    break;
                }
                got.extend_from_slice(&chunk);
            }
            let acks = self.client_out();
            for a in &acks {
                self.server.handle_packet(self.now, a);
            }
            if pkts.is_empty() && acks.is_empty() {
                self.now = self.next_deadline().unwrap_or(self.now).max(self.now);
                self.timers();
            }
        }
        panic!(
            "the transfer did not finish: {} of {}",
            got.len(),
            data.len()
        );
    }
}

fn stream(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// The endpoint counters, but for those a dropped packet moves.
fn quiet_counters(mut s: EndpointStats) -> EndpointStats {
    s.packets_in = 0;
    s.bad_checksum = 0;
    s.malformed = 0;
    s
}

/// The counter `parse_bytes` with verification would move for `packet`'s
/// segment: whether it is a checksum error (else it is malformed).
fn is_checksum_error(packet: &[u8]) -> bool {
    let (ip, payload) = match ip::parse(packet, true) {
        Ok(p) => p,
        Err(e) => return e == Error::BadChecksum,
    };
    assert_eq!(ip.protocol(), IpProtocol::TCP);
    let e = TcpRepr::parse_bytes(payload, &ip.src_addr(), &ip.dst_addr(), true).unwrap_err();
    e == Error::BadChecksum
}

/// Delivers the corrupted `bad` and checks that it left no trace.
fn assert_dropped_without_trace(rig: &mut Rig, bad: &[u8]) {
    while rig.client.poll_event().is_some() {}
    let before = rig.client_state();
    let stats = rig.client.stats();
    rig.deliver(bad);
    assert_eq!(rig.client_state(), before, "the segment changed something");
    assert!(rig.client_out().is_empty(), "the segment drew a reply");
    assert!(
        rig.client.poll_event().is_none(),
        "the segment drew an event"
    );
    let after = rig.client.stats();
    assert_eq!(quiet_counters(after), quiet_counters(stats));
    assert_eq!(after.packets_in, stats.packets_in + 1);
    if is_checksum_error(bad) {
        assert_eq!(after.bad_checksum, stats.bad_checksum + 1);
        assert_eq!(after.malformed, stats.malformed);
    } else {
        assert_eq!(after.bad_checksum, stats.bad_checksum);
        assert_eq!(after.malformed, stats.malformed + 1);
    }
}

/// The client's settings: options on, a 64 KiB buffer.
fn client_config() -> Config {
    Config {
        recv_buffer: 64 * 1024,
        ..Config::default()
    }
}

/// A rig whose client has received (and read) 32 KiB, so that its
/// receive buffer has storage to stage into; and the server's next three
/// full data segments.
fn warmed_up() -> (Rig, Vec<Vec<u8>>) {
    let mut rig = Rig::new(client_config(), Config::default(), false);
    let warm = stream(32 * 1024, 1);
    assert_eq!(rig.transfer_clean(&warm), warm);
    // Later than anything so far: a time-stamped change would show.
    rig.now += Duration::from_millis(3);
    let data = stream(3 * 1448, 2);
    assert_eq!(rig.server.send(rig.sh, &data).unwrap(), data.len());
    let pkts = rig.server_out();
    assert_eq!(pkts.len(), 3);
    (rig, pkts)
}

#[test]
fn a_corrupt_payload_is_dropped_without_a_trace_and_its_retransmission_taken() {
    let (mut rig, pkts) = warmed_up();
    let fused = rig.client.stats().fused_in;
    rig.deliver(&pkts[0]);
    assert_eq!(
        rig.client.stats().fused_in,
        fused + 1,
        "the fast path fused"
    );
    rig.now += Duration::from_millis(1);
    // One bit of the payload, at odd and even offsets, first and last
    // bytes.
    let p = payload_start(&pkts[1]);
    let len = pkts[1].len();
    for (at, bit) in [(p, 0), (p + 1, 7), (p + 700, 3), (len - 1, 0), (len - 2, 5)] {
        let mut bad = pkts[1].clone();
        bad[at] ^= 1 << bit;
        assert_dropped_without_trace(&mut rig, &bad);
    }
    assert_eq!(rig.client.stats().bad_checksum, 5);
    // The good copy (a retransmission, as far as the client knows) is
    // taken by the fused path; the bytes are exactly the server's.
    rig.deliver(&pkts[1]);
    rig.deliver(&pkts[2]);
    assert_eq!(rig.client.stats().fused_in, fused + 3);
    assert_eq!(rig.read(65536), payloads(&pkts));
    assert_eq!(rig.read(65536), b"");
    assert!(!rig.client_out().is_empty(), "the data is acknowledged");
}

#[test]
fn every_corrupted_header_bit_is_caught() {
    // Fields the prediction does not look at (PSH, the urgent pointer
    // without URG, the checksum field, TSecr, the reserved bits) keep the
    // segment on the fused path; the others send it to verification
    // first. Either way: no trace.
    let (mut rig, pkts) = warmed_up();
    let fused = rig.client.stats().fused_in;
    let t = tcp_start(&pkts[0]);
    for at in t..payload_start(&pkts[0]) {
        for bit in 0..8 {
            let mut bad = pkts[0].clone();
            bad[at] ^= 1 << bit;
            assert_dropped_without_trace(&mut rig, &bad);
        }
    }
    for p in &pkts {
        rig.deliver(p);
    }
    assert_eq!(rig.client.stats().fused_in, fused + 3);
    assert_eq!(rig.read(65536), payloads(&pkts));
}

/// Impairs the server's packets as a bad link would: drops, corrupts one
/// bit (anywhere), duplicates, swaps neighbours.
fn impair(rng: &mut Rng, pkts: Vec<Vec<u8>>, corrupt: f64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for mut p in pkts {
        if rng.chance(0.02) {
            continue;
        }
        if rng.chance(0.03) {
            out.push(p.clone());
        }
        if rng.chance(corrupt) {
            let at = rng.below(p.len() as u64) as usize;
            p[at] ^= 1 << rng.below(8);
        }
        out.push(p);
    }
    for i in 1..out.len() {
        if rng.chance(0.05) {
            out.swap(i - 1, i);
        }
    }
    out
}

/// One transfer of `size` bytes over an impaired path into a client with
/// a buffer of `buf` bytes that reads odd amounts at odd times. Returns
/// the client's counters.
fn impaired_transfer(seed: u64, buf: usize, server_mss: u16, size: usize) -> EndpointStats {
    let mut rng = Rng::new(seed);
    let client = Config {
        recv_buffer: buf,
        ..Config::default()
    };
    let server = Config {
        mss: server_mss,
        ..Config::default()
    };
    let mut rig = Rig::new(client, server, true);
    let data = stream(size, seed);
    let mut got = Vec::new();
    let mut sent = 0;
    let limit = rig.now + Duration::from_secs(3600);
    while got.len() < size {
        assert!(rig.now < limit, "seed {seed}: stuck at {}", got.len());
        if sent < size {
            sent += rig.server.send(rig.sh, &data[sent..]).unwrap_or(0);
        }
        let pkts = rig.server_out();
        let idle = pkts.is_empty();
        for p in impair(&mut rng, pkts, 0.1) {
            rig.deliver(&p);
            if rng.chance(0.5) {
                let n = 1 + rng.below(3000) as usize;
                got.extend_from_slice(&rig.read(n));
            }
            rig.assert_like_shadow();
        }
        if rng.chance(0.2) {
            got.extend_from_slice(&rig.read(1 << 20));
        }
        let acks = rig.client_out();
        for a in &acks {
            rig.server.handle_packet(rig.now, a);
        }
        rig.now += Duration::from_micros(100 + rng.below(2000));
        if idle && acks.is_empty() {
            if let Some(t) = rig.next_deadline() {
                rig.now = rig.now.max(t);
            }
        }
        rig.timers();
    }
    assert!(got == data, "seed {seed}: the stream differs");
    rig.assert_like_shadow();
    rig.client.stats()
}

#[test]
fn fused_and_verified_first_deliver_the_same_bytes() {
    // Each seed: a buffer (odd sizes, small ones that wrap often, one
    // larger than the storage the first writes allocate), a segment size
    // (odd ones put the wrap at odd offsets), and a random path.
    let (mut fused, mut bad) = (0, 0);
    for seed in 0..48u64 {
        let buf = [4999, 8192, 20_001, 256 * 1024][seed as usize % 4];
        let mss = [1001, 1460, 536, 1237][seed as usize / 4 % 4];
        let stats = impaired_transfer(seed, buf, mss, 100_000 + 7919 * seed as usize);
        fused += stats.fused_in;
        bad += stats.bad_checksum;
    }
    eprintln!("fused {fused}, checksum errors {bad}");
    assert!(fused > 1000, "the fused path was taken {fused} times");
    assert!(bad > 100, "{bad} checksum errors");
}

#[test]
fn fused_writes_wrap_around_the_receive_buffer() {
    // A 4999-byte buffer, segments of 989 bytes (odd), reads of a few
    // hundred bytes: the staging point goes round the buffer many times,
    // at odd and even offsets; a clean path, so nearly every segment is
    // fused.
    let mut rng = Rng::new(99);
    let client = Config {
        recv_buffer: 4999,
        ..Config::default()
    };
    let server = Config {
        mss: 1001,
        ..Config::default()
    };
    let mut rig = Rig::new(client, server, true);
    let data = stream(500_000, 3);
    let (mut got, mut sent, mut segments) = (Vec::new(), 0, 0u64);
    while got.len() < data.len() {
        if sent < data.len() {
            sent += rig.server.send(rig.sh, &data[sent..]).unwrap_or(0);
        }
        let pkts = rig.server_out();
        let idle = pkts.is_empty();
        for p in &pkts {
            segments += u64::from(p.len() > payload_start(p));
            rig.deliver(p);
            let n = 200 + rng.below(1200) as usize;
            got.extend_from_slice(&rig.read(n));
        }
        for a in rig.client_out() {
            rig.server.handle_packet(rig.now, &a);
        }
        rig.now += Duration::from_millis(1);
        if idle {
            got.extend_from_slice(&rig.read(1 << 20));
            if let Some(t) = rig.next_deadline() {
                rig.now = rig.now.max(t);
            }
        }
        rig.timers();
    }
    assert!(got == data, "the stream differs");
    let fused = rig.client.stats().fused_in;
    assert!(
        fused * 10 > segments * 9,
        "{fused} of {segments} data segments fused"
    );
    rig.assert_like_shadow();
}

/// Every packet `ep` has to send at `now`.
fn transmitted(ep: &mut Endpoint, now: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 2048];
    while let Some(n) = ep.poll_transmit(now, &mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

/// The payloads of `pkts`, one after another.
fn payloads(pkts: &[Vec<u8>]) -> Vec<u8> {
    pkts.iter()
        .flat_map(|p| p[payload_start(p)..].to_vec())
        .collect()
}
