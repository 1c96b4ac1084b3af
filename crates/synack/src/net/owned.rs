//! The endpoint handles that the blocking and the async sockets own: a
//! listener and a connection, given back to the endpoint when dropped,
//! and the calls on them that never wait.

use std::io;
use std::net::SocketAddr;

use proto::endpoint::{ConnHandle, EndpointError, ListenerHandle};

use crate::error;
use crate::stack::Stack;

/// The error for a handle the endpoint no longer knows: `NotConnected`.
fn closed() -> io::Error {
    error::endpoint(EndpointError::InvalidHandle)
}

/// A listening handle; it stops listening when dropped.
#[derive(Debug)]
pub(crate) struct Listener {
    pub stack: Stack,
    pub handle: ListenerHandle,
    local: SocketAddr,
}

impl Listener {
    /// Starts listening on `addr` (backlog 1024, as Linux's somaxconn
    /// default is 4096 and most servers ask for less).
    pub fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<Listener> {
        let handle = stack
            .with_endpoint(|ep| ep.listen(addr, 1024))
            .map_err(error::endpoint)?;
        Ok(Listener {
            stack: stack.clone(),
            handle,
            local: addr,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let h = self.handle;
        self.stack.with_endpoint(|ep| ep.unlisten(h));
    }
}

/// A connection handle; it closes (FIN after the queued data) when
/// dropped.
#[derive(Debug)]
pub(crate) struct Conn {
    pub stack: Stack,
    pub handle: ConnHandle,
}

impl Drop for Conn {
    fn drop(&mut self) {
        let (h, now) = (self.handle, self.stack.now());
        self.stack.with_endpoint(|ep| ep.close(h, now));
    }
}

impl Conn {
    /// Owns `handle`, a connection of `stack`'s endpoint.
    pub fn new(stack: &Stack, handle: ConnHandle) -> Conn {
        Conn {
            stack: stack.clone(),
            handle,
        }
    }

    /// Starts a connection to `addr` (the handshake goes on in the
    /// driver; a handle dropped before it ends closes it).
    pub fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<Conn> {
        let now = stack.now();
        let handle = stack
            .with_endpoint(|ep| ep.connect(now, addr, None))
            .map_err(error::endpoint)?;
        Ok(Conn::new(stack, handle))
    }

    /// Shuts down the writing side: FIN after the queued data.
    pub fn shutdown_write(&self) -> io::Result<()> {
        let (h, now) = (self.handle, self.stack.now());
        self.stack
            .with_endpoint(|ep| ep.shutdown(h, now))
            .map_err(error::endpoint)
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        let h = self.handle;
        self.stack
            .with_endpoint(|ep| ep.with_connection(h, |c| c.set_nodelay(nodelay)))
            .ok_or_else(closed)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        let h = self.handle;
        self.stack
            .with_endpoint(|ep| ep.connection(h).map(|c| c.config().nodelay))
            .ok_or_else(closed)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let h = self.handle;
        self.stack
            .with_endpoint(|ep| ep.peer_addr(h))
            .ok_or_else(closed)
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let h = self.handle;
        self.stack
            .with_endpoint(|ep| ep.local_addr(h))
            .ok_or_else(closed)
    }

    /// Resets the connection (RST).
    pub fn abort(&self) {
        let h = self.handle;
        self.stack.with_endpoint(|ep| ep.abort(h));
    }
}
