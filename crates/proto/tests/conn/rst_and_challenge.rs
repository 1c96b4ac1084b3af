//! RST processing in every state (RFC 9293 §3.10.7, RFC 5961 §3) and the
//! RFC 5961 challenge ACKs — for a RST in the window, a SYN in a
//! synchronized state (§4) and an unacceptable ACK (§5) — with their rate
//! limit (§7).
//!
//! One module per synchronized state runs the same cells, so a failure
//! reads like `rst_and_challenge::closing::rst_in_window_draws_challenge_ack`.

use std::time::Duration;

use proto::conn::{CloseReason, Config, SendReason, State};

use crate::harness::*;
use crate::states_setup::*;

/// What an acceptable RST (SEG.SEQ = RCV.NXT) does in `state`: the state
/// after and the reason reported, if the connection ended.
fn rst_outcome(state: State) -> (State, Option<CloseReason>) {
    match state {
        State::Closed => (State::Closed, Some(CloseReason::Aborted)),
        State::Listen => (State::Listen, None),
        // SYN-SENT needs an ACK of the SYN with it; see below.
        State::SynSent => (State::SynSent, None),
        State::SynReceived => (State::Listen, None),
        State::TimeWait => (State::Closed, Some(CloseReason::Normal)),
        _ => (State::Closed, Some(CloseReason::Reset)),
    }
}

#[test]
fn rst_at_rcv_nxt_in_every_state() {
    for state in State::ALL {
        let mut t = reach(state);
        let (_, rcv_nxt) = nxt(state);
        t.input(seg(rcv_nxt).rst());
        t.none();
        let (after, reason) = rst_outcome(state);
        assert_eq!(t.state(), after, "RST in {state}");
        assert_eq!(t.conn.close_reason(), reason, "RST in {state}");
    }
}

#[test]
fn rst_in_syn_sent_resets_only_with_the_ack_of_our_syn() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y).rst());
    t.input(seg(Y).rst().ack(X));
    t.input(seg(Y).rst().ack(X + 2));
    t.none();
    assert_eq!(t.state(), State::SynSent);
    t.input(seg(Y).rst().ack(X + 1));
    t.none();
    assert_eq!(t.conn.close_reason(), Some(CloseReason::Refused));
}

/// The cells every synchronized state shares.
macro_rules! synchronized_cells {
    ($($module:ident => $state:expr),* $(,)?) => {$(
        mod $module {
            use super::*;

            const STATE: State = $state;

            fn setup() -> (Tcb, u32, u32) {
                let t = reach(STATE);
                let (snd_nxt, rcv_nxt) = nxt(STATE);
                (t, snd_nxt, rcv_nxt)
            }

            #[test]
            fn rst_exactly_at_rcv_nxt_ends_the_connection() {
                let (mut t, _, rcv_nxt) = setup();
                // The ACK field of a RST does not matter (RFC 5961 §3.2).
                t.input(seg(rcv_nxt).rst().ack(X + 999));
                t.none();
                let (after, reason) = rst_outcome(STATE);
                assert_eq!((t.state(), t.conn.close_reason()), (after, reason));
                assert_eq!(t.conn.poll_timeout(), None);
            }

            #[test]
            fn rst_in_window_draws_challenge_ack() {
                let (mut t, snd_nxt, rcv_nxt) = setup();
                t.input(seg(rcv_nxt + 100).rst());
                let ack = expect_ack(&mut t, snd_nxt, rcv_nxt, SendReason::ChallengeAck);
                assert_eq!(ack.window, WND);
                assert_eq!(t.state(), STATE);
                assert_eq!(t.conn.status().stats.challenge_acks, 1);
            }

            #[test]
            fn rst_at_the_last_window_byte_draws_challenge_ack() {
                let (mut t, snd_nxt, rcv_nxt) = setup();
                t.input(seg(rcv_nxt + u32::from(WND) - 1).rst());
                expect_ack(&mut t, snd_nxt, rcv_nxt, SendReason::ChallengeAck);
                assert_eq!(t.state(), STATE);
            }

            #[test]
            fn rst_just_beyond_the_window_is_dropped() {
                let (mut t, _, rcv_nxt) = setup();
                t.input(seg(rcv_nxt + u32::from(WND)).rst());
                t.none();
                assert_eq!(t.state(), STATE);
            }

            #[test]
            fn rst_below_rcv_nxt_is_dropped() {
                let (mut t, _, rcv_nxt) = setup();
                t.input(seg(rcv_nxt - 1).rst());
                t.none();
                assert_eq!(t.state(), STATE);
                assert_eq!(t.conn.status().stats.challenge_acks, 0);
            }

            #[test]
            fn syn_in_window_draws_challenge_ack() {
                let (mut t, snd_nxt, rcv_nxt) = setup();
                t.input(seg(rcv_nxt + 10).syn());
                expect_ack(&mut t, snd_nxt, rcv_nxt, SendReason::ChallengeAck);
                assert_eq!(t.state(), STATE);
            }

            #[test]
            fn syn_ack_at_rcv_nxt_draws_challenge_ack() {
                let (mut t, snd_nxt, rcv_nxt) = setup();
                t.input(seg(rcv_nxt).syn().ack(snd_nxt));
                expect_ack(&mut t, snd_nxt, rcv_nxt, SendReason::ChallengeAck);
                assert_eq!(t.state(), STATE);
            }

            #[test]
            fn ack_of_unsent_data_draws_challenge_ack() {
                let (mut t, snd_nxt, rcv_nxt) = setup();
                let una = t.conn.status().snd_una;
                t.input(seg(rcv_nxt).ack(snd_nxt + 10));
                expect_ack(&mut t, snd_nxt, rcv_nxt, SendReason::ChallengeAck);
                assert_eq!(t.state(), STATE);
                assert_eq!(t.conn.status().snd_una, una);
            }

            #[test]
            fn ack_too_old_draws_challenge_ack() {
                let (mut t, snd_nxt, rcv_nxt) = setup();
                // RFC 5961 §5.2: below SND.UNA - MAX.SND.WND.
                t.input(seg(rcv_nxt).ack(X.wrapping_sub(100_000)));
                expect_ack(&mut t, snd_nxt, rcv_nxt, SendReason::ChallengeAck);
                assert_eq!(t.state(), STATE);
            }

            #[test]
            fn ack_of_nothing_new_changes_nothing() {
                let (mut t, _, rcv_nxt) = setup();
                let before = t.conn.status();
                t.input(seg(rcv_nxt).ack(before.snd_una.0));
                t.none();
                assert_eq!(t.state(), STATE);
                let after = t.conn.status();
                assert_eq!(
                    (after.snd_una, after.snd_nxt, after.rcv_nxt),
                    (before.snd_una, before.snd_nxt, before.rcv_nxt)
                );
            }

            #[test]
            fn segment_beyond_the_window_draws_dup_ack() {
                let (mut t, snd_nxt, rcv_nxt) = setup();
                t.input(seg(rcv_nxt + 70_000).ack(snd_nxt).data(b"x"));
                expect_ack(&mut t, snd_nxt, rcv_nxt, SendReason::DupAck);
                assert_eq!(t.state(), STATE);
                assert_eq!(t.conn.status().stats.unacceptable_in, 1);
            }

            #[test]
            fn segment_without_ack_is_dropped_silently() {
                let (mut t, _, rcv_nxt) = setup();
                t.input(seg(rcv_nxt));
                t.none();
                assert_eq!(t.state(), STATE);
            }
        }
    )*};
}

synchronized_cells! {
    established => State::Established,
    fin_wait_1 => State::FinWait1,
    fin_wait_2 => State::FinWait2,
    close_wait => State::CloseWait,
    closing => State::Closing,
    last_ack => State::LastAck,
    time_wait => State::TimeWait,
}

// ------------------------------------------------ the rate limit (§7)

fn limited(limit: u32) -> Tcb {
    Tcb::established(Config {
        challenge_ack_limit: limit,
        ..plain()
    })
}

/// Sends an in-window RST and returns how many segments came out.
fn poke(t: &mut Tcb) -> usize {
    t.input(seg(Y + 50).rst());
    t.out().len()
}

#[test]
fn challenge_acks_are_limited_per_second() {
    let mut t = limited(3);
    let sent: Vec<usize> = (0..5).map(|_| poke(&mut t)).collect();
    assert_eq!(sent, [1, 1, 1, 0, 0]);
    assert_eq!(t.conn.status().stats.challenge_acks, 3);
    // The spent RSTs are still dropped: the connection lives.
    assert_eq!(t.state(), State::Established);
    t.advance(Duration::from_millis(999));
    assert_eq!(poke(&mut t), 0, "the second is not over");
    t.advance(Duration::from_millis(1));
    assert_eq!(poke(&mut t), 1, "a new second, a new allowance");
    assert_eq!(t.conn.status().stats.challenge_acks, 4);
}

#[test]
fn challenge_ack_limit_default_is_ten_per_second() {
    let mut t = reach(State::Established);
    assert_eq!(t.conn.config().challenge_ack_limit, 10);
    let sent: usize = (0..15).map(|_| poke(&mut t)).sum();
    assert_eq!(sent, 10);
}

#[test]
fn challenge_ack_limit_is_shared_by_rst_syn_and_bad_ack() {
    let mut t = limited(2);
    t.input(seg(Y + 50).rst());
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    t.input(seg(Y + 50).syn());
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    t.input(seg(Y + 1).ack(X + 500));
    t.none();
    assert_eq!(t.conn.status().stats.challenge_acks, 2);
}

#[test]
fn challenge_ack_limit_zero_sends_none() {
    let mut t = limited(0);
    assert_eq!(poke(&mut t), 0);
    t.input(seg(Y + 1).syn());
    t.none();
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.conn.status().stats.challenge_acks, 0);
}

#[test]
fn acks_of_unacceptable_segments_are_not_rate_limited() {
    let mut t = limited(1);
    for _ in 0..5 {
        t.input(seg(Y + 1 + 70_000).ack(X + 1).data(b"x"));
        expect_ack(&mut t, X + 1, Y + 1, SendReason::DupAck);
    }
    assert_eq!(t.conn.status().stats.challenge_acks, 0);
}

#[test]
fn blind_rst_guesses_cannot_reset_only_the_exact_one_does() {
    let mut t = limited(1000);
    // An attacker sprays RSTs across the window: every one but RCV.NXT
    // only draws a challenge ACK.
    for off in [1u32, 2, 1000, 30_000, 65_534] {
        t.input(seg(Y + 1 + off).rst());
        expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
        assert_eq!(t.state(), State::Established);
    }
    t.input(seg(Y + 1).rst());
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn.close_reason(), Some(CloseReason::Reset));
}

#[test]
fn challenge_ack_carries_timestamps_when_in_use() {
    let cfg = Config::default();
    let mut t = Tcb::established(cfg);
    // A RST needs no timestamp (RFC 7323 §3.2) and is still checked.
    t.input(seg(Y + 1 + 100).rst());
    let ack = t.out1();
    assert_seg(&ack, ACK, X + 1, Y + 1);
    assert_eq!(ack.reason, SendReason::ChallengeAck);
    assert_eq!(ack.options.timestamps.map(|ts| ts.tsecr), Some(1));
    assert_eq!(ack.window, (cfg.recv_buffer >> cfg.rcv_wscale()) as u16);
    assert_eq!(t.state(), State::Established);
}

#[test]
fn rst_without_timestamp_at_rcv_nxt_resets_with_timestamps_in_use() {
    let mut t = Tcb::established(Config::default());
    t.input(seg(Y + 1).rst());
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn.close_reason(), Some(CloseReason::Reset));
}

#[test]
fn rst_with_an_old_timestamp_is_not_subject_to_paws() {
    // RFC 7323 §5.3 R1 applies only with the RST bit off.
    let mut t = Tcb::established(Config::default());
    t.input(seg(Y + 1).rst().ts(0, 0));
    assert_eq!(t.state(), State::Closed);
}
