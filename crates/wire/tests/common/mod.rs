//! Strategies and builders shared by the integration tests: random valid
//! headers, and whole packets built with this crate's `emit`.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;
use wire::ip::{IpProtocol, IpRepr};
use wire::ipv4::Ipv4Repr;
use wire::ipv6::{FragmentInfo, Ipv6Repr};
use wire::tcp::{
    SackBlock, SackBlocks, TcpFlags, TcpOptions, TcpRepr, Timestamps, MAX_OPTIONS_LEN,
};
use wire::SeqNum;

/// Decodes a hex string (whitespace ignored).
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).expect("ascii");
            u8::from_str_radix(text, 16).expect("hex digit")
        })
        .collect()
}

pub fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

pub fn ipv6_addr() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

/// A fragment offset in bytes: a multiple of 8 that fits 13 bits of
/// 8-byte units.
pub fn frag_offset() -> impl Strategy<Value = u16> {
    (0u16..8192).prop_map(|units| units * 8)
}

/// `(more_frags, offset)`: mostly an unfragmented packet, sometimes a
/// first, middle or last fragment.
fn ipv4_fragmentation() -> impl Strategy<Value = (bool, u16)> {
    prop_oneof![
        3 => Just((false, 0)),
        1 => (any::<bool>(), frag_offset()),
    ]
}

/// An IPv4 header with every field random within its width, for
/// `protocol`. `payload_len` is 0: the test sets it.
pub fn ipv4_repr(protocol: IpProtocol) -> impl Strategy<Value = Ipv4Repr> {
    (
        ipv4_addr(),
        ipv4_addr(),
        any::<u8>(),
        0u8..64,
        0u8..4,
        any::<u16>(),
        any::<bool>(),
        ipv4_fragmentation(),
    )
        .prop_map(
            move |(
                src_addr,
                dst_addr,
                ttl,
                dscp,
                ecn,
                ident,
                dont_frag,
                (more_frags, frag_offset),
            )| {
                Ipv4Repr {
                    src_addr,
                    dst_addr,
                    protocol,
                    payload_len: 0,
                    ttl,
                    dscp,
                    ecn,
                    ident,
                    dont_frag,
                    more_frags,
                    frag_offset,
                }
            },
        )
}

/// A fragment header: any offset, M flag and identification.
pub fn fragment_info() -> impl Strategy<Value = FragmentInfo> {
    (frag_offset(), any::<bool>(), any::<u32>()).prop_map(|(offset, more_frags, ident)| {
        FragmentInfo {
            offset,
            more_frags,
            ident,
        }
    })
}

/// An IPv6 header, with a fragment header one time in four, for
/// `next_header` (which must not be an extension header). `payload_len`
/// is 0: the test sets it.
pub fn ipv6_repr(next_header: IpProtocol) -> impl Strategy<Value = Ipv6Repr> {
    (
        ipv6_addr(),
        ipv6_addr(),
        any::<u8>(),
        any::<u8>(),
        0u32..=wire::ipv6::MAX_FLOW_LABEL,
        prop::option::weighted(0.25, fragment_info()),
    )
        .prop_map(
            move |(src_addr, dst_addr, hop_limit, traffic_class, flow_label, fragment)| Ipv6Repr {
                src_addr,
                dst_addr,
                next_header,
                payload_len: 0,
                hop_limit,
                traffic_class,
                flow_label,
                fragment,
            },
        )
}

/// An IPv4 or IPv6 header for `protocol`, with `payload_len` 0.
pub fn ip_repr(protocol: IpProtocol) -> impl Strategy<Value = IpRepr> {
    prop_oneof![
        ipv4_repr(protocol).prop_map(IpRepr::V4),
        ipv6_repr(protocol).prop_map(IpRepr::V6),
    ]
}

/// A protocol number that is not an IPv6 extension header this crate
/// skips (so that an IPv6 round trip gives it back).
pub fn upper_protocol() -> impl Strategy<Value = IpProtocol> {
    any::<u8>()
        .prop_map(IpProtocol)
        .prop_filter("not an extension header", |p| {
            !matches!(
                *p,
                IpProtocol::HOP_BY_HOP
                    | IpProtocol::ROUTING
                    | IpProtocol::FRAGMENT
                    | IpProtocol::DESTINATION_OPTIONS
            )
        })
}

/// A random combination of the options TCP acts on, with as many SACK
/// blocks (0 to 4) as fit in 40 bytes beside the others.
pub fn tcp_options() -> impl Strategy<Value = TcpOptions> {
    (
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u8>()),
        any::<bool>(),
        prop::option::of(any::<(u32, u32)>()),
        vec(any::<(u32, u32)>(), 0..=4),
    )
        .prop_map(|(mss, window_scale, sack_permitted, ts, blocks)| {
            let mut options = TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                timestamps: ts.map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
                sack: SackBlocks::EMPTY,
            };
            for (start, end) in blocks {
                let grow = if options.sack.is_empty() { 12 } else { 8 };
                if options.len() + grow > MAX_OPTIONS_LEN {
                    break;
                }
                options.sack.push(SackBlock {
                    start: SeqNum(start),
                    end: SeqNum(end),
                });
            }
            options
        })
}

/// An owned TCP segment, from which a [`TcpRepr`] borrows.
#[derive(Debug, Clone)]
pub struct TcpSpec {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    /// Random even without ACK: `emit` must then send zero.
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
    pub payload: Vec<u8>,
}

impl TcpSpec {
    /// The Repr to emit.
    pub fn repr(&self) -> TcpRepr<'_> {
        TcpRepr {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq: SeqNum(self.seq),
            ack: SeqNum(self.ack),
            flags: self.flags,
            window: self.window,
            urgent: self.urgent,
            options: self.options,
            payload: &self.payload,
        }
    }

    /// The acknowledgment number on the wire: zero without ACK.
    pub fn wire_ack(&self) -> u32 {
        if self.flags.contains(TcpFlags::ACK) {
            self.ack
        } else {
            0
        }
    }

    /// The Repr that parsing the emitted bytes must give back.
    pub fn expected(&self) -> TcpRepr<'_> {
        TcpRepr {
            ack: SeqNum(self.wire_ack()),
            ..self.repr()
        }
    }
}

/// A payload: often empty (pure ACKs, SYNs), otherwise up to one
/// Ethernet MSS.
pub fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => Just(Vec::new()),
        3 => vec(any::<u8>(), 1..=64),
        1 => vec(any::<u8>(), 65..=1460),
    ]
}

/// Any TCP segment this crate can emit: all nine flags random, every
/// option combination that fits, any payload.
pub fn tcp_spec() -> impl Strategy<Value = TcpSpec> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        any::<u16>().prop_map(TcpFlags::from_bits),
        any::<u16>(),
        any::<u16>(),
        tcp_options(),
        payload(),
    )
        .prop_map(
            |(src_port, dst_port, seq, ack, flags, window, urgent, options, payload)| TcpSpec {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                urgent,
                options,
                payload,
            },
        )
}

/// Emits `ip` (with its payload length set to the segment's) followed by
/// the TCP segment, checksums filled. Returns the packet and the IP
/// header as emitted.
pub fn build_tcp_packet(ip: IpRepr, tcp: &TcpRepr<'_>) -> (Vec<u8>, IpRepr) {
    let mut ip = ip;
    ip.set_payload_len(tcp.buffer_len());
    let mut bytes = vec![0u8; ip.total_len()];
    let header_len = ip.emit(&mut bytes).expect("IP header emits");
    assert_eq!(header_len, ip.header_len());
    let written = tcp
        .emit(&mut bytes[header_len..], &ip.src_addr(), &ip.dst_addr())
        .expect("TCP segment emits");
    assert_eq!(header_len + written, bytes.len());
    (bytes, ip)
}

/// The addresses of a header.
pub fn addrs(ip: &IpRepr) -> (IpAddr, IpAddr) {
    (ip.src_addr(), ip.dst_addr())
}
