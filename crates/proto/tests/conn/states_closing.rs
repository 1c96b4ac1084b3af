//! The closing states (RFC 9293 §3.10.7.4): FIN-WAIT-1, FIN-WAIT-2,
//! CLOSING, LAST-ACK and TIME-WAIT, with their timers (retransmission,
//! FIN-WAIT-2, 2·MSL) and the user calls.

use std::time::Duration;

use proto::conn::{Cause, CloseReason, Config, Error, SendReason, State};

use crate::harness::*;
use crate::states_setup::*;

const MIN: Duration = Duration::from_secs(60);

// ------------------------------------------------------------ FIN-WAIT-1

#[test]
fn fin_wait_1_ack_of_fin_enters_fin_wait_2() {
    let mut t = reach(State::FinWait1);
    t.input(seg(Y + 1).ack(X + 2));
    t.none();
    assert_eq!(t.state(), State::FinWait2);
    assert_eq!(causes(&t), [Cause::AckReceived]);
    // After close(), FIN-WAIT-2 is bounded (60 s by default).
    assert_eq!(next_deadline(&t), Some(MIN));
}

#[test]
fn fin_wait_1_ack_not_covering_the_fin_stays() {
    let mut t = reach(State::Established);
    t.conn.send(b"data").unwrap();
    t.conn.close(t.now);
    let s = t.out1();
    assert_seg(&s, ACK | PSH | FIN, X + 1, Y + 1);
    assert_eq!(s.len(), 4);
    t.input(seg(Y + 1).ack(X + 5));
    t.none();
    assert_eq!(t.state(), State::FinWait1);
    assert_eq!(t.conn.status().snd_una.0, X + 5);
    t.input(seg(Y + 1).ack(X + 6));
    assert_eq!(t.state(), State::FinWait2);
}

#[test]
fn fin_wait_1_fin_without_ack_of_ours_enters_closing() {
    let mut t = reach(State::FinWait1);
    t.input(seg(Y + 1).fin().ack(X + 1));
    expect_ack(&mut t, X + 2, Y + 2, SendReason::Ack);
    assert_eq!(t.state(), State::Closing);
    assert_eq!(causes(&t), [Cause::FinReceived]);
    // Our FIN is still timed.
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn fin_wait_1_fin_with_ack_of_ours_enters_time_wait() {
    let mut t = reach(State::FinWait1);
    t.input(seg(Y + 1).fin().ack(X + 2));
    expect_ack(&mut t, X + 2, Y + 2, SendReason::Ack);
    assert_eq!(t.state(), State::TimeWait);
    assert_eq!(causes(&t), [Cause::FinAckReceived]);
    assert_eq!(next_deadline(&t), Some(2 * Duration::from_secs(30)));
}

#[test]
fn fin_wait_1_out_of_order_fin_acking_ours_arms_fin_wait_2_timer() {
    let mut t = reach(State::FinWait1);
    // The peer's FIN arrives ahead of data we have not seen; it
    // acknowledges our FIN.
    t.input(seg(Y + 4).fin().ack(X + 2));
    assert_eq!(t.state(), State::FinWait2);
    // An out-of-order segment is acknowledged at once (RFC 5681 §4.2).
    expect_ack(&mut t, X + 2, Y + 1, SendReason::Ack);
    assert_eq!(next_deadline(&t), Some(MIN));
}

#[test]
fn fin_wait_1_data_after_shutdown_is_delivered() {
    let mut t = reach_with(State::FinWait1, How::Shutdown);
    t.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    expect_ack(&mut t, X + 2, Y + 4, SendReason::Ack);
    assert_eq!(t.read_all(), b"abc");
    assert_eq!(t.state(), State::FinWait1);
}

#[test]
fn fin_wait_1_data_after_close_resets() {
    let mut t = reach(State::FinWait1);
    t.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    // RFC 1122 §4.2.2.13: nobody will read it.
    expect_rst(&mut t, RST, X + 2, 0);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::DataAfterClose]);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn fin_wait_1_timeout_retransmits_the_fin() {
    let mut t = reach(State::FinWait1);
    assert_eq!(t.fire(), T0 + Duration::from_secs(1));
    let fin = t.out1();
    assert_seg(&fin, FIN | ACK, X + 1, Y + 1);
    assert_eq!(fin.reason, SendReason::Retransmission);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(2)));
}

#[test]
fn fin_wait_1_send_is_refused_and_recv_waits() {
    let mut t = reach_with(State::FinWait1, How::Shutdown);
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    assert_eq!(t.conn.send_capacity(), 0);
    assert_eq!(recv_result(&mut t), Err(Error::WouldBlock));
}

#[test]
fn fin_wait_1_close_again_sends_no_second_fin() {
    let mut t = reach(State::FinWait1);
    t.conn.close(t.now);
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
    t.none();
    assert_eq!(t.state(), State::FinWait1);
    assert!(t.events.is_empty());
}

#[test]
fn fin_wait_1_abort_sends_rst_at_snd_nxt() {
    let mut t = reach(State::FinWait1);
    t.conn.abort();
    expect_rst(&mut t, RST, X + 2, 0);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn fin_wait_1_ack_of_unsent_draws_challenge_ack() {
    let mut t = reach(State::FinWait1);
    t.input(seg(Y + 1).ack(X + 5));
    expect_ack(&mut t, X + 2, Y + 1, SendReason::ChallengeAck);
    assert_eq!(t.state(), State::FinWait1);
}

// ------------------------------------------------------------ FIN-WAIT-2

#[test]
fn fin_wait_2_fin_enters_time_wait() {
    let mut t = reach(State::FinWait2);
    t.input(seg(Y + 1).fin().ack(X + 2));
    let ack = expect_ack(&mut t, X + 2, Y + 2, SendReason::Ack);
    assert_eq!(ack.window, WND);
    assert_eq!(t.state(), State::TimeWait);
    assert_eq!(causes(&t), [Cause::FinReceived]);
    // The FIN-WAIT-2 timer is replaced by the 2·MSL wait.
    assert_eq!(next_deadline(&t), Some(2 * Duration::from_secs(30)));
}

#[test]
fn fin_wait_2_data_with_fin_after_shutdown_enters_time_wait() {
    let mut t = reach_with(State::FinWait2, How::Shutdown);
    t.input(seg(Y + 1).fin().ack(X + 2).data(b"end"));
    expect_ack(&mut t, X + 2, Y + 5, SendReason::Ack);
    assert_eq!(t.state(), State::TimeWait);
    assert_eq!(t.read_all(), b"end");
    assert_eq!(recv_result(&mut t), Ok(0));
}

#[test]
fn fin_wait_2_data_after_shutdown_is_delivered() {
    let mut t = reach_with(State::FinWait2, How::Shutdown);
    t.input(seg(Y + 1).ack(X + 2).data(b"abc"));
    expect_ack(&mut t, X + 2, Y + 4, SendReason::Ack);
    assert_eq!(t.read_all(), b"abc");
    assert_eq!(t.state(), State::FinWait2);
}

#[test]
fn fin_wait_2_data_after_close_resets() {
    let mut t = reach(State::FinWait2);
    t.input(seg(Y + 1).ack(X + 2).data(b"abc"));
    expect_rst(&mut t, RST, X + 2, 0);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::DataAfterClose]);
}

#[test]
fn fin_wait_2_timeout_after_close_ends_the_connection() {
    let mut t = reach(State::FinWait2);
    t.advance(MIN - Duration::from_millis(1));
    assert_eq!(t.state(), State::FinWait2);
    t.advance(Duration::from_millis(1));
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::FinWait2Timeout]);
    assert_eq!(t.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn fin_wait_2_after_shutdown_waits_without_a_timer() {
    let mut t = reach_with(State::FinWait2, How::Shutdown);
    assert_eq!(t.conn.poll_timeout(), None);
    t.advance(Duration::from_secs(3600));
    assert_eq!(t.state(), State::FinWait2);
}

#[test]
fn fin_wait_2_close_after_shutdown_arms_the_timeout() {
    let mut t = reach_with(State::FinWait2, How::Shutdown);
    t.advance(Duration::from_secs(10));
    t.conn.close(t.now);
    t.none();
    assert_eq!(next_deadline(&t), Some(MIN));
}

#[test]
fn fin_wait_2_timeout_can_be_disabled() {
    let mut t = Tcb::established(Config {
        fin_wait_2_timeout: None,
        ..plain()
    });
    t.conn.close(t.now);
    t.out1();
    t.input(seg(Y + 1).ack(X + 2));
    assert_eq!(t.state(), State::FinWait2);
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn fin_wait_2_unacceptable_segment_is_acknowledged() {
    let mut t = reach(State::FinWait2);
    t.input(seg(Y + 1 + 70_000).ack(X + 2).data(b"x"));
    expect_ack(&mut t, X + 2, Y + 1, SendReason::DupAck);
    assert_eq!(t.state(), State::FinWait2);
}

#[test]
fn fin_wait_2_abort_sends_rst() {
    let mut t = reach(State::FinWait2);
    t.conn.abort();
    expect_rst(&mut t, RST, X + 2, 0);
    assert_eq!(t.state(), State::Closed);
}

#[test]
fn fin_wait_2_send_is_refused() {
    let mut t = reach_with(State::FinWait2, How::Shutdown);
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    assert_eq!(recv_result(&mut t), Err(Error::WouldBlock));
    let st = t.conn.status();
    assert_eq!((st.snd_una.0, st.snd_nxt.0), (X + 2, X + 2));
}

// ---------------------------------------------------------------- CLOSING

#[test]
fn closing_ack_of_fin_enters_time_wait() {
    let mut t = reach(State::Closing);
    t.input(seg(Y + 2).ack(X + 2));
    t.none();
    assert_eq!(t.state(), State::TimeWait);
    assert_eq!(causes(&t), [Cause::AckReceived]);
    assert_eq!(next_deadline(&t), Some(2 * Duration::from_secs(30)));
}

#[test]
fn closing_ack_not_covering_the_fin_is_ignored() {
    let mut t = reach(State::Closing);
    t.input(seg(Y + 2).ack(X + 1));
    t.none();
    assert_eq!(t.state(), State::Closing);
}

#[test]
fn closing_timeout_retransmits_the_fin() {
    let mut t = reach(State::Closing);
    t.fire();
    let fin = t.out1();
    assert_seg(&fin, FIN | ACK, X + 1, Y + 2);
    assert_eq!(fin.reason, SendReason::Retransmission);
}

#[test]
fn closing_retransmitted_fin_is_reacknowledged() {
    let mut t = reach(State::Closing);
    t.input(seg(Y + 1).fin().ack(X + 1));
    expect_ack(&mut t, X + 2, Y + 2, SendReason::DupAck);
    assert_eq!(t.state(), State::Closing);
}

#[test]
fn closing_data_is_ignored() {
    let mut t = reach(State::Closing);
    t.input(seg(Y + 2).ack(X + 1).data(b"x"));
    t.none();
    assert_eq!(t.state(), State::Closing);
    assert_eq!(t.conn.recv_queue(), 0);
}

#[test]
fn closing_abort_sends_no_rst() {
    let mut t = reach(State::Closing);
    t.conn.abort();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn closing_user_calls() {
    let mut t = reach(State::Closing);
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    assert_eq!(recv_result(&mut t), Ok(0));
    t.conn.close(t.now);
    t.none();
    assert_eq!(t.state(), State::Closing);
}

// --------------------------------------------------------------- LAST-ACK

#[test]
fn last_ack_ack_of_fin_closes() {
    let mut t = reach(State::LastAck);
    t.input(seg(Y + 2).ack(X + 2));
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::AckReceived]);
    assert_eq!(t.closed_with(), Some(CloseReason::Normal));
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn last_ack_ack_not_covering_the_fin_stays() {
    let mut t = reach(State::LastAck);
    t.input(seg(Y + 2).ack(X + 1));
    t.none();
    assert_eq!(t.state(), State::LastAck);
}

#[test]
fn last_ack_timeout_retransmits_the_fin() {
    let mut t = reach(State::LastAck);
    assert_eq!(t.fire(), T0 + Duration::from_secs(1));
    let fin = t.out1();
    assert_seg(&fin, FIN | ACK, X + 1, Y + 2);
    assert_eq!(fin.reason, SendReason::Retransmission);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(2)));
}

#[test]
fn last_ack_retries_exhausted_times_out() {
    let mut t = Tcb::established(Config {
        max_retransmissions: 1,
        ..plain()
    });
    t.input(seg(Y + 1).fin().ack(X + 1));
    t.out1();
    t.conn.close(t.now);
    t.out1();
    t.fire();
    assert_eq!(t.out1().reason, SendReason::Retransmission);
    t.fire();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn last_ack_retransmitted_fin_is_reacknowledged() {
    let mut t = reach(State::LastAck);
    t.input(seg(Y + 1).fin().ack(X + 1));
    expect_ack(&mut t, X + 2, Y + 2, SendReason::DupAck);
    assert_eq!(t.state(), State::LastAck);
}

#[test]
fn last_ack_abort_sends_no_rst() {
    let mut t = reach(State::LastAck);
    t.conn.abort();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn last_ack_user_calls() {
    let mut t = reach(State::LastAck);
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    assert_eq!(recv_result(&mut t), Ok(0));
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
    t.none();
}

// -------------------------------------------------------------- TIME-WAIT

#[test]
fn time_wait_lasts_two_msl() {
    let mut t = Tcb::established(Config {
        msl: Duration::from_secs(5),
        ..plain()
    });
    t.conn.close(t.now);
    t.out1();
    t.input(seg(Y + 1).fin().ack(X + 2));
    t.out1();
    assert_eq!(t.state(), State::TimeWait);
    t.events.clear();
    // The only timer left is 2·MSL.
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(10)));
    t.advance(Duration::from_millis(9_999));
    assert_eq!(t.state(), State::TimeWait);
    t.advance(Duration::from_millis(1));
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::TimeWaitExpired]);
    assert_eq!(t.closed_with(), Some(CloseReason::Normal));
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn time_wait_retransmitted_fin_restarts_two_msl() {
    let mut t = reach(State::TimeWait);
    t.advance(Duration::from_secs(20));
    t.input(seg(Y + 1).fin().ack(X + 2));
    expect_ack(&mut t, X + 2, Y + 2, SendReason::DupAck);
    assert_eq!(next_deadline(&t), Some(MIN));
}

#[test]
fn time_wait_ack_is_ignored_and_the_timer_kept() {
    let mut t = reach(State::TimeWait);
    t.advance(Duration::from_secs(5));
    t.input(seg(Y + 2).ack(X + 2));
    t.none();
    assert_eq!(t.state(), State::TimeWait);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(55)));
}

#[test]
fn time_wait_data_is_ignored() {
    let mut t = reach(State::TimeWait);
    t.input(seg(Y + 2).ack(X + 2).data(b"x"));
    t.none();
    assert_eq!(t.conn.recv_queue(), 0);
    assert_eq!(t.state(), State::TimeWait);
}

#[test]
fn time_wait_syn_in_window_draws_challenge_ack() {
    let mut t = reach(State::TimeWait);
    t.input(seg(Y + 2).syn());
    expect_ack(&mut t, X + 2, Y + 2, SendReason::ChallengeAck);
    assert_eq!(t.state(), State::TimeWait);
    assert_eq!(next_deadline(&t), Some(MIN));
}

#[test]
fn time_wait_rst_exact_closes_normally() {
    let mut t = reach(State::TimeWait);
    t.input(seg(Y + 2).rst());
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::RstReceived]);
    assert_eq!(t.closed_with(), Some(CloseReason::Normal));
}

#[test]
fn time_wait_abort_deletes_without_rst() {
    let mut t = reach(State::TimeWait);
    t.conn.abort();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn time_wait_user_calls() {
    let mut t = reach(State::TimeWait);
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    assert_eq!(recv_result(&mut t), Ok(0));
    t.conn.close(t.now);
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
    t.none();
    assert_eq!(t.state(), State::TimeWait);
    let st = t.conn.status();
    assert_eq!(
        (st.snd_una.0, st.snd_nxt.0, st.rcv_nxt.0),
        (X + 2, X + 2, Y + 2)
    );
}
