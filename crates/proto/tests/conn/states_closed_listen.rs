//! CLOSED (RFC 9293 §3.10.7.1) and LISTEN (§3.10.7.2): every event, and
//! the user calls that make sense there.

use std::time::Duration;

use proto::conn::{reset_for, Cause, CloseReason, Config, Error, Event, SendReason, State};
use wire::tcp::{TcpOptions, TcpRepr};
use wire::SeqNum;

use crate::harness::*;
use crate::states_setup::*;

// ---------------------------------------------------------------- CLOSED

#[test]
fn closed_syn_draws_rst_ack_with_seq_zero_and_ack_seq_plus_one() {
    let mut t = reach(State::Closed);
    // ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; the SYN counts.
    t.input(seg(7000).syn());
    expect_rst(&mut t, RST | ACK, 0, 7001);
    assert_eq!(t.state(), State::Closed);
}

#[test]
fn closed_syn_with_data_rst_acknowledges_syn_and_data() {
    let mut t = reach(State::Closed);
    t.input(seg(7000).syn().data(b"abc"));
    expect_rst(&mut t, RST | ACK, 0, 7004);
}

#[test]
fn closed_data_without_ack_rst_acknowledges_seq_plus_len() {
    let mut t = reach(State::Closed);
    t.input(seg(7000).data(b"hello"));
    expect_rst(&mut t, RST | ACK, 0, 7005);
}

#[test]
fn closed_fin_without_ack_rst_counts_the_fin() {
    let mut t = reach(State::Closed);
    t.input(seg(7000).fin().data(b"xy"));
    expect_rst(&mut t, RST | ACK, 0, 7003);
}

#[test]
fn closed_ack_draws_rst_with_seq_of_seg_ack() {
    let mut t = reach(State::Closed);
    // ACK on: <SEQ=SEG.ACK><CTL=RST>.
    t.input(seg(Y + 1).ack(X + 1).data(b"late"));
    expect_rst(&mut t, RST, X + 1, 0);
}

#[test]
fn closed_syn_ack_draws_rst_with_seq_of_seg_ack() {
    let mut t = reach(State::Closed);
    t.input(seg(8000).syn().ack(4321));
    expect_rst(&mut t, RST, 4321, 0);
}

#[test]
fn closed_fin_ack_draws_rst_with_seq_of_seg_ack() {
    let mut t = reach(State::Closed);
    t.input(seg(Y + 1).fin().ack(X + 1));
    expect_rst(&mut t, RST, X + 1, 0);
}

#[test]
fn closed_rst_is_dropped_silently() {
    let mut t = reach(State::Closed);
    t.input(seg(Y + 1).rst());
    t.none();
    t.input(seg(Y + 1).rst().ack(X + 1));
    t.none();
    assert_eq!(t.state(), State::Closed);
}

#[test]
fn closed_user_calls_report_the_end() {
    let mut t = reach(State::Closed);
    // SEND and RECEIVE: "connection does not exist" — here, the reason
    // it ended.
    assert_eq!(t.conn.send(b"x"), Err(Error::Closed(CloseReason::Aborted)));
    assert_eq!(
        recv_result(&mut t),
        Err(Error::Closed(CloseReason::Aborted))
    );
    assert_eq!(
        t.conn.shutdown(t.now),
        Err(Error::Closed(CloseReason::Aborted))
    );
    // CLOSE and ABORT of a closed connection do nothing more.
    t.conn.close(t.now);
    t.conn.abort();
    t.none();
    assert!(t.events.is_empty(), "{:?}", t.events);
    assert!(t.conn.is_closed());
    assert_eq!(t.conn.status().state, State::Closed);
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn closed_after_a_normal_close_reads_eof() {
    let mut t = reach(State::LastAck);
    t.input(seg(Y + 2).ack(X + 2));
    assert_eq!(t.state(), State::Closed);
    assert_eq!(recv_result(&mut t), Ok(0));
    assert_eq!(t.conn.send(b"x"), Err(Error::Closed(CloseReason::Normal)));
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
}

#[test]
fn closed_listener_rst_goes_to_the_senders_port() {
    // A listener closed before anything arrived has no remote port; the
    // RST must go back to whoever sent the segment.
    let mut t = Tcb::listener(plain());
    t.conn.close(t.now);
    assert_eq!(t.state(), State::Closed);
    let s = seg(7000).syn();
    let mut repr = s.repr();
    repr.src_port = 5555;
    t.conn.handle_segment(t.now, &repr);
    let rst = t.conn.poll_transmit(t.now).expect("a RST");
    assert_eq!(
        (rst.flags, rst.seq, rst.ack, rst.src_port, rst.dst_port),
        (RST | ACK, SeqNum(0), SeqNum(7001), LOCAL, 5555)
    );
    assert!(t.conn.poll_transmit(t.now).is_none());
}

// ------------------------------------------------------ reset_for (§3.10.7)

fn repr_of(s: &Seg) -> TcpRepr<'_> {
    s.repr()
}

/// A RST as (seq, ack, flags).
type Rst = (u32, u32, wire::tcp::TcpFlags);

#[test]
fn reset_for_follows_the_two_forms_of_rfc_9293() {
    let cases: &[(Seg, Option<Rst>)] = &[
        (seg(100).syn(), Some((0, 101, RST | ACK))),
        (seg(100).syn().data(b"abcd"), Some((0, 105, RST | ACK))),
        (seg(100).syn().fin(), Some((0, 102, RST | ACK))),
        (seg(100), Some((0, 100, RST | ACK))),
        (seg(100).data(b"x").psh(), Some((0, 101, RST | ACK))),
        (seg(100).ack(900), Some((900, 0, RST))),
        (seg(100).syn().ack(900), Some((900, 0, RST))),
        (seg(100).fin().ack(900).data(b"zz"), Some((900, 0, RST))),
        (seg(100).rst(), None),
        (seg(100).rst().ack(900), None),
        (seg(100).rst().syn(), None),
    ];
    for (s, want) in cases {
        let got = reset_for(&repr_of(s)).map(|(seq, ack, f)| (seq.0, ack.0, f));
        assert_eq!(got, *want, "for {s:?}");
    }
}

#[test]
fn reset_for_wraps_the_acknowledgment_past_2_pow_32() {
    let s = seg(u32::MAX - 1).syn().data(b"abc");
    let (seq, ack, flags) = reset_for(&s.repr()).unwrap();
    assert_eq!((seq.0, ack.0, flags), (0, 2, RST | ACK));
}

// ---------------------------------------------------------------- LISTEN

#[test]
fn listen_has_no_deadline_and_sends_nothing() {
    let mut t = reach(State::Listen);
    t.none();
    assert_eq!(t.conn.poll_timeout(), None);
    assert_eq!(t.conn.remote_port(), 0);
}

#[test]
fn listen_syn_sends_syn_ack_and_enters_syn_received() {
    let mut t = reach(State::Listen);
    t.input(seg(Y).syn().mss(1400));
    // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, RCV.NXT = SEG.SEQ + 1.
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    assert_eq!(synack.window, WND);
    assert_eq!(synack.reason, SendReason::SynAck);
    assert_eq!(
        synack.options,
        TcpOptions {
            mss: Some(1460),
            ..TcpOptions::default()
        }
    );
    assert_eq!(t.state(), State::SynReceived);
    assert_eq!(t.conn.remote_port(), REMOTE);
    assert_eq!(t.transitions(), [(State::Listen, State::SynReceived)]);
    // SND.NXT = ISS + 1, SND.UNA = ISS; the SYN-ACK is timed (1 s RTO).
    let st = t.conn.status();
    assert_eq!(
        (st.snd_una.0, st.snd_nxt.0, st.rcv_nxt.0, st.mss),
        (X, X + 1, Y + 1, 1400)
    );
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(1)));
}

#[test]
fn listen_syn_ack_options_answer_the_options_of_the_syn() {
    let cfg = Config::default();
    let mut t = Tcb::listener(cfg);
    t.input(
        seg(Y)
            .syn()
            .mss(1400)
            .wscale(7)
            .sack_ok()
            .ts(777, 0)
            .win(29200),
    );
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    // The window of a SYN is never scaled (RFC 7323 §2.2).
    assert_eq!(synack.window, 65535);
    let o = synack.options;
    assert_eq!(o.mss, Some(1460));
    assert_eq!(o.window_scale, Some(cfg.rcv_wscale()));
    assert!(o.sack_permitted);
    assert_eq!(o.timestamps.map(|ts| ts.tsecr), Some(777));
    let st = t.conn.status();
    assert_eq!(st.snd_wnd, 29200, "the SYN's window is taken unscaled");
    assert_eq!(st.wscale, Some((7, cfg.rcv_wscale())));
    assert!(st.sack && st.timestamps);
}

#[test]
fn listen_syn_without_options_gets_a_syn_ack_with_mss_only() {
    let mut t = Tcb::listener(Config::default());
    t.input(seg(Y).syn());
    let synack = t.out1();
    assert_eq!(
        synack.options,
        TcpOptions {
            mss: Some(1460),
            ..TcpOptions::default()
        },
        "RFC 7323 §2.2, §3.2 and RFC 2018 §2: nothing the SYN did not offer"
    );
    // RFC 9293 §3.7.1 MUST-15: no MSS option means 536.
    assert_eq!(t.conn.status().mss, 536);
}

#[test]
fn listen_ack_draws_rst_with_seq_of_seg_ack() {
    let mut t = reach(State::Listen);
    t.input(seg(Y + 1).ack(X + 1));
    // Nothing was sent from LISTEN: <SEQ=SEG.ACK><CTL=RST>.
    expect_rst(&mut t, RST, X + 1, 0);
    assert_eq!(t.state(), State::Listen);
    assert_eq!(t.conn.remote_port(), 0);
}

#[test]
fn listen_rst_goes_to_the_senders_port() {
    let mut t = reach(State::Listen);
    let s = seg(Y + 1).ack(777);
    let mut repr = s.repr();
    repr.src_port = 6001;
    t.conn.handle_segment(t.now, &repr);
    let rst = t.conn.poll_transmit(t.now).expect("a RST");
    assert_eq!(
        (rst.flags, rst.seq.0, rst.src_port, rst.dst_port),
        (RST, 777, LOCAL, 6001)
    );
    assert_eq!(t.state(), State::Listen);
}

#[test]
fn listen_syn_ack_draws_rst_because_the_ack_is_checked_first() {
    let mut t = reach(State::Listen);
    t.input(seg(Y).syn().ack(31337));
    expect_rst(&mut t, RST, 31337, 0);
    assert_eq!(t.state(), State::Listen);
}

#[test]
fn listen_rst_is_ignored() {
    let mut t = reach(State::Listen);
    t.input(seg(Y).rst());
    t.input(seg(Y).rst().ack(X + 1));
    t.input(seg(Y).rst().syn());
    t.none();
    assert_eq!(t.state(), State::Listen);
    assert!(t.events.is_empty());
}

#[test]
fn listen_data_without_syn_or_ack_is_dropped() {
    let mut t = reach(State::Listen);
    t.input(seg(Y).data(b"hello"));
    t.input(seg(Y).fin());
    t.none();
    assert_eq!(t.state(), State::Listen);
    assert_eq!(t.conn.recv_queue(), 0);
}

#[test]
fn listen_syn_with_data_delivers_it_once_established() {
    let mut t = reach(State::Listen);
    t.input(seg(Y).syn().data(b"early"));
    // The data is queued (§3.10.7.2) and acknowledged with the SYN.
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 6);
    t.input(seg(Y + 6).ack(X + 1));
    assert_eq!(t.state(), State::Established);
    assert_eq!(t.read_all(), b"early");
}

#[test]
fn listen_syn_with_fin_enters_syn_received_without_taking_the_fin() {
    // The FIN of a SYN+FIN is not taken in LISTEN (its sequence number
    // cannot be validated yet); the peer will send it again.
    let mut t = reach(State::Listen);
    t.input(seg(Y).syn().fin());
    let synack = t.out1();
    assert_seg(&synack, SYN | ACK, X, Y + 1);
    assert_eq!(t.state(), State::SynReceived);
}

#[test]
fn listen_close_deletes_the_tcb() {
    let mut t = reach(State::Listen);
    t.conn.close(t.now);
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Normal));
    assert_eq!(causes(&t), [Cause::Close]);
    assert_eq!(t.conn.poll_timeout(), None);
}

#[test]
fn listen_shutdown_deletes_the_tcb() {
    let mut t = reach(State::Listen);
    assert_eq!(t.conn.shutdown(t.now), Ok(()));
    t.none();
    assert_eq!(t.state(), State::Closed);
}

#[test]
fn listen_abort_deletes_the_tcb_without_a_rst() {
    let mut t = reach(State::Listen);
    t.conn.abort();
    t.none();
    assert_eq!(t.state(), State::Closed);
    assert_eq!(t.closed_with(), Some(CloseReason::Aborted));
    assert!(saw(&t, Event::Closed(CloseReason::Aborted)));
}

#[test]
fn listen_send_and_recv_are_invalid() {
    let mut t = reach(State::Listen);
    // No remote socket: SEND cannot turn this into an active open.
    assert_eq!(t.conn.send(b"x"), Err(Error::InvalidState));
    assert_eq!(t.conn.send_capacity(), 0);
    assert_eq!(recv_result(&mut t), Err(Error::InvalidState));
}

#[test]
fn listen_status_reports_the_local_port_only() {
    let t = reach(State::Listen);
    let st = t.conn.status();
    assert_eq!(
        (
            st.state,
            st.local_port,
            st.remote_port,
            st.send_queue,
            st.recv_queue
        ),
        (State::Listen, LOCAL, 0, 0, 0)
    );
}

#[test]
fn listen_syn_with_timestamps_echoes_tsval_and_keeps_it_in_use() {
    let cfg = Config {
        window_scaling: false,
        sack: false,
        ..Config::default()
    };
    let mut t = Tcb::listener(cfg);
    t.input(seg(Y).syn().ts(4242, 0));
    let synack = t.out1();
    let ts = synack.options.timestamps.expect("timestamps answered");
    assert_eq!(ts.tsecr, 4242);
    // The final ACK echoes our TSval; the handshake completes.
    t.input(seg(Y + 1).ack(X + 1).ts(4243, ts.tsval));
    assert_eq!(t.state(), State::Established);
    assert!(t.conn.status().timestamps);
}
