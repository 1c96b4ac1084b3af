//! Any device behind the simulator's link model, in real time, in both
//! directions: the `--impair` of the CLI (this kernel has no `tc netem`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::RawFd;

use sim::{Impairment, LinkSpec, Outcome};
use wire::Instant;

use super::Device;

/// A packet held back until its delivery time.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    at: Instant,
    order: u64,
    packet: Vec<u8>,
}

/// A device whose traffic goes through an [`Impairment`] each way.
#[derive(Debug)]
pub struct Impaired<D> {
    inner: D,
    outbound: Impairment,
    inbound: Impairment,
    to_send: BinaryHeap<Reverse<Held>>,
    to_receive: BinaryHeap<Reverse<Held>>,
    order: u64,
    /// Where packets from the inner device land (kept: no allocation per
    /// packet).
    scratch: Vec<u8>,
}

impl<D: Device> Impaired<D> {
    /// Wraps `inner`; `spec` applies to each direction, with independent
    /// random streams from `seed`.
    pub fn new(inner: D, spec: LinkSpec, seed: u64) -> Impaired<D> {
        Impaired {
            inner,
            outbound: Impairment::new(spec.clone(), seed),
            inbound: Impairment::new(spec, seed ^ 0x5bd1_e995_9e37_79b9),
            to_send: BinaryHeap::new(),
            to_receive: BinaryHeap::new(),
            order: 0,
            scratch: Vec::new(),
        }
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    fn hold(
        order: &mut u64,
        queue: &mut BinaryHeap<Reverse<Held>>,
        imp: &mut Impairment,
        now: Instant,
        packet: &[u8],
    ) {
        let mut packet = packet.to_vec();
        if let Outcome::Deliver { at, duplicate } = imp.offer(now, &mut packet) {
            if duplicate {
                *order += 1;
                queue.push(Reverse(Held {
                    at,
                    order: *order,
                    packet: packet.clone(),
                }));
            }
            *order += 1;
            queue.push(Reverse(Held {
                at,
                order: *order,
                packet,
            }));
        }
    }
}

impl<D: Device> Device for Impaired<D> {
    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        Self::hold(
            &mut self.order,
            &mut self.to_send,
            &mut self.outbound,
            now,
            packet,
        );
        self.service(now)
    }

    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // Everything that arrived goes into the inbound link first.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(buf.len().max(65536), 0);
        while let Some(n) = self.inner.recv(now, &mut scratch)? {
            Self::hold(
                &mut self.order,
                &mut self.to_receive,
                &mut self.inbound,
                now,
                &scratch[..n],
            );
        }
        self.scratch = scratch;
        match self.to_receive.peek() {
            Some(Reverse(h)) if h.at <= now => {
                let Reverse(h) = self.to_receive.pop().expect("peeked");
                let n = h.packet.len().min(buf.len());
                buf[..n].copy_from_slice(&h.packet[..n]);
                Ok(Some(n))
            }
            _ => Ok(None),
        }
    }

    fn readable_fd(&self) -> RawFd {
        self.inner.readable_fd()
    }

    fn next_service(&self) -> Option<Instant> {
        let a = self.to_send.peek().map(|Reverse(h)| h.at);
        let b = self.to_receive.peek().map(|Reverse(h)| h.at);
        [a, b, self.inner.next_service()]
            .into_iter()
            .flatten()
            .min()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    fn service(&mut self, now: Instant) -> io::Result<()> {
        while let Some(Reverse(h)) = self.to_send.peek() {
            if h.at > now {
                break;
            }
            let Reverse(h) = self.to_send.pop().expect("peeked");
            self.inner.send(now, &h.packet)?;
        }
        self.inner.service(now)
    }

    fn end_burst(&mut self) -> io::Result<()> {
        self.inner.end_burst()
    }
}
