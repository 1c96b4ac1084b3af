//! Checksum throughput, and parsing and emitting a TCP/IPv4 packet.
//!
//! `cargo bench -p synack-wire` (add `-- --warm-up-time 1 --measurement-time 3`
//! for a quick run).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wire::checksum;
use wire::ip::{self, IpProtocol, IpRepr};
use wire::tcp::{TcpFlags, TcpOptions, TcpRepr, Timestamps};
use wire::SeqNum;

/// Bytes that are not all alike, so that no shortcut helps.
fn data(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn bench_checksum(c: &mut Criterion) {
    let mut group = c.benchmark_group("checksum");
    for len in [1500usize, 64 * 1024] {
        let buf = data(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &buf, |b, buf| {
            b.iter(|| checksum::checksum(black_box(buf)))
        });
    }
    group.finish();
}

const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A segment as a bulk sender writes it: ACK with timestamps, and either
/// 1460 bytes of data (PSH) or none (a bare ACK).
fn segment(payload: &[u8]) -> TcpRepr<'_> {
    TcpRepr {
        src_port: 443,
        dst_port: 51000,
        seq: SeqNum(0x1234_5678),
        ack: SeqNum(0x9abc_def0),
        flags: if payload.is_empty() {
            TcpFlags::ACK
        } else {
            TcpFlags::ACK | TcpFlags::PSH
        },
        window: 502,
        urgent: 0,
        options: TcpOptions {
            timestamps: Some(Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0x0506_0708,
            }),
            ..TcpOptions::default()
        },
        payload,
    }
}

/// Writes the IPv4 header and the segment into `buf`; returns the length.
fn emit(tcp: &TcpRepr<'_>, buf: &mut [u8]) -> usize {
    let ip = IpRepr::new(
        IpAddr::V4(SRC),
        IpAddr::V4(DST),
        IpProtocol::TCP,
        tcp.buffer_len(),
        64,
    )
    .expect("same family");
    let n = ip.emit(buf).expect("room for the header");
    n + tcp
        .emit(&mut buf[n..], &ip.src_addr(), &ip.dst_addr())
        .expect("room for the segment")
}

/// Parses an IPv4 packet and the TCP segment in it.
fn parse(bytes: &[u8], verify: bool) -> TcpRepr<'_> {
    let (ip, segment) = ip::parse(bytes, verify).expect("IP parses");
    TcpRepr::parse_bytes(segment, &ip.src_addr(), &ip.dst_addr(), verify).expect("TCP parses")
}

fn bench_tcp_ipv4(c: &mut Criterion) {
    let payload = data(1460);
    let mut group = c.benchmark_group("tcp_ipv4");
    for (name, tcp) in [("data_1460", segment(&payload)), ("ack", segment(&[]))] {
        let mut buf = vec![0u8; 1600];
        let len = emit(&tcp, &mut buf);
        let bytes = buf[..len].to_vec();
        assert_eq!(parse(&bytes, true), tcp);

        group.bench_function(BenchmarkId::new("parse", name), |b| {
            b.iter(|| parse(black_box(&bytes), true))
        });
        group.bench_function(BenchmarkId::new("parse_no_verify", name), |b| {
            b.iter(|| parse(black_box(&bytes), false))
        });
        group.bench_function(BenchmarkId::new("emit", name), |b| {
            b.iter(|| emit(black_box(&tcp), black_box(&mut buf)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_checksum, bench_tcp_ipv4);
criterion_main!(benches);
