//! Row 4: heap bytes per idle established connection, per TIME-WAIT entry,
//! per half-open SYN, and the resident size with a million connections.
//!
//! Each figure is the growth of the live heap (from the counting
//! allocator the `synack` binary installs) divided by the number of
//! things created, after `Endpoint::shrink_to_fit` on both sides so that
//! capacity left over from building the scene is not counted.

use std::net::{IpAddr, Ipv4Addr};

use wire::ip::{IpProtocol, IpRepr};
use wire::tcp::{TcpFlags, TcpOptions, TcpRepr, Timestamps};
use wire::SeqNum;

use super::pair::{Pair, B, PORT};

/// Live heap bytes now, if the counting allocator is installed.
pub type Meter<'a> = &'a dyn Fn() -> Option<isize>;

/// Opens `n` established connections, spread over the client's addresses
/// (16 000 ephemeral ports each).
fn open_many(
    p: &mut Pair,
    n: usize,
) -> Vec<(proto::endpoint::ConnHandle, proto::endpoint::ConnHandle)> {
    let addrs: Vec<_> = p.a.addresses().to_vec();
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        conns.push(p.open(Some(addrs[i / 16_000 % addrs.len()])));
        if i % 4096 == 0 {
            p.forget_events();
        }
    }
    p.forget_events();
    conns
}

fn shrink(p: &mut Pair) {
    p.a.shrink_to_fit();
    p.b.shrink_to_fit();
}

/// Bytes per connection end of `n` idle established connections (each
/// connection exists on both endpoints: divided by 2n).
pub fn established(meter: Meter<'_>, n: usize) -> Option<f64> {
    let mut p = Pair::new(1500, 1 << 20, n / 16_000 + 1);
    shrink(&mut p);
    let before = meter()?;
    let conns = open_many(&mut p, n);
    shrink(&mut p);
    // The list of handles is the benchmark's, not the stack's.
    let ours = (conns.capacity() * std::mem::size_of_val(&conns[0])) as isize;
    let after = meter()?;
    Some((after - before - ours) as f64 / (2 * n) as f64)
}

/// Bytes per compact TIME-WAIT entry: `n` connections closed by the client
/// (which keeps TIME-WAIT), then the server.
pub fn time_wait(meter: Meter<'_>, n: usize) -> Option<f64> {
    let mut p = Pair::new(1500, 1 << 20, n / 16_000 + 1);
    shrink(&mut p);
    let before = meter()?;
    let conns = open_many(&mut p, n);
    let now = p.now();
    for &(ca, _) in &conns {
        p.a.close(ca, now);
    }
    p.pump();
    let now = p.now();
    for &(_, cb) in &conns {
        p.b.close(cb, now);
    }
    p.pump();
    p.forget_events();
    drop(conns);
    shrink(&mut p);
    let after = meter()?;
    let entries = p.a.time_wait_count();
    if entries == 0 || p.a.connection_count() + p.b.connection_count() > 0 {
        return None;
    }
    Some((after - before) as f64 / entries as f64)
}

/// A SYN like Linux's (MSS, SACK-permitted, timestamps, window scale)
/// from `src:port` to the server.
fn syn(src: Ipv4Addr, port: u16, buf: &mut [u8]) -> usize {
    let tcp = TcpRepr {
        src_port: port,
        dst_port: PORT,
        seq: SeqNum(u32::from(port).wrapping_mul(2_654_435_761)),
        ack: SeqNum(0),
        flags: TcpFlags::SYN,
        window: 64240,
        urgent: 0,
        options: TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps { tsval: 1, tsecr: 0 }),
            ..TcpOptions::default()
        },
        payload: &[],
    };
    let (s, d) = (IpAddr::V4(src), B);
    let ip = IpRepr::new(s, d, IpProtocol::TCP, tcp.buffer_len(), 64).expect("same family");
    let h = ip.emit(buf).expect("buffer fits");
    let n = tcp.emit(&mut buf[h..], &s, &d).expect("buffer fits");
    h + n
}

/// Bytes per half-open connection: `n` SYNs from distinct 4-tuples reach
/// the server (with a SYN queue large enough that no cookie is used), and
/// no ACK follows.
pub fn half_open(meter: Meter<'_>, n: usize) -> Option<f64> {
    let mut p = Pair::new(1500, 1 << 20, 0);
    let mut buf = vec![0u8; 2048];
    shrink(&mut p);
    let before = meter()?;
    let now = p.now();
    for i in 0..n {
        let src = Ipv4Addr::from(0xac10_0000 + (i / 50_000) as u32);
        let len = syn(src, 10_000 + (i % 50_000) as u16, &mut buf);
        p.b.handle_packet(now, &buf[..len]);
        // The SYN-ACKs go nowhere.
        while p.b.poll_transmit(now, &mut buf).is_some() {}
    }
    shrink(&mut p);
    let after = meter()?;
    let half = p.b.half_open_count();
    if half < n {
        return None;
    }
    Some((after - before) as f64 / half as f64)
}

/// Resident set size in MiB after opening `n` established connections.
pub fn rss_with(n: usize) -> Option<f64> {
    let mut p = Pair::new(1500, 1 << 20, n / 16_000 + 1);
    let conns = open_many(&mut p, n);
    shrink(&mut p);
    let rss = resident_mib();
    std::hint::black_box(&conns);
    rss
}

/// VmRSS of this process, MiB.
pub fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
