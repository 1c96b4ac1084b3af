//! TCP segmentation and checksum offload across a TUN device, the way a
//! NIC's TSO and GRO work: with the virtio-net header (`IFF_VNET_HDR`) the
//! kernel hands us up to 64 KiB of one flow's data as a single TCP segment,
//! and takes a burst of our segments as one packet that it cuts up itself
//! if it forwards it. One system call then carries a few dozen segments
//! instead of one; per-packet system calls are what bounds a TUN stack.
//!
//! The header is Linux's `struct virtio_net_hdr` (`linux/virtio_net.h`):
//! the legacy 10-byte layout, in host byte order on a TUN device.
//!
//! Nothing here does I/O: [`receive`] makes a packet read from the kernel
//! an ordinary one, and [`Coalescer`] gathers segments into one write.

use std::net::{Ipv4Addr, Ipv6Addr};

use wire::checksum::{self, Checksum};

/// Length of the virtio-net header before every packet.
pub const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum from `csum_start` to the
/// end is still to be computed and stored at `csum_start + csum_offset`;
/// the field holds the folded pseudo-header sum meanwhile.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_NONE`.
pub const GSO_NONE: u8 = 0;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
pub const GSO_TCPV4: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV6`.
pub const GSO_TCPV6: u8 = 4;
/// `VIRTIO_NET_HDR_GSO_ECN`: the segments carry CWR-era ECN marks.
const GSO_ECN: u8 = 0x80;

/// The largest packet a coalesced write may make: an IPv4 total length
/// (and, to keep one rule, the same for IPv6).
const MAX_PACKET: usize = 65535;

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;

/// A `virtio_net_hdr`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VnetHdr {
    /// `F_NEEDS_CSUM` or nothing.
    pub flags: u8,
    /// `GSO_NONE`, `GSO_TCPV4` or `GSO_TCPV6` (the ECN bit aside).
    pub gso_type: u8,
    /// Length of the headers (IP and TCP) of a segmentation packet.
    pub hdr_len: u16,
    /// The payload of each segment the packet stands for.
    pub gso_size: u16,
    /// Where the checksummed part begins.
    pub csum_start: u16,
    /// Where the checksum lies, from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Reads a header (host byte order).
    pub fn parse(b: &[u8; VNET_HDR_LEN]) -> VnetHdr {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    /// The header's bytes (host byte order).
    pub fn to_bytes(self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }
}

/// A packet from the kernel whose header points outside it, or of a kind
/// of segmentation not asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadOffload;

/// Makes a packet read with header `hdr` an ordinary one: a checksum the
/// kernel left partial is completed, so the stack verifies it like any
/// other. A segmentation packet stays whole: a TCP segment longer than
/// the MSS is still a TCP segment, and the stack takes it in one piece.
pub fn receive(hdr: &VnetHdr, packet: &mut [u8]) -> Result<(), BadOffload> {
    // Only the kinds TUNSETOFFLOAD asked for (the ECN bit aside).
    if !matches!(hdr.gso_type & !GSO_ECN, GSO_NONE | GSO_TCPV4 | GSO_TCPV6) {
        return Err(BadOffload);
    }
    if hdr.flags & F_NEEDS_CSUM == 0 {
        return Ok(());
    }
    let start = usize::from(hdr.csum_start);
    let field = start + usize::from(hdr.csum_offset);
    if field + 2 > packet.len() {
        return Err(BadOffload);
    }
    let mut sum = Checksum::new();
    sum.add_bytes(&packet[start..]);
    let mut value = sum.finish();
    // RFC 768: a UDP checksum that computes to zero is sent as all ones
    // (zero means "none").
    if value == 0 && ip_protocol(packet) == Some(PROTO_UDP) {
        value = 0xffff;
    }
    packet[field..field + 2].copy_from_slice(&value.to_be_bytes());
    Ok(())
}

/// The transport protocol of an IP packet without IPv6 extension headers.
fn ip_protocol(packet: &[u8]) -> Option<u8> {
    match packet.first()? >> 4 {
        4 => packet.get(9).copied(),
        6 => packet.get(6).copied(),
        _ => None,
    }
}

/// Where the headers of a TCP data segment lie, if it is one a
/// segmentation packet may carry: no IP options or extension headers, not
/// a fragment, flags ACK and maybe PSH, some payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    v6: bool,
    /// IP header length.
    ip: usize,
    /// IP and TCP header length.
    headers: usize,
}

impl Shape {
    fn of(p: &[u8]) -> Option<Shape> {
        let (v6, ip) = match p.first()? >> 4 {
            4 => {
                let ok = p.len() >= 20
                    && p[0] == 0x45
                    && usize::from(u16::from_be_bytes([p[2], p[3]])) == p.len()
                    // No MF, no fragment offset (DF is fine).
                    && u16::from_be_bytes([p[6], p[7]]) & 0x3fff == 0
                    && p[9] == PROTO_TCP;
                (false, ok.then_some(20)?)
            }
            6 => {
                let ok = p.len() >= 40
                    && usize::from(u16::from_be_bytes([p[4], p[5]])) + 40 == p.len()
                    && p[6] == PROTO_TCP;
                (true, ok.then_some(40)?)
            }
            _ => return None,
        };
        let tcp = p.get(ip..ip + 20)?;
        let headers = ip + usize::from(tcp[12] >> 4) * 4;
        let flags = tcp[13];
        let plain = flags & !TCP_PSH == TCP_ACK;
        (plain && headers >= ip + 20 && headers < p.len()).then_some(Shape { v6, ip, headers })
    }
}

/// The run of segments being gathered.
#[derive(Debug, Clone, Copy)]
struct Run {
    shape: Shape,
    /// The payload of each segment but the last (the first's).
    seg: usize,
    /// The sequence number the next segment must start at.
    next_seq: u32,
    segments: usize,
    /// A shorter segment or one with PSH came: it must be the last.
    closed: bool,
}

/// Gathers consecutive data segments of one flow into one segmentation
/// packet, as the kernel's GRO would on receive; anything else is sent as
/// it is. Segments join a run only if cutting the packet up again (by the
/// run's segment size, the kernel's GSO rules) gives back the same
/// segments: same addresses, ports, ACK, window and options, contiguous
/// sequence numbers, each as long as the first but the last, PSH only on
/// the last. Only the IPv4 identification of the later ones may change.
#[derive(Debug, Default)]
pub struct Coalescer {
    /// The header's room, then the first packet's headers, then the
    /// payloads.
    buf: Vec<u8>,
    run: Option<Run>,
}

impl Coalescer {
    /// An empty coalescer.
    pub fn new() -> Coalescer {
        Coalescer::default()
    }

    /// Sends `packet` by way of the run: it joins the run; or the run is
    /// written first and the packet begins the next; or, if it can begin
    /// none, it is written alone with an empty header. `write` takes a
    /// packet's bytes in two parts to write as one.
    pub fn send<E>(
        &mut self,
        packet: &[u8],
        mut write: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.offer(packet) {
            return Ok(());
        }
        // It does not continue the run: the run goes first, in order.
        self.flush(&mut write)?;
        if self.offer(packet) {
            return Ok(());
        }
        write(&VnetHdr::default().to_bytes(), packet)
    }

    /// Writes the run being gathered, if any.
    pub fn flush<E>(
        &mut self,
        mut write: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        match self.take() {
            Some(bytes) => write(bytes, &[]),
            None => Ok(()),
        }
    }

    /// Takes `packet` into the run, or begins one with it; `false` if it
    /// can do neither.
    fn offer(&mut self, packet: &[u8]) -> bool {
        match self.run {
            Some(run) => self.extend(run, packet),
            None => self.begin(packet),
        }
    }

    fn begin(&mut self, packet: &[u8]) -> bool {
        let Some(shape) = Shape::of(packet) else {
            return false;
        };
        let tcp = &packet[shape.ip..];
        let seg = packet.len() - shape.headers;
        self.buf.clear();
        self.buf.extend_from_slice(&[0; VNET_HDR_LEN]);
        self.buf.extend_from_slice(packet);
        self.run = Some(Run {
            shape,
            seg,
            next_seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]).wrapping_add(seg as u32),
            segments: 1,
            closed: tcp[13] & TCP_PSH != 0,
        });
        true
    }

    fn extend(&mut self, mut run: Run, packet: &[u8]) -> bool {
        if run.closed || Shape::of(packet) != Some(run.shape) {
            return false;
        }
        let first = &self.buf[VNET_HDR_LEN..VNET_HDR_LEN + run.shape.headers];
        let payload = packet.len() - run.shape.headers;
        let (ip, headers) = (run.shape.ip, run.shape.headers);
        // The IP fields every segment shares: IPv4 version, TOS, flags,
        // TTL, protocol and addresses (not length, identification or
        // checksum); all of IPv6's but the payload length.
        let same_ip = if run.shape.v6 {
            packet[..4] == first[..4] && packet[6..40] == first[6..40]
        } else {
            packet[..2] == first[..2]
                && packet[6..10] == first[6..10]
                && packet[12..20] == first[12..20]
        };
        let (t, f) = (&packet[ip..headers], &first[ip..headers]);
        let seq = u32::from_be_bytes([t[4], t[5], t[6], t[7]]);
        // Ports, ACK number, header length, window, urgent pointer and
        // options equal; the flags too, but for PSH.
        let same_tcp = t[..4] == f[..4]
            && t[8..13] == f[8..13]
            && t[13] & !TCP_PSH == f[13] & !TCP_PSH
            && t[14..16] == f[14..16]
            && t[18..] == f[18..];
        if !same_ip
            || !same_tcp
            || seq != run.next_seq
            || payload > run.seg
            || self.buf.len() - VNET_HDR_LEN + payload > MAX_PACKET
        {
            return false;
        }
        self.buf.extend_from_slice(&packet[headers..]);
        run.next_seq = seq.wrapping_add(payload as u32);
        run.segments += 1;
        if t[13] & TCP_PSH != 0 {
            // The segments GSO makes carry PSH on the last only.
            self.buf[VNET_HDR_LEN + ip + 13] |= TCP_PSH;
            run.closed = true;
        }
        run.closed |= payload < run.seg;
        self.run = Some(run);
        true
    }

    /// Ends the run: the bytes to write (header, then packet), or `None`
    /// if there was no run. A run of one segment goes as it came, with an
    /// empty header.
    fn take(&mut self) -> Option<&[u8]> {
        let run = self.run.take()?;
        if run.segments > 1 {
            self.seal(run);
        }
        Some(&self.buf)
    }

    /// Writes the lengths and the segmentation header of a run of several
    /// segments.
    fn seal(&mut self, run: Run) {
        let Shape { v6, ip, headers } = run.shape;
        let (hdr, p) = self.buf.split_at_mut(VNET_HDR_LEN);
        let total = p.len();
        let tcp_len = total - ip;
        let pseudo = if v6 {
            p[4..6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).expect("16 bytes"));
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).expect("16 bytes"));
            checksum::pseudo_header_v6(&src, &dst, PROTO_TCP, tcp_len as u32)
        } else {
            p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            p[10..12].copy_from_slice(&[0, 0]);
            let sum = checksum::checksum(&p[..20]);
            p[10..12].copy_from_slice(&sum.to_be_bytes());
            let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
            let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
            checksum::pseudo_header_v4(src, dst, PROTO_TCP, tcp_len as u16)
        };
        // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum,
        // and whoever completes it sums from the TCP header on.
        p[ip + 16..ip + 18].copy_from_slice(&pseudo.fold().to_be_bytes());
        let vnet = VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: if v6 { GSO_TCPV6 } else { GSO_TCPV4 },
            hdr_len: headers as u16,
            gso_size: run.seg as u16,
            csum_start: ip as u16,
            csum_offset: 16,
        };
        hdr.copy_from_slice(&vnet.to_bytes());
    }
}

#[cfg(test)]
mod tests;
