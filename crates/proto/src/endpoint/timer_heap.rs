//! Deadlines of all connections in a binary heap with lazy deletion:
//! `next` is O(1) after cleanup, scheduling is O(log n), and nothing ever
//! scans the connections.

use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

use wire::Instant;

/// A heap of (deadline, key); an entry counts only while the key's
/// current deadline (kept by the caller) equals it.
#[derive(Debug)]
pub(crate) struct TimerHeap<K: Ord> {
    heap: BinaryHeap<Reverse<(Instant, K)>>,
}

impl<K: Ord + Copy> TimerHeap<K> {
    pub fn new() -> Self {
        TimerHeap {
            heap: BinaryHeap::new(),
        }
    }

    pub fn push(&mut self, at: Instant, key: K) {
        self.heap.push(Reverse((at, key)));
    }

    /// The earliest entry still valid per `valid`, discarding stale ones.
    pub fn peek_valid(&mut self, mut valid: impl FnMut(Instant, K) -> bool) -> Option<Instant> {
        while let Some(Reverse((at, key))) = self.heap.peek().copied() {
            if valid(at, key) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    /// Pops the earliest entry if it is due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, K)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Keeps only valid entries and frees the rest of the capacity.
    pub fn retain(&mut self, mut valid: impl FnMut(Instant, K) -> bool) {
        self.heap.retain(|Reverse((at, k))| valid(*at, *k));
        self.heap.shrink_to_fit();
    }

    /// Drops stale entries when they outnumber the live ones, so a
    /// connection re-arming its timer often cannot grow the heap.
    pub fn compact(&mut self, live: usize, mut valid: impl FnMut(Instant, K) -> bool) {
        if self.heap.len() > 64 && self.heap.len() > 4 * live {
            self.heap.retain(|Reverse((at, k))| valid(*at, *k));
        }
    }
}
