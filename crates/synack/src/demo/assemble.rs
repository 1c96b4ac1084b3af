//! From what the simulated hosts recorded to what the demo draws: every
//! packet with its send and arrival times (or its loss), the capture file,
//! and each side's states as the stack reported them.

use std::collections::HashMap;
use std::net::SocketAddr;

use proto::conn::{Cause, SendReason};
use sim::HostId;
use wire::Instant;

use super::host::{digest, Sent};
use super::run::Ran;
use super::script::Script;
use crate::viz::{self, Conversation, Mark, Packet, Seg, Side, StateChange, Timeline};

/// Every packet sent, from every host, in the order they left (time, then
/// host, then the host's own order): the order of the capture file.
pub(crate) fn wire_order(ran: &Ran) -> Vec<(HostId, &Sent)> {
    let mut hosts = vec![ran.client, ran.server];
    hosts.extend(ran.flooder);
    let mut all: Vec<(Instant, usize, usize, HostId, &Sent)> = Vec::new();
    for (rank, &h) in hosts.iter().enumerate() {
        for (k, s) in ran.net.host(h).sent().iter().enumerate() {
            all.push((s.at, rank, k, h, s));
        }
    }
    all.sort_by_key(|&(at, rank, k, ..)| (at, rank, k));
    all.into_iter().map(|(.., h, s)| (h, s)).collect()
}

/// The capture: every packet as it left its host (lost ones included), as
/// a pcap file of raw IP packets with microsecond timestamps.
pub(crate) fn pcap_bytes(order: &[(HostId, &Sent)]) -> Vec<u8> {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::{DataLink, Endianness, TsResolution};
    let header = PcapHeader {
        version_major: 2,
        version_minor: 4,
        ts_correction: 0,
        ts_accuracy: 0,
        snaplen: 65535,
        datalink: DataLink::RAW,
        ts_resolution: TsResolution::MicroSecond,
        endianness: Endianness::Little,
    };
    let Ok(mut w) = PcapWriter::with_header(Vec::new(), header) else {
        return Vec::new();
    };
    for (_, s) in order {
        let ts = std::time::Duration::from_micros(s.at.micros());
        let _ = w.write_packet(&PcapPacket::new(ts, s.bytes.len() as u32, &s.bytes));
    }
    w.into_writer()
}

/// The remark a send reason makes.
fn reason_mark(r: SendReason) -> Option<Mark> {
    match r {
        SendReason::Retransmission => Some(Mark::Retransmission),
        SendReason::FastRetransmit => Some(Mark::FastRetransmit),
        SendReason::WindowProbe => Some(Mark::WindowProbe),
        SendReason::KeepAlive => Some(Mark::KeepAlive),
        SendReason::ChallengeAck => Some(Mark::ChallengeAck),
        _ => None,
    }
}

/// Every TCP packet the client and server sent, with its fate.
pub(crate) fn packets(ran: &Ran, order: &[(HostId, &Sent)]) -> Vec<Packet> {
    let dup = ran.net.link_spec(ran.net.uplink(ran.client)).dup > 0.0;
    let peers = [ran.client, ran.server];
    // When each host received each distinct packet.
    let mut arrivals: HashMap<(HostId, u64), Vec<Instant>> = HashMap::new();
    for &h in &peers {
        for &(at, d) in &ran.net.host(h).peer().received {
            arrivals.entry((h, d)).or_default().push(at);
        }
    }
    let mut used: HashMap<(HostId, u64), usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, &(h, s)) in order.iter().enumerate() {
        if !peers.contains(&h) {
            continue;
        }
        let Some(seg) = Seg::parse_ip(&s.bytes) else {
            continue;
        };
        let dst = ran
            .net
            .host_by_addr(seg.dst.ip())
            .filter(|d| peers.contains(d));
        let mut p = Packet::seen(seg, s.at);
        match dst {
            Some(d) => {
                let key = (d, digest(&s.bytes));
                // The next identical packet sent later, if any, bounds the
                // arrival that can be this one's.
                let next_same = order[i + 1..]
                    .iter()
                    .find(|(h2, s2)| *h2 == h && s2.at > s.at && s2.bytes == s.bytes)
                    .map(|(_, s2)| s2.at);
                let times = arrivals.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                let k = used.entry(key).or_default();
                let before_next = |t: Instant| next_same.is_none_or(|n| t < n);
                match times.get(*k) {
                    Some(&t) if t >= s.at && before_next(t) => {
                        p.arrived = Some(t);
                        *k += 1;
                        if dup && times.get(*k).is_some_and(|&t2| before_next(t2)) {
                            // Delivered twice by the network.
                            p.mark(Mark::Duplicated);
                            *k += 1;
                        }
                    }
                    _ => p.lost = true,
                }
            }
            None => p.lost = true,
        }
        if let Some(m) = s.mark {
            p.mark(m);
        }
        if let Some(m) = s.reason.and_then(reason_mark) {
            p.mark(m);
        }
        out.push(p);
    }
    out
}

/// The conversation of the demo's connection (the client's 4-tuple).
pub(crate) fn conversation(ran: &Ran, packets: Vec<Packet>) -> Option<Conversation> {
    let client = &ran.net.host(ran.client).peer().script;
    let (local, remote) = client.tuple?;
    let mut conv = viz::group(packets).into_iter().find(|c| {
        (c.left == local && c.right == remote) || (c.left == remote && c.right == local)
    })?;
    viz::marks::infer(&mut conv);
    // The sender said why: "fast retransmit" says more than the
    // "retransmission" the segments alone show.
    for p in &mut conv.packets {
        if p.has(Mark::FastRetransmit) {
            p.marks.retain(|m| *m != Mark::Retransmission);
        }
    }
    Some(conv)
}

/// Whether a cause is something arriving (else something the application
/// or a timer did).
fn on_arrival(c: Cause) -> bool {
    matches!(
        c,
        Cause::SynReceived
            | Cause::SynAckReceived
            | Cause::AckReceived
            | Cause::FinReceived
            | Cause::FinAckReceived
            | Cause::RstReceived
            | Cause::DataAfterClose
    )
}

/// The packet whose arrival at (or departure from) `side` at `at` made a
/// state change with `cause`.
fn link(conv: &Conversation, side: Side, at: Instant, cause: Cause) -> Option<usize> {
    let from_side = |p: &Packet| conv.is_rightward(p) == (side == Side::Left);
    if on_arrival(cause) {
        conv.packets
            .iter()
            .rposition(|p| !from_side(p) && !p.lost && p.arrived == Some(at))
    } else if matches!(cause, Cause::ActiveOpen | Cause::Close | Cause::Abort) {
        conv.packets.iter().position(|p| {
            from_side(p)
                && p.sent == at
                && !p.has(Mark::OldDuplicate)
                && !p.has(Mark::Retransmission)
        })
    } else {
        None
    }
}

/// Each side's states: reported by the stack from the moment the
/// application held the connection, inferred from the segments before (a
/// listener's connection is the application's only once accepted).
pub(crate) fn timeline(ran: &Ran, conv: &Conversation) -> Timeline {
    let inferred = viz::infer::infer(conv);
    let scripts: [&Script; 2] = [
        &ran.net.host(ran.client).peer().script,
        &ran.net.host(ran.server).peer().script,
    ];
    let client_addr = scripts[0].tuple.map(|t| t.0);
    let client_side = if Some(conv.left) == client_addr {
        Side::Left
    } else {
        Side::Right
    };
    let mut initial = inferred.initial;
    let mut changes: Vec<StateChange> = Vec::new();
    for (k, script) in scripts.iter().enumerate() {
        let side = if k == 0 {
            client_side
        } else {
            client_side.other()
        };
        let real = script.acquired.filter(|_| matches_conv(script, conv));
        let Some(acquired) = real else {
            changes.extend(inferred.changes.iter().filter(|c| c.side == side));
            continue;
        };
        changes.extend(
            inferred
                .changes
                .iter()
                .filter(|c| c.side == side && c.at <= acquired && !starts_before(script, acquired)),
        );
        if starts_before(script, acquired) {
            if let Some(&(_, from, ..)) = script.log.first() {
                initial[side.index()] = from;
            }
        }
        for &(at, from, to, cause) in &script.log {
            changes.push(StateChange {
                side,
                at,
                from,
                to,
                cause: Some(cause),
                packet: link(conv, side, at, cause),
            });
        }
    }
    changes.sort_by_key(|c| c.at);
    Timeline { initial, changes }
}

/// Whether the script's connection is this conversation.
fn matches_conv(script: &Script, conv: &Conversation) -> bool {
    let pair = |a: SocketAddr, b: SocketAddr| {
        (a == conv.left && b == conv.right) || (a == conv.right && b == conv.left)
    };
    script.tuple.is_some_and(|(l, r)| pair(l, r))
}

/// Whether the stack reported the connection's whole life (an active
/// open: its first change is from CLOSED, at the moment it was acquired).
fn starts_before(script: &Script, acquired: Instant) -> bool {
    script
        .log
        .first()
        .is_some_and(|&(at, from, ..)| at == acquired && from == proto::conn::State::Closed)
}
