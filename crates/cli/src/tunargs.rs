//! The options every TUN command shares, and the stack they build.

use std::fs::File;
use std::io::BufWriter;
use std::net::IpAddr;

use clap::Args;
use proto::endpoint::EndpointConfig;
use sim::LinkSpec;
use synack::device::{Device, Impaired, PcapTap, Tun, TunConfig};
use synack::Stack;

/// A TUN interface between the kernel and synack.
#[derive(Args, Debug, Clone)]
pub struct TunArgs {
    /// The TUN interface (created if absent).
    #[arg(long = "tun", value_name = "NAME")]
    pub name: String,
    /// The kernel side's address and prefix, e.g. 10.0.0.1/24.
    #[arg(long, value_name = "A.B.C.D/N")]
    pub net: String,
    /// synack's own address, in that subnet.
    #[arg(long, value_name = "ADDR")]
    pub ip: IpAddr,
    /// Impair the link in both directions, e.g. loss=0.05,reorder=0.02.
    #[arg(long, value_name = "SPEC")]
    pub impair: Option<String>,
    /// Write every packet synack sends or receives to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<String>,
}

/// Parses `A.B.C.D/N` (or an IPv6 prefix).
fn parse_net(net: &str) -> Result<(IpAddr, u8), String> {
    let (addr, len) = net
        .split_once('/')
        .ok_or_else(|| format!("--net {net}: expected ADDRESS/PREFIX, like 10.0.0.1/24"))?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|e| format!("--net {net}: bad address: {e}"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = len
        .parse()
        .ok()
        .filter(|&l| l <= max)
        .ok_or_else(|| format!("--net {net}: bad prefix length (0 to {max})"))?;
    Ok((addr, len))
}

/// Whether `ip` lies in `net/len`.
fn in_subnet(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            a.to_bits() & mask == b.to_bits() & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            a.to_bits() & mask == b.to_bits() & mask
        }
        _ => false,
    }
}

impl TunArgs {
    /// Opens the interface and starts a stack on it.
    pub fn start(&self) -> Result<Stack, String> {
        let (kernel, len) = parse_net(&self.net)?;
        if !in_subnet(self.ip, kernel, len) {
            return Err(format!("--ip {} is not in --net {}", self.ip, self.net));
        }
        if self.ip == kernel {
            return Err(format!("--ip {} is the kernel's own address", self.ip));
        }
        let impair: Option<LinkSpec> = match &self.impair {
            Some(s) => Some(s.parse().map_err(|e| format!("--impair {s}: {e}"))?),
            None => None,
        };
        let tun = Tun::open(&TunConfig {
            name: self.name.clone(),
            kernel_addr: (kernel, len),
            mtu: 1500,
            // An impaired link models every packet: it must see them
            // MTU-sized, so offloads are for the plain device only.
            offload: impair.is_none(),
        })
        .map_err(|e| format!("--tun {}: {e}", self.name))?;
        let mut device: Box<dyn Device> = Box::new(tun);
        if let Some(spec) = impair {
            device = Box::new(Impaired::new(device, spec, seed()));
        }
        if let Some(path) = &self.pcap {
            let file = File::create(path).map_err(|e| format!("--pcap {path}: {e}"))?;
            device = Box::new(
                PcapTap::new(device, BufWriter::new(file), synack::unix_epoch_offset())
                    .map_err(|e| format!("--pcap {path}: {e}"))?,
            );
        }
        let config = EndpointConfig {
            mtu: 1500,
            ..EndpointConfig::default()
        };
        Stack::new(device, config, &[self.ip]).map_err(|e| format!("starting the stack: {e}"))
    }
}

/// A seed for the impairment's random draws.
fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let (net, len) = parse_net("10.0.0.1/24").unwrap();
        assert!(in_subnet("10.0.0.2".parse().unwrap(), net, len));
        assert!(!in_subnet("10.0.1.2".parse().unwrap(), net, len));
        assert!(parse_net("10.0.0.1").is_err());
        assert!(parse_net("10.0.0.1/33").is_err());
        let (net6, len6) = parse_net("fd00::1/64").unwrap();
        assert!(in_subnet("fd00::2".parse().unwrap(), net6, len6));
    }
}
