//! ICMP for IPv6 (RFC 4443): the packet view [`Icmpv6Packet`], the
//! [`Icmpv6Repr`] of the messages a TCP/IP host deals with (echo, destination
//! unreachable, packet too big for path MTU discovery (RFC 8201), time
//! exceeded, parameter problem), and [`Quoted::parse_v6`], which reads the
//! original packet an ICMPv6 error message carries.
//!
//! The header has the same shape as ICMPv4's (8 bytes: type, code,
//! checksum, 4 type-specific bytes), but the checksum also covers the IPv6
//! pseudo-header with next header 58 (RFC 4443 §2.3, RFC 8200 §8.1), so
//! checking and filling it needs the source and destination addresses. The
//! view is over exactly the ICMPv6 message (the upper-layer payload).
//!
//! Neighbor discovery and MLD messages have type numbers here but no
//! `Repr`: parsing them is [`Error::Unsupported`].

use core::fmt;
use core::net::{IpAddr, Ipv6Addr};

use crate::bytes::{read_u16, read_u32, write_bytes};
use crate::checksum::{self, Checksum};
use crate::ip::IpProtocol;
use crate::{Error, Result};

pub use crate::icmpv4::{Quoted, QuotedTcp};

/// The length of the ICMPv6 header: type, code, checksum and the 4
/// type-specific bytes.
pub const HEADER_LEN: usize = 8;

/// The most bytes of an offending packet an ICMPv6 error message may quote:
/// RFC 4443 §2.4(c) asks for as much of it as fits without the ICMPv6
/// packet (IPv6 header of 40 bytes, ICMPv6 header, quote) exceeding the
/// minimum IPv6 MTU of 1280 bytes.
pub const MAX_QUOTE_V6: usize = 1280 - 40 - HEADER_LEN;

/// The shortest quote from which a transport header can be read: the IPv6
/// header and 8 transport bytes.
pub const MIN_QUOTE_V6: usize = 40 + 8;

/// The prefix of `original` (a whole IPv6 packet that caused an error) to
/// quote in an ICMPv6 error message: at most [`MAX_QUOTE_V6`] bytes.
pub fn quote(original: &[u8]) -> &[u8] {
    original.get(..MAX_QUOTE_V6).unwrap_or(original)
}

/// Byte offsets of the header fields.
mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const IDENT: usize = 4;
    pub const SEQ_NO: usize = 6;
    pub const MTU: usize = 4;
    pub const POINTER: usize = 4;
    pub const REST: usize = 4;
}

/// An ICMPv6 message type. Types below 128 are errors, the others
/// informational (RFC 4443 §2.1).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Icmpv6Type(pub u8);

impl Icmpv6Type {
    /// Destination unreachable (RFC 4443 §3.1).
    pub const DST_UNREACHABLE: Icmpv6Type = Icmpv6Type(1);
    /// Packet too big (RFC 4443 §3.2).
    pub const PACKET_TOO_BIG: Icmpv6Type = Icmpv6Type(2);
    /// Time exceeded (RFC 4443 §3.3).
    pub const TIME_EXCEEDED: Icmpv6Type = Icmpv6Type(3);
    /// Parameter problem (RFC 4443 §3.4).
    pub const PARAM_PROBLEM: Icmpv6Type = Icmpv6Type(4);
    /// Echo request (RFC 4443 §4.1).
    pub const ECHO_REQUEST: Icmpv6Type = Icmpv6Type(128);
    /// Echo reply (RFC 4443 §4.2).
    pub const ECHO_REPLY: Icmpv6Type = Icmpv6Type(129);
    /// Multicast listener query (RFC 2710).
    pub const MLD_QUERY: Icmpv6Type = Icmpv6Type(130);
    /// Multicast listener report (RFC 2710).
    pub const MLD_REPORT: Icmpv6Type = Icmpv6Type(131);
    /// Multicast listener done (RFC 2710).
    pub const MLD_DONE: Icmpv6Type = Icmpv6Type(132);
    /// Router solicitation (RFC 4861).
    pub const ROUTER_SOLICIT: Icmpv6Type = Icmpv6Type(133);
    /// Router advertisement (RFC 4861).
    pub const ROUTER_ADVERT: Icmpv6Type = Icmpv6Type(134);
    /// Neighbor solicitation (RFC 4861).
    pub const NEIGHBOR_SOLICIT: Icmpv6Type = Icmpv6Type(135);
    /// Neighbor advertisement (RFC 4861).
    pub const NEIGHBOR_ADVERT: Icmpv6Type = Icmpv6Type(136);
    /// Redirect (RFC 4861).
    pub const REDIRECT: Icmpv6Type = Icmpv6Type(137);
    /// Version 2 multicast listener report (RFC 3810).
    pub const MLDV2_REPORT: Icmpv6Type = Icmpv6Type(143);

    /// Whether this is an error message (type below 128, RFC 4443 §2.1).
    /// An error message must never be sent in response to one
    /// (RFC 4443 §2.4(e.1)). An unknown error type must still be passed to
    /// the upper layer, an unknown informational one silently dropped
    /// (RFC 4443 §2.4(b), (d)).
    pub fn is_error(self) -> bool {
        self.0 < 128
    }
}

impl fmt::Debug for Icmpv6Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Icmpv6Type::DST_UNREACHABLE => "DstUnreachable",
            Icmpv6Type::PACKET_TOO_BIG => "PacketTooBig",
            Icmpv6Type::TIME_EXCEEDED => "TimeExceeded",
            Icmpv6Type::PARAM_PROBLEM => "ParamProblem",
            Icmpv6Type::ECHO_REQUEST => "EchoRequest",
            Icmpv6Type::ECHO_REPLY => "EchoReply",
            Icmpv6Type::MLD_QUERY => "MldQuery",
            Icmpv6Type::MLD_REPORT => "MldReport",
            Icmpv6Type::MLD_DONE => "MldDone",
            Icmpv6Type::ROUTER_SOLICIT => "RouterSolicit",
            Icmpv6Type::ROUTER_ADVERT => "RouterAdvert",
            Icmpv6Type::NEIGHBOR_SOLICIT => "NeighborSolicit",
            Icmpv6Type::NEIGHBOR_ADVERT => "NeighborAdvert",
            Icmpv6Type::REDIRECT => "Redirect",
            Icmpv6Type::MLDV2_REPORT => "Mldv2Report",
            Icmpv6Type(n) => return write!(f, "Icmpv6Type({n})"),
        };
        f.write_str(name)
    }
}

/// The checksum sum over the pseudo-header and `message` (RFC 4443 §2.3).
fn message_sum(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> Checksum {
    // A message longer than 2^32 - 1 bytes cannot exist (the pseudo-header
    // length is 32 bits); saturating keeps this total and such a length
    // never verifies.
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let mut sum = checksum::pseudo_header_v6(src, dst, IpProtocol::ICMPV6.0, len);
    sum.add_bytes(message);
    sum
}

/// A view of an ICMPv6 message in a buffer: exactly the ICMPv6 message,
/// that is, the IPv6 upper-layer payload.
///
/// Build it with [`Icmpv6Packet::new_checked`], which guarantees the 8-byte
/// header is present. On a view made with [`Icmpv6Packet::new_unchecked`]
/// over a shorter buffer, accessors return 0 and setters do nothing rather
/// than panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    /// Wraps a buffer, checking that it holds at least the 8-byte header
    /// ([`Error::Truncated`] otherwise).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds at least the 8-byte header.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv6Type {
        Icmpv6Type(self.buffer.as_ref().get(field::TYPE).copied().unwrap_or(0))
    }

    /// The message code (its meaning depends on the type).
    pub fn code(&self) -> u8 {
        self.buffer.as_ref().get(field::CODE).copied().unwrap_or(0)
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The identifier of an echo request or reply.
    pub fn echo_ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::IDENT)
    }

    /// The sequence number of an echo request or reply.
    pub fn echo_seq_no(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::SEQ_NO)
    }

    /// The MTU of a packet too big message: the 32-bit second word
    /// (RFC 4443 §3.2).
    pub fn mtu(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::MTU)
    }

    /// The pointer of a parameter problem message: the offset in the quoted
    /// packet of the octet in error (RFC 4443 §3.4).
    pub fn pointer(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::POINTER)
    }

    /// The 4 type-specific bytes after the checksum, as one word.
    pub fn rest_of_header(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::REST)
    }

    /// The bytes after the 8-byte header: the echo payload, or the quoted
    /// packet of an error message.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// Whether the checksum verifies over the pseudo-header (`src` and
    /// `dst` of the enclosing IPv6 packet, next header 58) and the whole
    /// message (RFC 4443 §2.3).
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        message_sum(src, dst, self.buffer.as_ref()).fold() == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: Icmpv6Type) {
        write_bytes(self.buffer.as_mut(), field::TYPE, &[value.0]);
    }

    /// Sets the message code.
    pub fn set_code(&mut self, value: u8) {
        write_bytes(self.buffer.as_mut(), field::CODE, &[value]);
    }

    /// Sets the checksum field (see [`Icmpv6Packet::fill_checksum`]).
    pub fn set_checksum(&mut self, value: u16) {
        write_bytes(self.buffer.as_mut(), field::CHECKSUM, &value.to_be_bytes());
    }

    /// Sets the identifier of an echo request or reply.
    pub fn set_echo_ident(&mut self, value: u16) {
        write_bytes(self.buffer.as_mut(), field::IDENT, &value.to_be_bytes());
    }

    /// Sets the sequence number of an echo request or reply.
    pub fn set_echo_seq_no(&mut self, value: u16) {
        write_bytes(self.buffer.as_mut(), field::SEQ_NO, &value.to_be_bytes());
    }

    /// Sets the MTU of a packet too big message.
    pub fn set_mtu(&mut self, value: u32) {
        write_bytes(self.buffer.as_mut(), field::MTU, &value.to_be_bytes());
    }

    /// Sets the pointer of a parameter problem message.
    pub fn set_pointer(&mut self, value: u32) {
        write_bytes(self.buffer.as_mut(), field::POINTER, &value.to_be_bytes());
    }

    /// Sets the 4 type-specific bytes after the checksum.
    pub fn set_rest_of_header(&mut self, value: u32) {
        write_bytes(self.buffer.as_mut(), field::REST, &value.to_be_bytes());
    }

    /// The bytes after the 8-byte header, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }

    /// Computes the checksum over the pseudo-header (`src` and `dst` of the
    /// enclosing IPv6 packet) and the whole message, and writes it.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let sum = message_sum(src, dst, self.buffer.as_ref()).finish();
        self.set_checksum(sum);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Icmpv6Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// Why a destination is unreachable: the code of a destination unreachable
/// message (RFC 4443 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6DstUnreachable {
    /// Code 0: no route to destination.
    NoRoute,
    /// Code 1: communication with destination administratively prohibited.
    AdminProhibited,
    /// Code 2: beyond scope of source address.
    BeyondScope,
    /// Code 3: address unreachable.
    AddrUnreachable,
    /// Code 4: port unreachable.
    PortUnreachable,
    /// Code 5: source address failed ingress/egress policy.
    FailedPolicy,
    /// Code 6: reject route to destination.
    RejectRoute,
    /// Any other code, as sent. Parsing never produces a code that has a
    /// variant of its own here.
    Other(u8),
}

impl Icmpv6DstUnreachable {
    /// The message code.
    pub fn code(self) -> u8 {
        match self {
            Icmpv6DstUnreachable::NoRoute => 0,
            Icmpv6DstUnreachable::AdminProhibited => 1,
            Icmpv6DstUnreachable::BeyondScope => 2,
            Icmpv6DstUnreachable::AddrUnreachable => 3,
            Icmpv6DstUnreachable::PortUnreachable => 4,
            Icmpv6DstUnreachable::FailedPolicy => 5,
            Icmpv6DstUnreachable::RejectRoute => 6,
            Icmpv6DstUnreachable::Other(code) => code,
        }
    }

    /// The reason for a code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Icmpv6DstUnreachable::NoRoute,
            1 => Icmpv6DstUnreachable::AdminProhibited,
            2 => Icmpv6DstUnreachable::BeyondScope,
            3 => Icmpv6DstUnreachable::AddrUnreachable,
            4 => Icmpv6DstUnreachable::PortUnreachable,
            5 => Icmpv6DstUnreachable::FailedPolicy,
            6 => Icmpv6DstUnreachable::RejectRoute,
            code => Icmpv6DstUnreachable::Other(code),
        }
    }
}

/// What ran out: the code of a time exceeded message (RFC 4443 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6TimeExceeded {
    /// Code 0: hop limit exceeded in transit.
    HopLimitExceeded,
    /// Code 1: fragment reassembly time exceeded.
    FragReassembly,
    /// Any other code, as sent (never 0 or 1 when parsed).
    Other(u8),
}

impl Icmpv6TimeExceeded {
    /// The message code.
    pub fn code(self) -> u8 {
        match self {
            Icmpv6TimeExceeded::HopLimitExceeded => 0,
            Icmpv6TimeExceeded::FragReassembly => 1,
            Icmpv6TimeExceeded::Other(code) => code,
        }
    }

    /// The reason for a code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Icmpv6TimeExceeded::HopLimitExceeded,
            1 => Icmpv6TimeExceeded::FragReassembly,
            code => Icmpv6TimeExceeded::Other(code),
        }
    }
}

/// What was wrong: the code of a parameter problem message (RFC 4443 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6ParamProblem {
    /// Code 0: erroneous header field encountered.
    ErroneousField,
    /// Code 1: unrecognized next header type encountered.
    UnrecognizedNextHeader,
    /// Code 2: unrecognized IPv6 option encountered.
    UnrecognizedOption,
    /// Any other code, as sent (never 0, 1 or 2 when parsed).
    Other(u8),
}

impl Icmpv6ParamProblem {
    /// The message code.
    pub fn code(self) -> u8 {
        match self {
            Icmpv6ParamProblem::ErroneousField => 0,
            Icmpv6ParamProblem::UnrecognizedNextHeader => 1,
            Icmpv6ParamProblem::UnrecognizedOption => 2,
            Icmpv6ParamProblem::Other(code) => code,
        }
    }

    /// The reason for a code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Icmpv6ParamProblem::ErroneousField,
            1 => Icmpv6ParamProblem::UnrecognizedNextHeader,
            2 => Icmpv6ParamProblem::UnrecognizedOption,
            code => Icmpv6ParamProblem::Other(code),
        }
    }
}

/// The meaning of an ICMPv6 message this crate handles.
///
/// The `quoted` bytes of an error message are the start of the packet that
/// caused it; [`Quoted::parse_v6`] reads them. Parsing does not require the
/// quote to be well formed, so that a tracer can still show a message with
/// a bad quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
    /// Type 128: echo request (`ping`).
    EchoRequest {
        /// Identifier, to match replies to requests.
        ident: u16,
        /// Sequence number, to match replies to requests.
        seq_no: u16,
        /// Payload, returned unchanged in the reply.
        data: &'a [u8],
    },
    /// Type 129: echo reply.
    EchoReply {
        /// Identifier of the request.
        ident: u16,
        /// Sequence number of the request.
        seq_no: u16,
        /// Payload of the request.
        data: &'a [u8],
    },
    /// Type 1: destination unreachable.
    DstUnreachable {
        /// The code.
        reason: Icmpv6DstUnreachable,
        /// The start of the offending packet.
        quoted: &'a [u8],
    },
    /// Type 2: packet too big (path MTU discovery, RFC 8201). The code is
    /// sent as 0 and ignored on receipt (RFC 4443 §3.2).
    PacketTooBig {
        /// The MTU of the next-hop link. A value below 1280 must not lower
        /// the path MTU below 1280 (RFC 8201 §4); that is for the caller to
        /// enforce.
        mtu: u32,
        /// The start of the offending packet.
        quoted: &'a [u8],
    },
    /// Type 3: time exceeded.
    TimeExceeded {
        /// The code.
        reason: Icmpv6TimeExceeded,
        /// The start of the offending packet.
        quoted: &'a [u8],
    },
    /// Type 4: parameter problem.
    ParamProblem {
        /// The code.
        reason: Icmpv6ParamProblem,
        /// The offset in the quoted packet of the octet in error (it may
        /// point beyond the quote, RFC 4443 §3.4).
        pointer: u32,
        /// The start of the offending packet.
        quoted: &'a [u8],
    },
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a checked view of a message carried from `src` to `dst`.
    /// Unknown message types (and those this crate does not represent, such
    /// as neighbor discovery) are [`Error::Unsupported`]; an echo with a
    /// code other than 0 is [`Error::Malformed`]. With `verify_checksum`, a
    /// checksum mismatch over the pseudo-header and message is
    /// [`Error::BadChecksum`].
    pub fn parse<T>(
        packet: &Icmpv6Packet<&'a T>,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        verify_checksum: bool,
    ) -> Result<Self>
    where
        T: AsRef<[u8]> + ?Sized,
    {
        packet.check_len()?;
        if verify_checksum && !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        let bytes: &'a [u8] = <T as AsRef<[u8]>>::as_ref(packet.buffer);
        let data = bytes.get(HEADER_LEN..).unwrap_or(&[]);
        let code = packet.code();
        match packet.msg_type() {
            Icmpv6Type::ECHO_REQUEST | Icmpv6Type::ECHO_REPLY if code != 0 => Err(Error::Malformed),
            Icmpv6Type::ECHO_REQUEST => Ok(Icmpv6Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            }),
            Icmpv6Type::ECHO_REPLY => Ok(Icmpv6Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            }),
            Icmpv6Type::DST_UNREACHABLE => Ok(Icmpv6Repr::DstUnreachable {
                reason: Icmpv6DstUnreachable::from_code(code),
                quoted: data,
            }),
            // RFC 4443 §3.2: the code is ignored by the receiver.
            Icmpv6Type::PACKET_TOO_BIG => Ok(Icmpv6Repr::PacketTooBig {
                mtu: packet.mtu(),
                quoted: data,
            }),
            Icmpv6Type::TIME_EXCEEDED => Ok(Icmpv6Repr::TimeExceeded {
                reason: Icmpv6TimeExceeded::from_code(code),
                quoted: data,
            }),
            Icmpv6Type::PARAM_PROBLEM => Ok(Icmpv6Repr::ParamProblem {
                reason: Icmpv6ParamProblem::from_code(code),
                pointer: packet.pointer(),
                quoted: data,
            }),
            _ => Err(Error::Unsupported),
        }
    }

    /// Parses the bytes of an ICMPv6 message (the IPv6 upper-layer payload)
    /// carried from `src` to `dst`.
    pub fn parse_bytes(
        bytes: &'a [u8],
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        verify_checksum: bool,
    ) -> Result<Self> {
        Self::parse(
            &Icmpv6Packet::new_checked(bytes)?,
            src,
            dst,
            verify_checksum,
        )
    }

    /// A destination unreachable message about `original`, the whole IPv6
    /// packet that could not be delivered, quoting as much of it as
    /// RFC 4443 §2.4(c) allows ([`MAX_QUOTE_V6`]).
    pub fn dst_unreachable(reason: Icmpv6DstUnreachable, original: &'a [u8]) -> Self {
        Icmpv6Repr::DstUnreachable {
            reason,
            quoted: quote(original),
        }
    }

    /// A packet too big message about `original`, quoting as much of it as
    /// RFC 4443 §2.4(c) allows ([`MAX_QUOTE_V6`]).
    pub fn packet_too_big(mtu: u32, original: &'a [u8]) -> Self {
        Icmpv6Repr::PacketTooBig {
            mtu,
            quoted: quote(original),
        }
    }

    /// A time exceeded message about `original`, quoting as much of it as
    /// RFC 4443 §2.4(c) allows ([`MAX_QUOTE_V6`]).
    pub fn time_exceeded(reason: Icmpv6TimeExceeded, original: &'a [u8]) -> Self {
        Icmpv6Repr::TimeExceeded {
            reason,
            quoted: quote(original),
        }
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv6Type {
        match self {
            Icmpv6Repr::EchoRequest { .. } => Icmpv6Type::ECHO_REQUEST,
            Icmpv6Repr::EchoReply { .. } => Icmpv6Type::ECHO_REPLY,
            Icmpv6Repr::DstUnreachable { .. } => Icmpv6Type::DST_UNREACHABLE,
            Icmpv6Repr::PacketTooBig { .. } => Icmpv6Type::PACKET_TOO_BIG,
            Icmpv6Repr::TimeExceeded { .. } => Icmpv6Type::TIME_EXCEEDED,
            Icmpv6Repr::ParamProblem { .. } => Icmpv6Type::PARAM_PROBLEM,
        }
    }

    /// The message code.
    pub fn code(&self) -> u8 {
        match *self {
            Icmpv6Repr::EchoRequest { .. }
            | Icmpv6Repr::EchoReply { .. }
            | Icmpv6Repr::PacketTooBig { .. } => 0,
            Icmpv6Repr::DstUnreachable { reason, .. } => reason.code(),
            Icmpv6Repr::TimeExceeded { reason, .. } => reason.code(),
            Icmpv6Repr::ParamProblem { reason, .. } => reason.code(),
        }
    }

    /// Whether this is an error message (see [`Icmpv6Type::is_error`]).
    pub fn is_error(&self) -> bool {
        self.msg_type().is_error()
    }

    /// The quoted packet of an error message; `None` for an echo.
    pub fn quoted(&self) -> Option<&'a [u8]> {
        match *self {
            Icmpv6Repr::EchoRequest { .. } | Icmpv6Repr::EchoReply { .. } => None,
            Icmpv6Repr::DstUnreachable { quoted, .. }
            | Icmpv6Repr::PacketTooBig { quoted, .. }
            | Icmpv6Repr::TimeExceeded { quoted, .. }
            | Icmpv6Repr::ParamProblem { quoted, .. } => Some(quoted),
        }
    }

    /// The echo payload or the quote.
    fn payload(&self) -> &'a [u8] {
        match *self {
            Icmpv6Repr::EchoRequest { data, .. } | Icmpv6Repr::EchoReply { data, .. } => data,
            Icmpv6Repr::DstUnreachable { quoted, .. }
            | Icmpv6Repr::PacketTooBig { quoted, .. }
            | Icmpv6Repr::TimeExceeded { quoted, .. }
            | Icmpv6Repr::ParamProblem { quoted, .. } => quoted,
        }
    }

    /// The length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload().len())
    }

    /// Writes the message, with its checksum for a packet from `src` to
    /// `dst`, at the start of `buf` and returns its length
    /// ([`Error::NoSpace`] if `buf` is shorter, or if the message would be
    /// longer than the 32-bit pseudo-header length can say).
    pub fn emit(&self, src: &Ipv6Addr, dst: &Ipv6Addr, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        if u32::try_from(len).is_err() {
            return Err(Error::NoSpace);
        }
        let out = buf.get_mut(..len).ok_or(Error::NoSpace)?;
        let mut packet = Icmpv6Packet::new_unchecked(out);
        packet.set_msg_type(self.msg_type());
        packet.set_code(self.code());
        packet.set_rest_of_header(0);
        match *self {
            Icmpv6Repr::EchoRequest { ident, seq_no, .. }
            | Icmpv6Repr::EchoReply { ident, seq_no, .. } => {
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
            }
            Icmpv6Repr::PacketTooBig { mtu, .. } => packet.set_mtu(mtu),
            Icmpv6Repr::ParamProblem { pointer, .. } => packet.set_pointer(pointer),
            Icmpv6Repr::DstUnreachable { .. } | Icmpv6Repr::TimeExceeded { .. } => {}
        }
        packet.data_mut().copy_from_slice(self.payload());
        packet.fill_checksum(src, dst);
        Ok(len)
    }
}

/// The IPv6 authentication header (RFC 4302), whose length is counted in
/// 4-byte units.
const AUTH_HEADER: IpProtocol = IpProtocol(51);

impl<'a> Quoted<'a> {
    /// Reads the quoted IPv6 header and the transport bytes after it.
    ///
    /// Hop-by-hop, routing, destination options, authentication and
    /// fragment extension headers are skipped; `protocol` is the first
    /// header that is none of these. The transport bytes end at the
    /// payload length the quoted header declares when that is within the
    /// quote (a payload length of 0, a jumbogram, is not used).
    ///
    /// Errors: [`Error::Truncated`] when the header, an extension header or
    /// 8 transport bytes are missing, [`Error::Malformed`] for a version
    /// other than 6, [`Error::Unsupported`] for a fragment other than the
    /// first (it has no transport header).
    pub fn parse_v6(quoted: &'a [u8]) -> Result<Self> {
        let header = quoted.get(..40).ok_or(Error::Truncated)?;
        if header[0] >> 4 != 6 {
            return Err(Error::Malformed);
        }
        let payload_len = usize::from(read_u16(header, 4));
        let mut next = IpProtocol(header[6]);
        let mut src = [0u8; 16];
        src.copy_from_slice(&header[8..24]);
        let mut dst = [0u8; 16];
        dst.copy_from_slice(&header[24..40]);
        let end = match 40 + payload_len {
            end if payload_len != 0 && end < quoted.len() => end,
            _ => quoted.len(),
        };
        let quoted = &quoted[..end];

        // Every extension header is at least 8 bytes long, so this loop ends
        // after at most len / 8 rounds (RFC 8200 §4).
        let mut offset = 40;
        loop {
            let len = match next {
                IpProtocol::HOP_BY_HOP | IpProtocol::ROUTING | IpProtocol::DESTINATION_OPTIONS => {
                    // Length in 8-byte units, not counting the first 8.
                    let units = quoted.get(offset + 1).ok_or(Error::Truncated)?;
                    (usize::from(*units) + 1) * 8
                }
                AUTH_HEADER => {
                    // RFC 4302 §2.2: length in 4-byte units, minus 2.
                    let units = quoted.get(offset + 1).ok_or(Error::Truncated)?;
                    (usize::from(*units) + 2) * 4
                }
                IpProtocol::FRAGMENT => {
                    let frag = quoted.get(offset..offset + 8).ok_or(Error::Truncated)?;
                    if read_u16(frag, 2) >> 3 != 0 {
                        return Err(Error::Unsupported);
                    }
                    8
                }
                _ => break,
            };
            let ext = quoted.get(offset..offset + len).ok_or(Error::Truncated)?;
            next = IpProtocol(ext[0]);
            offset += len;
        }
        let transport = quoted.get(offset..).ok_or(Error::Truncated)?;
        if transport.len() < 8 {
            return Err(Error::Truncated);
        }
        Ok(Quoted {
            src: IpAddr::V6(Ipv6Addr::from(src)),
            dst: IpAddr::V6(Ipv6Addr::from(dst)),
            protocol: next,
            transport,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeqNum;
    use std::vec;
    use std::vec::Vec;

    fn router() -> Ipv6Addr {
        "2001:db8::1".parse().unwrap()
    }

    fn host() -> Ipv6Addr {
        "2001:db8::2".parse().unwrap()
    }

    fn peer() -> Ipv6Addr {
        "2001:db8:1::9".parse().unwrap()
    }

    /// The checksum over the IPv6 pseudo-header and `message`, built byte
    /// by byte as RFC 8200 §8.1 draws it and summed with a plain RFC 1071
    /// loop, independently of `crate::checksum`.
    fn reference_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> u16 {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&src.octets());
        bytes.extend_from_slice(&dst.octets());
        bytes.extend_from_slice(&(message.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 58]);
        bytes.extend_from_slice(message);
        let mut sum: u32 = 0;
        for pair in bytes.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).map_or(0, |&b| u32::from(b));
            sum += hi | lo;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// Packet too big, MTU 1280, from the router 2001:db8::1 to the host
    /// 2001:db8::2, quoting the host's IPv6 header (to 2001:db8:1::9, TCP,
    /// payload length 1460) and the first 8 bytes of its TCP header
    /// (54321 → 80, seq 0xfffffff0).
    fn packet_too_big() -> Vec<u8> {
        let mut v = vec![
            0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, // ICMPv6 header
            0x60, 0x00, 0x00, 0x00, 0x05, 0xb4, 0x06, 0x40, // IPv6 header
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // src
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, //
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, // dst
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, //
            0xd4, 0x31, 0x00, 0x50, 0xff, 0xff, 0xff, 0xf0, // TCP, 8 bytes
        ];
        v[2..4].copy_from_slice(&PTB_CHECKSUM.to_be_bytes());
        v
    }

    /// Computed outside this crate (a few lines of Python) over
    /// `packet_too_big()` from `router()` to `host()`.
    const PTB_CHECKSUM: u16 = 0x0133;

    /// An echo request from `host()` to `peer()`: identifier 0x0102,
    /// sequence 7, payload "synack".
    fn echo_request() -> Vec<u8> {
        let mut v = vec![0x80, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x07];
        v.extend_from_slice(b"synack");
        v[2..4].copy_from_slice(&ECHO_CHECKSUM.to_be_bytes());
        v
    }

    /// Computed outside this crate (a few lines of Python) over
    /// `echo_request()` from `host()` to `peer()`.
    const ECHO_CHECKSUM: u16 = 0xdde9;

    #[test]
    fn fixed_vectors_have_the_known_checksum() {
        for (bytes, src, dst, sum) in [
            (packet_too_big(), router(), host(), PTB_CHECKSUM),
            (echo_request(), host(), peer(), ECHO_CHECKSUM),
        ] {
            let mut zeroed = bytes.clone();
            zeroed[2] = 0;
            zeroed[3] = 0;
            assert_eq!(reference_checksum(&src, &dst, &zeroed), sum);
            let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
            assert_eq!(packet.checksum(), sum);
            assert!(packet.verify_checksum(&src, &dst));
            // The pseudo-header matters: another destination fails.
            assert!(!packet.verify_checksum(&src, &"2001:db8::99".parse().unwrap()));
            let mut filled = zeroed.clone();
            Icmpv6Packet::new_unchecked(&mut filled[..]).fill_checksum(&src, &dst);
            assert_eq!(filled, bytes);
        }
    }

    #[test]
    fn parse_packet_too_big_and_its_quote() {
        let bytes = packet_too_big();
        let packet = Icmpv6Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.msg_type(), Icmpv6Type::PACKET_TOO_BIG);
        assert_eq!(packet.mtu(), 1280);
        let repr = Icmpv6Repr::parse(&packet, &router(), &host(), true).unwrap();
        assert_eq!(
            repr,
            Icmpv6Repr::PacketTooBig {
                mtu: 1280,
                quoted: &bytes[8..],
            }
        );
        assert!(repr.is_error());
        let quoted = Quoted::parse_v6(repr.quoted().unwrap()).unwrap();
        assert_eq!(quoted.protocol, IpProtocol::TCP);
        assert_eq!(quoted.transport, &bytes[48..]);
        assert_eq!(quoted.ports(), Some((54321, 80)));
        assert_eq!(
            quoted.tcp(),
            Ok(QuotedTcp {
                src: IpAddr::V6(host()),
                dst: IpAddr::V6(peer()),
                src_port: 54321,
                dst_port: 80,
                seq: SeqNum(0xffff_fff0),
            })
        );
        let mut out = vec![0u8; 100];
        assert_eq!(repr.emit(&router(), &host(), &mut out), Ok(bytes.len()));
        assert_eq!(&out[..bytes.len()], &bytes[..]);
        // The code of packet too big is ignored on receipt (RFC 4443 §3.2).
        let mut coded = bytes.clone();
        coded[1] = 9;
        assert_eq!(
            Icmpv6Repr::parse_bytes(&coded, &router(), &host(), false),
            Ok(repr)
        );
    }

    #[test]
    fn parse_echo_request() {
        let bytes = echo_request();
        let repr = Icmpv6Repr::parse_bytes(&bytes, &host(), &peer(), true).unwrap();
        assert_eq!(
            repr,
            Icmpv6Repr::EchoRequest {
                ident: 0x0102,
                seq_no: 7,
                data: b"synack",
            }
        );
        assert!(!repr.is_error());
        assert_eq!(repr.quoted(), None);
    }

    #[test]
    fn round_trips() {
        let payload = [9u8; 33];
        let quote = &packet_too_big()[8..];
        let mut reprs = vec![
            Icmpv6Repr::EchoRequest {
                ident: 1,
                seq_no: 2,
                data: &payload,
            },
            Icmpv6Repr::EchoReply {
                ident: 0xffff,
                seq_no: 0,
                data: &[],
            },
            Icmpv6Repr::PacketTooBig {
                mtu: 9000,
                quoted: quote,
            },
            Icmpv6Repr::PacketTooBig {
                mtu: u32::MAX,
                quoted: &[],
            },
        ];
        for code in 0..=255u8 {
            reprs.push(Icmpv6Repr::DstUnreachable {
                reason: Icmpv6DstUnreachable::from_code(code),
                quoted: quote,
            });
            reprs.push(Icmpv6Repr::TimeExceeded {
                reason: Icmpv6TimeExceeded::from_code(code),
                quoted: quote,
            });
            reprs.push(Icmpv6Repr::ParamProblem {
                reason: Icmpv6ParamProblem::from_code(code),
                pointer: u32::from(code) * 0x0101_0101,
                quoted: quote,
            });
        }
        for repr in reprs {
            let mut buf = vec![0xa5u8; repr.buffer_len() + 3];
            let n = repr.emit(&host(), &peer(), &mut buf).unwrap();
            assert_eq!(n, repr.buffer_len());
            assert_eq!(buf[n..], [0xa5; 3], "emit wrote past its length");
            let packet = Icmpv6Packet::new_checked(&buf[..n]).unwrap();
            assert!(packet.verify_checksum(&host(), &peer()));
            let mut zeroed = buf[..n].to_vec();
            zeroed[2] = 0;
            zeroed[3] = 0;
            assert_eq!(
                reference_checksum(&host(), &peer(), &zeroed),
                packet.checksum()
            );
            assert_eq!(Icmpv6Repr::parse(&packet, &host(), &peer(), true), Ok(repr));
        }
    }

    #[test]
    fn codes() {
        for code in 0..=255u8 {
            assert_eq!(Icmpv6DstUnreachable::from_code(code).code(), code);
            assert_eq!(Icmpv6TimeExceeded::from_code(code).code(), code);
            assert_eq!(Icmpv6ParamProblem::from_code(code).code(), code);
        }
        assert_eq!(
            Icmpv6DstUnreachable::from_code(4),
            Icmpv6DstUnreachable::PortUnreachable
        );
        assert_eq!(
            Icmpv6DstUnreachable::from_code(7),
            Icmpv6DstUnreachable::Other(7)
        );
        assert!(Icmpv6Type(127).is_error());
        assert!(!Icmpv6Type::ECHO_REQUEST.is_error());
    }

    #[test]
    fn quoting_is_bounded() {
        let original = vec![0x60u8; 9000];
        let repr = Icmpv6Repr::packet_too_big(1500, &original);
        assert_eq!(repr.quoted().unwrap().len(), MAX_QUOTE_V6);
        // The whole ICMPv6 packet, with its IPv6 header, fits 1280.
        assert_eq!(40 + repr.buffer_len(), 1280);
        let repr = Icmpv6Repr::dst_unreachable(Icmpv6DstUnreachable::PortUnreachable, &original);
        assert_eq!(repr.quoted().unwrap().len(), MAX_QUOTE_V6);
        let short = [0x60u8; 48];
        let repr = Icmpv6Repr::time_exceeded(Icmpv6TimeExceeded::HopLimitExceeded, &short);
        assert_eq!(repr.quoted(), Some(&short[..]));
    }

    #[test]
    fn errors() {
        let (r, h) = (router(), host());
        for len in 0..HEADER_LEN {
            let bytes = &packet_too_big()[..len];
            assert_eq!(
                Icmpv6Packet::new_checked(bytes).unwrap_err(),
                Error::Truncated
            );
            let unchecked = Icmpv6Packet::new_unchecked(bytes);
            assert_eq!(
                Icmpv6Repr::parse(&unchecked, &r, &h, false),
                Err(Error::Truncated)
            );
        }
        // Bad checksum: a flipped bit, or the wrong pseudo-header.
        let mut bytes = packet_too_big();
        bytes[30] ^= 1;
        assert_eq!(
            Icmpv6Repr::parse_bytes(&bytes, &r, &h, true),
            Err(Error::BadChecksum)
        );
        assert!(Icmpv6Repr::parse_bytes(&bytes, &r, &h, false).is_ok());
        // (Swapping source and destination would not change the sum.)
        let bytes = packet_too_big();
        assert_eq!(
            Icmpv6Repr::parse_bytes(&bytes, &r, &peer(), true),
            Err(Error::BadChecksum)
        );
        // Echo with a nonzero code.
        let mut bytes = echo_request();
        bytes[1] = 1;
        assert_eq!(
            Icmpv6Repr::parse_bytes(&bytes, &h, &r, false),
            Err(Error::Malformed)
        );
        // Unknown and unrepresented types.
        for t in [0u8, 5, 100, 127, 130, 133, 135, 136, 137, 143, 200, 255] {
            let mut bytes = echo_request();
            bytes[0] = t;
            assert_eq!(
                Icmpv6Repr::parse_bytes(&bytes, &h, &r, false),
                Err(Error::Unsupported),
                "type {t}"
            );
        }
        // No space to emit.
        let bytes = packet_too_big();
        let repr = Icmpv6Repr::parse_bytes(&bytes, &r, &h, true).unwrap();
        for len in 0..bytes.len() {
            let mut buf = vec![0u8; len];
            assert_eq!(repr.emit(&r, &h, &mut buf), Err(Error::NoSpace));
        }
    }

    #[test]
    fn quote_errors() {
        let icmp = packet_too_big();
        let quote = &icmp[8..];
        for len in 0..quote.len() {
            assert_eq!(
                Quoted::parse_v6(&quote[..len]),
                Err(Error::Truncated),
                "{len}"
            );
        }
        // Wrong version.
        let mut q = quote.to_vec();
        q[0] = 0x40;
        assert_eq!(Quoted::parse_v6(&q), Err(Error::Malformed));
        // Payload length 4: the original had only 4 transport bytes.
        let mut q = quote.to_vec();
        q[4..6].copy_from_slice(&4u16.to_be_bytes());
        assert_eq!(Quoted::parse_v6(&q), Err(Error::Truncated));
        // Payload length 0 (jumbogram) does not bound the quote.
        q[4..6].copy_from_slice(&0u16.to_be_bytes());
        assert!(Quoted::parse_v6(&q).is_ok());
        // An extension header that runs past the quote.
        let mut q = quote.to_vec();
        q[6] = IpProtocol::HOP_BY_HOP.0;
        q[41] = 1; // 16 bytes, only 8 quoted
        assert_eq!(Quoted::parse_v6(&q), Err(Error::Truncated));
        // A hop-by-hop header that fills the quote leaves no transport.
        q[41] = 0;
        assert_eq!(Quoted::parse_v6(&q), Err(Error::Truncated));
        // Not TCP.
        let mut q = quote.to_vec();
        q[6] = IpProtocol::UDP.0;
        let quoted = Quoted::parse_v6(&q).unwrap();
        assert_eq!(quoted.ports(), Some((54321, 80)));
        assert_eq!(quoted.tcp(), Err(Error::Unsupported));
        q[6] = IpProtocol::ICMPV6.0;
        assert_eq!(Quoted::parse_v6(&q).unwrap().ports(), None);
        q[6] = IpProtocol::NO_NEXT_HEADER.0;
        assert_eq!(Quoted::parse_v6(&q).unwrap().tcp(), Err(Error::Unsupported));
    }

    #[test]
    fn quote_with_extension_headers() {
        let icmp = packet_too_big();
        let base = &icmp[8..48];
        let tcp = &icmp[48..];
        // Hop-by-hop (8 bytes), destination options (16 bytes), AH (12
        // bytes), a first fragment (offset 0, M set), then TCP, then
        // 4 bytes beyond the declared payload length.
        let mut q = base.to_vec();
        q[6] = IpProtocol::HOP_BY_HOP.0;
        q.extend([IpProtocol::DESTINATION_OPTIONS.0, 0, 1, 4, 0, 0, 0, 0]);
        q.extend([51, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        q.extend([IpProtocol::FRAGMENT.0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        q.extend([IpProtocol::TCP.0, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        q.extend(tcp);
        let payload_len = (q.len() - 40) as u16;
        q[4..6].copy_from_slice(&payload_len.to_be_bytes());
        q.extend([0xee; 4]);
        let quoted = Quoted::parse_v6(&q).unwrap();
        assert_eq!(quoted.protocol, IpProtocol::TCP);
        assert_eq!(quoted.transport, tcp);
        assert_eq!(quoted.tcp().unwrap().seq, SeqNum(0xffff_fff0));
        // A later fragment has no transport header.
        let frag = q.len() - 4 - 8 - 8;
        q[frag + 2..frag + 4].copy_from_slice(&0x0008u16.to_be_bytes());
        assert_eq!(Quoted::parse_v6(&q), Err(Error::Unsupported));
        // Every truncation of the chain is Truncated, never a panic.
        q[frag + 2..frag + 4].copy_from_slice(&0x0001u16.to_be_bytes());
        let full = q.len() - 4;
        for len in 0..full {
            let mut prefix = q[..len].to_vec();
            if len >= 6 {
                prefix[4..6].copy_from_slice(&0u16.to_be_bytes());
            }
            assert_eq!(Quoted::parse_v6(&prefix), Err(Error::Truncated), "{len}");
        }
    }

    #[test]
    fn no_panic_on_any_prefix() {
        let quote_bytes = packet_too_big();
        let (h, p) = (host(), peer());
        let inputs = [packet_too_big(), echo_request(), {
            let mut buf = vec![0u8; 128];
            let n = Icmpv6Repr::ParamProblem {
                reason: Icmpv6ParamProblem::UnrecognizedNextHeader,
                pointer: 6,
                quoted: &quote_bytes[8..],
            }
            .emit(&h, &p, &mut buf)
            .unwrap();
            buf.truncate(n);
            buf
        }];
        for bytes in &inputs {
            for len in 0..=bytes.len() {
                let prefix = &bytes[..len];
                let unchecked = Icmpv6Packet::new_unchecked(prefix);
                let _ = (
                    unchecked.msg_type(),
                    unchecked.code(),
                    unchecked.checksum(),
                    unchecked.echo_ident(),
                    unchecked.echo_seq_no(),
                    unchecked.mtu(),
                    unchecked.pointer(),
                    unchecked.rest_of_header(),
                    unchecked.data(),
                    unchecked.verify_checksum(&h, &p),
                );
                let mut copy = prefix.to_vec();
                let mut writable = Icmpv6Packet::new_unchecked(&mut copy[..]);
                writable.set_mtu(1);
                writable.set_echo_seq_no(2);
                writable.set_pointer(3);
                writable.data_mut();
                writable.fill_checksum(&h, &p);
                for verify in [false, true] {
                    if let Ok(repr) = Icmpv6Repr::parse_bytes(prefix, &h, &p, verify) {
                        if let Some(q) = repr.quoted() {
                            if let Ok(quoted) = Quoted::parse_v6(q) {
                                let _ = (quoted.ports(), quoted.tcp());
                            }
                        }
                    }
                }
                let _ = Quoted::parse_v6(prefix);
                let _ = Quoted::parse_v6(prefix.get(8..).unwrap_or(&[]));
            }
        }
    }
}
