//! The Linux kernel as the client, synack as the server, over a TUN
//! interface in a network namespace each test makes for itself.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::thread;
use std::time::Duration;

use common::*;
use synack::net::blocking::{TcpListener, TcpStream};

/// Serves `handler` on every connection to synack's `port`, one thread
/// each, until the stack stops.
fn serve(
    stack: &synack::Stack,
    port: u16,
    handler: impl Fn(TcpStream) + Send + Sync + Clone + 'static,
) {
    let listener = TcpListener::bind(stack, synack_addr(port)).expect("bind");
    thread::spawn(move || {
        while let Ok((mut stream, _)) = listener.accept() {
            stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            let handler = handler.clone();
            thread::spawn(move || handler(stream));
        }
    });
}

/// Echoes until the peer's FIN, then closes.
fn echo(mut s: TcpStream) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
    let _ = s.shutdown(Shutdown::Write);
}

/// Sends `data` from a kernel socket (then FIN) while reading the answer
/// to its end; returns the answer's length and digest.
fn kernel_exchange(s: std::net::TcpStream, data: Vec<u8>) -> (u64, [u8; 32]) {
    let mut w = s.try_clone().expect("clone");
    let writer = thread::spawn(move || {
        write_chunked(&mut w, &data).expect("kernel write");
        w.shutdown(Shutdown::Write).expect("kernel shutdown");
    });
    let mut r = s;
    let got = drain_hash(&mut r).expect("kernel read");
    writer.join().expect("writer");
    got
}

#[test]
fn echo_of_0_1_and_10_mib() {
    let Some(netns) = Netns::new("echo") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("echo", Duration::from_secs(300), move || {
        let stack = tun_stack(&ns, plain);
        serve(&stack, 7001, echo);
        for (seed, n) in [(1u64, 0usize), (2, 1), (3, 10 << 20)] {
            let data = random_bytes(seed, n);
            let want = sha256(&data);
            let s = ns.kernel_connect(synack_addr(7001)).expect("connect");
            let (len, got) = kernel_exchange(s, data);
            assert_eq!(len, n as u64, "echo of {n} bytes: length");
            assert_eq!(hex(&got), hex(&want), "echo of {n} bytes: digest");
        }
        assert!(
            stack.wait_idle(Duration::from_secs(20)),
            "every connection ends"
        );
    });
}

#[test]
fn kernel_half_closes_first_and_synack_keeps_sending() {
    let Some(netns) = Netns::new("halfclose") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("half-close", Duration::from_secs(120), move || {
        let stack = tun_stack(&ns, plain);
        let answer = random_bytes(11, 2 << 20);
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let answer = answer.clone();
            serve(&stack, 7002, move |mut s| {
                // Everything up to the kernel's FIN, then our answer.
                let got = drain_hash(&mut s).expect("synack read");
                let sent = write_chunked(&mut s, &answer).and_then(|_| s.shutdown(Shutdown::Write));
                tx.send((got, sent.is_ok())).unwrap();
            });
        }
        let request = random_bytes(10, 5000);
        let mut s = ns.kernel_connect(synack_addr(7002)).expect("connect");
        s.write_all(&request).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let (len, digest) = drain_hash(&mut s).expect("kernel read");
        let ((got_len, got_digest), sent_ok) = rx.recv_timeout(IO_TIMEOUT).expect("server");
        assert_eq!(got_len, request.len() as u64);
        assert_eq!(got_digest, sha256(&request), "synack got the request");
        assert!(sent_ok, "synack could send after the kernel's FIN");
        assert_eq!(len, answer.len() as u64);
        assert_eq!(digest, sha256(&answer), "the kernel got the answer");
        drop(s);
        assert!(stack.wait_idle(Duration::from_secs(20)));
    });
}

#[test]
fn synack_closes_first() {
    let Some(netns) = Netns::new("closefirst") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("synack closes first", Duration::from_secs(120), move || {
        let stack = tun_stack(&ns, plain);
        let greeting = random_bytes(20, 100_000);
        let reply = random_bytes(21, 50_000);
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let greeting = greeting.clone();
            serve(&stack, 7003, move |mut s| {
                let mut first = [0u8; 1];
                s.read_exact(&mut first).expect("which close");
                s.write_all(&greeting).expect("greeting");
                if first[0] == b'h' {
                    // Half-close: our FIN first, then read the kernel's reply.
                    s.shutdown(Shutdown::Write).expect("shutdown");
                    let got = drain_hash(&mut s).expect("read the reply");
                    tx.send(Some(got)).unwrap();
                } else {
                    // Full close while the kernel has not closed.
                    drop(s);
                    tx.send(None).unwrap();
                }
            });
        }

        // 1. synack sends FIN first and keeps reading.
        let mut s = ns.kernel_connect(synack_addr(7003)).expect("connect");
        s.write_all(b"h").unwrap();
        let (len, digest) = drain_hash(&mut s).expect("kernel read");
        assert_eq!((len, digest), (greeting.len() as u64, sha256(&greeting)));
        s.write_all(&reply)
            .expect("the kernel writes after synack's FIN");
        s.shutdown(Shutdown::Write).unwrap();
        let got = rx.recv_timeout(IO_TIMEOUT).unwrap().expect("a digest");
        assert_eq!(got, (reply.len() as u64, sha256(&reply)));
        drop(s);

        // 2. synack closes the socket outright.
        let mut s = ns.kernel_connect(synack_addr(7003)).expect("connect");
        s.write_all(b"c").unwrap();
        let (len, digest) = drain_hash(&mut s).expect("kernel read");
        assert_eq!((len, digest), (greeting.len() as u64, sha256(&greeting)));
        assert!(rx.recv_timeout(IO_TIMEOUT).unwrap().is_none());
        drop(s);

        assert!(stack.wait_idle(Duration::from_secs(20)));
        // synack closed first both times: it holds both TIME-WAITs.
        assert_eq!(stack.with_endpoint(|ep| ep.time_wait_count()), 2);
    });
}

#[test]
fn hundred_concurrent_connections_to_an_async_server() {
    let Some(netns) = Netns::new("hundred") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("100 connections", Duration::from_secs(300), move || {
        let stack = tun_stack(&ns, plain);
        // The async API: a current-thread tokio runtime, one task each.
        let server_stack = stack.0.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let server = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = synack::net::TcpListener::bind(&server_stack, synack_addr(7004))
                    .await
                    .expect("bind");
                ready_tx.send(()).unwrap();
                let mut accepted = 0;
                while let Ok((s, _peer)) = l.accept().await {
                    accepted += 1;
                    tokio::spawn(async move {
                        let (mut r, mut w) = s.into_split();
                        if tokio::io::copy(&mut r, &mut w).await.is_ok() {
                            let _ = tokio::io::AsyncWriteExt::shutdown(&mut w).await;
                        }
                    });
                }
                accepted
            })
        });
        ready_rx.recv_timeout(IO_TIMEOUT).unwrap();

        const N: u64 = 100;
        // All connected before any sends: 100 at once.
        let conns: Vec<_> = (0..N)
            .map(|i| {
                ns.kernel_connect(synack_addr(7004))
                    .unwrap_or_else(|e| panic!("connect {i}: {e}"))
            })
            .collect();
        let clients: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let data = random_bytes(100 + i as u64, 64 * 1024 + i * 1000);
                thread::spawn(move || {
                    let want = (data.len() as u64, sha256(&data));
                    (kernel_exchange(s, data), want)
                })
            })
            .collect();
        for (i, c) in clients.into_iter().enumerate() {
            let (got, want) = c.join().expect("client");
            assert_eq!(got, want, "connection {i}");
        }
        assert!(
            stack.wait_idle(Duration::from_secs(30)),
            "every connection ends"
        );
        stack.shutdown();
        let accepted = server.join().expect("server");
        assert_eq!(accepted, N);
    });
}

#[test]
fn ping_gets_replies() {
    let Some(netns) = Netns::new("ping") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("ping", Duration::from_secs(60), move || {
        let stack = tun_stack(&ns, plain);
        let out = ns
            .command("ping")
            .args(["-c", "3", "-i", "0.2", "-w", "20", "-n"])
            .arg(SYNACK_IP.to_string())
            .output()
            .expect("run ping");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "ping failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("3 received"), "{text}");
        assert!(stack.with_endpoint(|ep| ep.stats().echo_replies) >= 3);
    });
}
