//! Header prediction (Van Jacobson's fast path, as Linux's
//! `tcp_rcv_established`): on an ESTABLISHED connection, the next in-order
//! data segment that acknowledges nothing new and carries nothing unusual
//! skips the full SEGMENT ARRIVES checks of RFC 9293 §3.10.7.4.
//!
//! RFC 9293 prescribes the outcome of each check, not the order of the
//! work: a segment that passes the predicate below would pass every check
//! of `synchronized_input` in the same way, and this path does exactly the
//! state changes that path would do — nothing is skipped that could have
//! an effect. Everything else (out of order, SYN, FIN, RST, URG, a new
//! ACK, SACK blocks, a window change, a timestamp PAWS would look at
//! twice, a full window) goes the full way.

use wire::tcp::{TcpFlags, TcpRepr};
use wire::Instant;

use super::congestion::Controller;
use super::state::State;
use super::Connection;
use crate::ring::Staged;

impl Connection {
    /// Takes `seg` by the fast path if it is the predicted one; returns
    /// whether it did (if not, nothing was changed). Its data may have been
    /// `staged` in the receive buffer already (`fused`): then it is
    /// committed there instead of copied, and the prediction is not made
    /// again — data is staged only for a predicted segment, and staging
    /// changes nothing the prediction looks at.
    pub(super) fn predicted_input(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        staged: Option<Staged>,
    ) -> bool {
        debug_assert!(staged.is_none() || self.is_predicted(seg));
        if staged.is_none() && !self.is_predicted(seg) {
            return false;
        }
        self.stats.fast_path_in += 1;
        // From here on, the same steps as `synchronized_input` takes for
        // this segment, in the same order.
        // RFC 7323 §4.3: TS.Recent (PAWS passed: `is_predicted`).
        self.opts
            .update_ts_recent(seg.options.timestamps, seg.seq, self.rcv.last_ack_sent, now);
        self.last_recv = now;
        self.keepalive_probes = 0;
        self.arm_keepalive(now);
        // Fifth check: SEG.ACK = SND.UNA acknowledges nothing, and a
        // segment with data is never a duplicate ACK (RFC 5681 §2), so of
        // `process_ack` only the counter and the window update remain
        // (and with SACK, `on_ack_sack` returns at once: no loss state).
        self.stats.max_cwnd = self.stats.max_cwnd.max(self.cc.cwnd());
        // The window update: SEG.ACK = SND.UNA is acceptable, and the
        // window, scaled, is SND.WND already (`is_predicted`).
        self.take_window(seg, self.snd.wnd);
        // Seventh: the text, wholly inside the window (no trimming).
        match staged {
            Some(staged) => self.take_staged_data(now, seg, staged),
            None => self.take_data(now, seg.seq, seg.payload),
        }
        // Eighth: no FIN, and none seen before (`rcv.fin_seq` is empty),
        // so `check_fin` has nothing to take.
        true
    }

    /// The prediction: the segment every step of §3.10.7.4 would accept
    /// without doing anything but taking its data and its timestamp.
    #[inline(always)]
    pub(super) fn is_predicted(&self, seg: &TcpRepr<'_>) -> bool {
        let len = seg.payload.len();
        // ACK, maybe PSH; no SYN, FIN, RST, URG, nor ECN bits.
        let flags_ok = seg.flags & !TcpFlags::PSH == TcpFlags::ACK;
        // RFC 7323 §5.3 R1: with timestamps in use, the segment carries
        // one that PAWS accepts without touching TS.Recent; without them,
        // any timestamp option is ignored by both paths.
        let ts_ok = match (self.opts.timestamps, seg.options.timestamps) {
            (false, _) => true,
            (true, Some(ts)) => !self.opts.ts_older_than_recent(ts.tsval),
            (true, None) => false,
        };
        self.state == State::Established
            && flags_ok
            && ts_ok
            && len > 0
            // In order, and wholly inside the window we advertised: the
            // first check accepts it and trimming keeps all of it.
            && seg.seq == self.rcv.nxt
            && len as u64 <= u64::from(self.rcv.window())
            // Acknowledges nothing new (RFC 5961 §5.2's range holds).
            && seg.ack == self.snd.una
            // The peer's window unchanged (as Linux predicts it too).
            && u32::from(seg.window) << self.opts.snd_wscale == self.snd.wnd
            && seg.options.sack.is_empty()
            // With SACK and loss state, every ACK feeds RACK and the
            // scoreboard (recovery.rs): the full path.
            && !(self.sack_mode() && self.loss.is_some())
            && self.rcv.fin_seq.is_none()
            // RFC 1122 §4.2.2.13: data after CLOSE resets (full path).
            && !self.user_closed
    }
}

#[cfg(test)]
mod tests {
    //! Each case runs one segment through two identical connections: one
    //! by `handle_segment` (which may predict), one by the full
    //! `synchronized_input` alone. The fast path must be taken exactly when
    //! expected, and leave the connection in exactly the same state.

    use alloc::format;
    use alloc::vec::Vec;
    use core::time::Duration;

    use wire::tcp::{SackBlock, SackBlocks, TcpOptions, Timestamps};
    use wire::SeqNum;

    use super::*;
    use crate::conn::Config;

    const T0: Instant = Instant::from_secs(100);
    const ISS: u32 = 1000;
    const IRS: u32 = 5000;
    /// The peer's window shift, and its window field in the scripts.
    const PEER_WSCALE: u8 = 7;
    const WINDOW: u16 = 1000;
    /// The peer's timestamp clock.
    const TSVAL: u32 = 77;

    fn config(options: bool) -> Config {
        Config {
            timestamps: options,
            window_scaling: options,
            sack: options,
            recv_buffer: 64 * 1024,
            ..Config::default()
        }
    }

    /// A segment from the peer: ACK of our SYN, in order, with `data`.
    fn seg<'a>(c: &Connection, data: &'a [u8]) -> TcpRepr<'a> {
        TcpRepr {
            src_port: 80,
            dst_port: 40000,
            seq: c.rcv.nxt,
            ack: c.snd.una,
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window: if c.opts.snd_wscale > 0 { WINDOW } else { 65535 },
            urgent: 0,
            options: TcpOptions {
                timestamps: c.opts.timestamps.then_some(Timestamps {
                    tsval: TSVAL,
                    tsecr: 1,
                }),
                ..Default::default()
            },
            payload: data,
        }
    }

    /// An ESTABLISHED client; with `options`, timestamps, SACK and window
    /// scaling are in use. `sent` bytes of ours are in flight.
    fn established(options: bool, sent: usize) -> Connection {
        let mut c = Connection::connect(config(options), 40000, 80, SeqNum(ISS), T0);
        let syn = c.poll_transmit(T0).unwrap();
        let mut synack = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            seq: SeqNum(IRS),
            ack: SeqNum(ISS + 1),
            flags: TcpFlags::SYN | TcpFlags::ACK,
            window: 65535,
            urgent: 0,
            options: TcpOptions {
                mss: Some(1460),
                ..Default::default()
            },
            payload: &[],
        };
        if options {
            synack.options.window_scale = Some(PEER_WSCALE);
            synack.options.sack_permitted = true;
            synack.options.timestamps = Some(Timestamps {
                tsval: TSVAL - 1,
                tsecr: syn.options.timestamps.unwrap().tsval,
            });
        }
        c.handle_segment(T0, &synack);
        while c.poll_transmit(T0).is_some() {}
        assert_eq!(c.state, State::Established);
        if options {
            // The window the scripts' segments carry, as the peer's.
            let window = seg(&c, &[]);
            c.handle_segment(T0, &TcpRepr { ..window });
        }
        if sent > 0 {
            c.send(&alloc::vec![1u8; sent]).unwrap();
            while c.poll_transmit(T0).is_some() {}
        }
        while c.poll_event().is_some() {}
        c
    }

    /// Runs `seg` (built for and adjusted by `edit`) through both paths;
    /// returns whether the fast path took it.
    fn run(
        options: bool,
        sent: usize,
        data: &[u8],
        edit: impl Fn(&mut Connection, &mut TcpRepr<'_>),
    ) -> bool {
        let now = T0 + Duration::from_millis(5);
        let mut fast = established(options, sent);
        let mut full = established(options, sent);
        let mut s = seg(&fast, data);
        edit(&mut fast, &mut s);
        let mut s2 = seg(&full, data);
        edit(&mut full, &mut s2);
        assert_eq!(s, s2);
        let before = fast.stats.fast_path_in;
        fast.handle_segment(now, &s);
        let taken = fast.stats.fast_path_in > before;
        fast.stats.fast_path_in = before;
        full.stats.segs_in += 1;
        full.synchronized_input(now, &s);
        assert_eq!(format!("{fast:?}"), format!("{full:?}"), "same state");
        // And the same segments and events out.
        let out = |c: &mut Connection| {
            let mut v = Vec::new();
            while let Some(seg) = c.poll_transmit(now) {
                v.push(format!("{seg:?}"));
            }
            while let Some(e) = c.poll_event() {
                v.push(format!("{e:?}"));
            }
            v
        };
        assert_eq!(out(&mut fast), out(&mut full));
        taken
    }

    fn none(_: &mut Connection, _: &mut TcpRepr<'_>) {}

    #[test]
    fn in_order_data_is_predicted_and_matches_the_full_path() {
        // (With SACK and data in flight, see `sack_loss_state_…`.)
        for (options, sent) in [(false, 0), (false, 3000), (true, 0)] {
            assert!(run(options, sent, &[7; 1000], none), "{options} {sent}");
            // The second of two: it arrives with an ACK owed already.
            assert!(run(options, sent, &[7; 1448], |c, s| {
                c.take_data(T0, c.rcv.nxt, &[1; 1448]);
                s.seq = c.rcv.nxt;
            }));
        }
    }

    #[test]
    fn data_filling_a_hole_is_predicted_and_acked_at_once() {
        // Out-of-order data is held: the in-order segment takes it along
        // (RecvState::accept) and asks for an immediate ACK.
        assert!(run(false, 0, &[7; 100], |c, _| {
            let later = c.rcv.nxt + 100;
            c.take_data(T0, later, &[8; 100]);
            c.pending.ack = None;
        }));
    }

    #[test]
    fn unusual_segments_take_the_full_path() {
        type Edit = fn(&mut Connection, &mut TcpRepr<'_>);
        let cases: [(&str, Edit); 14] = [
            ("out of order", |_, s| s.seq += 10),
            ("old data", |_, s| s.seq -= 10),
            ("window change", |_, s| s.window -= 1),
            ("FIN", |_, s| s.flags |= TcpFlags::FIN),
            ("URG", |_, s| {
                s.flags |= TcpFlags::URG;
                s.urgent = 1;
            }),
            ("RST", |_, s| s.flags |= TcpFlags::RST),
            ("SYN", |_, s| s.flags |= TcpFlags::SYN),
            ("no ACK", |_, s| s.flags = TcpFlags::PSH),
            ("ECE", |_, s| s.flags |= TcpFlags::ECE),
            ("new ACK", |_, s| s.ack += 1000),
            ("ACK beyond SND.MAX", |_, s| s.ack += 100_000),
            ("SACK", |c, s| {
                let start = c.snd.una + 1000;
                s.options.sack = SackBlocks::from_slice(&[SackBlock {
                    start,
                    end: start + 100,
                }])
                .unwrap();
            }),
            ("PAWS", |_, s| {
                s.options.timestamps = Some(Timestamps {
                    tsval: TSVAL - 10,
                    tsecr: 1,
                });
            }),
            ("no timestamp", |_, s| s.options.timestamps = None),
        ];
        for (name, edit) in cases {
            assert!(!run(true, 3000, &[7; 500], edit), "{name}");
        }
    }

    #[test]
    fn segments_beyond_the_plain_case_take_the_full_path() {
        assert!(!run(true, 0, &[], none), "a pure ACK");
        assert!(
            !run(true, 0, &[7; 500], |c, _| c.rcv.adv = c.rcv.nxt + 499),
            "more than the window"
        );
        assert!(
            !run(true, 0, &[7; 500], |c, _| c.rcv.fin_seq =
                Some(c.rcv.nxt + 600)),
            "a FIN seen ahead"
        );
        assert!(
            !run(true, 0, &[7; 500], |c, _| c.user_closed = true),
            "closed by the user"
        );
        assert!(
            !run(true, 0, &[7; 500], |c, _| c.state = State::CloseWait),
            "not ESTABLISHED"
        );
    }

    #[test]
    fn sack_loss_state_takes_the_full_path() {
        // Data in flight with SACK: RACK and the scoreboard hear of every
        // ACK, even one that acknowledges nothing.
        assert!(!run(true, 3000, &[7; 500], |c, _| assert!(c
            .loss
            .is_some())));
        // Without SACK there is no such state: predicted.
        assert!(run(false, 3000, &[7; 500], none));
    }
}
