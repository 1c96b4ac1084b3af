//! A deterministic network simulator: hosts and impaired links on a virtual
//! clock.
//!
//! The simulator knows nothing about TCP: hosts are sans-IO state machines
//! ([`Host`]) that take IP packets in and give IP packets out, and the
//! network moves bytes between them. A [`Network`] is a star: every host has
//! an uplink to a central router and a downlink back, each with a
//! [`LinkSpec`] (rate, delay, jitter, queue, loss with optional bursts,
//! reordering, duplication, corruption) parsed from text such as
//! `rate=100mbit,delay=20ms,loss=0.01`. The router forwards by destination
//! IP address.
//!
//! Everything is a pure function of the seed given to [`Network::new`]: the
//! same seed and the same hosts give the same packets, byte for byte. Time is
//! virtual ([`wire::Instant`], microseconds) and moves from event to event,
//! so simulated seconds cost microseconds of wall time.
//!
//! Captures: [`Network::tap_host`] and [`Network::tap_link`] write pcap
//! files (raw IP, microsecond timestamps from the virtual clock) that
//! Wireshark reads.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod event;
mod host;
mod impair;
mod link;
mod network;
pub mod pcap;
mod rng;
mod route;
mod spec;
mod stats;
mod units;

pub use host::Host;
pub use impair::{Impairment, Outcome};
pub use link::{LinkId, Verdict};
pub use network::{HostId, Network, MAX_PACKET};
pub use pcap::PcapSink;
pub use rng::{derive_seed, Rng};
pub use spec::{LinkSpec, SpecError};
pub use stats::{HostStats, LinkStats, RouterStats};
pub use wire::Instant;
