//! The addresses an endpoint owns: kept in the order they were given (the
//! first of a family is the default source of `connect`) and as sorted
//! ranges of consecutive addresses, so that the check every received
//! packet makes ("is this for us?") is a binary search over a few ranges,
//! not a scan of every address a host with many of them (a client
//! spreading 4-tuples over a block of addresses, a proxy) holds.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A set of local addresses in insertion order.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalAddrs {
    /// As given, without duplicates.
    list: Vec<IpAddr>,
    /// The IPv4 ones as integers, for lookups.
    v4: Ranges<u32>,
    /// The IPv6 ones as integers.
    v6: Ranges<u128>,
}

impl LocalAddrs {
    pub fn new(addrs: &[IpAddr]) -> LocalAddrs {
        let mut set = LocalAddrs::default();
        for &a in addrs {
            set.insert(a);
        }
        set
    }

    /// Adds `addr` unless it is there already.
    pub fn insert(&mut self, addr: IpAddr) {
        let added = match addr {
            IpAddr::V4(a) => self.v4.insert(a.to_bits()),
            IpAddr::V6(a) => self.v6.insert(a.to_bits()),
        };
        if added {
            self.list.push(addr);
        }
    }

    pub fn contains(&self, addr: &IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.contains_v4(*a),
            IpAddr::V6(a) => self.contains_v6(*a),
        }
    }

    /// Integer comparisons: a binary search over `IpAddr`s compares enum
    /// tags and byte arrays at every step.
    fn contains_v4(&self, a: Ipv4Addr) -> bool {
        self.v4.contains(a.to_bits())
    }

    fn contains_v6(&self, a: Ipv6Addr) -> bool {
        self.v6.contains(a.to_bits())
    }

    /// In the order they were added.
    pub fn as_slice(&self) -> &[IpAddr] {
        &self.list
    }
}

/// Integers as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default)]
struct Ranges<T> {
    ranges: Vec<(T, T)>,
}

/// An integer with a next one (or none, at the top).
trait Successor: Copy + Ord {
    fn successor(self) -> Option<Self>;
}

impl Successor for u32 {
    fn successor(self) -> Option<u32> {
        self.checked_add(1)
    }
}

impl Successor for u128 {
    fn successor(self) -> Option<u128> {
        self.checked_add(1)
    }
}

impl<T: Successor> Ranges<T> {
    /// The index of the first range that starts after `x`.
    fn after(&self, x: T) -> usize {
        self.ranges.partition_point(|r| r.0 <= x)
    }

    fn contains(&self, x: T) -> bool {
        let i = self.after(x);
        i > 0 && self.ranges[i - 1].1 >= x
    }

    /// Adds `x`, joining the ranges it touches; whether it was new.
    fn insert(&mut self, x: T) -> bool {
        if self.contains(x) {
            return false;
        }
        let i = self.after(x);
        let joins_left = i > 0 && self.ranges[i - 1].1.successor() == Some(x);
        let joins_right = i < self.ranges.len() && x.successor() == Some(self.ranges[i].0);
        match (joins_left, joins_right) {
            (true, true) => {
                self.ranges[i - 1].1 = self.ranges[i].1;
                self.ranges.remove(i);
            }
            (true, false) => self.ranges[i - 1].1 = x,
            (false, true) => self.ranges[i].0 = x,
            (false, false) => self.ranges.insert(i, (x, x)),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn keeps_order_drops_duplicates_and_finds_members() {
        let v4 = |i: u8| IpAddr::V4(Ipv4Addr::new(10, 0, 0, i));
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let mut s = LocalAddrs::new(&[v4(9), v6, v4(3), v4(9)]);
        s.insert(v4(1));
        s.insert(v6);
        assert_eq!(s.as_slice(), &[v4(9), v6, v4(3), v4(1)]);
        for a in [v4(9), v6, v4(3), v4(1)] {
            assert!(s.contains(&a));
        }
        assert!(!s.contains(&v4(2)));
        assert!(!s.contains(&IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
    }

    #[test]
    fn consecutive_addresses_join_into_ranges() {
        let mut r = Ranges::default();
        // In an order that joins on the left, on the right and both.
        for x in [5u32, 7, 6, 9, 3, 4, 10, u32::MAX, 0] {
            assert!(r.insert(x));
        }
        assert!(!r.insert(6), "a duplicate");
        assert_eq!(r.ranges, [(0, 0), (3, 7), (9, 10), (u32::MAX, u32::MAX)]);
        let members = [0u32, 3, 4, 5, 6, 7, 9, 10, u32::MAX];
        for x in 0..=12u32 {
            assert_eq!(r.contains(x), members.contains(&x), "{x}");
        }
        assert!(r.contains(u32::MAX) && !r.contains(u32::MAX - 1));
        // A block of client addresses is one range.
        let mut s = LocalAddrs::new(&[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
        for i in 0..256u32 {
            s.insert(IpAddr::V4(Ipv4Addr::from(0x0a01_0000 + i)));
        }
        assert_eq!(s.v4.ranges.len(), 2);
        assert_eq!(s.as_slice().len(), 257);
        assert!(s.contains(&IpAddr::V4(Ipv4Addr::new(10, 1, 0, 255))));
        assert!(!s.contains(&IpAddr::V4(Ipv4Addr::new(10, 1, 1, 0))));
    }
}
