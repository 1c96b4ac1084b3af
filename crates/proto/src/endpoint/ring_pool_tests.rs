//! Ring storage handed from connections that ended to connections that
//! start moving bytes (`conn/recycle.rs`): it is kept when a connection
//! ends, used by the next first write, and never left with a connection
//! that does not use it.

use alloc::vec;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use wire::Instant;

use super::{ConnHandle, Endpoint, EndpointConfig, ListenerHandle};
use crate::conn::RingPool;

pub(super) const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
pub(super) const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
pub(super) const SERVER: SocketAddr = SocketAddr::new(B, 80);

/// A client endpoint (seed 1, address `A`) and a server endpoint (seed 2,
/// address `B`) listening on `SERVER` (backlog 16).
pub(super) fn pair() -> (Endpoint, Endpoint, ListenerHandle) {
    let config = |seed| EndpointConfig {
        seed,
        ..EndpointConfig::default()
    };
    let a = Endpoint::new(config(1), &[A]);
    let mut b = Endpoint::new(config(2), &[B]);
    let l = b.listen(SERVER, 16).expect("a fresh endpoint listens");
    (a, b, l)
}

/// Carries packets both ways until neither side has any.
fn pump(a: &mut Endpoint, b: &mut Endpoint, now: Instant) {
    let mut buf = vec![0u8; 2048];
    loop {
        let mut moved = false;
        while let Some(n) = a.poll_transmit(now, &mut buf) {
            b.handle_packet(now, &buf[..n]);
            moved = true;
        }
        while let Some(n) = b.poll_transmit(now, &mut buf) {
            a.handle_packet(now, &buf[..n]);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

/// Whether connection `h` of `ep` holds ring storage it does not use.
fn holds_spare_rings(ep: &mut Endpoint, h: ConnHandle) -> bool {
    let mut scratch = RingPool::default();
    if let Some(e) = ep.conns.get_mut(h.index, h.generation) {
        e.conn.reclaim_ring_storage(&mut scratch);
    }
    scratch.len() > 0
}

/// A connection from `a` to `b`, accepted.
fn open(
    a: &mut Endpoint,
    b: &mut Endpoint,
    l: ListenerHandle,
    now: Instant,
) -> (ConnHandle, ConnHandle) {
    let c = a.connect(now, SERVER, None).expect("a connection");
    pump(a, b, now);
    let s = b.accept(l).expect("an accepted connection");
    (c, s)
}

/// A request and a response of 100 bytes, then a close by the client.
fn exchange_and_close(
    a: &mut Endpoint,
    b: &mut Endpoint,
    (c, s): (ConnHandle, ConnHandle),
    now: Instant,
) {
    let mut buf = [0u8; 200];
    a.send(c, &[1; 100]).expect("room to send");
    pump(a, b, now);
    assert_eq!(b.recv(s, &mut buf), Ok(100));
    b.send(s, &[2; 100]).expect("room to send");
    pump(a, b, now);
    assert_eq!(a.recv(c, &mut buf), Ok(100));
    a.close(c, now);
    pump(a, b, now);
    b.close(s, now);
    pump(a, b, now);
}

#[test]
fn rings_of_an_ended_connection_serve_the_next_and_idle_ones_hold_none() {
    let (mut a, mut b, l) = pair();
    let now = Instant::from_secs(1);
    let first = open(&mut a, &mut b, l, now);
    assert_eq!(a.event_spare.rings.len(), 0);
    exchange_and_close(&mut a, &mut b, first, now);
    assert_eq!(a.connection_count(), 0, "the client's TIME-WAIT is compact");
    assert_eq!(b.connection_count(), 0);
    assert_eq!(
        a.event_spare.rings.len(),
        2,
        "the client's send and receive rings"
    );
    assert_eq!(
        b.event_spare.rings.len(),
        2,
        "the server's send and receive rings"
    );

    // Established and idle: loans made for the handshake came back.
    let second = open(&mut a, &mut b, l, now);
    assert!(!holds_spare_rings(&mut a, second.0) && !holds_spare_rings(&mut b, second.1));
    assert_eq!(a.event_spare.rings.len(), 2);

    // The request's first write takes one; the receiver's first data
    // another; the rest stay in the pools.
    a.send(second.0, &[1; 100]).expect("room to send");
    assert_eq!(a.event_spare.rings.len(), 1);
    assert_eq!(
        a.connection(second.0).map(|c| c.buffer_memory()),
        Some(crate::ring::MIN_ALLOC)
    );
    pump(&mut a, &mut b, now);
    assert_eq!(b.event_spare.rings.len(), 1);
    assert!(!holds_spare_rings(&mut a, second.0) && !holds_spare_rings(&mut b, second.1));
    exchange_and_close(&mut a, &mut b, second, now);
    assert_eq!(a.event_spare.rings.len(), 2);
    assert_eq!(b.event_spare.rings.len(), 2);

    a.shrink_to_fit();
    assert_eq!(a.event_spare.rings.len(), 0, "shrinking lets the pool go");
}

#[test]
fn a_segment_dropped_for_its_checksum_leaves_no_loan_behind() {
    let (mut a, mut b, l) = pair();
    let now = Instant::from_secs(1);
    let first = open(&mut a, &mut b, l, now);
    exchange_and_close(&mut a, &mut b, first, now);
    let (c, s) = open(&mut a, &mut b, l, now);
    assert_eq!(b.event_spare.rings.len(), 2);
    a.send(c, &[1; 100]).expect("room to send");
    let mut buf = vec![0u8; 2048];
    let n = a.poll_transmit(now, &mut buf).expect("the request");
    // A flipped bit in the payload: the TCP checksum fails.
    buf[n - 1] ^= 0x10;
    b.handle_packet(now, &buf[..n]);
    assert_eq!(b.stats().bad_checksum, 1);
    assert!(!holds_spare_rings(&mut b, s), "the loan came back");
    assert_eq!(b.event_spare.rings.len(), 2);
    assert_eq!(
        b.connection(s).map(|c| c.buffer_memory()),
        Some(0),
        "nothing was written"
    );
}
