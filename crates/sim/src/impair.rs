//! One impaired link on its own, without a network around it: for
//! applying a [`LinkSpec`] to a real device (the CLI's `--impair`), where
//! packets come and go in real time.

use crate::link::{Far, Fate, Link};
use crate::{Instant, LinkSpec, LinkStats};

/// A single direction of impairment: offer packets, learn when (and
/// whether, and how many times) each one comes out.
#[derive(Debug)]
pub struct Impairment {
    link: Link,
}

/// What happens to an offered packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Lost (loss, full queue).
    Dropped,
    /// Delivered at the given time; twice when `duplicate`.
    Deliver {
        /// When it comes out.
        at: Instant,
        /// Whether a second copy follows it.
        duplicate: bool,
    },
}

impl Impairment {
    /// An impairment following `spec`, its random draws from `seed`.
    pub fn new(spec: LinkSpec, seed: u64) -> Impairment {
        Impairment {
            link: Link::new(seed, 0, spec, Far::Router),
        }
    }

    /// Offers `packet` at `now`. Corruption flips a bit of `packet` in
    /// place.
    pub fn offer(&mut self, now: Instant, packet: &mut [u8]) -> Outcome {
        match self.link.offer(now, packet) {
            Fate::Dropped => Outcome::Dropped,
            Fate::Deliver { at, dup } => Outcome::Deliver { at, duplicate: dup },
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> LinkStats {
        self.link.stats
    }

    /// The spec.
    pub fn spec(&self) -> &LinkSpec {
        &self.link.spec
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn delay_and_loss_apply() {
        let spec: LinkSpec = "delay=10ms,loss=0.5".parse().unwrap();
        let mut imp = Impairment::new(spec, 1);
        let mut delivered = 0;
        for i in 0..1000u64 {
            let now = Instant::from_millis(i);
            match imp.offer(now, &mut [0u8; 100]) {
                Outcome::Deliver { at, .. } => {
                    assert_eq!(at, now + Duration::from_millis(10));
                    delivered += 1;
                }
                Outcome::Dropped => {}
            }
        }
        assert!((400..600).contains(&delivered), "{delivered}");
        assert_eq!(imp.stats().dropped_loss, 1000 - delivered);
    }
}
