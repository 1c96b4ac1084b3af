//! Row 1 and 3: bulk throughput in memory, 64 KiB writes and reads, 1 MiB
//! socket buffers; optionally beside many idle connections.

use std::time::Instant;

use super::pair::Pair;

/// Goodput in Gbit/s of moving `total` bytes from client to server, with
/// `idle` idle established connections on the same endpoints.
pub fn synack(mtu: u16, total: u64, idle: usize) -> f64 {
    let mut p = Pair::new(mtu, 1 << 20, idle / 16_000);
    let mut idle_conns = Vec::with_capacity(idle);
    let addrs: Vec<_> = p.a.addresses().to_vec();
    for i in 0..idle {
        // Spread over the client's addresses: 16 k ephemeral ports each.
        let local = addrs[i / 16_000 % addrs.len()];
        idle_conns.push(p.open(Some(local)));
    }
    p.forget_events();
    let (ca, cb) = p.open(None);
    let chunk = vec![0x5au8; 65536];
    let mut rbuf = vec![0u8; 65536];
    let (mut sent, mut received) = (0u64, 0u64);
    let start = Instant::now();
    while received < total {
        while sent < total {
            let n = (total - sent).min(chunk.len() as u64) as usize;
            match p.a.send(ca, &chunk[..n]) {
                Ok(k) if k > 0 => sent += k as u64,
                _ => break,
            }
        }
        p.pump();
        while let Ok(n) = p.b.recv(cb, &mut rbuf) {
            if n == 0 {
                break;
            }
            received += n as u64;
        }
        p.forget_events();
    }
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(&idle_conns);
    total as f64 * 8.0 / secs / 1e9
}
