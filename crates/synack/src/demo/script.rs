//! What the application on each demo host does: listen or connect, send
//! some bytes, read (maybe slowly), and close, shut down or abort when its
//! scenario says. It runs after every packet and timeout of its host.

use std::net::SocketAddr;
use std::time::Duration;

use proto::conn::{self, Cause, CloseReason, Event, State, Status};
use proto::endpoint::{ConnHandle, Endpoint, EndpointError, EndpointEvent, ListenerHandle};
use wire::Instant;

/// How long after the connection is up the application starts writing
/// (the time `connect` takes to return and `write` to be called): the
/// handshake's last ACK then goes out alone, as in the textbooks.
const APP_LATENCY: Duration = Duration::from_micros(100);

/// When the application ends its side of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// Shut down sending once everything sent is acknowledged, after a
    /// pause.
    AfterSent(Duration),
    /// Shut down once the peer closed (end of stream read) and everything
    /// sent is acknowledged, after a pause.
    AfterEof(Duration),
    /// Shut down at this time.
    At(Instant),
    /// Abort (RST) once everything sent is acknowledged, after a pause.
    AbortAfterSent(Duration),
    /// Never (the peer ends it).
    Never,
}

/// One host's application.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// Listen here with this backlog.
    pub listen: Option<(SocketAddr, usize)>,
    /// Connect at this time to this address, from this local address.
    pub connect: Option<(Instant, SocketAddr, Option<SocketAddr>)>,
    /// Bytes to send.
    pub send: u64,
    /// Send only after the peer closed its side (a response to a request
    /// that ended with FIN).
    pub send_after_eof: bool,
    /// When to close.
    pub close: Close,
    /// Read nothing before this time (a slow reader).
    pub read_from: Instant,

    /// The connection, once there is one.
    pub conn: Option<ConnHandle>,
    /// When the application got the connection's handle.
    pub acquired: Option<Instant>,
    /// The connection's local and remote addresses.
    pub tuple: Option<(SocketAddr, SocketAddr)>,
    listener: Option<ListenerHandle>,
    /// When the handshake completed.
    pub connected_at: Option<Instant>,
    /// When everything sent was acknowledged.
    pub done_at: Option<Instant>,
    /// The connection's status then.
    pub status_at_done: Option<Status>,
    /// Bytes queued so far.
    pub sent: u64,
    /// Bytes read so far.
    pub received: u64,
    /// When the end of the stream was read.
    pub eof_at: Option<Instant>,
    close_at: Option<Instant>,
    closed: bool,
    /// How the connection ended.
    pub ended: Option<CloseReason>,
    released: bool,
    /// The connection's state changes: (time, from, to, cause).
    pub log: Vec<(Instant, State, State, Cause)>,
    /// When the application last ran.
    last_run: Instant,
}

impl Script {
    /// An application that does nothing until configured.
    pub fn new() -> Script {
        Script {
            listen: None,
            connect: None,
            send: 0,
            send_after_eof: false,
            close: Close::Never,
            read_from: Instant::ZERO,
            conn: None,
            acquired: None,
            tuple: None,
            listener: None,
            connected_at: None,
            done_at: None,
            status_at_done: None,
            sent: 0,
            received: 0,
            eof_at: None,
            close_at: None,
            closed: false,
            ended: None,
            released: false,
            log: Vec::new(),
            last_run: Instant::ZERO,
        }
    }

    /// When the application wants to run again without a packet.
    pub fn wake(&self) -> Option<Instant> {
        let mut t: Vec<Instant> = Vec::new();
        if let Some((at, ..)) = self.connect {
            if self.conn.is_none() && self.ended.is_none() {
                t.push(at);
            }
        }
        if let (Some(at), false) = (self.close_at, self.closed) {
            t.push(at);
        }
        if let Close::At(at) = self.close {
            if !self.closed && self.conn.is_some() {
                t.push(at);
            }
        }
        if let Some(c) = self.connected_at {
            if self.done_at.is_none() {
                t.push(c + APP_LATENCY);
            }
        }
        if self.read_from > Instant::ZERO && self.received == 0 && self.conn.is_some() {
            t.push(self.read_from);
        }
        // Only times still ahead: a past one would wake the host at the
        // same instant forever.
        t.into_iter().filter(|&w| w > self.last_run).min()
    }

    /// Bytes the peer acknowledged so far (for progress).
    pub fn acked(&self, ep: &Endpoint) -> u64 {
        let queued = self
            .conn
            .and_then(|h| ep.connection(h))
            .map_or(0, |c| c.send_queue() as u64);
        if self.done_at.is_some() {
            self.send
        } else {
            self.sent.saturating_sub(queued)
        }
    }

    /// Runs once, after a packet or timeout, with the new events.
    pub fn run(&mut self, ep: &mut Endpoint, now: Instant, events: &[(Instant, EndpointEvent)]) {
        self.last_run = now;
        if let (Some((addr, backlog)), None) = (self.listen, self.listener) {
            self.listener = ep.listen(addr, backlog).ok();
        }
        if let Some((at, remote, local)) = self.connect {
            if self.conn.is_none() && self.ended.is_none() && now >= at {
                match ep.connect(now, remote, local) {
                    Ok(h) => self.acquire(ep, h, now),
                    Err(_) => self.ended = Some(CloseReason::Aborted),
                }
            }
        }
        if let Some(l) = self.listener {
            while let Some(h) = ep.accept(l) {
                if self.conn.is_none() {
                    self.acquire(ep, h, now);
                } else {
                    ep.close(h, now);
                }
            }
        }
        let Some(h) = self.conn else { return };
        for &(at, e) in events {
            let EndpointEvent::Conn(eh, ev) = e else {
                continue;
            };
            if eh != h {
                continue;
            }
            match ev {
                Event::StateChanged { from, to, cause } => self.log.push((at, from, to, cause)),
                Event::Connected => self.connected_at = self.connected_at.or(Some(at)),
                Event::Closed(r) => self.ended = self.ended.or(Some(r)),
                _ => {}
            }
        }
        if self.released {
            return;
        }
        self.read(ep, h, now);
        self.write(ep, h, now);
        self.maybe_close(ep, h, now);
        let over = ep.connection(h).is_none_or(|c| c.is_closed());
        if over && self.ended.is_some() {
            ep.release(h);
            self.released = true;
        }
    }

    fn acquire(&mut self, ep: &Endpoint, h: ConnHandle, now: Instant) {
        self.conn = Some(h);
        self.acquired = Some(now);
        self.tuple = ep.local_addr(h).zip(ep.peer_addr(h));
    }

    fn read(&mut self, ep: &mut Endpoint, h: ConnHandle, now: Instant) {
        if now < self.read_from {
            return;
        }
        let mut buf = [0u8; 16384];
        loop {
            match ep.recv(h, &mut buf) {
                Ok(0) => {
                    self.eof_at = self.eof_at.or(Some(now));
                    break;
                }
                Ok(n) => self.received += n as u64,
                Err(EndpointError::Conn(conn::Error::Closed(r))) => {
                    self.ended = self.ended.or(Some(r));
                    break;
                }
                Err(_) => break,
            }
        }
    }

    fn write(&mut self, ep: &mut Endpoint, h: ConnHandle, now: Instant) {
        let Some(connected) = self.connected_at else {
            return;
        };
        if now < connected + APP_LATENCY || (self.send_after_eof && self.eof_at.is_none()) {
            return;
        }
        let mut chunk = [0u8; 16384];
        while self.sent < self.send {
            let n = (self.send - self.sent).min(chunk.len() as u64) as usize;
            for (i, b) in chunk[..n].iter_mut().enumerate() {
                *b = pattern(self.sent + i as u64);
            }
            match ep.send(h, &chunk[..n]) {
                Ok(k) if k > 0 => self.sent += k as u64,
                _ => break,
            }
        }
        let queue = ep.connection(h).map_or(0, |c| c.send_queue());
        if self.sent == self.send && queue == 0 && self.done_at.is_none() {
            self.done_at = Some(now);
            self.status_at_done = ep.status(h);
        }
    }

    fn maybe_close(&mut self, ep: &mut Endpoint, h: ConnHandle, now: Instant) {
        if self.closed {
            return;
        }
        if self.close_at.is_none() {
            self.close_at = match self.close {
                Close::AfterSent(d) | Close::AbortAfterSent(d) => self.done_at.map(|t| t + d),
                Close::AfterEof(d) => match (self.eof_at, self.done_at) {
                    (Some(e), Some(s)) => Some(e.max(s) + d),
                    _ => None,
                },
                Close::At(t) => self.connected_at.map(|_| t),
                Close::Never => None,
            };
        }
        if self.close_at.is_some_and(|t| now >= t) {
            self.closed = true;
            if matches!(self.close, Close::AbortAfterSent(_)) {
                ep.with_connection(h, |c| c.abort());
            } else {
                let _ = ep.shutdown(h, now);
            }
        }
    }
}

/// The byte at position `i` of the data the demo sends: printable text, so
/// that a capture opened in Wireshark shows something readable.
pub(crate) fn pattern(i: u64) -> u8 {
    const TEXT: &[u8] = b"synack demo: every byte arrives once and in order. ";
    TEXT[(i % TEXT.len() as u64) as usize]
}
