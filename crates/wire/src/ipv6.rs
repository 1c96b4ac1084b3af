//! IPv6 (RFC 8200): a zero-copy header view, [`Ipv6Packet`], the walk over
//! extension headers, [`skip_extension_headers`], and the header's meaning,
//! [`Ipv6Repr`].
//!
//! Extension headers are skipped, not interpreted: hop-by-hop options,
//! routing, fragment and destination options. A fragment header is
//! reported ([`FragmentInfo`]); fragments are never reassembled. Jumbograms
//! (RFC 2675) are not supported.

use core::net::Ipv6Addr;

use crate::bytes::{read_array, read_u16, read_u32, read_u8, write_bytes, write_u8};
use crate::ip::IpProtocol;
use crate::{Error, Result};

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

/// Length of a fragment header (RFC 8200 §4.5).
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// The most extension headers [`skip_extension_headers`] walks before it
/// gives up with [`Error::Unsupported`]. RFC 8200 §4.1 recommends an order
/// with at most six kinds of header (destination options twice); the cap
/// bounds the work a hostile chain can cause.
pub const MAX_EXT_HEADERS: usize = 8;

/// The largest flow label (20 bits).
pub const MAX_FLOW_LABEL: u32 = 0xf_ffff;

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// A zero-copy view of an IPv6 packet in a buffer.
///
/// Accessors on a view made with [`new_unchecked`](Self::new_unchecked) never
/// panic: a field beyond the end of the buffer reads as zero and setters
/// beyond the end do nothing. After [`new_checked`](Self::new_checked) the
/// fixed header and the payload are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without validating it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer and validates it with [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Validates the fixed header: the buffer holds at least 40 bytes
    /// ([`Error::Truncated`]), the version is 6 ([`Error::Malformed`]) and
    /// the payload length fits the buffer ([`Error::Truncated`]). A longer
    /// buffer is accepted (link-layer padding): the extra bytes are not part
    /// of the packet. Extension headers are checked by
    /// [`upper_layer`](Self::upper_layer).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 6 {
            return Err(Error::Malformed);
        }
        if self.total_len() > len {
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

    fn first_word(&self) -> u32 {
        read_u32(self.buf(), field::VER_TC_FLOW)
    }

    /// The version field (6 for IPv6).
    pub fn version(&self) -> u8 {
        (self.first_word() >> 28) as u8
    }

    /// The traffic class: DSCP in the high 6 bits, ECN in the low 2.
    pub fn traffic_class(&self) -> u8 {
        (self.first_word() >> 20) as u8
    }

    /// The DSCP part of the traffic class (RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// The ECN part of the traffic class (RFC 3168).
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x03
    }

    /// The flow label (20 bits, RFC 6437).
    pub fn flow_label(&self) -> u32 {
        self.first_word() & MAX_FLOW_LABEL
    }

    /// The payload length field: the bytes after the fixed header,
    /// extension headers included.
    pub fn payload_len(&self) -> u16 {
        read_u16(self.buf(), field::PAYLOAD_LEN)
    }

    /// Fixed header plus payload length.
    pub fn total_len(&self) -> usize {
        HEADER_LEN + usize::from(self.payload_len())
    }

    /// The next header field: the first extension header or the upper-layer
    /// protocol.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(read_u8(self.buf(), field::NEXT_HEADER))
    }

    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        read_u8(self.buf(), field::HOP_LIMIT)
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.buf(), field::SRC))
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.buf(), field::DST))
    }

    /// The payload: the `payload_len` bytes after the fixed header,
    /// extension headers included. Bytes after them (link-layer padding)
    /// are not included. Empty when the payload does not fit the buffer.
    pub fn payload(&self) -> &[u8] {
        self.buf()
            .get(HEADER_LEN..self.total_len())
            .unwrap_or_default()
    }

    /// Walks the extension headers of the payload
    /// (see [`skip_extension_headers`]). The returned offset counts from
    /// the start of [`payload`](Self::payload).
    pub fn upper_layer(&self) -> Result<UpperLayer> {
        self.check_len()?;
        skip_extension_headers(self.next_header(), self.payload())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn buf_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    fn set_first_word(&mut self, word: u32) {
        write_bytes(self.buf_mut(), field::VER_TC_FLOW, &word.to_be_bytes());
    }

    /// Sets the version field (low 4 bits of `version`).
    pub fn set_version(&mut self, version: u8) {
        let w = self.first_word();
        self.set_first_word((w & 0x0fff_ffff) | (u32::from(version & 0x0f) << 28));
    }

    /// Sets the traffic class.
    pub fn set_traffic_class(&mut self, tc: u8) {
        let w = self.first_word();
        self.set_first_word((w & 0xf00f_ffff) | (u32::from(tc) << 20));
    }

    /// Sets the flow label (low 20 bits of `label`).
    pub fn set_flow_label(&mut self, label: u32) {
        let w = self.first_word();
        self.set_first_word((w & !MAX_FLOW_LABEL) | (label & MAX_FLOW_LABEL));
    }

    /// Sets the payload length field.
    pub fn set_payload_len(&mut self, len: u16) {
        write_bytes(self.buf_mut(), field::PAYLOAD_LEN, &len.to_be_bytes());
    }

    /// Sets the next header field.
    pub fn set_next_header(&mut self, next_header: IpProtocol) {
        write_u8(self.buf_mut(), field::NEXT_HEADER, next_header.0);
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        write_u8(self.buf_mut(), field::HOP_LIMIT, hop_limit);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        write_bytes(self.buf_mut(), field::SRC, &addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        write_bytes(self.buf_mut(), field::DST, &addr.octets());
    }

    /// The payload, mutably (empty when it does not fit the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        self.buf_mut().get_mut(HEADER_LEN..end).unwrap_or_default()
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv6Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// What a fragment header (RFC 8200 §4.5) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentInfo {
    /// Offset of this fragment's data in the original packet, in bytes (a
    /// multiple of 8).
    pub offset: u16,
    /// The M flag: more fragments follow.
    pub more_frags: bool,
    /// Identification, shared by the fragments of one packet.
    pub ident: u32,
}

impl FragmentInfo {
    /// Whether this is a real fragment rather than an "atomic fragment"
    /// (offset 0 and M clear), which RFC 6946 §4 says to process as a
    /// whole packet.
    pub const fn is_fragment(&self) -> bool {
        self.more_frags || self.offset != 0
    }

    /// Whether this fragment carries the start of the original payload,
    /// and so the upper-layer header (offset 0).
    pub const fn is_first(&self) -> bool {
        self.offset == 0
    }

    /// Reads a fragment header, which must be at least 8 bytes long.
    fn parse(header: &[u8]) -> Result<(IpProtocol, FragmentInfo)> {
        let header = header.get(..FRAGMENT_HEADER_LEN).ok_or(Error::Truncated)?;
        let offset_flags = read_u16(header, 2);
        Ok((
            IpProtocol(read_u8(header, 0)),
            FragmentInfo {
                // The offset counts 8-byte units in the high 13 bits.
                offset: offset_flags & 0xfff8,
                more_frags: offset_flags & 1 != 0,
                ident: read_u32(header, 4),
            },
        ))
    }

    /// Writes a fragment header (reserved fields zero, RFC 8200 §4.5).
    fn emit(&self, next_header: IpProtocol, header: &mut [u8]) {
        write_u8(header, 0, next_header.0);
        write_u8(header, 1, 0);
        let word = (self.offset & 0xfff8) | u16::from(self.more_frags);
        write_bytes(header, 2, &word.to_be_bytes());
        write_bytes(header, 4, &self.ident.to_be_bytes());
    }
}

/// The result of walking the extension headers: where the upper layer
/// starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UpperLayer {
    /// The upper-layer protocol: the first next-header value that is not
    /// one of the extension headers skipped. For a non-first fragment it is
    /// the fragment header's next header, which this fragment does not
    /// contain. [`IpProtocol::NO_NEXT_HEADER`] means there is none.
    pub protocol: IpProtocol,
    /// Where the upper-layer data starts, counted from the start of the
    /// IPv6 payload (the total length of the extension headers skipped).
    pub offset: usize,
    /// The fragment header, if one was seen.
    pub fragment: Option<FragmentInfo>,
}

impl UpperLayer {
    /// Whether the data at `offset` starts with the upper-layer header:
    /// false for a fragment with a non-zero offset, which the caller drops
    /// (no reassembly).
    pub fn has_upper_layer_header(&self) -> bool {
        self.fragment.is_none_or(|f| f.is_first())
    }
}

/// Walks the extension headers at the start of an IPv6 payload, from the
/// fixed header's next header `first`, to the upper-layer protocol.
///
/// Skips hop-by-hop options (only as the first header, RFC 8200 §4.1),
/// routing, destination options and fragment headers; any other value ends
/// the walk and is returned as the upper-layer protocol (including ESP, AH
/// and "no next header"). After a fragment header with a non-zero offset the
/// walk stops: the rest is fragment data (see
/// [`UpperLayer::has_upper_layer_header`]).
///
/// Errors:
/// - [`Error::Truncated`]: a header runs past the end of `payload`;
/// - [`Error::Malformed`]: hop-by-hop options anywhere but first, or an
///   option whose length runs past the end of its header;
/// - [`Error::Unsupported`]: more than [`MAX_EXT_HEADERS`] extension
///   headers; a second fragment header; a routing header with segments
///   left (this host would have to forward the packet; every routing type
///   is unrecognised here, and RFC 8200 §4.4 says to discard); an option
///   this crate does not know whose type says "discard if unrecognised"
///   (RFC 8200 §4.2: the two high bits are not `00`).
///
/// RFC 8200 asks for an ICMPv6 Parameter Problem in several of these cases;
/// this function only reports the error.
pub fn skip_extension_headers(first: IpProtocol, payload: &[u8]) -> Result<UpperLayer> {
    let mut next = first;
    let mut offset = 0usize;
    let mut fragment = None;
    let mut count = 0usize;
    loop {
        if !matches!(
            next,
            IpProtocol::HOP_BY_HOP
                | IpProtocol::ROUTING
                | IpProtocol::FRAGMENT
                | IpProtocol::DESTINATION_OPTIONS
        ) {
            return Ok(UpperLayer {
                protocol: next,
                offset,
                fragment,
            });
        }
        if count == MAX_EXT_HEADERS {
            return Err(Error::Unsupported);
        }
        count += 1;
        let rest = payload.get(offset..).ok_or(Error::Truncated)?;
        if next == IpProtocol::FRAGMENT {
            if fragment.is_some() {
                return Err(Error::Unsupported);
            }
            let (after, info) = FragmentInfo::parse(rest)?;
            offset += FRAGMENT_HEADER_LEN;
            fragment = Some(info);
            next = after;
            if !info.is_first() {
                // A non-first fragment holds only fragment data.
                return Ok(UpperLayer {
                    protocol: next,
                    offset,
                    fragment,
                });
            }
            continue;
        }
        // RFC 8200 §4.1: hop-by-hop options must immediately follow the
        // IPv6 header.
        if next == IpProtocol::HOP_BY_HOP && count != 1 {
            return Err(Error::Malformed);
        }
        // Hop-by-hop, routing and destination options share the layout:
        // next header, length in 8-byte units not counting the first 8.
        let len = (usize::from(read_u8(rest, 1)) + 1) * 8;
        let header = rest.get(..len).ok_or(Error::Truncated)?;
        if next == IpProtocol::ROUTING {
            // RFC 8200 §4.4: an unrecognised routing type with segments
            // left must be discarded.
            if read_u8(header, 3) != 0 {
                return Err(Error::Unsupported);
            }
        } else {
            check_options(header.get(2..).unwrap_or_default())?;
        }
        next = IpProtocol(read_u8(header, 0));
        offset += len;
    }
}

/// Checks the TLV-encoded options of a hop-by-hop or destination options
/// header (RFC 8200 §4.2).
fn check_options(mut options: &[u8]) -> Result<()> {
    const PAD1: u8 = 0;
    const PADN: u8 = 1;
    while let Some((&kind, rest)) = options.split_first() {
        if kind == PAD1 {
            options = rest;
            continue;
        }
        let (&len, rest) = rest.split_first().ok_or(Error::Malformed)?;
        options = rest.get(usize::from(len)..).ok_or(Error::Malformed)?;
        // RFC 8200 §4.2: the two high bits of an unrecognised option's type
        // say what to do: 00 skip it, anything else discard the packet.
        if kind != PADN && kind >> 6 != 0 {
            return Err(Error::Unsupported);
        }
    }
    Ok(())
}

/// The meaning of an IPv6 header, with the extension headers skipped.
///
/// `parse` walks the extension headers: `next_header` is the upper-layer
/// protocol and `payload_len` the upper-layer length. `emit` writes the
/// fixed header, followed by a fragment header when `fragment` is set, so
/// `parse(emit(r)) == r` whenever `next_header` is not itself an extension
/// header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// The upper-layer protocol (after the extension headers).
    pub next_header: IpProtocol,
    /// Length of the upper-layer data in bytes (after the extension
    /// headers).
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class: DSCP in the high 6 bits, ECN in the low 2.
    pub traffic_class: u8,
    /// Flow label, 0..=[`MAX_FLOW_LABEL`].
    pub flow_label: u32,
    /// The fragment header, if the packet had one. A fragment with a
    /// non-zero offset carries no upper-layer header: see
    /// [`is_fragment`](Self::is_fragment).
    pub fragment: Option<FragmentInfo>,
}

impl Ipv6Repr {
    /// A header with traffic class and flow label zero and no fragment
    /// header.
    pub fn new(
        src_addr: Ipv6Addr,
        dst_addr: Ipv6Addr,
        next_header: IpProtocol,
        payload_len: usize,
        hop_limit: u8,
    ) -> Ipv6Repr {
        Ipv6Repr {
            src_addr,
            dst_addr,
            next_header,
            payload_len,
            hop_limit,
            traffic_class: 0,
            flow_label: 0,
            fragment: None,
        }
    }

    /// Reads the header of a packet and walks its extension headers
    /// (errors as [`Ipv6Packet::check_len`] and
    /// [`skip_extension_headers`]).
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Ipv6Repr> {
        Self::parse_with_offset(packet).map(|(repr, _)| repr)
    }

    /// As [`parse`](Self::parse), also returning where the upper-layer data
    /// starts, counted from the start of the packet (the fixed header
    /// included): it is `packet[offset..offset + repr.payload_len]`.
    pub fn parse_with_offset<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<(Ipv6Repr, usize)> {
        let upper = packet.upper_layer()?;
        let repr = Ipv6Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: upper.protocol,
            // The walk never goes past the payload.
            payload_len: usize::from(packet.payload_len()).saturating_sub(upper.offset),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
            fragment: upper.fragment,
        };
        Ok((repr, HEADER_LEN + upper.offset))
    }

    /// The length of the headers `emit` writes: 40, or 48 with a fragment
    /// header.
    pub const fn header_len(&self) -> usize {
        if self.fragment.is_some() {
            HEADER_LEN + FRAGMENT_HEADER_LEN
        } else {
            HEADER_LEN
        }
    }

    /// Headers plus upper-layer data length.
    pub const fn total_len(&self) -> usize {
        self.header_len().saturating_add(self.payload_len)
    }

    /// Whether this is a fragment (a fragment header that is not an atomic
    /// fragment, see [`FragmentInfo::is_fragment`]).
    pub fn is_fragment(&self) -> bool {
        self.fragment.is_some_and(|f| f.is_fragment())
    }

    /// The ECN part of the traffic class.
    pub const fn ecn(&self) -> u8 {
        self.traffic_class & 0x03
    }

    /// Writes the fixed header, and a fragment header when `fragment` is
    /// set, at the start of `buf`; returns their length. The payload is not
    /// touched: the caller writes it after them.
    ///
    /// Errors: [`Error::NoSpace`] when `buf` is too short for the headers
    /// or the payload length does not fit in 16 bits (no jumbograms);
    /// [`Error::Malformed`] when the flow label exceeds 20 bits or the
    /// fragment offset is not a multiple of 8.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let header_len = self.header_len();
        let payload_len = self
            .payload_len
            .checked_add(header_len - HEADER_LEN)
            .and_then(|len| u16::try_from(len).ok())
            .ok_or(Error::NoSpace)?;
        if self.flow_label > MAX_FLOW_LABEL || self.fragment.is_some_and(|f| f.offset % 8 != 0) {
            return Err(Error::Malformed);
        }
        let headers = buf.get_mut(..header_len).ok_or(Error::NoSpace)?;
        let (fixed, ext) = headers.split_at_mut(HEADER_LEN);
        let mut packet = Ipv6Packet::new_unchecked(fixed);
        packet.set_first_word((6 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label);
        packet.set_payload_len(payload_len);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        match self.fragment {
            Some(info) => {
                packet.set_next_header(IpProtocol::FRAGMENT);
                info.emit(self.next_header, ext);
            }
            None => packet.set_next_header(self.next_header),
        }
        Ok(header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const DST: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x1234, 0x56ff, 0xfe78, 0x9abc);

    /// A fixed header: traffic class 0xb9, flow label 0x12345, 20 bytes of
    /// TCP, hop limit 64.
    const FIXED: [u8; 40] = [
        0x6b, 0x91, 0x23, 0x45, 0x00, 0x14, 0x06, 0x40, // ver/tc/flow, len, nh, hop
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // src
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0xff, 0xfe, 0x78, 0x9a, 0xbc, // dst
    ];

    fn fixed_packet() -> Vec<u8> {
        let mut v = FIXED.to_vec();
        v.extend(0..20u8);
        v
    }

    /// A packet with the given extension headers (each `(next header
    /// value, bytes)`, in order), then `upper` bytes of `protocol`.
    fn with_ext(first: u8, exts: &[&[u8]], upper: &[u8]) -> Vec<u8> {
        let mut v = FIXED.to_vec();
        v[6] = first;
        for e in exts {
            v.extend_from_slice(e);
        }
        v.extend_from_slice(upper);
        let len = (v.len() - 40) as u16;
        v[4..6].copy_from_slice(&len.to_be_bytes());
        v
    }

    /// An 8-byte options header (PadN filling it) with next header `nh`.
    fn opts(nh: u8) -> [u8; 8] {
        [nh, 0, 1, 4, 0, 0, 0, 0]
    }

    #[test]
    fn fixed_header_fields() {
        let bytes = fixed_packet();
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb9);
        assert_eq!(p.dscp(), 0xb9 >> 2);
        assert_eq!(p.ecn(), 1);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 20);
        assert_eq!(p.total_len(), 60);
        assert_eq!(p.next_header(), IpProtocol::TCP);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), SRC);
        assert_eq!(p.dst_addr(), DST);
        assert_eq!(p.payload(), &bytes[40..]);
        let (repr, off) = Ipv6Repr::parse_with_offset(&p).unwrap();
        assert_eq!(off, 40);
        assert_eq!(
            repr,
            Ipv6Repr {
                src_addr: SRC,
                dst_addr: DST,
                next_header: IpProtocol::TCP,
                payload_len: 20,
                hop_limit: 64,
                traffic_class: 0xb9,
                flow_label: 0x12345,
                fragment: None,
            }
        );
        assert_eq!(repr.ecn(), 1);
        let mut out = [0u8; 40];
        assert_eq!(repr.emit(&mut out), Ok(40));
        assert_eq!(out, FIXED);
    }

    #[test]
    fn setters_round_trip() {
        let mut buf = [0u8; 44];
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        p.set_version(6);
        p.set_traffic_class(0xff);
        p.set_flow_label(0xfffff);
        assert_eq!(
            (p.version(), p.traffic_class(), p.flow_label()),
            (6, 0xff, 0xfffff)
        );
        p.set_traffic_class(0x01);
        p.set_flow_label(0x00002);
        assert_eq!(
            (p.version(), p.traffic_class(), p.flow_label()),
            (6, 0x01, 2)
        );
        p.set_version(0);
        assert_eq!(
            (p.version(), p.traffic_class(), p.flow_label()),
            (0, 0x01, 2)
        );
        p.set_version(6);
        p.set_payload_len(4);
        p.set_next_header(IpProtocol::UDP);
        p.set_hop_limit(255);
        p.set_src_addr(DST);
        p.set_dst_addr(SRC);
        p.payload_mut().copy_from_slice(b"abcd");
        assert_eq!(p.payload_len(), 4);
        assert_eq!(p.next_header(), IpProtocol::UDP);
        assert_eq!(p.hop_limit(), 255);
        assert_eq!(p.src_addr(), DST);
        assert_eq!(p.dst_addr(), SRC);
        assert_eq!(p.payload(), b"abcd");
        assert!(Ipv6Packet::new_checked(&buf[..]).is_ok());
    }

    #[test]
    fn padding_is_ignored() {
        let mut bytes = fixed_packet();
        bytes.extend_from_slice(&[0xee; 6]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.payload().len(), 20);
        assert_eq!(Ipv6Repr::parse(&p).unwrap().payload_len, 20);
    }

    #[test]
    fn round_trip_with_fragment_header() {
        let repr = Ipv6Repr {
            fragment: Some(FragmentInfo {
                offset: 65528,
                more_frags: true,
                ident: 0xdead_beef,
            }),
            ..Ipv6Repr::new(SRC, DST, IpProtocol::UDP, 1232, 3)
        };
        let mut buf = vec![0u8; repr.total_len()];
        assert_eq!(repr.emit(&mut buf), Ok(48));
        assert_eq!(&buf[40..48], &[17, 0, 0xff, 0xf9, 0xde, 0xad, 0xbe, 0xef]);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.next_header(), IpProtocol::FRAGMENT);
        assert_eq!(p.payload_len(), 1240);
        let (parsed, off) = Ipv6Repr::parse_with_offset(&p).unwrap();
        assert_eq!(parsed, repr);
        assert_eq!(off, 48);
        assert!(parsed.is_fragment());
    }

    #[test]
    fn non_first_fragment_has_no_upper_layer_header() {
        // Offset 1448 (181 units), M set, ident 7; data that looks like
        // a routing header must not be walked.
        let frag = [43u8, 0, 0x05, 0xa9, 0, 0, 0, 7];
        let bytes = with_ext(44, &[&frag], &[6, 255, 0, 0, 0, 0, 0, 0]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        let ul = p.upper_layer().unwrap();
        assert_eq!(ul.protocol, IpProtocol::ROUTING);
        assert_eq!(ul.offset, 8);
        assert_eq!(
            ul.fragment,
            Some(FragmentInfo {
                offset: 1448,
                more_frags: true,
                ident: 7
            })
        );
        assert!(!ul.has_upper_layer_header());
        let repr = Ipv6Repr::parse(&p).unwrap();
        assert!(repr.is_fragment());
        assert_eq!(repr.payload_len, 8);
    }

    #[test]
    fn first_fragment_walks_on() {
        // Fragment (offset 0, M set) then destination options then TCP.
        let frag = [60u8, 0, 0, 1, 0, 0, 0, 9];
        let bytes = with_ext(44, &[&frag, &opts(6)], &[0xaa; 20]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        let ul = p.upper_layer().unwrap();
        assert_eq!(ul.protocol, IpProtocol::TCP);
        assert_eq!(ul.offset, 16);
        assert!(ul.has_upper_layer_header());
        assert!(ul.fragment.unwrap().is_fragment());
        let (repr, off) = Ipv6Repr::parse_with_offset(&p).unwrap();
        assert_eq!((repr.payload_len, off), (20, 56));
        assert_eq!(&bytes[off..off + repr.payload_len], &[0xaa; 20]);
    }

    #[test]
    fn atomic_fragment_is_not_a_fragment() {
        let frag = [6u8, 0, 0, 0, 0, 0, 0, 1];
        let bytes = with_ext(44, &[&frag], &[0; 20]);
        let repr = Ipv6Repr::parse(&Ipv6Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        assert!(repr.fragment.is_some());
        assert!(!repr.is_fragment());
        assert_eq!(repr.next_header, IpProtocol::TCP);
    }

    #[test]
    fn full_chain_is_skipped() {
        // Hop-by-hop (16 bytes: router alert + PadN), destination options,
        // routing (type 4, segments left 0), fragment, destination options,
        // then UDP.
        let hbh = [60u8, 1, 5, 2, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0];
        let dst1 = [43u8, 0, 0, 0, 0, 0, 0, 0]; // six Pad1
        let rh = [44u8, 0, 4, 0, 0, 0, 0, 0];
        let frag = [60u8, 0, 0, 0, 0, 0, 0, 1];
        let bytes = with_ext(0, &[&hbh, &dst1, &rh, &frag, &opts(17)], b"udp!");
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        let ul = p.upper_layer().unwrap();
        assert_eq!(ul.protocol, IpProtocol::UDP);
        assert_eq!(ul.offset, 48);
        assert_eq!(&p.payload()[ul.offset..], b"udp!");
        let (repr, off) = Ipv6Repr::parse_with_offset(&p).unwrap();
        assert_eq!(
            (repr.next_header, repr.payload_len, off),
            (IpProtocol::UDP, 4, 88)
        );
    }

    #[test]
    fn unknown_and_no_next_header_end_the_walk() {
        // AH (51) is not skipped: it is returned as the upper layer.
        let bytes = with_ext(60, &[&opts(51)], &[0; 12]);
        let ul = Ipv6Packet::new_checked(&bytes[..])
            .unwrap()
            .upper_layer()
            .unwrap();
        assert_eq!((ul.protocol, ul.offset), (IpProtocol(51), 8));
        let bytes = with_ext(59, &[], &[1, 2, 3]);
        let ul = Ipv6Packet::new_checked(&bytes[..])
            .unwrap()
            .upper_layer()
            .unwrap();
        assert_eq!((ul.protocol, ul.offset), (IpProtocol::NO_NEXT_HEADER, 0));
    }

    #[test]
    fn truncated() {
        let bytes = fixed_packet();
        for len in 0..40 {
            assert_eq!(
                Ipv6Packet::new_checked(&bytes[..len]).err(),
                Some(Error::Truncated)
            );
        }
        // Payload length lies.
        for len in 40..60 {
            assert_eq!(
                Ipv6Packet::new_checked(&bytes[..len]).err(),
                Some(Error::Truncated)
            );
            let p = Ipv6Packet::new_unchecked(&bytes[..len]);
            assert_eq!(Ipv6Repr::parse(&p), Err(Error::Truncated));
        }
    }

    #[test]
    fn wrong_version() {
        let mut bytes = fixed_packet();
        for v in [0u8, 4, 15] {
            bytes[0] = (v << 4) | (bytes[0] & 0x0f);
            assert_eq!(
                Ipv6Packet::new_checked(&bytes[..]).err(),
                Some(Error::Malformed)
            );
        }
    }

    #[test]
    fn ext_header_length_overruns() {
        // Destination options claiming 16 bytes in an 8-byte payload.
        let bytes = with_ext(60, &[&[6, 1, 1, 4, 0, 0, 0, 0]], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Truncated));
        // A header with only one byte.
        let bytes = with_ext(43, &[], &[6]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Truncated));
        // A fragment header cut short.
        let bytes = with_ext(44, &[], &[6, 0, 0, 0, 0, 0, 0]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Truncated));
        // A first fragment whose chain is cut short (RFC 7112).
        let frag = [60u8, 0, 0, 1, 0, 0, 0, 9];
        let bytes = with_ext(44, &[&frag], &[6, 0, 0]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Truncated));
        // Empty payload but a next header that promises a header.
        let bytes = with_ext(0, &[], &[]);
        assert_eq!(
            Ipv6Repr::parse(&Ipv6Packet::new_checked(&bytes[..]).unwrap()),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn option_length_overruns() {
        // PadN of length 5 in a 6-byte option area.
        let bytes = with_ext(60, &[&[6, 0, 1, 5, 0, 0, 0, 0]], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Malformed));
        // A type with no room for its length byte.
        let bytes = with_ext(60, &[&[6, 0, 0, 0, 0, 0, 0, 1]], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Malformed));
    }

    #[test]
    fn unknown_discard_option_is_unsupported() {
        // Jumbo payload (0xc2, action 11) is not supported.
        let bytes = with_ext(0, &[&[6, 0, 0xc2, 4, 0, 1, 0, 0]], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Unsupported));
        // An unknown skippable option (action 00) is skipped.
        let bytes = with_ext(60, &[&[6, 0, 0x1e, 4, 9, 9, 9, 9]], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer().unwrap().protocol, IpProtocol::TCP);
    }

    #[test]
    fn routing_with_segments_left_is_unsupported() {
        let bytes = with_ext(43, &[&[6, 0, 4, 1, 0, 0, 0, 0]], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Unsupported));
    }

    #[test]
    fn hop_by_hop_not_first_is_malformed() {
        let bytes = with_ext(60, &[&opts(0), &opts(6)], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Malformed));
        // Nor after a fragment header.
        let frag = [0u8, 0, 0, 0, 0, 0, 0, 1];
        let bytes = with_ext(44, &[&frag, &opts(6)], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Malformed));
    }

    #[test]
    fn too_many_ext_headers() {
        let dst = opts(60);
        let last = opts(6);
        let mut chain: Vec<&[u8]> = vec![&dst; MAX_EXT_HEADERS - 1];
        chain.push(&last);
        let ok = with_ext(60, &chain, &[]);
        let ul = Ipv6Packet::new_checked(&ok[..])
            .unwrap()
            .upper_layer()
            .unwrap();
        assert_eq!(
            (ul.protocol, ul.offset),
            (IpProtocol::TCP, 8 * MAX_EXT_HEADERS)
        );
        chain.insert(0, &dst);
        let bad = with_ext(60, &chain, &[]);
        let p = Ipv6Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Unsupported));
    }

    #[test]
    fn second_fragment_header_is_unsupported() {
        let frag = [44u8, 0, 0, 0, 0, 0, 0, 1];
        let bytes = with_ext(44, &[&frag, &frag], &[]);
        let p = Ipv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.upper_layer(), Err(Error::Unsupported));
    }

    #[test]
    fn emit_errors() {
        let repr = Ipv6Repr::new(SRC, DST, IpProtocol::TCP, 20, 64);
        assert_eq!(repr.emit(&mut [0u8; 39]), Err(Error::NoSpace));
        let frag = Ipv6Repr {
            fragment: Some(FragmentInfo {
                offset: 0,
                more_frags: true,
                ident: 1,
            }),
            ..repr
        };
        assert_eq!(frag.emit(&mut [0u8; 47]), Err(Error::NoSpace));
        assert_eq!(frag.emit(&mut [0u8; 48]), Ok(48));
        let max = Ipv6Repr {
            payload_len: 65535,
            ..repr
        };
        assert_eq!(max.emit(&mut [0u8; 40]), Ok(40));
        let big = Ipv6Repr {
            payload_len: 65536,
            ..repr
        };
        assert_eq!(big.emit(&mut [0u8; 40]), Err(Error::NoSpace));
        let big = Ipv6Repr {
            payload_len: 65535 - 7,
            ..frag
        };
        assert_eq!(big.emit(&mut [0u8; 48]), Err(Error::NoSpace));
        let bad = Ipv6Repr {
            flow_label: 0x10_0000,
            ..repr
        };
        assert_eq!(bad.emit(&mut [0u8; 40]), Err(Error::Malformed));
        let bad = Ipv6Repr {
            fragment: Some(FragmentInfo {
                offset: 12,
                more_frags: false,
                ident: 1,
            }),
            ..repr
        };
        assert_eq!(bad.emit(&mut [0u8; 48]), Err(Error::Malformed));
    }

    #[test]
    fn walk_never_panics_on_any_short_chain() {
        // Every prefix of a long chain, with every first next header.
        let hbh = [60u8, 1, 5, 2, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0];
        let frag = [43u8, 0, 0, 1, 0, 0, 0, 1];
        let tail = [44u8, 0, 0, 0, 0, 0, 0, 0];
        let chain = [&hbh[..], &frag, &tail, &[0xff; 8]].concat();
        for len in 0..=chain.len() {
            for first in [0u8, 43, 44, 60, 6] {
                let _ = skip_extension_headers(IpProtocol(first), &chain[..len]);
            }
        }
        for len in 0..64 {
            let bytes = vec![0x60u8; len];
            let mut p = Ipv6Packet::new_unchecked(bytes);
            let _ = (p.src_addr(), p.dst_addr(), p.flow_label(), p.payload());
            let _ = p.upper_layer();
            p.set_dst_addr(SRC);
            p.set_payload_len(3);
            let _ = p.payload_mut();
        }
    }
}
