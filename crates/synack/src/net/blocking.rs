//! Blocking sockets with the names and behaviour of `std::net`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proto::endpoint::ConnHandle;

use super::core::{self, Attempt};
use super::owned::{Conn, Listener};
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
    listener: Listener,
}

impl TcpListener {
    /// Listens on `addr` (an unspecified address listens on all of the
    /// stack's addresses).
    pub fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        Ok(TcpListener {
            listener: Listener::bind(stack, addr)?,
        })
    }

    /// Waits for the next connection.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let Listener { stack, handle, .. } = &self.listener;
        let (h, peer) = block(stack, None, |inner| {
            core::try_accept(&mut inner.ep, *handle)
        })?;
        Ok((TcpStream::new(Conn::new(stack, h)), peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// What the clones of one stream share: the connection, closed when the
/// last clone drops it, and whether reading was shut down.
#[derive(Debug)]
struct Shared {
    conn: Conn,
    /// `shutdown(Shutdown::Read)` was called: reads return 0.
    read_shut: AtomicBool,
}

/// A connected socket, like `std::net::TcpStream`. Clones share the
/// connection (one may read while another writes); it closes when the
/// last one is dropped.
#[derive(Clone, Debug)]
pub struct TcpStream {
    shared: Arc<Shared>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl TcpStream {
    fn new(conn: Conn) -> TcpStream {
        TcpStream {
            shared: Arc::new(Shared {
                conn,
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
        let conn = Conn::connect(stack, addr)?;
        let h = conn.handle;
        let stream = TcpStream::new(conn);
        block(stack, timeout, |inner| core::try_connected(&inner.ep, h))?;
        Ok(stream)
    }

    fn conn(&self) -> &Conn {
        &self.shared.conn
    }

    fn stack(&self) -> &Stack {
        &self.conn().stack
    }

    fn handle(&self) -> ConnHandle {
        self.conn().handle
    }

    /// Shuts down the writing side (sends FIN after queued data), the
    /// reading side (later reads return 0), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.shared.read_shut.store(true, Ordering::SeqCst);
            // Readers blocked in other clones return 0 at once.
            let _guard = self.stack().shared.lock();
            self.stack().shared.cond.notify_all();
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.conn().shutdown_write()?;
        }
        Ok(())
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.conn().set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.conn().nodelay()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.conn().peer_addr()
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.conn().local_addr()
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
        self.conn().abort();
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let h = self.handle();
        let shut = &self.shared.read_shut;
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
