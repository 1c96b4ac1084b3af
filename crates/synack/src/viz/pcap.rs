//! Reading captures: classic pcap (either byte order, micro- or
//! nanosecond timestamps) and pcapng, with TCP over Ethernet (with 802.1Q
//! tags), raw IP (`LINKTYPE_RAW` 101, `DLT_RAW` 12 and 14, IPv4 228,
//! IPv6 229), BSD loopback (0, 108) and Linux cooked captures (SLL 113,
//! SLL2 276).
//!
//! Hostile input never panics: a packet whose lengths do not add up, or
//! that is not TCP over IP, is skipped and counted; a file that ends in the
//! middle of a record keeps what came before.

use std::borrow::Cow;
use std::time::Duration;

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::TsResolution;
use wire::Instant;

use super::capture::Packet;
use super::segment::Seg;

/// What was read from a capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// The TCP packets, in file order, timed from the first packet of the
    /// file (so the first one is at zero).
    pub packets: Vec<Packet>,
    /// The absolute time of the first packet (since the Unix epoch).
    pub start: Duration,
    /// Records that were skipped (not TCP over IP, or malformed).
    pub skipped: u64,
    /// The link types met, as numbers.
    pub link_types: Vec<u32>,
}

/// Why a capture could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Neither a pcap nor a pcapng file.
    NotACapture(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotACapture(why) => write!(f, "not a pcap or pcapng file: {why}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// The IP packet inside a link-layer frame, or `None`.
pub fn ip_payload(link: u32, frame: &[u8]) -> Option<&[u8]> {
    match link {
        // Raw IP.
        101 | 12 | 14 | 228 | 229 => Some(frame),
        // BSD loopback: a 4-byte address family (either byte order).
        0 | 108 => frame.get(4..),
        // Ethernet, with any number of 802.1Q / 802.1ad tags.
        1 => {
            let mut off = 12;
            loop {
                let ty = u16::from_be_bytes(frame.get(off..off + 2)?.try_into().ok()?);
                match ty {
                    0x8100 | 0x88a8 | 0x9100 => off += 4,
                    0x0800 | 0x86dd => return frame.get(off + 2..),
                    _ => return None,
                }
            }
        }
        // Linux cooked capture v1: 16-byte header, protocol at 14.
        113 => {
            let ty = u16::from_be_bytes(frame.get(14..16)?.try_into().ok()?);
            matches!(ty, 0x0800 | 0x86dd)
                .then(|| frame.get(16..))
                .flatten()
        }
        // Linux cooked capture v2: 20-byte header, protocol first.
        276 => {
            let ty = u16::from_be_bytes(frame.get(0..2)?.try_into().ok()?);
            matches!(ty, 0x0800 | 0x86dd)
                .then(|| frame.get(20..))
                .flatten()
        }
        _ => None,
    }
}

/// Reads a whole capture from its bytes.
pub fn read(bytes: &[u8]) -> Result<Capture, ReadError> {
    let magic = bytes
        .get(..4)
        .ok_or_else(|| ReadError::NotACapture("too short".into()))?;
    let mut raw: Vec<(Duration, u32, Cow<'_, [u8]>)> = Vec::new();
    let mut out = Capture::default();
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let (mut rest, mut parser) =
            PcapNgParser::new(bytes).map_err(|e| ReadError::NotACapture(e.to_string()))?;
        while !rest.is_empty() {
            let Ok((r, block)) = parser.next_block(rest) else {
                break;
            };
            rest = r;
            let (iface, ts, data) = match block {
                Block::EnhancedPacket(p) => (p.interface_id, p.timestamp, p.data),
                Block::SimplePacket(p) => (0, Duration::ZERO, p.data),
                _ => continue,
            };
            let Some(link) = parser.interfaces().get(iface as usize).map(|i| i.linktype) else {
                out.skipped += 1;
                continue;
            };
            raw.push((ts, u32::from(link), data));
        }
    } else {
        let (mut rest, parser) =
            PcapParser::new(bytes).map_err(|e| ReadError::NotACapture(e.to_string()))?;
        let header = parser.header();
        let link = u32::from(header.datalink);
        let nanos = header.ts_resolution == TsResolution::NanoSecond;
        while !rest.is_empty() {
            let Ok((r, p)) = parser.next_raw_packet(rest) else {
                break;
            };
            rest = r;
            let frac = if nanos {
                u64::from(p.ts_frac)
            } else {
                u64::from(p.ts_frac).saturating_mul(1000)
            };
            let ts = Duration::from_secs(u64::from(p.ts_sec)) + Duration::from_nanos(frac);
            raw.push((ts, link, p.data));
        }
    }
    let start = raw.first().map_or(Duration::ZERO, |r| r.0);
    out.start = start;
    for (ts, link, data) in raw {
        if !out.link_types.contains(&link) {
            out.link_types.push(link);
        }
        let seg = ip_payload(link, &data).and_then(Seg::parse_ip);
        match seg {
            Some(seg) => {
                let at = Instant::from_micros(ts.saturating_sub(start).as_micros() as u64);
                out.packets.push(Packet::seen(seg, at));
            }
            None => out.skipped += 1,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_or_empty_never_a_panic() {
        assert!(read(b"").is_err());
        assert!(read(b"abcdefgh").is_err());
        // A valid pcap header followed by a record claiming 4 GiB.
        let mut f = vec![
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0,
            0,
        ];
        f.extend_from_slice(&[
            0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]);
        f.extend_from_slice(&[0u8; 64]);
        let c = read(&f).unwrap();
        assert!(c.packets.is_empty());
    }

    #[test]
    fn link_layers() {
        assert_eq!(ip_payload(1, &[0; 10]), None);
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0, 1, 0x08, 0x00, 0x45]);
        assert_eq!(ip_payload(1, &eth), Some(&[0x45][..]));
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x86, 0xdd, 0x60]);
        assert_eq!(ip_payload(113, &sll), Some(&[0x60][..]));
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.push(0x45);
        assert_eq!(ip_payload(276, &sll2), Some(&[0x45][..]));
        assert_eq!(ip_payload(276, &[0x08]), None);
    }
}
