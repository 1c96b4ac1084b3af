//! The receiving half: the receive sequence variables of RFC 9293 §3.3.1,
//! reassembly of out-of-order data, the advertised window with receiver
//! silly window avoidance (§3.8.6.2.2), and the SACK blocks we report
//! (RFC 2018).

use wire::tcp::{SackBlock, SackBlocks, MAX_SACK_BLOCKS};
use wire::SeqNum;

use crate::assembler::Assembler;
use crate::ring::{RingBuffer, Staged};

/// Out-of-order ranges kept at most (each costs 8 bytes, taken only as
/// holes appear; a peer cannot make us hold more). A heavy loss in a large
/// window — a slow-start overshoot with reordering — makes hundreds of
/// islands: beyond this many, arriving segments are dropped and must be
/// resent.
const MAX_RANGES: usize = 1024;

/// The receive sequence space and the data behind it.
#[derive(Debug)]
pub(crate) struct RecvState {
    /// The initial receive sequence number (IRS).
    pub irs: SeqNum,
    /// RCV.NXT: the next sequence number expected.
    pub nxt: SeqNum,
    /// The right edge of the window we last advertised. It never moves
    /// left (RFC 9293 §3.8.6.2.2: shrinking the window is discouraged);
    /// segments up to it stay acceptable.
    pub adv: SeqNum,
    /// In-order data not yet read, then room for out-of-order data.
    pub buf: RingBuffer,
    /// Out-of-order ranges held beyond RCV.NXT.
    pub ooo: Assembler,
    /// The sequence number of the peer's FIN, once seen (it may arrive
    /// before the data that precedes it).
    pub fin_seq: Option<SeqNum>,
    /// The FIN has been consumed in sequence: the stream has ended.
    pub fin_done: bool,
    /// The acknowledgment number we last sent (RFC 7323 Last.ACK.sent).
    pub last_ack_sent: SeqNum,
    /// In-order data bytes received since we last sent an ACK.
    pub unacked_bytes: u32,
    /// The largest segment payload received: what "full-sized" means for
    /// this peer (RFC 5681 §4.2), like Linux's rcv_mss estimate.
    pub largest_seg: u32,
    /// The recently received out-of-order ranges, newest first, for the
    /// order of SACK blocks (RFC 2018 §4).
    recent: [(SeqNum, SeqNum); MAX_SACK_BLOCKS],
    /// How many of `recent` are in use (at most `MAX_SACK_BLOCKS`).
    recent_len: u8,
    /// A duplicate segment's range to report as the first SACK block of
    /// the next ACK, once (RFC 2883 §4, D-SACK).
    pub dsack: Option<(SeqNum, SeqNum)>,
    /// The shift applied to the windows we advertise.
    pub wscale: u8,
    /// The receive buffer size (the window when the buffer is empty).
    pub capacity: u32,
}

impl RecvState {
    /// Before the peer's SYN.
    pub fn new(capacity: usize) -> RecvState {
        RecvState {
            irs: SeqNum(0),
            nxt: SeqNum(0),
            adv: SeqNum(0),
            buf: RingBuffer::new(capacity),
            ooo: Assembler::new(MAX_RANGES),
            fin_seq: None,
            fin_done: false,
            last_ack_sent: SeqNum(0),
            unacked_bytes: 0,
            largest_seg: 0,
            recent: [(SeqNum(0), SeqNum(0)); MAX_SACK_BLOCKS],
            recent_len: 0,
            dsack: None,
            wscale: 0,
            capacity: capacity.min(u32::MAX as usize) as u32,
        }
    }

    /// Takes the peer's SYN: RCV.NXT = SEG.SEQ + 1.
    pub fn on_syn(&mut self, seq: SeqNum) {
        self.irs = seq;
        self.nxt = seq + 1;
        self.adv = self.nxt;
        self.last_ack_sent = self.nxt;
    }

    /// RCV.WND: what the window we advertised still allows.
    pub fn window(&self) -> u32 {
        self.adv.since(self.nxt)
    }

    /// Free buffer space beyond RCV.NXT (the data held in order is in the
    /// buffer; out-of-order data sits in the space after it).
    fn free(&self) -> u32 {
        self.capacity.saturating_sub(self.buf.len() as u32)
    }

    /// The window field to send and the new right edge (RFC 9293
    /// §3.8.6.2.2): the right edge moves only when it can move by at
    /// least min(buffer/2, MSS), and never to the left.
    pub fn window_to_advertise(&self, mss: u32) -> (u16, SeqNum) {
        let free = self.free();
        let current = self.window();
        let threshold = (self.capacity / 2).min(mss).max(1);
        let wnd = if free >= current.saturating_add(threshold) || free == self.capacity {
            free
        } else {
            current
        };
        let field = (wnd >> self.wscale).min(0xffff);
        let edge = (self.nxt + (field << self.wscale)).max(self.adv);
        (field as u16, edge)
    }

    /// Whether reading opened the window enough to tell the peer now: the
    /// right edge would move by at least min(buffer/2, 2·MSS), or a window
    /// smaller than one segment can now take a full one (RFC 9293
    /// §3.8.6.2.2, in the spirit of Linux's tcp_cleanup_rbuf).
    pub fn window_update_due(&self, mss: u32) -> bool {
        let free = self.free();
        let current = self.window();
        let step = (self.capacity / 2).min(2 * mss).max(1);
        // Only if the right edge would actually move: an "update" that
        // repeats the window is a useless ACK (§3.8.6.2.2).
        let (_, edge) = self.window_to_advertise(mss);
        edge > self.adv
            && (free >= current.saturating_add(step)
                || (current < mss && free >= mss.min(self.capacity)))
    }

    /// Accepts data at `seq` (already trimmed to the window, so it fits
    /// in the buffer). Returns the number of bytes that became readable
    /// in order, and whether the data was out of order or filled a hole
    /// (both deserve an immediate ACK, RFC 5681 §4.2).
    pub fn accept(&mut self, seq: SeqNum, data: &[u8]) -> Accepted {
        if data.is_empty() {
            return Accepted::default();
        }
        let end = seq + data.len() as u32;
        if seq == self.nxt {
            let written = self.buf.write(data) as u32;
            self.advance(written)
        } else {
            // Beyond RCV.NXT (the caller trimmed anything before it).
            // Already held whole: a duplicate to report (RFC 2883 §4.1.2).
            let duplicate = self
                .ooo
                .range_containing(seq)
                .is_some_and(|(_, e)| end <= e);
            if duplicate {
                self.dsack = Some((seq, end));
            }
            let offset = seq.since(self.nxt) as usize;
            let written = self.buf.write_at(offset, data);
            if written == 0 || self.ooo.insert(seq, seq + written as u32).is_err() {
                // Too many holes: drop it; the peer will resend.
                return Accepted {
                    in_order: 0,
                    ack_now: true,
                };
            }
            self.note_recent(seq, end);
            Accepted {
                in_order: 0,
                ack_now: true,
            }
        }
    }

    /// Accepts data at RCV.NXT that was staged in the buffer (copied and
    /// checksummed in one pass) and has been verified since: as `accept`
    /// for in-order data, without copying it again. `None`, with nothing
    /// changed, if the buffer changed since the staging (see
    /// `RingBuffer::commit_staged`).
    pub fn accept_staged(&mut self, staged: Staged) -> Option<Accepted> {
        let len = staged.len() as u32;
        self.buf.commit_staged(staged).then(|| self.advance(len))
    }

    /// `written` bytes were appended at RCV.NXT: they and any out-of-order
    /// data they join become readable.
    #[inline]
    fn advance(&mut self, written: u32) -> Accepted {
        self.nxt += written;
        if self.ooo.is_empty() && self.recent_len == 0 {
            // Nothing is held out of order (nor remembered for SACK
            // blocks): nothing joins the new bytes (a bulk receiver's
            // every segment).
            return Accepted {
                in_order: written,
                ack_now: false,
            };
        }
        self.join_held(written)
    }

    /// `advance` with out-of-order data held or remembered: what is now
    /// contiguous with RCV.NXT becomes readable.
    fn join_held(&mut self, written: u32) -> Accepted {
        let had_holes = !self.ooo.is_empty();
        let mut readable = written;
        // Out-of-order data already sits in the buffer just past the
        // in-order bytes: commit what is now contiguous.
        while let Some(new_end) = self.ooo.pop_front(self.nxt) {
            let extra = new_end.since(self.nxt);
            self.buf.commit(extra as usize);
            self.nxt = new_end;
            readable += extra;
        }
        self.forget_recent_below();
        Accepted {
            in_order: readable,
            ack_now: had_holes,
        }
    }

    /// Remembers the out-of-order range containing the newest segment.
    fn note_recent(&mut self, start: SeqNum, end: SeqNum) {
        // The block to report is the whole range that now contains it.
        let (s, e) = self
            .ooo
            .iter()
            .find(|&(s, e)| s <= start && end <= e)
            .unwrap_or((start, end));
        let mut list = [(SeqNum(0), SeqNum(0)); MAX_SACK_BLOCKS];
        list[0] = (s, e);
        let mut n = 1;
        for &(rs, re) in self.recent() {
            // Drop older entries that the new range now covers.
            if n < MAX_SACK_BLOCKS && !(s <= rs && re <= e) {
                list[n] = (rs, re);
                n += 1;
            }
        }
        self.recent = list;
        self.recent_len = n as u8;
    }

    /// The recent out-of-order ranges, newest first.
    fn recent(&self) -> &[(SeqNum, SeqNum)] {
        &self.recent[..usize::from(self.recent_len)]
    }

    fn forget_recent_below(&mut self) {
        let nxt = self.nxt;
        let mut n = 0;
        for i in 0..usize::from(self.recent_len) {
            if self.recent[i].1 > nxt {
                self.recent[n] = self.recent[i];
                n += 1;
            }
        }
        self.recent_len = n as u8;
    }

    /// The SACK blocks for an outgoing ACK (RFC 2018 §4): the block with
    /// the most recent segment first, then other recent ones, then the
    /// rest, up to `max`.
    pub fn sack_blocks(&self, max: usize) -> SackBlocks {
        let mut out = SackBlocks::EMPTY;
        let push = |s: SeqNum, e: SeqNum, out: &mut SackBlocks| {
            if out.len() < max && !out.as_slice().iter().any(|b| b.start <= s && e <= b.end) {
                out.push(SackBlock { start: s, end: e });
            }
        };
        for &(s, e) in self.recent() {
            // Report the current extent of the range (it may have grown).
            let (s, e) = self
                .ooo
                .iter()
                .find(|&(rs, re)| rs <= s && e <= re)
                .unwrap_or((s, e));
            if s > self.nxt || e > self.nxt {
                push(s.max(self.nxt), e, &mut out);
            }
        }
        for (s, e) in self.ooo.iter() {
            push(s, e, &mut out);
        }
        out
    }

    /// A duplicate `[start, end)` of data already received arrived: it is
    /// reported once, as the first SACK block of the next ACK (RFC 2883
    /// §4).
    pub fn note_duplicate(&mut self, start: SeqNum, end: SeqNum) {
        if end.diff(start) > 0 {
            self.dsack = Some((start, end));
        }
    }

    /// The SACK blocks with the pending D-SACK block first (RFC 2883 §4:
    /// "the first SACK block ... MUST specify the contiguous block of data
    /// in the received packet which triggered this ACK"), then up to
    /// `max - 1` ordinary blocks — the one containing a duplicate of
    /// out-of-order data comes second (RFC 2883 §4 (2)).
    pub fn sack_blocks_with_dsack(&self, max: usize) -> SackBlocks {
        let Some((s, e)) = self.dsack else {
            return self.sack_blocks(max);
        };
        let mut out = SackBlocks::EMPTY;
        out.push(SackBlock { start: s, end: e });
        let rest = self.sack_blocks(max.saturating_sub(1));
        for &b in rest.as_slice() {
            out.push(b);
        }
        out
    }

    /// Reads in-order data into `out`.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        self.buf.read(out)
    }

    /// Whether the buffer holds memory but no data: it may be released.
    pub fn releasable(&self) -> bool {
        self.buf.allocated() > 0 && self.buf.is_empty() && self.ooo.is_empty()
    }

    /// Gives the buffer's memory back if it holds no data.
    pub fn release_if_empty(&mut self) {
        if self.buf.is_empty() && self.ooo.is_empty() {
            // Bytes placed past the end for a range the assembler refused
            // are garbage once no range is held.
            self.buf.clear_pending();
            self.buf.release();
        }
    }

    /// Whether the FIN is next in sequence (all data before it arrived).
    pub fn fin_in_order(&self) -> bool {
        !self.fin_done && self.fin_seq == Some(self.nxt)
    }
}

/// What accepting a segment's data did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// Bytes that became readable in order.
    pub in_order: u32,
    /// Out of order, or filled a hole: acknowledge at once.
    pub ack_now: bool,
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use super::*;

    fn receiver(cap: usize) -> RecvState {
        let mut r = RecvState::new(cap);
        r.on_syn(SeqNum(u32::MAX - 5));
        let (_, edge) = r.window_to_advertise(100);
        r.adv = edge;
        r
    }

    #[test]
    fn in_order_then_hole_fill() {
        let mut r = receiver(1000);
        let base = r.nxt;
        assert_eq!(
            r.accept(base, &[1; 10]),
            Accepted {
                in_order: 10,
                ack_now: false
            }
        );
        let a = r.accept(base + 20, &[3; 10]);
        assert_eq!(a.in_order, 0);
        assert!(a.ack_now);
        let sack = r.sack_blocks(4);
        assert_eq!(
            sack.as_slice(),
            &[SackBlock {
                start: base + 20,
                end: base + 30
            }]
        );
        let a = r.accept(base + 10, &[2; 10]);
        assert_eq!(a.in_order, 20);
        assert!(a.ack_now, "filling a hole is acknowledged at once");
        assert_eq!(r.nxt, base + 30);
        assert!(r.sack_blocks(4).is_empty());
        let mut out = [0u8; 64];
        assert_eq!(r.read(&mut out), 30);
        assert_eq!(&out[..30], &[[1u8; 10], [2; 10], [3; 10]].concat()[..]);
    }

    #[test]
    fn advancing_with_nothing_held_matches_the_joining_path() {
        // Fresh, and after a hole was filled (nothing held or remembered
        // any more): the early return does what `join_held` does.
        let history = |filled: bool| {
            let mut r = receiver(1000);
            if filled {
                let b = r.nxt;
                r.accept(b + 10, &[2; 10]);
                r.accept(b, &[1; 10]);
            }
            assert!(r.ooo.is_empty() && r.recent_len == 0);
            r
        };
        for filled in [false, true] {
            let (mut fast, mut slow) = (history(filled), history(filled));
            let got = fast.advance(7);
            slow.nxt += 7;
            assert_eq!(got, slow.join_held(7));
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        }
    }

    #[test]
    fn sack_blocks_most_recent_first() {
        let mut r = receiver(10_000);
        let b = r.nxt;
        r.accept(b + 100, &[0; 10]);
        r.accept(b + 300, &[0; 10]);
        r.accept(b + 200, &[0; 10]);
        let got: std::vec::Vec<_> = r
            .sack_blocks(3)
            .as_slice()
            .iter()
            .map(|x| x.start.since(b))
            .collect();
        assert_eq!(got, [200, 300, 100]);
        // A segment extending the first range moves it to the front.
        r.accept(b + 110, &[0; 10]);
        assert_eq!(r.sack_blocks(3).as_slice()[0].start, b + 100);
        assert_eq!(r.sack_blocks(3).as_slice()[0].end, b + 120);
        assert_eq!(r.sack_blocks(2).len(), 2);
    }

    #[test]
    fn duplicates_become_dsack_blocks_first() {
        let mut r = receiver(10_000);
        let b = r.nxt;
        r.accept(b + 100, &[0; 10]);
        assert_eq!(r.dsack, None);
        // The same out-of-order segment again: D-SACK, then its block.
        r.accept(b + 100, &[0; 10]);
        assert_eq!(r.dsack, Some((b + 100, b + 110)));
        let got: std::vec::Vec<_> = r
            .sack_blocks_with_dsack(3)
            .as_slice()
            .iter()
            .map(|x| (x.start.since(b), x.end.since(b)))
            .collect();
        assert_eq!(got, [(100, 110), (100, 110)]);
        // A duplicate below RCV.NXT.
        r.note_duplicate(b - 50, b);
        let blocks = r.sack_blocks_with_dsack(1);
        assert_eq!(blocks.as_slice()[0].start, b - 50);
        assert_eq!(blocks.len(), 1);
        r.note_duplicate(b, b);
        assert_eq!(r.dsack, Some((b - 50, b)), "an empty range is no duplicate");
    }

    #[test]
    fn window_does_not_shrink_and_moves_in_steps() {
        let mut r = receiver(1000);
        let (w, edge) = r.window_to_advertise(100);
        assert_eq!(w, 1000);
        r.adv = edge;
        let n = r.nxt;
        r.accept(n, &[0; 950]);
        // 50 bytes free: the edge does not move for a silly amount.
        let (w, edge2) = r.window_to_advertise(100);
        assert_eq!(w, 50);
        assert_eq!(edge2, edge);
        let mut out = [0u8; 30];
        r.read(&mut out);
        // 80 free, only 30 more than advertised: still the same edge.
        assert_eq!(r.window_to_advertise(100), (50, edge));
        assert!(!r.window_update_due(100));
        let mut out = [0u8; 900];
        r.read(&mut out);
        assert!(r.window_update_due(100));
        assert_eq!(r.window_to_advertise(100).0, 980, "20 bytes still unread");
    }

    #[test]
    fn scaled_window_rounds_down_but_edge_never_moves_left() {
        let mut r = RecvState::new(1 << 20);
        r.wscale = 5;
        r.on_syn(SeqNum(0));
        let (w, edge) = r.window_to_advertise(1460);
        assert_eq!(w, ((1u32 << 20) >> 5) as u16);
        r.adv = edge;
        r.accept(r.nxt, &[0; 7]);
        let (_, edge2) = r.window_to_advertise(1460);
        assert_eq!(edge2, edge);
    }
}
