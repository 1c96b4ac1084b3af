//! Zero windows: the persist timer and window probes with backoff
//! (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17), and the connection never
//! giving up while probes are answered.

use std::time::Duration;

use proto::conn::{Config, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn cfg() -> Config {
    Config {
        nodelay: true,
        ..plain()
    }
}

/// Established with a peer whose SYN-ACK offers a zero window.
fn zero_window(cfg: Config) -> Tcb {
    Tcb::open(cfg, X, Duration::from_millis(100), |_| {
        seg(Y).syn().ack(X + 1).mss(1000).win(0)
    })
}

#[test]
fn zero_window_holds_data_and_arms_the_persist_timer() {
    let mut c = zero_window(cfg());
    assert_eq!(c.conn.status().snd_wnd, 0);
    c.conn.send(b"blocked").unwrap();
    c.none();
    // The persist timer runs for one RTO.
    assert_eq!(c.next_in(), Some(secs(1)));
}

#[test]
fn window_probe_is_one_byte_of_new_data() {
    let mut c = zero_window(cfg());
    c.conn.send(b"blocked").unwrap();
    c.none();
    c.fire();
    let p = c.out1();
    assert_eq!(
        (p.flags, p.seq, p.ack, p.data.as_slice(), p.reason),
        (
            TcpFlags::ACK,
            X + 1,
            Y + 1,
            &b"b"[..],
            SendReason::WindowProbe
        )
    );
    assert_eq!(c.conn.status().stats.window_probes, 1);
}

#[test]
fn window_probes_back_off_exponentially_up_to_max_rto() {
    let mut c = zero_window(Config {
        max_rto: secs(60),
        ..cfg()
    });
    c.conn.send(b"blocked").unwrap();
    c.none();
    let mut last = c.now;
    let mut gaps = Vec::new();
    for _ in 0..9 {
        let t = c.fire();
        gaps.push((t - last).as_secs());
        last = t;
        let p = c.out1();
        assert_eq!((p.seq, p.len()), (X + 1, 1));
        // The peer answers: still no room.
        c.input(seg(Y + 1).ack(X + 1).win(0));
        c.none();
    }
    assert_eq!(gaps, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
}

#[test]
fn connection_never_gives_up_while_probes_are_answered() {
    let mut c = zero_window(Config {
        max_retransmissions: 3,
        user_timeout: Some(secs(30)),
        ..cfg()
    });
    c.conn.send(&[5; 3000]).unwrap();
    c.none();
    for _ in 0..40 {
        c.fire();
        let segs = c.out();
        assert_eq!(segs.len(), 1, "{segs:?}");
        assert_eq!(
            (segs[0].seq, segs[0].len(), segs[0].reason),
            (X + 1, 1, SendReason::WindowProbe)
        );
        c.input(seg(Y + 1).ack(X + 1).win(0));
        assert!(c.out().is_empty());
    }
    assert_eq!(c.state(), State::Established);
    let st = c.conn.status();
    assert_eq!(st.stats.window_probes, 40);
    assert_eq!(
        st.stats.fast_retransmits, 0,
        "probe answers are not dup ACKs"
    );
    assert_eq!(st.stats.timeouts, 0);
}

#[test]
fn a_probe_byte_taken_by_the_peer_is_acknowledged_and_the_next_probed() {
    let mut c = zero_window(cfg());
    c.conn.send(b"abc").unwrap();
    c.none();
    c.fire();
    assert_eq!(c.out1().data, b"a");
    // The peer had room for exactly that byte.
    c.input(seg(Y + 1).ack(X + 2).win(0));
    c.none();
    assert_eq!(c.conn.send_queue(), 2);
    c.fire();
    let p = c.out1();
    assert_eq!((p.seq, p.data.as_slice()), (X + 2, &b"b"[..]));
}

#[test]
fn an_opening_window_ends_probing_and_data_flows() {
    let mut c = zero_window(cfg());
    c.conn.send(&[7; 2500]).unwrap();
    c.none();
    c.fire();
    let p = c.out1();
    assert_eq!(p.len(), 1);
    // The peer's buffer drained: a window update acknowledging the probe.
    c.input(seg(Y + 1).ack(X + 2).win(10_000));
    let segs = c.out();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.len())).collect::<Vec<_>>(),
        [(X + 2, 1000), (X + 1002, 1000), (X + 2002, 499)]
    );
    c.input(seg(Y + 1).ack(X + 2501).win(10_000));
    assert_eq!(c.next_in(), None, "no persist timer left");
}

#[test]
fn a_window_update_without_ack_of_the_probe_resends_it_as_data() {
    let mut c = zero_window(cfg());
    c.conn.send(&[7; 1500]).unwrap();
    c.none();
    c.fire();
    c.out1();
    // The window opens, but the probe byte was dropped by the peer.
    c.input(seg(Y + 1).ack(X + 1).win(10_000));
    let segs = c.out();
    assert_eq!(
        segs.iter().map(|s| (s.seq, s.len())).collect::<Vec<_>>(),
        [(X + 1, 1000), (X + 1001, 500)]
    );
}

#[test]
fn window_closing_to_zero_mid_transfer_starts_probing_once_all_is_acked() {
    let mut c = Tcb::open(cfg(), X, Duration::from_millis(100), |_| {
        seg(Y).syn().ack(X + 1).mss(1000).win(3000)
    });
    c.conn.send(&[1; 5000]).unwrap();
    assert_eq!(c.out().len(), 3);
    // Everything acknowledged, but the window is now zero.
    c.input(seg(Y + 1).ack(X + 3001).win(0));
    c.none();
    assert_eq!(c.next_in(), Some(secs(1)));
    c.fire();
    let p = c.out1();
    assert_eq!(
        (p.seq, p.len(), p.reason),
        (X + 3001, 1, SendReason::WindowProbe)
    );
}

#[test]
fn we_answer_a_probe_into_our_zero_window() {
    // RFC 9293 §3.8.6.1: the receiver of a probe into a zero window must
    // acknowledge it, with RCV.NXT and the zero window.
    let mut c = Tcb::open(
        Config {
            recv_buffer: 1000,
            ..cfg()
        },
        X,
        Duration::ZERO,
        |_| seg(Y).syn().ack(X + 1).mss(1000),
    );
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 1000]));
    assert_eq!(c.out1().window, 0);
    for _ in 0..3 {
        c.input(seg(Y + 1001).ack(X + 1).data(b"?"));
        let a = c.out1();
        assert_eq!((a.seq, a.ack, a.window), (X + 1, Y + 1001, 0));
    }
    assert_eq!(c.conn.recv_queue(), 1000);
    // Once read, the same probe is taken.
    c.read_all();
    c.out();
    c.input(seg(Y + 1001).ack(X + 1).data(b"!"));
    let a = c.out1();
    assert_eq!((a.ack, a.window), (Y + 1002, 999));
    assert_eq!(c.read_all(), b"!");
}

#[test]
fn zero_window_with_nothing_to_send_arms_no_timer() {
    let mut c = zero_window(cfg());
    assert_eq!(c.next_in(), None);
    c.none();
}

#[test]
fn a_window_closing_under_data_in_flight_turns_retransmissions_into_probes() {
    // The peer takes the first segment and closes its window; the rest
    // times out. The retransmission cannot go into the zero window, so
    // probing takes over rather than nothing ever being sent again.
    let mut c = Tcb::open(cfg(), X, Duration::from_millis(100), |_| {
        seg(Y).syn().ack(X + 1).mss(1000)
    });
    c.conn.send(&[3; 3000]).unwrap();
    assert_eq!(c.out().len(), 3);
    c.input(seg(Y + 1).ack(X + 1001).win(0));
    c.none();
    c.fire();
    c.none();
    assert!(c.conn.poll_timeout().is_some(), "a timer must still run");
    for _ in 0..20 {
        c.fire();
        let p = c.out1();
        assert_eq!(
            (p.seq, p.len(), p.reason),
            (X + 1001, 1, SendReason::WindowProbe)
        );
        c.input(seg(Y + 1).ack(X + 1001).win(0));
        c.none();
    }
    assert_eq!(c.state(), State::Established);
    // The window opens: the data goes again from SND.UNA.
    c.input(seg(Y + 1).ack(X + 1001).win(5000));
    let segs = c.out();
    assert_eq!(segs[0].seq, X + 1001);
    assert_eq!(segs[0].reason, SendReason::Retransmission);
}

#[test]
fn the_fin_waits_behind_an_unaccepted_probe_byte() {
    let mut c = zero_window(cfg());
    c.conn.send(b"a").unwrap();
    c.conn.shutdown(c.now).unwrap();
    c.none();
    c.fire();
    let p = c.out1();
    assert_eq!(
        (p.seq, p.data.as_slice(), p.flags),
        (X + 1, &b"a"[..], TcpFlags::ACK)
    );
    // No FIN after the probe: it would lie beyond the zero window.
    c.none();
    c.input(seg(Y + 1).ack(X + 1).win(0));
    c.none();
    // The window opens: the byte and the FIN go together.
    c.input(seg(Y + 1).ack(X + 1).win(1000));
    let s = c.out1();
    assert_eq!(
        (s.seq, s.data.as_slice(), s.flags),
        (
            X + 1,
            &b"a"[..],
            TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN
        )
    );
}

#[test]
fn a_bare_fin_goes_into_a_zero_window_once_all_data_is_acknowledged() {
    let mut c = zero_window(cfg());
    c.conn.close(c.now);
    let fin = c.out1();
    assert_eq!((fin.seq, fin.flags), (X + 1, TcpFlags::ACK | TcpFlags::FIN));
}

#[test]
fn opening_the_window_clears_the_probe_backoff() {
    let mut c = zero_window(cfg());
    c.conn.send(&[1; 3000]).unwrap();
    c.none();
    for _ in 0..5 {
        c.fire();
        c.out1();
        c.input(seg(Y + 1).ack(X + 1).win(0));
    }
    assert_eq!(c.conn.status().rto, secs(32));
    c.input(seg(Y + 1).ack(X + 1).win(10_000));
    assert_eq!(c.out().len(), 3);
    // The data's retransmission timer is the plain RTO, not 32 s.
    assert_eq!(c.conn.status().rto, secs(1));
    assert_eq!(c.next_in(), Some(secs(1)));
}
