//! Deadlines of all connections in an indexed binary heap: at most one
//! entry per connection, found through its slab index, so that a new
//! deadline moves the entry instead of adding one and a freed connection
//! takes its entry along. `next` is O(1), everything else O(log n) in the
//! connections that have a deadline, and nothing ever scans them.
//!
//! (A lazy heap, which left an entry behind at every re-arm and at every
//! free for a later pop or sweep to discard, spent most of its time on
//! those: a short connection armed and abandoned about five each.)

use alloc::vec::Vec;

use wire::Instant;

use super::ConnHandle;

/// `pos` of a slab index with no entry.
const NONE: u32 = u32::MAX;

/// An entry packed into one integer whose order is that of
/// (deadline, handle): microseconds, then slab index, then generation.
/// Sifting compares entries at every level, and one integer comparison is
/// a fraction of the branches of comparing the tuple field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key(u128);

impl Key {
    fn new(at: Instant, h: ConnHandle) -> Key {
        Key(u128::from(at.micros()) << 64 | u128::from(h.index) << 32 | u128::from(h.generation))
    }

    fn at(self) -> Instant {
        Instant::from_micros((self.0 >> 64) as u64)
    }

    fn index(self) -> u32 {
        (self.0 >> 32) as u32
    }

    fn handle(self) -> ConnHandle {
        ConnHandle {
            index: self.index(),
            generation: self.0 as u32,
        }
    }
}

/// A heap of (deadline, connection), earliest first; ties go to the
/// smaller handle.
#[derive(Debug)]
pub(crate) struct TimerHeap {
    heap: Vec<Key>,
    /// Where each slab index's entry is in `heap`, or [`NONE`].
    pos: Vec<u32>,
}

impl TimerHeap {
    pub fn new() -> Self {
        TimerHeap {
            heap: Vec::new(),
            pos: Vec::new(),
        }
    }

    /// The connection's deadline in the heap, if it has one.
    #[cfg(test)]
    pub fn scheduled(&self, h: ConnHandle) -> Option<Instant> {
        self.position(h).map(|p| self.heap[p].at())
    }

    /// Sets `h`'s deadline to `at`, replacing the one it had.
    pub fn schedule(&mut self, at: Instant, h: ConnHandle) {
        let i = h.index as usize;
        if i >= self.pos.len() {
            self.pos.resize(i + 1, NONE);
        }
        let key = Key::new(at, h);
        match self.pos[i] {
            NONE => {
                let p = self.heap.len();
                self.heap.push(key);
                self.sift_up(p, key);
            }
            p => {
                let p = p as usize;
                // A freed connection cancels its entry, so the entry of
                // this slab index is this handle's.
                debug_assert_eq!(self.heap[p].handle(), h);
                if key < self.heap[p] {
                    self.sift_up(p, key);
                } else {
                    self.sift_down(p, key);
                }
            }
        }
    }

    /// Removes `h`'s entry, if it has one.
    pub fn cancel(&mut self, h: ConnHandle) {
        if let Some(p) = self.position(h) {
            self.remove_at(p);
        }
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.first().map(|k| k.at())
    }

    /// Removes and returns the earliest entry if it is due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, ConnHandle)> {
        match self.heap.first() {
            Some(k) if k.at() <= now => {
                let k = self.remove_at(0);
                Some((k.at(), k.handle()))
            }
            _ => None,
        }
    }

    /// Frees the capacity that bursts of connections left behind.
    pub fn shrink_to_fit(&mut self) {
        let used = self
            .pos
            .iter()
            .rposition(|&p| p != NONE)
            .map_or(0, |i| i + 1);
        self.pos.truncate(used);
        self.pos.shrink_to_fit();
        self.heap.shrink_to_fit();
    }

    fn position(&self, h: ConnHandle) -> Option<usize> {
        match self.pos.get(h.index as usize) {
            Some(&p) if p != NONE && self.heap[p as usize].handle() == h => Some(p as usize),
            _ => None,
        }
    }

    fn remove_at(&mut self, p: usize) -> Key {
        let Some(last) = self.heap.pop() else {
            unreachable!("remove_at is called with an entry's position");
        };
        let entry = if p < self.heap.len() {
            // The last entry fills the hole; it may belong either side.
            let entry = self.heap[p];
            if last < entry {
                self.sift_up(p, last);
            } else {
                self.sift_down(p, last);
            }
            entry
        } else {
            last
        };
        self.pos[entry.index() as usize] = NONE;
        entry
    }

    /// Puts `entry` into the hole at `p` and moves it towards the root
    /// while it is earlier than its parent: parents move down into the
    /// hole, and the entry is written once, where it stops.
    fn sift_up(&mut self, mut p: usize, entry: Key) {
        while p > 0 {
            let parent = (p - 1) / 2;
            let above = self.heap[parent];
            if entry >= above {
                break;
            }
            self.put(p, above);
            p = parent;
        }
        self.put(p, entry);
    }

    /// Puts `entry` into the hole at `p` and moves it away from the root
    /// while a child is earlier, the same way.
    fn sift_down(&mut self, mut p: usize, entry: Key) {
        let len = self.heap.len();
        loop {
            let left = 2 * p + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.heap[right] < self.heap[left] {
                right
            } else {
                left
            };
            let below = self.heap[child];
            if entry <= below {
                break;
            }
            self.put(p, below);
            p = child;
        }
        self.put(p, entry);
    }

    /// Stores `entry` at `p` and notes where it is.
    fn put(&mut self, p: usize, entry: Key) {
        self.heap[p] = entry;
        self.pos[entry.index() as usize] = p as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    fn h(index: u32, generation: u32) -> ConnHandle {
        ConnHandle { index, generation }
    }

    #[test]
    fn entries_come_out_in_order_of_time_then_handle() {
        let mut t = TimerHeap::new();
        let at = Instant::from_millis;
        t.schedule(at(30), h(0, 0));
        t.schedule(at(10), h(5, 1));
        t.schedule(at(10), h(2, 7));
        t.schedule(at(20), h(1, 0));
        assert_eq!(t.next(), Some(at(10)));
        assert_eq!(t.pop_due(at(9)), None, "nothing before its time");
        assert_eq!(t.pop_due(at(10)), Some((at(10), h(2, 7))));
        assert_eq!(t.pop_due(at(10)), Some((at(10), h(5, 1))));
        assert_eq!(t.pop_due(at(10)), None);
        assert_eq!(t.pop_due(at(99)), Some((at(20), h(1, 0))));
        assert_eq!(t.pop_due(at(99)), Some((at(30), h(0, 0))));
        assert_eq!(t.next(), None);
    }

    #[test]
    fn a_new_deadline_replaces_the_old_and_cancel_removes_it() {
        let mut t = TimerHeap::new();
        let at = Instant::from_millis;
        t.schedule(at(50), h(3, 0));
        t.schedule(at(40), h(4, 0));
        t.schedule(at(10), h(3, 0));
        assert_eq!(t.scheduled(h(3, 0)), Some(at(10)), "moved earlier");
        t.schedule(at(60), h(3, 0));
        assert_eq!(t.next(), Some(at(40)), "moved later: no trace left");
        t.cancel(h(4, 1));
        assert_eq!(
            t.scheduled(h(4, 0)),
            Some(at(40)),
            "a stale handle cancels nothing"
        );
        t.cancel(h(4, 0));
        assert_eq!(t.scheduled(h(4, 0)), None);
        assert_eq!(t.pop_due(at(99)), Some((at(60), h(3, 0))));
        assert_eq!(t.pop_due(at(99)), None);
        // The slot is free for the next generation.
        t.schedule(at(5), h(4, 1));
        assert_eq!(t.pop_due(at(5)), Some((at(5), h(4, 1))));
        t.shrink_to_fit();
        assert!(t.pos.is_empty() && t.heap.is_empty());
    }

    #[test]
    fn matches_a_model_under_random_operations() {
        // The model: the one deadline of each slab index, popped in
        // (time, handle) order.
        let mut t = TimerHeap::new();
        let mut model: BTreeMap<u32, (Instant, ConnHandle)> = BTreeMap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut now = 0u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let index = (x % 64) as u32;
            let generation = ((x >> 8) % 2) as u32;
            let handle = h(index, generation);
            match (x >> 16) % 4 {
                0 | 1 => {
                    // Only the live generation of an index schedules.
                    let handle = model.get(&index).map_or(handle, |e| e.1);
                    let at = Instant::from_micros(now + 1 + (x >> 20) % 1000);
                    t.schedule(at, handle);
                    model.insert(index, (at, handle));
                }
                2 => {
                    t.cancel(handle);
                    if model.get(&index).is_some_and(|e| e.1 == handle) {
                        model.remove(&index);
                    }
                }
                _ => {
                    now += (x >> 24) % 300;
                    let due = Instant::from_micros(now);
                    while let Some((at, got)) = t.pop_due(due) {
                        let want = *model.values().min().unwrap();
                        assert_eq!((at, got), want);
                        model.remove(&got.index);
                    }
                    assert!(model.values().all(|e| e.0 > due));
                }
            }
            assert_eq!(t.next(), model.values().min().map(|e| e.0));
        }
    }
}
