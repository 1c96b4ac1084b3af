//! Retransmission: cumulative ACKs, the RTO of RFC 6298 with exact
//! numbers, exponential backoff, Karn's rule, FIN retransmission and the
//! give-up thresholds (RFC 1122 §4.2.3.5).

use std::time::Duration;

use proto::conn::{CloseReason, Config, Error, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

const ACK: TcpFlags = TcpFlags::ACK;
const PSH: TcpFlags = TcpFlags::PSH;
const FIN: TcpFlags = TcpFlags::FIN;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// No options, Nagle off, MSS 1000, and the given minimum RTO.
fn cfg(min_rto: Duration) -> Config {
    Config {
        nodelay: true,
        min_rto,
        ..plain()
    }
}

/// Established after a handshake that took `rtt` (one RTT sample).
fn open(cfg: Config, rtt: Duration) -> Tcb {
    Tcb::open(cfg, X, rtt, |_| seg(Y).syn().ack(X + 1).mss(1000))
}

#[test]
fn handshake_gives_the_first_rtt_sample() {
    // RFC 6298 §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR.
    let c = open(cfg(ms(10)), ms(100));
    let st = c.conn.status();
    assert_eq!(st.srtt, Some(ms(100)));
    assert_eq!(st.rttvar, ms(50));
    assert_eq!(st.rto, ms(300));
}

#[test]
fn rto_follows_rfc6298_sample_by_sample() {
    let mut c = open(cfg(ms(10)), ms(100));
    // R = 120: RTTVAR = 3/4·50 + 1/4·20 = 42.5, SRTT = 7/8·100 + 1/8·120
    // = 102.5, RTO = 102.5 + 4·42.5 = 272.5 ms (§2.3).
    c.conn.send(&[1; 100]).unwrap();
    assert_eq!(c.out1().seq, X + 1);
    assert_eq!(c.next_in(), Some(ms(300)));
    c.wait(ms(120));
    c.input(seg(Y + 1).ack(X + 101));
    let st = c.conn.status();
    assert_eq!(st.rttvar, us(42_500));
    assert_eq!(st.srtt, Some(us(102_500)));
    assert_eq!(st.rto, us(272_500));
    assert_eq!(
        c.next_in(),
        None,
        "all acknowledged: the timer stops (§5.2)"
    );
    // R = 80: RTTVAR = 37.5, SRTT = 99.6875, RTO = 249.6875 ms.
    c.conn.send(&[1; 100]).unwrap();
    c.out1();
    assert_eq!(
        c.next_in(),
        Some(us(272_500)),
        "§5.1: the timer runs for RTO"
    );
    c.wait(ms(80));
    c.input(seg(Y + 1).ack(X + 201));
    let st = c.conn.status();
    assert_eq!(st.rttvar, us(37_500));
    assert_eq!(st.srtt, Some(Duration::from_nanos(99_687_500)));
    assert_eq!(st.rto, Duration::from_nanos(249_687_500));
}

#[test]
fn min_rto_defaults_to_one_second() {
    // RFC 6298 §2.4: the RTO is rounded up to 1 s.
    let mut c = open(plain(), ms(100));
    assert_eq!(c.conn.status().rto, secs(1));
    c.conn.set_nodelay(true);
    c.conn.send(&[1; 10]).unwrap();
    c.out1();
    assert_eq!(c.next_in(), Some(secs(1)));
}

#[test]
fn min_rto_is_configurable() {
    let mut c = open(cfg(ms(200)), ms(10));
    // 10 + 4·5 = 30 ms, rounded up to the configured 200 ms.
    assert_eq!(c.conn.status().rto, ms(200));
    c.conn.send(&[1; 10]).unwrap();
    c.out1();
    assert_eq!(c.next_in(), Some(ms(200)));
    let t = c.fire();
    assert_eq!(t, T0 + ms(10) + ms(200));
    assert_eq!(c.out1().reason, SendReason::Retransmission);
}

#[test]
fn lost_segment_is_resent_after_the_rto_with_exponential_backoff() {
    let mut c = open(cfg(secs(1)), ms(100));
    let start = c.now;
    c.conn.send(b"hello").unwrap();
    let first = c.out1();
    assert_eq!(first.reason, SendReason::Data);
    let mut times = Vec::new();
    for _ in 0..4 {
        let t = c.fire();
        times.push(t - start);
        let again = c.out1();
        assert_eq!(
            (again.seq, again.flags, again.data.as_slice()),
            (X + 1, ACK | PSH, &b"hello"[..])
        );
        assert_eq!(again.reason, SendReason::Retransmission);
    }
    // RFC 6298 §5.5: 1 s, then doubling: 1, 3, 7, 15.
    assert_eq!(times, [secs(1), secs(3), secs(7), secs(15)]);
    let st = c.conn.status();
    assert_eq!(st.rto, secs(16));
    assert_eq!(st.stats.timeouts, 4);
    assert_eq!(st.stats.rto_retransmits, 4);
}

#[test]
fn backoff_is_capped_at_max_rto() {
    let mut c = open(
        Config {
            max_rto: secs(4),
            ..cfg(secs(1))
        },
        ms(100),
    );
    c.conn.send(b"x").unwrap();
    c.out1();
    let mut last = c.now;
    let mut gaps = Vec::new();
    for _ in 0..5 {
        let t = c.fire();
        gaps.push(t - last);
        last = t;
        c.out1();
    }
    assert_eq!(gaps, [secs(1), secs(2), secs(4), secs(4), secs(4)]);
}

#[test]
fn ack_after_a_timeout_clears_the_backoff() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(b"a").unwrap();
    c.out1();
    c.fire();
    c.out1();
    c.fire();
    c.out1();
    assert_eq!(c.conn.status().rto, secs(4));
    c.input(seg(Y + 1).ack(X + 2));
    assert_eq!(c.conn.status().rto, secs(1));
    c.conn.send(b"b").unwrap();
    c.out1();
    assert_eq!(c.next_in(), Some(secs(1)));
}

#[test]
fn karn_no_sample_from_retransmission() {
    // RFC 6298 §3: the ACK of a retransmitted segment is ambiguous.
    let mut c = open(cfg(ms(10)), ms(100));
    let sent = c.now;
    c.conn.send(&[1; 100]).unwrap();
    c.out1();
    let t = c.fire();
    assert_eq!(t - sent, ms(300));
    assert_eq!(c.out1().reason, SendReason::Retransmission);
    c.wait(ms(50));
    c.input(seg(Y + 1).ack(X + 101));
    let st = c.conn.status();
    assert_eq!(st.srtt, Some(ms(100)), "no sample taken");
    assert_eq!(st.rttvar, ms(50));
    assert_eq!(st.rto, ms(300));
    // The next fresh segment is timed: R = 40 ms.
    // RTTVAR = 3/4·50 + 1/4·60 = 52.5, SRTT = 7/8·100 + 1/8·40 = 92.5.
    c.conn.send(&[1; 100]).unwrap();
    c.out1();
    c.wait(ms(40));
    c.input(seg(Y + 1).ack(X + 201));
    let st = c.conn.status();
    assert_eq!(st.srtt, Some(us(92_500)));
    assert_eq!(st.rttvar, us(52_500));
}

#[test]
fn karn_no_sample_from_a_fast_retransmission() {
    let mut c = open(cfg(ms(10)), ms(100));
    c.conn.send(&[1; 5000]).unwrap();
    assert_eq!(c.out().len(), 5);
    // Three duplicate ACKs: the first segment is resent.
    for _ in 0..3 {
        c.input(seg(Y + 1).ack(X + 1));
    }
    let fr = c.out1();
    assert_eq!((fr.seq, fr.reason), (X + 1, SendReason::FastRetransmit));
    c.wait(ms(500));
    c.input(seg(Y + 1).ack(X + 5001));
    assert_eq!(c.conn.status().srtt, Some(ms(100)));
}

#[test]
fn only_one_segment_is_timed_at_a_time() {
    // Without timestamps, the first segment is timed; the ACK of the second
    // brings no second sample.
    let mut c = open(cfg(ms(10)), ms(100));
    c.conn.send(&[1; 1000]).unwrap();
    c.out1();
    c.wait(ms(10));
    c.conn.send(&[1; 1000]).unwrap();
    c.out1();
    c.wait(ms(190));
    // R = 200 for the first: RTTVAR = 3/4·50 + 1/4·100 = 62.5,
    // SRTT = 7/8·100 + 1/8·200 = 112.5.
    c.input(seg(Y + 1).ack(X + 1001));
    assert_eq!(c.conn.status().srtt, Some(us(112_500)));
    c.wait(ms(20));
    c.input(seg(Y + 1).ack(X + 2001));
    assert_eq!(c.conn.status().srtt, Some(us(112_500)));
    assert_eq!(c.conn.status().rttvar, us(62_500));
}

#[test]
fn cumulative_ack_frees_data_and_restarts_the_timer() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(&[1; 3000]).unwrap();
    assert_eq!(c.out().len(), 3);
    assert_eq!(c.conn.send_queue(), 3000);
    c.wait(ms(300));
    // One ACK covers two segments.
    c.input(seg(Y + 1).ack(X + 2001));
    let st = c.conn.status();
    assert_eq!(st.snd_una.0, X + 2001);
    assert_eq!(st.bytes_in_flight, 1000);
    assert_eq!(c.conn.send_queue(), 1000);
    // RFC 6298 §5.3: restarted, to expire RTO after this ACK.
    assert_eq!(c.next_in(), Some(secs(1)));
    c.input(seg(Y + 1).ack(X + 3001));
    assert_eq!(c.conn.send_queue(), 0);
    assert_eq!(c.next_in(), None);
}

#[test]
fn an_ack_inside_a_segment_leaves_only_the_rest_to_resend() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(&[7; 1000]).unwrap();
    c.out1();
    c.input(seg(Y + 1).ack(X + 401));
    assert_eq!(c.conn.send_queue(), 600);
    c.fire();
    let again = c.out1();
    assert_eq!((again.seq, again.len()), (X + 401, 600));
}

#[test]
fn an_old_ack_changes_nothing() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(&[7; 2000]).unwrap();
    c.out();
    c.input(seg(Y + 1).ack(X + 1001));
    let before = c.conn.status();
    // An ACK below SND.UNA (but within MAX.SND.WND, RFC 5961 §5.2).
    c.input(seg(Y + 1).ack(X + 501));
    c.none();
    let after = c.conn.status();
    assert_eq!(after.snd_una, before.snd_una);
    assert_eq!(c.conn.send_queue(), 1000);
}

#[test]
fn timeout_goes_back_to_snd_una_and_resends_one_segment() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(&[1; 5000]).unwrap();
    assert_eq!(c.out().len(), 5);
    c.input(seg(Y + 1).ack(X + 1001));
    c.fire();
    // cwnd is one segment after the RTO (RFC 5681 §3.1): only the oldest.
    let segs = c.out();
    assert_eq!(segs.len(), 1);
    assert_eq!((segs[0].seq, segs[0].len()), (X + 1001, 1000));
    assert_eq!(c.conn.status().cwnd, 1000);
    // Its ACK lets two more go (slow start), resent from SND.NXT on.
    c.input(seg(Y + 1).ack(X + 2001));
    let segs = c.out();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.reason)).collect::<Vec<_>>(),
        [
            (X + 2001, SendReason::Retransmission),
            (X + 3001, SendReason::Retransmission)
        ]
    );
}

#[test]
fn an_ack_for_data_sent_before_the_timeout_moves_snd_nxt_forward() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(&[1; 3000]).unwrap();
    c.out();
    c.fire();
    c.out1();
    // The original segments were only late: everything is acknowledged.
    c.input(seg(Y + 1).ack(X + 3001));
    let st = c.conn.status();
    assert_eq!(st.snd_nxt.0, X + 3001);
    assert_eq!(st.bytes_in_flight, 0);
    c.none();
}

#[test]
fn lost_fin_is_retransmitted_with_backoff() {
    let mut c = open(cfg(secs(1)), ms(100));
    let start = c.now;
    c.conn.close(c.now);
    let fin = c.out1();
    assert_eq!(
        (fin.flags, fin.seq, fin.reason),
        (FIN | ACK, X + 1, SendReason::Fin)
    );
    let t = c.fire();
    assert_eq!(t - start, secs(1));
    let again = c.out1();
    assert_eq!(
        (again.flags, again.seq, again.reason),
        (FIN | ACK, X + 1, SendReason::Retransmission)
    );
    let t = c.fire();
    assert_eq!(t - start, secs(3));
    assert_eq!(c.out1().seq, X + 1);
    c.input(seg(Y + 1).ack(X + 2));
    assert_eq!(c.state(), State::FinWait2);
    assert_eq!(c.next_in(), Some(secs(60)), "only the FIN-WAIT-2 timer");
}

#[test]
fn fin_with_data_is_resent_together() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(b"bye").unwrap();
    c.conn.shutdown(c.now).unwrap();
    let s = c.out1();
    assert_eq!((s.flags, s.len()), (ACK | PSH | FIN, 3));
    c.fire();
    let again = c.out1();
    assert_eq!(
        (again.flags, again.seq, again.data.as_slice()),
        (ACK | PSH | FIN, X + 1, &b"bye"[..])
    );
    // Only the data acknowledged: the FIN alone goes next time.
    c.input(seg(Y + 1).ack(X + 4));
    c.fire();
    let fin = c.out1();
    assert_eq!((fin.flags, fin.seq, fin.len()), (ACK | FIN, X + 4, 0));
}

#[test]
fn fin_is_retransmitted_in_last_ack() {
    let mut s = Tcb::established_passive(Config {
        min_rto: secs(1),
        ..plain()
    });
    s.input(seg(Y + 1).fin().ack(X + 1));
    s.out1();
    s.conn.close(s.now);
    let fin = s.out1();
    assert_eq!(s.state(), State::LastAck);
    s.fire();
    let again = s.out1();
    assert_eq!(
        (again.flags, again.seq, again.ack),
        (FIN | ACK, fin.seq, Y + 2)
    );
    assert_eq!(again.reason, SendReason::Retransmission);
    s.input(seg(Y + 2).ack(fin.seq + 1));
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn fin_is_retransmitted_in_closing() {
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.close(c.now);
    let fin = c.out1();
    c.input(seg(Y + 1).fin().ack(X + 1));
    assert_eq!(c.state(), State::Closing);
    c.out1();
    c.fire();
    let again = c.out1();
    assert_eq!(
        (again.flags, again.seq, again.ack),
        (FIN | ACK, fin.seq, Y + 2)
    );
}

#[test]
fn gives_up_after_max_retransmissions() {
    let mut c = open(
        Config {
            max_retransmissions: 3,
            ..cfg(secs(1))
        },
        ms(100),
    );
    let start = c.now;
    c.conn.send(b"anyone?").unwrap();
    c.out1();
    for expect in [1, 3, 7] {
        let t = c.fire();
        assert_eq!(t - start, secs(expect));
        assert_eq!(c.out1().reason, SendReason::Retransmission);
    }
    // The fourth timeout ends it: three retransmissions were allowed.
    let t = c.fire();
    assert_eq!(t - start, secs(15));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed_with(), Some(CloseReason::TimedOut));
    c.none();
    let mut buf = [0u8; 8];
    assert_eq!(
        c.conn.recv(&mut buf),
        Err(Error::Closed(CloseReason::TimedOut))
    );
    assert_eq!(c.conn.send(b"x"), Err(Error::Closed(CloseReason::TimedOut)));
    assert_eq!(c.conn.poll_timeout(), None);
}

#[test]
fn progress_resets_the_retransmission_count() {
    let mut c = open(
        Config {
            max_retransmissions: 2,
            ..cfg(secs(1))
        },
        ms(100),
    );
    c.conn.send(&[1; 2000]).unwrap();
    c.out();
    c.fire();
    c.out1();
    c.fire();
    c.out1();
    // The first segment is acknowledged: the count starts over.
    c.input(seg(Y + 1).ack(X + 1001));
    c.fire();
    c.out1();
    c.fire();
    c.out1();
    assert_eq!(c.state(), State::Established);
    c.fire();
    assert_eq!(c.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn fin_retransmissions_give_up_too() {
    let mut c = open(
        Config {
            max_retransmissions: 2,
            ..cfg(secs(1))
        },
        ms(100),
    );
    c.conn.close(c.now);
    c.out1();
    c.fire();
    c.out1();
    c.fire();
    c.out1();
    c.fire();
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn user_timeout_ends_the_connection_at_its_deadline() {
    // RFC 5482 / RFC 9293 §3.8.3: data unacknowledged for the user timeout
    // ends the connection, whatever the retransmission count.
    let mut c = open(
        Config {
            user_timeout: Some(secs(5)),
            ..cfg(secs(1))
        },
        ms(100),
    );
    let start = c.now;
    c.conn.send(b"data").unwrap();
    c.out1();
    c.fire();
    c.out1();
    c.fire();
    c.out1();
    assert_eq!(c.state(), State::Established);
    let t = c.fire();
    assert_eq!(t - start, secs(5));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn user_timeout_counts_from_the_oldest_unacknowledged_data() {
    let mut c = open(
        Config {
            user_timeout: Some(secs(5)),
            max_retransmissions: 100,
            ..cfg(secs(1))
        },
        ms(100),
    );
    let start = c.now;
    c.conn.send(&[1; 2000]).unwrap();
    c.out();
    c.wait(secs(4));
    // Progress at 4 s: the clock restarts from here.
    c.input(seg(Y + 1).ack(X + 1001));
    let t = loop {
        let t = c.fire();
        c.out();
        if c.state() == State::Closed {
            break t;
        }
    };
    assert_eq!(t - start, secs(9));
    assert_eq!(c.closed_with(), Some(CloseReason::TimedOut));
}

#[test]
fn rto_is_three_seconds_when_the_syn_was_retransmitted() {
    // RFC 6298 §5.7: no sample from the handshake after a SYN timeout.
    let mut c = Tcb::client(cfg(secs(1)));
    c.out1();
    c.fire();
    c.out1();
    c.wait(ms(100));
    c.input(seg(Y).syn().ack(X + 1).mss(1000));
    c.out1();
    assert_eq!(c.conn.status().srtt, None, "Karn: the SYN was resent");
    assert_eq!(c.conn.status().rto, secs(3));
    c.conn.send(b"x").unwrap();
    c.out1();
    assert_eq!(c.next_in(), Some(secs(3)));
}

#[test]
fn a_pure_ack_after_a_timeout_carries_the_highest_sequence_sent() {
    // After the RTO moved SND.NXT back to SND.UNA, the peer may hold
    // everything up to SND.MAX: an ACK with SEQ = SND.NXT would be old to
    // it and dropped unseen (RFC 9293 §3.10.7.4 first check).
    let mut c = open(cfg(secs(1)), ms(100));
    c.conn.send(&[1; 3000]).unwrap();
    c.out();
    c.fire();
    assert_eq!(c.out1().seq, X + 1);
    c.input(seg(Y + 1).ack(X + 1).data(b"hello"));
    let a = c.out1();
    assert_eq!((a.seq, a.ack, a.len()), (X + 3001, Y + 6, 0));
}
