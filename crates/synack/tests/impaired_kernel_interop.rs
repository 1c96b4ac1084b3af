//! Bulk transfers with the Linux kernel through the impairment the CLI's
//! `--impair loss=0.05,reorder=0.02` applies (each direction of the TUN
//! link loses 5% and reorders 2% of packets): every byte still arrives,
//! hash-checked, in each direction.
//!
//! 10 MiB each way (`SYNACK_IMPAIRED_BYTES` changes it). Measured in
//! debug: the kernel → synack direction takes under 1 s; synack → kernel
//! 11–18 s with SACK-based recovery, but about 220 s with plain NewReno
//! and its 1 s minimum RTO (each lost retransmission costs an RTO).

mod common;

use std::io::Write;
use std::net::Shutdown;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use synack::device::{Device, Impaired};
use synack::net::blocking::{TcpListener, TcpStream};

const SPEC: &str = "loss=0.05,reorder=0.02";

/// The transfer size: `default`, or `SYNACK_IMPAIRED_BYTES`.
fn size(default: usize) -> usize {
    std::env::var("SYNACK_IMPAIRED_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn impaired(seed: u64) -> impl FnOnce(synack::device::Tun) -> Box<dyn Device> + Send {
    move |tun| {
        let spec: sim::LinkSpec = SPEC.parse().expect("the spec parses");
        Box::new(Impaired::new(tun, spec, seed)) as Box<dyn Device>
    }
}

#[test]
fn kernel_to_synack_through_loss_and_reordering() {
    let Some(netns) = Netns::new("imp-up") else {
        return;
    };
    let ns = netns.handle();
    with_deadline(
        "impaired kernel → synack",
        Duration::from_secs(600),
        move || {
            let stack = tun_stack(&ns, impaired(0x1234));
            let data = random_bytes(51, size(10 << 20));
            let want = (data.len() as u64, sha256(&data));
            let listener = TcpListener::bind(&stack, synack_addr(9101)).unwrap();
            let server = thread::spawn(move || {
                let (mut s, _) = listener.accept().expect("accept");
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                drain_hash(&mut s).expect("synack read")
            });
            let start = Instant::now();
            let mut k = ns.kernel_connect(synack_addr(9101)).expect("connect");
            write_chunked(&mut k, &data).expect("kernel write");
            k.shutdown(Shutdown::Write).unwrap();
            let got = server.join().expect("server");
            eprintln!(
                "kernel → synack, {} bytes through {SPEC}: {:?}",
                data.len(),
                start.elapsed()
            );
            assert_eq!(got, want, "synack received every byte");
            drop(k);
        },
    );
}

#[test]
fn synack_to_kernel_through_loss_and_reordering() {
    let Some(netns) = Netns::new("imp-down") else {
        return;
    };
    let ns = netns.handle();
    with_deadline(
        "impaired synack → kernel",
        Duration::from_secs(600),
        move || {
            let listener = ns.kernel_listener(9102);
            let stack = tun_stack(&ns, impaired(0x5678));
            let data = random_bytes(52, size(10 << 20));
            let want = (data.len() as u64, sha256(&data));
            let server = thread::spawn(move || {
                let (mut s, _) = listener.accept().expect("kernel accept");
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                drain_hash(&mut s).expect("kernel read")
            });
            let start = Instant::now();
            let mut s = TcpStream::connect_timeout(
                &stack,
                kernel_addr(9102),
                Some(Duration::from_secs(60)),
            )
            .expect("connect");
            s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            s.write_all(&data).expect("synack write");
            s.shutdown(Shutdown::Write).unwrap();
            let got = server.join().expect("server");
            eprintln!(
                "synack → kernel, {} bytes through {SPEC}: {:?}",
                data.len(),
                start.elapsed()
            );
            assert_eq!(got, want, "the kernel received every byte");
            drop(s);
            assert!(stack.wait_idle(Duration::from_secs(60)));
        },
    );
}
