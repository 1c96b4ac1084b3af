//! RACK (RFC 8985 §6): losses are detected by time — a segment is lost
//! once a later-sent one was delivered and an RTT plus the reordering
//! window has passed — so a lost retransmission is found without a
//! timeout, and reordering within the window causes no retransmission.

use std::time::Duration;

use proto::conn::{CaState, SendReason};

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

/// SACK agreed, min_RTT = SRTT = 100 ms (from the handshake), `bytes`
/// queued and ten segments sent at once.
fn flight(bytes: usize) -> Tcb {
    let mut c = Tcb::open_sack(sack_plain(), RTT);
    c.conn.send(&vec![7; bytes]).unwrap();
    assert_eq!(c.out().len(), 10);
    c
}

#[test]
fn a_hole_is_resent_a_quarter_rtt_after_it_was_due() {
    let mut c = flight(14_600);
    // Segment 0 is missing; segment 1 is SACKed one RTT after both left.
    c.wait(RTT);
    c.input(ack_sack(X + 1, &[(1, 2)]));
    c.none();
    // Segment 0 is lost at its send time + RACK.rtt (100 ms) + the
    // reordering window, min_RTT / 4 = 25 ms (RFC 8985 §6.2): the
    // reordering timer is 25 ms away, before the PTO and the RTO.
    c.input(ack_sack(X + 1, &[(1, 3)]));
    c.none();
    assert_eq!(c.next_in(), Some(Duration::from_millis(25)));
    c.advance(Duration::from_millis(24));
    c.none();
    c.advance(Duration::from_millis(1));
    assert_eq!(which(&c.out()), [(0, SendReason::FastRetransmit)]);
    let st = c.conn.status();
    assert_eq!(st.stats.rack_retransmits, 1);
    assert_eq!(st.stats.fast_retransmits, 0);
    assert_eq!(st.ca_state, CaState::Recovery);
}

#[test]
fn three_sacked_segments_mark_the_hole_at_once() {
    // Before any reordering is seen, RACK's window is zero once DupThresh
    // segments are SACKed: as fast as three duplicate ACKs.
    let mut c = flight(14_600);
    c.wait(RTT);
    c.input(ack_sack(X + 1, &[(1, 2)]));
    c.input(ack_sack(X + 1, &[(1, 3)]));
    c.none();
    c.input(ack_sack(X + 1, &[(1, 4)]));
    assert_eq!(which(&c.out()), [(0, SendReason::FastRetransmit)]);
}

#[test]
fn only_segments_sent_before_the_delivered_one_can_be_lost() {
    let mut c = flight(14_600);
    c.wait(RTT);
    // Segment 5 is SACKed: 0..4 were sent before it (same instant, lower
    // sequence), 6..9 after. Four more SACKs make the window zero.
    c.input(ack_sack(X + 1, &[(5, 6)]));
    c.input(ack_sack(X + 1, &[(5, 8)]));
    c.input(ack_sack(X + 1, &[(5, 9)]));
    let st = c.conn.status();
    // 0..4 deemed lost; 9 is not (sent after the newest delivered).
    assert_eq!(st.lost_bytes, 5 * MSS);
    let out = which(&c.out());
    assert_eq!(out[0], (0, SendReason::FastRetransmit));
    assert!(out.iter().all(|&(k, _)| k < 5), "{out:?}");
}

#[test]
fn a_lost_retransmission_is_resent_without_a_timeout() {
    let mut c = flight(60_000);
    c.wait(RTT);
    // Segment 0 lost: three SACKs, the retransmission goes.
    c.input(ack_sack(X + 1, &[(1, 2)]));
    c.input(ack_sack(X + 1, &[(1, 3)]));
    c.input(ack_sack(X + 1, &[(1, 4)]));
    assert_eq!(which(&c.out()), [(0, SendReason::FastRetransmit)]);
    // More SACKs let new data out (PRR), sent after the retransmission.
    c.input(ack_sack(X + 1, &[(1, 5)]));
    c.input(ack_sack(X + 1, &[(1, 6)]));
    let new: Vec<_> = c.out().iter().map(|s| (s.seq - (X + 1)) / MSS).collect();
    assert!(!new.is_empty() && new.iter().all(|&k| k >= 10), "{new:?}");
    // The retransmission is lost again. One RTT later the new data is
    // SACKed: it was sent after the retransmission, so RACK deems the
    // retransmission lost (RFC 8985 §6.2 step 5) and resends it — no RTO.
    c.wait(RTT);
    let hi = new.iter().max().unwrap() + 1;
    c.input(ack_sack(X + 1, &[(new[0], hi), (1, 10)]));
    let again = which(&c.out());
    assert_eq!(again[0], (0, SendReason::FastRetransmit));
    let st = c.conn.status();
    assert_eq!(st.stats.rack_retransmits, 2);
    assert_eq!(st.stats.timeouts, 0);
}

#[test]
fn reordering_once_seen_widens_the_window() {
    let mut c = flight(60_000);
    c.wait(RTT);
    // Segment 0 arrives after segment 1: the late one was never resent,
    // so this is reordering (RFC 8985 §6.2 step 3).
    c.input(ack_sack(X + 1, &[(1, 2)]));
    c.input(seg(Y + 1).ack(at(2)));
    assert!(c.conn.status().reordering);
    let next: Vec<_> = c.out().iter().map(|s| (s.seq - (X + 1)) / MSS).collect();
    // Segment 2 is late now; three later ones are SACKed. Without
    // reordering seen the window would be zero; now it is min_RTT / 4.
    c.input(ack_sack(at(2), &[(3, 4)]));
    c.input(ack_sack(at(2), &[(3, 5)]));
    c.input(ack_sack(at(2), &[(3, 6)]));
    assert!(c.out().iter().all(|s| s.reason == SendReason::Data));
    assert_eq!(c.next_in(), Some(Duration::from_millis(25)));
    // It arrives within the window: nothing was resent.
    c.wait(Duration::from_millis(10));
    c.input(seg(Y + 1).ack(at(6)));
    c.out();
    let st = c.conn.status();
    assert_eq!(st.stats.retransmits, 0);
    assert_eq!(st.ca_state, CaState::Open);
    assert!(!next.is_empty());
}

#[test]
fn rack_off_falls_back_to_dupthresh() {
    // RFC 6675's IsLost: more than 2·SMSS SACKed above a hole.
    let mut c = Tcb::open_sack(
        proto::conn::Config {
            rack: false,
            ..sack_plain()
        },
        RTT,
    );
    c.conn.send(&[7; 14_600]).unwrap();
    assert_eq!(c.out().len(), 10);
    c.wait(RTT);
    c.input(ack_sack(X + 1, &[(1, 3)]));
    c.none();
    assert!(
        c.next_in() > Some(Duration::from_millis(25)),
        "no RACK timer"
    );
    c.input(ack_sack(X + 1, &[(1, 4)]));
    assert_eq!(which(&c.out()), [(0, SendReason::FastRetransmit)]);
    let st = c.conn.status();
    assert_eq!(
        (st.stats.fast_retransmits, st.stats.rack_retransmits),
        (1, 0)
    );
}
