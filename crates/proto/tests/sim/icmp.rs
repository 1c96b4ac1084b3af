//! ICMP through the endpoint: ping is answered; "fragmentation needed"
//! for an in-flight segment lowers the MSS and the transfer completes
//! through a path that drops bigger packets (RFC 1191); "destination
//! unreachable" for a SYN-SENT connection is a soft error (RFC 1122
//! §4.2.3.9); and errors quoting sequence numbers that are not in flight
//! change nothing (RFC 5927 §4.1). A truncated ICMP message counts as
//! malformed; a well-formed one of a type not handled is dropped uncounted.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::conn::{SoftError, State};
use proto::endpoint::{ConnHandle, EndpointConfig};
use sim::{HostId, LinkSpec, Network, Verdict};
use wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Repr};
use wire::ip::IpProtocol;
use wire::tcp::{TcpFlags, TcpOptions};

use crate::harness::*;

const PINGER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
const ROUTER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 254));

fn link() -> LinkSpec {
    "rate=10mbit,delay=5ms".parse().unwrap()
}

/// A host that only sends what the test gives it and keeps what arrives.
fn raw_host(net: &mut Network<SimHost>, addr: IpAddr) -> HostId {
    let mut host = SimHost::new(EndpointConfig::default(), addr, Box::new(Idle));
    host.captured = Some(Vec::new());
    net.add_host(host, &[addr], link(), link())
}

#[test]
fn ping_is_answered() {
    let (mut net, _c, s) = two_hosts(
        1,
        "rate=10mbit,delay=5ms",
        EndpointConfig::default(),
        Box::new(Idle),
        Box::new(Server::new(server_addr(), 4)),
    );
    let p = raw_host(&mut net, PINGER);
    let payloads: [Vec<u8>; 3] = [vec![], b"abcdefgh01234567".to_vec(), vec![0x5a; 1400]];
    for (i, data) in payloads.iter().enumerate() {
        let request = Icmpv4Repr::EchoRequest {
            ident: 0x1234,
            seq_no: i as u16,
            data,
        };
        net.host_mut(p)
            .raw_out
            .push_back(ipv4_icmp(PINGER, SERVER, &request));
    }
    let limit = net.now() + Duration::from_secs(1);
    net.run_until(limit);
    let got = net.host(p).captured.as_ref().unwrap();
    assert_eq!(got.len(), payloads.len(), "one reply per request");
    for (i, (_, packet)) in got.iter().enumerate() {
        let (ip, icmp) = wire::ip::parse(packet, true).expect("valid IPv4");
        assert_eq!((ip.src_addr(), ip.dst_addr()), (SERVER, PINGER));
        assert_eq!(ip.protocol(), IpProtocol::ICMP);
        let reply = Icmpv4Repr::parse_bytes(icmp, true).expect("valid ICMP");
        assert_eq!(
            reply,
            Icmpv4Repr::EchoReply {
                ident: 0x1234,
                seq_no: i as u16,
                data: &payloads[i],
            }
        );
    }
    assert_eq!(net.host(s).ep.stats().echo_replies, payloads.len() as u64);
}

/// An ICMP "destination unreachable" from the router about `quoted`
/// (a whole packet the client sent), to the client.
fn unreachable(reason: Icmpv4DstUnreachable, quoted: &[u8]) -> Vec<u8> {
    ipv4_icmp(ROUTER, CLIENT, &Icmpv4Repr::dst_unreachable(reason, quoted))
}

/// A packet the client could have sent on `h`'s 4-tuple with sequence
/// number `seq`.
fn quoted_segment(net: &Network<SimHost>, c: HostId, h: ConnHandle, seq: u32) -> Vec<u8> {
    let ep = &net.host(c).ep;
    let (local, remote) = (ep.local_addr(h).unwrap(), ep.peer_addr(h).unwrap());
    let payload = [0u8; 1000];
    let seg = segment(
        local.port(),
        remote.port(),
        seq,
        0,
        TcpFlags::ACK,
        1000,
        TcpOptions::default(),
        &payload,
    );
    ipv4_tcp(local.ip(), remote.ip(), &seg)
}

#[test]
fn fragmentation_needed_lowers_the_mss_and_the_transfer_completes() {
    const MTU: u16 = 1000;
    const SIZE: u64 = 1 << 20;
    let (mut net, c, s) = two_hosts(
        1191,
        "rate=10mbit,delay=5ms",
        EndpointConfig::default(),
        Box::new(Client::new(
            server_addr(),
            vec![Job {
                size: SIZE,
                seed: 1,
            }],
        )),
        Box::new(Server::new(server_addr(), 4)),
    );
    let r = raw_host(&mut net, ROUTER);
    // The path past the client's uplink carries at most MTU bytes: bigger
    // packets are dropped there, and the router reports each (RFC 1191).
    let too_big = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let sink = too_big.clone();
    let up = net.uplink(c);
    net.add_filter(up, move |_, packet| {
        if packet.len() > usize::from(MTU) {
            sink.lock().unwrap().push(packet.to_vec());
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    let mut icmps = 0;
    let mut mss = Vec::new();
    let limit = net.now() + Duration::from_secs(120);
    while net.now() < limit
        && (app::<Client>(&net, c).finished < 1 || net.host(s).ep.connection_count() > 0)
    {
        let next = net.now() + Duration::from_millis(1);
        net.run_until(next);
        let dropped: Vec<Vec<u8>> = std::mem::take(&mut *too_big.lock().unwrap());
        // A router rate-limits its ICMP errors: one per millisecond here.
        if let Some(packet) = dropped.first() {
            let msg = unreachable(
                Icmpv4DstUnreachable::FragNeeded { next_hop_mtu: MTU },
                packet,
            );
            net.host_mut(r).raw_out.push_back(msg);
            icmps += 1;
        }
        if let Some(&h) = app::<Client>(&net, c).handles().first() {
            if let Some(st) = net.host(c).ep.status(h) {
                if mss.last() != Some(&st.mss) {
                    mss.push(st.mss);
                }
            }
        }
    }
    let server = app::<Server>(&net, s);
    let client = app::<Client>(&net, c);
    assert!(client.errors.is_empty(), "{:?}", client.errors);
    assert_eq!(server.done, [(SIZE, stream_hash(SIZE, 1))], "transfer done");
    let st = net.host(c).ep.stats();
    println!(
        "fragmentation needed: {icmps} ICMP errors sent, {} acted on; the client's MSS went {mss:?}; \
         {} packets too big dropped in all",
        st.icmp_errors,
        net.link_stats(up).dropped_filter
    );
    assert!(icmps > 0 && st.icmp_errors > 0);
    // 1000 - 20 (IP) - 20 (TCP) - 12 (timestamps).
    assert_eq!(mss.last(), Some(&948), "MSS history {mss:?}");
    assert!(
        mss.contains(&1448),
        "the MSS was the peer's before: {mss:?}"
    );
}

#[test]
fn unreachable_in_syn_sent_is_a_soft_error() {
    let (mut net, c, _s) = two_hosts(
        7,
        "rate=10mbit,delay=5ms",
        EndpointConfig::default(),
        Box::new(Idle),
        Box::new(Idle),
    );
    // Packets to nowhere reach the router host.
    let r = raw_host(&mut net, ROUTER);
    net.set_default_route(Some(r));
    let nowhere = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)), 80);
    let now = net.now();
    let h = net.host_mut(c).ep.connect(now, nowhere, None).unwrap();
    let limit = net.now() + Duration::from_millis(100);
    net.run_until(limit);
    let syn = net.host(r).captured.as_ref().unwrap()[0].1.clone();
    let (_, tcp) = parse_tcp(&syn).expect("the SYN");
    assert!(tcp.flags.contains(TcpFlags::SYN));

    // RFC 5927: a quote whose sequence number is not our ISS is not about
    // our SYN.
    let mut wrong = syn.clone();
    let seq = tcp.seq.0.wrapping_add(1000).to_be_bytes();
    wrong[24..28].copy_from_slice(&seq);
    net.host_mut(r)
        .raw_out
        .push_back(unreachable(Icmpv4DstUnreachable::HostUnreachable, &wrong));
    let limit = net.now() + Duration::from_millis(100);
    net.run_until(limit);
    let conn = net.host(c).ep.connection(h).unwrap();
    assert_eq!(
        conn.soft_error(),
        None,
        "a quote of another sequence number"
    );

    net.host_mut(r)
        .raw_out
        .push_back(unreachable(Icmpv4DstUnreachable::HostUnreachable, &syn));
    let limit = net.now() + Duration::from_millis(100);
    net.run_until(limit);
    let conn = net.host(c).ep.connection(h).unwrap();
    assert_eq!(conn.soft_error(), Some(SoftError::HostUnreachable));
    assert_eq!(conn.state(), State::SynSent, "a soft error does not abort");
    assert_eq!(
        net.host(c).ep.stats().icmp_errors,
        1,
        "only the second was taken"
    );
}

#[test]
fn errors_quoting_sequence_numbers_not_in_flight_are_ignored() {
    const SIZE: u64 = 2 << 20;
    let (mut net, c, s) = two_hosts(
        5927,
        "rate=10mbit,delay=5ms",
        EndpointConfig::default(),
        Box::new(Client::new(
            server_addr(),
            vec![Job {
                size: SIZE,
                seed: 2,
            }],
        )),
        Box::new(Server::new(server_addr(), 4)),
    );
    let r = raw_host(&mut net, ROUTER);
    // Wait for data in flight.
    let limit = net.now() + Duration::from_secs(5);
    let h = loop {
        assert!(net.now() < limit, "no data in flight");
        let next = net.now() + Duration::from_millis(1);
        net.run_until(next);
        let Some(&h) = app::<Client>(&net, c).handles().first() else {
            continue;
        };
        let st = net.host(c).ep.status(h).unwrap();
        if st.state == State::Established && st.bytes_in_flight > 10_000 && st.snd_una.0 > 0 {
            break h;
        }
    };
    let before = net.host(c).ep.status(h).unwrap();
    let errors_before = net.host(c).ep.stats().icmp_errors;
    let frag = Icmpv4DstUnreachable::FragNeeded { next_hop_mtu: 576 };
    // Already acknowledged, and not yet sent.
    let old = before.snd_una.0.wrapping_sub(100_000);
    let future = before.snd_nxt.0.wrapping_add(100_000);
    for seq in [old, future] {
        for reason in [frag, Icmpv4DstUnreachable::PortUnreachable] {
            let q = quoted_segment(&net, c, h, seq);
            net.host_mut(r).raw_out.push_back(unreachable(reason, &q));
        }
    }
    // And one for a 4-tuple that is no connection at all.
    let mut stranger = quoted_segment(&net, c, h, before.snd_una.0);
    stranger[20..22].copy_from_slice(&1u16.to_be_bytes());
    net.host_mut(r)
        .raw_out
        .push_back(unreachable(frag, &stranger));
    let next = net.now() + Duration::from_millis(20);
    net.run_until(next);
    let after = net.host(c).ep.status(h).unwrap();
    let conn = net.host(c).ep.connection(h).unwrap();
    assert_eq!(after.mss, before.mss, "MSS unchanged");
    assert_eq!(conn.soft_error(), None);
    assert_eq!(
        net.host(c).ep.stats().icmp_errors,
        errors_before,
        "none taken"
    );

    // The control: the same error quoting a sequence number in flight is
    // taken, and a soft error ends nothing. The newest byte sent is still
    // unacknowledged when the error arrives (an RTT is 20 ms, the router
    // is 10 ms away).
    let q = quoted_segment(&net, c, h, after.snd_nxt.0.wrapping_sub(1));
    net.host_mut(r)
        .raw_out
        .push_back(unreachable(Icmpv4DstUnreachable::PortUnreachable, &q));
    let next = net.now() + Duration::from_millis(20);
    net.run_until(next);
    let conn = net.host(c).ep.connection(h).unwrap();
    assert_eq!(conn.soft_error(), Some(SoftError::PortUnreachable));
    let limit = net.now() + Duration::from_secs(60);
    net.run_while(|net| net.now() < limit && app::<Client>(net, c).finished < 1);
    assert!(app::<Client>(&net, c).errors.is_empty());
    assert_eq!(app::<Server>(&net, s).done, [(SIZE, stream_hash(SIZE, 2))]);
}

#[test]
fn a_truncated_icmp_message_counts_as_malformed_an_unhandled_type_does_not() {
    let mut ep = proto::endpoint::Endpoint::new(EndpointConfig::default(), &[SERVER]);
    let now = wire::Instant::from_secs(1);
    // Three bytes of ICMP: too short for any message.
    let ip = wire::ip::IpRepr::new(PINGER, SERVER, IpProtocol::ICMP, 3, 64).unwrap();
    let mut short = vec![0u8; ip.total_len()];
    let h = ip.emit(&mut short).unwrap();
    short[h..].copy_from_slice(&[8, 0, 0]);
    ep.handle_packet(now, &short);
    assert_eq!(ep.stats().malformed, 1);
    // An echo request turned into a timestamp request (type 13), its
    // checksum made right again: well formed, just not handled.
    let request = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 1,
        data: &[0; 12],
    };
    let mut packet = ipv4_icmp(PINGER, SERVER, &request);
    let icmp = &mut packet[20..];
    icmp[0] = 13;
    icmp[2..4].copy_from_slice(&[0, 0]);
    let mut sum = wire::checksum::Checksum::new();
    sum.add_bytes(icmp);
    let field = sum.finish().to_be_bytes();
    icmp[2..4].copy_from_slice(&field);
    ep.handle_packet(now, &packet);
    let stats = ep.stats();
    assert_eq!((stats.malformed, stats.bad_checksum), (1, 0));
    assert_eq!(stats.echo_replies, 0);
    assert_eq!(ep.poll_transmit(now, &mut [0u8; 1500]), None);
}
