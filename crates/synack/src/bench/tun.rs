//! Row 5: bulk throughput between synack and the Linux kernel over a TUN
//! device in a network namespace, both directions, beside the kernel
//! talking to itself over a veth pair in the same run. Needs root.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Instant;

use proto::endpoint::EndpointConfig;

use super::netns::{in_ns, ip, Netns};
use crate::device::{Tun, TunConfig};
use crate::net::blocking;
use crate::{is_root, Stack};

/// Sends `total` bytes on `w` in 64 KiB writes.
fn pump_out(w: &mut impl Write, total: u64) -> io::Result<()> {
    let chunk = vec![0x5au8; 65536];
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// Reads until end of stream; returns the byte count.
fn pump_in(r: &mut impl Read) -> io::Result<u64> {
    let mut buf = vec![0u8; 65536];
    let mut total = 0;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

/// Whether this machine can run the TUN rows (root and namespaces).
pub fn available() -> bool {
    is_root() && std::path::Path::new("/dev/net/tun").exists()
}

const KERNEL: Ipv4Addr = Ipv4Addr::new(10, 201, 0, 1);
const SYNACK: Ipv4Addr = Ipv4Addr::new(10, 201, 0, 2);

/// synack ↔ kernel throughput in Gbit/s, (synack sends, kernel sends),
/// measured once per process and remembered for the second row.
pub fn synack_kernel_cached(total: u64) -> Option<(f64, f64)> {
    static CACHE: std::sync::OnceLock<Option<(f64, f64)>> = std::sync::OnceLock::new();
    *CACHE.get_or_init(|| {
        synack_kernel(total)
            .map_err(|e| eprintln!("tun rows: {e}"))
            .ok()
    })
}

/// The kernel over veth, measured once per process.
pub fn kernel_veth_cached(total: u64) -> Option<f64> {
    static CACHE: std::sync::OnceLock<Option<f64>> = std::sync::OnceLock::new();
    *CACHE.get_or_init(|| {
        kernel_veth(total)
            .map_err(|e| eprintln!("veth row: {e}"))
            .ok()
    })
}

/// A kernel server in `ns` on `port`: reads one stream to its end and
/// closes, then writes `total` bytes on the next and closes.
fn kernel_server(
    ns: &str,
    port: u16,
    total: u64,
) -> io::Result<std::thread::JoinHandle<io::Result<()>>> {
    let listener = in_ns(ns, move || TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)))?;
    Ok(std::thread::spawn(move || -> io::Result<()> {
        let (mut s, _) = listener.accept()?;
        pump_in(&mut s)?;
        // Closing tells the other side everything arrived.
        drop(s);
        let (mut s, _) = listener.accept()?;
        pump_out(&mut s, total)?;
        s.shutdown(std::net::Shutdown::Write)
    }))
}

/// smoltcp ↔ kernel over the same kind of TUN device, measured once.
#[cfg(feature = "rivals")]
pub fn smoltcp_kernel_cached(total: u64) -> Option<(f64, f64)> {
    static CACHE: std::sync::OnceLock<Option<(f64, f64)>> = std::sync::OnceLock::new();
    *CACHE.get_or_init(|| {
        smoltcp_kernel(total)
            .map_err(|e| eprintln!("tun rows (smoltcp): {e}"))
            .ok()
    })
}

#[cfg(feature = "rivals")]
fn smoltcp_kernel(total: u64) -> io::Result<(f64, f64)> {
    let ns = Netns::new("smol")?;
    let server = kernel_server(&ns.0, 5003, total)?;
    let rates = in_ns(&ns.0, move || {
        let tun = Tun::open(&TunConfig {
            name: "sbench1".into(),
            kernel_addr: (IpAddr::V4(KERNEL), 24),
            mtu: 1500,
        })?;
        super::smol::tun_kernel(tun, SYNACK, KERNEL, 5003, total)
    })?;
    server
        .join()
        .map_err(|_| io::Error::other("server panicked"))??;
    Ok(rates)
}

/// synack ↔ kernel throughput in Gbit/s: (synack sends, kernel sends).
pub fn synack_kernel(total: u64) -> io::Result<(f64, f64)> {
    let ns = Netns::new("tun")?;
    let name = ns.0.clone();
    // The TUN device must be created inside the namespace.
    let stack = in_ns(&name, move || {
        let tun = Tun::open(&TunConfig {
            name: "sbench0".into(),
            kernel_addr: (IpAddr::V4(KERNEL), 24),
            mtu: 1500,
        })?;
        // 1 MiB socket buffers, as the smoltcp side of this row has.
        let config = EndpointConfig {
            conn: proto::conn::Config {
                send_buffer: 1 << 20,
                recv_buffer: 1 << 20,
                ..proto::conn::Config::default()
            },
            ..EndpointConfig::default()
        };
        Stack::new(tun, config, &[IpAddr::V4(SYNACK)])
    })?;
    let server = kernel_server(&name, 5001, total)?;
    let target = SocketAddr::new(IpAddr::V4(KERNEL), 5001);
    // synack → kernel.
    let mut c = blocking::TcpStream::connect(&stack, target)?;
    let t = Instant::now();
    pump_out(&mut c, total)?;
    c.shutdown(std::net::Shutdown::Write)?;
    // Done when the kernel has read it all and closed.
    pump_in(&mut c)?;
    let to_kernel = total as f64 * 8.0 / t.elapsed().as_secs_f64() / 1e9;
    drop(c);
    // kernel → synack.
    let mut c = blocking::TcpStream::connect(&stack, target)?;
    let t = Instant::now();
    let got = pump_in(&mut c)?;
    let from_kernel = got as f64 * 8.0 / t.elapsed().as_secs_f64() / 1e9;
    drop(c);
    server
        .join()
        .map_err(|_| io::Error::other("server panicked"))??;
    stack.wait_idle(std::time::Duration::from_secs(2));
    stack.shutdown();
    Ok((to_kernel, from_kernel))
}

/// The kernel talking to itself over a veth pair between two namespaces,
/// Gbit/s, one direction (symmetric).
pub fn kernel_veth(total: u64) -> io::Result<f64> {
    let a = Netns::new("va")?;
    let b = Netns::new("vb")?;
    ip(&[
        "link", "add", "sbva", "netns", &a.0, "type", "veth", "peer", "name", "sbvb", "netns", &b.0,
    ])?;
    ip(&["-n", &a.0, "addr", "add", "10.202.0.1/24", "dev", "sbva"])?;
    ip(&["-n", &b.0, "addr", "add", "10.202.0.2/24", "dev", "sbvb"])?;
    ip(&["-n", &a.0, "link", "set", "sbva", "up"])?;
    ip(&["-n", &b.0, "link", "set", "sbvb", "up"])?;
    let listener = in_ns(&b.0, || TcpListener::bind((Ipv4Addr::UNSPECIFIED, 5002)))?;
    let server = std::thread::spawn(move || -> io::Result<u64> {
        let (mut s, _) = listener.accept()?;
        pump_in(&mut s)
    });
    let rate = in_ns(&a.0, move || {
        let mut c = TcpStream::connect((Ipv4Addr::new(10, 202, 0, 2), 5002))?;
        let t = Instant::now();
        pump_out(&mut c, total)?;
        c.shutdown(std::net::Shutdown::Write)?;
        let mut rest = [0u8; 1];
        let _ = c.read(&mut rest);
        Ok(total as f64 * 8.0 / t.elapsed().as_secs_f64() / 1e9)
    })?;
    server
        .join()
        .map_err(|_| io::Error::other("server panicked"))??;
    Ok(rate)
}
