//! The same endpoint over IPv6: transfers through loss and reordering,
//! ping (ICMPv6 echo), and "packet too big" lowering the MSS to what a
//! 1280-byte path carries (RFC 8201).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::endpoint::EndpointConfig;
use sim::{HostId, LinkSpec, Network, Verdict};
use wire::icmpv6::Icmpv6Repr;
use wire::ip::{IpProtocol, IpRepr};

use crate::harness::*;

const C6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
const S6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));
const R6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0xfe));

fn server6() -> SocketAddr {
    SocketAddr::new(S6, 80)
}

/// A client and a server on IPv6, impairments on the uplinks.
fn pair6(
    seed: u64,
    up: &str,
    client: Box<dyn App>,
    server: Box<dyn App>,
) -> (Network<SimHost>, HostId, HostId) {
    let mut net = Network::new(seed);
    let up: LinkSpec = up.parse().unwrap();
    let down: LinkSpec = "rate=50mbit,delay=5ms".parse().unwrap();
    let s = net.add_host(
        SimHost::new(
            EndpointConfig {
                seed: seed ^ 2,
                ..EndpointConfig::default()
            },
            S6,
            server,
        ),
        &[S6],
        up.clone(),
        down.clone(),
    );
    let c = net.add_host(
        SimHost::new(
            EndpointConfig {
                seed: seed ^ 1,
                ..EndpointConfig::default()
            },
            C6,
            client,
        ),
        &[C6],
        up,
        down,
    );
    let now = net.now();
    net.host_mut(s).kick(now);
    net.host_mut(c).kick(now);
    (net, c, s)
}

fn ipv6_icmp(src: IpAddr, dst: IpAddr, icmp: &Icmpv6Repr<'_>) -> Vec<u8> {
    let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) else {
        unreachable!()
    };
    let ip = IpRepr::new(src, dst, IpProtocol::ICMPV6, icmp.buffer_len(), 64).unwrap();
    let mut buf = vec![0u8; ip.total_len()];
    let h = ip.emit(&mut buf).unwrap();
    icmp.emit(&s, &d, &mut buf[h..]).unwrap();
    buf
}

#[test]
fn transfers_over_ipv6_through_loss_and_reordering() {
    let sizes = [0u64, 1, 65536, 262_144];
    for seed in 1..=10 {
        let jobs: Vec<Job> = sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| Job {
                size,
                seed: seed * 16 + i as u64,
            })
            .collect();
        let (mut net, c, s) = pair6(
            seed,
            "rate=50mbit,delay=5ms,loss=0.05,reorder=0.02",
            Box::new(Client::new(server6(), jobs.clone())),
            Box::new(Server::new(server6(), 16)),
        );
        let limit = net.now() + Duration::from_secs(600);
        net.run_while(|net| {
            let (ce, se) = (&net.host(c).ep, &net.host(s).ep);
            net.now() < limit
                && (app::<Client>(net, c).finished < jobs.len()
                    || ce.connection_count() + se.connection_count() > 0
                    || ce.time_wait_count() + se.time_wait_count() > 0)
        });
        let client = app::<Client>(&net, c);
        assert!(
            client.errors.is_empty() && client.connect_errors.is_empty(),
            "seed {seed}"
        );
        assert_eq!(
            sorted_streams(&app::<Server>(&net, s).done),
            expected_streams(&jobs),
            "seed {seed}"
        );
        for id in [c, s] {
            let ep = &net.host(id).ep;
            assert_eq!(
                ep.connection_count() + ep.time_wait_count(),
                0,
                "seed {seed}: not over by {limit:?}"
            );
        }
    }
}

#[test]
fn ping6_is_answered() {
    let (mut net, _c, s) = pair6(3, "rate=50mbit,delay=5ms", Box::new(Idle), Box::new(Idle));
    let mut pinger = SimHost::new(EndpointConfig::default(), R6, Box::new(Idle));
    pinger.captured = Some(Vec::new());
    let link: LinkSpec = "rate=50mbit,delay=5ms".parse().unwrap();
    let p = net.add_host(pinger, &[R6], link.clone(), link);
    let data = [7u8; 100];
    let request = Icmpv6Repr::EchoRequest {
        ident: 6,
        seq_no: 1,
        data: &data,
    };
    net.host_mut(p)
        .raw_out
        .push_back(ipv6_icmp(R6, S6, &request));
    let limit = net.now() + Duration::from_secs(1);
    net.run_until(limit);
    let got = net.host(p).captured.as_ref().unwrap();
    assert_eq!(got.len(), 1);
    let (ip, payload) = wire::ip::parse(&got[0].1, true).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr()), (S6, R6));
    let (IpAddr::V6(src), IpAddr::V6(dst)) = (ip.src_addr(), ip.dst_addr()) else {
        unreachable!()
    };
    let reply = Icmpv6Repr::parse_bytes(payload, &src, &dst, true).unwrap();
    assert_eq!(
        reply,
        Icmpv6Repr::EchoReply {
            ident: 6,
            seq_no: 1,
            data: &data
        }
    );
    assert_eq!(net.host(s).ep.stats().echo_replies, 1);
}

#[test]
fn packet_too_big_lowers_the_mss_to_the_ipv6_minimum_path() {
    const MTU: u32 = 1280;
    const SIZE: u64 = 512 * 1024;
    let (mut net, c, s) = pair6(
        8201,
        "rate=50mbit,delay=5ms",
        Box::new(Client::new(
            server6(),
            vec![Job {
                size: SIZE,
                seed: 6,
            }],
        )),
        Box::new(Server::new(server6(), 4)),
    );
    let link: LinkSpec = "rate=50mbit,delay=5ms".parse().unwrap();
    let r = net.add_host(
        SimHost::new(EndpointConfig::default(), R6, Box::new(Idle)),
        &[R6],
        link.clone(),
        link,
    );
    let too_big = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let sink = too_big.clone();
    let up = net.uplink(c);
    net.add_filter(up, move |_, packet| {
        if packet.len() > MTU as usize {
            sink.lock().unwrap().push(packet.to_vec());
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    let mut mss = Vec::new();
    let limit = net.now() + Duration::from_secs(120);
    while net.now() < limit && app::<Server>(&net, s).done.is_empty() {
        let next = net.now() + Duration::from_millis(1);
        net.run_until(next);
        let dropped = std::mem::take(&mut *too_big.lock().unwrap());
        if let Some(packet) = dropped.first() {
            let msg = ipv6_icmp(R6, C6, &Icmpv6Repr::packet_too_big(MTU, packet));
            net.host_mut(r).raw_out.push_back(msg);
        }
        if let Some(&h) = app::<Client>(&net, c).handles().first() {
            if let Some(st) = net.host(c).ep.status(h) {
                if mss.last() != Some(&st.mss) {
                    mss.push(st.mss);
                }
            }
        }
    }
    assert_eq!(app::<Server>(&net, s).done, [(SIZE, stream_hash(SIZE, 6))]);
    // 1280 - 40 (IPv6) - 20 (TCP) - 12 (timestamps).
    assert_eq!(mss.last(), Some(&1208), "MSS history {mss:?}");
    assert!(
        mss.contains(&1428),
        "the MSS of a 1500-byte link before: {mss:?}"
    );
    assert!(net.host(c).ep.stats().icmp_errors > 0);
}
