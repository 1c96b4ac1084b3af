//! The event queue: a binary heap ordered by time, then by insertion order,
//! so that events at the same instant run in the order they were scheduled
//! and every run is deterministic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use wire::Instant;

use crate::{HostId, LinkId};

/// What happens.
#[derive(Debug)]
pub(crate) enum Action {
    /// A packet comes out of a link.
    Deliver { link: LinkId, packet: Vec<u8> },
    /// A host's timer may be due.
    Timer { host: HostId },
}

/// An action at a time.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) at: Instant,
    seq: u64,
    pub(crate) action: Action,
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Event {}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Event) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
impl Ord for Event {
    fn cmp(&self, other: &Event) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The pending events of a network.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Event>,
    next_seq: u64,
}

impl EventQueue {
    /// Schedules `action` at `at`, after everything already scheduled then.
    pub(crate) fn push(&mut self, at: Instant, action: Action) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Event { at, seq, action });
    }

    /// The time of the earliest event.
    pub(crate) fn peek_time(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.at)
    }

    /// Removes and returns the earliest event.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
    }

    /// How many events are pending.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_then_insertion_order() {
        let mut q = EventQueue::default();
        let t = |us| Instant::from_micros(us);
        q.push(t(5), Action::Timer { host: HostId(0) });
        q.push(t(3), Action::Timer { host: HostId(1) });
        q.push(t(5), Action::Timer { host: HostId(2) });
        q.push(t(3), Action::Timer { host: HostId(3) });
        let order: Vec<usize> = std::iter::from_fn(|| q.pop())
            .map(|e| match e.action {
                Action::Timer { host } => host.0,
                Action::Deliver { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(order, [1, 3, 0, 2]);
        assert_eq!(q.peek_time(), None);
    }
}
