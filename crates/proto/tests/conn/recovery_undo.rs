//! D-SACK (RFC 2883) on the receiver, and undoing spurious reductions on
//! the sender: by D-SACK (RFC 3708), by timestamps (the Eifel detection,
//! RFC 3522), and after a timeout by F-RTO (RFC 5682).

use std::time::Duration;

use proto::conn::{CaState, Config, SendReason};

use crate::harness::*;

const MSS: u32 = 1460;
const RTT: Duration = Duration::from_millis(100);

fn at(k: u32) -> u32 {
    X + 1 + MSS * k
}

fn ack_sack(n: u32, blocks: &[(u32, u32)]) -> Seg {
    let b: Vec<_> = blocks.iter().map(|&(s, e)| (at(s), at(e))).collect();
    seg(Y + 1).ack(n).sack(&b)
}

fn which(segs: &[Sent]) -> Vec<(u32, SendReason)> {
    segs.iter()
        .map(|s| ((s.seq - (X + 1)) / MSS, s.reason))
        .collect()
}

// ---- The receiver's D-SACK blocks. ----

/// Relative SACK blocks of an ACK (from Y+1).
fn rel(s: &Sent) -> Vec<(u32, u32)> {
    s.sacks()
        .into_iter()
        .map(|(a, b)| (a.wrapping_sub(Y + 1), b.wrapping_sub(Y + 1)))
        .collect()
}

fn data(at: u32, len: usize) -> Seg {
    seg(Y + 1 + at).ack(X + 1).data(&vec![1; len])
}

#[test]
fn a_duplicate_below_rcv_nxt_is_the_first_block_once() {
    let mut c = Tcb::open_sack(sack_plain(), RTT);
    c.input(data(0, 100));
    assert!(c.out1().sacks().is_empty());
    // The same segment again (its ACK was lost): RFC 2883 §4.1.1.
    c.input(data(0, 100));
    let a = c.out1();
    assert_eq!(a.ack, Y + 101);
    assert_eq!(rel(&a), [(0, 100)]);
    // Reported once only.
    c.input(data(100, 100));
    assert!(c.out1().sacks().is_empty());
    assert_eq!(c.conn.status().stats.dsacks_out, 1);
}

#[test]
fn a_duplicate_of_out_of_order_data_comes_before_its_block() {
    let mut c = Tcb::open_sack(sack_plain(), RTT);
    c.input(data(200, 100));
    assert_eq!(rel(&c.out1()), [(200, 300)]);
    c.input(data(300, 100));
    assert_eq!(rel(&c.out1()), [(200, 400)]);
    // RFC 2883 §4.1.2: the D-SACK block, then the block containing it.
    c.input(data(200, 100));
    assert_eq!(rel(&c.out1()), [(200, 300), (200, 400)]);
    c.input(data(0, 200));
    let a = c.out1();
    assert_eq!(a.ack, Y + 401);
    assert!(a.sacks().is_empty());
}

#[test]
fn a_partly_old_segment_reports_its_old_part() {
    let mut c = Tcb::open_sack(sack_plain(), RTT);
    c.input(data(0, 100));
    c.out1();
    c.input(data(50, 100));
    let a = c.out1();
    assert_eq!(a.ack, Y + 151);
    assert_eq!(rel(&a), [(50, 100)]);
}

#[test]
fn no_dsack_when_disabled_or_without_sack() {
    let mut c = Tcb::open_sack(
        Config {
            dsack: false,
            ..sack_plain()
        },
        RTT,
    );
    c.input(data(0, 100));
    c.out1();
    c.input(data(0, 100));
    assert!(c.out1().sacks().is_empty());
    let mut c = Tcb::open(plain(), X, RTT, |_| seg(Y).syn().ack(X + 1).mss(1460));
    c.input(data(0, 100));
    c.out1();
    c.input(data(0, 100));
    assert!(c.out1().sacks().is_empty());
}

// ---- Undo on the sender. ----

/// SACK, ten segments sent; the peer reorders segment 0 behind 1..3: the
/// sender deems it lost, resends it, and cuts cwnd.
fn spurious_fast_retransmit(cfg: Config) -> (Tcb, u32) {
    let mut c = Tcb::open_sack(cfg, RTT);
    c.conn.send(&[7; 14_600]).unwrap();
    let first = c.out();
    assert_eq!(first.len(), 10);
    let cwnd = c.conn.status().cwnd;
    c.wait(RTT);
    let mss = first[0].len();
    let b = |k: u32| (X + 1 + mss * k, X + 1 + mss * (k + 3));
    let mut s = seg(Y + 1).ack(X + 1).sack(&[b(1)]);
    if cfg.timestamps {
        s = s.ts(100, first[9].tsval());
    }
    c.input(s);
    let re = c.out();
    assert_eq!(re.len(), 1);
    assert_eq!(re[0].reason, SendReason::FastRetransmit);
    let st = c.conn.status();
    assert_eq!(st.ca_state, CaState::Recovery);
    assert!(st.cwnd < cwnd);
    (c, cwnd)
}

#[test]
fn a_dsack_for_the_retransmission_undoes_the_reduction() {
    let (mut c, cwnd) = spurious_fast_retransmit(sack_plain());
    // The original arrives: everything is acknowledged, recovery ends
    // with cwnd at ssthresh.
    c.wait(Duration::from_millis(5));
    c.input(seg(Y + 1).ack(at(10)));
    let st = c.conn.status();
    assert_eq!(st.ca_state, CaState::Open);
    assert_eq!(st.cwnd, st.ssthresh);
    // Then the retransmission arrives and is reported as a duplicate:
    // every retransmission of the episode was unnecessary (RFC 3708 §3).
    c.wait(RTT);
    c.input(ack_sack(at(10), &[(0, 1)]));
    let st = c.conn.status();
    assert_eq!(st.cwnd, cwnd, "restored");
    assert_eq!(st.ssthresh, u32::MAX);
    assert_eq!(st.stats.spurious_undos, 1);
    assert_eq!(st.stats.dsacks_in, 1);
    assert!(st.reordering, "RACK widens its window from now on");
}

#[test]
fn a_dsack_for_only_some_retransmissions_undoes_nothing() {
    let (mut c, _) = spurious_fast_retransmit(sack_plain());
    // Segment 4 is lost for real: resent as well.
    c.input(ack_sack(X + 1, &[(1, 4), (5, 8)]));
    assert!(which(&c.out()).contains(&(4, SendReason::FastRetransmit)));
    c.input(ack_sack(at(10), &[(0, 1)]));
    let st = c.conn.status();
    assert_eq!(st.stats.spurious_undos, 0);
    assert!(st.ssthresh < u32::MAX);
}

#[test]
fn eifel_timestamps_undo_at_the_first_ack() {
    let cfg = Config {
        timestamps: true,
        ..sack_plain()
    };
    let mut c = Tcb::open_sack(cfg, RTT);
    c.conn.send(&[7; 14_480]).unwrap();
    let first = c.out();
    assert_eq!(first.len(), 10);
    let cwnd = c.conn.status().cwnd;
    c.wait(RTT);
    let mss = first[0].len();
    let end = |k: u32| X + 1 + mss * k;
    c.input(
        seg(Y + 1)
            .ack(X + 1)
            .sack(&[(end(1), end(4))])
            .ts(100, first[0].tsval()),
    );
    let re = c.out1();
    assert_eq!(re.reason, SendReason::FastRetransmit);
    assert!(re.tsval() > first[0].tsval());
    assert!(c.conn.status().cwnd < cwnd);
    // The original fills the hole: the ACK echoes the original's TSval,
    // older than the retransmission's (RFC 3522 §2): spurious.
    c.wait(Duration::from_millis(5));
    c.input(seg(Y + 1).ack(end(10)).ts(101, first[0].tsval()));
    let st = c.conn.status();
    assert_eq!(st.stats.spurious_undos, 1);
    assert_eq!(st.ssthresh, u32::MAX);
    // Restored, then grown by this ACK in slow start.
    assert!(st.cwnd >= cwnd);
    assert_eq!(st.ca_state, CaState::Open);
}

/// Ten segments sent, 30 000 bytes queued, no TLP (so that the timeout
/// comes); nothing comes back until the RTO has fired and segment 0 was
/// resent with cwnd = 1 segment.
fn after_timeout() -> (Tcb, u32) {
    let mut c = Tcb::open_sack(
        Config {
            tlp: false,
            ..sack_plain()
        },
        RTT,
    );
    c.conn.send(&[7; 30_000]).unwrap();
    assert_eq!(c.out().len(), 10);
    let cwnd = c.conn.status().cwnd;
    c.fire();
    assert_eq!(which(&c.out()), [(0, SendReason::Retransmission)]);
    let st = c.conn.status();
    assert_eq!((st.ca_state, st.cwnd), (CaState::Loss, MSS));
    (c, cwnd)
}

#[test]
fn frto_an_ack_for_originals_shows_the_timeout_spurious() {
    let (mut c, cwnd) = after_timeout();
    // The delayed ACKs arrive: they acknowledge segments 1..4, which were
    // never resent (RFC 5682 §3).
    c.input(seg(Y + 1).ack(at(5)));
    let st = c.conn.status();
    assert_eq!(st.stats.spurious_undos, 1);
    assert_eq!(st.ca_state, CaState::Open);
    assert_eq!(st.ssthresh, u32::MAX);
    assert!(st.cwnd >= cwnd);
    // Segments 5..9 are not resent: new data goes.
    let out = which(&c.out());
    assert!(!out.is_empty());
    assert!(
        out.iter().all(|&(k, r)| k >= 10 && r == SendReason::Data),
        "{out:?}"
    );
}

#[test]
fn frto_sends_new_data_then_decides_spurious() {
    let (mut c, cwnd) = after_timeout();
    // The first ACK covers only the resent segment 0: step 2.b, send two
    // new segments instead of resending segment 1.
    c.input(seg(Y + 1).ack(at(1)));
    assert_eq!(
        which(&c.out()),
        [(10, SendReason::Data), (11, SendReason::Data)]
    );
    // The next ACK acknowledges originals: the timeout was spurious.
    c.input(seg(Y + 1).ack(at(6)));
    let st = c.conn.status();
    assert_eq!(st.stats.spurious_undos, 1);
    assert!(st.cwnd >= cwnd);
    assert!(which(&c.out()).iter().all(|&(_, r)| r == SendReason::Data));
}

#[test]
fn frto_a_real_loss_goes_on_resending() {
    let (mut c, _) = after_timeout();
    c.input(seg(Y + 1).ack(at(1)));
    assert_eq!(which(&c.out()).len(), 2);
    // The next ACK only SACKs the new data: segment 1 and the rest really
    // were lost. Conventional recovery: resend them, in order.
    c.input(ack_sack(at(1), &[(10, 11)]));
    let out = which(&c.out());
    assert_eq!(out[0], (1, SendReason::Retransmission));
    let st = c.conn.status();
    assert_eq!(st.stats.spurious_undos, 0);
    assert_eq!(st.ca_state, CaState::Loss);
}
