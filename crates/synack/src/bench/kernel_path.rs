//! The Linux kernel on a loss-bench path, for reference: two kernel TCP
//! stacks, each in its own network namespace behind a TUN interface, and
//! a thread between the two interfaces that carries every packet through
//! the path's impairments (the simulator's link model, in real time) —
//! a userspace `netem`, which this kernel lacks. Needs root.
//!
//! Both kernels run CUBIC, the Linux default, with their other settings
//! as a new namespace has them. Each measurement gets fresh namespaces, so the kernel's per-destination
//! metrics cache (`tcp_metrics`: a remembered ssthresh and RTT) never
//! carries one run's losses into the next.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use sim::{Impairment, LinkSpec, Outcome};
use wire::Instant;

use super::netns::Netns;
use crate::device::{Device, Tun, TunConfig};

/// The data sender's (server's) address, in its namespace.
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 203, 0, 1);
/// The receiver's (client's) address.
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 203, 0, 2);
/// The server's port.
const PORT: u16 = 80;
/// The longest the bridge sleeps, so that it notices when to stop.
const MAX_WAIT: Duration = Duration::from_millis(5);

/// Decides, for each packet of one direction, whether it is lost on
/// purpose (before the link's own impairments).
pub(crate) type Filter = Box<dyn FnMut(&[u8]) -> bool + Send>;

/// The path between the two kernels.
pub(crate) struct KernelPath {
    /// The link from server to client: the data direction.
    pub data: LinkSpec,
    /// The link from client to server: requests and ACKs.
    pub acks: LinkSpec,
    /// Packets of the data direction to lose on purpose.
    pub data_filter: Option<Filter>,
    /// The seed of the links' random draws.
    pub seed: u64,
}

/// What one request and response over a [`KernelPath`] measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    /// From the client's `connect` to the last byte of the response read.
    pub time: Duration,
    /// Packets the data filter dropped.
    pub filtered: u64,
}

/// Two namespaces, their interfaces joined by a running bridge, and the
/// server's listener.
struct Setup {
    // Field order is drop order: the bridge's interfaces and the
    // listener go before their namespaces.
    bridge: Bridge,
    listener: TcpListener,
    client_ns: Netns,
    _server_ns: Netns,
}

impl KernelPath {
    fn set_up(self) -> io::Result<Setup> {
        // Named by seed: runs with different seeds may go at once.
        let server_ns = Netns::new(&format!("kps{}", self.seed))?;
        let client_ns = Netns::new(&format!("kpc{}", self.seed))?;
        let tun = |addr: Ipv4Addr| {
            move || {
                Tun::open(&TunConfig {
                    name: "skp0".into(),
                    kernel_addr: (IpAddr::V4(addr), 24),
                    mtu: 1500,
                    // The bridge models every packet of the path.
                    offload: false,
                })
            }
        };
        let server_tun = server_ns.run(tun(SERVER))?;
        let client_tun = client_ns.run(tun(CLIENT))?;
        let listener = server_ns.run(|| {
            let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, PORT))?;
            // CUBIC, Linux's default, whatever this machine runs (a new
            // namespace takes the host's choice, BBR on some, and may not
            // change it); accepted connections inherit it.
            crate::sys::set_congestion_control(l.as_raw_fd(), "cubic")?;
            Ok(l)
        })?;
        let bridge = Bridge::start(
            server_tun,
            Direction::new(self.data, self.data_filter, self.seed),
            client_tun,
            Direction::new(self.acks, None, self.seed ^ 0x9e37_79b9_7f4a_7c15),
        );
        Ok(Setup {
            bridge,
            listener,
            client_ns,
            _server_ns: server_ns,
        })
    }

    /// Runs `server` with the server's listener on a thread and `client`
    /// in the client's namespace with the server's address, across the
    /// bridge; then stops the bridge. (what the client returned, what the
    /// server returned, the packets the filter dropped.)
    fn run<S: Send + 'static, C: Send + 'static>(
        self,
        server: impl FnOnce(TcpListener) -> S + Send + 'static,
        client: impl FnOnce(SocketAddr) -> io::Result<C> + Send + 'static,
    ) -> io::Result<(C, S, u64)> {
        let Setup {
            bridge,
            listener,
            client_ns,
            _server_ns,
        } = self.set_up()?;
        let server = std::thread::spawn(move || server(listener));
        let client = client_ns.run(move || client(SocketAddr::new(IpAddr::V4(SERVER), PORT)));
        let served = server
            .join()
            .map_err(|_| io::Error::other("server panicked"))?;
        let filtered = bridge.stop()?;
        Ok((client?, served, filtered))
    }

    /// A kernel client sends `request` bytes to a kernel server, which
    /// answers with `response` bytes and closes.
    pub fn exchange(self, request: usize, response: usize) -> io::Result<Exchange> {
        let server = move |listener: TcpListener| -> io::Result<()> {
            let (mut s, _) = listener.accept()?;
            let mut req = vec![0u8; request];
            s.read_exact(&mut req)?;
            s.write_all(&vec![0x5a; response])?;
            s.shutdown(std::net::Shutdown::Write)
        };
        let client = move |to: SocketAddr| {
            let t = std::time::Instant::now();
            let mut c = TcpStream::connect(to)?;
            c.write_all(&vec![0x41; request])?;
            let mut got = vec![0u8; response];
            c.read_exact(&mut got)?;
            Ok(t.elapsed())
        };
        let (time, served, filtered) = self.run(server, client)?;
        served?;
        Ok(Exchange { time, filtered })
    }

    /// A kernel server writes to a kernel client for `time` from the
    /// client's `connect`; the bytes the client read in that time.
    pub fn bulk(self, time: Duration) -> io::Result<u64> {
        let server = move |listener: TcpListener| {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            // Until the client hangs up (an error here is its doing); the
            // timeout in case its reset never comes.
            let _ = s.set_write_timeout(Some(time + Duration::from_secs(5)));
            let chunk = vec![0x5a; 64 * 1024];
            while s.write_all(&chunk).is_ok() {}
        };
        // When the client returns, its socket closes (a reset, with unread
        // data): the server's next write fails once the RST crosses the
        // bridge.
        let client = move |to: SocketAddr| {
            let end = std::time::Instant::now() + time;
            let mut c = TcpStream::connect(to)?;
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0u64;
            loop {
                let left = end.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Ok(got);
                }
                c.set_read_timeout(Some(left))?;
                match c.read(&mut buf) {
                    Ok(0) => return Ok(got),
                    Ok(n) => got += n as u64,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        return Ok(got)
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let (got, (), _) = self.run(server, client)?;
        Ok(got)
    }
}

/// One direction of the bridge: its impairment, its filter, and the
/// packets on their way.
struct Direction {
    link: Impairment,
    filter: Option<Filter>,
    /// By delivery time, then by arrival (a link never reorders unless
    /// its spec says so).
    held: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    filtered: u64,
}

impl Direction {
    fn new(spec: LinkSpec, filter: Option<Filter>, seed: u64) -> Direction {
        Direction {
            link: Impairment::new(spec, seed),
            filter,
            held: BinaryHeap::new(),
            filtered: 0,
        }
    }

    fn offer(&mut self, now: Instant, packet: &mut [u8], order: &mut u64) {
        if self.filter.as_mut().is_some_and(|f| f(packet)) {
            self.filtered += 1;
            return;
        }
        if let Outcome::Deliver { at, duplicate } = self.link.offer(now, packet) {
            for _ in 0..1 + usize::from(duplicate) {
                *order += 1;
                self.held.push(Reverse((at, *order, packet.to_vec())));
            }
        }
    }

    /// Writes out every packet due by `now`.
    fn release(&mut self, now: Instant, to: &mut Tun) -> io::Result<()> {
        while self.held.peek().is_some_and(|Reverse((at, ..))| *at <= now) {
            let Reverse((_, _, packet)) = self.held.pop().expect("peeked");
            to.send(now, &packet)?;
        }
        Ok(())
    }

    fn next(&self) -> Option<Instant> {
        self.held.peek().map(|Reverse((at, ..))| *at)
    }
}

/// The thread carrying packets between two TUN interfaces.
struct Bridge {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<u64>>,
}

impl Bridge {
    /// Carries packets from `a` through `from_a` to `b`, and from `b`
    /// through `from_b` to `a`, until stopped.
    fn start(mut a: Tun, mut from_a: Direction, mut b: Tun, mut from_b: Direction) -> Bridge {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || -> io::Result<u64> {
            let start = std::time::Instant::now();
            let clock = || Instant::from_micros(start.elapsed().as_micros() as u64);
            let mut buf = vec![0u8; 65536];
            let mut order = 0;
            while !stopping.load(Ordering::Relaxed) {
                let now = clock();
                from_a.release(now, &mut b)?;
                from_b.release(now, &mut a)?;
                let wait = [from_a.next(), from_b.next()]
                    .into_iter()
                    .flatten()
                    .min()
                    .map_or(MAX_WAIT, |at| crate::device::until(now, at).min(MAX_WAIT));
                crate::sys::poll_readable(&[a.readable_fd(), b.readable_fd()], Some(wait))?;
                let now = clock();
                while let Some(n) = a.recv(now, &mut buf)? {
                    from_a.offer(now, &mut buf[..n], &mut order);
                }
                while let Some(n) = b.recv(now, &mut buf)? {
                    from_b.offer(now, &mut buf[..n], &mut order);
                }
            }
            if std::env::var_os("SYNACK_LOSS_DEBUG").is_some() {
                for (dir, d) in [("data", &from_a), ("acks", &from_b)] {
                    eprintln!("    kernel bridge {dir}: {:?}", d.link.stats());
                }
            }
            Ok(from_a.filtered + from_b.filtered)
        });
        Bridge { stop, thread }
    }

    /// Stops the thread; the packets the filters dropped.
    fn stop(self) -> io::Result<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| io::Error::other("bridge panicked"))?
    }
}
