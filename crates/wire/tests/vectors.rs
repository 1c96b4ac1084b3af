//! Whole packets the Linux kernel wrote, parsed end to end (IP header
//! checksum and TCP/ICMP checksum verified), checked field by field, and
//! emitted again byte for byte. How they were captured:
//! `tests/fixtures/README.md`.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::hex;
use wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Repr, Quoted};
use wire::icmpv6::{Icmpv6DstUnreachable, Icmpv6Repr};
use wire::ip::{self, IpProtocol, IpRepr};
use wire::ipv4::{Ipv4Packet, Ipv4Repr};
use wire::ipv6::Ipv6Repr;
use wire::tcp::{SackBlock, SackBlocks, TcpFlags, TcpOptions, TcpPacket, TcpRepr, Timestamps};
use wire::{Error, SeqNum};

const V4_LOCAL: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const V4_PEER: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const V6_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1);
const V6_PEER: Ipv6Addr = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2);

/// The kernel's IPv4 header: from 10.77.0.1 to 10.77.0.2, TTL 64.
fn v4(protocol: IpProtocol, payload_len: usize, ident: u16, dont_frag: bool) -> IpRepr {
    IpRepr::V4(Ipv4Repr {
        src_addr: V4_LOCAL,
        dst_addr: V4_PEER,
        protocol,
        payload_len,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident,
        dont_frag,
        more_frags: false,
        frag_offset: 0,
    })
}

/// The kernel's IPv6 header: from fd77::1 to fd77::2, hop limit 64.
fn v6(next_header: IpProtocol, payload_len: usize, flow_label: u32) -> IpRepr {
    IpRepr::V6(Ipv6Repr {
        flow_label,
        ..Ipv6Repr::new(V6_LOCAL, V6_PEER, next_header, payload_len, 64)
    })
}

fn syn_options(mss: u16, tsval: u32, tsecr: u32, shift: u8) -> TcpOptions {
    TcpOptions {
        mss: Some(mss),
        window_scale: Some(shift),
        sack_permitted: true,
        timestamps: Some(Timestamps { tsval, tsecr }),
        sack: SackBlocks::EMPTY,
    }
}

fn ts_only(tsval: u32, tsecr: u32) -> TcpOptions {
    TcpOptions {
        timestamps: Some(Timestamps { tsval, tsecr }),
        ..TcpOptions::default()
    }
}

/// Parses `hex_packet` end to end and checks it against `ip` and `tcp`,
/// the TCP checksum field against `checksum`, then emits both headers
/// again and compares the bytes.
fn check_tcp_vector(hex_packet: &str, ip: IpRepr, tcp: TcpRepr<'_>, checksum: u16) {
    let bytes = hex(hex_packet);
    let (parsed_ip, segment) = ip::parse(&bytes, true).expect("IP parses, checksum verified");
    assert_eq!(parsed_ip, ip);
    assert_eq!(segment, &bytes[ip.header_len()..]);
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let packet = TcpPacket::new_checked(segment).unwrap();
    assert_eq!(packet.checksum(), checksum);
    assert_eq!(packet.reserved(), 0);
    assert!(packet.verify_checksum(&src, &dst));
    let parsed = TcpRepr::parse(&packet, &src, &dst, true).expect("TCP parses, checksum verified");
    assert_eq!(parsed, tcp);

    // Emitted again: the same bytes, checksums included.
    let mut out = vec![0u8; ip.total_len()];
    let n = ip.emit(&mut out).unwrap();
    tcp.emit(&mut out[n..], &src, &dst).unwrap();
    assert_eq!(out, bytes);

    // One byte changed anywhere: refused when verifying.
    for at in [ip.header_len() - 1, ip.header_len() + 4, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        let result = ip::parse(&bad, true).and_then(|(ip, seg)| {
            TcpRepr::parse_bytes(seg, &ip.src_addr(), &ip.dst_addr(), true).map(|_| ())
        });
        assert!(result.is_err(), "byte {at} changed yet accepted");
    }
}

/// A SYN the Linux kernel (6.x) wrote to a TUN device:
/// 10.77.0.1:36456 → 10.77.0.2:80, MSS 1460, SACK-permitted, timestamps,
/// NOP, window scale 7. (The vector of issue 2.)
const LINUX_SYN_V4: &str = "4500003c085f400040061dc10a4d00010a4d00028e680050eab182a700000000\
                            a002faf0c94c0000020405b40402080a76c7fc4c0000000001030307";

/// The same over IPv6: fd77::1:49602 → fd77::2:80, MSS 1440.
const LINUX_SYN_V6: &str = "6001e3ca00280640fd770000000000000000000000000001fd77000000000000\
                            0000000000000002c1c200501b8715a300000000a002fd20b2bc0000020405a0\
                            0402080a597350940000000001030307";

#[test]
fn linux_syn_v4() {
    let bytes = hex(LINUX_SYN_V4);
    // The IP header on its own: total length 60, ident 0x085f, DF,
    // checksum 0x1dc1.
    let header = Ipv4Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(header.header_len(), 20);
    assert_eq!(header.total_len(), 60);
    assert_eq!(header.ident(), 0x085f);
    assert!(header.dont_frag() && !header.more_frags() && !header.reserved_flag());
    assert_eq!(header.checksum(), 0x1dc1);
    assert!(header.verify_checksum());
    check_tcp_vector(
        LINUX_SYN_V4,
        v4(IpProtocol::TCP, 40, 0x085f, true),
        TcpRepr {
            src_port: 36456,
            dst_port: 80,
            seq: SeqNum(0xeab1_82a7),
            ack: SeqNum(0),
            flags: TcpFlags::SYN,
            window: 64240,
            urgent: 0,
            options: syn_options(1460, 0x76c7_fc4c, 0, 7),
            payload: &[],
        },
        0xc94c,
    );
}

#[test]
fn linux_syn_v6() {
    check_tcp_vector(
        LINUX_SYN_V6,
        v6(IpProtocol::TCP, 40, 0x1e3ca),
        TcpRepr {
            src_port: 49602,
            dst_port: 80,
            seq: SeqNum(0x1b87_15a3),
            ack: SeqNum(0),
            flags: TcpFlags::SYN,
            window: 64800,
            urgent: 0,
            options: syn_options(1440, 0x5973_5094, 0, 7),
            payload: &[],
        },
        0xb2bc,
    );
}

// The rest were captured in one run (kernel 6.18, net.ipv4.tcp_rmem giving
// window scale 10): the kernel connected from 10.77.0.1:38674 (fd77::1:50672)
// to a peer at :80 played by the capture script (ISS 0x10000000, TSval
// 1000, +10 per segment), sent a request, received 50 bytes out of order
// and then the 100 bytes missing before them, and closed; then it answered
// a SYN to its listener on :8080 and one to closed port 9, a ping, and a
// UDP datagram to closed port 9.

const REQUEST: &[u8] = b"GET / HTTP/1.0\r\nHost: synack\r\n\r\n";

/// The request: PSH+ACK with 32 bytes of data and timestamps.
const DATA_V4: &str = "45000054b74e400040066eb90a4d00010a4d000297120050d83dcfbe10000001\
                       8018003fb78800000101080a10c81f2d000003e8474554202f20485454502f31\
                       2e300d0a486f73743a2073796e61636b0d0a0d0a";
const DATA_V6: &str = "600b535000400640fd770000000000000000000000000001fd77000000000000\
                       0000000000000002c5f000501161daf410000001801800400bb900000101080a\
                       2f315305000003e8474554202f20485454502f312e300d0a486f73743a207379\
                       6e61636b0d0a0d0a";

#[test]
fn linux_data_segment_with_timestamps() {
    check_tcp_vector(
        DATA_V4,
        v4(IpProtocol::TCP, 64, 0xb74e, true),
        TcpRepr {
            src_port: 38674,
            dst_port: 80,
            seq: SeqNum(0xd83d_cfbe),
            ack: SeqNum(0x1000_0001),
            flags: TcpFlags::PSH | TcpFlags::ACK,
            window: 63,
            urgent: 0,
            options: ts_only(0x10c8_1f2d, 1000),
            payload: REQUEST,
        },
        0xb788,
    );
    check_tcp_vector(
        DATA_V6,
        v6(IpProtocol::TCP, 64, 0xb5350),
        TcpRepr {
            src_port: 50672,
            dst_port: 80,
            seq: SeqNum(0x1161_daf4),
            ack: SeqNum(0x1000_0001),
            flags: TcpFlags::PSH | TcpFlags::ACK,
            window: 64,
            urgent: 0,
            options: ts_only(0x2f31_5305, 1000),
            payload: REQUEST,
        },
        0x0bb9,
    );
}

/// The duplicate ACK for the out-of-order 50 bytes: NOP, NOP, timestamps,
/// NOP, NOP, SACK with one block [ISS+101, ISS+151).
const SACK_ACK_V4: &str = "45000040b74f400040066ecc0a4d00010a4d000297120050d83dcfde10000001\
                           b010003f877100000101080a10c81f2d000003e80101050a1000006510000097";
const SACK_ACK_V6: &str = "600b5350002c0640fd770000000000000000000000000001fd77000000000000\
                           0000000000000002c5f000501161db1410000001b0100040dba100000101080a\
                           2f315305000003e80101050a1000006510000097";

#[test]
fn linux_ack_with_sack_block() {
    let options = |tsval| TcpOptions {
        sack: SackBlocks::from_slice(&[SackBlock {
            start: SeqNum(0x1000_0065),
            end: SeqNum(0x1000_0097),
        }])
        .unwrap(),
        ..ts_only(tsval, 1000)
    };
    check_tcp_vector(
        SACK_ACK_V4,
        v4(IpProtocol::TCP, 44, 0xb74f, true),
        TcpRepr {
            src_port: 38674,
            dst_port: 80,
            seq: SeqNum(0xd83d_cfde),
            ack: SeqNum(0x1000_0001),
            flags: TcpFlags::ACK,
            window: 63,
            urgent: 0,
            options: options(0x10c8_1f2d),
            payload: &[],
        },
        0x8771,
    );
    check_tcp_vector(
        SACK_ACK_V6,
        v6(IpProtocol::TCP, 44, 0xb5350),
        TcpRepr {
            src_port: 50672,
            dst_port: 80,
            seq: SeqNum(0x1161_db14),
            ack: SeqNum(0x1000_0001),
            flags: TcpFlags::ACK,
            window: 64,
            urgent: 0,
            options: options(0x2f31_5305),
            payload: &[],
        },
        0xdba1,
    );
}

/// FIN+ACK after the hole was filled (ACK ISS+151), and the ACK before it.
const ACK_AFTER_FILL_V4: &str = "45000034b750400040066ed70a4d00010a4d000297120050d83dcfde10000097\
                                 8010003fddda00000101080a10c81f2d000003fc";
const FIN_V4: &str = "45000034b751400040066ed60a4d00010a4d000297120050d83dcfde10000097\
                      8011003fddd900000101080a10c81f2d000003fc";
const FIN_V6: &str = "600b535000200640fd770000000000000000000000000001fd77000000000000\
                      0000000000000002c5f000501161db141000009780110040320a00000101080a\
                      2f315305000003fc";

#[test]
fn linux_ack_and_fin() {
    let segment = |flags, ident| {
        (
            v4(IpProtocol::TCP, 32, ident, true),
            TcpRepr {
                src_port: 38674,
                dst_port: 80,
                seq: SeqNum(0xd83d_cfde),
                ack: SeqNum(0x1000_0097),
                flags,
                window: 63,
                urgent: 0,
                options: ts_only(0x10c8_1f2d, 1020),
                payload: &[],
            },
        )
    };
    let (ip, tcp) = segment(TcpFlags::ACK, 0xb750);
    check_tcp_vector(ACK_AFTER_FILL_V4, ip, tcp, 0xddda);
    let (ip, tcp) = segment(TcpFlags::FIN | TcpFlags::ACK, 0xb751);
    assert_eq!(tcp.seq_len(), 1);
    check_tcp_vector(FIN_V4, ip, tcp, 0xddd9);
    check_tcp_vector(
        FIN_V6,
        v6(IpProtocol::TCP, 32, 0xb5350),
        TcpRepr {
            src_port: 50672,
            dst_port: 80,
            seq: SeqNum(0x1161_db14),
            ack: SeqNum(0x1000_0097),
            flags: TcpFlags::FIN | TcpFlags::ACK,
            window: 64,
            urgent: 0,
            options: ts_only(0x2f31_5305, 1020),
            payload: &[],
        },
        0x320a,
    );
}

/// The listener's SYN-ACK to a SYN with MSS 1400, SACK-permitted,
/// timestamps (TSval 5000) and window scale 7, from :40000 with ISS
/// 0x20000000.
const SYNACK_V4: &str = "4500003c00004000400626200a4d00010a4d00021f909c40380cd22720000001\
                         a012fe88c2c10000020405b40402080a60c617b2000013880103030a";
const SYNACK_V6: &str = "6005ecd100280640fd770000000000000000000000000001fd77000000000000\
                         00000000000000021f909c40cdd0edb820000001a012fb042cff0000020405a0\
                         0402080a38da414d000013880103030a";

#[test]
fn linux_syn_ack() {
    check_tcp_vector(
        SYNACK_V4,
        v4(IpProtocol::TCP, 40, 0, true),
        TcpRepr {
            src_port: 8080,
            dst_port: 40000,
            seq: SeqNum(0x380c_d227),
            ack: SeqNum(0x2000_0001),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: 65160,
            urgent: 0,
            options: syn_options(1460, 0x60c6_17b2, 5000, 10),
            payload: &[],
        },
        0xc2c1,
    );
    check_tcp_vector(
        SYNACK_V6,
        v6(IpProtocol::TCP, 40, 0x5ecd1),
        TcpRepr {
            src_port: 8080,
            dst_port: 40000,
            seq: SeqNum(0xcdd0_edb8),
            ack: SeqNum(0x2000_0001),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: 64260,
            urgent: 0,
            options: syn_options(1440, 0x38da_414d, 5000, 10),
            payload: &[],
        },
        0x2cff,
    );
}

/// RST+ACK for a SYN to a closed port (RFC 9293 §3.10.7.1: SEQ 0,
/// ACK = SEG.SEQ + 1).
const RST_V4: &str = "4500002800004000400626340a4d00010a4d000200099c4100000000300000015014\
                      0000cee80000";
const RST_V6: &str = "6002e00600140640fd770000000000000000000000000001fd77000000000000\
                      000000000000000200099c41000000003000000150140000e8920000";

#[test]
fn linux_rst_for_closed_port() {
    let rst = TcpRepr {
        src_port: 9,
        dst_port: 40001,
        seq: SeqNum(0),
        ack: SeqNum(0x3000_0001),
        flags: TcpFlags::RST | TcpFlags::ACK,
        window: 0,
        urgent: 0,
        options: TcpOptions::default(),
        payload: &[],
    };
    check_tcp_vector(RST_V4, v4(IpProtocol::TCP, 20, 0, true), rst, 0xcee8);
    check_tcp_vector(RST_V6, v6(IpProtocol::TCP, 20, 0x2e006), rst, 0xe892);
}

const ECHO_REPLY_V4: &str = "45000027d9f7000040018c420a4d00010a4d0002000087914242000773796e61\
                             636b2070696e67";
const ECHO_REPLY_V6: &str = "600c822c00133a40fd770000000000000000000000000001fd77000000000000\
                             000000000000000281000b514242000773796e61636b2070696e67";

#[test]
fn linux_echo_replies() {
    let echo = Icmpv4Repr::EchoReply {
        ident: 0x4242,
        seq_no: 7,
        data: b"synack ping",
    };
    let bytes = hex(ECHO_REPLY_V4);
    let (ip, payload) = ip::parse(&bytes, true).unwrap();
    assert_eq!(ip, v4(IpProtocol::ICMP, 19, 0xd9f7, false));
    assert_eq!(Icmpv4Repr::parse_bytes(payload, true), Ok(echo));
    let mut out = vec![0u8; bytes.len()];
    ip.emit(&mut out).unwrap();
    echo.emit(&mut out[20..]).unwrap();
    assert_eq!(out, bytes);

    let echo = Icmpv6Repr::EchoReply {
        ident: 0x4242,
        seq_no: 7,
        data: b"synack ping",
    };
    let bytes = hex(ECHO_REPLY_V6);
    let (ip, payload) = ip::parse(&bytes, true).unwrap();
    assert_eq!(ip, v6(IpProtocol::ICMPV6, 19, 0xc822c));
    assert_eq!(
        Icmpv6Repr::parse_bytes(payload, &V6_LOCAL, &V6_PEER, true),
        Ok(echo)
    );
    // The ICMPv6 checksum covers the pseudo-header.
    assert_eq!(
        Icmpv6Repr::parse_bytes(payload, &V6_PEER, &V6_PEER, true),
        Err(Error::BadChecksum)
    );
    let mut out = vec![0u8; bytes.len()];
    ip.emit(&mut out).unwrap();
    echo.emit(&V6_LOCAL, &V6_PEER, &mut out[40..]).unwrap();
    assert_eq!(out, bytes);
}

/// Port unreachable for a UDP datagram 10.77.0.2:40002 → 10.77.0.1:9
/// ("hello"), quoted whole; the kernel sends ICMP errors with DSCP CS6.
const PORT_UNREACHABLE_V4: &str =
    "45c0003dd9f8000040018b6b0a4d00010a4d0002030311b80000000045000021\
                                   567840004011cfb70a4d00020a4d00019c420009000d0b1a68656c6c6f";
const PORT_UNREACHABLE_V6: &str =
    "600f3ad4003d3a40fd770000000000000000000000000001fd77000000000000\
                                   0000000000000002010492620000000060000000000d1140fd770000000000\
                                   000000000000000002fd7700000000000000000000000000019c420009000d\
                                   24c468656c6c6f";

#[test]
fn linux_port_unreachable_quotes_the_datagram() {
    let bytes = hex(PORT_UNREACHABLE_V4);
    let (ip, payload) = ip::parse(&bytes, true).unwrap();
    let IpRepr::V4(expected) = v4(IpProtocol::ICMP, 41, 0xd9f8, false) else {
        unreachable!()
    };
    assert_eq!(
        ip,
        IpRepr::V4(Ipv4Repr {
            dscp: 48,
            ..expected
        })
    );
    let icmp = Icmpv4Repr::parse_bytes(payload, true).unwrap();
    assert_eq!(
        icmp,
        Icmpv4Repr::DstUnreachable {
            reason: Icmpv4DstUnreachable::PortUnreachable,
            quoted: &bytes[28..],
        }
    );
    let quoted = Quoted::parse_v4(icmp.quoted().unwrap()).unwrap();
    assert_eq!(quoted.src, IpAddr::V4(V4_PEER));
    assert_eq!(quoted.dst, IpAddr::V4(V4_LOCAL));
    assert_eq!(quoted.protocol, IpProtocol::UDP);
    assert_eq!(quoted.ports(), Some((40002, 9)));
    assert_eq!(&quoted.transport[8..], b"hello");
    assert_eq!(quoted.tcp(), Err(Error::Unsupported));
    let mut out = vec![0u8; bytes.len()];
    ip.emit(&mut out).unwrap();
    icmp.emit(&mut out[20..]).unwrap();
    assert_eq!(out, bytes);

    let bytes = hex(PORT_UNREACHABLE_V6);
    let (ip, payload) = ip::parse(&bytes, true).unwrap();
    assert_eq!(ip, v6(IpProtocol::ICMPV6, 61, 0xf3ad4));
    let icmp = Icmpv6Repr::parse_bytes(payload, &V6_LOCAL, &V6_PEER, true).unwrap();
    assert_eq!(
        icmp,
        Icmpv6Repr::DstUnreachable {
            reason: Icmpv6DstUnreachable::PortUnreachable,
            quoted: &bytes[48..],
        }
    );
    let quoted = Quoted::parse_v6(icmp.quoted().unwrap()).unwrap();
    assert_eq!(quoted.src, IpAddr::V6(V6_PEER));
    assert_eq!(quoted.dst, IpAddr::V6(V6_LOCAL));
    assert_eq!(quoted.protocol, IpProtocol::UDP);
    assert_eq!(quoted.ports(), Some((40002, 9)));
    let mut out = vec![0u8; bytes.len()];
    ip.emit(&mut out).unwrap();
    icmp.emit(&V6_LOCAL, &V6_PEER, &mut out[40..]).unwrap();
    assert_eq!(out, bytes);
}
