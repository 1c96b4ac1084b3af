//! `trace` of the demo's own pcap draws the demo's ladder; captures of the
//! Linux kernel's traffic (Ethernet and Linux cooked v2) render.

mod demo_common;

use std::path::PathBuf;

use demo_common::play;
use proto::conn::State;
use synack::demo::Scenario;
use synack::viz::ladder::Arrow;
use synack::viz::text::{self, TextOptions, WIDTH};
use synack::viz::trace::trace;
use synack::viz::width::width;
use synack::viz::{svg, Detail, Lang, View};
use wire::tcp::TcpFlags;

/// What must match: direction, flags, numbers, length, window.
fn key(a: &Arrow) -> (usize, u16, u32, Option<u32>, u32, u32) {
    (
        a.from.index(),
        a.flags.bits(),
        a.seq,
        a.ack,
        a.len,
        a.window,
    )
}

#[test]
fn trace_of_the_demo_pcap_reproduces_the_demo_ladder() {
    for s in Scenario::ALL {
        let d = play(s, Lang::En);
        let (_, conns) = trace(&d.pcap).expect("the demo's pcap reads");
        let conv = &d.conversation;
        let traced = conns
            .iter()
            .find(|c| c.conversation.left == conv.left && c.conversation.right == conv.right)
            .unwrap_or_else(|| panic!("{s}: the connection is in the capture"));
        for absolute in [false, true] {
            let view = View {
                transfer: Detail::Full,
                absolute,
                ..View::default()
            };
            let want: Vec<_> = d.ladder(&view).arrows().map(key).collect();
            let got: Vec<_> = traced.ladder(&view).arrows().map(key).collect();
            assert_eq!(want.len(), conv.packets.len(), "{s}");
            assert_eq!(got, want, "{s} absolute={absolute}");
        }
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn kernel_captures_render() {
    for (name, link) in [("kernel-http-eth.pcap", 1), ("kernel-http-sll2.pcap", 276)] {
        let (capture, conns) = trace(&fixture(name)).expect("reads");
        assert_eq!(capture.link_types, [link], "{name}");
        assert_eq!(conns.len(), 1, "{name}: one HTTP connection");
        let c = &conns[0];
        assert_eq!(c.conversation.packets.len(), 12, "{name}");
        let view = View {
            transfer: Detail::Full,
            ..View::default()
        };
        let ladder = c.ladder(&view);
        let flags: Vec<_> = ladder.arrows().take(3).map(|a| a.flags).collect();
        assert_eq!(
            flags,
            [TcpFlags::SYN, TcpFlags::SYN | TcpFlags::ACK, TcpFlags::ACK]
        );
        let first = ladder.arrows().next().unwrap();
        assert_eq!((first.seq, first.ack), (0, None), "relative numbers");
        assert_eq!(c.timeline.initial, [State::Closed, State::Listen]);
        // The Python server closes first: it goes through FIN-WAIT-1 to
        // TIME-WAIT, the client through CLOSE-WAIT and LAST-ACK.
        assert_eq!(c.final_states(), [State::Closed, State::TimeWait], "{name}");
        let states = ladder.states();
        for s in [
            State::SynSent,
            State::SynReceived,
            State::Established,
            State::CloseWait,
            State::LastAck,
            State::FinWait1,
            State::TimeWait,
        ] {
            assert!(states.contains(&s), "{name}: {s} missing");
        }
        let out = text::render(&ladder, &TextOptions::default());
        assert!(out.lines().all(|l| width(l) <= WIDTH), "{out}");
        let pic = svg::render(name, &[(name.to_string(), &ladder)], Lang::En);
        roxmltree::Document::parse(&pic).expect("well-formed SVG");
    }
}

#[test]
fn hostile_bytes_never_panic() {
    let mut bytes = fixture("kernel-http-eth.pcap");
    // Every truncation, and every single-byte corruption of the headers.
    for n in 0..bytes.len() {
        let _ = trace(&bytes[..n]);
    }
    for i in 0..bytes.len().min(400) {
        for v in [0x00, 0xff, 0x7f] {
            let old = bytes[i];
            bytes[i] = v;
            let _ = trace(&bytes);
            bytes[i] = old;
        }
    }
}
