//! TIME-WAIT in compact form: a few dozen bytes per connection instead of
//! a full TCB (RFC 9293 §3.6.1, §3.10.7.4 TIME-WAIT; RFC 6191 for a new
//! SYN on the same 4-tuple).
//!
//! A busy client holds tens of thousands of these, so each costs what it
//! must and no more: a 28-byte [`TimeWait`] under a 12-byte IPv4 key (see
//! `tuple_map`), and a 28-byte entry (key, hash and time) in an expiry
//! queue. The queue is in
//! order of expiry because every entry waits the same 2·MSL from when it
//! was made (or restarted), so the next expiry is at its front.

use alloc::collections::VecDeque;

use hashbrown::HashTable;

use wire::tcp::{TcpFlags, TcpRepr, Timestamps};
use wire::{Instant, SeqNum};

use super::demux::{FourTuple, KeyedHasher};
use super::tuple_map::{TupleKey, TupleMap, V4Tuple};
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
/// 12-byte key).
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
}

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
        }
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

/// An entry of an expiry queue: when to look at `key` again, and its
/// hash, so that the look needs no hashing.
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
struct Due<K: Copy> {
    at: Instant,
    key: K,
    hash: u64,
}

/// The TIME-WAIT entries of an endpoint and their expiry queues, one
/// per key family of the [`TupleMap`]. Keys come hashed ([`TupleKey`]):
/// the table must be made with the hasher of the endpoint's connection
/// table, so that one hash serves both.
#[derive(Debug)]
pub(crate) struct TimeWaitTable {
    entries: TupleMap<TimeWait>,
    v4_queue: VecDeque<Due<V4Tuple>>,
    other_queue: VecDeque<Due<FourTuple>>,
}

impl TimeWaitTable {
    pub fn with_hasher(hasher: KeyedHasher) -> TimeWaitTable {
        TimeWaitTable {
            entries: TupleMap::with_hasher(hasher),
            v4_queue: VecDeque::new(),
            other_queue: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn contains_key(&self, k: &TupleKey<'_>) -> bool {
        self.entries.contains_key(k)
    }

    pub fn get_mut(&mut self, k: &TupleKey<'_>) -> Option<&mut TimeWait> {
        self.entries.get_mut(k)
    }

    pub fn remove(&mut self, k: &TupleKey<'_>) -> Option<TimeWait> {
        self.entries.remove(k)
    }

    /// Holds `k` in TIME-WAIT until `tw.expires` (or later, if restarted).
    pub fn insert(&mut self, k: &TupleKey<'_>, tw: TimeWait) {
        let (at, hash) = (tw.expires, k.hash());
        match V4Tuple::of(k.tuple()) {
            Some(key) => self.v4_queue.push_back(Due { at, key, hash }),
            None => self.other_queue.push_back(Due {
                at,
                key: *k.tuple(),
                hash,
            }),
        }
        self.entries.insert(k, tw);
    }

    /// When the next entry may expire.
    pub fn next_expiry(&self) -> Option<Instant> {
        let v4 = self.v4_queue.front().map(|d| d.at);
        let other = self.other_queue.front().map(|d| d.at);
        match (v4, other) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Forgets the entries whose wait has ended by `now`.
    pub fn expire(&mut self, now: Instant) {
        expire(self.entries.v4_mut(), &mut self.v4_queue, now);
        expire(self.entries.other_mut(), &mut self.other_queue, now);
    }

    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
        self.v4_queue.shrink_to_fit();
        self.other_queue.shrink_to_fit();
    }
}

/// Pops the queue's entries due by `now`: each is found once, by the hash
/// the queue kept, and either forgotten or, if a retransmitted FIN
/// restarted its wait, queued again.
fn expire<K: Copy + Eq>(
    entries: &mut HashTable<(K, TimeWait)>,
    queue: &mut VecDeque<Due<K>>,
    now: Instant,
) {
    while let Some(&Due { at, key, hash }) = queue.front() {
        if at > now {
            break;
        }
        queue.pop_front();
        let Ok(entry) = entries.find_entry(hash, |(k, _)| *k == key) else {
            // Gone already (a RST, a reopening SYN).
            continue;
        };
        let expires = entry.get().1.expires;
        if expires > at {
            // Restarted by a retransmitted FIN: wait again.
            queue.push_back(Due {
                at: expires,
                key,
                hash,
            });
        } else {
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use core::time::Duration;

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
        assert_eq!(size_of::<(V4Tuple, TimeWait)>(), 40);
        assert_eq!(size_of::<Due<V4Tuple>>(), 28);
    }

    #[test]
    fn entries_expire_in_order_and_restarts_wait_again() {
        let mut table = TimeWaitTable::with_hasher(KeyedHasher::new(1, 2));
        let t = |ip: IpAddr| FourTuple {
            local: SocketAddr::new(ip, 80),
            remote: SocketAddr::new(ip, 50_000),
        };
        let a = t(Ipv4Addr::new(10, 0, 0, 1).into());
        let b = t(Ipv6Addr::LOCALHOST.into());
        let (ka, kb) = (table.entries.key(&a), table.entries.key(&b));
        let s = Instant::from_secs;
        table.insert(&ka, TimeWait::new(&info(s(60))));
        table.insert(&kb, TimeWait::new(&info(s(61))));
        assert_eq!(table.next_expiry(), Some(s(60)));
        table.get_mut(&ka).unwrap().expires = s(30) + Duration::from_secs(60);
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
    fn entries_removed_early_leave_only_their_queue_slot() {
        let mut table = TimeWaitTable::with_hasher(KeyedHasher::new(3, 4));
        let t = |port: u16| FourTuple {
            local: SocketAddr::new(Ipv4Addr::new(10, 0, 0, 1).into(), 80),
            remote: SocketAddr::new(Ipv4Addr::new(10, 0, 0, 2).into(), port),
        };
        let s = Instant::from_secs;
        // Many entries, so that the table grows (and rehashes) under the
        // queue: the hashes the queue kept must stay valid.
        for port in 1..=500 {
            let x = t(port);
            let k = table.entries.key(&x);
            table.insert(&k, TimeWait::new(&info(s(u64::from(port)))));
        }
        // A RST (or a reopening SYN) takes entry 2 away early.
        assert!(table.remove(&table.entries.key(&t(2))).is_some());
        table.expire(s(3));
        assert_eq!(table.len(), 497);
        for port in [1, 2, 3] {
            assert!(!table.contains_key(&table.entries.key(&t(port))));
        }
        assert!(table.contains_key(&table.entries.key(&t(4))));
        assert_eq!(table.next_expiry(), Some(s(4)));
        table.expire(s(500));
        assert_eq!(table.len(), 0);
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
