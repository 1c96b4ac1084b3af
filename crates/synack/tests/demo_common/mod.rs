//! Shared by the demo and viz tests: every scenario played at a fixed seed.

#![allow(dead_code)]

use synack::demo::{self, Demo, Options, Scenario};
use synack::viz::Lang;

/// The seed of every snapshot.
pub const SEED: u64 = 42;

/// The bytes the transfer moves in tests (the CLI's default is 4 MiB).
pub const BYTES: u64 = 1 << 20;

/// Plays `s` at the test seed.
pub fn play(s: Scenario, lang: Lang) -> Demo {
    let options = Options {
        bytes: BYTES,
        seed: SEED,
        lang,
        ..Options::new(s)
    };
    demo::run(&options, &mut |_| {}).expect("the demo runs")
}
