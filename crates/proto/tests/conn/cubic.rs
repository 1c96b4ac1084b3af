//! CUBIC (RFC 9438) as the default congestion controller, NewReno still
//! selectable per connection, and pacing.

use std::time::Duration;

use proto::conn::congestion::cubic::Cubic;
use proto::conn::congestion::Algorithm;
use proto::conn::{CaState, Config, Pacing, Segment, SendReason};

use crate::harness::*;

const MSS: u32 = 1460;
const RTT: Duration = Duration::from_millis(100);

fn at(k: u32) -> u32 {
    X + 1 + MSS * k
}

/// Ten segments out, segment 0 lost, 1..3 SACKed: recovery begins with
/// ten segments in flight.
fn loss_in_first_flight(cfg: Config) -> Tcb {
    let mut c = Tcb::open_sack(cfg, RTT);
    c.conn.send(&[7; 14_600]).unwrap();
    assert_eq!(c.out().len(), 10);
    c.wait(RTT);
    c.input(seg(Y + 1).ack(X + 1).sack(&[(at(1), at(4))]));
    assert_eq!(c.out1().reason, SendReason::FastRetransmit);
    c
}

#[test]
fn cubic_is_the_default_and_cuts_the_window_to_seventy_percent() {
    assert_eq!(Config::default().congestion, Algorithm::Cubic);
    let c = loss_in_first_flight(sack_plain());
    let st = c.conn.status();
    assert_eq!(st.congestion, Algorithm::Cubic);
    // RFC 9438 §4.6: ssthresh = flight_size × β_cubic, β_cubic = 0.7.
    assert_eq!(st.ssthresh, 14_600 * 7 / 10);
    assert_eq!(st.ca_state, CaState::Recovery);
}

#[test]
fn newreno_stays_selectable_per_connection() {
    let c = loss_in_first_flight(Config {
        congestion: Algorithm::NewReno,
        ..sack_plain()
    });
    let st = c.conn.status();
    assert_eq!(st.congestion, Algorithm::NewReno);
    // RFC 5681 eq. 4: half the flight.
    assert_eq!(st.ssthresh, 14_600 / 2);
    assert_eq!(Algorithm::from_name("newreno"), Some(Algorithm::NewReno));
}

/// A transfer over a 100 ms RTT path with no rate limit; one segment is
/// dropped when slow start reaches about 100 segments. After the fast
/// recovery, cwnd must follow RFC 9438's window curve,
/// `max(W_cubic(t), W_est(t))`, with W_max the window at the loss,
/// cwnd_epoch the window after the reduction and t the time since the
/// recovery ended.
#[test]
fn after_a_loss_the_window_follows_the_cubic_curve() {
    let cfg = Config {
        send_buffer: 8 << 20,
        recv_buffer: 8 << 20,
        delayed_ack: None,
        ..Config::default()
    };
    let impair = Impair {
        delay: RTT / 2,
        ..Impair::default()
    };
    let mut p = Pair::with_iss(cfg, cfg, impair, 1, 1000, 5000);
    // Timestamps are on: 1448-byte segments.
    let target = 1001 + 100 * 1448;
    let mut dropped = false;
    p.filter = Some(Box::new(move |to_b: bool, s: &Segment| {
        let hit = to_b && !dropped && s.seq.0 == target && s.payload_len > 0;
        dropped |= hit;
        hit
    }));
    let chunk = vec![7u8; 1 << 20];
    let mut sink = Vec::new();
    let mut pump = |p: &mut Pair| {
        while p.a.send_capacity() > 0 {
            if p.a.send(&chunk).is_err() {
                break;
            }
        }
        drain(&mut p.b, &mut sink);
        sink.clear();
        false
    };
    // Until the recovery is over.
    for _ in 0..200 {
        p.run_until(RTT, &mut pump);
        let st = p.a.status();
        if st.stats.recoveries == 1 && st.ca_state == CaState::Open {
            break;
        }
    }
    let st = p.a.status();
    assert_eq!(st.stats.recoveries, 1);
    assert_eq!(st.stats.timeouts, 0);
    let mss = st.mss;
    let w_max = st.stats.max_cwnd;
    let cwnd_epoch = st.cwnd;
    let t0 = p.now;
    assert!(w_max > 100 * mss, "slow start reached {w_max}");
    // ssthresh = 0.7 × flight; the flight at detection was about cwnd.
    let ratio = f64::from(cwnd_epoch) / f64::from(w_max);
    assert!((0.65..0.75).contains(&ratio), "{cwnd_epoch} of {w_max}");
    let k = Cubic::k_for(w_max, cwnd_epoch, mss);
    assert!(k > 3_000_000 && k < 6_000_000, "K = {k} µs");
    // Follow it for K + 2 s, one sample per RTT.
    let mut worst = 0f64;
    let mut samples = 0;
    while p.now.saturating_since(t0) < Duration::from_micros(k) + Duration::from_secs(2) {
        p.run_until(RTT, &mut pump);
        let t = p.now.saturating_since(t0);
        let t_us = t.as_micros() as u64;
        let w_cubic = f64::from(Cubic::w_cubic(w_max, k, mss, t_us));
        // W_est: α_cubic = 9/17 segment per RTT until it reaches W_max
        // (cwnd_prior), 1 after (RFC 9438 §4.3).
        let rtts = t.as_secs_f64() / RTT.as_secs_f64();
        let alpha = 9.0 / 17.0;
        let to_prior = (f64::from(w_max) - f64::from(cwnd_epoch)) / f64::from(mss) / alpha;
        let w_est = if rtts <= to_prior {
            f64::from(cwnd_epoch) + alpha * rtts * f64::from(mss)
        } else {
            f64::from(w_max) + (rtts - to_prior) * f64::from(mss)
        };
        let model = w_cubic.max(w_est);
        let cwnd = f64::from(p.a.status().cwnd);
        let err = (cwnd - model).abs() / model;
        worst = worst.max(err);
        samples += 1;
    }
    assert!(samples > 40);
    // Within 2 % of the RFC's curve at every RTT: through the concave
    // part, the plateau at W_max and into the convex part.
    assert!(worst < 0.02, "off by {:.1} %", worst * 100.0);
    let st = p.a.status();
    assert!(st.cwnd > w_max, "probing beyond W_max");
    assert_eq!(st.stats.recoveries, 1, "no other loss");
}

#[test]
fn pacing_spreads_the_initial_window_over_time() {
    let mut c = Tcb::open_sack(
        Config {
            pacing: Pacing::On,
            ..sack_plain()
        },
        RTT,
    );
    c.conn.send(&[7; 14_600]).unwrap();
    // Slow start: twice cwnd per SRTT, 2 × 14 600 B / 100 ms: one
    // 1460-byte segment every 5 ms (a 1 ms head start for the second).
    let mut times = Vec::new();
    for _ in 0..200 {
        for _ in c.out() {
            times.push(c.now.saturating_since(T0).as_micros() as u64);
        }
        if times.len() == 10 {
            break;
        }
        c.advance(Duration::from_millis(1));
    }
    let t = |k: usize| times[k] - times[0];
    assert_eq!(times.len(), 10);
    assert_eq!(t(1), 4_000);
    for k in 2..10 {
        assert_eq!(t(k) - t(k - 1), 5_000, "{times:?}");
    }
    assert!(c.conn.status().pacing_rate.is_some());
}

#[test]
fn pacing_auto_follows_the_algorithm() {
    for algo in [Algorithm::Cubic, Algorithm::NewReno] {
        let mut c = Tcb::open_sack(
            Config {
                congestion: algo,
                ..sack_plain()
            },
            RTT,
        );
        c.conn.send(&[7; 14_600]).unwrap();
        let n = c.out().len();
        assert_eq!(n == 1, algo.paced_by_default(), "{algo}");
    }
    let mut c = Tcb::open_sack(
        Config {
            pacing: Pacing::Off,
            ..sack_plain()
        },
        RTT,
    );
    c.conn.send(&[7; 14_600]).unwrap();
    assert_eq!(c.out().len(), 10);
    assert_eq!(c.conn.status().pacing_rate, None);
}
