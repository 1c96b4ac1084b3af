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

    /// SipHash-1-3 of a 12-byte message, `head` then `tail` in
    /// little-endian order: what [`BuildHasher::hash_one`] gives for a
    /// value that writes `write_u64(head)` and `write_u32(tail)`, as an
    /// IPv4 4-tuple does. The same function with the same key, so the
    /// same resistance to chosen-key flooding; written out for this one
    /// length because every segment hashes its tuple, and the general
    /// hasher spends more on buffering its writes than on the two
    /// compression rounds and three finalization rounds themselves.
    pub fn hash_12(&self, head: u64, tail: u32) -> u64 {
        let mut v = [
            self.k0 ^ 0x736f_6d65_7073_6575,
            self.k1 ^ 0x646f_7261_6e64_6f6d,
            self.k0 ^ 0x6c79_6765_6e65_7261,
            self.k1 ^ 0x7465_6462_7974_6573,
        ];
        // The one full block, then the last: the tail and the length.
        let last = u64::from(tail) | 12 << 56;
        for m in [head, last] {
            v[3] ^= m;
            sip_round(&mut v);
            v[0] ^= m;
        }
        v[2] ^= 0xff;
        for _ in 0..3 {
            sip_round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

/// One SipRound (Aumasson and Bernstein, "SipHash: a fast short-input
/// PRF", §2).
#[inline(always)]
pub(super) fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

impl BuildHasher for KeyedHasher {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.k0, self.k1)
    }
}

/// A hash map whose buckets an outsider cannot predict.
pub(crate) type Map<K, V> = hashbrown::HashMap<K, V, KeyedHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a 12-byte message as an IPv4 tuple does.
    struct TwelveBytes(u64, u32);

    impl Hash for TwelveBytes {
        fn hash<H: Hasher>(&self, state: &mut H) {
            state.write_u64(self.0);
            state.write_u32(self.1);
        }
    }

    #[test]
    fn the_twelve_byte_siphash_is_the_general_one() {
        // siphasher is the oracle: any difference in a round, a constant
        // or the length byte changes every output.
        let mut x = 0x0123_4567_89ab_cdefu64;
        for k in [(0, 0), (1, 2), (u64::MAX, 0x5555_aaaa_5555_aaaa)] {
            let h = KeyedHasher::new(k.0, k.1);
            for _ in 0..100 {
                x = x.rotate_left(7).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 1;
                let (head, tail) = (x, (x >> 17) as u32);
                assert_eq!(h.hash_12(head, tail), h.hash_one(TwelveBytes(head, tail)));
            }
        }
    }
}
