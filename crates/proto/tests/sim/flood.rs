//! A SYN flood: a host sends spoofed SYNs from random addresses in
//! 172.16.0.0/12 at 100,000 a second while 100 real clients connect. The
//! SYN queue fills at once, SYN cookies answer everything after it
//! (RFC 4987 §3.6), every real client gets through with its data intact,
//! and the server's state stays bounded: the half-open count never passes
//! its configured limit and the connection count never passes that limit
//! plus the real clients. The server's answers to spoofed addresses are
//! unroutable and the router drops them.

use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use proto::conn::Connection;
use proto::endpoint::EndpointConfig;
use sim::{LinkSpec, Network, Rng};
use wire::tcp::{TcpFlags, TcpOptions, Timestamps};
use wire::Instant;

use crate::harness::*;

/// Emits `remaining` SYNs to `target`, one every `interval`, each from a
/// random address of 172.16.0.0/12 and a random port, with a random ISN
/// and, for half of them, the options a Linux SYN carries.
pub struct SynFlood {
    rng: Rng,
    target: SocketAddr,
    next: Instant,
    interval: Duration,
    remaining: u64,
    pub sent: u64,
}

impl SynFlood {
    pub fn new(
        seed: u64,
        target: SocketAddr,
        start: Instant,
        interval: Duration,
        count: u64,
    ) -> Self {
        SynFlood {
            rng: Rng::new(seed),
            target,
            next: start,
            interval,
            remaining: count,
            sent: 0,
        }
    }
}

impl Source for SynFlood {
    fn poll_timeout(&self) -> Option<Instant> {
        (self.remaining > 0).then_some(self.next)
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.remaining == 0 || self.next > now {
            return None;
        }
        self.next += self.interval;
        self.remaining -= 1;
        self.sent += 1;
        let src = IpAddr::V4(Ipv4Addr::from(0xac10_0000 | self.rng.below(1 << 20) as u32));
        let port = 1024 + self.rng.below(65535 - 1024) as u16;
        let seq = self.rng.next_u64() as u32;
        let options = if self.rng.chance(0.5) {
            TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                timestamps: Some(Timestamps {
                    tsval: self.rng.next_u64() as u32,
                    tsecr: 0,
                }),
                ..TcpOptions::default()
            }
        } else {
            TcpOptions {
                mss: Some(536 + self.rng.below(1000) as u16),
                ..TcpOptions::default()
            }
        };
        let seg = segment(
            port,
            self.target.port(),
            seq,
            0,
            TcpFlags::SYN,
            64240,
            options,
            &[],
        );
        let packet = ipv4_tcp(src, self.target.ip(), &seg);
        buf[..packet.len()].copy_from_slice(&packet);
        Some(packet.len())
    }
}

const REAL_CLIENTS: usize = 100;
const MAX_HALF_OPEN: usize = 256;
const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 66));

/// What the server went through.
#[derive(Debug, Default)]
struct Peaks {
    connections: usize,
    half_open: usize,
    time_wait: usize,
}

fn flood(syns: u64) {
    let interval = Duration::from_micros(10); // 100,000 SYNs a second
    let link: LinkSpec = "rate=1gbit,delay=1ms".parse().unwrap();
    let config = EndpointConfig {
        max_half_open: MAX_HALF_OPEN,
        ..EndpointConfig::default()
    };
    let mut net: Network<SimHost> = Network::new(4987);
    let mut server = Server::new(server_addr(), 1024);
    server.reply = b"welcome".to_vec();
    let s = net.add_host(
        SimHost::new(
            EndpointConfig { seed: 1, ..config },
            SERVER,
            Box::new(server),
        ),
        &[SERVER],
        link.clone(),
        link.clone(),
    );
    let now = net.now();
    net.host_mut(s).kick(now);
    let mut flooder = SimHost::new(
        EndpointConfig { seed: 2, ..config },
        FLOODER,
        Box::new(Idle),
    );
    flooder.source = Some(Box::new(SynFlood::new(
        66,
        server_addr(),
        Instant::ZERO,
        interval,
        syns,
    )));
    let f = net.add_host(flooder, &[FLOODER], link.clone(), link.clone());

    let mut peaks = Peaks::default();
    let sample = |net: &Network<SimHost>, peaks: &mut Peaks| {
        let ep = &net.host(s).ep;
        peaks.connections = peaks.connections.max(ep.connection_count());
        peaks.half_open = peaks.half_open.max(ep.half_open_count());
        peaks.time_wait = peaks.time_wait.max(ep.time_wait_count());
    };

    // The real clients arrive one by one while the flood is on.
    let flood_time = interval * syns as u32;
    let spacing = flood_time / (REAL_CLIENTS as u32 + 1);
    let mut clients = Vec::new();
    for i in 0..REAL_CLIENTS {
        let at = Instant::ZERO + Duration::from_millis(5) + spacing * i as u32;
        net.run_while(|net| {
            sample(net, &mut peaks);
            net.now() < at
        });
        let addr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1 + i as u8));
        let job = Job {
            size: 10_000 + i as u64 * 101,
            seed: i as u64,
        };
        let host = SimHost::new(
            EndpointConfig {
                seed: 100 + i as u64,
                ..EndpointConfig::default()
            },
            addr,
            Box::new(Client::new(server_addr(), vec![job])),
        );
        let id = net.add_host(host, &[addr], link.clone(), link.clone());
        let now = net.now();
        net.host_mut(id).kick(now);
        clients.push((id, job));
    }

    // Until every real client is done and the flood is over.
    let limit = net.now() + flood_time + Duration::from_secs(120);
    net.run_while(|net| {
        sample(net, &mut peaks);
        net.now() < limit
            && (net.host(f).source::<SynFlood>().sent < syns
                || clients
                    .iter()
                    .any(|&(id, _)| app::<Client>(net, id).finished < 1))
    });
    let done_at = net.now();
    let st = net.host(s).ep.stats();
    let conns_after_flood = net.host(s).ep.connection_count();

    // Then until the half-open connections of the flood have given up:
    // nothing of it stays.
    let limit = net.now() + Duration::from_secs(600);
    net.run_while(|net| {
        sample(net, &mut peaks);
        let ep = &net.host(s).ep;
        net.now() < limit && (ep.connection_count() > 0 || ep.time_wait_count() > 0)
    });
    let ep = &net.host(s).ep;

    println!(
        "SYN flood: {} spoofed SYNs in {:?} + {REAL_CLIENTS} real clients; all clients done at {done_at:?}\n\
         server: peak connections {} (limit {} half-open + {REAL_CLIENTS}), peak half-open {} \
         (max_half_open {MAX_HALF_OPEN}), peak TIME-WAIT {}, connections when the clients were done {}\n\
         server: syn_cookies_sent {}, syn_cookies_accepted {}, syn_cookies_invalid {}, syns_dropped {}, \
         replies_dropped {}, resets_sent {}, packets in {} out {}\n\
         TCB memory at the peak: {} x {} B = {} KiB (plus buffers, which only the real clients fill)\n\
         router: {:?}; server empty again at {:?} ({} connections, {} TIME-WAIT)",
        net.host(f).source::<SynFlood>().sent,
        flood_time,
        peaks.connections,
        MAX_HALF_OPEN,
        peaks.half_open,
        peaks.time_wait,
        conns_after_flood,
        st.syn_cookies_sent,
        st.syn_cookies_accepted,
        st.syn_cookies_invalid,
        st.syns_dropped,
        st.replies_dropped,
        st.resets_sent,
        st.packets_in,
        st.packets_out,
        peaks.connections,
        size_of::<Connection>(),
        peaks.connections * size_of::<Connection>() / 1024,
        net.router_stats(),
        net.now(),
        ep.connection_count(),
        ep.time_wait_count(),
    );

    // Every real client got through, with its data intact both ways.
    let server = app::<Server>(&net, s);
    assert!(server.errors.is_empty(), "{:?}", server.errors);
    let jobs: Vec<Job> = clients.iter().map(|&(_, j)| j).collect();
    assert_eq!(sorted_streams(&server.done), expected_streams(&jobs));
    let welcome = stream_hash_of(b"welcome");
    for &(id, job) in &clients {
        let client = app::<Client>(&net, id);
        assert!(
            client.errors.is_empty(),
            "client {}: {:?}",
            job.seed,
            client.errors
        );
        assert_eq!(
            client.replies,
            [(job.seed, 7, welcome)],
            "client {}",
            job.seed
        );
    }
    // They came in through cookies: the SYN queue was full all along.
    assert_eq!(st.syn_cookies_accepted, REAL_CLIENTS as u64);
    assert!(st.syn_cookies_sent >= syns - MAX_HALF_OPEN as u64);
    // Bounded state.
    assert!(peaks.half_open <= MAX_HALF_OPEN, "{peaks:?}");
    assert!(
        peaks.connections <= MAX_HALF_OPEN + REAL_CLIENTS,
        "{peaks:?}"
    );
    assert_eq!(
        ep.connection_count(),
        0,
        "the flood left connections behind"
    );
    assert_eq!(ep.time_wait_count(), 0);
    assert_eq!(ep.half_open_count(), 0);
}

#[test]
fn syn_flood_of_100_000() {
    flood(100_000);
}

/// By hand: `cargo test -p synack-proto --test sim -- --ignored million`.
#[test]
#[ignore = "a million SYNs: run by hand"]
fn syn_flood_of_a_million() {
    flood(1_000_000);
}
