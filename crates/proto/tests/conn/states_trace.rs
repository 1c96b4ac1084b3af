//! What the tracer sees of the state × event cells: the verdict on every
//! received segment (RFC 9293 §3.10.7, RFC 5961), the reason of every
//! segment sent, and their order relative to the state changes; plus the
//! few cells that need a timer interplay (keep-alive with data out,
//! keep-alive and TIME-WAIT) and the half-open discovery of RFC 9293
//! §3.5.2.

use std::time::Duration;

use proto::conn::{Cause, CloseReason, Config, Event, Keepalive, SendReason, State, Verdict};

use crate::harness::*;
use crate::states_setup::*;

fn traced() -> Config {
    Config {
        trace_segments: true,
        ..plain()
    }
}

/// The verdicts reported so far, in order.
fn verdicts(t: &Tcb) -> Vec<Verdict> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::SegmentReceived { verdict, .. } => Some(*verdict),
            _ => None,
        })
        .collect()
}

/// The reasons of the segments reported sent so far, in order.
fn sent_reasons(t: &Tcb) -> Vec<SendReason> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::SegmentSent { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn trace_verdicts_of_the_synchronized_cells() {
    let mut t = Tcb::established(traced());
    t.events.clear();
    t.input(seg(Y + 1).ack(X + 1).data(b"ok"));
    t.input(seg(Y + 1 + 70_000).ack(X + 1).data(b"far"));
    t.input(seg(Y + 50).rst());
    t.input(seg(Y + 50).syn());
    t.input(seg(Y + 3).ack(X + 77));
    t.input(seg(Y + 3).data(b"no ack"));
    assert_eq!(
        verdicts(&t),
        [
            Verdict::Accepted,
            Verdict::Unacceptable,
            Verdict::Challenged,
            Verdict::Challenged,
            Verdict::Challenged,
            Verdict::Dropped,
        ]
    );
}

#[test]
fn trace_verdicts_of_closed_and_listen() {
    let mut t = Tcb::listener(traced());
    t.events.clear();
    t.input(seg(Y).ack(X));
    t.input(seg(Y).rst());
    t.input(seg(Y).data(b"x"));
    t.input(seg(Y).syn());
    assert_eq!(
        verdicts(&t),
        [
            Verdict::Refused,
            Verdict::Dropped,
            Verdict::Dropped,
            Verdict::Accepted
        ]
    );
    t.out();
    t.conn.abort();
    t.out();
    t.events.clear();
    t.input(seg(Y + 1).ack(X + 1));
    t.input(seg(Y + 1).rst());
    assert_eq!(verdicts(&t), [Verdict::Refused, Verdict::Dropped]);
}

#[test]
fn trace_verdict_of_a_bad_ack_in_syn_received_is_refused() {
    let mut t = Tcb::listener(traced());
    t.input(seg(Y).syn());
    t.out1();
    t.events.clear();
    t.input(seg(Y + 1).ack(X + 5));
    assert_eq!(verdicts(&t), [Verdict::Refused]);
    t.out1();
    assert_eq!(sent_reasons(&t), [SendReason::Rst]);
}

#[test]
fn trace_reports_the_segment_before_the_state_change_it_caused() {
    let mut t = Tcb::established(traced());
    t.events.clear();
    t.input(seg(Y + 1).fin().ack(X + 1));
    t.out1();
    let kinds: Vec<&str> = t
        .events
        .iter()
        .map(|e| match e {
            Event::SegmentReceived { .. } => "received",
            Event::StateChanged { .. } => "state",
            Event::Readable => "readable",
            Event::SegmentSent { .. } => "sent",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["received", "readable", "state", "sent"]);
    assert!(t.events.contains(&Event::StateChanged {
        from: State::Established,
        to: State::CloseWait,
        cause: Cause::FinReceived,
    }));
}

#[test]
fn trace_reasons_through_a_whole_active_close() {
    let mut t = Tcb::established(traced());
    t.events.clear();
    t.conn.close(t.now);
    t.out1();
    t.input(seg(Y + 1).ack(X + 2));
    t.input(seg(Y + 1).fin().ack(X + 2));
    t.out1();
    t.input(seg(Y + 1).fin().ack(X + 2));
    t.out1();
    assert_eq!(
        sent_reasons(&t),
        [SendReason::Fin, SendReason::Ack, SendReason::DupAck]
    );
    assert_eq!(
        verdicts(&t),
        [Verdict::Accepted, Verdict::Accepted, Verdict::Unacceptable]
    );
}

#[test]
fn zero_window_data_with_fin_is_acknowledged_and_dropped() {
    let mut t = Tcb::established(Config {
        recv_buffer: 1000,
        ..plain()
    });
    t.input(seg(Y + 1).ack(X + 1).data(&[0; 1000]));
    t.out1();
    // Neither the byte nor the FIN behind it fits.
    t.input(seg(Y + 1001).ack(X + 1).data(b"z").fin());
    let ack = expect_ack(&mut t, X + 1, Y + 1001, SendReason::DupAck);
    assert_eq!(ack.window, 0);
    assert_eq!(t.state(), State::Established);
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
fn keepalive_waits_while_data_is_outstanding() {
    let mut t = Tcb::established(keepalive_cfg());
    t.advance(Duration::from_millis(9_900));
    t.conn.send(b"hi").unwrap();
    t.out1();
    // At 10 s the keep-alive timer fires, but the retransmission timer
    // (due at 10.9 s) watches the connection: no probe.
    t.advance(Duration::from_millis(100));
    t.none();
    assert_eq!(t.state(), State::Established);
    t.advance(Duration::from_millis(900));
    let again = t.out1();
    assert_eq!(again.reason, SendReason::Retransmission);
}

#[test]
fn keepalive_probes_in_close_wait() {
    let mut t = Tcb::established(keepalive_cfg());
    t.input(seg(Y + 1).fin().ack(X + 1));
    t.out1();
    assert_eq!(t.state(), State::CloseWait);
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(10)));
    t.fire();
    expect_ack(&mut t, X, Y + 2, SendReason::KeepAlive);
}

#[test]
fn time_wait_keeps_no_keepalive_timer() {
    let mut t = Tcb::established(keepalive_cfg());
    t.conn.close(t.now);
    t.out1();
    t.input(seg(Y + 1).fin().ack(X + 2));
    t.out1();
    assert_eq!(t.state(), State::TimeWait);
    t.input(seg(Y + 2).ack(X + 2));
    t.none();
    assert_eq!(next_deadline(&t), Some(Duration::from_secs(60)));
    t.advance(Duration::from_secs(60));
    t.none();
    assert_eq!(t.conn.close_reason(), Some(CloseReason::Normal));
}

#[test]
fn half_open_discovery_figure_10() {
    // RFC 9293 §3.5.2 Figure 10: we crashed and reopen (SYN-SENT); the
    // peer still believes in the old connection and answers with an ACK
    // for it. Our RST <SEQ=SEG.ACK> tells it; its RST then lets our SYN
    // through.
    let mut t = reach(State::SynSent);
    t.input(seg(300).ack(100));
    expect_rst(&mut t, RST, 100, 0);
    assert_eq!(t.state(), State::SynSent);
    // The peer aborted; our SYN, sent again, is answered normally.
    t.fire();
    let syn = t.out1();
    assert_seg(&syn, SYN, X, 0);
    t.input(seg(Y).syn().ack(X + 1));
    expect_ack(&mut t, X + 1, Y + 1, SendReason::Ack);
    assert_eq!(t.state(), State::Established);
}

#[test]
fn half_open_discovery_figure_11_the_crashed_side_resets_the_survivor() {
    // Figure 11: the survivor's data reaches a side with no connection,
    // which answers <SEQ=SEG.ACK><CTL=RST>; that RST is exactly at the
    // survivor's RCV.NXT and resets it.
    let mut crashed = reach(State::Closed);
    let mut survivor = reach(State::Established);
    survivor.conn.send(b"data").unwrap();
    let data = survivor.out1();
    // What the crashed side receives: the survivor's data, ACK = Y+1.
    crashed.input(seg(data.seq).ack(Y + 1).data(&data.data));
    let rst = crashed.out1();
    assert_seg(&rst, RST, Y + 1, 0);
    survivor.input(seg(rst.seq).rst());
    assert_eq!(survivor.state(), State::Closed);
    assert_eq!(survivor.conn.close_reason(), Some(CloseReason::Reset));
}
