//! In process, against another implementation: smoltcp 0.14 on one end of
//! an in-memory link ([`ChannelDevice`]), a synack [`Stack`] on the other.
//! Bulk data both ways, hash-checked, and both closes, with synack as the
//! client and as the server. No privilege needed.

mod common;

use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr};
use std::thread;
use std::time::Duration;

use common::{drain_hash, random_bytes, sha256, with_deadline, write_chunked, IO_TIMEOUT};
use proto::endpoint::EndpointConfig;
use sha2::{Digest, Sha256};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use synack::device::{ChannelDevice, Device};
use synack::net::blocking::{TcpListener, TcpStream};
use synack::Stack;

const SMOL_IP: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 1);
const SYNACK_IP: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 2);
const SIZE: usize = 4 << 20;

/// smoltcp's view of one end of the in-memory link.
struct SmolLink(ChannelDevice);

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut ChannelDevice);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0
            .send(wire::Instant::ZERO, &buf)
            .expect("an in-memory send");
        r
    }
}

impl phy::Device for SmolLink {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(Rx, Tx<'_>)> {
        let mut buf = vec![0u8; 2048];
        let n = self.0.recv(wire::Instant::ZERO, &mut buf).expect("recv")?;
        buf.truncate(n);
        Some((Rx(buf), Tx(&mut self.0)))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.0))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

/// smoltcp's clock for TCP timestamps (milliseconds).
fn tsval() -> u32 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u32
}

/// A smoltcp host with one TCP socket.
struct Smol {
    iface: Interface,
    link: SmolLink,
    sockets: SocketSet<'static>,
    tcp: SocketHandle,
    start: std::time::Instant,
}

impl Smol {
    fn new(dev: ChannelDevice) -> Smol {
        let mut link = SmolLink(dev);
        let start = std::time::Instant::now();
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = 0x5eed;
        let mut iface = Interface::new(config, &mut link, smoltcp::time::Instant::ZERO);
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::Ipv4(SMOL_IP), 24))
                .unwrap();
        });
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; 256 * 1024]),
            tcp::SocketBuffer::new(vec![0; 256 * 1024]),
        );
        socket.set_tsval_generator(Some(tsval));
        let mut sockets = SocketSet::new(Vec::new());
        let tcp = sockets.add(socket);
        Smol {
            iface,
            link,
            sockets,
            tcp,
            start,
        }
    }

    fn now(&self) -> smoltcp::time::Instant {
        smoltcp::time::Instant::from_micros(self.start.elapsed().as_micros() as i64)
    }

    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.tcp)
    }

    /// Runs the interface once, then sleeps until a packet comes or its
    /// next deadline (at most 5 ms).
    fn step(&mut self) {
        let now = self.now();
        self.iface.poll(now, &mut self.link, &mut self.sockets);
        let delay = self
            .iface
            .poll_delay(self.now(), &self.sockets)
            .map_or(5, |d| d.total_millis().min(5)) as i32;
        let mut pfd = libc::pollfd {
            fd: self.link.0.readable_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live, initialised pollfd.
        unsafe { libc::poll(&mut pfd, 1, delay) };
    }

    /// Runs the smoltcp side of an exchange on its socket: reads
    /// everything to the peer's FIN (hashing it) and writes `send` — at
    /// once when `send_first`, else after the peer's FIN — then closes;
    /// until the socket is closed (or in TIME-WAIT). Returns what it
    /// received.
    fn exchange(&mut self, send: &[u8], send_first: bool) -> (u64, [u8; 32]) {
        let mut hasher = Sha256::new();
        let mut received = 0u64;
        let mut sent = 0usize;
        let mut closed = false;
        let mut peer_done = false;
        let deadline = std::time::Instant::now() + IO_TIMEOUT;
        loop {
            assert!(std::time::Instant::now() < deadline, "smoltcp side hangs");
            self.step();
            let s = self.socket();
            while s.can_recv() {
                s.recv(|buf| {
                    hasher.update(&*buf);
                    received += buf.len() as u64;
                    (buf.len(), ())
                })
                .expect("recv");
            }
            let opening = matches!(
                s.state(),
                tcp::State::Listen | tcp::State::SynSent | tcp::State::SynReceived
            );
            if !opening && !s.may_recv() {
                peer_done = true;
            }
            if (send_first || peer_done) && !closed {
                while sent < send.len() && s.can_send() {
                    sent += s.send_slice(&send[sent..]).expect("send");
                }
                if sent == send.len() {
                    s.close();
                    closed = true;
                }
            }
            if closed && peer_done && matches!(s.state(), tcp::State::Closed | tcp::State::TimeWait)
            {
                return (received, hasher.finalize().into());
            }
        }
    }
}

fn synack_stack(dev: ChannelDevice) -> Stack {
    Stack::new(dev, EndpointConfig::default(), &[IpAddr::V4(SYNACK_IP)]).expect("stack")
}

#[test]
fn synack_client_smoltcp_server() {
    with_deadline("synack → smoltcp", Duration::from_secs(300), || {
        let (a, b) = ChannelDevice::pair().unwrap();
        let stack = synack_stack(a);
        let mut smol = Smol::new(b);
        smol.socket().listen(5000).unwrap();
        let up = random_bytes(61, SIZE);
        let down = random_bytes(62, SIZE);
        let (up_want, down_want) = ((SIZE as u64, sha256(&up)), (SIZE as u64, sha256(&down)));
        let client_stack = stack.clone();
        // synack sends everything, then FIN, and reads to smoltcp's FIN.
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect_timeout(
                &client_stack,
                SocketAddr::new(IpAddr::V4(SMOL_IP), 5000),
                Some(Duration::from_secs(20)),
            )
            .expect("connect");
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            let mut w = s.clone();
            let writer = thread::spawn(move || {
                write_chunked(&mut w, &up).expect("write");
                w.shutdown(Shutdown::Write).expect("shutdown");
            });
            let got = drain_hash(&mut s).expect("read");
            writer.join().unwrap();
            got
        });
        // smoltcp answers only after our FIN: a half-closed connection.
        let smol_got = smol.exchange(&down, false);
        let synack_got = client.join().expect("client");
        assert_eq!(smol_got, up_want, "smoltcp received every byte");
        assert_eq!(synack_got, down_want, "synack received every byte");
        // synack's side ends too (it closed first: TIME-WAIT is kept
        // apart from connections).
        let idle = stack.wait_idle(Duration::from_secs(10));
        for _ in 0..100 {
            smol.step(); // let smoltcp see the last ACKs
        }
        assert!(idle, "synack's connection ended");
        stack.shutdown();
    });
}

#[test]
fn smoltcp_client_synack_server() {
    with_deadline("smoltcp → synack", Duration::from_secs(300), || {
        let (a, b) = ChannelDevice::pair().unwrap();
        let stack = synack_stack(a);
        let listener =
            TcpListener::bind(&stack, SocketAddr::new(IpAddr::V4(SYNACK_IP), 6000)).expect("bind");
        let up = random_bytes(71, SIZE);
        let down = random_bytes(72, SIZE);
        let (up_want, down_want) = ((SIZE as u64, sha256(&up)), (SIZE as u64, sha256(&down)));
        // synack reads to smoltcp's FIN, then answers and closes.
        let server = thread::spawn(move || {
            let (mut s, peer) = listener.accept().expect("accept");
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            let got = drain_hash(&mut s).expect("read");
            write_chunked(&mut s, &down).expect("write");
            drop(s); // close
            (peer, got)
        });
        let mut smol = Smol::new(b);
        let cx = smol.iface.context();
        smol.sockets
            .get_mut::<tcp::Socket>(smol.tcp)
            .connect(cx, (IpAddress::Ipv4(SYNACK_IP), 6000), 49500)
            .expect("connect");
        // smoltcp sends at once and closes; synack answers after that.
        let smol_got = smol.exchange(&up, true);
        let (peer, synack_got) = server.join().expect("server");
        assert_eq!(peer, SocketAddr::new(IpAddr::V4(SMOL_IP), 49500));
        assert_eq!(synack_got, up_want, "synack received every byte");
        assert_eq!(smol_got, down_want, "smoltcp received every byte");
        // smoltcp closed first; synack, the passive closer, ends without
        // TIME-WAIT.
        assert!(stack.wait_idle(Duration::from_secs(10)));
        assert_eq!(stack.with_endpoint(|ep| ep.time_wait_count()), 0);
        stack.shutdown();
    });
}

/// The link itself: both sides can read what the other wrote, no more.
#[test]
fn in_memory_link_round_trip() {
    let (mut a, mut b) = ChannelDevice::pair().unwrap();
    a.send(wire::Instant::ZERO, b"one").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(b.recv(wire::Instant::ZERO, &mut buf).unwrap(), Some(3));
    assert_eq!(&buf[..3], b"one");
    assert_eq!(b.recv(wire::Instant::ZERO, &mut buf).unwrap(), None);
    assert_eq!(a.recv(wire::Instant::ZERO, &mut buf).unwrap(), None);
}
