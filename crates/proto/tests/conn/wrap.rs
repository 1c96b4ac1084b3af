//! Sequence numbers wrapping past 2^32 during a transfer (RFC 9293 §3.4:
//! all comparisons are modulo 2^32): scripts with ISS and IRS near
//! u32::MAX, and back-to-back runs that cross the wrap.

use std::time::Duration;

use proto::conn::congestion::Algorithm;
use proto::conn::{Config, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

const MAX: u32 = u32::MAX;

fn cfg() -> Config {
    Config {
        nodelay: true,
        ..plain()
    }
}

/// Established with our ISS `iss` and the peer's IRS `irs`.
fn open_at(cfg: Config, iss: u32, irs: u32) -> Tcb {
    Tcb::open(cfg, iss, Duration::from_millis(50), |syn| {
        let mut s = seg(irs).syn().ack(iss.wrapping_add(1)).mss(1460);
        if cfg.timestamps {
            s = s.ts(1, syn.tsval());
        }
        if cfg.sack {
            s = s.sack_ok();
        }
        s
    })
}

#[test]
fn handshake_with_iss_at_u32_max() {
    let mut c = Tcb::client_iss(cfg(), MAX);
    let syn = c.out1();
    assert_eq!(syn.seq, MAX);
    c.input(seg(MAX).syn().ack(0));
    let ack = c.out1();
    assert_eq!((ack.seq, ack.ack), (0, 0));
    assert_eq!(c.state(), State::Established);
}

#[test]
fn sent_data_wraps_and_is_acknowledged_across_the_wrap() {
    let mut c = open_at(cfg(), MAX - 1000, Y);
    c.conn.send(&[1; 5000]).unwrap();
    let segs = c.out();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.len())).collect::<Vec<_>>(),
        [(MAX - 999, 1460), (460, 1460), (1920, 1460), (3380, 620)]
    );
    c.input(seg(Y + 1).ack(1920));
    assert_eq!(c.conn.send_queue(), 2080);
    assert_eq!(c.conn.status().bytes_in_flight, 2080);
    c.input(seg(Y + 1).ack(4000));
    assert_eq!(c.conn.send_queue(), 0);
    assert_eq!(c.next_in(), None);
}

#[test]
fn an_ack_before_the_wrap_is_old_after_it() {
    let mut c = open_at(cfg(), MAX - 1000, Y);
    c.conn.send(&[1; 3000]).unwrap();
    c.out();
    c.input(seg(Y + 1).ack(500));
    // MAX - 500 is below SND.UNA = 500 (modulo 2^32): nothing changes.
    c.input(seg(Y + 1).ack(MAX - 500));
    assert_eq!(c.conn.status().snd_una.0, 500);
    assert_eq!(c.conn.send_queue(), 3000 - 1500);
}

#[test]
fn received_data_wraps() {
    let mut c = open_at(cfg(), X, MAX - 10);
    let data: Vec<u8> = (0..100u8).collect();
    c.input(seg(MAX - 9).ack(X + 1).data(&data));
    let a = c.out1();
    assert_eq!(a.ack, 90);
    assert_eq!(c.read_all(), data);
    c.input(seg(90).ack(X + 1).data(b"more"));
    assert_eq!(c.out1().ack, 94);
}

#[test]
fn reassembly_across_the_wrap() {
    let mut c = open_at(cfg(), X, MAX - 50);
    // RCV.NXT = MAX - 49. An island after the wrap, then one before it.
    c.input(seg(50).ack(X + 1).data(&[3; 50]));
    assert_eq!(c.out1().ack, MAX - 49);
    c.input(seg(MAX - 49).ack(X + 1).data(&[1; 25]));
    assert_eq!(c.out1().ack, MAX - 24);
    // The fill spans the wrap itself.
    c.input(seg(MAX - 24).ack(X + 1).data(&[2; 75]));
    assert_eq!(c.out1().ack, 100);
    let got = c.read_all();
    assert_eq!(got, [vec![1; 25], vec![2; 75], vec![3; 50]].concat());
}

#[test]
fn sack_blocks_across_the_wrap() {
    let mut c = open_at(
        Config {
            sack: true,
            ..cfg()
        },
        X,
        MAX - 50,
    );
    c.input(seg(MAX - 20).ack(X + 1).data(&[1; 40]));
    let a = c.out1();
    assert_eq!(a.ack, MAX - 49);
    assert_eq!(a.sacks(), [(MAX - 20, 19)]);
}

#[test]
fn the_window_check_works_across_the_wrap() {
    let mut c = open_at(
        Config {
            recv_buffer: 1000,
            ..cfg()
        },
        X,
        MAX - 100,
    );
    // RCV.NXT = MAX - 99, the window ends at 900 after the wrap.
    c.input(seg(890).ack(X + 1).data(&[1; 20]));
    assert_eq!(c.out1().ack, MAX - 99, "held, trimmed to 10 bytes");
    c.input(seg(900).ack(X + 1).data(&[1; 10]));
    assert_eq!(c.out1().reason, SendReason::DupAck, "beyond the window");
    c.input(seg(MAX - 99).ack(X + 1).data(&[0; 990]));
    let a = c.out1();
    assert_eq!((a.ack, a.window), (900, 0));
}

#[test]
fn retransmission_across_the_wrap() {
    let mut c = open_at(cfg(), MAX - 700, Y);
    c.conn.send(&[1; 3000]).unwrap();
    c.out();
    c.fire();
    let r = c.out1();
    assert_eq!(
        (r.seq, r.len(), r.reason),
        (MAX - 699, 1460, SendReason::Retransmission)
    );
    // MAX - 699 + 1460 = 760 after the wrap.
    c.input(seg(Y + 1).ack(760));
    let segs = c.out();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.len())).collect::<Vec<_>>(),
        [(760, 1460), (2220, 80)]
    );
}

#[test]
fn fast_retransmit_across_the_wrap() {
    // NewReno: the halving below is RFC 5681's.
    let cfg = Config {
        congestion: Algorithm::NewReno,
        ..cfg()
    };
    let mut c = open_at(cfg, MAX - 2000, Y);
    c.conn.send(&[1; 14_600]).unwrap();
    assert_eq!(c.out().len(), 10);
    // The second segment (at MAX - 539) is lost.
    c.input(seg(Y + 1).ack(MAX - 539));
    for _ in 0..3 {
        c.input(seg(Y + 1).ack(MAX - 539));
    }
    let fr = c.out1();
    assert_eq!((fr.seq, fr.reason), (MAX - 539, SendReason::FastRetransmit));
    // ssthresh = 13 140 / 2 in flight at the third duplicate.
    assert_eq!(c.conn.status().ssthresh, 6570);
    // The full ACK: MAX - 1999 + 14 600 = 12 600 after the wrap. Nothing
    // is left in flight: cwnd = min(ssthresh, SMSS + SMSS) (RFC 6582).
    c.input(seg(Y + 1).ack(12_600));
    assert_eq!(c.conn.send_queue(), 0);
    assert_eq!(c.conn.status().cwnd, 2920);
}

#[test]
fn fin_at_u32_max() {
    let mut c = open_at(cfg(), MAX - 101, Y);
    c.conn.send(&[1; 100]).unwrap();
    c.conn.close(c.now);
    let s = c.out1();
    assert_eq!((s.seq, s.len()), (MAX - 100, 100));
    assert!(s.flags.contains(TcpFlags::FIN));
    // The FIN is sequence number u32::MAX; its ACK is 0.
    c.input(seg(Y + 1).ack(0));
    assert_eq!(c.state(), State::FinWait2);
    c.input(seg(Y + 1).ack(0).fin());
    assert_eq!(c.out1().ack, Y + 2);
    assert_eq!(c.state(), State::TimeWait);
}

#[test]
fn peer_fin_at_u32_max() {
    let mut c = open_at(cfg(), X, MAX - 11);
    c.input(seg(MAX - 10).ack(X + 1).data(&[5; 10]).fin());
    assert_eq!(c.out1().ack, 0);
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.read_all(), [5; 10]);
}

fn run_pair(cfg: Config, impair: Impair, seed: u64, iss_a: u32, iss_b: u32, size: usize) {
    let mut p = Pair::with_iss(cfg, cfg, impair, seed, iss_a, iss_b);
    let up = Rng::new(seed ^ 1).bytes(size);
    let down = Rng::new(seed ^ 2).bytes(size / 2);
    let (mut at_a, mut at_b) = (0, 0);
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let (mut shut_a, mut shut_b) = (false, false);
    let ok = p.run_until(Duration::from_secs(600), |p| {
        drain(&mut p.a, &mut got_a);
        let eof_b = drain(&mut p.b, &mut got_b);
        if p.a.state() == State::Established || p.a.state() == State::CloseWait {
            feed(&mut p.a, &up, &mut at_a);
        }
        if p.b.state() == State::Established || p.b.state() == State::CloseWait {
            feed(&mut p.b, &down, &mut at_b);
        }
        if at_a == up.len() && !shut_a && p.a.state() == State::Established {
            // Half-close: A keeps reading what B sends.
            p.a.shutdown(p.now).unwrap();
            shut_a = true;
        }
        if eof_b && at_b == down.len() && !shut_b && p.b.state() == State::CloseWait {
            p.b.close(p.now);
            shut_b = true;
        }
        p.a.is_closed() && p.b.is_closed()
    });
    assert!(ok, "seed {seed}: a {:?} b {:?}", p.a.status(), p.b.status());
    assert!(got_b == up, "seed {seed}: upstream differs");
    assert!(got_a == down, "seed {seed}: downstream differs");
}

#[test]
fn back_to_back_transfer_crosses_the_wrap_both_ways() {
    // 300 kB up and 150 kB down from ISSs a few segments before 2^32.
    run_pair(
        Config::default(),
        Impair::default(),
        7,
        MAX - 5000,
        MAX - 3000,
        300_000,
    );
}

#[test]
fn back_to_back_lossy_transfers_cross_the_wrap() {
    let impair = Impair {
        loss: 0.05,
        reorder: 0.05,
        dup: 0.02,
        delay: Duration::from_millis(5),
    };
    for seed in 0..6 {
        let iss_a = MAX - (seed as u32 * 7919 % 60_000);
        let iss_b = MAX - (seed as u32 * 104_729 % 60_000);
        run_pair(Config::default(), impair, seed, iss_a, iss_b, 120_000);
        run_pair(plain(), impair, seed + 100, iss_a, iss_b, 60_000);
    }
}
