//! SYN cookies (RFC 4987 §3.6): when the SYN queue is full, the SYN-ACK's
//! sequence number carries what the connection needs, and nothing is kept
//! until the ACK brings it back.
//!
//! The cookie (our ISS) is laid out as
//! ```text
//!  31    27 26  24 23                      0
//! +--------+------+-------------------------+
//! | t mod 32| MSS |  keyed hash (24 bits)   |
//! +--------+------+-------------------------+
//! ```
//! where `t` counts 64-second periods, MSS is an index into [`MSS_TABLE`],
//! and the hash covers the 4-tuple, the peer's ISN and `t`. When the SYN
//! carried timestamps, the low six bits of our TSval carry the window
//! scale (4 bits, 15 = none) and SACK-permitted (1 bit); the ACK echoes
//! them in its TSecr.

use wire::tcp::{TcpOptions, Timestamps};
use wire::{Instant, SeqNum};

use super::demux::FourTuple;
use super::secrets::Secrets;

/// The MSS values a cookie can name; a SYN's MSS is rounded down to one.
pub const MSS_TABLE: [u16; 8] = [536, 1200, 1220, 1300, 1380, 1400, 1440, 1460];

/// A cookie is valid for this many 64-second periods (the current one and
/// the one before it).
const VALID_PERIODS: u32 = 2;

/// Bits of TSval that carry options.
const TS_OPTION_BITS: u32 = 6;
const TS_NO_WSCALE: u32 = 15;

fn period(now: Instant) -> u32 {
    (now.micros() / 64_000_000) as u32
}

/// The index of the largest table MSS not above `mss`.
fn mss_index(mss: u16) -> u32 {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32
}

/// The ISS of a cookie SYN-ACK answering a SYN with sequence number `irs`
/// and options `syn`.
pub(crate) fn encode(
    secrets: &Secrets,
    tuple: &FourTuple,
    irs: SeqNum,
    syn: &TcpOptions,
    default_mss: u16,
    now: Instant,
) -> SeqNum {
    let t = period(now);
    let mss = mss_index(syn.mss.unwrap_or(default_mss));
    let hash = secrets.cookie_hash(tuple, irs, t) & 0x00ff_ffff;
    SeqNum(((t & 31) << 27) | (mss << 24) | hash)
}

/// The TSval of a cookie SYN-ACK: our clock with the low bits replaced by
/// the SYN's window scale and SACK-permitted.
pub(crate) fn encode_tsval(clock: u32, syn: &TcpOptions) -> u32 {
    let wscale = syn
        .window_scale
        .map_or(TS_NO_WSCALE, |s| u32::from(s.min(14)));
    let sack = u32::from(syn.sack_permitted);
    (clock & !((1 << TS_OPTION_BITS) - 1)) | (sack << 4) | wscale
}

/// What a valid cookie gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// Our ISS (the cookie).
    pub iss: SeqNum,
    /// The peer's ISN.
    pub irs: SeqNum,
    /// The options of the SYN, as far as the cookie kept them.
    pub options: TcpOptions,
}

/// Checks the cookie an ACK (sequence `seq`, acknowledgment `ack`,
/// timestamps `ts`) returns; `None` if it is not one of ours or too old.
pub(crate) fn decode(
    secrets: &Secrets,
    tuple: &FourTuple,
    seq: SeqNum,
    ack: SeqNum,
    ts: Option<Timestamps>,
    now: Instant,
) -> Option<Decoded> {
    let cookie = (ack - 1).0;
    let irs = seq - 1;
    let now_t = period(now);
    let t = (0..VALID_PERIODS)
        .map(|age| now_t.wrapping_sub(age))
        .find(|t| t & 31 == cookie >> 27)?;
    if secrets.cookie_hash(tuple, irs, t) & 0x00ff_ffff != cookie & 0x00ff_ffff {
        return None;
    }
    let mut options = TcpOptions {
        mss: Some(MSS_TABLE[((cookie >> 24) & 7) as usize]),
        ..TcpOptions::default()
    };
    if let Some(ts) = ts {
        // The peer did timestamps, so our SYN-ACK carried encoded options.
        let bits = ts.tsecr & ((1 << TS_OPTION_BITS) - 1);
        let wscale = bits & 15;
        if wscale != TS_NO_WSCALE {
            options.window_scale = Some(wscale as u8);
        }
        options.sack_permitted = bits & 16 != 0;
        options.timestamps = Some(Timestamps {
            tsval: ts.tsval,
            tsecr: 0,
        });
    }
    Some(Decoded {
        iss: ack - 1,
        irs,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr, SocketAddr};
    use core::time::Duration;

    fn tuple() -> FourTuple {
        FourTuple {
            local: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80),
            remote: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 5555),
        }
    }

    #[test]
    fn round_trip_with_timestamps() {
        let (s, _) = Secrets::new(9);
        let now = Instant::from_secs(1000);
        let syn = TcpOptions {
            mss: Some(1448),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps {
                tsval: 77,
                tsecr: 0,
            }),
            ..Default::default()
        };
        let irs = SeqNum(123_456);
        let iss = encode(&s, &tuple(), irs, &syn, 536, now);
        let tsval = encode_tsval(0xdead_beef, &syn);
        let d = decode(
            &s,
            &tuple(),
            irs + 1,
            iss + 1,
            Some(Timestamps {
                tsval: 78,
                tsecr: tsval,
            }),
            now + Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(d.iss, iss);
        assert_eq!(d.irs, irs);
        assert_eq!(d.options.mss, Some(1440), "rounded down to the table");
        assert_eq!(d.options.window_scale, Some(7));
        assert!(d.options.sack_permitted);
    }

    #[test]
    fn without_timestamps_only_the_mss_survives() {
        let (s, _) = Secrets::new(9);
        let now = Instant::from_secs(1000);
        let syn = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            ..Default::default()
        };
        let iss = encode(&s, &tuple(), SeqNum(5), &syn, 536, now);
        let d = decode(&s, &tuple(), SeqNum(6), iss + 1, None, now).unwrap();
        assert_eq!(d.options.mss, Some(1460));
        assert_eq!(d.options.window_scale, None);
        assert!(!d.options.sack_permitted);
    }

    #[test]
    fn forged_stale_or_misdirected_cookies_fail() {
        let (s, _) = Secrets::new(9);
        let now = Instant::from_secs(1000);
        let syn = TcpOptions::default();
        let iss = encode(&s, &tuple(), SeqNum(5), &syn, 536, now);
        assert!(decode(&s, &tuple(), SeqNum(6), iss + 2, None, now).is_none());
        assert!(decode(&s, &tuple(), SeqNum(7), iss + 1, None, now).is_none());
        let mut other = tuple();
        other.remote.set_port(5556);
        assert!(decode(&s, &other, SeqNum(6), iss + 1, None, now).is_none());
        // Valid for up to two periods, not three.
        assert!(decode(
            &s,
            &tuple(),
            SeqNum(6),
            iss + 1,
            None,
            now + Duration::from_secs(64)
        )
        .is_some());
        assert!(decode(
            &s,
            &tuple(),
            SeqNum(6),
            iss + 1,
            None,
            now + Duration::from_secs(192)
        )
        .is_none());
        let (other_secret, _) = Secrets::new(10);
        assert!(decode(&other_secret, &tuple(), SeqNum(6), iss + 1, None, now).is_none());
    }
}
