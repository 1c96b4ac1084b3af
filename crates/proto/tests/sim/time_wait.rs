//! TIME-WAIT from outside: a new SYN with a newer timestamp reopens a
//! 4-tuple in TIME-WAIT at once (RFC 6191), and ephemeral ports are
//! distinct and never reuse a 4-tuple still in TIME-WAIT (RFC 6056).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use proto::conn::State;
use proto::endpoint::{ConnHandle, EndpointConfig, EndpointError, ListenerHandle};
use sim::{HostId, Network};
use wire::tcp::{TcpFlags, TcpOptions};

use crate::harness::*;

/// Runs until `done` or `limit` of simulated time passed.
fn run_for(
    net: &mut Network<SimHost>,
    limit: Duration,
    mut done: impl FnMut(&Network<SimHost>) -> bool,
) {
    let end = net.now() + limit;
    net.run_while(|net| net.now() < end && !done(net));
}

fn state(net: &Network<SimHost>, id: HostId, h: ConnHandle) -> Option<State> {
    net.host(id).ep.status(h).map(|s| s.state)
}

/// Reads `h` to its end; true at the end of stream.
fn read_to_end(net: &mut Network<SimHost>, id: HostId, h: ConnHandle) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match net.host_mut(id).ep.recv(h, &mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
}

/// A client host and a server host, both running no application, the
/// server listening on `server_addr()` (backlog 8).
fn listening_pair(
    seed: u64,
    link: &str,
    config: EndpointConfig,
) -> (Network<SimHost>, HostId, HostId, ListenerHandle) {
    let (mut net, c, s) = two_hosts(seed, link, config, Box::new(Idle), Box::new(Idle));
    let l = net.host_mut(s).ep.listen(server_addr(), 8).unwrap();
    (net, c, s, l)
}

/// A connection from `local` on host `c` to the server's listener `l` on
/// host `s`, established and accepted: (client's handle, server's).
fn open(
    net: &mut Network<SimHost>,
    (c, s): (HostId, HostId),
    l: ListenerHandle,
    local: SocketAddr,
) -> (ConnHandle, ConnHandle) {
    let now = net.now();
    let h = net
        .host_mut(c)
        .ep
        .connect(now, server_addr(), Some(local))
        .unwrap();
    run_for(net, Duration::from_secs(5), |net| {
        state(net, c, h) == Some(State::Established) && net.host(s).ep.half_open_count() == 0
    });
    let sh = net.host_mut(s).ep.accept(l).expect("accepted");
    (h, sh)
}

/// Closes connection `first` (which so ends in TIME-WAIT), then, once its
/// FIN has arrived and been read, `second`; runs until neither host has a
/// connection.
fn close_in_turn(
    net: &mut Network<SimHost>,
    (a, first): (HostId, ConnHandle),
    (b, second): (HostId, ConnHandle),
) {
    let now = net.now();
    net.host_mut(a).ep.close(first, now);
    run_for(net, Duration::from_secs(5), |net| {
        state(net, b, second) == Some(State::CloseWait)
    });
    assert!(read_to_end(net, b, second));
    let now = net.now();
    net.host_mut(b).ep.close(second, now);
    run_for(net, Duration::from_secs(5), |net| {
        net.host(a).ep.connection_count() == 0 && net.host(b).ep.connection_count() == 0
    });
}

#[test]
fn a_newer_syn_reopens_a_4_tuple_in_time_wait() {
    // Several seeds: the timestamps of the new connection must be newer
    // than the old one's every time, not by luck.
    for seed in 0..10 {
        let (mut net, c, s, l) = listening_pair(
            6191 + seed,
            "rate=10mbit,delay=5ms",
            EndpointConfig::default(),
        );
        let local = SocketAddr::new(CLIENT, 40_000);
        let (h, sh) = open(&mut net, (c, s), l, local);
        // The server closes first, so the server ends in TIME-WAIT.
        net.host_mut(s).ep.send(sh, b"bye").unwrap();
        close_in_turn(&mut net, (s, sh), (c, h));
        assert_eq!(
            net.host(s).ep.time_wait_count(),
            1,
            "seed {seed}: server in TIME-WAIT"
        );

        // A second later, the same 4-tuple again.
        let later = net.now() + Duration::from_secs(1);
        net.run_until(later);
        let now = net.now();
        let h2 = net
            .host_mut(c)
            .ep
            .connect(now, server_addr(), Some(local))
            .unwrap();
        run_for(&mut net, Duration::from_secs(5), |net| {
            state(net, c, h2) == Some(State::Established) && net.host(s).ep.half_open_count() == 0
        });
        let st = net.host(c).ep.status(h2).unwrap();
        assert_eq!(st.state, State::Established, "seed {seed}");
        assert_eq!(
            st.stats.timeouts, 0,
            "seed {seed}: the first SYN opened it (RFC 6191), no retransmission needed"
        );
        let sh2 = net.host_mut(s).ep.accept(l).expect("accepted again");
        assert_eq!(net.host(s).ep.peer_addr(sh2), Some(local));
        assert_eq!(
            net.host(s).ep.time_wait_count(),
            0,
            "the TIME-WAIT entry made way"
        );
        assert!(
            net.now().saturating_since(now) < Duration::from_millis(100),
            "seed {seed}: reopened in one round trip"
        );
    }
}

#[test]
fn ephemeral_ports_never_reuse_a_4_tuple_in_time_wait() {
    const PORTS: u16 = 10;
    let config = EndpointConfig {
        ephemeral_ports: (50_000, 50_000 + PORTS - 1),
        ..EndpointConfig::default()
    };
    let (mut net, c, _s) = two_hosts(
        6056,
        "rate=10mbit,delay=5ms",
        config,
        Box::new(Idle),
        Box::new(Server::new(server_addr(), 8)),
    );
    let mut ports = Vec::new();
    for _ in 0..PORTS {
        // Open, half-close, read the server's FIN, close: the client
        // closed first and keeps the 4-tuple in TIME-WAIT.
        let now = net.now();
        let h = net
            .host_mut(c)
            .ep
            .connect(now, server_addr(), None)
            .unwrap();
        ports.push(net.host(c).ep.local_addr(h).unwrap().port());
        run_for(&mut net, Duration::from_secs(5), |net| {
            state(net, c, h) == Some(State::Established)
        });
        let now = net.now();
        net.host_mut(c).ep.shutdown(h, now).unwrap();
        run_for(&mut net, Duration::from_secs(5), |net| {
            net.host(c).ep.connection(h).is_some_and(|x| x.at_eof())
        });
        assert!(read_to_end(&mut net, c, h));
        let now = net.now();
        net.host_mut(c).ep.close(h, now);
        run_for(&mut net, Duration::from_secs(1), |net| {
            net.host(c).ep.connection_count() == 0
        });
    }
    let distinct: BTreeSet<u16> = ports.iter().copied().collect();
    assert_eq!(distinct.len(), ports.len(), "ports reused: {ports:?}");
    assert!(ports.iter().all(|p| (50_000..50_000 + PORTS).contains(p)));
    assert_eq!(net.host(c).ep.time_wait_count(), usize::from(PORTS));

    // Every port of the range has its 4-tuple to the server in TIME-WAIT.
    let now = net.now();
    assert_eq!(
        net.host_mut(c).ep.connect(now, server_addr(), None),
        Err(EndpointError::NoPortsAvailable)
    );
    // Another destination is a different 4-tuple.
    let other = SocketAddr::new(SERVER, 8080);
    let h = net.host_mut(c).ep.connect(now, other, None).unwrap();
    net.host_mut(c).ep.abort(h);

    // After 2·MSL the ports are free again.
    run_for(&mut net, Duration::from_secs(120), |net| {
        net.host(c).ep.time_wait_count() == 0
    });
    assert_eq!(net.host(c).ep.time_wait_count(), 0);
    let now = net.now();
    let h = net
        .host_mut(c)
        .ep
        .connect(now, server_addr(), None)
        .unwrap();
    let port = net.host(c).ep.local_addr(h).unwrap().port();
    assert!((50_000..50_000 + PORTS).contains(&port));
}

#[test]
fn a_full_time_wait_table_frees_the_next_connection_at_once_and_counts_it() {
    let config = EndpointConfig {
        max_time_wait: 2,
        ..EndpointConfig::default()
    };
    let (mut net, c, s, l) = listening_pair(262_144, "rate=10mbit,delay=5ms", config);
    for i in 0..3u16 {
        let (h, sh) = open(&mut net, (c, s), l, SocketAddr::new(CLIENT, 40_000 + i));
        // The client closes first, so the client ends in TIME-WAIT.
        close_in_turn(&mut net, (c, h), (s, sh));
    }
    let client = &net.host(c).ep;
    assert_eq!(
        (client.time_wait_count(), client.stats().time_wait_overflow),
        (2, 1),
        "two held, the third freed at once"
    );
    assert_eq!(net.host(s).ep.stats().time_wait_overflow, 0);
}

#[test]
fn two_ends_in_time_wait_do_not_trade_acks() {
    // A simultaneous close leaves both ends in TIME-WAIT (CLOSING, then
    // the ACK of each FIN). Each ACK is an acceptable segment for the
    // other: a bare ACK at RCV.NXT, which draws no reply (RFC 9293
    // §3.10.7.4). Answered, the two entries would trade ACKs until the
    // first expired, once any copy of one reached the other: here the
    // link delivers every packet twice.
    for seed in 0..5 {
        let (mut net, c, s, l) = listening_pair(
            9293 + seed,
            "rate=10mbit,delay=5ms,dup=1",
            EndpointConfig::default(),
        );
        let (h, sh) = open(&mut net, (c, s), l, SocketAddr::new(CLIENT, 40_000));
        let now = net.now();
        net.host_mut(c).ep.close(h, now);
        net.host_mut(s).ep.close(sh, now);
        run_for(&mut net, Duration::from_secs(5), |net| {
            net.host(c).ep.time_wait_count() == 1 && net.host(s).ep.time_wait_count() == 1
        });
        assert_eq!(net.host(c).ep.connection_count(), 0, "seed {seed}");
        assert_eq!(net.host(s).ep.connection_count(), 0, "seed {seed}");
        let sent = |net: &Network<SimHost>| {
            net.host(c).ep.stats().packets_out + net.host(s).ep.stats().packets_out
        };
        let before = sent(&net);
        let later = net.now() + Duration::from_secs(1);
        net.run_until(later);
        // At most the ACK of the second FIN still on its way.
        assert!(
            sent(&net) - before <= 2,
            "seed {seed}: {} segments between two TIME-WAITs in a second",
            sent(&net) - before
        );
    }
}

#[test]
fn answers_from_time_wait_to_segments_it_cannot_accept_are_rate_limited() {
    // The client closes first and holds TIME-WAIT. A flood of segments
    // it cannot accept (forged, or from a peer that lost track) draws at
    // most one ACK per 500 ms, as Linux's TIME-WAIT does; the peer's
    // retransmitted FIN, which it can accept, is answered every time.
    let (mut net, c, s, l) =
        listening_pair(5961, "rate=10mbit,delay=5ms", EndpointConfig::default());
    let (h, sh) = open(&mut net, (c, s), l, SocketAddr::new(CLIENT, 40_000));
    close_in_turn(&mut net, (c, h), (s, sh));
    assert_eq!(net.host(c).ep.time_wait_count(), 1);
    let start = net.now();
    let ep = &mut net.host_mut(c).ep;
    let mut buf = vec![0u8; 2048];
    // Sends `seg` from the server to the client at `at` ms after the
    // close and returns the ACKs the client answers with: (SEQ, ACK).
    let mut exchange = |at: u64, seg: &wire::tcp::TcpRepr<'_>| {
        let now = start + Duration::from_millis(at);
        ep.handle_packet(now, &ipv4_tcp(SERVER, CLIENT, seg));
        let mut acks = Vec::new();
        while let Some(n) = ep.poll_transmit(now, &mut buf) {
            let (_, tcp) = parse_tcp(&buf[..n]).expect("an IPv4 TCP segment");
            assert_eq!(tcp.flags, TcpFlags::ACK);
            acks.push((tcp.seq.0, tcp.ack.0));
        }
        acks
    };
    let far = |seq: u32| {
        segment(
            PORT,
            40_000,
            seq,
            1,
            TcpFlags::ACK,
            1000,
            TcpOptions::NONE,
            b"",
        )
    };
    let first = exchange(0, &far(7));
    assert_eq!(first.len(), 1, "the first is answered");
    let (snd_nxt, rcv_nxt) = first[0];
    let mut answered = 0;
    for i in 0..200u64 {
        // 200 more over two seconds (10 ms apart): four more ticks.
        answered += exchange(10 + i * 10, &far(7 + i as u32)).len();
    }
    assert_eq!(answered, 4, "one per 500 ms");
    assert_eq!(
        net.host(c).ep.stats().time_wait_acks_limited,
        196,
        "the rest were counted"
    );
    let ep = &mut net.host_mut(c).ep;
    let fin = segment(
        PORT,
        40_000,
        rcv_nxt.wrapping_sub(1),
        snd_nxt,
        TcpFlags::FIN | TcpFlags::ACK,
        1000,
        TcpOptions::NONE,
        b"",
    );
    for k in 0..3 {
        let now = start + Duration::from_millis(2_100 + k);
        ep.handle_packet(now, &ipv4_tcp(SERVER, CLIENT, &fin));
        let n = ep
            .poll_transmit(now, &mut buf)
            .expect("the FIN is acknowledged");
        let (_, tcp) = parse_tcp(&buf[..n]).unwrap();
        assert_eq!((tcp.seq.0, tcp.ack.0), (snd_nxt, rcv_nxt), "FIN {k}");
    }
}
