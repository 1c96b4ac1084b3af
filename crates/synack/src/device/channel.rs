//! Two devices joined back to back in memory: what one sends, the other
//! receives. For running two stacks (or a stack and another
//! implementation) in one process.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};

use wire::Instant;

use super::Device;
use crate::sys::EventFd;

/// The queue into one side, with the fd that signals it.
#[derive(Debug)]
struct Queue {
    packets: Mutex<VecDeque<Vec<u8>>>,
    signal: EventFd,
}

/// One end of an in-memory link.
#[derive(Debug)]
pub struct ChannelDevice {
    inbox: Arc<Queue>,
    outbox: Arc<Queue>,
}

/// The most packets waiting in one direction before new ones are dropped.
const CAPACITY: usize = 4096;

impl ChannelDevice {
    /// Two connected ends.
    pub fn pair() -> io::Result<(ChannelDevice, ChannelDevice)> {
        let a = Arc::new(Queue {
            packets: Mutex::new(VecDeque::new()),
            signal: EventFd::new()?,
        });
        let b = Arc::new(Queue {
            packets: Mutex::new(VecDeque::new()),
            signal: EventFd::new()?,
        });
        Ok((
            ChannelDevice {
                inbox: a.clone(),
                outbox: b.clone(),
            },
            ChannelDevice {
                inbox: b,
                outbox: a,
            },
        ))
    }
}

impl Device for ChannelDevice {
    fn send(&mut self, _now: Instant, packet: &[u8]) -> io::Result<()> {
        let mut q = self
            .outbox
            .packets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if q.len() < CAPACITY {
            q.push_back(packet.to_vec());
            self.outbox.signal.notify();
        }
        Ok(())
    }

    fn recv(&mut self, _now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let mut q = self.inbox.packets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(p) = q.pop_front() else {
            self.inbox.signal.drain();
            return Ok(None);
        };
        let n = p.len().min(buf.len());
        buf[..n].copy_from_slice(&p[..n]);
        Ok(Some(n))
    }

    fn readable_fd(&self) -> RawFd {
        self.inbox.signal.raw()
    }
}
