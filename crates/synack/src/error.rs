//! The errors users know: the endpoint's refusals as `io::Error`s with the
//! familiar kinds and a message.

use std::io;

use proto::conn::{self, CloseReason};
use proto::endpoint::EndpointError;

/// The `io::Error` for a connection that ended with `reason`.
pub fn closed(reason: CloseReason) -> io::Error {
    let kind = match reason {
        CloseReason::Refused => io::ErrorKind::ConnectionRefused,
        CloseReason::Reset => io::ErrorKind::ConnectionReset,
        CloseReason::TimedOut => io::ErrorKind::TimedOut,
        CloseReason::Aborted => io::ErrorKind::ConnectionAborted,
        CloseReason::Normal => io::ErrorKind::NotConnected,
    };
    io::Error::new(kind, reason.describe())
}

/// The `io::Error` for an endpoint error.
pub fn endpoint(e: EndpointError) -> io::Error {
    match e {
        EndpointError::AddrInUse => io::Error::new(io::ErrorKind::AddrInUse, "address in use"),
        EndpointError::AddrNotAvailable => {
            io::Error::new(io::ErrorKind::AddrNotAvailable, "address not available")
        }
        EndpointError::NoPortsAvailable => {
            io::Error::new(io::ErrorKind::AddrInUse, "no ephemeral port available")
        }
        EndpointError::TooManyConnections => io::Error::other("too many connections"),
        EndpointError::InvalidHandle => {
            io::Error::new(io::ErrorKind::NotConnected, "socket is closed")
        }
        EndpointError::Conn(conn::Error::WouldBlock) => io::ErrorKind::WouldBlock.into(),
        EndpointError::Conn(conn::Error::InvalidState) => io::Error::new(
            io::ErrorKind::NotConnected,
            "socket is not connected or its sending side is shut down",
        ),
        EndpointError::Conn(conn::Error::Closed(reason)) => closed(reason),
    }
}

/// The error when the driver has stopped.
pub fn stopped(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        format!("synack stack stopped: {why}"),
    )
}
