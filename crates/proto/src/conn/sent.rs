//! The log of segments in flight: one compact record per segment sent and
//! not yet cumulatively acknowledged, with when it was (last) sent and
//! what is known of it — SACKed, marked lost, retransmitted.
//!
//! RACK (RFC 8985 §6) needs each segment's transmission time; RFC 6675's
//! `pipe` (§4, SetPipe) needs to know which bytes are SACKed, lost and
//! retransmitted. The log keeps that in a ring of records proportional to
//! the segments in flight (bounded by [`MAX_RECORDS`]: beyond it, new
//! segments extend the last record), reused without allocating once it has
//! grown, and the byte counts behind `pipe` are kept up to date on every
//! change, so that nothing per ACK scans the whole window.
//!
//! Records keep the boundaries of the segments as first sent; a
//! retransmission that covers part of a record splits it.

use alloc::collections::VecDeque;

use wire::{Instant, SeqNum};

/// Records kept at most; a connection sending tiny segments into a large
/// window merges the newest ones instead of growing without bound.
pub const MAX_RECORDS: usize = 8192;

/// The receiver reported holding the segment.
pub const SACKED: u8 = 1;
/// The segment is deemed lost and waits to be retransmitted (or its
/// retransmission is in flight, with [`RETRANS`]).
pub const LOST: u8 = 2;
/// A retransmission of the segment is in flight.
pub const RETRANS: u8 = 4;
/// The segment was retransmitted at least once (RACK's
/// "Segment.retransmitted", Karn's rule).
pub const EVER_RETRANS: u8 = 8;
/// The segment was a tail loss probe.
pub const PROBE: u8 = 16;

/// Why a segment was marked lost (kept for the retransmission counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LostBy {
    /// RACK's time rule (RFC 8985 §6.2 step 5).
    Rack,
    /// The duplicate-ACK threshold (RFC 6675 IsLost, RFC 5681 §3.2).
    DupThresh,
    /// The retransmission timer (RFC 6298 §5, RFC 6675 §5.1).
    Timeout,
}

impl LostBy {
    const SHIFT: u8 = 5;
    const MASK: u8 = 3 << LostBy::SHIFT;

    fn bits(self) -> u8 {
        (match self {
            LostBy::Rack => 1,
            LostBy::DupThresh => 2,
            LostBy::Timeout => 3,
        }) << LostBy::SHIFT
    }

    fn of(flags: u8) -> Option<LostBy> {
        match (flags & LostBy::MASK) >> LostBy::SHIFT {
            1 => Some(LostBy::Rack),
            2 => Some(LostBy::DupThresh),
            3 => Some(LostBy::Timeout),
            _ => None,
        }
    }
}

/// One segment in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rec {
    /// Its first sequence number.
    pub start: SeqNum,
    /// The sequence number past it (a FIN counts one).
    pub end: SeqNum,
    /// When it was last sent.
    pub xmit: Instant,
    /// The order of that sending among all of the connection's (wrapping):
    /// what "sent after" means between segments sent at the same instant.
    pub order: u32,
    /// [`SACKED`], [`LOST`], [`RETRANS`], [`EVER_RETRANS`], [`PROBE`] and
    /// the [`LostBy`] bits.
    pub flags: u8,
}

impl Rec {
    /// A record of `start..end` first sent at `xmit`, `order`-th, with no
    /// flags.
    #[inline(always)]
    fn sent(start: SeqNum, end: SeqNum, xmit: Instant, order: u32) -> Rec {
        Rec {
            start,
            end,
            xmit,
            order,
            flags: 0,
        }
    }

    /// Its length in sequence space.
    pub fn len(&self) -> u32 {
        self.end.since(self.start)
    }

    /// Whether any of `flags` is set.
    pub fn has(&self, flags: u8) -> bool {
        self.flags & flags != 0
    }

    /// Why it was marked lost.
    pub fn lost_by(&self) -> Option<LostBy> {
        LostBy::of(self.flags)
    }

    /// Deemed lost and not yet resent.
    pub fn wants_resend(&self) -> bool {
        self.flags & (SACKED | LOST | RETRANS) == LOST
    }
}

/// Byte counts over the records, RFC 6675 §4 (SetPipe) and Linux's
/// `sacked_out`, `lost_out`, `retrans_out`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// SACKed.
    pub sacked: u32,
    /// SACKed records.
    pub sacked_recs: u32,
    /// Marked lost and not SACKed (resent or not).
    pub lost: u32,
    /// Retransmission in flight, not SACKed.
    pub retrans: u32,
    /// Marked lost, not resent, not SACKed: what waits to be resent.
    pub pending: u32,
}

impl Counts {
    fn apply(&mut self, flags: u8, len: u32, add: bool) {
        let f = |c: &mut u32, n: u32| {
            *c = if add {
                c.saturating_add(n)
            } else {
                c.saturating_sub(n)
            }
        };
        if flags & SACKED != 0 {
            f(&mut self.sacked, len);
            f(&mut self.sacked_recs, 1);
            return;
        }
        if flags & LOST != 0 {
            f(&mut self.lost, len);
        }
        if flags & RETRANS != 0 {
            f(&mut self.retrans, len);
        }
        if flags & (LOST | RETRANS) == LOST {
            f(&mut self.pending, len);
        }
    }
}

/// What sending a segment did to the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sent {
    /// It resent something already in the log.
    pub retransmission: bool,
    /// Why the first record it resent had been marked lost.
    pub lost_by: Option<LostBy>,
}

/// The records. See the [module docs](self).
#[derive(Debug, Clone, Default)]
pub(crate) struct SentLog {
    recs: VecDeque<Rec>,
    counts: Counts,
    /// The next send order.
    order: u32,
}

impl SentLog {
    /// An empty log (as `SentLog::default()`) in this one's storage, if
    /// that holds at most `keep` records.
    pub fn emptied(self, keep: usize) -> SentLog {
        let mut recs = self.recs;
        recs.clear();
        if recs.capacity() > keep {
            return SentLog::default();
        }
        SentLog {
            recs,
            ..SentLog::default()
        }
    }

    /// The byte counts.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether no segment is in flight.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// The record at index `i` (0 is the oldest sequence).
    pub fn get(&self, i: usize) -> Option<&Rec> {
        self.recs.get(i)
    }

    /// The records, lowest sequence first.
    #[cfg(test)]
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Rec> + '_ {
        self.recs.iter()
    }

    /// The sequence number past the last record.
    pub fn end(&self) -> Option<SeqNum> {
        self.recs.back().map(|r| r.end)
    }

    /// Replaces the flags of record `i`, keeping the counts right.
    pub fn set_flags(&mut self, i: usize, flags: u8) {
        let Some(r) = self.recs.get_mut(i) else {
            return;
        };
        let len = r.len();
        self.counts.apply(r.flags, len, false);
        r.flags = flags;
        self.counts.apply(flags, len, true);
    }

    /// Marks record `i` lost (RFC 8985 §6.2 step 5 "Segment.lost =
    /// TRUE"): its retransmission, if one was in flight, is deemed lost
    /// too, so it waits to be resent again.
    pub fn mark_lost(&mut self, i: usize, by: LostBy) {
        let Some(r) = self.recs.get(i) else { return };
        if r.has(SACKED) {
            return;
        }
        let flags = (r.flags & !(RETRANS | LostBy::MASK)) | LOST | by.bits();
        self.set_flags(i, flags);
    }

    /// The index of the first record that ends after `seq`.
    pub fn index_after(&self, seq: SeqNum) -> usize {
        self.recs.partition_point(|r| r.end <= seq)
    }

    /// A segment `[start, end)` was sent at `now`.
    #[inline]
    pub fn on_send(&mut self, start: SeqNum, end: SeqNum, now: Instant) -> Sent {
        // New data right after the last record (or into an empty log), in
        // a log with room: one record appended, inline. Anything else
        // (a retransmission, a full log, an empty range) the general way.
        let appends = self.recs.back().is_none_or(|last| last.end == start);
        if appends && start < end && self.recs.len() < MAX_RECORDS {
            let order = self.order;
            self.order = self.order.wrapping_add(1);
            self.recs.push_back(Rec::sent(start, end, now, order));
            return Sent::default();
        }
        self.on_send_any(start, end, now)
    }

    /// `on_send` for any segment.
    fn on_send_any(&mut self, start: SeqNum, end: SeqNum, now: Instant) -> Sent {
        let mut out = Sent::default();
        if end.diff(start) <= 0 {
            return out;
        }
        let order = self.order;
        self.order = self.order.wrapping_add(1);
        let log_end = self.end().unwrap_or(start);
        if start < log_end {
            out.retransmission = true;
            let resent_end = end.min(log_end);
            // Split the records the retransmission covers only in part.
            let i = self.index_after(start);
            if let Some(&r) = self.recs.get(i) {
                if r.start < start {
                    self.split(i, start);
                }
            }
            let j = self.index_after(resent_end.max(start + 1) - 1);
            if let Some(&r) = self.recs.get(j) {
                if r.start < resent_end && resent_end < r.end {
                    self.split(j, resent_end);
                }
            }
            let mut i = self.index_after(start);
            while let Some(&r) = self.recs.get(i) {
                if r.start >= resent_end {
                    break;
                }
                if out.lost_by.is_none() {
                    out.lost_by = r.lost_by();
                }
                if !r.has(SACKED) {
                    self.set_flags(i, r.flags | RETRANS | EVER_RETRANS);
                }
                self.recs[i].xmit = now;
                self.recs[i].order = order;
                i += 1;
            }
            if end <= log_end {
                return out;
            }
        }
        let start = start.max(log_end);
        if self.recs.len() >= MAX_RECORDS {
            if let Some(last) = self.recs.back_mut() {
                if last.flags == 0 && last.end == start {
                    last.end = end;
                    last.xmit = now;
                    last.order = order;
                    return out;
                }
            }
        }
        self.recs.push_back(Rec::sent(start, end, now, order));
        out
    }

    /// Splits record `i` at `at` (inside it) into two with the same
    /// flags and time.
    fn split(&mut self, i: usize, at: SeqNum) {
        let Some(&r) = self.recs.get(i) else { return };
        if !(r.start < at && at < r.end) {
            return;
        }
        self.recs[i].end = at;
        self.recs.insert(i + 1, Rec { start: at, ..r });
    }

    /// The cumulative ACK moved SND.UNA to `una`: drops the records it
    /// covers, handing each to `f` first (with its flags as they were).
    /// A record only partly covered is cut. (Inlined into the ACK path:
    /// there `f` is a closure over the caller's state, which then stays
    /// in registers instead of being reached through the closure's
    /// captures for each of the dozens of records an ACK covers.)
    #[inline]
    pub fn acknowledge(&mut self, una: SeqNum, mut f: impl FnMut(&Rec)) {
        // The records wholly covered, found at once (they are in sequence
        // order) and dropped together: an ACK covers dozens in a bulk
        // transfer. An ACK of everything (every ACK of a request–response
        // exchange) needs no search.
        let covered = match self.recs.back() {
            Some(last) if last.end <= una => self.recs.len(),
            _ => self.index_after(una),
        };
        for r in self.recs.range(..covered) {
            f(r);
            self.counts.apply(r.flags, r.len(), false);
        }
        if covered == self.recs.len() {
            // All of it: `clear` resets the ring in two stores, where
            // `drain` builds and drops a draining iterator (as much work
            // as the rest of an ACK that covers one record).
            self.recs.clear();
            return;
        }
        self.recs.drain(..covered);
        if let Some(front) = self.recs.front_mut() {
            if front.start < una {
                // Part of it: count the rest.
                self.counts.apply(front.flags, front.len(), false);
                front.start = una;
                self.counts.apply(front.flags, front.len(), true);
            }
        }
    }

    /// Marks as SACKed every record that `covered` says is wholly SACKed
    /// among those overlapping `[start, end)`, handing each newly SACKed
    /// one to `f` (with its flags before).
    pub fn mark_sacked(
        &mut self,
        start: SeqNum,
        end: SeqNum,
        covered: impl Fn(SeqNum, SeqNum) -> bool,
        mut f: impl FnMut(&Rec),
    ) {
        let mut i = self.index_after(start);
        while let Some(&r) = self.recs.get(i) {
            if r.start >= end {
                break;
            }
            if !r.has(SACKED) && covered(r.start, r.end) {
                f(&r);
                // SACKed: no longer lost nor being resent (RFC 6675 §4).
                self.set_flags(i, (r.flags & (EVER_RETRANS | PROBE)) | SACKED);
            }
            i += 1;
        }
    }

    /// Marks every record that is not SACKed lost (a retransmission
    /// timeout, RFC 6675 §5.1): everything in flight is presumed gone.
    pub fn mark_all_lost(&mut self, by: LostBy) {
        for i in 0..self.recs.len() {
            self.mark_lost(i, by);
        }
    }

    /// Clears the SACKed marks (the receiver reneged, RFC 2018 §8).
    pub fn clear_sacked(&mut self) {
        for i in 0..self.recs.len() {
            let f = self.recs[i].flags;
            if f & SACKED != 0 {
                self.set_flags(i, f & !SACKED);
            }
        }
    }

    /// Takes back every loss mark (a spurious retransmission was
    /// detected, RFC 3522, RFC 5682): what was resent stays in flight.
    pub fn unmark_lost(&mut self) {
        for i in 0..self.recs.len() {
            let f = self.recs[i].flags;
            if f & LOST != 0 {
                self.set_flags(i, f & !(LOST | LostBy::MASK));
            }
        }
    }

    /// The first record deemed lost and not yet resent, at index `from`
    /// or after: RFC 6675 NextSeg() rule (1).
    pub fn next_to_resend(&self, from: usize) -> Option<(usize, Rec)> {
        if self.counts.pending == 0 {
            return None;
        }
        self.recs
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, r)| r.wants_resend())
            .map(|(i, r)| (i, *r))
    }

    /// The last record not SACKed: what a tail loss probe resends
    /// (RFC 8985 §7.3).
    pub fn last_unsacked(&self) -> Option<Rec> {
        self.recs.iter().rev().find(|r| !r.has(SACKED)).copied()
    }

    /// Recomputes the counts from the records (for checks in tests).
    #[cfg(test)]
    pub fn recount(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.recs {
            c.apply(r.flags, r.len(), true);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn an_emptied_log_starts_over_in_the_same_room() {
        let used = log_of(5);
        let room = used.recs.capacity();
        let mut l = used.emptied(64);
        assert!(l.is_empty());
        assert_eq!(l.counts(), Counts::default());
        assert_eq!(l.recs.capacity(), room, "the storage is kept");
        l.on_send(SeqNum(7), SeqNum(8), t(9));
        assert_eq!(l.get(0).map(|r| r.order), Some(0), "send order restarts");
        let big = log_of(100);
        assert_eq!(big.emptied(64).recs.capacity(), 0, "a large log is freed");
    }

    fn log_of(n: u32) -> SentLog {
        let mut l = SentLog::default();
        for k in 0..n {
            l.on_send(
                SeqNum(1000 + 100 * k),
                SeqNum(1100 + 100 * k),
                t(u64::from(k)),
            );
        }
        l
    }

    fn spans(l: &SentLog) -> Vec<(u32, u32, u8)> {
        l.iter().map(|r| (r.start.0, r.end.0, r.flags)).collect()
    }

    #[test]
    fn records_follow_sends_and_acks() {
        let mut l = log_of(5);
        assert_eq!(l.len(), 5);
        assert_eq!(l.end(), Some(SeqNum(1500)));
        let mut seen = Vec::new();
        l.acknowledge(SeqNum(1250), |r| seen.push(r.start.0));
        assert_eq!(seen, [1000, 1100]);
        assert_eq!(l.get(0).unwrap().start, SeqNum(1250));
        assert_eq!(l.counts(), l.recount());
    }

    #[test]
    fn sack_loss_and_resend_keep_the_counts() {
        let mut l = log_of(5);
        l.mark_sacked(SeqNum(1200), SeqNum(1400), |_, _| true, |_| {});
        assert_eq!(l.counts().sacked, 200);
        assert_eq!(l.counts().sacked_recs, 2);
        l.mark_lost(0, LostBy::Rack);
        l.mark_lost(2, LostBy::Rack);
        assert_eq!(l.counts().lost, 100, "a SACKed record is never lost");
        assert_eq!(l.counts().pending, 100);
        let (i, r) = l.next_to_resend(0).unwrap();
        assert_eq!((i, r.start), (0, SeqNum(1000)));
        let s = l.on_send(SeqNum(1000), SeqNum(1100), t(50));
        assert!(s.retransmission);
        assert_eq!(s.lost_by, Some(LostBy::Rack));
        let c = l.counts();
        assert_eq!((c.lost, c.retrans, c.pending), (100, 100, 0));
        assert_eq!(l.next_to_resend(0), None);
        // Its retransmission is lost too.
        l.mark_lost(0, LostBy::Timeout);
        let c = l.counts();
        assert_eq!((c.lost, c.retrans, c.pending), (100, 0, 100));
        assert!(l.get(0).unwrap().has(EVER_RETRANS));
        l.unmark_lost();
        assert_eq!(l.counts().lost, 0);
        l.mark_all_lost(LostBy::Timeout);
        assert_eq!(l.counts().lost, 300);
        l.clear_sacked();
        assert_eq!(l.counts().sacked, 0);
        assert_eq!(l.counts(), l.recount());
    }

    #[test]
    fn partial_retransmission_splits() {
        let mut l = log_of(3);
        l.mark_all_lost(LostBy::Timeout);
        // A smaller MSS: 60 bytes of the first record, then the rest.
        l.on_send(SeqNum(1000), SeqNum(1060), t(10));
        assert_eq!(
            spans(&l)[..2],
            [
                (
                    1000,
                    1060,
                    LOST | RETRANS | EVER_RETRANS | LostBy::Timeout.bits()
                ),
                (1060, 1100, LOST | LostBy::Timeout.bits())
            ]
        );
        // One segment resending across two records and beyond the end.
        l.on_send(SeqNum(1060), SeqNum(1400), t(20));
        assert_eq!(l.len(), 5);
        assert_eq!(l.end(), Some(SeqNum(1400)));
        assert_eq!(spans(&l)[4], (1300, 1400, 0));
        assert_eq!(l.counts(), l.recount());
        assert_eq!(l.counts().pending, 0);
    }

    #[test]
    fn bounded_by_merging_the_newest() {
        let mut l = SentLog::default();
        for k in 0..(MAX_RECORDS as u32 + 100) {
            l.on_send(SeqNum(k), SeqNum(k + 1), t(1));
        }
        assert_eq!(l.len(), MAX_RECORDS);
        assert_eq!(l.end(), Some(SeqNum(MAX_RECORDS as u32 + 100)));
    }

    /// Pseudo-random numbers below `n` (xorshift32 from `seed`).
    fn below(seed: u32) -> impl FnMut(u32) -> u32 {
        let mut x = seed;
        move |n| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % n
        }
    }

    #[test]
    fn the_inline_append_leaves_the_log_as_the_general_way_does() {
        // Every kind of send, through `on_send` (which appends inline when
        // it can) and through `on_send_any` alone: the same logs, the same
        // answers. Ranges: empty, backwards, appending, leaving a gap,
        // resending, overlapping the end; near the record limit too.
        let mut next = below(0x9e37_79b9);
        for near_limit in [false, true] {
            let mut fast = SentLog::default();
            let mut end = 0u32;
            if near_limit {
                for k in 0..MAX_RECORDS as u32 - 20 {
                    fast.on_send_any(SeqNum(k), SeqNum(k + 1), t(0));
                }
                end = MAX_RECORDS as u32 - 20;
            }
            let mut general = fast.clone();
            for step in 0..2000u64 {
                let start = match next(4) {
                    0 | 1 => end,
                    2 => end.wrapping_sub(next(300)),
                    _ => end + next(50),
                };
                let stop = start.wrapping_add(next(120)).wrapping_sub(10);
                end = end.max(stop);
                let (s, e) = (SeqNum(start), SeqNum(stop));
                if next(20) == 0 {
                    fast.mark_all_lost(LostBy::Timeout);
                    general.mark_all_lost(LostBy::Timeout);
                }
                assert_eq!(
                    fast.on_send(s, e, t(step)),
                    general.on_send_any(s, e, t(step)),
                    "{start}..{stop}"
                );
                // Whole records: bounds, flags, times and send order.
                assert_eq!(fast.recs, general.recs, "{start}..{stop}");
                assert_eq!(fast.counts(), general.counts());
                assert_eq!(fast.order, general.order);
            }
        }
    }

    #[test]
    fn acknowledge_hands_over_what_it_covers_and_cuts_the_rest() {
        let mut next = below(0x2545_f491);
        for _ in 0..500 {
            let mut l = log_of(1 + next(60));
            for i in 0..l.len() {
                match next(4) {
                    0 => l.mark_lost(i, LostBy::Rack),
                    1 => l.mark_sacked(
                        l.get(i).unwrap().start,
                        l.get(i).unwrap().end,
                        |_, _| true,
                        |_| {},
                    ),
                    _ => {}
                }
            }
            // Anywhere from before the first record to past the last.
            let una = SeqNum(900 + next(100 * l.len() as u32 + 200));
            let before: Vec<Rec> = l.iter().copied().collect();
            let mut handed = Vec::new();
            l.acknowledge(una, |r| handed.push(*r));
            let (want_handed, mut want_left): (Vec<Rec>, Vec<Rec>) =
                before.iter().partition(|r| r.end <= una);
            if let Some(first) = want_left.first_mut() {
                first.start = first.start.max(una);
            }
            assert_eq!(handed, want_handed, "una {una:?}");
            assert_eq!(l.iter().copied().collect::<Vec<_>>(), want_left);
            assert_eq!(l.counts(), l.recount());
        }
    }

    #[test]
    fn sacking_needs_whole_records() {
        let mut l = log_of(3);
        let mut n = 0;
        l.mark_sacked(
            SeqNum(1050),
            SeqNum(1250),
            |s, e| s >= SeqNum(1050) && e <= SeqNum(1250),
            |_| n += 1,
        );
        assert_eq!(n, 1, "only 1100..1200 is wholly inside");
        assert!(l.get(1).unwrap().has(SACKED));
    }
}
