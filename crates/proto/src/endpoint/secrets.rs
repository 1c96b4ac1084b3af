//! Unpredictable numbers: initial sequence numbers (RFC 6528) and
//! ephemeral ports (RFC 6056), from keyed hashes of the 4-tuple.

use core::net::{IpAddr, SocketAddr};

use siphasher::sip::SipHasher24;
use siphasher::sip128::{Hasher128, SipHasher24 as SipHasher24x128};
use wire::{Instant, SeqNum};

use super::demux::FourTuple;
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
