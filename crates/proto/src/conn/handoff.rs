//! Moving a connection between its full form and a compact one: a
//! passive connection recreated from a SYN answered without state (a SYN
//! cookie, RFC 4987 §3.6), and what TIME-WAIT needs once the full TCB is
//! freed.

use wire::tcp::{TcpFlags, TcpOptions, TcpRepr};
use wire::{Instant, SeqNum};

use super::state::State;
use super::timers::Timer;
use super::{Config, Connection};

/// What a SYN cookie remembered of the SYN it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynInfo {
    /// The peer's port.
    pub remote_port: u16,
    /// The peer's initial sequence number.
    pub irs: SeqNum,
    /// The options the SYN carried (as far as the cookie could keep them).
    pub options: TcpOptions,
}

impl Connection {
    /// A connection in SYN-RECEIVED as if it had received the SYN that
    /// `syn` describes and sent its SYN-ACK with sequence number `iss`.
    /// Feed it the ACK that returned the cookie to complete the handshake.
    pub fn from_syn_cookie(
        config: impl Into<alloc::sync::Arc<Config>>,
        local_port: u16,
        iss: SeqNum,
        syn: &SynInfo,
        now: Instant,
    ) -> Connection {
        let mut c = Connection::listen(config, local_port, iss, now);
        let repr = TcpRepr {
            src_port: syn.remote_port,
            dst_port: local_port,
            seq: syn.irs,
            ack: SeqNum(0),
            flags: TcpFlags::SYN,
            window: 0,
            urgent: 0,
            options: syn.options,
            payload: &[],
        };
        c.handle_segment(now, &repr);
        // The SYN-ACK already went out, statelessly.
        c.snd.nxt = iss + 1;
        c.snd.max = iss + 1;
        let (_, edge) = c.rcv.window_to_advertise(c.rcv_mss());
        c.rcv.adv = edge;
        c
    }
}

/// What a connection in TIME-WAIT must remember to answer the peer: the
/// endpoint keeps this instead of the whole connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWaitInfo {
    /// SND.NXT (just past our FIN).
    pub snd_nxt: SeqNum,
    /// RCV.NXT (just past the peer's FIN).
    pub rcv_nxt: SeqNum,
    /// The window field to put in ACKs.
    pub window: u16,
    /// TS.Recent, when timestamps are in use.
    pub ts_recent: Option<u32>,
    /// Our timestamp clock offset.
    pub ts_offset: u32,
    /// When the 2·MSL wait ends.
    pub expires: Instant,
}

impl Connection {
    /// The compact form of a connection in TIME-WAIT; `None` in any other
    /// state.
    pub fn time_wait_info(&self) -> Option<TimeWaitInfo> {
        if self.state != State::TimeWait {
            return None;
        }
        Some(TimeWaitInfo {
            snd_nxt: self.snd.nxt,
            rcv_nxt: self.rcv.nxt,
            window: self.rcv.window_to_advertise(self.rcv_mss()).0,
            ts_recent: self.opts.timestamps.then_some(self.opts.ts_recent),
            ts_offset: self.opts.ts_offset,
            expires: self.timers.get(Timer::TimeWait)?,
        })
    }
}
