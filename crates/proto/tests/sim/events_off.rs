//! `conn::Config::events` off: the endpoints send exactly the packets they
//! send with events on, accept the same connections, and report nothing
//! but the listener's `Incoming`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use proto::conn::{Config, State};
use proto::endpoint::{Endpoint, EndpointConfig, EndpointEvent};
use wire::Instant;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

/// Two endpoints joined by memory, every packet recorded.
struct Wire {
    a: Endpoint,
    b: Endpoint,
    now: Instant,
    packets: Vec<Vec<u8>>,
    events: Vec<EndpointEvent>,
}

impl Wire {
    fn new(events: bool) -> Wire {
        let config = |seed| EndpointConfig {
            conn: Config {
                events,
                msl: Duration::from_secs(1),
                ..Config::default()
            },
            seed,
            ..EndpointConfig::default()
        };
        Wire {
            a: Endpoint::new(config(1), &[CLIENT]),
            b: Endpoint::new(config(2), &[SERVER]),
            now: Instant::from_millis(1),
            packets: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Moves packets both ways and runs due timers until nothing moves,
    /// then lets `step` of time pass.
    fn pump(&mut self, step: Duration) {
        let mut buf = vec![0u8; 2048];
        loop {
            let mut moved = false;
            while let Some(n) = self.a.poll_transmit(self.now, &mut buf) {
                self.packets.push(buf[..n].to_vec());
                self.b.handle_packet(self.now, &buf[..n]);
                moved = true;
            }
            while let Some(n) = self.b.poll_transmit(self.now, &mut buf) {
                self.packets.push(buf[..n].to_vec());
                self.a.handle_packet(self.now, &buf[..n]);
                moved = true;
            }
            for ep in [&mut self.a, &mut self.b] {
                if ep.poll_timeout().is_some_and(|t| t <= self.now) {
                    ep.handle_timeout(self.now);
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        for ep in [&mut self.a, &mut self.b] {
            while let Some(ev) = ep.poll_event() {
                self.events.push(ev);
            }
        }
        self.now += step;
    }

    /// Connections that exchange a request and a response and end in
    /// three ways: the client closes first, the server closes first, the
    /// client aborts. Returns what the server read.
    fn run(&mut self) -> Vec<u8> {
        let listener = self.b.listen(SocketAddr::new(SERVER, 80), 64).unwrap();
        let mut read = Vec::new();
        let mut buf = [0u8; 512];
        for ending in 0..3 {
            let c = self
                .a
                .connect(self.now, SocketAddr::new(SERVER, 80), None)
                .unwrap();
            self.pump(Duration::from_millis(1));
            let s = self.b.accept(listener).expect("the handshake completed");
            assert_eq!(self.a.status(c).unwrap().state, State::Established);
            self.a.send(c, &[ending; 100]).unwrap();
            self.pump(Duration::from_millis(50));
            let n = self.b.recv(s, &mut buf).unwrap();
            read.extend_from_slice(&buf[..n]);
            self.b.send(s, &buf[..n]).unwrap();
            self.pump(Duration::from_millis(50));
            assert_eq!(self.a.recv(c, &mut buf), Ok(100));
            match ending {
                0 => {
                    self.a.close(c, self.now);
                    self.pump(Duration::from_millis(50));
                    assert_eq!(self.b.recv(s, &mut buf), Ok(0));
                    self.b.close(s, self.now);
                }
                1 => {
                    self.b.close(s, self.now);
                    self.pump(Duration::from_millis(50));
                    assert_eq!(self.a.recv(c, &mut buf), Ok(0));
                    self.a.close(c, self.now);
                }
                _ => {
                    self.a.abort(c);
                    self.pump(Duration::from_millis(50));
                    self.b.release(s);
                }
            }
            self.pump(Duration::from_millis(50));
        }
        // Past every TIME-WAIT.
        self.pump(Duration::from_secs(3));
        self.pump(Duration::ZERO);
        assert_eq!(self.a.connection_count() + self.b.connection_count(), 0);
        read
    }
}

#[test]
fn without_events_the_same_packets_go_out() {
    let mut on = Wire::new(true);
    let mut off = Wire::new(false);
    let read_on = on.run();
    let read_off = off.run();
    assert_eq!(read_on, read_off);
    assert_eq!(on.packets.len(), off.packets.len());
    assert_eq!(on.packets, off.packets, "byte for byte");
    assert!(on.events.len() > off.events.len());
    assert!(
        off.events
            .iter()
            .all(|ev| matches!(ev, EndpointEvent::Incoming(_))),
        "{:?}",
        off.events
    );
    assert_eq!(off.events.len(), 3, "one Incoming per connection");
}
