//! Flow control: the advertised window from free buffer space, receiver
//! and sender silly window avoidance (RFC 9293 §3.8.6.2), the window update
//! rule with SND.WL1/SND.WL2 (§3.10.7.4) and window update ACKs after reads.

use std::time::Duration;

use proto::conn::{Config, Event, SendReason};
use wire::tcp::TcpFlags;

use crate::harness::*;

const ACK: TcpFlags = TcpFlags::ACK;

/// No options, every segment acknowledged at once, the given receive
/// buffer.
fn rcv(buffer: usize) -> Config {
    Config {
        recv_buffer: buffer,
        ..plain()
    }
}

fn open(cfg: Config) -> Tcb {
    Tcb::open(cfg, X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(1460)
    })
}

#[test]
fn the_handshake_advertises_the_whole_buffer() {
    let mut c = Tcb::client(rcv(10_000));
    let syn = c.out1();
    assert_eq!(syn.window, 10_000);
    c.input(seg(Y).syn().ack(X + 1));
    assert_eq!(c.out1().window, 10_000);
    // Larger than 16 bits without scaling: 65535.
    let mut c = Tcb::client(rcv(100_000));
    assert_eq!(c.out1().window, 65_535);
}

#[test]
fn advertised_window_is_free_buffer_space() {
    let mut c = open(rcv(10_000));
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 3000]));
    let a = c.out1();
    assert_eq!((a.ack, a.window), (Y + 3001, 7000));
    c.input(seg(Y + 3001).ack(X + 1).data(&[2; 1000]));
    assert_eq!(c.out1().window, 6000);
    assert_eq!(c.conn.status().rcv_wnd, 6000);
    assert_eq!(c.conn.recv_queue(), 4000);
}

#[test]
fn window_update_ack_after_the_application_reads() {
    let mut c = open(rcv(10_000));
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 6000]));
    assert_eq!(c.out1().window, 4000);
    assert_eq!(c.read_all().len(), 6000);
    // The edge moves by 6000 >= min(buffer/2, 2·MSS): tell the peer now.
    let upd = c.out1();
    assert_eq!(
        (upd.flags, upd.seq, upd.ack, upd.window, upd.reason),
        (ACK, X + 1, Y + 6001, 10_000, SendReason::WindowUpdate)
    );
}

#[test]
fn a_small_read_sends_no_window_update() {
    // RFC 9293 §3.8.6.2.2: receiver SWS avoidance.
    let mut c = open(rcv(10_000));
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 6000]));
    c.out1();
    let mut buf = [0u8; 1000];
    assert_eq!(c.conn.recv(&mut buf), Ok(1000));
    c.none();
    assert_eq!(c.conn.status().rcv_wnd, 4000);
}

#[test]
fn receiver_sws_keeps_the_window_closed_until_an_mss_fits() {
    let mut c = open(rcv(4000));
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 1460]));
    assert_eq!(c.out1().window, 2540);
    c.input(seg(Y + 1461).ack(X + 1).data(&[1; 1460]));
    assert_eq!(c.out1().window, 1080);
    c.input(seg(Y + 2921).ack(X + 1).data(&[1; 1080]));
    assert_eq!(c.out1().window, 0);
    // 500 bytes free: less than one MSS, no update.
    let mut buf = vec![0u8; 500];
    assert_eq!(c.conn.recv(&mut buf), Ok(500));
    c.none();
    // 1500 free: a full segment fits. Update with the whole free space.
    let mut buf = vec![0u8; 1000];
    assert_eq!(c.conn.recv(&mut buf), Ok(1000));
    let upd = c.out1();
    assert_eq!((upd.window, upd.reason), (1500, SendReason::WindowUpdate));
}

#[test]
fn the_window_edge_does_not_move_for_a_silly_amount() {
    // Data arrives while a little was read: the right edge stays put
    // until it can move by min(buffer/2, MSS).
    let mut c = open(rcv(4000));
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 3000]));
    assert_eq!(c.out1().window, 1000);
    let mut buf = vec![0u8; 1000];
    c.conn.recv(&mut buf).unwrap();
    c.none();
    // 2000 free, 1000 advertised: moving by 1000 < MSS is silly.
    c.input(seg(Y + 3001).ack(X + 1).data(&[1; 100]));
    assert_eq!(c.out1().window, 900);
    // Read enough that the edge can move by a full MSS.
    let mut buf = vec![0u8; 700];
    c.conn.recv(&mut buf).unwrap();
    c.out();
    c.input(seg(Y + 3101).ack(X + 1).data(&[1; 10]));
    // Free: 4000 - (2100 - 700) - 10 = 2590 >= 890 + 1460.
    assert_eq!(c.out1().window, 2590);
}

#[test]
fn a_full_buffer_advertises_zero_and_drops_more_data() {
    let mut c = open(rcv(2000));
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 2000]));
    assert_eq!(c.out1().window, 0);
    // A probe byte into the zero window: not acceptable, but acknowledged.
    c.input(seg(Y + 2001).ack(X + 1).data(b"z"));
    let a = c.out1();
    assert_eq!(
        (a.ack, a.window, a.reason),
        (Y + 2001, 0, SendReason::DupAck)
    );
    assert_eq!(c.conn.recv_queue(), 2000);
    // Reading it all reopens the window.
    assert_eq!(c.read_all().len(), 2000);
    let upd = c.out1();
    assert_eq!((upd.ack, upd.window), (Y + 2001, 2000));
}

#[test]
fn zero_window_still_takes_acks() {
    // RFC 9293 §3.10.7.4: a zero window accepts valid ACKs.
    let mut c = open(Config {
        nodelay: true,
        ..rcv(1000)
    });
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 1000]));
    assert_eq!(c.out1().window, 0);
    c.conn.send(b"hi").unwrap();
    c.out1();
    c.input(seg(Y + 1001).ack(X + 3));
    assert_eq!(c.conn.status().snd_una.0, X + 3);
}

#[test]
fn data_beyond_the_window_is_dropped() {
    let mut c = open(rcv(4000));
    // 20 bytes at 3990: only the first 10 fit.
    c.input(seg(Y + 3991).ack(X + 1).data(&[9; 20]));
    let a = c.out1();
    assert_eq!(a.ack, Y + 1, "out of order: an immediate duplicate ACK");
    // Entirely beyond the window: unacceptable.
    c.input(seg(Y + 4001).ack(X + 1).data(&[8; 10]));
    assert_eq!(c.out1().reason, SendReason::DupAck);
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 3990]));
    let a = c.out1();
    assert_eq!((a.ack, a.window), (Y + 4001, 0));
    let got = c.read_all();
    assert_eq!(got.len(), 4000);
    assert_eq!(&got[3990..], &[9; 10]);
}

#[test]
fn old_segment_must_not_update_the_window() {
    // SND.WL1/SND.WL2 (RFC 9293 §3.10.7.4 fifth check): a reordered older
    // segment carries an older window.
    let mut c = open(rcv(64_000));
    c.input(seg(Y + 101).ack(X + 1).win(3000).data(&[2; 100]));
    c.out1();
    assert_eq!(c.conn.status().snd_wnd, 3000);
    c.input(seg(Y + 1).ack(X + 1).win(5000).data(&[1; 100]));
    c.out1();
    assert_eq!(c.conn.status().snd_wnd, 3000);
    // A newer segment does.
    c.input(seg(Y + 201).ack(X + 1).win(4000).data(&[3; 10]));
    assert_eq!(c.conn.status().snd_wnd, 4000);
}

#[test]
fn same_sequence_with_a_newer_ack_updates_the_window() {
    let mut c = open(Config {
        nodelay: true,
        ..rcv(64_000)
    });
    c.conn.send(&[1; 100]).unwrap();
    c.out1();
    c.input(seg(Y + 1).ack(X + 1).win(1000));
    assert_eq!(c.conn.status().snd_wnd, 1000);
    // Same SEG.SEQ, SEG.ACK newer (WL2 =< SEG.ACK): taken.
    c.input(seg(Y + 1).ack(X + 51).win(2000));
    assert_eq!(c.conn.status().snd_wnd, 2000);
    // Same SEG.SEQ, an older SEG.ACK: ignored.
    c.input(seg(Y + 1).ack(X + 21).win(9000));
    assert_eq!(c.conn.status().snd_wnd, 2000);
}

#[test]
fn a_pure_window_update_is_not_a_duplicate_ack() {
    // RFC 5681 §2 (f): a change of window disqualifies a duplicate ACK.
    let mut c = open(Config {
        nodelay: true,
        ..rcv(64_000)
    });
    c.conn.send(&[1; 3000]).unwrap();
    c.out();
    for w in [60_000, 61_000, 62_000, 63_000] {
        c.input(seg(Y + 1).ack(X + 1).win(w));
    }
    let st = c.conn.status();
    assert_eq!(st.stats.dupacks_in, 0);
    assert_eq!(st.stats.fast_retransmits, 0);
    assert_eq!(st.snd_wnd, 63_000);
}

#[test]
fn a_shrunk_window_stops_new_data() {
    let mut c = open(Config {
        nodelay: true,
        ..rcv(64_000)
    });
    c.conn.send(&[1; 20_000]).unwrap();
    // The initial window: ten segments (RFC 6928).
    assert_eq!(c.out().len(), 10);
    // The peer shrinks its window to what is in flight: nothing new.
    c.input(seg(Y + 1).ack(X + 1461).win(13_140));
    let segs = c.out();
    assert!(segs.is_empty(), "{segs:?}");
    // The window's right edge moves by one segment: one segment goes.
    c.input(seg(Y + 1).ack(X + 2921).win(13_140));
    let segs = c.out();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.len())).collect::<Vec<_>>(),
        [(X + 14_601, 1460)]
    );
}

#[test]
fn sender_sws_sends_a_partial_segment_of_half_the_max_window() {
    // RFC 9293 §3.8.6.2.1: with nothing in flight, a segment smaller than
    // the MSS goes when it is at least Fs = 1/2 of the largest window.
    let mut c = Tcb::open(
        Config {
            nodelay: true,
            ..rcv(64_000)
        },
        X,
        Duration::ZERO,
        |_| seg(Y).syn().ack(X + 1).mss(1460).win(2000),
    );
    c.conn.send(&[1; 5000]).unwrap();
    assert_eq!(c.out().iter().map(Sent::len).collect::<Vec<_>>(), [1460]);
    // 540 left in the window: too small while data is in flight.
    c.input(seg(Y + 1).ack(X + 1461).win(1000));
    // Nothing in flight, 1000 >= 2000 / 2: send it.
    let s = c.out1();
    assert_eq!((s.seq, s.len()), (X + 1461, 1000));
    c.input(seg(Y + 1).ack(X + 2461).win(999));
    c.none();
}

#[test]
fn sender_sws_override_timeout_sends_into_a_small_window() {
    // §3.8.6.2.1 (4): data held back by a small window goes when the
    // override timeout expires; it is not held forever.
    let mut c = Tcb::open(
        Config {
            nodelay: true,
            ..rcv(64_000)
        },
        X,
        Duration::ZERO,
        |_| seg(Y).syn().ack(X + 1).mss(1460).win(20_000),
    );
    c.conn.send(&[1; 5000]).unwrap();
    assert_eq!(c.out().len(), 4);
    c.input(seg(Y + 1).ack(X + 5001).win(20_000));
    c.conn.send(&[2; 5000]).unwrap();
    c.input(seg(Y + 1).ack(X + 5001).win(500));
    c.none();
    assert!(c.conn.poll_timeout().is_some(), "a timer must be running");
    c.fire();
    let s = c.out1();
    assert_eq!((s.seq, s.len()), (X + 5001, 500));
}

#[test]
fn writable_is_reported_when_acks_free_a_full_send_buffer() {
    let mut c = open(Config {
        nodelay: true,
        send_buffer: 3000,
        ..rcv(64_000)
    });
    assert_eq!(c.conn.send(&[1; 5000]), Ok(3000));
    c.out();
    c.events.clear();
    c.input(seg(Y + 1).ack(X + 1001));
    assert_eq!(
        c.events
            .iter()
            .filter(|e| matches!(e, Event::Writable))
            .count(),
        1
    );
    assert_eq!(c.conn.send_capacity(), 1000);
}
