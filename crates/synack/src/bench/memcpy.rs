//! Row 6: the machine's memcpy bandwidth on the same buffer sizes — the
//! line no stack can cross (a stack copies each byte at least twice: into
//! the send buffer and out of the receive buffer).

use super::cpu_clock::CpuClock;

/// Copy bandwidth in Gbit/s of `total` bytes in 64 KiB pieces, counted
/// like a transfer: two copies per byte, as in row 1. The 1 MiB ring is
/// filled before it is drained, as a full socket buffer is, so the copies
/// see the same caches a stack's do (copying each piece straight back out
/// would never leave the L1 cache and overstate the line).
pub fn bandwidth(total: u64) -> f64 {
    const PIECE: usize = 65536;
    let src = vec![0x5au8; PIECE];
    let mut ring = vec![0u8; 1 << 20];
    let mut dst = vec![0u8; PIECE];
    let clock = CpuClock::start();
    let mut moved = 0u64;
    while moved < total {
        for piece in ring.chunks_exact_mut(PIECE) {
            piece.copy_from_slice(&src);
        }
        for piece in ring.chunks_exact(PIECE) {
            dst.copy_from_slice(piece);
            std::hint::black_box(&mut dst);
        }
        moved += ring.len() as u64;
    }
    moved as f64 * 8.0 / clock.secs() / 1e9
}
