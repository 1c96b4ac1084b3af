//! The integrity matrix: transfers through two endpoints on impaired
//! links, many seeds per cell. Every byte arrives exactly once and in
//! order (the hash of each stream matches), every connection ends (both
//! endpoints hold no connection and no TIME-WAIT entry) within a bound of
//! simulated time, and nothing panics.
//!
//! The default run covers every condition and buffer size with the small
//! streams (0 B, 1 B, 64 KiB, run together in one simulation) and 4 MiB on
//! a subset of conditions, 20 seeds each; `SYNACK_SOAK=1` runs every cell
//! with 4 MiB and 100 seeds (about 6 CPU-minutes in a debug build).
//!
//! Impairments sit on the uplinks only, so each direction of the path
//! crosses exactly one impaired link: "loss 20 %" loses a fifth of the
//! data segments and a fifth of the ACKs, not 36 % of each.

use std::time::Duration;

use proto::conn::Config;
use proto::endpoint::EndpointConfig;

use crate::harness::*;

const SMALL_BUF: usize = 8 * 1024;
const LARGE_BUF: usize = 1024 * 1024;
const SMALL_SIZES: [u64; 3] = [0, 1, 64 * 1024];
const BIG: u64 = 4 * 1024 * 1024;

const LINK: &str = "rate=100mbit,delay=5ms";

/// What one simulation measured.
#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    /// Simulated time until both endpoints were empty.
    sim: Duration,
    /// Packets the two hosts sent.
    packets: u64,
}

/// Runs the streams `sizes` from client to server at once, both uplinks
/// with `spec` (the downlinks plain [`LINK`], so each direction crosses
/// one impaired link), both ends' buffers of `buf` bytes; checks
/// everything.
fn transfer(
    seed: u64,
    spec: &str,
    buf: usize,
    sizes: &[u64],
    bound: Duration,
) -> Result<Outcome, String> {
    transfer_checked(seed, spec, buf, sizes, bound, true)
}

/// [`transfer`], with the endpoints verifying checksums or not.
fn transfer_checked(
    seed: u64,
    spec: &str,
    buf: usize,
    sizes: &[u64],
    bound: Duration,
    verify_checksums: bool,
) -> Result<Outcome, String> {
    let config = EndpointConfig {
        verify_checksums,
        conn: Config {
            send_buffer: buf,
            recv_buffer: buf,
            // At 20 % loss each way a handshake fails 7 times in a row
            // about once in a thousand connections: that is TCP working
            // (ETIMEDOUT), not a lost byte, and not what this test is
            // about.
            syn_retries: 12,
            ..Config::default()
        },
        ..EndpointConfig::default()
    };
    let jobs: Vec<Job> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| Job {
            size,
            seed: seed * 16 + i as u64,
        })
        .collect();
    let up: sim::LinkSpec = spec.parse().unwrap();
    let down: sim::LinkSpec = LINK.parse().unwrap();
    let (mut net, c, s) = two_hosts_with(
        seed,
        up,
        down,
        config,
        Box::new(Client::new(server_addr(), jobs.clone())),
        Box::new(Server::new(server_addr(), 16)),
    );
    let start = net.now();
    let limit = start + bound;
    let n = jobs.len();
    let done = |net: &sim::Network<SimHost>| {
        let (ce, se) = (&net.host(c).ep, &net.host(s).ep);
        app::<Client>(net, c).finished == n
            && ce.connection_count() == 0
            && se.connection_count() == 0
            && ce.time_wait_count() == 0
            && se.time_wait_count() == 0
    };
    net.run_while(|net| net.now() < limit && !done(net));
    let what = format!("seed {seed}, link {spec}, buffers {buf}, sizes {sizes:?}");
    let client = app::<Client>(&net, c);
    let server = app::<Server>(&net, s);
    if !client.errors.is_empty() || !client.connect_errors.is_empty() {
        return Err(format!(
            "{what}: client errors {:?} {:?}",
            client.errors, client.connect_errors
        ));
    }
    if !server.errors.is_empty() {
        return Err(format!("{what}: server errors {:?}", server.errors));
    }
    if !done(&net) {
        let (ce, se) = (&net.host(c).ep, &net.host(s).ep);
        let live = |ids: Vec<proto::endpoint::ConnHandle>, ep: &proto::endpoint::Endpoint| {
            ids.iter()
                .map(|&h| format!("{h:?} {:?}", ep.status(h)))
                .collect::<Vec<_>>()
        };
        return Err(format!(
            "{what}: not over after {bound:?}: client errors {:?} {:?}, finished {}/{n}, \
             connections {}+{}, TIME-WAIT {}+{}, received {:?}\n client live {:#?}\n server live {:#?}",
            client.errors,
            client.connect_errors,
            client.finished,
            ce.connection_count(),
            se.connection_count(),
            ce.time_wait_count(),
            se.time_wait_count(),
            server.done.iter().map(|d| d.0).collect::<Vec<_>>(),
            live(client.handles(), ce),
            live(server.handles(), se),
        ));
    }
    if sorted_streams(&server.done) != expected_streams(&jobs) {
        let got: Vec<u64> = server.done.iter().map(|d| d.0).collect();
        return Err(format!("{what}: streams differ; received lengths {got:?}"));
    }
    for id in [c, s] {
        let st = net.host(id).ep.stats();
        if st.connections_opened != st.connections_freed {
            return Err(format!("{what}: host {id:?} opened/freed {st:?}"));
        }
    }
    Ok(Outcome {
        sim: net.now().saturating_since(start),
        packets: net.host_stats(c).sent_packets + net.host_stats(s).sent_packets,
    })
}

/// Runs `seeds` seeds of one cell; returns the failures and prints a line.
fn cell(
    name: &str,
    spec: &str,
    buf: usize,
    sizes: &[u64],
    seeds: u64,
    bound: Duration,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut worst = Duration::ZERO;
    let mut packets = 0;
    for seed in 0..seeds {
        match transfer(seed + 1, spec, buf, sizes, bound) {
            Ok(o) => {
                worst = worst.max(o.sim);
                packets += o.packets;
            }
            Err(e) => failures.push(e),
        }
    }
    println!(
        "{name:8} buf {buf:>7} sizes {sizes:?}: {seeds} seeds, {} failed, \
         longest {:.1} s simulated, {packets} packets",
        failures.len(),
        worst.as_secs_f64()
    );
    failures
}

/// One condition of the matrix: the impairment of both uplinks, and the
/// bounds of simulated time from the first SYN until both endpoints are
/// empty (TIME-WAIT's 2·MSL = 60 s included) for the small streams and
/// for 4 MiB. The bounds are about twice the longest time seen over 100
/// seeds: at 20 % loss each way a 4 MiB transfer takes hours of simulated
/// time (retransmission timeouts dominate), which costs a few hundred
/// milliseconds of wall time.
struct Condition {
    name: &'static str,
    impairment: &'static str,
    small_bound: Duration,
    big_bound: Duration,
    /// The buffer sizes for which the default run sends 4 MiB (a soak run
    /// sends it with every buffer size).
    big: &'static [usize],
}

fn run(c: Condition) {
    let spec = if c.impairment.is_empty() {
        LINK.to_string()
    } else {
        format!("{LINK},{}", c.impairment)
    };
    let seeds = if soak() { 100 } else { 20 };
    let mut failures = Vec::new();
    for buf in [SMALL_BUF, LARGE_BUF] {
        failures.extend(cell(c.name, &spec, buf, &SMALL_SIZES, seeds, c.small_bound));
        if soak() || c.big.contains(&buf) {
            failures.extend(cell(c.name, &spec, buf, &[BIG], seeds, c.big_bound));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn clean_link() {
    run(Condition {
        name: "loss 0%",
        impairment: "",
        small_bound: secs(300),
        big_bound: secs(300),
        big: &[SMALL_BUF, LARGE_BUF],
    });
}

#[test]
fn loss_1_percent() {
    run(Condition {
        name: "loss 1%",
        impairment: "loss=0.01",
        small_bound: secs(300),
        big_bound: secs(600),
        big: &[LARGE_BUF],
    });
}

#[test]
fn loss_5_percent() {
    run(Condition {
        name: "loss 5%",
        impairment: "loss=0.05",
        small_bound: secs(600),
        big_bound: secs(1200),
        big: &[SMALL_BUF],
    });
}

#[test]
fn loss_10_percent() {
    run(Condition {
        name: "loss 10%",
        impairment: "loss=0.1",
        small_bound: secs(1200),
        big_bound: secs(4 * 3600),
        big: &[LARGE_BUF],
    });
}

#[test]
fn loss_20_percent() {
    run(Condition {
        name: "loss 20%",
        impairment: "loss=0.2",
        small_bound: secs(3600),
        big_bound: secs(16 * 3600),
        big: &[SMALL_BUF],
    });
}

#[test]
fn reordering() {
    run(Condition {
        name: "reorder",
        impairment: "jitter=1ms,reorder=0.05",
        small_bound: secs(300),
        big_bound: secs(600),
        big: &[LARGE_BUF],
    });
}

#[test]
fn duplication() {
    run(Condition {
        name: "dup",
        impairment: "dup=0.05",
        small_bound: secs(300),
        big_bound: secs(600),
        big: &[SMALL_BUF],
    });
}

#[test]
fn corruption() {
    run(Condition {
        name: "corrupt",
        impairment: "corrupt=0.02",
        small_bound: secs(300),
        big_bound: secs(600),
        big: &[LARGE_BUF],
    });
}

/// The oracle itself: the hash of a stream does not depend on how it is
/// cut into reads, and changes with any one byte, a lost byte or a
/// duplicated one.
#[test]
fn the_stream_hash_sees_every_byte_whatever_the_reads() {
    let size = 100_000u64;
    let mut data = vec![0u8; size as usize];
    fill(&mut data, 0, 42);
    let whole = stream_hash(size, 42);
    assert_eq!(stream_hash_of(&data), whole);
    let mut rng = sim::Rng::new(1);
    let mut h = StreamHash::default();
    let mut at = 0;
    while at < data.len() {
        let n = (1 + rng.below(3000) as usize).min(data.len() - at);
        h.update(&data[at..at + n]);
        at += n;
    }
    assert_eq!(h.finish(), whole, "cut into random reads");
    let mut flipped = data.clone();
    flipped[77_777] ^= 0x10;
    assert_ne!(stream_hash_of(&flipped), whole, "one bit flipped");
    let mut lost = data.clone();
    lost.remove(5);
    assert_ne!(stream_hash_of(&lost), whole, "one byte lost");
    let mut dup = data.clone();
    dup.insert(5, data[5]);
    assert_ne!(stream_hash_of(&dup), whole, "one byte twice");
    let mut swapped = data;
    swapped.swap(10, 20_000);
    assert_ne!(stream_hash_of(&swapped), whole, "two bytes out of order");
}

/// The matrix can fail: with checksum verification off, corrupted
/// segments reach the streams and the hashes catch them.
#[test]
fn unverified_corruption_is_caught() {
    let spec = format!("{LINK},corrupt=0.05");
    let caught: Vec<String> = (1..=5)
        .filter_map(|seed| {
            transfer_checked(seed, &spec, LARGE_BUF, &[256 * 1024], secs(600), false).err()
        })
        .collect();
    assert_eq!(caught.len(), 5, "corruption went unnoticed: {caught:#?}");
}
