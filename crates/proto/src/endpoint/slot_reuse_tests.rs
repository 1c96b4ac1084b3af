//! A connection renewed in the slot of one that ended (`Slab::retire`,
//! `Connection::renew`) is the connection a fresh endpoint builds: the
//! same state field by field, the same packets, the same life, nothing
//! left over from the slot's former occupants (buffers, timers, events,
//! recovery state, counters).

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;

use wire::Instant;

use super::{ConnHandle, Endpoint, ListenerHandle};

use super::ring_pool_tests::{pair, A, B, SERVER};

/// Carries packets both ways until neither side has any; every packet,
/// in order.
fn pump(a: &mut Endpoint, b: &mut Endpoint, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 2048];
    let mut seen = Vec::new();
    loop {
        let mut moved = false;
        while let Some(n) = a.poll_transmit(now, &mut buf) {
            seen.push(buf[..n].to_vec());
            b.handle_packet(now, &buf[..n]);
            moved = true;
        }
        while let Some(n) = b.poll_transmit(now, &mut buf) {
            seen.push(buf[..n].to_vec());
            a.handle_packet(now, &buf[..n]);
            moved = true;
        }
        if !moved {
            return seen;
        }
    }
}

/// Both worlds sent the same packets. (Compared as sets: where several
/// connections have output at once, the order follows their slab
/// indices, which differ between an endpoint that reuses slots and a new
/// one.)
fn same_packets(mut renewed: Vec<Vec<u8>>, mut fresh: Vec<Vec<u8>>, what: &str) {
    renewed.sort_unstable();
    fresh.sort_unstable();
    assert!(
        renewed == fresh,
        "{what}: {} packets and {} differ",
        renewed.len(),
        fresh.len()
    );
}

fn from(port: u16) -> Option<SocketAddr> {
    Some(SocketAddr::new(A, port))
}

/// Lives that leave as much behind as a connection can, side by side: a
/// request and a response closed gracefully (the client's TIME-WAIT goes
/// compact), data lost, resent on timeout and reset by the client unread,
/// and a refused connection. The slots of both endpoints all end up free,
/// each holding a former connection. The slab indices each side used.
fn past_lives(a: &mut Endpoint, b: &mut Endpoint, l: ListenerHandle) -> (Vec<u32>, Vec<u32>) {
    let mut buf = [0u8; 4096];
    let t = Instant::from_millis(100);
    let c1 = a.connect(t, SERVER, from(4000)).expect("a connection");
    let c2 = a.connect(t, SERVER, from(4001)).expect("a connection");
    let c3 = a
        .connect(t, SocketAddr::new(B, 81), from(4002))
        .expect("a connection");
    pump(a, b, t);
    let s1 = b.accept(l).expect("accepted");
    let s2 = b.accept(l).expect("accepted");
    a.release(c3);

    a.send(c1, &[1; 100]).expect("room");
    pump(a, b, t);
    assert_eq!(b.recv(s1, &mut buf), Ok(100));
    b.send(s1, &[2; 3000]).expect("room");
    pump(a, b, t);
    while a.recv(c1, &mut buf).is_ok_and(|n| n > 0) {}
    a.close(c1, t);
    pump(a, b, t);
    b.close(s1, t);
    pump(a, b, t);

    a.send(c2, &[3; 3000]).expect("room");
    // Lost on the way, then resent by the timeout: recovery state, timers.
    let mut lost = vec![0u8; 2048];
    while a.poll_transmit(t, &mut lost).is_some() {}
    let t = Instant::from_millis(1500);
    a.handle_timeout(t);
    pump(a, b, t);
    a.abort(c2);
    pump(a, b, t);
    assert!(b.recv(s2, &mut buf).is_err(), "reset, its data unread");
    b.release(s2);

    assert_eq!(a.connection_count(), 0);
    assert_eq!(b.connection_count(), 0);
    (vec![c1.index, c2.index, c3.index], vec![s1.index, s2.index])
}

/// The state of a connection to compare: everything it holds.
fn dump(ep: &Endpoint, h: ConnHandle) -> alloc::string::String {
    let e = ep.entry(h).expect("a live connection");
    format!("{:?}", e)
}

#[test]
fn a_renewed_slot_holds_the_connection_a_fresh_one_would() {
    let (mut a, mut b, l) = pair();
    let (used_a, used_b) = past_lives(&mut a, &mut b, l);
    let (mut fa, mut fb, fl) = pair();
    let t = Instant::from_secs(5);

    // As many connections as there were, so that every kept slot (the
    // client's in TIME-WAIT too) is renewed.
    let mut conns = Vec::new();
    for port in 5000..5000 + used_a.len() as u16 {
        let c = a.connect(t, SERVER, from(port)).expect("renewed");
        let fc = fa.connect(t, SERVER, from(port)).expect("fresh");
        assert_eq!(dump(&a, c), dump(&fa, fc), "in SYN-SENT");
        conns.push((c, fc));
    }
    let mut renewed: Vec<u32> = conns.iter().map(|(c, _)| c.index).collect();
    renewed.sort_unstable();
    assert_eq!(renewed, used_a, "the client renewed every slot it had");

    let packets = pump(&mut a, &mut b, t);
    same_packets(packets, pump(&mut fa, &mut fb, t), "the handshakes");
    let mut servers = Vec::new();
    while let Some(s) = b.accept(l) {
        servers.push((s, fb.accept(fl).expect("accepted")));
    }
    assert_eq!(servers.len(), conns.len());
    assert!(
        used_b
            .iter()
            .all(|i| servers.iter().any(|(s, _)| s.index == *i)),
        "the server renewed every slot it had"
    );
    for &(c, fc) in &conns {
        assert_eq!(dump(&a, c), dump(&fa, fc), "established");
    }
    for &(s, fs) in &servers {
        assert_eq!(dump(&b, s), dump(&fb, fs), "accepted");
    }

    // A life of its own: data both ways, a loss and its repair, a close.
    let mut buf = [0u8; 4096];
    for &(c, fc) in &conns {
        for (ep, h) in [(&mut a, c), (&mut fa, fc)] {
            ep.send(h, &[7; 2500]).expect("room");
            let mut lost = vec![0u8; 2048];
            ep.poll_transmit(t, &mut lost)
                .expect("the first segment, lost");
        }
    }
    same_packets(
        pump(&mut a, &mut b, t),
        pump(&mut fa, &mut fb, t),
        "the first flight, one segment lost",
    );
    let t = Instant::from_secs(7);
    a.handle_timeout(t);
    fa.handle_timeout(t);
    b.handle_timeout(t);
    fb.handle_timeout(t);
    same_packets(
        pump(&mut a, &mut b, t),
        pump(&mut fa, &mut fb, t),
        "the repair",
    );
    for &(s, fs) in &servers {
        assert_eq!(b.recv(s, &mut buf), fb.recv(fs, &mut buf));
        assert_eq!(b.send(s, &[8; 300]), fb.send(fs, &[8; 300]));
    }
    same_packets(
        pump(&mut a, &mut b, t),
        pump(&mut fa, &mut fb, t),
        "the responses",
    );
    for &(c, fc) in &conns {
        assert_eq!(a.recv(c, &mut buf), fa.recv(fc, &mut buf));
        assert_eq!(dump(&a, c), dump(&fa, fc));
        a.close(c, t);
        fa.close(fc, t);
    }
    same_packets(
        pump(&mut a, &mut b, t),
        pump(&mut fa, &mut fb, t),
        "the clients close",
    );
    for &(s, fs) in &servers {
        assert_eq!(dump(&b, s), dump(&fb, fs), "in CLOSE-WAIT");
        b.close(s, t);
        fb.close(fs, t);
    }
    same_packets(
        pump(&mut a, &mut b, t),
        pump(&mut fa, &mut fb, t),
        "the servers close",
    );
    assert_eq!(a.connection_count(), fa.connection_count());
    assert_eq!(b.connection_count(), fb.connection_count());
    assert_eq!(a.time_wait_count(), fa.time_wait_count() + 1);
}

#[test]
fn shrinking_lets_go_of_what_free_slots_kept() {
    let (mut a, mut b, l) = pair();
    past_lives(&mut a, &mut b, l);
    a.shrink_to_fit();
    b.shrink_to_fit();
    // Built whole again in a slot that kept nothing.
    let t = Instant::from_secs(5);
    let c = a.connect(t, SERVER, from(5000)).expect("a connection");
    let (mut fa, _, _) = pair();
    let fc = fa.connect(t, SERVER, from(5000)).expect("fresh");
    assert_eq!((c.index, c.generation.is_multiple_of(2)), (0, true));
    assert_eq!(dump(&a, c), dump(&fa, fc));
}
