//! A Linux TUN interface: the kernel hands us the IP packets it routes to
//! the interface, and takes the ones we write as if they arrived on it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::process::Command;

use wire::Instant;

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
}

/// A TUN interface.
#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
}

impl Tun {
    /// Opens (or creates) the interface, gives the kernel side its address
    /// and brings it up. Needs root or CAP_NET_ADMIN.
    pub fn open(config: &TunConfig) -> io::Result<Tun> {
        let (file, name) = sys::open_tun(&config.name)?;
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
        Ok(Tun { file, name })
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

impl Device for Tun {
    fn send(&mut self, _now: Instant, packet: &[u8]) -> io::Result<()> {
        match self.file.write(packet) {
            Ok(_) => Ok(()),
            // The interface queue is full (or it is down): the packet is
            // lost, as on any link; TCP recovers.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn recv(&mut self, _now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.file.read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn readable_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}
