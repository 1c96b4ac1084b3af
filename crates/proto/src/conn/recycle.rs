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

use alloc::boxed::Box;
use alloc::vec::Vec;

use wire::SeqNum;

use super::recovery::Loss;
use super::Connection;

/// The most records a recycled log keeps room for: a log that grew with a
/// large window gives its memory back instead of parking it in the pool.
const KEEP_RECORDS: usize = 64;

/// The most recovery states an endpoint keeps for reuse: enough for a
/// burst of connections, a bound on what the pool can hold.
pub(crate) const POOL_MAX: usize = 256;

/// The storage of one connection's loss-recovery state, kept for reuse.
#[derive(Debug)]
pub(crate) struct LossStorage(Box<Loss>);

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
