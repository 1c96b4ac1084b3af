//! A capture of the TUN traffic (a `PcapTap`), read back with pcap-file and
//! `wire`, and by tshark when it is installed: both SYNs of each handshake
//! carry MSS, window scale, SACK-permitted and timestamps, and synack's
//! sequence and acknowledgment numbers follow the handshake, the data and
//! the close exactly.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::*;
use synack::device::{Device, PcapTap};
use synack::net::blocking::{TcpListener, TcpStream};
use wire::ipv4::Ipv4Packet;
use wire::tcp::{TcpFlags, TcpRepr};
use wire::SeqNum;

/// Ports chosen with no Wireshark dissector of their own.
const SERVER_PORT: u16 = 40123;
const KERNEL_PORT: u16 = 40124;

/// One captured TCP segment, owned.
#[derive(Debug, Clone)]
struct Seg {
    src: SocketAddr,
    dst: SocketAddr,
    seq: SeqNum,
    ack: SeqNum,
    flags: TcpFlags,
    mss: Option<u16>,
    wscale: Option<u8>,
    sack_ok: bool,
    ts: bool,
    payload: Vec<u8>,
}

fn read_capture(path: &Path) -> Vec<Seg> {
    let mut reader = pcap_file::pcap::PcapReader::new(File::open(path).expect("open the capture"))
        .expect("a pcap header");
    assert_eq!(reader.header().datalink, pcap_file::DataLink::RAW);
    let mut segs = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p.expect("a whole pcap record");
        if p.data.first().map(|b| b >> 4) != Some(4) {
            continue; // the kernel's IPv6 neighbour discovery and MLD
        }
        let ip = Ipv4Packet::new_checked(&p.data[..]).expect("an IPv4 packet");
        if ip.protocol() != wire::ip::IpProtocol::TCP {
            continue;
        }
        assert!(ip.verify_checksum(), "IPv4 checksum");
        let (src, dst) = (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()));
        let tcp = TcpRepr::parse_bytes(ip.payload(), &src, &dst, true)
            .unwrap_or_else(|e| panic!("a valid TCP segment {src} → {dst}: {e:?}"));
        segs.push(Seg {
            src: SocketAddr::new(src, tcp.src_port),
            dst: SocketAddr::new(dst, tcp.dst_port),
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            mss: tcp.options.mss,
            wscale: tcp.options.window_scale,
            sack_ok: tcp.options.sack_permitted,
            ts: tcp.options.timestamps.is_some(),
            payload: tcp.payload.to_vec(),
        });
    }
    segs
}

/// A SYN without ACK (ECN bits allowed: a kernel with `tcp_ecn=1` sets
/// ECE and CWR on its SYNs).
fn is_syn(s: &Seg) -> bool {
    s.flags.contains(TcpFlags::SYN) && !s.flags.contains(TcpFlags::ACK)
}

/// Checks one connection of the capture. `client` opened it; `ours` is
/// synack's end; `sent` and `received` are the bytes synack sent and
/// received on it.
fn check_connection(
    segs: &[Seg],
    client: SocketAddr,
    ours: SocketAddr,
    sent: &[u8],
    received: &[u8],
) {
    let theirs = if client == ours {
        segs.iter()
            .find(|s| s.src == ours)
            .expect("a segment from us")
            .dst
    } else {
        client
    };
    let conn: Vec<&Seg> = segs
        .iter()
        .filter(|s| (s.src == ours && s.dst == theirs) || (s.src == theirs && s.dst == ours))
        .collect();
    let server = if client == ours { theirs } else { ours };

    // The handshake: SYN, SYN-ACK, each with every option a modern Linux
    // turns on.
    let syn = conn[0];
    assert_eq!(syn.src, client, "the first segment is the client's");
    assert!(is_syn(syn), "the first segment is a SYN: {syn:?}");
    let synack = conn
        .iter()
        .find(|s| s.src == server && s.flags.contains(TcpFlags::SYN))
        .expect("a SYN-ACK");
    assert!(
        synack.flags.contains(TcpFlags::ACK),
        "SYN-ACK flags {:?}",
        synack.flags
    );
    assert_eq!(synack.ack, syn.seq + 1, "the SYN-ACK acknowledges the SYN");
    for s in [syn, *synack] {
        assert_eq!(s.mss, Some(1460), "MSS of {}'s SYN", s.src);
        assert!(s.wscale.is_some(), "window scale in {}'s SYN", s.src);
        assert!(s.sack_ok, "SACK-permitted in {}'s SYN", s.src);
        assert!(s.ts, "timestamps in {}'s SYN", s.src);
        assert!(s.payload.is_empty());
    }
    let (our_isn, their_isn) = if client == ours {
        (syn.seq, synack.seq)
    } else {
        (synack.seq, syn.seq)
    };

    // Every later segment, in the order synack saw and sent them.
    let our_fin_seq = our_isn + 1 + sent.len() as u32;
    let their_fin_seq = their_isn + 1 + received.len() as u32;
    let mut their_highest = their_isn + 1; // the next sequence number seen from them
    let mut last_ack = their_isn; // what we acknowledged last
    let (mut our_fins, mut their_fins) = (0, 0);
    let mut last_ours = None;
    let mut last_theirs = None;
    for s in conn.iter().filter(|s| !s.flags.contains(TcpFlags::SYN)) {
        assert!(!s.flags.contains(TcpFlags::RST), "no reset: {s:?}");
        assert!(
            s.flags.contains(TcpFlags::ACK),
            "ACK on every segment after the handshake"
        );
        assert!(s.ts, "timestamps on every segment once agreed: {s:?}");
        let (isn, stream, fin_seq) = if s.src == ours {
            (our_isn, sent, our_fin_seq)
        } else {
            (their_isn, received, their_fin_seq)
        };
        // Data sits exactly at its offset in the stream; a bare ACK is at
        // most one past the data (after the FIN).
        let off = s.seq.since(isn + 1) as usize;
        if s.payload.is_empty() && off == stream.len() + 1 {
            let fins = if s.src == ours { our_fins } else { their_fins };
            assert!(fins > 0, "{} is past a FIN it did not send: {s:?}", s.src);
            assert!(!s.flags.contains(TcpFlags::FIN));
            if s.src == ours {
                assert!(s.ack <= their_highest && s.ack >= last_ack);
                last_ack = s.ack;
                last_ours = Some(s);
            } else {
                last_theirs = Some(s);
            }
            continue;
        }
        assert!(
            off + s.payload.len() <= stream.len(),
            "{} sends past its data: {s:?}",
            s.src
        );
        assert!(
            s.payload == stream[off..off + s.payload.len()],
            "{}'s data at offset {off} is not the bytes sent there",
            s.src
        );
        if s.flags.contains(TcpFlags::FIN) {
            assert_eq!(
                s.seq + s.payload.len() as u32,
                fin_seq,
                "{}'s FIN follows its last byte",
                s.src
            );
        }
        if s.src == ours {
            our_fins += usize::from(s.flags.contains(TcpFlags::FIN));
            // We acknowledge only what we have seen, never less than before.
            assert!(
                s.ack <= their_highest,
                "we ack {} past what came, {}",
                s.ack,
                their_highest
            );
            assert!(s.ack >= last_ack, "our ACKs never go back");
            last_ack = s.ack;
            last_ours = Some(s);
        } else {
            their_fins += usize::from(s.flags.contains(TcpFlags::FIN));
            let end = s.seq + (s.payload.len() as u32 + u32::from(s.flags.contains(TcpFlags::FIN)));
            their_highest = their_highest.max(end);
            last_theirs = Some(s);
        }
    }
    assert!(our_fins >= 1 && their_fins >= 1, "both sides send FIN");
    // The close: each side's last ACK covers the other's FIN exactly.
    assert_eq!(
        last_ours.expect("ours").ack,
        their_fin_seq + 1,
        "we ack their FIN"
    );
    assert_eq!(
        last_theirs.expect("theirs").ack,
        our_fin_seq + 1,
        "they ack our FIN"
    );
}

/// Independent reading of the capture: tshark's view of the SYNs, and no
/// malformed packets or error-level findings.
fn tshark_checks(path: &Path) {
    let path = path.to_str().unwrap();
    let decode = [
        "-d",
        &format!("tcp.port=={SERVER_PORT},data"),
        "-d",
        &format!("tcp.port=={KERNEL_PORT},data"),
    ]
    .map(String::from);
    let fields = Command::new("tshark")
        .args(["-n", "-r", path])
        .args(&decode)
        .args([
            "-Y",
            "tcp.flags.syn == 1",
            "-T",
            "fields",
            "-E",
            "separator=;",
        ])
        .args([
            "-e",
            "tcp.options.mss_val",
            "-e",
            "tcp.options.wscale.shift",
        ])
        .args([
            "-e",
            "tcp.options.sack_perm",
            "-e",
            "tcp.options.timestamp.tsval",
        ])
        .output()
        .expect("run tshark");
    assert!(
        fields.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&fields.stderr)
    );
    let text = String::from_utf8_lossy(&fields.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "four SYNs in two handshakes:\n{text}");
    for l in lines {
        let f: Vec<&str> = l.split(';').collect();
        assert_eq!(f[0], "1460", "MSS per tshark: {l}");
        assert!(
            f[1..].iter().all(|v| !v.is_empty()),
            "options per tshark: {l}"
        );
    }
    let errors = Command::new("tshark")
        .args(["-n", "-r", path])
        .args(&decode)
        .args(["-Y", "_ws.malformed || _ws.expert.severity == error"])
        .output()
        .expect("run tshark");
    assert!(errors.status.success());
    assert!(
        errors.stdout.is_empty(),
        "tshark finds errors:\n{}",
        String::from_utf8_lossy(&errors.stdout)
    );
}

#[test]
fn handshakes_data_and_closes_in_a_capture() {
    let Some(netns) = Netns::new("capture") else {
        return;
    };
    let ns = netns.handle();
    let dir = TempDir::new("capture");
    let pcap = dir.join("tun.pcap");
    let pcap2 = pcap.clone();
    with_deadline("capture", Duration::from_secs(120), move || {
        let kernel_listener = ns.kernel_listener(KERNEL_PORT);
        let stack = tun_stack(&ns, move |tun| {
            let file = BufWriter::new(File::create(&pcap2).expect("create the capture"));
            Box::new(PcapTap::new(tun, file, synack::unix_epoch_offset()).expect("tap"))
                as Box<dyn Device>
        });

        // A: the kernel connects to synack, sends and closes first; synack
        // answers after the FIN and closes second.
        let request = random_bytes(41, 300_000);
        let answer = random_bytes(42, 200_000);
        let listener = TcpListener::bind(&stack, synack_addr(SERVER_PORT)).unwrap();
        let a_server = {
            let answer = answer.clone();
            thread::spawn(move || {
                let (mut s, peer) = listener.accept().expect("accept");
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let got = drain_hash(&mut s).expect("read");
                s.write_all(&answer).expect("answer");
                drop(s);
                (peer, got)
            })
        };
        let mut k = ns
            .kernel_connect(synack_addr(SERVER_PORT))
            .expect("connect");
        let kernel_client = k.local_addr().unwrap();
        write_chunked(&mut k, &request).unwrap();
        k.shutdown(Shutdown::Write).unwrap();
        let got = drain_hash(&mut k).unwrap();
        assert_eq!(got, (answer.len() as u64, sha256(&answer)));
        drop(k);
        let (peer, got) = a_server.join().unwrap();
        assert_eq!(peer, kernel_client);
        assert_eq!(got, (request.len() as u64, sha256(&request)));

        // B: synack connects to the kernel, sends and closes first.
        let upload = random_bytes(43, 150_000);
        let reply = random_bytes(44, 80_000);
        let b_server = {
            let reply = reply.clone();
            thread::spawn(move || {
                let (mut s, _) = kernel_listener.accept().expect("kernel accept");
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let got = drain_hash(&mut s).expect("kernel read");
                s.write_all(&reply).expect("kernel reply");
                got
            })
        };
        let mut s = TcpStream::connect(&stack, kernel_addr(KERNEL_PORT)).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let synack_client = s.local_addr().unwrap();
        write_chunked(&mut s, &upload).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).unwrap();
        assert!(back == reply, "the kernel's reply");
        drop(s);
        assert_eq!(
            b_server.join().unwrap(),
            (upload.len() as u64, sha256(&upload))
        );

        assert!(stack.wait_idle(Duration::from_secs(20)));
        drop(stack); // stops the driver: the capture is complete

        let segs = read_capture(&pcap);
        let conns: BTreeMap<_, _> = segs
            .iter()
            .filter(|s| is_syn(s))
            .map(|s| (s.src, s.dst))
            .collect();
        assert_eq!(conns.len(), 2, "two connections: {conns:?}");
        check_connection(
            &segs,
            kernel_client,
            synack_addr(SERVER_PORT),
            &answer,
            &request,
        );
        check_connection(&segs, synack_client, synack_client, &upload, &reply);

        if which("tshark") {
            tshark_checks(&pcap);
        } else if required() {
            panic!("SYNACK_REQUIRE_NETNS=1 but tshark is not installed");
        } else {
            eprintln!("tshark not installed: its checks skipped");
        }
    });
    drop(dir);
}

fn which(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
