//! ICMP errors about a connection's path: "packet too big" lowers the MSS
//! (RFC 1191, RFC 8201); the others are soft errors (RFC 1122 §4.2.3.9,
//! RFC 5461), checked against what is in flight (RFC 5927).

use wire::{Instant, SeqNum};

use super::congestion::Controller;
use super::state::State;
use super::Connection;

/// An ICMP error reported for the connection's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SoftError {
    /// Network unreachable.
    NetUnreachable,
    /// Host unreachable (or address unreachable in ICMPv6).
    HostUnreachable,
    /// Protocol or port unreachable.
    PortUnreachable,
    /// Administratively prohibited.
    Prohibited,
}

/// The smallest MSS a "packet too big" can push us to: IPv4's minimum
/// reassembly size 576 less 40 bytes of headers (RFC 1191 §3 plateau; an
/// attacker cannot make us send tiny segments).
const MIN_PMTU_MSS: u32 = 536;

impl Connection {
    /// Whether `seq` (from a quoted header) lies in what we sent and is
    /// not yet acknowledged: RFC 5927 §4.1's check against blind ICMP
    /// attacks.
    pub fn quoted_seq_in_flight(&self, seq: SeqNum) -> bool {
        seq >= self.snd.una && seq < self.snd.max
    }

    /// ICMP "packet too big" / "fragmentation needed": at most `mtu`
    /// bytes of IP packet pass the path, of which `ip_header` are ours.
    /// Lowers the MSS and resends what was lost at once. Returns whether
    /// anything changed.
    pub fn on_packet_too_big(
        &mut self,
        mtu: u32,
        ip_header: u32,
        quoted_seq: SeqNum,
        now: Instant,
    ) -> bool {
        let _ = now;
        if !self.state.is_synchronized() || !self.quoted_seq_in_flight(quoted_seq) {
            return false;
        }
        let mss = mtu
            .saturating_sub(ip_header + 20 + self.opts.per_segment_option_len())
            .max(MIN_PMTU_MSS - self.opts.per_segment_option_len());
        if mss >= self.snd.mss {
            return false;
        }
        self.snd.mss = mss;
        self.cc.set_mss(mss);
        // The too-big segments were dropped: send them again, smaller
        // (RFC 1191 §6.5), without waiting for the timer.
        self.resend_all();
        self.rtt_probe = None;
        true
    }

    /// An ICMP error that does not end the connection by itself (RFC 1122
    /// §4.2.3.9): it is remembered and explains a later timeout. Returns
    /// whether it was taken (its quote is about what is in flight).
    pub fn on_soft_error(&mut self, error: SoftError, quoted_seq: SeqNum) -> bool {
        let relevant = match self.state {
            State::SynSent => quoted_seq == self.snd.iss,
            _ => self.quoted_seq_in_flight(quoted_seq),
        };
        if relevant {
            self.soft_error = Some(error);
        }
        relevant
    }

    /// The last soft error, if any.
    pub fn soft_error(&self) -> Option<SoftError> {
        self.soft_error
    }
}
