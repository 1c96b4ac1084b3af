//! Time as a value: the protocol core never reads a clock, it is handed an
//! [`Instant`]. Durations are [`core::time::Duration`].

use core::fmt;
use core::num::NonZeroU64;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// The largest number of microseconds an [`Instant`] holds (one less than
/// `u64::MAX`, the value given up so that `Option<Instant>` is 8 bytes).
const MAX_MICROS: u64 = u64::MAX - 1;

/// A point in time, in microseconds since an arbitrary origin chosen by the
/// caller (boot, the start of a simulation, the Unix epoch).
///
/// Stored as microseconds + 1 in a `NonZeroU64`: `Option<Instant>` (every
/// connection has a dozen deadlines) then costs no tag word. Times beyond
/// 584 000 years saturate at [`Instant::FAR_FUTURE`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(NonZeroU64);

impl Default for Instant {
    /// The origin.
    fn default() -> Instant {
        Instant::ZERO
    }
}

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(NonZeroU64::MIN);
    /// A time later than any real one, for "never".
    pub const FAR_FUTURE: Instant = Instant(NonZeroU64::MAX);

    /// An instant `us` microseconds after the origin (saturating at
    /// [`FAR_FUTURE`](Instant::FAR_FUTURE)).
    pub const fn from_micros(us: u64) -> Instant {
        let us = if us > MAX_MICROS { MAX_MICROS } else { us };
        match NonZeroU64::new(us + 1) {
            Some(n) => Instant(n),
            None => Instant::FAR_FUTURE,
        }
    }

    /// An instant `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Instant {
        Instant::from_micros(ms.saturating_mul(1000))
    }

    /// An instant `s` seconds after the origin.
    pub const fn from_secs(s: u64) -> Instant {
        Instant::from_micros(s.saturating_mul(1_000_000))
    }

    /// Microseconds since the origin.
    pub const fn micros(self) -> u64 {
        self.0.get() - 1
    }

    /// Milliseconds since the origin (truncated).
    pub const fn millis(self) -> u64 {
        self.micros() / 1000
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    #[inline]
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.get().saturating_sub(earlier.0.get()))
    }
}

#[inline]
fn micros_of(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Adding saturates at [`Instant::FAR_FUTURE`].
impl Add<Duration> for Instant {
    type Output = Instant;
    #[inline]
    fn add(self, d: Duration) -> Instant {
        Instant::from_micros(self.micros().saturating_add(micros_of(d)))
    }
}

impl AddAssign<Duration> for Instant {
    #[inline]
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

/// Subtracting saturates at the origin.
impl Sub<Duration> for Instant {
    type Output = Instant;
    #[inline]
    fn sub(self, d: Duration) -> Instant {
        Instant::from_micros(self.micros().saturating_sub(micros_of(d)))
    }
}

/// The time between two instants, saturating at zero.
impl Sub<Instant> for Instant {
    type Output = Duration;
    #[inline]
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.micros();
        write!(f, "{}.{:06}s", us / 1_000_000, us % 1_000_000)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(5);
        assert_eq!((t + Duration::from_millis(3)).micros(), 8000);
        assert_eq!(t - Duration::from_secs(1), Instant::ZERO);
        assert_eq!(
            Instant::FAR_FUTURE + Duration::from_secs(1),
            Instant::FAR_FUTURE
        );
        assert_eq!(Instant::ZERO - t, Duration::ZERO);
        assert_eq!(t - Instant::ZERO, Duration::from_millis(5));
        assert_eq!(std::format!("{t}"), "0.005000s");
        assert_eq!(Instant::from_micros(u64::MAX), Instant::FAR_FUTURE);
        assert_eq!(Instant::default(), Instant::ZERO);
        assert_eq!(Instant::ZERO.micros(), 0);
    }

    #[test]
    fn an_optional_instant_is_one_word() {
        // Connections keep many optional deadlines.
        assert_eq!(core::mem::size_of::<Option<Instant>>(), 8);
    }
}
