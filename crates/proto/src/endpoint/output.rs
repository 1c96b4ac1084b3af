//! Packets out: stateless replies first (RSTs, cookie SYN-ACKs, TIME-WAIT
//! ACKs, echo replies), then connections with something to send, taken in
//! turn so that one busy connection cannot starve the others.

use alloc::vec::Vec;
use core::net::IpAddr;

use wire::icmpv4::Icmpv4Repr;
use wire::icmpv6::Icmpv6Repr;
use wire::ip::{IpProtocol, IpRepr};
use wire::tcp::{TcpFlags, TcpOptions, TcpRepr, Timestamps};
use wire::{Instant, SeqNum};

use super::demux::FourTuple;
use super::Endpoint;
use crate::conn::Segment;

/// The most stateless replies waiting; more are dropped (a flood of
/// segments to closed ports must not grow memory).
const MAX_REPLIES: usize = 1024;

/// A packet to send that no live connection owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// A RST (RFC 9293 §3.10.7.1).
    Rst {
        tuple: FourTuple,
        seq: SeqNum,
        ack: SeqNum,
        flags: TcpFlags,
    },
    /// A SYN-ACK carrying a cookie.
    SynAck {
        tuple: FourTuple,
        seq: SeqNum,
        ack: SeqNum,
        window: u16,
        options: TcpOptions,
    },
    /// An ACK from a compact TIME-WAIT entry.
    Ack {
        tuple: FourTuple,
        seq: SeqNum,
        ack: SeqNum,
        window: u16,
        ts: Option<Timestamps>,
    },
    /// The last data-less segment of a connection being freed.
    Segment { tuple: FourTuple, seg: Segment },
    /// An ICMP or ICMPv6 echo reply.
    Echo {
        src: IpAddr,
        dst: IpAddr,
        ident: u16,
        seq_no: u16,
        data: Vec<u8>,
    },
}

impl Endpoint {
    pub(crate) fn push_reply(&mut self, reply: Reply) {
        // The cap is for what a peer can provoke at will (RSTs, cookies,
        // echo replies). The last segment of a connection being freed is
        // bounded by the connection limit, and dropping it would leave the
        // peer retransmitting its FIN.
        let provoked = !matches!(reply, Reply::Segment { .. });
        if provoked && self.replies.len() >= MAX_REPLIES {
            self.stats.replies_dropped += 1;
            return;
        }
        self.replies.push_back(reply);
    }

    /// Writes the next packet to send into `buf` (which should hold an MTU)
    /// and returns its length; `None` when nothing is left.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.now = self.now.max(now);
        while let Some(reply) = self.replies.pop_front() {
            if let Some(n) = self.write_reply(&reply, buf) {
                self.stats.packets_out += 1;
                return Some(n);
            }
        }
        if let Some(h) = self.unsynced.take() {
            // The connection of the last call was left unsynced (see
            // `Endpoint::unsynced`): polled at once if no other waits (a
            // poll that finds nothing syncs it); otherwise synced, which
            // queues it behind them if it has something to send.
            let waiting = self.ready.len();
            match self.conns.get_mut(h.index, h.generation) {
                Some(e) if e.may_owe_sync(waiting) => {
                    if !e.in_ready {
                        e.in_ready = true;
                        self.ready.push_back(h);
                    }
                }
                _ => self.sync(h, true),
            }
        }
        while let Some(h) = self.ready.pop_front() {
            let Some(e) = self.conns.get_mut(h.index, h.generation) else {
                continue;
            };
            e.in_ready = false;
            e.conn.lend_loss_storage(&mut self.loss_pool);
            // Used in place, not moved out (see `Connection::poll_transmit`).
            let seg = e.conn.poll_transmit(now);
            let Some(seg) = seg.as_ref() else {
                self.sync(h, false);
                continue;
            };
            let n = write_segment(
                &e.tuple.unpack(),
                buf,
                self.config.hop_limit,
                |out, src, dst| e.conn.emit(seg, out, src, dst),
            );
            // Back of the queue if it may have more, after the others;
            // otherwise out of it (`sync` asks), and no poll to find that
            // out. In the middle of a burst, the sync is owed until the
            // connection runs dry or anything else happens.
            let owe = n.is_some() && e.may_owe_sync(self.ready.len());
            self.sync_or_owe(h, owe);
            if let Some(n) = n {
                self.stats.packets_out += 1;
                return Some(n);
            }
        }
        None
    }

    fn write_reply(&self, reply: &Reply, buf: &mut [u8]) -> Option<usize> {
        let hop = self.config.hop_limit;
        match reply {
            Reply::Rst {
                tuple,
                seq,
                ack,
                flags,
            } => write_repr(
                tuple,
                buf,
                hop,
                *seq,
                *ack,
                *flags,
                0,
                TcpOptions::default(),
            ),
            Reply::SynAck {
                tuple,
                seq,
                ack,
                window,
                options,
            } => write_repr(
                tuple,
                buf,
                hop,
                *seq,
                *ack,
                TcpFlags::SYN | TcpFlags::ACK,
                *window,
                *options,
            ),
            Reply::Ack {
                tuple,
                seq,
                ack,
                window,
                ts,
            } => write_repr(
                tuple,
                buf,
                hop,
                *seq,
                *ack,
                TcpFlags::ACK,
                *window,
                TcpOptions {
                    timestamps: *ts,
                    ..Default::default()
                },
            ),
            Reply::Segment { tuple, seg } => write_repr(
                tuple,
                buf,
                hop,
                seg.seq,
                seg.ack,
                seg.flags,
                seg.window,
                seg.options,
            ),
            Reply::Echo {
                src,
                dst,
                ident,
                seq_no,
                data,
            } => write_echo(*src, *dst, *ident, *seq_no, data, buf, hop),
        }
    }
}

/// Writes an IP header for `tuple` and lets `tcp` write the segment after
/// it. `None` if the buffer is too small (the packet is dropped).
fn write_segment(
    tuple: &FourTuple,
    buf: &mut [u8],
    hop_limit: u8,
    tcp: impl FnOnce(&mut [u8], &IpAddr, &IpAddr) -> wire::Result<usize>,
) -> Option<usize> {
    match (tuple.local.ip(), tuple.remote.ip()) {
        // IPv4 on its own: the addresses handed to `tcp` are then known
        // to be IPv4, not stored whole for either family.
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            write_ip(IpAddr::V4(src), IpAddr::V4(dst), buf, hop_limit, tcp)
        }
        (src, dst) => write_ip(src, dst, buf, hop_limit, tcp),
    }
}

/// `write_segment` from `src` to `dst`.
#[inline(always)]
fn write_ip(
    src: IpAddr,
    dst: IpAddr,
    buf: &mut [u8],
    hop_limit: u8,
    tcp: impl FnOnce(&mut [u8], &IpAddr, &IpAddr) -> wire::Result<usize>,
) -> Option<usize> {
    let header = IpRepr::new(src, dst, IpProtocol::TCP, 0, hop_limit)?.header_len();
    let len = tcp(buf.get_mut(header..)?, &src, &dst).ok()?;
    // Built once the length is known rather than kept across the call
    // above, where it would go through memory field by field.
    IpRepr::new(src, dst, IpProtocol::TCP, len, hop_limit)?
        .emit(buf)
        .ok()?;
    Some(header + len)
}

#[allow(clippy::too_many_arguments)]
fn write_repr(
    tuple: &FourTuple,
    buf: &mut [u8],
    hop_limit: u8,
    seq: SeqNum,
    ack: SeqNum,
    flags: TcpFlags,
    window: u16,
    options: TcpOptions,
) -> Option<usize> {
    let repr = TcpRepr {
        src_port: tuple.local.port(),
        dst_port: tuple.remote.port(),
        seq,
        ack,
        flags,
        window,
        urgent: 0,
        options,
        payload: &[],
    };
    write_segment(tuple, buf, hop_limit, |out, src, dst| {
        repr.emit(out, src, dst)
    })
}

fn write_echo(
    src: IpAddr,
    dst: IpAddr,
    ident: u16,
    seq_no: u16,
    data: &[u8],
    buf: &mut [u8],
    hop_limit: u8,
) -> Option<usize> {
    match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => {
            let icmp = Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            };
            let mut ip = IpRepr::new(src, dst, IpProtocol::ICMP, icmp.buffer_len(), hop_limit)?;
            let h = ip.emit(buf).ok()?;
            let n = icmp.emit(buf.get_mut(h..)?).ok()?;
            ip.set_payload_len(n);
            Some(h + n)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let icmp = Icmpv6Repr::EchoReply {
                ident,
                seq_no,
                data,
            };
            let ip = IpRepr::new(src, dst, IpProtocol::ICMPV6, icmp.buffer_len(), hop_limit)?;
            let h = ip.emit(buf).ok()?;
            let n = icmp.emit(&s, &d, buf.get_mut(h..)?).ok()?;
            Some(h + n)
        }
        _ => None,
    }
}
