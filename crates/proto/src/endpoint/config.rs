//! Settings of an endpoint: limits that protect memory, the MTU, ports.

use alloc::sync::Arc;

use crate::conn;

/// Settings of an [`Endpoint`](super::Endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The settings of each connection (the MSS is capped by the MTU).
    pub conn: conn::Config,
    /// The IP MTU of the link: segments never exceed it.
    pub mtu: u16,
    /// The most full connections (half-open included); SYNs beyond are
    /// dropped and `connect` fails.
    pub max_connections: usize,
    /// The most half-open (SYN-RECEIVED) connections over all listeners;
    /// beyond, SYN cookies answer (or SYNs are dropped without cookies).
    pub max_half_open: usize,
    /// Answer SYNs with cookies when a SYN queue is full (RFC 4987).
    pub syn_cookies: bool,
    /// The most compact TIME-WAIT entries (Linux tcp_max_tw_buckets).
    pub max_time_wait: usize,
    /// The ephemeral port range, inclusive (RFC 6335 §6: 49152–65535).
    pub ephemeral_ports: (u16, u16),
    /// Accept packets for any destination address (a TUN device in front
    /// of a proxy terminates connections to every address).
    pub accept_any_address: bool,
    /// Verify IP, TCP and ICMP checksums of received packets.
    pub verify_checksums: bool,
    /// Answer ICMP echo requests (ping).
    pub icmp_echo: bool,
    /// The TTL / hop limit of packets sent.
    pub hop_limit: u8,
    /// The seed of every secret (ISNs, ports, cookies, hash keys). Take it
    /// from the OS's randomness outside simulations.
    pub seed: u64,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            conn: conn::Config::default(),
            mtu: 1500,
            max_connections: 1 << 21,
            max_half_open: 4096,
            syn_cookies: true,
            max_time_wait: 1 << 18,
            ephemeral_ports: (49152, 65535),
            accept_any_address: false,
            verify_checksums: true,
            icmp_echo: true,
            hop_limit: 64,
            seed: 0,
        }
    }
}

/// One connection configuration per address family, shared by every
/// connection made with it (an idle connection carries a pointer, not a
/// copy): the MSS from the MTU (RFC 9293 §3.7.1) and the family's default
/// peer MSS (536 for IPv4, 1220 for IPv6).
#[derive(Debug, Clone)]
pub(crate) struct FamilyConfigs {
    v4: Arc<conn::Config>,
    v6: Arc<conn::Config>,
}

impl FamilyConfigs {
    pub fn new(template: &conn::Config, mtu: u16) -> FamilyConfigs {
        let make = |headers: u16, default_peer_mss: u16| {
            let mut c = *template;
            c.mss = c.mss.min(mtu.saturating_sub(headers)).max(64);
            c.default_peer_mss = default_peer_mss;
            Arc::new(c)
        };
        FamilyConfigs {
            v4: make(40, 536),
            v6: make(60, 1220),
        }
    }

    /// The configuration for a connection over IPv6 (`true`) or IPv4.
    pub fn get(&self, v6: bool) -> Arc<conn::Config> {
        if v6 {
            self.v6.clone()
        } else {
            self.v4.clone()
        }
    }
}
