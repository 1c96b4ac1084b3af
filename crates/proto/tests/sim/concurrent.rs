//! 10,000 concurrent connections between two hosts through one listener:
//! all established at the same time, each carrying a little data both
//! ways, all closed, every stream intact.

use std::collections::BTreeSet;
use std::time::Duration;

use proto::conn::State;
use proto::endpoint::EndpointConfig;

use crate::harness::*;

const CONNS: usize = 10_000;

#[test]
fn ten_thousand_connections_through_one_listener() {
    let jobs: Vec<Job> = (0..CONNS as u64)
        .map(|i| Job {
            size: 100 + (i * 37) % 2000,
            seed: i,
        })
        .collect();
    let mut client = Client::new(server_addr(), jobs.clone());
    // Everyone stays open until the test has seen them all established.
    client.hold = true;
    let mut server = Server::new(server_addr(), 1024);
    server.reply = b"thanks, all received".to_vec();
    // Every connect happens at the same instant: the links queue the
    // burst of SYNs instead of dropping it.
    let (mut net, c, s) = two_hosts(
        10_000,
        "rate=1gbit,delay=1ms,queue=unlimited",
        EndpointConfig::default(),
        Box::new(client),
        Box::new(server),
    );

    // Phase 1: every connection established at once.
    let limit = net.now() + Duration::from_secs(60);
    net.run_while(|net| {
        net.now() < limit
            && (app::<Client>(net, c).connected < CONNS || app::<Server>(net, s).accepted < CONNS)
    });
    let established_at = net.now();
    {
        let client = app::<Client>(&net, c);
        let server = app::<Server>(&net, s);
        assert!(
            client.connect_errors.is_empty(),
            "{:?}",
            client.connect_errors
        );
        assert_eq!(client.connected, CONNS, "client side established");
        assert_eq!(server.accepted, CONNS, "server side accepted");
        let sep = &net.host(s).ep;
        assert_eq!(sep.connection_count(), CONNS);
        assert_eq!(sep.half_open_count(), 0);
        let established = server
            .handles()
            .iter()
            .filter(|&&h| {
                sep.status(h)
                    .is_some_and(|st| st.state == State::Established)
            })
            .count();
        assert_eq!(established, CONNS, "all established on the server at once");
        assert_eq!(server.peak_open, CONNS);
        // Every connection has its own ephemeral port.
        let cep = &net.host(c).ep;
        let ports: BTreeSet<u16> = client
            .handles()
            .iter()
            .map(|&h| cep.local_addr(h).unwrap().port())
            .collect();
        assert_eq!(ports.len(), CONNS, "distinct ephemeral ports");
        let st = sep.stats();
        println!(
            "{CONNS} established on both sides at {:?} (simulated); server: {} established \
             at once, {} SYN cookies sent, {} accepted, {} SYNs dropped",
            established_at,
            established,
            st.syn_cookies_sent,
            st.syn_cookies_accepted,
            st.syns_dropped
        );
    }

    // Phase 2: everyone half-closes; the server replies and closes.
    let now = net.now();
    net.host_mut(c)
        .with_app(now, |client: &mut Client, ep| client.release(ep, now));
    let limit = net.now() + Duration::from_secs(300);
    net.run_while(|net| {
        let (ce, se) = (&net.host(c).ep, &net.host(s).ep);
        net.now() < limit
            && (app::<Client>(net, c).finished < CONNS
                || ce.connection_count() > 0
                || se.connection_count() > 0
                || ce.time_wait_count() > 0
                || se.time_wait_count() > 0)
    });
    let client = app::<Client>(&net, c);
    let server = app::<Server>(&net, s);
    assert!(
        client.errors.is_empty(),
        "{:?}",
        &client.errors[..client.errors.len().min(10)]
    );
    assert!(
        server.errors.is_empty(),
        "{:?}",
        &server.errors[..server.errors.len().min(10)]
    );
    assert_eq!(client.finished, CONNS);
    assert!(
        sorted_streams(&server.done) == expected_streams(&jobs),
        "client-to-server streams differ"
    );
    let reply = stream_hash_of(&server.reply);
    assert_eq!(client.replies.len(), CONNS);
    for &(seed, len, hash) in &client.replies {
        assert_eq!(
            (len, hash),
            (server.reply.len() as u64, reply),
            "reply on connection {seed}"
        );
    }
    for id in [c, s] {
        let ep = &net.host(id).ep;
        assert_eq!(ep.connection_count(), 0);
        assert_eq!(ep.time_wait_count(), 0);
        let st = ep.stats();
        assert_eq!(st.connections_opened, st.connections_freed);
    }
    println!(
        "all {CONNS} closed at {:?}; {} packets",
        net.now(),
        net.host_stats(c).sent_packets + net.host_stats(s).sent_packets
    );
}
