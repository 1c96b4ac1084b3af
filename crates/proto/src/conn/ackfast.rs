//! The ACK fast path of SACK-mode recovery: an ACK that finds no loss
//! recovery going on and brings no SACK information.
//!
//! Nearly every ACK of a transfer without loss is such an ACK, and every
//! ACK of a short request–response exchange is. For it, most of what
//! `on_ack_sack` (recovery.rs) does is tests that come out "nothing to do":
//! no SACK blocks to validate and mark, no D-SACK, no scoreboard to
//! advance, no probe whose fate to decide, no F-RTO or Eifel verdict, no
//! recovery to leave. [`Connection::ack_is_plain`] states those
//! conditions; [`Connection::on_ack_plain`] then does only the work that
//! is left, in the same order and with the same functions as the general
//! path, so that the connection ends in exactly the same state (RACK's
//! `xmit_ts`, `end_seq`, `fack`, `reord` and deadline, the log and its
//! counts, `dupacks`, the undo state, cwnd, the PTO and every timer).
//! `Config::ack_fast_path` turns it off, for the tests that check that
//! claim by running both paths side by side.

use wire::tcp::TcpRepr;
use wire::{Instant, SeqNum};

use super::congestion::Controller;
use super::recovery::{rack_deliver, CaState, Loss};
use super::sent::Rec;
use super::undo::Frto;
use super::Connection;

impl Connection {
    /// Whether `on_ack_plain` may take `seg` (an ACK in SACK mode, whose
    /// cumulative part `process_ack` has already applied) in place of the
    /// general path; `l` is the loss state. Each condition makes a part of
    /// the general path a no-op:
    ///
    /// - no SACK option: nothing to validate or mark, no D-SACK (RFC 2883
    ///   blocks ride only in it), so no RACK window growth (RFC 8985 §6.2
    ///   step 4), no D-SACK undo (RFC 3708) and no probe verdict by D-SACK;
    /// - an empty scoreboard: advancing it changes nothing; and no SACKed
    ///   record in the log (a record is marked SACKed only when the
    ///   scoreboard covers it, so this follows, but the per-record step
    ///   below relies on it): every record the ACK covers is newly
    ///   delivered, and RACK's reordering window does not drop to zero for
    ///   DupThresh SACKed segments (RFC 8985 §6.2 step 4);
    /// - the Open state: no Eifel check (RFC 3522 runs only in recovery),
    ///   no recovery to leave (RFC 6675 §5), no PRR;
    /// - F-RTO not running (RFC 5682 §3): no verdict on the ACK (it runs
    ///   only after a timeout, in the Loss state, so this follows from
    ///   the previous condition too);
    /// - no tail loss probe outstanding (TLP.end_seq unset, RFC 8985
    ///   §7.4.1): `TLP_process_ack` returns at once;
    /// - RACK on: loss detection is RACK's (RFC 8985 §6.2 step 5), run
    ///   here as in the general path; RFC 6675's DupThresh rule is left to
    ///   the general path.
    ///
    /// Marks LOST or RETRANS may be present: the fast path runs the same
    /// RACK detection and the same "Open with losses enters recovery"
    /// step as the general one, and leaves everything else about them to
    /// the functions both paths share.
    #[inline]
    pub(super) fn ack_is_plain(&self, seg: &TcpRepr<'_>, l: &Loss) -> bool {
        self.config.ack_fast_path
            && self.config.rack
            && seg.options.sack.is_empty()
            && l.state == CaState::Open
            && l.board.is_empty()
            && l.sent.counts().sacked_recs == 0
            && l.undo.frto == Frto::Off
            && l.tlp.end_seq.is_none()
    }

    /// `on_ack_sack` for an ACK `ack_is_plain` accepted: the same steps,
    /// less those the guard shows to be no-ops. `prior_una` is SND.UNA
    /// before the ACK, `sample` its RTT sample, `dupack` whether it was a
    /// duplicate ACK (RFC 5681 §2).
    pub(super) fn on_ack_plain(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        prior_una: SeqNum,
        sample: Option<u64>,
        dupack: bool,
    ) {
        self.feed_rtt();
        let una = self.snd.una;
        let min_rtt = self.rtt.min_rtt_nanos();
        let srtt = self.rtt.srtt_nanos();
        let opts = &self.opts;
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        // The cumulatively acknowledged records: none is SACKed (the
        // guard), so each is newly delivered (RFC 6937 DeliveredData) and
        // goes through RACK in sequence order (RFC 8985 §6.2 steps 2–3).
        let mut delivered = 0u32;
        {
            let Loss { sent, rack, .. } = l;
            let tsecr = opts.echo_of(seg);
            sent.acknowledge(una, |r: &Rec| {
                delivered = delivered.saturating_add(r.len());
                rack_deliver(rack, r, now, min_rtt, tsecr, opts);
            });
        }
        let advanced = una > prior_una;
        l.count_dupack(dupack, advanced);
        // RACK loss detection, outside recovery and with nothing SACKed.
        l.rack_detect(now, false, min_rtt, srtt);
        if l.sent.counts().lost > 0 {
            // A loss in the Open state starts fast recovery (RFC 6675 §5).
            self.after_loss_marked(now, delivered);
        } else if delivered > 0 && advanced {
            // The window grows on an ACK that moved SND.UNA (RFC 5681 §3.1).
            let pipe = l.pipe(&self.snd);
            self.cc.on_ack(now, delivered, sample, pipe);
        }
        self.arm_pto(now);
        self.sync_recovery_timer();
    }
}
