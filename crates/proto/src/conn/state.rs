//! The eleven connection states of RFC 9293 §3.3.2.

use core::fmt;

/// A connection state (RFC 9293 §3.3.2, Figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// No connection.
    Closed,
    /// Waiting for a connection request from any remote TCP.
    Listen,
    /// Sent a SYN, waiting for a matching one.
    SynSent,
    /// Received and sent a SYN, waiting for the ACK of ours.
    SynReceived,
    /// Open: data flows both ways.
    Established,
    /// Closed by us (FIN sent), waiting for its ACK or the peer's FIN.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// The peer closed (its FIN received); waiting for our application to
    /// close.
    CloseWait,
    /// Both sides sent FIN at once; waiting for the ACK of ours.
    Closing,
    /// The peer closed first and so did we; waiting for the ACK of our FIN.
    LastAck,
    /// Both FINs acknowledged; waiting 2·MSL so that the last ACK can be
    /// repeated and old duplicates die out.
    TimeWait,
}

impl State {
    /// The name RFC 9293 uses (`SYN-SENT`, `TIME-WAIT`, …).
    pub const fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// Every state, in the order of RFC 9293 §3.3.2.
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    /// Whether both sequence numbers are known and acknowledged: every
    /// state after SYN-RECEIVED (RFC 9293 §3.10.7.4 "synchronized").
    pub const fn is_synchronized(self) -> bool {
        matches!(
            self,
            State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
                | State::Closing
                | State::LastAck
                | State::TimeWait
        )
    }

    /// Whether data that arrives in this state is delivered to the
    /// application (RFC 9293 §3.10.7.4, seventh step).
    pub const fn accepts_data(self) -> bool {
        matches!(
            self,
            State::SynReceived | State::Established | State::FinWait1 | State::FinWait2
        )
    }

    /// Whether the application may still queue data to send.
    pub const fn can_send(self) -> bool {
        matches!(
            self,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
