//! What a connection reports: state changes with their causes, readiness,
//! the end of the connection and, when tracing, every segment.

use core::fmt;

use wire::tcp::{TcpFlags, TcpOptions, TcpRepr};
use wire::SeqNum;

use super::state::State;

/// Why a connection ended, in the words users know from sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Both sides closed and every FIN was acknowledged.
    Normal,
    /// The peer answered our SYN with a RST: nothing listens there.
    Refused,
    /// The peer reset an open connection.
    Reset,
    /// Retransmissions, keep-alive probes or the user timeout ran out.
    TimedOut,
    /// The local application aborted the connection.
    Aborted,
}

impl CloseReason {
    /// A short description.
    pub const fn describe(self) -> &'static str {
        match self {
            CloseReason::Normal => "closed",
            CloseReason::Refused => "connection refused",
            CloseReason::Reset => "connection reset by peer",
            CloseReason::TimedOut => "connection timed out",
            CloseReason::Aborted => "connection aborted",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What made the state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The application opened actively (connect).
    ActiveOpen,
    /// The application opened passively (listen).
    PassiveOpen,
    /// A SYN arrived.
    SynReceived,
    /// A SYN-ACK that acknowledges our SYN arrived.
    SynAckReceived,
    /// An ACK arrived that acknowledges our SYN or our FIN.
    AckReceived,
    /// The peer's FIN arrived.
    FinReceived,
    /// A FIN arrived together with the ACK of our FIN.
    FinAckReceived,
    /// An acceptable RST arrived.
    RstReceived,
    /// The application closed its sending side.
    Close,
    /// The application aborted.
    Abort,
    /// Data arrived after the application closed: the connection is reset
    /// (RFC 1122 §4.2.2.13).
    DataAfterClose,
    /// The 2·MSL wait of TIME-WAIT ended.
    TimeWaitExpired,
    /// FIN-WAIT-2 lasted longer than allowed after a full close.
    FinWait2Timeout,
    /// Retransmissions or keep-alive probes went unanswered too long.
    Timeout,
}

impl Cause {
    /// A short description for traces.
    pub const fn describe(self) -> &'static str {
        match self {
            Cause::ActiveOpen => "connect",
            Cause::PassiveOpen => "listen",
            Cause::SynReceived => "SYN received",
            Cause::SynAckReceived => "SYN-ACK received",
            Cause::AckReceived => "ACK received",
            Cause::FinReceived => "FIN received",
            Cause::FinAckReceived => "FIN+ACK received",
            Cause::RstReceived => "RST received",
            Cause::Close => "close",
            Cause::Abort => "abort",
            Cause::DataAfterClose => "data after close",
            Cause::TimeWaitExpired => "2MSL expired",
            Cause::FinWait2Timeout => "FIN-WAIT-2 timeout",
            Cause::Timeout => "timeout",
        }
    }
}

/// Why a segment was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendReason {
    /// Our SYN.
    Syn,
    /// Our SYN-ACK.
    SynAck,
    /// New data (possibly with FIN).
    Data,
    /// Data or a control flag sent again after a timeout.
    Retransmission,
    /// A segment sent again on duplicate ACKs (RFC 5681 §3.2), or deemed
    /// lost from SACK information (RFC 6675, RACK, RFC 8985).
    FastRetransmit,
    /// A tail loss probe (RFC 8985 §7): new data or the last segment
    /// again, sent when ACKs stopped coming.
    LossProbe,
    /// A FIN with no data.
    Fin,
    /// A window probe into a zero window (RFC 9293 §3.8.6.1).
    WindowProbe,
    /// A pure acknowledgment.
    Ack,
    /// An acknowledgment that announces a larger window.
    WindowUpdate,
    /// The ACK owed for an unacceptable segment (RFC 9293 §3.10.7.4).
    DupAck,
    /// A challenge ACK (RFC 5961 §3, §4, §5).
    ChallengeAck,
    /// A keep-alive probe (RFC 9293 §3.8.4).
    KeepAlive,
    /// A reset.
    Rst,
}

impl SendReason {
    /// A short description for traces.
    pub const fn describe(self) -> &'static str {
        match self {
            SendReason::Syn => "SYN",
            SendReason::SynAck => "SYN-ACK",
            SendReason::Data => "data",
            SendReason::Retransmission => "retransmission",
            SendReason::FastRetransmit => "fast retransmit",
            SendReason::LossProbe => "loss probe",
            SendReason::Fin => "FIN",
            SendReason::WindowProbe => "window probe",
            SendReason::Ack => "ACK",
            SendReason::WindowUpdate => "window update",
            SendReason::DupAck => "ACK of unacceptable segment",
            SendReason::ChallengeAck => "challenge ACK",
            SendReason::KeepAlive => "keep-alive",
            SendReason::Rst => "RST",
        }
    }
}

/// What happened to a received segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Processed.
    Accepted,
    /// Outside the receive window (or an old duplicate): acknowledged and
    /// dropped (RFC 9293 §3.10.7.4, first check).
    Unacceptable,
    /// Its timestamp is older than the last one seen (PAWS, RFC 7323 §5).
    Paws,
    /// A RST, SYN or ACK that drew a challenge ACK (RFC 5961).
    Challenged,
    /// Dropped without an answer (a bad RST, an ACK-less segment, …).
    Dropped,
    /// Answered with a RST (RFC 9293 §3.10.7).
    Refused,
}

/// The header of a segment, as a trace shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The sequence number.
    pub seq: SeqNum,
    /// The acknowledgment number (meaningful with ACK).
    pub ack: SeqNum,
    /// The control bits.
    pub flags: TcpFlags,
    /// The window field as sent, before scaling.
    pub window: u16,
    /// The options.
    pub options: TcpOptions,
    /// The data length.
    pub len: u32,
}

impl SegmentInfo {
    /// The header of a parsed segment.
    pub fn of(seg: &TcpRepr<'_>) -> SegmentInfo {
        SegmentInfo {
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            options: seg.options,
            len: seg.payload.len() as u32,
        }
    }
}

/// Something the application or a tracer may want to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The state changed.
    StateChanged {
        /// The state before.
        from: State,
        /// The state after.
        to: State,
        /// Why.
        cause: Cause,
    },
    /// The connection is established (the handshake completed).
    Connected,
    /// Data (or the end of the stream) can be read.
    Readable,
    /// Space opened in the send buffer.
    Writable,
    /// The connection is over; no more events follow.
    Closed(CloseReason),
    /// A segment was sent (only with `Config::trace_segments`).
    SegmentSent {
        /// Its header.
        info: SegmentInfo,
        /// Why it was sent.
        reason: SendReason,
    },
    /// A segment arrived (only with `Config::trace_segments`).
    SegmentReceived {
        /// Its header.
        info: SegmentInfo,
        /// What was done with it.
        verdict: Verdict,
    },
}
