//! A listening socket: its SYN queue (half-open connections, counted) and
//! accept queue (established connections waiting for `accept`).

use alloc::collections::VecDeque;
use core::net::SocketAddr;

use super::config::FamilyConfigs;
use super::handle::ConnHandle;

/// One listener.
#[derive(Debug)]
pub(crate) struct Listener {
    /// The address and port; an unspecified address listens on all.
    pub local: SocketAddr,
    /// The most connections waiting in each queue.
    pub backlog: usize,
    /// Established, not yet accepted.
    pub accept_queue: VecDeque<ConnHandle>,
    /// Half-open connections from this listener.
    pub syn_queue: usize,
    /// The settings of the connections it creates.
    pub configs: FamilyConfigs,
}

impl Listener {
    pub fn new(local: SocketAddr, backlog: usize, configs: FamilyConfigs) -> Listener {
        Listener {
            local,
            backlog: backlog.max(1),
            accept_queue: VecDeque::new(),
            syn_queue: 0,
            configs,
        }
    }

    /// Whether a new SYN would overflow the accept queue (Linux drops the
    /// SYN then: the client's retransmission comes back later).
    pub fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() >= self.backlog
    }

    /// Whether the SYN queue is full (then SYN cookies take over).
    pub fn syn_queue_full(&self) -> bool {
        self.syn_queue >= self.backlog
    }
}
