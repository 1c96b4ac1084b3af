//! A capture of every packet a device sends and receives, as a pcap file
//! (raw IP) that Wireshark and `synack trace` read.

use std::io;
use std::os::fd::RawFd;

use sim::PcapSink;
use wire::Instant;

use super::Device;

/// A device whose traffic is also written to a pcap file.
#[derive(Debug)]
pub struct PcapTap<D> {
    inner: D,
    sink: PcapSink,
    /// Added to the device clock so that captures carry wall-clock time.
    epoch_offset: std::time::Duration,
}

impl<D: Device> PcapTap<D> {
    /// Wraps `inner`, writing to `writer`. `epoch_offset` is the Unix time
    /// at the clock's origin (timestamps in the file are absolute).
    pub fn new(
        inner: D,
        writer: impl io::Write + Send + 'static,
        epoch_offset: std::time::Duration,
    ) -> io::Result<PcapTap<D>> {
        Ok(PcapTap {
            inner,
            sink: PcapSink::new(writer)?,
            epoch_offset,
        })
    }

    fn record(&mut self, now: Instant, packet: &[u8]) {
        self.sink.record(now + self.epoch_offset, packet);
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

impl<D: Device> Device for PcapTap<D> {
    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        self.record(now, packet);
        self.inner.send(now, packet)
    }

    fn end_burst(&mut self) -> io::Result<()> {
        self.inner.end_burst()
    }

    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let n = self.inner.recv(now, buf)?;
        if let Some(n) = n {
            self.record(now, &buf[..n]);
        }
        Ok(n)
    }

    fn readable_fd(&self) -> RawFd {
        self.inner.readable_fd()
    }

    fn next_service(&self) -> Option<Instant> {
        self.inner.next_service()
    }

    fn service(&mut self, now: Instant) -> io::Result<()> {
        self.inner.service(now)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        self.sink.flush()
    }
}
