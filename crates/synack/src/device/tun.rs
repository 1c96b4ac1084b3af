//! A Linux TUN interface: the kernel hands us the IP packets it routes to
//! the interface, and takes the ones we write as if they arrived on it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::process::Command;

use wire::Instant;

use super::offload::{self, Coalescer, VnetHdr, VNET_HDR_LEN};
use super::Device;
use crate::sys;

/// How to set a TUN interface up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunConfig {
    /// The interface name (created if absent).
    pub name: String,
    /// The kernel side's address with its prefix length, `A.B.C.D/N`
    /// (or an IPv6 one); the kernel routes that subnet to the interface.
    pub kernel_addr: (IpAddr, u8),
    /// The MTU to set on the interface.
    pub mtu: u16,
    /// Let a TCP segment of up to 64 KiB cross the interface in one
    /// system call each way, as a NIC's TSO and GRO do (`IFF_VNET_HDR`,
    /// see `offload.rs`): the kernel hands over a flow's data in large
    /// segments, and a burst of synack's segments to one flow goes as one
    /// packet. The stack on top is unchanged. Leave it off where every
    /// packet must stay MTU-sized on the way (an impaired link models
    /// each one).
    pub offload: bool,
}

/// A TUN interface.
#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
    /// The segments being gathered into one write, with offloads.
    gather: Option<Coalescer>,
}

impl Tun {
    /// Opens (or creates) the interface, gives the kernel side its address
    /// and brings it up. Needs root or CAP_NET_ADMIN.
    pub fn open(config: &TunConfig) -> io::Result<Tun> {
        let (file, name) = sys::open_tun(&config.name, config.offload)?;
        let (addr, prefix) = config.kernel_addr;
        let cidr = format!("{addr}/{prefix}");
        // Adding an address the interface already has is not an error for
        // us (a persistent interface reused).
        let add = ip(&["addr", "add", &cidr, "dev", &name])?;
        if !add.status.success() && !String::from_utf8_lossy(&add.stderr).contains("File exists") {
            return Err(io::Error::other(format!(
                "ip addr add {cidr} dev {name}: {}",
                String::from_utf8_lossy(&add.stderr).trim()
            )));
        }
        let mtu = config.mtu.to_string();
        for args in [
            &["link", "set", "dev", &name, "mtu", &mtu][..],
            &["link", "set", "dev", &name, "up"][..],
        ] {
            let out = ip(args)?;
            if !out.status.success() {
                return Err(io::Error::other(format!(
                    "ip {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
        Ok(Tun {
            file,
            name,
            gather: config.offload.then(Coalescer::new),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn ip(args: &[&str]) -> io::Result<std::process::Output> {
    Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("running ip (iproute2): {e}")))
}

/// What a failed write means: a full queue (or an interface that is
/// down) loses the packet, as any link may, and TCP recovers.
fn lost_is_fine(r: io::Result<usize>) -> io::Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(()),
        Err(e) => Err(e),
    }
}

impl Tun {
    /// Writes one packet given in two parts (`write_split`).
    fn write_split(&self) -> impl FnMut(&[u8], &[u8]) -> io::Result<()> {
        let fd = self.file.as_raw_fd();
        move |head, tail| lost_is_fine(sys::write_split(fd, head, tail))
    }
}

impl Device for Tun {
    fn send(&mut self, _now: Instant, packet: &[u8]) -> io::Result<()> {
        let write = self.write_split();
        match self.gather.as_mut() {
            Some(gather) => gather.send(packet, write),
            None => lost_is_fine(self.file.write(packet)),
        }
    }

    fn end_burst(&mut self) -> io::Result<()> {
        let write = self.write_split();
        match self.gather.as_mut() {
            Some(gather) => gather.flush(write),
            None => Ok(()),
        }
    }

    fn recv(&mut self, _now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            let mut hdr = [0u8; VNET_HDR_LEN];
            let read = if self.gather.is_none() {
                self.file.read(buf)
            } else {
                sys::read_split(self.file.as_raw_fd(), &mut hdr, buf)
                    .map(|n| n.checked_sub(VNET_HDR_LEN).unwrap_or(usize::MAX))
            };
            let len = match read {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            };
            // The kernel reports a packet's full length even when `buf`
            // held only part of it: a truncated packet is dropped, and so
            // is one whose header points outside it.
            let Some(packet) = buf.get_mut(..len) else {
                continue;
            };
            if self.gather.is_none() || offload::receive(&VnetHdr::parse(&hdr), packet).is_ok() {
                return Ok(Some(len));
            }
        }
    }

    fn readable_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}
