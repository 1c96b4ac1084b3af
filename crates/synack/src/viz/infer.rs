//! Each side's state changes, inferred from the segments of a connection
//! the way a student would follow RFC 9293's state diagram: SYN, SYN-ACK,
//! ACK, FIN and RST move the states; a capture carries nothing else.
//!
//! A side changes state when it sends a segment (SYN, FIN, RST) or when
//! one reaches it; lost segments change nothing at the receiver.

use proto::conn::{Cause, State};
use wire::tcp::TcpFlags;
use wire::{Instant, SeqNum};

use super::capture::{Mark, Packet};
use super::conns::Conversation;

/// A side of a two-column diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The opening side, drawn on the left.
    Left,
    /// The other side.
    Right,
}

impl Side {
    /// 0 for left, 1 for right.
    pub fn index(self) -> usize {
        match self {
            Side::Left => 0,
            Side::Right => 1,
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
}

/// One side's state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    /// Whose.
    pub side: Side,
    /// When.
    pub at: Instant,
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// Why, when known.
    pub cause: Option<Cause>,
    /// The packet (index in the conversation) whose sending or arrival
    /// made it, when it is one.
    pub packet: Option<usize>,
}

/// Both sides' states over a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// The state of each side before the first packet.
    pub initial: [State; 2],
    /// The changes, in time order.
    pub changes: Vec<StateChange>,
}

impl Timeline {
    /// The state of `side` after every change up to and including `at`.
    pub fn state_at(&self, side: Side, at: Instant) -> State {
        self.changes
            .iter()
            .rfind(|c| c.side == side && c.at <= at)
            .map_or(self.initial[side.index()], |c| c.to)
    }
}

/// What the inference tracks of one side.
#[derive(Clone, Copy)]
struct Tcb {
    state: State,
    passive: bool,
    iss: Option<SeqNum>,
    /// The sequence number of our FIN, once sent.
    fin: Option<SeqNum>,
    /// A cookie SYN-ACK went out: no state was kept.
    cookie: bool,
}

impl Tcb {
    fn acks_syn(&self, ack: SeqNum) -> bool {
        self.iss.is_some_and(|iss| ack > iss)
    }
    fn acks_fin(&self, ack: SeqNum) -> bool {
        self.fin.is_some_and(|fin| ack > fin)
    }
}

/// Infers both sides' states from the packets of `conv`.
pub fn infer(conv: &Conversation) -> Timeline {
    let initial = initial_states(conv);
    let mut tcb = initial.map(|state| Tcb {
        state,
        passive: state == State::Listen,
        iss: None,
        fin: None,
        cookie: false,
    });
    let mut changes = Vec::new();
    for (i, p) in conv.packets.iter().enumerate() {
        let s = if conv.is_rightward(p) {
            Side::Left
        } else {
            Side::Right
        };
        let r = s.other();
        let mut tx = Emit {
            out: &mut changes,
            side: s,
            at: p.sent,
            packet: i,
        };
        if !p.has(Mark::OldDuplicate) {
            on_send(&mut tcb[s.index()], p, &mut tx);
        }
        if p.has(Mark::SynCookie) {
            // Nothing is stored for a cookie: the server is back in (or
            // still in) LISTEN.
            let t = &mut tcb[s.index()];
            if t.state == State::SynReceived {
                if let Some(pos) = changes
                    .iter()
                    .rposition(|c| c.side == s && c.to == State::SynReceived)
                {
                    changes.remove(pos);
                }
                t.state = State::Listen;
            }
            t.cookie = true;
            t.iss = Some(p.seg.seq);
        }
        if let Some(at) = p.effect_time() {
            let mut rx = Emit {
                out: &mut changes,
                side: r,
                at,
                packet: i,
            };
            on_receive(&mut tcb[r.index()], p, &mut rx);
        }
    }
    changes.sort_by_key(|c| c.at);
    Timeline { initial, changes }
}

/// CLOSED for the opener; LISTEN for the other side unless it refused the
/// SYN with a RST (then CLOSED); both CLOSED for a simultaneous open; both
/// ESTABLISHED when the capture began after the handshake.
fn initial_states(conv: &Conversation) -> [State; 2] {
    let syn = |p: &Packet| p.seg.has(TcpFlags::SYN) && !p.has(Mark::OldDuplicate);
    if !conv.packets.iter().any(|p| p.seg.has(TcpFlags::SYN)) {
        return [State::Established; 2];
    }
    let right_opens = conv
        .packets
        .iter()
        .any(|p| syn(p) && !p.seg.has(TcpFlags::ACK) && !conv.is_rightward(p));
    if right_opens {
        return [State::Closed, State::Closed];
    }
    let first_answer = conv
        .packets
        .iter()
        .find(|p| !conv.is_rightward(p))
        .map(|p| p.seg.flags);
    let right = match first_answer {
        Some(f) if f.contains(TcpFlags::RST) && !f.contains(TcpFlags::SYN) => State::Closed,
        _ => State::Listen,
    };
    [State::Closed, right]
}

/// Where the changes of one side at one packet go.
struct Emit<'a> {
    out: &'a mut Vec<StateChange>,
    side: Side,
    at: Instant,
    packet: usize,
}

impl Emit<'_> {
    fn set(&mut self, t: &mut Tcb, to: State, cause: Cause) {
        if t.state != to {
            self.out.push(StateChange {
                side: self.side,
                at: self.at,
                from: t.state,
                to,
                cause: Some(cause),
                packet: Some(self.packet),
            });
            t.state = to;
        }
    }
}

/// A side sends `p`.
fn on_send(t: &mut Tcb, p: &Packet, e: &mut Emit<'_>) {
    let f = p.seg.flags;
    if f.contains(TcpFlags::RST) {
        if t.state != State::Listen {
            e.set(t, State::Closed, Cause::Abort);
        }
        return;
    }
    if f.contains(TcpFlags::SYN) && !f.contains(TcpFlags::ACK) && t.state == State::Closed {
        t.iss = Some(p.seg.seq);
        e.set(t, State::SynSent, Cause::ActiveOpen);
    }
    if f.contains(TcpFlags::SYN) && t.iss.is_none() {
        t.iss = Some(p.seg.seq);
    }
    if f.contains(TcpFlags::FIN) {
        t.fin = Some(p.seg.seq + p.seg.len);
        match t.state {
            State::Established | State::SynReceived => e.set(t, State::FinWait1, Cause::Close),
            State::CloseWait => e.set(t, State::LastAck, Cause::Close),
            _ => {}
        }
    }
}

/// `p` reaches a side.
fn on_receive(t: &mut Tcb, p: &Packet, e: &mut Emit<'_>) {
    let f = p.seg.flags;
    let ack = f.contains(TcpFlags::ACK).then_some(p.seg.ack);
    if f.contains(TcpFlags::RST) {
        match t.state {
            State::SynSent if ack.is_some_and(|a| t.acks_syn(a)) => {
                e.set(t, State::Closed, Cause::RstReceived)
            }
            State::SynReceived if t.passive => e.set(t, State::Listen, Cause::RstReceived),
            State::Listen | State::Closed | State::SynSent | State::TimeWait => {}
            _ => e.set(t, State::Closed, Cause::RstReceived),
        }
        return;
    }
    if f.contains(TcpFlags::SYN) {
        match t.state {
            State::Listen if ack.is_none() => {
                e.set(t, State::SynReceived, Cause::SynReceived);
                return;
            }
            State::SynSent if ack.is_some_and(|a| t.acks_syn(a)) => {
                e.set(t, State::Established, Cause::SynAckReceived);
                return;
            }
            State::SynSent if ack.is_none() => {
                e.set(t, State::SynReceived, Cause::SynReceived);
                return;
            }
            _ => {}
        }
    }
    let Some(ack) = ack else { return };
    if t.state == State::SynReceived && t.acks_syn(ack) {
        e.set(t, State::Established, Cause::AckReceived);
    }
    if t.state == State::Listen && t.cookie && t.acks_syn(ack) {
        e.set(t, State::Established, Cause::AckReceived);
    }
    let fin = f.contains(TcpFlags::FIN);
    match t.state {
        State::Established if fin => e.set(t, State::CloseWait, Cause::FinReceived),
        State::FinWait1 if t.acks_fin(ack) && fin => {
            e.set(t, State::TimeWait, Cause::FinAckReceived)
        }
        State::FinWait1 if t.acks_fin(ack) => e.set(t, State::FinWait2, Cause::AckReceived),
        State::FinWait1 if fin => e.set(t, State::Closing, Cause::FinReceived),
        State::FinWait2 if fin => e.set(t, State::TimeWait, Cause::FinReceived),
        State::Closing if t.acks_fin(ack) => e.set(t, State::TimeWait, Cause::AckReceived),
        State::LastAck if t.acks_fin(ack) => e.set(t, State::Closed, Cause::AckReceived),
        _ => {}
    }
}
