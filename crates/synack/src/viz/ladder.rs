//! The ladder diagram: one column per host, one arrow per segment, each
//! side's state changes where they happen, long runs of data folded into
//! gaps. Built from a [`Conversation`] and a [`Timeline`]; drawn by
//! [`text`](super::text) and [`svg`](super::svg).

use std::net::SocketAddr;
use std::time::Duration;

use proto::conn::{Cause, State};
use wire::tcp::{SackBlock, TcpFlags, TcpOptions};
use wire::{Instant, SeqNum};

use super::capture::{Mark, Packet};
use super::conns::Conversation;
use super::infer::{Side, StateChange, Timeline};

/// One host of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its address and port.
    pub addr: SocketAddr,
    /// What to call it ("client", "server"), possibly empty.
    pub name: String,
    /// Its state before the first row.
    pub initial: State,
}

/// A segment drawn as an arrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrow {
    /// The packet's index in its conversation.
    pub index: usize,
    /// The side that sent it.
    pub from: Side,
    /// When it was sent (or captured).
    pub sent: Instant,
    /// When it arrived, when known.
    pub arrived: Option<Instant>,
    /// Whether it was lost.
    pub lost: bool,
    /// The control bits.
    pub flags: TcpFlags,
    /// The sequence number, relative unless the ladder is absolute.
    pub seq: u32,
    /// The acknowledgment number (with ACK), relative unless absolute.
    pub ack: Option<u32>,
    /// The window in bytes (scaled when the scale is known).
    pub window: u32,
    /// Data bytes.
    pub len: u32,
    /// The options, SACK blocks relative like `ack`.
    pub options: TcpOptions,
    /// Remarks, in a fixed order.
    pub marks: Vec<Mark>,
    /// The new state of each side on this row, if it changed.
    pub states: [Option<State>; 2],
}

/// A state change that no drawn segment caused (a timer, the application).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRow {
    /// Whose.
    pub side: Side,
    /// When.
    pub at: Instant,
    /// From.
    pub from: State,
    /// To.
    pub to: State,
    /// Why, when known.
    pub cause: Option<Cause>,
    /// How long the side stayed in `from`, when known.
    pub after: Option<Duration>,
}

/// Segments folded into one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gap {
    /// The first folded segment's time.
    pub from: Instant,
    /// The last folded segment's time.
    pub to: Instant,
    /// Segments each way (left to right, right to left).
    pub segments: [u64; 2],
    /// Data bytes each way.
    pub bytes: [u64; 2],
    /// Retransmitted segments among them.
    pub retransmissions: u64,
    /// Lost segments among them.
    pub lost: u64,
    /// Each side's state after the gap, if it changed during it.
    pub states: [Option<State>; 2],
}

/// One row of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A segment.
    Arrow(Arrow),
    /// A state change of its own.
    State(StateRow),
    /// Folded segments.
    Gap(Gap),
}

/// The part of a connection's life a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The opening handshake, until both sides are synchronized.
    Open,
    /// Between the handshake and the first FIN or RST.
    Transfer,
    /// From the first FIN or RST on.
    Close,
}

/// The whole diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    /// Left and right hosts.
    pub peers: [Peer; 2],
    /// The rows, top to bottom.
    pub rows: Vec<Row>,
    /// The phase of each row.
    pub phases: Vec<Phase>,
    /// Sequence numbers are absolute (else relative to each ISN).
    pub absolute: bool,
}

impl Ladder {
    /// The rows of some phases only, as a ladder of their own whose
    /// initial states are the states where the first kept row begins.
    pub fn part(&self, keep: &[Phase]) -> Ladder {
        let mut states = [self.peers[0].initial, self.peers[1].initial];
        let mut started = false;
        let mut out = Ladder {
            peers: self.peers.clone(),
            rows: Vec::new(),
            phases: Vec::new(),
            absolute: self.absolute,
        };
        for (row, phase) in self.rows.iter().zip(&self.phases) {
            if keep.contains(phase) {
                if !started {
                    out.peers[0].initial = states[0];
                    out.peers[1].initial = states[1];
                    started = true;
                }
                out.rows.push(row.clone());
                out.phases.push(*phase);
            }
            match row {
                Row::Arrow(a) => merge(&mut states, a.states),
                Row::Gap(g) => merge(&mut states, g.states),
                Row::State(s) => states[s.side.index()] = s.to,
            }
        }
        if !started {
            out.peers[0].initial = states[0];
            out.peers[1].initial = states[1];
        }
        out
    }

    /// The arrows, in order.
    pub fn arrows(&self) -> impl Iterator<Item = &Arrow> {
        self.rows.iter().filter_map(|r| match r {
            Row::Arrow(a) => Some(a),
            _ => None,
        })
    }

    /// Every state that appears, in order of first appearance.
    pub fn states(&self) -> Vec<State> {
        let mut out: Vec<State> = Vec::new();
        let mut add = |s: State| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        add(self.peers[0].initial);
        add(self.peers[1].initial);
        for row in &self.rows {
            match row {
                Row::Arrow(a) => a.states.iter().flatten().for_each(|s| add(*s)),
                Row::Gap(g) => g.states.iter().flatten().for_each(|s| add(*s)),
                Row::State(s) => add(s.to),
            }
        }
        out
    }
}

fn merge(states: &mut [State; 2], new: [Option<State>; 2]) {
    for (s, n) in states.iter_mut().zip(new) {
        if let Some(n) = n {
            *s = n;
        }
    }
}

/// How much of the data transfer to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every segment.
    Full,
    /// Segments with a remark (losses, retransmissions, zero windows,
    /// probes); the others folded into gaps.
    Notable,
    /// Nothing: the whole phase is one gap.
    Hidden,
}

/// What to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Draw the opening handshake.
    pub handshake: bool,
    /// How much of the data transfer between opening and closing.
    pub transfer: Detail,
    /// Draw the close (from the first FIN or RST on).
    pub close: bool,
    /// Absolute sequence numbers instead of relative ones.
    pub absolute: bool,
}

impl Default for View {
    fn default() -> Self {
        View {
            handshake: true,
            transfer: Detail::Notable,
            close: true,
            absolute: false,
        }
    }
}

/// Remarks that make a transfer segment worth drawing in
/// [`Detail::Notable`].
fn notable(p: &Packet) -> bool {
    p.lost
        || p.marks
            .iter()
            .any(|m| !matches!(m, Mark::DupAck | Mark::Duplicated))
}

/// The three phases as packet index ranges: handshake `..hs`, transfer
/// `hs..close`, close `close..`.
fn phases(conv: &Conversation, timeline: &Timeline) -> (usize, usize) {
    let n = conv.packets.len();
    let synced = |s: State| s.is_synchronized();
    let hs = if timeline.initial.iter().all(|s| synced(*s)) {
        0
    } else {
        let mut end = Some(0usize);
        for side in [Side::Left, Side::Right] {
            let first = timeline
                .changes
                .iter()
                .find(|c| c.side == side && synced(c.to));
            end = match (end, first.and_then(|c| c.packet)) {
                (Some(e), Some(p)) => Some(e.max(p + 1)),
                _ => None,
            };
        }
        end.unwrap_or(n)
    };
    let close = (hs..n)
        .find(|&i| {
            let p = &conv.packets[i];
            p.seg.flags.intersects(TcpFlags::FIN | TcpFlags::RST) && !p.has(Mark::OldDuplicate)
        })
        .unwrap_or(n);
    (hs, close)
}

/// Relative-numbering bases and window scales of each side.
struct Numbering {
    base: [u32; 2],
    wscale: [u8; 2],
}

impl Numbering {
    fn of(conv: &Conversation, absolute: bool) -> Numbering {
        let side = |p: &Packet| usize::from(!conv.is_rightward(p));
        // The last SYN of each side: a retransmitted SYN carries the same
        // numbers, and after a SYN that was answered and reset (an old
        // duplicate), the last one is the connection's.
        let mut base = [None; 2];
        let mut ws = [None; 2];
        for p in conv.packets.iter().filter(|p| !p.has(Mark::OldDuplicate)) {
            let s = side(p);
            if p.seg.has(TcpFlags::SYN) {
                base[s] = Some(p.seg.seq.0);
                ws[s] = Some(p.seg.options.window_scale);
            }
        }
        for p in &conv.packets {
            let s = side(p);
            base[s] = base[s].or(Some(p.seg.seq.0));
        }
        let both = matches!(ws, [Some(Some(_)), Some(Some(_))]);
        Numbering {
            base: if absolute {
                [0; 2]
            } else {
                base.map(|b| b.unwrap_or(0))
            },
            wscale: if both {
                ws.map(|w| w.flatten().unwrap_or(0).min(14))
            } else {
                [0; 2]
            },
        }
    }

    fn rel(&self, side: usize, n: SeqNum) -> u32 {
        n.0.wrapping_sub(self.base[side])
    }
}

/// Lays a conversation out as a ladder. `names` are what to call the left
/// and right hosts.
pub fn build(conv: &Conversation, timeline: &Timeline, names: [&str; 2], view: &View) -> Ladder {
    let num = Numbering::of(conv, view.absolute);
    let (hs, close) = phases(conv, timeline);
    let shown: Vec<bool> = conv
        .packets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i < hs {
                view.handshake
            } else if i >= close {
                view.close
            } else {
                match view.transfer {
                    Detail::Full => true,
                    Detail::Notable => notable(p),
                    Detail::Hidden => false,
                }
            }
        })
        .collect();
    let shown = unfold_short_runs(&shown, hs, close, view.transfer);

    // State changes by the packet that caused them, and the others.
    let mut by_packet: Vec<Vec<&StateChange>> = vec![Vec::new(); conv.packets.len()];
    let mut loose: Vec<&StateChange> = Vec::new();
    for c in &timeline.changes {
        match c.packet {
            Some(i) if i < conv.packets.len() => by_packet[i].push(c),
            _ => loose.push(c),
        }
    }
    let phase_of = |i: usize| {
        if i < hs {
            Phase::Open
        } else if i < close {
            Phase::Transfer
        } else {
            Phase::Close
        }
    };
    let drawn = |ph: Phase| match ph {
        Phase::Open => view.handshake,
        Phase::Transfer => view.transfer != Detail::Hidden,
        Phase::Close => view.close,
    };
    let mut out = Rows::default();
    let mut loose = loose.into_iter().peekable();
    let mut entered: [Instant; 2] = [Instant::ZERO; 2];
    for (i, p) in conv.packets.iter().enumerate() {
        let from = if conv.is_rightward(p) {
            Side::Left
        } else {
            Side::Right
        };
        let phase = phase_of(i);
        while let Some(c) = loose.next_if(|c| c.at < p.sent) {
            out.loose(c, phase, drawn(phase), &mut entered);
        }
        let mut states = [None; 2];
        for c in &by_packet[i] {
            states[c.side.index()] = Some(c.to);
            entered[c.side.index()] = c.at;
        }
        if !shown[i] {
            if out.gap.as_ref().is_some_and(|(ph, _)| *ph != phase) {
                out.flush();
            }
            let g = out.gap.get_or_insert((
                phase,
                Gap {
                    from: p.sent,
                    ..Gap::default()
                },
            ));
            let g = &mut g.1;
            let s = from.index();
            g.to = p.sent;
            g.segments[s] += 1;
            g.bytes[s] += u64::from(p.seg.len);
            g.retransmissions +=
                u64::from(p.has(Mark::Retransmission) || p.has(Mark::FastRetransmit));
            g.lost += u64::from(p.lost);
            for (k, st) in states.iter().enumerate() {
                if st.is_some() {
                    g.states[k] = *st;
                }
            }
            continue;
        }
        out.push(Row::Arrow(arrow(i, p, from, &num, states)), phase);
    }
    let last = if conv.packets.is_empty() {
        Phase::Open
    } else {
        phase_of(conv.packets.len() - 1)
    };
    for c in loose {
        out.loose(c, last, drawn(last), &mut entered);
    }
    out.flush();
    let peer = |i: usize, addr: SocketAddr| Peer {
        addr,
        name: names[i].to_string(),
        initial: timeline.initial[i],
    };
    Ladder {
        peers: [peer(0, conv.left), peer(1, conv.right)],
        rows: out.rows,
        phases: out.phases,
        absolute: view.absolute,
    }
}

/// Rows being laid out, with the gap being gathered.
#[derive(Default)]
struct Rows {
    rows: Vec<Row>,
    phases: Vec<Phase>,
    gap: Option<(Phase, Gap)>,
}

impl Rows {
    fn flush(&mut self) {
        if let Some((phase, g)) = self.gap.take() {
            self.rows.push(Row::Gap(g));
            self.phases.push(phase);
        }
    }

    fn push(&mut self, row: Row, phase: Phase) {
        self.flush();
        self.rows.push(row);
        self.phases.push(phase);
    }

    /// A state change no packet made: a row of its own where its phase is
    /// drawn, else part of the gap.
    fn loose(&mut self, c: &StateChange, phase: Phase, drawn: bool, entered: &mut [Instant; 2]) {
        if drawn {
            self.push(Row::State(state_row(c, entered)), phase);
        } else {
            if self.gap.as_ref().is_some_and(|(ph, _)| *ph != phase) {
                self.flush();
            }
            entered[c.side.index()] = c.at;
            let g = self.gap.get_or_insert((
                phase,
                Gap {
                    from: c.at,
                    to: c.at,
                    ..Gap::default()
                },
            ));
            g.1.states[c.side.index()] = Some(c.to);
        }
    }
}

/// In a notable-only transfer, folds no run of fewer than three segments:
/// a gap row would take as much room as the segments.
fn unfold_short_runs(shown: &[bool], hs: usize, close: usize, detail: Detail) -> Vec<bool> {
    let mut out = shown.to_vec();
    if detail != Detail::Notable {
        return out;
    }
    let mut i = hs;
    while i < close.min(shown.len()) {
        if shown[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < close && !shown[i] {
            i += 1;
        }
        if i - start < 3 {
            out[start..i].iter_mut().for_each(|s| *s = true);
        }
    }
    out
}

fn state_row(c: &StateChange, entered: &mut [Instant; 2]) -> StateRow {
    let k = c.side.index();
    let after = (entered[k] > Instant::ZERO || c.at > Instant::ZERO)
        .then(|| c.at.saturating_since(entered[k]));
    entered[k] = c.at;
    StateRow {
        side: c.side,
        at: c.at,
        from: c.from,
        to: c.to,
        cause: c.cause,
        after,
    }
}

fn arrow(
    index: usize,
    p: &Packet,
    from: Side,
    num: &Numbering,
    states: [Option<State>; 2],
) -> Arrow {
    let s = from.index();
    let seg = &p.seg;
    let mut options = seg.options;
    let mut sack = wire::tcp::SackBlocks::EMPTY;
    for b in seg.options.sack.as_slice() {
        sack.push(SackBlock {
            start: SeqNum(num.rel(1 - s, b.start)),
            end: SeqNum(num.rel(1 - s, b.end)),
        });
    }
    options.sack = sack;
    let window = if seg.has(TcpFlags::SYN) {
        u32::from(seg.window)
    } else {
        u32::from(seg.window) << num.wscale[s]
    };
    let mut marks = p.marks.clone();
    if p.lost {
        marks.push(Mark::Lost);
    }
    marks.sort();
    marks.dedup();
    Arrow {
        index,
        from,
        sent: p.sent,
        arrived: if p.lost { None } else { p.arrived },
        lost: p.lost,
        flags: seg.flags,
        seq: num.rel(s, seg.seq),
        ack: seg.has(TcpFlags::ACK).then(|| num.rel(1 - s, seg.ack)),
        window,
        len: seg.len,
        options,
        marks,
        states,
    }
}
