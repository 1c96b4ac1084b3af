//! What the unit tests of several modules share.

use std::vec::Vec;

use crate::checksum::{set_block_sum_copy, BlockSumCopy};

/// `len` pseudo-random bytes (xorshift from `seed`): the same for the same
/// seed.
pub fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A portable summing copy, as a platform would install.
fn copy_and_sum(src: &[u8], dst: &mut [u8]) -> u64 {
    dst.copy_from_slice(src);
    src.chunks_exact(4)
        .map(|w| u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
        .sum()
}

/// Installs the portable summing copy for the rest of the process (the
/// first installed stays; this one is correct, so every test still holds
/// with it).
pub fn install_summing_copy() {
    static COPY: BlockSumCopy = BlockSumCopy(copy_and_sum);
    set_block_sum_copy(&COPY);
}
