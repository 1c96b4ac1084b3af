//! Row 2: connection churn. Each connection: connect → accept through the
//! listener's queue → 100-byte request → 100-byte response → close by the
//! client. Connections per second over a fixed time.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use proto::conn::Config;

use super::cpu_clock::CpuClock;
use super::pair::{Pair, B, PORT};

/// Connections in flight at once in the synack run.
const BATCH: usize = 64;

/// synack: both endpoints in this thread. The client closes first and so
/// holds TIME-WAIT; with 256 client addresses and an MSL of 1 s (a 2 s
/// TIME-WAIT, instead of 60 s) the 4-tuples never run out. The loop polls
/// (accepts until there is none, reads until `WouldBlock`), as the
/// kernel's and smoltcp's loops do, so it asks for no events.
pub fn synack(duration: Duration) -> f64 {
    let conn = Config {
        msl: Duration::from_secs(1),
        events: false,
        ..Pair::config(1500, 64 * 1024)
    };
    let mut p = Pair::with_config(1500, conn, 256);
    let listener = p.listener;
    let request = [0x42u8; 100];
    let mut buf = [0u8; 256];
    let start = Instant::now();
    let clock = CpuClock::start();
    let mut done = 0u64;
    let addrs: Vec<_> = p.a.addresses().to_vec();
    let mut next_addr = 0;
    while start.elapsed() < duration {
        let now = p.now();
        let mut clients = Vec::with_capacity(BATCH);
        for _ in 0..BATCH {
            let local = SocketAddr::new(addrs[next_addr % addrs.len()], 0);
            next_addr += 1;
            if let Ok(h) = p.a.connect(now, SocketAddr::new(B, PORT), Some(local)) {
                clients.push(h);
            }
        }
        p.pump();
        let mut servers = Vec::with_capacity(BATCH);
        while let Some(h) = p.b.accept(listener) {
            servers.push(h);
        }
        for &c in &clients {
            let _ = p.a.send(c, &request);
        }
        p.pump();
        for &s in &servers {
            while let Ok(n) = p.b.recv(s, &mut buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = p.b.send(s, &request);
        }
        p.pump();
        let now = p.now();
        for &c in &clients {
            while let Ok(n) = p.a.recv(c, &mut buf) {
                if n == 0 {
                    break;
                }
            }
            p.a.close(c, now);
        }
        p.pump();
        let now = p.now();
        for &s in &servers {
            let _ = p.b.recv(s, &mut buf);
            p.b.close(s, now);
        }
        p.pump();
        p.forget_events();
        done += servers.len() as u64;
    }
    let secs = clock.secs();
    let overflow = p.a.stats().time_wait_overflow;
    if overflow > 0 {
        eprintln!("churn: {overflow} connections skipped TIME-WAIT (its table was full)");
    }
    done as f64 / secs
}

/// The Linux kernel over loopback: a server thread and this thread as the
/// client, one connection at a time.
pub fn kernel(duration: Duration) -> std::io::Result<f64> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            if s.read_exact(&mut buf[..100]).is_err() {
                // The client's wake-up connection at the end: stop.
                return;
            }
            let _ = s.write_all(&buf[..100]);
            let _ = s.read(&mut buf);
        }
    });
    let request = [0x42u8; 100];
    let mut buf = [0u8; 100];
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < duration {
        let mut s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.write_all(&request)?;
        s.read_exact(&mut buf)?;
        drop(s);
        done += 1;
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    // An empty connection tells the server to stop.
    drop(TcpStream::connect(addr)?);
    let _ = server.join();
    Ok(rate)
}
