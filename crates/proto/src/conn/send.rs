//! The sending half: the send sequence variables of RFC 9293 §3.3.1, the
//! send buffer, and the rules for how much may be sent now (window,
//! congestion window, Nagle and sender-side silly window avoidance).

use wire::SeqNum;

use crate::ring::RingBuffer;

/// The send sequence space and the data behind it.
///
/// ```text
///   iss   una            nxt            max         buf end   (FIN)
///    |SYN| acked... | sent, unacked |  sent before, | unsent  |
///    |   |          |               |  to resend    |         |
/// ```
/// `buf` holds the bytes from `buf_seq` (the first unacknowledged data
/// byte) to the end of what the application queued. `nxt` can move back
/// to `una` after a retransmission timeout; `max` remembers how far we
/// ever sent, so that ACKs up to it stay acceptable.
#[derive(Debug)]
pub(crate) struct SendState {
    /// The initial send sequence number (ISS).
    pub iss: SeqNum,
    /// SND.UNA: the oldest unacknowledged sequence number.
    pub una: SeqNum,
    /// SND.NXT: the next sequence number to send.
    pub nxt: SeqNum,
    /// The highest sequence number sent so far, plus one.
    pub max: SeqNum,
    /// SND.WND: the peer's window, scaled.
    pub wnd: u32,
    /// The largest window the peer ever offered (RFC 5961 §5 MAX.SND.WND,
    /// and the reference for sender silly window avoidance).
    pub max_wnd: u32,
    /// SND.WL1: the sequence number of the segment that last updated the
    /// window.
    pub wl1: SeqNum,
    /// SND.WL2: the acknowledgment number of that segment.
    pub wl2: SeqNum,
    /// The data not yet acknowledged, from `buf_seq` on.
    pub buf: RingBuffer,
    /// The sequence number of `buf`'s first byte.
    pub buf_seq: SeqNum,
    /// The application closed its sending side: a FIN follows the data.
    pub fin_queued: bool,
    /// The effective send MSS: data bytes per segment (RFC 9293 §3.7.1).
    pub mss: u32,
}

impl SendState {
    /// Before anything is sent, with `iss` chosen.
    pub fn new(iss: SeqNum, buffer_limit: usize) -> SendState {
        SendState {
            iss,
            una: iss,
            nxt: iss,
            max: iss,
            wnd: 0,
            max_wnd: 0,
            wl1: SeqNum(0),
            wl2: iss,
            buf: RingBuffer::new(buffer_limit),
            buf_seq: iss + 1,
            fin_queued: false,
            mss: 536,
        }
    }

    /// The sequence number just past the queued data.
    pub fn data_end(&self) -> SeqNum {
        self.buf_seq + self.buf.len() as u32
    }

    /// The sequence number of our FIN, once queued.
    pub fn fin_seq(&self) -> Option<SeqNum> {
        self.fin_queued.then(|| self.data_end())
    }

    /// Whether our FIN has been acknowledged.
    pub fn fin_acked(&self) -> bool {
        self.fin_seq().is_some_and(|f| self.una > f)
    }

    /// Bytes of sequence space sent and not acknowledged.
    pub fn in_flight(&self) -> u32 {
        self.nxt.since(self.una)
    }

    /// Whether `ack` acknowledges something new and not beyond what was
    /// sent: SND.UNA < SEG.ACK =< SND.MAX (RFC 9293 §3.10.7.4, fifth).
    pub fn acks_new(&self, ack: SeqNum) -> bool {
        self.una < ack && ack <= self.max
    }

    /// Frees what `ack` acknowledges (SND.UNA < ack =< SND.MAX) and moves
    /// SND.UNA. Returns the data bytes freed.
    pub fn acknowledge(&mut self, ack: SeqNum) -> u32 {
        let data_acked = ack.min(self.data_end()).since(self.buf_seq);
        self.buf.consume(data_acked as usize);
        self.buf_seq += data_acked;
        self.una = ack;
        if self.nxt < ack {
            // After a timeout moved SND.NXT back, an ACK for data sent
            // before can overtake it.
            self.nxt = ack;
        }
        data_acked
    }

    /// How many data bytes to put in the next new segment from SND.NXT,
    /// honouring the peer's window and `cwnd`, Nagle's algorithm
    /// (RFC 9293 §3.7.4) and the sender's silly window avoidance
    /// (§3.8.6.2.1). Zero means: send no data now.
    pub fn sendable(&self, cwnd: u32, nodelay: bool) -> u32 {
        let unsent = self.data_end().since(self.nxt);
        if unsent == 0 {
            return 0;
        }
        let window_end = self.una + self.wnd.min(cwnd);
        let usable = window_end.since(self.nxt);
        let len = unsent.min(usable).min(self.mss);
        if len == 0 {
            return 0;
        }
        if len == self.mss || self.nxt < self.max {
            // A full segment, or data that was sent before: always.
            return len;
        }
        let nothing_in_flight = self.nxt == self.una;
        if len == unsent {
            // The last of the queued data. Nagle: a small segment waits
            // while data is unacknowledged, unless nodelay, or a FIN
            // follows (nothing more will come to fill it).
            return if nodelay || nothing_in_flight || self.fin_queued {
                len
            } else {
                0
            };
        }
        // The window, not the data, limits this segment. §3.8.6.2.1: send
        // when it is at least half the largest window the peer offered.
        if nothing_in_flight && len >= self.max_wnd / 2 {
            return len;
        }
        0
    }

    /// Whether the peer's window stops us while data waits and nothing is
    /// in flight to bring a window update: the persist timer's condition
    /// (RFC 9293 §3.8.6.1). Asked once `sendable` said zero: the window is
    /// either zero or too small to use under sender SWS avoidance, which
    /// the same timer overrides (§3.8.6.2.1 (4), the override timeout).
    pub fn window_blocked(&self) -> bool {
        // SND.NXT, not SND.MAX: after a timeout moved SND.NXT back into a
        // window that has since closed, the retransmission cannot go and
        // the probes must take over, or nothing would ever be sent again.
        self.data_end() > self.nxt && self.nxt == self.una
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(queued: usize, wnd: u32) -> SendState {
        let mut s = SendState::new(SeqNum(1000), 1 << 20);
        s.una = s.iss + 1;
        s.nxt = s.una;
        s.max = s.una;
        s.mss = 100;
        s.wnd = wnd;
        s.max_wnd = wnd;
        s.buf.write(&std::vec![7u8; queued]);
        s
    }

    #[test]
    fn full_segments_go_at_once() {
        let s = sender(250, 10_000);
        assert_eq!(s.sendable(10_000, false), 100);
    }

    #[test]
    fn nagle_holds_a_small_tail_while_data_is_in_flight() {
        let mut s = sender(250, 10_000);
        s.nxt += 200;
        s.max = s.nxt;
        assert_eq!(s.sendable(10_000, false), 0);
        assert_eq!(s.sendable(10_000, true), 50);
        s.fin_queued = true;
        assert_eq!(s.sendable(10_000, false), 50);
        // Once everything is acknowledged, the tail goes.
        s.fin_queued = false;
        s.acknowledge(s.nxt);
        assert_eq!(s.sendable(10_000, false), 50);
    }

    #[test]
    fn window_and_cwnd_limit() {
        let s = sender(1000, 150);
        assert_eq!(s.sendable(10_000, false), 100);
        let mut s = sender(1000, 10_000);
        s.nxt += 100;
        s.max = s.nxt;
        assert_eq!(s.sendable(150, false), 0, "50 bytes: a silly segment");
        assert_eq!(s.sendable(200, false), 100);
    }

    #[test]
    fn sws_avoidance_sends_half_the_max_window() {
        let mut s = sender(1000, 60);
        s.max_wnd = 100;
        s.mss = 536;
        assert_eq!(s.sendable(10_000, false), 60);
        s.wnd = 40;
        assert_eq!(s.sendable(10_000, false), 0);
    }

    #[test]
    fn acknowledge_frees_data_and_counts_syn_and_fin_apart() {
        let mut s = SendState::new(SeqNum(u32::MAX - 1), 1 << 16);
        s.buf.write(b"hello");
        s.fin_queued = true;
        let fin = s.fin_seq().unwrap();
        assert_eq!(fin, s.iss + 6);
        s.nxt = fin + 1;
        s.max = s.nxt;
        assert_eq!(s.acknowledge(s.iss + 1), 0, "the SYN holds no data");
        assert!(s.una > s.iss);
        assert_eq!(s.acknowledge(s.iss + 4), 3);
        assert_eq!(s.buf.len(), 2);
        assert!(!s.fin_acked());
        assert_eq!(s.acknowledge(fin + 1), 2);
        assert!(s.fin_acked());
        assert!(s.buf.is_empty());
    }
}
