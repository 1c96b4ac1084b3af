//! Handles: small copyable names for connections and listeners that stay
//! safe after the thing they name is gone (a generation counter), and the
//! slab that stores what they name.

use alloc::vec::Vec;

/// A connection of an [`Endpoint`](super::Endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// A listener of an [`Endpoint`](super::Endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl ConnHandle {
    /// A number unique among the endpoint's live connections (for logs).
    pub fn index(self) -> u32 {
        self.index
    }
}

impl ListenerHandle {
    /// A number unique among the endpoint's live listeners (for logs).
    pub fn index(self) -> u32 {
        self.index
    }
}

/// Storage with stable indices and reuse of free slots, O(1) everywhere.
///
/// A slot is in use while its generation is even and free while it is
/// odd: freeing and reusing a slot each step the generation, so handles
/// (which carry the even generation they were given) never name a free
/// slot, nor the next value stored in theirs. A slot freed by
/// [`retire`](Self::retire) keeps its value: the next [`vacant`] hands
/// it back to be renewed in place (see `Endpoint::insert`), where a
/// value built anew would be built aside and copied in.
///
/// [`vacant`]: Self::vacant
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

#[derive(Debug)]
struct Slot<T> {
    /// Even while in use, odd while free.
    generation: u32,
    /// The value while in use; while free, the value it held if it was
    /// retired rather than removed.
    value: Option<T>,
}

impl<T> Slot<T> {
    fn in_use(&self) -> bool {
        self.generation.is_multiple_of(2)
    }
}

impl<T> Slab<T> {
    pub fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Stores `value`, returning (index, generation).
    pub fn insert(&mut self, value: T) -> (u32, u32) {
        let (index, generation, slot) = self.vacant();
        *slot = Some(value);
        (index, generation)
    }

    /// A free slot, counted as used, for the caller to fill: (index,
    /// generation, the slot). The slot holds `None`, or the value a
    /// [`retire`](Self::retire) left in it, which the caller must renew
    /// in full or replace.
    #[inline(always)]
    pub fn vacant(&mut self) -> (u32, u32, &mut Option<T>) {
        self.len += 1;
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                self.slots.len() as u32 - 1
            }
        };
        let slot = &mut self.slots[index as usize];
        if !slot.in_use() {
            slot.generation = slot.generation.wrapping_add(1);
        }
        (index, slot.generation, &mut slot.value)
    }

    /// Gives back memory of free slots: the values retired ones kept, and
    /// the slots at the end (after a burst of connections has gone). Slots
    /// in use keep their indices.
    pub fn shrink_to_fit(&mut self) {
        for &i in &self.free {
            self.slots[i as usize].value = None;
        }
        while self.slots.last().is_some_and(|s| !s.in_use()) {
            self.slots.pop();
        }
        let len = self.slots.len() as u32;
        self.free.retain(|&i| i < len);
        self.slots.shrink_to_fit();
        self.free.shrink_to_fit();
    }

    /// The slot `index` if `generation` names its value.
    #[inline]
    fn slot_mut(&mut self, index: u32, generation: u32) -> Option<&mut Slot<T>> {
        // Handles carry even generations, so a free slot never matches.
        debug_assert!(
            generation.is_multiple_of(2),
            "not a generation a slab gave out"
        );
        self.slots
            .get_mut(index as usize)
            .filter(|s| s.generation == generation)
    }

    pub fn get(&self, index: u32, generation: u32) -> Option<&T> {
        debug_assert!(
            generation.is_multiple_of(2),
            "not a generation a slab gave out"
        );
        let slot = self.slots.get(index as usize)?;
        if slot.generation == generation {
            slot.value.as_ref()
        } else {
            None
        }
    }

    pub fn get_mut(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        self.slot_mut(index, generation)?.value.as_mut()
    }

    /// Frees the slot but leaves its value in it, neither moved out nor
    /// dropped, for the next [`vacant`](Self::vacant) to renew in place;
    /// whether there was one. The value is dropped when it is replaced, at
    /// [`shrink_to_fit`](Self::shrink_to_fit), or with the slab: the
    /// caller gives back first whatever the value owns that should not
    /// wait.
    pub fn retire(&mut self, index: u32, generation: u32) -> bool {
        let Some(slot) = self.slot_mut(index, generation) else {
            return false;
        };
        if slot.value.is_none() {
            return false;
        }
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        true
    }

    pub fn remove(&mut self, index: u32, generation: u32) -> Option<T> {
        let slot = self.slot_mut(index, generation)?;
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_generations_do_not_reach_new_values() {
        let mut s = Slab::new();
        let (i, g) = s.insert("a");
        assert_eq!(s.remove(i, g), Some("a"));
        let (i2, g2) = s.insert("b");
        assert_eq!(i2, i, "the slot is reused");
        assert_ne!(g2, g);
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.get(i2, g2), Some(&"b"));
        assert_eq!(s.remove(i, g), None);
        assert_eq!(s.len(), 1);
        assert!(!s.retire(i, g), "a stale handle retires nothing");
        assert!(s.retire(i2, g2));
        assert!(!s.retire(i2, g2));
        assert_eq!(s.get(i2, g2), None);
        assert_eq!(s.len(), 0);
        let (i3, g3) = s.insert("c");
        assert_eq!(i3, i2, "the retired slot is reused");
        assert_ne!(g3, g2);
    }

    #[test]
    fn a_retired_value_waits_in_its_slot_for_the_next_occupant() {
        let mut s = Slab::new();
        let (i, g) = s.insert(alloc::string::String::from("old"));
        assert!(s.retire(i, g));
        assert_eq!(s.get(i, g), None, "retired: its handle is stale");
        // Out of reach of the old handle and of the next one, whose
        // generation is not given out yet (handles carry even ones only).
        for probe in [g, g + 2] {
            assert_eq!(s.get(i, probe), None);
            assert_eq!(s.get_mut(i, probe), None);
            assert_eq!(s.remove(i, probe), None);
            assert!(!s.retire(i, probe));
        }
        let (i2, g2, slot) = s.vacant();
        assert_eq!((i2, g2), (i, g + 2), "in use again: a new even generation");
        assert_eq!(slot.as_deref(), Some("old"), "kept for renewal in place");
        let v = slot.as_mut().unwrap();
        v.clear();
        v.push_str("new");
        assert_eq!(s.get(i2, g2).map(|v| v.as_str()), Some("new"));
        assert_eq!(s.len(), 1);
        // shrink_to_fit drops what free slots keep.
        assert!(s.retire(i2, g2));
        let (i3, g3) = s.insert(alloc::string::String::from("x"));
        assert!(s.retire(i3, g3));
        s.shrink_to_fit();
        assert!(s.slots.is_empty() && s.free.is_empty());
        let (i4, _, slot) = s.vacant();
        assert_eq!(i4, 0);
        assert!(slot.is_none(), "nothing kept past shrink_to_fit");
    }

    #[test]
    fn generations_stay_even_in_use_across_wrapping() {
        let mut s = Slab::new();
        let (i, g) = s.insert(1u8);
        s.slots[i as usize].generation = u32::MAX - 1;
        let g = g.wrapping_add(u32::MAX - 1);
        assert!(s.retire(i, g));
        let (_, g2) = s.insert(2);
        assert_eq!(g2, 0, "wraps to an even generation");
        assert_eq!(s.get(i, g2), Some(&2));
    }
}
