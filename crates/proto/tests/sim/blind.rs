//! Blind in-window attacks (RFC 5961): an off-path host that knows a
//! connection's 4-tuple but not its sequence numbers injects RSTs, SYNs
//! and data segments, spoofing either end, while the connection carries a
//! transfer. Half of the guesses are random over the whole sequence space;
//! the other half land inside the victim's receive window (a lucky guess,
//! taken from the victim's state), but never on RCV.NXT itself: that one
//! value in 2^32 is the guess RFC 5961 cannot tell from the peer. Data
//! segments carry an acknowledgment far from anything the victim sent,
//! so RFC 5961 §5.2 rejects them. The connection survives every trial,
//! the data arrives intact, and challenge ACKs (rate-limited, §7) answer
//! the in-window guesses.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use proto::conn::State;
use proto::endpoint::{ConnHandle, EndpointConfig};
use sim::{HostId, Network, Rng};
use wire::tcp::{TcpFlags, TcpOptions, Timestamps};

use crate::harness::*;

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 66));
const TRIALS: u32 = 3000;
const SIZE: u64 = 4 * 1024 * 1024;

/// One forged segment into the connection `h` of host `victim`, which
/// talks to `peer_addr`:`peer_port` from its port `port`.
#[allow(clippy::too_many_arguments)]
fn forge(
    net: &Network<SimHost>,
    rng: &mut Rng,
    victim: HostId,
    h: ConnHandle,
    trial: u32,
    counts: &mut [[u32; 2]; 3],
) -> Vec<u8> {
    let ep = &net.host(victim).ep;
    let st = ep.status(h).expect("the victim's connection is gone");
    let local = ep.local_addr(h).unwrap();
    let remote = ep.peer_addr(h).unwrap();
    let kind = (trial / 2 % 3) as usize; // RST, SYN, data
    let in_window = rng.chance(0.5);
    counts[kind][usize::from(in_window)] += 1;
    let seq = if in_window {
        // Anywhere in the window but RCV.NXT.
        let wnd = u64::from(st.rcv_wnd.max(2));
        st.rcv_nxt.0.wrapping_add(1 + rng.below(wnd - 1) as u32)
    } else {
        let s = rng.next_u64() as u32;
        if s == st.rcv_nxt.0 {
            s.wrapping_add(1)
        } else {
            s
        }
    };
    // Far outside [SND.UNA - MAX.SND.WND, SND.NXT]: 2^31 ± 2^29 away.
    let ack = st
        .snd_una
        .0
        .wrapping_add((1 << 31) - (1 << 29) + rng.below(1 << 30) as u32);
    let timestamps = (!rng.chance(1.0 / 3.0)).then(|| Timestamps {
        tsval: rng.next_u64() as u32,
        tsecr: rng.next_u64() as u32,
    });
    let options = TcpOptions {
        timestamps,
        ..TcpOptions::default()
    };
    let garbage = [0xee_u8; 100];
    let (flags, payload): (TcpFlags, &[u8]) = match kind {
        0 if rng.chance(0.5) => (TcpFlags::RST, &[]),
        0 => (TcpFlags::RST | TcpFlags::ACK, &[]),
        1 => (TcpFlags::SYN, &[]),
        _ => (TcpFlags::ACK | TcpFlags::PSH, &garbage),
    };
    let window = 65535;
    let seg = segment(
        remote.port(),
        local.port(),
        seq,
        ack,
        flags,
        window,
        options,
        payload,
    );
    // Spoofed: from the peer's address, to the victim.
    ipv4_tcp(remote.ip(), local.ip(), &seg)
}

#[test]
fn blind_rst_syn_and_data_injection() {
    let mut client = Client::new(
        server_addr(),
        vec![Job {
            size: SIZE,
            seed: 5961,
        }],
    );
    client.hold = true;
    let mut server = Server::new(server_addr(), 16);
    server.reply = b"intact".to_vec();
    let (mut net, c, s) = two_hosts(
        5961,
        "rate=10mbit,delay=5ms",
        EndpointConfig::default(),
        Box::new(client),
        Box::new(server),
    );
    let link = net.link_spec(net.uplink(c)).clone();
    let a = net.add_host(
        SimHost::new(EndpointConfig::default(), ATTACKER, Box::new(Idle)),
        &[ATTACKER],
        link.clone(),
        link,
    );
    let limit = net.now() + Duration::from_secs(10);
    net.run_while(|net| net.now() < limit && app::<Server>(net, s).accepted < 1);
    let ch = app::<Client>(&net, c).handles()[0];
    let sh = app::<Server>(&net, s).handles()[0];

    let mut rng = Rng::new(7);
    let mut counts = [[0u32; 2]; 3];
    let start = net.now();
    for trial in 0..TRIALS {
        // Alternate the victim: the server (spoofing the client) and the
        // client (spoofing the server).
        let (victim, h) = if trial % 2 == 0 { (s, sh) } else { (c, ch) };
        let packet = forge(&net, &mut rng, victim, h, trial, &mut counts);
        net.host_mut(a).raw_out.push_back(packet);
        let next = net.now() + Duration::from_millis(1);
        net.run_until(next);
        for (id, h) in [(c, ch), (s, sh)] {
            let state = net.host(id).ep.status(h).map(|st| st.state);
            assert_eq!(
                state,
                Some(State::Established),
                "trial {trial}: host {id:?}'s connection"
            );
        }
    }
    let duration = net.now().saturating_since(start);
    let cst = net.host(c).ep.status(ch).unwrap().stats;
    let sst = net.host(s).ep.status(sh).unwrap().stats;
    let sent_so_far = net.host(s).ep.status(sh).unwrap().stats.bytes_in;
    println!(
        "{TRIALS} forged segments over {duration:?} (RST/SYN/data × random/in-window: {counts:?}); \
         {sent_so_far} of {SIZE} bytes delivered meanwhile\n\
         challenge ACKs: client {} server {} (limit {} a second each); \
         unacceptable segments: client {} server {}",
        cst.challenge_acks,
        sst.challenge_acks,
        proto::conn::Config::default().challenge_ack_limit,
        cst.unacceptable_in,
        sst.unacceptable_in,
    );
    assert!(
        cst.challenge_acks + sst.challenge_acks > 0,
        "no challenge ACK"
    );
    // RFC 5961 §7: rate-limited.
    let per_conn =
        u64::from(proto::conn::Config::default().challenge_ack_limit) * (duration.as_secs() + 1);
    assert!(cst.challenge_acks <= per_conn && sst.challenge_acks <= per_conn);

    // Let the transfer finish and close.
    let now = net.now();
    net.host_mut(c)
        .with_app(now, |client: &mut Client, ep| client.release(ep, now));
    let limit = net.now() + Duration::from_secs(300);
    net.run_while(|net| {
        net.now() < limit
            && (app::<Client>(net, c).finished < 1
                || net.host(c).ep.connection_count() > 0
                || net.host(s).ep.connection_count() > 0)
    });
    let client = app::<Client>(&net, c);
    let server = app::<Server>(&net, s);
    assert!(client.errors.is_empty(), "{:?}", client.errors);
    assert!(server.errors.is_empty(), "{:?}", server.errors);
    assert_eq!(server.done, [(SIZE, stream_hash(SIZE, 5961))]);
    assert_eq!(client.replies, [(5961, 6, stream_hash_of(b"intact"))]);
}
