//! The CLI's contract, driven from outside as the issue states it: the
//! `synack` binary run as a subprocess in a fresh network namespace
//! against kernel clients and servers (std::net sockets in the same
//! namespace).
//!
//! - `serve`: one line `listening on IP:P` on stdout; echo and discard;
//!   SIGTERM closes open connections gracefully (FIN, not RST) and exits 0;
//!   `--pcap` writes a capture.
//! - `connect`: stdin to the server, FIN at its end, the answer to stdout,
//!   exit 0; refused and reset: non-zero with the error on stderr;
//!   `--impair` still delivers every byte.
//! - `get`: the body to `-o FILE` (Content-Length and chunked), exit 0;
//!   HTTP errors and refused connections: non-zero.
//! - Without privilege: a clear message and a non-zero exit.

#[path = "../../synack/tests/common/mod.rs"]
mod common;
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown};
use std::os::fd::AsRawFd;
use std::thread;
use std::time::Duration;

use common::*;
use support::*;

fn connect_args(port: u16, extra: &[&str]) -> Vec<String> {
    let mut a = vec!["connect".to_string()];
    a.extend(tun_args());
    a.extend(extra.iter().map(|s| s.to_string()));
    a.push(kernel_addr(port).to_string());
    a
}

/// A kernel echo server for one connection on 0.0.0.0:`port` of `ns`.
fn kernel_echo_once(ns: &Ns, port: u16) -> thread::JoinHandle<u64> {
    let listener = ns.kernel_listener(port);
    thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("kernel accept");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut w = s.try_clone().unwrap();
        let n = std::io::copy(&mut s, &mut w).expect("kernel echo");
        w.shutdown(Shutdown::Write).unwrap();
        n
    })
}

#[test]
fn serve_echo_discard_and_graceful_sigterm() {
    let Some(netns) = Netns::new("serve") else {
        return;
    };
    let ns = netns.handle();
    let dir = TempDir::new("serve");
    let pcap = dir.join("serve.pcap");
    with_deadline("serve", Duration::from_secs(180), move || {
        let pcap_arg = pcap.to_str().unwrap().to_string();
        let serve = Serve::start(&ns, 7100, "echo", &["--pcap", &pcap_arg]);
        assert_eq!(serve.first_line, format!("listening on {SYNACK_IP}:7100\n"));

        // Echo: 1 MiB back, hash-checked.
        let data = random_bytes(91, 1 << 20);
        let mut s = ns.kernel_connect(synack_addr(7100)).expect("connect");
        let mut w = s.try_clone().unwrap();
        let want = (data.len() as u64, sha256(&data));
        let writer = thread::spawn(move || {
            write_chunked(&mut w, &data).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        assert_eq!(drain_hash(&mut s).unwrap(), want);
        writer.join().unwrap();
        drop(s);

        // A connection left open when the signal comes: it gets a FIN
        // (read returns 0), not a reset, and data sent before still
        // comes back.
        let mut idle = ns.kernel_connect(synack_addr(7100)).expect("connect");
        idle.write_all(b"ping").unwrap();
        let mut four = [0u8; 4];
        idle.read_exact(&mut four).unwrap();
        assert_eq!(&four, b"ping");
        serve.child_signal("TERM");
        let mut rest = Vec::new();
        let n = idle
            .read_to_end(&mut rest)
            .expect("a graceful close, not a reset");
        assert_eq!(n, 0, "nothing more, then FIN");
        drop(idle);
        let (status, stdout_rest, stderr) = serve.wait(Duration::from_secs(30));
        assert!(
            status.success(),
            "exit 0 after SIGTERM, got {status}: {stderr}"
        );
        assert_eq!(stdout_rest, "", "one line on stdout");

        // The capture holds every packet, to the last: the kernel's ACK
        // of synack's FIN on each connection.
        check_capture_complete(&std::fs::read(&pcap).expect("the capture exists"), 2);

        // Discard: everything read, nothing sent back, FIN after ours.
        let serve = Serve::start(&ns, 7101, "discard", &[]);
        let mut s = ns.kernel_connect(synack_addr(7101)).expect("connect");
        write_chunked(&mut s, &random_bytes(92, 300_000)).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).unwrap();
        assert!(back.is_empty());
        drop(s);
        // SIGINT works as SIGTERM does.
        let (status, _, stderr) = serve.stop("INT", Duration::from_secs(30));
        assert!(
            status.success(),
            "exit 0 after SIGINT, got {status}: {stderr}"
        );
    });
    drop(dir);
}

#[test]
fn connect_copies_stdin_and_stdout() {
    let Some(netns) = Netns::new("connect") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("connect", Duration::from_secs(180), move || {
        let server = kernel_echo_once(&ns, 7200);
        let data = random_bytes(93, 2 << 20);
        let (status, stdout, stderr) = run_synack(
            &ns,
            &connect_args(7200, &[]),
            Some(data.clone()),
            Duration::from_secs(120),
        );
        assert!(status.success(), "exit 0, got {status}: {stderr}");
        assert_eq!(stdout.len(), data.len());
        assert!(stdout == data, "stdout is what the echo server sent back");
        assert_eq!(server.join().unwrap(), data.len() as u64);

        // Empty stdin: FIN at once, the server's FIN, exit 0.
        let server = kernel_echo_once(&ns, 7201);
        let (status, stdout, stderr) = run_synack(
            &ns,
            &connect_args(7201, &[]),
            Some(Vec::new()),
            Duration::from_secs(60),
        );
        assert!(status.success(), "exit 0, got {status}: {stderr}");
        assert!(stdout.is_empty());
        assert_eq!(server.join().unwrap(), 0);
    });
}

#[test]
fn connect_when_the_server_closes_first() {
    let Some(netns) = Netns::new("connect-fin") else {
        return;
    };
    let ns = netns.handle();
    with_deadline(
        "connect, server closes first",
        Duration::from_secs(120),
        move || {
            // 1. A greeting, then the server closes while our stdin stays
            //    open and silent: connect prints the greeting and exits 0.
            let listener = ns.kernel_listener(7210);
            let greeter = thread::spawn(move || {
                let (mut s, _) = listener.accept().expect("kernel accept");
                s.write_all(b"hello from the kernel\n").unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest);
                rest
            });
            let mut cmd = ns.command(SYNACK);
            cmd.args(connect_args(7210, &[]))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = ChildGuard::new("synack connect", cmd.spawn().unwrap());
            let held_open = child.get().stdin.take();
            let out = child.output_timeout(Duration::from_secs(30));
            drop(held_open);
            assert!(
                out.status.success(),
                "exit 0: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.stdout, b"hello from the kernel\n");
            assert!(greeter.join().unwrap().is_empty(), "then our FIN, no data");

            // 2. The server half-closes at once and then reads: all of stdin
            //    still reaches it.
            let listener = ns.kernel_listener(7211);
            let sink = thread::spawn(move || {
                let (mut s, _) = listener.accept().expect("kernel accept");
                s.shutdown(Shutdown::Write).unwrap();
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                drain_hash(&mut s).unwrap()
            });
            let data = random_bytes(96, 1 << 20);
            let (status, stdout, stderr) = run_synack(
                &ns,
                &connect_args(7211, &[]),
                Some(data.clone()),
                Duration::from_secs(60),
            );
            assert!(status.success(), "exit 0, got {status}: {stderr}");
            assert!(stdout.is_empty());
            assert_eq!(sink.join().unwrap(), (data.len() as u64, sha256(&data)));
        },
    );
}

#[test]
fn connect_through_an_impaired_link() {
    let Some(netns) = Netns::new("connect-imp") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("connect --impair", Duration::from_secs(240), move || {
        let server = kernel_echo_once(&ns, 7202);
        let data = random_bytes(94, 256 * 1024);
        let args = connect_args(7202, &["--impair", "loss=0.05,reorder=0.02"]);
        let (status, stdout, stderr) =
            run_synack(&ns, &args, Some(data.clone()), Duration::from_secs(200));
        assert!(status.success(), "exit 0, got {status}: {stderr}");
        assert_eq!(
            sha256(&stdout),
            sha256(&data),
            "every byte, through loss both ways"
        );
        server.join().unwrap();
    });
}

/// Reads a pcap file of raw IP packets (little-endian, as synack writes
/// it) and checks that each of `conns` connections to synack ends with the
/// kernel's ACK of synack's FIN.
fn check_capture_complete(bytes: &[u8], conns: usize) {
    use wire::ipv4::Ipv4Packet;
    use wire::tcp::{TcpFlags, TcpRepr};
    let magic = u32::from_le_bytes(bytes[..4].try_into().unwrap());
    assert!(
        magic == 0xa1b2_c3d4 || magic == 0xa1b2_3c4d,
        "pcap magic {magic:x}"
    );
    assert_eq!(
        u32::from_le_bytes(bytes[20..24].try_into().unwrap()),
        101,
        "LINKTYPE_RAW"
    );
    // Per connection (synack's port, the kernel's port): synack's last FIN
    // sequence number and the kernel's last ACK.
    let mut fin_end = std::collections::HashMap::new();
    let mut last_ack = std::collections::HashMap::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        assert!(
            at + 16 + len <= bytes.len(),
            "the capture ends in a cut record"
        );
        let data = &bytes[at + 16..at + 16 + len];
        at += 16 + len;
        let Ok(ip) = Ipv4Packet::new_checked(data) else {
            continue;
        };
        let (src, dst) = (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()));
        let Ok(tcp) = TcpRepr::parse_bytes(ip.payload(), &src, &dst, true) else {
            continue;
        };
        if src == IpAddr::V4(SYNACK_IP) {
            if tcp.flags.contains(TcpFlags::FIN) {
                fin_end.insert((tcp.src_port, tcp.dst_port), tcp.seq + tcp.seq_len());
            }
        } else {
            last_ack.insert((tcp.dst_port, tcp.src_port), tcp.ack);
        }
    }
    assert_eq!(at, bytes.len(), "whole records");
    assert_eq!(fin_end.len(), conns, "synack's FINs");
    for (conn, end) in fin_end {
        assert_eq!(
            last_ack.get(&conn),
            Some(&end),
            "the last ACK of {conn:?} is in the capture"
        );
    }
}

/// `SO_LINGER` with a zero timeout: closing then aborts with RST.
fn set_linger_zero(s: &std::net::TcpStream) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket fd and a live, correctly sized `linger`.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

#[test]
fn connect_errors_refused_and_reset() {
    let Some(netns) = Netns::new("connect-err") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("connect errors", Duration::from_secs(120), move || {
        // Nothing listens on 7300: the kernel answers RST.
        let (status, stdout, stderr) = run_synack(
            &ns,
            &connect_args(7300, &[]),
            Some(b"x".to_vec()),
            Duration::from_secs(60),
        );
        assert!(!status.success(), "refused: non-zero exit");
        assert!(stdout.is_empty());
        assert!(
            stderr.to_lowercase().contains("refused"),
            "stderr says refused: {stderr:?}"
        );

        // The server reads our line, then aborts: RST.
        let listener = ns.kernel_listener(7301);
        let server = thread::spawn(move || {
            let (s, _) = listener.accept().expect("kernel accept");
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            let mut line = String::new();
            BufReader::new(&s).read_line(&mut line).unwrap();
            set_linger_zero(&s);
            drop(s);
            line
        });
        let (status, _, stderr) = run_synack(
            &ns,
            &connect_args(7301, &[]),
            Some(b"hello\n".to_vec()),
            Duration::from_secs(60),
        );
        assert_eq!(server.join().unwrap(), "hello\n");
        assert!(!status.success(), "reset: non-zero exit");
        assert!(
            stderr.to_lowercase().contains("reset"),
            "stderr says reset: {stderr:?}"
        );
    });
}

/// The third error of the contract. Slow (synack retries its SYN as Linux
/// does: seven SYNs over about 127 s), so not in the default run:
/// `cargo test -p synack-cli --test cli_contract -- --ignored`.
#[test]
#[ignore = "about 130 s of SYN retries"]
fn connect_to_a_silent_address_times_out() {
    let Some(netns) = Netns::new("connect-to") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("connect timed out", Duration::from_secs(300), move || {
        // 10.77.0.3 is nobody: the kernel, which does not forward, drops
        // the SYNs without a word.
        let mut args = vec!["connect".to_string()];
        args.extend(tun_args());
        args.push("10.77.0.3:7302".into());
        let (status, _, stderr) =
            run_synack(&ns, &args, Some(Vec::new()), Duration::from_secs(240));
        assert!(!status.success(), "timed out: non-zero exit");
        assert!(
            stderr.contains("timed out"),
            "stderr says timed out: {stderr:?}"
        );
    });
}

/// A kernel HTTP/1.1 server answering `count` requests, one per
/// connection: /file with Content-Length, /chunked chunked, else 404.
fn kernel_http(ns: &Ns, port: u16, body: Vec<u8>, count: usize) -> thread::JoinHandle<Vec<String>> {
    let listener = ns.kernel_listener(port);
    thread::spawn(move || {
        let mut requests = Vec::new();
        for _ in 0..count {
            let (s, _) = listener.accept().expect("kernel accept");
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut start = String::new();
            r.read_line(&mut start).unwrap();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
            }
            let mut w = s;
            let path = start.split_whitespace().nth(1).unwrap_or("").to_string();
            match path.as_str() {
                "/file" => {
                    write!(
                        w,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .unwrap();
                    write_chunked(&mut w, &body).unwrap();
                }
                "/chunked" => {
                    write!(w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").unwrap();
                    for piece in body.chunks(70_000) {
                        write!(w, "{:x}\r\n", piece.len()).unwrap();
                        w.write_all(piece).unwrap();
                        w.write_all(b"\r\n").unwrap();
                    }
                    w.write_all(b"0\r\n\r\n").unwrap();
                }
                _ => {
                    w.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope").unwrap();
                }
            }
            w.shutdown(Shutdown::Write).unwrap();
            // Wait for the client's FIN before closing (no RST on unread data).
            let mut sink = Vec::new();
            let _ = r.read_to_end(&mut sink);
            requests.push(start.trim_end().to_string());
        }
        requests
    })
}

fn get_args(port: u16, path: &str, out: &str) -> Vec<String> {
    let mut a = vec!["get".to_string()];
    a.extend(tun_args());
    a.push(format!("http://{KERNEL_IP}:{port}{path}"));
    a.extend(["-o".to_string(), out.to_string()]);
    a
}

#[test]
fn get_writes_the_body_and_reports_errors() {
    let Some(netns) = Netns::new("get") else {
        return;
    };
    let ns = netns.handle();
    let dir = TempDir::new("get");
    let out = dir.join("body");
    with_deadline("get", Duration::from_secs(180), move || {
        let out = out.to_str().unwrap().to_string();
        let body = random_bytes(95, 3 << 20);
        let server = kernel_http(&ns, 7400, body.clone(), 3);

        for path in ["/file", "/chunked"] {
            let _ = std::fs::remove_file(&out);
            let (status, _, stderr) = run_synack(
                &ns,
                &get_args(7400, path, &out),
                None,
                Duration::from_secs(120),
            );
            assert!(
                status.success(),
                "GET {path}: exit 0, got {status}: {stderr}"
            );
            let got = std::fs::read(&out).expect("the output file");
            assert_eq!(got.len(), body.len(), "GET {path}");
            assert!(got == body, "GET {path}: the body");
        }

        let (status, _, stderr) = run_synack(
            &ns,
            &get_args(7400, "/missing", &out),
            None,
            Duration::from_secs(60),
        );
        assert!(!status.success(), "a 404 is a failure");
        assert!(
            stderr.contains("404"),
            "stderr names the status: {stderr:?}"
        );
        let requests = server.join().unwrap();
        assert_eq!(
            requests,
            [
                "GET /file HTTP/1.1",
                "GET /chunked HTTP/1.1",
                "GET /missing HTTP/1.1"
            ]
        );

        // Nothing on 7401.
        let (status, _, stderr) = run_synack(
            &ns,
            &get_args(7401, "/", &out),
            None,
            Duration::from_secs(60),
        );
        assert!(!status.success());
        assert!(
            stderr.to_lowercase().contains("refused"),
            "stderr says refused: {stderr:?}"
        );
    });
    drop(dir);
}

#[test]
fn without_privilege_the_message_says_so() {
    let Some(netns) = Netns::new("noroot") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("no privilege", Duration::from_secs(60), move || {
        // The same command as user nobody, no capabilities.
        let mut cmd = ns.command("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            SYNACK,
            "serve",
        ])
        .args(tun_args())
        .args(["--port", "7500", "--app", "echo"]);
        let child = match cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                assert!(!required(), "setpriv (util-linux) is needed: {e}");
                eprintln!("skipped: no setpriv: {e}");
                return;
            }
        };
        let out =
            ChildGuard::new("setpriv synack serve", child).output_timeout(Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "it cannot work without privilege");
        assert!(out.stdout.is_empty(), "no `listening` line");
        assert!(
            stderr.contains("root or CAP_NET_ADMIN"),
            "the message says what is needed: {stderr:?}"
        );
    });
}
