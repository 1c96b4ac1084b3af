//! What an owner lends a connection for the length of one call.
//!
//! A connection needs some storage only for a moment: its event queue
//! between a call and the owner draining it, a receive ring until the
//! first data arrives. An endpoint lends it such storage before a call and
//! takes back what was not kept (`Endpoint::sync`), so bursts reuse one
//! allocation and an idle connection holds none. A plain event queue can
//! be lent too ([`Connection::lend_event_storage`] with a
//! `VecDeque<Event>`), by owners without an endpoint.

use alloc::collections::VecDeque;

use super::{Connection, Event, RingPool};

/// Storage that can be lent to a connection for one call: its event queue
/// between the call and the owner draining it, or a receive ring until
/// its first data arrives, so bursts reuse one allocation and an idle
/// connection holds none. Sealed: implemented for `VecDeque<Event>`
/// (event storage only, for owners without an endpoint) and for the
/// endpoint's spares.
pub trait CallStorage: sealed::Sealed {
    /// Lends `conn` what it may use during the call that follows.
    fn lend_to(&mut self, conn: &mut Connection);
}

mod sealed {
    /// Keeps [`CallStorage`](super::CallStorage) implemented only here.
    pub trait Sealed {}
}

impl sealed::Sealed for VecDeque<Event> {}

impl CallStorage for VecDeque<Event> {
    /// Swaps the storage in when the connection's queue holds none and
    /// this one is empty, and the connection reports events at all (a
    /// connection with events off would only hand it back unused).
    fn lend_to(&mut self, conn: &mut Connection) {
        if conn.events.capacity() == 0 && self.is_empty() && conn.reports_events() {
            core::mem::swap(&mut conn.events, self);
        }
    }
}

/// What an endpoint lends the connection it hands a packet to: event
/// storage, and storage for a receive ring that has none, since the packet
/// may carry the connection's first data.
#[derive(Debug, Default)]
pub(crate) struct CallSpares {
    /// Event storage, as a `VecDeque<Event>` lends it.
    pub(crate) events: VecDeque<Event>,
    /// Small ring storage of connections that ended.
    pub(crate) rings: RingPool,
}

impl sealed::Sealed for CallSpares {}

impl CallStorage for CallSpares {
    fn lend_to(&mut self, conn: &mut Connection) {
        self.events.lend_to(conn);
        conn.lend_recv_ring(&mut self.rings);
    }
}

impl CallSpares {
    /// Takes back what was lent for a call that changed nothing (a
    /// segment dropped for its checksum), where no `sync` follows: the
    /// event storage, still empty, and an unused ring loan.
    pub(crate) fn take_back(&mut self, conn: &mut Connection) {
        if conn.events.is_empty() && self.events.capacity() == 0 {
            core::mem::swap(&mut conn.events, &mut self.events);
        }
        conn.reclaim_ring_storage(&mut self.rings);
    }
}
