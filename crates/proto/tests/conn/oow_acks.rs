//! Duplicate ACKs for unacceptable segments (RFC 9293 §3.10.7.4 first
//! check, RFC 7323 §5.3 PAWS): a data-less one is answered at most once
//! per `invalid_ack_interval` (500 ms, Linux's tcp_invalid_ratelimit), so
//! that two ends with out-of-step state cannot ping-pong ACKs forever and
//! a blind sender gets little for free; a segment with data, a SYN or a
//! FIN is always answered, since its sender needs RCV.NXT.

use std::time::Duration;

use proto::conn::{Config, SendReason, State};

use crate::harness::*;

/// A data-less segment far to the right of the receive window.
fn stray_ack() -> Seg {
    seg(Y + 1 + 1_000_000).ack(X + 1)
}

#[test]
fn data_less_unacceptable_segments_draw_one_dup_ack_per_interval() {
    let mut c = Tcb::established(plain());
    c.input(stray_ack());
    let ack = c.out1();
    assert_eq!(
        (ack.reason, ack.seq, ack.ack),
        (SendReason::DupAck, X + 1, Y + 1)
    );
    for _ in 0..10 {
        c.input(stray_ack());
        c.none();
    }
    assert_eq!(c.conn.status().stats.oow_acks_skipped, 10);
    c.advance(Duration::from_millis(499));
    c.input(stray_ack());
    c.none();
    c.advance(Duration::from_millis(1));
    c.input(stray_ack());
    assert_eq!(c.out1().reason, SendReason::DupAck);
    assert_eq!(c.conn.status().stats.unacceptable_in, 13);
}

#[test]
fn unacceptable_data_is_always_answered() {
    let mut c = Tcb::established(plain());
    for _ in 0..5 {
        c.input(seg(Y + 1 + 1_000_000).ack(X + 1).data(b"x"));
        assert_eq!(c.out1().reason, SendReason::DupAck);
    }
    // An old duplicate (the peer missed our ACK): answered every time.
    c.input(seg(Y + 1).ack(X + 1).data(b"abc"));
    c.drain_events();
    c.read_all();
    let _ = c.out();
    for _ in 0..3 {
        c.input(seg(Y + 1).ack(X + 1).data(b"abc"));
        let ack = c.out1();
        assert_eq!((ack.reason, ack.ack), (SendReason::DupAck, Y + 4));
    }
    assert_eq!(c.conn.status().stats.oow_acks_skipped, 0);
}

#[test]
fn a_retransmitted_fin_in_time_wait_is_acknowledged_every_time() {
    // The FIN occupies a sequence number: never rate-limited, or the
    // peer's LAST-ACK would be left retransmitting (§3.10.7.4, eighth).
    let mut c = Tcb::established(plain());
    c.conn.close(c.now);
    let fin = c.out1();
    c.input(seg(Y + 1).ack(fin.seq + 1).fin());
    c.out1();
    assert_eq!(c.state(), State::TimeWait);
    for _ in 0..3 {
        c.input(seg(Y + 1).ack(fin.seq + 1).fin());
        assert_eq!(c.out1().ack, Y + 2);
    }
}

#[test]
fn the_interval_is_configurable() {
    let mut c = Tcb::established(Config {
        invalid_ack_interval: Duration::ZERO,
        ..plain()
    });
    for _ in 0..3 {
        c.input(stray_ack());
        assert_eq!(c.out1().reason, SendReason::DupAck);
    }
    assert_eq!(c.conn.status().stats.oow_acks_skipped, 0);
}
