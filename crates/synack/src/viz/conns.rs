//! Grouping the packets of a capture into connections by 4-tuple.

use std::collections::HashMap;
use std::net::SocketAddr;

use wire::tcp::TcpFlags;

use super::capture::Packet;

/// The packets of one connection, in capture order. `left` is the side that
/// opened it (sent the first SYN), or the first sender when no SYN was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// The opening side (drawn on the left).
    pub left: SocketAddr,
    /// The other side (drawn on the right).
    pub right: SocketAddr,
    /// The packets, in the order they were seen.
    pub packets: Vec<Packet>,
}

impl Conversation {
    /// Whether `p` goes from left to right.
    pub fn is_rightward(&self, p: &Packet) -> bool {
        p.seg.src == self.left
    }

    /// Data bytes sent each way: (left to right, right to left).
    pub fn data_bytes(&self) -> (u64, u64) {
        let mut out = (0u64, 0u64);
        for p in &self.packets {
            if self.is_rightward(p) {
                out.0 += u64::from(p.seg.len);
            } else {
                out.1 += u64::from(p.seg.len);
            }
        }
        out
    }
}

/// Key of an unordered address pair.
fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// A connection being gathered.
struct Open {
    index: usize,
    /// Which of the two addresses (by `key` order) sent a FIN.
    fins: [bool; 2],
}

/// Splits packets into connections, in the order each began. A new
/// connection on the same 4-tuple begins with a SYN once both sides of the
/// previous one sent their FIN.
pub fn group(packets: impl IntoIterator<Item = Packet>) -> Vec<Conversation> {
    let mut out: Vec<Conversation> = Vec::new();
    let mut open: HashMap<(SocketAddr, SocketAddr), Open> = HashMap::new();
    for p in packets {
        let k = key(p.seg.src, p.seg.dst);
        let who = usize::from(p.seg.src != k.0);
        let is_open = p.seg.has(TcpFlags::SYN) && !p.seg.has(TcpFlags::ACK);
        let reuse = match open.get(&k) {
            Some(o) => !(is_open && o.fins[0] && o.fins[1]),
            None => false,
        };
        if !reuse {
            let (left, right) = (p.seg.src, p.seg.dst);
            out.push(Conversation {
                left,
                right,
                packets: Vec::new(),
            });
            open.insert(
                k,
                Open {
                    index: out.len() - 1,
                    fins: [false; 2],
                },
            );
        }
        let Some(o) = open.get_mut(&k) else { continue };
        if p.seg.has(TcpFlags::FIN) {
            o.fins[who] = true;
        }
        let conv = &mut out[o.index];
        // The first SYN without ACK decides who opened.
        if is_open && !conv.packets.iter().any(|q| q.seg.has(TcpFlags::SYN)) {
            conv.left = p.seg.src;
            conv.right = p.seg.dst;
        }
        conv.packets.push(p);
    }
    out
}
