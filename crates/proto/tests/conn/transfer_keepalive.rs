//! Keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): off by default; after
//! the idle time a probe with SEG.SEQ = SND.UNA - 1 and no data, repeated
//! every interval; the connection times out after the unanswered probes.

use std::time::Duration;

use proto::conn::{CloseReason, Config, Keepalive, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ka() -> Config {
    Config {
        keepalive: Some(Keepalive {
            idle: secs(10),
            interval: secs(2),
            probes: 3,
        }),
        nodelay: true,
        ..plain()
    }
}

fn open(cfg: Config) -> Tcb {
    Tcb::open(cfg, X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(1460)
    })
}

#[test]
fn keepalive_is_off_by_default() {
    let mut c = open(plain());
    assert_eq!(c.next_in(), None);
    c.advance(secs(3 * 3600));
    c.none();
    assert_eq!(c.state(), State::Established);
}

#[test]
fn default_keepalive_settings_follow_rfc_1122() {
    let k = Keepalive::default();
    assert_eq!((k.idle, k.interval, k.probes), (secs(7200), secs(75), 9));
}

#[test]
fn first_probe_after_the_idle_time_is_snd_una_minus_one_without_data() {
    let mut c = open(ka());
    let start = c.now;
    assert_eq!(c.next_in(), Some(secs(10)));
    assert_eq!(c.fire(), start + secs(10));
    let p = c.out1();
    assert_eq!(
        (p.flags, p.seq, p.ack, p.len(), p.reason),
        (TcpFlags::ACK, X, Y + 1, 0, SendReason::KeepAlive)
    );
}

#[test]
fn probe_sequence_follows_snd_una() {
    let mut c = open(ka());
    c.conn.send(&[1; 100]).unwrap();
    c.out1();
    c.input(seg(Y + 1).ack(X + 101));
    c.advance(secs(10));
    let p = c.out1();
    assert_eq!((p.seq, p.len()), (X + 100, 0));
}

#[test]
fn an_answered_probe_restarts_the_idle_time() {
    let mut c = open(ka());
    c.fire();
    c.out1();
    c.wait(Duration::from_millis(100));
    // The peer answers with an ACK of what it expects.
    c.input(seg(Y + 1).ack(X + 1));
    c.none();
    assert_eq!(c.next_in(), Some(secs(10)));
    c.fire();
    assert_eq!(c.out1().reason, SendReason::KeepAlive);
    assert_eq!(c.state(), State::Established);
}

#[test]
fn unanswered_probes_time_the_connection_out() {
    let mut c = open(ka());
    let start = c.now;
    let mut probes = Vec::new();
    loop {
        let t = c.fire();
        if c.state() == State::Closed {
            // After the third unanswered probe, one more interval.
            assert_eq!(t - start, secs(16));
            break;
        }
        let p = c.out1();
        assert_eq!(p.reason, SendReason::KeepAlive);
        probes.push((t - start).as_secs());
    }
    assert_eq!(probes, [10, 12, 14]);
    assert_eq!(c.closed_with(), Some(CloseReason::TimedOut));
    c.none();
}

#[test]
fn received_traffic_postpones_the_probe() {
    let mut c = open(ka());
    let start = c.now;
    c.wait(secs(6));
    c.input(seg(Y + 1).ack(X + 1).data(b"hi"));
    c.out1();
    assert_eq!(c.fire(), start + secs(16));
    assert_eq!(c.out1().reason, SendReason::KeepAlive);
}

#[test]
fn an_answer_between_probes_resets_the_count() {
    let mut c = open(ka());
    let start = c.now;
    c.fire();
    c.out1();
    c.fire();
    c.out1();
    // Two probes unanswered, then an answer at 13 s.
    c.wait(secs(1));
    c.input(seg(Y + 1).ack(X + 1));
    // Three fresh probes at 23, 25 and 27 s before the end at 29 s.
    let mut times = Vec::new();
    while c.state() != State::Closed {
        let t = c.fire();
        c.out();
        times.push((t - start).as_secs());
    }
    assert_eq!(times, [23, 25, 27, 29]);
}

#[test]
fn keepalive_probes_carry_timestamps_when_in_use() {
    let cfg = Config {
        timestamps: true,
        ..ka()
    };
    let mut c = Tcb::open(cfg, X, Duration::ZERO, |syn| {
        seg(Y).syn().ack(X + 1).ts(77, syn.tsval())
    });
    c.fire();
    let p = c.out1();
    assert_eq!(p.tsecr(), 77);
}

#[test]
fn outstanding_data_is_left_to_the_retransmission_timer() {
    let mut c = open(Config {
        keepalive: Some(Keepalive {
            idle: secs(1),
            interval: secs(1),
            probes: 1,
        }),
        max_retransmissions: 20,
        ..ka()
    });
    c.conn.send(b"unacked").unwrap();
    c.out1();
    // For 30 s only retransmissions go out; keep-alive does not end it.
    let end = c.now + secs(30);
    while c.conn.poll_timeout().is_some_and(|t| t <= end) {
        c.fire();
        for s in c.out() {
            assert_eq!(s.reason, SendReason::Retransmission);
        }
    }
    assert_eq!(c.state(), State::Established);
}
