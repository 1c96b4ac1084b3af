//! The scenarios every TCP textbook draws, asserted number by number.

use std::time::Duration;

use proto::conn::{CloseReason, Event, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const FIN: TcpFlags = TcpFlags::FIN;
const RST: TcpFlags = TcpFlags::RST;

#[test]
fn three_way_handshake_active_x_y() {
    let mut c = Tcb::client(plain());
    // SYN: seq = x, no data, one sequence number.
    let syn = c.out1();
    assert_eq!((syn.flags, syn.seq, syn.len()), (SYN, X, 0));
    assert_eq!(syn.reason, SendReason::Syn);
    assert_eq!(syn.options.mss, Some(1460));
    assert_eq!(c.state(), State::SynSent);
    // SYN-ACK: seq = y, ack = x + 1.
    c.input(seg(Y).syn().ack(X + 1).mss(1400));
    // ACK: seq = x + 1, ack = y + 1.
    let ack = c.out1();
    assert_eq!((ack.flags, ack.seq, ack.ack), (ACK, X + 1, Y + 1));
    assert_eq!(
        c.transitions(),
        [
            (State::Closed, State::SynSent),
            (State::SynSent, State::Established)
        ]
    );
    assert_eq!(c.conn.status().mss, 1400);
}

#[test]
fn three_way_handshake_passive_and_data_on_the_final_ack() {
    let mut s = Tcb::listener(plain());
    assert_eq!(s.state(), State::Listen);
    s.input(seg(Y).syn().mss(1460));
    let synack = s.out1();
    assert_eq!(
        (synack.flags, synack.seq, synack.ack),
        (SYN | ACK, X, Y + 1)
    );
    assert_eq!(synack.reason, SendReason::SynAck);
    assert_eq!(s.state(), State::SynReceived);
    // The final ACK (ack = x + 1) carries data, which is delivered.
    s.input(seg(Y + 1).ack(X + 1).data(b"GET /"));
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.read_all(), b"GET /");
    let ack = s.out1();
    assert_eq!((ack.flags, ack.seq, ack.ack), (ACK, X + 1, Y + 6));
    assert_eq!(
        s.transitions(),
        [
            (State::Closed, State::Listen),
            (State::Listen, State::SynReceived),
            (State::SynReceived, State::Established)
        ]
    );
}

#[test]
fn four_way_close_active_u_v_w() {
    // The textbook close: we send FIN (u), the peer ACKs it, later sends
    // its own FIN (w), we ACK w + 1 and wait 2·MSL.
    let mut c = Tcb::established(plain());
    let u = X + 1;
    c.conn.close(c.now);
    let fin = c.out1();
    assert_eq!((fin.flags, fin.seq, fin.ack), (FIN | ACK, u, Y + 1));
    assert_eq!(c.state(), State::FinWait1);
    c.input(seg(Y + 1).ack(u + 1));
    assert_eq!(c.state(), State::FinWait2);
    c.none();
    let w = Y + 1;
    c.input(seg(w).fin().ack(u + 1));
    let ack = c.out1();
    assert_eq!((ack.flags, ack.seq, ack.ack), (ACK, u + 1, w + 1));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(
        c.transitions(),
        [
            (State::Established, State::FinWait1),
            (State::FinWait1, State::FinWait2),
            (State::FinWait2, State::TimeWait)
        ]
    );
    // 2·MSL (60 s by default) later, CLOSED.
    c.advance(Duration::from_secs(59));
    assert_eq!(c.state(), State::TimeWait);
    c.advance(Duration::from_secs(1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed_with(), Some(CloseReason::Normal));
}

#[test]
fn four_way_close_passive_close_wait_and_last_ack() {
    let mut s = Tcb::established_passive(plain());
    // The peer closes first: FIN at u.
    let u = Y + 1;
    s.input(seg(u).fin().ack(X + 1));
    let ack = s.out1();
    assert_eq!((ack.flags, ack.ack), (ACK, u + 1));
    assert_eq!(s.state(), State::CloseWait);
    // Half-close: we keep sending in CLOSE-WAIT.
    s.conn.send(b"still talking").unwrap();
    let data = s.out1();
    assert_eq!(data.data, b"still talking");
    s.input(seg(u + 1).ack(X + 1 + 13));
    // Our application closes: FIN at w, LAST-ACK, then CLOSED on its ACK.
    s.conn.close(s.now);
    let fin = s.out1();
    let w = X + 1 + 13;
    assert_eq!((fin.flags, fin.seq, fin.ack), (FIN | ACK, w, u + 1));
    assert_eq!(s.state(), State::LastAck);
    s.input(seg(u + 1).ack(w + 1));
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.closed_with(), Some(CloseReason::Normal));
    assert_eq!(
        s.transitions(),
        [
            (State::Established, State::CloseWait),
            (State::CloseWait, State::LastAck),
            (State::LastAck, State::Closed)
        ]
    );
}

#[test]
fn fin_and_ack_in_one_segment_goes_straight_to_time_wait() {
    let mut c = Tcb::established(plain());
    c.conn.close(c.now);
    let fin = c.out1();
    c.input(seg(Y + 1).fin().ack(fin.seq + 1));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(
        c.transitions(),
        [
            (State::Established, State::FinWait1),
            (State::FinWait1, State::TimeWait)
        ]
    );
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 2);
}

#[test]
fn simultaneous_close_through_closing() {
    let mut c = Tcb::established(plain());
    c.conn.close(c.now);
    let fin = c.out1();
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    c.input(seg(Y + 1).fin().ack(X + 1));
    assert_eq!(c.state(), State::Closing);
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 2);
    c.input(seg(Y + 2).ack(fin.seq + 1));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(
        c.transitions(),
        [
            (State::Established, State::FinWait1),
            (State::FinWait1, State::Closing),
            (State::Closing, State::TimeWait)
        ]
    );
}

#[test]
fn time_wait_reacknowledges_a_retransmitted_fin_and_restarts_2msl() {
    let mut c = Tcb::established(plain());
    c.conn.close(c.now);
    let fin = c.out1();
    c.input(seg(Y + 1).fin().ack(fin.seq + 1));
    c.out1();
    c.advance(Duration::from_secs(50));
    // Our last ACK was lost: the peer sends its FIN again.
    c.input(seg(Y + 1).fin().ack(fin.seq + 1));
    let ack = c.out1();
    assert_eq!((ack.flags, ack.ack), (ACK, Y + 2));
    // The 2·MSL wait starts over from here.
    c.advance(Duration::from_secs(59));
    assert_eq!(c.state(), State::TimeWait);
    c.advance(Duration::from_secs(1));
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn lost_syn_is_retransmitted_after_the_rto_with_backoff() {
    let mut c = Tcb::client(plain());
    let syn = c.out1();
    assert_eq!(syn.reason, SendReason::Syn);
    // Initial RTO 1 s (RFC 6298 §2.1), then 2 s, 4 s.
    let t1 = c.fire();
    assert_eq!(t1, T0 + Duration::from_secs(1));
    let again = c.out1();
    assert_eq!((again.flags, again.seq), (SYN, X));
    assert_eq!(again.reason, SendReason::Retransmission);
    let t2 = c.fire();
    assert_eq!(t2 - t1, Duration::from_secs(2));
    c.out1();
    let t3 = c.fire();
    assert_eq!(t3 - t2, Duration::from_secs(4));
    c.out1();
    // The SYN-ACK of a retransmitted SYN completes the handshake.
    c.input(seg(Y).syn().ack(X + 1));
    assert_eq!(c.state(), State::Established);
}

#[test]
fn syn_retries_exhausted_times_out() {
    let mut c = Tcb::client(plain());
    c.out1();
    for _ in 0..6 {
        c.fire();
        assert_eq!(c.out1().reason, SendReason::Retransmission);
    }
    c.fire();
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed_with(), Some(CloseReason::TimedOut));
    c.none();
}

#[test]
fn old_duplicate_syn_ack_draws_rst_and_changes_nothing() {
    let mut c = Tcb::client(plain());
    c.out1();
    // A SYN-ACK acknowledging a SYN of an old incarnation (ack = 90).
    c.input(seg(777).syn().ack(90));
    let rst = c.out1();
    assert_eq!((rst.flags, rst.seq), (RST, 90));
    assert_eq!(c.state(), State::SynSent);
    // The real SYN-ACK still works.
    c.input(seg(Y).syn().ack(X + 1));
    assert_eq!(c.state(), State::Established);
}

#[test]
fn passive_side_returns_to_listen_on_rst_in_syn_received() {
    let mut s = Tcb::listener(plain());
    // An old duplicate SYN arrives; we answer SYN-ACK.
    s.input(seg(300).syn());
    let synack = s.out1();
    assert_eq!(synack.ack, 301);
    // The client, knowing that SYN is stale, resets: back to LISTEN.
    s.input(seg(301).rst());
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.conn.remote_port(), 0);
    s.none();
    // And the real connection can come in.
    s.input(seg(Y).syn());
    assert_eq!(s.out1().ack, Y + 1);
    s.input(seg(Y + 1).ack(X + 1));
    assert_eq!(s.state(), State::Established);
}

#[test]
fn simultaneous_open() {
    let mut c = Tcb::client(plain());
    let syn = c.out1();
    // The peer's SYN crosses ours.
    c.input(seg(Y).syn());
    assert_eq!(c.state(), State::SynReceived);
    let synack = c.out1();
    assert_eq!(
        (synack.flags, synack.seq, synack.ack),
        (SYN | ACK, syn.seq, Y + 1)
    );
    // The peer's SYN-ACK acknowledges our SYN.
    c.input(seg(Y).syn().ack(X + 1));
    // An in-window SYN in SYN-RECEIVED of an active open: challenge ACK.
    // The plain ACK completes it.
    c.out();
    c.input(seg(Y + 1).ack(X + 1));
    assert_eq!(c.state(), State::Established);
    assert_eq!(
        c.transitions(),
        [
            (State::Closed, State::SynSent),
            (State::SynSent, State::SynReceived),
            (State::SynReceived, State::Established)
        ]
    );
}

#[test]
fn refused_rst_in_syn_sent() {
    let mut c = Tcb::client(plain());
    c.out1();
    c.input(seg(0).rst().ack(X + 1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed_with(), Some(CloseReason::Refused));
    let mut buf = [0u8; 4];
    assert_eq!(
        c.conn.recv(&mut buf),
        Err(proto::conn::Error::Closed(CloseReason::Refused))
    );
}

#[test]
fn abort_sends_rst_and_discards_queues() {
    let mut c = Tcb::established(plain());
    c.conn.set_nodelay(true);
    c.conn.send(&[1; 3000]).unwrap();
    c.out();
    c.conn.abort();
    let rst = c.out1();
    assert_eq!(rst.flags, RST);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed_with(), Some(CloseReason::Aborted));
    assert!(c
        .events
        .iter()
        .any(|e| matches!(e, Event::Closed(CloseReason::Aborted))));
    assert_eq!(c.conn.send_queue(), 0);
}

#[test]
fn half_close_data_flows_in_close_wait() {
    let mut s = Tcb::established_passive(plain());
    s.input(seg(Y + 1).fin().ack(X + 1));
    s.out1();
    let mut buf = [0u8; 8];
    assert_eq!(s.conn.recv(&mut buf), Ok(0), "EOF after the peer's FIN");
    s.conn.set_nodelay(true);
    let body = vec![7u8; 5000];
    s.conn.send(&body).unwrap();
    let segs = s.out();
    let sent: usize = segs.iter().map(|x| x.data.len()).sum();
    assert_eq!(sent, 5000);
    assert!(segs.iter().all(|x| x.ack == Y + 2));
    assert_eq!(s.state(), State::CloseWait);
}
