//! synack: a userspace TCP/IP stack. This crate is the part that touches
//! the operating system and shows what the protocol does:
//!
//! - [`Stack`]: an endpoint driven on a [`device`] (a TUN interface, an
//!   in-memory link, with impairment and pcap capture as wrappers) by its
//!   own thread, with the real clock;
//! - [`net`]: sockets with the names users know, async (tokio traits) and
//!   blocking ([`net::blocking`]);
//! - [`demo`]: client and server endpoints on a simulated link, playing the
//!   scenarios textbooks draw;
//! - [`viz`]: ladder diagrams (text and SVG), time–sequence graphs, and
//!   reading pcap captures back into them.
//!
//! The protocol itself is in `synack-proto` (sans-IO) and the simulator in
//! `synack-sim`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod demo;
pub mod device;
pub mod error;
mod fast_checksum;
pub mod net;
mod stack;
mod sys;
pub mod viz;

pub use fast_checksum::install as install_fast_checksum;
pub use stack::{unix_epoch_offset, Stack};
pub use sys::{enter_netns, is_root, TermSignals};
