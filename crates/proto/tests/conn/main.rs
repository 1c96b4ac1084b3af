//! Segment scripts and back-to-back simulations of one connection.
//! Each file covers one part of RFC 9293 §3.10 (or an extension).

mod harness;

mod textbook;
mod transfer;
