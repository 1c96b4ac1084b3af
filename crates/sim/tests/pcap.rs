//! Captures read back with pcap-file's reader: link type, counts,
//! timestamps and bytes.

mod common;

use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use pcap_file::pcap::PcapReader;
use pcap_file::{DataLink, TsResolution};
use sim::{Instant, Network};

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

impl Shared {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

/// (timestamp, bytes) of every record, after checking the file header.
fn read(capture: &[u8]) -> Vec<(Instant, Vec<u8>)> {
    let mut reader = PcapReader::new(capture).unwrap();
    let header = reader.header();
    assert_eq!(header.datalink, DataLink::RAW);
    assert_eq!(header.ts_resolution, TsResolution::MicroSecond);
    assert_eq!((header.version_major, header.version_minor), (2, 4));
    let mut out = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.unwrap();
        assert_eq!(packet.orig_len as usize, packet.data.len());
        let at = Instant::from_micros(packet.timestamp.as_micros() as u64);
        out.push((at, packet.data.into_owned()));
    }
    out
}

#[test]
fn host_tap_sees_what_it_sends_and_receives() {
    // a sends 200 packets to b; b sends 50 back. a's uplink loses some,
    // which a's capture still shows (it was sent) and b's does not.
    let mut net = Network::new(5);
    let a = net.add_host(
        Toy::new(A, B).sending(200, 120, Duration::from_millis(1)),
        &[IpAddr::V4(A)],
        "delay=7ms,loss=0.2".parse().unwrap(),
        "delay=3ms".parse().unwrap(),
    );
    let b = net.add_host(
        Toy::new(B, A).sending(50, 80, Duration::from_millis(2)),
        &[IpAddr::V4(B)],
        "delay=1ms".parse().unwrap(),
        "delay=2ms".parse().unwrap(),
    );
    let (cap_a, cap_b, cap_up) = (Shared::default(), Shared::default(), Shared::default());
    net.tap_host(a, cap_a.clone()).unwrap();
    net.tap_host(b, cap_b.clone()).unwrap();
    net.tap_link(net.uplink(a), cap_up.clone()).unwrap();
    run(&mut net);
    net.flush_taps().unwrap();

    let lost = net.link_stats(net.uplink(a)).dropped_loss;
    assert!(lost > 10);
    let recs_a = read(&cap_a.bytes());
    let recs_b = read(&cap_b.bytes());
    let recs_up = read(&cap_up.bytes());
    assert_eq!(recs_a.len(), 200 + 50);
    assert_eq!(recs_b.len() as u64, 50 + 200 - lost);
    assert_eq!(recs_up.len() as u64, 200 - lost);

    // a's capture: its sends at send time, b's packets at arrival time
    // (sent at 2k ms, 1 ms up, 3 ms down).
    let (sent, received): (Vec<_>, Vec<_>) =
        recs_a.iter().partition(|(_, p)| p[12..16] == A.octets());
    assert_eq!(sent.len(), 200);
    for (i, (at, p)) in sent.iter().enumerate() {
        assert_eq!(*at, Instant::from_millis(i as u64));
        assert_eq!(*p, build_packet(A, B, i as u64, 120));
    }
    for (i, (at, p)) in received.iter().enumerate() {
        assert_eq!(*at, Instant::from_millis(2 * i as u64 + 4));
        assert_eq!(*p, build_packet(B, A, i as u64, 80));
    }
    // Records are in time order.
    for recs in [&recs_a, &recs_b, &recs_up] {
        assert!(recs.windows(2).all(|w| w[0].0 <= w[1].0));
    }
    // The uplink capture is taken at the router, 7 ms after sending.
    for (at, p) in &recs_up {
        let seq = u64::from_be_bytes(p[SEQ_AT..SEQ_AT + 8].try_into().unwrap());
        assert_eq!(*at, Instant::from_millis(seq + 7));
    }
    // b's capture of a's packets: sent at k ms, 7 ms up, 2 ms down.
    for (at, p) in recs_b.iter().filter(|(_, p)| p[12..16] == A.octets()) {
        let seq = u64::from_be_bytes(p[SEQ_AT..SEQ_AT + 8].try_into().unwrap());
        assert_eq!(*at, Instant::from_millis(seq + 9));
    }
}

#[test]
fn large_packets_are_truncated_to_the_snaplen() {
    struct Big(bool);
    impl sim::Host for Big {
        fn receive(&mut self, _: Instant, _: &[u8]) {}
        fn poll_transmit(&mut self, _: Instant, buf: &mut [u8]) -> Option<usize> {
            if std::mem::replace(&mut self.0, true) {
                return None;
            }
            buf.fill(0x45);
            Some(buf.len())
        }
        fn poll_timeout(&mut self) -> Option<Instant> {
            None
        }
        fn handle_timeout(&mut self, _: Instant) {}
    }
    let mut net = Network::new(1);
    let id = net.add_host(
        Big(false),
        &[IpAddr::V4(A)],
        Default::default(),
        Default::default(),
    );
    let cap = Shared::default();
    net.tap_host(id, cap.clone()).unwrap();
    run_big(&mut net);
    net.flush_taps().unwrap();
    let bytes = cap.bytes();
    let mut reader = PcapReader::new(&bytes[..]).unwrap();
    let p = reader.next_packet().unwrap().unwrap();
    assert_eq!(p.orig_len as usize, sim::MAX_PACKET);
    assert_eq!(p.data.len(), sim::pcap::SNAPLEN as usize);
    assert!(reader.next_packet().is_none());
    // 0x45... is IPv4 with a garbage destination: unroutable.
    assert_eq!(net.router_stats().unroutable, 1);
}

fn run_big<H: sim::Host>(net: &mut Network<H>) {
    assert!(net.run_until_idle(Instant::from_secs(1)));
}

#[test]
fn write_errors_are_reported_by_flush() {
    struct Failing;
    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::other("disk full"))
        }
    }
    let mut net = Network::new(1);
    let a = net.add_host(
        Toy::new(A, B).sending(10, 100, Duration::from_millis(1)),
        &[IpAddr::V4(A)],
        Default::default(),
        Default::default(),
    );
    // The header goes into the buffer; the error shows at the flush.
    net.tap_host(a, Failing).unwrap();
    run(&mut net);
    let err = net.flush_taps().unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
    // The simulation itself was not disturbed.
    assert_eq!(net.host_stats(a).sent_packets, 10);
}
