//! The TCP protocol core of synack, sans-IO: no sockets, no threads, no
//! clock. Segments and time go in; segments, events and deadlines come out.
//!
//! - [`conn`]: one connection (the TCB), RFC 9293 §3.10 event processing.
//! - [`endpoint`]: all connections of one host: demultiplexing, listeners,
//!   ISNs, SYN cookies, TIME-WAIT, ICMP, IPv4 and IPv6.
//!
//! The crate is `no_std` with `alloc`, and forbids unsafe code.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod assembler;
pub mod conn;
pub mod endpoint;
pub mod ring;

pub use wire::{Instant, SeqNum};
