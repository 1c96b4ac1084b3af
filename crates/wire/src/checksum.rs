//! The internet checksum (RFC 1071): the 16-bit ones' complement of the
//! ones' complement sum, with IPv4 and IPv6 pseudo-headers and incremental
//! update (RFC 1624).
//!
//! The sum is accumulated 64 bits at a time: each 8-byte word is loaded in
//! native byte order and added into a 128-bit accumulator whose high half
//! collects the carries (end-around carry is applied once, when folding).
//! Ones' complement addition commutes with byte swapping (RFC 1071 §2(B)),
//! so the native-order sum is converted to network order once, at the end
//! of each buffer.
//!
//! A platform layer that can use wider vector instructions than this
//! portable, `unsafe`-free crate may install its own sum of whole 32-byte
//! blocks with [`set_block_sum`] (the `synack` crate does, with AVX2, when
//! the CPU has it); long buffers then go through it. It may also install a
//! copy that sums what it copies ([`set_block_sum_copy`]): a segment's data
//! then goes into the packet and into its checksum in one pass
//! ([`Checksum::add_copy`]).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use once_cell::race::OnceRef;

/// A sum of whole 32-byte blocks, installed with [`set_block_sum`].
///
/// The function gets a slice whose length is a multiple of 32 and returns
/// any 64-bit value that is congruent, modulo 0xffff, to the sum of the
/// slice's 16-bit words read in native byte order (for example the sum of
/// its native-order 32-bit words, which cannot overflow 64 bits).
#[derive(Debug)]
pub struct BlockSum(pub fn(&[u8]) -> u64);

static BLOCK_SUM: OnceRef<'static, BlockSum> = OnceRef::new();

/// Buffers shorter than this are summed by the portable code even when a
/// [`BlockSum`] is installed (headers: the call would cost more than it
/// saves).
const BLOCK_SUM_MIN: usize = 256;

/// A copy of whole 32-byte blocks that returns their sum, installed with
/// [`set_block_sum_copy`].
///
/// The function gets a source and a destination of the same length, a
/// multiple of 32; it copies the one into the other and returns what a
/// [`BlockSum`] would return for the source.
#[derive(Debug)]
pub struct BlockSumCopy(pub fn(&[u8], &mut [u8]) -> u64);

static BLOCK_SUM_COPY: OnceRef<'static, BlockSumCopy> = OnceRef::new();

/// Installs a copy that sums whole blocks as it goes, for every
/// [`Checksum::add_copy`] from now on. Returns false if one was installed
/// already (the first stays).
pub fn set_block_sum_copy(copy: &'static BlockSumCopy) -> bool {
    BLOCK_SUM_COPY.set(copy).is_ok()
}

/// The installed summing copy, if any.
pub fn block_sum_copy() -> Option<&'static BlockSumCopy> {
    BLOCK_SUM_COPY.get()
}

/// Installs a faster sum of whole blocks for every checksum computed from
/// now on. Returns false if one was installed already (the first stays).
pub fn set_block_sum(sum: &'static BlockSum) -> bool {
    BLOCK_SUM.set(sum).is_ok()
}

/// The installed block sum, if any.
pub fn block_sum() -> Option<&'static BlockSum> {
    BLOCK_SUM.get()
}

/// A running ones' complement sum.
///
/// Bytes can be added in any number of pieces, of any length: a piece that
/// starts at an odd offset of the whole is accounted for by swapping its sum,
/// so `add_bytes(a); add_bytes(b)` equals `add_bytes(a ++ b)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Sum of 16-bit big-endian words, not yet folded.
    sum: u64,
    /// Whether an odd number of bytes has been added so far.
    odd: bool,
}

impl Checksum {
    /// An empty sum.
    #[inline]
    pub const fn new() -> Self {
        Checksum { sum: 0, odd: false }
    }

    /// Adds a 16-bit word (in host order; it is summed as the network-order
    /// word it represents). Must be called at an even byte offset.
    #[inline]
    pub fn add_u16(&mut self, word: u16) {
        self.sum += u64::from(word);
    }

    /// Adds a 32-bit word as two 16-bit words. Must be called at an even
    /// byte offset.
    #[inline]
    pub fn add_u32(&mut self, word: u32) {
        // Added whole: 2^16 is 1 modulo 0xffff, so `hi·2^16 + lo` counts
        // as `hi + lo` when the sum is folded (and a 64-bit sum of 32-bit
        // words cannot overflow before 2^32 of them).
        self.sum += u64::from(word);
    }

    /// Adds a run of bytes.
    pub fn add_bytes(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.add_piece(sum_be(data), data.len());
    }

    /// Copies `src` into `dst` and adds the bytes, as
    /// `dst.copy_from_slice(src); self.add_bytes(src)` does, but in one
    /// pass over the data when a [`BlockSumCopy`] is installed.
    ///
    /// # Panics
    ///
    /// If the lengths differ (as `copy_from_slice`).
    pub fn add_copy(&mut self, src: &[u8], dst: &mut [u8]) {
        if src.is_empty() {
            // The second piece of a range that did not wrap: no copy call.
            assert!(dst.is_empty(), "add_copy: lengths differ");
            return;
        }
        if src.len() >= BLOCK_SUM_MIN {
            if let Some(BlockSumCopy(copy)) = BLOCK_SUM_COPY.get() {
                assert_eq!(src.len(), dst.len(), "add_copy: lengths differ");
                let whole = src.len() & !31;
                let (src_blocks, src_rest) = src.split_at(whole);
                let (dst_blocks, dst_rest) = dst.split_at_mut(whole);
                let blocks = copy(src_blocks, dst_blocks);
                copy_short(src_rest, dst_rest);
                self.add_piece(fold_with_tail(u128::from(blocks), src_rest), src.len());
                return;
            }
        }
        dst.copy_from_slice(src);
        self.add_bytes(src);
    }

    /// Adds the network-order sum of a piece of `len` bytes.
    fn add_piece(&mut self, piece: u16, len: usize) {
        // A piece starting at an odd offset has its bytes in the other lanes
        // of the 16-bit words: swap its sum (RFC 1071 §2(B)).
        self.sum += u64::from(if self.odd { piece.swap_bytes() } else { piece });
        self.odd ^= len % 2 == 1;
    }

    /// Adds another sum, computed over bytes that follow these at an even
    /// offset.
    #[inline]
    pub fn combine(&mut self, other: Checksum) {
        // Unfolded: 2^64 is 1 modulo 0xffff, so the carry out of the add
        // comes back in at the bottom (a fold per segment saved).
        let (sum, carry) = self.sum.overflowing_add(other.sum);
        self.sum = sum + u64::from(carry);
        self.odd ^= other.odd;
    }

    /// Whether an odd number of bytes has been added: the next byte goes
    /// into the low half of a 16-bit word.
    #[inline]
    pub fn is_odd(self) -> bool {
        self.odd
    }

    /// The folded 16-bit ones' complement sum (not complemented).
    #[inline]
    pub fn fold(self) -> u16 {
        fold64(self.sum)
    }

    /// The checksum field value: the complement of the folded sum.
    #[inline]
    pub fn finish(self) -> u16 {
        !self.fold()
    }
}

/// Folds a 64-bit accumulator of 16-bit words to 16 bits with end-around
/// carry: zero only for a zero sum, else the one value in 1..=0xffff
/// congruent to it modulo 0xffff.
#[inline]
fn fold64(sum: u64) -> u16 {
    // Each half added to the other with its carry brought back in at the
    // bottom (2^32 and 2^16 are 1 modulo 0xffff). The add with the carry
    // cannot overflow again: a carry leaves at most 2^n − 2.
    let (s, carry) = (sum as u32).overflowing_add((sum >> 32) as u32);
    let s = s + u32::from(carry);
    let (s, carry) = (s as u16).overflowing_add((s >> 16) as u16);
    s + u16::from(carry)
}

/// The folded ones' complement sum of `data` as network-order 16-bit words
/// (a trailing odd byte is padded with zero).
fn sum_be(data: &[u8]) -> u16 {
    if data.len() >= BLOCK_SUM_MIN {
        if let Some(BlockSum(blocks)) = BLOCK_SUM.get() {
            let (whole, rest) = data.split_at(data.len() & !31);
            return fold_with_tail(u128::from(blocks(whole)), rest);
        }
    }
    // Whole 64-bit words go into 128-bit accumulators: each addition is an
    // add and an add-with-carry, and the carries pile up in the high half
    // instead of a dependency on a flag. Four accumulators let four chains
    // run side by side. (A 128-bit sum of 64-bit words cannot overflow for
    // any real buffer.)
    let mut acc = [0u128; 4];
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in acc.iter_mut().zip(block.chunks_exact(8)) {
            *lane += u128::from(u64::from_ne_bytes(word.try_into().unwrap_or([0; 8])));
        }
    }
    fold_with_tail(acc[0] + acc[1] + acc[2] + acc[3], blocks.remainder())
}

/// Copies fewer than 32 bytes (the rest after whole blocks) as two
/// overlapping copies of a fixed size, instead of a call to `memcpy` that
/// costs more than the copy. `dst` is as long as `src`.
#[inline]
fn copy_short(src: &[u8], dst: &mut [u8]) {
    let n = src.len();
    let mut copy = |at: usize, len: usize| {
        dst[at..at + len].copy_from_slice(&src[at..at + len]);
    };
    match n {
        16.. => {
            copy(0, 16);
            copy(n - 16, 16);
        }
        8.. => {
            copy(0, 8);
            copy(n - 8, 8);
        }
        4.. => {
            copy(0, 4);
            copy(n - 4, 4);
        }
        _ => {
            for i in 0..n {
                copy(i, 1);
            }
        }
    }
}

/// Adds the last bytes (fewer than 32) to a native-order sum and folds it;
/// the result in network order.
fn fold_with_tail(mut total: u128, rest: &[u8]) -> u16 {
    let mut words = rest.chunks_exact(8);
    for word in &mut words {
        total += u128::from(u64::from_ne_bytes(word.try_into().unwrap_or([0; 8])));
    }
    // The last 0–7 bytes start at an even offset: a 4-byte and a 2-byte
    // word keep their bytes in their 16-bit lanes, and an odd last byte is
    // padded with zero (RFC 1071). (Explicit reads: copying them into a
    // zeroed word costs a memcpy call and a store-forwarding stall.)
    let mut rest = words.remainder();
    if let [a, b, c, d, tail @ ..] = rest {
        total += u128::from(u32::from_ne_bytes([*a, *b, *c, *d]));
        rest = tail;
    }
    if let [a, b, tail @ ..] = rest {
        total += u128::from(u16::from_ne_bytes([*a, *b]));
        rest = tail;
    }
    if let [a] = rest {
        total += u128::from(u16::from_ne_bytes([*a, 0]));
    }
    // 2^64 is 1 modulo 0xffff: the carry out of the low half adds one
    // (which cannot overflow again: a carry leaves at most 2^64 − 2).
    let (sum, carry) = (total as u64).overflowing_add((total >> 64) as u64);
    let sum = sum + u64::from(carry);
    // The native-order folded sum, read back as bytes, is the network-order
    // sum (RFC 1071 §2(B)).
    u16::from_be_bytes(fold64(sum).to_ne_bytes())
}

/// The internet checksum of `data`: the value to put in a checksum field
/// that covers exactly these bytes (with the field itself zeroed).
pub fn checksum(data: &[u8]) -> u16 {
    let mut c = Checksum::new();
    c.add_bytes(data);
    c.finish()
}

/// Whether `data`, which includes its own checksum field, verifies.
pub fn verify(data: &[u8]) -> bool {
    let mut c = Checksum::new();
    c.add_bytes(data);
    c.fold() == 0xffff
}

/// The IPv4 pseudo-header sum (RFC 9293 §3.1): source, destination, zero,
/// protocol, and the upper-layer length.
#[inline]
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> Checksum {
    let mut c = Checksum::new();
    c.add_u32(src.to_bits());
    c.add_u32(dst.to_bits());
    c.add_u16(u16::from(protocol));
    c.add_u16(len);
    c
}

/// The IPv6 pseudo-header sum (RFC 8200 §8.1): source, destination, the
/// 32-bit upper-layer length, three zero bytes and the next header value.
pub fn pseudo_header_v6(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, len: u32) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(&src.octets());
    c.add_bytes(&dst.octets());
    c.add_u32(len);
    c.add_u16(u16::from(next_header));
    c
}

/// The pseudo-header sum for either family, or `None` when the two
/// addresses are of different families (no such packet exists).
#[inline]
pub fn pseudo_header(src: &IpAddr, dst: &IpAddr, protocol: u8, len: u32) -> Option<Checksum> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            Some(pseudo_header_v4(*s, *d, protocol, u16::try_from(len).ok()?))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => Some(pseudo_header_v6(s, d, protocol, len)),
        _ => None,
    }
}

/// Incremental update of a checksum field when one 16-bit word it covers
/// changes from `old` to `new` (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
pub fn update_u16(field: u16, old: u16, new: u16) -> u16 {
    let sum = u64::from(!field) + u64::from(!old) + u64::from(new);
    !fold64(sum)
}

/// Incremental update of a checksum field when one aligned 32-bit word it
/// covers changes (two 16-bit updates).
pub fn update_u32(field: u16, old: u32, new: u32) -> u16 {
    let f = update_u16(field, (old >> 16) as u16, (new >> 16) as u16);
    update_u16(f, old as u16, new as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{bytes, install_summing_copy};

    /// The straightforward RFC 1071 sum, as the reference.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let w = if pair.len() == 2 {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from_be_bytes([pair[0], 0])
            };
            sum += u32::from(w);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn add_copy_copies_and_sums_like_add_bytes() {
        // Before and after a summing copy is installed (the second half
        // also runs the other tests of this process through it; it is
        // correct, so they still pass).
        for _ in 0..2 {
            // (Past 256 bytes, every length of the rest after whole
            // 32-byte blocks that the short copy tells apart.)
            let rests = [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31].map(|r| 256 + r);
            for len in [0, 1, 31, 255, 1460, 1461, 4000].into_iter().chain(rests) {
                let src = bytes(len, len as u32);
                for first in [0usize, 1, 12] {
                    let head = bytes(first, 7);
                    let mut out = std::vec![0u8; len];
                    let mut fused = Checksum::new();
                    fused.add_bytes(&head);
                    fused.add_copy(&src, &mut out);
                    let mut plain = Checksum::new();
                    plain.add_bytes(&head);
                    plain.add_bytes(&src);
                    assert_eq!(out, src, "len {len}");
                    assert_eq!(fused.finish(), plain.finish(), "len {len} after {first}");
                }
            }
            install_summing_copy();
        }
    }

    #[test]
    fn combine_equals_adding_the_bytes_in_one_sum() {
        let data = bytes(3001, 11);
        for split in [0, 2, 256, 1000, 3000] {
            let (a, b) = data.split_at(split);
            let mut first = Checksum::new();
            first.add_bytes(a);
            let mut second = Checksum::new();
            second.add_bytes(b);
            first.combine(second);
            assert_eq!(first.finish(), checksum(&data), "split {split}");
            assert_eq!(first.is_odd(), data.len() % 2 == 1);
        }
        // Sums near the top of the accumulator: the carry wraps around.
        let mut a = Checksum {
            sum: u64::MAX - 1,
            odd: false,
        };
        a.combine(Checksum { sum: 5, odd: false });
        // (2^64 - 2) + 5 = 2^64 + 3, which is 1 + 3 modulo 0xffff.
        assert_eq!(a.fold(), fold64(4));
    }

    #[test]
    fn fold_is_the_end_around_carry_sum() {
        // The fold as RFC 1071 §4.1 writes it: add the high 16 bits to the
        // low ones until nothing is left above.
        fn reference(mut sum: u64) -> u16 {
            while sum >> 16 != 0 {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            sum as u16
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let edges = [
            0,
            1,
            0xfffe,
            0xffff,
            0x1_0000,
            0x1_fffe,
            0xffff_ffff,
            0x1_0000_0000,
            0xffff_0000_ffff,
            u64::MAX - 1,
            u64::MAX,
        ];
        let random = (0..10_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        });
        for sum in edges.into_iter().chain(random) {
            assert_eq!(fold64(sum), reference(sum), "{sum:#x}");
        }
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        let mut c = Checksum::new();
        c.add_bytes(&data);
        assert_eq!(c.fold(), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn matches_reference_for_all_small_lengths() {
        for len in 0..200 {
            let data = bytes(len, len as u32);
            assert_eq!(checksum(&data), reference(&data), "len {len}");
        }
    }

    #[test]
    fn all_ones_does_not_overflow() {
        let data = [0xffu8; 65536 + 7];
        assert_eq!(checksum(&data), reference(&data));
    }

    #[test]
    fn pieces_at_odd_offsets_equal_the_whole() {
        let data = bytes(1500, 7);
        for split in [0, 1, 2, 3, 31, 33, 700, 1499] {
            for split2 in [split, split + 1, 1499] {
                let (a, rest) = data.split_at(split);
                let (b, c) = rest.split_at(split2.min(1500) - split);
                let mut s = Checksum::new();
                s.add_bytes(a);
                s.add_bytes(b);
                s.add_bytes(c);
                assert_eq!(s.finish(), checksum(&data), "split {split} {split2}");
            }
        }
    }

    #[test]
    fn verify_accepts_a_filled_field() {
        let mut data = bytes(61, 3);
        data[10] = 0;
        data[11] = 0;
        let c = checksum(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(verify(&data));
        data[20] ^= 1;
        assert!(!verify(&data));
    }

    #[test]
    fn incremental_update_equals_recompute() {
        let mut data = bytes(40, 9);
        data[16] = 0;
        data[17] = 0;
        let before = checksum(&data);
        let old = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
        let new: u32 = 0xdead_beef;
        data[4..8].copy_from_slice(&new.to_be_bytes());
        assert_eq!(update_u32(before, old, new), checksum(&data));
        let old16 = u16::from_be_bytes([data[2], data[3]]);
        data[2..4].copy_from_slice(&0x1234u16.to_be_bytes());
        let after = checksum(&data);
        assert_eq!(
            update_u16(update_u32(before, old, new), old16, 0x1234),
            after
        );
    }

    #[test]
    fn pseudo_header_mixed_families_is_none() {
        let a = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let b = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert!(pseudo_header(&a, &b, 6, 20).is_none());
        assert!(pseudo_header(&a, &a, 6, 70000).is_none());
        assert!(pseudo_header(&b, &b, 6, 70000).is_some());
    }
}
