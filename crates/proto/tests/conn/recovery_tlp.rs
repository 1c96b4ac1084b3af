//! Tail loss probes (RFC 8985 §7): when the end of a flight is lost and
//! no ACK reveals it, a probe goes two SRTTs after the last activity —
//! new data if there is some, else the last segment again — instead of
//! waiting for the retransmission timeout.

use std::time::Duration;

use proto::conn::{CaState, Config, SendReason};

use crate::harness::*;

const MSS: u32 = 1460;
const RTT: Duration = Duration::from_millis(100);

fn at(k: u32) -> u32 {
    X + 1 + MSS * k
}

fn which(segs: &[Sent]) -> Vec<(u32, SendReason)> {
    segs.iter()
        .map(|s| ((s.seq - (X + 1)) / MSS, s.reason))
        .collect()
}

fn flight(cfg: Config, bytes: usize) -> Tcb {
    let mut c = Tcb::open_sack(cfg, RTT);
    c.conn.send(&vec![7; bytes]).unwrap();
    assert_eq!(c.out().len(), 10);
    c
}

#[test]
fn the_last_two_segments_lost_are_probed_after_two_srtt() {
    let mut c = flight(sack_plain(), 14_600);
    // Everything but segments 8 and 9 is acknowledged one RTT later.
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(8)));
    c.none();
    // PTO = 2 · SRTT (RFC 8985 §7.2), well before the RTO (1 s).
    assert_eq!(c.next_in(), Some(2 * RTT));
    c.advance(2 * RTT);
    // No new data: the last segment again.
    assert_eq!(which(&c.out()), [(9, SendReason::LossProbe)]);
    let st = c.conn.status();
    assert_eq!(st.stats.loss_probes, 1);
    assert_eq!(st.stats.timeouts, 0);
    // The probe's ACK SACKs segment 9: RACK finds segment 8 lost.
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(8)).sack(&[(at(9), at(10))]));
    assert_eq!(which(&c.out()), [(8, SendReason::FastRetransmit)]);
    assert_eq!(c.conn.status().ca_state, CaState::Recovery);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(10)));
    assert_eq!(c.conn.send_queue(), 0);
    assert_eq!(c.conn.status().stats.timeouts, 0);
}

#[test]
fn a_lone_segment_waits_for_a_delayed_ack_too() {
    let mut c = flight(sack_plain(), 14_600);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(9)));
    // One segment in flight: PTO = 2 · SRTT + WCDelAckT (200 ms).
    assert_eq!(c.next_in(), Some(2 * RTT + Duration::from_millis(200)));
    c.advance(2 * RTT + Duration::from_millis(200));
    assert_eq!(which(&c.out()), [(9, SendReason::LossProbe)]);
    // The probe repaired the tail: acknowledged, and the RTO never fired.
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(10)));
    let st = c.conn.status();
    assert_eq!(st.snd_una.0, at(10));
    assert_eq!(st.stats.timeouts, 0);
}

#[test]
fn the_probe_is_new_data_when_there_is_some() {
    // All ten segments lost; more data waits beyond cwnd.
    let mut c = flight(sack_plain(), 30_000);
    assert_eq!(c.next_in(), Some(2 * RTT));
    c.advance(2 * RTT);
    // New data, regardless of cwnd (RFC 8985 §7.3).
    assert_eq!(which(&c.out()), [(10, SendReason::LossProbe)]);
    assert_eq!(c.conn.status().stats.retransmits, 0);
    // Its ACK SACKs it: everything before it is deemed lost at once.
    c.wait(RTT);
    c.input(seg(Y + 1).ack(X + 1).sack(&[(at(10), at(11))]));
    let out = which(&c.out());
    assert_eq!(out[0], (0, SendReason::FastRetransmit));
    assert_eq!(c.conn.status().lost_bytes, 10 * MSS);
    // One probe per episode: none while it is unanswered.
    let mut c = flight(sack_plain(), 30_000);
    c.advance(2 * RTT);
    assert_eq!(c.out().len(), 1);
    let next = c.next_in().unwrap();
    assert!(
        next >= Duration::from_millis(900),
        "the RTO, not a PTO: {next:?}"
    );
}

#[test]
fn no_probe_without_sack_or_when_disabled() {
    let mut c = Tcb::open(
        Config {
            nodelay: true,
            ..plain()
        },
        X,
        RTT,
        |_| seg(Y).syn().ack(X + 1).mss(1460),
    );
    c.conn.send(&[7; 14_600]).unwrap();
    c.out();
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(8)));
    assert_eq!(c.next_in(), Some(Duration::from_secs(1)), "the RTO");
    let mut c = flight(
        Config {
            tlp: false,
            ..sack_plain()
        },
        14_600,
    );
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(8)));
    assert_eq!(c.next_in(), Some(Duration::from_secs(1)));
}

#[test]
fn a_probe_that_repaired_a_loss_reduces_the_window() {
    // RFC 8985 §7.4.2: the probe was a retransmission, and the ACKs go
    // beyond it with no D-SACK: a loss happened and congestion control
    // must hear of it.
    let mut c = flight(sack_plain(), 14_600);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(9)));
    c.advance(2 * RTT + Duration::from_millis(200));
    assert_eq!(which(&c.out()), [(9, SendReason::LossProbe)]);
    let before = c.conn.status();
    assert_eq!(before.ssthresh, u32::MAX);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(10)));
    // More data, and its ACK beyond the probe.
    c.conn.send(&[7; 1460]).unwrap();
    assert_eq!(which(&c.out()), [(10, SendReason::Data)]);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(11)));
    let st = c.conn.status();
    assert!(st.ssthresh < u32::MAX);
    assert!(st.cwnd <= st.ssthresh.max(before.cwnd));
}

#[test]
fn a_dsack_for_the_probe_means_nothing_was_lost() {
    let mut c = flight(sack_plain(), 14_600);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(9)));
    c.advance(2 * RTT + Duration::from_millis(200));
    c.out();
    // The original arrived after all; the probe is reported twice.
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(10)));
    c.input(seg(Y + 1).ack(at(10)).sack(&[(at(9), at(10))]));
    c.conn.send(&[7; 1460]).unwrap();
    c.out();
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(11)));
    let st = c.conn.status();
    assert_eq!(st.ssthresh, u32::MAX, "no reduction");
    assert_eq!(st.stats.dsacks_in, 1);
}

#[test]
fn the_lone_segment_allowance_is_configurable() {
    // A peer known to acknowledge within 40 ms (synack's own delayed-ACK
    // timer): the lone segment's probe needs only that much extra.
    let cfg = Config {
        tlp_delayed_ack_allowance: Duration::from_millis(40),
        ..sack_plain()
    };
    let mut c = flight(cfg, 14_600);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(9)));
    assert_eq!(c.next_in(), Some(2 * RTT + Duration::from_millis(40)));
    c.advance(2 * RTT + Duration::from_millis(40));
    assert_eq!(which(&c.out()), [(9, SendReason::LossProbe)]);
    // More than one segment in flight: no allowance at all, as before.
    let mut c = flight(cfg, 14_600);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(at(8)));
    assert_eq!(c.next_in(), Some(2 * RTT));
}
