//! Property tests: random write patterns, impairments, ISSs and seeds over
//! the back-to-back `Pair` (every byte arrives intact and in order, both
//! ends reach CLOSED), plus receiver and sender invariants on one
//! connection driven by random segments.

use std::time::Duration;

use proptest::prelude::*;
use proto::conn::{CloseReason, Config, Event, SendReason, State};

use crate::harness::*;

/// A configuration picked by index: the default, no options, Nagle off,
/// small buffers (zero windows, persist, SWS), no delayed ACK, a small MSS.
fn config(kind: u8, buffer: usize) -> Config {
    match kind % 6 {
        0 => Config::default(),
        1 => plain(),
        2 => Config {
            nodelay: true,
            ..Config::default()
        },
        3 => Config {
            recv_buffer: buffer,
            send_buffer: buffer,
            ..Config::default()
        },
        4 => Config {
            delayed_ack: None,
            sack: false,
            recv_buffer: buffer,
            ..Config::default()
        },
        _ => Config {
            mss: 536,
            window_scaling: false,
            ..plain()
        },
    }
}

fn impairment() -> impl Strategy<Value = Impair> {
    (0.0..0.15f64, 0.0..0.2f64, 0.0..0.1f64, 0u64..20).prop_map(|(loss, reorder, dup, ms)| Impair {
        loss,
        reorder,
        dup,
        delay: Duration::from_millis(ms),
    })
}

/// A normal close; or, for the side that closed last, a RST in LAST-ACK:
/// when every ACK of its FIN was lost until the peer's TIME-WAIT ended,
/// the peer answers the next FIN with a RST (RFC 9293 §3.10.7.1), after
/// all data was delivered.
fn ended_well(reason: Option<CloseReason>, events: &[Event]) -> bool {
    match reason {
        Some(CloseReason::Normal) => true,
        Some(CloseReason::Reset) => events.iter().any(|e| {
            matches!(
                e,
                Event::StateChanged {
                    from: State::LastAck,
                    to: State::Closed,
                    ..
                }
            )
        }),
        _ => false,
    }
}

/// The `[start, end)` of each write.
fn bounds(writes: &[usize]) -> Vec<(usize, usize)> {
    let mut at = 0;
    writes
        .iter()
        .map(|w| {
            at += w;
            (at - w, at)
        })
        .collect()
}

/// Runs A → B (and B → A if `down` is not empty) with the given write
/// sizes; A half-closes after its last write, B closes once it has read
/// everything and written its own. `read_chunk` bounds how much each side
/// reads per step (a slow reader makes zero windows).
#[allow(clippy::too_many_arguments)]
fn exchange(
    a_cfg: Config,
    b_cfg: Config,
    impair: Impair,
    seed: u64,
    iss: (u32, u32),
    up_writes: &[usize],
    down_writes: &[usize],
    read_chunk: usize,
) -> Result<(), TestCaseError> {
    let mut p = Pair::with_iss(a_cfg, b_cfg, impair, seed, iss.0, iss.1);
    let up_len: usize = up_writes.iter().sum();
    let down_len: usize = down_writes.iter().sum();
    let up = crate::harness::Rng::new(seed ^ 0x55).bytes(up_len);
    let down = crate::harness::Rng::new(seed ^ 0xaa).bytes(down_len);
    // Each write is one `send` call of exactly that slice (repeated while
    // only part of it is taken), so write boundaries vary.
    let up_bounds = bounds(up_writes);
    let down_bounds = bounds(down_writes);
    let (mut ia, mut pa) = (0usize, 0usize);
    let (mut ib, mut pb) = (0usize, 0usize);
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let (mut shut_a, mut shut_b, mut eof_a, mut eof_b) = (false, false, false, false);
    let mut buf = vec![0u8; 16 * 1024];
    let mut last_read = p.now;
    let ok = p.run_until(Duration::from_secs(4 * 3600), |p| {
        // Slow readers: `read_chunk` bytes per 10 ms of simulated time
        // (at least one chunk per step), everything when nothing else
        // would happen.
        let ticks = (p.now.saturating_since(last_read).as_millis() / 10).max(1) as usize;
        let budget = if p.idle() {
            usize::MAX
        } else {
            read_chunk.saturating_mul(ticks)
        };
        last_read = p.now;
        for (conn, got, eof) in [
            (&mut p.a, &mut got_a, &mut eof_a),
            (&mut p.b, &mut got_b, &mut eof_b),
        ] {
            let mut left = budget;
            while left > 0 {
                let n = buf.len().min(left);
                match conn.recv(&mut buf[..n]) {
                    Ok(0) => *eof = true,
                    Ok(n) => {
                        got.extend_from_slice(&buf[..n]);
                        left -= n;
                        continue;
                    }
                    Err(_) => {}
                }
                break;
            }
        }
        let a_open = matches!(p.a.state(), State::Established | State::CloseWait);
        while a_open && ia < up_bounds.len() {
            let (s, e) = up_bounds[ia];
            match p.a.send(&up[s + pa..e]) {
                Ok(n) if s + pa + n == e => {
                    ia += 1;
                    pa = 0;
                }
                Ok(n) => {
                    pa += n;
                    break;
                }
                Err(_) => break,
            }
        }
        let b_open = matches!(p.b.state(), State::Established | State::CloseWait);
        while b_open && ib < down_bounds.len() {
            let (s, e) = down_bounds[ib];
            match p.b.send(&down[s + pb..e]) {
                Ok(n) if s + pb + n == e => {
                    ib += 1;
                    pb = 0;
                }
                Ok(n) => {
                    pb += n;
                    break;
                }
                Err(_) => break,
            }
        }
        if !shut_a && ia == up_bounds.len() && p.a.state() == State::Established {
            p.a.shutdown(p.now).unwrap();
            shut_a = true;
        }
        if !shut_b && eof_b && ib == down_bounds.len() && p.b.state() == State::CloseWait {
            p.b.close(p.now);
            shut_b = true;
        }
        // Done when both ends are CLOSED and each read to the end.
        p.a.is_closed() && p.b.is_closed() && eof_a && eof_b
    });
    prop_assert!(
        ok,
        "not done: a {:?}\nb {:?}\nup {}/{} down {}/{}",
        p.a.status(),
        p.b.status(),
        got_b.len(),
        up_len,
        got_a.len(),
        down_len
    );
    prop_assert!(got_b == up, "upstream data differs");
    prop_assert!(got_a == down, "downstream data differs");
    prop_assert!(
        ended_well(p.a.close_reason(), &p.a_events),
        "A: {:?}",
        p.a.close_reason()
    );
    prop_assert!(
        ended_well(p.b.close_reason(), &p.b_events),
        "B: {:?}",
        p.b.close_reason()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_writes_arrive_intact_and_both_ends_close(
        writes in prop::collection::vec(1usize..6000, 1..25),
        impair in impairment(),
        seed in any::<u64>(),
        kind in 0u8..6,
        buffer in 2000usize..40_000,
    ) {
        let cfg = config(kind, buffer);
        exchange(cfg, cfg, impair, seed, (seed as u32, (seed >> 32) as u32), &writes, &[], 1 << 16)?;
    }

    #[test]
    fn both_directions_with_slow_readers(
        up in prop::collection::vec(1usize..4000, 0..15),
        down in prop::collection::vec(1usize..4000, 0..15),
        impair in impairment(),
        seed in any::<u64>(),
        a_kind in 0u8..6,
        b_kind in 0u8..6,
        buffer in 2000usize..20_000,
        read_chunk in 1usize..5000,
    ) {
        exchange(
            config(a_kind, buffer),
            config(b_kind, buffer),
            impair,
            seed,
            (seed as u32, (seed >> 32) as u32),
            &up,
            &down,
            read_chunk,
        )?;
    }

    #[test]
    fn transfers_across_the_sequence_wrap(
        writes in prop::collection::vec(1usize..8000, 1..12),
        impair in impairment(),
        seed in any::<u64>(),
        before_wrap_a in 0u32..40_000,
        before_wrap_b in 0u32..40_000,
        kind in 0u8..6,
    ) {
        let cfg = config(kind, 8000);
        let iss = (u32::MAX - before_wrap_a, u32::MAX - before_wrap_b);
        exchange(cfg, cfg, impair, seed, iss, &writes, &writes, 1 << 16)?;
    }
}

/// Pieces of a stream of `len` bytes: random starts and lengths, some
/// overlapping, some duplicated, in random order.
fn pieces() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..6000).prop_flat_map(|len| {
        let piece = (0..len, 1usize..1500).prop_map(move |(s, l)| (s, (s + l).min(len)));
        (Just(len), prop::collection::vec(piece, 1..60))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever order, overlap and duplication segments arrive in, the
    /// receiver delivers exactly the stream, ACKs never go backwards and
    /// the right window edge never moves left (RFC 9293 §3.8.6.2.2).
    #[test]
    fn reassembly_of_any_segment_order((len, parts) in pieces(), sack in any::<bool>(), iss in any::<u32>()) {
        let cfg = Config { sack, recv_buffer: 8192, ..plain() };
        let mut c = Tcb::open(cfg, X, Duration::ZERO, |_| {
            let s = seg(iss).syn().ack(X + 1).mss(1460);
            if sack { s.sack_ok() } else { s }
        });
        let base = iss.wrapping_add(1);
        let stream: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
        let mut got = Vec::new();
        let (mut last_ack, mut last_edge) = (0u32, 0u32);
        let mut check = |c: &mut Tcb, got: &mut Vec<u8>| -> Result<(), TestCaseError> {
            for a in c.out() {
                let ack = a.ack.wrapping_sub(base);
                let edge = ack + u32::from(a.window);
                prop_assert!(ack >= last_ack, "ACK went back: {} < {}", ack, last_ack);
                prop_assert!(edge >= last_edge, "window edge moved left");
                prop_assert!(ack as usize <= len);
                let blocks: Vec<(u32, u32)> = a
                    .sacks()
                    .into_iter()
                    .map(|(s, e)| (s.wrapping_sub(base), e.wrapping_sub(base)))
                    .collect();
                for (i, &(s, e)) in blocks.iter().enumerate() {
                    // RFC 2883 §4: the first block may be a D-SACK — data
                    // received twice, below the ACK or inside the second
                    // block; every other block lies above the ACK.
                    let dsack = i == 0
                        && (s < ack || blocks.get(1).is_some_and(|&(s2, e2)| s2 <= s && e <= e2));
                    if dsack {
                        prop_assert!(s < e && e as usize <= len, "bad D-SACK block");
                    } else {
                        prop_assert!(ack < s && s < e && e as usize <= len, "bad SACK block");
                    }
                }
                last_ack = ack;
                last_edge = edge;
            }
            got.extend(c.read_all());
            Ok(())
        };
        for (s, e) in parts {
            c.input(seg(base.wrapping_add(s as u32)).ack(X + 1).data(&stream[s..e]));
            check(&mut c, &mut got)?;
            prop_assert_eq!(&got[..], &stream[..got.len()]);
        }
        // The peer finally resends everything in order.
        for s in (0..len).step_by(1000) {
            let e = (s + 1000).min(len);
            c.input(seg(base.wrapping_add(s as u32)).ack(X + 1).data(&stream[s..e]));
            check(&mut c, &mut got)?;
        }
        prop_assert_eq!(got, stream);
        prop_assert_eq!(c.conn.status().rcv_nxt.0, base.wrapping_add(len as u32));
    }

    /// Driven by random ACKs, windows, writes and timeouts, the sender
    /// never sends new data beyond the peer's window, never sends more
    /// than one MSS, and never acknowledges what it did not receive.
    #[test]
    fn sender_respects_the_window(
        actions in prop::collection::vec((0u8..4, 0u32..20_000), 1..80),
        nodelay in any::<bool>(),
        iss in any::<u32>(),
    ) {
        let cfg = Config { nodelay, send_buffer: 50_000, ..plain() };
        let mut c = Tcb::open(cfg, iss, Duration::from_millis(20), |_| {
            seg(Y).syn().ack(iss.wrapping_add(1)).mss(1000).win(8000)
        });
        let base = iss.wrapping_add(1);
        let (mut acked, mut wnd, mut max) = (0u32, 8000u32, 0u32);
        for (kind, n) in actions {
            match kind {
                0 => {
                    let _ = c.conn.send(&vec![1u8; n as usize % 5000]);
                }
                1 => {
                    // Acknowledge part of what was sent, with a new window.
                    acked += (n % 3000).min(max - acked);
                    wnd = n % 12_000;
                    c.input(seg(Y + 1).ack(base.wrapping_add(acked)).win(wnd as u16));
                }
                2 => {
                    c.advance(Duration::from_millis(u64::from(n % 3000)));
                }
                _ => {
                    c.input(seg(Y + 1).ack(base.wrapping_add(acked)).win(wnd as u16));
                }
            }
            for s in c.out() {
                prop_assert_eq!(s.ack, Y + 1);
                prop_assert!(s.len() <= 1000);
                let start = s.seq.wrapping_sub(base);
                let end = start + s.len();
                if s.reason == SendReason::Data {
                    prop_assert!(
                        end <= acked + wnd,
                        "data {}..{} beyond the window {}+{}", start, end, acked, wnd
                    );
                }
                if s.reason == SendReason::WindowProbe {
                    prop_assert_eq!(s.len(), 1);
                }
                max = max.max(end);
            }
        }
    }
}
