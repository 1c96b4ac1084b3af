//! SACK-based loss recovery on the sender (RFC 2018, RFC 6675): the
//! scoreboard takes only sane blocks, the holes — and only the holes —
//! are resent, lowest first, and a timeout resends what the receiver does
//! not hold.

use std::time::Duration;

use proto::conn::{CaState, SendReason};

use crate::harness::*;

const MSS: u32 = 1460;
const RTT: Duration = Duration::from_millis(100);

/// Where segment `k` (0-based) of the first flight starts.
fn at(k: u32) -> u32 {
    X + 1 + MSS * k
}

/// An ACK from the peer for `n`, with SACK blocks given in segments
/// `[from, to)`.
fn ack_sack(n: u32, blocks: &[(u32, u32)]) -> Seg {
    let b: Vec<_> = blocks.iter().map(|&(s, e)| (at(s), at(e))).collect();
    seg(Y + 1).ack(n).sack(&b)
}

/// Established with SACK, `bytes` queued and the initial window (ten
/// segments) sent, one RTT after the handshake began.
fn flight(bytes: usize) -> Tcb {
    let mut c = Tcb::open_sack(sack_plain(), RTT);
    c.conn.send(&vec![7; bytes]).unwrap();
    let segs = c.out();
    assert_eq!(segs.len(), 10);
    c
}

/// (segment index, reason) of each segment sent, relative to the first
/// flight.
fn which(segs: &[Sent]) -> Vec<(u32, SendReason)> {
    segs.iter()
        .map(|s| ((s.seq - (X + 1)) / MSS, s.reason))
        .collect()
}

#[test]
fn the_holes_are_resent_lowest_first_and_nothing_else() {
    // Segments 2 and 5 of ten are lost; the receiver reports what it has
    // as each segment arrives.
    let mut c = flight(60_000);
    c.wait(RTT);
    let mut sent = Vec::new();
    let mut flight_at_loss = 0;
    c.input(ack_sack(at(1), &[]));
    sent.extend(c.out());
    c.input(ack_sack(at(2), &[]));
    sent.extend(c.out());
    for (k, blocks) in [
        (3, vec![(3, 4)]),
        (4, vec![(3, 5)]),
        (6, vec![(6, 7), (3, 5)]),
        (7, vec![(6, 8), (3, 5)]),
        (8, vec![(6, 9), (3, 5)]),
        (9, vec![(6, 10), (3, 5)]),
    ] {
        if k == 6 {
            let st = c.conn.status();
            flight_at_loss = (st.snd_nxt.0 - st.snd_una.0).min(st.cwnd);
        }
        c.input(ack_sack(at(2), &blocks));
        let out = c.out();
        if k < 6 {
            // Fewer than DupThresh segments SACKed and no reordering seen:
            // RACK waits a quarter of min_RTT (RFC 8985 §6.2).
            assert!(
                out.iter().all(|s| s.reason == SendReason::Data),
                "{k}: {out:?}"
            );
        }
        sent.extend(out);
    }
    let resent: Vec<_> = which(&sent)
        .into_iter()
        .filter(|(_, r)| *r != SendReason::Data)
        .collect();
    // RFC 6675 §5: the holes, in sequence order, each once; never the
    // SACKed segments between them.
    assert_eq!(
        resent,
        [
            (2, SendReason::FastRetransmit),
            (5, SendReason::FastRetransmit)
        ]
    );
    let st = c.conn.status();
    assert_eq!(st.ca_state, CaState::Recovery);
    assert_eq!(st.stats.retransmits, 2);
    assert_eq!(st.stats.recoveries, 1);
    // The retransmissions arrive: everything up to SND.MAX is
    // acknowledged; recovery ends with cwnd at ssthresh (RFC 6937).
    c.wait(RTT);
    let max = st.snd_nxt.0;
    c.input(seg(Y + 1).ack(max));
    let st = c.conn.status();
    assert_eq!(st.ca_state, CaState::Open);
    assert_eq!(st.cwnd, st.ssthresh);
    // CUBIC's β (RFC 9438 §4.6): ssthresh = 0.7 × the flight when the
    // loss was detected (FlightSize, at most cwnd: recovery.rs).
    assert_eq!(st.ssthresh, flight_at_loss * 7 / 10);
}

#[test]
fn the_scoreboard_shows_in_the_status() {
    let mut c = flight(14_600);
    c.wait(RTT);
    // Segment 0 lost, 1..4 SACKed.
    c.input(ack_sack(X + 1, &[(1, 2)]));
    let st = c.conn.status();
    assert_eq!((st.sacked_bytes, st.lost_bytes), (MSS, 0));
    assert_eq!(st.ca_state, CaState::Disorder);
    assert_eq!(st.bytes_in_flight, 9 * MSS);
    c.input(ack_sack(X + 1, &[(1, 4)]));
    // Three SACKed: segment 0 is deemed lost and resent.
    assert_eq!(which(&c.out()), [(0, SendReason::FastRetransmit)]);
    let st = c.conn.status();
    assert_eq!(
        (st.sacked_bytes, st.lost_bytes, st.retrans_bytes),
        (3 * MSS, MSS, MSS)
    );
    // RFC 6675 pipe: 10 outstanding − 3 SACKed − 1 lost + 1 resent.
    assert_eq!(st.bytes_in_flight, 7 * MSS);
    assert_eq!(st.ca_state, CaState::Recovery);
}

#[test]
fn a_timeout_resends_only_what_the_receiver_does_not_hold() {
    let mut c = flight(14_600);
    c.wait(RTT);
    // Segment 0 lost; everything else SACKed in one ACK.
    c.input(ack_sack(X + 1, &[(1, 10)]));
    assert_eq!(which(&c.out()), [(0, SendReason::FastRetransmit)]);
    // The retransmission is lost too; nothing comes back: the timer.
    let t = c.fire();
    assert!(t >= c.now);
    let out = c.out();
    // RFC 6675 §5.1: SACKed data is not sent again; only segment 0.
    assert_eq!(which(&out), [(0, SendReason::Retransmission)]);
    let st = c.conn.status();
    assert_eq!(st.ca_state, CaState::Loss);
    assert_eq!(st.cwnd, MSS);
    assert_eq!(st.stats.rto_retransmits, 1);
    // Lost again: the next timeout, backed off, resends it again.
    c.fire();
    assert_eq!(which(&c.out()), [(0, SendReason::Retransmission)]);
    c.input(seg(Y + 1).ack(at(10)));
    assert_eq!(c.conn.status().ca_state, CaState::Open);
    assert_eq!(c.conn.send_queue(), 0);
}

#[test]
fn nonsense_sack_blocks_are_ignored() {
    let mut c = flight(14_600);
    c.wait(RTT);
    let max = at(10);
    for blocks in [
        // Beyond SND.MAX.
        vec![(max, max + 1460)],
        // Inverted, empty.
        vec![(at(5), at(4)), (at(3), at(3))],
        // Wholly below SND.UNA and not first: old news, not a D-SACK.
        vec![(at(5), at(6)), (X.wrapping_sub(5000), X.wrapping_sub(4000))],
        // Half the sequence space away.
        vec![(at(1).wrapping_add(1 << 31), at(2).wrapping_add(1 << 31))],
        // Every byte of the space in one block.
        vec![(at(3), at(3).wrapping_sub(1))],
    ] {
        c.input(seg(Y + 1).ack(X + 1).sack(&blocks));
    }
    let st = c.conn.status();
    // Only the one sane block (segment 5) counts.
    assert_eq!(st.sacked_bytes, MSS);
    assert_eq!(st.stats.retransmits, 0);
    assert!(c
        .out()
        .iter()
        .all(|s| s.reason != SendReason::FastRetransmit));
}

#[test]
fn a_block_straddling_snd_una_counts_from_snd_una() {
    let mut c = flight(14_600);
    c.wait(RTT);
    // The second block begins below SND.UNA (the first would read as a
    // D-SACK, RFC 2883 §4): it counts from SND.UNA, segments 2..5.
    c.input(ack_sack(at(2), &[(6, 7), (1, 5)]));
    let st = c.conn.status();
    assert_eq!(st.sacked_bytes, 4 * MSS);
    assert_eq!(st.snd_una.0, at(2));
}

#[test]
fn a_flood_of_tiny_blocks_is_bounded() {
    // A hostile receiver SACKs one byte in every hundred: the scoreboard
    // holds a bounded number of ranges and nothing panics.
    let mut c = flight(14_600);
    c.wait(RTT);
    for k in 0..2000u32 {
        let s = at(1) + (k * 7) % (9 * MSS);
        c.input(seg(Y + 1).ack(X + 1).sack(&[(s, s + 1)]));
        c.out();
    }
    let st = c.conn.status();
    assert!(st.sacked_bytes <= 9 * MSS);
    // The real data still gets through.
    c.input(seg(Y + 1).ack(at(10)));
    assert_eq!(c.conn.send_queue(), 0);
    assert_eq!(c.conn.status().sacked_bytes, 0);
}

#[test]
fn without_sack_the_first_hole_is_resent_on_three_duplicate_acks() {
    // The classic recovery (RFC 5681 §3.2) when the peer did not agree to
    // SACK: blocks it might send anyway are ignored.
    let mut c = Tcb::open(
        proto::conn::Config {
            nodelay: true,
            ..plain()
        },
        X,
        RTT,
        |_| seg(Y).syn().ack(X + 1).mss(1460),
    );
    c.conn.send(&[7; 14_600]).unwrap();
    assert_eq!(c.out().len(), 10);
    for _ in 0..3 {
        c.input(ack_sack(X + 1, &[(1, 9)]));
    }
    assert_eq!(which(&c.out()), [(0, SendReason::FastRetransmit)]);
    assert_eq!(c.conn.status().sacked_bytes, 0);
}
