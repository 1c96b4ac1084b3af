//! Storage of the loss-recovery state handed from connections that ended
//! to connections that start sending, through the endpoint.
//!
//! A connection allocates its recovery state (`recovery::Loss`, with the
//! log of segments in flight) when it first sends data and drops it when
//! it ends. Where connections come and go quickly (a request and a
//! response each), that was two allocations and two frees per connection
//! and side. The endpoint keeps what ending connections give back and
//! lends it, as it lends event storage, to the connection it is about to
//! poll for output; what is not used returns to the endpoint at once, so
//! no idle connection holds a spare.
//!
//! Ring storage goes the same way: each side of a request–response
//! connection allocated a [`MIN_ALLOC`](crate::ring::MIN_ALLOC) send and receive ring when its
//! bytes flowed and freed them when it ended. A [`RingPool`] keeps the
//! small rings of connections that ended and lends them to connections
//! about to write into an empty ring (see `ring.rs` on lending).

use alloc::boxed::Box;
use alloc::vec::Vec;

use wire::SeqNum;

use super::recovery::Loss;
use super::Connection;
use crate::ring::RingStorage;

/// The most records a recycled log keeps room for: a log that grew with a
/// large window gives its memory back instead of parking it in the pool.
const KEEP_RECORDS: usize = 64;

/// The most recovery states an endpoint keeps for reuse: enough for a
/// burst of connections, a bound on what the pool can hold.
pub(crate) const POOL_MAX: usize = 256;

/// The storage of one connection's loss-recovery state, kept for reuse.
#[derive(Debug)]
pub(crate) struct LossStorage(Box<Loss>);

/// The most ring storages a [`RingPool`] keeps: two per connection side of
/// a burst of 64 connections with room to spare, at most 64 KiB.
pub(crate) const RING_POOL_MAX: usize = 256;

/// Ring storage of connections that ended, kept for connections about to
/// write into an empty ring. Holds at most [`RING_POOL_MAX`] storages of
/// [`MIN_ALLOC`](crate::ring::MIN_ALLOC) bytes.
#[derive(Debug, Default)]
pub(crate) struct RingPool(Vec<RingStorage>);

impl RingPool {
    /// Keeps `storage` unless the pool is full (then it is freed).
    fn give(&mut self, storage: RingStorage) {
        if self.0.len() < RING_POOL_MAX {
            self.0.push(storage);
        }
    }

    /// How many storages the pool holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl Connection {
    /// Lends recovery-state storage from `pool` to a connection that has
    /// none, for the call that follows; [`reclaim_loss_storage`] takes it
    /// back if that call did not need it.
    ///
    /// [`reclaim_loss_storage`]: Connection::reclaim_loss_storage
    pub(crate) fn lend_loss_storage(&mut self, pool: &mut Vec<LossStorage>) {
        if self.loss.is_none() && self.loss_spare.is_none() {
            self.loss_spare = pool.pop().map(|s| s.0);
        }
    }

    /// Gives storage the connection does not use (lent and unused, or
    /// left by recovery state it dropped when it ended) back to `pool`.
    /// Inlined: the endpoint asks after every call into the connection,
    /// and nearly always there is nothing to give back.
    #[inline]
    pub(crate) fn reclaim_loss_storage(&mut self, pool: &mut Vec<LossStorage>) {
        if let Some(b) = self.loss_spare.take() {
            if pool.len() < POOL_MAX {
                pool.push(LossStorage(b));
            }
        }
    }

    /// Drops the recovery state of a connection that ends, keeping its
    /// storage for the endpoint to reclaim. (The idle release drops it
    /// outright: a connection that lives on must not hold a spare.)
    pub(super) fn retire_loss(&mut self) {
        if let Some(l) = self.loss.take() {
            if self.loss_spare.is_none() {
                self.loss_spare = Some(l);
            }
        }
    }
}

impl Connection {
    /// Lends ring storage from `pool` to the receive ring if it has none,
    /// for a call that may bring data; [`reclaim_ring_storage`] takes it
    /// back if the call did not need it.
    ///
    /// [`reclaim_ring_storage`]: Connection::reclaim_ring_storage
    #[inline]
    pub(crate) fn lend_recv_ring(&mut self, pool: &mut RingPool) {
        if self.rcv.buf.wants_storage() {
            if let Some(s) = pool.0.pop() {
                self.rcv.buf.lend(s);
            }
        }
    }

    /// Lends ring storage from `pool` to the send ring if it has none, for
    /// a call that may queue data (as [`lend_recv_ring`]).
    ///
    /// [`lend_recv_ring`]: Connection::lend_recv_ring
    #[inline]
    pub(crate) fn lend_send_ring(&mut self, pool: &mut RingPool) {
        if self.snd.buf.wants_storage() {
            if let Some(s) = pool.0.pop() {
                self.snd.buf.lend(s);
            }
        }
    }

    /// Gives ring storage the connection holds but does not use (lent and
    /// unused, or kept by a ring retired when the connection ended) back
    /// to `pool`.
    #[inline]
    pub(crate) fn reclaim_ring_storage(&mut self, pool: &mut RingPool) {
        if let Some(s) = self.snd.buf.take_lent() {
            pool.give(s);
        }
        if let Some(s) = self.rcv.buf.take_lent() {
            pool.give(s);
        }
    }

    /// Empties both rings of a connection about to be dropped and gives
    /// their storage, if small, to `pool`.
    pub(crate) fn recycle_rings(&mut self, pool: &mut RingPool) {
        self.snd.buf.retire();
        self.rcv.buf.retire();
        self.reclaim_ring_storage(pool);
    }
}

impl Loss {
    /// Fresh recovery state with SND.UNA at `una`, in `storage` if there
    /// is some: the same state as `Loss::new`, with the log's room kept.
    pub(super) fn in_storage(storage: Option<Box<Loss>>, una: SeqNum) -> Box<Loss> {
        match storage {
            Some(mut b) => {
                let sent = core::mem::take(&mut b.sent).emptied(KEEP_RECORDS);
                *b = Loss::new(una);
                b.sent = sent;
                b
            }
            None => Box::new(Loss::new(una)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::RingBuffer;

    #[test]
    fn the_ring_pool_is_bounded() {
        let mut pool = RingPool::default();
        for _ in 0..RING_POOL_MAX + 10 {
            let mut r = RingBuffer::new(1 << 16);
            r.write(b"x");
            r.retire();
            pool.give(r.take_lent().expect("small storage is kept"));
        }
        assert_eq!(pool.len(), RING_POOL_MAX);
    }
}
