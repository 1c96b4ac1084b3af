use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};

/// A TCP sequence number: 32 bits that wrap, compared modulo 2^32
/// (RFC 9293 §3.4).
///
/// `a < b` means `b` is ahead of `a` by less than 2^31. The ordering is not
/// total (it is not transitive across more than half the space), which is
/// why this is `PartialOrd` only; a raw `u32` comparison of sequence numbers
/// is always a bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// The signed distance from `other` to `self`: positive when `self` is
    /// ahead. Exactly 2^31 apart reads as `i32::MIN`.
    #[inline]
    pub fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// The distance from `other` up to `self`, or 0 when `self` is not ahead.
    #[inline]
    pub fn since(self, other: SeqNum) -> u32 {
        self.diff(other).max(0) as u32
    }

    /// The later of two sequence numbers.
    #[inline]
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.diff(other) >= 0 {
            self
        } else {
            other
        }
    }

    /// The earlier of two sequence numbers.
    #[inline]
    pub fn min(self, other: SeqNum) -> SeqNum {
        if self.diff(other) <= 0 {
            self
        } else {
            other
        }
    }

    /// Whether `self` lies in the half-open range `[start, end)`.
    #[inline]
    pub fn in_range(self, start: SeqNum, end: SeqNum) -> bool {
        self.0.wrapping_sub(start.0) < end.0.wrapping_sub(start.0)
    }
}

/// The four comparisons are the sign of [`diff`](SeqNum::diff) each, spelt
/// out rather than derived from `partial_cmp` (an `Ordering` built and
/// matched again on every comparison of the segment paths).
impl PartialOrd for SeqNum {
    #[inline]
    fn partial_cmp(&self, other: &SeqNum) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }

    #[inline]
    fn lt(&self, other: &SeqNum) -> bool {
        self.diff(*other) < 0
    }

    #[inline]
    fn le(&self, other: &SeqNum) -> bool {
        self.diff(*other) <= 0
    }

    #[inline]
    fn gt(&self, other: &SeqNum) -> bool {
        self.diff(*other) > 0
    }

    #[inline]
    fn ge(&self, other: &SeqNum) -> bool {
        self.diff(*other) >= 0
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    #[inline]
    fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
}

impl AddAssign<u32> for SeqNum {
    #[inline]
    fn add_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_add(n);
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;
    #[inline]
    fn sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }
}

impl SubAssign<u32> for SeqNum {
    #[inline]
    fn sub_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_sub(n);
    }
}

/// `a - b` is the signed distance from `b` to `a` (see [`SeqNum::diff`]).
impl Sub<SeqNum> for SeqNum {
    type Output = i32;
    #[inline]
    fn sub(self, other: SeqNum) -> i32 {
        self.diff(other)
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeqNum({})", self.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_wraps() {
        let a = SeqNum(u32::MAX - 10);
        let b = a + 20;
        assert_eq!(b.0, 9);
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b - a, 20);
        assert_eq!(a - b, -20);
        assert_eq!(b.since(a), 20);
        assert_eq!(a.since(b), 0);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    #[test]
    fn the_comparisons_agree_with_partial_cmp() {
        // Around zero, the wrap, and exactly half the space apart (which
        // reads as behind: `diff` is i32::MIN).
        let points = [
            0,
            1,
            2,
            0x7fff_ffff,
            0x8000_0000,
            0x8000_0001,
            u32::MAX - 1,
            u32::MAX,
        ];
        for &x in &points {
            for &y in &points {
                let (a, b) = (SeqNum(x), SeqNum(y));
                let ord = a.partial_cmp(&b);
                assert_eq!(a < b, ord == Some(Ordering::Less), "{x} < {y}");
                assert_eq!(a <= b, ord != Some(Ordering::Greater), "{x} <= {y}");
                assert_eq!(a > b, ord == Some(Ordering::Greater), "{x} > {y}");
                assert_eq!(a >= b, ord != Some(Ordering::Less), "{x} >= {y}");
            }
        }
    }

    #[test]
    fn range_membership_wraps() {
        let start = SeqNum(u32::MAX - 1);
        let end = start + 4;
        assert!(start.in_range(start, end));
        assert!(SeqNum(0).in_range(start, end));
        assert!(SeqNum(1).in_range(start, end));
        assert!(!end.in_range(start, end));
        assert!(!(start - 1).in_range(start, end));
        assert!(!start.in_range(start, start));
    }
}
