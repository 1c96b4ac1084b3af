//! Maps keyed by 4-tuple that keep IPv4 keys in 12 bytes.
//!
//! A [`FourTuple`] is two `SocketAddr`s, 64 bytes, sized for IPv6. Every
//! connection and every TIME-WAIT entry is one key of a hash map, and a
//! hash map holds more buckets than entries, so with a million IPv4
//! connections the keys alone would cost more than the rest of the
//! demultiplexing. IPv4 tuples are stored as a [`V4Tuple`]; anything else
//! keeps the full tuple in a second map.

use alloc::boxed::Box;
use core::hash::{Hash, Hasher};
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use super::demux::{FourTuple, KeyedHasher, Map};

/// An IPv4 4-tuple, packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct V4Tuple {
    local_ip: u32,
    remote_ip: u32,
    local_port: u16,
    remote_port: u16,
}

impl V4Tuple {
    /// The packed form of `t` if both addresses are IPv4.
    pub fn of(t: &FourTuple) -> Option<V4Tuple> {
        match (t.local, t.remote) {
            (SocketAddr::V4(l), SocketAddr::V4(r)) => Some(V4Tuple {
                local_ip: u32::from(*l.ip()),
                remote_ip: u32::from(*r.ip()),
                local_port: l.port(),
                remote_port: r.port(),
            }),
            _ => None,
        }
    }
}

impl V4Tuple {
    /// The tuple it packs.
    pub fn unpack(self) -> FourTuple {
        FourTuple {
            local: SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(self.local_ip),
                self.local_port,
            )),
            remote: SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(self.remote_ip),
                self.remote_port,
            )),
        }
    }
}

/// A connection's own 4-tuple, as its slab entry keeps it: 12 bytes
/// inline for IPv4 (16 with the tag) instead of the 64 of a
/// [`FourTuple`]; anything else in a box. With a million connections on
/// each of two endpoints that is 96 MB less.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PackedTuple {
    V4(V4Tuple),
    Other(Box<FourTuple>),
}

impl PackedTuple {
    /// The tuple.
    pub fn unpack(&self) -> FourTuple {
        match self {
            PackedTuple::V4(t) => t.unpack(),
            PackedTuple::Other(t) => **t,
        }
    }
}

impl From<FourTuple> for PackedTuple {
    fn from(t: FourTuple) -> PackedTuple {
        match V4Tuple::of(&t) {
            Some(v4) => PackedTuple::V4(v4),
            None => PackedTuple::Other(Box::new(t)),
        }
    }
}

/// Every segment hashes its tuple: two fixed-size writes (one SipHash
/// block and a tail) rather than the derived four.
impl Hash for V4Tuple {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.local_ip) << 32 | u64::from(self.remote_ip));
        state.write_u32(u32::from(self.local_port) << 16 | u32::from(self.remote_port));
    }
}

/// A keyed hash map from 4-tuples to `V`, with the method names of the
/// `HashMap` it replaces. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct TupleMap<V> {
    v4: Map<V4Tuple, V>,
    other: Map<FourTuple, V>,
    /// The last IPv4 key [`lookup`](Self::lookup) found, and its value:
    /// segments come in runs of one flow (a window of data, its ACKs), and
    /// a run after the first segment skips the hash. Any change to the
    /// map forgets it.
    last: Option<(V4Tuple, V)>,
}

impl<V> TupleMap<V> {
    pub fn with_hasher(hasher: KeyedHasher) -> TupleMap<V> {
        TupleMap {
            v4: Map::with_hasher(hasher),
            other: Map::with_hasher(hasher),
            last: None,
        }
    }

    /// The value for `t`, as `get`, remembering an IPv4 hit for the next
    /// lookup.
    pub fn lookup(&mut self, t: &FourTuple) -> Option<V>
    where
        V: Copy,
    {
        match V4Tuple::of(t) {
            Some(k) => match self.last {
                Some((last, v)) if last == k => Some(v),
                _ => {
                    let v = *self.v4.get(&k)?;
                    self.last = Some((k, v));
                    Some(v)
                }
            },
            None => self.other.get(t).copied(),
        }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.other.len()
    }

    pub fn get(&self, t: &FourTuple) -> Option<&V> {
        match V4Tuple::of(t) {
            Some(k) => self.v4.get(&k),
            None => self.other.get(t),
        }
    }

    pub fn get_mut(&mut self, t: &FourTuple) -> Option<&mut V> {
        self.last = None;
        match V4Tuple::of(t) {
            Some(k) => self.v4.get_mut(&k),
            None => self.other.get_mut(t),
        }
    }

    pub fn contains_key(&self, t: &FourTuple) -> bool {
        self.get(t).is_some()
    }

    pub fn insert(&mut self, t: FourTuple, value: V) -> Option<V> {
        self.last = None;
        match V4Tuple::of(&t) {
            Some(k) => self.v4.insert(k, value),
            None => self.other.insert(t, value),
        }
    }

    pub fn remove(&mut self, t: &FourTuple) -> Option<V> {
        self.last = None;
        match V4Tuple::of(t) {
            Some(k) => self.v4.remove(&k),
            None => self.other.remove(t),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        self.v4.shrink_to_fit();
        self.other.shrink_to_fit();
    }

    /// The IPv4 part, keyed by packed tuples.
    pub fn v4_mut(&mut self) -> &mut Map<V4Tuple, V> {
        self.last = None;
        &mut self.v4
    }

    /// The rest, keyed by full tuples.
    pub fn other_mut(&mut self) -> &mut Map<FourTuple, V> {
        self.last = None;
        &mut self.other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv6Addr};

    fn tuple(local: IpAddr, remote: IpAddr) -> FourTuple {
        FourTuple {
            local: SocketAddr::new(local, 80),
            remote: SocketAddr::new(remote, 40_000),
        }
    }

    #[test]
    fn both_families_round_trip() {
        let mut m = TupleMap::with_hasher(KeyedHasher::new(1, 2));
        let v4 = tuple([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let v6 = tuple(Ipv6Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into());
        assert!(V4Tuple::of(&v4).is_some());
        assert_eq!(V4Tuple::of(&v6), None);
        assert_eq!(m.insert(v4, 1), None);
        assert_eq!(m.insert(v6, 2), None);
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&v4), Some(&1));
        assert_eq!(m.get(&v6), Some(&2));
        let swapped = FourTuple {
            local: v4.remote,
            remote: v4.local,
        };
        assert!(!m.contains_key(&swapped), "direction matters");
        *m.get_mut(&v4).unwrap() = 3;
        assert_eq!(m.remove(&v4), Some(3));
        assert_eq!(m.remove(&v4), None);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn lookup_remembers_a_hit_and_forgets_it_on_any_change() {
        let mut m = TupleMap::with_hasher(KeyedHasher::new(1, 2));
        let a = tuple([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let b = tuple([10, 0, 0, 1].into(), [10, 0, 0, 3].into());
        assert_eq!(m.lookup(&a), None);
        m.insert(a, 1);
        m.insert(b, 2);
        assert_eq!(m.lookup(&a), Some(1));
        assert_eq!(m.lookup(&a), Some(1), "from the remembered hit");
        assert_eq!(m.lookup(&b), Some(2));
        m.insert(b, 5);
        assert_eq!(m.lookup(&b), Some(5), "an insert forgets");
        *m.get_mut(&b).unwrap() = 6;
        assert_eq!(m.lookup(&b), Some(6), "get_mut forgets");
        m.remove(&b);
        assert_eq!(m.lookup(&b), None, "a remove forgets");
        assert_eq!(m.lookup(&a), Some(1));
        m.v4_mut().clear();
        assert_eq!(m.lookup(&a), None, "the raw map's use forgets");
    }

    #[test]
    fn an_ipv4_key_is_twelve_bytes() {
        assert_eq!(core::mem::size_of::<V4Tuple>(), 12);
    }

    #[test]
    fn packed_tuples_unpack_to_what_they_packed() {
        use core::net::SocketAddrV6;
        let v4 = tuple([10, 0, 0, 1].into(), [192, 0, 2, 7].into());
        assert!(matches!(PackedTuple::from(v4), PackedTuple::V4(_)));
        assert_eq!(PackedTuple::from(v4).unpack(), v4);
        // IPv6 keeps everything, flow label and scope included.
        let v6 = FourTuple {
            local: SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 7, 2)),
            remote: SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 4242, 0, 2)),
        };
        assert_eq!(PackedTuple::from(v6).unpack(), v6);
        assert_eq!(core::mem::size_of::<PackedTuple>(), 16);
    }
}
