//! Parsing a segment before its checksum is known, for a receiver that sums
//! the payload while it copies it away (one pass over the data instead of
//! two: verify, then copy).
//!
//! [`TcpRepr::parse_deferred`] sums the pseudo-header and the TCP header
//! (options included) and hands back the partial sum as a
//! [`PendingChecksum`]. Nothing learnt from such a segment may be acted on
//! until the sum is finished over the payload: [`PendingChecksum::finish`]
//! and [`PendingChecksum::verify`] consume it and are the only ways to learn
//! whether the segment is intact (RFC 9293 §3.1: a segment whose checksum
//! fails is discarded; MUST-2/MUST-3).

use core::net::IpAddr;

use super::{TcpPacket, TcpRepr};
use crate::checksum::{self, Checksum};
use crate::ip::IpProtocol;
use crate::{Error, Result};

/// The checksum of a parsed segment, not yet verified: the sum of its
/// pseudo-header and TCP header, waiting for the sum of its payload.
///
/// Only [`finish`](Self::finish) and [`verify`](Self::verify) tell whether
/// the segment is intact; both consume the value. Dropping it unfinished
/// means the segment was never verified.
#[must_use = "the segment is unverified until its checksum is finished"]
#[derive(Debug)]
pub struct PendingChecksum {
    /// Two values in one word: the pseudo-header and TCP header summed and
    /// folded (the low 16 bits; an even number of bytes, the header being
    /// a multiple of four, so the payload's sum adds on unswapped), and
    /// the payload's length, to catch a payload sum of the wrong bytes
    /// (the high 32 bits). The value comes back to the receiver through
    /// memory, inside the parse result: as one word it is written with
    /// one store that the receiver's load of it takes whole (a wider
    /// struct was written in pieces and read back whole, a
    /// store-forwarding stall per segment).
    packed: u64,
}

impl PendingChecksum {
    /// The pending sum of a header summed into `header`, before a payload
    /// of `payload_len` bytes (less than 2^32: the pseudo-header's length
    /// field bounds it).
    #[inline]
    fn new(header: Checksum, payload_len: u32) -> PendingChecksum {
        PendingChecksum {
            packed: u64::from(header.fold()) | u64::from(payload_len) << 32,
        }
    }

    /// How many payload bytes the sum still lacks.
    #[inline]
    pub fn payload_len(&self) -> usize {
        (self.packed >> 32) as usize
    }

    /// Whether the segment verifies, given the sum of exactly its payload,
    /// started from [`Checksum::new`] (typically built with
    /// [`Checksum::add_copy`] as the payload was copied away, in one or
    /// more pieces). A sum whose byte count has the wrong parity cannot be
    /// of the payload: the segment is then judged corrupt. (Always
    /// inlined: a receiver finishes one per segment, and the hint alone
    /// left it a call.)
    #[inline(always)]
    pub fn finish(self, payload: Checksum) -> bool {
        if payload.is_odd() != (self.payload_len() % 2 == 1) {
            return false;
        }
        // The header's folded sum stands for the whole one: congruent to
        // it modulo 0xffff, and zero only if it was zero.
        let mut sum = Checksum::new();
        sum.add_u16(self.packed as u16);
        sum.combine(payload);
        sum.fold() == 0xffff
    }

    /// Whether the segment verifies, summing its `payload` now (for a
    /// receiver that does not copy it first). A slice of another length
    /// than the payload's is judged corrupt.
    pub fn verify(self, payload: &[u8]) -> bool {
        if payload.len() != self.payload_len() {
            return false;
        }
        let mut sum = Checksum::new();
        sum.add_bytes(payload);
        self.finish(sum)
    }
}

impl<'a> TcpRepr<'a> {
    /// Parses raw segment bytes without verifying the checksum yet: the
    /// sum of the pseudo-header (from `src` and `dst`) and the header comes
    /// back as a [`PendingChecksum`] to finish over the payload.
    ///
    /// The errors are those of [`parse_bytes`](Self::parse_bytes) with
    /// verification: lengths are checked first; a segment whose checksum
    /// fails is `BadChecksum` whatever else is wrong with it (its options
    /// are then summed over the payload at once, here); addresses of two
    /// families are `BadChecksum` too.
    pub fn parse_deferred(
        bytes: &'a [u8],
        src: &IpAddr,
        dst: &IpAddr,
    ) -> Result<(TcpRepr<'a>, PendingChecksum)> {
        let mut repr = TcpRepr::EMPTY;
        let pending = repr.parse_deferred_into(bytes, src, dst)?;
        Ok((repr, pending))
    }

    /// [`parse_deferred`](Self::parse_deferred) into `self`, for a
    /// receiver that keeps the segment where it lies: the fields are
    /// written there one by one, never built elsewhere and copied (a
    /// copy's wide loads of a segment just written field by field wait
    /// for the stores to drain, on every segment). On an error `self`
    /// holds no segment and should not be read.
    pub fn parse_deferred_into(
        &mut self,
        bytes: &'a [u8],
        src: &IpAddr,
        dst: &IpAddr,
    ) -> Result<PendingChecksum> {
        let packet = TcpPacket::new_checked(bytes)?;
        let (header, payload) = bytes.split_at(packet.header_len());
        let len = u32::try_from(bytes.len()).map_err(|_| Error::BadChecksum)?;
        let Some(mut sum) = checksum::pseudo_header(src, dst, IpProtocol::TCP.0, len) else {
            return Err(Error::BadChecksum);
        };
        // The header is whole 32-bit words (data offset × 4, at most 15):
        // added word by word, without the set-up and folding of a general
        // `add_bytes` (its cost would show on every segment).
        for w in header.chunks_exact(4) {
            sum.add_u32(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
        }
        // The payload is shorter than the whole, whose length fits in u32.
        let pending = PendingChecksum::new(sum, payload.len() as u32);
        match self.fill(&packet) {
            Ok(()) => Ok(pending),
            Err(e) if pending.verify(payload) => Err(e),
            Err(_) => Err(Error::BadChecksum),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::{TcpFlags, TcpOptions, Timestamps};
    use crate::test_util::{bytes, install_summing_copy};
    use crate::SeqNum;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use std::vec;
    use std::vec::Vec;

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    /// A segment with timestamps and `payload`, checksummed for `src` →
    /// `dst`.
    fn segment(payload: &[u8], src: &IpAddr, dst: &IpAddr) -> Vec<u8> {
        let repr = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            seq: SeqNum(7),
            ack: SeqNum(9),
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window: 1000,
            urgent: 0,
            options: TcpOptions {
                timestamps: Some(Timestamps { tsval: 1, tsecr: 2 }),
                ..TcpOptions::NONE
            },
            payload,
        };
        let mut buf = vec![0; repr.buffer_len()];
        repr.emit(&mut buf, src, dst).unwrap();
        buf
    }

    /// The payload's sum built as a receive ring builds it: copied in two
    /// pieces split at `split` (the ring's wrap), with `add_copy`.
    fn copied_sum(payload: &[u8], split: usize) -> (Checksum, Vec<u8>) {
        let mut out = vec![0; payload.len()];
        let (a, b) = payload.split_at(split);
        let (oa, ob) = out.split_at_mut(split);
        let mut sum = Checksum::new();
        sum.add_copy(a, oa);
        sum.add_copy(b, ob);
        (sum, out)
    }

    #[test]
    fn finishing_over_the_payload_equals_verifying_the_whole() {
        // Before and after a summing copy is installed; odd lengths and
        // splits at odd offsets, where the second piece's bytes sit in the
        // other halves of the 16-bit words (RFC 1071 §2(B)).
        let v6 = (
            IpAddr::V6(Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2)),
        );
        for round in 0..2 {
            for (src, dst) in [(SRC, DST), v6] {
                for len in [1, 2, 3, 31, 255, 256, 257, 300, 1447, 1448, 4001] {
                    let payload = bytes(len, len as u32 + round);
                    let seg = segment(&payload, &src, &dst);
                    for split in [0, 1, 2, 3, 33, len / 2, len - 1, len].map(|s| s.min(len)) {
                        let (repr, pending) = TcpRepr::parse_deferred(&seg, &src, &dst).unwrap();
                        assert_eq!(repr.payload, &payload[..]);
                        assert_eq!(pending.payload_len(), len);
                        let (sum, out) = copied_sum(repr.payload, split);
                        assert_eq!(out, payload);
                        assert!(pending.finish(sum), "len {len} split {split}");
                    }
                    let (repr, pending) = TcpRepr::parse_deferred(&seg, &src, &dst).unwrap();
                    assert!(pending.verify(repr.payload));
                }
            }
            install_summing_copy();
        }
    }

    #[test]
    fn any_flipped_bit_fails() {
        for len in [0, 1, 2, 3, 300, 1447] {
            let payload = bytes(len, 3);
            let good = segment(&payload, &SRC, &DST);
            for byte in 0..good.len() {
                for bit in [0, 3, 7] {
                    let mut seg = good.clone();
                    seg[byte] ^= 1 << bit;
                    match TcpRepr::parse_deferred(&seg, &SRC, &DST) {
                        Ok((repr, pending)) => {
                            // Odd where it can be: the harder split.
                            let split = ((repr.payload.len() / 3) | 1).min(repr.payload.len());
                            let (sum, _) = copied_sum(repr.payload, split);
                            assert!(!pending.finish(sum), "len {len} byte {byte} bit {bit}");
                        }
                        // A flipped data offset may make the lengths
                        // impossible; the options are summed then too.
                        Err(e) => assert!(
                            matches!(e, Error::BadChecksum | Error::Truncated | Error::Malformed),
                            "{e:?}"
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn errors_are_those_of_verifying_parse() {
        let payload = bytes(100, 5);
        let mut seg = segment(&payload, &SRC, &DST);
        // Malformed options (an MSS option of length 3) with a good
        // checksum: the options error, as `parse_bytes` says.
        seg[20..24].copy_from_slice(&[2, 3, 0, 0]);
        let mut p = TcpPacket::new_unchecked(&mut seg[..]);
        p.fill_checksum(&SRC, &DST).unwrap();
        let verifying = TcpRepr::parse_bytes(&seg, &SRC, &DST, true).unwrap_err();
        assert_eq!(verifying, Error::Malformed);
        assert_eq!(
            TcpRepr::parse_deferred(&seg, &SRC, &DST).unwrap_err(),
            verifying
        );
        // Malformed and a bad checksum: the checksum comes first.
        *seg.last_mut().unwrap() ^= 0x40;
        assert_eq!(
            TcpRepr::parse_bytes(&seg, &SRC, &DST, true).unwrap_err(),
            Error::BadChecksum
        );
        assert_eq!(
            TcpRepr::parse_deferred(&seg, &SRC, &DST).unwrap_err(),
            Error::BadChecksum
        );
        // Lengths first, as in `parse_bytes`.
        assert_eq!(
            TcpRepr::parse_deferred(&seg[..19], &SRC, &DST).unwrap_err(),
            Error::Truncated
        );
        // Addresses of two families: no pseudo-header, no valid sum.
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(
            TcpRepr::parse_deferred(&segment(&payload, &SRC, &DST), &SRC, &v6).unwrap_err(),
            Error::BadChecksum
        );
    }

    #[test]
    fn parsing_into_a_used_segment_leaves_nothing_of_it() {
        use crate::tcp::{SackBlock, SackBlocks};
        // Every field of the first segment differs from the second's, and
        // its options are all there (the general parse), so any field the
        // in-place parse forgot to write would show.
        let mut sack = SackBlocks::EMPTY;
        sack.push(SackBlock {
            start: SeqNum(100),
            end: SeqNum(200),
        });
        let full = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: SeqNum(3),
            ack: SeqNum(4),
            flags: TcpFlags::ACK | TcpFlags::URG | TcpFlags::FIN,
            window: 5,
            urgent: 6,
            options: TcpOptions {
                mss: Some(1400),
                window_scale: Some(7),
                sack_permitted: true,
                timestamps: Some(Timestamps { tsval: 8, tsecr: 9 }),
                sack,
            },
            payload: &[1, 2, 3],
        };
        let mut first = vec![0; full.buffer_len()];
        full.emit(&mut first, &SRC, &DST).unwrap();
        let payload = bytes(40, 1);
        let second = segment(&payload, &SRC, &DST);
        let mut seg = TcpRepr::EMPTY;
        let pending = seg.parse_deferred_into(&first, &SRC, &DST).unwrap();
        assert!(pending.verify(seg.payload));
        assert_eq!(seg, full);
        for bytes in [&second, &first, &second] {
            let pending = seg.parse_deferred_into(bytes, &SRC, &DST).unwrap();
            let (fresh, _) = TcpRepr::parse_deferred(bytes, &SRC, &DST).unwrap();
            assert_eq!(seg, fresh);
            assert_eq!(seg, TcpRepr::parse_bytes(bytes, &SRC, &DST, true).unwrap());
            assert!(pending.verify(seg.payload));
        }
    }

    #[test]
    fn a_sum_of_other_bytes_is_rejected() {
        let payload = bytes(301, 9);
        let seg = segment(&payload, &SRC, &DST);
        // One byte short: wrong parity, rejected even though the missing
        // byte could happen to be zero.
        let mut short = payload.clone();
        short.push(0);
        let seg0 = segment(&short, &SRC, &DST);
        let (repr, pending) = TcpRepr::parse_deferred(&seg0, &SRC, &DST).unwrap();
        let mut sum = Checksum::new();
        sum.add_bytes(&repr.payload[..301]);
        assert!(!pending.finish(sum), "the zero byte was not summed");
        let (_, pending) = TcpRepr::parse_deferred(&seg, &SRC, &DST).unwrap();
        assert!(!pending.verify(&payload[..300]));
    }
}
