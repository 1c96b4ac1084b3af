//! smoltcp 0.14 as the rival: two interfaces in one thread joined by
//! memory, configured like synack's side (same MTU, 1 MiB socket buffers,
//! checksums computed and verified, no congestion control limit since the
//! link never drops).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant as StdInstant};

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};

use super::cpu_clock::CpuClock;

type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of the memory link.
struct Pipe {
    rx: Queue,
    tx: Queue,
    mtu: usize,
    spare: Rc<RefCell<Vec<Vec<u8>>>>,
}

struct Rx(Vec<u8>, Rc<RefCell<Vec<Vec<u8>>>>);
struct Tx<'a>(&'a Pipe);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.0);
        self.1.borrow_mut().push(self.0);
        r
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.0.spare.borrow_mut().pop().unwrap_or_default();
        buf.resize(len, 0);
        let r = f(&mut buf);
        self.0.tx.borrow_mut().push_back(buf);
        r
    }
}

impl phy::Device for Pipe {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let p = self.rx.borrow_mut().pop_front()?;
        Some((Rx(p, self.spare.clone()), Tx(self)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        caps
    }
}

struct Side {
    iface: Interface,
    dev: Pipe,
    sockets: SocketSet<'static>,
}

const A: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
const B: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);

fn pair(mtu: usize) -> (Side, Side) {
    let ab: Queue = Rc::default();
    let ba: Queue = Rc::default();
    let spare = Rc::new(RefCell::new(Vec::new()));
    let make = |rx: Queue, tx: Queue, addr: Ipv4Address| {
        let mut dev = Pipe {
            rx,
            tx,
            mtu,
            spare: spare.clone(),
        };
        let mut cfg = Config::new(HardwareAddress::Ip);
        cfg.random_seed = 7;
        let mut iface = Interface::new(cfg, &mut dev, Instant::from_millis(0));
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(addr), 24));
        });
        Side {
            iface,
            dev,
            sockets: SocketSet::new(Vec::new()),
        }
    };
    (make(ba.clone(), ab.clone(), A), make(ab, ba, B))
}

fn socket(buffer: usize) -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; buffer]),
        tcp::SocketBuffer::new(vec![0; buffer]),
    );
    s.set_congestion_control(tcp::CongestionControl::None);
    s
}

fn now(start: StdInstant) -> Instant {
    Instant::from_micros(start.elapsed().as_micros() as i64)
}

fn poll(a: &mut Side, b: &mut Side, t: Instant) {
    for _ in 0..64 {
        let ra = a.iface.poll(t, &mut a.dev, &mut a.sockets);
        let rb = b.iface.poll(t, &mut b.dev, &mut b.sockets);
        let idle = a.dev.rx.borrow().is_empty() && b.dev.rx.borrow().is_empty();
        if idle && ra == smoltcp::iface::PollResult::None && rb == smoltcp::iface::PollResult::None
        {
            break;
        }
    }
}

/// Opens a connection from a fresh client socket on `port` to a fresh
/// listening server socket; their handles once established.
fn open(
    a: &mut Side,
    b: &mut Side,
    port: u16,
    buffer: usize,
    start: StdInstant,
) -> Option<(SocketHandle, SocketHandle)> {
    let (ch, sh) = begin_open(a, b, port, 80, buffer)?;
    for _ in 0..100 {
        poll(a, b, now(start));
        if a.sockets.get::<tcp::Socket>(ch).state() == tcp::State::Established {
            return Some((ch, sh));
        }
    }
    None
}

/// A listening socket on `server_port` and a client socket connecting to
/// it from `client_port`, the SYN not yet sent; (client, server) handles.
fn begin_open(
    a: &mut Side,
    b: &mut Side,
    client_port: u16,
    server_port: u16,
    buffer: usize,
) -> Option<(SocketHandle, SocketHandle)> {
    let mut server = socket(buffer);
    server.listen(server_port).ok()?;
    let sh = b.sockets.add(server);
    let ch = a.sockets.add(socket(buffer));
    let cx = a.iface.context();
    a.sockets
        .get_mut::<tcp::Socket>(ch)
        .connect(cx, (IpAddress::Ipv4(B), server_port), client_port)
        .ok()?;
    Some((ch, sh))
}

/// Opens `n` idle connections (small buffers: they carry nothing), in
/// batches: every poll of a smoltcp interface visits every socket, so
/// opening them one by one would cost time quadratic in `n`. Client ports
/// run through 1024..61024; each 60 000 connections the server port moves
/// on (81, 82, …), so that no two share a 4-tuple.
fn open_idle(a: &mut Side, b: &mut Side, n: usize, start: StdInstant) -> Option<()> {
    const BATCH: usize = 10_000;
    let mut opened = 0;
    while opened < n {
        let batch = BATCH.min(n - opened);
        let mut clients = Vec::with_capacity(batch);
        for i in opened..opened + batch {
            let (client_port, server_port) = (1024 + (i % 60_000) as u16, 81 + (i / 60_000) as u16);
            let (ch, _) = begin_open(a, b, client_port, server_port, 4096)?;
            clients.push(ch);
        }
        let established = |a: &Side| {
            clients
                .iter()
                .all(|&h| a.sockets.get::<tcp::Socket>(h).state() == tcp::State::Established)
        };
        let mut rounds = 0;
        while !established(a) {
            poll(a, b, now(start));
            rounds += 1;
            if rounds > 100 {
                return None;
            }
        }
        opened += batch;
    }
    Some(())
}

/// Goodput in Gbit/s moving `total` bytes, beside `idle` idle connections
/// (a listening socket per connection, as smoltcp demands). With many idle
/// sockets smoltcp slows by orders of magnitude (every poll visits them
/// all): the transfer then stops after [`BULK_CPU_BUDGET`] and the rate is
/// what moved in that time.
pub fn bulk(mtu: u16, total: u64, idle: usize) -> Option<f64> {
    let (mut a, mut b) = pair(usize::from(mtu));
    let start = StdInstant::now();
    open_idle(&mut a, &mut b, idle, start)?;
    let (ch, sh) = open(&mut a, &mut b, 65000, 1 << 20, start)?;
    let chunk = vec![0x5au8; 65536];
    let mut rbuf = vec![0u8; 65536];
    let (mut sent, mut received) = (0u64, 0u64);
    let clock = CpuClock::start();
    let mut stalls = 0;
    let mut rounds = 0u64;
    while received < total {
        // The clock is a system call: read it now and then.
        rounds += 1;
        if rounds.is_multiple_of(64) && clock.secs() > BULK_CPU_BUDGET {
            break;
        }
        {
            let c = a.sockets.get_mut::<tcp::Socket>(ch);
            // The same loop as synack's: one 64 KiB write per round.
            if sent < total {
                let n = (total - sent).min(chunk.len() as u64) as usize;
                if let Ok(k) = c.send_slice(&chunk[..n]) {
                    sent += k as u64;
                }
            }
        }
        poll(&mut a, &mut b, now(start));
        let s = b.sockets.get_mut::<tcp::Socket>(sh);
        let before = received;
        while let Ok(n) = s.recv_slice(&mut rbuf) {
            if n == 0 {
                break;
            }
            received += n as u64;
        }
        stalls = if received == before { stalls + 1 } else { 0 };
        if stalls > 1_000_000 {
            return None;
        }
    }
    Some(received as f64 * 8.0 / clock.secs() / 1e9)
}

/// The most CPU seconds a smoltcp bulk transfer runs (see [`bulk`]).
pub const BULK_CPU_BUDGET: f64 = 10.0;

/// Connections per second: connect, accept, 100 bytes each way, close by
/// the client; the sockets are reused as smoltcp's API demands (a fresh
/// client port each time, since the closed client would sit in
/// TIME-WAIT).
pub fn churn(duration: Duration) -> Option<f64> {
    let (mut a, mut b) = pair(1500);
    let start = StdInstant::now();
    let ch = a.sockets.add(socket(4096));
    let sh = b.sockets.add(socket(4096));
    let request = [0x42u8; 100];
    let mut buf = [0u8; 256];
    let mut done = 0u64;
    let mut port = 1024u16;
    let t0 = StdInstant::now();
    let clock = CpuClock::start();
    while t0.elapsed() < duration {
        b.sockets.get_mut::<tcp::Socket>(sh).listen(80).ok()?;
        port = if port >= 65000 { 1024 } else { port + 1 };
        let cx = a.iface.context();
        a.sockets
            .get_mut::<tcp::Socket>(ch)
            .connect(cx, (IpAddress::Ipv4(B), 80), port)
            .ok()?;
        let mut phase = 0;
        for _ in 0..10_000 {
            poll(&mut a, &mut b, now(start));
            let c = a.sockets.get_mut::<tcp::Socket>(ch);
            match phase {
                0 if c.may_send() => {
                    c.send_slice(&request).ok()?;
                    phase = 1;
                }
                1 => {
                    let s = b.sockets.get_mut::<tcp::Socket>(sh);
                    if s.recv_slice(&mut buf).unwrap_or(0) > 0 {
                        s.send_slice(&request).ok()?;
                        phase = 2;
                    }
                }
                2 if c.recv_slice(&mut buf).unwrap_or(0) > 0 => {
                    c.close();
                    phase = 3;
                }
                3 => {
                    let s = b.sockets.get_mut::<tcp::Socket>(sh);
                    if !s.may_recv() {
                        s.close();
                    }
                    let c = a.sockets.get::<tcp::Socket>(ch).state();
                    let s = b.sockets.get::<tcp::Socket>(sh).state();
                    if matches!(c, tcp::State::TimeWait | tcp::State::Closed)
                        && s == tcp::State::Closed
                    {
                        a.sockets.get_mut::<tcp::Socket>(ch).abort();
                        poll(&mut a, &mut b, now(start));
                        break;
                    }
                }
                _ => {}
            }
        }
        if phase != 3 {
            return None;
        }
        done += 1;
    }
    Some(done as f64 / clock.secs())
}

/// smoltcp over a TUN device: reads and writes whole IP packets.
struct TunPhy {
    tun: crate::device::Tun,
    spare: Rc<RefCell<Vec<Vec<u8>>>>,
}

struct TunTx<'a>(&'a mut crate::device::Tun);

impl phy::TxToken for TunTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        use crate::device::Device;
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        let _ = self.0.send(wire::Instant::ZERO, &buf);
        r
    }
}

impl phy::Device for TunPhy {
    type RxToken<'a> = Rx;
    type TxToken<'a> = TunTx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, TunTx<'_>)> {
        use crate::device::Device;
        let mut buf = self.spare.borrow_mut().pop().unwrap_or_default();
        buf.resize(65536, 0);
        let n = self.tun.recv(wire::Instant::ZERO, &mut buf).ok()??;
        buf.truncate(n);
        Some((Rx(buf, self.spare.clone()), TunTx(&mut self.tun)))
    }

    fn transmit(&mut self, _: Instant) -> Option<TunTx<'_>> {
        Some(TunTx(&mut self.tun))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

/// smoltcp ↔ kernel throughput in Gbit/s over `tun` (already open inside
/// the namespace, the kernel at `kernel:port`), one stream: smoltcp sends
/// if `sends`, else the kernel does. Runs on the calling thread.
pub fn tun_kernel(
    tun: crate::device::Tun,
    own: Ipv4Address,
    kernel: Ipv4Address,
    port: u16,
    total: u64,
    sends: bool,
) -> std::io::Result<f64> {
    use crate::device::Device;
    let mut dev = TunPhy {
        tun,
        spare: Rc::new(RefCell::new(Vec::new())),
    };
    let mut cfg = Config::new(HardwareAddress::Ip);
    cfg.random_seed = 11;
    let start = StdInstant::now();
    let mut iface = Interface::new(cfg, &mut dev, now(start));
    iface.update_ip_addrs(|a| {
        let _ = a.push(IpCidr::new(IpAddress::Ipv4(own), 24));
    });
    iface
        .routes_mut()
        .add_default_ipv4_route(kernel)
        .map_err(|_| std::io::Error::other("route"))?;
    let mut sockets = SocketSet::new(Vec::new());
    let mut s = socket(1 << 20);
    s.set_congestion_control(tcp::CongestionControl::Cubic);
    let h = sockets.add(s);
    sockets
        .get_mut::<tcp::Socket>(h)
        .connect(iface.context(), (IpAddress::Ipv4(kernel), port), 40000)
        .map_err(|e| std::io::Error::other(format!("connect: {e}")))?;
    let chunk = vec![0x5au8; 65536];
    let mut buf = vec![0u8; 65536];
    let (mut sent, mut got) = (0u64, 0u64);
    let mut t0 = None;
    let deadline = StdInstant::now() + Duration::from_secs(120);
    loop {
        iface.poll(now(start), &mut dev, &mut sockets);
        let s = sockets.get_mut::<tcp::Socket>(h);
        if s.state() == tcp::State::Established && t0.is_none() {
            t0 = Some(StdInstant::now());
        }
        if sends {
            while sent < total && s.can_send() {
                let n = (total - sent).min(chunk.len() as u64) as usize;
                match s.send_slice(&chunk[..n]) {
                    Ok(k) if k > 0 => sent += k as u64,
                    _ => break,
                }
            }
            if sent == total {
                s.close();
            }
        } else {
            while let Ok(n) = s.recv_slice(&mut buf) {
                if n == 0 {
                    break;
                }
                got += n as u64;
            }
            if !s.may_recv() && got > 0 {
                s.close();
            }
        }
        // Done when the kernel has closed its side and ours is gone.
        if matches!(s.state(), tcp::State::TimeWait | tcp::State::Closed) && t0.is_some() {
            let moved = if sends { sent } else { got };
            return Ok(moved as f64 * 8.0 / t0.map_or(1.0, |t| t.elapsed().as_secs_f64()) / 1e9);
        }
        if StdInstant::now() > deadline {
            return Err(std::io::Error::other("smoltcp over TUN timed out"));
        }
        let wait = iface
            .poll_delay(now(start), &sockets)
            .map(|d| Duration::from_micros(d.total_micros()))
            .unwrap_or(Duration::from_millis(50))
            .min(Duration::from_millis(50));
        if !wait.is_zero() {
            let _ = crate::sys::poll_readable(&[dev.tun.readable_fd()], Some(wait));
        }
    }
}
