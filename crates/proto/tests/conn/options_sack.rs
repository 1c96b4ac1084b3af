//! SACK (RFC 2018): negotiation in the SYNs, and the blocks a receiver
//! sends — the block with the newest segment first, then the most recently
//! reported ones, up to 4 (3 beside timestamps).

use std::time::Duration;

use proto::conn::Config;

use crate::harness::*;

fn sack_cfg(timestamps: bool) -> Config {
    Config {
        sack: true,
        timestamps,
        ..plain()
    }
}

/// Established; the SYN-ACK offers SACK (and timestamps if configured).
fn open(cfg: Config) -> Tcb {
    Tcb::open(cfg, X, Duration::ZERO, |syn| {
        let mut s = seg(Y).syn().ack(X + 1).mss(1460).sack_ok();
        if cfg.timestamps {
            s = s.ts(10, syn.tsval());
        }
        s
    })
}

/// Ten bytes of the peer's stream at offset `at` (from Y+1).
fn ten(at: u32, tsval: u32) -> Seg {
    seg(Y + 1 + at)
        .ack(X + 1)
        .data(&[at as u8; 10])
        .ts(tsval, 0)
}

/// A segment without timestamps.
fn ten_plain(at: u32) -> Seg {
    seg(Y + 1 + at).ack(X + 1).data(&[at as u8; 10])
}

/// SACK blocks relative to Y+1.
fn rel(s: &Sent) -> Vec<(u32, u32)> {
    s.sacks()
        .into_iter()
        .map(|(a, b)| (a - (Y + 1), b - (Y + 1)))
        .collect()
}

#[test]
fn our_syn_offers_sack_permitted() {
    let mut c = Tcb::client(sack_cfg(false));
    assert!(c.out1().options.sack_permitted);
    let mut c = Tcb::client(plain());
    assert!(!c.out1().options.sack_permitted);
}

#[test]
fn sack_is_used_only_when_both_syns_carry_it() {
    let mut c = Tcb::open(sack_cfg(false), X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(1460)
    });
    assert!(!c.conn.status().sack);
    c.input(ten_plain(100));
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 1);
    assert!(ack.options.sack.is_empty());
}

#[test]
fn sack_offered_by_the_peer_but_disabled_here_is_not_used() {
    let mut c = Tcb::open(plain(), X, Duration::ZERO, |_| {
        seg(Y).syn().ack(X + 1).mss(1460).sack_ok()
    });
    assert!(!c.conn.status().sack);
    c.input(ten_plain(100));
    assert!(c.out1().options.sack.is_empty());
}

#[test]
fn passive_syn_ack_permits_sack_only_if_the_syn_did() {
    let mut s = Tcb::listener(sack_cfg(false));
    s.input(seg(Y).syn().sack_ok());
    assert!(s.out1().options.sack_permitted);
    let mut s = Tcb::listener(sack_cfg(false));
    s.input(seg(Y).syn());
    assert!(!s.out1().options.sack_permitted);
}

#[test]
fn the_first_block_holds_the_newest_segment() {
    let mut c = open(sack_cfg(false));
    c.input(ten_plain(100));
    assert_eq!(rel(&c.out1()), [(100, 110)]);
    c.input(ten_plain(300));
    assert_eq!(rel(&c.out1()), [(300, 310), (100, 110)]);
    c.input(ten_plain(200));
    assert_eq!(rel(&c.out1()), [(200, 210), (300, 310), (100, 110)]);
}

#[test]
fn four_blocks_without_timestamps_most_recent_first() {
    let mut c = open(sack_cfg(false));
    for at in [100, 300, 500, 700, 900] {
        c.input(ten_plain(at));
        c.out1();
    }
    c.input(ten_plain(1100));
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 1);
    assert_eq!(
        rel(&ack),
        [(1100, 1110), (900, 910), (700, 710), (500, 510)]
    );
}

#[test]
fn three_blocks_beside_timestamps() {
    let mut c = open(sack_cfg(true));
    for (i, at) in [100, 300, 500, 700].into_iter().enumerate() {
        c.input(ten(at, 20 + i as u32));
        c.out1();
    }
    c.input(ten(900, 30));
    let ack = c.out1();
    assert!(ack.options.timestamps.is_some());
    assert_eq!(rel(&ack), [(900, 910), (700, 710), (500, 510)]);
}

#[test]
fn a_block_extended_by_the_newest_segment_moves_to_the_front_whole() {
    let mut c = open(sack_cfg(false));
    for at in [100, 300, 500] {
        c.input(ten_plain(at));
        c.out1();
    }
    // Extends the island at 100 to 100..120.
    c.input(ten_plain(110));
    assert_eq!(rel(&c.out1()), [(100, 120), (500, 510), (300, 310)]);
    // Joins 300..310 and 310..320: one block.
    c.input(ten_plain(310));
    assert_eq!(rel(&c.out1()), [(300, 320), (100, 120), (500, 510)]);
}

#[test]
fn a_segment_bridging_two_islands_reports_the_merged_block() {
    let mut c = open(sack_cfg(false));
    c.input(ten_plain(100));
    c.out1();
    c.input(ten_plain(120));
    c.out1();
    c.input(ten_plain(110));
    assert_eq!(rel(&c.out1()), [(100, 130)]);
}

#[test]
fn a_duplicate_out_of_order_segment_moves_its_block_first() {
    // RFC 2018's order alone: with D-SACK (RFC 2883, on by default) a
    // D-SACK block would come first (recovery_undo.rs checks that).
    let mut c = open(Config {
        dsack: false,
        ..sack_cfg(false)
    });
    for at in [100, 300] {
        c.input(ten_plain(at));
        c.out1();
    }
    c.input(ten_plain(100));
    assert_eq!(rel(&c.out1()), [(100, 110), (300, 310)]);
}

#[test]
fn blocks_below_rcv_nxt_are_no_longer_reported() {
    let mut c = open(sack_cfg(false));
    for at in [100, 300] {
        c.input(ten_plain(at));
        c.out1();
    }
    // Fill 0..100: RCV.NXT moves to 110, the island at 300 remains.
    c.input(seg(Y + 1).ack(X + 1).data(&[0; 100]));
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 111);
    assert_eq!(rel(&ack), [(300, 310)]);
    // Fill up to 300: no holes, no blocks.
    c.input(seg(Y + 111).ack(X + 1).data(&[0; 190]));
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 311);
    assert!(ack.options.sack.is_empty());
}

#[test]
fn in_order_data_carries_no_sack_blocks() {
    let mut c = open(sack_cfg(true));
    c.input(seg(Y + 1).ack(X + 1).data(&[1; 100]).ts(11, 0));
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 101);
    assert!(ack.options.sack.is_empty());
}

#[test]
fn more_islands_than_blocks_fill_up_with_older_ones_after_the_recent() {
    let mut c = open(sack_cfg(false));
    // Islands arriving from the far end backwards.
    for at in [600, 500, 400, 300, 200, 100] {
        c.input(ten_plain(at));
        c.out1();
    }
    // Fill 0..100: the newest island (100) is consumed, RCV.NXT = 110.
    c.input(seg(Y + 1).ack(X + 1).data(&[0; 100]));
    let ack = c.out1();
    assert_eq!(ack.ack, Y + 111);
    // The three remaining recent blocks, then the lowest island not
    // among them.
    assert_eq!(rel(&ack), [(200, 210), (300, 310), (400, 410), (500, 510)]);
}
