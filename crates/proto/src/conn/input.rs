//! SEGMENT ARRIVES (RFC 9293 §3.10.7), state by state and check by check,
//! with the RFC 5961 defences and RFC 7323 PAWS.

use wire::tcp::{TcpFlags, TcpRepr};
use wire::{Instant, SeqNum};

use super::congestion::Controller;
use super::event::{Cause, CloseReason, Event, SegmentInfo, SendReason, Verdict};
use super::options::Negotiated;
use super::recovery::AckKind;
use super::recv::{Accepted, RecvState};
use super::rtt;
use super::send::SendState;
use super::state::State;
use super::timers::Timer;
use super::Connection;
use crate::ring::Staged;

/// The RST that answers `seg` when no connection (or a connection in a
/// state that refuses it) takes it (RFC 9293 §3.10.7.1): `None` for a RST,
/// which is never answered.
///
/// - ACK off: `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`
/// - ACK on: `<SEQ=SEG.ACK><CTL=RST>`
pub fn reset_for(seg: &TcpRepr<'_>) -> Option<(SeqNum, SeqNum, TcpFlags)> {
    if seg.flags.contains(TcpFlags::RST) {
        None
    } else if seg.flags.contains(TcpFlags::ACK) {
        Some((seg.ack, SeqNum(0), TcpFlags::RST))
    } else {
        Some((
            SeqNum(0),
            seg.seq + seg.seq_len(),
            TcpFlags::RST | TcpFlags::ACK,
        ))
    }
}

/// RFC 9293 §3.10.7.4, first check: the four cases of segment
/// acceptability.
fn acceptable(seq: SeqNum, seg_len: u32, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    let window_end = rcv_nxt + rcv_wnd;
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => seq.in_range(rcv_nxt, window_end),
        (_, 0) => false,
        (len, _) => {
            seq.in_range(rcv_nxt, window_end) || (seq + (len - 1)).in_range(rcv_nxt, window_end)
        }
    }
}

/// A segment after trimming to the receive window (RFC 9293 §3.10.7.4:
/// "segments with higher beginning sequence numbers … trimmed").
struct Trimmed<'a> {
    seq: SeqNum,
    payload: &'a [u8],
    syn: bool,
    fin: bool,
}

fn trim<'a>(seg: &TcpRepr<'a>, rcv_nxt: SeqNum, window_end: SeqNum) -> Trimmed<'a> {
    let mut t = Trimmed {
        seq: seg.seq,
        payload: seg.payload,
        syn: seg.flags.contains(TcpFlags::SYN),
        fin: seg.flags.contains(TcpFlags::FIN),
    };
    // Drop what lies before RCV.NXT: first the SYN, then old data.
    let mut skip = rcv_nxt.since(t.seq);
    if skip > 0 && t.syn {
        t.syn = false;
        t.seq += 1;
        skip -= 1;
    }
    let cut = (skip as usize).min(t.payload.len());
    t.payload = &t.payload[cut..];
    t.seq += cut as u32;
    if skip as usize > cut {
        // Even the FIN is old: it was already received.
        t.fin = false;
    }
    // Drop what lies beyond the window; a FIN past it goes too.
    let room = window_end.since(t.seq) as usize;
    if t.payload.len() > room {
        t.payload = &t.payload[..room];
        t.fin = false;
    }
    t
}

impl Connection {
    /// A segment for this connection arrived (its checksum and ports were
    /// checked by the caller).
    pub fn handle_segment(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        self.segment_arrives(now, seg, None);
    }

    /// `handle_segment`, with the segment's data perhaps already staged in
    /// the receive buffer and verified by the fused receive (`fused`),
    /// which stages data only for a segment header prediction takes.
    pub(super) fn segment_arrives(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        staged: Option<Staged>,
    ) {
        self.stats.segs_in += 1;
        let mark = self.events.len();
        let verdict = match self.state {
            State::Closed => self.closed_input(seg),
            State::Listen => self.listen_input(now, seg),
            State::SynSent => self.syn_sent_input(now, seg),
            _ => {
                if self.predicted_input(now, seg, staged) {
                    Verdict::Accepted
                } else {
                    self.synchronized_input(now, seg)
                }
            }
        };
        if self.config.trace_segments {
            // The arrival is reported before the changes it caused.
            let info = SegmentInfo::of(seg);
            let at = mark.min(self.events.len());
            self.events
                .insert(at, Event::SegmentReceived { info, verdict });
        }
    }

    /// RFC 9293 §3.10.7.1: no connection; answer with a RST.
    fn closed_input(&mut self, seg: &TcpRepr<'_>) -> Verdict {
        match reset_for(seg) {
            Some(rst) => {
                self.pending.rst = Some(rst);
                self.pending.rst_port = Some(seg.src_port);
                Verdict::Refused
            }
            None => Verdict::Dropped,
        }
    }

    /// RFC 9293 §3.10.7.2: LISTEN.
    fn listen_input(&mut self, now: Instant, seg: &TcpRepr<'_>) -> Verdict {
        let flags = seg.flags;
        if flags.contains(TcpFlags::RST) {
            return Verdict::Dropped;
        }
        if flags.contains(TcpFlags::ACK) {
            // Nothing was sent from LISTEN: any ACK is bogus. The RST goes
            // back to the sender: a listener has no remote port.
            self.pending.rst = reset_for(seg);
            self.pending.rst_port = Some(seg.src_port);
            return Verdict::Refused;
        }
        if !flags.contains(TcpFlags::SYN) {
            return Verdict::Dropped;
        }
        self.remote_port = seg.src_port;
        self.take_peer_syn(now, seg);
        self.set_state(State::SynReceived, Cause::SynReceived);
        // Data on the SYN is queued for the application (§3.10.7.2: "any
        // other control or text should be queued for processing later").
        if !seg.payload.is_empty() {
            let (_, edge) = self.rcv.window_to_advertise(self.rcv_mss());
            self.rcv.adv = edge;
            let t = trim(seg, self.rcv.nxt, self.rcv.adv);
            self.take_data(now, t.seq, t.payload);
        }
        Verdict::Accepted
    }

    /// Takes the options and sequence number of the peer's SYN.
    pub(super) fn take_peer_syn(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        // The window of a SYN is never scaled (RFC 7323 §2.2); it sets
        // SND.WND, SND.WL1 and SND.WL2 outright.
        self.snd.wnd = u32::from(seg.window);
        self.snd.max_wnd = self.snd.wnd;
        self.snd.wl1 = seg.seq;
        self.snd.wl2 = seg.ack;
        self.rcv.on_syn(seg.seq);
        self.opts.on_peer_syn(&self.config, &seg.options, now);
        self.rcv.wscale = self.opts.rcv_wscale;
        self.settle_mss();
    }

    /// RFC 9293 §3.10.7.3: SYN-SENT.
    fn syn_sent_input(&mut self, now: Instant, seg: &TcpRepr<'_>) -> Verdict {
        let flags = seg.flags;
        let has_ack = flags.contains(TcpFlags::ACK);
        // First: the ACK must acknowledge our SYN: ISS < SEG.ACK =< SND.NXT.
        if has_ack && !(seg.ack > self.snd.iss && seg.ack <= self.snd.max) {
            // An old duplicate SYN-ACK, or garbage: the RST tells the
            // other side its SYN is stale; we change nothing.
            return match reset_for(seg) {
                Some(rst) => {
                    self.pending.rst = Some(rst);
                    Verdict::Refused
                }
                None => Verdict::Dropped,
            };
        }
        // Second: a RST is acceptable only with an acceptable ACK.
        if flags.contains(TcpFlags::RST) {
            if has_ack {
                self.finish(CloseReason::Refused, Cause::RstReceived);
                return Verdict::Accepted;
            }
            return Verdict::Dropped;
        }
        // Fourth: the SYN.
        if !flags.contains(TcpFlags::SYN) {
            return Verdict::Dropped;
        }
        self.take_peer_syn(now, seg);
        if has_ack {
            let rtt = self.rtt_sample_for(seg, now);
            if let Some(r) = rtt {
                self.rtt.sample_nanos(r);
            }
            self.snd.acknowledge(seg.ack);
            self.timers.set(Timer::Retransmit, None);
            self.retries = 0;
            self.rtt.reset_backoff();
            self.set_state(State::Established, Cause::SynAckReceived);
            self.on_established(now);
            // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
            self.pending.ack = Some(SendReason::Ack);
            // The window our SYN announced, never scaled (RFC 7323 §2.2).
            let edge = self.rcv.nxt + self.rcv.capacity.min(0xffff);
            let t = trim(seg, self.rcv.nxt, edge);
            if !t.payload.is_empty() {
                self.rcv.adv = edge;
                self.take_data(now, t.seq, t.payload);
            }
            if t.fin {
                self.rcv.fin_seq = Some(t.seq + t.payload.len() as u32);
                self.check_fin(now);
            }
        } else {
            // Simultaneous open: both SYNs crossed. Our SYN goes again,
            // now as a SYN-ACK (§3.10.7.3: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>).
            self.snd.nxt = self.snd.iss;
            self.timers.set(Timer::Retransmit, None);
            self.set_state(State::SynReceived, Cause::SynReceived);
        }
        Verdict::Accepted
    }

    /// Answers an unacceptable segment with a duplicate ACK (RFC 9293
    /// §3.10.7.4 first check; RFC 7323 §5.3 for PAWS). A data-less one
    /// (no SYN, no FIN, no data) is answered at most once per
    /// `invalid_ack_interval`, as Linux's tcp_oow_rate_limited does: such
    /// segments are what two ends with out-of-step state send each other
    /// in an endless loop, and what a blind attacker sends for free.
    fn dup_ack_for_unacceptable(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        if seg.seq_len() == 0 {
            let interval = self.config.invalid_ack_interval;
            if self
                .challenge
                .last_oow_ack
                .is_some_and(|last| now.saturating_since(last) < interval)
            {
                self.stats.oow_acks_skipped += 1;
                return;
            }
            self.challenge.last_oow_ack = Some(now);
        }
        self.pending.ack.get_or_insert(SendReason::DupAck);
    }

    /// RFC 9293 §3.10.7.4: every state from SYN-RECEIVED on.
    pub(super) fn synchronized_input(&mut self, now: Instant, seg: &TcpRepr<'_>) -> Verdict {
        let flags = seg.flags;
        let rst = flags.contains(TcpFlags::RST);
        let ts = seg.options.timestamps;

        // RFC 7323 §5.3 R1: PAWS, before the sequence check.
        if !rst && self.opts.paws_rejects(ts, now) {
            self.dup_ack_for_unacceptable(now, seg);
            self.stats.unacceptable_in += 1;
            // An old copy of data already received (a late original after
            // its retransmission): D-SACK what lies before RCV.NXT, so the
            // sender learns the retransmission was spurious (RFC 2883 §4;
            // Linux's tcp_send_dupack does the same).
            let data = seg.seq + u32::from(flags.contains(TcpFlags::SYN));
            let end = data + seg.payload.len() as u32;
            self.note_duplicate_data(data, end.min(self.rcv.nxt));
            return Verdict::Paws;
        }
        // RFC 7323 §3.2: once timestamps are in use, a non-RST segment
        // without one is dropped.
        if self.opts.timestamps && ts.is_none() && !rst {
            return Verdict::Dropped;
        }
        // Our SYN-ACK was lost and the peer sent its SYN again: send the
        // SYN-ACK again rather than a bare ACK it cannot use.
        if self.state == State::SynReceived
            && flags.contains(TcpFlags::SYN)
            && !flags.contains(TcpFlags::ACK)
            && seg.seq == self.rcv.irs
        {
            self.snd.nxt = self.snd.iss;
            return Verdict::Accepted;
        }

        // First check: is the segment acceptable?
        let rcv_wnd = self.rcv.window();
        let seg_len = seg.seq_len();
        let mut ok = acceptable(seg.seq, seg_len, self.rcv.nxt, rcv_wnd);
        if !ok && rcv_wnd == 0 && seg.seq == self.rcv.nxt {
            // A zero window accepts no data, but "special allowance should
            // be made to accept valid ACKs, URGs, and RSTs": process the
            // header with the data trimmed away.
            ok = true;
            if !seg.payload.is_empty() && !rst {
                // The data itself is not acceptable, so it is acknowledged
                // with RCV.NXT and the zero window: a window probe must be
                // answered (RFC 9293 §3.8.6.1, §3.10.7.4 first check).
                self.pending.ack.get_or_insert(SendReason::DupAck);
            }
        }
        if !ok {
            if !rst {
                // A segment wholly before RCV.NXT is a duplicate: D-SACK
                // (RFC 2883 §4.1.1).
                let data = seg.seq + u32::from(flags.contains(TcpFlags::SYN));
                self.note_duplicate_data(data, data + seg.payload.len() as u32);
                if self.state == State::TimeWait && flags.contains(TcpFlags::FIN) {
                    // A retransmitted FIN: its ACK was lost. Acknowledge it
                    // and restart the 2·MSL wait (§3.10.7.4, eighth).
                    self.timers
                        .set(Timer::TimeWait, Some(now + 2 * self.config.msl));
                }
                self.dup_ack_for_unacceptable(now, seg);
            }
            self.stats.unacceptable_in += 1;
            return Verdict::Unacceptable;
        }
        let t = trim(seg, self.rcv.nxt, self.rcv.adv.max(self.rcv.nxt));
        if !seg.payload.is_empty() {
            // Its beginning was received before: D-SACK that part
            // (RFC 2883 §4.1.1).
            let data = seg.seq + u32::from(flags.contains(TcpFlags::SYN));
            let end = data + seg.payload.len() as u32;
            self.note_duplicate_data(data, t.seq.min(end));
        }
        self.opts
            .update_ts_recent(ts, seg.seq, self.rcv.last_ack_sent, now);
        self.last_recv = now;
        self.keepalive_probes = 0;
        self.arm_keepalive(now);

        // Second check: RST (RFC 5961 §3). Only an exact RCV.NXT resets;
        // elsewhere in the window it draws a challenge ACK.
        if rst {
            if seg.seq != self.rcv.nxt {
                self.challenge_ack(now);
                return Verdict::Challenged;
            }
            match self.state {
                State::SynReceived if self.passive => self.return_to_listen(),
                State::SynReceived => self.finish(CloseReason::Refused, Cause::RstReceived),
                State::TimeWait => self.finish(CloseReason::Normal, Cause::RstReceived),
                _ => self.finish(CloseReason::Reset, Cause::RstReceived),
            }
            return Verdict::Accepted;
        }

        // Fourth check: SYN (RFC 5961 §4): a SYN in the window of a
        // synchronized connection draws a challenge ACK. §4.2: "irrespective
        // of the exact sequence number" — also a SYN before RCV.NXT whose
        // data reaches into the window (trimming dropped it from `t`).
        if flags.contains(TcpFlags::SYN) {
            if self.state == State::SynReceived && self.passive {
                self.return_to_listen();
                return Verdict::Accepted;
            }
            self.challenge_ack(now);
            return Verdict::Challenged;
        }

        // Fifth check: ACK.
        if !flags.contains(TcpFlags::ACK) {
            return Verdict::Dropped;
        }
        if self.state == State::SynReceived && !self.snd.acks_new(seg.ack) {
            // RFC 9293 §3.10.7.4 fifth check, SYN-RECEIVED: an ACK that
            // does not acknowledge our SYN — old or ahead of SND.NXT —
            // draws <SEQ=SEG.ACK><CTL=RST>, not the challenge ACK of the
            // synchronized states (as Linux does too).
            self.pending.rst = reset_for(seg);
            self.pending.rst_port = Some(seg.src_port);
            return Verdict::Refused;
        }
        // RFC 5961 §5.2: acceptable only in
        // (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT.
        let oldest = self.snd.una - self.snd.max_wnd.max(1);
        if seg.ack > self.snd.max || seg.ack < oldest {
            self.challenge_ack(now);
            return Verdict::Challenged;
        }
        if self.state == State::SynReceived {
            self.timers.set(Timer::Retransmit, None);
            self.set_state(State::Established, Cause::AckReceived);
            self.on_established(now);
            if self.snd.fin_queued {
                // CLOSE was called in SYN-RECEIVED.
                self.set_state(State::FinWait1, Cause::Close);
            }
        }
        self.process_ack(now, seg);
        match self.state {
            State::FinWait1 if self.snd.fin_acked() && !t.fin => {
                self.set_state(State::FinWait2, Cause::AckReceived);
                if self.user_closed {
                    self.arm_fin_wait_2(now);
                }
            }
            State::Closing if self.snd.fin_acked() => {
                self.enter_time_wait(now, Cause::AckReceived);
            }
            State::LastAck if self.snd.fin_acked() => {
                self.finish(CloseReason::Normal, Cause::AckReceived);
                return Verdict::Accepted;
            }
            _ => {}
        }

        // Sixth: URG. Urgent data is delivered inline as ordinary data
        // (RFC 6093 §5: new applications should not use it).

        // Seventh: segment text.
        if !t.payload.is_empty() && self.state.accepts_data() {
            if self.user_closed {
                // RFC 1122 §4.2.2.13: nobody will read it: reset.
                self.abort_with(CloseReason::Aborted, Cause::DataAfterClose);
                return Verdict::Refused;
            }
            self.take_data(now, t.seq, t.payload);
        }

        // Eighth: FIN.
        if t.fin && !self.rcv.fin_done {
            self.rcv.fin_seq = Some(t.seq + t.payload.len() as u32);
        }
        self.check_fin(now);
        if t.fin && !self.rcv.fin_done {
            // The FIN is out of order (data before it is missing): an
            // out-of-order segment is acknowledged at once (RFC 5681 §4.2,
            // RFC 9293 §3.10.7.4).
            self.pending.ack.get_or_insert(SendReason::Ack);
        }
        if self.state == State::FinWait1 && self.snd.fin_acked() {
            // Our FIN was acknowledged by a segment whose FIN could not be
            // taken yet (out of order). A fully closed connection bounds
            // its FIN-WAIT-2 wait here too.
            self.set_state(State::FinWait2, Cause::AckReceived);
            if self.user_closed {
                self.arm_fin_wait_2(now);
            }
        }
        Verdict::Accepted
    }

    /// Passive side: a RST (or new SYN) in SYN-RECEIVED sends the
    /// connection back to LISTEN with nothing of the attempt kept
    /// (RFC 9293 §3.10.7.4).
    fn return_to_listen(&mut self) {
        let iss = self.snd.iss;
        self.snd = SendState::new(iss, self.config.send_buffer);
        self.snd.mss = u32::from(self.config.default_peer_mss);
        self.rcv = RecvState::new(self.config.recv_buffer);
        self.opts = Negotiated::new(&self.config, self.opts.ts_offset);
        self.timers.clear();
        self.pending = Default::default();
        self.retries = 0;
        self.rtt_probe = None;
        self.remote_port = 0;
        self.set_state(State::Listen, Cause::RstReceived);
    }

    /// The handshake completed.
    fn on_established(&mut self, now: Instant) {
        if self.stats.timeouts > 0 {
            // RFC 6298 §5.7: the SYN (or SYN-ACK) timed out and no RTT was
            // measured: data starts with a 3 s RTO.
            self.rtt.set_initial_after_syn_timeout();
        }
        self.retries = 0;
        self.unacked_since = None;
        self.last_send = now;
        self.arm_keepalive(now);
    }

    /// (Inlined: every segment arrives here, and without keep-alives, the
    /// benchmarks' and most connections' case, it is one test.)
    #[inline]
    pub(super) fn arm_keepalive(&mut self, now: Instant) {
        if let Some(k) = self.config.keepalive {
            if self.state.is_synchronized() && self.state != State::TimeWait {
                self.timers.set(Timer::Keepalive, Some(now + k.idle));
            }
        }
    }

    /// An RTT sample for an ACK that acknowledges new data: from the
    /// echoed timestamp (RFC 7323 §4), or from the one timed segment
    /// (RFC 6298 §3, Karn's rule: never a retransmitted one).
    /// In nanoseconds: every ACK takes one, and the estimator, RACK and
    /// the controller's RTT work in integers.
    fn rtt_sample_for(&mut self, seg: &TcpRepr<'_>, now: Instant) -> Option<u64> {
        let from_ts = self.opts.rtt_from_echo(seg.options.timestamps, now);
        match self.rtt_probe {
            Some((end, sent)) if seg.ack >= end => {
                self.rtt_probe = None;
                from_ts.or(Some(rtt::nanos_since(sent, now)))
            }
            _ => from_ts,
        }
    }

    /// The fifth check's work in the synchronized states: acknowledgment,
    /// RTT, congestion control, duplicate ACKs and the window update.
    fn process_ack(&mut self, now: Instant, seg: &TcpRepr<'_>) {
        let ack = seg.ack;
        let seg_wnd = u32::from(seg.window) << self.opts.snd_wscale;
        // With SACK, recovery.rs takes every ACK (on_ack_sack below).
        let sack_mode = self.sack_mode();
        let prior_una = self.snd.una;
        let mut sample = None;
        let mut dupack = false;
        if self.snd.acks_new(ack) {
            let acked = ack.since(self.snd.una);
            sample = self.rtt_sample_for(seg, now);
            if let Some(r) = sample {
                self.rtt.sample_nanos(r);
            }
            let data_acked = self.snd.acknowledge(ack);
            self.retries = 0;
            self.rtt.reset_backoff();
            if !sack_mode {
                let kind = self
                    .recovery
                    .on_new_ack(&self.snd, acked, &mut self.cc, now);
                if kind == AckKind::Normal && data_acked > 0 {
                    self.feed_rtt();
                    self.cc
                        .on_ack(now, data_acked, sample, self.snd.in_flight());
                }
            }
            // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged,
            // restart it otherwise.
            if self.snd.una == self.snd.max {
                self.timers.set(Timer::Retransmit, None);
                self.unacked_since = None;
            } else {
                self.unacked_since = Some(now);
                self.timers
                    .set(Timer::Retransmit, Some(self.rto_deadline(now)));
            }
            if data_acked > 0 && self.writable_wanted && self.send_capacity() > 0 {
                self.signal_writable();
            }
        } else if ack == self.snd.una
            && self.snd.max > self.snd.una
            && seg.payload.is_empty()
            && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN)
            // RFC 6675 §2: an ACK whose SACK blocks report data that
            // arrived is a duplicate ACK even if the window moved (Linux
            // grows its window as out-of-order data arrives, so RFC 5681's
            // equal-window rule alone would never see its dup ACKs).
            && (seg_wnd == self.snd.wnd || !seg.options.sack.is_empty())
            // A zero window means the outstanding byte is a window probe
            // the peer had no room for, not a sign of loss (RFC 9293
            // §3.8.6.1): its answers are not duplicate ACKs.
            && seg_wnd > 0
        {
            // RFC 5681 §2: a duplicate ACK.
            self.stats.dupacks_in += 1;
            dupack = true;
            if !sack_mode {
                self.recovery.on_dupack(&self.snd, &mut self.cc, now);
            }
        }
        if sack_mode {
            self.on_ack_sack(now, seg, prior_una, sample, dupack);
        }
        self.stats.max_cwnd = self.stats.max_cwnd.max(self.cc.cwnd());
        self.update_window(seg);
    }

    /// The window update rule (RFC 9293 §3.10.7.4, fifth check): take the
    /// window from the newest segment, by SND.WL1 and SND.WL2.
    pub(super) fn update_window(&mut self, seg: &TcpRepr<'_>) {
        let ack = seg.ack;
        if !(self.snd.una <= ack && ack <= self.snd.max) {
            return;
        }
        let scale = if seg.flags.contains(TcpFlags::SYN) {
            0
        } else {
            self.opts.snd_wscale
        };
        self.take_window(seg, u32::from(seg.window) << scale);
    }

    /// `update_window` for a segment whose SEG.ACK is known to be in
    /// `[SND.UNA, SND.MAX]` and whose window, scaled, is `wnd` (header
    /// prediction knows both, and inlines this).
    #[inline(always)]
    pub(super) fn take_window(&mut self, seg: &TcpRepr<'_>, wnd: u32) {
        let snd = &mut self.snd;
        if !(snd.wl1 < seg.seq || (snd.wl1 == seg.seq && snd.wl2 <= seg.ack)) {
            return;
        }
        snd.wnd = wnd;
        snd.max_wnd = snd.max_wnd.max(wnd);
        snd.wl1 = seg.seq;
        snd.wl2 = seg.ack;
        if wnd > 0 && self.timers.get(Timer::Persist).is_some() {
            self.window_opened();
        }
    }

    /// The window opened: probing ends, and a probe byte still
    /// unacknowledged is now ordinary data in flight. The probes' backoff
    /// ends with them: it must not stretch the RTO of the data that
    /// follows (as Linux's tcp_ack_probe does).
    #[cold]
    fn window_opened(&mut self) {
        self.timers.set(Timer::Persist, None);
        self.rtt.reset_backoff();
        if self.snd.nxt > self.snd.una {
            self.snd.nxt = self.snd.una;
        }
    }

    /// The seventh step for in-window data (already trimmed).
    pub(super) fn take_data(&mut self, now: Instant, seq: SeqNum, payload: &[u8]) {
        let accepted = self.rcv.accept(seq, payload);
        self.data_taken(now, accepted, payload.len());
    }

    /// `take_data` for `seg`, whose in-order data is already staged in the
    /// receive buffer. (Should the staging have gone stale, the data is
    /// copied after all: it is verified.)
    pub(super) fn take_staged_data(&mut self, now: Instant, seg: &TcpRepr<'_>, staged: Staged) {
        match self.rcv.accept_staged(staged) {
            Some(accepted) => self.data_taken(now, accepted, seg.payload.len()),
            None => self.take_data(now, seg.seq, seg.payload),
        }
    }

    /// What follows accepting `len` bytes of a segment's data: readable
    /// events and the ACK (now or delayed). (Inlined: header prediction
    /// ends here for every in-order data segment.)
    #[inline]
    fn data_taken(&mut self, now: Instant, accepted: Accepted, len: usize) {
        if accepted.in_order > 0 {
            self.stats.bytes_in += u64::from(accepted.in_order);
            self.signal_readable();
        }
        if accepted.ack_now || self.config.delayed_ack.is_none() {
            self.pending.ack = Some(SendReason::Ack);
            return;
        }
        // RFC 9293 §3.8.6.3 / RFC 5681 §4.2: acknowledge at least every
        // second full-sized segment, and within the delay otherwise.
        self.rcv.unacked_bytes = self.rcv.unacked_bytes.saturating_add(accepted.in_order);
        // "Full-sized" is the peer's segment size: our MSS at most, less
        // the option bytes, but smaller when the peer's segments are (a
        // small-MTU path); the estimate starts from 536 bytes, so that a
        // stream of tiny segments is not acknowledged in pairs.
        self.rcv.largest_seg = self.rcv.largest_seg.max(len as u32);
        let options = self.opts.per_segment_option_len();
        let full = self
            .rcv_mss()
            .saturating_sub(options)
            .min(self.rcv.largest_seg.max(536u32.saturating_sub(options)));
        if self.rcv.unacked_bytes >= 2 * full {
            self.pending.ack = Some(SendReason::Ack);
        } else if self.timers.get(Timer::DelayedAck).is_none() {
            if let Some(delay) = self.config.delayed_ack {
                self.timers.set(Timer::DelayedAck, Some(now + delay));
            }
        }
    }

    /// The eighth step: take the peer's FIN once everything before it has
    /// arrived.
    fn check_fin(&mut self, now: Instant) {
        if !self.rcv.fin_in_order() {
            return;
        }
        self.rcv.fin_done = true;
        self.rcv.nxt += 1;
        self.readable_signalled = false;
        self.signal_readable();
        if matches!(self.state, State::SynReceived | State::Established) {
            self.defer_fin_ack(now);
        } else {
            self.pending.ack = Some(SendReason::Ack);
        }
        match self.state {
            State::SynReceived | State::Established => {
                self.set_state(State::CloseWait, Cause::FinReceived);
            }
            State::FinWait1 if self.snd.fin_acked() => {
                self.enter_time_wait(now, Cause::FinAckReceived);
            }
            State::FinWait1 => self.set_state(State::Closing, Cause::FinReceived),
            State::FinWait2 => self.enter_time_wait(now, Cause::FinReceived),
            _ => {}
        }
    }

    /// The ACK of a FIN that ends an open connection waits like a delayed
    /// ACK (RFC 1122 §4.2.3.2), as Linux's does (it enters "pingpong" mode
    /// on that FIN): an application that closes in the meantime sends its
    /// FIN with the ACK on it, and the close takes three segments instead
    /// of four. A FIN that completes our own close (FIN-WAIT) is
    /// acknowledged at once: nothing of ours could ride with it.
    fn defer_fin_ack(&mut self, now: Instant) {
        match self.config.delayed_ack {
            Some(delay) if self.timers.get(Timer::DelayedAck).is_none() => {
                self.timers.set(Timer::DelayedAck, Some(now + delay));
            }
            Some(_) => {}
            None => self.pending.ack = Some(SendReason::Ack),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_acceptability_cases() {
        let nxt = SeqNum(1000);
        // Zero length, zero window: only RCV.NXT.
        assert!(acceptable(nxt, 0, nxt, 0));
        assert!(!acceptable(nxt + 1, 0, nxt, 0));
        // Zero length, open window: inside it.
        assert!(acceptable(nxt + 99, 0, nxt, 100));
        assert!(!acceptable(nxt + 100, 0, nxt, 100));
        assert!(!acceptable(nxt - 1, 0, nxt, 100));
        // Data, zero window: never.
        assert!(!acceptable(nxt, 10, nxt, 0));
        // Data, open window: first or last byte inside.
        assert!(acceptable(nxt - 5, 10, nxt, 100));
        assert!(acceptable(nxt + 95, 10, nxt, 100));
        assert!(!acceptable(nxt - 10, 10, nxt, 100));
        assert!(!acceptable(nxt + 100, 10, nxt, 100));
    }

    #[test]
    fn reset_replies() {
        let mut seg = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: SeqNum(100),
            ack: SeqNum(500),
            flags: TcpFlags::SYN,
            window: 0,
            urgent: 0,
            options: Default::default(),
            payload: b"abc",
        };
        assert_eq!(
            reset_for(&seg),
            Some((SeqNum(0), SeqNum(104), TcpFlags::RST | TcpFlags::ACK))
        );
        seg.flags = TcpFlags::ACK;
        assert_eq!(
            reset_for(&seg),
            Some((SeqNum(500), SeqNum(0), TcpFlags::RST))
        );
        seg.flags = TcpFlags::RST | TcpFlags::ACK;
        assert_eq!(reset_for(&seg), None);
    }

    #[test]
    fn trimming_keeps_only_new_in_window_bytes() {
        let seg = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: SeqNum(95),
            ack: SeqNum(0),
            flags: TcpFlags::FIN,
            window: 0,
            urgent: 0,
            options: Default::default(),
            payload: b"0123456789",
        };
        let t = trim(&seg, SeqNum(100), SeqNum(110));
        assert_eq!(
            (t.seq, t.payload, t.fin),
            (SeqNum(100), &b"56789"[..], true)
        );
        let t = trim(&seg, SeqNum(100), SeqNum(103));
        assert_eq!((t.seq, t.payload, t.fin), (SeqNum(100), &b"567"[..], false));
        let t = trim(&seg, SeqNum(106), SeqNum(200));
        assert_eq!(
            (t.payload, t.fin),
            (&b""[..], false),
            "the FIN at 105 is old"
        );
    }
}
