//! Blocking sockets with the names and behaviour of `std::net`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proto::endpoint::{ConnHandle, ListenerHandle};

use super::core::{self, Attempt};
use crate::stack::{Inner, Stack};

/// Runs `attempt` under the lock until it is done, sleeping on the stack's
/// condition variable in between (and at most until `timeout`).
fn block<T>(
    stack: &Stack,
    timeout: Option<Duration>,
    mut attempt: impl FnMut(&mut Inner) -> Attempt<T>,
) -> io::Result<T> {
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    let shared = &stack.shared;
    let mut inner = shared.lock();
    loop {
        core::alive(&inner)?;
        if let Attempt::Done(r) = attempt(&mut inner) {
            drop(inner);
            shared.kick();
            return r;
        }
        // Let the driver act on whatever the attempt changed.
        shared.kick();
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "operation timed out",
                    ));
                }
                left
            }
            None => Duration::from_secs(3600),
        };
        inner = shared
            .cond
            .wait_timeout(inner, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// A listening socket, like `std::net::TcpListener`.
#[derive(Debug)]
pub struct TcpListener {
    stack: Stack,
    handle: ListenerHandle,
    local: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr` (an unspecified address listens on all of the
    /// stack's addresses).
    pub fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        let handle = core::start_listen(stack, addr)?;
        Ok(TcpListener {
            stack: stack.clone(),
            handle,
            local: addr,
        })
    }

    /// Waits for the next connection.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (h, peer) = block(&self.stack, None, |inner| {
            core::try_accept(&mut inner.ep, self.handle)
        })?;
        Ok((TcpStream::from_handle(&self.stack, h), peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let h = self.handle;
        self.stack.with_endpoint(|ep| ep.unlisten(h));
    }
}

/// The handle and the stack, closed when the last user drops it.
#[derive(Debug)]
struct Conn {
    stack: Stack,
    handle: ConnHandle,
    /// `shutdown(Shutdown::Read)` was called: reads return 0.
    read_shut: AtomicBool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        let (h, now) = (self.handle, self.stack.now());
        self.stack.with_endpoint(|ep| ep.close(h, now));
    }
}

/// A connected socket, like `std::net::TcpStream`. Clones share the
/// connection (one may read while another writes); it closes when the
/// last one is dropped.
#[derive(Clone, Debug)]
pub struct TcpStream {
    conn: Arc<Conn>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl TcpStream {
    fn from_handle(stack: &Stack, handle: ConnHandle) -> TcpStream {
        TcpStream {
            conn: Arc::new(Conn {
                stack: stack.clone(),
                handle,
                read_shut: AtomicBool::new(false),
            }),
            read_timeout: None,
            write_timeout: None,
        }
    }

    /// Connects to `addr`, waiting for the handshake.
    pub fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        Self::connect_timeout(stack, addr, None)
    }

    /// Connects, giving up after `timeout` (`None`: the SYN retries decide).
    pub fn connect_timeout(
        stack: &Stack,
        addr: SocketAddr,
        timeout: Option<Duration>,
    ) -> io::Result<TcpStream> {
        let h = core::start_connect(stack, addr)?;
        let stream = TcpStream::from_handle(stack, h);
        block(stack, timeout, |inner| core::try_connected(&inner.ep, h))?;
        Ok(stream)
    }

    fn stack(&self) -> &Stack {
        &self.conn.stack
    }

    fn handle(&self) -> ConnHandle {
        self.conn.handle
    }

    /// Shuts down the writing side (sends FIN after queued data), the
    /// reading side (later reads return 0), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let (h, now) = (self.handle(), self.stack().now());
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.conn.read_shut.store(true, Ordering::SeqCst);
            // Readers blocked in other clones return 0 at once.
            let _guard = self.stack().shared.lock();
            self.stack().shared.cond.notify_all();
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.stack()
                .with_endpoint(|ep| ep.shutdown(h, now))
                .map_err(crate::error::endpoint)?;
        }
        Ok(())
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        let h = self.handle();
        self.stack()
            .with_endpoint(|ep| ep.with_connection(h, |c| c.set_nodelay(nodelay)))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "socket is closed"))
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        let h = self.handle();
        self.stack()
            .with_endpoint(|ep| ep.connection(h).map(|c| c.config().nodelay))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "socket is closed"))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let h = self.handle();
        self.stack()
            .with_endpoint(|ep| ep.peer_addr(h))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "socket is closed"))
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let h = self.handle();
        self.stack()
            .with_endpoint(|ep| ep.local_addr(h))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "socket is closed"))
    }

    /// A read timeout (`None`: wait forever).
    pub fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.read_timeout = t;
        Ok(())
    }

    /// A write timeout (`None`: wait forever).
    pub fn set_write_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.write_timeout = t;
        Ok(())
    }

    /// Resets the connection (RST) instead of closing it.
    pub fn abort(self) {
        let h = self.handle();
        self.stack().with_endpoint(|ep| ep.abort(h));
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let h = self.handle();
        let shut = &self.conn.read_shut;
        block(self.stack(), self.read_timeout, |inner| {
            if shut.load(Ordering::SeqCst) {
                return Attempt::Done(Ok(0));
            }
            core::try_read(&mut inner.ep, h, buf)
        })
    }
}

impl Write for TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let h = self.handle();
        block(self.stack(), self.write_timeout, |inner| {
            core::try_write(&mut inner.ep, h, data)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
