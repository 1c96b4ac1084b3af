//! Every packet of impaired transfers is byte for byte what a plain writer
//! of the header layouts (RFC 791 §3.1; RFC 9293 §3.1 with the options in
//! the layout Linux uses) makes of its parsed fields, with checksums summed
//! byte pair by byte pair (RFC 1071).
//!
//! The endpoint's writers take shortcuts: the IPv4 header is built and
//! summed as five words, the header of a segment whose only option is the
//! timestamps as eight, the header's sum is taken from the fields rather
//! than read back, and the data is summed as it is copied in. None of that
//! may change a byte. The transfers run with and without timestamps, SACK
//! and window scaling, small and large segments, on links that lose,
//! reorder and duplicate, so that SYNs with every option, SACK and D-SACK
//! blocks, retransmissions, window updates and the FIN exchange all come
//! by.

use std::net::IpAddr;
use std::time::Duration;

use proto::conn::Config;
use proto::endpoint::EndpointConfig;
use wire::ip::IpRepr;
use wire::tcp::{TcpFlags, TcpRepr};

use crate::harness::*;

/// More than a send buffer holds: the client queues what fits before the
/// handshake and shuts down only once everything is queued.
const SIZE: u64 = 400_000;
const LINK: &str = "rate=20mbit,delay=5ms,loss=0.04,reorder=0.05,dup=0.02";

/// The ones' complement of the ones' complement sum of 16-bit words, the
/// last odd byte padded with zero (RFC 1071 §1).
fn rfc1071(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([
            pair[0],
            pair.get(1).copied().unwrap_or(0),
        ]));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The option bytes of `tcp`: MSS; SACK-permitted and the timestamps (NOP,
/// NOP before the timestamps without SACK-permitted); NOP, window scale;
/// NOP, NOP, SACK blocks.
fn options(tcp: &TcpRepr<'_>) -> Vec<u8> {
    let o = &tcp.options;
    let mut out = Vec::new();
    if let Some(mss) = o.mss {
        out.extend([2, 4]);
        out.extend(mss.to_be_bytes());
    }
    match (o.sack_permitted, o.timestamps) {
        (sack_ok, Some(ts)) => {
            out.extend(if sack_ok { [4, 2] } else { [1, 1] });
            out.extend([8, 10]);
            out.extend(ts.tsval.to_be_bytes());
            out.extend(ts.tsecr.to_be_bytes());
        }
        (true, None) => out.extend([1, 1, 4, 2]),
        (false, None) => {}
    }
    if let Some(shift) = o.window_scale {
        out.extend([1, 3, 3, shift]);
    }
    if !o.sack.is_empty() {
        out.extend([1, 1, 5, 2 + 8 * o.sack.len() as u8]);
        for b in o.sack.as_slice() {
            out.extend(b.start.0.to_be_bytes());
            out.extend(b.end.0.to_be_bytes());
        }
    }
    out
}

/// The packet of these fields, written byte by byte.
fn rebuild(ip: &IpRepr, tcp: &TcpRepr<'_>) -> Vec<u8> {
    let (IpRepr::V4(v4), IpAddr::V4(src), IpAddr::V4(dst)) = (ip, ip.src_addr(), ip.dst_addr())
    else {
        panic!("not IPv4: {ip:?}");
    };
    let opts = options(tcp);
    let header_len = 20 + opts.len();
    let mut seg = Vec::new();
    seg.extend(tcp.src_port.to_be_bytes());
    seg.extend(tcp.dst_port.to_be_bytes());
    seg.extend(tcp.seq.0.to_be_bytes());
    let ack = if tcp.flags.contains(TcpFlags::ACK) {
        tcp.ack.0
    } else {
        0
    };
    seg.extend(ack.to_be_bytes());
    let bits = tcp.flags.bits();
    seg.push(((header_len / 4) as u8) << 4 | (bits >> 8) as u8);
    seg.push(bits as u8);
    seg.extend(tcp.window.to_be_bytes());
    seg.extend([0, 0]);
    seg.extend(tcp.urgent.to_be_bytes());
    seg.extend(&opts);
    seg.extend(tcp.payload);
    let mut pseudo = Vec::new();
    pseudo.extend(src.octets());
    pseudo.extend(dst.octets());
    pseudo.extend([0, 6]);
    pseudo.extend((seg.len() as u16).to_be_bytes());
    pseudo.extend(&seg);
    let check = rfc1071(&pseudo);
    seg[16..18].copy_from_slice(&check.to_be_bytes());

    let mut packet = vec![0x45, v4.dscp << 2 | v4.ecn];
    packet.extend((20 + seg.len() as u16).to_be_bytes());
    packet.extend(v4.ident.to_be_bytes());
    let flags_frag = (v4.frag_offset / 8)
        | if v4.dont_frag { 0x4000 } else { 0 }
        | if v4.more_frags { 0x2000 } else { 0 };
    packet.extend(flags_frag.to_be_bytes());
    packet.extend([v4.ttl, 6, 0, 0]);
    packet.extend(src.octets());
    packet.extend(dst.octets());
    let check = rfc1071(&packet);
    packet[10..12].copy_from_slice(&check.to_be_bytes());
    packet.extend(seg);
    packet
}

/// What the packets of one transfer held.
#[derive(Debug, Default)]
struct Seen {
    packets: usize,
    with_data: usize,
    syns: usize,
    with_timestamps: usize,
    with_sack_blocks: usize,
}

/// Runs one transfer from client to server with `conn` on both ends;
/// checks every packet either host received against its rebuilt bytes.
fn check_transfer(seed: u64, conn: Config) -> Seen {
    let config = EndpointConfig {
        conn,
        ..EndpointConfig::default()
    };
    let (mut net, c, s) = two_hosts(
        seed,
        LINK,
        config,
        Box::new(BulkClient::new(server_addr(), SIZE, 1, seed)),
        Box::new(Sink::new(8)),
    );
    for h in [c, s] {
        net.host_mut(h).captured = Some(Vec::new());
    }
    let limit = net.now() + Duration::from_secs(600);
    net.run_while(|net| {
        net.now() < limit
            && (app::<Sink>(net, s).done.is_empty()
                || net.host(c).ep.connection_count() > 0
                || net.host(s).ep.connection_count() > 0)
    });
    assert_eq!(
        app::<Sink>(&net, s).done,
        [(SIZE, expected(SIZE, seed))],
        "seed {seed}: the transfer completed"
    );
    let mut seen = Seen::default();
    for h in [c, s] {
        for (at, packet) in net.host(h).captured.as_deref().unwrap_or_default() {
            let (ip, tcp) = parse_tcp(packet).unwrap_or_else(|| {
                panic!("seed {seed}, {at:?}: not IPv4/TCP with valid checksums")
            });
            assert_eq!(rebuild(&ip, &tcp), *packet, "seed {seed}, {at:?}: {tcp}");
            seen.packets += 1;
            seen.with_data += usize::from(!tcp.payload.is_empty());
            seen.syns += usize::from(tcp.flags.contains(TcpFlags::SYN));
            seen.with_timestamps += usize::from(tcp.options.timestamps.is_some());
            seen.with_sack_blocks += usize::from(!tcp.options.sack.is_empty());
        }
    }
    seen
}

#[test]
fn every_packet_is_what_the_header_layouts_make_of_its_fields() {
    for seed in 1..=3 {
        // Linux's defaults: timestamps, SACK, window scaling.
        let seen = check_transfer(seed, Config::default());
        assert!(seen.with_sack_blocks > 0, "{seen:?}");
        assert_eq!(seen.with_timestamps, seen.packets, "{seen:?}");
        assert!(seen.syns >= 2 && seen.with_data > 100, "{seen:?}");
        // No timestamps: SACK blocks may take four slots.
        let seen = check_transfer(
            seed,
            Config {
                timestamps: false,
                ..Config::default()
            },
        );
        assert_eq!(seen.with_timestamps, 0, "{seen:?}");
        assert!(seen.with_sack_blocks > 0, "{seen:?}");
        // No options at all after the SYNs but the MSS; small segments and
        // buffers (window updates, a window that fills).
        let seen = check_transfer(
            seed,
            Config {
                timestamps: false,
                sack: false,
                window_scaling: false,
                mss: 536,
                send_buffer: 8 * 1024,
                recv_buffer: 8 * 1024,
                ..Config::default()
            },
        );
        assert_eq!(seen.with_sack_blocks, 0, "{seen:?}");
        // Timestamps without SACK: the NOP, NOP layout on every segment.
        check_transfer(
            seed,
            Config {
                sack: false,
                ..Config::default()
            },
        );
    }
}
