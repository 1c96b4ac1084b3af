//! ICMP for IPv4 (RFC 792): the packet view [`Icmpv4Packet`], the
//! [`Icmpv4Repr`] of the messages a TCP/IP host deals with (echo, destination
//! unreachable with RFC 1191 path MTU discovery, time exceeded, parameter
//! problem), and [`Quoted`], which reads the original datagram an ICMP error
//! message carries so the endpoint can find the connection it is about.
//!
//! Every ICMP message starts with the same 8 bytes:
//!
//! ```text
//!  0      7 8     15 16                    31
//! +--------+--------+-----------------------+
//! |  type  |  code  |       checksum        |
//! +--------+--------+-----------------------+
//! |  type-specific: identifier + sequence,  |
//! |  next-hop MTU, pointer, or unused       |
//! +-----------------------------------------+
//! |  data: echo payload or quoted datagram  |
//! ```
//!
//! The checksum covers the ICMP message only: ICMPv4 has no pseudo-header.
//! The view is over exactly the ICMP message (the IPv4 payload).

use core::fmt;
use core::net::{IpAddr, Ipv4Addr};

use crate::bytes::{read_u16, read_u32, write_bytes};
use crate::checksum;
use crate::ip::IpProtocol;
use crate::{Error, Result, SeqNum};

/// The length of the ICMP header: type, code, checksum and the 4
/// type-specific bytes.
pub const HEADER_LEN: usize = 8;

/// The most bytes of an offending datagram an ICMPv4 error message should
/// quote: RFC 1812 §4.3.2.3 asks for as much of the original datagram as
/// fits without the whole ICMP datagram (IPv4 header of 20 bytes, ICMP
/// header, quote) exceeding 576 bytes. RFC 792 and RFC 1122 §3.2.2 require
/// at least the IP header and the first 8 data bytes.
pub const MAX_QUOTE_V4: usize = 576 - 20 - HEADER_LEN;

/// The shortest quote from which a transport header can be read: the
/// minimum IPv4 header and 8 transport bytes (RFC 792).
pub const MIN_QUOTE_V4: usize = 20 + 8;

/// The prefix of `original` (a whole IPv4 datagram that caused an error) to
/// quote in an ICMPv4 error message: at most [`MAX_QUOTE_V4`] bytes.
pub fn quote(original: &[u8]) -> &[u8] {
    original.get(..MAX_QUOTE_V4).unwrap_or(original)
}

/// Byte offsets of the header fields.
mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const IDENT: usize = 4;
    pub const SEQ_NO: usize = 6;
    pub const REST: usize = 4;
    pub const POINTER: usize = 4;
    pub const NEXT_HOP_MTU: usize = 6;
}

/// An ICMPv4 message type.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Icmpv4Type(pub u8);

impl Icmpv4Type {
    /// Echo reply (RFC 792).
    pub const ECHO_REPLY: Icmpv4Type = Icmpv4Type(0);
    /// Destination unreachable (RFC 792).
    pub const DST_UNREACHABLE: Icmpv4Type = Icmpv4Type(3);
    /// Source quench (RFC 792; deprecated by RFC 6633).
    pub const SOURCE_QUENCH: Icmpv4Type = Icmpv4Type(4);
    /// Redirect (RFC 792).
    pub const REDIRECT: Icmpv4Type = Icmpv4Type(5);
    /// Echo request (RFC 792).
    pub const ECHO_REQUEST: Icmpv4Type = Icmpv4Type(8);
    /// Router advertisement (RFC 1256).
    pub const ROUTER_ADVERT: Icmpv4Type = Icmpv4Type(9);
    /// Router solicitation (RFC 1256).
    pub const ROUTER_SOLICIT: Icmpv4Type = Icmpv4Type(10);
    /// Time exceeded (RFC 792).
    pub const TIME_EXCEEDED: Icmpv4Type = Icmpv4Type(11);
    /// Parameter problem (RFC 792).
    pub const PARAM_PROBLEM: Icmpv4Type = Icmpv4Type(12);
    /// Timestamp request (RFC 792).
    pub const TIMESTAMP: Icmpv4Type = Icmpv4Type(13);
    /// Timestamp reply (RFC 792).
    pub const TIMESTAMP_REPLY: Icmpv4Type = Icmpv4Type(14);

    /// Whether this is an ICMP *error* message (RFC 1122 §3.2.2: destination
    /// unreachable, redirect, source quench, time exceeded, parameter
    /// problem). An error message must never be sent in response to one of
    /// these.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Icmpv4Type::DST_UNREACHABLE
                | Icmpv4Type::SOURCE_QUENCH
                | Icmpv4Type::REDIRECT
                | Icmpv4Type::TIME_EXCEEDED
                | Icmpv4Type::PARAM_PROBLEM
        )
    }
}

impl fmt::Debug for Icmpv4Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Icmpv4Type::ECHO_REPLY => "EchoReply",
            Icmpv4Type::DST_UNREACHABLE => "DstUnreachable",
            Icmpv4Type::SOURCE_QUENCH => "SourceQuench",
            Icmpv4Type::REDIRECT => "Redirect",
            Icmpv4Type::ECHO_REQUEST => "EchoRequest",
            Icmpv4Type::ROUTER_ADVERT => "RouterAdvert",
            Icmpv4Type::ROUTER_SOLICIT => "RouterSolicit",
            Icmpv4Type::TIME_EXCEEDED => "TimeExceeded",
            Icmpv4Type::PARAM_PROBLEM => "ParamProblem",
            Icmpv4Type::TIMESTAMP => "Timestamp",
            Icmpv4Type::TIMESTAMP_REPLY => "TimestampReply",
            Icmpv4Type(n) => return write!(f, "Icmpv4Type({n})"),
        };
        f.write_str(name)
    }
}

/// A view of an ICMPv4 message in a buffer: exactly the ICMP message, that
/// is, the IPv4 payload.
///
/// Build it with [`Icmpv4Packet::new_checked`], which guarantees the 8-byte
/// header is present. On a view made with [`Icmpv4Packet::new_unchecked`]
/// over a shorter buffer, accessors return 0 and setters do nothing rather
/// than panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
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
    pub fn msg_type(&self) -> Icmpv4Type {
        Icmpv4Type(self.buffer.as_ref().get(field::TYPE).copied().unwrap_or(0))
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

    /// The next-hop MTU of a "fragmentation needed and DF set" message
    /// (RFC 1191 §4: the low 16 bits of the second word). Routers older than
    /// RFC 1191 leave it 0.
    pub fn next_hop_mtu(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::NEXT_HOP_MTU)
    }

    /// The pointer of a parameter problem message: the offset of the octet
    /// of the quoted datagram where the error was found (RFC 792).
    pub fn pointer(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::POINTER)
            .copied()
            .unwrap_or(0)
    }

    /// The 4 type-specific bytes after the checksum, as one word.
    pub fn rest_of_header(&self) -> u32 {
        read_u32(self.buffer.as_ref(), field::REST)
    }

    /// The bytes after the 8-byte header: the echo payload, or the quoted
    /// datagram of an error message.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// Whether the checksum, over the whole ICMP message, verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, value: Icmpv4Type) {
        write_bytes(self.buffer.as_mut(), field::TYPE, &[value.0]);
    }

    /// Sets the message code.
    pub fn set_code(&mut self, value: u8) {
        write_bytes(self.buffer.as_mut(), field::CODE, &[value]);
    }

    /// Sets the checksum field (see [`Icmpv4Packet::fill_checksum`]).
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

    /// Sets the next-hop MTU of a "fragmentation needed" message
    /// (RFC 1191 §4). The unused high 16 bits are not touched.
    pub fn set_next_hop_mtu(&mut self, value: u16) {
        write_bytes(
            self.buffer.as_mut(),
            field::NEXT_HOP_MTU,
            &value.to_be_bytes(),
        );
    }

    /// Sets the pointer of a parameter problem message. The 3 unused bytes
    /// after it are not touched.
    pub fn set_pointer(&mut self, value: u8) {
        write_bytes(self.buffer.as_mut(), field::POINTER, &[value]);
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

    /// Computes the checksum over the whole message and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(sum);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Icmpv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// Why a destination is unreachable: the code of a destination unreachable
/// message (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4DstUnreachable {
    /// Code 0: network unreachable.
    NetUnreachable,
    /// Code 1: host unreachable.
    HostUnreachable,
    /// Code 2: protocol unreachable.
    ProtoUnreachable,
    /// Code 3: port unreachable.
    PortUnreachable,
    /// Code 4: fragmentation needed and DF set; `next_hop_mtu` is the MTU
    /// of the link that could not take the datagram (RFC 1191 §4), or 0
    /// from a router that predates RFC 1191 (§5 says how to guess then).
    FragNeeded {
        /// The next-hop MTU, in bytes.
        next_hop_mtu: u16,
    },
    /// Code 13: communication administratively prohibited (RFC 1812
    /// §5.2.7.1).
    AdminProhibited,
    /// Any other code, as sent. Parsing never produces a code that has a
    /// variant of its own here.
    Other(u8),
}

impl Icmpv4DstUnreachable {
    /// The message code.
    pub fn code(self) -> u8 {
        match self {
            Icmpv4DstUnreachable::NetUnreachable => 0,
            Icmpv4DstUnreachable::HostUnreachable => 1,
            Icmpv4DstUnreachable::ProtoUnreachable => 2,
            Icmpv4DstUnreachable::PortUnreachable => 3,
            Icmpv4DstUnreachable::FragNeeded { .. } => 4,
            Icmpv4DstUnreachable::AdminProhibited => 13,
            Icmpv4DstUnreachable::Other(code) => code,
        }
    }

    /// The reason for a code; `next_hop_mtu` is used for code 4 only.
    pub fn from_code(code: u8, next_hop_mtu: u16) -> Self {
        match code {
            0 => Icmpv4DstUnreachable::NetUnreachable,
            1 => Icmpv4DstUnreachable::HostUnreachable,
            2 => Icmpv4DstUnreachable::ProtoUnreachable,
            3 => Icmpv4DstUnreachable::PortUnreachable,
            4 => Icmpv4DstUnreachable::FragNeeded { next_hop_mtu },
            13 => Icmpv4DstUnreachable::AdminProhibited,
            code => Icmpv4DstUnreachable::Other(code),
        }
    }
}

/// What ran out: the code of a time exceeded message (RFC 792).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4TimeExceeded {
    /// Code 0: the TTL reached zero in transit.
    TtlExceeded,
    /// Code 1: fragment reassembly time exceeded.
    FragReassembly,
    /// Any other code, as sent (never 0 or 1 when parsed).
    Other(u8),
}

impl Icmpv4TimeExceeded {
    /// The message code.
    pub fn code(self) -> u8 {
        match self {
            Icmpv4TimeExceeded::TtlExceeded => 0,
            Icmpv4TimeExceeded::FragReassembly => 1,
            Icmpv4TimeExceeded::Other(code) => code,
        }
    }

    /// The reason for a code.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Icmpv4TimeExceeded::TtlExceeded,
            1 => Icmpv4TimeExceeded::FragReassembly,
            code => Icmpv4TimeExceeded::Other(code),
        }
    }
}

/// The meaning of an ICMPv4 message this crate handles.
///
/// The `quoted` bytes of an error message are the start of the datagram
/// that caused it (its IPv4 header and at least 8 bytes of payload, RFC 792);
/// [`Quoted::parse_v4`] reads them. Parsing does not require the quote to be
/// well formed, so that a tracer can still show a message with a bad quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv4Repr<'a> {
    /// Type 8: echo request (`ping`).
    EchoRequest {
        /// Identifier, to match replies to requests.
        ident: u16,
        /// Sequence number, to match replies to requests.
        seq_no: u16,
        /// Payload, returned unchanged in the reply.
        data: &'a [u8],
    },
    /// Type 0: echo reply.
    EchoReply {
        /// Identifier of the request.
        ident: u16,
        /// Sequence number of the request.
        seq_no: u16,
        /// Payload of the request.
        data: &'a [u8],
    },
    /// Type 3: destination unreachable.
    DstUnreachable {
        /// The code, with the next-hop MTU for "fragmentation needed".
        reason: Icmpv4DstUnreachable,
        /// The start of the offending datagram.
        quoted: &'a [u8],
    },
    /// Type 11: time exceeded.
    TimeExceeded {
        /// The code.
        reason: Icmpv4TimeExceeded,
        /// The start of the offending datagram.
        quoted: &'a [u8],
    },
    /// Type 12: parameter problem.
    ParamProblem {
        /// The code: 0 when `pointer` locates the error (RFC 792), 1 for a
        /// missing required option, 2 for a bad length (RFC 1812 §5.2.7.3).
        code: u8,
        /// The offset in the quoted datagram of the octet in error.
        pointer: u8,
        /// The start of the offending datagram.
        quoted: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses a checked view. Unknown message types (and the ones this crate
    /// does not represent, such as redirect or timestamp) are
    /// [`Error::Unsupported`]; an echo with a code other than 0 is
    /// [`Error::Malformed`]. With `verify_checksum`, a checksum mismatch is
    /// [`Error::BadChecksum`].
    pub fn parse<T>(packet: &Icmpv4Packet<&'a T>, verify_checksum: bool) -> Result<Self>
    where
        T: AsRef<[u8]> + ?Sized,
    {
        packet.check_len()?;
        if verify_checksum && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let bytes: &'a [u8] = <T as AsRef<[u8]>>::as_ref(packet.buffer);
        let data = bytes.get(HEADER_LEN..).unwrap_or(&[]);
        let code = packet.code();
        match packet.msg_type() {
            Icmpv4Type::ECHO_REQUEST | Icmpv4Type::ECHO_REPLY if code != 0 => Err(Error::Malformed),
            Icmpv4Type::ECHO_REQUEST => Ok(Icmpv4Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            }),
            Icmpv4Type::ECHO_REPLY => Ok(Icmpv4Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            }),
            Icmpv4Type::DST_UNREACHABLE => Ok(Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::from_code(code, packet.next_hop_mtu()),
                quoted: data,
            }),
            Icmpv4Type::TIME_EXCEEDED => Ok(Icmpv4Repr::TimeExceeded {
                reason: Icmpv4TimeExceeded::from_code(code),
                quoted: data,
            }),
            Icmpv4Type::PARAM_PROBLEM => Ok(Icmpv4Repr::ParamProblem {
                code,
                pointer: packet.pointer(),
                quoted: data,
            }),
            _ => Err(Error::Unsupported),
        }
    }

    /// Parses the bytes of an ICMP message (the IPv4 payload).
    pub fn parse_bytes(bytes: &'a [u8], verify_checksum: bool) -> Result<Self> {
        Self::parse(&Icmpv4Packet::new_checked(bytes)?, verify_checksum)
    }

    /// A destination unreachable message about `original`, the whole IPv4
    /// datagram that could not be delivered, quoting as much of it as
    /// RFC 1812 §4.3.2.3 allows ([`MAX_QUOTE_V4`]).
    pub fn dst_unreachable(reason: Icmpv4DstUnreachable, original: &'a [u8]) -> Self {
        Icmpv4Repr::DstUnreachable {
            reason,
            quoted: quote(original),
        }
    }

    /// A time exceeded message about `original`, quoting as much of it as
    /// RFC 1812 §4.3.2.3 allows ([`MAX_QUOTE_V4`]).
    pub fn time_exceeded(reason: Icmpv4TimeExceeded, original: &'a [u8]) -> Self {
        Icmpv4Repr::TimeExceeded {
            reason,
            quoted: quote(original),
        }
    }

    /// The message type.
    pub fn msg_type(&self) -> Icmpv4Type {
        match self {
            Icmpv4Repr::EchoRequest { .. } => Icmpv4Type::ECHO_REQUEST,
            Icmpv4Repr::EchoReply { .. } => Icmpv4Type::ECHO_REPLY,
            Icmpv4Repr::DstUnreachable { .. } => Icmpv4Type::DST_UNREACHABLE,
            Icmpv4Repr::TimeExceeded { .. } => Icmpv4Type::TIME_EXCEEDED,
            Icmpv4Repr::ParamProblem { .. } => Icmpv4Type::PARAM_PROBLEM,
        }
    }

    /// The message code.
    pub fn code(&self) -> u8 {
        match *self {
            Icmpv4Repr::EchoRequest { .. } | Icmpv4Repr::EchoReply { .. } => 0,
            Icmpv4Repr::DstUnreachable { reason, .. } => reason.code(),
            Icmpv4Repr::TimeExceeded { reason, .. } => reason.code(),
            Icmpv4Repr::ParamProblem { code, .. } => code,
        }
    }

    /// Whether this is an error message (see [`Icmpv4Type::is_error`]).
    pub fn is_error(&self) -> bool {
        self.msg_type().is_error()
    }

    /// The quoted datagram of an error message; `None` for an echo.
    pub fn quoted(&self) -> Option<&'a [u8]> {
        match *self {
            Icmpv4Repr::EchoRequest { .. } | Icmpv4Repr::EchoReply { .. } => None,
            Icmpv4Repr::DstUnreachable { quoted, .. }
            | Icmpv4Repr::TimeExceeded { quoted, .. }
            | Icmpv4Repr::ParamProblem { quoted, .. } => Some(quoted),
        }
    }

    /// The length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        let data = match *self {
            Icmpv4Repr::EchoRequest { data, .. } | Icmpv4Repr::EchoReply { data, .. } => data,
            Icmpv4Repr::DstUnreachable { quoted, .. }
            | Icmpv4Repr::TimeExceeded { quoted, .. }
            | Icmpv4Repr::ParamProblem { quoted, .. } => quoted,
        };
        HEADER_LEN.saturating_add(data.len())
    }

    /// Writes the message, with its checksum, at the start of `buf` and
    /// returns its length ([`Error::NoSpace`] if `buf` is shorter).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.buffer_len();
        let out = buf.get_mut(..len).ok_or(Error::NoSpace)?;
        let mut packet = Icmpv4Packet::new_unchecked(out);
        packet.set_msg_type(self.msg_type());
        packet.set_code(self.code());
        packet.set_rest_of_header(0);
        let data = match *self {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }
            | Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => {
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
                data
            }
            Icmpv4Repr::DstUnreachable { reason, quoted } => {
                if let Icmpv4DstUnreachable::FragNeeded { next_hop_mtu } = reason {
                    packet.set_next_hop_mtu(next_hop_mtu);
                }
                quoted
            }
            Icmpv4Repr::TimeExceeded { quoted, .. } => quoted,
            Icmpv4Repr::ParamProblem {
                pointer, quoted, ..
            } => {
                packet.set_pointer(pointer);
                quoted
            }
        };
        packet.data_mut().copy_from_slice(data);
        packet.fill_checksum();
        Ok(len)
    }
}

/// The start of the datagram quoted by an ICMP error message: who sent it
/// to whom, over which protocol, and the first bytes of its transport
/// header.
///
/// Read it with [`Quoted::parse_v4`] (ICMPv4) or [`Quoted::parse_v6`]
/// (ICMPv6). The addresses are as the original datagram had them: for an
/// error about a segment this host sent, `src` is the local address and
/// `dst` the remote one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted<'a> {
    /// Source address of the quoted datagram.
    pub src: IpAddr,
    /// Destination address of the quoted datagram.
    pub dst: IpAddr,
    /// The transport protocol of the quoted datagram.
    pub protocol: IpProtocol,
    /// The quoted transport bytes: at least 8 (RFC 792, RFC 4443 §2.4(c)),
    /// and never beyond the length the quoted IP header declares.
    pub transport: &'a [u8],
}

/// The fields of a quoted TCP header that identify a connection and the
/// segment in error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedTcp {
    /// Source address of the quoted segment (for a segment this host sent:
    /// the local address).
    pub src: IpAddr,
    /// Destination address of the quoted segment.
    pub dst: IpAddr,
    /// Source port of the quoted segment.
    pub src_port: u16,
    /// Destination port of the quoted segment.
    pub dst_port: u16,
    /// Sequence number of the quoted segment; RFC 5927 §4.1 suggests
    /// checking that it lies within the send window before acting on the
    /// error.
    pub seq: SeqNum,
}

impl<'a> Quoted<'a> {
    /// Reads the quoted IPv4 header (honouring its IHL, options included)
    /// and the transport bytes after it.
    ///
    /// The quoted total length may exceed what was quoted: RFC 792 quotes
    /// only the header and 8 bytes, RFC 1812 §4.3.2.3 up to 576 bytes in
    /// all. When it is shorter than the quote, the bytes past it (padding)
    /// are left out. Errors: [`Error::Truncated`] when the header or 8
    /// transport bytes are missing, [`Error::Malformed`] for a version other
    /// than 4 or impossible lengths, [`Error::Unsupported`] for a fragment
    /// other than the first (it has no transport header).
    pub fn parse_v4(quoted: &'a [u8]) -> Result<Self> {
        let header = quoted.get(..20).ok_or(Error::Truncated)?;
        let first = header[0];
        if first >> 4 != 4 {
            return Err(Error::Malformed);
        }
        let header_len = usize::from(first & 0x0f) * 4;
        if header_len < 20 {
            return Err(Error::Malformed);
        }
        let total_len = usize::from(read_u16(quoted, 2));
        if total_len < header_len {
            return Err(Error::Malformed);
        }
        if read_u16(quoted, 6) & 0x1fff != 0 {
            return Err(Error::Unsupported);
        }
        let protocol = IpProtocol(header[9]);
        let src = Ipv4Addr::from(read_u32(header, 12));
        let dst = Ipv4Addr::from(read_u32(header, 16));
        let end = total_len.min(quoted.len());
        let transport = quoted.get(header_len..end).ok_or(Error::Truncated)?;
        if transport.len() < 8 {
            return Err(Error::Truncated);
        }
        Ok(Quoted {
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            protocol,
            transport,
        })
    }

    /// The source and destination ports, for TCP and UDP (both start with
    /// them); `None` for other protocols.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.protocol {
            IpProtocol::TCP | IpProtocol::UDP => {
                Some((read_u16(self.transport, 0), read_u16(self.transport, 2)))
            }
            _ => None,
        }
    }

    /// The connection and sequence number of a quoted TCP segment
    /// ([`Error::Unsupported`] for other protocols).
    pub fn tcp(&self) -> Result<QuotedTcp> {
        if self.protocol != IpProtocol::TCP {
            return Err(Error::Unsupported);
        }
        if self.transport.len() < 8 {
            return Err(Error::Truncated);
        }
        Ok(QuotedTcp {
            src: self.src,
            dst: self.dst,
            src_port: read_u16(self.transport, 0),
            dst_port: read_u16(self.transport, 2),
            seq: SeqNum(read_u32(self.transport, 4)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// The straightforward RFC 1071 sum, written independently of
    /// `crate::checksum`.
    fn reference_checksum(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).map_or(0, |&b| u32::from(b));
            sum += hi | lo;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// An echo request as Linux `ping` sends it: identifier 0x1c46, sequence
    /// 1, 16 bytes of timestamp then the bytes 0x10..=0x37.
    fn ping_request() -> Vec<u8> {
        let mut v = vec![
            0x08, 0x00, 0x00, 0x00, 0x1c, 0x46, 0x00, 0x01, // header
            0x9b, 0x4b, 0x2f, 0x66, 0x00, 0x00, 0x00, 0x00, // tv_sec
            0x3c, 0x9d, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, // tv_usec
        ];
        v.extend(0x10u8..=0x37);
        v[2..4].copy_from_slice(&PING_CHECKSUM.to_be_bytes());
        v
    }

    /// Computed outside this crate (a few lines of Python) over `ping_request()`.
    const PING_CHECKSUM: u16 = 0x0b97;

    /// Fragmentation needed, next-hop MTU 1400, quoting an IPv4 header
    /// (10.0.0.2 → 93.184.216.34, TCP, total length 1500, DF) and the first
    /// 8 bytes of its TCP header (50000 → 443, seq 0x12345678).
    fn frag_needed() -> Vec<u8> {
        let mut v = vec![
            0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0x78, // ICMP header
            0x45, 0x00, 0x05, 0xdc, 0xab, 0xcd, 0x40, 0x00, // IPv4 header
            0x40, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, //
            0x5d, 0xb8, 0xd8, 0x22, //
            0xc3, 0x50, 0x01, 0xbb, 0x12, 0x34, 0x56, 0x78, // TCP, 8 bytes
        ];
        v[2..4].copy_from_slice(&FRAG_NEEDED_CHECKSUM.to_be_bytes());
        v
    }

    /// Computed outside this crate (a few lines of Python) over `frag_needed()`.
    const FRAG_NEEDED_CHECKSUM: u16 = 0x133e;

    #[test]
    fn fixed_vectors_have_the_known_checksum() {
        for (bytes, sum) in [
            (ping_request(), PING_CHECKSUM),
            (frag_needed(), FRAG_NEEDED_CHECKSUM),
        ] {
            let mut zeroed = bytes.clone();
            zeroed[2] = 0;
            zeroed[3] = 0;
            assert_eq!(reference_checksum(&zeroed), sum);
            assert_eq!(checksum::checksum(&zeroed), sum);
            assert!(Icmpv4Packet::new_checked(&bytes[..])
                .unwrap()
                .verify_checksum());
        }
    }

    #[test]
    fn parse_ping_request() {
        let bytes = ping_request();
        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.msg_type(), Icmpv4Type::ECHO_REQUEST);
        assert_eq!(packet.code(), 0);
        assert_eq!(packet.checksum(), PING_CHECKSUM);
        assert_eq!(packet.echo_ident(), 0x1c46);
        assert_eq!(packet.echo_seq_no(), 1);
        assert_eq!(packet.data(), &bytes[8..]);
        let repr = Icmpv4Repr::parse(&packet, true).unwrap();
        assert_eq!(
            repr,
            Icmpv4Repr::EchoRequest {
                ident: 0x1c46,
                seq_no: 1,
                data: &bytes[8..],
            }
        );
        assert!(!repr.is_error());
        assert_eq!(repr.quoted(), None);
        let mut out = vec![0u8; repr.buffer_len()];
        assert_eq!(repr.emit(&mut out), Ok(bytes.len()));
        assert_eq!(out, bytes);
    }

    #[test]
    fn parse_frag_needed_and_its_quote() {
        let bytes = frag_needed();
        let packet = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.next_hop_mtu(), 1400);
        let repr = Icmpv4Repr::parse(&packet, true).unwrap();
        assert_eq!(
            repr,
            Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::FragNeeded { next_hop_mtu: 1400 },
                quoted: &bytes[8..],
            }
        );
        assert!(repr.is_error());
        let quoted = Quoted::parse_v4(repr.quoted().unwrap()).unwrap();
        assert_eq!(quoted.protocol, IpProtocol::TCP);
        assert_eq!(quoted.transport, &bytes[28..]);
        assert_eq!(quoted.ports(), Some((50000, 443)));
        assert_eq!(
            quoted.tcp(),
            Ok(QuotedTcp {
                src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                dst: IpAddr::V4(Ipv4Addr::new(93, 184, 216, 34)),
                src_port: 50000,
                dst_port: 443,
                seq: SeqNum(0x1234_5678),
            })
        );
        let mut out = vec![0u8; 64];
        assert_eq!(repr.emit(&mut out), Ok(bytes.len()));
        assert_eq!(&out[..bytes.len()], &bytes[..]);
    }

    #[test]
    fn round_trips() {
        let payload = [1u8, 2, 3, 4, 5];
        let quote = &frag_needed()[8..];
        let mut reprs = vec![
            Icmpv4Repr::EchoRequest {
                ident: 7,
                seq_no: 0xffff,
                data: &payload,
            },
            Icmpv4Repr::EchoReply {
                ident: 0xabcd,
                seq_no: 3,
                data: &[],
            },
            Icmpv4Repr::TimeExceeded {
                reason: Icmpv4TimeExceeded::TtlExceeded,
                quoted: quote,
            },
            Icmpv4Repr::TimeExceeded {
                reason: Icmpv4TimeExceeded::FragReassembly,
                quoted: quote,
            },
            Icmpv4Repr::TimeExceeded {
                reason: Icmpv4TimeExceeded::Other(9),
                quoted: quote,
            },
            Icmpv4Repr::ParamProblem {
                code: 0,
                pointer: 9,
                quoted: quote,
            },
        ];
        for code in 0..=255u8 {
            reprs.push(Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::from_code(code, 576),
                quoted: quote,
            });
        }
        for repr in reprs {
            let mut buf = vec![0xa5u8; repr.buffer_len() + 3];
            let n = repr.emit(&mut buf).unwrap();
            assert_eq!(n, repr.buffer_len());
            assert_eq!(buf[n..], [0xa5; 3], "emit wrote past its length");
            let packet = Icmpv4Packet::new_checked(&buf[..n]).unwrap();
            assert!(packet.verify_checksum());
            assert_eq!(reference_checksum(&buf[..n]), 0);
            assert_eq!(Icmpv4Repr::parse(&packet, true), Ok(repr));
            assert_eq!(Icmpv4Repr::parse_bytes(&buf[..n], true), Ok(repr));
        }
    }

    #[test]
    fn dst_unreachable_codes() {
        use Icmpv4DstUnreachable as D;
        for (code, reason) in [
            (0, D::NetUnreachable),
            (1, D::HostUnreachable),
            (2, D::ProtoUnreachable),
            (3, D::PortUnreachable),
            (4, D::FragNeeded { next_hop_mtu: 9 }),
            (13, D::AdminProhibited),
            (5, D::Other(5)),
        ] {
            assert_eq!(D::from_code(code, 9), reason);
            assert_eq!(reason.code(), code);
        }
        // Bytes 4-7 are unused except for frag needed: emitted as zero.
        let repr = Icmpv4Repr::DstUnreachable {
            reason: D::PortUnreachable,
            quoted: &[],
        };
        let mut buf = [0xffu8; 8];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf[4..8], [0, 0, 0, 0]);
    }

    #[test]
    fn quoting_is_bounded() {
        let original = vec![0x45u8; 1500];
        let repr = Icmpv4Repr::dst_unreachable(Icmpv4DstUnreachable::PortUnreachable, &original);
        assert_eq!(repr.quoted().unwrap().len(), MAX_QUOTE_V4);
        // The whole ICMP datagram, with a 20-byte IPv4 header, fits 576.
        assert_eq!(20 + repr.buffer_len(), 576);
        let short = [0x45u8; 40];
        let repr = Icmpv4Repr::time_exceeded(Icmpv4TimeExceeded::TtlExceeded, &short);
        assert_eq!(repr.quoted(), Some(&short[..]));
        assert_eq!(quote(&[]), &[] as &[u8]);
    }

    #[test]
    fn errors() {
        // Short buffers.
        for len in 0..HEADER_LEN {
            let bytes = &ping_request()[..len];
            assert_eq!(
                Icmpv4Packet::new_checked(bytes).unwrap_err(),
                Error::Truncated
            );
            assert_eq!(Icmpv4Repr::parse_bytes(bytes, false), Err(Error::Truncated));
            let unchecked = Icmpv4Packet::new_unchecked(bytes);
            assert_eq!(Icmpv4Repr::parse(&unchecked, false), Err(Error::Truncated));
        }
        // Bad checksum, caught only when asked.
        let mut bytes = ping_request();
        bytes[20] ^= 0x40;
        assert_eq!(
            Icmpv4Repr::parse_bytes(&bytes, true),
            Err(Error::BadChecksum)
        );
        assert!(Icmpv4Repr::parse_bytes(&bytes, false).is_ok());
        // Echo with a nonzero code.
        let mut bytes = ping_request();
        bytes[1] = 1;
        assert_eq!(
            Icmpv4Repr::parse_bytes(&bytes, false),
            Err(Error::Malformed)
        );
        // Unknown and unrepresented types.
        for t in [1u8, 2, 4, 5, 9, 10, 13, 14, 42, 255] {
            let mut bytes = ping_request();
            bytes[0] = t;
            assert_eq!(
                Icmpv4Repr::parse_bytes(&bytes, false),
                Err(Error::Unsupported),
                "type {t}"
            );
        }
        // No space to emit.
        let bytes = frag_needed();
        let repr = Icmpv4Repr::parse_bytes(&bytes, true).unwrap();
        for len in 0..bytes.len() {
            let mut buf = vec![0u8; len];
            assert_eq!(repr.emit(&mut buf), Err(Error::NoSpace));
        }
    }

    #[test]
    fn quote_errors() {
        let icmp = frag_needed();
        let quote = &icmp[8..];
        // Every truncation of the 28-byte quote is Truncated.
        for len in 0..quote.len() {
            assert_eq!(
                Quoted::parse_v4(&quote[..len]),
                Err(Error::Truncated),
                "{len}"
            );
        }
        // Wrong version.
        let mut q = quote.to_vec();
        q[0] = 0x65;
        assert_eq!(Quoted::parse_v4(&q), Err(Error::Malformed));
        // IHL below 5.
        q[0] = 0x44;
        assert_eq!(Quoted::parse_v4(&q), Err(Error::Malformed));
        // IHL beyond the quote.
        q[0] = 0x4f;
        assert_eq!(Quoted::parse_v4(&q), Err(Error::Truncated));
        // IHL 6 leaves only 4 transport bytes.
        q[0] = 0x46;
        assert_eq!(Quoted::parse_v4(&q), Err(Error::Truncated));
        // Total length below the header length.
        let mut q = quote.to_vec();
        q[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(Quoted::parse_v4(&q), Err(Error::Malformed));
        // Total length 24: the original had only 4 transport bytes.
        q[2..4].copy_from_slice(&24u16.to_be_bytes());
        assert_eq!(Quoted::parse_v4(&q), Err(Error::Truncated));
        // A non-first fragment has no transport header.
        let mut q = quote.to_vec();
        q[7] = 1;
        assert_eq!(Quoted::parse_v4(&q), Err(Error::Unsupported));
        // A first fragment with MF set is fine.
        q[6] = 0x20;
        q[7] = 0;
        assert!(Quoted::parse_v4(&q).is_ok());
        // Not TCP.
        let mut q = quote.to_vec();
        q[9] = 17;
        let quoted = Quoted::parse_v4(&q).unwrap();
        assert_eq!(quoted.protocol, IpProtocol::UDP);
        assert_eq!(quoted.ports(), Some((50000, 443)));
        assert_eq!(quoted.tcp(), Err(Error::Unsupported));
        q[9] = 1;
        assert_eq!(Quoted::parse_v4(&q).unwrap().ports(), None);
    }

    #[test]
    fn quote_with_options_and_trailing_bytes() {
        // IHL 6 (one 4-byte option), total length 32, then 4 bytes of
        // padding that are not part of the original datagram.
        let mut q = vec![
            0x46, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, //
            0x40, 0x06, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, //
            0xc6, 0x33, 0x64, 0x07, 0x01, 0x01, 0x01, 0x01, // ..., NOP option
            0x00, 0x50, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff, // TCP
        ];
        q.extend([0u8; 4]);
        let quoted = Quoted::parse_v4(&q).unwrap();
        assert_eq!(quoted.transport, &q[24..32]);
        let tcp = quoted.tcp().unwrap();
        assert_eq!(tcp.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(tcp.dst, IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)));
        assert_eq!((tcp.src_port, tcp.dst_port), (80, 1024));
        assert_eq!(tcp.seq, SeqNum(u32::MAX));
        // A quote longer than 8 transport bytes, with the total length
        // larger than what was quoted (RFC 1812).
        let mut long = frag_needed()[8..].to_vec();
        long.extend([0u8; 12]);
        let quoted = Quoted::parse_v4(&long).unwrap();
        assert_eq!(quoted.transport.len(), 20);
    }

    #[test]
    fn no_panic_on_any_prefix() {
        let quote_bytes = frag_needed();
        let inputs = [ping_request(), frag_needed(), {
            let mut buf = vec![0u8; 64];
            let n = Icmpv4Repr::ParamProblem {
                code: 1,
                pointer: 3,
                quoted: &quote_bytes[8..],
            }
            .emit(&mut buf)
            .unwrap();
            buf.truncate(n);
            buf
        }];
        for bytes in &inputs {
            for len in 0..=bytes.len() {
                let prefix = &bytes[..len];
                let unchecked = Icmpv4Packet::new_unchecked(prefix);
                let _ = (
                    unchecked.msg_type(),
                    unchecked.code(),
                    unchecked.checksum(),
                    unchecked.echo_ident(),
                    unchecked.echo_seq_no(),
                    unchecked.next_hop_mtu(),
                    unchecked.pointer(),
                    unchecked.rest_of_header(),
                    unchecked.data(),
                    unchecked.verify_checksum(),
                );
                let mut copy = prefix.to_vec();
                let mut writable = Icmpv4Packet::new_unchecked(&mut copy[..]);
                writable.set_next_hop_mtu(1);
                writable.set_echo_seq_no(2);
                writable.set_pointer(3);
                writable.data_mut();
                writable.fill_checksum();
                for verify in [false, true] {
                    if let Ok(repr) = Icmpv4Repr::parse_bytes(prefix, verify) {
                        if let Some(q) = repr.quoted() {
                            if let Ok(quoted) = Quoted::parse_v4(q) {
                                let _ = (quoted.ports(), quoted.tcp());
                            }
                        }
                    }
                }
                let _ = Quoted::parse_v4(prefix);
                let _ = Quoted::parse_v4(prefix.get(8..).unwrap_or(&[]));
            }
        }
    }
}
