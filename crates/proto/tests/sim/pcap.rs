//! A capture of a lossy transfer, taken with the simulator's pcap tap, is
//! read back by two parsers nobody here wrote: pcap-parser for the file
//! format, and (when it is installed) tshark for the packets. Every record
//! is an IPv4/TCP packet that `wire` parses with valid checksums, and
//! tshark finds nothing malformed and no bad checksum.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pcap_parser::{parse_pcap, Linktype};
use proto::endpoint::EndpointConfig;
use sim::LinkSpec;
use wire::ip::IpRepr;

use crate::harness::*;

/// A file in the target's scratch directory, named per process so that
/// runs side by side do not meet.
fn capture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}", std::process::id()))
}

const SIZE: u64 = 300_000;

/// Runs the transfer with a tap on the client; returns the file and the
/// number of packets the client sent and received.
fn lossy_capture(path: &Path) -> u64 {
    let up: LinkSpec = "rate=20mbit,delay=5ms,loss=0.05,reorder=0.02"
        .parse()
        .unwrap();
    let down: LinkSpec = "rate=20mbit,delay=5ms".parse().unwrap();
    let mut server = Server::new(server_addr(), 16);
    server.reply = b"captured".to_vec();
    let (mut net, c, s) = two_hosts_with(
        1191,
        up,
        down,
        EndpointConfig::default(),
        Box::new(Client::new(
            server_addr(),
            vec![Job {
                size: SIZE,
                seed: 9,
            }],
        )),
        Box::new(server),
    );
    net.tap_host(c, std::fs::File::create(path).unwrap())
        .unwrap();
    let limit = net.now() + Duration::from_secs(300);
    net.run_while(|net| {
        net.now() < limit
            && (app::<Client>(net, c).finished < 1
                || net.host(c).ep.connection_count() > 0
                || net.host(s).ep.connection_count() > 0)
    });
    net.flush_taps().unwrap();
    assert_eq!(
        app::<Server>(&net, s).done,
        [(SIZE, stream_hash(SIZE, 9))],
        "the transfer completed"
    );
    let lost =
        net.link_stats(net.uplink(c)).dropped_loss + net.link_stats(net.uplink(s)).dropped_loss;
    assert!(lost > 0, "the link lost nothing: not a lossy capture");
    let hs = net.host_stats(c);
    hs.sent_packets + hs.received_packets
}

#[test]
fn lossy_transfer_capture_parses() {
    let path = capture_path("lossy-transfer.pcap");
    let packets = lossy_capture(&path);
    let bytes = std::fs::read(&path).unwrap();
    let (rest, capture) = parse_pcap(&bytes).expect("pcap-parser reads the file");
    assert!(
        rest.is_empty(),
        "{} bytes after the last record",
        rest.len()
    );
    assert_eq!(capture.header.network, Linktype::RAW);
    assert_eq!(
        capture.blocks.len() as u64,
        packets,
        "one record per packet"
    );
    let mut last = (0, 0);
    let mut data_segments = BTreeSet::new();
    let mut retransmissions = 0;
    for (i, block) in capture.blocks.iter().enumerate() {
        assert_eq!(block.caplen, block.origlen, "record {i} truncated");
        assert_eq!(block.data.len(), block.caplen as usize);
        let t = (block.ts_sec, block.ts_usec);
        assert!(t >= last, "record {i}: time goes backwards");
        last = t;
        let (ip, tcp) = parse_tcp(block.data)
            .unwrap_or_else(|| panic!("record {i} is not an IPv4/TCP packet with valid checksums"));
        assert!(matches!(ip, IpRepr::V4(_)), "record {i} is not IPv4");
        let ends = [ip.src_addr(), ip.dst_addr()];
        assert!(
            ends.contains(&CLIENT) && ends.contains(&SERVER),
            "record {i}: {ends:?}"
        );
        if ip.src_addr() == CLIENT && !tcp.payload.is_empty() && !data_segments.insert(tcp.seq.0) {
            retransmissions += 1;
        }
    }
    assert!(retransmissions > 0, "no retransmission in a lossy capture");
    println!(
        "{}: {} records, {retransmissions} retransmitted data segments",
        path.display(),
        capture.blocks.len()
    );

    tshark_checks(&path, packets);
    let _ = std::fs::remove_file(&path);
}

/// Whether a missing tshark must fail the test (CI installs it).
fn tshark_required() -> bool {
    std::env::var("SYNACK_REQUIRE_NETNS").is_ok_and(|v| v == "1")
        || std::env::var_os("CI").is_some()
}

/// tshark's verbose dissection of `path`, with IP and TCP checksum
/// validation on.
fn tshark(path: &Path, extra: &[&str]) -> String {
    let out = Command::new("tshark")
        .args([
            "-n",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
            "-r",
        ])
        .arg(path)
        .args(extra)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of a verbose dissection that report a broken packet.
fn problems(dissection: &str) -> Vec<&str> {
    dissection
        .lines()
        .filter(|l| {
            l.contains("Malformed")
                || l.contains("[incorrect")
                || l.contains("Bad checksum")
                || l.contains("Checksum Status: Bad")
                || l.contains("(Error/")
        })
        .collect()
}

fn tshark_checks(path: &Path, packets: u64) {
    let present = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert!(
            !tshark_required(),
            "tshark is not installed, and CI / SYNACK_REQUIRE_NETNS=1 requires it"
        );
        println!("SKIPPED the tshark checks: tshark is not on PATH (apt-get install tshark)");
        return;
    }
    let verbose = tshark(path, &["-V"]);
    let frames = verbose.lines().filter(|l| l.starts_with("Frame ")).count();
    assert_eq!(frames as u64, packets, "tshark read every packet");
    let bad = problems(&verbose);
    assert!(bad.is_empty(), "tshark complains: {bad:#?}");

    // The same checks find a broken packet: flip a bit of one TCP
    // checksum in a copy and tshark must object.
    let mut bytes = std::fs::read(path).unwrap();
    // The first record: 24-byte file header, 16-byte record header, a
    // 20-byte IPv4 header, then TCP whose checksum is at offset 16.
    bytes[24 + 16 + 20 + 16] ^= 0x01;
    let broken = capture_path("lossy-transfer-broken.pcap");
    std::fs::write(&broken, &bytes).unwrap();
    assert!(
        !problems(&tshark(&broken, &["-V"])).is_empty(),
        "tshark did not notice a bad TCP checksum: the checks above prove nothing"
    );
    let _ = std::fs::remove_file(&broken);

    // Retransmissions are expected in a lossy capture: report, not assert.
    let flagged = tshark(
        path,
        &["-Y", "tcp.analysis.flags && !tcp.analysis.window_update"],
    );
    println!(
        "tshark: {frames} frames, no malformed packet, no bad checksum; \
         {} frames with TCP analysis flags (retransmissions, dup ACKs, …)",
        flagged.lines().count()
    );
}
