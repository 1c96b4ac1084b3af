//! Asynchronous sockets, like `tokio::net::{TcpListener, TcpStream}`.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::core::{self, Attempt};
use super::owned::{Conn, Listener};
use crate::stack::{Inner, Key, Stack};

/// Runs `attempt` under the lock; when it must wait, registers the task's
/// waker under `key` (still under the lock, so no event can slip between
/// the attempt and the registration).
fn poll_attempt<T>(
    stack: &Stack,
    key: Key,
    cx: &mut Context<'_>,
    attempt: impl FnOnce(&mut Inner) -> Attempt<T>,
) -> Poll<io::Result<T>> {
    let shared = &stack.shared;
    let mut inner = shared.lock();
    if let Err(e) = core::alive(&inner) {
        return Poll::Ready(Err(e));
    }
    let outcome = attempt(&mut inner);
    let poll = match outcome {
        Attempt::Done(r) => Poll::Ready(r),
        Attempt::Wait => {
            let wakers = inner.wakers.entry(key).or_default();
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            Poll::Pending
        }
    };
    drop(inner);
    shared.kick();
    poll
}

/// A listening socket.
#[derive(Debug)]
pub struct TcpListener {
    listener: Listener,
}

impl TcpListener {
    /// Listens on `addr`.
    pub async fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        Ok(TcpListener {
            listener: Listener::bind(stack, addr)?,
        })
    }

    /// The next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let Listener { stack, handle, .. } = &self.listener;
        let l = *handle;
        let (h, peer) = poll_fn(|cx| {
            poll_attempt(stack, Key::Listener(l), cx, |inner| {
                core::try_accept(&mut inner.ep, l)
            })
        })
        .await?;
        Ok((TcpStream::new(Conn::new(stack, h)), peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// Reads into `buf` from `conn`, or registers the task to wait.
fn poll_read(conn: &Conn, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
    let h = conn.handle;
    let dst = buf.initialize_unfilled();
    match poll_attempt(&conn.stack, Key::Conn(h), cx, |inner| {
        core::try_read(&mut inner.ep, h, dst)
    }) {
        Poll::Ready(Ok(n)) => {
            buf.advance(n);
            Poll::Ready(Ok(()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// Queues `data` on `conn`, or registers the task to wait for room.
fn poll_write(conn: &Conn, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
    let h = conn.handle;
    poll_attempt(&conn.stack, Key::Conn(h), cx, |inner| {
        core::try_write(&mut inner.ep, h, data)
    })
}

/// A connected socket.
#[derive(Debug)]
pub struct TcpStream {
    conn: Arc<Conn>,
}

impl TcpStream {
    fn new(conn: Conn) -> TcpStream {
        TcpStream {
            conn: Arc::new(conn),
        }
    }

    /// Connects to `addr`.
    pub async fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        let conn = Conn::connect(stack, addr)?;
        let h = conn.handle;
        let stream = TcpStream::new(conn);
        poll_fn(|cx| {
            poll_attempt(stack, Key::Conn(h), cx, |inner| {
                core::try_connected(&inner.ep, h)
            })
        })
        .await?;
        Ok(stream)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.conn.peer_addr()
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.conn.local_addr()
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.conn.set_nodelay(nodelay)
    }

    /// Splits into a reading and a writing half that can move to different
    /// tasks; the connection closes when both are dropped.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf {
                conn: self.conn.clone(),
            },
            OwnedWriteHalf { conn: self.conn },
        )
    }
}

/// The reading half of a [`TcpStream`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    conn: Arc<Conn>,
}

/// The writing half of a [`TcpStream`].
#[derive(Debug)]
pub struct OwnedWriteHalf {
    conn: Arc<Conn>,
}

/// `AsyncRead` for the types whose `conn` is the connection: the stream
/// and its reading half read alike.
macro_rules! impl_async_read {
    ($($ty:ty),+) => {$(
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read(&self.conn, cx, buf)
            }
        }
    )+};
}

/// `AsyncWrite` for the types whose `conn` is the connection: the stream
/// and its writing half write alike.
macro_rules! impl_async_write {
    ($($ty:ty),+) => {$(
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                data: &[u8],
            ) -> Poll<io::Result<usize>> {
                poll_write(&self.conn, cx, data)
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            /// Sends FIN after the queued data; reading goes on (half-close).
            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.conn.shutdown_write())
            }
        }
    )+};
}

impl_async_read!(TcpStream, OwnedReadHalf);
impl_async_write!(TcpStream, OwnedWriteHalf);
