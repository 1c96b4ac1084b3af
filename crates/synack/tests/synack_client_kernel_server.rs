//! synack as the client, the Linux kernel as the server (a std::net
//! listener inside the test's network namespace), over a TUN interface.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::thread;
use std::time::Duration;

use common::*;
use synack::net::blocking::TcpStream;

/// Sends `data` (then FIN) on a synack socket while reading the answer to
/// its end; returns the answer's length and digest.
fn synack_exchange(s: TcpStream, data: Vec<u8>) -> (u64, [u8; 32]) {
    let mut w = s.clone();
    let writer = thread::spawn(move || {
        write_chunked(&mut w, &data).expect("synack write");
        w.shutdown(Shutdown::Write).expect("synack shutdown");
    });
    let mut r = s;
    let got = drain_hash(&mut r).expect("synack read");
    writer.join().expect("writer");
    got
}

fn connect(stack: &synack::Stack, port: u16) -> std::io::Result<TcpStream> {
    let mut s =
        TcpStream::connect_timeout(stack, kernel_addr(port), Some(Duration::from_secs(20)))?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(s)
}

/// 10 MiB each way at once between a synack client and a kernel server
/// on `kernel` (synack at `ours`), over the stack `open` starts; checks
/// both digests and returns the stack.
fn bulk_both_ways(
    ns: &Ns,
    kernel: std::net::IpAddr,
    port: u16,
    open: impl FnOnce(&Ns) -> StackGuard,
) -> StackGuard {
    // Bound before the interface (and its address) exists.
    let any: std::net::IpAddr = if kernel.is_ipv4() {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    };
    let listener = ns.run(move || {
        std::net::TcpListener::bind(std::net::SocketAddr::new(any, port)).expect("kernel bind")
    });
    let stack = open(ns);
    let up = random_bytes(31, 10 << 20);
    let down = random_bytes(32, 10 << 20);
    let (up_want, down_want) = (sha256(&up), sha256(&down));
    // The kernel: reads to our FIN while sending `down`, then FIN.
    let server = thread::spawn(move || {
        let (s, peer) = listener.accept().expect("accept");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut w = s.try_clone().unwrap();
        let writer = thread::spawn(move || {
            write_chunked(&mut w, &down).expect("kernel write");
            w.shutdown(Shutdown::Write).expect("kernel shutdown");
        });
        let mut r = s;
        let got = drain_hash(&mut r).expect("kernel read");
        writer.join().unwrap();
        (peer, got)
    });
    let target = std::net::SocketAddr::new(kernel, port);
    let mut s =
        TcpStream::connect_timeout(&stack, target, Some(Duration::from_secs(20))).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let local = s.local_addr().unwrap();
    assert_eq!(s.peer_addr().unwrap(), target);
    let got = synack_exchange(s, up);
    let (peer, kernel_got) = server.join().expect("server");
    assert_eq!(peer, local, "the kernel sees our address and port");
    assert_eq!(kernel_got, (10 << 20, up_want), "synack → kernel");
    assert_eq!(got, (10 << 20, down_want), "kernel → synack");
    assert!(stack.wait_idle(Duration::from_secs(20)));
    stack
}

#[test]
fn bulk_in_both_directions_at_once() {
    let Some(netns) = Netns::new("bulk") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("bulk", Duration::from_secs(300), move || {
        // The stack (and with it the interface) lives until the counters
        // are read.
        let _stack = bulk_both_ways(&ns, std::net::IpAddr::V4(KERNEL_IP), 8001, |ns| {
            tun_stack(ns, plain)
        });
        // Without offloads, no packet is larger than the MTU.
        let (to_kernel, from_kernel) = ns.tun_packet_sizes();
        assert!(to_kernel <= 1500.0 && from_kernel <= 1500.0);
    });
}

#[test]
fn bulk_over_an_offloading_tun_in_both_directions_at_once() {
    for v6 in [false, true] {
        let Some(netns) = Netns::new("offload") else {
            return;
        };
        let ns = netns.handle();
        with_deadline("offload", Duration::from_secs(300), move || {
            let (kernel, ours, prefix): (std::net::IpAddr, std::net::IpAddr, u8) = if v6 {
                (
                    "fd00:77::1".parse().unwrap(),
                    "fd00:77::2".parse().unwrap(),
                    64,
                )
            } else {
                (KERNEL_IP.into(), SYNACK_IP.into(), 24)
            };
            let _stack = bulk_both_ways(&ns, kernel, 8009, move |ns| {
                tun_stack_offloaded(ns, (kernel, prefix), ours, Default::default())
            });
            // Segments larger than the MTU crossed the device both ways:
            // the packets' mean size shows it (the interface counts one
            // packet per write and per read).
            let (to_kernel, from_kernel) = ns.tun_packet_sizes();
            assert!(
                to_kernel > 3000.0,
                "synack → kernel: {to_kernel:.0} B per packet"
            );
            assert!(
                from_kernel > 3000.0,
                "kernel → synack: {from_kernel:.0} B per packet"
            );
        });
    }
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let Some(netns) = Netns::new("refused") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("refused", Duration::from_secs(60), move || {
        let stack = tun_stack(&ns, plain);
        let e = connect(&stack, 8002).expect_err("nothing listens on 8002");
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
        assert!(!e.to_string().is_empty());

        // The async API says the same.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let e = rt
            .block_on(synack::net::TcpStream::connect(&stack, kernel_addr(8002)))
            .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    });
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
    assert_eq!(
        rc,
        0,
        "setsockopt SO_LINGER: {}",
        std::io::Error::last_os_error()
    );
}

#[test]
fn kernel_abort_is_a_reset() {
    let Some(netns) = Netns::new("reset") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("reset", Duration::from_secs(60), move || {
        let listener = ns.kernel_listener(8003);
        let stack = tun_stack(&ns, plain);
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            let mut hello = [0u8; 5];
            s.read_exact(&mut hello).expect("hello");
            set_linger_zero(&s);
            drop(s); // RST
            hello
        });
        let mut s = connect(&stack, 8003).expect("connect");
        s.write_all(b"hello").unwrap();
        assert_eq!(&server.join().unwrap(), b"hello");
        let mut buf = [0u8; 16];
        let e = s
            .read(&mut buf)
            .expect_err("the kernel reset the connection");
        assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
        let e = s.write_all(b"more").expect_err("writes fail too");
        assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
        drop(s);
        assert!(stack.wait_idle(Duration::from_secs(10)));
    });
}

#[test]
fn unanswered_syns_time_out() {
    let Some(netns) = Netns::new("timeout") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("timed out", Duration::from_secs(60), move || {
        // Two SYNs (1 s, then 2 s of backoff) instead of Linux's seven.
        let mut config = proto::endpoint::EndpointConfig::default();
        config.conn.syn_retries = 1;
        let stack = tun_stack_with(&ns, config, plain);
        // Nobody has 10.77.0.3: the kernel, which does not forward, drops
        // the SYNs without a word.
        let silent = std::net::SocketAddr::from(([10, 77, 0, 3], 80));
        let e = TcpStream::connect(&stack, silent).expect_err("no answer");
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
        // A deadline of the caller's own says the same.
        let e = TcpStream::connect_timeout(&stack, silent, Some(Duration::from_millis(300)))
            .expect_err("no answer");
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
        assert!(
            stack.wait_idle(Duration::from_secs(10)),
            "the attempts are gone"
        );
    });
}

#[test]
fn ipv6_both_ways() {
    let Some(netns) = Netns::new("ipv6") else {
        return;
    };
    let ns = netns.handle();
    with_deadline("IPv6", Duration::from_secs(120), move || {
        let kernel: std::net::IpAddr = "fd00:77::1".parse().unwrap();
        let ours: std::net::IpAddr = "fd00:77::2".parse().unwrap();
        let listener = ns.run(|| std::net::TcpListener::bind("[::]:8004").expect("kernel bind"));
        let stack = tun_stack_at(
            &ns,
            (kernel, 64),
            ours,
            proto::endpoint::EndpointConfig::default(),
            plain,
        );
        // synack → kernel.
        let data = random_bytes(35, 3 << 20);
        let want = (data.len() as u64, sha256(&data));
        let server = thread::spawn(move || {
            let (mut s, peer) = listener.accept().expect("accept");
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            (peer, drain_hash(&mut s).expect("kernel read"))
        });
        let mut s = TcpStream::connect_timeout(
            &stack,
            std::net::SocketAddr::new(kernel, 8004),
            Some(Duration::from_secs(20)),
        )
        .expect("connect over IPv6");
        write_chunked(&mut s, &data).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let (peer, got) = server.join().unwrap();
        assert_eq!(peer.ip(), ours);
        assert_eq!(got, want);
        drop(s);

        // kernel → synack, echoed.
        let l =
            synack::net::blocking::TcpListener::bind(&stack, std::net::SocketAddr::new(ours, 8005))
                .unwrap();
        let echo = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).unwrap();
            s.write_all(&all).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
        });
        let k = ns
            .kernel_connect(std::net::SocketAddr::new(ours, 8005))
            .expect("kernel connect over IPv6");
        let mut w = k.try_clone().unwrap();
        w.write_all(b"over IPv6").unwrap();
        w.shutdown(Shutdown::Write).unwrap();
        let mut r = k;
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"over IPv6");
        echo.join().unwrap();
        assert!(stack.wait_idle(Duration::from_secs(20)));

        // ping -6 gets replies too.
        let out = ns
            .command("ping")
            .args(["-6", "-c", "2", "-i", "0.2", "-w", "20", "-n", "fd00:77::2"])
            .output()
            .expect("run ping");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "ping -6: {text}");
        assert!(text.contains("2 received"), "{text}");
    });
}
