//! Demultiplexing by 4-tuple in a hash map keyed with a secret (SipHash),
//! so that a peer choosing addresses and ports cannot predict buckets and
//! pile its connections into one.

use core::hash::BuildHasher;
use core::net::{IpAddr, SocketAddr};

use siphasher::sip::SipHasher13;

/// A connection's identity: local and remote address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
