//! Window scaling (RFC 7323 §2): the shift from the buffer size, in force
//! only when both SYNs carry the option, SYN windows never scaled, a shift
//! above 14 used as 14.

use std::time::Duration;

use proto::conn::Config;

use crate::harness::*;

fn ws(recv_buffer: usize) -> Config {
    Config {
        window_scaling: true,
        recv_buffer,
        ..plain()
    }
}

fn syn_of(cfg: Config) -> Sent {
    Tcb::client(cfg).out1()
}

#[test]
fn the_shift_is_the_smallest_that_fits_the_buffer_in_16_bits() {
    for (buffer, shift) in [
        (65_535, 0),
        (65_536, 1),
        (131_071, 1),
        (131_072, 2),
        (256 * 1024, 3),
        (1 << 20, 5),
        (1 << 30, 14),
        (usize::MAX >> 1, 14),
    ] {
        assert_eq!(
            syn_of(ws(buffer)).options.window_scale,
            Some(shift),
            "buffer {buffer}"
        );
    }
}

#[test]
fn no_option_when_scaling_is_disabled() {
    let syn = syn_of(Config {
        window_scaling: false,
        ..ws(1 << 20)
    });
    assert_eq!(syn.options.window_scale, None);
    assert_eq!(syn.window, 65_535);
}

#[test]
fn our_syn_window_is_never_scaled() {
    let syn = syn_of(ws(1 << 20));
    assert_eq!(syn.window, 65_535);
    let syn = syn_of(ws(30_000));
    assert_eq!(syn.window, 30_000);
}

#[test]
fn the_peers_syn_window_is_never_scaled() {
    let c = Tcb::open(ws(256 * 1024), X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).win(1000).wscale(7)
    });
    assert_eq!(c.conn.status().snd_wnd, 1000);
    assert_eq!(c.conn.status().wscale, Some((7, 3)));
}

#[test]
fn windows_after_the_handshake_are_scaled_both_ways() {
    let mut c = Tcb::client(ws(256 * 1024));
    c.out1();
    c.input(seg(Y).syn().ack(X + 1).win(1000).wscale(2));
    // Our ACK: 262 144 >> 3.
    assert_eq!(c.out1().window, 32_768);
    // The peer's windows: shifted by its 2.
    c.input(seg(Y + 1).ack(X + 1).win(1000));
    assert_eq!(c.conn.status().snd_wnd, 4000);
    c.input(seg(Y + 1).ack(X + 1).win(65_535));
    assert_eq!(c.conn.status().snd_wnd, 262_140);
}

#[test]
fn no_scaling_unless_both_syns_carry_it() {
    let mut c = Tcb::client(ws(256 * 1024));
    assert_eq!(c.out1().options.window_scale, Some(3));
    // The peer does not scale: neither do we.
    c.input(seg(Y).syn().ack(X + 1).win(1000));
    assert_eq!(c.out1().window, 65_535);
    assert_eq!(c.conn.status().wscale, None);
    c.input(seg(Y + 1).ack(X + 1).win(40_000));
    assert_eq!(c.conn.status().snd_wnd, 40_000);
}

#[test]
fn peer_scaling_is_ignored_when_we_did_not_offer_it() {
    let mut c = Tcb::client(Config {
        window_scaling: false,
        ..ws(256 * 1024)
    });
    c.out1();
    c.input(seg(Y).syn().ack(X + 1).win(1000).wscale(7));
    assert_eq!(c.out1().window, 65_535);
    c.input(seg(Y + 1).ack(X + 1).win(1000));
    assert_eq!(c.conn.status().snd_wnd, 1000);
}

#[test]
fn a_shift_above_14_is_used_as_14() {
    let mut c = Tcb::open(ws(256 * 1024), X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).wscale(15)
    });
    assert_eq!(c.conn.status().wscale, Some((14, 3)));
    c.input(seg(Y + 1).ack(X + 1).win(3));
    assert_eq!(c.conn.status().snd_wnd, 3 << 14);
}

#[test]
fn passive_syn_ack_carries_the_option_only_if_the_syn_did() {
    let mut s = Tcb::listener(ws(256 * 1024));
    s.input(seg(Y).syn().wscale(2));
    let synack = s.out1();
    assert_eq!(
        (synack.options.window_scale, synack.window),
        (Some(3), 65_535)
    );
    s.input(seg(Y + 1).ack(X + 1).win(100));
    assert_eq!(s.conn.status().snd_wnd, 400);
    s.input(seg(Y + 1).ack(X + 1).data(b"x").win(100));
    assert_eq!(s.out1().window, 32_767, "(262 144 - 1) >> 3");

    let mut s = Tcb::listener(ws(256 * 1024));
    s.input(seg(Y).syn());
    let synack = s.out1();
    assert_eq!((synack.options.window_scale, synack.window), (None, 65_535));
    s.input(seg(Y + 1).ack(X + 1).win(100));
    assert_eq!(s.conn.status().snd_wnd, 100);
}

#[test]
fn the_final_ack_of_a_passive_open_is_scaled() {
    // The third segment of the handshake is not a SYN: its window is
    // scaled (RFC 7323 §2.2).
    let mut s = Tcb::listener(ws(256 * 1024));
    s.input(seg(Y).syn().wscale(4).win(5000));
    assert_eq!(s.conn.status().snd_wnd, 5000);
    s.out1();
    s.input(seg(Y + 1).ack(X + 1).win(5000));
    assert_eq!(s.conn.status().snd_wnd, 80_000);
}

#[test]
fn a_scaled_window_rounds_down_and_never_moves_the_edge_left() {
    let mut c = Tcb::open(ws(256 * 1024), X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).wscale(0)
    });
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 1001]));
    let ack = c.out1();
    // (262 144 - 1001) >> 3 = 32 642 (rounded down); the edge stays.
    assert_eq!(ack.window, 32_642);
    assert_eq!(c.conn.status().rcv_wnd, 262_144 - 1001);
}

#[test]
fn scaling_lets_more_than_64k_be_in_flight() {
    let mut c = Tcb::open(
        Config {
            nodelay: true,
            send_buffer: 1 << 20,
            ..ws(256 * 1024)
        },
        X,
        Duration::ZERO,
        |_| seg(Y).syn().ack(X + 1).mss(1000).wscale(7),
    );
    c.conn.send(&[1; 400_000]).unwrap();
    c.input(seg(Y + 1).ack(X + 1).win(1000));
    assert_eq!(c.conn.status().snd_wnd, 128_000);
    // Acknowledge segment by segment: slow start doubles cwnd each round
    // until the 128 000-byte window, not 64 KiB, is the limit.
    let mut ends: std::collections::VecDeque<u32> =
        c.out().iter().map(|s| s.seq + s.len()).collect();
    for _ in 0..500 {
        let end = ends
            .pop_front()
            .unwrap_or_else(|| panic!("{:?}", c.conn.status()));
        c.input(seg(Y + 1).ack(end).win(1000));
        ends.extend(c.out().iter().map(|s| s.seq + s.len()));
        if c.conn.status().bytes_in_flight >= 128_000 {
            break;
        }
    }
    assert_eq!(c.conn.status().bytes_in_flight, 128_000);
}
