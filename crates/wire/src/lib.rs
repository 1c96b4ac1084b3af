//! Bytes on the wire: zero-copy packet views and plain `Repr` structs for
//! IPv4, IPv6, TCP (with every option), ICMPv4 and ICMPv6, and the internet
//! checksum.
//!
//! Two levels, as in smoltcp's `wire`:
//! - a *packet view* (`Ipv4Packet<T>`, `TcpPacket<T>`, …) wraps a buffer
//!   `T: AsRef<[u8]>` and reads or writes fields in place. `new_checked`
//!   validates lengths so that later accessors cannot go out of bounds;
//! - a *Repr* (`Ipv4Repr`, `TcpRepr`, …) is a plain struct of the header's
//!   meaning, with `parse` (from a checked view) and `emit` (into a buffer).
//!
//! Every byte is untrusted: parsing never panics, malformed input is an
//! [`Error`]. The crate is `no_std`, allocates nothing and has no unsafe code.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

mod bytes;
pub mod checksum;
mod error;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
mod seq;
pub mod tcp;
#[cfg(test)]
mod test_util;
pub mod time;

pub use error::{Error, Result};
pub use seq::SeqNum;
pub use time::Instant;
