use super::*;
use core::net::{Ipv4Addr, Ipv6Addr};
use std::vec;
use std::vec::Vec;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A SYN the Linux kernel (6.x) wrote to a TUN device, IPv4:
/// 10.77.0.1:36456 → 10.77.0.2:80, MSS 1460, SACK-permitted, timestamps,
/// NOP, window scale 7 (net.ipv4.tcp_rmem max 6 MiB).
const LINUX_SYN_V4: &str = "4500003c085f400040061dc10a4d00010a4d00028e680050eab182a700000000\
                            a002faf0c94c0000020405b40402080a76c7fc4c0000000001030307";
/// The same over IPv6: fd77::1:49602 → fd77::2:80, MSS 1440.
const LINUX_SYN_V6: &str = "6001e3ca00280640fd770000000000000000000000000001fd77000000000000\
                            0000000000000002c1c200501b8715a300000000a002fd20b2bc0000020405a0\
                            0402080a597350940000000001030307";

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, last))
}

#[test]
fn linux_syn_v4_parses_and_checksum_verifies() {
    let ip = hex(LINUX_SYN_V4);
    let (src, dst) = (v4([10, 77, 0, 1]), v4([10, 77, 0, 2]));
    let seg = &ip[20..];
    let packet = TcpPacket::new_checked(seg).unwrap();
    assert!(packet.verify_checksum(&src, &dst));
    assert_eq!(packet.checksum(), 0xc94c);
    let repr = TcpRepr::parse(&packet, &src, &dst, true).unwrap();
    assert_eq!(repr.src_port, 36456);
    assert_eq!(repr.dst_port, 80);
    assert_eq!(repr.seq, SeqNum(0xeab1_82a7));
    assert_eq!(repr.flags, TcpFlags::SYN);
    assert_eq!(repr.window, 64240);
    assert_eq!(repr.options.mss, Some(1460));
    assert!(repr.options.sack_permitted);
    assert_eq!(
        repr.options.timestamps,
        Some(Timestamps {
            tsval: 0x76c7_fc4c,
            tsecr: 0
        })
    );
    assert_eq!(repr.options.window_scale, Some(7));
    assert!(repr.payload.is_empty());
    assert_eq!(repr.seq_len(), 1);

    // Emitting the Repr reproduces the kernel's bytes exactly, checksum
    // included: same option layout, same order.
    let mut out = vec![0u8; repr.buffer_len()];
    assert_eq!(repr.emit(&mut out, &src, &dst).unwrap(), seg.len());
    assert_eq!(out, seg);
}

#[test]
fn linux_syn_v6_parses_and_checksum_verifies() {
    let ip = hex(LINUX_SYN_V6);
    let (src, dst) = (v6(1), v6(2));
    let seg = &ip[40..];
    let repr = TcpRepr::parse_bytes(seg, &src, &dst, true).unwrap();
    assert_eq!((repr.src_port, repr.dst_port), (49602, 80));
    assert_eq!(repr.options.mss, Some(1440));
    assert_eq!(repr.options.window_scale, Some(7));
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut out, &src, &dst).unwrap();
    assert_eq!(out, seg);
    // The wrong pseudo-header does not verify (the sum is symmetric in
    // source and destination, so change an address, not the order).
    assert_eq!(
        TcpRepr::parse_bytes(seg, &v6(3), &dst, true),
        Err(Error::BadChecksum)
    );
    assert_eq!(
        TcpRepr::parse_bytes(seg, &v4([1, 2, 3, 4]), &dst, true),
        Err(Error::BadChecksum)
    );
}

#[test]
fn a_flipped_bit_fails_the_checksum() {
    let ip = hex(LINUX_SYN_V4);
    let (src, dst) = (v4([10, 77, 0, 1]), v4([10, 77, 0, 2]));
    for byte in 20..ip.len() {
        let mut bad = ip.clone();
        bad[byte] ^= 0x10;
        let r = TcpRepr::parse_bytes(&bad[20..], &src, &dst, true);
        assert!(r.is_err(), "flip at byte {byte} went unnoticed");
        // Without verification the parse may succeed, but never panics.
        let _ = TcpRepr::parse_bytes(&bad[20..], &src, &dst, false);
    }
}

#[test]
fn all_nine_flags_round_trip() {
    let all = [
        TcpFlags::FIN,
        TcpFlags::SYN,
        TcpFlags::RST,
        TcpFlags::PSH,
        TcpFlags::ACK,
        TcpFlags::URG,
        TcpFlags::ECE,
        TcpFlags::CWR,
        TcpFlags::AE,
    ];
    let (src, dst) = (v4([1, 1, 1, 1]), v4([2, 2, 2, 2]));
    for (i, &flag) in all.iter().enumerate() {
        let repr = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: SeqNum(3),
            ack: SeqNum(4),
            flags: flag,
            window: 5,
            urgent: 6,
            options: TcpOptions::default(),
            payload: b"x",
        };
        let mut buf = [0u8; 21];
        repr.emit(&mut buf, &src, &dst).unwrap();
        let bits = u16::from_be_bytes([buf[12], buf[13]]) & 0x1ff;
        assert_eq!(bits, 1 << i, "{flag}");
        let back = TcpRepr::parse_bytes(&buf, &src, &dst, true).unwrap();
        assert_eq!(back.flags, flag);
        if !flag.contains(TcpFlags::ACK) {
            // Without ACK the ack field goes out as zero.
            assert_eq!(back.ack, SeqNum(0));
        }
    }
    let every = all.iter().fold(TcpFlags::NONE, |a, &f| a | f);
    assert_eq!(every.bits(), 0x1ff);
    assert_eq!(
        std::format!("{}", TcpFlags::SYN | TcpFlags::ACK),
        "SYN, ACK"
    );
    assert_eq!(
        std::format!("{}", (TcpFlags::SYN | TcpFlags::ACK).tcpdump()),
        "S."
    );
    assert_eq!(!TcpFlags::NONE, every);
}

#[test]
fn reserved_bits_are_ignored_on_receive() {
    let mut seg = [0u8; 20];
    seg[12] = 0x5e; // data offset 5, reserved 111, AE 0
    seg[13] = 0x10;
    let p = TcpPacket::new_checked(&seg[..]).unwrap();
    assert_eq!(p.reserved(), 0x7);
    assert_eq!(p.flags(), TcpFlags::ACK);
}

#[test]
fn data_offset_checks() {
    let mut seg = [0u8; 24];
    seg[12] = 0x40; // offset 4: below the minimum
    assert_eq!(
        TcpPacket::new_checked(&seg[..]).unwrap_err(),
        Error::Malformed
    );
    seg[12] = 0x70; // offset 7: 28 bytes, buffer has 24
    assert_eq!(
        TcpPacket::new_checked(&seg[..]).unwrap_err(),
        Error::Truncated
    );
    assert_eq!(
        TcpPacket::new_checked(&seg[..19]).unwrap_err(),
        Error::Truncated
    );
    seg[12] = 0x60; // 24 bytes: fits, one option word of padding
    let p = TcpPacket::new_checked(&seg[..]).unwrap();
    assert_eq!(p.options(), &[0, 0, 0, 0]);
    assert!(p.payload().is_empty());
}

fn opts(bytes: &[u8]) -> Result<TcpOptions> {
    TcpOptions::parse(bytes)
}

#[test]
fn options_each_kind() {
    let o = opts(&[2, 4, 0x05, 0xb4]).unwrap();
    assert_eq!(o.mss, Some(1460));
    let o = opts(&[1, 3, 3, 14]).unwrap();
    assert_eq!(o.window_scale, Some(14));
    let o = opts(&[1, 1, 4, 2]).unwrap();
    assert!(o.sack_permitted);
    let o = opts(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]).unwrap();
    assert_eq!(o.timestamps, Some(Timestamps { tsval: 1, tsecr: 2 }));
    for n in 1..=4u8 {
        let mut bytes = vec![1, 1, 5, 2 + 8 * n];
        for i in 0..u32::from(n) {
            bytes.extend_from_slice(&(i * 100).to_be_bytes());
            bytes.extend_from_slice(&(i * 100 + 50).to_be_bytes());
        }
        let o = opts(&bytes).unwrap();
        assert_eq!(o.sack.len(), usize::from(n));
        assert_eq!(o.sack.as_slice()[0].end, SeqNum(50));
    }
}

#[test]
fn unknown_options_are_skipped_by_length() {
    // TCP-AO style unknown kind 29, length 6; then MSS; then EOL and junk.
    let o = opts(&[29, 6, 1, 2, 3, 4, 2, 4, 0x02, 0x18, 0, 0xde, 0xad]).unwrap();
    assert_eq!(o.mss, Some(536));
    let kinds: Vec<_> = TcpOptionIter::new(&[29, 3, 9, 1, 0])
        .map(|o| o.unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            TcpOption::Unknown {
                kind: 29,
                data: &[9]
            },
            TcpOption::NoOp,
            TcpOption::EndOfList
        ]
    );
}

#[test]
fn malformed_options_are_errors() {
    let cases: &[(&[u8], Error)] = &[
        (&[2], Error::Truncated),                             // no length byte
        (&[2, 4, 5], Error::Truncated),                       // runs past the end
        (&[2, 0], Error::Malformed),                          // length zero
        (&[29, 1], Error::Malformed),                         // length one
        (&[2, 3, 5], Error::Malformed),                       // MSS of length 3
        (&[3, 4, 7, 0], Error::Malformed),                    // window scale of length 4
        (&[4, 3, 0], Error::Malformed),                       // SACK-permitted with data
        (&[8, 6, 0, 0, 0, 0], Error::Malformed),              // short timestamps
        (&[5, 2], Error::Malformed),                          // SACK with no block
        (&[5, 6, 0, 0, 0, 0], Error::Malformed),              // SACK half a block
        (&[8, 12, 0, 0, 0, 0, 0, 0, 0, 0], Error::Truncated), // longer than the space
    ];
    for (bytes, err) in cases {
        assert_eq!(opts(bytes), Err(*err), "{bytes:?}");
    }
    let mut five = vec![5, 42];
    five.extend_from_slice(&[0; 40]);
    assert_eq!(opts(&five), Err(Error::Malformed)); // five blocks
}

#[test]
fn a_segment_with_malformed_options_is_an_error() {
    let mut seg = [0u8; 24];
    seg[12] = 0x60;
    seg[20..24].copy_from_slice(&[2, 0, 0, 0]);
    let a = v4([1, 1, 1, 1]);
    assert_eq!(
        TcpRepr::parse_bytes(&seg, &a, &a, false),
        Err(Error::Malformed)
    );
}

#[test]
fn option_layouts_match_linux() {
    let ts = Some(Timestamps { tsval: 7, tsecr: 9 });
    let layout = |o: TcpOptions| {
        let mut buf = [0u8; 40];
        let n = o.emit(&mut buf).unwrap();
        assert_eq!(n % 4, 0);
        assert_eq!(opts(&buf[..n]).unwrap(), o);
        buf[..n].to_vec()
    };
    // A data segment with timestamps: NOP NOP TS.
    assert_eq!(
        layout(TcpOptions {
            timestamps: ts,
            ..Default::default()
        }),
        [1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9]
    );
    // SACK-permitted without timestamps: NOP NOP SACKOK.
    assert_eq!(
        layout(TcpOptions {
            sack_permitted: true,
            ..Default::default()
        }),
        [1, 1, 4, 2]
    );
    // Timestamps plus three SACK blocks fill all 40 bytes.
    let blocks: Vec<_> = (0..3)
        .map(|i| SackBlock {
            start: SeqNum(i * 10),
            end: SeqNum(i * 10 + 5),
        })
        .collect();
    let o = TcpOptions {
        timestamps: ts,
        sack: SackBlocks::from_slice(&blocks).unwrap(),
        ..Default::default()
    };
    assert_eq!(layout(o).len(), 40);
    // Four blocks with timestamps do not fit.
    let mut o4 = o;
    o4.sack.push(SackBlock::default());
    assert_eq!(o4.len(), 48);
    assert_eq!(o4.emit(&mut [0u8; 64]), Err(Error::NoSpace));
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq: SeqNum(0),
        ack: SeqNum(0),
        flags: TcpFlags::ACK,
        window: 0,
        urgent: 0,
        options: o4,
        payload: &[],
    };
    assert_eq!(repr.emit_header(&mut [0u8; 80]), Err(Error::NoSpace));
    // Four blocks without timestamps do.
    o4.timestamps = None;
    assert_eq!(layout(o4).len(), 36);
}

#[test]
fn emit_into_short_buffer_is_no_space() {
    let repr = TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq: SeqNum(0),
        ack: SeqNum(0),
        flags: TcpFlags::SYN,
        window: 0,
        urgent: 0,
        options: TcpOptions {
            mss: Some(1460),
            ..Default::default()
        },
        payload: b"hello",
    };
    let a = v4([1, 1, 1, 1]);
    for len in 0..repr.buffer_len() {
        assert_eq!(
            repr.emit(&mut vec![0; len], &a, &a),
            Err(Error::NoSpace),
            "{len}"
        );
    }
    assert_eq!(repr.emit(&mut [0u8; 64], &a, &v6(1)), Err(Error::Malformed));
}

#[test]
fn emit_header_then_payload_equals_emit() {
    let (src, dst) = (v6(1), v6(2));
    let repr = TcpRepr {
        src_port: 443,
        dst_port: 50000,
        seq: SeqNum(u32::MAX),
        ack: SeqNum(17),
        flags: TcpFlags::ACK | TcpFlags::PSH,
        window: 512,
        urgent: 0,
        options: TcpOptions {
            timestamps: Some(Timestamps { tsval: 1, tsecr: 2 }),
            ..Default::default()
        },
        payload: b"split payload of odd length",
    };
    let mut whole = vec![0u8; repr.buffer_len()];
    repr.emit(&mut whole, &src, &dst).unwrap();
    let mut parts = vec![0u8; repr.buffer_len()];
    let h = repr.emit_header(&mut parts).unwrap();
    let (a, b) = repr.payload.split_at(5);
    parts[h..h + 5].copy_from_slice(a);
    parts[h + 5..].copy_from_slice(b);
    TcpPacket::new_unchecked(&mut parts[..])
        .fill_checksum(&src, &dst)
        .unwrap();
    assert_eq!(parts, whole);
    assert_eq!(
        TcpRepr::parse_bytes(&whole, &src, &dst, true).unwrap(),
        repr
    );
}

#[test]
fn display_reads_like_tcpdump() {
    let ip = hex(LINUX_SYN_V4);
    let a = v4([10, 77, 0, 1]);
    let repr = TcpRepr::parse_bytes(&ip[20..], &a, &a, false).unwrap();
    assert_eq!(
        std::format!("{repr}"),
        "36456 > 80 [S] seq 3937501863 win 64240 \
         <mss 1460,sackOK,TS val 1992817740 ecr 0,wscale 7> length 0"
    );
}

#[test]
fn no_panic_on_any_prefix_or_garbage() {
    let ip = hex(LINUX_SYN_V4);
    let a = v4([10, 77, 0, 1]);
    for len in 0..=ip.len() - 20 {
        let _ = TcpRepr::parse_bytes(&ip[20..20 + len], &a, &a, false);
    }
    let mut x: u32 = 12345;
    for _ in 0..2000 {
        let len = (x % 80) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let _ = TcpRepr::parse_bytes(&bytes, &a, &a, true);
        let _ = TcpRepr::parse_bytes(&bytes, &a, &a, false);
        let _ = TcpOptions::parse(&bytes);
    }
}

#[test]
fn aligned_timestamps_fast_path_agrees_with_the_general_parser() {
    let ts = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
    let aligned: Vec<u8> = [1, 1, 8, 10].iter().chain(&ts).copied().collect();
    // The same option in another legal layout takes the general path.
    let trailing: Vec<u8> = [8, 10].iter().chain(&ts).chain(&[1, 1]).copied().collect();
    let want = TcpOptions {
        timestamps: Some(Timestamps {
            tsval: 0x1234_5678,
            tsecr: 0x9abc_def0,
        }),
        ..TcpOptions::default()
    };
    assert_eq!(TcpOptions::parse(&aligned), Ok(want));
    assert_eq!(TcpOptions::parse(&trailing), Ok(want));
    // Twelve bytes that only start like the layout are not taken for it.
    let mut other = aligned.clone();
    other[3] = 9;
    assert_ne!(TcpOptions::parse(&other), Ok(want));
}

#[test]
fn syn_layout_fast_path_agrees_with_the_general_parser() {
    let want = TcpOptions {
        mss: Some(0x05b4),
        window_scale: Some(7),
        sack_permitted: true,
        timestamps: Some(Timestamps {
            tsval: 0x1234_5678,
            tsecr: 0x9abc_def0,
        }),
        ..TcpOptions::default()
    };
    let mut buf = [0u8; 20];
    assert_eq!(want.emit(&mut buf), Ok(20));
    assert_eq!(TcpOptions::parse(&buf), Ok(want));
    assert_eq!(TcpOptions::walk(&buf), Ok(want));
    // Every one-byte change, and every shorter or longer list, gets the
    // option walk's answer (a change in a layout byte leaves the fast
    // path; one in a value is read the same by both).
    for i in 0..buf.len() {
        for x in [0u8, 1, 2, 3, 4, 8, 10, 0xff] {
            let mut b = buf;
            b[i] = x;
            assert_eq!(
                TcpOptions::parse(&b),
                TcpOptions::walk(&b),
                "byte {i} = {x}"
            );
        }
    }
    let mut long = buf.to_vec();
    long.extend_from_slice(&[1, 1, 1, 1]);
    for n in 0..=long.len() {
        assert_eq!(TcpOptions::parse(&long[..n]), TcpOptions::walk(&long[..n]));
    }
}

#[test]
fn emit_header_summed_returns_the_sum_of_what_it_wrote() {
    let ts = Some(Timestamps {
        tsval: 0xfedc_ba98,
        tsecr: 0xffff_ffff,
    });
    let blocks: Vec<_> = (0..4u32)
        .map(|i| SackBlock {
            start: SeqNum(0xffff_0000 + i),
            end: SeqNum(0x1234_5678 * i),
        })
        .collect();
    let option_sets = [
        TcpOptions::NONE,
        TcpOptions {
            timestamps: ts,
            ..TcpOptions::NONE
        },
        TcpOptions {
            timestamps: ts,
            sack: SackBlocks::from_slice(&blocks[..3]).unwrap(),
            ..TcpOptions::NONE
        },
        TcpOptions {
            sack: SackBlocks::from_slice(&blocks).unwrap(),
            ..TcpOptions::NONE
        },
        TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: ts,
            sack: SackBlocks::EMPTY,
        },
        TcpOptions {
            sack_permitted: true,
            ..TcpOptions::NONE
        },
    ];
    let mut x: u32 = 0x2545_f491;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for options in option_sets {
        for flags in [
            TcpFlags::ACK,
            TcpFlags::ACK | TcpFlags::PSH,
            TcpFlags::SYN,
            TcpFlags::from_bits(0x1ff),
            TcpFlags::NONE,
        ] {
            for _ in 0..50 {
                let repr = TcpRepr {
                    src_port: next() as u16,
                    dst_port: next() as u16,
                    seq: SeqNum(next()),
                    ack: SeqNum(next()),
                    flags,
                    window: next() as u16,
                    urgent: next() as u16,
                    options,
                    payload: &[],
                };
                let mut buf = [0xa5u8; 64];
                let (n, sum) = repr.emit_header_summed(&mut buf).unwrap();
                assert_eq!(n, repr.header_len());
                assert_eq!(
                    repr.emit_header_summed(&mut [0u8; 64][..n - 1]),
                    Err(Error::NoSpace)
                );
                let mut read_back = checksum::Checksum::new();
                read_back.add_bytes(&buf[..n]);
                assert_eq!(sum.fold(), read_back.fold(), "{repr:?}");
                assert!(!sum.is_odd());
                let parsed = TcpRepr::parse_bytes(&buf[..n], &v4([1; 4]), &v4([1; 4]), false);
                let mut want = repr;
                if !flags.contains(TcpFlags::ACK) {
                    want.ack = SeqNum(0);
                }
                assert_eq!(parsed, Ok(want));
            }
        }
    }
}
