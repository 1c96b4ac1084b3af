//! Shared setup for the state × event scripts of RFC 9293 §3.10: a
//! connection brought into each of the eleven states with known sequence
//! numbers, and assertions on the exact segments that come out.
//!
//! With [`plain`] and the harness numbers, our ISS is `X` and the peer's is
//! `Y`; the table in [`nxt`] gives SND.NXT and RCV.NXT in every state.

#![allow(dead_code)]

use proto::conn::{Cause, Event, SendReason, State};
use wire::tcp::TcpFlags;

use crate::harness::*;

pub const SYN: TcpFlags = TcpFlags::SYN;
pub const ACK: TcpFlags = TcpFlags::ACK;
pub const FIN: TcpFlags = TcpFlags::FIN;
pub const RST: TcpFlags = TcpFlags::RST;
pub const PSH: TcpFlags = TcpFlags::PSH;

/// The window field of every ACK from a `plain()` connection whose receive
/// buffer (64 KiB) is empty: the largest unscaled window.
pub const WND: u16 = 65535;

/// How the application closed before reaching a closing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// `close()`: both directions; the application reads no more.
    Close,
    /// `shutdown()`: only the sending side (half-close).
    Shutdown,
}

/// SND.NXT and RCV.NXT of a connection brought to `state` by [`reach`].
pub fn nxt(state: State) -> (u32, u32) {
    match state {
        State::SynSent => (X + 1, 0),
        State::SynReceived | State::Established => (X + 1, Y + 1),
        State::FinWait1 | State::FinWait2 => (X + 2, Y + 1),
        State::CloseWait => (X + 1, Y + 2),
        State::Closing | State::LastAck | State::TimeWait => (X + 2, Y + 2),
        State::Closed | State::Listen => (X + 1, Y + 1),
    }
}

/// A `plain()` connection in `state`, every segment so far polled and every
/// event forgotten, the clock at `T0`:
///
/// - CLOSED: an established connection the application aborted;
/// - LISTEN: a passive open;
/// - SYN-SENT: an active open whose SYN (seq X) went out;
/// - SYN-RECEIVED: a passive open that got a SYN (seq Y) and sent its
///   SYN-ACK (seq X, ack Y+1);
/// - ESTABLISHED: the active side after SYN, SYN-ACK, ACK;
/// - FIN-WAIT-1: ESTABLISHED, then `close()`; our FIN (seq X+1) went out;
/// - FIN-WAIT-2: FIN-WAIT-1, then the peer acknowledged our FIN;
/// - CLOSE-WAIT: ESTABLISHED, then the peer's FIN (seq Y+1) arrived and
///   was acknowledged;
/// - CLOSING: FIN-WAIT-1, then the peer's FIN crossed ours;
/// - LAST-ACK: CLOSE-WAIT, then `close()`; our FIN (seq X+1) went out;
/// - TIME-WAIT: FIN-WAIT-2, then the peer's FIN arrived and was
///   acknowledged.
pub fn reach(state: State) -> Tcb {
    reach_with(state, How::Close)
}

/// Like [`reach`], choosing how the application closed (for FIN-WAIT-1,
/// FIN-WAIT-2, CLOSING and TIME-WAIT).
pub fn reach_with(state: State, how: How) -> Tcb {
    let mut t = match state {
        State::Closed => {
            let mut t = Tcb::established(plain());
            t.conn.abort();
            let rst = t.out1();
            assert_seg(&rst, RST, X + 1, 0);
            t
        }
        State::Listen => Tcb::listener(plain()),
        State::SynSent => {
            let mut t = Tcb::client(plain());
            let syn = t.out1();
            assert_seg(&syn, SYN, X, 0);
            t
        }
        State::SynReceived => {
            let mut t = Tcb::listener(plain());
            t.input(seg(Y).syn().mss(1460));
            let synack = t.out1();
            assert_seg(&synack, SYN | ACK, X, Y + 1);
            t
        }
        State::Established => Tcb::established(plain()),
        State::FinWait1 => {
            let mut t = Tcb::established(plain());
            app_close(&mut t, how);
            let fin = t.out1();
            assert_seg(&fin, FIN | ACK, X + 1, Y + 1);
            t
        }
        State::FinWait2 => {
            let mut t = reach_with(State::FinWait1, how);
            t.input(seg(Y + 1).ack(X + 2));
            t.none();
            t
        }
        State::CloseWait => {
            let mut t = Tcb::established(plain());
            t.input(seg(Y + 1).fin().ack(X + 1));
            let ack = t.out1();
            assert_seg(&ack, ACK, X + 1, Y + 2);
            t
        }
        State::Closing => {
            let mut t = reach_with(State::FinWait1, how);
            t.input(seg(Y + 1).fin().ack(X + 1));
            let ack = t.out1();
            assert_seg(&ack, ACK, X + 2, Y + 2);
            t
        }
        State::LastAck => {
            let mut t = reach(State::CloseWait);
            t.conn.close(t.now);
            let fin = t.out1();
            assert_seg(&fin, FIN | ACK, X + 1, Y + 2);
            t
        }
        State::TimeWait => {
            let mut t = reach_with(State::FinWait2, how);
            t.input(seg(Y + 1).fin().ack(X + 2));
            let ack = t.out1();
            assert_seg(&ack, ACK, X + 2, Y + 2);
            t
        }
    };
    assert_eq!(t.state(), state, "setup did not reach {state}");
    t.drain_events();
    t.events.clear();
    t
}

/// The application closes in the way asked.
pub fn app_close(t: &mut Tcb, how: How) {
    match how {
        How::Close => t.conn.close(t.now),
        How::Shutdown => t.conn.shutdown(t.now).unwrap(),
    }
}

/// Asserts a segment's control bits, sequence number and acknowledgment
/// number, all exactly.
#[track_caller]
pub fn assert_seg(s: &Sent, flags: TcpFlags, seq: u32, ack: u32) {
    assert_eq!(
        (s.flags, s.seq, s.ack),
        (flags, seq, ack),
        "expected {} seq {seq} ack {ack}, got {s:#?}",
        flags.tcpdump()
    );
}

/// Exactly one segment, a pure ACK `<SEQ=seq><ACK=ack><CTL=ACK>` with the
/// full window, sent for `reason`.
#[track_caller]
pub fn expect_ack(t: &mut Tcb, seq: u32, ack: u32, reason: SendReason) -> Sent {
    let s = t.out1();
    assert_seg(&s, ACK, seq, ack);
    assert_eq!(s.len(), 0, "an ACK carries no data");
    assert_eq!(s.reason, reason, "reason of {s:#?}");
    s
}

/// Exactly one segment, a RST `<SEQ=seq><ACK=ack><CTL=flags>` with no
/// data.
#[track_caller]
pub fn expect_rst(t: &mut Tcb, flags: TcpFlags, seq: u32, ack: u32) {
    let s = t.out1();
    assert_seg(&s, flags, seq, ack);
    assert_eq!(s.len(), 0);
    assert_eq!(s.reason, SendReason::Rst);
}

/// The causes of the state changes seen so far, in order.
pub fn causes(t: &Tcb) -> Vec<Cause> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::StateChanged { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect()
}

/// Whether an event was seen.
pub fn saw(t: &Tcb, event: Event) -> bool {
    t.events.contains(&event)
}

/// The time from now to the next deadline.
pub fn next_deadline(t: &Tcb) -> Option<std::time::Duration> {
    t.conn.poll_timeout().map(|d| d - t.now)
}

/// Every call with a buffer: what `recv` returns now.
pub fn recv_result(t: &mut Tcb) -> Result<usize, proto::conn::Error> {
    let mut buf = [0u8; 64];
    t.conn.recv(&mut buf)
}
