//! What to send next: SYN and SYN-ACK, data (new or resent), FIN, window
//! probes, keep-alives, ACKs and RSTs, one segment per call; and the
//! timers that make something due.

use core::net::IpAddr;

use wire::checksum;
use wire::ip::IpProtocol;
use wire::tcp::{TcpFlags, TcpHeader, TcpOptions, TcpPacket};
use wire::{Instant, SeqNum};

use super::congestion::Controller;
use super::event::{Cause, CloseReason, Event, SegmentInfo, SendReason};
use super::state::State;
use super::timers::Timer;
use super::Connection;

/// How long an emptied buffer keeps its memory.
const IDLE_RELEASE: core::time::Duration = core::time::Duration::from_secs(1);

/// A segment to send. Its data, if any, stays in the connection's send
/// buffer: fetch it with [`Connection::payload`] or write the whole
/// segment with [`Connection::emit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The source port.
    pub src_port: u16,
    /// The destination port.
    pub dst_port: u16,
    /// The sequence number.
    pub seq: SeqNum,
    /// The acknowledgment number (meaningful with ACK).
    pub ack: SeqNum,
    /// The control bits.
    pub flags: TcpFlags,
    /// The window field.
    pub window: u16,
    /// The options.
    pub options: TcpOptions,
    /// The number of data bytes.
    pub payload_len: u32,
    /// Why it is sent.
    pub reason: SendReason,
}

impl Segment {
    /// The sequence space it occupies (data, SYN, FIN).
    pub fn seq_len(&self) -> u32 {
        self.payload_len
            + u32::from(self.flags.contains(TcpFlags::SYN))
            + u32::from(self.flags.contains(TcpFlags::FIN))
    }

    /// The header, to be written where the segment lies (without copying
    /// its options into a [`TcpRepr`](wire::tcp::TcpRepr)).
    #[inline]
    pub fn header(&self) -> TcpHeader<'_> {
        TcpHeader {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            urgent: 0,
            options: &self.options,
        }
    }

    /// The header as a trace shows it.
    pub fn info(&self) -> SegmentInfo {
        SegmentInfo {
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            options: self.options,
            len: self.payload_len,
        }
    }
}

impl Connection {
    /// The data of a segment from [`poll_transmit`](Self::poll_transmit),
    /// as up to two slices of the send buffer.
    pub fn payload(&self, seg: &Segment) -> (&[u8], &[u8]) {
        let start = seg.seq + u32::from(seg.flags.contains(TcpFlags::SYN));
        let offset = start.since(self.snd.buf_seq) as usize;
        self.snd.buf.peek(offset, seg.payload_len as usize)
    }

    /// Writes `seg` as a complete TCP segment (header, options, data and
    /// checksum for the pseudo-header of `src` and `dst`) into `buf`.
    /// Returns its length.
    pub fn emit(
        &self,
        seg: &Segment,
        buf: &mut [u8],
        src: &IpAddr,
        dst: &IpAddr,
    ) -> wire::Result<usize> {
        let (a, b) = self.payload(seg);
        // The header comes with its sum (its checksum field zero); the
        // data is summed as it is copied in after it (one pass over it
        // when the platform installed a summing copy).
        let (header_len, header_sum) = seg.header().emit_summed(buf)?;
        let len = header_len + a.len() + b.len();
        let mut sum = u32::try_from(len)
            .ok()
            .and_then(|n| checksum::pseudo_header(src, dst, IpProtocol::TCP.0, n))
            .ok_or(wire::Error::Malformed)?;
        sum.combine(header_sum);
        let (header, data) = buf.split_at_mut(header_len);
        let (into_a, into_b) = data
            .get_mut(..a.len() + b.len())
            .ok_or(wire::Error::NoSpace)?
            .split_at_mut(a.len());
        if !a.is_empty() {
            // Data (most ACKs carry none: no call).
            sum.add_copy(a, into_a);
        }
        if !b.is_empty() {
            // The data wraps around the end of the send buffer.
            sum.add_copy(b, into_b);
        }
        TcpPacket::new_unchecked(header).set_checksum(sum.finish());
        Ok(len)
    }

    /// The next segment to send, if any. Call until `None` after every
    /// other call.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Segment> {
        // Looked at in place and returned as it came: a segment just
        // written field by field and copied out whole would be read back
        // before its stores land (a store-forwarding stall per segment).
        let seg = self.next_segment(now);
        if let Some(s) = &seg {
            self.stats.segs_out += 1;
            self.on_segment_sent(now, s);
            if self.config.trace_segments {
                self.events.push_back(Event::SegmentSent {
                    info: s.info(),
                    reason: s.reason,
                });
            }
        }
        seg
    }

    /// Whether a poll now could produce another segment. It is false only
    /// when nothing is owed: no flag pending, no retransmission queued, no
    /// unsent data or FIN, no SYN to send. A true answer may still poll
    /// nothing (a closed window, Nagle, pacing). The endpoint asks it
    /// after a segment went out, to skip the poll that would find nothing:
    /// whatever later gives the connection something to send (the
    /// application, a segment, a timer) puts it back in the endpoint's
    /// queue itself.
    pub fn may_send_more(&self) -> bool {
        // The checks are independent (any one makes it true); the one a
        // bulk sender answers (unsent data) comes first, and the loss
        // state, behind a pointer the rest of the call may not touch,
        // last.
        let snd = &self.snd;
        let by_state = match self.state {
            State::Closed | State::Listen | State::TimeWait => false,
            State::SynSent | State::SynReceived => snd.nxt == snd.iss,
            _ => snd.data_end() > snd.nxt || snd.fin_seq().is_some_and(|f| snd.nxt <= f),
        };
        let p = &self.pending;
        by_state
            || p.ack.is_some()
            || p.rst.is_some()
            || p.probe
            || p.keepalive
            || self.recovery.retransmit_now.is_some()
            || self
                .loss
                .as_deref()
                .is_some_and(|l| l.tlp.due || l.sent.counts().pending > 0)
    }

    /// What an empty poll would do, without the poll: arm the idle
    /// release of emptied buffers, and tell whether a poll could find a
    /// segment ([`may_send_more`](Self::may_send_more)). The endpoint asks
    /// it before queueing the connection for output. (Inlined into the
    /// endpoint's sync, which asks after every call into the connection.)
    #[inline]
    pub(crate) fn wants_poll(&mut self, now: Instant) -> bool {
        self.arm_idle_release(now);
        self.may_send_more()
    }

    /// Buffers that emptied give their memory back a second later, so
    /// that an idle connection is small without a busy one freeing and
    /// growing its buffers on every read.
    fn arm_idle_release(&mut self, now: Instant) {
        // An armed timer first: it answers most calls with one load.
        if self.timers.get(Timer::IdleRelease).is_some() || self.state == State::Closed {
            return;
        }
        if self.rcv.releasable() || (self.snd.buf.allocated() > 0 && self.snd.buf.is_empty()) {
            self.timers
                .set(Timer::IdleRelease, Some(now + IDLE_RELEASE));
        }
    }

    fn next_segment(&mut self, now: Instant) -> Option<Segment> {
        self.arm_idle_release(now);
        if let Some((seq, ack, flags)) = self.pending.rst.take() {
            let mut rst = self.bare(seq, ack, flags, SendReason::Rst);
            if let Some(port) = self.pending.rst_port.take() {
                rst.dst_port = port;
            }
            return Some(rst);
        }
        match self.state {
            State::Closed | State::Listen => None,
            State::SynSent | State::SynReceived if self.snd.nxt == self.snd.iss => {
                Some(self.syn_segment(now))
            }
            State::SynSent => None,
            State::SynReceived | State::TimeWait => {
                let reason = self.pending.ack?;
                Some(self.ack_segment(now, self.snd.nxt, reason))
            }
            _ => self.synchronized_segment(now),
        }
    }

    /// A segment without options or window (RST).
    fn bare(&self, seq: SeqNum, ack: SeqNum, flags: TcpFlags, reason: SendReason) -> Segment {
        Segment {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq,
            ack,
            flags,
            window: 0,
            options: TcpOptions::default(),
            payload_len: 0,
            reason,
        }
    }

    /// Our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), first or again.
    fn syn_segment(&mut self, now: Instant) -> Segment {
        let synack = self.state == State::SynReceived;
        let again = self.snd.max != self.snd.iss;
        // A SYN-ACK carries an option only if the SYN did (RFC 7323 §2.2,
        // §3.2; RFC 2018 §2); our own SYN offers what is configured.
        let (wscale, sack, ts) = if synack {
            (
                self.opts.offered_wscale && self.opts.peer_wscale,
                self.opts.sack,
                self.opts.timestamps,
            )
        } else {
            (
                self.config.window_scaling,
                self.config.sack,
                self.config.timestamps,
            )
        };
        let options = TcpOptions {
            mss: Some(self.config.mss),
            window_scale: wscale.then_some(self.opts.rcv_wscale),
            sack_permitted: sack,
            timestamps: ts.then(|| wire::tcp::Timestamps {
                tsval: self.opts.ts_now(now),
                tsecr: if synack { self.opts.ts_recent } else { 0 },
            }),
            sack: Default::default(),
        };
        // The window of a SYN is never scaled (RFC 7323 §2.2).
        let window = self.rcv.capacity.min(0xffff) as u16;
        let (flags, ack, reason) = if synack {
            self.rcv.adv = self.rcv.nxt + u32::from(window);
            self.ack_sent();
            let reason = if again {
                SendReason::Retransmission
            } else {
                SendReason::SynAck
            };
            (TcpFlags::SYN | TcpFlags::ACK, self.rcv.nxt, reason)
        } else {
            let reason = if again {
                SendReason::Retransmission
            } else {
                SendReason::Syn
            };
            (TcpFlags::SYN, SeqNum(0), reason)
        };
        let iss = self.snd.iss;
        self.snd.nxt = iss + 1;
        self.snd.max = self.snd.max.max(self.snd.nxt);
        if again {
            self.stats.rto_retransmits += 1;
        } else {
            self.rtt_probe = Some((iss + 1, now));
        }
        if self.timers.get(Timer::Retransmit).is_none() {
            self.timers
                .set(Timer::Retransmit, Some(self.rtt.rto_from(now)));
        }
        Segment {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq: iss,
            ack,
            flags,
            window,
            options,
            payload_len: 0,
            reason,
        }
    }

    /// ESTABLISHED and the closing states.
    fn synchronized_segment(&mut self, now: Instant) -> Option<Segment> {
        // Fast retransmit or a NewReno partial ACK: one segment, now.
        if let Some(seq) = self.recovery.retransmit_now.take() {
            if seq < self.snd.max {
                self.stats.fast_retransmits += 1;
                return Some(self.data_segment(now, seq, u32::MAX, SendReason::FastRetransmit));
            }
        }
        // With SACK: a tail loss probe, or the holes deemed lost, first
        // (recovery.rs).
        if let Some(seg) = self.recovery_segment(now) {
            return Some(seg);
        }
        if self.snd.nxt == self.snd.una
            && self.snd.data_end() > self.snd.nxt
            && self.rtt.rto_passed(self.last_send, now)
        {
            // RFC 5681 §4.1: restart from the initial window after idle.
            self.cc.on_idle_restart(now);
        }
        let mut len = self.snd.sendable(self.send_window(), self.config.nodelay);
        if len > 0 && self.pacing_blocks(now) {
            // Paced: the pacer's deadline wakes us (recovery.rs).
            len = 0;
        }
        if len > 0 {
            let reason = if self.snd.nxt < self.snd.max {
                self.stats.rto_retransmits += 1;
                SendReason::Retransmission
            } else {
                SendReason::Data
            };
            // The one segment of every poll of a bulk sender: built here,
            // not in a call.
            return Some(self.data_segment_inline(now, self.snd.nxt, len, reason));
        }
        if let Some(fin) = self.snd.fin_seq() {
            // The FIN takes a sequence number: it goes only inside the
            // peer's window (RFC 9293 §3.8.6.1), or at SND.UNA when all
            // data is acknowledged (a receiver takes a bare FIN at RCV.NXT
            // even into a zero window). Never after an unaccepted probe.
            let fits = fin < self.snd.una + self.snd.wnd || fin == self.snd.una;
            if self.snd.nxt == fin && fits {
                // The FIN alone: all data has been sent.
                let reason = if self.snd.max > fin {
                    self.stats.rto_retransmits += 1;
                    SendReason::Retransmission
                } else {
                    SendReason::Fin
                };
                return Some(self.data_segment(now, fin, 0, reason));
            }
        }
        if self.pending.probe {
            self.pending.probe = false;
            if let Some(seg) = self.window_probe(now) {
                return Some(seg);
            }
        }
        if self.snd.window_blocked()
            && self.timers.get(Timer::Persist).is_none()
            && self.timers.get(Timer::Retransmit).is_none()
        {
            // RFC 9293 §3.8.6.1: probe a zero window on a timer.
            self.timers
                .set(Timer::Persist, Some(self.rtt.rto_from(now)));
        }
        if self.pending.keepalive {
            self.pending.keepalive = false;
            // An old sequence number with no data: the peer must answer
            // with an ACK (RFC 9293 §3.8.4).
            return Some(self.ack_segment(now, self.snd.una - 1, SendReason::KeepAlive));
        }
        let reason = self.pending.ack?;
        // A pure ACK carries the highest sequence number sent, not SND.NXT:
        // after a timeout moved SND.NXT back, the peer may already hold
        // data up to SND.MAX and would find SEG.SEQ = SND.NXT old, drop
        // the segment as unacceptable and never see its ACK (RFC 9293
        // §3.10.7.4 first check). It stays within the peer's window, as
        // Linux's tcp_acceptable_seq does.
        let window_end = self.snd.una + self.snd.wnd;
        let seq = if self.snd.max <= window_end {
            self.snd.max
        } else {
            window_end.max(self.snd.nxt)
        };
        Some(self.ack_segment(now, seq, reason))
    }

    /// One byte into a zero window (RFC 9293 §3.8.6.1): the byte at
    /// SND.UNA again if one is out, else the next new one.
    fn window_probe(&mut self, now: Instant) -> Option<Segment> {
        if self.snd.wnd > 0 && self.snd.nxt == self.snd.una {
            // RFC 9293 §3.8.6.2.1 (4): the override timeout expired for
            // data held back by a small window: send what the window takes.
            let len = self.snd.wnd.min(self.snd.data_end().since(self.snd.nxt));
            if len > 0 {
                self.timers.set(Timer::Persist, None);
                let seq = self.snd.nxt;
                return Some(self.data_segment(now, seq, len, SendReason::Data));
            }
        }
        let seq = if self.snd.nxt > self.snd.una {
            self.snd.una
        } else {
            self.snd.nxt
        };
        if self.snd.data_end().since(seq) == 0 {
            return None;
        }
        self.stats.window_probes += 1;
        let mut seg = self.ack_segment(now, seq, SendReason::WindowProbe);
        seg.payload_len = 1;
        if seq == self.snd.nxt {
            self.snd.nxt += 1;
            self.snd.max = self.snd.max.max(self.snd.nxt);
        }
        // Back off like the RTO (RFC 1122 §4.2.2.17), without giving up
        // while the peer keeps answering.
        self.rtt.backoff();
        self.timers
            .set(Timer::Persist, Some(self.rtt.rto_from(now)));
        Some(seg)
    }

    /// A data segment (possibly with FIN, possibly empty when only the FIN
    /// is left) starting at `seq`, at most one MSS long.
    pub(super) fn data_segment(
        &mut self,
        now: Instant,
        seq: SeqNum,
        max_len: u32,
        reason: SendReason,
    ) -> Segment {
        self.data_segment_inline(now, seq, max_len, reason)
    }

    /// [`data_segment`](Self::data_segment), inlined where new data is
    /// sent.
    #[inline(always)]
    fn data_segment_inline(
        &mut self,
        now: Instant,
        seq: SeqNum,
        max_len: u32,
        reason: SendReason,
    ) -> Segment {
        let data_end = self.snd.data_end();
        // At most `max_len`: what `sendable` allowed within the peer's
        // window and cwnd (RFC 9293 §3.8.6.2.1), never the whole MSS.
        let len = data_end.since(seq).min(self.snd.mss).min(max_len);
        let end = seq + len;
        let mut flags = TcpFlags::ACK;
        if end == data_end {
            // RFC 9293 §3.9.1.2: PSH on the last segment of what was
            // written; the FIN goes with it when the sending side is shut.
            if len > 0 {
                flags |= TcpFlags::PSH;
            }
            if self.snd.fin_queued {
                flags |= TcpFlags::FIN;
            }
        }
        let mut seg = self.ack_segment(now, seq, reason);
        seg.flags = flags;
        seg.payload_len = len;
        let seq_end = seq + seg.seq_len();
        if seq == self.snd.nxt || seq_end > self.snd.nxt {
            self.snd.nxt = self.snd.nxt.max(seq_end);
        }
        self.snd.max = self.snd.max.max(seq_end);
        self.stats.bytes_out += u64::from(len);
        match reason {
            SendReason::Data if self.rtt_probe.is_none() && !self.opts.timestamps => {
                self.rtt_probe = Some((seq_end, now));
            }
            SendReason::Data => {}
            // Karn's rule: a retransmission invalidates the timing.
            _ => self.rtt_probe = None,
        }
        self.unacked_since.get_or_insert(now);
        if self.timers.get(Timer::Retransmit).is_none() {
            self.timers
                .set(Timer::Retransmit, Some(self.rto_deadline(now)));
        }
        self.last_send = now;
        seg
    }

    /// When the retransmission timer started now expires: one RTO away,
    /// but no later than the user timeout, so that the connection ends
    /// when the user timeout says rather than at the next backed-off RTO
    /// (RFC 5482 §2, RFC 9293 §3.8.3).
    pub(super) fn rto_deadline(&self, now: Instant) -> Instant {
        let rto = self.rtt.rto_from(now);
        match (self.config.user_timeout, self.unacked_since) {
            (Some(t), Some(since)) => rto.min((since + t).max(now)),
            _ => rto,
        }
    }

    /// An ACK-bearing segment at `seq` with no data; callers add data and
    /// flags. Whatever ACK was owed is now paid. (Inlined into each caller:
    /// the segment is then built where the caller returns it, not built
    /// here and copied out; a data segment costs 24 instructions less.)
    #[inline(always)]
    fn ack_segment(&mut self, now: Instant, seq: SeqNum, reason: SendReason) -> Segment {
        let (window, edge) = self.rcv.window_to_advertise(self.rcv_mss());
        self.rcv.adv = edge;
        // The options first: a pending D-SACK block goes out with this
        // ACK, and `ack_sent` then clears it.
        let options = self.segment_options(now, true);
        self.ack_sent();
        Segment {
            src_port: self.local_port,
            dst_port: self.remote_port,
            seq,
            ack: self.rcv.nxt,
            flags: TcpFlags::ACK,
            window,
            options,
            payload_len: 0,
            reason,
        }
    }

    /// Bookkeeping for any segment that carries our ACK.
    fn ack_sent(&mut self) {
        if self.rcv.dsack.take().is_some() && self.opts.sack && self.config.dsack {
            self.stats.dsacks_out = self.stats.dsacks_out.saturating_add(1);
        }
        self.pending.ack = None;
        self.timers.set(Timer::DelayedAck, None);
        self.rcv.unacked_bytes = 0;
        self.rcv.last_ack_sent = self.rcv.nxt;
    }

    /// The deadline from [`poll_timeout`](Self::poll_timeout) passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.take_expired(now) {
            match timer {
                Timer::TimeWait => self.finish(CloseReason::Normal, Cause::TimeWaitExpired),
                Timer::FinWait2 => self.finish(CloseReason::TimedOut, Cause::FinWait2Timeout),
                Timer::Retransmit => self.on_retransmit_timeout(now),
                Timer::Persist => self.pending.probe = true,
                Timer::DelayedAck => {
                    self.pending.ack.get_or_insert(SendReason::Ack);
                }
                Timer::Keepalive => self.on_keepalive_timeout(now),
                Timer::IdleRelease => {
                    self.rcv.release_if_empty();
                    if self.snd.buf.is_empty() {
                        self.snd.buf.release();
                        self.release_loss_state();
                    }
                }
                Timer::Recovery => self.on_recovery_timer(now),
            }
        }
    }

    /// RFC 6298 §5.4–5.7: the oldest outstanding segment was not
    /// acknowledged in time.
    fn on_retransmit_timeout(&mut self, now: Instant) {
        let opening = matches!(self.state, State::SynSent | State::SynReceived);
        if !opening && self.snd.una == self.snd.max {
            return;
        }
        self.retries += 1;
        self.stats.timeouts += 1;
        let limit = if opening {
            self.config.syn_retries
        } else {
            self.config.max_retransmissions
        };
        let user_timeout = match (self.config.user_timeout, self.unacked_since) {
            (Some(t), Some(since)) => now.saturating_since(since) >= t,
            _ => false,
        };
        if self.retries > limit || user_timeout {
            self.finish(CloseReason::TimedOut, Cause::Timeout);
            return;
        }
        // §5.5: back off; §5.6: restart the timer when the segment goes.
        self.rtt.backoff();
        self.rtt_probe = None;
        if !opening {
            self.cc.on_rto(now, self.snd.in_flight());
        }
        self.recovery.on_timeout(&self.snd);
        // With SACK, what is not SACKed is marked lost and resent in order
        // (recovery.rs); otherwise go back to the oldest unacknowledged
        // byte (or the SYN).
        if opening || !self.on_rto_sack() {
            self.snd.nxt = self.snd.una;
        }
    }

    fn on_keepalive_timeout(&mut self, now: Instant) {
        let Some(k) = self.config.keepalive else {
            return;
        };
        if self.snd.una != self.snd.max {
            // Data is outstanding: the retransmission timer watches it.
            self.timers.set(Timer::Keepalive, Some(now + k.interval));
            return;
        }
        if self.keepalive_probes >= k.probes {
            self.finish(CloseReason::TimedOut, Cause::Timeout);
            return;
        }
        self.keepalive_probes += 1;
        self.pending.keepalive = true;
        self.timers.set(Timer::Keepalive, Some(now + k.interval));
    }
}
