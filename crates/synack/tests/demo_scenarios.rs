//! Each scenario shows what its name says: checked on the packets and
//! states, not on the drawing.

mod demo_common;

use demo_common::play;
use proto::conn::State;
use synack::demo::Scenario;
use synack::viz::{Lang, Mark, Side};
use wire::tcp::TcpFlags;

fn states(s: Scenario, side: Side) -> Vec<State> {
    let d = play(s, Lang::En);
    let mut v = vec![d.timeline.initial[side.index()]];
    v.extend(
        d.timeline
            .changes
            .iter()
            .filter(|c| c.side == side)
            .map(|c| c.to),
    );
    v
}

#[test]
fn handshake_and_close_follow_the_textbook() {
    use State::*;
    assert_eq!(
        states(Scenario::Close, Side::Left),
        [
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        states(Scenario::Close, Side::Right),
        [Listen, SynReceived, Established, CloseWait, LastAck, Closed]
    );
}

#[test]
fn simultaneous_open_and_close() {
    use State::*;
    for side in [Side::Left, Side::Right] {
        let open = states(Scenario::SimultaneousOpen, side);
        assert_eq!(&open[..4], [Closed, SynSent, SynReceived, Established]);
        let close = states(Scenario::SimultaneousClose, side);
        assert!(
            close.ends_with(&[FinWait1, Closing, TimeWait, Closed]),
            "{close:?}"
        );
    }
}

#[test]
fn lost_syn_is_resent_after_the_rto() {
    let d = play(Scenario::LostSyn, Lang::En);
    let p = &d.conversation.packets;
    assert!(p[0].lost && p[0].seg.has(TcpFlags::SYN));
    assert!(p[1].has(Mark::Retransmission));
    let gap = p[1].sent.saturating_since(p[0].sent);
    assert_eq!(gap.as_millis(), 1000);
}

#[test]
fn old_duplicate_syn_is_reset_by_the_client() {
    let d = play(Scenario::OldDuplicateSyn, Lang::En);
    let p = &d.conversation.packets;
    let old = p.iter().position(|p| p.has(Mark::OldDuplicate)).unwrap();
    let rst = p.iter().position(|p| p.seg.has(TcpFlags::RST)).unwrap();
    assert!(rst > old);
    assert_eq!(p[rst].seg.seq, p[old].seg.seq + 1, "<SEQ=SEG.ACK><CTL=RST>");
    assert!(d
        .timeline
        .changes
        .iter()
        .any(|c| c.side == Side::Right && c.to == State::Listen));
}

#[test]
fn refused_reset_and_half_close() {
    let d = play(Scenario::Refused, Lang::En);
    assert!(d.conversation.packets[1]
        .seg
        .has(TcpFlags::RST | TcpFlags::ACK));
    let d = play(Scenario::Reset, Lang::En);
    assert!(d
        .conversation
        .packets
        .iter()
        .any(|p| p.seg.has(TcpFlags::RST)));
    assert!(!d
        .conversation
        .packets
        .iter()
        .any(|p| p.seg.has(TcpFlags::FIN)));
    // Half-close: the server sends data after the client's FIN.
    let d = play(Scenario::HalfClose, Lang::En);
    let p = &d.conversation.packets;
    let fin = p
        .iter()
        .position(|q| q.seg.has(TcpFlags::FIN) && d.conversation.is_rightward(q))
        .unwrap();
    assert!(p[fin..]
        .iter()
        .any(|q| !d.conversation.is_rightward(q) && q.seg.len > 0));
}

#[test]
fn syn_flood_gets_the_client_through_with_a_cookie() {
    let d = play(Scenario::SynFlood, Lang::En);
    assert!(d
        .conversation
        .packets
        .iter()
        .any(|p| p.has(Mark::SynCookie)));
    assert!(d
        .timeline
        .changes
        .iter()
        .any(|c| c.side == Side::Right && c.from == State::Listen && c.to == State::Established));
}

#[test]
fn zero_window_is_probed() {
    let d = play(Scenario::ZeroWindow, Lang::En);
    let p = &d.conversation.packets;
    assert!(p.iter().any(|p| p.has(Mark::ZeroWindow)));
    assert!(p.iter().any(|p| p.has(Mark::WindowProbe)));
    assert!(p.iter().any(|p| p.has(Mark::WindowUpdate)));
}

#[test]
fn the_same_seed_gives_the_same_packets() {
    let a = play(Scenario::Transfer, Lang::En);
    let b = play(Scenario::Transfer, Lang::En);
    assert_eq!(a.pcap, b.pcap);
}
