//! Limits that protect memory refuse cleanly: `connect` beyond
//! `max_connections` is an error, SYNs beyond it are dropped and the
//! clients time out, a full accept queue drops SYNs until the application
//! accepts (the clients' retransmissions then get in), and with SYN
//! cookies the overflow ends in ordinary errors. Nothing panics, and the
//! server never holds more than its limits.

use std::time::Duration;

use proto::conn::{CloseReason, Config};
use proto::endpoint::{EndpointConfig, EndpointError};
use sim::Network;

use crate::harness::*;

#[test]
fn connect_beyond_max_connections_is_refused() {
    let config = EndpointConfig {
        max_connections: 3,
        ..EndpointConfig::default()
    };
    let (mut net, c, _s) = two_hosts(
        1,
        "rate=10mbit,delay=5ms",
        config,
        Box::new(Idle),
        Box::new(Server::new(server_addr(), 8)),
    );
    let now = net.now();
    let ep = &mut net.host_mut(c).ep;
    let hs: Vec<_> = (0..3)
        .map(|_| ep.connect(now, server_addr(), None).unwrap())
        .collect();
    assert_eq!(
        ep.connect(now, server_addr(), None),
        Err(EndpointError::TooManyConnections)
    );
    // An aborted connection gives its place back.
    ep.abort(hs[0]);
    assert_eq!(ep.connection_count(), 2);
    assert!(ep.connect(now, server_addr(), None).is_ok());
}

/// Runs until every client connection has ended, sampling the server's
/// connection count; returns its peak.
fn run_sampling(
    net: &mut Network<SimHost>,
    c: sim::HostId,
    s: sim::HostId,
    limit: Duration,
) -> usize {
    let end = net.now() + limit;
    let mut peak = 0;
    net.run_while(|net| {
        peak = peak.max(net.host(s).ep.connection_count());
        net.now() < end && app::<Client>(net, c).finished < app::<Client>(net, c).jobs().len()
    });
    peak
}

fn jobs(n: u64) -> Vec<Job> {
    (0..n)
        .map(|i| Job {
            size: 1000 + i,
            seed: i,
        })
        .collect()
}

#[test]
fn syns_beyond_max_connections_are_dropped() {
    const MAX: usize = 5;
    let server_config = EndpointConfig {
        max_connections: MAX,
        ..EndpointConfig::default()
    };
    let client_config = EndpointConfig {
        conn: Config {
            syn_retries: 2,
            ..Config::default()
        },
        ..EndpointConfig::default()
    };
    let mut net: Network<SimHost> = Network::new(2);
    let link: sim::LinkSpec = "rate=10mbit,delay=5ms".parse().unwrap();
    let s = net.add_host(
        SimHost::new(
            server_config,
            SERVER,
            Box::new(Server::new(server_addr(), 64)),
        ),
        &[SERVER],
        link.clone(),
        link.clone(),
    );
    let mut client = Client::new(server_addr(), jobs(8));
    // The first five stay open, holding the server at its limit.
    client.hold = true;
    let c = net.add_host(
        SimHost::new(client_config, CLIENT, Box::new(client)),
        &[CLIENT],
        link.clone(),
        link,
    );
    let now = net.now();
    net.host_mut(s).kick(now);
    net.host_mut(c).kick(now);
    // The three others give up after their SYN retries (1 + 2 + 4 s).
    let end = net.now() + Duration::from_secs(30);
    let mut peak = 0;
    net.run_while(|net| {
        peak = peak.max(net.host(s).ep.connection_count());
        net.now() < end && app::<Client>(net, c).errors.len() < 3
    });
    let client = app::<Client>(&net, c);
    assert_eq!(
        client.errors.iter().map(|e| e.1).collect::<Vec<_>>(),
        [CloseReason::TimedOut; 3]
    );
    assert_eq!(client.connected, MAX);
    let st = net.host(s).ep.stats();
    assert!(
        st.syns_dropped >= 3 * 3,
        "every SYN of the three was dropped: {st:?}"
    );
    assert_eq!(st.resets_sent, 0, "dropped, not refused");
    // Then the five finish.
    let now = net.now();
    net.host_mut(c)
        .with_app(now, |client: &mut Client, ep| client.release(ep, now));
    peak = peak.max(run_sampling(&mut net, c, s, Duration::from_secs(30)));
    assert!(peak <= MAX, "peak {peak}");
    let server = app::<Server>(&net, s);
    assert_eq!(server.done.len(), MAX);
    let all = jobs(8);
    let mut expected = expected_streams(&all);
    let got = sorted_streams(&server.done);
    expected.retain(|e| got.contains(e));
    assert_eq!(got, expected, "the five streams are intact");
}

/// A server that listens with a backlog of 2 and accepts only once the
/// test says so.
struct Lazy {
    inner: Server,
    accepting: bool,
}

impl App for Lazy {
    fn run(
        &mut self,
        ep: &mut proto::endpoint::Endpoint,
        now: wire::Instant,
        events: &[proto::endpoint::EndpointEvent],
    ) {
        if self.inner.listener.is_none() {
            self.inner.listener = Some(ep.listen(server_addr(), self.inner.backlog).unwrap());
        }
        if self.accepting {
            // Incoming events that came while we did not accept are gone:
            // look at the queue now.
            let mut events = events.to_vec();
            events.push(proto::endpoint::EndpointEvent::Incoming(
                self.inner.listener.unwrap(),
            ));
            self.inner.run(ep, now, &events);
        }
    }
}

/// Six clients against a backlog of 2 that the application does not
/// accept from for two seconds; returns the server's peak connection
/// count while it did not accept.
fn backlog_run(cookies: bool) -> (Network<SimHost>, sim::HostId, sim::HostId, usize) {
    let config = EndpointConfig {
        syn_cookies: cookies,
        ..EndpointConfig::default()
    };
    let lazy = Lazy {
        inner: Server::new(server_addr(), 2),
        accepting: false,
    };
    let (mut net, c, s) = two_hosts(
        3,
        "rate=10mbit,delay=5ms",
        config,
        Box::new(Client::new(server_addr(), jobs(6))),
        Box::new(lazy),
    );
    // Two seconds without accepting.
    let end = net.now() + Duration::from_secs(2);
    let mut peak = 0;
    net.run_while(|net| {
        peak = peak.max(net.host(s).ep.connection_count());
        net.now() < end
    });
    let ep = &net.host(s).ep;
    assert!(ep.stats().syns_dropped > 0, "{:?}", ep.stats());
    // Then accept everything.
    let now = net.now();
    net.host_mut(s)
        .with_app(now, |lazy: &mut Lazy, _| lazy.accepting = true);
    run_sampling(&mut net, c, s, Duration::from_secs(120));
    (net, c, s, peak)
}

#[test]
fn a_full_accept_queue_drops_syns_until_the_application_accepts() {
    let (net, c, s, peak) = backlog_run(false);
    // Two in the accept queue, at most two half-open beside them: the
    // other SYNs were dropped (and retransmitted).
    assert!(peak <= 4, "peak {peak}");
    let client = app::<Client>(&net, c);
    assert!(client.errors.is_empty(), "{:?}", client.errors);
    let lazy = app::<Lazy>(&net, s);
    assert_eq!(sorted_streams(&lazy.inner.done), expected_streams(&jobs(6)));
    println!(
        "backlog 2, no cookies: server peak {peak} connections, {:?}",
        net.host(s).ep.stats()
    );
}

#[test]
fn with_cookies_the_overflow_ends_in_ordinary_errors() {
    let (net, c, s, peak) = backlog_run(true);
    assert!(peak <= 4, "peak {peak}");
    let client = app::<Client>(&net, c);
    let lazy = app::<Lazy>(&net, s);
    assert_eq!(client.finished, 6, "every connection ended");
    for (_, e) in &client.errors {
        assert!(
            matches!(
                e,
                CloseReason::Reset | CloseReason::Refused | CloseReason::TimedOut
            ),
            "{e:?}"
        );
    }
    // What got through is intact.
    let all = expected_streams(&jobs(6));
    for d in &lazy.inner.done {
        assert!(all.contains(d), "a stream arrived damaged: {d:?}");
    }
    assert_eq!(lazy.inner.done.len() + client.errors.len(), 6);
    println!(
        "backlog 2 with cookies: server peak {peak}; {} streams delivered, client errors {:?}; {:?}",
        lazy.inner.done.len(),
        client.errors,
        net.host(s).ep.stats()
    );
}
