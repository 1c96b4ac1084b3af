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

/// Which way a TUN row's data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The userspace stack sends, the kernel receives.
    ToKernel,
    /// The kernel sends, the userspace stack receives.
    FromKernel,
}

/// A kernel server in `ns` on `port` for one stream: it reads to the end
/// and closes (`ToKernel`), or writes `total` bytes and closes
/// (`FromKernel`). Closing tells the other side everything arrived.
fn kernel_server(
    ns: &str,
    port: u16,
    total: u64,
    dir: Direction,
) -> io::Result<std::thread::JoinHandle<io::Result<()>>> {
    let listener = in_ns(ns, move || TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)))?;
    Ok(std::thread::spawn(move || -> io::Result<()> {
        let (mut s, _) = listener.accept()?;
        match dir {
            Direction::ToKernel => pump_in(&mut s).map(drop),
            Direction::FromKernel => {
                pump_out(&mut s, total)?;
                s.shutdown(std::net::Shutdown::Write)
            }
        }
    }))
}

/// A fresh namespace with a kernel server for one stream and a TUN device
/// whose far end is the kernel; runs `stack` on the device inside the
/// namespace and returns its figure.
fn over_tun<T: Send + 'static>(
    tag: &str,
    total: u64,
    dir: Direction,
    offload: bool,
    stack: impl FnOnce(Tun) -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let ns = Netns::new(tag)?;
    let server = kernel_server(&ns.0, PORT, total, dir)?;
    let device = format!("sb{tag}0");
    let figure = ns.run(move || {
        let tun = Tun::open(&TunConfig {
            name: device,
            kernel_addr: (IpAddr::V4(KERNEL), 24),
            mtu: 1500,
            offload,
        })?;
        stack(tun)
    })?;
    server
        .join()
        .map_err(|_| io::Error::other("server panicked"))??;
    Ok(figure)
}

/// The kernel server's port.
const PORT: u16 = 5001;

/// smoltcp ↔ kernel over the same kind of TUN device, Gbit/s: without
/// offloads, since smoltcp's devices carry MTU-sized packets only.
#[cfg(feature = "rivals")]
pub fn smoltcp_kernel(total: u64, dir: Direction) -> io::Result<f64> {
    over_tun("smol", total, dir, false, move |tun| {
        super::smol::tun_kernel(tun, SYNACK, KERNEL, PORT, total, dir == Direction::ToKernel)
    })
}

/// synack ↔ kernel throughput in Gbit/s, one direction, with the TUN
/// device's offloads or without.
pub fn synack_kernel(total: u64, dir: Direction, offload: bool) -> io::Result<f64> {
    over_tun("tun", total, dir, offload, move |tun| {
        // 1 MiB socket buffers, as the smoltcp side of this row has.
        let config = EndpointConfig {
            conn: proto::conn::Config {
                send_buffer: 1 << 20,
                recv_buffer: 1 << 20,
                ..proto::conn::Config::default()
            },
            ..EndpointConfig::default()
        };
        let stack = Stack::new(tun, config, &[IpAddr::V4(SYNACK)])?;
        let target = SocketAddr::new(IpAddr::V4(KERNEL), PORT);
        let mut c = blocking::TcpStream::connect(&stack, target)?;
        let t = Instant::now();
        let moved = match dir {
            Direction::ToKernel => {
                pump_out(&mut c, total)?;
                c.shutdown(std::net::Shutdown::Write)?;
                // Done when the kernel has read it all and closed.
                pump_in(&mut c)?;
                total
            }
            Direction::FromKernel => pump_in(&mut c)?,
        };
        let rate = moved as f64 * 8.0 / t.elapsed().as_secs_f64() / 1e9;
        drop(c);
        stack.wait_idle(std::time::Duration::from_secs(2));
        stack.shutdown();
        Ok(rate)
    })
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
