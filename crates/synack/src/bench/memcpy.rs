//! Row 6: the machine's memcpy bandwidth on the same buffer sizes — the
//! line no stack can cross (a stack copies each byte at least twice: into
//! the send buffer and out of the receive buffer).

use std::time::Instant;

/// Copy bandwidth in Gbit/s of `total` bytes in 64 KiB pieces, counted
/// like a transfer: two copies per byte (in and out), as in row 1.
pub fn bandwidth(total: u64) -> f64 {
    let src = vec![0x5au8; 65536];
    let mut ring = vec![0u8; 1 << 20];
    let mut dst = vec![0u8; 65536];
    let start = Instant::now();
    let mut moved = 0u64;
    let mut at = 0;
    while moved < total {
        ring[at..at + 65536].copy_from_slice(&src);
        dst.copy_from_slice(&ring[at..at + 65536]);
        std::hint::black_box(&mut dst);
        at = (at + 65536) % ring.len();
        moved += 65536;
    }
    moved as f64 * 8.0 / start.elapsed().as_secs_f64() / 1e9
}
