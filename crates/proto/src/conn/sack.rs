//! The sender's SACK scoreboard (RFC 2018, RFC 6675 §3): which sequence
//! ranges above SND.UNA the receiver reported holding.
//!
//! Received SACK blocks are untrusted: a block is taken only if it is
//! well-formed (start before end) and lies in what was sent and is not yet
//! cumulatively acknowledged (RFC 2018 §3: SND.UNA ≤ start < end ≤
//! SND.MAX). The first block may instead be a D-SACK (RFC 2883 §4): below
//! the cumulative ACK, or inside the second block; it reports a duplicate,
//! not new data, and is handed back separately.
//!
//! The scoreboard keeps sorted, disjoint, non-adjacent ranges, so its
//! memory is proportional to the number of SACKed ranges (holes). A real
//! receiver cannot report more islands than half the segments in flight;
//! the bound is that, and at least [`MAX_RANGES`] (the log of segments
//! in flight is itself bounded). A block that would need more ranges is
//! ignored (the data is then retransmitted sooner than needed, never
//! lost). Which segments a range covers is the sent-segment log's
//! business (`sent.rs`).

use alloc::vec::Vec;

use wire::tcp::SackBlock;
use wire::SeqNum;

/// The fewest separate SACKed ranges kept: more when more segments are in
/// flight (half of them). A real receiver reports one range per island of
/// out-of-order data; a hostile one cannot make us hold more.
pub const MAX_RANGES: usize = 256;

/// What one ACK's SACK option said, after validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SackUpdate {
    /// A D-SACK block (RFC 2883): a range the receiver got twice.
    pub dsack: Option<(SeqNum, SeqNum)>,
    /// The parts of the valid blocks that were not SACKed before (at most
    /// a few per block: the gaps between ranges already held).
    pub newly: NewRanges,
}

/// A small fixed list of newly SACKed ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NewRanges {
    ranges: [(SeqNum, SeqNum); 16],
    len: usize,
}

impl Default for NewRanges {
    fn default() -> Self {
        NewRanges {
            ranges: [(SeqNum(0), SeqNum(0)); 16],
            len: 0,
        }
    }
}

impl NewRanges {
    fn push(&mut self, r: (SeqNum, SeqNum)) {
        if let Some(slot) = self.ranges.get_mut(self.len) {
            *slot = r;
            self.len += 1;
        } else if let Some(last) = self.ranges.last_mut() {
            // More gaps than slots (a hostile pattern): report the span;
            // the log checks every segment against the scoreboard anyway.
            last.1 = r.1;
        }
    }

    /// Sorts the ranges by sequence number, counting from `base`.
    fn sort(&mut self, base: SeqNum) {
        self.ranges[..self.len].sort_unstable_by_key(|r| r.0.since(base));
    }

    /// The ranges, in sequence order.
    pub fn as_slice(&self) -> &[(SeqNum, SeqNum)] {
        &self.ranges[..self.len]
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The SACKed ranges above SND.UNA. See the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scoreboard {
    /// Sorted, disjoint, non-adjacent `[start, end)` ranges, all above
    /// SND.UNA.
    ranges: Vec<(SeqNum, SeqNum)>,
}

impl Scoreboard {
    /// Whether nothing above SND.UNA is SACKed.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, sorted.
    #[cfg(test)]
    pub fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        &self.ranges
    }

    /// SND.UNA moved to `una`: ranges below it go, one straddling it is
    /// cut.
    pub fn advance(&mut self, una: SeqNum) {
        let drop = self.ranges.partition_point(|&(_, e)| e <= una);
        self.ranges.drain(..drop);
        if let Some(first) = self.ranges.first_mut() {
            if first.0 < una {
                first.0 = una;
            }
        }
    }

    /// Whether all of `[start, end)` is SACKed.
    pub fn covers(&self, start: SeqNum, end: SeqNum) -> bool {
        let i = self.ranges.partition_point(|&(_, e)| e <= start);
        self.ranges
            .get(i)
            .is_some_and(|&(s, e)| s <= start && end <= e)
    }

    /// Forgets everything (the receiver reneged, RFC 2018 §8).
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// Takes the SACK blocks of an ACK whose acknowledgment number is
    /// `ack`, with SND.UNA at `una` (already advanced by `ack`) and
    /// SND.MAX at `max`; `oldest` is the lowest sequence number a D-SACK
    /// may report (SND.UNA less the largest window, RFC 5961 §5's bound
    /// for ACKs); `segments` how many segments are in flight.
    pub fn update(
        &mut self,
        ack: SeqNum,
        una: SeqNum,
        max: SeqNum,
        oldest: SeqNum,
        blocks: &[SackBlock],
        segments: usize,
    ) -> SackUpdate {
        let limit = MAX_RANGES.max(segments / 2 + 1);
        let mut out = SackUpdate::default();
        let mut rest = blocks;
        if let Some(first) = blocks.first() {
            // RFC 2883 §4: the first block is a D-SACK if it lies below the
            // cumulative ACK, or within the second block.
            let below = first.start < ack;
            let within = blocks
                .get(1)
                .is_some_and(|b| b.start <= first.start && first.end <= b.end);
            if below || within {
                rest = &blocks[1..];
                let sane =
                    first.end.diff(first.start) > 0 && first.start >= oldest && first.end <= max;
                if sane {
                    out.dsack = Some((first.start, first.end));
                }
                if within && sane && first.end > una {
                    // A duplicate of out-of-order data: also SACK news.
                    rest = blocks;
                }
            }
        }
        for b in rest {
            // RFC 2018 §3 / RFC 6675 §2: only blocks in what was sent and
            // is still unacknowledged count. Empty or inverted blocks,
            // blocks beyond SND.MAX, and blocks wholly below SND.UNA are
            // nonsense or old news.
            if b.end.diff(b.start) <= 0 || b.end > max || b.end <= una {
                continue;
            }
            let start = b.start.max(una);
            self.insert(start, b.end, &mut out.newly, limit);
        }
        // Receivers list the newest block first (RFC 2018 §4); what was
        // newly SACKed is handed on in sequence order, which RACK's
        // reordering detection needs (RFC 8985 §6.2 step 3).
        out.newly.sort(una);
        out
    }

    /// Records `[start, end)` as SACKed, pushing the parts that were not
    /// already onto `newly`. Ignored if it would need more than `limit`
    /// ranges.
    fn insert(&mut self, start: SeqNum, end: SeqNum, newly: &mut NewRanges, limit: usize) {
        // The ranges that overlap or touch [start, end): ranges[i..j].
        let i = self.ranges.partition_point(|&(_, e)| e < start);
        let j = i + self.ranges[i..].partition_point(|&(s, _)| s <= end);
        if i == j {
            if self.ranges.len() >= limit {
                return;
            }
            self.ranges.insert(i, (start, end));
            newly.push((start, end));
            return;
        }
        // The gaps inside [start, end) not covered by ranges[i..j] are new.
        let mut cursor = start;
        for &(s, e) in &self.ranges[i..j] {
            if s > cursor {
                newly.push((cursor, s.min(end)));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            newly.push((cursor, end));
        }
        let merged = (start.min(self.ranges[i].0), end.max(self.ranges[j - 1].1));
        self.ranges[i] = merged;
        self.ranges.drain(i + 1..j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn b(s: u32, e: u32) -> SackBlock {
        SackBlock {
            start: SeqNum(s),
            end: SeqNum(e),
        }
    }

    fn new_of(u: &SackUpdate) -> Vec<(u32, u32)> {
        u.newly
            .as_slice()
            .iter()
            .map(|r| (r.0 .0, r.1 .0))
            .collect()
    }

    const UNA: SeqNum = SeqNum(1000);
    const MAX: SeqNum = SeqNum(10_000);
    const OLDEST: SeqNum = SeqNum(0);

    #[test]
    fn blocks_merge_and_report_only_new_parts() {
        let mut sb = Scoreboard::default();
        let u = sb.update(UNA, UNA, MAX, OLDEST, &[b(2000, 3000)], 0);
        assert_eq!(new_of(&u), [(2000, 3000)]);
        let u = sb.update(UNA, UNA, MAX, OLDEST, &[b(4000, 5000), b(2000, 3000)], 0);
        assert_eq!(new_of(&u), [(4000, 5000)]);
        // Bridging both, and more on each side.
        let u = sb.update(UNA, UNA, MAX, OLDEST, &[b(1500, 5500)], 0);
        assert_eq!(new_of(&u), [(1500, 2000), (3000, 4000), (5000, 5500)]);
        assert_eq!(sb.ranges(), &[(SeqNum(1500), SeqNum(5500))]);
        assert!(sb.covers(SeqNum(1500), SeqNum(5500)));
        assert!(!sb.covers(SeqNum(1400), SeqNum(1600)));
    }

    #[test]
    fn nonsense_blocks_are_ignored() {
        let mut sb = Scoreboard::default();
        // Inverted, empty, beyond SND.MAX, wholly below SND.UNA (and not
        // first, so not a D-SACK).
        let u = sb.update(
            UNA,
            UNA,
            MAX,
            OLDEST,
            &[b(3000, 3000), b(5000, 4000), b(9000, 12_000), b(100, 900)],
            0,
        );
        assert!(u.newly.is_empty());
        assert!(sb.is_empty());
        // A block straddling SND.UNA is cut at it.
        let u = sb.update(UNA, UNA, MAX, OLDEST, &[b(2000, 2100), b(900, 1200)], 0);
        assert_eq!(
            new_of(&u),
            [(1000, 1200), (2000, 2100)],
            "in sequence order"
        );
        // Sequence numbers half the space away do not count as in range.
        let u = sb.update(
            UNA,
            UNA,
            MAX,
            OLDEST,
            &[b(2000, 2100), b(0x8000_0000, 0x8000_0100)],
            0,
        );
        assert!(u.newly.is_empty());
    }

    #[test]
    fn dsack_below_the_ack_or_inside_the_second_block() {
        let mut sb = Scoreboard::default();
        // RFC 2883 §4.1.1: a duplicate below the cumulative ACK.
        let u = sb.update(UNA, UNA, MAX, OLDEST, &[b(500, 700)], 0);
        assert_eq!(u.dsack, Some((SeqNum(500), SeqNum(700))));
        assert!(u.newly.is_empty());
        // §4.1.2: a duplicate of out-of-order data, inside the second
        // block, which is reported too.
        let u = sb.update(UNA, UNA, MAX, OLDEST, &[b(3000, 3100), b(3000, 4000)], 0);
        assert_eq!(u.dsack, Some((SeqNum(3000), SeqNum(3100))));
        assert_eq!(new_of(&u), [(3000, 3100), (3100, 4000)]);
        // A D-SACK older than any window is dropped.
        let u = sb.update(UNA, UNA, MAX, SeqNum(800), &[b(500, 700)], 0);
        assert_eq!(u.dsack, None);
    }

    #[test]
    fn advance_drops_and_cuts() {
        let mut sb = Scoreboard::default();
        sb.update(UNA, UNA, MAX, OLDEST, &[b(2000, 3000), b(4000, 5000)], 0);
        sb.advance(SeqNum(2500));
        assert_eq!(
            sb.ranges(),
            &[(SeqNum(2500), SeqNum(3000)), (SeqNum(4000), SeqNum(5000))]
        );
        sb.advance(SeqNum(5000));
        assert!(sb.is_empty());
    }

    #[test]
    fn ranges_are_bounded() {
        let mut sb = Scoreboard::default();
        let max = SeqNum(1_000_000);
        for k in 0..(MAX_RANGES as u32 + 50) {
            let s = 1000 + 10 * k;
            sb.update(UNA, UNA, max, OLDEST, &[b(s, s + 5)], 0);
        }
        assert_eq!(sb.ranges().len(), MAX_RANGES);
    }

    #[test]
    fn wraps_around_zero() {
        let una = SeqNum(u32::MAX - 100);
        let max = SeqNum(5000);
        let mut sb = Scoreboard::default();
        let u = sb.update(una, una, max, SeqNum(0), &[b(u32::MAX - 50, 100)], 0);
        assert_eq!(new_of(&u), [(u32::MAX - 50, 100)]);
        assert!(sb.covers(SeqNum(u32::MAX - 10), SeqNum(10)));
    }
}
