//! Property tests for SACK-based recovery against a hostile or confused
//! receiver: arbitrary acknowledgment numbers and SACK blocks (inverted,
//! empty, beyond what was sent, below SND.UNA, across the wrap), at
//! arbitrary times, never panic, never make the sender send what it never
//! had, and keep its counters consistent; and two connections over a
//! lossy, reordering pipe still deliver every byte with every recovery
//! mechanism on.

use std::time::Duration;

use proptest::prelude::*;
use proto::conn::{CaState, Config, Pacing};

use crate::harness::*;

/// One step of the hostile peer.
#[derive(Debug, Clone)]
enum Step {
    /// An ACK `ack` bytes past X+1, with SACK blocks given as offsets from
    /// X+1 (possibly nonsense), after `ms` milliseconds.
    Ack {
        ms: u64,
        ack: u32,
        blocks: Vec<(u32, u32)>,
    },
    /// Let the timers run for `ms` milliseconds.
    Wait { ms: u64 },
    /// The application writes `n` more bytes.
    Write { n: usize },
}

fn step() -> impl Strategy<Value = Step> {
    let off = prop_oneof![0u32..40_000, any::<u32>()];
    prop_oneof![
        4 => (0u64..50, 0u32..40_000, prop::collection::vec((off.clone(), off), 0..5))
            .prop_map(|(ms, ack, blocks)| Step::Ack { ms, ack, blocks }),
        1 => (0u64..3000).prop_map(|ms| Step::Wait { ms }),
        1 => (0usize..20_000).prop_map(|n| Step::Write { n }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn hostile_sack_blocks_never_break_the_sender(
        steps in prop::collection::vec(step(), 1..120),
        timestamps in any::<bool>(),
        rack in any::<bool>(),
        pacing in any::<bool>(),
    ) {
        let cfg = Config {
            timestamps,
            rack,
            pacing: if pacing { Pacing::On } else { Pacing::Off },
            send_buffer: 256 * 1024,
            ..sack_plain()
        };
        let mut c = Tcb::open_sack(cfg, Duration::from_millis(40));
        c.conn.send(&[9; 30_000]).unwrap();
        let mut written = 30_000u32;
        for s in steps {
            match s {
                Step::Ack { ms, ack, blocks } => {
                    c.wait(Duration::from_millis(ms));
                    let blocks: Vec<(u32, u32)> = blocks
                        .iter()
                        .map(|&(a, b)| ((X + 1).wrapping_add(a), (X + 1).wrapping_add(b)))
                        .collect();
                    let mut a = seg(Y + 1).ack((X + 1).wrapping_add(ack)).sack(&blocks);
                    if timestamps {
                        a = a.ts(100, 0);
                    }
                    c.input(a);
                }
                Step::Wait { ms } => c.advance(Duration::from_millis(ms)),
                Step::Write { n } => {
                    if let Ok(k) = c.conn.send(&vec![9; n]) {
                        written += k as u32;
                    }
                }
            }
            for s in c.out() {
                // Never beyond what the application wrote (plus a FIN).
                let end = s.seq.wrapping_sub(X + 1) + s.len();
                prop_assert!(end <= written, "sent up to {end} of {written}");
            }
            let st = c.conn.status();
            let outstanding = st.snd_nxt.0.wrapping_sub(st.snd_una.0);
            prop_assert!(st.sacked_bytes <= outstanding);
            prop_assert!(st.lost_bytes <= outstanding);
            prop_assert!(st.bytes_in_flight <= outstanding.saturating_add(st.retrans_bytes));
            prop_assert!(st.cwnd > 0);
            if st.snd_una == st.snd_nxt {
                prop_assert_eq!((st.sacked_bytes, st.lost_bytes), (0, 0));
            }
        }
    }

    #[test]
    fn every_byte_arrives_with_all_recovery_mechanisms(
        seed in any::<u64>(),
        loss in 0.0..0.12f64,
        reorder in 0.0..0.2f64,
        dup in 0.0..0.05f64,
        len in 1usize..300_000,
    ) {
        let cfg = Config {
            send_buffer: 64 * 1024,
            recv_buffer: 64 * 1024,
            ..Config::default()
        };
        let impair = Impair { loss, reorder, dup, delay: Duration::from_millis(10) };
        let mut p = Pair::new(cfg, cfg, impair, seed);
        let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let (mut at, mut got, mut closed) = (0, Vec::new(), false);
        let done = p.run_until(Duration::from_secs(600), |p| {
            feed(&mut p.a, &data, &mut at);
            let open = p.a.state() == proto::conn::State::Established;
            if at == data.len() && !closed && open {
                closed = true;
                p.a.close(p.now);
            }
            drain(&mut p.b, &mut got);
            if p.b.at_eof() && p.b.state() == proto::conn::State::CloseWait {
                p.b.close(p.now);
            }
            p.a.is_closed() && p.b.is_closed()
        });
        prop_assert!(done, "not over: {:?} / {:?}", p.a.status(), p.b.status());
        prop_assert_eq!(got.len(), data.len());
        prop_assert!(got == data, "corrupted stream");
        prop_assert_eq!(p.a.status().ca_state, CaState::Open);
    }
}
