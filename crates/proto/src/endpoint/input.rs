//! Packets in: IP checks, TCP demultiplexing (connection, TIME-WAIT,
//! listener, or a RST), SYN handling with queues and cookies, and ICMP.

use core::net::{IpAddr, SocketAddr};

use wire::icmpv4::{Icmpv4DstUnreachable, Icmpv4Repr, Quoted, QuotedTcp};
use wire::icmpv6::{Icmpv6DstUnreachable, Icmpv6Repr};
use wire::ip::{self, IpProtocol, IpRepr};
use wire::ipv4;
use wire::tcp::{PendingChecksum, TcpFlags, TcpRepr};
use wire::{Error, Instant};

use super::cookie;
use super::demux::FourTuple;
use super::output::Reply;
use super::timewait::TwVerdict;
use super::tuple_map::{Lookup, TupleKey};
use super::{ConnHandle, Endpoint, Fresh, ListenerHandle, NewConn, Origin};
use crate::conn::{reset_for, Checked, Connection, SoftError, SynInfo};

/// Whether a source address may be answered at all (RFC 1122 §4.2.3.10:
/// never answer a broadcast or multicast source).
#[inline]
fn answerable(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => !(a.is_broadcast() || a.is_multicast() || a.is_unspecified()),
        IpAddr::V6(a) => !(a.is_multicast() || a.is_unspecified()),
    }
}

impl Endpoint {
    /// An IP packet arrived.
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.now = self.now.max(now);
        self.stats.packets_in += 1;
        if self.config.verify_checksums {
            // Nearly every packet: unfragmented IPv4 carrying TCP, read
            // without a general parse (which would find the same in it).
            if let Some((src, dst, tcp)) = ipv4::unfragmented_tcp(packet) {
                let (src, dst) = (IpAddr::V4(src), IpAddr::V4(dst));
                if self.accepts(dst) {
                    self.tcp_input(now, src, dst, tcp);
                }
                return;
            }
        }
        match ip::parse(packet, self.config.verify_checksums) {
            Ok((repr, payload)) => self.ip_input(now, repr, payload),
            Err(e) => self.count_parse_failure(e),
        }
    }

    /// A parsed IP packet. (Taken by value, and TCP given only the
    /// addresses: no reference to it is held on the way to TCP, so it
    /// need not be stored field by field to have an address.)
    #[inline]
    fn ip_input(&mut self, now: Instant, repr: IpRepr, payload: &[u8]) {
        if repr.is_fragment() {
            // Fragments are recognised, not reassembled (TCP avoids them
            // with its MSS and path MTU discovery).
            self.stats.fragments += 1;
            return;
        }
        if !self.accepts(repr.dst_addr()) {
            return;
        }
        match repr.protocol() {
            IpProtocol::TCP => self.tcp_input(now, repr.src_addr(), repr.dst_addr(), payload),
            IpProtocol::ICMP => {
                self.settle();
                self.icmpv4_input(now, &repr, payload);
            }
            IpProtocol::ICMPV6 => {
                self.settle();
                self.icmpv6_input(now, &repr, payload);
            }
            _ => {}
        }
    }

    /// Whether a packet to `dst` is for us; one that is not is counted.
    fn accepts(&mut self, dst: IpAddr) -> bool {
        let ours = self.is_ours(dst);
        if !ours {
            self.stats.not_ours += 1;
        }
        ours
    }

    /// A TCP segment from `src` to `dst`. (It and `segment_input` are
    /// inlined into their callers: the IPv4 packets of `handle_packet`'s
    /// fast path then go through them with addresses known to be IPv4.)
    #[inline(always)]
    fn tcp_input(&mut self, now: Instant, src: IpAddr, dst: IpAddr, bytes: &[u8]) {
        // With checksums on, the header is parsed before the payload is
        // summed: a segment for a connection goes to it unverified, and
        // the connection sums the payload as it copies it into its
        // receive buffer if the fast path takes it (conn/fused.rs), or
        // verifies it first. Every other segment is verified here before
        // anything looks at it, as `parse_bytes` would. (The parsed
        // segment is handed on where it lies: rewrapping it in another
        // `Result` or tuple copies its hundred bytes each time.)
        let parsed = if self.config.verify_checksums {
            // Parsed where it stays; only the checksum moves out.
            let mut seg = TcpRepr::EMPTY;
            match seg.parse_deferred_into(bytes, &src, &dst) {
                Ok(pending) => return self.segment_input(now, src, dst, &seg, Some(pending)),
                Err(e) => e,
            }
        } else {
            match TcpRepr::parse_bytes(bytes, &src, &dst, false) {
                Ok(seg) => return self.segment_input(now, src, dst, &seg, None),
                Err(e) => e,
            }
        };
        self.count_parse_failure(parsed);
    }

    /// A TCP segment from `src` to `dst`, its checksum verified unless
    /// `pending`.
    #[inline(always)]
    fn segment_input(
        &mut self,
        now: Instant,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
        pending: Option<PendingChecksum>,
    ) {
        let plausible = seg.src_port != 0 && seg.dst_port != 0 && answerable(src);
        let tuple = FourTuple::of_incoming(src, seg.src_port, dst, seg.dst_port);
        let found = plausible.then(|| self.by_tuple.lookup(&tuple));
        if let Some(Lookup::Hit(h)) = found {
            // A run of segments for one connection keeps its sync owed
            // (`Endpoint::unsynced`); one for any other settles it first.
            if self.unsynced.is_some_and(|u| u != h) {
                self.settle();
            }
            if let Some(e) = self.conns.get_mut(h.index, h.generation) {
                e.conn.lend_event_storage(&mut self.event_spare);
                match pending {
                    Some(pending) => match e.conn.handle_unverified_segment(now, seg, pending) {
                        Checked::BadChecksum => {
                            // Dropped, nothing changed: nothing to sync,
                            // only the storage lent for the call to take
                            // back (an idle connection holds no loan).
                            self.event_spare.take_back(&mut e.conn);
                            self.stats.bad_checksum += 1;
                            return;
                        }
                        Checked::Fused => self.stats.fused_in += 1,
                        Checked::Verified => {}
                    },
                    None => e.conn.handle_segment(now, seg),
                }
                let owe = e.may_owe_sync(self.ready.len());
                self.sync_or_owe(h, owe);
                return;
            }
        }
        self.settle();
        // No connection takes it: verified before anything else looks.
        if pending.is_some_and(|p| !p.verify(seg.payload)) {
            self.stats.bad_checksum += 1;
            return;
        }
        if !plausible {
            self.stats.malformed += 1;
            return;
        }
        // The hash of the connection table's miss serves the tables after.
        let key = match found {
            Some(Lookup::Miss(key)) => key,
            _ => self.by_tuple.key(&tuple),
        };
        if self.time_wait_input(now, &key, seg) {
            return;
        }
        let listener = self
            .listen_map
            .get(&(Some(dst), seg.dst_port))
            .or_else(|| self.listen_map.get(&(None, seg.dst_port)))
            .copied();
        match listener {
            Some(l) => self.listener_input(now, l, &key, seg),
            None => self.reset(tuple, seg),
        }
    }

    /// RFC 9293 §3.10.7.1: a segment for no connection draws a RST
    /// (never one answering a RST).
    fn reset(&mut self, tuple: FourTuple, seg: &TcpRepr<'_>) {
        if let Some((seq, ack, flags)) = reset_for(seg) {
            self.stats.resets_sent += 1;
            self.push_reply(Reply::Rst {
                tuple,
                seq,
                ack,
                flags,
            });
        }
    }

    /// A segment for a compact TIME-WAIT entry. Returns whether it was
    /// handled (false: a new SYN to pass on to the listener).
    fn time_wait_input(&mut self, now: Instant, key: &TupleKey<'_>, seg: &TcpRepr<'_>) -> bool {
        let Some(tw) = self.time_wait.get_mut(key) else {
            return false;
        };
        match tw.judge(seg) {
            TwVerdict::Drop => true,
            TwVerdict::Ack if !tw.may_answer(now) => {
                self.stats.time_wait_acks_limited += 1;
                true
            }
            TwVerdict::Close => {
                self.time_wait.remove(key);
                true
            }
            TwVerdict::Reopen => {
                self.time_wait.remove(key);
                false
            }
            verdict => {
                let (seq, ack, window, ts) = tw.ack(now);
                if verdict == TwVerdict::AckAndRestart {
                    self.time_wait.restart(key, now + 2 * self.config.conn.msl);
                }
                self.push_reply(Reply::Ack {
                    tuple: *key.tuple(),
                    seq,
                    ack,
                    window,
                    ts,
                });
                true
            }
        }
    }

    /// A segment for a listener (RFC 9293 §3.10.7.2), with the SYN and
    /// accept queues and SYN cookies (RFC 4987).
    fn listener_input(
        &mut self,
        now: Instant,
        l: ListenerHandle,
        key: &TupleKey<'_>,
        seg: &TcpRepr<'_>,
    ) {
        let tuple = *key.tuple();
        let flags = seg.flags;
        if flags.contains(TcpFlags::RST) {
            return;
        }
        if flags.contains(TcpFlags::ACK) {
            if !flags.contains(TcpFlags::SYN) && self.cookie_ack(now, l, key, seg) {
                return;
            }
            self.reset(tuple, seg);
            return;
        }
        if !flags.contains(TcpFlags::SYN) {
            return;
        }
        let Some(listener) = self.listeners.get(l.index, l.generation) else {
            return;
        };
        if listener.accept_queue_full() || self.conns.len() >= self.config.max_connections {
            self.stats.syns_dropped += 1;
            return;
        }
        let v6 = tuple.local.is_ipv6();
        let cfg = listener.configs.get(v6);
        if listener.syn_queue_full() || self.half_open >= self.config.max_half_open {
            if self.config.syn_cookies {
                self.send_cookie(now, tuple, seg, &cfg);
            } else {
                self.stats.syns_dropped += 1;
            }
            return;
        }
        let iss = self.secrets.isn(&tuple, now);
        let conn = NewConn::Fresh(Fresh {
            config: cfg,
            local_port: tuple.local.port(),
            remote_port: 0,
            iss,
            now,
        });
        let (h, conn) = self.insert(key, conn, Origin::Syn(l));
        conn.handle_segment(now, seg);
        self.half_open += 1;
        if let Some(listener) = self.listeners.get_mut(l.index, l.generation) {
            listener.syn_queue += 1;
        }
        self.sync(h, true);
    }

    /// Answers a SYN with a cookie SYN-ACK and keeps nothing.
    fn send_cookie(
        &mut self,
        now: Instant,
        tuple: FourTuple,
        seg: &TcpRepr<'_>,
        cfg: &crate::conn::Config,
    ) {
        let iss = cookie::encode(
            &self.secrets,
            &tuple,
            seg.seq,
            &seg.options,
            cfg.default_peer_mss,
            now,
        );
        let mut options = wire::tcp::TcpOptions {
            mss: Some(cfg.mss),
            ..Default::default()
        };
        // Window scale and SACK survive only inside the timestamp, so they
        // are offered only when the SYN carries timestamps.
        if let (Some(ts), true) = (seg.options.timestamps, cfg.timestamps) {
            if cfg.window_scaling && seg.options.window_scale.is_some() {
                options.window_scale = Some(cfg.rcv_wscale());
            }
            options.sack_permitted = cfg.sack && seg.options.sack_permitted;
            let clock = (now.millis() as u32).wrapping_add(Connection::ts_offset_for(iss));
            let mut syn_opts = seg.options;
            syn_opts.window_scale = options.window_scale.and(syn_opts.window_scale);
            syn_opts.sack_permitted = options.sack_permitted;
            options.timestamps = Some(wire::tcp::Timestamps {
                tsval: cookie::encode_tsval(clock, &syn_opts),
                tsecr: ts.tsval,
            });
        }
        self.stats.syn_cookies_sent += 1;
        self.push_reply(Reply::SynAck {
            tuple,
            seq: iss,
            ack: seg.seq + 1,
            window: cfg.recv_buffer.min(0xffff) as u16,
            options,
        });
    }

    /// An ACK to a listener that may return one of our cookies. Returns
    /// whether it did (and the connection now exists).
    fn cookie_ack(
        &mut self,
        now: Instant,
        l: ListenerHandle,
        key: &TupleKey<'_>,
        seg: &TcpRepr<'_>,
    ) -> bool {
        let tuple = *key.tuple();
        if !self.config.syn_cookies {
            return false;
        }
        let Some(decoded) = cookie::decode(
            &self.secrets,
            &tuple,
            seg.seq,
            seg.ack,
            seg.options.timestamps,
            now,
        ) else {
            self.stats.syn_cookies_invalid += 1;
            return false;
        };
        let Some(listener) = self.listeners.get(l.index, l.generation) else {
            return false;
        };
        if listener.accept_queue_full() || self.conns.len() >= self.config.max_connections {
            self.stats.syns_dropped += 1;
            // Dropped, not reset: the peer retransmits and may get in.
            return true;
        }
        let cfg = listener.configs.get(tuple.local.is_ipv6());
        let syn = SynInfo {
            remote_port: tuple.remote.port(),
            irs: decoded.irs,
            options: decoded.options,
        };
        let conn = Connection::from_syn_cookie(cfg, tuple.local.port(), decoded.iss, &syn, now);
        let (h, conn) = self.insert(key, NewConn::Built(conn), Origin::Cookie(l));
        conn.handle_segment(now, seg);
        self.stats.syn_cookies_accepted += 1;
        // It was SYN-RECEIVED for an instant; it became established (or
        // died) with this ACK, so count it as such in sync.
        if let Some(e) = self.conns.get_mut(h.index, h.generation) {
            if e.conn.state() == crate::conn::State::SynReceived {
                e.half_open = true;
                self.half_open += 1;
                if let Some(listener) = self.listeners.get_mut(l.index, l.generation) {
                    listener.syn_queue += 1;
                }
            }
        }
        self.sync(h, true);
        true
    }

    /// Counts a packet dropped because it did not parse: a failed
    /// checksum as such, anything else as malformed.
    fn count_parse_failure(&mut self, e: Error) {
        match e {
            Error::BadChecksum => self.stats.bad_checksum += 1,
            _ => self.stats.malformed += 1,
        }
    }

    fn icmpv4_input(&mut self, now: Instant, ip: &IpRepr, bytes: &[u8]) {
        let repr = match Icmpv4Repr::parse_bytes(bytes, self.config.verify_checksums) {
            Ok(r) => r,
            // A type or code we do not handle: not a malformed message.
            Err(Error::Unsupported) => return,
            Err(e) => {
                self.count_parse_failure(e);
                return;
            }
        };
        match repr {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => self.echo_reply(ip, ident, seq_no, data),
            Icmpv4Repr::DstUnreachable { reason, quoted } => {
                let Ok(q) = Quoted::parse_v4(quoted).and_then(|q| q.tcp()) else {
                    return;
                };
                let error = match reason {
                    Icmpv4DstUnreachable::FragNeeded { next_hop_mtu } => {
                        // RFC 1191: an MTU of 0 (old routers) is not usable;
                        // IPv4 guarantees 576 (RFC 791).
                        let mtu = u32::from(next_hop_mtu).max(576);
                        self.path_mtu(now, &q, mtu, 20);
                        return;
                    }
                    Icmpv4DstUnreachable::NetUnreachable => SoftError::NetUnreachable,
                    Icmpv4DstUnreachable::HostUnreachable => SoftError::HostUnreachable,
                    Icmpv4DstUnreachable::ProtoUnreachable
                    | Icmpv4DstUnreachable::PortUnreachable => SoftError::PortUnreachable,
                    Icmpv4DstUnreachable::AdminProhibited => SoftError::Prohibited,
                    Icmpv4DstUnreachable::Other(_) => SoftError::HostUnreachable,
                };
                self.soft_error(&q, error);
            }
            _ => {}
        }
    }

    fn icmpv6_input(&mut self, now: Instant, ip: &IpRepr, bytes: &[u8]) {
        let (IpAddr::V6(src), IpAddr::V6(dst)) = (ip.src_addr(), ip.dst_addr()) else {
            return;
        };
        let repr = match Icmpv6Repr::parse_bytes(bytes, &src, &dst, self.config.verify_checksums) {
            Ok(r) => r,
            // A type or code we do not handle: not a malformed message.
            Err(Error::Unsupported) => return,
            Err(e) => {
                self.count_parse_failure(e);
                return;
            }
        };
        match repr {
            Icmpv6Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => self.echo_reply(ip, ident, seq_no, data),
            Icmpv6Repr::PacketTooBig { mtu, quoted } => {
                let Ok(q) = Quoted::parse_v6(quoted).and_then(|q| q.tcp()) else {
                    return;
                };
                // RFC 8201 §4: IPv6 links carry at least 1280 bytes.
                let mtu = mtu.max(1280);
                self.path_mtu(now, &q, mtu, 40);
            }
            Icmpv6Repr::DstUnreachable { reason, quoted } => {
                let Ok(q) = Quoted::parse_v6(quoted).and_then(|q| q.tcp()) else {
                    return;
                };
                let error = match reason {
                    Icmpv6DstUnreachable::PortUnreachable => SoftError::PortUnreachable,
                    Icmpv6DstUnreachable::AdminProhibited => SoftError::Prohibited,
                    Icmpv6DstUnreachable::NoRoute => SoftError::NetUnreachable,
                    _ => SoftError::HostUnreachable,
                };
                self.soft_error(&q, error);
            }
            _ => {}
        }
    }

    /// The connection a quoted segment of ours belongs to (its source is
    /// our side).
    fn quoted_conn(&self, q: &QuotedTcp) -> Option<ConnHandle> {
        let tuple = FourTuple {
            local: SocketAddr::new(q.src, q.src_port),
            remote: SocketAddr::new(q.dst, q.dst_port),
        };
        self.by_tuple.get(&self.by_tuple.key(&tuple)).copied()
    }

    fn path_mtu(&mut self, now: Instant, q: &QuotedTcp, mtu: u32, ip_header: u32) {
        let Some(h) = self.quoted_conn(q) else {
            return;
        };
        if let Some(e) = self.conns.get_mut(h.index, h.generation) {
            if e.conn.on_packet_too_big(mtu, ip_header, q.seq, now) {
                self.stats.icmp_errors += 1;
            }
        }
        self.sync(h, true);
    }

    fn soft_error(&mut self, q: &QuotedTcp, error: SoftError) {
        let Some(h) = self.quoted_conn(q) else {
            return;
        };
        if let Some(e) = self.conns.get_mut(h.index, h.generation) {
            // Counted only when taken: RFC 5927 §4.1 ignores quotes of
            // sequence numbers not in flight.
            if e.conn.on_soft_error(error, q.seq) {
                self.stats.icmp_errors += 1;
            }
        }
        self.sync(h, false);
    }

    fn echo_reply(&mut self, ip: &IpRepr, ident: u16, seq_no: u16, data: &[u8]) {
        if !self.config.icmp_echo || !answerable(ip.src_addr()) {
            return;
        }
        // Never more than fits in one packet of our MTU.
        let max = usize::from(self.config.mtu).saturating_sub(ip.header_len() + 8);
        let data = &data[..data.len().min(max)];
        self.stats.echo_replies += 1;
        self.push_reply(Reply::Echo {
            src: ip.dst_addr(),
            dst: ip.src_addr(),
            ident,
            seq_no,
            data: data.to_vec(),
        });
    }
}
