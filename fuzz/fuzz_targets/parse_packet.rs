//! Arbitrary bytes as an IPv4 or IPv6 packet, with TCP, ICMP or ICMPv6
//! inside, in both checksum modes; and the same bytes as a bare TCP segment.
//!
//! Besides "no panic", every successful parse is checked: the Repr is
//! emitted again and the bytes must parse back to the same meaning.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use wire::icmpv4::{Icmpv4Repr, Quoted};
use wire::icmpv6::Icmpv6Repr;
use wire::ip::{self, IpProtocol, IpRepr};
use wire::tcp::{TcpFlags, TcpRepr, MAX_OPTIONS_LEN};
use wire::{Error, SeqNum};

fuzz_target!(|data: &[u8]| {
    for verify in [false, true] {
        if let Ok((ip, payload)) = ip::parse(data, verify) {
            assert_eq!(payload.len(), ip.payload_len());
            if verify {
                assert_eq!(ip::parse(data, false), Ok((ip, payload)));
            }
            check_ip(&ip, payload);
            upper(&ip, payload, verify);
        }
    }
    // The same bytes as a segment handed over by some other IP layer.
    let v4 = (
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
    );
    let v6 = (
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
    );
    for (src, dst) in [v4, v6] {
        for verify in [false, true] {
            if let Ok(repr) = TcpRepr::parse_bytes(data, &src, &dst, verify) {
                check_tcp(&repr, &src, &dst);
            }
        }
    }
});

/// The IP header emitted again with the payload parses back the same.
fn check_ip(ip: &IpRepr, payload: &[u8]) {
    let mut buf = vec![0u8; ip.total_len()];
    let n = ip.emit(&mut buf).expect("a parsed IP header re-emits");
    buf[n..].copy_from_slice(payload);
    let (again, data) = ip::parse(&buf, true).expect("the re-emitted packet parses");
    assert_eq!(&again, ip);
    assert_eq!(data, payload);
}

fn upper(ip: &IpRepr, payload: &[u8], verify: bool) {
    // A fragment other than the first holds no upper-layer header.
    if ip.frag_offset() != 0 {
        return;
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    match (ip.protocol(), ip) {
        (IpProtocol::TCP, _) => {
            if let Ok(repr) = TcpRepr::parse_bytes(payload, &src, &dst, verify) {
                check_tcp(&repr, &src, &dst);
            }
        }
        (IpProtocol::ICMP, IpRepr::V4(_)) => {
            if let Ok(repr) = Icmpv4Repr::parse_bytes(payload, verify) {
                let mut buf = vec![0u8; repr.buffer_len()];
                repr.emit(&mut buf).expect("ICMPv4 re-emits");
                assert_eq!(Icmpv4Repr::parse_bytes(&buf, true), Ok(repr));
                if let Some(Ok(q)) = repr.quoted().map(Quoted::parse_v4) {
                    check_quoted(&q);
                }
            }
        }
        (IpProtocol::ICMPV6, IpRepr::V6(v6)) => {
            let (s, d) = (v6.src_addr, v6.dst_addr);
            if let Ok(repr) = Icmpv6Repr::parse_bytes(payload, &s, &d, verify) {
                let mut buf = vec![0u8; repr.buffer_len()];
                repr.emit(&s, &d, &mut buf).expect("ICMPv6 re-emits");
                assert_eq!(Icmpv6Repr::parse_bytes(&buf, &s, &d, true), Ok(repr));
                if let Some(Ok(q)) = repr.quoted().map(Quoted::parse_v6) {
                    check_quoted(&q);
                }
            }
        }
        _ => {}
    }
}

fn check_quoted(q: &Quoted<'_>) {
    assert!(q.transport.len() >= 8);
    if let Ok(tcp) = q.tcp() {
        assert_eq!(q.ports(), Some((tcp.src_port, tcp.dst_port)));
    }
}

/// The TCP Repr emitted again parses back the same. Allowed losses: the
/// acknowledgment number without ACK (sent as zero), and options that,
/// gathered, do not fit 40 bytes any more (emit refuses them).
fn check_tcp(repr: &TcpRepr<'_>, src: &IpAddr, dst: &IpAddr) {
    let mut buf = vec![0u8; repr.buffer_len()];
    match repr.emit(&mut buf, src, dst) {
        Ok(n) => {
            assert_eq!(n, buf.len());
            let again = TcpRepr::parse_bytes(&buf, src, dst, true).expect("re-emitted TCP parses");
            let mut expected = *repr;
            if !repr.flags.contains(TcpFlags::ACK) {
                expected.ack = SeqNum(0);
            }
            assert_eq!(again, expected);
        }
        Err(e) => {
            assert_eq!(e, Error::NoSpace);
            assert!(repr.options.len() > MAX_OPTIONS_LEN);
        }
    }
}
