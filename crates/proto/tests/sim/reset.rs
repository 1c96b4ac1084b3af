//! Segments that match no connection draw a RST with the sequence and
//! acknowledgment numbers of RFC 9293 §3.10.7.1 (CLOSED) and §3.10.7.2
//! (LISTEN), and a RST never draws one.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use proto::endpoint::EndpointConfig;
use wire::tcp::{TcpFlags, TcpOptions};

use crate::harness::*;

const PROBER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));

/// A probe: (source port, destination port, seq, ack, flags, payload
/// length), and the RST it must draw as (seq, ack, flags), if any.
type Probe = (
    u16,
    u16,
    u32,
    u32,
    TcpFlags,
    usize,
    Option<(u32, u32, TcpFlags)>,
);

#[test]
fn resets_for_segments_that_match_nothing() {
    use TcpFlags as F;
    let (mut net, _c, s) = two_hosts(
        793,
        "rate=10mbit,delay=1ms",
        EndpointConfig::default(),
        Box::new(Idle),
        Box::new(Server::new(server_addr(), 4)),
    );
    let mut prober = SimHost::new(EndpointConfig::default(), PROBER, Box::new(Idle));
    prober.captured = Some(Vec::new());
    let link = net.link_spec(net.uplink(s)).clone();
    let p = net.add_host(prober, &[PROBER], link.clone(), link);
    let closed = 81; // nothing listens there
    let probes: [Probe; 11] = [
        // No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
        (
            1001,
            closed,
            1000,
            0,
            F::SYN,
            0,
            Some((0, 1001, F::RST | F::ACK)),
        ),
        (
            1002,
            closed,
            2000,
            0,
            F::SYN,
            5,
            Some((0, 2006, F::RST | F::ACK)),
        ),
        (
            1003,
            closed,
            50,
            0,
            F::FIN,
            3,
            Some((0, 54, F::RST | F::ACK)),
        ),
        (
            1004,
            closed,
            300,
            0,
            F::NONE,
            4,
            Some((0, 304, F::RST | F::ACK)),
        ),
        (
            1005,
            closed,
            u32::MAX,
            0,
            F::SYN | F::FIN,
            0,
            Some((0, 1, F::RST | F::ACK)),
        ),
        // ACK: <SEQ=SEG.ACK><CTL=RST>.
        (1006, closed, 5, 777, F::ACK, 10, Some((777, 0, F::RST))),
        (
            1007,
            closed,
            50,
            99,
            F::FIN | F::ACK,
            0,
            Some((99, 0, F::RST)),
        ),
        // Never a RST for a RST.
        (1008, closed, 5, 0, F::RST, 0, None),
        (1009, closed, 5, 6, F::RST | F::ACK, 0, None),
        // LISTEN: an ACK (not a returning cookie) draws <SEQ=SEG.ACK><CTL=RST>;
        // a RST is ignored.
        (1010, 80, 9, 4242, F::ACK, 0, Some((4242, 0, F::RST))),
        (1011, 80, 9, 4242, F::RST, 0, None),
    ];
    let payload = [0x42u8; 16];
    for &(sport, dport, seq, ack, flags, len, _) in &probes {
        let seg = segment(
            sport,
            dport,
            seq,
            ack,
            flags,
            1000,
            TcpOptions::default(),
            &payload[..len],
        );
        net.host_mut(p)
            .raw_out
            .push_back(ipv4_tcp(PROBER, SERVER, &seg));
    }
    let limit = net.now() + Duration::from_secs(1);
    net.run_until(limit);

    let got = net.host(p).captured.as_ref().unwrap();
    let mut replies = Vec::new();
    for (_, packet) in got {
        let (ip, tcp) = parse_tcp(packet).expect("a TCP packet with valid checksums");
        assert_eq!((ip.src_addr(), ip.dst_addr()), (SERVER, PROBER));
        assert!(tcp.payload.is_empty() && tcp.options == TcpOptions::default());
        replies.push((tcp.dst_port, tcp.src_port, tcp.seq.0, tcp.ack.0, tcp.flags));
    }
    let expected: Vec<_> = probes
        .iter()
        .filter_map(|&(sport, dport, _, _, _, _, rst)| {
            rst.map(|(seq, ack, flags)| (sport, dport, seq, ack, flags))
        })
        .collect();
    assert_eq!(replies, expected);
    let st = net.host(s).ep.stats();
    assert_eq!(st.resets_sent, expected.len() as u64);
    assert_eq!(
        st.syn_cookies_invalid, 1,
        "the ACK to the listener was checked as a cookie"
    );
    assert_eq!(net.host(s).ep.connection_count(), 0, "nothing was created");
}
