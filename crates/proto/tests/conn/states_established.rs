//! ESTABLISHED and CLOSE-WAIT (RFC 9293 §3.10.7.4): the ACK cases, data,
//! FIN, SYN, unacceptable segments (the zero-window cases included),
//! timeouts and user calls.

use std::time::Duration;

use proto::conn::{Cause, CloseReason, Config, Error, Event, Keepalive, SendReason, State};

use crate::harness::*;
use crate::states_setup::*;

/// ESTABLISHED with "hello" sent (X+1..X+6) and not yet acknowledged.
fn with_unacked_hello() -> Tcb {
    let mut t = reach(State::Established);
    t.conn.send(b"hello").unwrap();
    let data = t.out1();
    assert_seg(&data, ACK | PSH, X + 1, Y + 1);
    t
}

/// ESTABLISHED with a 1000-byte receive buffer that the peer filled:
/// RCV.NXT = Y+1001, RCV.WND = 0, announced.
fn zero_window() -> Tcb {
    let mut t = Tcb::established(Config {
        recv_buffer: 1000,
        ..plain()
    });
    t.input(seg(Y + 1).ack(X + 1).data(&[7; 1000]));
    let ack = expect_ack(&mut t, X + 1, Y + 1001, SendReason::Ack);
    assert_eq!(ack.window, 0);
    assert_eq!(t.conn.status().rcv_wnd, 0);
    t.events.clear();
    t
}

// ------------------------------------------------------------ ESTABLISHED

#[test]
fn established_ack_of_new_data_advances_snd_una() {
    let mut t = with_unacked_hello();
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
    t.input(seg(Y + 1).ack(X + 6).win(9000));
    t.none();
    let st = t.conn.status();
    assert_eq!(
        (st.snd_una.0, st.snd_nxt.0, st.snd_wnd, st.send_queue),
        (X + 6, X + 6, 9000, 0)
    );
    // RFC 6298 §5.2: all acked, the retransmission timer stops; what is
    // left is the emptied buffer's release a second later.
    t.advance(Duration::from_secs(1));
    t.none();
    assert_eq!(t.conn.poll_timeout(), None, "RFC 6298 §5.2: all acked");
}

#[test]
fn established_partial_ack_restarts_the_retransmission_timer() {
    let mut t = with_unacked_hello();
    t.advance(Duration::from_millis(600));
    t.input(seg(Y + 1).ack(X + 3));
    assert_eq!(t.conn.status().snd_una.0, X + 3);
    // RFC 6298 §5.3: restarted to now + RTO.
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn established_ack_acking_nothing_new_is_ignored_and_data_taken() {
    let mut t = with_unacked_hello();
    // SEG.ACK = SND.UNA: a duplicate; its data is still processed.
    t.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    let ack = expect_ack(&mut t, X + 6, Y + 4, SendReason::Ack);
    assert_eq!(ack.window, WND - 3);
    assert_eq!(t.conn.status().snd_una.0, X + 1);
    assert_eq!(t.read_all(), b"abc");
}

#[test]
fn established_ack_of_unsent_data_draws_ack_and_drops_the_segment() {
    let mut t = reach(State::Established);
    // SEG.ACK > SND.NXT: "send an ACK, drop the segment, and return".
    t.input(seg(Y + 1).ack(X + 100).data(b"zzz"));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    assert_eq!(t.conn.recv_queue(), 0);
    let st = t.conn.status();
    assert_eq!((st.snd_una.0, st.rcv_nxt.0), (X + 1, Y + 1));
    assert_eq!(st.stats.challenge_acks, 1);
}

#[test]
fn established_ack_too_old_draws_challenge_ack_and_drops_data() {
    let mut t = reach(State::Established);
    // RFC 5961 §5.2: SEG.ACK < SND.UNA - MAX.SND.WND (65535 here).
    let old = (X + 1).wrapping_sub(70_000);
    t.input(seg(Y + 1).ack(old).data(b"inject"));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    assert_eq!(t.conn.recv_queue(), 0);
    assert_eq!(t.state(), State::Established);
}

#[test]
fn established_old_ack_within_max_window_is_accepted() {
    let mut t = reach(State::Established);
    let old = (X + 1).wrapping_sub(65_535);
    t.input(seg(Y + 1).ack(old).data(b"fine"));
    expect_ack(&mut t, X + 1, Y + 5, SendReason::Ack);
    assert_eq!(t.read_all(), b"fine");
}

#[test]
fn established_segment_without_ack_is_dropped() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).data(b"noack"));
    t.input(seg(Y + 1).fin());
    t.none();
    assert_eq!(t.conn.recv_queue(), 0);
    assert_eq!(t.state(), State::Established);
}

#[test]
fn established_data_in_order_is_delivered_and_acknowledged() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).ack(X + 1).data(b"abc").psh());
    let ack = expect_ack(&mut t, X + 1, Y + 4, SendReason::Ack);
    assert_eq!(ack.window, WND - 3);
    assert!(saw(&t, Event::Readable));
    assert_eq!(t.read_all(), b"abc");
    assert_eq!(recv_result(&mut t), Err(Error::WouldBlock));
}

#[test]
fn established_fin_enters_close_wait_and_acknowledges() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).fin().ack(X + 1));
    let ack = expect_ack(&mut t, X + 1, Y + 2, SendReason::Ack);
    assert_eq!(ack.window, WND);
    assert_eq!(t.state(), State::CloseWait);
    assert_eq!(causes(&t), [Cause::FinReceived]);
    assert!(saw(&t, Event::Readable));
    assert_eq!(recv_result(&mut t), Ok(0));
    assert!(t.conn.at_eof());
}

#[test]
fn established_data_with_fin_acknowledges_both() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).fin().ack(X + 1).data(b"last"));
    expect_ack(&mut t, X + 1, Y + 6, SendReason::Ack);
    assert_eq!(t.state(), State::CloseWait);
    assert_eq!(t.read_all(), b"last");
    assert_eq!(recv_result(&mut t), Ok(0));
}

#[test]
fn established_out_of_order_fin_waits_for_the_hole() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 4).fin().ack(X + 1).data(b"def"));
    // Out of order: an immediate duplicate ACK, no state change.
    expect_ack(&mut t, X + 1, Y + 1, SendReason::Ack);
    assert_eq!(t.state(), State::Established);
    t.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    expect_ack(&mut t, X + 1, Y + 8, SendReason::Ack);
    assert_eq!(t.state(), State::CloseWait);
    assert_eq!(t.read_all(), b"abcdef");
}

#[test]
fn established_syn_in_window_draws_challenge_ack() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).syn());
    // RFC 5961 §4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, nothing else.
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.conn.status().stats.challenge_acks, 1);
}

#[test]
fn established_syn_outside_window_draws_dup_ack() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1 + 70_000).syn());
    expect_ack(&mut t, X + 1, Y + 1, SendReason::DupAck);
    assert_eq!(t.state(), State::Established);
}

#[test]
fn established_retransmitted_syn_ack_is_reacknowledged() {
    // Our handshake ACK was lost; the peer's SYN-ACK comes again.
    let mut t = reach(State::Established);
    t.input(seg(Y).syn().ack(X + 1).mss(1460));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::DupAck);
    assert_eq!(t.state(), State::Established);
}

#[test]
fn established_syn_with_data_straddling_rcv_nxt_draws_challenge_ack() {
    // RFC 5961 §4.2: a SYN draws a challenge ACK "irrespective of the
    // sequence number" once the segment passed the window check; its data
    // is not taken.
    let mut t = reach(State::Established);
    t.input(seg(Y).syn().ack(X + 1).data(b"abc"));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    assert_eq!(t.conn.recv_queue(), 0);
    assert_eq!(t.state(), State::Established);
}

#[test]
fn established_data_beyond_the_window_is_acknowledged_and_dropped() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1 + 65_535).ack(X + 1).data(b"x"));
    let ack = expect_ack(&mut t, X + 1, Y + 1, SendReason::DupAck);
    assert_eq!(ack.window, WND);
    assert_eq!(t.conn.recv_queue(), 0);
    assert_eq!(t.conn.status().stats.unacceptable_in, 1);
}

#[test]
fn established_old_duplicate_data_is_acknowledged_and_dropped() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).ack(X + 1).data(b"0123456789"));
    expect_ack(&mut t, X + 1, Y + 11, SendReason::Ack);
    t.input(seg(Y + 1).ack(X + 1).data(b"01234"));
    expect_ack(&mut t, X + 1, Y + 11, SendReason::DupAck);
    assert_eq!(t.read_all(), b"0123456789");
}

#[test]
fn established_data_overlapping_rcv_nxt_keeps_only_the_new_part() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    t.out1();
    t.input(seg(Y + 2).ack(X + 1).data(b"bcdef"));
    expect_ack(&mut t, X + 1, Y + 7, SendReason::Ack);
    assert_eq!(t.read_all(), b"abcdef");
}

#[test]
fn established_data_crossing_the_right_edge_is_trimmed() {
    let mut t = Tcb::established(Config {
        recv_buffer: 100,
        ..plain()
    });
    t.input(seg(Y + 1).ack(X + 1).data(&[1; 150]).fin());
    // 100 bytes fit; the rest, and the FIN beyond it, are dropped.
    let ack = expect_ack(&mut t, X + 1, Y + 101, SendReason::Ack);
    assert_eq!(ack.window, 0);
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.read_all(), vec![1; 100]);
}

// ----------------------------------------------- zero receive window cases

#[test]
fn zero_window_ack_at_rcv_nxt_is_processed() {
    let mut t = zero_window();
    t.conn.send(b"hello").unwrap();
    let data = t.out1();
    assert_seg(&data, ACK | PSH, X + 1, Y + 1001);
    assert_eq!(data.window, 0);
    // Zero length at RCV.NXT is acceptable with RCV.WND = 0.
    t.input(seg(Y + 1001).ack(X + 6));
    t.none();
    assert_eq!(t.conn.status().snd_una.0, X + 6);
}

#[test]
fn zero_window_data_at_rcv_nxt_is_acknowledged_and_dropped() {
    let mut t = zero_window();
    // A window probe: no data is acceptable, but it must be answered
    // (RFC 9293 §3.8.6.1, §3.10.7.4).
    t.input(seg(Y + 1001).ack(X + 1).data(b"p"));
    let ack = expect_ack(&mut t, X + 1, Y + 1001, SendReason::DupAck);
    assert_eq!(ack.window, 0);
    assert_eq!(t.conn.recv_queue(), 1000);
}

#[test]
fn zero_window_data_still_delivers_its_ack_field() {
    let mut t = zero_window();
    t.conn.send(b"hello").unwrap();
    t.out1();
    t.input(seg(Y + 1001).ack(X + 6).data(b"p"));
    // "Special allowance ... to accept valid ACKs": SND.UNA moves.
    assert_eq!(t.conn.status().snd_una.0, X + 6);
    let ack = expect_ack(&mut t, X + 6, Y + 1001, SendReason::DupAck);
    assert_eq!(ack.window, 0);
}

#[test]
fn zero_window_empty_segment_off_rcv_nxt_is_acknowledged() {
    let mut t = zero_window();
    t.input(seg(Y + 1002).ack(X + 1));
    let ack = expect_ack(&mut t, X + 1, Y + 1001, SendReason::DupAck);
    assert_eq!(ack.window, 0);
}

#[test]
fn zero_window_data_beyond_rcv_nxt_is_acknowledged() {
    let mut t = zero_window();
    t.input(seg(Y + 1005).ack(X + 1).data(b"zz"));
    expect_ack(&mut t, X + 1, Y + 1001, SendReason::DupAck);
    assert_eq!(t.conn.recv_queue(), 1000);
}

#[test]
fn zero_window_rst_at_rcv_nxt_resets() {
    let mut t = zero_window();
    t.input(seg(Y + 1001).rst());
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Reset));
}

#[test]
fn zero_window_rst_off_rcv_nxt_is_dropped() {
    let mut t = zero_window();
    // With RCV.WND = 0 no other sequence number is in the window: no
    // challenge ACK either.
    t.input(seg(Y + 1002).rst());
    t.none();
    assert_eq!(t.state(), State::Established);
}

#[test]
fn zero_window_bare_fin_at_rcv_nxt_is_taken() {
    // A FIN takes no buffer space; like Linux, it is accepted into a
    // zero window.
    let mut t = zero_window();
    t.input(seg(Y + 1001).fin().ack(X + 1));
    let ack = expect_ack(&mut t, X + 1, Y + 1002, SendReason::Ack);
    assert_eq!(ack.window, 0);
    assert_eq!(t.state(), State::CloseWait);
}

// ----------------------------------------------- ESTABLISHED timeouts

#[test]
fn established_timeout_retransmits_the_oldest_segment() {
    let mut t = with_unacked_hello();
    assert_eq!(t.fire(), T0 + Duration::from_secs(1));
    let again = t.out1();
    assert_seg(&again, ACK | PSH, X + 1, Y + 1);
    assert_eq!(again.data, b"hello");
    assert_eq!(again.reason, SendReason::Retransmission);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(2)));
}

#[test]
fn established_retransmissions_exhausted_times_out() {
    let mut t = Tcb::established(Config {
        max_retransmissions: 2,
        ..plain()
    });
    t.conn.send(b"hello").unwrap();
    t.out1();
    for _ in 0..2 {
        t.fire();
        assert_eq!(t.out1().reason, SendReason::Retransmission);
    }
    t.fire();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::TimedOut));
    assert_eq!(causes(&t), [Cause::Timeout]);
    assert_eq!(
        recv_result(&mut t),
        Err(Error::Closed(CloseReason::TimedOut))
    );
}

#[test]
fn established_user_timeout_ends_the_connection() {
    let mut t = Tcb::established(Config {
        user_timeout: Some(Duration::from_secs(2)),
        ..plain()
    });
    t.conn.send(b"hello").unwrap();
    t.out1();
    // 1 s: first retransmission; 3 s: the 2 s user timeout has passed.
    t.fire();
    t.out1();
    t.fire();
    t.none();
    assert_eq!(t.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn established_delayed_ack_fires_after_the_delay() {
    let mut t = Tcb::established(Config {
        delayed_ack: Some(Duration::from_millis(40)),
        ..plain()
    });
    t.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    t.none();
    assert_eq!(next_deadline(&t), Some(Duration::from_millis(40)));
    t.advance(Duration::from_millis(39));
    t.none();
    t.advance(Duration::from_millis(1));
    let ack = expect_ack(&mut t, X + 1, Y + 4, SendReason::Ack);
    assert_eq!(ack.window, WND - 3);
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn established_delayed_ack_rides_on_outgoing_data() {
    let mut t = Tcb::established(Config {
        delayed_ack: Some(Duration::from_millis(40)),
        ..plain()
    });
    t.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    t.none();
    t.conn.send(b"reply").unwrap();
    let data = t.out1();
    assert_seg(&data, ACK | PSH, X + 1, Y + 4);
    // The delayed-ACK timer is gone; only the retransmission timer runs.
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

fn keepalive_cfg() -> Config {
    Config {
        keepalive: Some(Keepalive {
            idle: Duration::from_secs(10),
            interval: Duration::from_secs(2),
            probes: 3,
        }),
        ..plain()
    }
}

#[test]
fn established_keepalive_probes_then_times_out() {
    let mut t = Tcb::established(keepalive_cfg());
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(10)));
    for i in 0..3 {
        t.fire();
        // <SEQ=SND.NXT-1><ACK=RCV.NXT>, no data (RFC 9293 §3.8.4).
        let probe = expect_ack(&mut t, X, Y + 1, SendReason::KeepAlive);
        assert_eq!(probe.window, WND, "probe {i}");
        assert_eq!(next_deadline(&t), Some(Duration::from_secs(2)));
    }
    t.fire();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn established_keepalive_answered_starts_idle_time_again() {
    let mut t = Tcb::established(keepalive_cfg());
    t.fire();
    expect_ack(&mut t, X, Y + 1, SendReason::KeepAlive);
    t.advance(Duration::from_millis(500));
    // The peer answers the old sequence number with an ACK.
    t.input(seg(Y + 1).ack(X + 1));
    t.none();
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(10)));
    assert_eq!(t.state(), State::Established);
}

#[test]
fn established_traffic_postpones_keepalive() {
    let mut t = Tcb::established(keepalive_cfg());
    t.advance(Duration::from_secs(9));
    t.input(seg(Y + 1).ack(X + 1).data(b"hi"));
    t.out1();
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(10)));
}

// ------------------------------------------------ ESTABLISHED user calls

#[test]
fn established_send_sends_data_with_push() {
    let mut t = reach(State::Established);
    assert_eq!(t.conn.send(b"hello"), Ok(5));
    let data = t.out1();
    assert_seg(&data, ACK | PSH, X + 1, Y + 1);
    assert_eq!((data.data.as_slice(), data.window), (&b"hello"[..], WND));
    assert_eq!(data.reason, SendReason::Data);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn established_recv_would_block_until_data() {
    let mut t = reach(State::Established);
    assert_eq!(recv_result(&mut t), Err(Error::WouldBlock));
    t.input(seg(Y + 1).ack(X + 1).data(b"x"));
    let mut buf = [0u8; 8];
    assert_eq!(t.conn.recv(&mut buf), Ok(1));
    assert_eq!(buf[0], b'x');
}

#[test]
fn established_shutdown_sends_fin_and_enters_fin_wait_1() {
    let mut t = reach(State::Established);
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
    let fin = t.out1();
    assert_seg(&fin, FIN | ACK, X + 1, Y + 1);
    assert_eq!(fin.reason, SendReason::Fin);
    assert_eq!(t.state(), State::FinWait1);
    assert_eq!(causes(&t), [Cause::Close]);
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn established_close_sends_fin_after_queued_data() {
    let mut t = reach(State::Established);
    t.conn.send(b"bye").unwrap();
    t.conn.close(t.now);
    let seg1 = t.out1();
    assert_seg(&seg1, ACK | PSH | FIN, X + 1, Y + 1);
    assert_eq!(seg1.data, b"bye");
    assert_eq!(t.state(), State::FinWait1);
    t.input(seg(Y + 1).ack(X + 5));
    assert_eq!(t.state(), State::FinWait2);
}

#[test]
fn established_close_with_unread_data_resets() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).ack(X + 1).data(b"unread"));
    t.out1();
    t.events.clear();
    t.conn.close(t.now);
    // RFC 1122 §4.2.2.13: data would be lost; say so with a RST.
    expect_rst(&mut t, RST, X + 1, 0);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::DataAfterClose]);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn established_abort_sends_rst_at_snd_nxt() {
    let mut t = with_unacked_hello();
    t.conn.abort();
    expect_rst(&mut t, RST, X + 6, 0);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::Abort]);
    assert_eq!(t.conn.poll_timeout(), None);
    assert_eq!(t.conn.send(b"x"), Err(Error::Closed(CloseReason::Aborted)));
}

#[test]
fn established_status_reports_the_sequence_variables() {
    let mut t = with_unacked_hello();
    t.input(seg(Y + 1).ack(X + 1).data(b"abc").win(20_000));
    t.out1();
    let st = t.conn.status();
    assert_eq!(st.state, State::Established);
    assert_eq!((st.local_port, st.remote_port), (LOCAL, REMOTE));
    assert_eq!(
        (st.snd_una.0, st.snd_nxt.0, st.snd_wnd),
        (X + 1, X + 6, 20_000)
    );
    assert_eq!((st.rcv_nxt.0, st.rcv_wnd), (Y + 4, u32::from(WND) - 3));
    assert_eq!(
        (st.send_queue, st.recv_queue, st.bytes_in_flight),
        (5, 3, 5)
    );
    assert_eq!(st.mss, 1460);
    assert_eq!((st.wscale, st.sack, st.timestamps), (None, false, false));
}

// ------------------------------------------------------------ CLOSE-WAIT

#[test]
fn close_wait_data_is_ignored() {
    let mut t = reach(State::CloseWait);
    // The peer's FIN was received: nothing more can come; ignore text.
    t.input(seg(Y + 2).ack(X + 1).data(b"more"));
    t.none();
    assert_eq!(t.conn.recv_queue(), 0);
    assert_eq!(recv_result(&mut t), Ok(0));
    assert_eq!(t.state(), State::CloseWait);
}

#[test]
fn close_wait_retransmitted_fin_is_reacknowledged() {
    let mut t = reach(State::CloseWait);
    t.input(seg(Y + 1).fin().ack(X + 1));
    expect_ack(&mut t, X + 1, Y + 2, SendReason::DupAck);
    assert_eq!(t.state(), State::CloseWait);
}

#[test]
fn close_wait_ack_of_our_data_is_processed() {
    let mut t = reach(State::CloseWait);
    t.conn.send(b"hi").unwrap();
    let data = t.out1();
    assert_seg(&data, ACK | PSH, X + 1, Y + 2);
    t.input(seg(Y + 2).ack(X + 3));
    t.none();
    assert_eq!(t.conn.status().snd_una.0, X + 3);
    t.advance(Duration::from_secs(1));
    t.none();
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn close_wait_close_sends_fin_and_enters_last_ack() {
    let mut t = reach(State::CloseWait);
    t.conn.close(t.now);
    let fin = t.out1();
    assert_seg(&fin, FIN | ACK, X + 1, Y + 2);
    assert_eq!(t.state(), State::LastAck);
    assert_eq!(causes(&t), [Cause::Close]);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn close_wait_shutdown_sends_fin_after_data() {
    let mut t = reach(State::CloseWait);
    t.conn.send(b"tail").unwrap();
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
    let s = t.out1();
    assert_seg(&s, ACK | PSH | FIN, X + 1, Y + 2);
    assert_eq!(s.data, b"tail");
    assert_eq!(t.state(), State::LastAck);
}

#[test]
fn close_wait_close_with_unread_data_resets() {
    let mut t = reach(State::Established);
    t.input(seg(Y + 1).ack(X + 1).data(b"unread").fin());
    t.out1();
    assert_eq!(t.state(), State::CloseWait);
    t.conn.close(t.now);
    expect_rst(&mut t, RST, X + 1, 0);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn close_wait_send_still_allowed_and_recv_reads_eof() {
    let mut t = reach(State::CloseWait);
    assert_eq!(recv_result(&mut t), Ok(0));
    assert_eq!(t.conn.send(b"half"), Ok(4));
    let s = t.out1();
    assert_seg(&s, ACK | PSH, X + 1, Y + 2);
}

#[test]
fn close_wait_timeout_retransmits_data() {
    let mut t = reach(State::CloseWait);
    t.conn.send(b"hi").unwrap();
    t.out1();
    t.fire();
    let again = t.out1();
    assert_seg(&again, ACK | PSH, X + 1, Y + 2);
    assert_eq!(again.reason, SendReason::Retransmission);
}

#[test]
fn close_wait_abort_sends_rst() {
    let mut t = reach(State::CloseWait);
    t.conn.abort();
    expect_rst(&mut t, RST, X + 1, 0);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn close_wait_rst_after_eof_still_reads_eof() {
    // The stream ended before the reset; reading it reports EOF, like
    // Linux (the reset is reported as the close reason).
    let mut t = reach(State::CloseWait);
    t.input(seg(Y + 2).rst());
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Reset));
    assert_eq!(recv_result(&mut t), Ok(0));
    assert_eq!(t.conn.send(b"x"), Err(Error::Closed(CloseReason::Reset)));
}
