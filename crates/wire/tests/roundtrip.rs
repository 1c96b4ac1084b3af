//! Property tests: for random valid headers `parse(emit(repr)) == repr`,
//! checksums verify and any single-bit corruption is caught; and no input
//! at all makes a parser panic, with every successful parse re-emitted and
//! parsed again to the same meaning.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use wire::icmpv4::{
    Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr, Icmpv4TimeExceeded, Quoted, MIN_QUOTE_V4,
};
use wire::icmpv6::{
    Icmpv6DstUnreachable, Icmpv6Packet, Icmpv6ParamProblem, Icmpv6Repr, Icmpv6TimeExceeded,
};
use wire::ip::{self, IpProtocol, IpRepr};
use wire::ipv4::{Ipv4Packet, Ipv4Repr};
use wire::ipv6::{self, Ipv6Packet, Ipv6Repr};
use wire::tcp::{
    TcpFlags, TcpOption, TcpOptionIter, TcpOptions, TcpPacket, TcpRepr, MAX_OPTIONS_LEN,
};
use wire::{Error, SeqNum};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are reported with their minimal input; no files are
        // written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Flips bit `bit` of `bytes`.
fn flip(bytes: &mut [u8], bit: usize) {
    bytes[bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn ipv4_round_trip(
        repr in upper_protocol().prop_flat_map(ipv4_repr),
        payload in vec(any::<u8>(), 0..100),
        padding in vec(any::<u8>(), 0..8),
        bit in 0usize..160,
    ) {
        let repr = Ipv4Repr { payload_len: payload.len(), ..repr };
        let mut bytes = vec![0u8; repr.total_len()];
        prop_assert_eq!(repr.emit(&mut bytes), Ok(20));
        bytes[20..].copy_from_slice(&payload);
        bytes.extend_from_slice(&padding);

        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(packet.total_len() as usize, 20 + payload.len());
        prop_assert_eq!(Ipv4Repr::parse(&packet, true), Ok(repr));
        prop_assert_eq!(repr.is_fragment(), repr.more_frags || repr.frag_offset != 0);
        let (parsed, data) = ip::parse(&bytes, true).unwrap();
        prop_assert_eq!(parsed, IpRepr::V4(repr));
        prop_assert_eq!(data, &payload[..]);

        // Any single-bit error in the header is caught: by the checksum,
        // or earlier by a length or version check.
        let mut bad = bytes.clone();
        flip(&mut bad, bit);
        prop_assert!(ip::parse(&bad, true).is_err());
    }

    /// Options are not emitted, but a header that has them is read: its
    /// length honoured, the options covered by the checksum.
    #[test]
    fn ipv4_with_options_parses_to_the_same_repr(
        repr in upper_protocol().prop_flat_map(ipv4_repr),
        options in (1usize..=10).prop_flat_map(|words| vec(any::<u8>(), words * 4)),
        payload in vec(any::<u8>(), 0..64),
        bit in any::<Index>(),
    ) {
        let repr = Ipv4Repr { payload_len: payload.len(), ..repr };
        let header_len = 20 + options.len();
        let mut bytes = vec![0u8; header_len + payload.len()];
        repr.emit(&mut bytes).unwrap();
        {
            let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
            packet.set_header_len(header_len);
            packet.set_total_len((header_len + payload.len()) as u16);
            packet.options_mut().copy_from_slice(&options);
            packet.payload_mut().copy_from_slice(&payload);
            packet.fill_checksum();
        }
        let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(packet.options(), &options[..]);
        prop_assert_eq!(Ipv4Repr::parse(&packet, true), Ok(repr));
        let (parsed, data) = ip::parse(&bytes, true).unwrap();
        prop_assert_eq!(parsed, IpRepr::V4(repr));
        prop_assert_eq!(data, &payload[..]);
        // Corruption in the options is caught too.
        let mut bad = bytes.clone();
        flip(&mut bad, 160 + bit.index(options.len() * 8));
        prop_assert_eq!(ip::parse(&bad, true), Err(Error::BadChecksum));
    }

    #[test]
    fn ipv6_round_trip(
        repr in upper_protocol().prop_flat_map(ipv6_repr),
        payload in vec(any::<u8>(), 0..100),
        padding in vec(any::<u8>(), 0..8),
    ) {
        let repr = Ipv6Repr { payload_len: payload.len(), ..repr };
        let mut bytes = vec![0u8; repr.total_len()];
        let header_len = repr.emit(&mut bytes).unwrap();
        prop_assert_eq!(header_len, if repr.fragment.is_some() { 48 } else { 40 });
        bytes[header_len..].copy_from_slice(&payload);
        bytes.extend_from_slice(&padding);

        let packet = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(usize::from(packet.payload_len()), header_len - 40 + payload.len());
        prop_assert_eq!(Ipv6Repr::parse_with_offset(&packet), Ok((repr, header_len)));
        let (parsed, data) = ip::parse(&bytes, true).unwrap();
        prop_assert_eq!(parsed, IpRepr::V6(repr));
        prop_assert_eq!(data, &payload[..]);
        prop_assert_eq!(
            parsed.frag_offset(),
            repr.fragment.map_or(0, |f| f.offset)
        );
        prop_assert_eq!(parsed.is_fragment(), repr.fragment.is_some_and(|f| f.is_fragment()));
    }

    #[test]
    fn tcp_options_round_trip(options in tcp_options()) {
        let len = options.len();
        prop_assert!(len <= MAX_OPTIONS_LEN);
        prop_assert_eq!(len % 4, 0);
        let mut buf = vec![0u8; len];
        prop_assert_eq!(options.emit(&mut buf), Ok(len));
        prop_assert_eq!(TcpOptions::parse(&buf), Ok(options));
        // Each option the struct holds appears exactly once on the wire.
        let mut seen = TcpOptions::default();
        let mut count = 0;
        for option in TcpOptionIter::new(&buf) {
            match option.unwrap() {
                TcpOption::NoOp => continue,
                TcpOption::Mss(v) => seen.mss = Some(v),
                TcpOption::WindowScale(v) => seen.window_scale = Some(v),
                TcpOption::SackPermitted => seen.sack_permitted = true,
                TcpOption::Timestamps(t) => seen.timestamps = Some(t),
                TcpOption::Sack(blocks) => seen.sack = blocks,
                other => prop_assert!(false, "unexpected option {:?}", other),
            }
            count += 1;
        }
        prop_assert_eq!(seen, options);
        let expected_count = usize::from(options.mss.is_some())
            + usize::from(options.window_scale.is_some())
            + usize::from(options.sack_permitted)
            + usize::from(options.timestamps.is_some())
            + usize::from(!options.sack.is_empty());
        prop_assert_eq!(count, expected_count);
        if len > 0 {
            prop_assert_eq!(options.emit(&mut buf[..len - 1]), Err(Error::NoSpace));
        }
    }

    #[test]
    fn tcp_round_trip(
        spec in tcp_spec(),
        ip in ip_repr(IpProtocol::TCP),
        bit in any::<Index>(),
        addr_bit in 0usize..32,
    ) {
        let (src, dst) = addrs(&ip);
        let repr = spec.repr();
        let len = repr.buffer_len();
        prop_assert_eq!(len, 20 + spec.options.len() + spec.payload.len());
        let mut seg = vec![0u8; len];
        prop_assert_eq!(repr.emit(&mut seg, &src, &dst), Ok(len));

        let packet = TcpPacket::new_checked(&seg[..]).unwrap();
        prop_assert!(packet.verify_checksum(&src, &dst));
        prop_assert_eq!(packet.header_len(), repr.header_len());
        prop_assert_eq!(packet.reserved(), 0);
        prop_assert_eq!(packet.payload(), &spec.payload[..]);
        let parsed = TcpRepr::parse(&packet, &src, &dst, true).unwrap();
        prop_assert_eq!(parsed, spec.expected());
        prop_assert_eq!(parsed.ack, SeqNum(spec.wire_ack()));
        prop_assert_eq!(
            parsed.seq_len() as usize,
            spec.payload.len()
                + usize::from(spec.flags.contains(TcpFlags::SYN))
                + usize::from(spec.flags.contains(TcpFlags::FIN))
        );

        // The two ways of emitting agree: header, then data, then checksum.
        let mut split = vec![0u8; len];
        let header_len = repr.emit_header(&mut split).unwrap();
        split[header_len..].copy_from_slice(&spec.payload);
        TcpPacket::new_unchecked(&mut split[..]).fill_checksum(&src, &dst).unwrap();
        prop_assert_eq!(&split, &seg);

        // A buffer one byte short is refused, not overrun.
        prop_assert_eq!(repr.emit(&mut seg.clone()[..len - 1], &src, &dst), Err(Error::NoSpace));

        // Any single-bit error in the segment is caught.
        let mut bad = seg.clone();
        flip(&mut bad, bit.index(len * 8));
        prop_assert!(TcpRepr::parse_bytes(&bad, &src, &dst, true).is_err());
        // So is a wrong pseudo-header.
        let wrong_src = match src {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(a.to_bits() ^ (1 << addr_bit))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(a.to_bits() ^ (1 << (addr_bit * 4)))),
        };
        prop_assert_eq!(
            TcpRepr::parse_bytes(&seg, &wrong_src, &dst, true),
            Err(Error::BadChecksum)
        );
        prop_assert_eq!(TcpRepr::parse_bytes(&seg, &wrong_src, &dst, false), Ok(parsed));
    }

    #[test]
    fn ip_and_tcp_packet_round_trip(
        spec in tcp_spec(),
        ip in ip_repr(IpProtocol::TCP),
        padding in vec(any::<u8>(), 0..16),
    ) {
        let tcp = spec.repr();
        let (mut bytes, ip) = build_tcp_packet(ip, &tcp);
        bytes.extend_from_slice(&padding);
        let (parsed_ip, segment) = ip::parse(&bytes, true).unwrap();
        prop_assert_eq!(parsed_ip, ip);
        prop_assert_eq!(segment.len(), tcp.buffer_len());
        prop_assert_eq!(parsed_ip.pseudo_header(), ip.pseudo_header());
        let (src, dst) = addrs(&parsed_ip);
        let parsed = TcpRepr::parse_bytes(segment, &src, &dst, true).unwrap();
        prop_assert_eq!(parsed, spec.expected());
    }
}

/// Which ICMPv4 message to build, and its fields.
fn icmpv4_message() -> impl Strategy<Value = (u8, u16, u16, u8, Vec<u8>)> {
    (
        0u8..5,
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        vec(any::<u8>(), 0..200),
    )
}

fn icmpv4_repr(kind: u8, a: u16, b: u16, code: u8, data: &[u8]) -> Icmpv4Repr<'_> {
    match kind {
        0 => Icmpv4Repr::EchoRequest {
            ident: a,
            seq_no: b,
            data,
        },
        1 => Icmpv4Repr::EchoReply {
            ident: a,
            seq_no: b,
            data,
        },
        // `from_code` gives the one Repr each code parses to.
        2 => Icmpv4Repr::DstUnreachable {
            reason: Icmpv4DstUnreachable::from_code(code, a),
            quoted: data,
        },
        3 => Icmpv4Repr::TimeExceeded {
            reason: Icmpv4TimeExceeded::from_code(code),
            quoted: data,
        },
        _ => Icmpv4Repr::ParamProblem {
            code,
            pointer: b as u8,
            quoted: data,
        },
    }
}

fn icmpv6_repr(kind: u8, a: u32, b: u16, code: u8, data: &[u8]) -> Icmpv6Repr<'_> {
    match kind {
        0 => Icmpv6Repr::EchoRequest {
            ident: a as u16,
            seq_no: b,
            data,
        },
        1 => Icmpv6Repr::EchoReply {
            ident: a as u16,
            seq_no: b,
            data,
        },
        2 => Icmpv6Repr::DstUnreachable {
            reason: Icmpv6DstUnreachable::from_code(code),
            quoted: data,
        },
        3 => Icmpv6Repr::PacketTooBig {
            mtu: a,
            quoted: data,
        },
        4 => Icmpv6Repr::TimeExceeded {
            reason: Icmpv6TimeExceeded::from_code(code),
            quoted: data,
        },
        _ => Icmpv6Repr::ParamProblem {
            reason: Icmpv6ParamProblem::from_code(code),
            pointer: a,
            quoted: data,
        },
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn icmpv4_round_trip((kind, a, b, code, data) in icmpv4_message(), bit in any::<Index>()) {
        let repr = icmpv4_repr(kind, a, b, code, &data);
        let len = repr.buffer_len();
        prop_assert_eq!(len, 8 + data.len());
        let mut bytes = vec![0u8; len];
        prop_assert_eq!(repr.emit(&mut bytes), Ok(len));
        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(packet.msg_type(), repr.msg_type());
        prop_assert_eq!(packet.code(), repr.code());
        prop_assert_eq!(Icmpv4Repr::parse(&packet, true), Ok(repr));
        prop_assert_eq!(repr.quoted().is_some(), repr.is_error());
        let mut bad = bytes.clone();
        flip(&mut bad, bit.index(len * 8));
        prop_assert!(Icmpv4Repr::parse_bytes(&bad, true).is_err());
    }

    #[test]
    fn icmpv6_round_trip(
        kind in 0u8..6,
        a in any::<u32>(),
        b in any::<u16>(),
        code in any::<u8>(),
        data in vec(any::<u8>(), 0..200),
        src in ipv6_addr(),
        dst in ipv6_addr(),
        bit in any::<Index>(),
    ) {
        let repr = icmpv6_repr(kind, a, b, code, &data);
        let len = repr.buffer_len();
        let mut bytes = vec![0u8; len];
        prop_assert_eq!(repr.emit(&src, &dst, &mut bytes), Ok(len));
        let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        prop_assert!(packet.verify_checksum(&src, &dst));
        prop_assert_eq!(Icmpv6Repr::parse(&packet, &src, &dst, true), Ok(repr));
        prop_assert_eq!(repr.quoted().is_some(), repr.is_error());
        let mut bad = bytes.clone();
        flip(&mut bad, bit.index(len * 8));
        prop_assert!(Icmpv6Repr::parse_bytes(&bad, &src, &dst, true).is_err());
    }

    /// An ICMP error about a TCP segment this host sent leads back to the
    /// connection: addresses, ports and sequence number.
    #[test]
    fn icmp_error_quotes_lead_back_to_the_segment(
        spec in tcp_spec(),
        ip in ip_repr(IpProtocol::TCP),
        mtu in 68u16..1500,
    ) {
        let tcp = spec.repr();
        let (original, ip) = build_tcp_packet(ip, &tcp);
        let mut icmp = vec![0u8; 1500];
        let quoted = match ip {
            IpRepr::V4(v4) => {
                let repr = Icmpv4Repr::dst_unreachable(
                    Icmpv4DstUnreachable::FragNeeded { next_hop_mtu: mtu },
                    &original,
                );
                let n = repr.emit(&mut icmp).unwrap();
                let parsed = Icmpv4Repr::parse_bytes(&icmp[..n], true).unwrap();
                prop_assert_eq!(
                    parsed,
                    Icmpv4Repr::DstUnreachable {
                        reason: Icmpv4DstUnreachable::FragNeeded { next_hop_mtu: mtu },
                        quoted: &original[..original.len().min(wire::icmpv4::MAX_QUOTE_V4)],
                    }
                );
                let quote = Quoted::parse_v4(parsed.quoted().unwrap());
                if v4.frag_offset != 0 {
                    prop_assert_eq!(quote, Err(Error::Unsupported));
                    return Ok(());
                }
                let quote = quote.unwrap();
                // The first 8 bytes of the transport header are enough.
                let short = Quoted::parse_v4(&original[..MIN_QUOTE_V4]).unwrap();
                prop_assert_eq!(short.tcp(), quote.tcp());
                quote
            }
            IpRepr::V6(v6) => {
                let (src, dst) = (v6.dst_addr, v6.src_addr);
                let repr = Icmpv6Repr::packet_too_big(u32::from(mtu), &original);
                let n = repr.emit(&src, &dst, &mut icmp).unwrap();
                let parsed = Icmpv6Repr::parse_bytes(&icmp[..n], &src, &dst, true).unwrap();
                prop_assert_eq!(parsed.quoted(), Some(&original[..original.len().min(wire::icmpv6::MAX_QUOTE_V6)]));
                let quote = Quoted::parse_v6(parsed.quoted().unwrap());
                if v6.fragment.is_some_and(|f| !f.is_first()) {
                    prop_assert_eq!(quote, Err(Error::Unsupported));
                    return Ok(());
                }
                quote.unwrap()
            }
        };
        prop_assert_eq!(quoted.protocol, IpProtocol::TCP);
        prop_assert_eq!(quoted.ports(), Some((spec.src_port, spec.dst_port)));
        let q = quoted.tcp().unwrap();
        prop_assert_eq!((q.src, q.dst), addrs(&ip));
        prop_assert_eq!((q.src_port, q.dst_port), (spec.src_port, spec.dst_port));
        prop_assert_eq!(q.seq, SeqNum(spec.seq));
    }
}

// ---------------------------------------------------------------------
// Parsing never panics, and what parses re-emits to the same meaning.
// ---------------------------------------------------------------------

const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

/// Emits a parsed TCP Repr again and checks the bytes parse to the same
/// meaning. The only loss allowed: the acknowledgment number without ACK
/// (sent as zero), and options that, gathered, no longer fit 40 bytes.
fn check_tcp_reemit(repr: &TcpRepr<'_>, src: &IpAddr, dst: &IpAddr) {
    let mut buf = vec![0u8; repr.buffer_len()];
    match repr.emit(&mut buf, src, dst) {
        Ok(n) => {
            assert_eq!(n, buf.len());
            let again = TcpRepr::parse_bytes(&buf, src, dst, true).expect("re-emitted TCP parses");
            let expected = TcpRepr {
                ack: if repr.flags.contains(TcpFlags::ACK) {
                    repr.ack
                } else {
                    SeqNum(0)
                },
                ..*repr
            };
            assert_eq!(again, expected);
        }
        Err(e) => {
            assert_eq!(e, Error::NoSpace);
            assert!(repr.options.len() > MAX_OPTIONS_LEN, "{repr:?}");
        }
    }
}

fn check_icmpv4_reemit(repr: &Icmpv4Repr<'_>) {
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut buf).expect("ICMPv4 re-emits");
    assert_eq!(Icmpv4Repr::parse_bytes(&buf, true).as_ref(), Ok(repr));
}

fn check_icmpv6_reemit(repr: &Icmpv6Repr<'_>, src: &Ipv6Addr, dst: &Ipv6Addr) {
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(src, dst, &mut buf).expect("ICMPv6 re-emits");
    assert_eq!(
        Icmpv6Repr::parse_bytes(&buf, src, dst, true).as_ref(),
        Ok(repr)
    );
}

fn check_quoted(quoted: &Quoted<'_>) {
    assert!(quoted.transport.len() >= 8);
    let _ = quoted.ports();
    if let Ok(tcp) = quoted.tcp() {
        assert_eq!(Some((tcp.src_port, tcp.dst_port)), quoted.ports());
    }
}

/// Runs `bytes` through every parser, in both verify modes, and checks what
/// parses.
fn exercise(bytes: &[u8]) {
    for verify in [false, true] {
        if let Ok((ip, payload)) = ip::parse(bytes, verify) {
            assert_eq!(payload.len(), ip.payload_len());
            if verify {
                // Verifying only ever refuses more.
                assert_eq!(ip::parse(bytes, false), Ok((ip, payload)));
            }
            check_ip_reemit(&ip, payload);
            exercise_upper(&ip, payload, verify);
        }
        for (src, dst) in [(A4, B4), (IpAddr::V6(A6), IpAddr::V6(B6))] {
            if let Ok(repr) = TcpRepr::parse_bytes(bytes, &src, &dst, verify) {
                check_tcp_reemit(&repr, &src, &dst);
            }
        }
        if let Ok(repr) = Icmpv4Repr::parse_bytes(bytes, verify) {
            check_icmpv4_reemit(&repr);
        }
        if let Ok(repr) = Icmpv6Repr::parse_bytes(bytes, &A6, &B6, verify) {
            check_icmpv6_reemit(&repr, &A6, &B6);
        }
    }
    let options = TcpOptions::parse(bytes);
    let items: Vec<_> = TcpOptionIter::new(bytes).collect();
    // The iterator stops after its first error; the gathered parse fails
    // exactly when it yields one.
    let errors = items.iter().filter(|o| o.is_err()).count();
    assert!(errors <= 1);
    assert_eq!(errors == 1, options.is_err());
    if errors == 1 {
        assert!(items.last().unwrap().is_err());
    }
    for quoted in [Quoted::parse_v4(bytes), Quoted::parse_v6(bytes)]
        .into_iter()
        .flatten()
    {
        check_quoted(&quoted);
    }
    if let Some((&first, rest)) = bytes.split_first() {
        if let Ok(upper) = ipv6::skip_extension_headers(IpProtocol(first), rest) {
            assert!(upper.offset <= rest.len());
        }
    }
    // Unchecked views read zeros past the end instead of panicking.
    let v4 = Ipv4Packet::new_unchecked(bytes);
    let _ = (
        v4.version(),
        v4.header_len(),
        v4.total_len(),
        v4.frag_offset(),
        v4.src_addr(),
        v4.dst_addr(),
        v4.options(),
        v4.payload(),
        v4.verify_checksum(),
    );
    let v6 = Ipv6Packet::new_unchecked(bytes);
    let _ = (
        v6.flow_label(),
        v6.payload(),
        v6.upper_layer(),
        v6.dst_addr(),
    );
    let icmp = Icmpv4Packet::new_unchecked(bytes);
    let _ = (icmp.data(), icmp.next_hop_mtu(), icmp.rest_of_header());
    if let Ok(tcp) = TcpPacket::new_checked(bytes) {
        let _ = (tcp.options(), tcp.payload(), tcp.flags(), tcp.urgent_at());
    }
}

/// Emits a parsed IP header with its payload and checks it parses back.
fn check_ip_reemit(ip: &IpRepr, payload: &[u8]) {
    let mut buf = vec![0u8; ip.total_len()];
    let header_len = ip.emit(&mut buf).expect("parsed IP header re-emits");
    buf[header_len..].copy_from_slice(payload);
    let (again, data) = ip::parse(&buf, true).expect("re-emitted IP parses");
    assert_eq!(&again, ip);
    assert_eq!(data, payload);
}

fn exercise_upper(ip: &IpRepr, payload: &[u8], verify: bool) {
    if ip.frag_offset() != 0 {
        return;
    }
    let (src, dst) = addrs(ip);
    match (ip.protocol(), ip) {
        (IpProtocol::TCP, _) => {
            if let Ok(repr) = TcpRepr::parse_bytes(payload, &src, &dst, verify) {
                check_tcp_reemit(&repr, &src, &dst);
            }
        }
        (IpProtocol::ICMP, IpRepr::V4(_)) => {
            if let Ok(repr) = Icmpv4Repr::parse_bytes(payload, verify) {
                check_icmpv4_reemit(&repr);
                if let Some(Ok(q)) = repr.quoted().map(Quoted::parse_v4) {
                    check_quoted(&q);
                }
            }
        }
        (IpProtocol::ICMPV6, IpRepr::V6(v6)) => {
            if let Ok(repr) = Icmpv6Repr::parse_bytes(payload, &v6.src_addr, &v6.dst_addr, verify) {
                check_icmpv6_reemit(&repr, &v6.src_addr, &v6.dst_addr);
                if let Some(Ok(q)) = repr.quoted().map(Quoted::parse_v6) {
                    check_quoted(&q);
                }
            }
        }
        _ => {}
    }
}

/// A valid packet of any kind this crate builds: IPv4 or IPv6 carrying TCP,
/// ICMP or ICMPv6.
fn valid_packet() -> impl Strategy<Value = Vec<u8>> {
    let tcp = (tcp_spec(), ip_repr(IpProtocol::TCP))
        .prop_map(|(spec, ip)| build_tcp_packet(ip, &spec.repr()).0);
    let icmp4 = (icmpv4_message(), ipv4_repr(IpProtocol::ICMP)).prop_map(
        |((kind, a, b, code, data), ip)| {
            let repr = icmpv4_repr(kind, a, b, code, &data);
            let ip = Ipv4Repr {
                payload_len: repr.buffer_len(),
                ..ip
            };
            let mut bytes = vec![0u8; ip.total_len()];
            ip.emit(&mut bytes).unwrap();
            repr.emit(&mut bytes[20..]).unwrap();
            bytes
        },
    );
    let icmp6 = (
        (0u8..6, any::<u32>(), any::<u16>(), any::<u8>()),
        vec(any::<u8>(), 0..200),
        ipv6_repr(IpProtocol::ICMPV6),
    )
        .prop_map(|((kind, a, b, code), data, ip)| {
            let repr = icmpv6_repr(kind, a, b, code, &data);
            let ip = Ipv6Repr {
                payload_len: repr.buffer_len(),
                ..ip
            };
            let mut bytes = vec![0u8; ip.total_len()];
            let n = ip.emit(&mut bytes).unwrap();
            repr.emit(&ip.src_addr, &ip.dst_addr, &mut bytes[n..])
                .unwrap();
            bytes
        });
    prop_oneof![3 => tcp, 1 => icmp4, 1 => icmp6]
}

/// An IPv6 packet whose payload is a random chain of bytes behind an
/// extension header type, to reach the extension header walk.
fn ipv6_with_random_extensions() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(0u8), Just(43), Just(44), Just(60), any::<u8>()],
        // Bytes that mean something in a chain (Pad1, PadN, TCP, routing,
        // fragment, destination options, an option to discard) are drawn
        // often.
        vec(
            any::<u8>().prop_map(|b| match b % 16 {
                0..=7 => [0, 1, 6, 43, 44, 60, 0xc2, 0][usize::from(b % 8)],
                _ => b,
            }),
            0..120,
        ),
    )
        .prop_map(|(first, payload)| {
            let repr = Ipv6Repr::new(A6, B6, IpProtocol(first), payload.len(), 64);
            let mut bytes = vec![0u8; repr.total_len()];
            repr.emit(&mut bytes).unwrap();
            bytes[40..].copy_from_slice(&payload);
            bytes
        })
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..2000)) {
        exercise(&bytes);
    }

    /// Arbitrary bytes behind a plausible first byte, so that the version
    /// check passes.
    #[test]
    fn arbitrary_ip_packets_never_panic(
        first in prop_oneof![Just(0x45u8), 0x40u8..0x50, 0x60u8..0x70],
        rest in vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = vec![first];
        bytes.extend_from_slice(&rest);
        exercise(&bytes);
    }

    #[test]
    fn ipv6_extension_chains_never_panic(bytes in ipv6_with_random_extensions()) {
        exercise(&bytes);
    }

    /// Valid packets with a few bytes overwritten and perhaps cut short:
    /// they get past the first checks and into the options and quotes.
    #[test]
    fn mutated_packets_never_panic(
        packet in valid_packet(),
        edits in vec((any::<Index>(), any::<u8>()), 0..4),
        cut in prop::option::weighted(0.2, any::<Index>()),
    ) {
        let mut bytes = packet;
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        exercise(&bytes);
        // The transport part alone, as a caller with its own IP layer
        // would pass it.
        for skip in [20, 40, 48] {
            if let Some(upper) = bytes.get(skip..) {
                exercise(upper);
            }
        }
    }
}

#[test]
fn valid_packets_reach_every_parser() {
    // A guard for the mutation test: unmutated, every kind of packet it
    // starts from parses all the way down.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut kinds = [0usize; 3];
    for _ in 0..300 {
        let bytes = valid_packet().new_tree(&mut runner).unwrap().current();
        let (ip, payload) = ip::parse(&bytes, true).unwrap();
        let (src, dst) = addrs(&ip);
        match ip.protocol() {
            IpProtocol::TCP => {
                TcpRepr::parse_bytes(payload, &src, &dst, true).unwrap();
                kinds[0] += 1;
            }
            IpProtocol::ICMP => {
                Icmpv4Repr::parse_bytes(payload, true).unwrap();
                kinds[1] += 1;
            }
            IpProtocol::ICMPV6 => {
                let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) else {
                    panic!("ICMPv6 over IPv4")
                };
                Icmpv6Repr::parse_bytes(payload, &s, &d, true).unwrap();
                kinds[2] += 1;
            }
            other => panic!("unexpected protocol {other:?}"),
        }
    }
    assert!(kinds.iter().all(|&k| k > 20), "{kinds:?}");
}
