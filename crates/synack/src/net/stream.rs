//! Asynchronous sockets, like `tokio::net::{TcpListener, TcpStream}`.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use proto::endpoint::{ConnHandle, ListenerHandle};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::core::{self, Attempt};
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
    stack: Stack,
    handle: ListenerHandle,
    local: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr`.
    pub async fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        let handle = core::start_listen(stack, addr)?;
        Ok(TcpListener {
            stack: stack.clone(),
            handle,
            local: addr,
        })
    }

    /// The next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let l = self.handle;
        let (h, peer) = poll_fn(|cx| {
            poll_attempt(&self.stack, Key::Listener(l), cx, |inner| {
                core::try_accept(&mut inner.ep, l)
            })
        })
        .await?;
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

/// The connection, closed when the last half is dropped.
#[derive(Debug)]
struct Conn {
    stack: Stack,
    handle: ConnHandle,
}

impl Drop for Conn {
    fn drop(&mut self) {
        let (h, now) = (self.handle, self.stack.now());
        self.stack.with_endpoint(|ep| ep.close(h, now));
    }
}

impl Conn {
    fn key(&self) -> Key {
        Key::Conn(self.handle)
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let h = self.handle;
        let dst = buf.initialize_unfilled();
        match poll_attempt(&self.stack, self.key(), cx, |inner| {
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

    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let h = self.handle;
        poll_attempt(&self.stack, self.key(), cx, |inner| {
            core::try_write(&mut inner.ep, h, data)
        })
    }

    fn shutdown(&self) -> io::Result<()> {
        let (h, now) = (self.handle, self.stack.now());
        self.stack
            .with_endpoint(|ep| ep.shutdown(h, now))
            .map_err(crate::error::endpoint)
    }

    fn addr(&self, peer: bool) -> io::Result<SocketAddr> {
        let h = self.handle;
        self.stack
            .with_endpoint(|ep| {
                if peer {
                    ep.peer_addr(h)
                } else {
                    ep.local_addr(h)
                }
            })
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "socket is closed"))
    }
}

/// A connected socket.
#[derive(Debug)]
pub struct TcpStream {
    conn: Arc<Conn>,
}

impl TcpStream {
    fn from_handle(stack: &Stack, handle: ConnHandle) -> TcpStream {
        TcpStream {
            conn: Arc::new(Conn {
                stack: stack.clone(),
                handle,
            }),
        }
    }

    /// Connects to `addr`.
    pub async fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        let h = core::start_connect(stack, addr)?;
        let stream = TcpStream::from_handle(stack, h);
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
        self.conn.addr(true)
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.conn.addr(false)
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        let h = self.conn.handle;
        self.conn
            .stack
            .with_endpoint(|ep| ep.with_connection(h, |c| c.set_nodelay(nodelay)))
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "socket is closed"))
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

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.conn.poll_read(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.conn.poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    /// Sends FIN after the queued data; reading goes on (half-close).
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.conn.shutdown())
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

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.conn.poll_read(cx, buf)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.conn.poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.conn.shutdown())
    }
}
