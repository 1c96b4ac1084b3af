//! The connection's timers, as deadlines. Nothing here reads a clock: the
//! connection asks which deadline is next and is told when it has passed.

use wire::Instant;

/// The timers of one connection (RFC 9293 §3.8, RFC 6298, RFC 1122).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    /// Retransmission of the oldest unacknowledged segment (or SYN, FIN).
    pub retransmit: Option<Instant>,
    /// Window probe into a zero window.
    pub persist: Option<Instant>,
    /// The delayed acknowledgment.
    pub delayed_ack: Option<Instant>,
    /// The next keep-alive probe (or the idle time before the first).
    pub keepalive: Option<Instant>,
    /// The end of TIME-WAIT (2·MSL).
    pub time_wait: Option<Instant>,
    /// The end of the FIN-WAIT-2 wait of a fully closed connection.
    pub fin_wait_2: Option<Instant>,
    /// When empty buffers give their memory back.
    pub idle_release: Option<Instant>,
    /// Loss recovery's own deadlines, the earliest of: RACK's reordering
    /// timer (RFC 8985 §6.2), the tail loss probe (RFC 8985 §7.2), the
    /// pacer.
    pub recovery: Option<Instant>,
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

    /// The earliest deadline. The endpoint asks after every call into the
    /// connection (twice per segment in a bulk transfer), so this is a
    /// branch-free minimum over the raw times rather than a walk over
    /// `all()`'s (timer, deadline) pairs. An unset timer counts as
    /// `u64::MAX` microseconds, a time no `Instant` holds: the minimum is
    /// `u64::MAX` exactly when no timer is set, with no separate flag.
    pub fn next(&self) -> Option<Instant> {
        let min = [
            self.retransmit,
            self.persist,
            self.delayed_ack,
            self.keepalive,
            self.time_wait,
            self.fin_wait_2,
            self.idle_release,
            self.recovery,
        ]
        .into_iter()
        .fold(u64::MAX, |min, t| {
            min.min(t.map_or(u64::MAX, Instant::micros))
        });
        (min != u64::MAX).then(|| Instant::from_micros(min))
    }

    /// Takes one timer whose deadline has passed (clearing it), or `None`.
    /// TIME-WAIT and FIN-WAIT-2 come first: they end the connection.
    pub fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        let (timer, _) = self
            .all()
            .into_iter()
            .find(|(_, t)| t.is_some_and(|t| t <= now))?;
        *self.slot(timer) = None;
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
        let mut t = Timers {
            retransmit: Some(Instant::from_millis(30)),
            delayed_ack: Some(Instant::from_millis(10)),
            time_wait: Some(Instant::from_millis(20)),
            ..Default::default()
        };
        assert_eq!(t.next(), Some(Instant::from_millis(10)));
        assert_eq!(t.take_expired(Instant::from_millis(5)), None);
        let now = Instant::from_millis(40);
        assert_eq!(t.take_expired(now), Some(Timer::TimeWait));
        assert_eq!(t.take_expired(now), Some(Timer::Retransmit));
        assert_eq!(t.take_expired(now), Some(Timer::DelayedAck));
        assert_eq!(t.take_expired(now), None);
        assert_eq!(t.next(), None);
    }
}
