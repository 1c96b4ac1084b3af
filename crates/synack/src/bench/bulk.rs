//! Row 1 and 3: bulk throughput in memory, 64 KiB writes and reads, 1 MiB
//! socket buffers; optionally beside many idle connections.

use super::cpu_clock::CpuClock;
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
    let clock = CpuClock::start();
    while received < total {
        // One 64 KiB write per round, then the stacks run, then the
        // reader takes what arrived: the loop of a proxy moving data.
        if sent < total {
            let n = (total - sent).min(chunk.len() as u64) as usize;
            if let Ok(k) = p.a.send(ca, &chunk[..n]) {
                sent += k as u64;
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
    let secs = clock.secs();
    if std::env::var_os("SYNACK_BULK_DEBUG").is_some() {
        let (sa, sb) = (p.a.stats(), p.b.stats());
        eprintln!(
            "bulk: a sent {} received {}; b sent {} received {}",
            sa.packets_out, sa.packets_in, sb.packets_out, sb.packets_in
        );
    }
    std::hint::black_box(&idle_conns);
    total as f64 * 8.0 / secs / 1e9
}
