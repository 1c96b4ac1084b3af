//! The driver: one thread per stack that owns the device and runs the
//! [`Endpoint`] with the real clock. It sleeps in `poll` until a packet
//! arrives, a deadline passes or a socket call wakes it; it never spins.
//!
//! Sockets share the endpoint behind a mutex: a call changes the endpoint,
//! then bumps an eventfd so the driver sends what became due and
//! recomputes its deadline. Blocked readers and writers wait on a condition
//! variable (blocking API) or a waker (async API), woken by the events the
//! endpoint reports.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Waker;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proto::endpoint::{ConnHandle, Endpoint, EndpointConfig, EndpointEvent, ListenerHandle};
use wire::Instant;

use crate::device::{until, Device};
use crate::sys::{self, EventFd};

/// The state sockets and the driver share.
pub(crate) struct Inner {
    pub ep: Endpoint,
    /// Wakers of async tasks waiting on a connection or listener.
    pub wakers: HashMap<Key, Vec<Waker>>,
    /// The driver stopped (device error or shutdown).
    pub stopped: Option<String>,
}

/// What a waker waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Conn(ConnHandle),
    Listener(ListenerHandle),
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Signalled on every event, for blocking callers.
    pub cond: Condvar,
    wake: EventFd,
    clock: Clock,
    stop: AtomicBool,
}

/// Real time as the protocol sees it: microseconds since the stack began.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: std::time::Instant,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            start: std::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }
}

impl Shared {
    /// Locks the shared state (a poisoned lock is still usable: the data
    /// is a protocol state machine that never panics midway).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells the driver to look again (output may be due).
    pub fn kick(&self) {
        self.wake.notify();
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }
}

/// A running stack: an endpoint driven on a device by its own thread.
/// Cloning gives another handle to the same stack; the driver stops when
/// [`Stack::shutdown`] is called or every handle is dropped.
#[derive(Clone)]
pub struct Stack {
    pub(crate) shared: Arc<Shared>,
    driver: Arc<DriverThread>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.shared.lock();
        f.debug_struct("Stack")
            .field("addresses", &inner.ep.addresses())
            .field("connections", &inner.ep.connection_count())
            .field("stopped", &inner.stopped)
            .finish_non_exhaustive()
    }
}

struct DriverThread {
    shared: Arc<Shared>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for DriverThread {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.kick();
        if let Some(h) = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl Stack {
    /// Starts a stack owning `addrs` on `device`. The endpoint's seed is
    /// drawn from the OS when `config.seed` is zero.
    pub fn new(
        device: impl Device,
        mut config: EndpointConfig,
        addrs: &[IpAddr],
    ) -> io::Result<Stack> {
        if config.seed == 0 {
            config.seed = os_random()?;
        }
        crate::fast_checksum::install();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                ep: Endpoint::new(config, addrs),
                wakers: HashMap::new(),
                stopped: None,
            }),
            cond: Condvar::new(),
            wake: EventFd::new()?,
            clock: Clock::new(),
            stop: AtomicBool::new(false),
        });
        let driver_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("synack-driver".into())
            .spawn(move || drive(driver_shared, device))?;
        Ok(Stack {
            driver: Arc::new(DriverThread {
                shared: shared.clone(),
                handle: Mutex::new(Some(handle)),
            }),
            shared,
        })
    }

    /// Runs `f` on the endpoint (for status and counters), then lets the
    /// driver act on any change.
    pub fn with_endpoint<R>(&self, f: impl FnOnce(&mut Endpoint) -> R) -> R {
        let r = f(&mut self.shared.lock().ep);
        self.shared.kick();
        r
    }

    /// The time on the stack's clock.
    pub fn now(&self) -> Instant {
        self.shared.now()
    }

    /// Stops the driver thread (sockets then fail). Graceful closes must
    /// be done before: close the sockets, then [`Stack::wait_idle`].
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.kick();
        if let Some(h) = self
            .driver
            .handle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = h.join();
        }
    }

    /// Waits until no connection is left (each closed, TIME-WAIT aside)
    /// or `timeout` passes. Returns whether none is left.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut inner = self.shared.lock();
        loop {
            if inner.ep.connection_count() == 0 {
                return true;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() || inner.stopped.is_some() {
                return false;
            }
            inner = self
                .shared
                .cond
                .wait_timeout(inner, left.min(Duration::from_millis(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// 64 random bits from the OS.
fn os_random() -> io::Result<u64> {
    let mut b = [0u8; 8];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(u64::from_ne_bytes(b) | 1)
}

/// Unix time at the stack clock's origin (for pcap timestamps).
pub fn unix_epoch_offset() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The driver loop.
fn drive(shared: Arc<Shared>, mut device: impl Device) {
    // Room for the largest IP packet: with offloads, the kernel hands
    // over TCP segments of up to 64 KiB.
    let mut buf = vec![0u8; 65536];
    let result = (|| -> io::Result<()> {
        loop {
            if shared.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let now = shared.now();
            device.service(now)?;
            let deadline = {
                let mut inner = shared.lock();
                // Take every packet that is ready.
                while let Some(n) = device.recv(now, &mut buf)? {
                    inner.ep.handle_packet(now, &buf[..n]);
                }
                inner.ep.handle_timeout(now);
                while let Some(n) = inner.ep.poll_transmit(now, &mut buf) {
                    device.send(now, &buf[..n])?;
                }
                device.end_burst()?;
                dispatch(&shared, &mut inner);
                inner.ep.poll_timeout()
            };
            let deadline = match (deadline, device.next_service()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timeout = deadline.map(|d| until(shared.now(), d));
            if timeout.is_some_and(|t| t.is_zero()) {
                continue;
            }
            device.flush()?;
            let ready = sys::poll_readable(&[device.readable_fd(), shared.wake.raw()], timeout)?;
            if ready[1] {
                shared.wake.drain();
            }
        }
    })();
    let mut inner = shared.lock();
    inner.stopped = Some(match result {
        Ok(()) => "stack shut down".into(),
        Err(e) => format!("device error: {e}"),
    });
    for (_, ws) in inner.wakers.drain() {
        for w in ws {
            w.wake();
        }
    }
    shared.cond.notify_all();
}

/// Hands the endpoint's events to whoever waits for them.
fn dispatch(shared: &Shared, inner: &mut Inner) {
    let mut any = false;
    while let Some(ev) = inner.ep.poll_event() {
        any = true;
        let key = match ev {
            EndpointEvent::Conn(h, _) => Key::Conn(h),
            EndpointEvent::Incoming(l) => Key::Listener(l),
        };
        if let Some(ws) = inner.wakers.remove(&key) {
            for w in ws {
                w.wake();
            }
        }
    }
    if any {
        shared.cond.notify_all();
    }
}
