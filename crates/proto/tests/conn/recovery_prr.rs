//! Proportional Rate Reduction (RFC 6937) in fast recovery: the
//! reduction of the window is spread over the recovery round trip — one
//! segment sent per two delivered for a halving — instead of a pause then
//! a burst; after heavy losses the slow-start reduction bound refills the
//! pipe no faster than slow start.

use std::time::Duration;

use proto::conn::congestion::Algorithm;
use proto::conn::{CaState, Config, SendReason};

use crate::harness::*;

const MSS: u32 = 1460;
const RTT: Duration = Duration::from_millis(100);

fn at(k: u32) -> u32 {
    X + 1 + MSS * k
}

/// NewReno (ssthresh = half the flight, RFC 6937's example), SACK, 20
/// segments in flight: the initial window acknowledged segment by
/// segment grew cwnd to 20 segments (slow start) and sent segments
/// 10..29.
fn twenty_in_flight() -> Tcb {
    let mut c = Tcb::open_sack(
        Config {
            congestion: Algorithm::NewReno,
            send_buffer: 256 * 1024,
            ..sack_plain()
        },
        RTT,
    );
    c.conn.send(&[7; 100_000]).unwrap();
    assert_eq!(c.out().len(), 10);
    c.wait(RTT);
    for k in 1..=10 {
        c.input(seg(Y + 1).ack(at(k)));
        assert_eq!(c.out().len(), 2);
    }
    let st = c.conn.status();
    assert_eq!((st.cwnd, st.bytes_in_flight), (20 * MSS, 20 * MSS));
    c.wait(RTT);
    c
}

/// What one ACK made the sender send: (retransmissions, new segments).
fn count(segs: &[Sent]) -> (usize, usize) {
    let re = segs
        .iter()
        .filter(|s| s.reason == SendReason::FastRetransmit)
        .count();
    (re, segs.len() - re)
}

#[test]
fn one_segment_per_two_delivered_during_recovery() {
    let mut c = twenty_in_flight();
    // Segment 10 is lost; 11..29 arrive, one ACK each.
    let mut pattern = Vec::new();
    for k in 11..30 {
        c.input(seg(Y + 1).ack(at(10)).sack(&[(at(11), at(k + 1))]));
        pattern.push(count(&c.out()));
    }
    // The first two SACKs: nothing deemed lost yet (RACK's window), one
    // new segment each as pipe drops (RFC 6675 §5, RFC 3042's limited
    // transmit; SACKs alone do not grow cwnd). The third marks segment 10
    // lost: recovery, ssthresh = half of the flight (22 segments
    // outstanding, at most cwnd = 20: recovery.rs), and PRR sends the
    // retransmission at once; then one new segment for every two
    // delivered (ssthresh / RecoverFS = 1/2, RFC 6937 §3), never a burst;
    // once pipe is down to ssthresh, one for one.
    assert_eq!(
        pattern,
        [
            (0, 1),
            (0, 1),
            (1, 0),
            (0, 0),
            (0, 0),
            (0, 1),
            (0, 0),
            (0, 1),
            (0, 0),
            (0, 1),
            (0, 0),
            (0, 1),
            (0, 0),
            (0, 1),
            (0, 0),
            (0, 1),
            (0, 0),
            (0, 0),
            (0, 1),
        ]
    );
    let st = c.conn.status();
    assert_eq!(st.ssthresh, 10 * MSS);
    assert_eq!(st.bytes_in_flight, 10 * MSS, "pipe = ssthresh");
    assert_eq!(st.ca_state, CaState::Recovery);
    // Recovery ends when an ACK covers the recovery point (SND.MAX when it
    // began, after the two limited-transmit segments), with cwnd =
    // ssthresh (RFC 6937 §3.1): here the retransmission and everything
    // sent since arrived.
    let max = st.snd_nxt.0;
    c.wait(RTT);
    c.input(seg(Y + 1).ack(max));
    let st = c.conn.status();
    assert_eq!(st.ca_state, CaState::Open);
    assert_eq!(st.cwnd, 10 * MSS);
    assert_eq!(max.wrapping_sub(at(30)), 9 * MSS, "new data sent");
    assert_eq!(st.stats.retransmits, 1);
}

#[test]
fn heavy_loss_refills_no_faster_than_slow_start() {
    let mut c = twenty_in_flight();
    // Segments 10..21 are lost (12 of 20); 22..29 arrive, one ACK each.
    let mut per_ack = Vec::new();
    for k in 22..30 {
        c.input(seg(Y + 1).ack(at(10)).sack(&[(at(22), at(k + 1))]));
        per_ack.push(count(&c.out()));
    }
    // pipe falls below ssthresh: the slow-start reduction bound (PRR-SSRB)
    // sends at most two segments per segment delivered, like slow start.
    assert!(per_ack.iter().all(|&(r, n)| r + n <= 2), "{per_ack:?}");
    let sent: usize = per_ack.iter().map(|&(r, n)| r + n).sum();
    assert!(sent <= 2 * 8, "{per_ack:?}");
    let st = c.conn.status();
    assert!(st.bytes_in_flight <= st.ssthresh);
}
