//! Demultiplexing by 4-tuple in a hash map keyed with a secret (SipHash),
//! so that a peer choosing addresses and ports cannot predict buckets and
//! pile its connections into one.

use core::hash::{BuildHasher, Hash, Hasher};
use core::net::{IpAddr, SocketAddr};

use siphasher::sip::SipHasher13;

/// A connection's identity: local and remote address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FourTuple {
    /// Our address and port.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
}

impl FourTuple {
    /// The tuple of a segment that arrived from `src` to `dst`.
    pub fn of_incoming(src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) -> FourTuple {
        FourTuple {
            local: SocketAddr::new(dst, dst_port),
            remote: SocketAddr::new(src, src_port),
        }
    }
}

/// An address as 16 bytes in two word-sized writes (IPv4 mapped into the
/// low bits), the sizes SipHash consumes without buffering.
fn write_ip<H: Hasher>(state: &mut H, ip: IpAddr) {
    let bits = match ip {
        IpAddr::V4(a) => u128::from(a.to_bits()),
        IpAddr::V6(a) => a.to_bits(),
    };
    state.write_u64((bits >> 64) as u64);
    state.write_u64(bits as u64);
}

/// The addresses and ports in as few fixed-size writes as possible: every
/// segment hashes its 4-tuple at least once, and the derived `Hash` of two
/// `SocketAddr`s makes eight small writes (discriminants, length prefixes,
/// ports), each a trip through the hasher's buffering. IPv6 flow labels
/// and scope ids, which `Eq` also compares, are left out: equal tuples
/// still hash alike, which is all a map needs.
impl Hash for FourTuple {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let ports = u32::from(self.local.port()) << 16 | u32::from(self.remote.port());
        match (self.local.ip(), self.remote.ip()) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                // 12 bytes: one SipHash block and a tail.
                state.write_u64(u64::from(l.to_bits()) << 32 | u64::from(r.to_bits()));
                state.write_u32(ports);
            }
            (l, r) => {
                // The family is in the length: 36 bytes here, 12 above.
                write_ip(state, l);
                write_ip(state, r);
                state.write_u32(ports);
            }
        }
    }
}

/// SipHash-1-3 with a per-endpoint secret key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyedHasher {
    k0: u64,
    k1: u64,
}

impl KeyedHasher {
    pub fn new(k0: u64, k1: u64) -> KeyedHasher {
        KeyedHasher { k0, k1 }
    }
}

impl BuildHasher for KeyedHasher {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.k0, self.k1)
    }
}

/// A hash map whose buckets an outsider cannot predict.
pub(crate) type Map<K, V> = hashbrown::HashMap<K, V, KeyedHasher>;
