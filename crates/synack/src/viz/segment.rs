//! One TCP segment as a diagram shows it: addresses, ports and the header
//! fields, parsed from an IP packet with `wire` (never panicking: anything
//! malformed is `None`).

use std::net::SocketAddr;

use wire::ip::{self, IpProtocol};
use wire::tcp::{TcpFlags, TcpOptions, TcpRepr};
use wire::SeqNum;

/// The header of one TCP segment and where it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seg {
    /// The sender's address and port.
    pub src: SocketAddr,
    /// The receiver's address and port.
    pub dst: SocketAddr,
    /// The sequence number.
    pub seq: SeqNum,
    /// The acknowledgment number (meaningful with ACK).
    pub ack: SeqNum,
    /// The control bits.
    pub flags: TcpFlags,
    /// The window field as sent (before scaling).
    pub window: u16,
    /// The options.
    pub options: TcpOptions,
    /// The number of data bytes.
    pub len: u32,
}

impl Seg {
    /// Parses an IPv4 or IPv6 packet carrying TCP. Checksums are not
    /// verified: captures of a host's own traffic often hold packets
    /// whose checksum the network card fills in later. Fragments,
    /// truncated packets and other protocols give `None`.
    pub fn parse_ip(packet: &[u8]) -> Option<Seg> {
        let (repr, payload) = ip::parse(packet, false).ok()?;
        if repr.protocol() != IpProtocol::TCP || repr.is_fragment() {
            return None;
        }
        let (src, dst) = (repr.src_addr(), repr.dst_addr());
        let tcp = TcpRepr::parse_bytes(payload, &src, &dst, false).ok()?;
        Some(Seg {
            src: SocketAddr::new(src, tcp.src_port),
            dst: SocketAddr::new(dst, tcp.dst_port),
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            window: tcp.window,
            options: tcp.options,
            len: tcp.payload.len() as u32,
        })
    }

    /// Whether a control bit is set.
    pub fn has(&self, flag: TcpFlags) -> bool {
        self.flags.contains(flag)
    }

    /// The sequence space it occupies: data, plus one each for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        self.len + u32::from(self.has(TcpFlags::SYN)) + u32::from(self.has(TcpFlags::FIN))
    }

    /// The sequence number just past the segment.
    pub fn end(&self) -> SeqNum {
        self.seq + self.seq_len()
    }
}
