//! The out-of-order sequence ranges a receiver holds beyond RCV.NXT.
//!
//! An [`Assembler`] only tracks *which* sequence numbers arrived; the bytes
//! themselves sit in the receive [`RingBuffer`](crate::ring::RingBuffer)
//! (placed with `write_at`). Ranges are half-open `[start, end)`, kept
//! sorted and coalesced, so memory is proportional to the number of holes,
//! bounded by `max_ranges`. The same ranges feed SACK blocks (RFC 2018).
//!
//! Ordering uses modular sequence comparison (RFC 9293 §3.4). It is
//! consistent as long as all ranges and the `rcv_nxt` given lie within less
//! than 2^31 of each other, which the receive window guarantees; on any
//! other input the assembler stays memory-safe and panic-free, merely
//! imprecise.

use alloc::vec::Vec;
use core::fmt;
use wire::SeqNum;

/// The default bound on the number of separate ranges.
pub const DEFAULT_MAX_RANGES: usize = 64;

/// An insert would need more separate ranges than the assembler allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRanges;

impl fmt::Display for TooManyRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("too many out-of-order ranges")
    }
}

impl core::error::Error for TooManyRanges {}

/// A sorted set of disjoint, non-adjacent sequence ranges. See the
/// [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembler {
    /// Sorted, disjoint and non-adjacent: `ranges[i].1 < ranges[i + 1].0`.
    ranges: Vec<(SeqNum, SeqNum)>,
    max_ranges: usize,
}

impl Default for Assembler {
    /// An empty assembler holding at most [`DEFAULT_MAX_RANGES`] ranges.
    fn default() -> Assembler {
        Assembler::new(DEFAULT_MAX_RANGES)
    }
}

impl Assembler {
    /// An empty assembler that holds at most `max_ranges` separate ranges.
    /// Allocates nothing.
    pub const fn new(max_ranges: usize) -> Assembler {
        Assembler {
            ranges: Vec::new(),
            max_ranges,
        }
    }

    /// The most separate ranges this assembler holds.
    pub fn max_ranges(&self) -> usize {
        self.max_ranges
    }

    /// Record that `[start, end)` arrived. Overlapping and adjacent ranges
    /// coalesce. An empty range (`end` not after `start`) is a no-op.
    ///
    /// Fails, changing nothing, if the result would need more than
    /// `max_ranges` separate ranges.
    pub fn insert(&mut self, start: SeqNum, end: SeqNum) -> Result<(), TooManyRanges> {
        if end.diff(start) <= 0 {
            return Ok(());
        }
        // The first range that ends at or after `start` (overlaps or touches
        // the new range on its left) ...
        let i = self.ranges.partition_point(|&(_, e)| e.diff(start) < 0);
        // ... and the first one after it that starts beyond `end`. The new
        // range merges with `ranges[i..j]`.
        let j = i + self.ranges[i..].partition_point(|&(s, _)| s.diff(end) <= 0);
        if i == j {
            if self.ranges.len() >= self.max_ranges {
                return Err(TooManyRanges);
            }
            self.ranges.insert(i, (start, end));
        } else {
            let merged = (start.min(self.ranges[i].0), end.max(self.ranges[j - 1].1));
            self.ranges[i] = merged;
            self.ranges.drain(i + 1..j);
        }
        Ok(())
    }

    /// Take the range that continues the in-order data: ranges entirely
    /// before `rcv_nxt` are discarded; if the first remaining range starts at
    /// or before `rcv_nxt`, it is removed and its end (the new RCV.NXT) is
    /// returned.
    pub fn pop_front(&mut self, rcv_nxt: SeqNum) -> Option<SeqNum> {
        let mut drop = 0;
        let mut next = None;
        for &(s, e) in &self.ranges {
            if e.diff(rcv_nxt) <= 0 {
                drop += 1;
                continue;
            }
            if s.diff(rcv_nxt) <= 0 {
                drop += 1;
                next = Some(e);
            }
            break;
        }
        self.ranges.drain(..drop);
        next
    }

    /// Whether `seq` lies in one of the ranges.
    pub fn contains(&self, seq: SeqNum) -> bool {
        self.range_containing(seq).is_some()
    }

    /// The range that holds `seq`, if any (for example the SACK block that
    /// reports the segment just received, RFC 2018 §4).
    pub fn range_containing(&self, seq: SeqNum) -> Option<(SeqNum, SeqNum)> {
        let i = self.ranges.partition_point(|&(_, e)| e.diff(seq) <= 0);
        let &(s, e) = self.ranges.get(i)?;
        seq.in_range(s, e).then_some((s, e))
    }

    /// The first hole at or after `rcv_nxt` that has data beyond it:
    /// `[from, to)` where `to` is the start of the next range held. `None`
    /// when nothing is held beyond `rcv_nxt`.
    pub fn first_hole_after(&self, rcv_nxt: SeqNum) -> Option<(SeqNum, SeqNum)> {
        let mut cursor = rcv_nxt;
        for &(s, e) in &self.ranges {
            if e.diff(cursor) <= 0 {
                continue;
            }
            if s.diff(cursor) > 0 {
                return Some((cursor, s));
            }
            cursor = e;
        }
        None
    }

    /// The end of the last range: the highest sequence number held, plus
    /// one.
    pub fn last_end(&self) -> Option<SeqNum> {
        self.ranges.last().map(|&(_, e)| e)
    }

    /// Whether no range is held.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The number of separate ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// The ranges `(start, end)`, in sequence order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (SeqNum, SeqNum)> + ExactSizeIterator + '_ {
        self.ranges.iter().copied()
    }

    /// The ranges `(start, end)` as a slice, in sequence order.
    pub fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        &self.ranges
    }

    /// The total number of sequence numbers held.
    pub fn bytes(&self) -> usize {
        self.ranges.iter().fold(0usize, |sum, &(s, e)| {
            sum.saturating_add(e.since(s) as usize)
        })
    }

    /// Forget every range. The storage is kept for reuse;
    /// [`release`](Assembler::release) frees it.
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// Free the storage if no range is held (an idle connection holds no
    /// heap memory).
    pub fn release(&mut self) {
        if self.ranges.is_empty() {
            self.ranges = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }

    fn ranges(a: &Assembler) -> Vec<(u32, u32)> {
        a.iter().map(|(s, e)| (s.0, e.0)).collect()
    }

    #[test]
    fn empty() {
        let mut a = Assembler::default();
        assert!(a.is_empty());
        assert_eq!(a.len(), 0);
        assert_eq!(a.bytes(), 0);
        assert_eq!(a.max_ranges(), DEFAULT_MAX_RANGES);
        assert_eq!(a.pop_front(s(0)), None);
        assert!(!a.contains(s(0)));
        assert_eq!(a.first_hole_after(s(0)), None);
        assert_eq!(a.last_end(), None);
        assert_eq!(a.insert(s(10), s(10)), Ok(()));
        assert_eq!(a.insert(s(10), s(5)), Ok(()), "backwards is empty");
        assert!(a.is_empty());
    }

    #[test]
    fn inserts_merge_and_stay_sorted() {
        let mut a = Assembler::new(8);
        a.insert(s(30), s(40)).unwrap();
        a.insert(s(10), s(20)).unwrap();
        a.insert(s(50), s(60)).unwrap();
        assert_eq!(ranges(&a), vec![(10, 20), (30, 40), (50, 60)]);
        // Adjacent on both sides: bridges two ranges.
        a.insert(s(20), s(30)).unwrap();
        assert_eq!(ranges(&a), vec![(10, 40), (50, 60)]);
        // Overlapping several, extending both ends.
        a.insert(s(5), s(55)).unwrap();
        assert_eq!(ranges(&a), vec![(5, 60)]);
        // Inside an existing range.
        a.insert(s(7), s(9)).unwrap();
        assert_eq!(ranges(&a), vec![(5, 60)]);
        // Adjacent at the end.
        a.insert(s(60), s(61)).unwrap();
        assert_eq!(ranges(&a), vec![(5, 61)]);
        assert_eq!(a.bytes(), 56);
        assert_eq!(a.last_end(), Some(s(61)));
    }

    #[test]
    fn too_many_ranges_changes_nothing() {
        let mut a = Assembler::new(2);
        a.insert(s(10), s(20)).unwrap();
        a.insert(s(30), s(40)).unwrap();
        assert_eq!(a.insert(s(50), s(60)), Err(TooManyRanges));
        assert_eq!(a.insert(s(0), s(5)), Err(TooManyRanges));
        assert_eq!(a.insert(s(22), s(25)), Err(TooManyRanges));
        assert_eq!(ranges(&a), vec![(10, 20), (30, 40)]);
        // Merging inserts still succeed at the limit.
        a.insert(s(15), s(35)).unwrap();
        assert_eq!(ranges(&a), vec![(10, 40)]);
        a.insert(s(40), s(45)).unwrap();
        a.insert(s(5), s(10)).unwrap();
        assert_eq!(ranges(&a), vec![(5, 45)]);
        assert_eq!(
            std::format!("{TooManyRanges}"),
            "too many out-of-order ranges"
        );
        let mut none = Assembler::new(0);
        assert_eq!(none.insert(s(1), s(2)), Err(TooManyRanges));
        assert_eq!(none.insert(s(1), s(1)), Ok(()));
    }

    #[test]
    fn pop_front() {
        let mut a = Assembler::new(8);
        a.insert(s(10), s(20)).unwrap();
        a.insert(s(30), s(40)).unwrap();
        a.insert(s(50), s(60)).unwrap();
        // A hole before the first range: nothing to take.
        assert_eq!(a.pop_front(s(5)), None);
        assert_eq!(a.len(), 3);
        // Exactly at the start.
        assert_eq!(a.pop_front(s(10)), Some(s(20)));
        // Inside the range (data partly duplicated in order).
        assert_eq!(a.pop_front(s(35)), Some(s(40)));
        // Ranges entirely below rcv_nxt are discarded.
        a.insert(s(70), s(80)).unwrap();
        assert_eq!(a.pop_front(s(65)), None);
        assert_eq!(ranges(&a), vec![(70, 80)]);
        // A range ending exactly at rcv_nxt is discarded too.
        assert_eq!(a.pop_front(s(80)), None);
        assert!(a.is_empty());
    }

    #[test]
    fn contains_and_holes() {
        let mut a = Assembler::new(8);
        a.insert(s(10), s(20)).unwrap();
        a.insert(s(30), s(40)).unwrap();
        assert!(!a.contains(s(9)));
        assert!(a.contains(s(10)));
        assert!(a.contains(s(19)));
        assert!(!a.contains(s(20)));
        assert!(a.contains(s(39)));
        assert!(!a.contains(s(40)));
        assert_eq!(a.range_containing(s(15)), Some((s(10), s(20))));
        assert_eq!(a.range_containing(s(25)), None);
        assert_eq!(a.first_hole_after(s(0)), Some((s(0), s(10))));
        assert_eq!(a.first_hole_after(s(10)), Some((s(20), s(30))));
        assert_eq!(a.first_hole_after(s(15)), Some((s(20), s(30))));
        assert_eq!(a.first_hole_after(s(25)), Some((s(25), s(30))));
        assert_eq!(a.first_hole_after(s(30)), None);
        assert_eq!(a.first_hole_after(s(50)), None);
    }

    #[test]
    fn wraps_around_zero() {
        let mut a = Assembler::new(8);
        let base = s(u32::MAX - 15);
        a.insert(base + 20, base + 30).unwrap(); // 4..14
        a.insert(base, base + 10).unwrap(); // straddles 0
        assert_eq!(ranges(&a), vec![(u32::MAX - 15, u32::MAX - 5), (4, 14)]);
        a.insert(base + 5, base + 22).unwrap();
        assert_eq!(ranges(&a), vec![(u32::MAX - 15, 14)]);
        assert_eq!(a.bytes(), 30);
        assert!(a.contains(s(0)));
        assert!(a.contains(s(u32::MAX)));
        assert_eq!(a.pop_front(base), Some(s(14)));
    }

    #[test]
    fn release_and_clear() {
        let mut a = Assembler::new(8);
        a.insert(s(1), s(2)).unwrap();
        a.release();
        assert_eq!(a.len(), 1, "release keeps ranges");
        a.clear();
        assert!(a.is_empty());
        a.release();
        assert_eq!(a, Assembler::new(8));
    }

    #[test]
    fn absurd_input_does_not_panic() {
        let mut a = Assembler::new(4);
        for &(x, y) in &[
            (0, 1u32 << 31),
            (5, u32::MAX),
            (u32::MAX, 3),
            (1 << 30, (1 << 31) + 7),
            (7, 6),
            (3_000_000_000, 100),
        ] {
            let _ = a.insert(s(x), s(y));
            let _ = a.contains(s(y));
            let _ = a.first_hole_after(s(x));
            let _ = a.bytes();
        }
        let _ = a.pop_front(s(12345));
    }

    /// One operation of the model test; offsets are relative to a base.
    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, u32),
        Pop(u32),
    }

    const WINDOW: usize = 256;

    /// Maximal runs of set bits, as half-open offset ranges.
    fn runs(bits: &[bool]) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < bits.len() {
            if bits[i] {
                let start = i;
                while i < bits.len() && bits[i] {
                    i += 1;
                }
                out.push((start as u32, i as u32));
            } else {
                i += 1;
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn matches_a_bitmap_model(
            base in prop_oneof![any::<u32>(), (u32::MAX - 300)..=u32::MAX],
            max_ranges in 0usize..8,
            ops in proptest::collection::vec(
                prop_oneof![
                    4 => (0u32..220, 0u32..36).prop_map(|(o, l)| Op::Insert(o, l)),
                    1 => (0u32..256).prop_map(Op::Pop),
                ],
                1..80,
            ),
        ) {
            let b = SeqNum(base);
            let mut a = Assembler::new(max_ranges);
            let mut bits = vec![false; WINDOW];
            for op in ops {
                match op {
                    Op::Insert(o, l) => {
                        let mut next = bits.clone();
                        for bit in &mut next[o as usize..(o + l) as usize] {
                            *bit = true;
                        }
                        let res = a.insert(b + o, b + o + l);
                        if runs(&next).len() > max_ranges {
                            prop_assert_eq!(res, Err(TooManyRanges));
                        } else {
                            prop_assert_eq!(res, Ok(()));
                            bits = next;
                        }
                    }
                    Op::Pop(r) => {
                        let mut expect = None;
                        for (s, e) in runs(&bits) {
                            if e <= r {
                                bits[s as usize..e as usize].fill(false);
                                continue;
                            }
                            if s <= r {
                                bits[s as usize..e as usize].fill(false);
                                expect = Some(b + e);
                            }
                            break;
                        }
                        prop_assert_eq!(a.pop_front(b + r), expect);
                    }
                }
                let model = runs(&bits);
                let got: Vec<(u32, u32)> =
                    a.iter().map(|(s, e)| (s.0.wrapping_sub(base), e.0.wrapping_sub(base))).collect();
                prop_assert_eq!(&got, &model);
                prop_assert_eq!(a.len(), model.len());
                prop_assert!(a.len() <= max_ranges);
                prop_assert_eq!(a.bytes(), bits.iter().filter(|&&x| x).count());
                for (i, &bit) in bits.iter().enumerate() {
                    prop_assert_eq!(a.contains(b + i as u32), bit);
                }
                // The first hole after a point: compare with the bitmap.
                for from in [0u32, 17, 100] {
                    let hole = a.first_hole_after(b + from).map(|(x, y)| (x - b, y - b));
                    let f = from as usize;
                    let expect = bits[f..].iter().position(|&x| !x).and_then(|h| {
                        let h = f + h;
                        bits[h..].iter().position(|&x| x).map(|k| (h as i32, (h + k) as i32))
                    });
                    prop_assert_eq!(hole, expect);
                }
            }
        }
    }
}
