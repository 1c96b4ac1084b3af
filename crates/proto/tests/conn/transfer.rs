//! Whole transfers between two connections through an impaired pipe.

use std::time::Duration;

use proto::conn::{Config, State};

use crate::harness::*;

fn transfer(cfg: Config, impair: Impair, seed: u64, size: usize) {
    let mut p = Pair::new(cfg, cfg, impair, seed);
    let data = Rng::new(seed ^ 0xabc).bytes(size);
    let mut at = 0;
    let mut got = Vec::new();
    let mut shut = false;
    let ok = p.run_until(Duration::from_secs(600), |p| {
        feed(&mut p.a, &data, &mut at);
        if at == data.len() && !shut && p.a.state() == State::Established {
            p.a.close(p.now);
            shut = true;
        }
        let eof = drain(&mut p.b, &mut got);
        if eof && p.b.state() == State::CloseWait {
            p.b.close(p.now);
        }
        p.a.is_closed() && p.b.is_closed()
    });
    assert!(
        ok,
        "seed {seed}: not done: a {:?} b {:?}, got {} of {}",
        p.a.status(),
        p.b.status(),
        got.len(),
        data.len()
    );
    assert!(got == data, "seed {seed}: data differs");
}

#[test]
fn clean_transfer_1mib() {
    transfer(Config::default(), Impair::default(), 1, 1 << 20);
}

#[test]
fn lossy_transfers_many_seeds() {
    for seed in 0..20 {
        transfer(
            Config::default(),
            Impair {
                loss: 0.05,
                reorder: 0.05,
                dup: 0.02,
                delay: Duration::from_millis(10),
            },
            seed,
            200_000,
        );
    }
}

#[test]
fn plain_options_lossy() {
    for seed in 0..10 {
        transfer(
            plain(),
            Impair {
                loss: 0.1,
                reorder: 0.1,
                dup: 0.05,
                delay: Duration::from_millis(5),
            },
            seed,
            100_000,
        );
    }
}
