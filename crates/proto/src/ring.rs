//! A byte ring buffer that allocates lazily, grows only as data needs it
//! and can give its memory back.
//!
//! Send and receive buffers of a connection are [`RingBuffer`]s. A ring holds
//! no heap memory until the first byte arrives, grows by doubling (starting
//! at [`MIN_ALLOC`] bytes, or more if the first write needs more) up to its
//! `limit`, and [`RingBuffer::release`] frees the storage once the ring is
//! empty, so an idle connection costs no buffer memory (DESIGN.md: "an idle
//! connection is small").
//!
//! Besides plain FIFO use (`write` at the back, `read`/`peek`/`consume` at
//! the front) the ring supports out-of-order reassembly:
//! [`RingBuffer::write_at`] places bytes *past* the end of the contents
//! without making them readable, and [`RingBuffer::commit`] later extends the
//! contents over them once the hole before them is filled. Bytes placed this
//! way survive growth, reads and `consume` of the contents in front of them.
//!
//! A receiver that must read data once to judge it (its checksum covers it)
//! can copy it in that same pass: [`RingBuffer::stage_summed`] copies bytes
//! just past the contents and sums them, invisible to readers, and
//! [`RingBuffer::commit_staged`] makes them contents once they are judged
//! good. Bytes staged and never committed are garbage past the end, as if
//! never written.
//!
//! Where connections come and go by the thousand, each ring's first
//! allocation and final free cost more than the bytes it carries. An owner
//! can pass [`MIN_ALLOC`] storage from rings that are done with it
//! ([`RingBuffer::retire`], [`RingBuffer::take_lent`]) to rings that have
//! none ([`RingBuffer::lend`]). Lent storage is invisible: the ring reports
//! nothing allocated and behaves exactly as a fresh one until its first
//! write grows into it.

use alloc::vec::Vec;
use core::fmt;

use wire::checksum::Checksum;

/// The smallest storage a ring allocates (unless its limit is smaller).
/// Small: a request–response connection moves a few hundred bytes each
/// way, and every byte of new storage is zeroed (the ring is safe code
/// over a `Vec<u8>`); a bulk transfer doubles past it in a few steps.
pub const MIN_ALLOC: usize = 256;

/// A growable byte ring with a byte limit. See the [module docs](self).
///
/// Logical positions count from the front of the contents: position 0 is
/// the next byte [`read`](RingBuffer::read) returns, positions
/// `0..len()` are the contents, and positions from `len()` up to `limit()`
/// may hold bytes placed by [`write_at`](RingBuffer::write_at).
#[derive(Clone, Default)]
pub struct RingBuffer {
    /// The storage; its length is the capacity in use (0: nothing allocated).
    buf: Vec<u8>,
    /// Physical index of logical position 0 (`< buf.len()`, or 0).
    head: usize,
    /// Bytes of contents.
    len: usize,
    /// Logical end of the bytes that matter: `len` plus whatever
    /// `write_at` placed beyond it. `len <= extent <= buf.len()`.
    extent: usize,
    /// The most bytes the contents may hold; `len <= limit`.
    limit: usize,
}

/// The storage of a ring that no longer needs it: [`MIN_ALLOC`] bytes
/// allocated, none in use, ready to be lent to another ring
/// ([`RingBuffer::lend`]).
#[derive(Debug)]
pub struct RingStorage(Vec<u8>);

/// Bytes copied past the contents by [`RingBuffer::stage_summed`], not
/// yet contents. [`RingBuffer::commit_staged`] makes them contents;
/// dropping this forgets them.
#[must_use = "staged bytes are not contents until committed"]
#[derive(Debug)]
pub struct Staged {
    len: usize,
    /// Where they went: the physical index of the first byte, and the
    /// storage's size then (to tell that they are still past the end).
    at: usize,
    storage: usize,
}

impl Staged {
    /// How many bytes were staged.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes were staged.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl RingBuffer {
    /// An empty ring that may hold up to `limit` bytes. Allocates nothing.
    pub const fn new(limit: usize) -> RingBuffer {
        RingBuffer {
            buf: Vec::new(),
            head: 0,
            len: 0,
            extent: 0,
            limit,
        }
    }

    /// The most bytes the ring may hold.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Change the limit. It never drops below the current contents (the
    /// limit becomes `max(limit, len())`); bytes placed by `write_at` beyond
    /// the new limit are forgotten. Storage already allocated is kept.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(self.len);
        self.extent = self.extent.min(self.limit).max(self.len);
    }

    /// Bytes of contents.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the ring has no contents (bytes placed by `write_at` beyond
    /// the contents do not count).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many more bytes the contents may grow by: `limit() - len()`.
    pub fn free(&self) -> usize {
        self.limit.saturating_sub(self.len)
    }

    /// Heap bytes the ring holds right now.
    pub fn allocated(&self) -> usize {
        self.buf.len()
    }

    /// Whether bytes placed by `write_at` lie beyond the contents (they keep
    /// [`release`](RingBuffer::release) from freeing the storage).
    pub fn has_pending(&self) -> bool {
        self.extent > self.len
    }

    /// Append as much of `data` as fits under the limit; return how many
    /// bytes were appended. This overwrites any bytes `write_at` placed at
    /// the same positions.
    ///
    /// Returns 0 also if the storage cannot be grown (allocation failure).
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        if n == 0 || !self.grow_to(self.len + n) {
            return 0;
        }
        self.copy_in(self.len, &data[..n]);
        self.len += n;
        self.extent = self.extent.max(self.len);
        n
    }

    /// Place `data` at logical position `len() + offset`, past the end of
    /// the contents, without changing `len()`; return how many bytes were
    /// placed (as much as fits below the limit). The bytes become contents
    /// with [`commit`](RingBuffer::commit). Bytes in the gap between the
    /// contents and `offset` are unspecified until written.
    ///
    /// Returns 0 also if the storage cannot be grown (allocation failure).
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        let Some(start) = self.len.checked_add(offset) else {
            return 0;
        };
        if start >= self.limit {
            return 0;
        }
        let n = data.len().min(self.limit - start);
        if n == 0 || !self.grow_to(start + n) {
            return 0;
        }
        self.copy_in(start, &data[..n]);
        self.extent = self.extent.max(start + n);
        n
    }

    /// Extend the contents by `n` bytes over bytes previously placed with
    /// [`write_at`](RingBuffer::write_at). `n` is clamped to
    /// [`free()`](RingBuffer::free). Committing bytes that were never
    /// placed makes them part of the contents with unspecified values.
    pub fn commit(&mut self, n: usize) {
        let mut n = n.min(self.free());
        if n == 0 {
            return;
        }
        if !self.grow_to(self.len + n) {
            // Allocation failed: commit only what the storage holds.
            n = n.min(self.buf.len() - self.len);
        }
        self.len += n;
        self.extent = self.extent.max(self.len);
    }

    /// Whether `n` bytes can be staged: they fit under the limit, in
    /// storage already allocated, and no bytes placed by `write_at` lie
    /// past the contents. (Staging never grows the storage, so that bytes
    /// judged bad leave the ring exactly as it was; and it writes where
    /// `write_at` bytes would sit, so it never runs when there are any.)
    pub fn can_stage(&self, n: usize) -> bool {
        n <= self.free() && self.len + n <= self.buf.len() && self.extent == self.len
    }

    /// Copies `data` into the storage just past the contents, adding it to
    /// `sum` as it goes (one pass: [`Checksum::add_copy`], in two pieces
    /// when the space wraps). The bytes are not contents, and nothing a
    /// reader or a later write can observe changes, until
    /// [`commit_staged`](RingBuffer::commit_staged).
    ///
    /// `None`, with nothing copied and `sum` unchanged, unless
    /// [`can_stage`](RingBuffer::can_stage) allows `data.len()` bytes.
    ///
    /// Inlined into the receive path, so that the [`Staged`] it returns
    /// stays in registers: returned through memory, it was written in
    /// pieces and read back whole (a store-forwarding stall per segment).
    #[inline(always)]
    pub fn stage_summed(&mut self, data: &[u8], sum: &mut Checksum) -> Option<Staged> {
        if !self.can_stage(data.len()) {
            return None;
        }
        let at = self.phys(self.len);
        let storage = self.buf.len();
        let (a, b) = self.slots(self.len, data.len());
        let (x, y) = data.split_at(a.len());
        sum.add_copy(x, a);
        if !y.is_empty() {
            sum.add_copy(y, b);
        }
        Some(Staged {
            len: data.len(),
            at,
            storage,
        })
    }

    /// Makes the bytes of `staged` contents; returns whether it did. They
    /// must be the last bytes staged, with no other change to the ring
    /// since. A change that moved the end of the contents or replaced the
    /// storage is caught (nothing is committed: false); bytes overwritten
    /// in place in between (`write_at` then `clear_pending`) are not.
    pub fn commit_staged(&mut self, staged: Staged) -> bool {
        let still_past_the_end = staged.storage == self.buf.len()
            && self.phys(self.len) == staged.at
            && self.can_stage(staged.len);
        if still_past_the_end {
            self.len += staged.len;
            self.extent = self.len;
        }
        still_past_the_end
    }

    /// Dequeue up to `out.len()` bytes from the front into `out`; return
    /// how many were dequeued.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        // An application polls more often than data arrives: an empty
        // ring answers without the (zero-length) copies.
        if self.len == 0 {
            return 0;
        }
        let n = self.read_at(0, out);
        self.consume(n);
        n
    }

    /// Copy the contents from logical position `offset` into `out` without
    /// dequeuing them; return how many bytes were copied.
    pub fn read_at(&self, offset: usize, out: &mut [u8]) -> usize {
        let (a, b) = self.peek(offset, out.len());
        out[..a.len()].copy_from_slice(a);
        if !b.is_empty() {
            // The range wraps around the end of the storage.
            out[a.len()..a.len() + b.len()].copy_from_slice(b);
        }
        a.len() + b.len()
    }

    /// The contents at logical positions `[offset, offset + len)`, clamped
    /// to the contents, as up to two slices (the second is non-empty only
    /// when the range crosses the end of the storage).
    pub fn peek(&self, offset: usize, len: usize) -> (&[u8], &[u8]) {
        let start = offset.min(self.len);
        let n = len.min(self.len - start);
        if n == 0 {
            return (&[], &[]);
        }
        let p = self.phys(start);
        let first = n.min(self.buf.len() - p);
        (&self.buf[p..p + first], &self.buf[..n - first])
    }

    /// Drop up to `n` bytes from the front of the contents.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        if n == 0 {
            return;
        }
        self.head = self.phys(n);
        self.len -= n;
        self.extent -= n;
        if self.extent == 0 {
            // Nothing left that matters: restart at the front so the next
            // writes are contiguous.
            self.head = 0;
        }
    }

    /// Free the storage if the ring is empty and holds no bytes placed by
    /// `write_at`. Cheap when there is nothing to free.
    pub fn release(&mut self) {
        if self.extent == 0 {
            self.buf = Vec::new();
            self.head = 0;
        }
    }

    /// Whether the ring would take lent storage: it has none (allocated
    /// or lent) and its limit lets it grow to [`MIN_ALLOC`].
    #[inline]
    pub fn wants_storage(&self) -> bool {
        self.buf.capacity() == 0 && self.limit >= MIN_ALLOC
    }

    /// Lends the ring `storage` to grow into, if it
    /// [`wants_storage`](RingBuffer::wants_storage) (else the storage is
    /// simply dropped). Nothing observable changes: the ring still holds
    /// nothing ([`allocated`](RingBuffer::allocated) is 0) until a write
    /// needs storage, which then comes from the loan instead of the
    /// allocator. [`take_lent`](RingBuffer::take_lent) takes back a loan
    /// that was not used.
    #[inline]
    pub fn lend(&mut self, storage: RingStorage) {
        if self.wants_storage() {
            self.buf = storage.0;
        }
    }

    /// Takes back storage the ring holds but does not use: a loan no write
    /// grew into, or what [`retire`](RingBuffer::retire) kept.
    #[inline]
    pub fn take_lent(&mut self) -> Option<RingStorage> {
        if self.buf.is_empty() && self.buf.capacity() == MIN_ALLOC {
            Some(RingStorage(core::mem::take(&mut self.buf)))
        } else {
            None
        }
    }

    /// Empties the ring for good (its connection ended) and frees its
    /// storage, except that storage of exactly [`MIN_ALLOC`] bytes is kept
    /// unused, for [`take_lent`](RingBuffer::take_lent) to pass on to
    /// another ring. Storage that grew larger is freed: a pool of small
    /// rings must not hold a bulk transfer's memory.
    pub fn retire(&mut self) {
        self.clear();
        if self.buf.capacity() == MIN_ALLOC {
            self.buf.clear();
        } else {
            self.buf = Vec::new();
        }
    }

    /// Forget the bytes placed by `write_at` beyond the contents (for
    /// example when the out-of-order data they belonged to is dropped).
    pub fn clear_pending(&mut self) {
        self.extent = self.len;
        if self.extent == 0 {
            self.head = 0;
        }
    }

    /// Empty the ring, including bytes placed by `write_at`. The storage is
    /// kept; [`release`](RingBuffer::release) frees it.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.extent = 0;
    }

    /// The physical index of logical position `logical <= buf.len()`.
    fn phys(&self, logical: usize) -> usize {
        let p = self.head + logical;
        if p >= self.buf.len() {
            p - self.buf.len()
        } else {
            p
        }
    }

    /// Copy `data` to logical position `at`; the storage must hold
    /// `at + data.len()` bytes.
    fn copy_in(&mut self, at: usize, data: &[u8]) {
        let (a, b) = self.slots(at, data.len());
        let (x, y) = data.split_at(a.len());
        a.copy_from_slice(x);
        b.copy_from_slice(y);
    }

    /// The storage of logical positions `[at, at + len)`, in order: up to
    /// the end of the storage, then from its start where it wraps (empty
    /// if it does not). The storage must hold `at + len` bytes. (Inlined:
    /// the two slices it returns through memory were read back before
    /// their stores landed, on the receive path of every segment; the hint
    /// alone left it a call.)
    #[inline(always)]
    fn slots(&mut self, at: usize, len: usize) -> (&mut [u8], &mut [u8]) {
        let p = self.phys(at);
        let first = len.min(self.buf.len() - p);
        let (front, back) = self.buf.split_at_mut(p);
        (&mut back[..first], &mut front[..len - first])
    }

    /// Make the storage hold at least `need <= limit` bytes, doubling from
    /// [`MIN_ALLOC`] and capping at the limit. The bytes that matter
    /// (logical `[0, extent)`) keep their logical positions; the new storage
    /// starts at physical 0. Returns false if the allocation failed, leaving
    /// the ring as it was.
    fn grow_to(&mut self, need: usize) -> bool {
        let cap = self.buf.len();
        if need <= cap {
            return true;
        }
        let mut new_cap = cap.max(MIN_ALLOC);
        while new_cap < need {
            new_cap = new_cap.saturating_mul(2);
        }
        let new_cap = new_cap.min(self.limit).max(need);
        if cap == 0 && new_cap <= self.buf.capacity() {
            // Storage lent to a ring without any (see `lend`): no bytes to
            // keep, no allocation.
            self.buf.resize(new_cap, 0);
            self.head = 0;
            return true;
        }
        let mut storage = Vec::new();
        if storage.try_reserve_exact(new_cap).is_err() {
            return false;
        }
        // Unwrap the old storage in logical order, then pad.
        let first = self.extent.min(cap - self.head.min(cap));
        storage.extend_from_slice(&self.buf[self.head..self.head + first]);
        storage.extend_from_slice(&self.buf[..self.extent - first]);
        storage.resize(new_cap, 0);
        self.buf = storage;
        self.head = 0;
        true
    }
}

impl fmt::Debug for RingBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingBuffer")
            .field("len", &self.len)
            .field("limit", &self.limit)
            .field("allocated", &self.buf.len())
            .field("pending", &(self.extent - self.len))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec;
    use std::vec::Vec;

    fn contents(r: &RingBuffer) -> Vec<u8> {
        let (a, b) = r.peek(0, usize::MAX);
        let mut v = a.to_vec();
        v.extend_from_slice(b);
        v
    }

    fn pattern(start: usize, n: usize) -> Vec<u8> {
        (start..start + n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn new_allocates_nothing() {
        let r = RingBuffer::new(1 << 20);
        assert_eq!(r.allocated(), 0);
        assert_eq!(r.len(), 0);
        assert!(r.is_empty());
        assert_eq!(r.free(), 1 << 20);
        assert_eq!(r.limit(), 1 << 20);
        assert_eq!(r.peek(0, 10), (&[][..], &[][..]));
        assert_eq!(RingBuffer::default().allocated(), 0);
    }

    #[test]
    fn grows_by_doubling_up_to_limit() {
        let mut r = RingBuffer::new(10_000);
        assert_eq!(r.write(&[1]), 1);
        assert_eq!(r.allocated(), MIN_ALLOC);
        assert_eq!(r.write(&pattern(0, 4095)), 4095);
        assert_eq!(r.allocated(), 4096);
        assert_eq!(r.write(&[2]), 1);
        assert_eq!(r.allocated(), 8192);
        assert_eq!(r.write(&pattern(0, 6000)), 10_000 - 4097);
        assert_eq!(r.allocated(), 10_000);
        assert_eq!(r.len(), 10_000);
        assert_eq!(r.free(), 0);
        assert_eq!(r.write(&[3]), 0);
    }

    #[test]
    fn first_allocation_fits_a_large_first_write() {
        let mut r = RingBuffer::new(1 << 20);
        assert_eq!(r.write(&pattern(0, 20_000)), 20_000);
        assert_eq!(r.allocated(), 32_768);
        assert_eq!(contents(&r), pattern(0, 20_000));
    }

    #[test]
    fn small_limit_allocates_only_the_limit() {
        let mut r = RingBuffer::new(100);
        assert_eq!(r.write(&pattern(0, 300)), 100);
        assert_eq!(r.allocated(), 100);
        let mut z = RingBuffer::new(0);
        assert_eq!(z.write(b"x"), 0);
        assert_eq!(z.write_at(0, b"x"), 0);
        z.commit(5);
        assert_eq!(z.len(), 0);
        assert_eq!(z.allocated(), 0);
    }

    #[test]
    fn wraps_around() {
        let mut r = RingBuffer::new(4096);
        assert_eq!(r.write(&pattern(0, 3000)), 3000);
        r.consume(2500);
        assert_eq!(r.write(&pattern(3000, 3000)), 3000);
        assert_eq!(r.allocated(), 4096, "no growth needed");
        let (a, b) = r.peek(0, usize::MAX);
        assert_eq!(a.len(), 4096 - 2500);
        assert_eq!(b.len(), 3500 - a.len());
        assert_eq!(contents(&r), pattern(2500, 3500));
        let mut out = vec![0; 5000];
        assert_eq!(r.read(&mut out), 3500);
        assert_eq!(&out[..3500], &pattern(2500, 3500)[..]);
        assert!(r.is_empty());
    }

    #[test]
    fn reading_an_empty_ring_copies_nothing() {
        let mut out = [9u8; 8];
        // Nothing allocated; then bytes placed past the (empty) contents,
        // which a read must not return; then emptied by a read.
        let mut r = RingBuffer::new(4096);
        assert_eq!(r.read(&mut out), 0);
        assert_eq!(r.write_at(4, b"late"), 4);
        assert_eq!(r.read(&mut out), 0);
        r.write(b"abcd");
        r.commit(4);
        assert_eq!(r.read(&mut out), 8);
        assert_eq!(&out, b"abcdlate");
        let mut out = [9u8; 8];
        assert_eq!(r.read(&mut out), 0);
        assert_eq!(out, [9; 8], "untouched");
        assert_eq!(r.read(&mut []), 0);
    }

    #[test]
    fn peek_across_the_wrap_with_offsets() {
        let mut r = RingBuffer::new(4096);
        r.write(&pattern(0, 4000));
        r.consume(3000);
        r.write(&pattern(4000, 2000)); // logical 0..3000 = pattern(3000..6000)
        let (a, b) = r.peek(1000, 200);
        assert_eq!(a.len(), 96);
        assert_eq!(b.len(), 104);
        let mut joined = a.to_vec();
        joined.extend_from_slice(b);
        assert_eq!(joined, pattern(4000, 200));
        // Clamped at the end of the contents.
        let (a, b) = r.peek(2900, 1000);
        assert_eq!(a.len() + b.len(), 100);
        assert_eq!(r.peek(3000, 10), (&[][..], &[][..]));
        assert_eq!(r.peek(usize::MAX, usize::MAX), (&[][..], &[][..]));
        let mut out = [0u8; 50];
        assert_eq!(r.read_at(1090, &mut out), 50);
        assert_eq!(&out[..], &pattern(4090, 50)[..]);
        assert_eq!(r.len(), 3000, "read_at does not consume");
    }

    #[test]
    fn growth_of_a_wrapped_ring_keeps_order() {
        let mut r = RingBuffer::new(1 << 16);
        r.write(&pattern(0, 4000));
        r.consume(3000);
        r.write(&pattern(4000, 3000)); // wraps inside 4096
        assert_eq!(r.allocated(), 4096);
        r.write(&pattern(7000, 5000)); // grows
        assert_eq!(r.allocated(), 16_384);
        assert_eq!(contents(&r), pattern(3000, 9000));
    }

    #[test]
    fn write_at_then_commit() {
        let mut r = RingBuffer::new(64);
        assert_eq!(r.write(b"0123456789"), 10);
        assert_eq!(r.write_at(5, b"world"), 5);
        assert_eq!(r.len(), 10);
        assert!(r.has_pending());
        assert_eq!(r.write_at(0, b"hello"), 5);
        r.commit(10);
        assert_eq!(contents(&r), b"0123456789helloworld");
        assert!(!r.has_pending());
    }

    #[test]
    fn write_at_is_bounded_by_the_limit() {
        let mut r = RingBuffer::new(16);
        r.write(b"abcd");
        assert_eq!(r.write_at(10, b"0123456789"), 2);
        assert_eq!(r.write_at(12, b"x"), 0);
        assert_eq!(r.write_at(usize::MAX, b"x"), 0);
        assert_eq!(r.write_at(3, b""), 0);
        r.commit(100);
        assert_eq!(r.len(), 16);
        assert_eq!(&contents(&r)[14..], b"01");
    }

    #[test]
    fn write_at_bytes_survive_growth_of_a_wrapped_ring() {
        let mut r = RingBuffer::new(1 << 16);
        r.write(&pattern(0, 4000));
        r.consume(3900);
        // Wraps: logical 0..1100 are pattern 3900..5000.
        r.write(&pattern(4000, 1000));
        // Out of order: logical 1500..2500 fits the 4096 storage; then
        // logical 5000..6000 forces growth.
        assert_eq!(r.write_at(400, &pattern(5400, 1000)), 1000);
        assert_eq!(r.allocated(), 4096);
        assert_eq!(r.write_at(3900, &pattern(8900, 1000)), 1000);
        assert_eq!(r.allocated(), 8192);
        // Fill the holes and commit everything.
        assert_eq!(r.write(&pattern(5000, 400)), 400);
        r.commit(1000);
        assert_eq!(r.write_at(0, &pattern(6400, 2500)), 2500);
        r.commit(3500);
        assert_eq!(r.len(), 6000);
        assert_eq!(contents(&r), pattern(3900, 6000));
    }

    #[test]
    fn pending_bytes_survive_consume_of_everything_in_front() {
        let mut r = RingBuffer::new(8192);
        r.write(b"abc");
        r.write_at(2, b"XY");
        let mut out = [0u8; 3];
        assert_eq!(r.read(&mut out), 3);
        assert!(r.is_empty());
        assert!(r.has_pending());
        r.release();
        assert_ne!(r.allocated(), 0, "pending bytes keep the storage");
        r.write(b"de");
        r.commit(2);
        assert_eq!(contents(&r), b"deXY");
    }

    #[test]
    fn release_frees_only_when_empty() {
        let mut r = RingBuffer::new(8192);
        r.release();
        assert_eq!(r.allocated(), 0);
        r.write(b"hello");
        r.release();
        assert_eq!(r.allocated(), MIN_ALLOC);
        r.consume(5);
        r.release();
        assert_eq!(r.allocated(), 0);
        // Usable again after release.
        r.write(b"again");
        assert_eq!(contents(&r), b"again");
        r.write_at(10, b"zz");
        r.clear_pending();
        r.consume(5);
        r.release();
        assert_eq!(r.allocated(), 0);
        r.write(b"x");
        r.write_at(1, b"y");
        r.clear();
        assert!(r.is_empty());
        assert!(!r.has_pending());
        assert_eq!(r.allocated(), MIN_ALLOC, "clear keeps the storage");
        r.release();
        assert_eq!(r.allocated(), 0);
    }

    fn sum_of(data: &[u8]) -> u16 {
        let mut c = Checksum::new();
        c.add_bytes(data);
        c.finish()
    }

    #[test]
    fn staged_bytes_are_invisible_until_committed() {
        let mut r = RingBuffer::new(4096);
        r.write(&[0; 4096]);
        r.consume(4096);
        r.write(&pattern(0, 1000));
        let data = pattern(1000, 301);
        let mut sum = Checksum::new();
        let staged = r.stage_summed(&data, &mut sum).unwrap();
        assert_eq!(staged.len(), 301);
        assert_eq!(sum.finish(), sum_of(&data));
        assert_eq!(r.len(), 1000);
        assert!(!r.has_pending());
        assert_eq!(contents(&r), pattern(0, 1000));
        assert!(r.commit_staged(staged));
        assert_eq!(contents(&r), pattern(0, 1301));
        // Staged and dropped: as if never written; the next write lands
        // in the same place.
        let mut sum = Checksum::new();
        drop(r.stage_summed(&[0xee; 50], &mut sum).unwrap());
        assert_eq!(contents(&r), pattern(0, 1301));
        assert!(!r.has_pending());
        assert_eq!(r.write(&pattern(1301, 20)), 20);
        assert_eq!(contents(&r), pattern(0, 1321));
    }

    #[test]
    fn staging_across_the_wrap_copies_and_sums_two_pieces() {
        // Every split of the copy at the end of the storage, odd ones
        // included, where the second piece's bytes sum into the other
        // halves of the 16-bit words.
        for split in [1, 2, 3, 255, 256, 257, 1000, 1447] {
            let mut r = RingBuffer::new(4096);
            r.write(&pattern(0, 4096 - split));
            r.consume(4096 - split);
            r.write(&pattern(7, 10));
            let data = pattern(3, 1448);
            let mut sum = Checksum::new();
            sum.add_bytes(b"x");
            let staged = r.stage_summed(&data, &mut sum).unwrap();
            let mut whole = b"x".to_vec();
            whole.extend_from_slice(&data);
            assert_eq!(sum.finish(), sum_of(&whole), "split {split}");
            assert!(r.commit_staged(staged));
            assert_eq!(r.allocated(), 4096, "no growth");
            let mut expected = pattern(7, 10);
            expected.extend_from_slice(&data);
            assert_eq!(contents(&r), expected, "split {split}");
        }
    }

    #[test]
    fn staging_needs_room_allocated_and_nothing_placed() {
        let mut r = RingBuffer::new(1000);
        let mut sum = Checksum::new();
        assert!(!r.can_stage(1), "nothing allocated yet");
        assert!(r.stage_summed(b"a", &mut sum).is_none());
        assert_eq!(sum, Checksum::new(), "nothing summed");
        r.write(b"abc");
        assert_eq!(r.allocated(), MIN_ALLOC);
        assert!(r.can_stage(MIN_ALLOC - 3));
        assert!(!r.can_stage(MIN_ALLOC - 2), "staging never grows the ring");
        r.write_at(5, b"zz");
        assert!(!r.can_stage(1), "would overwrite out-of-order bytes");
        r.clear_pending();
        assert!(r.can_stage(1));
        let mut small = RingBuffer::new(100);
        small.write(&[1; 90]);
        assert!(small.can_stage(10));
        assert!(!small.can_stage(11), "beyond the limit");
        assert!(small.stage_summed(&[0; 11], &mut sum).is_none());
    }

    #[test]
    fn a_stale_staging_commits_nothing() {
        let mut r = RingBuffer::new(1 << 16);
        r.write(b"abc");
        let mut sum = Checksum::new();
        let staged = r.stage_summed(b"defg", &mut sum).unwrap();
        r.write(b"X");
        assert!(!r.commit_staged(staged));
        assert_eq!(contents(&r), b"abcX");
        let staged = r.stage_summed(b"defg", &mut sum).unwrap();
        r.write(&pattern(0, 5000)); // grows: new storage
        assert!(!r.commit_staged(staged));
        assert_eq!(r.len(), 5004);
    }

    #[test]
    fn consume_is_clamped() {
        let mut r = RingBuffer::new(100);
        r.write(b"abc");
        r.consume(usize::MAX);
        assert!(r.is_empty());
        r.consume(1);
        let mut out = [0u8; 4];
        assert_eq!(r.read(&mut out), 0);
        assert_eq!(r.read(&mut []), 0);
    }

    #[test]
    fn set_limit_never_drops_below_len() {
        let mut r = RingBuffer::new(100);
        r.write(&pattern(0, 60));
        r.set_limit(10);
        assert_eq!(r.limit(), 60);
        assert_eq!(r.free(), 0);
        assert_eq!(r.write(b"x"), 0);
        r.set_limit(200);
        assert_eq!(r.free(), 140);
        assert_eq!(r.write(&pattern(60, 140)), 140);
        assert_eq!(contents(&r), pattern(0, 200));
        // Pending bytes beyond a lowered limit are forgotten.
        r.consume(200);
        r.write_at(50, b"abc");
        r.set_limit(20);
        assert_eq!(r.write_at(19, b"xy"), 1);
        r.set_limit(0);
        assert!(!r.has_pending());
    }

    #[test]
    fn debug_does_not_dump_bytes() {
        let mut r = RingBuffer::new(10);
        r.write(b"abc");
        let s = std::format!("{r:?}");
        assert!(s.contains("len: 3"), "{s}");
    }

    /// Storage of `MIN_ALLOC` bytes, as a retired ring leaves it.
    fn small_storage() -> RingStorage {
        let mut r = RingBuffer::new(1 << 16);
        r.write(b"x");
        r.retire();
        r.take_lent().expect("small storage is kept")
    }

    #[test]
    fn a_loan_is_invisible_until_a_write_grows_into_it() {
        let mut r = RingBuffer::new(1 << 16);
        assert!(r.wants_storage());
        r.lend(small_storage());
        assert!(!r.wants_storage());
        assert_eq!(r.allocated(), 0);
        assert!(!r.can_stage(1), "no room counted before it is grown into");
        assert_eq!(r.write(&pattern(0, 100)), 100);
        assert_eq!(r.allocated(), MIN_ALLOC);
        assert_eq!(contents(&r), pattern(0, 100));
        assert!(r.take_lent().is_none(), "storage in use is not taken");
    }

    #[test]
    fn an_unused_loan_is_taken_back() {
        let mut r = RingBuffer::new(1 << 16);
        r.lend(small_storage());
        assert!(r.take_lent().is_some());
        assert!(r.wants_storage());
        assert!(r.take_lent().is_none());
    }

    #[test]
    fn a_loan_is_refused_by_a_ring_with_storage_or_a_small_limit() {
        let mut r = RingBuffer::new(1 << 16);
        r.write(b"abc");
        assert!(!r.wants_storage());
        r.lend(small_storage());
        assert_eq!(contents(&r), b"abc");
        let mut small = RingBuffer::new(MIN_ALLOC - 1);
        assert!(!small.wants_storage());
        small.lend(small_storage());
        assert!(small.take_lent().is_none());
    }

    #[test]
    fn a_first_write_larger_than_a_loan_grows_past_it() {
        let mut r = RingBuffer::new(1 << 16);
        r.lend(small_storage());
        assert_eq!(r.write(&pattern(0, 1000)), 1000);
        assert_eq!(r.allocated(), 1024);
        assert_eq!(contents(&r), pattern(0, 1000));
    }

    #[test]
    fn retire_keeps_only_small_storage() {
        let mut r = RingBuffer::new(1 << 16);
        r.write(&pattern(0, 100));
        r.write_at(10, b"pending");
        r.retire();
        assert!(r.is_empty() && !r.has_pending());
        assert_eq!(r.allocated(), 0);
        assert!(r.take_lent().is_some());
        let mut big = RingBuffer::new(1 << 16);
        big.write(&pattern(0, 300));
        big.retire();
        assert_eq!(big.allocated(), 0);
        assert!(
            big.take_lent().is_none(),
            "grown storage is freed, not kept"
        );
        let mut none = RingBuffer::new(1 << 16);
        none.retire();
        assert!(none.take_lent().is_none());
    }

    /// One operation of the model test.
    #[derive(Debug, Clone)]
    enum Op {
        Write(Vec<u8>),
        WriteAt(usize, Vec<u8>),
        Commit(usize),
        Read(usize),
        Consume(usize),
        Peek(usize, usize),
        SetLimit(usize),
        Release,
        ClearPending,
        Clear,
        /// Stage these bytes, then commit them or not.
        Stage(Vec<u8>, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        let data = || proptest::collection::vec(any::<u8>(), 0..3000);
        prop_oneof![
            4 => data().prop_map(Op::Write),
            3 => (0usize..5000, data()).prop_map(|(o, d)| Op::WriteAt(o, d)),
            2 => (0usize..5000).prop_map(Op::Commit),
            3 => (0usize..5000).prop_map(Op::Read),
            2 => (0usize..5000).prop_map(Op::Consume),
            2 => (0usize..9000, 0usize..9000).prop_map(|(o, l)| Op::Peek(o, l)),
            1 => (0usize..20_000).prop_map(Op::SetLimit),
            1 => Just(Op::Release),
            1 => Just(Op::ClearPending),
            1 => Just(Op::Clear),
            3 => (data(), any::<bool>()).prop_map(|(d, c)| Op::Stage(d, c)),
        ]
    }

    /// The model: logical positions `0..extent`, `None` where unspecified.
    struct Model {
        data: VecDeque<Option<u8>>,
        len: usize,
        limit: usize,
    }

    impl Model {
        fn place(&mut self, at: usize, bytes: &[u8]) {
            if bytes.is_empty() {
                return;
            }
            if self.data.len() < at + bytes.len() {
                self.data.resize(at + bytes.len(), None);
            }
            for (i, &b) in bytes.iter().enumerate() {
                self.data[at + i] = Some(b);
            }
        }

        fn check_slice(&self, from: usize, got: &[u8]) {
            for (i, &b) in got.iter().enumerate() {
                if let Some(m) = self.data[from + i] {
                    assert_eq!(m, b, "logical byte {}", from + i);
                }
            }
        }
    }

    /// Applies `op` to `r`; returns what a caller could observe.
    fn observe(r: &mut RingBuffer, op: &Op) -> Vec<usize> {
        let mut seen = match op {
            Op::Write(d) => vec![r.write(d)],
            Op::WriteAt(off, d) => vec![r.write_at(*off, d)],
            Op::Commit(n) => {
                r.commit(*n);
                vec![]
            }
            Op::Read(k) => {
                let mut out = vec![0u8; *k];
                let n = r.read(&mut out);
                out[..n].iter().map(|&b| usize::from(b)).collect()
            }
            Op::Consume(k) => {
                r.consume(*k);
                vec![]
            }
            Op::Peek(off, l) => {
                let (a, b) = r.peek(*off, *l);
                a.iter().chain(b).map(|&b| usize::from(b)).collect()
            }
            Op::ClearPending => {
                r.clear_pending();
                vec![]
            }
            Op::SetLimit(l) => {
                r.set_limit(*l);
                vec![]
            }
            Op::Release => {
                r.release();
                vec![]
            }
            Op::Clear => {
                r.clear();
                vec![]
            }
            Op::Stage(d, commit) => {
                let mut sum = Checksum::new();
                match r.stage_summed(d, &mut sum) {
                    Some(staged) => vec![1, usize::from(*commit && r.commit_staged(staged))],
                    None => vec![0],
                }
            }
        };
        seen.extend([
            r.len(),
            r.limit(),
            r.allocated(),
            usize::from(r.has_pending()),
        ]);
        seen.extend(contents(r).into_iter().map(usize::from));
        seen
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// A ring lent storage (again whenever it has none) behaves
        /// exactly as one that never is, down to the bytes of positions
        /// committed unwritten.
        #[test]
        fn a_lent_ring_behaves_as_a_fresh_one(limit in 0usize..12_000, ops in proptest::collection::vec(op(), 1..60)) {
            let mut fresh = RingBuffer::new(limit);
            let mut lent = RingBuffer::new(limit);
            for op in ops {
                if lent.wants_storage() {
                    lent.lend(small_storage());
                }
                prop_assert_eq!(observe(&mut fresh, &op), observe(&mut lent, &op));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn matches_a_vecdeque_model(limit in 0usize..12_000, ops in proptest::collection::vec(op(), 1..60)) {
            let mut r = RingBuffer::new(limit);
            let mut m = Model { data: VecDeque::new(), len: 0, limit };
            let mut max_limit = limit;
            for op in ops {
                match op {
                    Op::Write(d) => {
                        let n = d.len().min(m.limit - m.len);
                        prop_assert_eq!(r.write(&d), n);
                        m.place(m.len, &d[..n]);
                        m.len += n;
                    }
                    Op::WriteAt(off, d) => {
                        let start = m.len + off;
                        let n = if start >= m.limit { 0 } else { d.len().min(m.limit - start) };
                        prop_assert_eq!(r.write_at(off, &d), n);
                        m.place(start, &d[..n]);
                    }
                    Op::Commit(n) => {
                        let n = n.min(m.limit - m.len);
                        r.commit(n);
                        m.len += n;
                        if m.data.len() < m.len {
                            m.data.resize(m.len, None);
                        }
                    }
                    Op::Read(k) => {
                        let mut out = vec![0u8; k];
                        let n = k.min(m.len);
                        prop_assert_eq!(r.read(&mut out), n);
                        m.check_slice(0, &out[..n]);
                        m.data.drain(..n);
                        m.len -= n;
                    }
                    Op::Consume(k) => {
                        let n = k.min(m.len);
                        r.consume(k);
                        m.data.drain(..n);
                        m.len -= n;
                    }
                    Op::Peek(off, l) => {
                        let (a, b) = r.peek(off, l);
                        let start = off.min(m.len);
                        prop_assert_eq!(a.len() + b.len(), l.min(m.len - start));
                        prop_assert!(b.is_empty() || !a.is_empty());
                        m.check_slice(start, a);
                        m.check_slice(start + a.len(), b);
                    }
                    Op::SetLimit(l) => {
                        r.set_limit(l);
                        m.limit = l.max(m.len);
                        max_limit = max_limit.max(m.limit);
                        let keep = m.data.len().min(m.limit).max(m.len);
                        m.data.truncate(keep);
                    }
                    Op::Release => {
                        r.release();
                        if m.data.is_empty() {
                            prop_assert_eq!(r.allocated(), 0);
                        }
                    }
                    Op::ClearPending => {
                        r.clear_pending();
                        m.data.truncate(m.len);
                    }
                    Op::Clear => {
                        r.clear();
                        m.data.clear();
                        m.len = 0;
                    }
                    Op::Stage(d, commit) => {
                        let fits = d.len() <= m.limit - m.len
                            && m.len + d.len() <= r.allocated()
                            && m.data.len() == m.len;
                        prop_assert_eq!(r.can_stage(d.len()), fits);
                        let mut sum = Checksum::new();
                        match r.stage_summed(&d, &mut sum) {
                            Some(staged) => {
                                prop_assert!(fits);
                                prop_assert_eq!(sum.finish(), sum_of(&d));
                                if commit {
                                    prop_assert!(r.commit_staged(staged));
                                    m.place(m.len, &d);
                                    m.len += d.len();
                                }
                            }
                            None => prop_assert!(!fits),
                        }
                    }
                }
                prop_assert_eq!(r.len(), m.len);
                prop_assert_eq!(r.limit(), m.limit);
                prop_assert_eq!(r.free(), m.limit - m.len);
                prop_assert_eq!(r.is_empty(), m.len == 0);
                prop_assert_eq!(r.has_pending(), m.data.len() > m.len);
                prop_assert!(r.allocated() >= m.data.len());
                prop_assert!(r.allocated() <= max_limit);
                let (a, b) = r.peek(0, usize::MAX);
                prop_assert_eq!(a.len() + b.len(), m.len);
                m.check_slice(0, a);
                m.check_slice(a.len(), b);
            }
        }
    }
}
