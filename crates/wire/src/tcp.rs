//! TCP segments (RFC 9293 §3.1) and their options: MSS (RFC 9293 §3.7.1),
//! window scale and timestamps (RFC 7323), SACK-permitted and SACK
//! (RFC 2018).

use core::fmt;
use core::net::IpAddr;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

use crate::checksum;
use crate::ip::IpProtocol;
use crate::{Error, Result, SeqNum};

/// The length of a TCP header without options.
pub const HEADER_LEN: usize = 20;
/// The most option bytes a header can carry (data offset 15 × 4 − 20).
pub const MAX_OPTIONS_LEN: usize = 40;
/// The most SACK blocks one option can carry (RFC 2018 §3).
pub const MAX_SACK_BLOCKS: usize = 4;

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const FLAGS: Range<usize> = 12..14;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
}

/// The nine TCP control bits (RFC 9293 §3.1, RFC 3168 for CWR/ECE, and the
/// former NS bit that AccECN calls AE).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(u16);

impl TcpFlags {
    /// No flags.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// The acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// The urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN-Echo (RFC 3168).
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion Window Reduced (RFC 3168).
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// The bit once called NS (RFC 3540, historic), now AE in AccECN.
    pub const AE: TcpFlags = TcpFlags(0x100);
    const ALL: u16 = 0x1ff;

    /// Flags from the low nine bits of `bits`; other bits are ignored.
    #[inline]
    pub const fn from_bits(bits: u16) -> TcpFlags {
        TcpFlags(bits & Self::ALL)
    }

    /// The flags as the low nine bits of a `u16`.
    #[inline]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every flag of `other` is set.
    #[inline]
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    #[inline]
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no flag is set.
    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// These flags with `other` set or cleared.
    pub const fn with(self, other: TcpFlags, on: bool) -> TcpFlags {
        if on {
            TcpFlags(self.0 | other.0)
        } else {
            TcpFlags(self.0 & !other.0)
        }
    }

    /// The flags named as tcpdump does, in one string of letters:
    /// `S` SYN, `F` FIN, `R` RST, `P` PSH, `.` ACK, `U` URG, `E` ECE,
    /// `W` CWR, `e` AE.
    pub fn tcpdump(self) -> impl fmt::Display {
        struct Letters(TcpFlags);
        impl fmt::Display for Letters {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                const LETTERS: [(TcpFlags, char); 9] = [
                    (TcpFlags::SYN, 'S'),
                    (TcpFlags::FIN, 'F'),
                    (TcpFlags::RST, 'R'),
                    (TcpFlags::PSH, 'P'),
                    (TcpFlags::URG, 'U'),
                    (TcpFlags::ECE, 'E'),
                    (TcpFlags::CWR, 'W'),
                    (TcpFlags::AE, 'e'),
                    (TcpFlags::ACK, '.'),
                ];
                for (flag, c) in LETTERS {
                    if self.0.contains(flag) {
                        fmt::Write::write_char(f, c)?;
                    }
                }
                Ok(())
            }
        }
        Letters(self)
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    #[inline]
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    #[inline]
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    #[inline]
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl Not for TcpFlags {
    type Output = TcpFlags;
    #[inline]
    fn not(self) -> TcpFlags {
        TcpFlags(!self.0 & Self::ALL)
    }
}

/// Names the flags as Wireshark does: `SYN, ACK`.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(TcpFlags, &str); 9] = [
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
            (TcpFlags::AE, "AE"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TcpFlags({self})")
    }
}

/// One SACK block: the peer holds `[start, end)` (RFC 2018 §3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct SackBlock {
    /// The first sequence number of the block.
    pub start: SeqNum,
    /// The sequence number just past the block.
    pub end: SeqNum,
}

/// Up to four SACK blocks, in the order they appear in the option (the
/// most recently changed first, RFC 2018 §4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct SackBlocks {
    blocks: [SackBlock; MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    /// No blocks.
    pub const EMPTY: SackBlocks = SackBlocks {
        blocks: [SackBlock {
            start: SeqNum(0),
            end: SeqNum(0),
        }; MAX_SACK_BLOCKS],
        len: 0,
    };

    /// Blocks from a slice; `None` when it holds more than four.
    pub fn from_slice(blocks: &[SackBlock]) -> Option<SackBlocks> {
        let mut out = SackBlocks::EMPTY;
        for &b in blocks {
            if !out.push(b) {
                return None;
            }
        }
        Some(out)
    }

    /// Appends a block; false when four are already held.
    pub fn push(&mut self, block: SackBlock) -> bool {
        match self.blocks.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = block;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Keeps only the first `n` blocks.
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n.min(MAX_SACK_BLOCKS) as u8);
    }

    /// The blocks.
    #[inline]
    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }

    /// How many blocks there are.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The timestamps option (RFC 7323 §3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct Timestamps {
    /// The sender's timestamp clock when it sent this segment (TSval).
    pub tsval: u32,
    /// The most recent TSval received from the peer (TSecr).
    pub tsecr: u32,
}

/// One option as it appears in a header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TcpOption<'a> {
    /// End of option list (kind 0).
    EndOfList,
    /// No-operation, used for alignment (kind 1).
    NoOp,
    /// Maximum segment size (kind 2).
    Mss(u16),
    /// Window scale shift count (kind 3), as sent; RFC 7323 §2.3 caps its
    /// use at 14, which is the connection's concern.
    WindowScale(u8),
    /// SACK permitted (kind 4).
    SackPermitted,
    /// Selective acknowledgment blocks (kind 5).
    Sack(SackBlocks),
    /// Timestamps (kind 8).
    Timestamps(Timestamps),
    /// Any other option, skipped by its length.
    Unknown {
        /// The option kind.
        kind: u8,
        /// The option data after kind and length.
        data: &'a [u8],
    },
}

/// An iterator over the options of a header. It yields an error at the
/// first malformed option and then stops.
#[derive(Clone, Debug)]
pub struct TcpOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptionIter<'a> {
    /// Options from the raw option bytes of a header.
    pub fn new(options: &'a [u8]) -> Self {
        TcpOptionIter { rest: options }
    }

    fn next_option(&mut self) -> Result<Option<TcpOption<'a>>> {
        let Some(&kind) = self.rest.first() else {
            return Ok(None);
        };
        match kind {
            kind::END => {
                // The rest of the option space is padding (RFC 9293 §3.1).
                self.rest = &[];
                return Ok(Some(TcpOption::EndOfList));
            }
            kind::NOP => {
                self.rest = &self.rest[1..];
                return Ok(Some(TcpOption::NoOp));
            }
            _ => {}
        }
        let len = usize::from(*self.rest.get(1).ok_or(Error::Truncated)?);
        // A length below 2 cannot even cover kind and length (RFC 9293
        // §3.1, MUST-68: be prepared for an illegal option length).
        if len < 2 {
            return Err(Error::Malformed);
        }
        let data = self.rest.get(2..len).ok_or(Error::Truncated)?;
        self.rest = &self.rest[len..];
        let option = match kind {
            kind::MSS => TcpOption::Mss(u16::from_be_bytes(fixed(data)?)),
            kind::WINDOW_SCALE => TcpOption::WindowScale(u8::from_be_bytes(fixed(data)?)),
            kind::SACK_PERMITTED => {
                fixed::<0>(data)?;
                TcpOption::SackPermitted
            }
            kind::TIMESTAMPS => {
                let ts: [u8; 8] = fixed(data)?;
                TcpOption::Timestamps(Timestamps {
                    tsval: u32::from_be_bytes([ts[0], ts[1], ts[2], ts[3]]),
                    tsecr: u32::from_be_bytes([ts[4], ts[5], ts[6], ts[7]]),
                })
            }
            kind::SACK => {
                if data.is_empty() || data.len() % 8 != 0 || data.len() > 8 * MAX_SACK_BLOCKS {
                    return Err(Error::Malformed);
                }
                let mut blocks = SackBlocks::EMPTY;
                for b in data.chunks_exact(8) {
                    blocks.push(SackBlock {
                        start: SeqNum(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                        end: SeqNum(u32::from_be_bytes([b[4], b[5], b[6], b[7]])),
                    });
                }
                TcpOption::Sack(blocks)
            }
            _ => TcpOption::Unknown { kind, data },
        };
        Ok(Some(option))
    }
}

/// The option data as an array of exactly `N` bytes, or `Malformed`.
fn fixed<const N: usize>(data: &[u8]) -> Result<[u8; N]> {
    data.try_into().map_err(|_| Error::Malformed)
}

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = Result<TcpOption<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_option() {
            Ok(o) => o.map(Ok),
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// The options of a segment that TCP acts on, gathered from the option list.
///
/// When an option appears twice the last one wins. Unknown options are
/// skipped when parsing and never emitted.
// Laid out in this order, the SACK blocks first: a sender builds the
// options of each segment apart (their blocks zeroed with two wide
// stores) and then moves them into the segment. With the blocks at the
// front, that move reads the blocks back exactly as they were stored;
// where the compiler put them, it read them shifted by two bytes, across
// two stores each (a store-forwarding stall per segment).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
#[repr(C)]
pub struct TcpOptions {
    /// SACK blocks.
    pub sack: SackBlocks,
    /// Timestamps.
    pub timestamps: Option<Timestamps>,
    /// Maximum segment size (only meaningful on a SYN).
    pub mss: Option<u16>,
    /// Window scale shift count (only meaningful on a SYN).
    pub window_scale: Option<u8>,
    /// SACK permitted (only meaningful on a SYN).
    pub sack_permitted: bool,
}

impl TcpOptions {
    /// No options.
    pub const NONE: TcpOptions = TcpOptions {
        mss: None,
        window_scale: None,
        sack_permitted: false,
        timestamps: None,
        sack: SackBlocks::EMPTY,
    };

    /// Gathers the options from raw option bytes.
    #[inline]
    pub fn parse(options: &[u8]) -> Result<TcpOptions> {
        let mut out = TcpOptions::NONE;
        out.parse_into(options)?;
        Ok(out)
    }

    /// [`parse`](Self::parse) into `self`, where a parsed segment keeps
    /// its options ([`TcpRepr::parse_deferred_into`]). On an error `self`
    /// is left as it was.
    #[inline]
    fn parse_into(&mut self, options: &[u8]) -> Result<()> {
        match TcpOptions::aligned_timestamps(options) {
            Some(ts) => {
                *self = TcpOptions::NONE;
                self.timestamps = Some(ts);
            }
            None => *self = TcpOptions::parse_any(options)?,
        }
        Ok(())
    }

    /// The timestamps, if they are the only option and laid out as RFC
    /// 7323 Appendix A recommends (NOP, NOP, kind 8, length 10): nearly
    /// every segment of an established connection, read straight away
    /// as Linux's tcp_parse_aligned_timestamp does.
    #[inline]
    fn aligned_timestamps(options: &[u8]) -> Option<Timestamps> {
        match *options {
            [1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3] => Some(Timestamps {
                tsval: u32::from_be_bytes([v0, v1, v2, v3]),
                tsecr: u32::from_be_bytes([e0, e1, e2, e3]),
            }),
            _ => None,
        }
    }

    /// The options of a SYN laid out as `emit` and Linux lay them out
    /// (`MSS; SACK-permitted, timestamps; NOP, window scale`, 20 bytes),
    /// or `None` for any other layout (then the general parse decides).
    #[inline]
    fn parse_syn_layout(options: &[u8]) -> Option<TcpOptions> {
        let b: &[u8; 20] = options.try_into().ok()?;
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (w0, w1, w4) = (word(0), word(4), word(16));
        let layout = w0 >> 16 == u32::from_be_bytes([0, 0, kind::MSS, 4])
            && w1 == u32::from_be_bytes([kind::SACK_PERMITTED, 2, kind::TIMESTAMPS, 10])
            && w4 >> 8 == u32::from_be_bytes([0, kind::NOP, kind::WINDOW_SCALE, 3]);
        if !layout {
            return None;
        }
        let mut out = TcpOptions::NONE;
        out.mss = Some(w0 as u16);
        out.sack_permitted = true;
        out.timestamps = Some(Timestamps {
            tsval: word(8),
            tsecr: word(12),
        });
        out.window_scale = Some(w4 as u8);
        Some(out)
    }

    /// Gathers options in any layout (the general case of `parse`). Out
    /// of line: the timestamps' path, inlined into every parse, stays
    /// short.
    #[inline(never)]
    fn parse_any(options: &[u8]) -> Result<TcpOptions> {
        // Nearly every SYN and SYN-ACK (Linux's, and ours: `emit`'s order)
        // carries MSS; SACK-permitted and timestamps; NOP, window scale.
        // That layout is read in one step too (here, off the inlined
        // path of the timestamps: the walk costs a step per option).
        match TcpOptions::parse_syn_layout(options) {
            Some(out) => Ok(out),
            None => TcpOptions::walk(options),
        }
    }

    /// Gathers options option by option (any layout).
    fn walk(options: &[u8]) -> Result<TcpOptions> {
        let mut out = TcpOptions::default();
        for option in TcpOptionIter::new(options) {
            match option? {
                TcpOption::Mss(v) => out.mss = Some(v),
                TcpOption::WindowScale(v) => out.window_scale = Some(v),
                TcpOption::SackPermitted => out.sack_permitted = true,
                TcpOption::Timestamps(ts) => out.timestamps = Some(ts),
                TcpOption::Sack(blocks) => out.sack = blocks,
                TcpOption::EndOfList | TcpOption::NoOp | TcpOption::Unknown { .. } => {}
            }
        }
        Ok(out)
    }

    /// How many bytes `emit` writes: always a multiple of four, possibly
    /// more than [`MAX_OPTIONS_LEN`] (then `emit` fails).
    #[inline]
    pub fn len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        // SACK-permitted and timestamps share one 12-byte word group when
        // both are present, as Linux lays them out.
        n += match (self.sack_permitted, self.timestamps.is_some()) {
            (true, true) | (false, true) => 12,
            (true, false) => 4,
            (false, false) => 0,
        };
        if self.window_scale.is_some() {
            n += 4;
        }
        if !self.sack.is_empty() {
            n += 4 + 8 * self.sack.len();
        }
        n
    }

    /// Whether there are no options to emit.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The timestamps, when they are the only option: what nearly every
    /// segment of an established connection carries.
    #[inline]
    fn only_timestamps(&self) -> Option<Timestamps> {
        let alone = self.mss.is_none()
            && self.window_scale.is_none()
            && !self.sack_permitted
            && self.sack.is_empty();
        self.timestamps.filter(|_| alone)
    }

    /// Writes the options in the layout Linux uses (MSS; SACK-permitted and
    /// timestamps; NOP, window scale; NOP, NOP, SACK), padded with NOPs to
    /// a multiple of four bytes. Returns the bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        if len > MAX_OPTIONS_LEN {
            return Err(Error::NoSpace);
        }
        let out = buf.get_mut(..len).ok_or(Error::NoSpace)?;
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(mss) = self.mss {
            let [hi, lo] = mss.to_be_bytes();
            put(&[kind::MSS, 4, hi, lo]);
        }
        match (self.sack_permitted, self.timestamps) {
            (sack, Some(ts)) => {
                if sack {
                    put(&[kind::SACK_PERMITTED, 2]);
                } else {
                    put(&[kind::NOP, kind::NOP]);
                }
                put(&[kind::TIMESTAMPS, 10]);
                put(&ts.tsval.to_be_bytes());
                put(&ts.tsecr.to_be_bytes());
            }
            (true, None) => put(&[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]),
            (false, None) => {}
        }
        if let Some(shift) = self.window_scale {
            put(&[kind::NOP, kind::WINDOW_SCALE, 3, shift]);
        }
        if !self.sack.is_empty() {
            put(&[
                kind::NOP,
                kind::NOP,
                kind::SACK,
                2 + 8 * self.sack.len() as u8,
            ]);
            for b in self.sack.as_slice() {
                put(&b.start.0.to_be_bytes());
                put(&b.end.0.to_be_bytes());
            }
        }
        Ok(len)
    }
}

/// A zero-copy view of a TCP segment (header, options and payload).
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without checking it; accessors may then panic on a
    /// short buffer. Use [`TcpPacket::new_checked`] for untrusted bytes.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps a buffer holding exactly one segment, checking that the fixed
    /// header is present, the data offset is at least 5 and the header it
    /// announces fits in the buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = TcpPacket { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the lengths that make every accessor safe.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if header_len > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn get_u16(&self, range: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[range];
        u16::from_be_bytes([b[0], b[1]])
    }

    fn get_u32(&self, range: core::ops::Range<usize>) -> u32 {
        let b = &self.buffer.as_ref()[range];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The source port.
    pub fn src_port(&self) -> u16 {
        self.get_u16(field::SRC_PORT)
    }

    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        self.get_u16(field::DST_PORT)
    }

    /// The sequence number.
    pub fn seq_number(&self) -> SeqNum {
        SeqNum(self.get_u32(field::SEQ))
    }

    /// The acknowledgment number (meaningful only with ACK set).
    pub fn ack_number(&self) -> SeqNum {
        SeqNum(self.get_u32(field::ACK))
    }

    /// The header length in bytes (data offset × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::FLAGS.start] >> 4) * 4
    }

    /// The control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits(self.get_u16(field::FLAGS))
    }

    /// The three reserved bits between data offset and AE (must be zero
    /// when sent, ignored when received: RFC 9293 §3.1).
    pub fn reserved(&self) -> u8 {
        (self.buffer.as_ref()[field::FLAGS.start] >> 1) & 0x7
    }

    /// The raw window field (not scaled).
    pub fn window_len(&self) -> u16 {
        self.get_u16(field::WINDOW)
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        self.get_u16(field::CHECKSUM)
    }

    /// The urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        self.get_u16(field::URGENT)
    }

    /// The raw option bytes.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// The payload: everything after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// The sum over the whole segment and the pseudo-header; `None` when
    /// the addresses are of different families or the segment is too long
    /// for an IPv4 length.
    fn sum(&self, src: &IpAddr, dst: &IpAddr) -> Option<checksum::Checksum> {
        let data = self.buffer.as_ref();
        let len = u32::try_from(data.len()).ok()?;
        let mut sum = checksum::pseudo_header(src, dst, IpProtocol::TCP.0, len)?;
        sum.add_bytes(data);
        Some(sum)
    }

    /// Whether the checksum verifies for these pseudo-header addresses.
    pub fn verify_checksum(&self, src: &IpAddr, dst: &IpAddr) -> bool {
        self.sum(src, dst).is_some_and(|s| s.fold() == 0xffff)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    fn set_u16(&mut self, range: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[range].copy_from_slice(&v.to_be_bytes());
    }

    fn set_u32(&mut self, range: core::ops::Range<usize>, v: u32) {
        self.buffer.as_mut()[range].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        self.set_u16(field::SRC_PORT, v)
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        self.set_u16(field::DST_PORT, v)
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, v: SeqNum) {
        self.set_u32(field::SEQ, v.0)
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, v: SeqNum) {
        self.set_u32(field::ACK, v.0)
    }

    /// Sets the data offset from a header length (a multiple of 4 from 20
    /// to 60) and the control bits; the reserved bits are cleared.
    pub fn set_header_len_and_flags(&mut self, header_len: usize, flags: TcpFlags) {
        let offset = (header_len / 4) as u16 & 0xf;
        self.set_u16(field::FLAGS, (offset << 12) | flags.bits());
    }

    /// Sets the window field.
    pub fn set_window_len(&mut self, v: u16) {
        self.set_u16(field::WINDOW, v)
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16(field::CHECKSUM, v)
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        self.set_u16(field::URGENT, v)
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }

    /// Computes and writes the checksum over the whole buffer (header,
    /// options and payload) with this pseudo-header. Fails with
    /// `Malformed` when the addresses are of different families.
    pub fn fill_checksum(&mut self, src: &IpAddr, dst: &IpAddr) -> Result<()> {
        self.set_checksum(0);
        let sum = self.sum(src, dst).ok_or(Error::Malformed)?;
        self.set_checksum(sum.finish());
        Ok(())
    }
}

/// A TCP segment's meaning: header fields, gathered options and payload.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TcpRepr<'a> {
    /// The source port.
    pub src_port: u16,
    /// The destination port.
    pub dst_port: u16,
    /// The sequence number of the first octet (or of the SYN).
    pub seq: SeqNum,
    /// The acknowledgment number; significant only with [`TcpFlags::ACK`].
    pub ack: SeqNum,
    /// The control bits.
    pub flags: TcpFlags,
    /// The raw window field, before scaling.
    pub window: u16,
    /// The urgent pointer; significant only with [`TcpFlags::URG`].
    pub urgent: u16,
    /// The options TCP acts on.
    pub options: TcpOptions,
    /// The data.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a checked segment. With `verify_checksum`, a wrong checksum
    /// is `BadChecksum`; the addresses give the pseudo-header.
    #[inline]
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &TcpPacket<&'a T>,
        src: &IpAddr,
        dst: &IpAddr,
        verify_checksum: bool,
    ) -> Result<TcpRepr<'a>> {
        packet.check_len()?;
        if verify_checksum && !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        TcpRepr::fields(packet)
    }

    /// A segment with every field zero, no options and no data: a place
    /// to parse into ([`parse_deferred_into`](Self::parse_deferred_into)).
    pub const EMPTY: TcpRepr<'static> = TcpRepr {
        src_port: 0,
        dst_port: 0,
        seq: SeqNum(0),
        ack: SeqNum(0),
        flags: TcpFlags::NONE,
        window: 0,
        urgent: 0,
        options: TcpOptions::NONE,
        payload: &[],
    };

    /// The meaning of a checked segment, its checksum not looked at.
    #[inline]
    fn fields<T: AsRef<[u8]> + ?Sized>(packet: &TcpPacket<&'a T>) -> Result<TcpRepr<'a>> {
        let mut repr = TcpRepr::EMPTY;
        repr.fill(packet)?;
        Ok(repr)
    }

    /// Writes the meaning of a checked segment into `self`, its checksum
    /// not looked at, field by field where `self` lies.
    ///
    /// (Built elsewhere and moved, the segment was written with stores of
    /// one width and copied with loads of another that straddled them, a
    /// store-forwarding stall on every segment received: about 2 % of
    /// bulk's time.)
    #[inline]
    pub(crate) fn fill<T: AsRef<[u8]> + ?Sized>(
        &mut self,
        packet: &TcpPacket<&'a T>,
    ) -> Result<()> {
        let buf: &'a [u8] = packet.buffer.as_ref();
        let header_len = packet.header_len();
        self.options.parse_into(&buf[HEADER_LEN..header_len])?;
        self.src_port = packet.src_port();
        self.dst_port = packet.dst_port();
        self.seq = packet.seq_number();
        self.ack = packet.ack_number();
        self.flags = packet.flags();
        self.window = packet.window_len();
        self.urgent = packet.urgent_at();
        self.payload = &buf[header_len..];
        Ok(())
    }

    /// Parses raw segment bytes (a shorthand for `new_checked` + `parse`).
    #[inline]
    pub fn parse_bytes(
        bytes: &'a [u8],
        src: &IpAddr,
        dst: &IpAddr,
        verify_checksum: bool,
    ) -> Result<TcpRepr<'a>> {
        TcpRepr::parse(&TcpPacket::new_checked(bytes)?, src, dst, verify_checksum)
    }

    /// The header length, options included.
    #[inline]
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// The whole segment's length: header, options and payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// The sequence space the segment occupies (RFC 9293 §3.4 SEG.LEN):
    /// its data, plus one for SYN and one for FIN.
    #[inline]
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32
            + u32::from(self.flags.contains(TcpFlags::SYN))
            + u32::from(self.flags.contains(TcpFlags::FIN))
    }

    /// Writes the header and options (with a zero checksum) at the start of
    /// `buf`, for a segment of `payload_len` bytes of data that the caller
    /// will place after it (for data that is not one contiguous slice).
    /// Returns the header length. Finish with [`TcpPacket::fill_checksum`]
    /// over the whole segment.
    pub fn emit_header(&self, buf: &mut [u8]) -> Result<usize> {
        self.emit_header_summed(buf).map(|(len, _)| len)
    }

    /// [`emit_header`](Self::emit_header), returning with the header length
    /// the sum of the header as written (its checksum field zero). The sum
    /// is taken from the fields as they are written, not read back: a
    /// sender adds it to the pseudo-header's and the data's
    /// ([`Checksum::combine`](checksum::Checksum::combine)) to fill the
    /// checksum without another pass over the header.
    #[inline]
    pub fn emit_header_summed(&self, buf: &mut [u8]) -> Result<(usize, checksum::Checksum)> {
        self.header().emit_summed(buf)
    }

    /// The header fields, the options borrowed.
    #[inline]
    fn header(&self) -> TcpHeader<'_> {
        TcpHeader {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            urgent: self.urgent,
            options: &self.options,
        }
    }

    /// Writes the whole segment (header, options, payload) into `buf` with
    /// its checksum for this pseudo-header. Returns the segment length.
    pub fn emit(&self, buf: &mut [u8], src: &IpAddr, dst: &IpAddr) -> Result<usize> {
        let len = self.buffer_len();
        let out = buf.get_mut(..len).ok_or(Error::NoSpace)?;
        let header_len = self.emit_header(out)?;
        out[header_len..].copy_from_slice(self.payload);
        TcpPacket::new_unchecked(out).fill_checksum(src, dst)?;
        Ok(len)
    }
}

/// The header of a segment to write, its options borrowed rather than
/// held: for a sender that keeps a segment's fields apart from its data
/// and writes them straight from there (a [`TcpRepr`] built only to write
/// the header copies its options, and the copy reads back the sender's
/// fresh stores of them whole: a store-forwarding stall per segment).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TcpHeader<'a> {
    /// The source port.
    pub src_port: u16,
    /// The destination port.
    pub dst_port: u16,
    /// The sequence number of the first octet (or of the SYN).
    pub seq: SeqNum,
    /// The acknowledgment number; written only with [`TcpFlags::ACK`].
    pub ack: SeqNum,
    /// The control bits.
    pub flags: TcpFlags,
    /// The raw window field, before scaling.
    pub window: u16,
    /// The urgent pointer.
    pub urgent: u16,
    /// The options.
    pub options: &'a TcpOptions,
}

impl TcpHeader<'_> {
    /// The header length, options included.
    #[inline]
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// Writes the header and options at the start of `buf`, as
    /// [`TcpRepr::emit_header_summed`] does (the checksum field zero), and
    /// returns the header length and the sum of what it wrote.
    #[inline]
    pub fn emit_summed(&self, buf: &mut [u8]) -> Result<(usize, checksum::Checksum)> {
        let Some(ts) = self.options.only_timestamps() else {
            return self.emit_summed_any(buf);
        };
        // The header of nearly every segment: eight words, written and
        // summed without the general layout's steps (NOP, NOP, then the
        // timestamps, as `TcpOptions::emit` lays them out).
        const LEN: usize = HEADER_LEN + 12;
        let header: &mut [u8; LEN] = buf
            .get_mut(..LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::NoSpace)?;
        let [w0, w1, w2, w3, w4] = self.fixed_words(LEN);
        let words = [
            w0,
            w1,
            w2,
            w3,
            w4,
            u32::from_be_bytes([kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]),
            ts.tsval,
            ts.tsecr,
        ];
        let mut sum = checksum::Checksum::new();
        for (out, w) in header.chunks_exact_mut(4).zip(words) {
            out.copy_from_slice(&w.to_be_bytes());
            sum.add_u32(w);
        }
        Ok((LEN, sum))
    }

    /// `emit_summed` for any options.
    fn emit_summed_any(&self, buf: &mut [u8]) -> Result<(usize, checksum::Checksum)> {
        let header_len = self.header_len();
        if header_len > HEADER_LEN + MAX_OPTIONS_LEN {
            return Err(Error::NoSpace);
        }
        let header = buf.get_mut(..header_len).ok_or(Error::NoSpace)?;
        let (fixed, options) = header.split_at_mut(HEADER_LEN);
        self.options.emit(options)?;
        for (out, w) in fixed.chunks_exact_mut(4).zip(self.fixed_words(header_len)) {
            out.copy_from_slice(&w.to_be_bytes());
        }
        let mut sum = checksum::Checksum::new();
        for w in header.chunks_exact(4) {
            sum.add_u32(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
        }
        Ok((header_len, sum))
    }

    /// The fixed 20 bytes of the header as five words, for a header of
    /// `header_len` bytes (at most 60), the checksum zero.
    #[inline]
    fn fixed_words(&self, header_len: usize) -> [u32; 5] {
        // RFC 9293 §3.1: without ACK the acknowledgment field is not
        // significant; send zero rather than stale state.
        let ack = if self.flags.contains(TcpFlags::ACK) {
            self.ack.0
        } else {
            0
        };
        // The data offset and the flags; the reserved bits are zero.
        let offset_flags = ((header_len / 4) as u32) << 12 | u32::from(self.flags.bits());
        [
            u32::from(self.src_port) << 16 | u32::from(self.dst_port),
            self.seq.0,
            ack,
            offset_flags << 16 | u32::from(self.window),
            // The checksum (zero) and the urgent pointer.
            u32::from(self.urgent),
        ]
    }
}

/// One line in the style of tcpdump: ports, flags, seq, ack, window,
/// options and length.
impl fmt::Display for TcpRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} > {} [{}] seq {}",
            self.src_port,
            self.dst_port,
            self.flags.tcpdump(),
            self.seq
        )?;
        if self.flags.contains(TcpFlags::ACK) {
            write!(f, " ack {}", self.ack)?;
        }
        write!(f, " win {}", self.window)?;
        let o = &self.options;
        if !o.is_empty() {
            f.write_str(" <")?;
            let mut sep = "";
            let mut item = |f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>| {
                let r = write!(f, "{sep}{args}");
                sep = ",";
                r
            };
            if let Some(mss) = o.mss {
                item(f, format_args!("mss {mss}"))?;
            }
            if o.sack_permitted {
                item(f, format_args!("sackOK"))?;
            }
            if let Some(ts) = o.timestamps {
                item(f, format_args!("TS val {} ecr {}", ts.tsval, ts.tsecr))?;
            }
            if let Some(ws) = o.window_scale {
                item(f, format_args!("wscale {ws}"))?;
            }
            if !o.sack.is_empty() {
                item(f, format_args!("sack {}", o.sack.len()))?;
                for b in o.sack.as_slice() {
                    write!(f, " {{{}:{}}}", b.start, b.end)?;
                }
            }
            f.write_str(">")?;
        }
        write!(f, " length {}", self.payload.len())
    }
}

mod deferred;
pub use deferred::PendingChecksum;

#[cfg(test)]
mod tests;
