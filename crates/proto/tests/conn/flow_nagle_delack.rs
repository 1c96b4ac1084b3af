//! Nagle's algorithm (RFC 9293 §3.7.4, on by default, `set_nodelay`) and
//! delayed ACKs (§3.8.6.3, RFC 5681 §4.2: at least every second full-sized
//! segment, within `Config::delayed_ack`).

use std::time::Duration;

use proto::conn::{Config, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn open(cfg: Config) -> Tcb {
    Tcb::open(cfg, X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(1460)
    })
}

fn delack() -> Config {
    Config {
        delayed_ack: Some(ms(40)),
        ..plain()
    }
}

#[test]
fn defaults_nagle_on_delayed_ack_40ms_keepalive_off() {
    let d = Config::default();
    assert!(!d.nodelay);
    assert_eq!(d.delayed_ack, Some(ms(40)));
    assert_eq!(d.keepalive, None);
}

#[test]
fn nagle_sends_a_small_segment_when_nothing_is_in_flight() {
    let mut c = open(plain());
    c.conn.send(b"a").unwrap();
    let s = c.out1();
    assert_eq!((s.seq, s.data.as_slice()), (X + 1, &b"a"[..]));
}

#[test]
fn nagle_holds_small_segments_while_data_is_unacknowledged() {
    let mut c = open(plain());
    c.conn.send(b"a").unwrap();
    c.out1();
    c.conn.send(b"b").unwrap();
    c.none();
    c.conn.send(b"c").unwrap();
    c.none();
    // The ACK releases what accumulated, as one segment.
    c.input(seg(Y + 1).ack(X + 2));
    let s = c.out1();
    assert_eq!((s.seq, s.data.as_slice()), (X + 2, &b"bc"[..]));
}

#[test]
fn nagle_lets_full_segments_go_with_data_in_flight() {
    let mut c = open(plain());
    c.conn.send(b"a").unwrap();
    c.out1();
    c.conn.send(&[2; 1500]).unwrap();
    let segs = c.out();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.len())).collect::<Vec<_>>(),
        [(X + 2, 1460)]
    );
    // The 40-byte tail waits for everything to be acknowledged.
    c.input(seg(Y + 1).ack(X + 2));
    c.none();
    c.input(seg(Y + 1).ack(X + 1462));
    let s = c.out1();
    assert_eq!((s.seq, s.len()), (X + 1462, 40));
}

#[test]
fn nagle_holds_the_tail_of_a_large_write_until_all_is_acknowledged() {
    let mut c = open(plain());
    c.conn.send(&[1; 4000]).unwrap();
    assert_eq!(
        c.out().iter().map(Sent::len).collect::<Vec<_>>(),
        [1460, 1460]
    );
    c.input(seg(Y + 1).ack(X + 1461));
    c.none();
    c.input(seg(Y + 1).ack(X + 2921));
    let s = c.out1();
    assert_eq!(
        (s.seq, s.len(), s.flags),
        (X + 2921, 1080, TcpFlags::ACK | TcpFlags::PSH)
    );
}

#[test]
fn set_nodelay_sends_small_segments_at_once() {
    let mut c = open(plain());
    c.conn.set_nodelay(true);
    c.conn.send(b"a").unwrap();
    c.out1();
    c.conn.send(b"b").unwrap();
    let s = c.out1();
    assert_eq!((s.seq, s.data.as_slice()), (X + 2, &b"b"[..]));
    // And back on.
    c.conn.set_nodelay(false);
    c.conn.send(b"c").unwrap();
    c.none();
}

#[test]
fn turning_nodelay_on_releases_held_data_at_the_next_poll() {
    let mut c = open(plain());
    c.conn.send(b"a").unwrap();
    c.out1();
    c.conn.send(b"b").unwrap();
    c.none();
    c.conn.set_nodelay(true);
    assert_eq!(c.out1().data, b"b");
}

#[test]
fn nagle_lets_the_tail_go_with_the_fin() {
    let mut c = open(plain());
    c.conn.send(b"a").unwrap();
    c.out1();
    c.conn.send(b"b").unwrap();
    c.none();
    c.conn.shutdown(c.now).unwrap();
    let s = c.out1();
    assert_eq!(
        (s.seq, s.data.as_slice(), s.flags),
        (
            X + 2,
            &b"b"[..],
            TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN
        )
    );
}

#[test]
fn one_segment_is_acknowledged_after_the_delay() {
    let mut c = open(delack());
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 100]));
    c.none();
    assert_eq!(c.next_in(), Some(ms(40)));
    let t = c.now;
    assert_eq!(c.fire(), t + ms(40));
    let a = c.out1();
    assert_eq!((a.ack, a.reason), (Y + 101, SendReason::Ack));
    assert_eq!(c.next_in(), None);
}

#[test]
fn the_delay_is_configurable() {
    let mut c = open(Config {
        delayed_ack: Some(ms(200)),
        ..plain()
    });
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 100]));
    c.none();
    assert_eq!(c.next_in(), Some(ms(200)));
}

#[test]
fn every_second_full_sized_segment_is_acknowledged_at_once() {
    let mut c = open(delack());
    let mut acks = Vec::new();
    for k in 0..6u32 {
        c.input(seg(Y + 1 + 1460 * k).ack(X + 1).data(&[1; 1460]));
        acks.push(c.out().iter().map(|s| s.ack - (Y + 1)).collect::<Vec<_>>());
    }
    assert_eq!(
        acks,
        [vec![], vec![2920], vec![], vec![5840], vec![], vec![8760]]
    );
}

#[test]
fn small_segments_are_acknowledged_once_two_536_byte_segments_worth_arrived() {
    // Below 536 bytes a segment does not lower the estimate of the peer's
    // full size: 4 · 300 = 1200 >= 2 · 536.
    let mut c = open(delack());
    let mut first_ack = None;
    for k in 0..12u32 {
        c.input(seg(Y + 1 + 300 * k).ack(X + 1).data(&[1; 300]));
        if let Some(a) = c.out().first() {
            first_ack = Some((k, a.ack - (Y + 1)));
            break;
        }
    }
    assert_eq!(first_ack, Some((3, 1200)));
}

#[test]
fn tiny_segments_wait_for_the_delayed_ack() {
    let mut c = open(delack());
    for k in 0..10u32 {
        c.input(seg(Y + 1 + 10 * k).ack(X + 1).data(&[1; 10]));
    }
    c.none();
    c.advance(ms(40));
    assert_eq!(c.out1().ack, Y + 101);
}

#[test]
fn more_data_does_not_restart_the_delay() {
    let mut c = open(delack());
    let t = c.now;
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 100]));
    c.none();
    c.wait(ms(30));
    c.input(seg(Y + 101).ack(X + 1).data(&[1; 100]));
    c.none();
    assert_eq!(c.fire(), t + ms(40));
    assert_eq!(c.out1().ack, Y + 201);
}

#[test]
fn outgoing_data_carries_the_pending_ack() {
    let mut c = open(Config {
        nodelay: true,
        ..delack()
    });
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 100]));
    c.none();
    c.conn.send(b"reply").unwrap();
    let s = c.out1();
    assert_eq!((s.ack, s.data.as_slice()), (Y + 101, &b"reply"[..]));
    // The delayed ACK is paid: only the retransmission timer runs.
    assert_eq!(c.next_in(), Some(Duration::from_secs(1)));
}

#[test]
fn without_a_delay_every_segment_is_acknowledged() {
    let mut c = open(plain());
    for k in 0..3u32 {
        c.input(seg(Y + 1 + 10 * k).ack(X + 1).data(&[1; 10]));
        assert_eq!(c.out1().ack, Y + 11 + 10 * k);
    }
}

#[test]
fn a_fin_ending_an_open_connection_is_acknowledged_after_the_delay() {
    // As Linux does (pingpong mode on that FIN): the ACK waits like a
    // delayed ACK, so that an application closing in the meantime can
    // send its FIN with it.
    let mut c = open(delack());
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 100]).fin());
    assert_eq!(c.state(), State::CloseWait);
    c.none();
    c.advance(ms(39));
    c.none();
    c.advance(ms(1));
    let a = c.out1();
    assert_eq!((a.ack, a.flags), (Y + 102, TcpFlags::ACK));
    assert_eq!(a.reason, SendReason::Ack);
}

#[test]
fn a_close_within_the_delay_sends_one_fin_carrying_the_ack() {
    // The three-segment close: FIN, FIN+ACK, ACK.
    let mut c = open(delack());
    c.input(seg(Y + 1).ack(X + 1).fin());
    c.advance(ms(5));
    c.conn.close(c.now);
    let f = c.out1();
    assert_eq!(f.flags, TcpFlags::FIN | TcpFlags::ACK);
    assert_eq!((f.seq, f.ack), (X + 1, Y + 2));
    assert_eq!(c.state(), State::LastAck);
    // Nothing else is owed: the delayed ACK went with the FIN.
    c.advance(ms(100));
    let later = c.out();
    assert!(
        later.iter().all(|s| s.is(TcpFlags::FIN | TcpFlags::ACK)),
        "only FIN retransmissions: {later:?}"
    );
}

#[test]
fn without_delayed_acks_a_fin_is_acknowledged_at_once() {
    let mut c = open(plain());
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 100]).fin());
    assert_eq!(c.out1().ack, Y + 102);
    assert_eq!(c.state(), State::CloseWait);
}

#[test]
fn a_fin_answering_our_own_fin_is_acknowledged_at_once() {
    // FIN-WAIT-2 -> TIME-WAIT: nothing of ours could ride with the ACK.
    let mut c = open(delack());
    c.conn.close(c.now);
    assert!(c.out1().is(TcpFlags::FIN | TcpFlags::ACK));
    c.input(seg(Y + 1).ack(X + 2));
    assert_eq!(c.state(), State::FinWait2);
    c.input(seg(Y + 1).ack(X + 2).fin());
    assert_eq!(c.out1().ack, Y + 2);
    assert_eq!(c.state(), State::TimeWait);
}

#[test]
fn full_sized_means_the_mss_minus_timestamp_option_bytes() {
    // With timestamps, a full segment carries 1448 bytes: two of them
    // trigger the ACK.
    let cfg = Config {
        timestamps: true,
        ..delack()
    };
    let mut c = Tcb::open(cfg, X, Duration::ZERO, |syn| {
        seg(Y).syn().ack(X + 1).mss(1460).ts(1, syn.tsval())
    });
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 1448]).ts(2, 0));
    c.none();
    c.input(seg(Y + 1449).ack(X + 1).data(&[1; 1448]).ts(3, 0));
    assert_eq!(c.out1().ack, Y + 2897);
}

#[test]
fn full_sized_follows_the_segments_the_peer_actually_sends() {
    // A peer on a small-MTU path sends 536-byte segments: those are its
    // full-sized segments, and every second one is acknowledged at once
    // (RFC 1122 §4.2.3.2, RFC 5681 §4.2), not every sixth.
    let mut c = Tcb::open(delack(), X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(536)
    });
    let mut acks = Vec::new();
    for k in 0..4u32 {
        c.input(seg(Y + 1 + 536 * k).ack(X + 1).data(&[1; 536]));
        acks.push(c.out().iter().map(|s| s.ack - (Y + 1)).collect::<Vec<_>>());
    }
    assert_eq!(acks, [vec![], vec![1072], vec![], vec![2144]]);
}
