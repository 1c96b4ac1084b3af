//! Remarks that follow from the segments alone, as Wireshark's TCP analysis
//! makes them: retransmissions, zero windows, window updates, window probes,
//! keep-alives and duplicate ACKs.

use wire::tcp::TcpFlags;
use wire::SeqNum;

use super::capture::Mark;
use super::conns::Conversation;

/// What one direction has shown so far.
#[derive(Default, Clone, Copy)]
struct Dir {
    /// The sequence number past the furthest segment sent.
    highest: Option<SeqNum>,
    /// The last acknowledgment and window sent.
    last_ack: Option<(SeqNum, u16)>,
    /// Whether a SYN was sent, and whether it carried an ACK.
    syn: Option<bool>,
}

/// Adds the remarks that follow from the segments to every packet of `conv`
/// (keeping those already there). Packets marked as old duplicates are
/// ignored: they belong to no sequence space of this connection.
pub fn infer(conv: &mut Conversation) {
    let mut dirs = [Dir::default(); 2];
    let left = conv.left;
    for p in conv.packets.iter_mut() {
        if p.has(Mark::OldDuplicate) {
            continue;
        }
        let s = usize::from(p.seg.src != left);
        let (me, peer) = (dirs[s], dirs[1 - s]);
        let seg = p.seg;
        if seg.has(TcpFlags::RST) {
            continue;
        }
        let peer_window_zero = matches!(peer.last_ack, Some((_, 0)));
        if let Some(high) = me.highest {
            // A SYN-ACK after our own SYN (simultaneous open) answers the
            // peer's SYN: not a retransmission.
            let syn_answer =
                seg.has(TcpFlags::SYN) && seg.has(TcpFlags::ACK) && me.syn == Some(false);
            if seg.seq_len() > 0 && seg.seq < high && !syn_answer {
                if peer_window_zero && seg.len <= 1 {
                    p.mark(Mark::WindowProbe);
                } else {
                    p.mark(Mark::Retransmission);
                }
            } else if seg.seq_len() == 0 && seg.seq == high - 1 {
                p.mark(if peer_window_zero {
                    Mark::WindowProbe
                } else {
                    Mark::KeepAlive
                });
            } else if seg.len == 1 && peer_window_zero && seg.seq == high {
                p.mark(Mark::WindowProbe);
            }
        }
        let pure_ack = seg.len == 0 && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN);
        if seg.has(TcpFlags::ACK) && !seg.has(TcpFlags::SYN) {
            if seg.window == 0 {
                p.mark(Mark::ZeroWindow);
            } else if pure_ack && matches!(me.last_ack, Some((_, 0))) {
                p.mark(Mark::WindowUpdate);
            }
            if pure_ack && !p.has(Mark::KeepAlive) && !p.has(Mark::WindowProbe) {
                let outstanding = peer.highest.is_some_and(|h| seg.ack < h);
                if me.last_ack == Some((seg.ack, seg.window)) && outstanding {
                    p.mark(Mark::DupAck);
                }
            }
        }
        let d = &mut dirs[s];
        if seg.has(TcpFlags::SYN) {
            d.syn = Some(seg.has(TcpFlags::ACK));
        }
        let end = seg.end();
        d.highest = Some(match d.highest {
            Some(h) => h.max(end),
            None => end,
        });
        if seg.has(TcpFlags::ACK) {
            d.last_ack = Some((seg.ack, seg.window));
        }
    }
}
