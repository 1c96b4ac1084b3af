//! The network itself: routing, the event loop, host timers, filters and
//! spec changes.

mod common;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use sim::{Host, Instant, LinkSpec, Network, Verdict};

/// Sends the packets it is given, at the time it is given them (through
/// `host_mut`), and records what it receives.
#[derive(Default)]
struct Manual {
    outbox: VecDeque<Vec<u8>>,
    inbox: Vec<(Instant, Vec<u8>)>,
}

impl Host for Manual {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        self.inbox.push((now, packet.to_vec()));
    }
    fn poll_transmit(&mut self, _: Instant, buf: &mut [u8]) -> Option<usize> {
        let p = self.outbox.pop_front()?;
        buf[..p.len()].copy_from_slice(&p);
        Some(p.len())
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
}

fn ipv6_packet(dst: Ipv6Addr, len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len.max(40)];
    p[0] = 0x60;
    let payload = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&payload.to_be_bytes());
    p[6] = 59; // no next header
    p[7] = 64;
    p[24..40].copy_from_slice(&dst.octets());
    p
}

#[test]
fn routes_ipv4_and_ipv6_and_counts_the_rest() {
    let mut net: Network<Manual> = Network::new(1);
    let v6a: Ipv6Addr = "fd00::1".parse().unwrap();
    let v6b: Ipv6Addr = "fd00::2".parse().unwrap();
    let a = net.add_host(
        Manual::default(),
        &[IpAddr::V4(A), IpAddr::V6(v6a)],
        LinkSpec::default(),
        LinkSpec::default(),
    );
    let b = net.add_host(
        Manual::default(),
        &[IpAddr::V4(B), IpAddr::V6(v6b)],
        LinkSpec::default(),
        LinkSpec::default(),
    );
    assert_eq!(net.host_by_addr(IpAddr::V6(v6b)), Some(b));
    assert_eq!(net.addrs(a), &[IpAddr::V4(A), IpAddr::V6(v6a)]);

    let outbox = &mut net.host_mut(a).outbox;
    outbox.push_back(build_packet(A, B, 1, 60)); // to b
    outbox.push_back(ipv6_packet(v6b, 80)); // to b
    outbox.push_back(ipv6_packet(v6a, 40)); // to itself
    outbox.push_back(build_packet(A, Ipv4Addr::new(192, 0, 2, 1), 2, 60)); // nowhere
    outbox.push_back(vec![0x45; 19]); // IPv4 too short
    outbox.push_back(vec![0x60; 39]); // IPv6 too short
    outbox.push_back(vec![]); // empty
    outbox.push_back(vec![0x20; 100]); // version 2
    run_manual(&mut net);

    assert_eq!(net.host(b).inbox.len(), 2);
    assert_eq!(net.host(b).inbox[1].1, ipv6_packet(v6b, 80));
    assert_eq!(net.host(a).inbox.len(), 1);
    let r = net.router_stats();
    assert_eq!((r.forwarded, r.unroutable, r.malformed), (3, 1, 4));

    // A default route catches what no host has.
    net.set_default_route(Some(b));
    net.host_mut(a)
        .outbox
        .push_back(build_packet(A, Ipv4Addr::new(192, 0, 2, 1), 3, 60));
    run_manual(&mut net);
    assert_eq!(net.host(b).inbox.len(), 3);
    assert_eq!(net.router_stats().unroutable, 1);
}

fn run_manual(net: &mut Network<Manual>) {
    assert!(net.run_until_idle(Instant::from_secs(100)));
}

#[test]
#[should_panic(expected = "already")]
fn duplicate_addresses_panic() {
    let mut net: Network<Manual> = Network::new(1);
    let spec = LinkSpec::default();
    net.add_host(
        Manual::default(),
        &[IpAddr::V4(A)],
        spec.clone(),
        spec.clone(),
    );
    net.add_host(Manual::default(), &[IpAddr::V4(A)], spec.clone(), spec);
}

#[test]
fn host_mut_polls_at_the_current_time() {
    let mut net: Network<Manual> = Network::new(1);
    let d: LinkSpec = "delay=10ms".parse().unwrap();
    let a = net.add_host(Manual::default(), &[IpAddr::V4(A)], d.clone(), d.clone());
    let b = net.add_host(Manual::default(), &[IpAddr::V4(B)], d.clone(), d);
    net.run_until(Instant::from_millis(500));
    assert_eq!(net.now(), Instant::from_millis(500));
    net.host_mut(a).outbox.push_back(build_packet(A, B, 0, 50));
    assert_eq!(net.next_event_time(), Some(Instant::from_millis(500)));
    net.run_until(Instant::from_secs(1));
    assert_eq!(net.host(b).inbox[0].0, Instant::from_millis(520));
    // Nothing left: step reports it and the clock stays.
    assert!(!net.step());
    assert_eq!(net.now(), Instant::from_secs(1));
    // run_until never moves the clock back.
    net.run_until(Instant::from_millis(3));
    assert_eq!(net.now(), Instant::from_secs(1));
}

/// A host whose deadline is set from the outside.
#[derive(Default)]
struct Timed {
    deadline: Option<Instant>,
    fired: Vec<Instant>,
    /// Each receive pushes the deadline to now + this (like an RTO).
    push_back: Option<Duration>,
    received: u64,
}

impl Host for Timed {
    fn receive(&mut self, now: Instant, _: &[u8]) {
        self.received += 1;
        if let Some(d) = self.push_back {
            self.deadline = Some(now + d);
        }
    }
    fn poll_transmit(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
        None
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.deadline
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.fired.push(now);
        self.deadline = None;
    }
}

#[test]
fn timers_fire_at_their_deadline_and_follow_changes() {
    let mut net: Network<Timed> = Network::new(1);
    let t = net.add_host(
        Timed::default(),
        &[IpAddr::V4(A)],
        LinkSpec::default(),
        LinkSpec::default(),
    );
    net.host_mut(t).deadline = Some(Instant::from_millis(100));
    net.run_until(Instant::from_millis(50));
    // Moved earlier.
    net.host_mut(t).deadline = Some(Instant::from_millis(70));
    net.run_until(Instant::from_millis(80));
    assert_eq!(net.host(t).fired, [Instant::from_millis(70)]);
    // The stale event at 100 ms does nothing.
    net.run_until(Instant::from_millis(200));
    assert_eq!(net.host(t).fired.len(), 1);
    // Moved later, then cancelled.
    net.host_mut(t).deadline = Some(Instant::from_millis(300));
    net.run_until(Instant::from_millis(250));
    net.host_mut(t).deadline = Some(Instant::from_millis(400));
    net.run_until(Instant::from_millis(350));
    assert_eq!(net.host(t).fired.len(), 1);
    net.run_until(Instant::from_millis(450));
    assert_eq!(net.host(t).fired[1], Instant::from_millis(400));
    net.host_mut(t).deadline = Some(Instant::from_millis(500));
    net.step();
    net.host_mut(t).deadline = None;
    assert!(net.run_until_idle(Instant::from_secs(10)));
    assert_eq!(net.host(t).fired.len(), 2);
    // A deadline in the past fires now.
    net.host_mut(t).deadline = Some(Instant::from_millis(1));
    let now = net.now();
    net.run_until(now);
    assert_eq!(*net.host(t).fired.last().unwrap(), now);
    assert_eq!(net.host_stats(t).timeouts, 3);
}

#[test]
fn a_deadline_pushed_back_on_every_packet_fires_once_and_costs_no_events() {
    // Like a retransmission timer re-armed by every ACK: 10 000 packets,
    // each pushing the deadline 200 ms past its arrival.
    let mut net: Network<Box<dyn Host>> = Network::new(1);
    let spec = LinkSpec::default();
    net.add_host(
        Box::new(Toy::new(A, B).sending(10_000, 64, Duration::from_micros(100))),
        &[IpAddr::V4(A)],
        spec.clone(),
        spec.clone(),
    );
    let rx = Timed {
        push_back: Some(Duration::from_millis(200)),
        ..Timed::default()
    };
    let b = net.add_host(Box::new(rx), &[IpAddr::V4(B)], spec.clone(), spec);
    let mut max_pending = 0;
    while net.step() {
        max_pending = max_pending.max(net.pending_events());
    }
    // A handful of events at any time, not one per re-arm.
    assert!(max_pending <= 4, "max pending {max_pending}");
    assert_eq!(net.host_stats(b).timeouts, 1);
    assert_eq!(net.host_stats(b).received_packets, 10_000);
    // Last packet sent at 999.9 ms; the timer fires 200 ms later.
    assert_eq!(net.now(), Instant::from_micros(999_900 + 200_000));
}

#[test]
fn drop_next_drops_one_matching_packet() {
    let sender = Toy::new(A, B).sending(100, 64, Duration::from_millis(1));
    let (mut net, a, b) = pair(1, sender, "", "");
    let is_seq_7 = |p: &[u8]| p.get(SEQ_AT + 7) == Some(&7);
    net.drop_next(net.uplink(a), is_seq_7);
    net.drop_next(net.downlink(b), |p: &[u8]| {
        p.get(SEQ_AT + 7).is_some_and(|&s| s >= 50)
    });
    run(&mut net);
    let seqs = net.host(b).seqs();
    assert_eq!(seqs.len(), 98);
    assert!(!seqs.contains(&7) && !seqs.contains(&50));
    assert_eq!(net.link_stats(net.uplink(a)).dropped_filter, 1);
    assert_eq!(net.link_stats(net.downlink(b)).dropped_filter, 1);
    // The sender's capture would still show it: the host did send it.
    assert_eq!(net.host_stats(a).sent_packets, 100);
}

#[test]
fn filters_see_the_time_and_can_be_cleared() {
    let sender = Toy::new(A, B).sending(100, 64, Duration::from_millis(1));
    let (mut net, a, b) = pair(1, sender, "", "");
    let seen = Arc::new(AtomicU64::new(0));
    let seen2 = seen.clone();
    // An outage from 20 ms to 30 ms.
    net.add_filter(net.uplink(a), move |now, _| {
        seen2.fetch_add(1, Ordering::Relaxed);
        if (Instant::from_millis(20)..Instant::from_millis(30)).contains(&now) {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    net.run_until(Instant::from_millis(60));
    net.clear_filters(net.uplink(a));
    run(&mut net);
    assert_eq!(seen.load(Ordering::Relaxed), 61);
    let seqs = net.host(b).seqs();
    assert_eq!(seqs.len(), 90);
    assert!((20..30).all(|s| !seqs.contains(&s)));
}

#[test]
fn a_filter_that_passes_everything_changes_nothing() {
    let spec = "loss=0.3";
    let lost_without = {
        let (mut net, a, b) = pair(
            3,
            Toy::new(A, B).sending(1000, 64, Duration::from_millis(1)),
            spec,
            "",
        );
        run(&mut net);
        assert_eq!(net.link_stats(net.uplink(a)).dropped_filter, 0);
        net.host(b).seqs()
    };
    let (mut net, a, b) = pair(
        3,
        Toy::new(A, B).sending(1000, 64, Duration::from_millis(1)),
        spec,
        "",
    );
    net.add_filter(net.uplink(a), |_, _| Verdict::Pass);
    run(&mut net);
    assert_eq!(net.host(b).seqs(), lost_without);
}

#[test]
fn link_spec_changes_apply_to_later_packets() {
    let sender = Toy::new(A, B).sending(100, 64, Duration::from_millis(1));
    let (mut net, a, b) = pair(1, sender, "delay=5ms", "");
    net.run_until(Instant::from_micros(49_500));
    net.set_link_spec(net.uplink(a), "delay=1ms".parse().unwrap());
    assert_eq!(net.link_spec(net.uplink(a)).delay, Duration::from_millis(1));
    run(&mut net);
    let rx = net.host(b);
    for arr in &rx.arrivals {
        let took = arr.at - Instant::from_millis(arr.seq);
        let expected = if arr.seq < 50 { 5 } else { 1 };
        // FIFO: packets sent just after the change wait for those before.
        assert!(
            took >= Duration::from_millis(expected),
            "{} took {took:?}",
            arr.seq
        );
    }
    assert_eq!(rx.arrivals[99].at, Instant::from_millis(100));
    assert_eq!(rx.arrivals[49].at, Instant::from_millis(54));
    assert_eq!(rx.arrivals[50].at, Instant::from_millis(54));
    assert_eq!(rx.arrivals[54].at, Instant::from_millis(55));
}

#[test]
fn run_while_stops_on_the_condition() {
    let sender = Toy::new(A, B).sending(100, 64, Duration::from_millis(1));
    let (mut net, _, b) = pair(1, sender, "delay=10ms", "");
    assert!(net.run_while(|n| n.host(b).arrivals.len() < 10));
    assert_eq!(net.host(b).arrivals.len(), 10);
    assert_eq!(net.now(), Instant::from_millis(19));
    assert!(!net.run_while(|_| true));
    assert_eq!(net.host(b).arrivals.len(), 100);
}

#[test]
fn run_until_idle_stops_at_the_limit() {
    let sender = Toy::new(A, B).sending(100, 64, Duration::from_millis(1));
    let (mut net, _, b) = pair(1, sender, "", "");
    assert!(!net.run_until_idle(Instant::from_micros(49_999)));
    assert_eq!(net.host(b).arrivals.len(), 50);
    assert!(net.run_until_idle(Instant::from_secs(1)));
    assert_eq!(net.host(b).arrivals.len(), 100);
}

#[test]
fn network_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Network<Toy>>();
}

#[test]
fn host_seeds_are_deterministic_and_distinct() {
    let net: Network<Toy> = Network::new(5);
    assert_eq!(net.seed(), 5);
    assert_eq!(net.derive_seed(1), Network::<Toy>::new(5).derive_seed(1));
    assert_ne!(net.derive_seed(1), net.derive_seed(2));
    assert_ne!(net.derive_seed(1), Network::<Toy>::new(6).derive_seed(1));
}
