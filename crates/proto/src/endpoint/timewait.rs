//! TIME-WAIT in compact form: a few dozen bytes per connection instead of
//! a full TCB (RFC 9293 §3.6.1, §3.10.7.4 TIME-WAIT; RFC 6191 for a new
//! SYN on the same 4-tuple).
//!
//! A busy client holds hundreds of thousands of these, so each costs what
//! it must and no more: a 28-byte [`TimeWait`] beside its 12-byte IPv4
//! key (see `tuple_map`) and 32 bits of its hash, in a ring in order of expiry, and an
//! 8-byte slot in a hash index (see `expiry_ring`).

use wire::tcp::{TcpFlags, TcpRepr, Timestamps};
use wire::{Instant, SeqNum};

use super::demux::FourTuple;
use super::expiry_ring::ExpiryRing;
use super::tuple_map::{TupleKey, V4Tuple};
use crate::conn::TimeWaitInfo;

/// What a compact TIME-WAIT entry does with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TwVerdict {
    /// Acknowledge (and keep waiting).
    Ack,
    /// Acknowledge the retransmitted FIN and restart the 2·MSL wait.
    AckAndRestart,
    /// Forget the entry: a valid RST.
    Close,
    /// A new SYN that may reopen the 4-tuple (RFC 6191 / RFC 1122
    /// §4.2.2.13): the entry goes, the SYN goes to the listener.
    Reopen,
    /// Nothing.
    Drop,
}

/// A connection in TIME-WAIT: what [`TimeWaitInfo`] holds, packed to a
/// 4-byte alignment (28 bytes rather than 32, and no padding beside a
/// 12-byte key), and when it last answered a segment that was not
/// acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
pub(crate) struct TimeWait {
    /// When the 2·MSL wait ends.
    pub expires: Instant,
    snd_nxt: SeqNum,
    rcv_nxt: SeqNum,
    /// TS.Recent, if `has_ts`.
    ts_recent: u32,
    ts_offset: u32,
    window: u16,
    has_ts: bool,
    /// The [`OOW_TICK`] in which the entry last acknowledged a segment
    /// that was not acceptable, plus one, modulo 255 (0: never). One byte,
    /// the one the packing left free: it wraps every 127.5 s, when at
    /// worst one ACK due is held back.
    oow_tick: u8,
}

/// The interval within which a TIME-WAIT entry answers at most one
/// segment that is not acceptable, in milliseconds: Linux's
/// `tcp_invalid_ratelimit` default.
const OOW_TICK: u64 = 500;

impl TimeWait {
    pub fn new(info: &TimeWaitInfo) -> TimeWait {
        TimeWait {
            expires: info.expires,
            snd_nxt: info.snd_nxt,
            rcv_nxt: info.rcv_nxt,
            ts_recent: info.ts_recent.unwrap_or(0),
            ts_offset: info.ts_offset,
            window: info.window,
            has_ts: info.ts_recent.is_some(),
            oow_tick: 0,
        }
    }

    /// Whether to send the ACK a [`TwVerdict::Ack`] asks for at `now`:
    /// at most one in each [`OOW_TICK`], as Linux's
    /// `tcp_timewait_check_oow_rate_limit` does (RFC 5961 §7 bounds
    /// challenge ACKs alike). Segments that are not acceptable cost a
    /// sender nothing to forge, and two TIME-WAIT entries that disagree
    /// about each other's sequence numbers would otherwise answer each
    /// other's answers for the whole 2·MSL. Records the ACK when it is
    /// sent.
    pub fn may_answer(&mut self, now: Instant) -> bool {
        let tick = ((now.millis() / OOW_TICK) % 255) as u8 + 1;
        if self.oow_tick == tick {
            return false;
        }
        self.oow_tick = tick;
        true
    }

    /// TS.Recent, when timestamps are in use.
    fn ts_recent(&self) -> Option<u32> {
        self.has_ts.then_some(self.ts_recent)
    }

    pub fn judge(&self, seg: &TcpRepr<'_>) -> TwVerdict {
        let flags = seg.flags;
        let rcv_nxt = self.rcv_nxt;
        if flags.contains(TcpFlags::RST) {
            // RFC 5961 §3: only an exact RCV.NXT counts.
            return if seg.seq == rcv_nxt {
                TwVerdict::Close
            } else {
                TwVerdict::Drop
            };
        }
        if flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK) {
            // RFC 6191 §2: with timestamps, a SYN whose TSval is newer than
            // TS.Recent; without, a SYN beyond RCV.NXT (RFC 1122).
            let newer = match (self.ts_recent(), seg.options.timestamps) {
                (Some(recent), Some(ts)) => (ts.tsval.wrapping_sub(recent) as i32) > 0,
                (Some(_), None) => false,
                (None, _) => seg.seq > rcv_nxt,
            };
            return if newer {
                TwVerdict::Reopen
            } else {
                TwVerdict::Ack
            };
        }
        if flags.contains(TcpFlags::FIN) && seg.seq + seg.seq_len() == rcv_nxt {
            return TwVerdict::AckAndRestart;
        }
        if seg.seq == rcv_nxt && seg.seq_len() == 0 {
            // Acceptable, and after the peer's FIN nothing but a bare ACK
            // can be (§3.10.7.4, first check): nothing to do. Answered,
            // two ends in TIME-WAIT would trade such ACKs without end
            // once a stray copy of one reached the other.
            return TwVerdict::Drop;
        }
        // Not acceptable: "an acknowledgment should be sent in reply"
        // (§3.10.7.4, first check), as long as `may_answer` agrees.
        TwVerdict::Ack
    }

    /// The ACK to send: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    pub fn ack(&self, now: Instant) -> (SeqNum, SeqNum, u16, Option<Timestamps>) {
        let ts = self.ts_recent().map(|recent| Timestamps {
            tsval: (now.millis() as u32).wrapping_add(self.ts_offset),
            tsecr: recent,
        });
        (self.snd_nxt, self.rcv_nxt, self.window, ts)
    }
}

/// The TIME-WAIT entries of an endpoint, in one [`ExpiryRing`] per key
/// family of the [`TupleMap`](super::tuple_map::TupleMap). Keys come
/// hashed ([`TupleKey`]) by the endpoint's tables, so one hash serves the
/// connection table and this one.
#[derive(Debug)]
pub(crate) struct TimeWaitTable {
    v4: ExpiryRing<V4Tuple>,
    other: ExpiryRing<FourTuple>,
}

impl TimeWaitTable {
    pub fn new() -> TimeWaitTable {
        TimeWaitTable {
            v4: ExpiryRing::new(),
            other: ExpiryRing::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.other.len()
    }

    pub fn get(&self, k: &TupleKey<'_>) -> Option<&TimeWait> {
        match k.v4() {
            Some(v4) => self.v4.get(k.hash(), &v4),
            None => self.other.get(k.hash(), k.tuple()),
        }
    }

    pub fn get_mut(&mut self, k: &TupleKey<'_>) -> Option<&mut TimeWait> {
        match k.v4() {
            Some(v4) => self.v4.get_mut(k.hash(), &v4),
            None => self.other.get_mut(k.hash(), k.tuple()),
        }
    }

    pub fn contains_key(&self, k: &TupleKey<'_>) -> bool {
        self.get(k).is_some()
    }

    pub fn remove(&mut self, k: &TupleKey<'_>) -> Option<TimeWait> {
        match k.v4() {
            Some(v4) => self.v4.remove(k.hash(), &v4),
            None => self.other.remove(k.hash(), k.tuple()),
        }
    }

    /// Holds `k` in TIME-WAIT until `tw.expires` (or later, if restarted).
    pub fn insert(&mut self, k: &TupleKey<'_>, tw: TimeWait) {
        match k.v4() {
            Some(v4) => self.v4.insert(k.hash(), v4, tw),
            None => self.other.insert(k.hash(), *k.tuple(), tw),
        }
    }

    /// Makes `k`'s wait end at `expires` instead (a retransmitted FIN).
    pub fn restart(&mut self, k: &TupleKey<'_>, expires: Instant) {
        match k.v4() {
            Some(v4) => self.v4.restart(k.hash(), &v4, expires),
            None => self.other.restart(k.hash(), k.tuple(), expires),
        }
    }

    /// When the next entry may expire.
    pub fn next_expiry(&self) -> Option<Instant> {
        match (self.v4.next_expiry(), self.other.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Forgets the entries whose wait has ended by `now`.
    pub fn expire(&mut self, now: Instant) {
        self.v4.expire(now);
        self.other.expire(now);
    }

    pub fn shrink_to_fit(&mut self) {
        self.v4.shrink_to_fit();
        self.other.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::demux::KeyedHasher;
    use core::mem::size_of;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use core::time::Duration;
    use wire::tcp::TcpOptions;

    fn info(expires: Instant) -> TimeWaitInfo {
        TimeWaitInfo {
            snd_nxt: SeqNum(10),
            rcv_nxt: SeqNum(20),
            window: 1000,
            ts_recent: Some(7),
            ts_offset: 3,
            expires,
        }
    }

    #[test]
    fn entries_are_compact() {
        // The budget: 128 bytes per TIME-WAIT entry, hash map slack and
        // queue included.
        assert_eq!(size_of::<TimeWait>(), 28);
    }

    #[test]
    fn entries_expire_in_order_and_restarts_wait_again() {
        let mut table = TimeWaitTable::new();
        let hasher = KeyedHasher::new(1, 2);
        let t = |ip: IpAddr| FourTuple {
            local: SocketAddr::new(ip, 80),
            remote: SocketAddr::new(ip, 50_000),
        };
        let a = t(Ipv4Addr::new(10, 0, 0, 1).into());
        let b = t(Ipv6Addr::LOCALHOST.into());
        let (ka, kb) = (TupleKey::new(&hasher, &a), TupleKey::new(&hasher, &b));
        let s = Instant::from_secs;
        table.insert(&ka, TimeWait::new(&info(s(60))));
        table.insert(&kb, TimeWait::new(&info(s(61))));
        assert_eq!(table.next_expiry(), Some(s(60)));
        table.restart(&ka, s(30) + Duration::from_secs(60));
        table.expire(s(60));
        assert!(table.contains_key(&ka), "restarted");
        assert_eq!(table.next_expiry(), Some(s(61)));
        table.expire(s(61));
        assert!(!table.contains_key(&kb));
        assert!(table.contains_key(&ka));
        assert_eq!(table.next_expiry(), Some(s(90)));
        table.expire(s(90) - Duration::from_micros(1));
        assert!(table.contains_key(&ka), "not a microsecond early");
        table.expire(s(90));
        assert_eq!(table.len(), 0);
        assert_eq!(table.next_expiry(), None);
    }

    #[test]
    fn entries_removed_early_leave_the_rest_in_order() {
        let mut table = TimeWaitTable::new();
        let hasher = KeyedHasher::new(3, 4);
        let t = |port: u16| FourTuple {
            local: SocketAddr::new(Ipv4Addr::new(10, 0, 0, 1).into(), 80),
            remote: SocketAddr::new(Ipv4Addr::new(10, 0, 0, 2).into(), port),
        };
        let s = Instant::from_secs;
        // Many entries, so that the index grows (and rehashes) under the
        // ring: the hashes the ring kept must stay valid.
        for port in 1..=500 {
            let x = t(port);
            let k = TupleKey::new(&hasher, &x);
            table.insert(&k, TimeWait::new(&info(s(u64::from(port)))));
        }
        // A RST (or a reopening SYN) takes entry 2 away early.
        assert!(table.remove(&TupleKey::new(&hasher, &t(2))).is_some());
        table.expire(s(3));
        assert_eq!(table.len(), 497);
        for port in [1, 2, 3] {
            assert!(!table.contains_key(&TupleKey::new(&hasher, &t(port))));
        }
        assert!(table.contains_key(&TupleKey::new(&hasher, &t(4))));
        assert_eq!(table.next_expiry(), Some(s(4)));
        table.expire(s(500));
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn only_what_is_not_acceptable_is_acknowledged() {
        // RCV.NXT is 20 (`info`); RFC 9293 §3.10.7.4.
        let tw = TimeWait::new(&info(Instant::ZERO));
        let judge = |seq: u32, flags: TcpFlags, payload: &[u8]| {
            tw.judge(&TcpRepr {
                src_port: 50_000,
                dst_port: 80,
                seq: SeqNum(seq),
                ack: SeqNum(10),
                flags,
                window: 1000,
                urgent: 0,
                options: TcpOptions::default(),
                payload,
            })
        };
        // A bare ACK at RCV.NXT is acceptable, and answering it would let
        // two ends in TIME-WAIT trade ACKs without end.
        assert_eq!(judge(20, TcpFlags::ACK, &[]), TwVerdict::Drop);
        // Old, or beyond the FIN: not acceptable, acknowledged.
        assert_eq!(judge(19, TcpFlags::ACK, &[]), TwVerdict::Ack);
        assert_eq!(judge(21, TcpFlags::ACK, &[]), TwVerdict::Ack);
        // Data after the FIN.
        assert_eq!(judge(20, TcpFlags::ACK, b"x"), TwVerdict::Ack);
        // The FIN again (it ends at RCV.NXT): acknowledged, wait restarted.
        assert_eq!(
            judge(19, TcpFlags::ACK | TcpFlags::FIN, &[]),
            TwVerdict::AckAndRestart
        );
        assert_eq!(judge(20, TcpFlags::RST, &[]), TwVerdict::Close);
        assert_eq!(judge(21, TcpFlags::RST, &[]), TwVerdict::Drop);
    }

    #[test]
    fn answers_to_what_is_not_acceptable_are_rate_limited() {
        let mut tw = TimeWait::new(&info(Instant::ZERO));
        let ms = Instant::from_millis;
        // One in each 500 ms tick, the first at once.
        assert!(tw.may_answer(ms(1_000)));
        assert!(!tw.may_answer(ms(1_000)));
        assert!(!tw.may_answer(ms(1_499)));
        assert!(tw.may_answer(ms(1_500)));
        assert!(!tw.may_answer(ms(1_900)));
        // Ticks later, and across the wrap of the byte that holds them
        // (255 ticks): a tick that differs is never mistaken for the one
        // recorded.
        for t in (2_000..400_000).step_by(500) {
            assert!(tw.may_answer(ms(t)), "at {t} ms");
            assert!(!tw.may_answer(ms(t + 499)), "at {t} + 499 ms");
        }
        // The entry stays 28 bytes (`entries_are_compact`).
        assert_eq!(size_of::<TimeWait>(), 28);
    }

    #[test]
    fn the_ack_carries_the_remembered_numbers() {
        let tw = TimeWait::new(&info(Instant::ZERO));
        let (seq, ack, window, ts) = tw.ack(Instant::from_millis(5));
        assert_eq!((seq, ack, window), (SeqNum(10), SeqNum(20), 1000));
        assert_eq!(ts, Some(Timestamps { tsval: 8, tsecr: 7 }));
        let tw = TimeWait::new(&TimeWaitInfo {
            ts_recent: None,
            ..info(Instant::ZERO)
        });
        assert_eq!(tw.ack(Instant::ZERO).3, None);
    }
}
