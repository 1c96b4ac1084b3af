//! Devices: where IP packets enter and leave the stack.
//!
//! A [`Device`] sends and receives whole IP packets and can wait until one
//! may be readable. Implementations: [`Tun`] (a Linux TUN interface) and
//! [`ChannelDevice`] (an in-memory link between two stacks in one process).
//! Wrappers add behaviour to any device: [`Impaired`] (the simulator's link
//! model, in real time) and [`PcapTap`] (a capture of everything).

mod channel;
mod impaired;
mod offload;
mod pcap;
mod tun;

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use wire::Instant;

pub use channel::ChannelDevice;
pub use impaired::Impaired;
pub use pcap::PcapTap;
pub use tun::{Tun, TunConfig};

/// A source and sink of IP packets.
pub trait Device: Send + 'static {
    /// Sends one IP packet at `now`.
    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()>;

    /// Sends what [`send`](Device::send) held back to send together: the
    /// driver calls it after each round of packets, before it reads or
    /// sleeps again. A TUN with offloads gathers one flow's segments into
    /// one write until then; most devices hold nothing back.
    fn end_burst(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Takes one received IP packet into `buf`, without blocking; `None`
    /// when nothing is ready. (With offloads it may be a TCP segment
    /// larger than the MTU: `buf` should hold 64 KiB.)
    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>>;

    /// A file descriptor that becomes readable when `recv` may return a
    /// packet (the driver polls it beside its own wake-up fd).
    fn readable_fd(&self) -> RawFd;

    /// When the device itself needs [`service`](Device::service) (packets
    /// it holds back, as an impaired link does); `None` for most.
    fn next_service(&self) -> Option<Instant> {
        None
    }

    /// Lets the device do its timed work (release delayed packets).
    fn service(&mut self, now: Instant) -> io::Result<()> {
        let _ = now;
        Ok(())
    }

    /// Writes out anything buffered (a capture file). The driver calls it
    /// before it sleeps, so that what was sent is on disk even if the
    /// process then ends without stopping the stack.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<D: Device + ?Sized> Device for Box<D> {
    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        (**self).send(now, packet)
    }
    fn end_burst(&mut self) -> io::Result<()> {
        (**self).end_burst()
    }
    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        (**self).recv(now, buf)
    }
    fn readable_fd(&self) -> RawFd {
        (**self).readable_fd()
    }
    fn next_service(&self) -> Option<Instant> {
        (**self).next_service()
    }
    fn service(&mut self, now: Instant) -> io::Result<()> {
        (**self).service(now)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

/// The time from `now` until `at`, zero if it has passed.
pub(crate) fn until(now: Instant, at: Instant) -> Duration {
    at.saturating_since(now)
}
