//! The ACK fast path (`conn/ackfast.rs`) is an optimisation only: with it
//! on or off, a connection must go through exactly the same states. Two
//! simulations, identical but for `Config::ack_fast_path`, run side by
//! side over the same lossy, reordering, duplicating pipe (same seed), in
//! both directions; after every segment delivered and every round of
//! timers, both ends of one must print (`Debug`: every field of the
//! connection, RACK, the log, the timers, cwnd, the statistics) exactly as
//! both ends of the other.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use proptest::prelude::*;
use proto::conn::congestion::Algorithm;
use proto::conn::{Config, Connection, Pacing};

use crate::harness::*;

/// A connection's full state, with the one knob that differs by design
/// printed the same way.
fn state(c: &Connection) -> String {
    format!("{c:?}").replace("ack_fast_path: false", "ack_fast_path: true")
}

fn fingerprint(p: &Pair) -> u64 {
    let mut h = DefaultHasher::new();
    state(&p.a).hash(&mut h);
    state(&p.b).hash(&mut h);
    p.now.hash(&mut h);
    h.finish()
}

/// What the two ends do: A sends `up` bytes, B answers with `down` bytes
/// once it has read them all, then both close.
#[derive(Debug, Clone, Copy)]
struct Script {
    up: usize,
    down: usize,
}

/// Runs the script; `observe` sees the pair after every step. Returns
/// the bytes each side read.
fn run(
    cfg: Config,
    impair: Impair,
    seed: u64,
    script: Script,
    mut observe: impl FnMut(&Pair),
) -> (Vec<u8>, Vec<u8>) {
    let mut p = Pair::new(cfg, cfg, impair, seed);
    let up: Vec<u8> = (0..script.up).map(|i| (i * 31 + 7) as u8).collect();
    let down: Vec<u8> = (0..script.down).map(|i| (i * 17 + 3) as u8).collect();
    let (mut at_up, mut at_down) = (0, 0);
    let (mut got_b, mut got_a) = (Vec::new(), Vec::new());
    let (mut a_closed, mut b_closed) = (false, false);
    p.run_until_observed(
        Duration::from_secs(600),
        |p| {
            let established = |c: &Connection| {
                matches!(
                    c.state(),
                    proto::conn::State::Established | proto::conn::State::CloseWait
                )
            };
            if established(&p.a) {
                feed(&mut p.a, &up, &mut at_up);
            }
            drain(&mut p.b, &mut got_b);
            if got_b.len() == up.len() && established(&p.b) {
                feed(&mut p.b, &down, &mut at_down);
            }
            drain(&mut p.a, &mut got_a);
            if at_up == up.len() && got_a.len() == down.len() && !a_closed && established(&p.a) {
                a_closed = true;
                p.a.close(p.now);
            }
            if p.b.at_eof() && at_down == down.len() && !b_closed {
                b_closed = true;
                p.b.close(p.now);
            }
            p.a.is_closed() && p.b.is_closed()
        },
        &mut observe,
    );
    (got_b, got_a)
}

/// Runs the script with the fast path on and off; fails at the first
/// step where the two differ, showing both states there.
fn same_with_and_without(cfg: Config, impair: Impair, seed: u64, script: Script) {
    let on = Config {
        ack_fast_path: true,
        ..cfg
    };
    let off = Config {
        ack_fast_path: false,
        ..cfg
    };
    let mut fast = Vec::new();
    let got_fast = run(on, impair, seed, script, |p| fast.push(fingerprint(p)));
    let mut slow = Vec::new();
    let got_slow = run(off, impair, seed, script, |p| slow.push(fingerprint(p)));
    let first = fast.iter().zip(&slow).position(|(a, b)| a != b);
    if let Some(step) = first {
        // Run both again to that step and show what differs.
        let at = |cfg: Config| {
            let mut n = 0;
            let mut out = None;
            run(cfg, impair, seed, script, |p| {
                if n == step {
                    out = Some((state(&p.a), state(&p.b)));
                }
                n += 1;
            });
            out.unwrap()
        };
        let (fa, fb) = at(on);
        let (sa, sb) = at(off);
        let diff = |x: &str, y: &str| {
            x.split(", ")
                .zip(y.split(", "))
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("  fast: {a}\n  full: {b}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "the fast path diverged at step {step} of {}:\nA:\n{}\nB:\n{}",
            slow.len(),
            diff(&fa, &sa),
            diff(&fb, &sb)
        );
    }
    assert_eq!(fast.len(), slow.len(), "as many steps");
    assert_eq!(got_fast, got_slow);
    assert_eq!(got_fast.0.len(), script.up, "every byte up");
    assert_eq!(got_fast.1.len(), script.down, "every byte down");
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![Just(Algorithm::Cubic), Just(Algorithm::NewReno)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_ack_fast_path_changes_no_state(
        seed in any::<u64>(),
        loss in prop_oneof![Just(0.0), 0.0..0.1f64],
        reorder in prop_oneof![Just(0.0), 0.0..0.2f64],
        dup in prop_oneof![Just(0.0), 0.0..0.05f64],
        up in 1usize..200_000,
        down in 0usize..60_000,
        timestamps in any::<bool>(),
        rack in prop_oneof![4 => Just(true), 1 => Just(false)],
        tlp in any::<bool>(),
        frto in any::<bool>(),
        dsack in any::<bool>(),
        pacing in any::<bool>(),
        congestion in algorithm(),
    ) {
        let cfg = Config {
            send_buffer: 64 * 1024,
            recv_buffer: 64 * 1024,
            timestamps,
            rack,
            tlp,
            frto,
            dsack,
            pacing: if pacing { Pacing::On } else { Pacing::Off },
            congestion,
            ..Config::default()
        };
        let impair = Impair { loss, reorder, dup, delay: Duration::from_millis(10) };
        same_with_and_without(cfg, impair, seed, Script { up, down });
    }
}

/// One step of a scripted peer that acknowledges what it likes: an ACK
/// `ack` bytes past X+1 with SACK blocks as offsets from X+1 (perhaps
/// partial segments, D-SACKs or nonsense), after `ms` milliseconds; the
/// timers running for `ms`; the application writing `n` bytes.
#[derive(Debug, Clone)]
enum Step {
    Ack {
        ms: u64,
        ack: u32,
        blocks: Vec<(u32, u32)>,
    },
    Wait {
        ms: u64,
    },
    Write {
        n: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    // Mostly plausible (segment-aligned, near the data), sometimes not.
    let off = prop_oneof![
        4 => (0u32..30).prop_map(|k| k * 1460),
        2 => 0u32..45_000,
        1 => any::<u32>(),
    ];
    prop_oneof![
        // Half of the ACKs carry no SACK option: the fast path's own.
        6 => (
            0u64..60,
            off.clone(),
            prop_oneof![
                Just(Vec::new()),
                prop::collection::vec((off.clone(), off), 1..4),
            ],
        )
            .prop_map(|(ms, ack, blocks)| Step::Ack { ms, ack, blocks }),
        1 => (0u64..3000).prop_map(|ms| Step::Wait { ms }),
        1 => (0usize..20_000).prop_map(|n| Step::Write { n }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_scripted_peer_sees_the_same_sender_either_way(
        steps in prop::collection::vec(step(), 1..100),
        timestamps in any::<bool>(),
        rack in prop_oneof![4 => Just(true), 1 => Just(false)],
        frto in any::<bool>(),
        pacing in any::<bool>(),
    ) {
        let cfg = Config {
            timestamps,
            rack,
            frto,
            pacing: if pacing { Pacing::On } else { Pacing::Off },
            send_buffer: 256 * 1024,
            ..sack_plain()
        };
        let open = |fast: bool| {
            let mut c = Tcb::open_sack(
                Config { ack_fast_path: fast, ..cfg },
                Duration::from_millis(40),
            );
            c.conn.send(&[9; 30_000]).unwrap();
            c
        };
        let (mut fast, mut full) = (open(true), open(false));
        for (i, s) in steps.iter().enumerate() {
            for c in [&mut fast, &mut full] {
                match s {
                    Step::Ack { ms, ack, blocks } => {
                        c.wait(Duration::from_millis(*ms));
                        let blocks: Vec<(u32, u32)> = blocks
                            .iter()
                            .map(|&(a, b)| ((X + 1).wrapping_add(a), (X + 1).wrapping_add(b)))
                            .collect();
                        let mut a = seg(Y + 1).ack((X + 1).wrapping_add(*ack)).sack(&blocks);
                        if timestamps {
                            a = a.ts(100, 0);
                        }
                        c.input(a);
                    }
                    Step::Wait { ms } => c.advance(Duration::from_millis(*ms)),
                    Step::Write { n } => {
                        let _ = c.conn.send(&vec![9; *n]);
                    }
                }
            }
            let (a, b) = (fast.out(), full.out());
            prop_assert_eq!(format!("{a:?}"), format!("{b:?}"), "sent, step {}", i);
            prop_assert_eq!(state(&fast.conn), state(&full.conn), "step {}: {:?}", i, s);
        }
    }
}

#[test]
fn many_short_exchanges_match() {
    // The connection-churn case: a small request, a small response, the
    // close; with and without loss.
    for seed in 0..40u64 {
        let loss = if seed % 2 == 0 { 0.0 } else { 0.15 };
        let impair = Impair {
            loss,
            reorder: 0.1,
            dup: 0.02,
            delay: Duration::from_millis(5),
        };
        same_with_and_without(
            Config::default(),
            impair,
            seed,
            Script { up: 100, down: 100 },
        );
    }
}
