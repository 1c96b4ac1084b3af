//! Congestion control with NewReno: the initial window (RFC 6928), slow
//! start and congestion avoidance (RFC 5681 §3.1), fast retransmit and fast
//! recovery with partial ACKs (RFC 5681 §3.2, RFC 6582), the loss window
//! after an RTO, and restart after idle (RFC 5681 §4.1). Segments released
//! per ACK are counted exactly.

use std::time::Duration;

use proto::conn::congestion::Algorithm;
use proto::conn::{Config, SendReason};

use crate::harness::*;

const MSS: u32 = 1460;

/// No SACK (the classic dup-ACK recovery of RFC 5681/6582) and NewReno,
/// whose halving these scripts count (CUBIC is the default; its own
/// scripts are in cubic.rs).
fn cfg() -> Config {
    Config {
        nodelay: true,
        congestion: Algorithm::NewReno,
        ..plain()
    }
}

fn open_mss(cfg: Config, mss: u16) -> Tcb {
    Tcb::open(cfg, X, Duration::from_millis(100), |_| {
        seg(Y).syn().ack(X + 1).mss(mss)
    })
}

/// Established, 30 000 bytes queued and the initial window sent.
fn flight10() -> Tcb {
    let mut c = open_mss(cfg(), 1460);
    c.conn.send(&[1; 30_000]).unwrap();
    assert_eq!(c.out().len(), 10);
    c
}

/// An ACK from the peer (window 65535, as in the SYN-ACK).
fn ack(n: u32) -> Seg {
    seg(Y + 1).ack(n)
}

/// The end of segment `k` (0-based) of the initial flight.
fn end(k: u32) -> u32 {
    X + 1 + MSS * (k + 1)
}

fn seqs(segs: &[Sent]) -> Vec<(u32, SendReason)> {
    segs.iter().map(|s| (s.seq - X - 1, s.reason)).collect()
}

#[test]
fn initial_window_is_ten_segments() {
    // RFC 6928: IW = min(10·MSS, max(2·MSS, 14600)).
    let c = flight10();
    let st = c.conn.status();
    assert_eq!((st.cwnd, st.bytes_in_flight), (14_600, 14_600));
    assert_eq!(st.ssthresh, u32::MAX);
}

#[test]
fn initial_window_for_small_and_large_segments() {
    let mut c = open_mss(cfg(), 536);
    c.conn.send(&[1; 30_000]).unwrap();
    assert_eq!(c.out().len(), 10);
    assert_eq!(c.conn.status().cwnd, 5360);
    // MSS 2000: 14 600 bytes is the cap, so 7 segments (the 600-byte
    // remainder would be a silly segment).
    let mut c = open_mss(Config { mss: 4000, ..cfg() }, 2000);
    c.conn.send(&[1; 30_000]).unwrap();
    assert_eq!(c.out().len(), 7);
    assert_eq!(c.conn.status().cwnd, 14_600);
}

#[test]
fn initial_window_with_timestamps_counts_1448_byte_segments() {
    let mut c = Tcb::open(
        Config {
            timestamps: true,
            ..cfg()
        },
        X,
        Duration::ZERO,
        |syn| seg(Y).syn().ack(X + 1).mss(1460).ts(1, syn.tsval()),
    );
    c.conn.send(&[1; 30_000]).unwrap();
    let segs = c.out();
    assert_eq!(segs.len(), 10);
    assert!(segs.iter().all(|s| s.len() == 1448));
    assert_eq!(c.conn.status().cwnd, 14_480);
}

#[test]
fn slow_start_releases_two_segments_per_acked_segment() {
    let mut c = flight10();
    for k in 0..4 {
        c.input(ack(end(k)));
        assert_eq!(c.out().len(), 2, "ACK {k}");
    }
    assert_eq!(c.conn.status().cwnd, 14_600 + 4 * MSS);
}

#[test]
fn slow_start_grows_at_most_two_segments_per_cumulative_ack() {
    // RFC 3465 §2.2, L = 2·SMSS.
    let mut c = flight10();
    c.input(ack(end(4)));
    assert_eq!(c.conn.status().cwnd, 14_600 + 2 * MSS);
    // 5 segments left in flight, cwnd 12 segments: 7 released.
    assert_eq!(c.out().len(), 7);
}

#[test]
fn the_window_does_not_grow_while_the_application_limits_it() {
    let mut c = open_mss(cfg(), 1460);
    for _ in 0..5 {
        c.conn.send(&[1; 1460]).unwrap();
        let s = c.out1();
        c.input(ack(s.seq + s.len()));
    }
    assert_eq!(c.conn.status().cwnd, 14_600);
}

#[test]
fn two_duplicate_acks_are_not_enough() {
    let mut c = flight10();
    c.input(ack(X + 1));
    c.input(ack(X + 1));
    c.none();
    let st = c.conn.status();
    assert_eq!((st.cwnd, st.stats.dupacks_in), (14_600, 2));
}

#[test]
fn fast_retransmit_on_the_third_duplicate_ack() {
    let mut c = flight10();
    c.input(ack(X + 1));
    c.input(ack(X + 1));
    c.input(ack(X + 1));
    let fr = c.out1();
    assert_eq!(
        (fr.seq, fr.len(), fr.reason),
        (X + 1, MSS, SendReason::FastRetransmit)
    );
    // RFC 5681 §3.2: ssthresh = FlightSize / 2, cwnd = ssthresh + 3·SMSS.
    let st = c.conn.status();
    assert_eq!(st.ssthresh, 7300);
    assert_eq!(st.cwnd, 7300 + 3 * MSS);
    assert_eq!(st.stats.fast_retransmits, 1);
}

#[test]
fn acks_carrying_data_are_not_duplicate_acks() {
    let mut c = flight10();
    for k in 0..3u32 {
        c.input(seg(Y + 1 + k).ack(X + 1).data(b"d"));
        c.out();
    }
    let st = c.conn.status();
    assert_eq!((st.stats.dupacks_in, st.stats.fast_retransmits), (0, 0));
}

#[test]
fn fast_recovery_inflates_the_window_one_segment_per_duplicate() {
    let mut c = flight10();
    let mut released = Vec::new();
    // Segment 0 lost: nine duplicate ACKs.
    for _ in 0..9 {
        c.input(ack(X + 1));
        released.push(seqs(&c.out()));
    }
    use SendReason::*;
    assert_eq!(
        released,
        [
            vec![],
            vec![],
            vec![(0, FastRetransmit)],
            vec![],
            vec![],
            vec![(14_600, Data)],
            vec![(16_060, Data)],
            vec![(17_520, Data)],
            vec![(18_980, Data)],
        ]
    );
    assert_eq!(c.conn.status().cwnd, 7300 + 9 * MSS);
}

#[test]
fn a_full_ack_ends_recovery_with_cwnd_at_ssthresh() {
    let mut c = flight10();
    for _ in 0..9 {
        c.input(ack(X + 1));
        c.out();
    }
    // The retransmission arrived: everything up to "recover" (the last
    // byte of the initial flight) is acknowledged (RFC 6582 §3.2 step 3).
    c.input(ack(end(9)));
    let st = c.conn.status();
    // cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) = min(7300, 5840 + 1460).
    assert_eq!(st.cwnd, 7300);
    assert_eq!(st.bytes_in_flight, 4 * MSS);
    let segs = c.out();
    assert_eq!(seqs(&segs), [(20_440, SendReason::Data)]);
    assert_eq!(c.conn.status().stats.fast_retransmits, 1);
}

#[test]
fn a_partial_ack_resends_the_next_hole_and_deflates_the_window() {
    // Segments 0 and 3 lost: eight duplicate ACKs.
    let mut c = flight10();
    for _ in 0..8 {
        c.input(ack(X + 1));
        c.out();
    }
    assert_eq!(c.conn.status().cwnd, 7300 + 8 * MSS);
    assert_eq!(c.conn.status().snd_nxt.0, X + 1 + 13 * MSS);
    // The retransmitted segment 0 fills up to segment 3: a partial ACK.
    c.input(ack(end(2)));
    let segs = c.out();
    assert_eq!(
        seqs(&segs),
        [
            (3 * MSS, SendReason::FastRetransmit),
            (13 * MSS, SendReason::Data)
        ]
    );
    // RFC 6582 §3.2 step 5: cwnd - 3·SMSS acknowledged + SMSS.
    assert_eq!(c.conn.status().cwnd, 7300 + 8 * MSS - 3 * MSS + MSS);
    // Then the full ACK.
    c.input(ack(end(9)));
    assert_eq!(c.conn.status().cwnd, 7300);
    assert_eq!(c.conn.status().stats.fast_retransmits, 2);
}

#[test]
fn congestion_avoidance_grows_one_segment_per_window() {
    let mut c = flight10();
    for _ in 0..9 {
        c.input(ack(X + 1));
        c.out();
    }
    c.input(ack(end(9)));
    assert_eq!(c.out().len(), 1);
    assert_eq!(c.conn.status().cwnd, 7300);
    // cwnd = ssthresh: congestion avoidance. Five segments are in flight;
    // each ACK of one releases one, and the fifth ACK (one window of
    // bytes) grows cwnd by one segment and releases two.
    let mut released = Vec::new();
    let mut next = end(9);
    for _ in 0..5 {
        next += MSS;
        c.input(ack(next));
        released.push(c.out().len());
    }
    assert_eq!(released, [1, 1, 1, 1, 2]);
    assert_eq!(c.conn.status().cwnd, 7300 + MSS);
}

#[test]
fn one_loss_window_reduces_the_window_once() {
    // RFC 6582 §3.2 step 2: after a timeout, duplicate ACKs for data sent
    // before it do not start another fast retransmit.
    let mut c = flight10();
    c.fire();
    assert_eq!(c.out1().reason, SendReason::Retransmission);
    let ss = c.conn.status().ssthresh;
    for _ in 0..5 {
        c.input(ack(X + 1));
    }
    let segs = c.out();
    assert!(segs.iter().all(|s| s.reason != SendReason::FastRetransmit));
    assert_eq!(c.conn.status().ssthresh, ss);
    assert_eq!(c.conn.status().stats.fast_retransmits, 0);
}

#[test]
fn a_new_loss_right_after_recovery_is_fast_retransmitted() {
    let mut c = flight10();
    for _ in 0..9 {
        c.input(ack(X + 1));
        c.out();
    }
    c.input(ack(end(9)));
    c.out();
    // The first segment sent during recovery is lost as well: three
    // duplicates of the ACK that ended recovery.
    for _ in 0..3 {
        c.input(ack(end(9)));
    }
    let segs = c.out();
    assert_eq!(seqs(&segs), [(14_600, SendReason::FastRetransmit)]);
    assert_eq!(c.conn.status().stats.fast_retransmits, 2);
}

#[test]
fn rto_sets_cwnd_to_one_segment_and_ssthresh_to_half_the_flight() {
    let mut c = flight10();
    c.fire();
    let st = c.conn.status();
    assert_eq!((st.cwnd, st.ssthresh), (MSS, 7300));
    // One segment: the oldest.
    let segs = c.out();
    assert_eq!(seqs(&segs), [(0, SendReason::Retransmission)]);
}

#[test]
fn slow_start_after_rto_up_to_ssthresh_then_avoidance() {
    let mut c = flight10();
    c.fire();
    c.out1();
    // Each ACK here acknowledges exactly what was resent.
    let mut released = Vec::new();
    let mut cwnds = Vec::new();
    for _ in 0..4 {
        let nxt = c.conn.status().snd_nxt.0;
        c.input(ack(nxt));
        released.push(c.out().len());
        cwnds.push(c.conn.status().cwnd);
    }
    // Slow start: 1460 → 2920 → 5840 (+2 SMSS at most per ACK); then
    // 1460 bytes reach ssthresh = 7300 and the other 4380 count toward
    // congestion avoidance; the next 7300 bytes complete a window: +1 SMSS.
    assert_eq!(cwnds, [2920, 5840, 7300, 8760]);
    assert_eq!(released, [2, 4, 5, 6]);
}

#[test]
fn timeout_during_fast_recovery_ends_it() {
    let mut c = flight10();
    for _ in 0..3 {
        c.input(ack(X + 1));
    }
    c.out1();
    c.fire();
    let st = c.conn.status();
    assert_eq!(st.cwnd, MSS);
    assert_eq!(st.ssthresh, 7300, "the same loss episode: not halved again");
    assert_eq!(seqs(&c.out()), [(0, SendReason::Retransmission)]);
}

#[test]
fn restart_after_idle_goes_back_to_the_initial_window() {
    let mut c = flight10();
    // 30 segments in all.
    c.conn.send(&[1; 13_800]).unwrap();
    // Grow cwnd to 20 segments by acknowledging segment by segment.
    for k in 0..10 {
        c.input(ack(end(k)));
        c.out();
    }
    let st = c.conn.status();
    assert_eq!(st.cwnd, 29_200);
    // Acknowledge everything and go idle for longer than the RTO.
    assert_eq!(st.snd_nxt.0, X + 1 + 30 * MSS);
    c.input(ack(st.snd_nxt.0));
    c.none();
    c.wait(Duration::from_secs(5));
    c.conn.send(&[1; 60_000]).unwrap();
    assert_eq!(c.out().len(), 10, "RFC 5681 §4.1: restart window = IW");
    assert_eq!(c.conn.status().cwnd, 14_600);
}

#[test]
fn max_cwnd_is_recorded() {
    let mut c = flight10();
    for k in 0..3 {
        c.input(ack(end(k)));
        c.out();
    }
    assert_eq!(c.conn.status().stats.max_cwnd, 14_600 + 3 * MSS);
}
