//! Maps keyed by 4-tuple that keep IPv4 keys in 12 bytes and hash each
//! tuple once.
//!
//! A [`FourTuple`] is two `SocketAddr`s, 64 bytes, sized for IPv6. Every
//! connection and every TIME-WAIT entry is one key of a hash map, and a
//! hash map holds more buckets than entries, so with a million IPv4
//! connections the keys alone would cost more than the rest of the
//! demultiplexing. IPv4 tuples are stored as a [`V4Tuple`]; anything else
//! keeps the full tuple in a second map.
//!
//! A segment for no connection is looked up in the connection table, then
//! in TIME-WAIT; a connect checks both for every port it tries. Each
//! lookup used to hash the tuple again (SipHash, most of the cost of a
//! lookup in a table that fits the cache), so the tables take a
//! [`TupleKey`], a tuple hashed once.

use alloc::boxed::Box;
use core::hash::BuildHasher;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use hashbrown::HashTable;

use super::demux::{FourTuple, KeyedHasher};

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
    #[inline]
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

impl V4Tuple {
    /// The 12 bytes hashed: the addresses, then the ports. The same
    /// writes as [`FourTuple`]'s `Hash` makes for an IPv4 tuple, so either
    /// form of a tuple hashes alike.
    fn words(&self) -> (u64, u32) {
        (
            u64::from(self.local_ip) << 32 | u64::from(self.remote_ip),
            u32::from(self.local_port) << 16 | u32::from(self.remote_port),
        )
    }

    /// Its keyed hash ([`KeyedHasher::hash_12`]).
    fn keyed_hash(&self, hasher: &KeyedHasher) -> u64 {
        let (head, tail) = self.words();
        hasher.hash_12(head, tail)
    }
}

/// A 4-tuple with its keyed hash, computed once per segment or connect
/// and used for every table the tuple goes to (the connections, then
/// TIME-WAIT), instead of once per table and call. Only
/// [`TupleMap::key`] computes one: every [`TupleMap`] of an endpoint
/// shares its hasher, so the hash is valid for all of them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TupleKey<'a> {
    tuple: &'a FourTuple,
    v4: Option<V4Tuple>,
    hash: u64,
}

impl<'a> TupleKey<'a> {
    /// `tuple` with its hash under `hasher` (SipHash-1-3, see `demux`).
    pub fn new(hasher: &KeyedHasher, tuple: &'a FourTuple) -> TupleKey<'a> {
        let v4 = V4Tuple::of(tuple);
        let hash = match &v4 {
            Some(k) => k.keyed_hash(hasher),
            None => hasher.hash_one(tuple),
        };
        TupleKey { tuple, v4, hash }
    }

    /// The key of `tuple` whose hash, computed by [`TupleMap::key`]
    /// earlier, is `hash` (as a connection's entry keeps it).
    pub fn with_hash(tuple: &'a FourTuple, hash: u64) -> TupleKey<'a> {
        TupleKey {
            tuple,
            v4: V4Tuple::of(tuple),
            hash,
        }
    }

    /// The tuple.
    pub fn tuple(&self) -> &'a FourTuple {
        self.tuple
    }

    /// Its keyed hash.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The packed form of an IPv4 tuple.
    pub fn v4(&self) -> Option<V4Tuple> {
        self.v4
    }

    /// The packed form of the tuple, as a connection's entry keeps it.
    pub fn packed(&self) -> PackedTuple {
        match self.v4 {
            Some(k) => PackedTuple::V4(k),
            None => PackedTuple::Other(Box::new(*self.tuple)),
        }
    }
}

/// What [`TupleMap::lookup`] found.
#[derive(Debug)]
pub(crate) enum Lookup<'a, V> {
    /// The value.
    Hit(V),
    /// Nothing; the key, hashed, for the tables looked at next.
    Miss(TupleKey<'a>),
}

/// A keyed hash table from 4-tuples to `V`, taking keys hashed once
/// ([`TupleKey`]). See the [module docs](self).
#[derive(Debug)]
pub(crate) struct TupleMap<V> {
    hasher: KeyedHasher,
    v4: HashTable<(V4Tuple, V)>,
    other: HashTable<(FourTuple, V)>,
    /// The last IPv4 key [`lookup`](Self::lookup) found, and its value:
    /// segments come in runs of one flow (a window of data, its ACKs), and
    /// a run after the first segment skips the hash. Any change to the
    /// map forgets it.
    last: Option<(V4Tuple, V)>,
}

impl<V> TupleMap<V> {
    pub fn with_hasher(hasher: KeyedHasher) -> TupleMap<V> {
        TupleMap {
            hasher,
            v4: HashTable::new(),
            other: HashTable::new(),
            last: None,
        }
    }

    /// `t` with its hash under this map's secret key (SipHash-1-3, see
    /// `demux`), good for every map made with the same hasher.
    pub fn key<'a>(&self, t: &'a FourTuple) -> TupleKey<'a> {
        TupleKey::new(&self.hasher, t)
    }

    /// The value for `t`, as `get`, remembering an IPv4 hit for the next
    /// lookup; on a miss, the hashed key for the tables asked next.
    ///
    /// The check against the remembered hit is inlined into the caller,
    /// which has just built `t` from the packet's addresses and ports: the
    /// packing then folds into that (every segment of a bulk transfer
    /// hits, and paid a call and a second packing of the tuple).
    #[inline(always)]
    pub fn lookup<'a>(&mut self, t: &'a FourTuple) -> Lookup<'a, V>
    where
        V: Copy,
    {
        if let (Some((last, v)), Some(k)) = (self.last, V4Tuple::of(t)) {
            if last == k {
                return Lookup::Hit(v);
            }
        }
        self.lookup_tables(t)
    }

    /// `lookup` past the remembered hit: the hash tables (out of line, so
    /// that the inlined check stays small).
    #[inline(never)]
    fn lookup_tables<'a>(&mut self, t: &'a FourTuple) -> Lookup<'a, V>
    where
        V: Copy,
    {
        let key = self.key(t);
        match (key.v4, self.get(&key)) {
            (Some(k), Some(&v)) => {
                self.last = Some((k, v));
                Lookup::Hit(v)
            }
            (None, Some(&v)) => Lookup::Hit(v),
            (_, None) => Lookup::Miss(key),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.v4.len() + self.other.len()
    }

    pub fn get(&self, k: &TupleKey<'_>) -> Option<&V> {
        match k.v4 {
            Some(v4) => self.v4.find(k.hash, |(x, _)| *x == v4).map(|(_, v)| v),
            None => self
                .other
                .find(k.hash, |(x, _)| x == k.tuple)
                .map(|(_, v)| v),
        }
    }

    pub fn contains_key(&self, k: &TupleKey<'_>) -> bool {
        self.get(k).is_some()
    }

    /// Inserts or replaces (one probe either way).
    pub fn insert(&mut self, k: &TupleKey<'_>, value: V) -> Option<V> {
        self.last = None;
        let hasher = self.hasher;
        match k.v4 {
            Some(v4) => put(
                self.v4
                    .entry(k.hash, |(x, _)| *x == v4, |(x, _)| x.keyed_hash(&hasher)),
                v4,
                value,
            ),
            None => put(
                self.other
                    .entry(k.hash, |(x, _)| x == k.tuple, |(x, _)| hasher.hash_one(x)),
                *k.tuple,
                value,
            ),
        }
    }

    pub fn remove(&mut self, k: &TupleKey<'_>) -> Option<V> {
        self.last = None;
        match k.v4 {
            Some(v4) => self
                .v4
                .find_entry(k.hash, |(x, _)| *x == v4)
                .ok()
                .map(|e| e.remove().0 .1),
            None => self
                .other
                .find_entry(k.hash, |(x, _)| x == k.tuple)
                .ok()
                .map(|e| e.remove().0 .1),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        let hasher = self.hasher;
        self.v4.shrink_to_fit(|(x, _)| x.keyed_hash(&hasher));
        self.other.shrink_to_fit(|(x, _)| hasher.hash_one(x));
    }
}

/// Stores `value` under `key` in a table's entry; what it replaced.
fn put<K, V>(entry: hashbrown::hash_table::Entry<'_, (K, V)>, key: K, value: V) -> Option<V> {
    match entry {
        hashbrown::hash_table::Entry::Occupied(mut e) => {
            Some(core::mem::replace(&mut e.get_mut().1, value))
        }
        hashbrown::hash_table::Entry::Vacant(e) => {
            e.insert((key, value));
            None
        }
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

    /// Whether `m` holds `t`, hashing it afresh.
    fn holds<V>(m: &TupleMap<V>, t: &FourTuple) -> bool {
        m.contains_key(&m.key(t))
    }

    #[test]
    fn both_families_round_trip() {
        let mut m = TupleMap::with_hasher(KeyedHasher::new(1, 2));
        let v4 = tuple([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let v6 = tuple(Ipv6Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into());
        assert!(V4Tuple::of(&v4).is_some());
        assert_eq!(V4Tuple::of(&v6), None);
        let (k4, k6) = (m.key(&v4), m.key(&v6));
        assert_eq!(m.insert(&k4, 1), None);
        assert_eq!(m.insert(&k6, 2), None);
        assert_eq!(m.insert(&k6, 4), Some(2), "an insert replaces");
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&m.key(&v4)), Some(&1));
        assert_eq!(m.get(&m.key(&v6)), Some(&4));
        let swapped = FourTuple {
            local: v4.remote,
            remote: v4.local,
        };
        assert!(!holds(&m, &swapped), "direction matters");
        assert_eq!(m.remove(&k4), Some(1));
        assert_eq!(m.remove(&k4), None);
        assert_eq!(m.len(), 1);
        assert!(holds(&m, &v6));
    }

    #[test]
    fn keys_hash_alike_in_both_forms_and_differ_by_secret() {
        let v4 = tuple([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let h = KeyedHasher::new(1, 2);
        let m: TupleMap<u8> = TupleMap::with_hasher(h);
        // The packed and the full form of an IPv4 tuple: one hash.
        assert_eq!(m.key(&v4).hash(), h.hash_one(v4));
        let other: TupleMap<u8> = TupleMap::with_hasher(KeyedHasher::new(1, 3));
        assert_ne!(m.key(&v4).hash(), other.key(&v4).hash());
        let k = TupleKey::with_hash(&v4, m.key(&v4).hash());
        assert_eq!(k.packed(), PackedTuple::from(v4));
    }

    #[test]
    fn many_keys_survive_growth_and_shrinking() {
        // Growth rehashes every stored key: it must hash as `key` does.
        let mut m = TupleMap::with_hasher(KeyedHasher::new(5, 6));
        let t = |i: u16, v6: bool| {
            let ip: IpAddr = if v6 {
                Ipv6Addr::LOCALHOST.into()
            } else {
                [10, 0, 0, 1].into()
            };
            FourTuple {
                local: SocketAddr::new(ip, 80),
                remote: SocketAddr::new(ip, i),
            }
        };
        for i in 0..1000 {
            for v6 in [false, true] {
                let x = t(i, v6);
                m.insert(&m.key(&x), i);
            }
        }
        for i in 0..900 {
            for v6 in [false, true] {
                let x = t(i, v6);
                assert_eq!(m.remove(&m.key(&x)), Some(i));
            }
        }
        m.shrink_to_fit();
        assert_eq!(m.len(), 200);
        for i in 900..1000 {
            for v6 in [false, true] {
                assert_eq!(m.get(&m.key(&t(i, v6))), Some(&i));
            }
        }
    }

    #[test]
    fn lookup_remembers_a_hit_and_forgets_it_on_any_change() {
        let mut m = TupleMap::with_hasher(KeyedHasher::new(1, 2));
        let a = tuple([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let b = tuple([10, 0, 0, 1].into(), [10, 0, 0, 3].into());
        let found = |m: &mut TupleMap<i32>, t| match m.lookup(t) {
            Lookup::Hit(v) => Some(v),
            Lookup::Miss(k) => {
                assert_eq!(k.hash(), m.key(t).hash(), "a miss hands on the key");
                None
            }
        };
        assert_eq!(found(&mut m, &a), None);
        let (ka, kb) = (m.key(&a), m.key(&b));
        m.insert(&ka, 1);
        m.insert(&kb, 2);
        assert_eq!(found(&mut m, &a), Some(1));
        assert_eq!(found(&mut m, &a), Some(1), "from the remembered hit");
        assert_eq!(found(&mut m, &b), Some(2));
        m.insert(&kb, 5);
        assert_eq!(found(&mut m, &b), Some(5), "an insert forgets");
        m.remove(&kb);
        assert_eq!(found(&mut m, &b), None, "a remove forgets");
        assert_eq!(found(&mut m, &a), Some(1));
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
