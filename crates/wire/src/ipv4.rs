//! IPv4 (RFC 791): a zero-copy header view, [`Ipv4Packet`], and its meaning,
//! [`Ipv4Repr`].
//!
//! Options are honoured in the header length but not interpreted; `emit`
//! writes none. Fragments are recognised ([`Ipv4Packet::is_fragment`],
//! [`Ipv4Repr::is_fragment`]) and never reassembled.

use core::net::Ipv4Addr;

use crate::bytes::{read_array, read_u16, read_u8, write_bytes, write_u8};
use crate::checksum;
use crate::ip::IpProtocol;
use crate::{Error, Result};

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;

/// Largest IPv4 header: IHL 15, 60 bytes (RFC 791 §3.1).
pub const MAX_HEADER_LEN: usize = 60;

mod field {
    use core::ops::Range;

    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
    pub const CHECKSUM_RANGE: Range<usize> = CHECKSUM..CHECKSUM + 2;
}

/// Flag bits in the 16-bit flags/fragment-offset word (RFC 791 §3.1).
const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// The folded ones' complement sum of a 20-byte header (RFC 1071): 0xffff
/// when its checksum verifies. Ten 16-bit words, added in registers.
#[inline]
fn header_sum(h: &[u8; HEADER_LEN]) -> u16 {
    let mut c = checksum::Checksum::new();
    for word in h.chunks_exact(4) {
        c.add_u32(u32::from_be_bytes([word[0], word[1], word[2], word[3]]));
    }
    c.fold()
}

/// The packet a TCP host receives most: IPv4 without options, not a
/// fragment, its header checksum right, carrying TCP. Returns its source,
/// its destination and the TCP bytes (the payload as its total length
/// gives it), reading the header once, without the [`Ipv4Repr`] and
/// [`IpRepr`](crate::ip::IpRepr) of a general parse.
///
/// `None` for any other packet, valid or not: [`ip::parse`](crate::ip::parse)
/// then tells what it is. Every packet recognised here is one that
/// `ip::parse` with verification accepts, as an unfragmented TCP packet
/// with these addresses and this payload.
#[inline]
pub fn unfragmented_tcp(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, &[u8])> {
    let h: &[u8; HEADER_LEN] = packet.get(..HEADER_LEN)?.try_into().ok()?;
    let flags_frag = u16::from_be_bytes([h[6], h[7]]);
    // Version 4 and a 20-byte header; neither "more fragments" nor an
    // offset (DF and the reserved bit do not make a fragment).
    let plain = h[field::VER_IHL] == 0x45
        && flags_frag & (FLAG_MF | FRAG_OFFSET_MASK) == 0
        && h[field::PROTOCOL] == IpProtocol::TCP.0;
    if !plain || header_sum(h) != 0xffff {
        return None;
    }
    // The total length covers the header and lies within the buffer.
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let tcp = packet.get(HEADER_LEN..total)?;
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    Some((src, dst, tcp))
}

/// A zero-copy view of an IPv4 packet in a buffer.
///
/// Accessors on a view made with [`new_unchecked`](Self::new_unchecked) never
/// panic: a field that lies beyond the end of the buffer reads as zero (an
/// address as `0.0.0.0`, a slice as empty) and setters beyond the end do
/// nothing. After [`new_checked`](Self::new_checked) every field is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without validating it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer and validates it with [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Validates the header: the buffer holds at least 20 bytes
    /// ([`Error::Truncated`]), the version is 4 and IHL at least 5
    /// ([`Error::Malformed`]), the header fits in the buffer
    /// ([`Error::Truncated`]), and the total length covers the header
    /// ([`Error::Malformed`]) and fits in the buffer ([`Error::Truncated`]).
    ///
    /// A buffer longer than the total length is accepted (link-layer
    /// padding, e.g. Ethernet's 46-byte minimum): the extra bytes are not
    /// part of the packet.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 {
            return Err(Error::Malformed);
        }
        // RFC 791 §3.1: "the minimum value for a correct header is 5".
        if self.ihl() < 5 {
            return Err(Error::Malformed);
        }
        if self.header_len() > len {
            return Err(Error::Truncated);
        }
        let total = usize::from(self.total_len());
        if total < self.header_len() {
            return Err(Error::Malformed);
        }
        if total > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn buf(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The version field (4 for IPv4).
    pub fn version(&self) -> u8 {
        read_u8(self.buf(), field::VER_IHL) >> 4
    }

    /// The internet header length field, in 32-bit words.
    pub fn ihl(&self) -> u8 {
        read_u8(self.buf(), field::VER_IHL) & 0x0f
    }

    /// The header length in bytes, options included (`4 * ihl`).
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// The differentiated services code point (RFC 2474), 6 bits.
    pub fn dscp(&self) -> u8 {
        read_u8(self.buf(), field::DSCP_ECN) >> 2
    }

    /// The explicit congestion notification field (RFC 3168), 2 bits.
    pub fn ecn(&self) -> u8 {
        read_u8(self.buf(), field::DSCP_ECN) & 0x03
    }

    /// The total length field: header plus payload, in bytes.
    pub fn total_len(&self) -> u16 {
        read_u16(self.buf(), field::TOTAL_LEN)
    }

    /// The identification field.
    pub fn ident(&self) -> u16 {
        read_u16(self.buf(), field::IDENT)
    }

    fn flags_frag(&self) -> u16 {
        read_u16(self.buf(), field::FLAGS_FRAG)
    }

    /// The reserved flag (bit 0 of the flags, RFC 791 §3.1: must be zero).
    /// Not checked on parse, following the robustness principle.
    pub fn reserved_flag(&self) -> bool {
        self.flags_frag() & FLAG_RESERVED != 0
    }

    /// The "don't fragment" flag.
    pub fn dont_frag(&self) -> bool {
        self.flags_frag() & FLAG_DF != 0
    }

    /// The "more fragments" flag.
    pub fn more_frags(&self) -> bool {
        self.flags_frag() & FLAG_MF != 0
    }

    /// The fragment offset, in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (self.flags_frag() & FRAG_OFFSET_MASK) * 8
    }

    /// Whether this packet is a fragment: "more fragments" is set or the
    /// offset is not zero. Only a packet with offset 0 carries the
    /// upper-layer header.
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    /// The time-to-live field.
    pub fn ttl(&self) -> u8 {
        read_u8(self.buf(), field::TTL)
    }

    /// The protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(read_u8(self.buf(), field::PROTOCOL))
    }

    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buf(), field::CHECKSUM)
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buf(), field::SRC))
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buf(), field::DST))
    }

    /// The options: the header bytes after the first 20 (empty when IHL is
    /// 5, or when the buffer is too short).
    pub fn options(&self) -> &[u8] {
        self.buf()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or_default()
    }

    /// The payload: from the end of the header to the total length. Bytes
    /// after the total length (link-layer padding) are not included. Empty
    /// when the lengths do not fit the buffer.
    pub fn payload(&self) -> &[u8] {
        self.buf()
            .get(self.header_len()..usize::from(self.total_len()))
            .unwrap_or_default()
    }

    /// Whether the header checksum verifies (false when the header does not
    /// fit the buffer).
    pub fn verify_checksum(&self) -> bool {
        self.buf()
            .get(..self.header_len())
            .is_some_and(|h| h.len() >= HEADER_LEN && checksum::verify(h))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn buf_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    fn set_u16(&mut self, off: usize, value: u16) {
        write_bytes(self.buf_mut(), off, &value.to_be_bytes());
    }

    fn set_flags_frag(&mut self, value: u16) {
        self.set_u16(field::FLAGS_FRAG, value);
    }

    /// Sets the version field (low 4 bits of `version`).
    pub fn set_version(&mut self, version: u8) {
        let b = read_u8(self.buf_mut(), field::VER_IHL);
        write_u8(self.buf_mut(), field::VER_IHL, (version << 4) | (b & 0x0f));
    }

    /// Sets the IHL field, in 32-bit words (low 4 bits of `ihl`).
    pub fn set_ihl(&mut self, ihl: u8) {
        let b = read_u8(self.buf_mut(), field::VER_IHL);
        write_u8(self.buf_mut(), field::VER_IHL, (b & 0xf0) | (ihl & 0x0f));
    }

    /// Sets the header length in bytes (rounded down to a multiple of 4;
    /// at most 60).
    pub fn set_header_len(&mut self, len: usize) {
        self.set_ihl((len / 4).min(15) as u8);
    }

    /// Sets the DSCP (low 6 bits of `dscp`).
    pub fn set_dscp(&mut self, dscp: u8) {
        let b = read_u8(self.buf_mut(), field::DSCP_ECN);
        write_u8(self.buf_mut(), field::DSCP_ECN, (dscp << 2) | (b & 0x03));
    }

    /// Sets the ECN field (low 2 bits of `ecn`).
    pub fn set_ecn(&mut self, ecn: u8) {
        let b = read_u8(self.buf_mut(), field::DSCP_ECN);
        write_u8(self.buf_mut(), field::DSCP_ECN, (b & 0xfc) | (ecn & 0x03));
    }

    /// Sets the total length field.
    pub fn set_total_len(&mut self, len: u16) {
        self.set_u16(field::TOTAL_LEN, len);
    }

    /// Sets the identification field.
    pub fn set_ident(&mut self, ident: u16) {
        self.set_u16(field::IDENT, ident);
    }

    fn set_flag(&mut self, flag: u16, on: bool) {
        let word = self.flags_frag();
        self.set_flags_frag(if on { word | flag } else { word & !flag });
    }

    /// Sets or clears the reserved flag.
    pub fn set_reserved_flag(&mut self, on: bool) {
        self.set_flag(FLAG_RESERVED, on);
    }

    /// Sets or clears the "don't fragment" flag.
    pub fn set_dont_frag(&mut self, on: bool) {
        self.set_flag(FLAG_DF, on);
    }

    /// Sets or clears the "more fragments" flag.
    pub fn set_more_frags(&mut self, on: bool) {
        self.set_flag(FLAG_MF, on);
    }

    /// Sets the fragment offset, in bytes. The field counts 8-byte units:
    /// the low 3 bits of `offset` are dropped.
    pub fn set_frag_offset(&mut self, offset: u16) {
        let word = self.flags_frag();
        self.set_flags_frag((word & !FRAG_OFFSET_MASK) | (offset / 8));
    }

    /// Sets the time-to-live field.
    pub fn set_ttl(&mut self, ttl: u8) {
        write_u8(self.buf_mut(), field::TTL, ttl);
    }

    /// Sets the protocol field.
    pub fn set_protocol(&mut self, protocol: IpProtocol) {
        write_u8(self.buf_mut(), field::PROTOCOL, protocol.0);
    }

    /// Sets the checksum field (see [`fill_checksum`](Self::fill_checksum)).
    pub fn set_checksum(&mut self, checksum: u16) {
        self.set_u16(field::CHECKSUM, checksum);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        write_bytes(self.buf_mut(), field::SRC, &addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        write_bytes(self.buf_mut(), field::DST, &addr.octets());
    }

    /// Computes the header checksum (over `header_len` bytes, options
    /// included) and writes it. Does nothing when the header does not fit
    /// the buffer.
    pub fn fill_checksum(&mut self) {
        let hl = self.header_len();
        let Some(header) = self.buf_mut().get_mut(..hl) else {
            return;
        };
        let Some(field) = header.get_mut(field::CHECKSUM_RANGE) else {
            return;
        };
        field.fill(0);
        let sum = checksum::checksum(header);
        self.set_checksum(sum);
    }

    /// The options, mutably.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        self.buf_mut().get_mut(HEADER_LEN..hl).unwrap_or_default()
    }

    /// The payload, mutably: from the end of the header to the total
    /// length (empty when those do not fit the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        self.buf_mut().get_mut(range).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an IPv4 header.
///
/// `parse` reads any valid header, options included (they count in the
/// header length and are otherwise ignored); `emit` writes a 20-byte header
/// without options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Length of the payload in bytes (total length minus header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Differentiated services code point (RFC 2474), 0..=63.
    pub dscp: u8,
    /// Explicit congestion notification (RFC 3168), 0..=3.
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// "Don't fragment" flag.
    pub dont_frag: bool,
    /// "More fragments" flag.
    pub more_frags: bool,
    /// Fragment offset in bytes; a multiple of 8.
    pub frag_offset: u16,
}

impl Ipv4Repr {
    /// A header for an unfragmented packet with DF set (as path MTU
    /// discovery wants, RFC 1191), DSCP, ECN and identification zero
    /// (RFC 6864 §4.1: the ID of an atomic datagram has no meaning).
    pub fn new(
        src_addr: Ipv4Addr,
        dst_addr: Ipv4Addr,
        protocol: IpProtocol,
        payload_len: usize,
        ttl: u8,
    ) -> Ipv4Repr {
        Ipv4Repr {
            src_addr,
            dst_addr,
            protocol,
            payload_len,
            ttl,
            dscp: 0,
            ecn: 0,
            ident: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        }
    }

    /// Reads the header of a packet. Validates it as
    /// [`Ipv4Packet::check_len`] does (so an unchecked view is fine), then,
    /// when `verify_checksum` is set, the header checksum
    /// ([`Error::BadChecksum`]).
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(
        packet: &Ipv4Packet<T>,
        verify_checksum: bool,
    ) -> Result<Ipv4Repr> {
        // The fixed header is read once, as an array: every field below is
        // then a plain load, with no bounds check of its own.
        let buf = packet.buf();
        let h: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::Truncated)?;
        // The checks of `check_len`, in its order.
        if h[field::VER_IHL] >> 4 != 4 {
            return Err(Error::Malformed);
        }
        let header_len = usize::from(h[field::VER_IHL] & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if header_len > buf.len() {
            return Err(Error::Truncated);
        }
        let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if total < header_len {
            return Err(Error::Malformed);
        }
        if total > buf.len() {
            return Err(Error::Truncated);
        }
        if verify_checksum {
            let ok = if header_len == HEADER_LEN {
                header_sum(h) == 0xffff
            } else {
                packet.verify_checksum()
            };
            if !ok {
                return Err(Error::BadChecksum);
            }
        }
        let flags_frag = u16::from_be_bytes([h[6], h[7]]);
        Ok(Ipv4Repr {
            src_addr: Ipv4Addr::new(h[12], h[13], h[14], h[15]),
            dst_addr: Ipv4Addr::new(h[16], h[17], h[18], h[19]),
            protocol: IpProtocol(h[field::PROTOCOL]),
            payload_len: total - header_len,
            ttl: h[field::TTL],
            dscp: h[field::DSCP_ECN] >> 2,
            ecn: h[field::DSCP_ECN] & 0x03,
            ident: u16::from_be_bytes([h[4], h[5]]),
            dont_frag: flags_frag & FLAG_DF != 0,
            more_frags: flags_frag & FLAG_MF != 0,
            frag_offset: (flags_frag & FRAG_OFFSET_MASK) * 8,
        })
    }

    /// The length of the header `emit` writes: 20 bytes (no options).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload length.
    pub const fn total_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload_len)
    }

    /// Whether this is a fragment ("more fragments" set or a non-zero
    /// offset). A fragment with a non-zero offset has no upper-layer header.
    pub const fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }

    /// Writes the 20-byte header, checksum included, at the start of `buf`
    /// and returns its length. The payload is not touched: the caller writes
    /// it at `buf[20..]`.
    ///
    /// Errors: [`Error::NoSpace`] when `buf` is shorter than 20 bytes or
    /// the total length does not fit in 16 bits; [`Error::Malformed`] when
    /// a field does not fit its width (DSCP above 63, ECN above 3, an
    /// offset that is not a multiple of 8).
    #[inline]
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let total = u16::try_from(self.total_len()).map_err(|_| Error::NoSpace)?;
        if self.dscp > 0x3f || self.ecn > 0x03 || !self.frag_offset.is_multiple_of(8) {
            return Err(Error::Malformed);
        }
        let header: &mut [u8; HEADER_LEN] = buf
            .get_mut(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::NoSpace)?;
        // Built in registers as five 32-bit words, summed there and stored
        // once (the flags/offset word is written whole: the reserved bit
        // is zero).
        let flags_frag = (self.frag_offset / 8)
            | if self.dont_frag { FLAG_DF } else { 0 }
            | if self.more_frags { FLAG_MF } else { 0 };
        let mut words = [
            u32::from_be_bytes([0x45, (self.dscp << 2) | self.ecn, 0, 0]) | u32::from(total),
            u32::from(self.ident) << 16 | u32::from(flags_frag),
            // TTL, protocol, and the checksum (zero while summing).
            u32::from_be_bytes([self.ttl, self.protocol.0, 0, 0]),
            self.src_addr.to_bits(),
            self.dst_addr.to_bits(),
        ];
        let mut sum = checksum::Checksum::new();
        for w in words {
            sum.add_u32(w);
        }
        words[2] |= u32::from(sum.finish());
        for (out, w) in header.chunks_exact_mut(4).zip(words) {
            out.copy_from_slice(&w.to_be_bytes());
        }
        Ok(HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// The classic example header: 115 bytes of UDP from 192.168.0.1 to
    /// 192.168.0.199, DF set, TTL 64, checksum 0xb861.
    const CLASSIC: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    fn classic_packet() -> Vec<u8> {
        let mut v = CLASSIC.to_vec();
        v.extend((0..95u8).map(|i| i.wrapping_mul(7)));
        v
    }

    fn classic_repr() -> Ipv4Repr {
        Ipv4Repr {
            src_addr: Ipv4Addr::new(192, 168, 0, 1),
            dst_addr: Ipv4Addr::new(192, 168, 0, 199),
            protocol: IpProtocol::UDP,
            payload_len: 95,
            ttl: 64,
            dscp: 0,
            ecn: 0,
            ident: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        }
    }

    #[test]
    fn classic_header_fields() {
        let bytes = classic_packet();
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.ihl(), 5);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.dscp(), 0);
        assert_eq!(p.ecn(), 0);
        assert_eq!(p.total_len(), 0x73);
        assert_eq!(p.ident(), 0);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert!(!p.reserved_flag());
        assert_eq!(p.frag_offset(), 0);
        assert!(!p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::UDP);
        assert_eq!(p.checksum(), 0xb861);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 168, 0, 199));
        assert!(p.options().is_empty());
        assert_eq!(p.payload(), &bytes[20..]);
        assert!(p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p, true), Ok(classic_repr()));
    }

    #[test]
    fn classic_header_emits_known_checksum() {
        let mut buf = [0xffu8; 20];
        assert_eq!(classic_repr().emit(&mut buf), Ok(20));
        assert_eq!(buf, CLASSIC);
    }

    #[test]
    fn fill_checksum_recomputes() {
        let mut bytes = classic_packet();
        let mut p = Ipv4Packet::new_unchecked(&mut bytes[..]);
        p.set_checksum(0x1234);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert_eq!(p.checksum(), 0xb861);
        assert!(p.verify_checksum());
    }

    #[test]
    fn round_trip_every_field() {
        let repr = Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(203, 0, 113, 77),
            protocol: IpProtocol::TCP,
            payload_len: 1480,
            ttl: 1,
            dscp: 46,
            ecn: 3,
            ident: 0xbeef,
            dont_frag: false,
            more_frags: true,
            frag_offset: 65528,
        };
        let mut buf = vec![0u8; repr.total_len()];
        assert_eq!(repr.emit(&mut buf), Ok(20));
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.is_fragment());
        assert_eq!(p.frag_offset(), 65528);
        assert_eq!(p.dscp(), 46);
        assert_eq!(p.ecn(), 3);
        assert_eq!(Ipv4Repr::parse(&p, true), Ok(repr));
        assert!(repr.is_fragment());
    }

    #[test]
    fn setters_round_trip() {
        let mut buf = [0u8; 28];
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_version(4);
        p.set_header_len(20);
        p.set_dscp(0x3f);
        p.set_ecn(1);
        p.set_total_len(28);
        p.set_ident(7);
        p.set_reserved_flag(true);
        p.set_dont_frag(true);
        p.set_more_frags(true);
        p.set_frag_offset(8 * 100);
        p.set_ttl(9);
        p.set_protocol(IpProtocol::ICMP);
        p.set_src_addr(Ipv4Addr::new(1, 2, 3, 4));
        p.set_dst_addr(Ipv4Addr::new(5, 6, 7, 8));
        p.payload_mut().copy_from_slice(b"payload!");
        p.fill_checksum();
        assert_eq!(p.version(), 4);
        assert_eq!(p.ihl(), 5);
        assert_eq!(p.dscp(), 0x3f);
        assert_eq!(p.ecn(), 1);
        assert_eq!(p.ident(), 7);
        assert!(p.reserved_flag() && p.dont_frag() && p.more_frags());
        assert_eq!(p.frag_offset(), 800);
        p.set_dont_frag(false);
        p.set_reserved_flag(false);
        assert!(!p.reserved_flag() && !p.dont_frag() && p.more_frags());
        assert_eq!(p.frag_offset(), 800);
        assert_eq!(p.ttl(), 9);
        assert_eq!(p.protocol(), IpProtocol::ICMP);
        assert_eq!(p.src_addr(), Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(5, 6, 7, 8));
        assert_eq!(p.payload(), b"payload!");
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert!(Ipv4Packet::new_checked(&buf[..]).is_ok());
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        // A 40-byte packet (TCP ACK) padded to Ethernet's 46-byte minimum.
        let repr = Ipv4Repr::new(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IpProtocol::TCP,
            20,
            64,
        );
        let mut buf = [0xaau8; 46];
        repr.emit(&mut buf).unwrap();
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload().len(), 20);
        assert_eq!(Ipv4Repr::parse(&p, true).unwrap().payload_len, 20);
    }

    #[test]
    fn options_are_honoured() {
        // IHL 6: one option word (NOP, NOP, NOP, EOL), then 4 bytes of data.
        let mut buf = [0u8; 28];
        buf[0] = 0x46;
        buf[2..4].copy_from_slice(&28u16.to_be_bytes());
        buf[8] = 64;
        buf[9] = 6;
        buf[12..16].copy_from_slice(&[10, 0, 0, 1]);
        buf[16..20].copy_from_slice(&[10, 0, 0, 2]);
        buf[20..24].copy_from_slice(&[1, 1, 1, 0]);
        buf[24..28].copy_from_slice(b"data");
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.fill_checksum();
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.options(), &[1, 1, 1, 0]);
        assert_eq!(p.payload(), b"data");
        assert!(p.verify_checksum());
        let repr = Ipv4Repr::parse(&p, true).unwrap();
        assert_eq!(repr.payload_len, 4);
        assert_eq!(repr.protocol, IpProtocol::TCP);
        // The checksum covers the options.
        buf[21] = 7;
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p, true), Err(Error::BadChecksum));
        assert!(Ipv4Repr::parse(&p, false).is_ok());
        let mut opts = buf;
        assert_eq!(
            Ipv4Packet::new_unchecked(&mut opts[..]).options_mut().len(),
            4
        );
    }

    #[test]
    fn fragment_is_recognised() {
        let mut bytes = classic_packet();
        {
            let mut p = Ipv4Packet::new_unchecked(&mut bytes[..]);
            p.set_dont_frag(false);
            p.set_frag_offset(1480);
            p.fill_checksum();
        }
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert!(p.is_fragment());
        assert!(!p.more_frags());
        let repr = Ipv4Repr::parse(&p, true).unwrap();
        assert!(repr.is_fragment());
        assert_eq!(repr.frag_offset, 1480);
        // First fragment: MF set, offset 0.
        let mut first = classic_packet();
        {
            let mut p = Ipv4Packet::new_unchecked(&mut first[..]);
            p.set_dont_frag(false);
            p.set_more_frags(true);
            p.fill_checksum();
        }
        let repr = Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&first[..]), true).unwrap();
        assert!(repr.is_fragment());
        assert_eq!(repr.frag_offset, 0);
    }

    #[test]
    fn bad_checksum() {
        let mut bytes = classic_packet();
        bytes[8] = 63; // TTL changed, checksum not updated
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p, true), Err(Error::BadChecksum));
        assert_eq!(Ipv4Repr::parse(&p, false).unwrap().ttl, 63);
    }

    #[test]
    fn the_header_sum_agrees_with_the_generic_checksum() {
        // Every single-bit error in a 20-byte header is caught by the
        // header's own sum exactly when the generic verifier catches it.
        let bytes = classic_packet();
        for bit in 0..160 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            let p = Ipv4Packet::new_unchecked(&b[..]);
            let generic = p.check_len().is_ok() && p.verify_checksum();
            let parsed = Ipv4Repr::parse(&p, true);
            assert_eq!(parsed.is_ok(), generic, "bit {bit}");
        }
        // Emitted headers verify both ways.
        let mut out = [0u8; 20];
        classic_repr().emit(&mut out).unwrap();
        assert!(checksum::verify(&out));
        assert_eq!(header_sum(&out), 0xffff);
    }

    #[test]
    fn truncated() {
        let bytes = classic_packet();
        for len in 0..20 {
            assert_eq!(
                Ipv4Packet::new_checked(&bytes[..len]).err(),
                Some(Error::Truncated),
                "{len}"
            );
        }
        // Header complete, payload cut short: total length lies.
        for len in [20, 21, 100, 114] {
            assert_eq!(
                Ipv4Packet::new_checked(&bytes[..len]).err(),
                Some(Error::Truncated),
                "{len}"
            );
            let p = Ipv4Packet::new_unchecked(&bytes[..len]);
            assert_eq!(Ipv4Repr::parse(&p, false), Err(Error::Truncated));
        }
        assert!(Ipv4Packet::new_checked(&bytes[..115]).is_ok());
    }

    #[test]
    fn wrong_version() {
        let mut bytes = classic_packet();
        for v in [0u8, 6, 15] {
            bytes[0] = (v << 4) | 5;
            assert_eq!(
                Ipv4Packet::new_checked(&bytes[..]).err(),
                Some(Error::Malformed)
            );
        }
    }

    #[test]
    fn ihl_below_five() {
        let mut bytes = classic_packet();
        for ihl in 0..5u8 {
            bytes[0] = 0x40 | ihl;
            assert_eq!(
                Ipv4Packet::new_checked(&bytes[..]).err(),
                Some(Error::Malformed)
            );
        }
    }

    #[test]
    fn header_longer_than_buffer() {
        let mut bytes = CLASSIC;
        bytes[0] = 0x4f; // 60-byte header in a 20-byte buffer
        assert_eq!(
            Ipv4Packet::new_checked(&bytes[..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn total_length_shorter_than_header() {
        let mut bytes = classic_packet();
        for total in [0u16, 19] {
            bytes[2..4].copy_from_slice(&total.to_be_bytes());
            assert_eq!(
                Ipv4Packet::new_checked(&bytes[..]).err(),
                Some(Error::Malformed)
            );
        }
        // IHL 6 and total length 20.
        bytes[0] = 0x46;
        bytes[2..4].copy_from_slice(&20u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&bytes[..]).err(),
            Some(Error::Malformed)
        );
    }

    #[test]
    fn emit_errors() {
        let repr = classic_repr();
        assert_eq!(repr.emit(&mut [0u8; 19]), Err(Error::NoSpace));
        let big = Ipv4Repr {
            payload_len: 65535 - 19,
            ..repr
        };
        assert_eq!(big.emit(&mut [0u8; 20]), Err(Error::NoSpace));
        let max = Ipv4Repr {
            payload_len: 65535 - 20,
            ..repr
        };
        assert_eq!(max.emit(&mut [0u8; 20]), Ok(20));
        for bad in [
            Ipv4Repr { dscp: 64, ..repr },
            Ipv4Repr { ecn: 4, ..repr },
            Ipv4Repr {
                frag_offset: 4,
                ..repr
            },
        ] {
            assert_eq!(bad.emit(&mut [0u8; 20]), Err(Error::Malformed));
        }
    }

    #[test]
    fn unfragmented_tcp_is_what_the_general_parse_finds() {
        // A TCP packet and its near misses: any header byte changed (the
        // checksum refilled or left wrong), options, fragments, other
        // protocols, short buffers and padded ones. What is recognised
        // parses the same in full; what is not is no 20-byte-header
        // unfragmented TCP packet.
        let mut x: u32 = 0x1234_5677;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let mut recognised = 0;
        for _ in 0..20_000 {
            let repr = Ipv4Repr {
                protocol: IpProtocol::TCP,
                payload_len: 40,
                ident: next() as u16,
                dont_frag: next() % 2 == 0,
                ecn: next() as u8 & 3,
                ..classic_repr()
            };
            let mut packet = vec![0u8; 68];
            repr.emit(&mut packet).unwrap();
            for b in &mut packet[20..] {
                *b = next() as u8;
            }
            if next() % 4 != 0 {
                let at = next() as usize % 20;
                packet[at] = next() as u8;
                if next() % 2 == 0 {
                    Ipv4Packet::new_unchecked(&mut packet[..]).fill_checksum();
                }
            }
            if next() % 4 == 0 {
                packet.truncate(next() as usize % 69);
            }
            let general = crate::ip::parse(&packet, true);
            match unfragmented_tcp(&packet) {
                Some((src, dst, tcp)) => {
                    recognised += 1;
                    let Ok((crate::ip::IpRepr::V4(r), payload)) = general else {
                        panic!("{packet:?}: {general:?}");
                    };
                    assert_eq!((r.src_addr, r.dst_addr), (src, dst));
                    assert_eq!(r.protocol, IpProtocol::TCP);
                    assert!(!r.is_fragment());
                    assert_eq!((payload.as_ptr(), payload.len()), (tcp.as_ptr(), tcp.len()));
                }
                None => {
                    if let Ok((crate::ip::IpRepr::V4(r), _)) = general {
                        let missed =
                            r.protocol == IpProtocol::TCP && !r.is_fragment() && packet[0] == 0x45;
                        assert!(!missed, "{packet:?}");
                    }
                }
            }
        }
        assert!(recognised > 5000, "{recognised}");
    }

    #[test]
    fn unchecked_view_on_short_buffer_never_panics() {
        for len in 0..24 {
            let mut bytes = classic_packet();
            bytes[0] = 0x4f;
            bytes.truncate(len);
            let mut p = Ipv4Packet::new_unchecked(&mut bytes[..]);
            let _ = (p.version(), p.header_len(), p.total_len(), p.frag_offset());
            let _ = (p.src_addr(), p.dst_addr(), p.options(), p.payload());
            assert!(!p.verify_checksum());
            p.set_dst_addr(Ipv4Addr::BROADCAST);
            p.set_total_len(9);
            p.fill_checksum();
            let _ = p.payload_mut();
            let _ = p.options_mut();
            assert!(Ipv4Repr::parse(&p, true).is_err());
        }
    }
}
