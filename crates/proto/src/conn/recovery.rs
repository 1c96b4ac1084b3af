//! Loss recovery: deciding what was lost, what to resend and how fast.
//!
//! With SACK (RFC 2018) in use — the default — a sender recovers the way a
//! modern Linux does, each mechanism in its own file:
//!
//! - `sent`: the log of segments in flight, with their send times and
//!   marks (SACKed, lost, retransmitted), and RFC 6675's `pipe`;
//! - `sack`: the scoreboard of SACKed ranges, validated (RFC 2018,
//!   RFC 6675), and D-SACK detection (RFC 2883);
//! - `rack`: RACK loss detection by time (RFC 8985 §6), or RFC 6675's
//!   duplicate-ACK threshold when RACK is off;
//! - `tlp`: tail loss probes (RFC 8985 §7);
//! - `prr`: how much to send per ACK in fast recovery (RFC 6937);
//! - `undo`: taking back spurious reductions (RFC 3522 Eifel, RFC 3708
//!   D-SACK, RFC 5682 F-RTO);
//! - `pacing`: spreading sends over the RTT.
//!
//! This file ties them together, like Linux's `tcp_fastretrans_alert`:
//! on every ACK it updates the log and scoreboard, runs RACK, moves
//! between the states of [`CaState`], and sets cwnd (through the
//! congestion controller, which only decides sizes, never which segment
//! goes). Holes are resent in sequence order, each one once per loss
//! detection, never "everything after the first hole".
//!
//! Without SACK, the classic recovery runs instead: fast retransmit on
//! three duplicate ACKs and NewReno fast recovery with partial ACKs
//! (RFC 5681 §3.2, RFC 6582), and go-back-N after a timeout.

use core::time::Duration;

use wire::tcp::{TcpFlags, TcpRepr};
use wire::{Instant, SeqNum};

use super::congestion::{Congestion, Controller};
use super::event::SendReason;
use super::options::Negotiated;
use super::output::Segment;
use super::pacing::{Pacer, Pacing, AVOIDANCE_RATIO, SLOW_START_RATIO};
use super::prr::Prr;
use super::rack::{Rack, DUP_THRESH};
use super::rtt;
use super::sack::Scoreboard;
use super::send::SendState;
use super::sent::{LostBy, Rec, SentLog, EVER_RETRANS, LOST, PROBE, SACKED};
use super::timers::{self, Timer};
use super::tlp::{Tlp, TlpOutcome};
use super::undo::{Frto, Undo};
use super::Connection;

/// Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2).
const DUPACK_THRESHOLD: u32 = 3;

/// The shortest loss probe timeout: probes are for tails, not for the
/// gaps between ACKs of a fast path (Linux adds its timer granularity,
/// 2 ms, to 2·SRTT for the same reason).
const MIN_PTO: Duration = Duration::from_millis(10);

/// Where a sender is in loss recovery (Linux's `tcp_ca_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CaState {
    /// Nothing is missing.
    #[default]
    Open,
    /// The receiver reported holes (SACK or duplicate ACKs), nothing is
    /// deemed lost yet.
    Disorder,
    /// Fast recovery: segments were deemed lost from ACKs and are being
    /// resent; the window was reduced once (RFC 6675, RFC 6937).
    Recovery,
    /// After a retransmission timeout (RFC 6298 §5, RFC 6675 §5.1).
    Loss,
}

/// The classic recovery state of a sender without SACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// Consecutive duplicate ACKs.
    pub dupacks: u32,
    /// In fast recovery until `recover` is acknowledged.
    pub in_recovery: bool,
    /// RFC 6582 "recover", kept as SND.MAX when recovery began (or at the
    /// last timeout): one past the highest sequence number sent.
    pub recover: SeqNum,
    /// A segment to resend at once, starting at this sequence number.
    pub retransmit_now: Option<SeqNum>,
}

/// What an ACK meant for recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckKind {
    /// Outside recovery: the controller grows the window.
    Normal,
    /// A partial ACK during recovery (RFC 6582 §3.2 step 5): restart the
    /// retransmission timer.
    Partial,
    /// The ACK that ended recovery.
    Exit,
}

impl Recovery {
    /// No recovery yet; `iss` is the initial "recover" (RFC 6582 §3.2
    /// step 1).
    pub fn new(iss: SeqNum) -> Recovery {
        Recovery {
            dupacks: 0,
            in_recovery: false,
            recover: iss,
            retransmit_now: None,
        }
    }

    /// A duplicate ACK arrived (RFC 5681 §2 definition, checked by the
    /// caller).
    pub fn on_dupack(&mut self, snd: &SendState, cc: &mut Congestion, now: Instant) {
        self.dupacks = self.dupacks.saturating_add(1);
        let mss = snd.mss;
        if self.in_recovery {
            // RFC 6582 §3.2 step 4: inflate by one segment per dup ACK,
            // letting a new segment out for each one that left.
            cc.set_cwnd(cc.cwnd().saturating_add(mss));
        } else if self.dupacks == DUPACK_THRESHOLD {
            // RFC 6582 §3.2 step 2: only if the ACK covers more than
            // "recover", so one loss event causes one reduction. `recover`
            // is kept as SND.MAX, one past the highest sequence number
            // sent, so "covers more than" the highest is `>=` here.
            if snd.una >= self.recover {
                self.in_recovery = true;
                self.recover = snd.max;
                let ssthresh = cc.on_congestion_event(now, snd.in_flight());
                // RFC 5681 §3.2 step 3: cwnd = ssthresh + 3·SMSS.
                cc.set_cwnd(ssthresh.saturating_add(3 * mss));
                self.retransmit_now = Some(snd.una);
            }
        }
    }

    /// An ACK of new data arrived, acknowledging `acked` bytes of sequence
    /// space; `snd` already reflects it.
    pub fn on_new_ack(
        &mut self,
        snd: &SendState,
        acked: u32,
        cc: &mut Congestion,
        now: Instant,
    ) -> AckKind {
        self.dupacks = 0;
        if !self.in_recovery {
            return AckKind::Normal;
        }
        if snd.una >= self.recover {
            // RFC 6582 §3.2 step 3: a full acknowledgment ends recovery:
            // it acknowledges everything up to and including the highest
            // sequence number sent (SND.MAX - 1) when recovery began.
            self.in_recovery = false;
            self.retransmit_now = None;
            cc.on_recovery_exit(now, snd.in_flight());
            AckKind::Exit
        } else {
            // Step 5: a partial acknowledgment. Resend the next hole and
            // deflate the window by what was acknowledged, adding back one
            // segment if at least one segment's worth was.
            self.retransmit_now = Some(snd.una);
            let mut cwnd = cc.cwnd().saturating_sub(acked);
            if acked >= snd.mss {
                cwnd = cwnd.saturating_add(snd.mss);
            }
            cc.set_cwnd(cwnd.max(snd.mss));
            AckKind::Partial
        }
    }

    /// A retransmission timeout: recovery ends and "recover" moves to the
    /// highest sequence number sent (RFC 6582 §4).
    pub fn on_timeout(&mut self, snd: &SendState) {
        self.in_recovery = false;
        self.dupacks = 0;
        self.retransmit_now = None;
        self.recover = snd.max;
    }
}

/// The state of SACK-based recovery and of pacing, allocated when a
/// connection first sends data and given back when it has been idle, so
/// that an idle connection stays small.
#[derive(Debug, Clone)]
pub(crate) struct Loss {
    /// The segments in flight.
    pub sent: SentLog,
    /// The SACKed ranges.
    pub board: Scoreboard,
    /// RACK.
    pub rack: Rack,
    /// Tail loss probes.
    pub tlp: Tlp,
    /// Proportional rate reduction.
    pub prr: Prr,
    /// Undo of spurious reductions, F-RTO.
    pub undo: Undo,
    /// Pacing.
    pub pacer: Pacer,
    /// Open, Recovery or Loss (Disorder is derived).
    pub state: CaState,
    /// The recovery point: SND.MAX when recovery (or the timeout) began
    /// (RFC 6675 §5 "RecoveryPoint").
    pub recover: SeqNum,
    /// When RACK's reordering timer fires, if armed (RFC 8985 §6.2 step
    /// 6).
    pub rack_deadline: Option<Instant>,
    /// Duplicate ACKs in a row (for RFC 6675's DupThresh when RACK is
    /// off).
    pub dupacks: u32,
}

impl Loss {
    pub(super) fn new(una: SeqNum) -> Loss {
        Loss {
            sent: SentLog::default(),
            board: Scoreboard::default(),
            rack: Rack::new(una),
            tlp: Tlp::default(),
            prr: Prr::default(),
            undo: Undo::default(),
            pacer: Pacer::default(),
            state: CaState::Open,
            recover: una,
            rack_deadline: None,
            dupacks: 0,
        }
    }

    /// Counts duplicate ACKs in a row (RFC 5681 §2): one more for a
    /// duplicate that did not move SND.UNA, none left once it moves.
    #[inline]
    pub(super) fn count_dupack(&mut self, dupack: bool, advanced: bool) {
        if dupack && !advanced {
            self.dupacks = self.dupacks.saturating_add(1);
        } else if advanced {
            self.dupacks = 0;
        }
    }

    /// RACK's loss detection after an ACK (RFC 8985 §6.2 step 5), and its
    /// reordering timer (step 6).
    #[inline]
    pub(super) fn rack_detect(
        &mut self,
        now: Instant,
        in_recovery: bool,
        min_rtt: Option<u64>,
        srtt: Option<u64>,
    ) {
        if self.sent.is_empty() {
            // Everything was acknowledged: nothing is left to deem lost,
            // and no reordering timer waits (what `detect_loss` finds in
            // an empty log, without working out the window first).
            self.rack_deadline = None;
            return;
        }
        let sacked = self.sent.counts().sacked_recs;
        let reo = self.rack.reo_wnd(in_recovery, sacked, min_rtt, srtt);
        let (_, timeout) = self.rack.detect_loss(&mut self.sent, now, reo);
        self.rack_deadline = timeout.map(|t| now + t);
    }

    /// RFC 6675 §4 SetPipe, from the log's counts: the bytes outstanding,
    /// less those SACKed and those deemed lost, plus retransmissions in
    /// flight.
    pub(super) fn pipe(&self, snd: &SendState) -> u32 {
        let c = self.sent.counts();
        snd.max
            .since(snd.una)
            .saturating_sub(c.sacked)
            .saturating_sub(c.lost)
            .saturating_add(c.retrans)
    }
}

/// What the segments an ACK newly delivered tell.
#[derive(Debug, Default)]
struct Delivery {
    /// Bytes newly delivered (cumulatively or by SACK), RFC 6937
    /// DeliveredData.
    bytes: u32,
    /// A segment that was never retransmitted and was sent before
    /// `frto_high` was delivered (F-RTO, RFC 5682 §3).
    original_before_rto: bool,
}

impl Connection {
    /// Whether SACK-based recovery runs: SACK was agreed in the SYNs.
    pub(super) fn sack_mode(&self) -> bool {
        self.opts.sack
    }

    /// Whether this connection paces (`Config::pacing`).
    pub(super) fn pacing_on(&self) -> bool {
        match self.config.pacing {
            Pacing::On => true,
            Pacing::Off => false,
            Pacing::Auto => self.cc.algorithm().paced_by_default(),
        }
    }

    /// The bytes in flight: RFC 6675's `pipe` with SACK, else
    /// SND.NXT − SND.UNA (RFC 5681 FlightSize).
    pub(super) fn pipe(&self) -> u32 {
        match self.loss.as_deref() {
            Some(l) if self.sack_mode() => l.pipe(&self.snd),
            _ => self.snd.in_flight(),
        }
    }

    /// The window handed to `SendState::sendable`, which limits new data
    /// to `una + min(wnd, window) - nxt`: cwnd itself without SACK; with
    /// SACK, what makes that limit `cwnd - pipe` (RFC 6675 §5 (C): send
    /// while cwnd − pipe allows).
    pub(super) fn send_window(&self) -> u32 {
        let cwnd = self.cc.cwnd();
        match self.loss.as_deref() {
            Some(l) if self.sack_mode() => cwnd
                .saturating_sub(l.pipe(&self.snd))
                .saturating_add(self.snd.in_flight()),
            _ => cwnd,
        }
    }

    /// The congestion controller learns the current RTT estimate.
    pub(super) fn feed_rtt(&mut self) {
        if let (Some(srtt), Some(min)) = (self.rtt.srtt_nanos(), self.rtt.min_rtt_nanos()) {
            self.cc.on_rtt(srtt, min);
        }
    }

    /// Where the sender is in loss recovery.
    pub(super) fn ca_state(&self) -> CaState {
        match self.loss.as_deref() {
            Some(l) if self.sack_mode() => match l.state {
                CaState::Open if !l.board.is_empty() => CaState::Disorder,
                s => s,
            },
            _ if self.recovery.in_recovery => CaState::Recovery,
            _ if self.retries > 0 => CaState::Loss,
            _ if self.recovery.dupacks > 0 => CaState::Disorder,
            _ => CaState::Open,
        }
    }

    /// (sacked, lost, retransmitted) bytes in flight.
    pub(super) fn loss_counts(&self) -> (u32, u32, u32) {
        match self.loss.as_deref() {
            Some(l) => {
                let c = l.sent.counts();
                (c.sacked, c.lost, c.retrans)
            }
            None => (0, 0, 0),
        }
    }

    /// Whether RACK has seen reordering on this connection.
    pub(super) fn reordering_seen(&self) -> bool {
        self.loss.as_deref().is_some_and(|l| l.rack.reord)
    }

    /// The rate the last segment was paced at, when pacing.
    pub(super) fn pacing_rate_now(&self) -> Option<u64> {
        self.loss
            .as_deref()
            .filter(|_| self.pacing_on())
            .map(|l| l.pacer.rate)
            .filter(|&r| r > 0)
    }

    /// Drops the recovery state once nothing is in flight (the idle
    /// release of the buffers): it is rebuilt with the next data.
    pub(super) fn release_loss_state(&mut self) {
        let idle = self.snd.una == self.snd.max
            && self
                .loss
                .as_deref()
                .is_none_or(|l| l.state == CaState::Open && l.sent.is_empty());
        if idle {
            self.loss = None;
            self.timers.set(Timer::Recovery, None);
        }
    }

    /// The recovery timer's slot holds the earliest of RACK's reordering
    /// timer, the PTO and the pacer's wake-up.
    pub(super) fn sync_recovery_timer(&mut self) {
        let at = self.loss.as_deref().and_then(|l| {
            timers::earliest([
                l.rack_deadline,
                l.tlp.deadline,
                l.pacer.waiting.then_some(l.pacer.next),
            ])
        });
        self.timers.set(Timer::Recovery, at);
    }

    /// A duplicate of data already received, `[start, end)`, arrived:
    /// report it as a D-SACK block in the next ACK (RFC 2883 §4). Only
    /// what lies before RCV.NXT counts here (duplicates of out-of-order
    /// data are found by the receive buffer).
    pub(super) fn note_duplicate_data(&mut self, start: SeqNum, end: SeqNum) {
        if self.opts.sack && self.config.dsack && end > start && end <= self.rcv.nxt {
            self.rcv.note_duplicate(start, end);
        }
    }

    /// Every segment handed out by `poll_transmit` passes here: the log
    /// records it, the counters count it, PRR, the pacer, the undo state
    /// and the PTO hear of it.
    pub(super) fn on_segment_sent(&mut self, now: Instant, seg: &Segment) {
        let len = seg.seq_len();
        if len == 0 || seg.flags.contains(TcpFlags::SYN) {
            return;
        }
        let resend_reason = matches!(
            seg.reason,
            SendReason::Retransmission | SendReason::FastRetransmit
        );
        let sack = self.sack_mode();
        let pacing = self.pacing_on();
        if !sack && !pacing {
            if resend_reason {
                self.stats.retransmits = self.stats.retransmits.saturating_add(1);
            }
            return;
        }
        let una = self.snd.una;
        let pacing_rate = if pacing {
            self.cc.pacing_rate().or_else(|| {
                let ratio = if self.cc.in_slow_start() {
                    SLOW_START_RATIO
                } else {
                    AVOIDANCE_RATIO
                };
                Pacer::rate_for(self.cc.cwnd(), self.rtt.srtt(), ratio)
            })
        } else {
            None
        };
        let spare = &mut self.loss_spare;
        let l = self
            .loss
            .get_or_insert_with(|| Loss::in_storage(spare.take(), una));
        if let Some(rate) = pacing_rate {
            l.pacer.on_sent(now, seg.payload_len.max(1), rate);
        }
        if !sack {
            if resend_reason {
                self.stats.retransmits = self.stats.retransmits.saturating_add(1);
            }
            return;
        }
        let sent = l.sent.on_send(seg.seq, seg.seq + len, now);
        if sent.retransmission {
            self.stats.retransmits = self.stats.retransmits.saturating_add(1);
            // The timestamp clock is read only here (a division per
            // segment otherwise).
            let ts = self.opts.timestamps.then(|| self.opts.ts_now(now));
            l.undo.on_retransmit(ts, seg.seq);
        }
        if seg.reason == SendReason::LossProbe {
            let i = l.sent.index_after(seg.seq);
            if let Some(r) = l.sent.get(i).copied() {
                l.sent.set_flags(i, r.flags | PROBE);
            }
        } else if !sent.retransmission {
            // RFC 5682 step 2.b: new data went out.
            l.undo.frto_new_data = l.undo.frto_new_data.saturating_sub(1);
        }
        if l.state == CaState::Recovery {
            l.prr.on_sent(len);
        }
        let data = !sent.retransmission && seg.reason != SendReason::LossProbe;
        // RFC 8985 §7.2: (re)start the PTO after sending new data — once
        // per instant: the segments of a burst would all set the same
        // deadline.
        let rearm = data && l.tlp.armed_at != Some(now);
        self.cc.on_sent(now, len, self.snd.in_flight());
        if rearm || pacing || sent.retransmission {
            if rearm {
                self.arm_pto(now);
            }
            self.sync_recovery_timer();
        }
    }

    /// Whether pacing holds data back at `now`; if so, the pacer's
    /// deadline is armed.
    pub(super) fn pacing_blocks(&mut self, now: Instant) -> bool {
        if !self.pacing_on() {
            return false;
        }
        let Some(l) = self.loss.as_deref_mut() else {
            return false;
        };
        if l.pacer.allows(now) {
            l.pacer.waiting = false;
            return false;
        }
        if !l.pacer.waiting {
            l.pacer.waiting = true;
            self.sync_recovery_timer();
        }
        true
    }

    /// The next segment SACK-based recovery wants out, before any new
    /// data: a tail loss probe (RFC 8985 §7.3), or the lowest hole deemed
    /// lost (RFC 6675 §5 NextSeg() rule 1) while cwnd − pipe allows.
    pub(super) fn recovery_segment(&mut self, now: Instant) -> Option<Segment> {
        if !self.sack_mode() {
            return None;
        }
        let l = self.loss.as_deref()?;
        if !l.tlp.due && l.sent.counts().pending == 0 {
            return None;
        }
        if self.pacing_blocks(now) {
            return None;
        }
        let l = self.loss.as_deref()?;
        if l.tlp.due {
            return self.loss_probe(now);
        }
        if l.undo.frto_new_data > 0 {
            // F-RTO step 2.b (RFC 5682 §3): new data, not retransmissions.
            return None;
        }
        let pipe = l.pipe(&self.snd);
        let cwnd = self.cc.cwnd();
        let (_, rec) = l.sent.next_to_resend(0)?;
        let len = rec.len().min(self.snd.mss.max(1));
        // Room in cwnd (at least one segment when nothing is in flight),
        // and inside the peer's window (or the oldest byte, which always
        // goes, as in Linux's tcp_retransmit_skb).
        let room = pipe.saturating_add(len) <= cwnd || pipe == 0;
        let in_window = rec.start < self.snd.una + self.snd.wnd || rec.start == self.snd.una;
        if !room || !in_window {
            return None;
        }
        let (reason, counter) = match rec.lost_by() {
            Some(LostBy::Timeout) => (SendReason::Retransmission, 0),
            Some(LostBy::DupThresh) => (SendReason::FastRetransmit, 1),
            _ => (SendReason::FastRetransmit, 2),
        };
        match counter {
            0 => self.stats.rto_retransmits += 1,
            1 => self.stats.fast_retransmits += 1,
            _ => self.stats.rack_retransmits += 1,
        }
        // The data part (a FIN rides along when the record holds it).
        let data_len = rec.end.min(self.snd.data_end()).since(rec.start);
        Some(self.data_segment(now, rec.start, data_len, reason))
    }

    /// RFC 8985 §7.3: the probe — one segment of new data if there is any
    /// and the peer's window takes it, regardless of cwnd; otherwise the
    /// last segment sent, again.
    fn loss_probe(&mut self, now: Instant) -> Option<Segment> {
        let snd = &self.snd;
        let unsent = snd.data_end().since(snd.nxt);
        let room = (snd.una + snd.wnd).since(snd.nxt);
        let new_len = unsent.min(snd.mss).min(room);
        let fin_unsent = snd.fin_seq().is_some_and(|f| f == snd.nxt && snd.max <= f);
        let l = self.loss.as_deref_mut()?;
        let (seq, len, retrans) = if new_len > 0 || (fin_unsent && unsent == 0) {
            (self.snd.nxt, new_len, false)
        } else {
            match l.sent.last_unsacked() {
                Some(r) => (r.start, r.len().min(self.snd.mss), true),
                None => {
                    l.tlp.due = false;
                    self.sync_recovery_timer();
                    return None;
                }
            }
        };
        self.stats.loss_probes = self.stats.loss_probes.saturating_add(1);
        let seg = self.data_segment(now, seq, len, SendReason::LossProbe);
        let nxt = self.snd.nxt;
        let l = self.loss.as_deref_mut()?;
        l.tlp.on_probe_sent(nxt, retrans);
        l.tlp.probe_start = seq;
        // RFC 8985 §7.3: after the probe, the RTO timer runs, not the PTO.
        self.timers
            .set(Timer::Retransmit, Some(self.rto_deadline(now)));
        self.sync_recovery_timer();
        Some(seg)
    }

    /// Arms (or cancels) the PTO (RFC 8985 §7.2): only in the Open state,
    /// with data outstanding, no probe of this episode unanswered, and
    /// only if it would fire before the RTO.
    pub(super) fn arm_pto(&mut self, now: Instant) {
        let enabled = self.config.tlp && self.sack_mode();
        let flight = self.snd.max.since(self.snd.una);
        let mss = self.snd.mss;
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        l.tlp.deadline = None;
        l.tlp.armed_at = None;
        if !enabled || l.state != CaState::Open || l.tlp.end_seq.is_some() || flight == 0 {
            return;
        }
        // The times only now (an ACK of everything, flight 0, needs none),
        // in nanoseconds: exactly the `Duration` arithmetic below 584
        // years, and a deadline truncated to microseconds as `Instant +
        // Duration` truncates it.
        let srtt = self.rtt.srtt_nanos();
        let rto_left = self
            .timers
            .get(Timer::Retransmit)
            .map(|t| rtt::nanos_since(now, t));
        let one_segment = flight <= mss + 1;
        if !one_segment {
            // More data sent at this instant would not change the PTO.
            l.tlp.armed_at = Some(now);
        }
        let allowance = rtt::nanos(self.config.tlp_delayed_ack_allowance);
        let pto = Tlp::pto(srtt, one_segment, allowance, None).max(rtt::nanos(MIN_PTO));
        if rto_left.is_some_and(|left| pto >= left) {
            // The RTO comes first; it will do.
            return;
        }
        l.tlp.deadline = Some(rtt::after(now, pto));
    }

    /// The recovery timer fired: RACK's reordering timer (RFC 8985 §6.2
    /// step 6), the PTO (§7.2) or the pacer.
    pub(super) fn on_recovery_timer(&mut self, now: Instant) {
        let in_recovery;
        let sacked_recs;
        {
            let Some(l) = self.loss.as_deref_mut() else {
                return;
            };
            if l.pacer.waiting && l.pacer.next <= now {
                l.pacer.waiting = false;
            }
            if l.tlp.deadline.is_some_and(|d| d <= now) {
                l.tlp.deadline = None;
                if l.state == CaState::Open && l.tlp.end_seq.is_none() {
                    l.tlp.due = true;
                }
            }
            in_recovery = l.state != CaState::Open;
            sacked_recs = l.sent.counts().sacked_recs;
        }
        let due = self
            .loss
            .as_deref()
            .is_some_and(|l| l.rack_deadline.is_some_and(|d| d <= now));
        let (min_rtt, srtt) = (self.rtt.min_rtt_nanos(), self.rtt.srtt_nanos());
        let mut marked = 0;
        if let Some(l) = self.loss.as_deref_mut().filter(|_| due) {
            let reo = l.rack.reo_wnd(in_recovery, sacked_recs, min_rtt, srtt);
            let (n, timeout) = l.rack.detect_loss(&mut l.sent, now, reo);
            l.rack_deadline = timeout.map(|t| now + t);
            marked = n;
        }
        if marked > 0 {
            self.after_loss_marked(now, 0);
        }
        self.sync_recovery_timer();
    }

    /// Segments were newly deemed lost (or an ACK arrived in recovery):
    /// enter fast recovery if not in it, and let PRR set cwnd.
    pub(super) fn after_loss_marked(&mut self, now: Instant, delivered: u32) {
        let outstanding = self.snd.max.since(self.snd.una);
        let cwnd = self.cc.cwnd();
        let una = self.snd.una;
        let max = self.snd.max;
        let mss = self.snd.mss;
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        if l.state == CaState::Open && l.sent.counts().lost > 0 {
            // RFC 6675 §5 (and RFC 8985 §6.2): a loss starts fast
            // recovery, with one reduction for the whole episode, from
            // FlightSize (RFC 5681 eq. 4, RFC 9438 §4.6) — but at most
            // cwnd: a hole found late (in data sent during the previous
            // recovery) can have hundreds of SACKed segments above it, and
            // FlightSize would then raise the window it is meant to cut.
            // cwnd is what Linux's CUBIC uses; FlightSize is less when the
            // sender was application-limited, which is why the RFCs say
            // FlightSize.
            let flight = outstanding.min(cwnd);
            l.state = CaState::Recovery;
            l.recover = max;
            // RFC 6937 §3.1 RecoverFS: the same measure of the flight
            // (the PRR update, draft-ietf-tcpm-prr-rfc6937bis, takes pipe
            // for the same reason).
            l.prr = Prr::start(flight);
            l.undo.start(una);
            l.tlp.reset();
            self.stats.recoveries = self.stats.recoveries.saturating_add(1);
            self.cc.on_congestion_event(now, flight);
        }
        if l.state == CaState::Recovery {
            let pipe = l.pipe(&self.snd);
            let sndcnt = l.prr.on_ack(delivered, pipe, self.cc.ssthresh(), mss);
            self.cc.set_cwnd(pipe.saturating_add(sndcnt).max(mss));
        }
    }

    /// Takes back a spurious reduction (RFC 3522, RFC 3708, RFC 5682):
    /// the controller restores its window, segments deemed lost are not
    /// resent, and the sender is back in the Open state.
    fn undo_reduction(&mut self) {
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        if l.undo.marker.is_none() {
            return;
        }
        self.cc.undo();
        self.stats.spurious_undos = self.stats.spurious_undos.saturating_add(1);
        l.sent.unmark_lost();
        if l.state != CaState::Open {
            l.rack.on_recovery_exit();
        }
        l.state = CaState::Open;
        l.undo.clear();
        // The late original shows reordering (RFC 8985 §6.2 step 3).
        l.rack.reord = true;
    }

    /// The SACK-mode work of an ACK (after SND.UNA moved and the RTO timer
    /// was restarted): the log and scoreboard, RACK, TLP, undo, the state
    /// machine, PRR or growth of cwnd, and the timers. `prior_una` is
    /// SND.UNA before the ACK, `dupack` whether it was a duplicate ACK
    /// (RFC 5681 §2).
    pub(super) fn on_ack_sack(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        prior_una: SeqNum,
        sample: Option<u64>,
        dupack: bool,
    ) {
        let Some(l) = self.loss.as_deref() else {
            // Nothing was sent since the state was last released: nothing
            // to account (the receiving side of a transfer stops here).
            return;
        };
        if self.ack_is_plain(seg, l) {
            // No recovery going on and no SACK information (ackfast.rs).
            self.on_ack_plain(now, seg, prior_una, sample, dupack);
            return;
        }
        self.feed_rtt();
        let una = self.snd.una;
        let max = self.snd.max;
        let nxt = self.snd.nxt;
        let mss = self.snd.mss;
        let oldest = una - self.snd.max_wnd.max(1);
        let min_rtt = self.rtt.min_rtt_nanos();
        let srtt = self.rtt.srtt_nanos();
        let tsecr = self.opts.echo_of(seg);
        let opts = self.opts;
        let rack_on = self.config.rack;
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        let frto_high = match l.undo.frto {
            Frto::WaitFirstAck { high } | Frto::WaitSecondAck { high } => Some(high),
            Frto::Off => None,
        };
        let mut d = Delivery::default();
        {
            let Loss {
                sent, board, rack, ..
            } = l;
            let mut take = |r: &Rec| {
                if r.has(SACKED) {
                    return;
                }
                d.bytes = d.bytes.saturating_add(r.len());
                rack_deliver(rack, r, now, min_rtt, tsecr, &opts);
                if !r.has(EVER_RETRANS) && frto_high.is_some_and(|h| r.end <= h) {
                    d.original_before_rto = true;
                }
            };
            // The cumulative part, then the selective part, in sequence
            // order (RFC 8985 §6.2 step 3 needs it). The cumulative part
            // gets a closure of its own, by value: through `&mut take` every
            // record went through the never-inlined `FnMut for &mut F`
            // shim (dozens of records per ACK).
            sent.acknowledge(una, |r| take(r));
            board.advance(una);
            let update = if seg.options.sack.is_empty() {
                Default::default()
            } else {
                let segments = sent.len();
                board.update(
                    seg.ack,
                    una,
                    max,
                    oldest,
                    seg.options.sack.as_slice(),
                    segments,
                )
            };
            for &(s, e) in update.newly.as_slice() {
                sent.mark_sacked(s, e, |a, b| board.covers(a, b), &mut take);
            }
            let mut probe_dup = false;
            let mut all_redundant = false;
            if let Some((ds, de)) = update.dsack {
                self.stats.dsacks_in = self.stats.dsacks_in.saturating_add(1);
                rack.on_dsack(una, nxt);
                probe_dup = l
                    .tlp
                    .end_seq
                    .is_some_and(|end| l.tlp.is_retrans && ds >= l.tlp.probe_start && de <= end);
                all_redundant = l.undo.on_dsack(ds, de, una);
            }
            let advanced = una > prior_una;
            let news = !update.newly.is_empty();
            // TLP (RFC 8985 §7.4).
            let tlp = l.tlp.on_ack(seg.ack, probe_dup, dupack && !news);
            if tlp == TlpOutcome::LossRepaired && l.state == CaState::Open {
                // §7.4.2: the probe repaired a loss the sender never saw:
                // reduce the window as for one.
                let flight = max.since(una).min(self.cc.cwnd());
                let ssthresh = self.cc.on_congestion_event(now, flight);
                let cwnd = self.cc.cwnd().min(ssthresh);
                self.cc.set_cwnd(cwnd);
                l.undo.start(una);
            }
            l.count_dupack(dupack, advanced);
            // Spurious retransmissions.
            let mut spurious = false;
            if l.state != CaState::Open && l.undo.eifel_spurious(tsecr, prior_una, una) {
                // RFC 3522: the ACK for the resent data echoes the
                // original's timestamp.
                spurious = true;
            }
            match l.undo.frto {
                Frto::Off => {}
                Frto::WaitFirstAck { high } => {
                    if d.original_before_rto {
                        spurious = true;
                    } else if advanced && una < high {
                        // Step 2.b: send new data, if there is any.
                        let can = self.snd.data_end() > max && max < self.snd.una + self.snd.wnd;
                        if can {
                            l.undo.frto = Frto::WaitSecondAck { high };
                            l.undo.frto_new_data = 2;
                        } else {
                            l.undo.frto = Frto::Off;
                        }
                    } else {
                        // Step 2.a: a duplicate ACK, or everything was
                        // acknowledged: conventional recovery.
                        l.undo.frto = Frto::Off;
                    }
                }
                Frto::WaitSecondAck { .. } => {
                    // Step 3: the originals sent before the timeout
                    // arrived (spurious), or not (a real loss).
                    spurious |= d.original_before_rto;
                    l.undo.frto = Frto::Off;
                    l.undo.frto_new_data = 0;
                }
            }
            if spurious || all_redundant {
                // RFC 3708 §3 (every retransmission of the episode was
                // D-SACKed), RFC 3522, RFC 5682.
                self.undo_reduction();
            }
        }
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        // Loss detection: RACK (RFC 8985 §6.2 step 5), or RFC 6675's
        // DupThresh rule.
        let in_recovery = l.state != CaState::Open;
        if !rack_on {
            mark_lost_dupthresh(&mut l.sent, mss, l.dupacks);
        } else {
            l.rack_detect(now, in_recovery, min_rtt, srtt);
        }
        // Leaving recovery (RFC 6675 §5: the recovery point is
        // cumulatively acknowledged).
        let mut exited = false;
        if l.state != CaState::Open && una >= l.recover {
            exited = true;
            let was = l.state;
            l.state = CaState::Open;
            l.rack.on_recovery_exit();
            if was == CaState::Recovery {
                // RFC 6937 §3.1: the window ends at ssthresh.
                let pipe = l.pipe(&self.snd);
                self.cc.on_recovery_exit(now, pipe);
                let ssthresh = self.cc.ssthresh();
                self.cc.set_cwnd(ssthresh.max(mss));
            }
        }
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        match l.state {
            CaState::Open if l.sent.counts().lost > 0 => self.after_loss_marked(now, d.bytes),
            CaState::Recovery => self.after_loss_marked(now, d.bytes),
            _ => {
                // Open (with or without holes) or after a timeout (slow
                // start from the loss window): the controller grows —
                // but not on the ACK that ends a fast recovery, whose
                // window is ssthresh (RFC 6937 §3.1).
                // Nor on SACKs alone: only an ACK that moves SND.UNA shows
                // the path took more (as Linux's tcp_may_raise_cwnd; RFC
                // 6675 §5 sends on SACKs within cwnd − pipe, which is
                // RFC 3042's limited transmit).
                let raise = una > prior_una && !(exited && self.cc.cwnd() == self.cc.ssthresh());
                if d.bytes > 0 && raise {
                    let pipe = l.pipe(&self.snd);
                    self.cc.on_ack(now, d.bytes, sample, pipe);
                }
            }
        }
        self.arm_pto(now);
        self.sync_recovery_timer();
    }

    /// A retransmission timeout with SACK (RFC 6298 §5, RFC 6675 §5.1):
    /// everything not SACKed is deemed lost and is resent in sequence
    /// order as the (reset) window allows, skipping what the receiver
    /// holds; SND.NXT stays. F-RTO (RFC 5682) starts if this is the first
    /// timeout out of the Open state. Returns false when the classic
    /// go-back-N applies instead (no SACK).
    pub(super) fn on_rto_sack(&mut self) -> bool {
        if !self.sack_mode() {
            return false;
        }
        let una = self.snd.una;
        let max = self.snd.max;
        let first = self.retries == 1;
        let frto = self.config.frto;
        let Some(l) = self.loss.as_deref_mut() else {
            return false;
        };
        if l.sent.is_empty() {
            return false;
        }
        // RFC 2018 §8: if the segment at SND.UNA is marked SACKed, the
        // receiver reneged (it would otherwise have acknowledged it):
        // forget all SACK information.
        if l.sent.get(0).is_some_and(|r| r.has(SACKED)) {
            l.sent.clear_sacked();
            l.board.clear();
        }
        if l.state == CaState::Open {
            l.undo.start(una);
            if frto && first {
                l.undo.frto = Frto::WaitFirstAck { high: max };
            }
        } else {
            l.undo.frto = Frto::Off;
        }
        l.undo.frto_new_data = 0;
        l.sent.mark_all_lost(LostBy::Timeout);
        l.state = CaState::Loss;
        l.recover = max;
        l.tlp.reset();
        l.rack_deadline = None;
        l.dupacks = 0;
        self.sync_recovery_timer();
        true
    }

    /// Everything in flight must go again (a smaller path MTU, RFC 1191
    /// §6.5): with SACK, what is not SACKed is marked lost; otherwise
    /// SND.NXT goes back to SND.UNA.
    pub(super) fn resend_all(&mut self) {
        if self.sack_mode() {
            if let Some(l) = self.loss.as_deref_mut() {
                if !l.sent.is_empty() {
                    l.sent.mark_all_lost(LostBy::Timeout);
                    return;
                }
            }
        }
        self.snd.nxt = self.snd.una;
    }
}

/// Record `r` was newly delivered (cumulatively or by SACK): RACK takes
/// it (RFC 8985 §6.2 steps 2–3). An echoed timestamp `tsecr` older than
/// the record's last sending shows the ACK is for an earlier copy; only a
/// retransmitted record asks (a timestamp-clock division per record).
#[inline]
pub(super) fn rack_deliver(
    rack: &mut Rack,
    r: &Rec,
    now: Instant,
    min_rtt: Option<u64>,
    tsecr: Option<u32>,
    opts: &Negotiated,
) {
    rack.note_delivered(r);
    let predates = r.has(EVER_RETRANS)
        && tsecr.is_some_and(|e| e != 0 && (e.wrapping_sub(opts.ts_now(r.xmit)) as i32) < 0);
    rack.update(r, now, min_rtt, predates);
}

/// RFC 6675 §4 IsLost(), used when RACK is off: a segment not SACKed is
/// lost when DupThresh segments, or more than (DupThresh − 1)·SMSS bytes,
/// above it are SACKed; and the first one after DupThresh duplicate ACKs
/// (RFC 6675 §5 / RFC 5681 §3.2).
fn mark_lost_dupthresh(log: &mut SentLog, mss: u32, dupacks: u32) {
    let c = log.counts();
    if c.sacked == 0 && dupacks < DUPACK_THRESHOLD {
        return;
    }
    let mut sacked_bytes = 0u32;
    let mut sacked_recs = 0u32;
    for i in (0..log.len()).rev() {
        let Some(&r) = log.get(i) else { continue };
        if r.has(SACKED) {
            sacked_bytes = sacked_bytes.saturating_add(r.len());
            sacked_recs += 1;
            continue;
        }
        let lost = sacked_recs >= DUP_THRESH
            || sacked_bytes > (DUP_THRESH - 1).saturating_mul(mss)
            || (i == 0 && dupacks >= DUPACK_THRESHOLD);
        if lost && !r.has(LOST) {
            log.mark_lost(i, LostBy::DupThresh);
        }
    }
}
