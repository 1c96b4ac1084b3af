//! One direction of a link: its queue, its clock of busy time, and the
//! random impairments of its [`LinkSpec`].

use std::collections::VecDeque;
use std::fmt;

use wire::Instant;

use crate::pcap::PcapSink;
use crate::rng::Rng;
use crate::spec::LinkSpec;
use crate::stats::LinkStats;
use crate::HostId;

/// Identifies one link (one direction) of a [`Network`](crate::Network).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub(crate) usize);

impl LinkId {
    /// The link's index: links are numbered in the order they were created,
    /// host `i`'s uplink is `2i` and its downlink `2i + 1`.
    pub fn index(self) -> usize {
        self.0
    }
}

/// What a filter decides about a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let the packet through (to the next filter, then the link).
    Pass,
    /// Drop the packet; counted in [`LinkStats::dropped_filter`].
    Drop,
}

/// A filter on a link's entry. Gets the time and the packet.
pub(crate) type Filter = Box<dyn FnMut(Instant, &[u8]) -> Verdict + Send>;

/// Where a link leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Far {
    /// The central router (an uplink).
    Router,
    /// A host (a downlink).
    Host(HostId),
}

/// What the link decided to do with an offered packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Dropped (filter, queue or loss); counted.
    Dropped,
    /// To be delivered at `at`, twice when `dup`.
    Deliver { at: Instant, dup: bool },
}

/// The random streams of one link, one per kind of decision, so that one
/// impairment's draws do not depend on whether another is enabled.
struct Streams {
    loss: Rng,
    corrupt: Rng,
    jitter: Rng,
    reorder: Rng,
    dup: Rng,
}

/// One direction of a link.
pub(crate) struct Link {
    pub(crate) spec: LinkSpec,
    pub(crate) far: Far,
    pub(crate) stats: LinkStats,
    pub(crate) filters: Vec<Filter>,
    pub(crate) tap: Option<PcapSink>,
    rng: Streams,
    /// When the link finishes sending everything accepted so far (ns).
    busy_until_ns: u64,
    /// The latest delivery time of a packet that kept FIFO order (ns).
    last_delivery_ns: u64,
    /// Transmission start times (ns) of accepted packets, oldest first;
    /// those in the future are the ones waiting in the queue.
    waiting: VecDeque<u64>,
    /// Gilbert–Elliott state: in the lossy state.
    bad: bool,
}

impl Link {
    /// A link with its random streams derived from the network seed and its
    /// index.
    pub(crate) fn new(seed: u64, index: usize, spec: LinkSpec, far: Far) -> Link {
        let stream = |k: u64| Rng::stream(seed, (index as u64) << 8 | k);
        Link {
            spec,
            far,
            stats: LinkStats::default(),
            filters: Vec::new(),
            tap: None,
            rng: Streams {
                loss: stream(1),
                corrupt: stream(2),
                jitter: stream(3),
                reorder: stream(4),
                dup: stream(5),
            },
            busy_until_ns: 0,
            last_delivery_ns: 0,
            waiting: VecDeque::new(),
            bad: false,
        }
    }

    /// Serialization time of `len` bytes, in nanoseconds.
    fn serialization_ns(&self, len: usize) -> u64 {
        match self.spec.rate {
            None | Some(0) => 0,
            Some(rate) => {
                let ns = (len as u128 * 8 * 1_000_000_000).div_ceil(u128::from(rate));
                u64::try_from(ns).unwrap_or(u64::MAX)
            }
        }
    }

    /// One loss decision, Bernoulli or Gilbert–Elliott (see [`LinkSpec`]).
    fn lose(&mut self) -> bool {
        let loss = self.spec.loss.clamp(0.0, 1.0);
        if loss <= 0.0 {
            return false;
        }
        match self.spec.burst {
            None => self.rng.loss.chance(loss),
            Some(b) => {
                let b = b.clamp(0.0, 1.0 - 1e-9);
                let r = 1.0 - b;
                let p = if loss >= 1.0 {
                    1.0
                } else {
                    (loss * r / (1.0 - loss)).min(1.0)
                };
                // Move first (Bad→Bad with b, Good→Bad with p), then the
                // packet is lost exactly when the chain is in Bad.
                let to_bad = if self.bad { b } else { p };
                self.bad = self.rng.loss.chance(to_bad);
                self.bad
            }
        }
    }

    /// Runs `packet`, offered at `now`, through the filters, the queue and
    /// the impairments. May flip a bit of `packet`.
    pub(crate) fn offer(&mut self, now: Instant, packet: &mut [u8]) -> Fate {
        let len = packet.len();
        self.stats.sent_packets += 1;
        self.stats.sent_bytes += len as u64;

        for filter in &mut self.filters {
            if filter(now, packet) == Verdict::Drop {
                self.stats.dropped_filter += 1;
                return Fate::Dropped;
            }
        }

        // Queue: the packets whose transmission has not started yet wait.
        let now_ns = now.micros().saturating_mul(1000);
        while self.waiting.front().is_some_and(|&start| start <= now_ns) {
            self.waiting.pop_front();
        }
        let start_ns = self.busy_until_ns.max(now_ns);
        if start_ns > now_ns {
            if self.waiting.len() >= self.spec.queue {
                self.stats.dropped_queue += 1;
                return Fate::Dropped;
            }
            self.waiting.push_back(start_ns);
            self.stats.max_queue = self.stats.max_queue.max(self.waiting.len() as u64);
        }
        let end_ns = start_ns.saturating_add(self.serialization_ns(len));
        self.busy_until_ns = end_ns;

        // Lost on the wire, after having used the link's time.
        if self.lose() {
            self.stats.dropped_loss += 1;
            return Fate::Dropped;
        }

        if self.spec.corrupt > 0.0 && self.rng.corrupt.chance(self.spec.corrupt) && len > 0 {
            let bit = self.rng.corrupt.below(len as u64 * 8);
            packet[(bit / 8) as usize] ^= 1 << (bit % 8);
            self.stats.corrupted += 1;
        }

        let mut at_ns = end_ns.saturating_add(duration_ns(self.spec.delay));
        let jitter_us = micros(self.spec.jitter);
        if jitter_us > 0 {
            let extra_us = self.rng.jitter.below(jitter_us.saturating_add(1));
            at_ns = at_ns.saturating_add(extra_us.saturating_mul(1000));
        }

        // FIFO: never before the packets ahead of it.
        at_ns = at_ns.max(self.last_delivery_ns);
        if self.spec.reorder > 0.0 && self.rng.reorder.chance(self.spec.reorder) {
            // Held back and taken out of the FIFO: later packets overtake it,
            // and it does not hold them up.
            let hold = duration_ns(self.spec.effective_reorder_delay());
            at_ns = at_ns.saturating_add(hold);
            self.stats.reordered += 1;
        } else {
            self.last_delivery_ns = at_ns;
        }

        let dup = self.spec.dup > 0.0 && self.rng.dup.chance(self.spec.dup);
        if dup {
            self.stats.duplicated += 1;
        }
        Fate::Deliver {
            at: Instant::from_micros(at_ns.div_ceil(1000)),
            dup,
        }
    }
}

fn micros(d: core::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn duration_ns(d: core::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("spec", &self.spec.to_string())
            .field("far", &self.far)
            .field("stats", &self.stats)
            .field("filters", &self.filters.len())
            .field("tapped", &self.tap.is_some())
            .finish_non_exhaustive()
    }
}
