//! The scenarios textbooks draw, and how each one is set up: what the two
//! applications do, what the network does to which packet, and which
//! phases of the connection the demo draws.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use wire::Instant;

use super::script::{Close, Script};
use crate::viz::Detail;

/// A case the demo plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// The three-way handshake.
    Handshake,
    /// Handshake, a bulk transfer (summarised) and the four-way close.
    Transfer,
    /// The four-way close.
    Close,
    /// The SYN is lost and sent again after the retransmission timeout.
    LostSyn,
    /// A stale SYN from an old connection arrives first; the client's RST
    /// clears it (RFC 9293 Figure 8).
    OldDuplicateSyn,
    /// The client closes its side; the server keeps sending in CLOSE-WAIT.
    HalfClose,
    /// Both sides connect to each other at the same instant.
    SimultaneousOpen,
    /// Both sides close at the same instant: CLOSING on both.
    SimultaneousClose,
    /// The client aborts: a RST ends the connection at once.
    Reset,
    /// A SYN to a port where nothing listens draws a RST.
    Refused,
    /// Spoofed SYNs fill the server's SYN queue; SYN cookies let the real
    /// client in.
    SynFlood,
    /// A slow reader's window closes; the sender probes it.
    ZeroWindow,
}

impl Scenario {
    /// Every scenario, in the order `--help` lists them.
    pub const ALL: [Scenario; 12] = [
        Scenario::Transfer,
        Scenario::Handshake,
        Scenario::Close,
        Scenario::LostSyn,
        Scenario::OldDuplicateSyn,
        Scenario::HalfClose,
        Scenario::SimultaneousOpen,
        Scenario::SimultaneousClose,
        Scenario::Reset,
        Scenario::Refused,
        Scenario::SynFlood,
        Scenario::ZeroWindow,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Handshake => "handshake",
            Scenario::Transfer => "transfer",
            Scenario::Close => "close",
            Scenario::LostSyn => "lost-syn",
            Scenario::OldDuplicateSyn => "old-duplicate-syn",
            Scenario::HalfClose => "half-close",
            Scenario::SimultaneousOpen => "simultaneous-open",
            Scenario::SimultaneousClose => "simultaneous-close",
            Scenario::Reset => "reset",
            Scenario::Refused => "refused",
            Scenario::SynFlood => "syn-flood",
            Scenario::ZeroWindow => "zero-window",
        }
    }

    /// The scenario of a name.
    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether random loss applies by default: only to the bulk transfer,
    /// so that the other scenarios show exactly what their name says.
    pub fn lossy_by_default(self) -> bool {
        self == Scenario::Transfer
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The client's address.
pub const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// The server's address.
pub const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// The server's port: 9, the discard service (the server reads and discards;
/// no capture dissector mistakes the demo's bytes for a protocol).
pub const PORT: u16 = 9;

/// Which phases to draw, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Draw {
    /// The handshake.
    pub handshake: bool,
    /// The transfer between handshake and close.
    pub transfer: Detail,
    /// The close.
    pub close: bool,
    /// Summarise the transfer (goodput, RTT, …).
    pub summary: bool,
}

/// Everything a scenario sets up.
pub(crate) struct Setup {
    /// The left host's application.
    pub client: Script,
    /// The right host's application.
    pub server: Script,
    /// The server's receive buffer, if not the default.
    pub server_recv_buffer: Option<usize>,
    /// The server's SYN and accept backlog.
    pub backlog: usize,
    /// Drop the client's first SYN.
    pub drop_first_syn: bool,
    /// Lose the client's SYN and send an old duplicate SYN meanwhile.
    pub old_duplicate: bool,
    /// Spoofed SYNs to send, over this long, before the client connects.
    pub flood: Option<(usize, Duration)>,
    /// What to draw.
    pub draw: Draw,
    /// Names of the left and right hosts.
    pub names: [&'static str; 2],
    /// Always show absolute sequence numbers (two connections' numbers
    /// meet in one diagram).
    pub absolute: bool,
}

/// How long the server's application takes to close after the end of the
/// stream: past the 40 ms delayed ACK of the client's FIN.
const SERVER_CLOSE_DELAY: Duration = Duration::from_millis(60);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at_ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

/// The setup of `s`, moving `bytes` in the transfer.
pub(crate) fn setup(s: Scenario, bytes: u64) -> Setup {
    let server_addr = SocketAddr::new(SERVER, PORT);
    let mut client = Script::new();
    client.connect = Some((Instant::ZERO, server_addr, None));
    client.close = Close::AfterSent(Duration::ZERO);
    let mut server = Script::new();
    server.listen = Some((server_addr, 16));
    // The server's application closes a moment after reading the end of
    // the stream, later than the delayed ACK (40 ms) that acknowledges the
    // client's FIN, so that the ACK and its own FIN are two segments: the
    // four-way close. (An application closing within those 40 ms sends
    // one FIN carrying the ACK, as Linux does: a three-segment close.)
    server.close = Close::AfterEof(SERVER_CLOSE_DELAY);
    let draw = Draw {
        handshake: true,
        transfer: Detail::Full,
        close: true,
        summary: false,
    };
    let mut out = Setup {
        client,
        server,
        server_recv_buffer: None,
        backlog: 16,
        drop_first_syn: false,
        old_duplicate: false,
        flood: None,
        draw,
        names: ["client", "server"],
        absolute: false,
    };
    match s {
        Scenario::Transfer => {
            out.client.send = bytes;
            out.draw.transfer = Detail::Hidden;
            out.draw.summary = true;
        }
        Scenario::Handshake => {
            out.client.close = Close::AfterSent(ms(100));
            out.draw.transfer = Detail::Hidden;
            out.draw.close = false;
        }
        Scenario::Close => {
            out.client.send = 1000;
            out.draw.handshake = false;
            out.draw.transfer = Detail::Hidden;
        }
        Scenario::LostSyn => {
            out.drop_first_syn = true;
            out.client.close = Close::AfterSent(ms(100));
            out.draw.close = false;
            out.draw.transfer = Detail::Hidden;
        }
        Scenario::OldDuplicateSyn => {
            let local = SocketAddr::new(CLIENT, 50000);
            out.client.connect = Some((Instant::ZERO, server_addr, Some(local)));
            out.old_duplicate = true;
            out.absolute = true;
            out.drop_first_syn = true;
            out.client.close = Close::AfterSent(ms(100));
            out.draw.close = false;
            out.draw.transfer = Detail::Hidden;
        }
        Scenario::HalfClose => {
            out.client.send = 100;
            out.server.send = 3000;
            out.server.send_after_eof = true;
            out.server.close = Close::AfterEof(SERVER_CLOSE_DELAY);
            out.draw.handshake = false;
        }
        Scenario::SimultaneousOpen => {
            let a = SocketAddr::new(CLIENT, 4000);
            let b = SocketAddr::new(SERVER, 4001);
            out.client.connect = Some((Instant::ZERO, b, Some(a)));
            out.client.send = 0;
            out.client.close = Close::AfterSent(ms(50));
            out.server.listen = None;
            out.server.connect = Some((Instant::ZERO, a, Some(b)));
            out.server.close = Close::AfterEof(SERVER_CLOSE_DELAY);
            out.names = ["A", "B"];
            out.draw.transfer = Detail::Hidden;
        }
        Scenario::SimultaneousClose => {
            out.client.send = 1000;
            out.client.close = Close::At(at_ms(200));
            out.server.close = Close::At(at_ms(200));
            out.draw.handshake = false;
            out.draw.transfer = Detail::Hidden;
        }
        Scenario::Reset => {
            out.client.send = 2000;
            out.client.close = Close::AbortAfterSent(ms(10));
            out.server.close = Close::Never;
            out.draw.handshake = false;
        }
        Scenario::Refused => {
            out.server.listen = None;
            out.client.connect = Some((Instant::ZERO, SocketAddr::new(SERVER, 81), None));
        }
        Scenario::SynFlood => {
            out.flood = Some((200, ms(20)));
            out.backlog = 8;
            out.client.connect = Some((at_ms(10), server_addr, None));
            out.client.send = 1000;
            out.server.listen = Some((server_addr, 8));
            out.draw.transfer = Detail::Hidden;
            out.draw.close = false;
        }
        Scenario::ZeroWindow => {
            out.client.send = 20_000;
            out.server_recv_buffer = Some(4096);
            out.server.read_from = at_ms(3000);
            out.draw.handshake = false;
            out.draw.transfer = Detail::Notable;
        }
    }
    out
}
