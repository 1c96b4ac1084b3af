//! The same seed and the same hosts give the same packets, byte for byte;
//! adding a host or a tap does not change what the other links do.

mod common;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use sim::{Instant, Network};

const SPEC: &str = "rate=50mbit,delay=10ms,jitter=3ms,queue=30,loss=0.02,burst=0.5,\
                    reorder=0.03,dup=0.02,corrupt=0.01";
const C: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

/// Two senders to one receiver over impaired links; returns the receiver's
/// arrivals (bytes included).
fn scenario(seed: u64, extra_host: bool, tap: bool) -> Vec<Arrival> {
    let mut net = Network::new(seed);
    let spec: sim::LinkSpec = SPEC.parse().unwrap();
    let a = net.add_host(
        Toy::new(A, B).sending(3000, 400, Duration::from_micros(150)),
        &[IpAddr::V4(A)],
        spec.clone(),
        spec.clone(),
    );
    let mut rx = Toy::new(B, A);
    rx.keep_bytes = true;
    let b = net.add_host(rx, &[IpAddr::V4(B)], spec.clone(), spec.clone());
    let c = net.add_host(
        Toy::new(C, B).sending(2000, 900, Duration::from_micros(400)),
        &[IpAddr::V4(C)],
        spec.clone(),
        spec.clone(),
    );
    if extra_host {
        // Talks only to an address no one has.
        net.add_host(
            Toy::new(Ipv4Addr::new(10, 0, 0, 4), Ipv4Addr::new(10, 9, 9, 9)).sending(
                500,
                100,
                Duration::from_micros(100),
            ),
            &[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 4))],
            spec.clone(),
            spec.clone(),
        );
    }
    if tap {
        net.tap_host(b, std::io::sink()).unwrap();
        net.tap_link(net.uplink(a), std::io::sink()).unwrap();
        net.tap_link(net.downlink(c), std::io::sink()).unwrap();
    }
    run(&mut net);
    net.host(b).arrivals.clone()
}

#[test]
fn same_seed_same_packets() {
    let first = scenario(42, false, false);
    assert!(first.len() > 4000);
    assert_eq!(first, scenario(42, false, false));
}

#[test]
fn different_seed_different_packets() {
    assert_ne!(scenario(42, false, false), scenario(43, false, false));
}

#[test]
fn taps_and_unrelated_hosts_change_nothing() {
    let base = scenario(7, false, false);
    assert_eq!(base, scenario(7, false, true));
    assert_eq!(base, scenario(7, true, false));
}

/// A `Write` whose bytes can be read after the network took it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture(seed: u64) -> Vec<u8> {
    let mut net = Network::new(seed);
    let spec: sim::LinkSpec = SPEC.parse().unwrap();
    net.add_host(
        Toy::new(A, B).sending(2000, 300, Duration::from_micros(100)),
        &[IpAddr::V4(A)],
        spec.clone(),
        spec.clone(),
    );
    let b = net.add_host(Toy::new(B, A), &[IpAddr::V4(B)], spec.clone(), spec);
    let out = Shared::default();
    net.tap_host(b, out.clone()).unwrap();
    net.run_until(Instant::from_secs(10));
    net.flush_taps().unwrap();
    let bytes = out.0.lock().unwrap().clone();
    bytes
}

#[test]
fn captures_are_byte_identical() {
    let one = capture(99);
    assert!(one.len() > 100_000);
    assert_eq!(one, capture(99));
    assert_ne!(one, capture(100));
}
