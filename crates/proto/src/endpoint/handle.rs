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
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
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
    /// generation, the slot, `None`). A large value (a connection, about
    /// a kilobyte) built right in the assignment to it is then written
    /// into its slot rather than built elsewhere and copied in.
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
        (index, slot.generation, &mut slot.value)
    }

    /// Gives back memory of empty slots at the end (after a burst of
    /// connections has gone). Slots in use keep their indices.
    pub fn shrink_to_fit(&mut self) {
        while self.slots.last().is_some_and(|s| s.value.is_none()) {
            self.slots.pop();
        }
        let len = self.slots.len() as u32;
        self.free.retain(|&i| i < len);
        self.slots.shrink_to_fit();
        self.free.shrink_to_fit();
    }

    pub fn get(&self, index: u32, generation: u32) -> Option<&T> {
        let slot = self.slots.get(index as usize)?;
        if slot.generation == generation {
            slot.value.as_ref()
        } else {
            None
        }
    }

    pub fn get_mut(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation == generation {
            slot.value.as_mut()
        } else {
            None
        }
    }

    /// Drops the value in its slot (no move out, unlike `remove`);
    /// whether there was one.
    pub fn discard(&mut self, index: u32, generation: u32) -> bool {
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return false;
        };
        if slot.generation != generation || slot.value.is_none() {
            return false;
        }
        slot.value = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        true
    }

    pub fn remove(&mut self, index: u32, generation: u32) -> Option<T> {
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
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
        assert!(!s.discard(i, g), "a stale handle discards nothing");
        assert!(s.discard(i2, g2));
        assert!(!s.discard(i2, g2));
        assert_eq!(s.get(i2, g2), None);
        assert_eq!(s.len(), 0);
        let (i3, g3) = s.insert("c");
        assert_eq!(i3, i2, "the discarded slot is reused");
        assert_ne!(g3, g2);
    }
}
