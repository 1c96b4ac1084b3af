//! Each impairment, measured over many packets of a toy flow from `a` to
//! `b`. Every run is deterministic (fixed seeds); tolerances are several
//! standard deviations wide so that they do not depend on the exact draws.

mod common;

use std::time::Duration;

use common::*;
use sim::Instant;

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

/// Lengths of the runs of consecutive missing sequence numbers.
fn loss_runs(received: &[u64], count: u64) -> Vec<u64> {
    let mut got = vec![false; count as usize];
    for &s in received {
        got[s as usize] = true;
    }
    let mut runs = Vec::new();
    let mut run = 0;
    for g in got {
        if g {
            if run > 0 {
                runs.push(run);
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    if run > 0 {
        runs.push(run);
    }
    runs
}

#[test]
fn perfect_link_delivers_everything_at_once() {
    let sender = Toy::new(A, B).sending(1000, 100, us(10));
    let (mut net, a, b) = pair(1, sender, "", "");
    run(&mut net);
    let rx = net.host(b);
    assert_eq!(rx.seqs(), (0..1000).collect::<Vec<_>>());
    for arr in &rx.arrivals {
        assert_eq!(arr.at, net.host(a).send_time(arr.seq));
    }
    let up = net.link_stats(net.uplink(a));
    assert_eq!(up.sent_packets, 1000);
    assert_eq!(up.sent_bytes, 100_000);
    assert_eq!(up.delivered_packets, 1000);
    assert_eq!(net.host_stats(a).sent_packets, 1000);
    assert_eq!(net.host_stats(b).received_bytes, 100_000);
    assert_eq!(net.router_stats().forwarded, 1000);
}

#[test]
fn propagation_delay_is_exact_and_adds_up_over_both_links() {
    let sender = Toy::new(A, B).sending(500, 200, us(1000));
    let (mut net, a, b) = pair(2, sender, "delay=20ms", "delay=5ms");
    run(&mut net);
    let rx = net.host(b);
    assert_eq!(rx.arrivals.len(), 500);
    for arr in &rx.arrivals {
        assert_eq!(
            arr.at - net.host(a).send_time(arr.seq),
            Duration::from_millis(25)
        );
    }
}

#[test]
fn serialization_time_follows_the_rate() {
    // 1250 bytes at 10 Mbit/s take exactly 1 ms; at 100 Mbit/s 100 us.
    let sender = Toy::new(A, B).sending(100, 1250, Duration::ZERO);
    let (mut net, a, b) = pair(
        3,
        sender,
        "rate=10mbit,delay=3ms,queue=unlimited",
        "rate=100mbit",
    );
    run(&mut net);
    let rx = net.host(b);
    assert_eq!(rx.seqs(), (0..100).collect::<Vec<_>>());
    for (i, arr) in rx.arrivals.iter().enumerate() {
        // Packet i leaves the uplink after (i+1) ms, crosses 3 ms of
        // propagation, then 100 us on the idle downlink.
        let expected = (i as u64 + 1) * 1000 + 3000 + 100;
        assert_eq!(arr.at, Instant::from_micros(expected), "packet {i}");
    }
    assert_eq!(net.link_stats(net.uplink(a)).max_queue, 99);
}

#[test]
fn rate_limits_throughput_and_the_queue_overflows() {
    // Offer 2000 packets/s of 1250 bytes (20 Mbit/s) to a 10 Mbit/s link
    // with a 50-packet queue, for one second.
    let sender = Toy::new(A, B).sending(2000, 1250, us(500));
    let (mut net, a, b) = pair(4, sender, "rate=10mbit,queue=50", "");
    run(&mut net);
    let rx = net.host(b);
    let up = net.link_stats(net.uplink(a));
    assert_eq!(up.sent_packets, 2000);
    assert_eq!(up.delivered_packets + up.dropped_queue, 2000);
    assert_eq!(up.max_queue, 50);
    // The link is busy from the first packet on: 1000 packets in the
    // second of sending, plus the 50 queued and the one in transmission
    // when the sender stops.
    let delivered = rx.arrivals.len() as u64;
    assert!((1040..=1060).contains(&delivered), "delivered {delivered}");
    // Back to back, exactly one serialization time apart, in order.
    for w in rx.arrivals.windows(2) {
        assert_eq!(w[1].at - w[0].at, Duration::from_millis(1));
        assert!(w[0].seq < w[1].seq);
    }
    let seconds = (rx.arrivals.last().unwrap().at - rx.arrivals[0].at).as_secs_f64();
    let bits = (delivered - 1) as f64 * 1250.0 * 8.0;
    let rate = bits / seconds;
    assert!((rate - 10e6).abs() < 1.0, "rate {rate}");
}

#[test]
fn drop_tail_queue_limit() {
    for (queue, delivered) in [(10u64, 11u64), (0, 1), (1, 2)] {
        let sender = Toy::new(A, B).sending(100, 1000, Duration::ZERO);
        let spec = format!("rate=1mbit,queue={queue}");
        let (mut net, a, b) = pair(5, sender, &spec, "");
        run(&mut net);
        assert_eq!(
            net.host(b).seqs(),
            (0..delivered).collect::<Vec<_>>(),
            "{spec}"
        );
        let up = net.link_stats(net.uplink(a));
        assert_eq!(up.dropped_queue, 100 - delivered, "{spec}");
        assert_eq!(up.max_queue, queue, "{spec}");
    }
    // Without a rate nothing waits, so a zero queue drops nothing.
    let sender = Toy::new(A, B).sending(100, 1000, Duration::ZERO);
    let (mut net, _, b) = pair(5, sender, "queue=0", "");
    run(&mut net);
    assert_eq!(net.host(b).arrivals.len(), 100);
}

#[test]
fn random_loss_rate() {
    let n = 100_000;
    let sender = Toy::new(A, B).sending(n, 64, us(10));
    let (mut net, a, b) = pair(6, sender, "loss=0.05", "");
    run(&mut net);
    let lost = n - net.host(b).arrivals.len() as u64;
    assert_eq!(lost, net.link_stats(net.uplink(a)).dropped_loss);
    // Binomial: mean 5000, standard deviation 69.
    assert!((4650..=5350).contains(&lost), "lost {lost}");
    // Independent losses: runs are short (mean 1 / (1 - 0.05)).
    let runs = loss_runs(&net.host(b).seqs(), n);
    let mean = lost as f64 / runs.len() as f64;
    assert!((1.0..1.1).contains(&mean), "mean run {mean}");
}

#[test]
fn bursty_loss_keeps_the_rate_and_lengthens_bursts() {
    let n = 200_000;
    let sender = Toy::new(A, B).sending(n, 64, us(10));
    let (mut net, a, b) = pair(7, sender, "loss=0.05,burst=0.8", "");
    run(&mut net);
    let lost = n - net.host(b).arrivals.len() as u64;
    assert_eq!(lost, net.link_stats(net.uplink(a)).dropped_loss);
    // Stationary loss 5%: 10000 expected; bursts make it vary more.
    assert!((9000..=11000).contains(&lost), "lost {lost}");
    // Mean burst length 1 / (1 - 0.8) = 5.
    let runs = loss_runs(&net.host(b).seqs(), n);
    let mean = lost as f64 / runs.len() as f64;
    assert!((4.5..5.5).contains(&mean), "mean burst {mean}");
    // Geometric: P(length >= 2) = 0.8.
    let long = runs.iter().filter(|&&r| r >= 2).count() as f64 / runs.len() as f64;
    assert!((0.75..0.85).contains(&long), "P(burst>=2) {long}");
}

#[test]
fn duplication() {
    let n = 50_000;
    let sender = Toy::new(A, B).sending(n, 64, us(10));
    let (mut net, a, b) = pair(8, sender, "dup=0.02", "");
    run(&mut net);
    let seqs = net.host(b).seqs();
    let dups = seqs.len() as u64 - n;
    assert_eq!(dups, net.link_stats(net.uplink(a)).duplicated);
    // Mean 1000, standard deviation 31.
    assert!((850..=1150).contains(&dups), "dups {dups}");
    // Every packet arrives, a duplicate right after its original.
    let mut dedup = seqs.clone();
    dedup.dedup();
    assert_eq!(dedup, (0..n).collect::<Vec<_>>());
    let arrivals = &net.host(b).arrivals;
    for w in arrivals.windows(2) {
        if w[0].seq == w[1].seq {
            assert_eq!(w[0].at, w[1].at);
        }
    }
}

#[test]
fn corruption_flips_exactly_one_bit() {
    let n = 50_000;
    let size = 100;
    let mut sender = Toy::new(A, B).sending(n, size, us(10));
    sender.keep_bytes = false;
    let (mut net, _, b) = pair(9, sender, "", "corrupt=0.01");
    net.host_mut(b).keep_bytes = true;
    run(&mut net);
    let rx = net.host(b);
    assert_eq!(rx.arrivals.len() as u64, n);
    let mut flipped = 0;
    for (i, arr) in rx.arrivals.iter().enumerate() {
        // No loss or reordering: the i-th arrival is packet i.
        let sent = build_packet(A, B, i as u64, size);
        let distance: u32 = sent
            .iter()
            .zip(&arr.bytes)
            .map(|(x, y)| (x ^ y).count_ones())
            .sum();
        assert!(distance <= 1, "packet {i} differs in {distance} bits");
        if distance == 1 {
            flipped += 1;
            // A flip in the IPv4 header breaks its checksum.
            let in_header = sent[..20] != arr.bytes[..20];
            assert_eq!(checksum(&arr.bytes[..20]) != 0, in_header);
        }
    }
    assert_eq!(flipped, net.link_stats(net.downlink(b)).corrupted);
    // Mean 500, standard deviation 22.
    assert!((400..=600).contains(&flipped), "flipped {flipped}");
}

/// How many packets arrive after one with a higher sequence number.
fn count_late(arrivals: &[Arrival]) -> u64 {
    let mut max = None;
    let mut late = 0;
    for a in arrivals {
        if max.is_some_and(|m| a.seq < m) {
            late += 1;
        }
        max = max.max(Some(a.seq));
    }
    late
}

#[test]
fn reordered_packets_are_late_never_early() {
    // With jitter, a held-back packet still waits for the packets ahead of
    // it: only the reordered packets themselves arrive out of order.
    let n = 20_000;
    let sender = Toy::new(A, B).sending(n, 100, us(100));
    let spec = "delay=10ms,jitter=3ms,reorder=0.05,reorder_delay=150us";
    let (mut net, a, b) = pair(14, sender, spec, "");
    run(&mut net);
    let late = count_late(&net.host(b).arrivals);
    let reordered = net.link_stats(net.uplink(a)).reordered;
    assert!(late <= reordered, "{late} late, {reordered} reordered");
    assert!(late > reordered / 4, "{late} late, {reordered} reordered");
}

#[test]
fn reordering_happens_only_with_reorder() {
    let n = 20_000;
    // Jitter, rate and loss alone never reorder.
    let sender = Toy::new(A, B).sending(n, 500, us(100));
    let (mut net, _, b) = pair(10, sender, "rate=50mbit,delay=10ms,jitter=5ms,loss=0.1", "");
    run(&mut net);
    assert_eq!(count_late(&net.host(b).arrivals), 0);

    let sender = Toy::new(A, B).sending(n, 500, us(100));
    let (mut net, a, b) = pair(10, sender, "delay=10ms,reorder=0.05", "");
    run(&mut net);
    let rx = net.host(b);
    assert_eq!(rx.arrivals.len() as u64, n);
    let reordered = net.link_stats(net.uplink(a)).reordered;
    // Held back 2.5 ms (the default, delay / 4) while packets follow every
    // 100 us: every held-back packet is overtaken, and only those.
    assert_eq!(count_late(&rx.arrivals), reordered);
    // Mean 1000, standard deviation 31.
    assert!((850..=1150).contains(&reordered), "reordered {reordered}");
    for arr in &rx.arrivals {
        let took = arr.at - net.host(a).send_time(arr.seq);
        assert!(
            took == Duration::from_millis(10) || took == Duration::from_micros(12_500),
            "{took:?}"
        );
    }
}

#[test]
fn explicit_reorder_delay() {
    let sender = Toy::new(A, B).sending(2000, 100, us(100));
    let (mut net, a, b) = pair(11, sender, "delay=1ms,reorder=0.1,reorder_delay=350us", "");
    run(&mut net);
    let mut held = 0;
    for arr in &net.host(b).arrivals {
        let took = arr.at - net.host(a).send_time(arr.seq);
        if took != Duration::from_millis(1) {
            assert_eq!(took, Duration::from_micros(1350));
            held += 1;
        }
    }
    assert_eq!(held, net.link_stats(net.uplink(a)).reordered);
    assert!(held > 100);
}

/// One-way delays of the arrivals at `b`, in microseconds.
fn delays_us(net: &sim::Network<Toy>, a: sim::HostId, b: sim::HostId) -> Vec<u64> {
    net.host(b)
        .arrivals
        .iter()
        .map(|arr| (arr.at - net.host(a).send_time(arr.seq)).as_micros() as u64)
        .collect()
}

#[test]
fn jitter_is_uniform_when_packets_are_far_apart() {
    // 20 ms between packets, more than the jitter: FIFO never binds.
    let n = 5_000;
    let sender = Toy::new(A, B).sending(n, 100, Duration::from_millis(20));
    let (mut net, a, b) = pair(12, sender, "delay=10ms,jitter=5ms", "");
    run(&mut net);
    let delays = delays_us(&net, a, b);
    assert_eq!(delays.len() as u64, n);
    assert!(delays.iter().all(|d| (10_000..=15_000).contains(d)));
    assert!(delays.iter().any(|&d| d < 10_050));
    assert!(delays.iter().any(|&d| d > 14_950));
    // Uniform on [10, 15] ms: mean 12.5 ms, standard error 20 us.
    let mean = delays.iter().sum::<u64>() as f64 / n as f64;
    assert!((12_400.0..12_600.0).contains(&mean), "mean {mean}");
}

#[test]
fn jitter_never_reorders() {
    // 100 us between packets, 5 ms of jitter: without FIFO many packets
    // would overtake; with it, order is kept and packets wait behind slower
    // ones, so delays stay in range but lean towards the maximum.
    let n = 20_000;
    let sender = Toy::new(A, B).sending(n, 100, us(100));
    let (mut net, a, b) = pair(12, sender, "delay=10ms,jitter=5ms", "");
    run(&mut net);
    assert_eq!(net.host(b).seqs(), (0..n).collect::<Vec<_>>());
    for w in net.host(b).arrivals.windows(2) {
        assert!(w[0].at <= w[1].at);
    }
    let delays = delays_us(&net, a, b);
    assert!(delays.iter().all(|d| (10_000..=15_000).contains(d)));
    let mean = delays.iter().sum::<u64>() as f64 / n as f64;
    assert!((13_000.0..15_000.0).contains(&mean), "mean {mean}");
    assert_eq!(net.link_stats(net.uplink(a)).reordered, 0);
}

#[test]
fn combined_impairments_account_for_every_packet() {
    let n = 30_000;
    let sender = Toy::new(A, B).sending(n, 700, us(50));
    let spec = "rate=100mbit,delay=20ms,jitter=2ms,queue=64,loss=0.01,burst=0.3,\
                reorder=0.02,dup=0.01,corrupt=0.001";
    let (mut net, a, b) = pair(13, sender, spec, spec);
    run(&mut net);
    let up = net.link_stats(net.uplink(a));
    let down = net.link_stats(net.downlink(b));
    assert_eq!(
        up.sent_packets + up.duplicated,
        up.delivered_packets + up.dropped_loss + up.dropped_queue + up.dropped_filter
    );
    let r = net.router_stats();
    assert_eq!(
        r.forwarded + r.unroutable + r.malformed,
        up.delivered_packets
    );
    assert_eq!(down.sent_packets, r.forwarded);
    assert_eq!(
        down.sent_packets + down.duplicated,
        down.delivered_packets + down.dropped_loss + down.dropped_queue + down.dropped_filter
    );
    assert_eq!(net.host(b).arrivals.len() as u64, down.delivered_packets);
    for s in [up, down] {
        assert!(s.dropped_loss > 0 && s.duplicated > 0 && s.reordered > 0 && s.corrupted > 0);
    }
}
