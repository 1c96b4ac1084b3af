//! Differential tests against etherparse, an implementation no one here
//! wrote: packets built by this crate's `emit` read the same in etherparse
//! (every field, and the checksums it computes itself), and packets built by
//! etherparse's `PacketBuilder` (IPv4 options, IPv6 extension headers, TCP
//! options in any order) read the same here.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use etherparse::{
    ip_number, IcmpEchoHeader, Icmpv4Type, Icmpv6Type, IpDscp, IpEcn, IpFragOffset, IpHeaders,
    Ipv4Header, Ipv4Options, Ipv6Extensions, Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header,
    Ipv6RawExtHeader, Ipv6RoutingExtensions, NetHeaders, PacketBuilder, PacketHeaders, TcpHeader,
    TcpOptionElement, TransportHeader,
};
use proptest::collection::vec;
use proptest::prelude::*;
use wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Repr};
use wire::icmpv6::Icmpv6Repr;
use wire::ip::{self, IpProtocol, IpRepr};
use wire::ipv4::Ipv4Repr;
use wire::ipv6::{FragmentInfo, Ipv6Repr};
use wire::tcp::{SackBlock, SackBlocks, TcpFlags, TcpOptions, TcpRepr, Timestamps};
use wire::{Error, SeqNum};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Gathers etherparse's option elements the way `TcpOptions` does: the last
/// of each kind wins.
fn gather(elements: &[TcpOptionElement]) -> TcpOptions {
    let mut out = TcpOptions::default();
    for element in elements {
        match *element {
            TcpOptionElement::Noop => {}
            TcpOptionElement::MaximumSegmentSize(v) => out.mss = Some(v),
            TcpOptionElement::WindowScale(v) => out.window_scale = Some(v),
            TcpOptionElement::SelectiveAcknowledgementPermitted => out.sack_permitted = true,
            TcpOptionElement::Timestamp(tsval, tsecr) => {
                out.timestamps = Some(Timestamps { tsval, tsecr })
            }
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                let mut blocks = SackBlocks::EMPTY;
                for (start, end) in std::iter::once(first).chain(rest.into_iter().flatten()) {
                    assert!(blocks.push(SackBlock {
                        start: SeqNum(start),
                        end: SeqNum(end),
                    }));
                }
                out.sack = blocks;
            }
        }
    }
    out
}

/// Our options as etherparse elements, in the order `TcpOptions::emit`
/// lays them out (MSS, SACK-permitted, timestamps, window scale, SACK).
fn elements(options: &TcpOptions) -> Vec<TcpOptionElement> {
    let mut out = Vec::new();
    if let Some(mss) = options.mss {
        out.push(TcpOptionElement::MaximumSegmentSize(mss));
    }
    if options.sack_permitted {
        out.push(TcpOptionElement::SelectiveAcknowledgementPermitted);
    }
    if let Some(ts) = options.timestamps {
        out.push(TcpOptionElement::Timestamp(ts.tsval, ts.tsecr));
    }
    if let Some(ws) = options.window_scale {
        out.push(TcpOptionElement::WindowScale(ws));
    }
    if let Some((first, rest)) = options.sack.as_slice().split_first() {
        let mut more = [None; 3];
        for (slot, b) in more.iter_mut().zip(rest) {
            *slot = Some((b.start.0, b.end.0));
        }
        out.push(TcpOptionElement::SelectiveAcknowledgement(
            (first.start.0, first.end.0),
            more,
        ));
    }
    out
}

/// The nine flags of an etherparse header as ours.
fn flags_of(t: &TcpHeader) -> TcpFlags {
    TcpFlags::NONE
        .with(TcpFlags::FIN, t.fin)
        .with(TcpFlags::SYN, t.syn)
        .with(TcpFlags::RST, t.rst)
        .with(TcpFlags::PSH, t.psh)
        .with(TcpFlags::ACK, t.ack)
        .with(TcpFlags::URG, t.urg)
        .with(TcpFlags::ECE, t.ece)
        .with(TcpFlags::CWR, t.cwr)
        .with(TcpFlags::AE, t.ns)
}

/// Checks an etherparse TCP header against the segment we emitted.
fn check_tcp_header(t: &TcpHeader, spec: &TcpSpec) {
    assert_eq!(t.source_port, spec.src_port);
    assert_eq!(t.destination_port, spec.dst_port);
    assert_eq!(t.sequence_number, spec.seq);
    assert_eq!(t.acknowledgment_number, spec.wire_ack());
    // Flag by flag, so that a swapped bit position shows.
    let f = spec.flags;
    assert_eq!(t.fin, f.contains(TcpFlags::FIN), "FIN");
    assert_eq!(t.syn, f.contains(TcpFlags::SYN), "SYN");
    assert_eq!(t.rst, f.contains(TcpFlags::RST), "RST");
    assert_eq!(t.psh, f.contains(TcpFlags::PSH), "PSH");
    assert_eq!(t.ack, f.contains(TcpFlags::ACK), "ACK");
    assert_eq!(t.urg, f.contains(TcpFlags::URG), "URG");
    assert_eq!(t.ece, f.contains(TcpFlags::ECE), "ECE");
    assert_eq!(t.cwr, f.contains(TcpFlags::CWR), "CWR");
    assert_eq!(t.ns, f.contains(TcpFlags::AE), "NS/AE");
    assert_eq!(t.window_size, spec.window);
    assert_eq!(t.urgent_pointer, spec.urgent);
    assert_eq!(t.header_len(), 20 + spec.options.len());
    let parsed: Vec<TcpOptionElement> = t
        .options_iterator()
        .collect::<Result<_, _>>()
        .expect("etherparse reads every option");
    let known: Vec<TcpOptionElement> = parsed
        .iter()
        .filter(|e| **e != TcpOptionElement::Noop)
        .cloned()
        .collect();
    assert_eq!(known, elements(&spec.options));
    assert_eq!(gather(&parsed), spec.options);
}

proptest! {
    #![proptest_config(config())]

    /// Ours → etherparse: IPv4 or IPv6 (with or without a fragment header)
    /// carrying TCP with any flags and options.
    #[test]
    fn etherparse_reads_our_tcp_packets(spec in tcp_spec(), ip in ip_repr(IpProtocol::TCP)) {
        let (bytes, ip) = build_tcp_packet(ip, &spec.repr());
        let segment = &bytes[ip.header_len()..];
        let headers = PacketHeaders::from_ip_slice(&bytes).expect("etherparse parses");
        let checksum_field = u16::from_be_bytes([segment[16], segment[17]]);
        let tcp = match (&ip, headers.net.as_ref().expect("an IP header")) {
            (IpRepr::V4(ours), NetHeaders::Ipv4(h, exts)) => {
                prop_assert_eq!(h.source, ours.src_addr.octets());
                prop_assert_eq!(h.destination, ours.dst_addr.octets());
                prop_assert_eq!(h.time_to_live, ours.ttl);
                prop_assert_eq!(h.protocol, ip_number::TCP);
                prop_assert_eq!(h.dscp.value(), ours.dscp);
                prop_assert_eq!(h.ecn.value(), ours.ecn);
                prop_assert_eq!(h.identification, ours.ident);
                prop_assert_eq!(h.dont_fragment, ours.dont_frag);
                prop_assert_eq!(h.more_fragments, ours.more_frags);
                prop_assert_eq!(h.fragment_offset.byte_offset(), ours.frag_offset);
                prop_assert_eq!(usize::from(h.total_len), bytes.len());
                prop_assert!(h.options.is_empty());
                prop_assert!(exts.auth.is_none());
                // etherparse computes the header checksum itself.
                prop_assert_eq!(h.header_checksum, h.calc_header_checksum());
                prop_assert_eq!(h.is_fragmenting_payload(), ours.is_fragment());
                if h.is_fragmenting_payload() {
                    None
                } else {
                    let t = headers.transport.as_ref().and_then(|t| t.clone().tcp());
                    let t = t.expect("a TCP header");
                    let expected = t.calc_checksum_ipv4(h, &spec.payload).unwrap();
                    Some((t, expected))
                }
            }
            (IpRepr::V6(ours), NetHeaders::Ipv6(h, exts)) => {
                prop_assert_eq!(h.source, ours.src_addr.octets());
                prop_assert_eq!(h.destination, ours.dst_addr.octets());
                prop_assert_eq!(h.hop_limit, ours.hop_limit);
                prop_assert_eq!(h.traffic_class, ours.traffic_class);
                prop_assert_eq!(h.flow_label.value(), ours.flow_label);
                prop_assert_eq!(usize::from(h.payload_length), bytes.len() - 40);
                prop_assert!(exts.hop_by_hop_options.is_none());
                prop_assert!(exts.destination_options.is_none());
                prop_assert!(exts.routing.is_none());
                prop_assert!(exts.auth.is_none());
                match (&exts.fragment, ours.fragment) {
                    (Some(f), Some(o)) => {
                        prop_assert_eq!(h.next_header, ip_number::IPV6_FRAG);
                        prop_assert_eq!(f.next_header, ip_number::TCP);
                        prop_assert_eq!(f.fragment_offset.byte_offset(), o.offset);
                        prop_assert_eq!(f.more_fragments, o.more_frags);
                        prop_assert_eq!(f.identification, o.ident);
                        prop_assert_eq!(f.is_fragmenting_payload(), o.is_fragment());
                    }
                    (None, None) => prop_assert_eq!(h.next_header, ip_number::TCP),
                    (theirs, ours) => prop_assert!(false, "fragment {:?} vs {:?}", theirs, ours),
                }
                if ours.is_fragment() {
                    None
                } else {
                    let t = headers.transport.as_ref().and_then(|t| t.clone().tcp());
                    let t = t.expect("a TCP header");
                    let expected = t.calc_checksum_ipv6(h, &spec.payload).unwrap();
                    Some((t, expected))
                }
            }
            (ours, theirs) => {
                prop_assert!(false, "{:?} read as {:?}", ours, theirs);
                unreachable!()
            }
        };
        match tcp {
            Some((t, expected_checksum)) => {
                check_tcp_header(&t, &spec);
                // etherparse's own TCP checksum over its pseudo-header
                // equals the one we wrote.
                prop_assert_eq!(t.checksum, checksum_field);
                prop_assert_eq!(expected_checksum, checksum_field);
                prop_assert_eq!(headers.payload.slice(), &spec.payload[..]);
            }
            None => {
                // A fragment: etherparse does not look inside, but hands
                // back the same IP payload.
                prop_assert!(headers.transport.is_none());
                prop_assert_eq!(headers.payload.slice(), segment);
            }
        }
    }
}

// ---------------------------------------------------------------------
// etherparse → ours
// ---------------------------------------------------------------------

/// One TCP option element, any kind etherparse writes.
fn option_element() -> impl Strategy<Value = TcpOptionElement> {
    prop_oneof![
        Just(TcpOptionElement::Noop),
        any::<u16>().prop_map(TcpOptionElement::MaximumSegmentSize),
        any::<u8>().prop_map(TcpOptionElement::WindowScale),
        Just(TcpOptionElement::SelectiveAcknowledgementPermitted),
        any::<(u32, u32)>().prop_map(|(a, b)| TcpOptionElement::Timestamp(a, b)),
        (any::<(u32, u32)>(), vec(any::<(u32, u32)>(), 0..=3)).prop_map(|(first, rest)| {
            let mut more = [None; 3];
            for (slot, b) in more.iter_mut().zip(rest) {
                *slot = Some(b);
            }
            TcpOptionElement::SelectiveAcknowledgement(first, more)
        }),
    ]
}

fn element_len(e: &TcpOptionElement) -> usize {
    match e {
        TcpOptionElement::Noop => 1,
        TcpOptionElement::MaximumSegmentSize(_) => 4,
        TcpOptionElement::WindowScale(_) => 3,
        TcpOptionElement::SelectiveAcknowledgementPermitted => 2,
        TcpOptionElement::Timestamp(..) => 10,
        TcpOptionElement::SelectiveAcknowledgement(_, rest) => {
            10 + 8 * rest.iter().flatten().count()
        }
    }
}

/// Option elements in any order, repeats allowed, as many as fit 40 bytes.
fn option_elements() -> impl Strategy<Value = Vec<TcpOptionElement>> {
    vec(option_element(), 0..8).prop_map(|all| {
        let mut len = 0;
        all.into_iter()
            .take_while(|e| {
                len += element_len(e);
                len <= 40
            })
            .collect()
    })
}

/// An etherparse TCP header with every field random.
fn their_tcp_header() -> impl Strategy<Value = TcpHeader> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        any::<u16>(),
        (any::<u16>(), any::<u16>()),
        option_elements(),
    )
        .prop_map(
            |((sport, dport, seq, ack), flags, (window, urgent), opts)| {
                let bit = |n: u16| flags & (1 << n) != 0;
                let mut t = TcpHeader {
                    source_port: sport,
                    destination_port: dport,
                    sequence_number: seq,
                    acknowledgment_number: ack,
                    ns: bit(0),
                    fin: bit(1),
                    syn: bit(2),
                    rst: bit(3),
                    psh: bit(4),
                    ack: bit(5),
                    urg: bit(6),
                    ece: bit(7),
                    cwr: bit(8),
                    window_size: window,
                    checksum: 0,
                    urgent_pointer: urgent,
                    options: Default::default(),
                };
                t.set_options(&opts).expect("options fit");
                t
            },
        )
}

fn their_ipv4() -> impl Strategy<Value = Ipv4Header> {
    (
        (any::<[u8; 4]>(), any::<[u8; 4]>(), any::<u8>()),
        (0u8..64, 0u8..4, any::<u16>()),
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![3 => Just(0u16), 1 => 0u16..8192],
        ),
        (0usize..=10).prop_flat_map(|words| vec(any::<u8>(), words * 4)),
    )
        .prop_map(
            |((source, destination, ttl), (dscp, ecn, ident), (df, mf, frag), options)| {
                Ipv4Header {
                    dscp: IpDscp::try_new(dscp).unwrap(),
                    ecn: IpEcn::try_new(ecn).unwrap(),
                    total_len: 0,
                    identification: ident,
                    dont_fragment: df,
                    more_fragments: mf,
                    fragment_offset: IpFragOffset::try_new(frag).unwrap(),
                    time_to_live: ttl,
                    protocol: ip_number::TCP,
                    header_checksum: 0,
                    source,
                    destination,
                    options: Ipv4Options::try_from(&options[..]).unwrap(),
                }
            },
        )
}

/// The option area of a hop-by-hop or destination options header
/// (RFC 8200 §4.2), `6 + 8 * units` bytes: options whose type says "skip
/// if unrecognised" (top two bits 00), then Pad1 or PadN to fill.
fn tlv_options() -> impl Strategy<Value = Vec<u8>> {
    (0usize..3, vec((2u8..0x40, vec(any::<u8>(), 0..12)), 0..4)).prop_map(|(units, items)| {
        let total = 6 + 8 * units;
        let mut out = Vec::with_capacity(total);
        for (kind, data) in items {
            if out.len() + 2 + data.len() > total {
                break;
            }
            out.push(kind);
            out.push(data.len() as u8);
            out.extend_from_slice(&data);
        }
        match total - out.len() {
            0 => {}
            1 => out.push(0),
            n => {
                out.push(1);
                out.push((n - 2) as u8);
                out.resize(total, 0);
            }
        }
        out
    })
}

/// The data of a routing header with no segments left (so a host that is
/// the destination may skip it, RFC 8200 §4.4).
fn routing_data() -> impl Strategy<Value = Vec<u8>> {
    (any::<u8>(), 0usize..3)
        .prop_flat_map(|(kind, units)| (Just(kind), vec(any::<u8>(), 4 + 8 * units)))
        .prop_map(|(kind, rest)| {
            let mut data = vec![kind, 0];
            data.extend_from_slice(&rest);
            data
        })
}

fn raw_ext(data: &[u8]) -> Ipv6RawExtHeader {
    // The next header is filled in by the builder.
    Ipv6RawExtHeader::new_raw(ip_number::TCP, data).expect("valid length")
}

fn their_ipv6() -> impl Strategy<Value = (Ipv6Header, Ipv6Extensions)> {
    (
        (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<u8>()),
        (any::<u8>(), 0u32..=0xf_ffff),
        (
            prop::option::weighted(0.3, tlv_options()),
            prop::option::weighted(0.3, tlv_options()),
            prop::option::weighted(0.3, (routing_data(), prop::option::of(tlv_options()))),
            prop::option::weighted(0.3, (0u16..8192, any::<bool>(), any::<u32>())),
        ),
    )
        .prop_map(
            |((source, destination, hop_limit), (tc, flow), (hbh, dst, routing, frag))| {
                let header = Ipv6Header {
                    traffic_class: tc,
                    flow_label: Ipv6FlowLabel::try_new(flow).unwrap(),
                    payload_length: 0,
                    next_header: ip_number::TCP,
                    hop_limit,
                    source,
                    destination,
                };
                let exts = Ipv6Extensions {
                    hop_by_hop_options: hbh.as_deref().map(raw_ext),
                    destination_options: dst.as_deref().map(raw_ext),
                    routing: routing.map(|(r, final_dst)| Ipv6RoutingExtensions {
                        routing: raw_ext(&r),
                        final_destination_options: final_dst.as_deref().map(raw_ext),
                    }),
                    fragment: frag.map(|(offset, more, ident)| {
                        Ipv6FragmentHeader::new(
                            ip_number::TCP,
                            IpFragOffset::try_new(offset).unwrap(),
                            more,
                            ident,
                        )
                    }),
                    auth: None,
                };
                (header, exts)
            },
        )
}

/// Checks our reading of a TCP segment etherparse built.
fn check_their_tcp(
    segment: &[u8],
    t: &TcpHeader,
    elements: &[TcpOptionElement],
    payload: &[u8],
    src: IpAddr,
    dst: IpAddr,
) {
    let repr = TcpRepr::parse_bytes(segment, &src, &dst, true).expect("our TCP parse");
    assert_eq!(repr.src_port, t.source_port);
    assert_eq!(repr.dst_port, t.destination_port);
    assert_eq!(repr.seq, SeqNum(t.sequence_number));
    assert_eq!(repr.ack, SeqNum(t.acknowledgment_number));
    assert_eq!(repr.flags, flags_of(t));
    assert_eq!(repr.window, t.window_size);
    assert_eq!(repr.urgent, t.urgent_pointer);
    assert_eq!(repr.options, gather(elements));
    assert_eq!(repr.payload, payload);
}

proptest! {
    #![proptest_config(config())]

    /// etherparse → ours, IPv4 with random options.
    #[test]
    fn we_read_etherparse_ipv4_packets(
        h in their_ipv4(),
        (t, elements) in their_tcp_header().prop_flat_map(|t| {
            // Recover the elements from the header to know what was set.
            let elements: Vec<_> = t.options_iterator().map(|e| e.unwrap()).collect();
            (Just(t), Just(elements))
        }),
        payload in payload(),
    ) {
        let mut bytes = Vec::new();
        PacketBuilder::ip(IpHeaders::Ipv4(h.clone(), Default::default()))
            .tcp_header(t.clone())
            .write(&mut bytes, &payload)
            .unwrap();
        let (ip, segment) = ip::parse(&bytes, true).expect("our IP parse");
        let IpRepr::V4(v4) = ip else { panic!("not IPv4: {ip:?}") };
        prop_assert_eq!(
            v4,
            Ipv4Repr {
                src_addr: Ipv4Addr::from(h.source),
                dst_addr: Ipv4Addr::from(h.destination),
                protocol: IpProtocol::TCP,
                payload_len: t.header_len() + payload.len(),
                ttl: h.time_to_live,
                dscp: h.dscp.value(),
                ecn: h.ecn.value(),
                ident: h.identification,
                dont_frag: h.dont_fragment,
                more_frags: h.more_fragments,
                frag_offset: h.fragment_offset.byte_offset(),
            }
        );
        prop_assert_eq!(segment, &bytes[20 + h.options.len()..]);
        check_their_tcp(segment, &t, &elements, &payload, ip.src_addr(), ip.dst_addr());
    }

    /// etherparse → ours, IPv6 with hop-by-hop, destination, routing and
    /// fragment headers, in RFC 8200 order.
    #[test]
    fn we_read_etherparse_ipv6_packets(
        (h, exts) in their_ipv6(),
        t in their_tcp_header(),
        payload in payload(),
    ) {
        let elements: Vec<_> = t.options_iterator().map(|e| e.unwrap()).collect();
        let mut bytes = Vec::new();
        PacketBuilder::ip(IpHeaders::Ipv6(h.clone(), exts.clone()))
            .tcp_header(t.clone())
            .write(&mut bytes, &payload)
            .unwrap();
        // The chain as the builder wrote it.
        let mut chain = exts.clone();
        chain.set_next_headers(ip_number::TCP);
        let segment_len = t.header_len() + payload.len();
        let (ip, upper) = ip::parse(&bytes, true).expect("our IP parse");
        let IpRepr::V6(v6) = ip else { panic!("not IPv6: {ip:?}") };
        prop_assert_eq!(v6.src_addr, Ipv6Addr::from(h.source));
        prop_assert_eq!(v6.dst_addr, Ipv6Addr::from(h.destination));
        prop_assert_eq!(v6.hop_limit, h.hop_limit);
        prop_assert_eq!(v6.traffic_class, h.traffic_class);
        prop_assert_eq!(v6.flow_label, h.flow_label.value());
        prop_assert_eq!(
            v6.fragment,
            exts.fragment.map(|f| FragmentInfo {
                offset: f.fragment_offset.byte_offset(),
                more_frags: f.more_fragments,
                ident: f.identification,
            })
        );
        match chain.fragment {
            Some(f) if f.fragment_offset.value() != 0 => {
                // Not the first fragment: the walk stops at the fragment
                // header; what follows is fragment data.
                let after = 40
                    + chain.hop_by_hop_options.as_ref().map_or(0, |e| e.header_len())
                    + chain.destination_options.as_ref().map_or(0, |e| e.header_len())
                    + chain.routing.as_ref().map_or(0, |r| r.routing.header_len())
                    + 8;
                prop_assert_eq!(v6.next_header, IpProtocol(f.next_header.0));
                prop_assert_eq!(upper, &bytes[after..]);
            }
            _ => {
                prop_assert_eq!(v6.next_header, IpProtocol::TCP);
                prop_assert_eq!(v6.payload_len, segment_len);
                prop_assert_eq!(upper, &bytes[bytes.len() - segment_len..]);
                check_their_tcp(upper, &t, &elements, &payload, ip.src_addr(), ip.dst_addr());
            }
        }
    }
}

// ---------------------------------------------------------------------
// ICMP
// ---------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn etherparse_reads_our_icmpv4(
        ip in ipv4_repr(IpProtocol::ICMP),
        kind in 0u8..3,
        a in any::<u16>(),
        b in any::<u16>(),
        data in vec(any::<u8>(), 0..100),
    ) {
        let repr = match kind {
            0 => Icmpv4Repr::EchoRequest { ident: a, seq_no: b, data: &data },
            1 => Icmpv4Repr::EchoReply { ident: a, seq_no: b, data: &data },
            _ => Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::FragNeeded { next_hop_mtu: a },
                quoted: &data,
            },
        };
        // Unfragmented, so that etherparse looks inside.
        let ip = Ipv4Repr { more_frags: false, frag_offset: 0, payload_len: repr.buffer_len(), ..ip };
        let mut bytes = vec![0u8; ip.total_len()];
        ip.emit(&mut bytes).unwrap();
        repr.emit(&mut bytes[20..]).unwrap();
        let headers = PacketHeaders::from_ip_slice(&bytes).unwrap();
        let Some(TransportHeader::Icmpv4(h)) = headers.transport else {
            panic!("no ICMPv4 header: {:?}", headers.transport)
        };
        let echo = IcmpEchoHeader { id: a, seq: b };
        let expected = match kind {
            0 => Icmpv4Type::EchoRequest(echo),
            1 => Icmpv4Type::EchoReply(echo),
            _ => Icmpv4Type::DestinationUnreachable(
                etherparse::icmpv4::DestUnreachableHeader::FragmentationNeeded { next_hop_mtu: a },
            ),
        };
        prop_assert_eq!(&h.icmp_type, &expected);
        prop_assert_eq!(headers.payload.slice(), &data[..]);
        prop_assert_eq!(h.checksum, u16::from_be_bytes([bytes[22], bytes[23]]));
        prop_assert_eq!(h.checksum, h.icmp_type.calc_checksum(&data));
    }

    #[test]
    fn etherparse_reads_our_icmpv6(
        ip in ipv6_repr(IpProtocol::ICMPV6),
        kind in 0u8..3,
        a in any::<u32>(),
        b in any::<u16>(),
        data in vec(any::<u8>(), 0..100),
    ) {
        let repr = match kind {
            0 => Icmpv6Repr::EchoRequest { ident: a as u16, seq_no: b, data: &data },
            1 => Icmpv6Repr::EchoReply { ident: a as u16, seq_no: b, data: &data },
            _ => Icmpv6Repr::PacketTooBig { mtu: a, quoted: &data },
        };
        let ip = Ipv6Repr { fragment: None, payload_len: repr.buffer_len(), ..ip };
        let mut bytes = vec![0u8; ip.total_len()];
        ip.emit(&mut bytes).unwrap();
        repr.emit(&ip.src_addr, &ip.dst_addr, &mut bytes[40..]).unwrap();
        let headers = PacketHeaders::from_ip_slice(&bytes).unwrap();
        let Some(TransportHeader::Icmpv6(h)) = headers.transport else {
            panic!("no ICMPv6 header: {:?}", headers.transport)
        };
        let echo = IcmpEchoHeader { id: a as u16, seq: b };
        let expected = match kind {
            0 => Icmpv6Type::EchoRequest(echo),
            1 => Icmpv6Type::EchoReply(echo),
            _ => Icmpv6Type::PacketTooBig { mtu: a },
        };
        prop_assert_eq!(&h.icmp_type, &expected);
        prop_assert_eq!(headers.payload.slice(), &data[..]);
        prop_assert_eq!(h.checksum, u16::from_be_bytes([bytes[42], bytes[43]]));
        let theirs = h
            .icmp_type
            .calc_checksum(ip.src_addr.octets(), ip.dst_addr.octets(), &data)
            .unwrap();
        prop_assert_eq!(h.checksum, theirs);
    }
}

// ---------------------------------------------------------------------
// Known differences
// ---------------------------------------------------------------------

/// An IPv6 hop-by-hop option whose type has top bits other than 00 must
/// make a node that does not know it discard the packet (RFC 8200 §4.2).
/// We do (`Unsupported`); etherparse does not interpret options and reads
/// on. This pins the difference, so the generators above avoid such types.
#[test]
fn unknown_discard_option_is_refused_here_and_read_by_etherparse() {
    let mut option = vec![0u8; 6];
    option[0] = 0x80; // "discard and send ICMP", unknown type
    option[1] = 4;
    let exts = Ipv6Extensions {
        hop_by_hop_options: Some(raw_ext(&option)),
        ..Default::default()
    };
    let header = Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: 0,
        next_header: ip_number::TCP,
        hop_limit: 64,
        source: Ipv6Addr::LOCALHOST.octets(),
        destination: Ipv6Addr::LOCALHOST.octets(),
    };
    let mut bytes = Vec::new();
    PacketBuilder::ip(IpHeaders::Ipv6(header, exts))
        .tcp(1, 2, 3, 4)
        .write(&mut bytes, b"x")
        .unwrap();
    let headers = PacketHeaders::from_ip_slice(&bytes).unwrap();
    assert!(matches!(headers.transport, Some(TransportHeader::Tcp(_))));
    assert_eq!(ip::parse(&bytes, true), Err(Error::Unsupported));
    // With the type's top bits 00 we read on too.
    bytes[42] = 0x3e;
    let (ip, segment) = ip::parse(&bytes, true).unwrap();
    assert_eq!(ip.protocol(), IpProtocol::TCP);
    assert_eq!(segment.len(), 21);
}
