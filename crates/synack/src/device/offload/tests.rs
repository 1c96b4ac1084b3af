//! The coalescer is checked against a plain model of the kernel's GSO:
//! whatever it gathers must cut back into exactly the segments it was
//! given. Packets are written byte by byte here (RFC 791, RFC 8200,
//! RFC 9293 layouts), independently of synack's own writer.

use super::*;

/// One test segment's fields.
#[derive(Debug, Clone)]
struct Seg {
    v6: bool,
    /// Which of two flows (different source ports).
    flow: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: Vec<u8>,
    payload: Vec<u8>,
    id: u16,
}

const V4_SRC: [u8; 4] = [10, 0, 0, 2];
const V4_DST: [u8; 4] = [10, 0, 0, 1];
const V6_SRC: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const V6_DST: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

fn tcp_sum(p: &[u8], ip: usize) -> Checksum {
    let len = p.len() - ip;
    if p[0] >> 4 == 6 {
        let src = Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).unwrap());
        let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).unwrap());
        checksum::pseudo_header_v6(&src, &dst, PROTO_TCP, len as u32)
    } else {
        let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
        let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
        checksum::pseudo_header_v4(src, dst, PROTO_TCP, len as u16)
    }
}

/// Sets a packet's checksums (IPv4 header, TCP) from scratch.
fn fill_checksums(p: &mut [u8]) {
    let ip = if p[0] >> 4 == 6 { 40 } else { 20 };
    if ip == 20 {
        p[10..12].fill(0);
        let s = checksum::checksum(&p[..20]);
        p[10..12].copy_from_slice(&s.to_be_bytes());
    }
    p[ip + 16..ip + 18].fill(0);
    let mut sum = tcp_sum(p, ip);
    sum.add_bytes(&p[ip..]);
    p[ip + 16..ip + 18].copy_from_slice(&sum.finish().to_be_bytes());
}

fn write(s: &Seg) -> Vec<u8> {
    let tcp_len = 20 + s.options.len() + s.payload.len();
    let mut p = Vec::new();
    if s.v6 {
        p.extend_from_slice(&[0x60, 0, 0, 0]);
        p.extend_from_slice(&(tcp_len as u16).to_be_bytes());
        p.extend_from_slice(&[PROTO_TCP, 64]);
        p.extend_from_slice(&V6_SRC);
        p.extend_from_slice(&V6_DST);
    } else {
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        p.extend_from_slice(&s.id.to_be_bytes());
        p.extend_from_slice(&[0x40, 0, 64, PROTO_TCP, 0, 0]);
        p.extend_from_slice(&V4_SRC);
        p.extend_from_slice(&V4_DST);
    }
    p.extend_from_slice(&(40000 + s.flow).to_be_bytes());
    p.extend_from_slice(&80u16.to_be_bytes());
    p.extend_from_slice(&s.seq.to_be_bytes());
    p.extend_from_slice(&s.ack.to_be_bytes());
    p.push((((20 + s.options.len()) / 4) as u8) << 4);
    p.push(s.flags);
    p.extend_from_slice(&s.window.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend_from_slice(&s.options);
    p.extend_from_slice(&s.payload);
    fill_checksums(&mut p);
    p
}

/// The kernel's GSO, plainly: a write (header, packet) cut into the
/// segments it stands for, checksums complete, IPv4 identifications
/// counting up from the first.
fn cut(write: &[u8]) -> Vec<Vec<u8>> {
    let hdr = VnetHdr::parse(write[..VNET_HDR_LEN].try_into().unwrap());
    let mut p = write[VNET_HDR_LEN..].to_vec();
    if hdr.gso_type == GSO_NONE {
        receive(&hdr, &mut p).unwrap();
        return vec![p];
    }
    let v6 = hdr.gso_type == GSO_TCPV6;
    assert_eq!(hdr.flags, F_NEEDS_CSUM);
    assert_eq!(usize::from(hdr.csum_start), if v6 { 40 } else { 20 });
    assert_eq!(hdr.csum_offset, 16);
    let headers = usize::from(hdr.hdr_len);
    let ip = usize::from(hdr.csum_start);
    // The packet as a whole is coherent: its lengths, its IPv4 header
    // checksum, and its TCP checksum once completed.
    if v6 {
        assert_eq!(usize::from(u16::from_be_bytes([p[4], p[5]])) + 40, p.len());
    } else {
        assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len());
        assert!(checksum::verify(&p[..20]), "IPv4 header checksum");
    }
    let mut whole = p.clone();
    receive(&hdr, &mut whole).unwrap();
    let mut sum = tcp_sum(&whole, ip);
    sum.add_bytes(&whole[ip..]);
    assert_eq!(sum.fold(), 0xffff, "completed TCP checksum");
    let seq0 = u32::from_be_bytes(p[ip + 4..ip + 8].try_into().unwrap());
    let id0 = u16::from_be_bytes([p[4], p[5]]);
    let psh = p[ip + 13] & TCP_PSH;
    let chunks: Vec<&[u8]> = p[headers..].chunks(usize::from(hdr.gso_size)).collect();
    let n = chunks.len();
    assert!(
        n >= 2,
        "a segmentation packet stands for two segments or more"
    );
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut s = p[..headers].to_vec();
            s.extend_from_slice(chunk);
            let len = s.len();
            if v6 {
                s[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
            } else {
                s[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                s[4..6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
            }
            let off = (i * usize::from(hdr.gso_size)) as u32;
            s[ip + 4..ip + 8].copy_from_slice(&seq0.wrapping_add(off).to_be_bytes());
            s[ip + 13] = (s[ip + 13] & !TCP_PSH) | if i + 1 == n { psh } else { 0 };
            fill_checksums(&mut s);
            s
        })
        .collect()
}

/// What the device would write for `packets`: each sent, then the run
/// flushed, as `Tun` does over a burst.
fn writes(packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut c = Coalescer::new();
    let mut out = Vec::new();
    let mut write = |head: &[u8], tail: &[u8]| -> Result<(), ()> {
        out.push([head, tail].concat());
        Ok(())
    };
    for p in packets {
        c.send(p, &mut write).unwrap();
    }
    c.flush(&mut write).unwrap();
    out
}

/// `packets` with the IPv4 identification of every packet zeroed (GSO
/// numbers the segments itself) and its header checksum redone.
fn without_ids(packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
    packets
        .iter()
        .map(|p| {
            let mut p = p.clone();
            if p[0] >> 4 == 4 {
                p[4..6].fill(0);
                fill_checksums(&mut p);
            }
            p
        })
        .collect()
}

/// Checks that `packets` make `expected_writes` writes that cut back into
/// them.
fn round_trip(packets: &[Vec<u8>], expected_writes: usize) {
    let w = writes(packets);
    let back: Vec<Vec<u8>> = w.iter().flat_map(|w| cut(w)).collect();
    assert_eq!(without_ids(&back), without_ids(packets));
    assert_eq!(w.len(), expected_writes, "writes");
}

fn data(v6: bool, seq: u32, len: usize, flags: u8) -> Seg {
    Seg {
        v6,
        flow: 0,
        seq,
        ack: 7777,
        flags,
        window: 512,
        // NOP, NOP, timestamps.
        options: vec![1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3],
        payload: (0..len).map(|i| (seq as usize + i) as u8).collect(),
        id: seq as u16,
    }
}

/// A burst of `n` full segments of 1448 bytes from sequence 1000.
fn burst(v6: bool, n: u32) -> Vec<Seg> {
    (0..n)
        .map(|i| data(v6, 1000 + i * 1448, 1448, TCP_ACK))
        .collect()
}

fn packets(segs: &[Seg]) -> Vec<Vec<u8>> {
    segs.iter().map(write).collect()
}

#[test]
fn a_burst_of_one_flow_becomes_one_write_that_cuts_back_into_it() {
    for v6 in [false, true] {
        let mut segs = burst(v6, 10);
        // The last shorter, with PSH: still the same write.
        segs.push(data(v6, 1000 + 10 * 1448, 300, TCP_ACK | TCP_PSH));
        let p = packets(&segs);
        round_trip(&p, 1);
        let w = writes(&p);
        let hdr = VnetHdr::parse(w[0][..VNET_HDR_LEN].try_into().unwrap());
        let ip: u16 = if v6 { 40 } else { 20 };
        assert_eq!(
            hdr,
            VnetHdr {
                flags: F_NEEDS_CSUM,
                gso_type: if v6 { GSO_TCPV6 } else { GSO_TCPV4 },
                hdr_len: ip + 32,
                gso_size: 1448,
                csum_start: ip,
                csum_offset: 16,
            }
        );
        assert_eq!(
            w[0].len(),
            VNET_HDR_LEN + usize::from(ip) + 32 + 10 * 1448 + 300
        );
    }
}

#[test]
fn a_run_of_one_goes_as_it_came_with_an_empty_header() {
    let p = packets(&burst(false, 1));
    let w = writes(&p);
    assert_eq!(w.len(), 1);
    assert_eq!(&w[0][..VNET_HDR_LEN], &[0; VNET_HDR_LEN]);
    assert_eq!(&w[0][VNET_HDR_LEN..], &p[0][..]);
}

#[test]
fn psh_or_a_shorter_segment_ends_a_run() {
    let mut segs = burst(false, 6);
    segs[2].flags |= TCP_PSH;
    round_trip(&packets(&segs), 2);
    let mut segs = burst(false, 6);
    segs[2].payload.truncate(100);
    for (i, s) in segs.iter_mut().enumerate().skip(3) {
        s.seq = 1000 + 2 * 1448 + 100 + (i as u32 - 3) * 1448;
    }
    round_trip(&packets(&segs), 2);
}

#[test]
fn a_longer_segment_a_gap_or_an_overlap_ends_a_run() {
    let mut segs = burst(false, 4);
    segs[0].payload.truncate(1000);
    segs[1].seq = 2000;
    segs[2].seq = 2000 + 1448;
    segs[3].seq = 2000 + 2 * 1448;
    // 1000 then 1448: the second is longer than the run's size.
    round_trip(&packets(&segs), 2);
    let mut segs = burst(false, 4);
    segs[2].seq += 1;
    segs[3].seq += 1;
    round_trip(&packets(&segs), 2);
    let mut segs = burst(false, 4);
    segs[2].seq -= 1;
    round_trip(&packets(&segs), 3);
}

#[test]
fn a_different_flow_ack_window_or_option_ends_a_run() {
    let changes: [fn(&mut Seg); 5] = [
        |s| s.flow = 1,
        |s| s.ack += 1,
        |s| s.window += 1,
        |s| s.options[11] += 1,
        |s| s.v6 = !s.v6,
    ];
    for change in changes {
        let mut segs = burst(false, 4);
        for s in &mut segs[2..] {
            change(s);
        }
        round_trip(&packets(&segs), 2);
    }
}

#[test]
fn control_segments_and_bare_acks_go_alone() {
    for flags in [0x02, 0x12, 0x11, 0x14, 0x04, 0x30, 0x50, 0x90, 0x00] {
        let mut segs = burst(false, 3);
        segs.insert(1, data(false, 1000 + 1448, 1448, flags));
        for s in &mut segs[2..] {
            s.seq += 1448;
        }
        let p = packets(&segs);
        let w = writes(&p);
        assert_eq!(w.len(), 3, "flags {flags:#x}");
        assert_eq!(&w[1][..VNET_HDR_LEN], &[0; VNET_HDR_LEN]);
        assert_eq!(&w[1][VNET_HDR_LEN..], &p[1][..]);
    }
    let mut segs = burst(false, 3);
    segs[1].payload.clear();
    round_trip(&packets(&segs), 3);
}

#[test]
fn ip_options_and_fragments_go_alone() {
    let p = packets(&burst(false, 3));
    let mut frag = p.clone();
    for q in &mut frag {
        q[6] |= 0x20; // MF
        fill_checksums(q);
    }
    assert_eq!(writes(&frag).len(), 3);
    let mut wrong_len = p.clone();
    wrong_len[0].push(0);
    assert!(!Coalescer::new().offer(&wrong_len[0]));
}

#[test]
fn a_write_stays_within_64_kib() {
    let p = packets(&burst(false, 50));
    let w = writes(&p);
    assert!(w.iter().all(|w| w.len() - VNET_HDR_LEN <= MAX_PACKET));
    // 45 segments of 1448 fit behind 52 bytes of headers, 46 do not.
    assert_eq!(w.len(), 2);
    round_trip(&p, 2);
}

#[test]
fn random_bursts_cut_back_into_the_same_segments() {
    for seed in 1..=300u64 {
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let v6 = next(2) == 1;
        let mut seqs = [5000u32, 90_000];
        let mut segs = Vec::new();
        for _ in 0..next(120) {
            let flow = next(2) as u16;
            let len = match next(6) {
                0 => 0,
                1 => 1 + next(1448) as usize,
                _ => 1448,
            };
            let flags = match next(12) {
                0 => TCP_ACK | TCP_PSH,
                1 => 0x11, // FIN
                _ => TCP_ACK,
            };
            let mut s = data(v6, seqs[usize::from(flow)], len, flags);
            s.flow = flow;
            if next(10) == 0 {
                s.window += 1;
            }
            seqs[usize::from(flow)] = s.seq.wrapping_add(len as u32);
            segs.push(s);
        }
        let p = packets(&segs);
        let back: Vec<Vec<u8>> = writes(&p).iter().flat_map(|w| cut(w)).collect();
        assert_eq!(without_ids(&back), without_ids(&p), "seed {seed}");
    }
}

#[test]
fn receive_completes_a_partial_checksum() {
    for v6 in [false, true] {
        let good = write(&data(v6, 1, 999, TCP_ACK | TCP_PSH));
        let ip = if v6 { 40 } else { 20 };
        let mut partial = good.clone();
        let pseudo = tcp_sum(&good, ip).fold();
        partial[ip + 16..ip + 18].copy_from_slice(&pseudo.to_be_bytes());
        let hdr = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: ip as u16,
            csum_offset: 16,
            ..VnetHdr::default()
        };
        receive(&hdr, &mut partial).unwrap();
        assert_eq!(partial, good);
    }
}

#[test]
fn receive_leaves_complete_packets_alone_and_refuses_a_header_outside() {
    let good = write(&data(false, 1, 10, TCP_ACK));
    let mut same = good.clone();
    receive(&VnetHdr::default(), &mut same).unwrap();
    assert_eq!(same, good);
    let outside = VnetHdr {
        flags: F_NEEDS_CSUM,
        csum_start: good.len() as u16 - 1,
        csum_offset: 0,
        ..VnetHdr::default()
    };
    assert_eq!(receive(&outside, &mut same), Err(BadOffload));
    // UDP segmentation (5) was never asked for.
    let udp = VnetHdr {
        gso_type: 5,
        ..VnetHdr::default()
    };
    assert_eq!(receive(&udp, &mut same), Err(BadOffload));
}

#[test]
fn header_bytes_round_trip() {
    let h = VnetHdr {
        flags: 1,
        gso_type: GSO_TCPV6,
        hdr_len: 72,
        gso_size: 1428,
        csum_start: 40,
        csum_offset: 16,
    };
    assert_eq!(VnetHdr::parse(&h.to_bytes()), h);
}
