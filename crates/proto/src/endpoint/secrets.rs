//! Unpredictable numbers: initial sequence numbers (RFC 6528) and
//! ephemeral ports (RFC 6056), from keyed hashes of the 4-tuple.

use core::net::{IpAddr, SocketAddr};

use siphasher::sip::SipHasher24;
use siphasher::sip128::{Hasher128, SipHasher24 as SipHasher24x128};
use wire::{Instant, SeqNum};

use super::demux::{sip_round, FourTuple};
use core::hash::{Hash, Hasher};

/// The endpoint's secrets, drawn once from its seed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Secrets {
    isn: (u64, u64),
    port: (u64, u64),
    cookie: (u64, u64),
}

/// splitmix64, to spread one seed over several keys.
fn mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn sip<T: Hash>(key: (u64, u64), value: T) -> u64 {
    let mut h = SipHasher24::new_with_keys(key.0, key.1);
    value.hash(&mut h);
    h.finish()
}

/// SipHash-2-4 of a message of `len` bytes given as its little-endian
/// 8-byte words, the last holding the bytes past the final full word: the
/// same function as `siphasher`'s over the same bytes (the tests hold it
/// to that), written out for the hashes every connection takes, where the
/// general hasher spends more buffering its small writes than hashing.
/// With `wide`, the 128-bit variant, as its two halves.
fn sip24_words(key: (u64, u64), words: &[u64], len: u8, wide: bool) -> (u64, u64) {
    let mut v = [
        key.0 ^ 0x736f_6d65_7073_6575,
        key.1 ^ 0x646f_7261_6e64_6f6d,
        key.0 ^ 0x6c79_6765_6e65_7261,
        key.1 ^ 0x7465_6462_7974_6573,
    ];
    if wide {
        v[1] ^= 0xee;
    }
    let (last, full) = words.split_last().map_or((0, words), |(l, f)| (*l, f));
    for &m in full.iter().chain([last | u64::from(len) << 56].iter()) {
        v[3] ^= m;
        sip_round(&mut v);
        sip_round(&mut v);
        v[0] ^= m;
    }
    v[2] ^= if wide { 0xee } else { 0xff };
    let finish = |v: &mut [u64; 4]| {
        for _ in 0..4 {
            sip_round(v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    };
    let h1 = finish(&mut v);
    if !wide {
        return (h1, 0);
    }
    v[1] ^= 0xdd;
    (h1, finish(&mut v))
}

impl Secrets {
    /// Keys derived from `seed`; the caller supplies real randomness.
    pub fn new(seed: u64) -> (Secrets, (u64, u64)) {
        let mut s = seed;
        let secrets = Secrets {
            isn: (mix(&mut s), mix(&mut s)),
            port: (mix(&mut s), mix(&mut s)),
            cookie: (mix(&mut s), mix(&mut s)),
        };
        (secrets, (mix(&mut s), mix(&mut s)))
    }

    /// F(4-tuple, secret) of RFC 6528 §3 and of the timestamp offset, from
    /// one SipHash-2-4 with a 128-bit result: its halves are independent
    /// keyed functions of the tuple, so one hash serves both where two
    /// used to (a connection opens per hash instead of per two).
    fn tuple_keys(&self, tuple: &FourTuple) -> (u32, u32) {
        if let (IpAddr::V4(l), IpAddr::V4(r)) = (tuple.local.ip(), tuple.remote.ip()) {
            // The 12 bytes `FourTuple::hash` writes for IPv4.
            let head = u64::from(l.to_bits()) << 32 | u64::from(r.to_bits());
            let ports = u32::from(tuple.local.port()) << 16 | u32::from(tuple.remote.port());
            let (h1, h2) = sip24_words(self.isn, &[head, u64::from(ports)], 12, true);
            return (h1 as u32, h2 as u32);
        }
        let mut h = SipHasher24x128::new_with_keys(self.isn.0, self.isn.1);
        tuple.hash(&mut h);
        let out = h.finish128();
        (out.h1 as u32, out.h2 as u32)
    }

    /// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
    /// secretkey), M a 4 µs clock, F SipHash-2-4.
    pub fn isn(&self, tuple: &FourTuple, now: Instant) -> SeqNum {
        self.isn_and_ts_offset(tuple, now).0
    }

    /// The ISN (as [`isn`](Self::isn)) and the timestamp clock offset of
    /// the connections we open on `tuple` (RFC 7323 §5.4): keyed by the
    /// 4-tuple, not drawn per connection, so that successive connections of
    /// one 4-tuple send increasing timestamps, which RFC 6191 relies on to
    /// reopen a 4-tuple that the peer holds in TIME-WAIT. Passive and
    /// active opens of one tuple share F, so their ISNs keep rising with
    /// the clock whichever side opened last.
    pub fn isn_and_ts_offset(&self, tuple: &FourTuple, now: Instant) -> (SeqNum, u32) {
        let m = (now.micros() / 4) as u32;
        let (f, ts_offset) = self.tuple_keys(tuple);
        (SeqNum(m.wrapping_add(f)), ts_offset)
    }

    /// RFC 6056 §3.3.3 (Algorithm 3): the offset at which the search for a
    /// free ephemeral port to `remote` starts, F(local IP, remote IP,
    /// remote port, secret). (Once per connect; hashed as it always was,
    /// so a seed picks the same ports as before.)
    pub fn port_offset(&self, local: IpAddr, remote: SocketAddr) -> u32 {
        if let (IpAddr::V4(l), IpAddr::V4(r)) = (local, remote.ip()) {
            // The 26 bytes the derived `Hash` of `(IpAddr, SocketAddr)`
            // writes for IPv4: the variant (8 zero bytes), the address
            // octets, the variant again, the remote octets, the port.
            let words = [
                0,
                u64::from(u32::from_le_bytes(l.octets())),
                u64::from(u32::from_le_bytes(r.octets())) << 32,
                u64::from(remote.port()),
            ];
            return sip24_words(self.port, &words, 26, false).0 as u32;
        }
        sip(self.port, (local, remote)) as u32
    }

    /// The keyed hash a SYN cookie carries (RFC 4987 §3.6).
    pub fn cookie_hash(&self, tuple: &FourTuple, irs: SeqNum, counter: u32) -> u32 {
        sip(self.cookie, (tuple, irs.0, counter)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr};
    use std::vec::Vec;

    fn tuple(port: u16) -> FourTuple {
        FourTuple {
            local: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80),
            remote: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), port),
        }
    }

    #[test]
    fn isn_depends_on_tuple_secret_and_clock() {
        let (a, _) = Secrets::new(1);
        let (b, _) = Secrets::new(2);
        let t = Instant::from_secs(5);
        assert_ne!(a.isn(&tuple(1000), t), a.isn(&tuple(1001), t));
        assert_ne!(a.isn(&tuple(1000), t), b.isn(&tuple(1000), t));
        // The clock part advances one per 4 µs.
        let later = t + core::time::Duration::from_micros(400);
        assert_eq!(a.isn(&tuple(1000), later) - a.isn(&tuple(1000), t), 100);
    }

    /// The keyed functions as `siphasher` computes them over the std
    /// `Hash` of their inputs: what they were before being written out.
    fn general_tuple_keys(s: &Secrets, tuple: &FourTuple) -> (u32, u32) {
        let mut h = SipHasher24x128::new_with_keys(s.isn.0, s.isn.1);
        tuple.hash(&mut h);
        let out = h.finish128();
        (out.h1 as u32, out.h2 as u32)
    }

    #[test]
    fn written_out_hashes_are_siphashers() {
        // siphasher is the oracle: a seed must keep picking the same ISNs,
        // timestamp offsets and ports.
        let mut x = 0x0123_4567_89ab_cdefu64;
        for seed in [0, 1, 2, u64::MAX] {
            let (s, _) = Secrets::new(seed);
            for _ in 0..200 {
                x = x.rotate_left(7).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 1;
                let l = IpAddr::V4(Ipv4Addr::from((x >> 32) as u32));
                let r = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(x as u32)), (x >> 16) as u16);
                let t = FourTuple {
                    local: SocketAddr::new(l, (x >> 48) as u16),
                    remote: r,
                };
                assert_eq!(s.tuple_keys(&t), general_tuple_keys(&s, &t));
                assert_eq!(s.port_offset(l, r), sip(s.port, (l, r)) as u32);
            }
        }
    }

    #[test]
    fn the_written_out_siphash_is_siphashers_at_every_length() {
        use siphasher::sip128::Hasher128;
        let key = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let bytes: Vec<u8> = (0..40u8).collect();
        for len in 0..bytes.len() {
            let words: Vec<u64> = bytes[..len]
                .chunks(8)
                .map(|c| {
                    let mut w = [0u8; 8];
                    w[..c.len()].copy_from_slice(c);
                    u64::from_le_bytes(w)
                })
                .collect();
            let mut words = words;
            if len % 8 == 0 {
                words.push(0);
            }
            let mut h = SipHasher24::new_with_keys(key.0, key.1);
            h.write(&bytes[..len]);
            assert_eq!(sip24_words(key, &words, len as u8, false).0, h.finish());
            let mut h = SipHasher24x128::new_with_keys(key.0, key.1);
            h.write(&bytes[..len]);
            let out = h.finish128();
            assert_eq!(sip24_words(key, &words, len as u8, true), (out.h1, out.h2));
        }
    }

    #[test]
    fn ts_offset_depends_on_tuple_and_secret_not_clock() {
        let (a, _) = Secrets::new(1);
        let (b, _) = Secrets::new(2);
        let (t0, t1) = (Instant::from_secs(5), Instant::from_secs(9));
        let (isn, off) = a.isn_and_ts_offset(&tuple(1000), t0);
        assert_eq!(isn, a.isn(&tuple(1000), t0));
        assert_eq!(off, a.isn_and_ts_offset(&tuple(1000), t1).1);
        assert_ne!(off, a.isn_and_ts_offset(&tuple(1001), t0).1);
        assert_ne!(off, b.isn_and_ts_offset(&tuple(1000), t0).1);
    }
}
