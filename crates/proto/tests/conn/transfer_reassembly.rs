//! Reassembly of out-of-order data (RFC 9293 §3.10.7.4, seventh check):
//! several holes, duplicates, overlaps, data beyond the window, immediate
//! ACKs for out-of-order data and hole fills (RFC 5681 §4.2).

use std::time::Duration;

use proto::conn::{Config, Error, Event, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

/// The peer's byte stream: byte `i` (from Y+1) is `i * 7 + 3`.
fn stream(from: usize, to: usize) -> Vec<u8> {
    (from..to).map(|i| (i * 7 + 3) as u8).collect()
}

/// A data segment of the peer's stream, bytes `[from, to)`.
fn part(from: usize, to: usize) -> Seg {
    seg(Y + 1 + from as u32).ack(X + 1).data(&stream(from, to))
}

fn open(cfg: Config) -> Tcb {
    Tcb::open(cfg, X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(1460)
    })
}

#[test]
fn several_holes_are_filled_in_any_order() {
    let mut c = open(plain());
    // Three islands beyond RCV.NXT, each acknowledged at once with RCV.NXT.
    for (a, b) in [(300, 400), (100, 200), (500, 600)] {
        c.input(part(a, b));
        let ack = c.out1();
        assert_eq!((ack.ack, ack.len()), (Y + 1, 0));
    }
    assert_eq!(c.conn.recv_queue(), 0);
    let mut buf = [0u8; 10];
    assert_eq!(c.conn.recv(&mut buf), Err(Error::WouldBlock));
    // Each fill moves RCV.NXT to the end of the next island.
    let mut acks = Vec::new();
    for (a, b) in [(0, 100), (200, 300), (400, 500)] {
        c.input(part(a, b));
        acks.push(c.out1().ack - (Y + 1));
    }
    assert_eq!(acks, [200, 400, 600]);
    assert_eq!(c.read_all(), stream(0, 600));
}

#[test]
fn out_of_order_data_is_acknowledged_immediately_even_with_delayed_acks() {
    let mut c = open(Config {
        delayed_ack: Some(Duration::from_millis(40)),
        ..plain()
    });
    c.input(part(100, 200));
    let ack = c.out1();
    assert_eq!((ack.ack, ack.reason), (Y + 1, SendReason::Ack));
    // Filling the hole: immediately too, although only 100 bytes.
    c.input(part(0, 100));
    assert_eq!(c.out1().ack, Y + 201);
    // In-order data afterwards waits for the delayed ACK.
    c.input(part(200, 300));
    c.none();
}

#[test]
fn a_partial_fill_is_acknowledged_immediately() {
    let mut c = open(Config {
        delayed_ack: Some(Duration::from_millis(40)),
        ..plain()
    });
    c.input(part(200, 300));
    c.out1();
    // Fills the start of the hole only: RCV.NXT moves, a hole remains.
    c.input(part(0, 100));
    assert_eq!(c.out1().ack, Y + 101);
    c.input(part(100, 200));
    assert_eq!(c.out1().ack, Y + 301);
    assert_eq!(c.read_all(), stream(0, 300));
}

#[test]
fn a_duplicate_of_delivered_data_is_acknowledged_and_ignored() {
    let mut c = open(plain());
    c.input(part(0, 100));
    assert_eq!(c.out1().ack, Y + 101);
    c.input(part(0, 100));
    let ack = c.out1();
    assert_eq!((ack.ack, ack.reason), (Y + 101, SendReason::DupAck));
    assert_eq!(c.conn.recv_queue(), 100);
    assert_eq!(c.conn.status().stats.bytes_in, 100);
}

#[test]
fn a_duplicate_out_of_order_segment_is_held_once() {
    let mut c = open(plain());
    c.input(part(100, 200));
    c.out1();
    c.input(part(100, 200));
    assert_eq!(c.out1().ack, Y + 1);
    c.input(part(0, 100));
    assert_eq!(c.out1().ack, Y + 201);
    assert_eq!(c.read_all(), stream(0, 200));
    assert_eq!(c.conn.status().stats.bytes_in, 200);
}

#[test]
fn a_segment_overlapping_rcv_nxt_delivers_only_its_new_bytes() {
    let mut c = open(plain());
    c.input(part(0, 100));
    c.out1();
    c.input(part(80, 180));
    assert_eq!(c.out1().ack, Y + 181);
    assert_eq!(c.read_all(), stream(0, 180));
}

#[test]
fn overlapping_islands_merge() {
    let mut c = open(plain());
    c.input(part(300, 400));
    c.out1();
    // Overlaps the island's start.
    c.input(part(250, 350));
    c.out1();
    // Overlaps its end and reaches beyond.
    c.input(part(380, 450));
    c.out1();
    // Covers the hole and overlaps both sides.
    c.input(part(0, 260));
    assert_eq!(c.out1().ack, Y + 451);
    assert_eq!(c.read_all(), stream(0, 450));
}

#[test]
fn a_segment_spanning_several_islands_fills_every_hole() {
    let mut c = open(plain());
    for (a, b) in [(100, 110), (200, 210), (300, 310)] {
        c.input(part(a, b));
        c.out1();
    }
    c.input(part(0, 400));
    assert_eq!(c.out1().ack, Y + 401);
    assert_eq!(c.read_all(), stream(0, 400));
}

#[test]
fn data_beyond_the_window_is_trimmed_while_held_out_of_order() {
    let mut c = open(Config {
        recv_buffer: 1000,
        ..plain()
    });
    // 950..1050: only 950..1000 fits.
    c.input(part(950, 1050));
    assert_eq!(c.out1().ack, Y + 1);
    c.input(part(0, 950));
    let ack = c.out1();
    assert_eq!((ack.ack, ack.window), (Y + 1001, 0));
    assert_eq!(c.read_all(), stream(0, 1000));
}

#[test]
fn a_fin_beyond_a_hole_waits_for_the_data() {
    let mut c = open(plain());
    c.input(part(100, 200).fin());
    assert_eq!(c.out1().ack, Y + 1);
    assert_eq!(c.state(), State::Established);
    assert!(!c.conn.at_eof());
    c.input(part(0, 100));
    // The data and the FIN: RCV.NXT = 200 + 1.
    assert_eq!(c.out1().ack, Y + 202);
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.read_all(), stream(0, 200));
    assert!(c.conn.at_eof());
}

#[test]
fn a_fin_past_the_window_is_not_taken() {
    let mut c = open(Config {
        recv_buffer: 100,
        ..plain()
    });
    // 150 bytes and a FIN into a 100-byte window: the FIN is cut off.
    c.input(part(0, 150).fin());
    assert_eq!(c.out1().ack, Y + 101);
    assert_eq!(c.state(), State::Established);
}

#[test]
fn too_many_holes_drop_the_newest_islands_not_the_connection() {
    // Islands are kept in bounded memory (1024 ranges, recv.rs); the rest
    // is dropped and will be resent by the peer.
    const HOLES: usize = 1024;
    let mut c = open(plain());
    for k in 0..HOLES + 6 {
        c.input(part(2 * k + 1, 2 * k + 2));
        assert_eq!(c.out1().ack, Y + 1);
    }
    for k in 0..=HOLES {
        c.input(part(2 * k, 2 * k + 1));
        c.out();
    }
    // Islands 0..1023 (odd bytes 1..2047) were held; byte 2049 was not.
    let held = 2 * HOLES + 1;
    assert_eq!(c.conn.status().rcv_nxt.0, Y + 1 + held as u32);
    assert_eq!(c.read_all(), stream(0, held));
    // The peer resends the rest; it all arrives.
    c.input(part(held, held + 100));
    assert_eq!(c.out1().ack, Y + 1 + (held + 100) as u32);
    assert_eq!(c.read_all(), stream(held, held + 100));
}

#[test]
fn readable_is_signalled_only_when_data_is_in_order() {
    let mut c = open(plain());
    c.events.clear();
    c.input(part(100, 200));
    assert!(!c.events.iter().any(|e| matches!(e, Event::Readable)));
    c.input(part(0, 100));
    assert_eq!(
        c.events
            .iter()
            .filter(|e| matches!(e, Event::Readable))
            .count(),
        1
    );
}

#[test]
fn reassembly_with_a_segment_that_has_no_ack_flag_is_dropped() {
    // RFC 9293 §3.10.7.4 fifth check: "if the ACK bit is off, drop the
    // segment".
    let mut c = open(plain());
    let mut s = part(0, 100);
    s.flags = TcpFlags::NONE;
    s.ack = None;
    c.input(s);
    c.none();
    assert_eq!(c.conn.recv_queue(), 0);
    assert_eq!(c.conn.status().rcv_nxt.0, Y + 1);
}

#[test]
fn an_idle_connection_holds_no_buffer_memory() {
    let mut c = open(Config {
        nodelay: true,
        ..plain()
    });
    assert_eq!(c.conn.buffer_memory(), 0);
    c.input(part(0, 100));
    c.out1();
    assert_eq!(c.conn.buffer_memory(), 256, "the smallest ring");
    c.read_all();
    c.out();
    assert_eq!(
        c.conn.buffer_memory(),
        256,
        "kept while the reader may come back"
    );
    c.advance(Duration::from_secs(1));
    assert_eq!(
        c.conn.buffer_memory(),
        0,
        "released a second after it emptied"
    );
    c.conn.send(&[1; 1000]).unwrap();
    c.out1();
    assert_eq!(
        c.conn.buffer_memory(),
        1024,
        "doubled from 256 to hold 1000"
    );
    c.input(seg(Y + 101).ack(X + 1001));
    c.out();
    c.advance(Duration::from_secs(1));
    assert_eq!(
        c.conn.buffer_memory(),
        0,
        "released a second after it was acknowledged"
    );
}

#[test]
fn buffer_memory_grows_with_the_data_held_not_the_window() {
    let mut c = open(Config {
        recv_buffer: 256 * 1024,
        ..plain()
    });
    for k in 0..10 {
        c.input(part(k * 1000, (k + 1) * 1000));
        c.out1();
    }
    // 10 000 bytes held: the ring doubled from 4 KiB to 16 KiB, not to the
    // 256 KiB buffer limit.
    assert_eq!(c.conn.buffer_memory(), 16 * 1024);
    assert_eq!(c.read_all(), stream(0, 10_000));
    c.out();
    c.advance(Duration::from_secs(1));
    assert_eq!(c.conn.buffer_memory(), 0);
}

#[test]
fn reassembled_holes_leave_no_memory_behind() {
    let mut c = open(plain());
    for (a, b) in [(500, 600), (300, 400), (100, 200)] {
        c.input(part(a, b));
        c.out1();
    }
    assert!(c.conn.buffer_memory() > 0);
    for (a, b) in [(0, 100), (200, 300), (400, 500)] {
        c.input(part(a, b));
        c.out1();
    }
    assert_eq!(c.read_all(), stream(0, 600));
    c.out();
    c.advance(Duration::from_secs(1));
    assert_eq!(c.conn.buffer_memory(), 0);
}
