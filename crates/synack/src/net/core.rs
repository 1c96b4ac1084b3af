//! What the blocking and the async sockets share: one operation on the
//! endpoint under the lock, telling "done", "try later" and "failed" apart.

use std::io;
use std::net::SocketAddr;

use proto::conn::{self, State};
use proto::endpoint::{ConnHandle, Endpoint, EndpointError, ListenerHandle};

use crate::error;
use crate::stack::Inner;

/// The outcome of one attempt.
pub(crate) enum Attempt<T> {
    Done(io::Result<T>),
    Wait,
}

fn classify<T>(r: Result<T, EndpointError>) -> Attempt<T> {
    match r {
        Ok(v) => Attempt::Done(Ok(v)),
        Err(EndpointError::Conn(conn::Error::WouldBlock)) => Attempt::Wait,
        Err(e) => Attempt::Done(Err(error::endpoint(e))),
    }
}

/// Checks that the driver still runs.
pub(crate) fn alive(inner: &Inner) -> io::Result<()> {
    match &inner.stopped {
        Some(why) => Err(error::stopped(why)),
        None => Ok(()),
    }
}

pub(crate) fn try_read(ep: &mut Endpoint, h: ConnHandle, buf: &mut [u8]) -> Attempt<usize> {
    classify(ep.recv(h, buf))
}

pub(crate) fn try_write(ep: &mut Endpoint, h: ConnHandle, data: &[u8]) -> Attempt<usize> {
    classify(ep.send(h, data))
}

/// Whether a connect finished: established, or failed.
pub(crate) fn try_connected(ep: &Endpoint, h: ConnHandle) -> Attempt<()> {
    let Some(c) = ep.connection(h) else {
        return Attempt::Done(Err(error::endpoint(EndpointError::InvalidHandle)));
    };
    match c.state() {
        State::SynSent | State::SynReceived => Attempt::Wait,
        State::Closed => Attempt::Done(Err(error::closed(
            c.close_reason().unwrap_or(conn::CloseReason::Aborted),
        ))),
        _ => Attempt::Done(Ok(())),
    }
}

pub(crate) fn try_accept(
    ep: &mut Endpoint,
    l: ListenerHandle,
) -> Attempt<(ConnHandle, SocketAddr)> {
    match ep.accept(l) {
        Some(h) => {
            let peer = ep.peer_addr(h).expect("an accepted connection has a peer");
            Attempt::Done(Ok((h, peer)))
        }
        None => Attempt::Wait,
    }
}
