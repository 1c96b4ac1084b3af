//! The addresses an endpoint owns: kept in the order they were given (the
//! first of a family is the default source of `connect`) and sorted, so
//! that the check every received packet makes ("is this for us?") is a
//! binary search, not a scan of every address a host with many of them
//! (a client spreading 4-tuples, a proxy) holds.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A set of local addresses in insertion order.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalAddrs {
    /// As given, without duplicates.
    list: Vec<IpAddr>,
    /// The IPv4 ones as integers, sorted, for lookups.
    v4: Vec<u32>,
    /// The IPv6 ones as integers, sorted.
    v6: Vec<u128>,
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
            IpAddr::V4(a) => insert_sorted(&mut self.v4, a.to_bits()),
            IpAddr::V6(a) => insert_sorted(&mut self.v6, a.to_bits()),
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
        self.v4.binary_search(&a.to_bits()).is_ok()
    }

    fn contains_v6(&self, a: Ipv6Addr) -> bool {
        self.v6.binary_search(&a.to_bits()).is_ok()
    }

    /// In the order they were added.
    pub fn as_slice(&self) -> &[IpAddr] {
        &self.list
    }
}

/// Inserts `x` into the sorted `v`; whether it was new.
fn insert_sorted<T: Ord>(v: &mut Vec<T>, x: T) -> bool {
    match v.binary_search(&x) {
        Ok(_) => false,
        Err(at) => {
            v.insert(at, x);
            true
        }
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
}
