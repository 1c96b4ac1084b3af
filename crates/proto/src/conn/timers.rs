//! The connection's timers, as deadlines. Nothing here reads a clock: the
//! connection asks which deadline is next and is told when it has passed.

use wire::Instant;

/// The timers of one connection (RFC 9293 §3.8, RFC 6298, RFC 1122), set
/// and read through [`Timer`]. The earliest deadline is kept as the
/// timers change, not found when asked: the endpoint asks after every
/// call into the connection (twice per segment in a bulk transfer), while
/// most calls change no timer or set one later than the earliest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    /// Retransmission of the oldest unacknowledged segment (or SYN, FIN).
    retransmit: Option<Instant>,
    /// Window probe into a zero window.
    persist: Option<Instant>,
    /// The delayed acknowledgment.
    delayed_ack: Option<Instant>,
    /// The next keep-alive probe (or the idle time before the first).
    keepalive: Option<Instant>,
    /// The end of TIME-WAIT (2·MSL).
    time_wait: Option<Instant>,
    /// The end of the FIN-WAIT-2 wait of a fully closed connection.
    fin_wait_2: Option<Instant>,
    /// When empty buffers give their memory back.
    idle_release: Option<Instant>,
    /// Loss recovery's own deadlines, the earliest of: RACK's reordering
    /// timer (RFC 8985 §6.2), the tail loss probe (RFC 8985 §7.2), the
    /// pacer.
    recovery: Option<Instant>,
    /// The earliest of the above: always exactly their minimum (a
    /// function of them, so two `Timers` with the same deadlines are
    /// equal and print the same).
    earliest: Option<Instant>,
}

/// The earliest of `times` (`None` if none is set), branch-free over the
/// raw times: an unset time counts as `u64::MAX` microseconds, a time no
/// `Instant` holds, so the minimum is `u64::MAX` exactly when none is set.
#[inline]
pub(crate) fn earliest<const N: usize>(times: [Option<Instant>; N]) -> Option<Instant> {
    let min = times.into_iter().fold(u64::MAX, |min, t| {
        min.min(t.map_or(u64::MAX, Instant::micros))
    });
    (min != u64::MAX).then(|| Instant::from_micros(min))
}

/// Which timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    Retransmit,
    Persist,
    DelayedAck,
    Keepalive,
    TimeWait,
    FinWait2,
    IdleRelease,
    Recovery,
}

impl Timers {
    fn all(&self) -> [(Timer, Option<Instant>); 8] {
        [
            (Timer::TimeWait, self.time_wait),
            (Timer::FinWait2, self.fin_wait_2),
            (Timer::Retransmit, self.retransmit),
            (Timer::Recovery, self.recovery),
            (Timer::Persist, self.persist),
            (Timer::DelayedAck, self.delayed_ack),
            (Timer::Keepalive, self.keepalive),
            (Timer::IdleRelease, self.idle_release),
        ]
    }

    /// The earliest deadline.
    #[inline]
    pub fn next(&self) -> Option<Instant> {
        self.earliest
    }

    /// The deadline of `timer`, if it is set.
    #[inline]
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        match timer {
            Timer::Retransmit => self.retransmit,
            Timer::Persist => self.persist,
            Timer::DelayedAck => self.delayed_ack,
            Timer::Keepalive => self.keepalive,
            Timer::TimeWait => self.time_wait,
            Timer::FinWait2 => self.fin_wait_2,
            Timer::IdleRelease => self.idle_release,
            Timer::Recovery => self.recovery,
        }
    }

    /// Sets `timer` to expire at `at`, or stops it (`None`). The minimum
    /// is searched for again only when the earliest timer moved later or
    /// stopped.
    #[inline]
    pub fn set(&mut self, timer: Timer, at: Option<Instant>) {
        let old = core::mem::replace(self.slot(timer), at);
        if old == at {
            return;
        }
        match (at, self.earliest) {
            (Some(t), Some(e)) if t <= e => self.earliest = at,
            (Some(_), None) => self.earliest = at,
            _ if old.is_some() && old == self.earliest => self.earliest = self.earliest_of_all(),
            _ => {}
        }
    }

    /// The minimum over every timer.
    fn earliest_of_all(&self) -> Option<Instant> {
        earliest(self.all().map(|(_, t)| t))
    }

    /// Takes one timer whose deadline has passed (clearing it), or `None`.
    /// TIME-WAIT and FIN-WAIT-2 come first: they end the connection.
    pub fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        let (timer, _) = self
            .all()
            .into_iter()
            .find(|(_, t)| t.is_some_and(|t| t <= now))?;
        self.set(timer, None);
        Some(timer)
    }

    fn slot(&mut self, timer: Timer) -> &mut Option<Instant> {
        match timer {
            Timer::Retransmit => &mut self.retransmit,
            Timer::Persist => &mut self.persist,
            Timer::DelayedAck => &mut self.delayed_ack,
            Timer::Keepalive => &mut self.keepalive,
            Timer::TimeWait => &mut self.time_wait,
            Timer::FinWait2 => &mut self.fin_wait_2,
            Timer::IdleRelease => &mut self.idle_release,
            Timer::Recovery => &mut self.recovery,
        }
    }

    /// Stops every timer (the connection closed, or entered TIME-WAIT).
    pub fn clear(&mut self) {
        *self = Timers::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_earliest_and_expiry_takes_in_priority_order() {
        let mut t = Timers::default();
        t.set(Timer::Retransmit, Some(Instant::from_millis(30)));
        t.set(Timer::DelayedAck, Some(Instant::from_millis(10)));
        t.set(Timer::TimeWait, Some(Instant::from_millis(20)));
        assert_eq!(t.next(), Some(Instant::from_millis(10)));
        assert_eq!(t.take_expired(Instant::from_millis(5)), None);
        let now = Instant::from_millis(40);
        assert_eq!(t.take_expired(now), Some(Timer::TimeWait));
        assert_eq!(t.take_expired(now), Some(Timer::Retransmit));
        assert_eq!(t.take_expired(now), Some(Timer::DelayedAck));
        assert_eq!(t.take_expired(now), None);
        assert_eq!(t.next(), None);
    }

    #[test]
    fn the_kept_earliest_is_always_the_minimum() {
        // Any sequence of sets and stops (a small LCG picks them): `next`
        // equals the minimum found by looking at every timer.
        let all = Timers::default().all().map(|(timer, _)| timer);
        let mut t = Timers::default();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..10_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let timer = all[(x >> 33) as usize % all.len()];
            let at = (x >> 40 & 3 != 0).then(|| Instant::from_millis(x >> 50));
            t.set(timer, at);
            assert_eq!(t.next(), t.earliest_of_all());
            if x >> 20 & 63 == 0 {
                while t.take_expired(Instant::from_millis(x >> 52)).is_some() {
                    assert_eq!(t.next(), t.earliest_of_all());
                }
            }
        }
    }
}
