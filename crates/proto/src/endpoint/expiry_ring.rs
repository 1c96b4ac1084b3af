//! TIME-WAIT records kept in the order they expire, with a small hash
//! index beside them.
//!
//! A busy client holds hundreds of thousands of TIME-WAIT entries (2·MSL
//! of its connection rate), and touches each three times: a connect
//! looks its tuple up, a close inserts it, its expiry removes it. Kept as
//! values of a hash table, entries of 40 bytes and more scatter over tens
//! of megabytes, more than the cache holds, and each of those touches
//! missed it, more than once.
//!
//! Here the records sit in a ring in order of expiry (every entry waits
//! the same 2·MSL from when it was made or restarted), so inserts and
//! expiries touch its two ends. The hash index holds 8 bytes per entry:
//! the record's position in the ring and 32 bits of the key's hash
//! ([`Slot`]). The index hashes those 32 bits alone, so a lookup of an
//! absent key is settled in the index without reading a record, and the
//! index rehashes itself (it does, now and then, to clear the marks its
//! removals leave) without reading one either.
//!
//! The index stays hashbrown's, though its control bytes sit apart from
//! its slots: most lookups (a connect's, of a tuple not in TIME-WAIT)
//! read a control group alone, from an array of one byte per bucket, 1 MB
//! at a million buckets, which the caches likely hold better than any
//! array of 8-byte slots. An open-addressing table whose slots carry
//! their tags (linear probing, backward-shift removal) touched one line
//! per probe as meant, but that line came from 8 MB: on the churn bench
//! its share of the profile rose from 9.3 % to 12.4 % (most of it the
//! load of a lookup's first slot), Ir/conn by 0.8 %, D1 misses flat.

use alloc::collections::VecDeque;

use hashbrown::HashTable;

use super::timewait::TimeWait;
use wire::Instant;

/// A TIME-WAIT record: the key, its tag (so that its expiry finds its
/// slot without hashing again), and the entry.
#[derive(Debug, Clone, Copy)]
struct Record<K: Copy> {
    key: K,
    tag: u32,
    tw: TimeWait,
}

/// An index slot: the position of a record (low half) and its tag (high
/// half).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot(u64);

impl Slot {
    fn new(pos: u32, tag: u32) -> Slot {
        Slot(u64::from(tag) << 32 | u64::from(pos))
    }

    fn pos(self) -> u32 {
        self.0 as u32
    }

    fn tag(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// The 32 bits of a key's (keyed, uniform) hash that the index keeps.
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// The hash the index files a tag under: the tag spread over 64 bits (an
/// odd multiplier, so distinct tags stay distinct), since hashbrown takes
/// the bucket from the low bits and its control byte from the top seven.
fn index_hash(tag: u32) -> u64 {
    u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The record at `pos` of a ring whose front is at `head`.
fn at<K: Copy>(records: &VecDeque<Record<K>>, head: u32, pos: u32) -> &Record<K> {
    &records[pos.wrapping_sub(head) as usize]
}

/// Whether a slot is `key`'s: its tag is `tag` and its record holds
/// `key` (the record is read only when the tags agree).
fn holds<'a, K: Copy + Eq>(
    records: &'a VecDeque<Record<K>>,
    head: u32,
    tag: u32,
    key: &'a K,
) -> impl Fn(&Slot) -> bool + 'a {
    move |s| s.tag() == tag && at(records, head, s.pos()).key == *key
}

/// Records in order of expiry and their index. See the
/// [module docs](self).
///
/// Positions count the records ever pushed, wrapping at 2^32: a record's
/// place in the ring is its position less `head`'s. A record forgotten
/// early (a RST, a reopening SYN) or moved to the back (a restart) stays
/// in the ring, without a slot, until the front reaches it: only a
/// record whose slot points at it is an entry.
#[derive(Debug)]
pub(crate) struct ExpiryRing<K: Copy> {
    records: VecDeque<Record<K>>,
    /// The position of the front record.
    head: u32,
    index: HashTable<Slot>,
}

impl<K: Copy + Eq> ExpiryRing<K> {
    pub fn new() -> ExpiryRing<K> {
        ExpiryRing::starting_at(0)
    }

    /// A ring whose first record will have position `head`.
    fn starting_at(head: u32) -> ExpiryRing<K> {
        ExpiryRing {
            records: VecDeque::new(),
            head,
            index: HashTable::new(),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn record(&self, pos: u32) -> &Record<K> {
        at(&self.records, self.head, pos)
    }

    /// The position of `key`'s entry.
    fn find(&self, hash: u64, key: &K) -> Option<u32> {
        let t = tag(hash);
        self.index
            .find(index_hash(t), holds(&self.records, self.head, t, key))
            .map(|s| s.pos())
    }

    /// The position the next record pushed will have.
    fn next_pos(&self) -> u32 {
        // Wraps only past 2^32 records alive at once, hundreds of
        // gigabytes.
        self.head.wrapping_add(self.records.len() as u32)
    }

    pub fn get(&self, hash: u64, key: &K) -> Option<&TimeWait> {
        self.find(hash, key).map(|pos| &self.record(pos).tw)
    }

    pub fn get_mut(&mut self, hash: u64, key: &K) -> Option<&mut TimeWait> {
        let pos = self.find(hash, key)?;
        let head = self.head;
        Some(&mut self.records[pos.wrapping_sub(head) as usize].tw)
    }

    /// Holds `key` until `tw.expires`, replacing an entry it had.
    pub fn insert(&mut self, hash: u64, key: K, tw: TimeWait) {
        let t = tag(hash);
        let slot = Slot::new(self.next_pos(), t);
        match self.index.entry(
            index_hash(t),
            holds(&self.records, self.head, t, &key),
            |s| index_hash(s.tag()),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = slot,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(slot);
            }
        }
        self.records.push_back(Record { key, tag: t, tw });
    }

    /// Forgets `key`'s entry; what it held.
    pub fn remove(&mut self, hash: u64, key: &K) -> Option<TimeWait> {
        let t = tag(hash);
        let (slot, _) = self
            .index
            .find_entry(index_hash(t), holds(&self.records, self.head, t, key))
            .ok()?
            .remove();
        Some(self.record(slot.pos()).tw)
    }

    /// Restarts `key`'s wait to end at `expires`: its record moves to the
    /// back of the ring, which stays in order of expiry.
    pub fn restart(&mut self, hash: u64, key: &K, expires: Instant) {
        let t = tag(hash);
        let next = self.next_pos();
        let Ok(mut e) = self
            .index
            .find_entry(index_hash(t), holds(&self.records, self.head, t, key))
        else {
            return;
        };
        let old = core::mem::replace(e.get_mut(), Slot::new(next, t)).pos();
        let mut tw = self.record(old).tw;
        tw.expires = expires;
        self.records.push_back(Record {
            key: *key,
            tag: t,
            tw,
        });
    }

    /// When the front record expires: the next entry's expiry, or
    /// earlier if that record was forgotten or moved (its expiry then
    /// finds nothing to do).
    pub fn next_expiry(&self) -> Option<Instant> {
        self.records.front().map(|r| r.tw.expires)
    }

    /// Forgets the entries whose wait has ended by `now`.
    pub fn expire(&mut self, now: Instant) {
        while let Some(&Record { tag, tw, .. }) = self.records.front() {
            if { tw.expires } > now {
                break;
            }
            // Its slot, unless it was forgotten or moved.
            let head = self.head;
            if let Ok(e) = self.index.find_entry(index_hash(tag), |s| s.pos() == head) {
                e.remove();
            }
            self.records.pop_front();
            self.head = self.head.wrapping_add(1);
        }
    }

    pub fn shrink_to_fit(&mut self) {
        self.records.shrink_to_fit();
        self.index.shrink_to_fit(|s| index_hash(s.tag()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::TimeWaitInfo;
    use core::mem::size_of;
    use wire::SeqNum;

    fn tw(expires_s: u64) -> TimeWait {
        TimeWait::new(&TimeWaitInfo {
            snd_nxt: SeqNum(10),
            rcv_nxt: SeqNum(20),
            window: 1000,
            ts_recent: None,
            ts_offset: 0,
            expires: Instant::from_secs(expires_s),
        })
    }

    fn expires(ring: &ExpiryRing<u32>, hash: u64, key: u32) -> Option<u64> {
        ring.get(hash, &key).map(|t| t.expires.millis() / 1000)
    }

    #[test]
    fn records_and_slots_are_small() {
        assert_eq!(size_of::<Slot>(), 8);
        assert_eq!(
            size_of::<Record<super::super::tuple_map::V4Tuple>>(),
            12 + 4 + 28
        );
    }

    #[test]
    fn keys_that_share_a_hash_and_tag_stay_apart() {
        let mut ring = ExpiryRing::new();
        // Every key hashes alike: the tag cannot tell them apart, the
        // record's key must.
        for k in 0..100u32 {
            ring.insert(7, k, tw(u64::from(k) + 1));
        }
        for k in 0..100u32 {
            assert_eq!(expires(&ring, 7, k), Some(u64::from(k) + 1));
        }
        assert_eq!(
            ring.remove(7, &50).map(|t| t.expires),
            Some(Instant::from_secs(51))
        );
        assert_eq!(ring.get(7, &50), None);
        assert_eq!(ring.len(), 99);
        ring.expire(Instant::from_secs(60));
        assert_eq!(ring.len(), 40);
        assert_eq!(expires(&ring, 7, 59), None);
        assert_eq!(expires(&ring, 7, 60), Some(61));
    }

    #[test]
    fn an_insert_of_a_held_key_replaces_its_entry() {
        let mut ring = ExpiryRing::new();
        ring.insert(1, 5u32, tw(10));
        ring.insert(1, 5u32, tw(20));
        assert_eq!(ring.len(), 1);
        assert_eq!(expires(&ring, 1, 5), Some(20));
        // The old record expires without taking the new entry along.
        ring.expire(Instant::from_secs(10));
        assert_eq!(expires(&ring, 1, 5), Some(20));
        ring.expire(Instant::from_secs(20));
        assert_eq!(ring.len(), 0);
    }

    #[test]
    fn a_restart_moves_the_entry_behind_later_ones() {
        let mut ring = ExpiryRing::new();
        ring.insert(1, 1u32, tw(10));
        ring.insert(2, 2u32, tw(11));
        ring.restart(1, &1, Instant::from_secs(30));
        // The moved record's old place reports its old time: waking then
        // finds nothing to do.
        assert_eq!(ring.next_expiry(), Some(Instant::from_secs(10)));
        ring.expire(Instant::from_secs(10));
        assert_eq!(expires(&ring, 1, 1), Some(30));
        assert_eq!(ring.next_expiry(), Some(Instant::from_secs(11)));
        ring.expire(Instant::from_secs(29));
        assert_eq!((ring.len(), expires(&ring, 2, 2)), (1, None));
        ring.expire(Instant::from_secs(30));
        assert_eq!((ring.len(), ring.next_expiry()), (0, None));
    }

    #[test]
    fn growth_and_shrinking_keep_every_entry_findable() {
        // Positions start just short of wrapping, and wrap on the way.
        let mut ring = ExpiryRing::starting_at(u32::MAX - 100);
        let hash = |k: u32| u64::from(k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for k in 0..5000u32 {
            ring.insert(hash(k), k, tw(u64::from(k)));
        }
        for k in (0..5000u32).step_by(3) {
            assert!(ring.remove(hash(k), &k).is_some());
        }
        ring.expire(Instant::from_secs(4000));
        ring.shrink_to_fit();
        for k in 0..5000u32 {
            let held = k > 4000 && k % 3 != 0;
            assert_eq!(ring.get(hash(k), &k).is_some(), held, "key {k}");
        }
        ring.expire(Instant::from_secs(5000));
        assert_eq!(ring.len(), 0);
        assert_eq!(ring.head, (u32::MAX - 100).wrapping_add(5000));
    }

    /// A tiny deterministic PRNG (xorshift64).
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// The ring as the simplest code says it: records in a list, and
    /// for each key the serial number of the record that is its entry.
    #[derive(Default)]
    struct Model {
        /// (key, serial, entry), in order of expiry.
        records: VecDeque<(u32, u64, TimeWait)>,
        entries: alloc::collections::BTreeMap<u32, u64>,
        serial: u64,
    }

    impl Model {
        fn get(&self, key: u32) -> Option<TimeWait> {
            let serial = *self.entries.get(&key)?;
            self.records.iter().find(|r| r.1 == serial).map(|r| r.2)
        }

        fn push(&mut self, key: u32, tw: TimeWait) {
            self.serial += 1;
            self.records.push_back((key, self.serial, tw));
            self.entries.insert(key, self.serial);
        }

        fn expire(&mut self, now: Instant) {
            while let Some(&(key, serial, tw)) = self.records.front() {
                if { tw.expires } > now {
                    break;
                }
                if self.entries.get(&key) == Some(&serial) {
                    self.entries.remove(&key);
                }
                self.records.pop_front();
            }
        }
    }

    /// Random inserts, removals, restarts, lookups, expiries and shrinks
    /// against [`Model`], over few keys (so the index stays small and
    /// grows and shrinks often), many of which share a tag or a whole
    /// hash, with positions that wrap past u32::MAX.
    #[test]
    fn random_operations_match_a_model() {
        let keys = 200u32;
        let hash = |k: u32| -> u64 {
            match k % 4 {
                // A quarter of the keys share 8 tags (0 to 7).
                0 => u64::from(k / 4 % 8) << 32 | u64::from(k),
                // The same hash for every key of a group of 5.
                1 => u64::from(k / 20).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                _ => u64::from(k).wrapping_mul(0xd6e8_feb8_6659_fd93),
            }
        };
        // The wait every entry gets, in ticks: with inserts at one in
        // three operations and a tick at one in eight, some dozens of
        // entries at a time.
        let wait = 20;
        for seed in 1..=20u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
            let start = u32::MAX - rng.below(1000) as u32;
            let mut ring = ExpiryRing::starting_at(start);
            let mut model = Model::default();
            let mut now = 0u64;
            let at = |t: u64| Instant::from_millis(t);
            let mut wrapped = false;
            let mut most = 0;
            for step in 0..6000 {
                let key = rng.below(u64::from(keys)) as u32;
                let h = hash(key);
                match rng.below(100) {
                    0..=29 => {
                        let tw = TimeWait::new(&TimeWaitInfo {
                            snd_nxt: SeqNum(step),
                            rcv_nxt: SeqNum(seed as u32),
                            window: key as u16,
                            ts_recent: None,
                            ts_offset: 0,
                            expires: at(now + wait),
                        });
                        ring.insert(h, key, tw);
                        model.push(key, tw);
                    }
                    30..=39 => {
                        let want = model.get(key);
                        if want.is_some() {
                            model.entries.remove(&key);
                        }
                        assert_eq!(ring.remove(h, &key), want, "seed {seed} step {step}");
                    }
                    40..=49 => {
                        ring.restart(h, &key, at(now + wait));
                        if let Some(mut tw) = model.get(key) {
                            tw.expires = at(now + wait);
                            model.push(key, tw);
                        }
                    }
                    50..=84 => {
                        assert_eq!(
                            ring.get(h, &key).copied(),
                            model.get(key),
                            "seed {seed} step {step}"
                        );
                    }
                    85..=98 => {
                        now += rng.below(3);
                        ring.expire(at(now));
                        model.expire(at(now));
                    }
                    _ => ring.shrink_to_fit(),
                }
                assert_eq!(ring.len(), model.entries.len(), "seed {seed} step {step}");
                assert_eq!(
                    ring.next_expiry(),
                    model.records.front().map(|r| r.2.expires)
                );
                wrapped |= ring.head < start;
                most = most.max(ring.len());
                if step % 500 == 0 {
                    for k in 0..keys {
                        assert_eq!(ring.get(hash(k), &k).copied(), model.get(k));
                    }
                }
            }
            assert!(wrapped, "positions wrapped");
            // Enough entries for the index to grow, and shrink again.
            assert!(most > 20, "{most} entries at most");
            now += wait;
            ring.expire(at(now));
            assert_eq!(ring.len(), 0);
        }
    }
}
