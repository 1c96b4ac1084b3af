//! What IPv4 and IPv6 share: protocol numbers.

use core::fmt;

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
