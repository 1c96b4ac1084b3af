//! Building the simulated network of a scenario and running it to the end.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};

use proto::conn::Config;
use proto::endpoint::EndpointConfig;
use sim::{HostId, LinkSpec, Network};
use wire::ip::{IpProtocol, IpRepr};
use wire::tcp::{TcpFlags, TcpOptions, TcpRepr};
use wire::{Instant, SeqNum};

use super::host::{Flooder, Node, PeerHost};
use super::scenario::{Setup, CLIENT, SERVER};
use crate::viz::{Mark, Seg};

/// How far a transfer has got, reported while the simulation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes the server acknowledged.
    pub acked: u64,
    /// Bytes to send in all.
    pub total: u64,
    /// The simulated time.
    pub now: Instant,
}

/// The flooder's own address (its SYNs claim others).
const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 66));

/// The simulated time after which the demo gives up.
const LIMIT: Instant = Instant::from_secs(900);

/// A finished simulation.
pub(crate) struct Ran {
    pub net: Network<Node>,
    pub client: HostId,
    pub server: HostId,
    pub flooder: Option<HostId>,
}

/// Builds the network of `setup` on `link` (each direction) and runs it
/// until nothing is left to do.
pub(crate) fn simulate(
    setup: &Setup,
    link: &LinkSpec,
    seed: u64,
    progress: &mut dyn FnMut(Progress),
) -> Ran {
    let mut net: Network<Node> = Network::new(seed);
    let conn = Config {
        trace_segments: true,
        ..Config::default()
    };
    let config = |label: u64, net: &Network<Node>| EndpointConfig {
        conn,
        seed: net.derive_seed(label),
        ..EndpointConfig::default()
    };
    let client_cfg = config(1, &net);
    let mut server_cfg = config(2, &net);
    if let Some(b) = setup.server_recv_buffer {
        server_cfg.conn.recv_buffer = b;
    }
    // Each direction crosses one impaired link: the sender's uplink.
    let up = link.clone();
    let down = LinkSpec::PERFECT;
    let client = net.add_host(
        Node::Peer(Box::new(PeerHost::new(
            client_cfg,
            CLIENT,
            setup.client.clone(),
        ))),
        &[CLIENT],
        up.clone(),
        down.clone(),
    );
    let server = net.add_host(
        Node::Peer(Box::new(PeerHost::new(
            server_cfg,
            SERVER,
            setup.server.clone(),
        ))),
        &[SERVER],
        up.clone(),
        down.clone(),
    );
    if setup.drop_first_syn {
        net.drop_next(net.uplink(client), |p| {
            Seg::parse_ip(p).is_some_and(|s| s.has(TcpFlags::SYN) && !s.has(TcpFlags::ACK))
        });
    }
    if setup.old_duplicate {
        if let Some((_, remote, Some(local))) = setup.client.connect {
            let seq = SeqNum(0x0bad_5eed ^ (seed as u32).rotate_left(7));
            if let Some(bytes) = syn_packet(local, remote, seq, 1460) {
                net.host_mut(client).peer_mut().inject.push_back((
                    Instant::from_millis(1),
                    bytes,
                    Mark::OldDuplicate,
                ));
            }
        }
    }
    let flooder = setup.flood.map(|(count, over)| {
        let queue = flood(count, over, seed);
        net.add_host(
            Node::Flood(Flooder {
                queue,
                sent: Vec::new(),
            }),
            &[FLOODER],
            up.clone(),
            down.clone(),
        )
    });
    // Start the applications.
    let now = net.now();
    net.host_mut(server).peer_mut().step_app(now);
    net.host_mut(client).peer_mut().step_app(now);
    let total = setup.client.send;
    let mut steps: u64 = 0;
    let (mut last, mut same) = (Instant::ZERO, 0u32);
    while let Some(t) = net.next_event_time() {
        // A host that keeps asking to run at one instant would stop the
        // clock; give up rather than spin.
        if t > LIMIT || same > 1_000_000 {
            break;
        }
        if t == last {
            same += 1;
        } else {
            (last, same) = (t, 0);
        }
        net.step();
        steps += 1;
        if steps.is_multiple_of(256) {
            let c = net.host(client).peer();
            progress(Progress {
                acked: c.script.acked(&c.ep),
                total,
                now: net.now(),
            });
        }
    }
    let c = net.host(client).peer();
    progress(Progress {
        acked: c.script.acked(&c.ep),
        total,
        now: net.now(),
    });
    Ran {
        net,
        client,
        server,
        flooder,
    }
}

/// An IPv4 SYN from `src` to `dst` with sequence number `seq`.
fn syn_packet(
    src: std::net::SocketAddr,
    dst: std::net::SocketAddr,
    seq: SeqNum,
    mss: u16,
) -> Option<Vec<u8>> {
    let tcp = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        seq,
        ack: SeqNum(0),
        flags: TcpFlags::SYN,
        window: 64240,
        urgent: 0,
        options: TcpOptions {
            mss: Some(mss),
            ..TcpOptions::default()
        },
        payload: &[],
    };
    let ip = IpRepr::new(src.ip(), dst.ip(), IpProtocol::TCP, tcp.buffer_len(), 64)?;
    let mut buf = vec![0u8; ip.total_len()];
    let hl = ip.emit(&mut buf).ok()?;
    tcp.emit(&mut buf[hl..], &src.ip(), &dst.ip()).ok()?;
    Some(buf)
}

/// `count` SYNs to the server's port from made-up addresses (198.18.0.0/15,
/// which no host has), spread over `over`.
fn flood(count: usize, over: std::time::Duration, seed: u64) -> VecDeque<(Instant, Vec<u8>)> {
    let mut rng = sim::Rng::new(sim::derive_seed(seed, 0x0066_6c6f_6f64));
    let dst = std::net::SocketAddr::new(SERVER, super::scenario::PORT);
    let step = over.as_micros() as u64 / count.max(1) as u64;
    (0..count)
        .filter_map(|i| {
            let r = rng.next_u64();
            let ip = Ipv4Addr::new(198, 18 + (r & 1) as u8, (r >> 8) as u8, (r >> 16) as u8);
            let src = std::net::SocketAddr::new(IpAddr::V4(ip), 1024 + (r >> 24) as u16 % 60000);
            let bytes = syn_packet(src, dst, SeqNum((r >> 32) as u32), 1460)?;
            Some((Instant::from_micros(i as u64 * step), bytes))
        })
        .collect()
}
