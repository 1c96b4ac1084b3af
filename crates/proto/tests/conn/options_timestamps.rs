//! Timestamps (RFC 7323 §3–§5): TSval and TSecr, RTT measurement from the
//! echo, the TS.Recent update rule and PAWS.

use std::time::Duration;

use proto::conn::{Config, SendReason};

use crate::harness::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn ts_cfg() -> Config {
    Config {
        timestamps: true,
        nodelay: true,
        min_rto: ms(10),
        ..plain()
    }
}

/// Established after a handshake of `rtt`; the peer's SYN-ACK carries
/// TSval 1000 and echoes our SYN.
fn open(cfg: Config, rtt: Duration) -> Tcb {
    Tcb::open(cfg, X, rtt, |syn| {
        seg(Y).syn().ack(X + 1).mss(1460).ts(1000, syn.tsval())
    })
}

/// A peer segment at `seq` with data and TSval `tsval`, echoing `tsecr`.
fn data(seq: u32, len: usize, tsval: u32, tsecr: u32) -> Seg {
    seg(seq)
        .ack(X + 1)
        .data(&vec![seq as u8; len])
        .ts(tsval, tsecr)
}

#[test]
fn syn_carries_tsval_and_a_zero_tsecr() {
    let mut c = Tcb::client(ts_cfg());
    let syn = c.out1();
    let ts = syn.options.timestamps.expect("timestamps offered");
    assert_eq!(ts.tsecr, 0);
    assert_ne!(ts.tsval, 0);
}

#[test]
fn tsval_ticks_in_milliseconds() {
    let mut c = open(ts_cfg(), ms(100));
    c.conn.send(b"a").unwrap();
    let a = c.out1();
    c.input(seg(Y + 1).ack(X + 2).ts(1001, a.tsval()));
    c.wait(ms(250));
    c.conn.send(b"b").unwrap();
    let b = c.out1();
    assert_eq!(b.tsval().wrapping_sub(a.tsval()), 250);
}

#[test]
fn tsval_starts_from_a_per_connection_offset() {
    // RFC 7323 §5.4: the clock of each connection has a random offset
    // (here derived from the ISS), so two connections at the same instant
    // show different TSvals.
    let a = Tcb::client_iss(ts_cfg(), 1000).out1().tsval();
    let b = Tcb::client_iss(ts_cfg(), 2_000_000).out1().tsval();
    assert_ne!(a, b);
}

#[test]
fn every_segment_echoes_ts_recent() {
    let mut c = open(ts_cfg(), ms(100));
    c.conn.send(b"x").unwrap();
    assert_eq!(c.out1().tsecr(), 1000, "the SYN-ACK's TSval");
    c.input(data(Y + 1, 10, 1005, 0));
    assert_eq!(c.out1().tsecr(), 1005);
}

#[test]
fn timestamps_are_not_sent_unless_both_syns_carry_them() {
    let mut c = Tcb::open(ts_cfg(), X, Duration::ZERO, |_| seg(Y).syn().ack(X + 1));
    assert!(!c.conn.status().timestamps);
    c.conn.send(b"x").unwrap();
    assert_eq!(c.out1().options.timestamps, None);
    // And segments without them are fine.
    c.input(seg(Y + 1).ack(X + 2).data(b"y"));
    assert_eq!(c.read_all(), b"y");
}

#[test]
fn passive_syn_ack_echoes_the_syns_tsval() {
    let mut s = Tcb::listener(ts_cfg());
    s.input(seg(Y).syn().ts(4242, 0));
    let synack = s.out1();
    assert_eq!(synack.tsecr(), 4242);
    let mut s = Tcb::listener(ts_cfg());
    s.input(seg(Y).syn());
    assert_eq!(s.out1().options.timestamps, None);
}

#[test]
fn rtt_is_measured_from_the_echo() {
    let mut c = open(ts_cfg(), ms(100));
    assert_eq!(c.conn.status().srtt, Some(ms(100)));
    c.conn.send(&[1; 100]).unwrap();
    let s = c.out1();
    c.wait(ms(60));
    c.input(seg(Y + 1).ack(X + 101).ts(1001, s.tsval()));
    // R = 60: RTTVAR = 3/4·50 + 1/4·40 = 47.5, SRTT = 7/8·100 + 1/8·60 = 95.
    let st = c.conn.status();
    assert_eq!(st.srtt, Some(ms(95)));
    assert_eq!(st.rttvar, us(47_500));
    assert_eq!(st.rto, ms(285));
}

#[test]
fn every_ack_of_new_data_gives_a_sample() {
    let mut c = open(ts_cfg(), ms(100));
    c.conn.send(&[1; 2000]).unwrap();
    let segs = c.out();
    assert_eq!(segs.len(), 2);
    c.wait(ms(100));
    c.input(seg(Y + 1).ack(X + 1449).ts(1001, segs[0].tsval()));
    c.wait(ms(40));
    // The second ACK echoes the same TSval: R = 140.
    c.input(seg(Y + 1).ack(X + 2001).ts(1002, segs[1].tsval()));
    // First: R = 100, RTTVAR = 37.5, SRTT = 100. Second: R = 140,
    // RTTVAR = 3/4·37.5 + 1/4·40 = 38.125, SRTT = 105.
    let st = c.conn.status();
    assert_eq!(st.srtt, Some(ms(105)));
    assert_eq!(st.rttvar, us(38_125));
}

#[test]
fn a_retransmission_is_timed_by_its_own_timestamp() {
    // RFC 6298 §3 / RFC 7323 §4: timestamps remove Karn's ambiguity.
    let mut c = open(ts_cfg(), ms(100));
    c.conn.send(&[1; 100]).unwrap();
    c.out1();
    c.fire();
    let again = c.out1();
    assert_eq!(again.reason, SendReason::Retransmission);
    c.wait(ms(80));
    c.input(seg(Y + 1).ack(X + 101).ts(1001, again.tsval()));
    // R = 80: RTTVAR = 3/4·50 + 1/4·20 = 42.5, SRTT = 97.5.
    let st = c.conn.status();
    assert_eq!(st.srtt, Some(us(97_500)));
    assert_eq!(st.rttvar, us(42_500));
}

#[test]
fn a_duplicate_ack_gives_no_sample() {
    let mut c = open(ts_cfg(), ms(100));
    c.conn.send(&[1; 2000]).unwrap();
    let segs = c.out();
    c.wait(ms(500));
    c.input(seg(Y + 1).ack(X + 1).ts(1001, segs[0].tsval()));
    assert_eq!(c.conn.status().srtt, Some(ms(100)));
    assert_eq!(c.conn.status().rttvar, ms(50));
}

#[test]
fn an_echo_from_the_future_is_ignored() {
    let mut c = open(ts_cfg(), ms(100));
    c.conn.send(&[1; 100]).unwrap();
    let s = c.out1();
    c.wait(ms(50));
    c.input(
        seg(Y + 1)
            .ack(X + 101)
            .ts(1001, s.tsval().wrapping_add(10_000)),
    );
    assert_eq!(c.conn.status().srtt, Some(ms(100)));
    assert_eq!(c.conn.send_queue(), 0, "the ACK itself is taken");
}

#[test]
fn ts_recent_follows_in_order_segments() {
    // RFC 7323 §4.3 (2): SEG.SEQ =< Last.ACK.sent.
    let mut c = open(ts_cfg(), ms(100));
    c.input(data(Y + 1, 10, 1100, 0));
    assert_eq!(c.out1().tsecr(), 1100);
    c.input(data(Y + 11, 10, 1200, 0));
    assert_eq!(c.out1().tsecr(), 1200);
}

#[test]
fn ts_recent_ignores_out_of_order_segments_until_the_hole_fills() {
    let mut c = open(ts_cfg(), ms(100));
    c.input(data(Y + 1, 10, 1100, 0));
    assert_eq!(c.out1().tsecr(), 1100);
    // Beyond Last.ACK.sent: its TSval is not taken.
    c.input(data(Y + 31, 10, 1300, 0));
    assert_eq!(c.out1().tsecr(), 1100);
    // The hole fill starts at Last.ACK.sent: taken (RFC 7323 §4.3 case C).
    c.input(data(Y + 11, 20, 1200, 0));
    let ack = c.out1();
    assert_eq!((ack.ack, ack.tsecr()), (Y + 41, 1200));
}

#[test]
fn with_delayed_acks_the_earliest_unacknowledged_tsval_is_echoed() {
    // RFC 7323 §4.3 case A.
    let mut c = open(
        Config {
            delayed_ack: Some(ms(40)),
            ..ts_cfg()
        },
        ms(100),
    );
    c.input(data(Y + 1, 1448, 1100, 0));
    c.none();
    c.input(data(Y + 1449, 1448, 1101, 0));
    let ack = c.out1();
    assert_eq!((ack.ack, ack.tsecr()), (Y + 2897, 1100));
    // The next segment starts at Last.ACK.sent again.
    c.input(data(Y + 2897, 100, 1102, 0));
    c.advance(ms(40));
    assert_eq!(c.out1().tsecr(), 1102);
}

#[test]
fn paws_drops_an_old_duplicate_with_an_ack() {
    // RFC 7323 §5.3 R1: a TSval older than TS.Recent is dropped, and
    // acknowledged.
    let mut c = open(ts_cfg(), ms(100));
    c.input(data(Y + 1, 10, 2000, 0));
    c.out1();
    let before = c.conn.status().stats.unacceptable_in;
    // An old duplicate that would otherwise be acceptable new data.
    c.input(data(Y + 11, 10, 1999, 0));
    let ack = c.out1();
    assert_eq!(
        (ack.seq, ack.ack, ack.tsecr(), ack.reason),
        (X + 1, Y + 11, 2000, SendReason::DupAck)
    );
    assert_eq!(c.conn.recv_queue(), 10);
    assert_eq!(c.conn.status().stats.unacceptable_in, before + 1);
    // The genuine segment with a current TSval is taken.
    c.input(data(Y + 11, 10, 2000, 0));
    assert_eq!(c.out1().ack, Y + 21);
}

#[test]
fn paws_also_drops_old_pure_acks() {
    let mut c = open(ts_cfg(), ms(100));
    c.conn.send(&[1; 100]).unwrap();
    c.out1();
    c.input(seg(Y + 1).ack(X + 1).ts(999, 0));
    assert_eq!(c.out1().reason, SendReason::DupAck);
    assert_eq!(c.conn.send_queue(), 100);
    // An ACK with an old TSval does not acknowledge anything; it is not
    // answered either, a duplicate ACK having just gone out for the
    // previous one (data-less unacceptable segments are rate-limited).
    c.input(seg(Y + 1).ack(X + 101).ts(999, 0));
    c.none();
    assert_eq!(c.conn.send_queue(), 100);
    assert_eq!(c.conn.status().stats.oow_acks_skipped, 1);
}

#[test]
fn paws_compares_timestamps_modulo_2_32() {
    let mut c = Tcb::open(ts_cfg(), X, ms(100), |syn| {
        seg(Y).syn().ack(X + 1).ts(u32::MAX - 5, syn.tsval())
    });
    // The peer's clock wrapped: 3 is newer than 2^32 - 6.
    c.input(data(Y + 1, 10, 3, 0));
    let ack = c.out1();
    assert_eq!((ack.ack, ack.tsecr()), (Y + 11, 3));
    // And 2^32 - 10 is now old.
    c.input(data(Y + 11, 10, u32::MAX - 9, 0));
    assert_eq!(c.out1().reason, SendReason::DupAck);
}

#[test]
fn paws_trusts_no_ts_recent_idle_for_more_than_24_days() {
    // RFC 7323 §5.5.
    let mut c = open(ts_cfg(), ms(100));
    c.input(data(Y + 1, 10, 5000, 0));
    c.out1();
    c.wait(Duration::from_secs(25 * 24 * 3600));
    c.input(data(Y + 11, 10, 10, 0));
    let ack = c.out1();
    assert_eq!((ack.ack, ack.tsecr()), (Y + 21, 10));
}

#[test]
fn an_equal_tsval_passes_paws() {
    let mut c = open(ts_cfg(), ms(100));
    c.input(data(Y + 1, 10, 1000, 0));
    assert_eq!(c.out1().ack, Y + 11);
    c.input(data(Y + 11, 10, 1000, 0));
    assert_eq!(c.out1().ack, Y + 21);
}

#[test]
fn a_segment_without_timestamps_is_dropped_once_they_are_in_use() {
    // RFC 7323 §3.2: non-RST segments without the option may be dropped.
    let mut c = open(ts_cfg(), ms(100));
    c.input(seg(Y + 1).ack(X + 1).data(b"bare"));
    c.none();
    assert_eq!(c.conn.recv_queue(), 0);
}
