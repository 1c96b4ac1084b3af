//! Packet captures: raw IP packets written as a classic pcap file that
//! Wireshark, tshark and tcpdump read.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::time::Duration;

use byteorder::LittleEndian;
use pcap_file::pcap::{PcapHeader, PcapPacket};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};
use wire::Instant;

/// Largest number of bytes kept of one packet; longer packets are truncated
/// in the capture (their original length is still recorded).
pub const SNAPLEN: u32 = 65535;

/// A pcap writer of raw IP packets (`LINKTYPE_RAW`, 101, so IPv4 and IPv6
/// mix freely) with microsecond timestamps taken from an [`Instant`]
/// (the origin shows as the Unix epoch).
///
/// Writes are buffered: call [`PcapSink::flush`] (or drop the sink) to push
/// them out. An I/O error does not interrupt the caller: the sink stops
/// writing, keeps the first error and reports it from `flush`.
pub struct PcapSink {
    writer: BufWriter<Box<dyn Write + Send>>,
    error: Option<io::Error>,
    packets: u64,
}

fn to_io(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

impl PcapSink {
    /// Writes the pcap file header to `writer` and returns the sink.
    pub fn new(writer: impl Write + Send + 'static) -> io::Result<PcapSink> {
        let boxed: Box<dyn Write + Send> = Box::new(writer);
        let mut writer = BufWriter::with_capacity(64 * 1024, boxed);
        let header = PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: SNAPLEN,
            datalink: DataLink::RAW,
            ts_resolution: TsResolution::MicroSecond,
            endianness: Endianness::Little,
        };
        header.write_to(&mut writer).map_err(to_io)?;
        Ok(PcapSink {
            writer,
            error: None,
            packets: 0,
        })
    }

    /// Records `packet` as seen at `now`.
    pub fn record(&mut self, now: Instant, packet: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let kept = packet.len().min(SNAPLEN as usize);
        let orig_len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
        let record = PcapPacket::new(
            Duration::from_micros(now.micros()),
            orig_len,
            &packet[..kept],
        );
        match record.write_to::<_, LittleEndian>(
            &mut self.writer,
            TsResolution::MicroSecond,
            SNAPLEN,
        ) {
            Ok(_) => self.packets += 1,
            Err(e) => self.error = Some(to_io(e)),
        }
    }

    /// How many packets were written.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes buffered packets to the writer; returns the first error the
    /// sink met, if any (and keeps returning it).
    pub fn flush(&mut self) -> io::Result<()> {
        if self.error.is_none() {
            if let Err(e) = self.writer.flush() {
                self.error = Some(e);
            }
        }
        match &self.error {
            Some(e) => Err(io::Error::new(e.kind(), e.to_string())),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for PcapSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcapSink")
            .field("packets", &self.packets)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}
