//! SYN-SENT (RFC 9293 §3.10.7.3) and SYN-RECEIVED (§3.10.7.4 with the
//! SYN-RECEIVED rules): every event, every timeout, every user call.

use std::time::Duration;

use proto::conn::{Cause, CloseReason, Config, Error, Event, SendReason, State};
use wire::tcp::TcpOptions;

use crate::harness::*;
use crate::states_setup::*;

fn mss_only() -> TcpOptions {
    TcpOptions {
        mss: Some(1460),
        ..TcpOptions::default()
    }
}

/// SYN-RECEIVED reached by a simultaneous open (an active OPEN).
fn simultaneous() -> Tcb {
    let mut t = reach(State::SynSent);
    t.input(seg(Y).syn().mss(1460));
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    assert_eq!(t.state(), State::SynReceived);
    t.events.clear();
    t
}

// -------------------------------------------------------------- SYN-SENT

#[test]
fn connect_sends_syn_with_iss_and_all_offered_options() {
    let cfg = Config::default();
    let mut t = Tcb::client(cfg);
    assert_eq!(t.state(), State::SynSent);
    let syn = t.out1();
    assert_seg(&syn, SYN, X, 0);
    assert_eq!(syn.len(), 0, "a SYN carries no data");
    assert_eq!(syn.reason, SendReason::Syn);
    assert_eq!(syn.window, 65535, "a SYN's window is not scaled");
    let o = syn.options;
    assert_eq!(o.mss, Some(1460));
    assert_eq!(o.window_scale, Some(cfg.rcv_wscale()));
    assert!(o.sack_permitted);
    assert_eq!(o.timestamps.map(|ts| ts.tsecr), Some(0));
    // The SYN consumes one sequence number and is timed by the 1 s RTO.
    let st = t.conn.status();
    assert_eq!((st.snd_una.0, st.snd_nxt.0), (X, X + 1));
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn connect_plain_syn_offers_only_mss() {
    let mut t = Tcb::client(plain());
    let syn = t.out1();
    assert_eq!(syn.options, mss_only());
    assert_eq!(syn.window, WND);
}

#[test]
fn syn_sent_syn_ack_enters_established_and_acknowledges() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y).syn().ack(X + 1).mss(1400).win(8000));
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    let ack = expect_ack(&mut t, X + 1, Y + 1, SendReason::Ack);
    assert_eq!(ack.window, WND);
    assert_eq!(ack.options, TcpOptions::default());
    assert_eq!(t.state(), State::Established);
    assert_eq!(causes(&t), [Cause::SynAckReceived]);
    assert!(saw(&t, Event::Connected));
    let st = t.conn.status();
    assert_eq!(
        (st.snd_una.0, st.snd_nxt.0, st.rcv_nxt.0, st.snd_wnd, st.mss),
        (X + 1, X + 1, Y + 1, 8000, 1400)
    );
    assert_eq!(t.conn.poll_timeout(), None, "nothing left to time");
}

#[test]
fn syn_sent_syn_ack_with_data_delivers_it() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y).syn().ack(X + 1).data(b"hello"));
    let ack = expect_ack(&mut t, X + 1, Y + 6, SendReason::Ack);
    assert_eq!(ack.window, WND - 5);
    assert_eq!(t.read_all(), b"hello");
    assert_eq!(t.state(), State::Established);
}

#[test]
fn syn_sent_syn_ack_with_fin_enters_close_wait() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y).syn().ack(X + 1).data(b"bye").fin());
    expect_ack(&mut t, X + 1, Y + 5, SendReason::Ack);
    assert_eq!(
        t.transitions(),
        [
            (State::SynSent, State::Established),
            (State::Established, State::CloseWait)
        ]
    );
    assert_eq!(t.read_all(), b"bye");
    assert_eq!(recv_result(&mut t), Ok(0));
}

#[test]
fn syn_sent_syn_ack_acking_the_iss_draws_rst() {
    let mut t = reach(State::SynSent);
    // SEG.ACK =< ISS: <SEQ=SEG.ACK><CTL=RST>, nothing else changes.
    t.input(seg(Y).syn().ack(X));
    expect_rst(&mut t, RST, X, 0);
    assert_eq!(t.state(), State::SynSent);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn syn_sent_syn_ack_acking_beyond_snd_nxt_draws_rst() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y).syn().ack(X + 2));
    expect_rst(&mut t, RST, X + 2, 0);
    assert_eq!(t.state(), State::SynSent);
    // The right SYN-ACK still completes the handshake.
    t.input(seg(Y).syn().ack(X + 1));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::Ack);
}

#[test]
fn syn_sent_bare_ack_of_our_syn_is_dropped() {
    let mut t = reach(State::SynSent);
    // Neither SYN nor RST: drop (fifth step of §3.10.7.3).
    t.input(seg(Y + 1).ack(X + 1));
    t.none();
    assert_eq!(t.state(), State::SynSent);
}

#[test]
fn syn_sent_unacceptable_ack_draws_rst() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y + 1).ack(X + 50).data(b"junk"));
    expect_rst(&mut t, RST, X + 50, 0);
    assert_eq!(t.state(), State::SynSent);
}

#[test]
fn syn_sent_data_or_fin_without_syn_is_dropped() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y + 1).data(b"abc"));
    t.input(seg(Y + 1).fin());
    t.input(seg(Y + 1).fin().ack(X + 1));
    t.none();
    assert_eq!(t.state(), State::SynSent);
    assert_eq!(t.conn.recv_queue(), 0);
}

#[test]
fn syn_sent_rst_with_acceptable_ack_is_connection_refused() {
    let mut t = reach(State::SynSent);
    t.input(seg(0).rst().ack(X + 1));
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::RstReceived]);
    assert!(saw(&t, Event::Closed(CloseReason::Refused)));
    assert_eq!(t.conn.poll_timeout(), None);
    assert_eq!(t.conn.send(b"x"), Err(Error::Closed(CloseReason::Refused)));
}

#[test]
fn syn_sent_rst_without_ack_is_ignored() {
    let mut t = reach(State::SynSent);
    t.input(seg(0).rst());
    t.none();
    assert_eq!(t.state(), State::SynSent);
    assert!(t.events.is_empty());
}

#[test]
fn syn_sent_rst_with_unacceptable_ack_is_ignored() {
    let mut t = reach(State::SynSent);
    // A bad ACK with RST: "discard the segment and return", no RST back.
    t.input(seg(0).rst().ack(X + 9));
    t.input(seg(0).rst().ack(X));
    t.none();
    assert_eq!(t.state(), State::SynSent);
}

#[test]
fn syn_sent_syn_enters_syn_received_and_sends_syn_ack() {
    let mut t = reach(State::SynSent);
    t.input(seg(Y).syn().mss(1460).win(3000));
    // Simultaneous open: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    assert_eq!(synack.window, WND);
    assert_eq!(synack.options, mss_only());
    assert_eq!(t.state(), State::SynReceived);
    assert_eq!(causes(&t), [Cause::SynReceived]);
    // SND.WND <- SEG.WND.
    assert_eq!(t.conn.status().snd_wnd, 3000);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn syn_sent_timeout_resends_the_same_syn_with_backoff() {
    let mut t = reach(State::SynSent);
    let t1 = t.fire();
    assert_eq!(t1, T0 + Duration::from_secs(1));
    let again = t.out1();
    assert_seg(&again, SYN, X, 0);
    assert_eq!(again.options, mss_only());
    assert_eq!(again.reason, SendReason::Retransmission);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(2)));
    assert_eq!(t.conn.status().stats.timeouts, 1);
}

#[test]
fn syn_sent_close_deletes_the_tcb_without_a_segment() {
    let mut t = reach(State::SynSent);
    t.conn.close(t.now);
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(causes(&t), [Cause::Close]);
    assert_eq!(t.conn.poll_timeout(), None, "no SYN retransmission");
    // A SYN-ACK arriving now meets a closed connection.
    t.input(seg(Y).syn().ack(X + 1));
    expect_rst(&mut t, RST, X + 1, 0);
}

#[test]
fn syn_sent_abort_sends_no_rst() {
    let mut t = reach(State::SynSent);
    t.conn.abort();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert!(saw(&t, Event::Closed(CloseReason::Aborted)));
}

#[test]
fn syn_sent_send_queues_data_until_established() {
    let mut t = reach(State::SynSent);
    assert_eq!(t.conn.send(b"hello"), Ok(5));
    t.none();
    t.input(seg(Y).syn().ack(X + 1));
    // The ACK of the SYN-ACK carries the queued data.
    let data = t.out1();
    assert_seg(&data, ACK | PSH, X + 1, Y + 1);
    assert_eq!(data.data, b"hello");
    assert_eq!(data.reason, SendReason::Data);
}

#[test]
fn syn_sent_recv_would_block_and_status_shows_the_syn() {
    let mut t = reach(State::SynSent);
    assert_eq!(recv_result(&mut t), Err(Error::WouldBlock));
    let st = t.conn.status();
    assert_eq!(
        (st.state, st.snd_una.0, st.snd_nxt.0, st.bytes_in_flight),
        (State::SynSent, X, X + 1, 1)
    );
    assert_eq!((st.local_port, st.remote_port), (LOCAL, REMOTE));
}

#[test]
fn syn_sent_shutdown_deletes_the_tcb() {
    let mut t = reach(State::SynSent);
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
    t.none();
    assert_eq!(t.state(), State::Closed);
}

// ---------------------------------------------------------- SYN-RECEIVED

#[test]
fn syn_received_ack_enters_established() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y + 1).ack(X + 1).win(4000));
    t.none();
    assert_eq!(t.state(), State::Established);
    assert_eq!(causes(&t), [Cause::AckReceived]);
    assert!(saw(&t, Event::Connected));
    let st = t.conn.status();
    assert_eq!(
        (st.snd_una.0, st.snd_nxt.0, st.snd_wnd),
        (X + 1, X + 1, 4000)
    );
    assert_eq!(t.conn.poll_timeout(), None, "the SYN-ACK timer stops");
}

#[test]
fn syn_received_ack_with_data_and_fin_enters_close_wait() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y + 1).ack(X + 1).data(b"bye").fin());
    expect_ack(&mut t, X + 1, Y + 5, SendReason::Ack);
    assert_eq!(
        t.transitions(),
        [
            (State::SynReceived, State::Established),
            (State::Established, State::CloseWait)
        ]
    );
    assert_eq!(t.read_all(), b"bye");
}

#[test]
fn syn_received_ack_of_the_iss_draws_rst() {
    let mut t = reach(State::SynReceived);
    // Acknowledges nothing new: <SEQ=SEG.ACK><CTL=RST>.
    t.input(seg(Y + 1).ack(X));
    expect_rst(&mut t, RST, X, 0);
    assert_eq!(t.state(), State::SynReceived);
}

#[test]
fn syn_received_ack_of_unsent_data_draws_rst() {
    let mut t = reach(State::SynReceived);
    // RFC 9293 §3.10.7.4 fifth check, SYN-RECEIVED: an unacceptable ACK
    // draws <SEQ=SEG.ACK><CTL=RST> (a half-open connection's old ACK).
    t.input(seg(Y + 1).ack(X + 2));
    expect_rst(&mut t, RST, X + 2, 0);
    assert_eq!(t.state(), State::SynReceived);
    // The right ACK still completes the handshake.
    t.input(seg(Y + 1).ack(X + 1));
    assert_eq!(t.state(), State::Established);
}

#[test]
fn syn_received_ack_too_old_draws_rst() {
    let mut t = reach(State::SynReceived);
    let old = X.wrapping_sub(100_000);
    t.input(seg(Y + 1).ack(old));
    expect_rst(&mut t, RST, old, 0);
    assert_eq!(t.state(), State::SynReceived);
}

#[test]
fn syn_received_retransmitted_syn_resends_the_syn_ack() {
    let mut t = reach(State::SynReceived);
    t.advance(Duration::from_millis(300));
    t.input(seg(Y).syn().mss(1460));
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    assert_eq!(synack.reason, SendReason::Retransmission);
    assert_eq!(t.state(), State::SynReceived);
    // The retransmission timer keeps its deadline.
    assert_eq!(next_deadline(&t), Some(Duration::from_millis(700)));
}

#[test]
fn syn_received_old_duplicate_syn_in_window_returns_to_listen() {
    let mut t = reach(State::SynReceived);
    // A different SYN in the window: the passive side forgets the attempt.
    t.input(seg(Y + 100).syn());
    t.none();
    assert_eq!(t.state(), State::Listen);
    assert_eq!(t.transitions(), [(State::SynReceived, State::Listen)]);
    assert_eq!(t.conn.remote_port(), 0);
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn syn_received_old_syn_outside_window_is_acknowledged() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y - 1000).syn());
    expect_ack(&mut t, X + 1, Y + 1, SendReason::DupAck);
    assert_eq!(t.state(), State::SynReceived);
}

#[test]
fn syn_received_unacceptable_data_is_acknowledged_and_dropped() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y + 1 + 70_000).ack(X + 1).data(b"far"));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::DupAck);
    assert_eq!(t.state(), State::SynReceived);
    assert_eq!(t.conn.recv_queue(), 0);
}

#[test]
fn syn_received_segment_without_ack_is_dropped() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y + 1).data(b"abc"));
    t.input(seg(Y + 1).fin());
    t.none();
    assert_eq!(t.state(), State::SynReceived);
    assert_eq!(t.conn.recv_queue(), 0);
}

#[test]
fn syn_received_rst_exact_returns_passive_open_to_listen() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y + 1).rst());
    t.none();
    assert_eq!(t.state(), State::Listen);
    assert_eq!(t.conn.poll_timeout(), None);
    assert_eq!(t.closed_with(), None, "a listener is not closed");
}

#[test]
fn syn_received_rst_in_window_draws_challenge_ack() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y + 10).rst());
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    assert_eq!(t.state(), State::SynReceived);
}

#[test]
fn syn_received_rst_outside_window_is_dropped() {
    let mut t = reach(State::SynReceived);
    t.input(seg(Y + 1 + 65535).rst());
    t.input(seg(Y).rst());
    t.none();
    assert_eq!(t.state(), State::SynReceived);
}

#[test]
fn syn_received_active_rst_exact_is_connection_refused() {
    let mut t = simultaneous();
    t.input(seg(Y + 1).rst());
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Refused));
}

#[test]
fn syn_received_active_syn_in_window_draws_challenge_ack() {
    let mut t = simultaneous();
    t.input(seg(Y + 5).syn());
    expect_ack(&mut t, X + 1, Y + 1, SendReason::ChallengeAck);
    assert_eq!(t.state(), State::SynReceived);
}

#[test]
fn syn_received_active_peers_syn_ack_is_acknowledged() {
    // The peer's SYN-ACK repeats its SYN (seq Y, below RCV.NXT): the
    // sequence check answers it with an ACK, which completes the peer's
    // handshake; ours completes on the peer's ACK.
    let mut t = simultaneous();
    t.input(seg(Y).syn().ack(X + 1));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::DupAck);
    assert_eq!(t.state(), State::SynReceived);
    t.input(seg(Y + 1).ack(X + 1));
    assert_eq!(t.state(), State::Established);
}

#[test]
fn syn_received_timeout_resends_syn_ack_with_backoff() {
    let mut t = reach(State::SynReceived);
    assert_eq!(t.fire(), T0 + Duration::from_secs(1));
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    assert_eq!(synack.reason, SendReason::Retransmission);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(2)));
}

#[test]
fn syn_received_syn_ack_retries_exhausted_times_out() {
    let mut t = Tcb::listener(Config {
        syn_retries: 2,
        ..plain()
    });
    t.input(seg(Y).syn());
    t.out1();
    for _ in 0..2 {
        t.fire();
        assert_eq!(t.out1().reason, SendReason::Retransmission);
    }
    t.fire();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn syn_received_close_sends_fin_once_established() {
    let mut t = reach(State::SynReceived);
    t.conn.close(t.now);
    // RFC 9293 §3.10.4: the FIN is queued until ESTABLISHED.
    t.none();
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    t.input(seg(Y + 1).ack(X + 1));
    let fin = t.out1();
    assert_seg(&fin, FIN | ACK, X + 1, Y + 1);
    assert_eq!(t.state(), State::FinWait1);
    t.input(seg(Y + 1).ack(X + 2));
    assert_eq!(t.state(), State::FinWait2);
}

#[test]
fn syn_received_close_then_timeout_resends_the_syn_ack() {
    let mut t = reach(State::SynReceived);
    t.conn.close(t.now);
    t.none();
    t.fire();
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    assert_eq!(synack.len(), 0);
}

#[test]
fn syn_received_abort_sends_rst_at_snd_nxt() {
    let mut t = reach(State::SynReceived);
    t.conn.abort();
    // <SEQ=SND.NXT><CTL=RST>
    expect_rst(&mut t, RST, X + 1, 0);
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
}

#[test]
fn syn_received_send_queues_data_until_established() {
    let mut t = reach(State::SynReceived);
    assert_eq!(t.conn.send(b"hi"), Ok(2));
    t.none();
    t.input(seg(Y + 1).ack(X + 1));
    let data = t.out1();
    assert_seg(&data, ACK | PSH, X + 1, Y + 1);
    assert_eq!(data.data, b"hi");
}

#[test]
fn syn_received_recv_would_block_and_status() {
    let mut t = reach(State::SynReceived);
    assert_eq!(recv_result(&mut t), Err(Error::WouldBlock));
    let st = t.conn.status();
    assert_eq!(
        (
            st.state,
            st.snd_una.0,
            st.snd_nxt.0,
            st.rcv_nxt.0,
            st.rcv_wnd
        ),
        (State::SynReceived, X, X + 1, Y + 1, u32::from(WND))
    );
}
