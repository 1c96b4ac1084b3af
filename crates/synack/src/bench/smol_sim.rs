//! smoltcp 0.14 as a simulator host for `synack bench loss`: an
//! `Interface` over a queue of IP packets, its TCP sockets with CUBIC (its
//! best congestion control, the `socket-tcp-cubic` feature) and the same
//! buffers and application as synack's side.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use wire::Instant;

use super::loss::{App, AppStats, LossHost, Role, RxDup, Sockets, TxCount, BUFFER, PORT};

/// Packets in and out of the interface.
#[derive(Default)]
struct Queues {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0.push_back(buf);
        r
    }
}

impl phy::Device for Queues {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: SmolInstant) -> Option<(Rx, Tx<'_>)> {
        let p = self.rx.pop_front()?;
        Some((Rx(p), Tx(&mut self.tx)))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

/// A smoltcp interface with the bench's application.
pub(crate) struct SmolHost {
    iface: Interface,
    dev: Queues,
    sockets: SocketSet<'static>,
    /// Sockets listening for (or holding) accepted connections, and
    /// whether each was handed to the application.
    listeners: Vec<(SocketHandle, bool)>,
    peer: Ipv4Address,
    app: App<SocketHandle>,
    tx: TxCount,
    rx: RxDup,
    /// The time of the last poll.
    now: Instant,
}

fn smol_time(t: Instant) -> SmolInstant {
    SmolInstant::from_micros(t.micros() as i64)
}

fn socket() -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; BUFFER]),
        tcp::SocketBuffer::new(vec![0; BUFFER]),
    );
    s.set_congestion_control(tcp::CongestionControl::Cubic);
    s
}

struct SmolSockets<'a> {
    iface: &'a mut Interface,
    sockets: &'a mut SocketSet<'static>,
    listeners: &'a mut Vec<(SocketHandle, bool)>,
    peer: Ipv4Address,
}

impl Sockets for SmolSockets<'_> {
    type Conn = SocketHandle;
    fn connect(&mut self, _now: Instant, flow: usize) -> Option<SocketHandle> {
        let h = self.sockets.add(socket());
        let cx = self.iface.context();
        self.sockets
            .get_mut::<tcp::Socket>(h)
            .connect(cx, (IpAddress::Ipv4(self.peer), PORT), 40_000 + flow as u16)
            .ok()?;
        Some(h)
    }
    fn accept(&mut self) -> Option<SocketHandle> {
        for (h, taken) in self.listeners.iter_mut() {
            let state = self.sockets.get::<tcp::Socket>(*h).state();
            if !*taken && !matches!(state, tcp::State::Listen | tcp::State::SynReceived) {
                *taken = true;
                return Some(*h);
            }
        }
        None
    }
    fn send(&mut self, c: SocketHandle, data: &[u8]) -> usize {
        let s = self.sockets.get_mut::<tcp::Socket>(c);
        if !s.may_send() {
            return 0;
        }
        s.send_slice(data).unwrap_or(0)
    }
    fn recv(&mut self, c: SocketHandle, buf: &mut [u8]) -> usize {
        self.sockets
            .get_mut::<tcp::Socket>(c)
            .recv_slice(buf)
            .unwrap_or(0)
    }
}

impl SmolHost {
    fn pump(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let t = smol_time(self.now);
        self.iface.poll(t, &mut self.dev, &mut self.sockets);
        let mut s = SmolSockets {
            iface: &mut self.iface,
            sockets: &mut self.sockets,
            listeners: &mut self.listeners,
            peer: self.peer,
        };
        self.app.step(&mut s, now);
        self.iface.poll(t, &mut self.dev, &mut self.sockets);
    }
}

impl LossHost for SmolHost {
    fn create(addr: Ipv4Addr, peer: Ipv4Addr, role: Role, seed: u64) -> SmolHost {
        let mut dev = Queues::default();
        let mut cfg = Config::new(HardwareAddress::Ip);
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut dev, SmolInstant::from_micros(0));
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(addr), 24));
        });
        let mut sockets = SocketSet::new(Vec::new());
        let mut listeners = Vec::new();
        if matches!(role, Role::Sink | Role::Server) {
            // smoltcp needs a listening socket per connection.
            for _ in 0..4 {
                let mut s = socket();
                if s.listen(PORT).is_ok() {
                    listeners.push((sockets.add(s), false));
                }
            }
        }
        SmolHost {
            iface,
            dev,
            sockets,
            listeners,
            peer,
            app: App::new(role),
            tx: TxCount::default(),
            rx: RxDup::default(),
            now: Instant::ZERO,
        }
    }
    fn stats(&self) -> &AppStats {
        &self.app.stats
    }
    fn tx(&self) -> &TxCount {
        &self.tx
    }
    fn rx_dup(&self) -> &RxDup {
        &self.rx
    }
}

impl sim::Host for SmolHost {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        self.rx.count(packet);
        self.dev.rx.push_back(packet.to_vec());
        self.pump(now);
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if !self.app.started() {
            self.pump(now);
        }
        let p = self.dev.tx.pop_front()?;
        let n = p.len().min(buf.len());
        buf[..n].copy_from_slice(&p[..n]);
        self.tx.count(&buf[..n]);
        Some(n)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        let at = self.iface.poll_at(smol_time(self.now), &self.sockets)?;
        let at = Instant::from_micros(at.total_micros().max(0) as u64);
        // smoltcp asks for "now" while it has something to send that its
        // windows hold back; the simulator must not stay at one instant.
        Some(at.max(self.now + std::time::Duration::from_micros(100)))
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.pump(now);
    }
}
