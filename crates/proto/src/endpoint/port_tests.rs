//! Ephemeral port selection (RFC 6056 §3.3.3) against the tables it
//! consults with one hash per port tried: tuples in use and tuples in
//! TIME-WAIT are skipped, and an explicit port in either is refused.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use wire::{Instant, SeqNum};

use super::timewait::TimeWait;
use super::{Endpoint, EndpointConfig, EndpointError, FourTuple};
use crate::conn::TimeWaitInfo;

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const REMOTE: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);

fn endpoint(ports: (u16, u16)) -> Endpoint {
    let config = EndpointConfig {
        ephemeral_ports: ports,
        seed: 9,
        ..EndpointConfig::default()
    };
    Endpoint::new(config, &[LOCAL])
}

/// Puts our `port` to `REMOTE` in TIME-WAIT, as freeing a connection does.
fn hold_in_time_wait(ep: &mut Endpoint, port: u16) {
    let tuple = FourTuple {
        local: SocketAddr::new(LOCAL, port),
        remote: REMOTE,
    };
    let key = ep.by_tuple.key(&tuple);
    let info = TimeWaitInfo {
        snd_nxt: SeqNum(1),
        rcv_nxt: SeqNum(1),
        window: 1000,
        ts_recent: None,
        ts_offset: 0,
        expires: Instant::from_secs(60),
    };
    ep.time_wait.insert(&key, TimeWait::new(&info));
}

/// Connects to `REMOTE` from an ephemeral port.
fn ep_connect(ep: &mut Endpoint, now: Instant) -> Result<super::ConnHandle, EndpointError> {
    ep.connect(now, REMOTE, None)
}

fn port_of(ep: &Endpoint, h: super::ConnHandle) -> u16 {
    ep.local_addr(h).expect("a live connection").port()
}

#[test]
fn the_search_skips_tuples_in_use_and_in_time_wait() {
    let mut ep = endpoint((50_000, 50_003));
    let now = Instant::ZERO;
    hold_in_time_wait(&mut ep, 50_001);
    let mut ports: Vec<u16> = (0..3)
        .map(|_| {
            let h = ep_connect(&mut ep, now).expect("a free port");
            port_of(&ep, h)
        })
        .collect();
    ports.sort_unstable();
    assert_eq!(
        ports,
        [50_000, 50_002, 50_003],
        "never the one in TIME-WAIT"
    );
    assert_eq!(
        ep_connect(&mut ep, now),
        Err(EndpointError::NoPortsAvailable),
        "three in use and one in TIME-WAIT: none left"
    );
    // Another remote is another set of 4-tuples: its ports are free.
    let other = SocketAddr::new(REMOTE.ip(), 81);
    assert!(ep.connect(now, other, None).is_ok());
}

#[test]
fn an_explicit_port_in_use_or_in_time_wait_is_refused() {
    let mut ep = endpoint((50_000, 50_010));
    let now = Instant::ZERO;
    let at = |port| Some(SocketAddr::new(LOCAL, port));
    hold_in_time_wait(&mut ep, 40_000);
    assert_eq!(
        ep.connect(now, REMOTE, at(40_000)),
        Err(EndpointError::AddrInUse)
    );
    let h = ep.connect(now, REMOTE, at(40_001)).expect("free");
    assert_eq!(port_of(&ep, h), 40_001);
    assert_eq!(
        ep.connect(now, REMOTE, at(40_001)),
        Err(EndpointError::AddrInUse)
    );
    // Once the connection is gone (aborted: no TIME-WAIT), the tuple is
    // free again: the tables forgot it under the same hash.
    ep.abort(h);
    assert_eq!(ep.connection_count(), 0);
    assert!(ep.connect(now, REMOTE, at(40_001)).is_ok());
}
