//! Segmentation to the effective send MSS (RFC 9293 §3.7.1) and PSH on the
//! last segment of a write (§3.9.1.2).

use std::time::Duration;

use proto::conn::{Config, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

const ACK: TcpFlags = TcpFlags::ACK;
const PSH: TcpFlags = TcpFlags::PSH;

fn sizes(segs: &[Sent]) -> Vec<u32> {
    segs.iter().map(|s| s.len()).collect()
}

fn nodelay() -> Config {
    Config {
        nodelay: true,
        ..plain()
    }
}

/// Established with the SYN-ACK built by `synack` from `seg(Y).syn().ack(X + 1)`.
fn open_with(cfg: Config, synack: impl FnOnce(Seg) -> Seg) -> Tcb {
    Tcb::open(cfg, X, Duration::ZERO, |syn| {
        let mut s = synack(seg(Y).syn().ack(X + 1));
        if cfg.timestamps {
            s = s.ts(1, syn.tsval());
        }
        s
    })
}

#[test]
fn syn_announces_our_mss() {
    let mut c = Tcb::client(Config {
        mss: 1200,
        ..plain()
    });
    let syn = c.out1();
    assert_eq!(syn.options.mss, Some(1200));
}

#[test]
fn mss_is_the_smaller_of_the_peers_and_ours() {
    let mut c = open_with(nodelay(), |s| s.mss(1000));
    assert_eq!(c.conn.status().mss, 1000);
    c.conn.send(&[1; 2500]).unwrap();
    let segs = c.out();
    assert_eq!(sizes(&segs), [1000, 1000, 500]);
    assert_eq!(
        segs.iter().map(|s| s.seq).collect::<Vec<_>>(),
        [X + 1, X + 1001, X + 2001]
    );

    let mut c = open_with(
        Config {
            mss: 900,
            ..nodelay()
        },
        |s| s.mss(1460),
    );
    assert_eq!(c.conn.status().mss, 900);
    c.conn.send(&[1; 2000]).unwrap();
    assert_eq!(sizes(&c.out()), [900, 900, 200]);
}

#[test]
fn mss_defaults_to_536_when_the_syn_has_no_mss_option() {
    // RFC 9293 §3.7.1 MUST-15: 536 without the option.
    let mut c = open_with(nodelay(), |s| s);
    assert_eq!(c.conn.status().mss, 536);
    c.conn.send(&[1; 1200]).unwrap();
    assert_eq!(sizes(&c.out()), [536, 536, 128]);
}

#[test]
fn timestamps_take_12_bytes_from_the_mss() {
    let cfg = Config {
        timestamps: true,
        ..nodelay()
    };
    let mut c = open_with(cfg, |s| s.mss(1460));
    assert_eq!(c.conn.status().mss, 1448);
    c.conn.send(&[1; 3000]).unwrap();
    assert_eq!(sizes(&c.out()), [1448, 1448, 104]);
    // And from the default: 536 - 12.
    let c = open_with(cfg, |s| s);
    assert_eq!(c.conn.status().mss, 524);
}

#[test]
fn timestamps_offered_but_refused_leave_the_full_mss() {
    let cfg = Config {
        timestamps: true,
        ..nodelay()
    };
    // The SYN-ACK carries no timestamps: no 12-byte reduction.
    let c = Tcb::open(cfg, X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(1460)
    });
    assert!(!c.conn.status().timestamps);
    assert_eq!(c.conn.status().mss, 1460);
}

#[test]
fn passive_side_segments_to_the_mss_of_the_syn() {
    let mut s = Tcb::listener(nodelay());
    s.input(seg(Y).syn().mss(700));
    let synack = s.out1();
    assert_eq!(synack.options.mss, Some(1460));
    s.input(seg(Y + 1).ack(X + 1));
    assert_eq!(s.state(), State::Established);
    s.conn.send(&[2; 1500]).unwrap();
    assert_eq!(sizes(&s.out()), [700, 700, 100]);
}

#[test]
fn a_tiny_mss_option_is_floored_at_64() {
    let mut c = open_with(nodelay(), |s| s.mss(1));
    assert_eq!(c.conn.status().mss, 64);
    c.conn.send(&[1; 130]).unwrap();
    assert_eq!(sizes(&c.out()), [64, 64, 2]);
}

#[test]
fn psh_only_on_the_last_segment_of_a_write() {
    let mut c = open_with(nodelay(), |s| s.mss(1460));
    c.conn.send(&[3; 4000]).unwrap();
    let segs = c.out();
    assert_eq!(sizes(&segs), [1460, 1460, 1080]);
    assert_eq!(
        segs.iter().map(|s| s.flags).collect::<Vec<_>>(),
        [ACK, ACK, ACK | PSH]
    );
    assert!(segs.iter().all(|s| s.reason == SendReason::Data));
    assert!(segs.iter().all(|s| s.ack == Y + 1));
}

#[test]
fn an_exact_multiple_of_the_mss_pushes_its_last_full_segment() {
    let mut c = open_with(nodelay(), |s| s.mss(1000));
    c.conn.send(&[3; 3000]).unwrap();
    let segs = c.out();
    assert_eq!(sizes(&segs), [1000, 1000, 1000]);
    assert_eq!(
        segs.iter().map(|s| s.flags).collect::<Vec<_>>(),
        [ACK, ACK, ACK | PSH]
    );
}

#[test]
fn each_write_sent_alone_is_pushed() {
    let mut c = open_with(nodelay(), |s| s.mss(1460));
    c.conn.send(b"first").unwrap();
    let a = c.out1();
    assert_eq!(
        (a.flags, a.seq, a.data.as_slice()),
        (ACK | PSH, X + 1, &b"first"[..])
    );
    c.conn.send(b"second").unwrap();
    let b = c.out1();
    assert_eq!(
        (b.flags, b.seq, b.data.as_slice()),
        (ACK | PSH, X + 6, &b"second"[..])
    );
}

#[test]
fn segment_data_is_the_bytes_written_in_order() {
    let mut c = open_with(nodelay(), |s| s.mss(100));
    let data: Vec<u8> = (0..350u32).map(|i| i as u8).collect();
    c.conn.send(&data).unwrap();
    let segs = c.out();
    let joined: Vec<u8> = segs.iter().flat_map(|s| s.data.clone()).collect();
    assert_eq!(joined, data);
    assert_eq!(sizes(&segs), [100, 100, 100, 50]);
}

#[test]
fn data_queued_in_syn_sent_follows_the_handshake_with_the_ack() {
    let mut c = Tcb::client(nodelay());
    c.conn.send(&[9; 2000]).unwrap();
    let syn = c.out1();
    assert_eq!(syn.len(), 0, "a SYN carries no data");
    c.input(seg(Y).syn().ack(X + 1).mss(1460));
    let segs = c.out();
    assert_eq!(sizes(&segs), [1460, 540]);
    assert_eq!((segs[0].seq, segs[0].ack), (X + 1, Y + 1));
    assert_eq!(segs[1].flags, ACK | PSH);
}

#[test]
fn the_fin_rides_on_the_last_data_segment() {
    let mut c = open_with(nodelay(), |s| s.mss(1000));
    c.conn.send(&[1; 1500]).unwrap();
    c.conn.shutdown(c.now).unwrap();
    let segs = c.out();
    assert_eq!(sizes(&segs), [1000, 500]);
    assert_eq!(segs[1].flags, ACK | PSH | TcpFlags::FIN);
    assert_eq!(c.state(), State::FinWait1);
    c.input(seg(Y + 1).ack(X + 1 + 1500 + 1));
    assert_eq!(c.state(), State::FinWait2);
}

#[test]
fn a_window_smaller_than_the_data_limits_the_segments() {
    // The peer offers 3000 bytes: two full segments, and the 80 left over
    // would be a silly segment (RFC 9293 §3.8.6.2.1).
    let mut c = open_with(nodelay(), |s| s.mss(1460).win(3000));
    c.conn.send(&[1; 10_000]).unwrap();
    assert_eq!(sizes(&c.out()), [1460, 1460]);
    assert_eq!(c.conn.status().bytes_in_flight, 2920);
}

#[test]
fn send_buffer_limit_is_respected() {
    let mut c = open_with(
        Config {
            send_buffer: 4000,
            ..nodelay()
        },
        |s| s.mss(1460),
    );
    assert_eq!(c.conn.send(&[1; 10_000]), Ok(4000));
    assert_eq!(c.conn.send(&[1; 10]), Err(proto::conn::Error::WouldBlock));
    assert_eq!(sizes(&c.out()), [1460, 1460, 1080]);
    // Acknowledging 2920 bytes frees them and reports Writable.
    c.input(seg(Y + 1).ack(X + 1 + 2920));
    assert_eq!(c.conn.send_capacity(), 2920);
    assert!(c
        .events
        .iter()
        .any(|e| matches!(e, proto::conn::Event::Writable)));
}
