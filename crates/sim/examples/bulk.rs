//! A benchmark-like run: a window-based bulk flow of 1500-byte packets over
//! a 100 Mbit/s path with a 50 ms round-trip time, for 60 simulated
//! seconds, and the wall time it took.
//!
//! ```text
//! cargo run --release -p synack-sim --example bulk [SECONDS] [FORWARD-SPEC] [--pcap[=FILE]]
//! ```
//!
//! The toy sender keeps a fixed window of packets in flight (a little more
//! than the bandwidth-delay product), re-arms a retransmission-like timer on
//! every ACK, and treats the receiver's highest sequence number as
//! acknowledging everything before it (so loss just leaves holes). The
//! receiver acknowledges every second packet. No allocation per packet.
//! `--pcap` taps the sender into a sink (to measure the cost of capturing),
//! `--pcap=FILE` into a file.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sim::{Host, Instant, LinkSpec, Network};

const MTU: usize = 1500;
const ACK_LEN: usize = 40;
const SENDER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const RECEIVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

enum Bulk {
    Sender {
        window: u64,
        next_seq: u64,
        acked: u64,
        rto: Option<Instant>,
        timeouts: u64,
    },
    Receiver {
        highest: Option<u64>,
        received: u64,
        unacked: u32,
        bytes: u64,
    },
}

fn header(buf: &mut [u8], len: usize, src: Ipv4Addr, dst: Ipv4Addr) {
    buf[..20].fill(0);
    buf[0] = 0x45;
    buf[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    buf[8] = 64;
    buf[9] = 253; // experimental protocol number
    buf[12..16].copy_from_slice(&src.octets());
    buf[16..20].copy_from_slice(&dst.octets());
    let mut sum: u32 = buf[..20]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    buf[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

impl Host for Bulk {
    fn receive(&mut self, now: Instant, packet: &[u8]) {
        let Some(seq) = packet.get(20..28) else {
            return;
        };
        let seq = u64::from_be_bytes(seq.try_into().unwrap());
        match self {
            Bulk::Sender { acked, rto, .. } => {
                *acked = (*acked).max(seq + 1);
                *rto = Some(now + Duration::from_millis(200));
            }
            Bulk::Receiver {
                highest,
                received,
                unacked,
                bytes,
            } => {
                *highest = Some(highest.map_or(seq, |h| h.max(seq)));
                *received += 1;
                *unacked += 1;
                *bytes += packet.len() as u64;
            }
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        match self {
            Bulk::Sender {
                window,
                next_seq,
                acked,
                ..
            } => {
                if *next_seq - *acked >= *window {
                    return None;
                }
                header(buf, MTU, SENDER, RECEIVER);
                buf[20..28].copy_from_slice(&next_seq.to_be_bytes());
                *next_seq += 1;
                Some(MTU)
            }
            Bulk::Receiver {
                highest, unacked, ..
            } => {
                if *unacked < 2 {
                    return None;
                }
                *unacked = 0;
                header(buf, ACK_LEN, RECEIVER, SENDER);
                buf[20..28].copy_from_slice(&highest.unwrap_or(0).to_be_bytes());
                buf[28..ACK_LEN].fill(0);
                Some(ACK_LEN)
            }
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            Bulk::Sender { rto, .. } => *rto,
            Bulk::Receiver { .. } => None,
        }
    }

    fn handle_timeout(&mut self, _now: Instant) {
        if let Bulk::Sender {
            rto,
            timeouts,
            next_seq,
            acked,
            ..
        } = self
        {
            // Everything in flight is presumed lost: start a new window.
            *timeouts += 1;
            *rto = None;
            *acked = *next_seq;
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(60, |s| s.parse().expect("seconds"));
    let mut forward = String::from("rate=100mbit,delay=12500us");
    let mut pcap = None;
    for arg in args {
        if arg == "--pcap" {
            pcap = Some(String::new());
        } else if let Some(path) = arg.strip_prefix("--pcap=") {
            pcap = Some(path.to_string());
        } else {
            forward = format!("{forward},{arg}");
        }
    }
    let fwd: LinkSpec = forward.parse().unwrap_or_else(|e| panic!("{e}"));
    let back: LinkSpec = "rate=100mbit,delay=12500us".parse().unwrap();

    let mut net = Network::new(1);
    let s = net.add_host(
        Bulk::Sender {
            window: 450,
            next_seq: 0,
            acked: 0,
            rto: None,
            timeouts: 0,
        },
        &[IpAddr::V4(SENDER)],
        fwd.clone(),
        back.clone(),
    );
    let r = net.add_host(
        Bulk::Receiver {
            highest: None,
            received: 0,
            unacked: 0,
            bytes: 0,
        },
        &[IpAddr::V4(RECEIVER)],
        back,
        fwd,
    );
    match pcap.as_deref() {
        None => {}
        Some("") => net.tap_host(s, std::io::sink()).unwrap(),
        Some(path) => net
            .tap_host(s, std::fs::File::create(path).expect("create the capture"))
            .unwrap(),
    }

    let wall = std::time::Instant::now();
    let mut events = 0u64;
    let end = Instant::from_secs(seconds);
    while net.next_event_time().is_some_and(|t| t <= end) {
        net.step();
        events += 1;
    }
    let elapsed = wall.elapsed();
    net.flush_taps().expect("write the capture");

    let Bulk::Receiver {
        received, bytes, ..
    } = net.host(r)
    else {
        unreachable!()
    };
    let Bulk::Sender { timeouts, .. } = net.host(s) else {
        unreachable!()
    };
    let up = net.link_stats(net.uplink(s));
    println!("simulated        {seconds} s");
    println!(
        "data packets     {received} received, {} lost, {} queue drops",
        up.dropped_loss, up.dropped_queue
    );
    println!(
        "goodput          {:.2} Mbit/s",
        *bytes as f64 * 8.0 / seconds as f64 / 1e6
    );
    println!("sender timeouts  {timeouts}");
    println!("events           {events}");
    println!(
        "wall time        {:.3} s ({:.0} ns/event)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / events as f64
    );
}
