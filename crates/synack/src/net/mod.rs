//! Sockets over a [`Stack`](crate::Stack).
//!
//! - [`TcpListener`] and [`TcpStream`] here are asynchronous, with the
//!   names and behaviour of `tokio::net`: they implement tokio's
//!   `AsyncRead` and `AsyncWrite` and need no particular executor (the
//!   stack's own thread drives the protocol and wakes tasks).
//! - [`blocking`] has the `std::net` equivalents over `Read` and `Write`.
//!
//! Errors come as `io::Error`s of the usual kinds: `ConnectionRefused`,
//! `ConnectionReset`, `TimedOut`, `ConnectionAborted`, `AddrInUse`.

pub mod blocking;
mod core;
mod owned;
mod stream;

pub use stream::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
