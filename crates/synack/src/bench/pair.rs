//! Two synack endpoints in one thread, joined by memory: what one sends,
//! the other handles at once. Checksums are computed and verified as on a
//! real link.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use proto::conn::Config;
use proto::endpoint::{ConnHandle, Endpoint, EndpointConfig, ListenerHandle};
use wire::Instant;

/// The client's address.
pub const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// The server's address.
pub const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// The server's port.
pub const PORT: u16 = 80;

/// Two endpoints and a clock.
pub struct Pair {
    /// The client.
    pub a: Endpoint,
    /// The server.
    pub b: Endpoint,
    /// The server's listener.
    pub listener: ListenerHandle,
    start: std::time::Instant,
    buf: Vec<u8>,
}

impl Pair {
    /// The connection settings for `mtu` and socket buffers of `buffer`
    /// bytes.
    pub fn config(mtu: u16, buffer: usize) -> Config {
        Config {
            send_buffer: buffer,
            recv_buffer: buffer,
            mss: mtu.saturating_sub(40),
            ..Config::default()
        }
    }

    /// Endpoints with `mtu` and socket buffers of `buffer` bytes; the
    /// client has `extra_client_addrs` more addresses (for many 4-tuples).
    pub fn new(mtu: u16, buffer: usize, extra_client_addrs: usize) -> Pair {
        Pair::with_config(mtu, Pair::config(mtu, buffer), extra_client_addrs)
    }

    /// Endpoints whose connections use `conn`.
    pub fn with_config(mtu: u16, conn: Config, extra_client_addrs: usize) -> Pair {
        // As a `Stack` does: the checksum with the CPU's vector unit.
        crate::install_fast_checksum();
        let config = |seed| EndpointConfig {
            conn,
            mtu,
            seed,
            max_half_open: 1 << 20,
            // Room for every TIME-WAIT the churn row makes (2·MSL at its
            // rate): past the limit a connection would skip TIME-WAIT
            // and cost less than the row claims.
            max_time_wait: 1 << 22,
            ..EndpointConfig::default()
        };
        let mut a_addrs = vec![A];
        for i in 0..extra_client_addrs {
            a_addrs.push(IpAddr::V4(Ipv4Addr::from(0x0a01_0000 + i as u32)));
        }
        let a = Endpoint::new(config(1), &a_addrs);
        let mut b = Endpoint::new(config(2), &[B]);
        let listener = b
            .listen(SocketAddr::new(B, PORT), 1 << 20)
            .expect("a fresh endpoint listens");
        Pair {
            a,
            b,
            listener,
            start: std::time::Instant::now(),
            buf: vec![0u8; 65536 + 64],
        }
    }

    /// The real time since the pair began, as the protocol's clock.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// Moves packets both ways and runs due timers until nothing moves.
    pub fn pump(&mut self) {
        let now = self.now();
        loop {
            let mut moved = false;
            while let Some(n) = self.a.poll_transmit(now, &mut self.buf) {
                self.b.handle_packet(now, &self.buf[..n]);
                moved = true;
            }
            while let Some(n) = self.b.poll_transmit(now, &mut self.buf) {
                self.a.handle_packet(now, &self.buf[..n]);
                moved = true;
            }
            for ep in [&mut self.a, &mut self.b] {
                if ep.poll_timeout().is_some_and(|t| t <= now) {
                    ep.handle_timeout(now);
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Opens a connection from `local` (or the default address) and
    /// accepts it on the server; both handles.
    pub fn open(&mut self, local: Option<IpAddr>) -> (ConnHandle, ConnHandle) {
        let now = self.now();
        let ca = self
            .a
            .connect(
                now,
                SocketAddr::new(B, PORT),
                local.map(|ip| SocketAddr::new(ip, 0)),
            )
            .expect("connect");
        self.pump();
        let cb = self
            .b
            .accept(self.listener)
            .expect("the handshake completed");
        (ca, cb)
    }

    /// Drains pending events (they are not needed here).
    pub fn forget_events(&mut self) {
        while self.a.poll_event().is_some() {}
        while self.b.poll_event().is_some() {}
    }
}
