//! A sync owed across calls (`Endpoint::unsynced`) changes nothing anyone
//! can see: the same calls, made once as they come and once with every
//! owed sync run at the end of the call that owed it (as before the sync
//! could be owed), bring the same packets, events, data and deadlines
//! coming due, and the endpoint's deadline is never late.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

use wire::Instant;

use super::{ConnHandle, Endpoint, EndpointConfig, ListenerHandle};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const SERVER: SocketAddr = SocketAddr::new(B, 80);
const CONNS: usize = 4;

/// xorshift64*: a fixed script for both runs.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// The two endpoints and what they showed.
struct Run {
    eps: [Endpoint; 2],
    /// The handles each side holds.
    conns: [Vec<ConnHandle>; 2],
    /// Every handle each side was given (closed ones live on inside).
    all: [Vec<ConnHandle>; 2],
    now: Instant,
    /// Run every owed sync at the end of each call.
    eager: bool,
    listener: ListenerHandle,
    log: Vec<String>,
}

impl Run {
    fn new(eager: bool) -> Run {
        let config = |seed| EndpointConfig {
            seed,
            ..EndpointConfig::default()
        };
        let mut b = Endpoint::new(config(2), &[B]);
        let l = b.listen(SERVER, 16).expect("a fresh endpoint listens");
        let mut run = Run {
            eps: [Endpoint::new(config(1), &[A]), b],
            conns: [Vec::new(), Vec::new()],
            all: [Vec::new(), Vec::new()],
            now: Instant::ZERO,
            eager,
            listener: l,
            log: Vec::new(),
        };
        for _ in 0..CONNS {
            let c = run.eps[0]
                .connect(run.now, SERVER, None)
                .expect("a connection");
            run.settled(0);
            run.pump_all();
            let s = run.eps[1]
                .accept(run.listener)
                .expect("an accepted connection");
            run.settled(1);
            run.hold(0, c);
            run.hold(1, s);
        }
        run
    }

    fn hold(&mut self, i: usize, h: ConnHandle) {
        self.conns[i].push(h);
        self.all[i].push(h);
    }

    /// After a call into endpoint `i`: in the eager run, the owed sync.
    fn settled(&mut self, i: usize) {
        if self.eager {
            self.eps[i].settle();
        }
    }

    /// Up to `k` packets from endpoint `i` to the other; how many.
    fn carry(&mut self, i: usize, k: usize) -> usize {
        let mut buf = vec![0u8; 2048];
        for moved in 0..k {
            let Some(n) = self.eps[i].poll_transmit(self.now, &mut buf) else {
                self.settled(i);
                return moved;
            };
            self.settled(i);
            self.log.push(format!("{i} sent {:?}", &buf[..n]));
            self.eps[1 - i].handle_packet(self.now, &buf[..n]);
            self.settled(1 - i);
        }
        k
    }

    fn pump_all(&mut self) {
        for _ in 0..10_000 {
            if self.carry(0, 100_000) + self.carry(1, 100_000) == 0 {
                return;
            }
        }
        panic!(
            "{}: packets never stop",
            if self.eager { "eager" } else { "owed" }
        );
    }

    fn events_and_deadline(&mut self, i: usize) {
        while let Some(ev) = self.eps[i].poll_event() {
            self.log.push(format!("{i} event {ev:?}"));
        }
        let at = self.eps[i].poll_timeout();
        // The endpoint's deadline may come early (a sync that ran while a
        // nearer deadline was set leaves its heap entry, which re-arms
        // when it comes due), never late; what comes due is the same.
        let due = self.earliest_due(i);
        assert!(
            due.is_none_or(|due| at.is_some_and(|at| at <= due)),
            "{i}: deadline {at:?} after {due:?}"
        );
        self.log.push(format!("{i} due {due:?}"));
        if at.is_some_and(|at| at <= self.now) {
            self.eps[i].handle_timeout(self.now);
            self.settled(i);
        }
    }

    /// The earliest deadline of endpoint `i`'s connections and TIME-WAIT
    /// entries.
    fn earliest_due(&self, i: usize) -> Option<Instant> {
        let ep = &self.eps[i];
        self.all[i]
            .iter()
            .filter_map(|h| ep.conns.get(h.index, h.generation))
            .filter_map(|e| e.conn.poll_timeout())
            .chain(ep.time_wait.next_expiry())
            .min()
    }

    fn step(&mut self, rng: &mut Rng) {
        let i = rng.below(2) as usize;
        let choice = rng.below(10);
        if self.conns[i].is_empty() || choice >= 8 {
            self.open_or_accept(i);
            return;
        }
        let k = rng.below(self.conns[i].len() as u64) as usize;
        let h = self.conns[i][k];
        match choice {
            0 => {
                let data = vec![i as u8; 1 + rng.below(30_000) as usize];
                let r = self.eps[i].send(h, &data);
                self.settled(i);
                self.log.push(format!("{i} send {r:?}"));
            }
            1 => {
                let mut buf = vec![0u8; 1 + rng.below(20_000) as usize];
                let r = self.eps[i].recv(h, &mut buf);
                self.settled(i);
                let got = r.map(|n| buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>());
                self.log.push(format!("{i} recv {r:?} {got:?}"));
            }
            2 | 3 => {
                let k = 1 + rng.below(8) as usize;
                self.carry(i, k);
            }
            4 => self.events_and_deadline(i),
            5 => self.now += Duration::from_millis(rng.below(60)),
            6 => {
                let r = self.eps[i].shutdown(h, self.now);
                self.settled(i);
                self.log.push(format!("{i} shutdown {r:?}"));
            }
            _ => {
                // Closed with or without unread data: a FIN or a RST.
                self.eps[i].close(h, self.now);
                self.settled(i);
                self.conns[i].swap_remove(k);
            }
        }
        // What needs no call that settles: owing a sync must not leave a
        // connection that a sync would have freed, or a queue unmoved.
        for (i, ep) in self.eps.iter().enumerate() {
            self.log.push(format!(
                "{i} counts {} {} {}",
                ep.connection_count(),
                ep.half_open_count(),
                ep.time_wait_count()
            ));
        }
    }

    /// A new connection from the client side, or one accepted on the
    /// server side.
    fn open_or_accept(&mut self, i: usize) {
        if i == 0 {
            if let Ok(c) = self.eps[0].connect(self.now, SERVER, None) {
                self.hold(0, c);
            }
        } else if let Some(s) = self.eps[1].accept(self.listener) {
            self.hold(1, s);
        }
        self.settled(i);
    }
}

/// Runs the script of `seed`, then closes everything and lets it finish.
fn play(seed: u64, eager: bool) -> Vec<String> {
    let mut rng = Rng(seed | 1);
    let mut run = Run::new(eager);
    for _ in 0..600 {
        run.step(&mut rng);
    }
    for i in 0..2 {
        for h in core::mem::take(&mut run.conns[i]) {
            run.eps[i].close(h, run.now);
            run.settled(i);
        }
    }
    for _ in 0..200 {
        run.pump_all();
        run.events_and_deadline(0);
        run.events_and_deadline(1);
        run.now += Duration::from_millis(100);
    }
    for i in 0..2 {
        let ep = &run.eps[i];
        run.log.push(format!(
            "{i} end {} {} {:?}",
            ep.connection_count(),
            ep.time_wait_count(),
            ep.stats()
        ));
    }
    run.log
}

#[test]
fn owing_syncs_changes_no_packet_event_or_deadline() {
    for seed in 1..=24u64 {
        let owed = play(seed * 0x9e37_79b9, false);
        let eager = play(seed * 0x9e37_79b9, true);
        assert!(owed.len() > 100, "seed {seed}: the script did little");
        assert_eq!(owed.len(), eager.len(), "seed {seed}");
        for (k, (x, y)) in owed.iter().zip(&eager).enumerate() {
            assert_eq!(x, y, "seed {seed}, entry {k}");
        }
    }
}

#[test]
fn a_burst_owes_its_syncs() {
    // The reason for owing: a connection sending alone is synced once a
    // burst, not once a segment. (Seen through the owed handle itself.)
    let mut run = Run::new(false);
    let (c, s) = (run.conns[0][0], run.conns[1][0]);
    run.eps[0].send(c, &[7; 20_000]).expect("room to send");
    let mut buf = vec![0u8; 2048];
    let n = run.eps[0]
        .poll_transmit(run.now, &mut buf)
        .expect("data to send");
    assert_eq!(run.eps[0].unsynced, Some(c));
    run.eps[1].handle_packet(run.now, &buf[..n]);
    assert_eq!(run.eps[1].unsynced, Some(s));
    // Any call that looks settles.
    run.eps[0].poll_timeout();
    assert_eq!(run.eps[0].unsynced, None);
    run.eps[1].poll_event();
    assert_eq!(run.eps[1].unsynced, None);
}
