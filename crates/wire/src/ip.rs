//! What IPv4 and IPv6 share: protocol numbers, and [`IpRepr`] with
//! [`parse`], which dispatch on the IP version.

use core::fmt;
use core::net::IpAddr;

use crate::checksum::{self, Checksum};
use crate::ipv4::{Ipv4Packet, Ipv4Repr};
use crate::ipv6::{Ipv6Packet, Ipv6Repr};
use crate::{Error, Result};

/// An IP protocol number (IPv4 "protocol", IPv6 "next header").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 hop-by-hop options (RFC 8200 §4.3).
    pub const HOP_BY_HOP: IpProtocol = IpProtocol(0);
    /// ICMP for IPv4 (RFC 792).
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// TCP (RFC 9293).
    pub const TCP: IpProtocol = IpProtocol(6);
    /// UDP (RFC 768).
    pub const UDP: IpProtocol = IpProtocol(17);
    /// IPv6 routing header (RFC 8200 §4.4).
    pub const ROUTING: IpProtocol = IpProtocol(43);
    /// IPv6 fragment header (RFC 8200 §4.5).
    pub const FRAGMENT: IpProtocol = IpProtocol(44);
    /// ICMP for IPv6 (RFC 4443).
    pub const ICMPV6: IpProtocol = IpProtocol(58);
    /// IPv6 "no next header" (RFC 8200 §4.7).
    pub const NO_NEXT_HEADER: IpProtocol = IpProtocol(59);
    /// IPv6 destination options (RFC 8200 §4.6).
    pub const DESTINATION_OPTIONS: IpProtocol = IpProtocol(60);
}

impl fmt::Debug for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IpProtocol::ICMP => f.write_str("ICMP"),
            IpProtocol::TCP => f.write_str("TCP"),
            IpProtocol::UDP => f.write_str("UDP"),
            IpProtocol::ICMPV6 => f.write_str("ICMPv6"),
            IpProtocol(n) => write!(f, "IpProtocol({n})"),
        }
    }
}

/// An IPv4 or IPv6 header, as the endpoint sees it.
///
/// A fragment is flagged by [`is_fragment`](Self::is_fragment); one whose
/// [`frag_offset`](Self::frag_offset) is not zero carries no upper-layer
/// header. This crate never reassembles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpRepr {
    /// An IPv4 header.
    V4(Ipv4Repr),
    /// An IPv6 header, extension headers skipped.
    V6(Ipv6Repr),
}

impl From<Ipv4Repr> for IpRepr {
    fn from(repr: Ipv4Repr) -> IpRepr {
        IpRepr::V4(repr)
    }
}

impl From<Ipv6Repr> for IpRepr {
    fn from(repr: Ipv6Repr) -> IpRepr {
        IpRepr::V6(repr)
    }
}

impl IpRepr {
    /// A header with defaults ([`Ipv4Repr::new`], [`Ipv6Repr::new`]) for a
    /// packet of `payload_len` bytes of `protocol`, or `None` when the two
    /// addresses are of different families.
    #[inline]
    pub fn new(
        src_addr: IpAddr,
        dst_addr: IpAddr,
        protocol: IpProtocol,
        payload_len: usize,
        hop_limit: u8,
    ) -> Option<IpRepr> {
        match (src_addr, dst_addr) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Some(IpRepr::V4(Ipv4Repr::new(
                s,
                d,
                protocol,
                payload_len,
                hop_limit,
            ))),
            (IpAddr::V6(s), IpAddr::V6(d)) => Some(IpRepr::V6(Ipv6Repr::new(
                s,
                d,
                protocol,
                payload_len,
                hop_limit,
            ))),
            _ => None,
        }
    }

    /// 4 or 6.
    pub const fn version(&self) -> u8 {
        match self {
            IpRepr::V4(_) => 4,
            IpRepr::V6(_) => 6,
        }
    }

    /// The source address.
    #[inline]
    pub fn src_addr(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.src_addr),
            IpRepr::V6(r) => IpAddr::V6(r.src_addr),
        }
    }

    /// The destination address.
    #[inline]
    pub fn dst_addr(&self) -> IpAddr {
        match self {
            IpRepr::V4(r) => IpAddr::V4(r.dst_addr),
            IpRepr::V6(r) => IpAddr::V6(r.dst_addr),
        }
    }

    /// The upper-layer protocol (for IPv6, after the extension headers).
    pub const fn protocol(&self) -> IpProtocol {
        match self {
            IpRepr::V4(r) => r.protocol,
            IpRepr::V6(r) => r.next_header,
        }
    }

    /// The length of the upper-layer data.
    pub const fn payload_len(&self) -> usize {
        match self {
            IpRepr::V4(r) => r.payload_len,
            IpRepr::V6(r) => r.payload_len,
        }
    }

    /// Sets the length of the upper-layer data.
    #[inline]
    pub fn set_payload_len(&mut self, len: usize) {
        match self {
            IpRepr::V4(r) => r.payload_len = len,
            IpRepr::V6(r) => r.payload_len = len,
        }
    }

    /// The IPv4 TTL or IPv6 hop limit.
    pub const fn hop_limit(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.ttl,
            IpRepr::V6(r) => r.hop_limit,
        }
    }

    /// The ECN field (RFC 3168).
    pub const fn ecn(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.ecn,
            IpRepr::V6(r) => r.ecn(),
        }
    }

    /// The length of the header(s) [`emit`](Self::emit) writes (20 for
    /// IPv4; 40 for IPv6, 48 with a fragment header). For a parsed IPv6
    /// packet this does not count the extension headers that were skipped.
    pub const fn header_len(&self) -> usize {
        match self {
            IpRepr::V4(r) => r.header_len(),
            IpRepr::V6(r) => r.header_len(),
        }
    }

    /// Header plus payload length, as emitted.
    pub const fn total_len(&self) -> usize {
        self.header_len().saturating_add(self.payload_len())
    }

    /// Whether the packet is a fragment: IPv4 with MF set or a non-zero
    /// offset, or IPv6 with a fragment header that is not an atomic
    /// fragment (RFC 6946).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        match self {
            IpRepr::V4(r) => r.is_fragment(),
            IpRepr::V6(r) => r.is_fragment(),
        }
    }

    /// The fragment offset in bytes (0 for an unfragmented packet). When it
    /// is not zero the payload is fragment data with no upper-layer header.
    pub fn frag_offset(&self) -> u16 {
        match self {
            IpRepr::V4(r) => r.frag_offset,
            IpRepr::V6(r) => r.fragment.map_or(0, |f| f.offset),
        }
    }

    /// Writes the header at the start of `buf` and returns its length; the
    /// caller writes the payload after it. See [`Ipv4Repr::emit`] and
    /// [`Ipv6Repr::emit`] for the errors.
    #[inline]
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        match self {
            IpRepr::V4(r) => r.emit(buf),
            IpRepr::V6(r) => r.emit(buf),
        }
    }

    /// The pseudo-header sum for the upper-layer checksum (RFC 9293 §3.1,
    /// RFC 8200 §8.1): addresses, [`protocol`](Self::protocol) and
    /// [`payload_len`](Self::payload_len). Add the upper-layer bytes to it
    /// and [`finish`](Checksum::finish).
    ///
    /// For IPv6 the destination is the one in the fixed header, which is
    /// the final destination since routing headers with segments left are
    /// rejected on parse. A length too large for the field saturates (such
    /// a packet cannot be emitted anyway).
    pub fn pseudo_header(&self) -> Checksum {
        match self {
            IpRepr::V4(r) => checksum::pseudo_header_v4(
                r.src_addr,
                r.dst_addr,
                r.protocol.0,
                u16::try_from(r.payload_len).unwrap_or(u16::MAX),
            ),
            IpRepr::V6(r) => checksum::pseudo_header_v6(
                &r.src_addr,
                &r.dst_addr,
                r.next_header.0,
                u32::try_from(r.payload_len).unwrap_or(u32::MAX),
            ),
        }
    }
}

/// Parses an IP packet of either version, chosen by the version nibble,
/// and returns its header and the upper-layer data.
///
/// IPv4: validated as [`Ipv4Packet::check_len`]; the header checksum is
/// checked when `verify_checksum` is set ([`Error::BadChecksum`]); options
/// are skipped. IPv6: validated as [`Ipv6Packet::check_len`], extension
/// headers walked as [`skip_extension_headers`](crate::ipv6::skip_extension_headers) (IPv6 has no header
/// checksum). Bytes after the IP length (link-layer padding) are left out
/// of the payload. Any other version, or an empty buffer, is
/// [`Error::Malformed`] or [`Error::Truncated`].
///
/// Fragments are returned, not dropped: see [`IpRepr::is_fragment`] and
/// [`IpRepr::frag_offset`]. For a fragment with a non-zero offset the
/// returned payload is fragment data, not an upper-layer header.
#[inline]
pub fn parse(bytes: &[u8], verify_checksum: bool) -> Result<(IpRepr, &[u8])> {
    let first = bytes.first().ok_or(Error::Truncated)?;
    match first >> 4 {
        4 => {
            // `Ipv4Repr::parse` validates the lengths as `check_len` does.
            let packet = Ipv4Packet::new_unchecked(bytes);
            let repr = Ipv4Repr::parse(&packet, verify_checksum)?;
            let start = packet.header_len();
            let payload = bytes
                .get(start..start + repr.payload_len)
                .ok_or(Error::Truncated)?;
            Ok((IpRepr::V4(repr), payload))
        }
        6 => {
            let packet = Ipv6Packet::new_checked(bytes)?;
            let (repr, start) = Ipv6Repr::parse_with_offset(&packet)?;
            let payload = bytes
                .get(start..start + repr.payload_len)
                .ok_or(Error::Truncated)?;
            Ok((IpRepr::V6(repr), payload))
        }
        _ => Err(Error::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipv6;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use std::vec;

    const A4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const B4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
    const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    fn build(repr: &IpRepr, payload: &[u8]) -> std::vec::Vec<u8> {
        let mut buf = vec![0u8; repr.total_len()];
        let hl = repr.emit(&mut buf).unwrap();
        assert_eq!(hl, repr.header_len());
        buf[hl..].copy_from_slice(payload);
        buf
    }

    #[test]
    fn round_trip_both_versions() {
        for (src, dst) in [(A4.into(), B4.into()), (A6.into(), B6.into())] {
            let repr = IpRepr::new(src, dst, IpProtocol::TCP, 5, 64).unwrap();
            let bytes = build(&repr, b"hello");
            let (parsed, payload) = parse(&bytes, true).unwrap();
            assert_eq!(parsed, repr);
            assert_eq!(payload, b"hello");
            assert_eq!(parsed.src_addr(), src);
            assert_eq!(parsed.dst_addr(), dst);
            assert_eq!(parsed.protocol(), IpProtocol::TCP);
            assert_eq!(parsed.payload_len(), 5);
            assert_eq!(parsed.hop_limit(), 64);
            assert_eq!(parsed.ecn(), 0);
            assert!(!parsed.is_fragment());
            assert_eq!(parsed.frag_offset(), 0);
        }
        assert!(IpRepr::new(A4.into(), B6.into(), IpProtocol::TCP, 0, 1).is_none());
    }

    #[test]
    fn versions_and_lengths() {
        let mut r = IpRepr::new(A4.into(), B4.into(), IpProtocol::UDP, 8, 1).unwrap();
        assert_eq!((r.version(), r.header_len(), r.total_len()), (4, 20, 28));
        r.set_payload_len(100);
        assert_eq!(r.total_len(), 120);
        let mut r = IpRepr::new(A6.into(), B6.into(), IpProtocol::UDP, 8, 1).unwrap();
        assert_eq!((r.version(), r.header_len(), r.total_len()), (6, 40, 48));
        r.set_payload_len(100);
        assert_eq!(r.payload_len(), 100);
    }

    #[test]
    fn pseudo_header_matches_checksum_module() {
        let r4 = IpRepr::new(A4.into(), B4.into(), IpProtocol::TCP, 20, 64).unwrap();
        assert_eq!(
            r4.pseudo_header(),
            checksum::pseudo_header_v4(A4, B4, 6, 20)
        );
        let r6 = IpRepr::new(A6.into(), B6.into(), IpProtocol::TCP, 20, 64).unwrap();
        assert_eq!(
            r6.pseudo_header(),
            checksum::pseudo_header_v6(&A6, &B6, 6, 20)
        );
        assert_eq!(
            Some(r6.pseudo_header()),
            checksum::pseudo_header(&A6.into(), &B6.into(), 6, 20)
        );
    }

    #[test]
    fn ipv6_payload_skips_extension_headers() {
        let repr =
            IpRepr::new(A6.into(), B6.into(), IpProtocol::DESTINATION_OPTIONS, 12, 9).unwrap();
        // Destination options (PadN) then 4 bytes of UDP.
        let bytes = build(&repr, &[17, 0, 1, 4, 0, 0, 0, 0, b'd', b'a', b't', b'a']);
        let (parsed, payload) = parse(&bytes, true).unwrap();
        assert_eq!(parsed.protocol(), IpProtocol::UDP);
        assert_eq!(parsed.payload_len(), 4);
        assert_eq!(payload, b"data");
    }

    #[test]
    fn fragments_are_returned_and_flagged() {
        let v4 = Ipv4Repr {
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
            ..Ipv4Repr::new(A4, B4, IpProtocol::TCP, 8, 64)
        };
        let bytes = build(&v4.into(), b"fragment");
        let (parsed, payload) = parse(&bytes, true).unwrap();
        assert!(parsed.is_fragment());
        assert_eq!(parsed.frag_offset(), 1480);
        assert_eq!(payload, b"fragment");

        let v6 = Ipv6Repr {
            fragment: Some(ipv6::FragmentInfo {
                offset: 1232,
                more_frags: false,
                ident: 5,
            }),
            ..Ipv6Repr::new(A6, B6, IpProtocol::TCP, 8, 64)
        };
        let bytes = build(&v6.into(), b"fragment");
        let (parsed, payload) = parse(&bytes, true).unwrap();
        assert!(parsed.is_fragment());
        assert_eq!(parsed.frag_offset(), 1232);
        assert_eq!(parsed.protocol(), IpProtocol::TCP);
        assert_eq!(payload, b"fragment");
    }

    #[test]
    fn padding_is_left_out() {
        let repr = IpRepr::new(A4.into(), B4.into(), IpProtocol::TCP, 2, 64).unwrap();
        let mut bytes = build(&repr, b"ok");
        bytes.resize(46, 0);
        assert_eq!(parse(&bytes, true).unwrap().1, b"ok");
        let repr = IpRepr::new(A6.into(), B6.into(), IpProtocol::TCP, 2, 64).unwrap();
        let mut bytes = build(&repr, b"ok");
        bytes.resize(64, 0);
        assert_eq!(parse(&bytes, true).unwrap().1, b"ok");
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&[], true), Err(Error::Truncated));
        assert_eq!(parse(&[0x45], true), Err(Error::Truncated));
        assert_eq!(parse(&[0x60], true), Err(Error::Truncated));
        assert_eq!(parse(&[0x55; 60], true), Err(Error::Malformed));
        assert_eq!(parse(&[0x00; 60], true), Err(Error::Malformed));
        let repr = IpRepr::new(A4.into(), B4.into(), IpProtocol::TCP, 2, 64).unwrap();
        let mut bytes = build(&repr, b"ok");
        bytes[8] = 1; // TTL changed, checksum stale
        assert_eq!(parse(&bytes, true), Err(Error::BadChecksum));
        assert!(parse(&bytes, false).is_ok());
        assert_eq!(parse(&bytes[..21], false), Err(Error::Truncated));
    }

    #[test]
    fn never_panics_on_prefixes_and_junk() {
        let repr = IpRepr::new(A6.into(), B6.into(), IpProtocol::HOP_BY_HOP, 16, 9).unwrap();
        let bytes = build(&repr, &[60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0xc2, 4, 0, 0, 0, 0]);
        for len in 0..bytes.len() {
            let _ = parse(&bytes[..len], true);
        }
        let mut x: u32 = 1;
        for _ in 0..2000 {
            let mut junk = [0u8; 64];
            for b in junk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *b = x as u8;
            }
            junk[0] = if x & 1 == 0 { 0x45 } else { 0x60 };
            let _ = parse(&junk, x & 2 == 0);
        }
    }
}
