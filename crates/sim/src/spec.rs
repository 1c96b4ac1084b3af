//! [`LinkSpec`]: what a link does to the packets that cross it, and its text
//! form `rate=100mbit,delay=20ms,loss=0.01,…`.

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

use crate::units::{format_duration, format_rate, parse_duration, parse_probability, parse_rate};

/// The behaviour of one direction of a link.
///
/// A packet offered to a link goes through these steps, in this order:
///
/// 1. **Queue** (`queue`): the link transmits one packet at a time. A packet
///    that arrives while the link is busy waits in a drop-tail FIFO of at most
///    `queue` packets (not counting the one being transmitted); when that
///    FIFO is full the packet is dropped ([`LinkStats::dropped_queue`]).
///    Without a `rate` nothing ever waits, so `queue` has no effect.
/// 2. **Serialization** (`rate`): transmitting `len` bytes takes
///    `len * 8 / rate` seconds (rounded up to the nanosecond internally).
/// 3. **Loss** (`loss`, `burst`): the packet is lost on the wire after having
///    used its transmission time ([`LinkStats::dropped_loss`]). Without
///    `burst`, each packet is lost independently with probability `loss`.
///    With `burst = b`, losses follow a two-state Gilbert–Elliott chain (the
///    simple Gilbert variant: every packet is lost in the Bad state, none in
///    the Good state). Per packet the chain first moves, then the packet is
///    lost if the chain is in Bad. Transitions:
///    `P(Bad→Bad) = b`, `P(Bad→Good) = r = 1 − b`, and
///    `P(Good→Bad) = p = loss · r / (1 − loss)`, chosen so that the
///    stationary loss rate `p / (p + r)` equals `loss`. The mean length of a
///    loss burst is `1 / (1 − b)`. This needs `p ≤ 1`, i.e.
///    `loss ≤ 1 / (2 − b)`; the parser rejects other combinations. The chain
///    starts in Good.
/// 4. **Corruption** (`corrupt`): with this probability one uniformly chosen
///    bit of the packet is flipped ([`LinkStats::corrupted`]), so that
///    checksums catch it. Nothing else is changed.
/// 5. **Delay** (`delay`, `jitter`): the packet arrives `delay` plus a uniform
///    random extra in `[0, jitter]` after its last bit was sent. Jitter alone
///    never reorders: a link is FIFO, a packet is never delivered before the
///    one ahead of it (its time is `max(previous delivery, computed time)`).
/// 6. **Reordering** (`reorder`, `reorder_delay`): with probability `reorder`
///    the packet is held back by a further `reorder_delay` (default
///    `max(1ms, delay / 4)`) after its FIFO delivery time and leaves the
///    FIFO: packets sent after it within that time overtake it, and it does
///    not hold them up ([`LinkStats::reordered`]). It is never delivered
///    before the packets sent ahead of it.
/// 7. **Duplication** (`dup`): with this probability the packet is delivered
///    twice, the copy byte-identical and immediately after the original
///    ([`LinkStats::duplicated`]).
///
/// Every random decision has its own random stream per link, so that (for
/// example) adding `dup` does not change which packets `loss` drops.
///
/// Fields are public for construction with struct-update syntax; values out
/// of range (a probability above 1, `burst` of 1, …) are clamped into range
/// when used, and [`LinkSpec::validate`] reports them. The text form (see
/// [`FromStr`](#impl-FromStr-for-LinkSpec)) validates while parsing.
///
/// [`LinkStats::dropped_queue`]: crate::LinkStats::dropped_queue
/// [`LinkStats::dropped_loss`]: crate::LinkStats::dropped_loss
/// [`LinkStats::corrupted`]: crate::LinkStats::corrupted
/// [`LinkStats::reordered`]: crate::LinkStats::reordered
/// [`LinkStats::duplicated`]: crate::LinkStats::duplicated
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpec {
    /// Bandwidth in bit/s; `None` is unlimited (zero serialization time).
    pub rate: Option<u64>,
    /// Propagation delay.
    pub delay: Duration,
    /// Maximum uniform random extra delay; does not reorder by itself.
    pub jitter: Duration,
    /// Drop-tail queue limit in packets waiting behind the one in
    /// transmission; [`LinkSpec::DEFAULT_QUEUE`] unless set, `usize::MAX`
    /// (text form `unlimited`) for no limit.
    pub queue: usize,
    /// Long-run fraction of packets lost, in `[0, 1]`.
    pub loss: f64,
    /// Gilbert–Elliott probability of staying in the lossy state, in
    /// `[0, 1)`; `None` for independent losses.
    pub burst: Option<f64>,
    /// Probability that a packet is held back and overtaken.
    pub reorder: f64,
    /// How long a reordered packet is held back; `None` for the default
    /// `max(1ms, delay / 4)`.
    pub reorder_delay: Option<Duration>,
    /// Probability that a packet is delivered twice.
    pub dup: f64,
    /// Probability that one bit of a packet is flipped.
    pub corrupt: f64,
}

impl LinkSpec {
    /// The queue limit when `queue` is not given: 1000 packets, Linux's
    /// default `txqueuelen`.
    pub const DEFAULT_QUEUE: usize = 1000;

    /// A perfect link: unlimited rate, no delay, no impairment. Same as
    /// `Default` and as parsing the empty string.
    pub const PERFECT: LinkSpec = LinkSpec {
        rate: None,
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        queue: LinkSpec::DEFAULT_QUEUE,
        loss: 0.0,
        burst: None,
        reorder: 0.0,
        reorder_delay: None,
        dup: 0.0,
        corrupt: 0.0,
    };

    /// The extra delay of a reordered packet: `reorder_delay`, or by default
    /// `max(1ms, delay / 4)`.
    pub fn effective_reorder_delay(&self) -> Duration {
        self.reorder_delay
            .unwrap_or_else(|| (self.delay / 4).max(Duration::from_millis(1)))
    }

    /// Checks that every value is in range, as the parser does.
    pub fn validate(&self) -> Result<(), SpecError> {
        let bad = |key: &'static str, value: String, reason: &str| {
            Err(SpecError::BadValue {
                key: key.into(),
                value,
                reason: reason.into(),
            })
        };
        if self.rate == Some(0) {
            return bad("rate", "0".into(), "must be greater than zero");
        }
        for (key, p) in [
            ("loss", self.loss),
            ("reorder", self.reorder),
            ("dup", self.dup),
            ("corrupt", self.corrupt),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(key, p.to_string(), "must be between 0 and 1");
            }
        }
        if let Some(b) = self.burst {
            if !(0.0..1.0).contains(&b) {
                return bad("burst", b.to_string(), "must be at least 0 and below 1");
            }
            if self.loss > 1.0 / (2.0 - b) {
                return Err(SpecError::Inconsistent(format!(
                    "loss={} cannot be reached with burst={b}: the largest loss rate \
                     for that burst is 1/(2-burst) = {:.4}; raise burst or lower loss",
                    self.loss,
                    1.0 / (2.0 - b)
                )));
            }
        }
        Ok(())
    }
}

impl Default for LinkSpec {
    fn default() -> LinkSpec {
        LinkSpec::PERFECT
    }
}

/// Why a link spec could not be parsed. Its `Display` is a message for the
/// user that names the offending key and value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecError {
    /// A key that is not one of the known ones.
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// An item without `=value`.
    MissingValue {
        /// The key as written.
        key: String,
    },
    /// The same key twice.
    Duplicate {
        /// The key.
        key: String,
    },
    /// A value that does not parse or is out of range.
    BadValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Values that are fine alone but not together.
    Inconsistent(String),
}

/// The keys of the text form, in the order `Display` writes them.
const KEYS: &[&str] = &[
    "rate",
    "delay",
    "jitter",
    "queue",
    "loss",
    "burst",
    "reorder",
    "reorder_delay",
    "dup",
    "corrupt",
];

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::UnknownKey { key } => {
                write!(
                    f,
                    "unknown link setting `{key}` (known: {})",
                    KEYS.join(", ")
                )
            }
            SpecError::MissingValue { key } => {
                write!(f, "link setting `{key}` needs a value, as in `{key}=…`")
            }
            SpecError::Duplicate { key } => write!(f, "link setting `{key}` is given twice"),
            SpecError::BadValue { key, value, reason } => {
                write!(f, "bad value `{value}` for link setting `{key}`: {reason}")
            }
            SpecError::Inconsistent(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for SpecError {}

/// Parses the text form: comma-separated `key=value` items, every key
/// optional, in any order; the empty string is a perfect link.
///
/// | key | value | example |
/// |---|---|---|
/// | `rate` | number with `bit`, `kbit`/`k`, `mbit`/`m`, `gbit`/`g` (powers of 1000; a plain number is bit/s) | `rate=100mbit`, `rate=1.5m` |
/// | `delay`, `jitter`, `reorder_delay` | number with `us`, `ms` or `s` (or `0`) | `delay=20ms`, `jitter=500us` |
/// | `queue` | packets, or `unlimited` | `queue=64` |
/// | `loss`, `reorder`, `dup`, `corrupt` | probability in `[0, 1]` | `loss=0.01` |
/// | `burst` | probability in `[0, 1)` | `burst=0.3` |
///
/// Whitespace around items, keys and values is ignored, and so are empty
/// items; keys and units are case-insensitive.
impl FromStr for LinkSpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<LinkSpec, SpecError> {
        let mut spec = LinkSpec::PERFECT;
        let mut seen = [false; KEYS.len()];
        for item in s.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let Some((key, value)) = item.split_once('=') else {
                return Err(if KEYS.contains(&item.to_ascii_lowercase().as_str()) {
                    SpecError::MissingValue { key: item.into() }
                } else {
                    SpecError::UnknownKey { key: item.into() }
                });
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            let Some(index) = KEYS.iter().position(|k| *k == key) else {
                return Err(SpecError::UnknownKey { key });
            };
            if std::mem::replace(&mut seen[index], true) {
                return Err(SpecError::Duplicate { key });
            }
            let bad = |reason: String| SpecError::BadValue {
                key: key.clone(),
                value: value.into(),
                reason,
            };
            match key.as_str() {
                "rate" => spec.rate = Some(parse_rate(value).map_err(bad)?),
                "delay" => spec.delay = parse_duration(value).map_err(bad)?,
                "jitter" => spec.jitter = parse_duration(value).map_err(bad)?,
                "reorder_delay" => spec.reorder_delay = Some(parse_duration(value).map_err(bad)?),
                "queue" => {
                    spec.queue = if value.eq_ignore_ascii_case("unlimited") {
                        usize::MAX
                    } else {
                        value.parse().map_err(|_| {
                            bad("expected a number of packets or `unlimited`".into())
                        })?
                    }
                }
                "loss" => spec.loss = parse_probability(value).map_err(bad)?,
                "burst" => {
                    let b = parse_probability(value).map_err(bad)?;
                    if b >= 1.0 {
                        return Err(bad(
                            "must be below 1 (1 would mean a loss burst that never ends)".into(),
                        ));
                    }
                    spec.burst = Some(b);
                }
                "reorder" => spec.reorder = parse_probability(value).map_err(bad)?,
                "dup" => spec.dup = parse_probability(value).map_err(bad)?,
                "corrupt" => spec.corrupt = parse_probability(value).map_err(bad)?,
                _ => unreachable!("every entry of KEYS is handled"),
            }
        }
        spec.validate()?;
        Ok(spec)
    }
}

/// Writes the text form, keys in a fixed order and only those that differ
/// from the perfect link; parsing the result gives back an equal spec
/// (durations to the microsecond).
impl fmt::Display for LinkSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &LinkSpec::PERFECT;
        let mut items: Vec<String> = Vec::new();
        if let Some(rate) = self.rate {
            items.push(format!("rate={}", format_rate(rate)));
        }
        if self.delay != d.delay {
            items.push(format!("delay={}", format_duration(self.delay)));
        }
        if self.jitter != d.jitter {
            items.push(format!("jitter={}", format_duration(self.jitter)));
        }
        if self.queue != d.queue {
            if self.queue == usize::MAX {
                items.push("queue=unlimited".into());
            } else {
                items.push(format!("queue={}", self.queue));
            }
        }
        if self.loss != d.loss {
            items.push(format!("loss={}", self.loss));
        }
        if let Some(b) = self.burst {
            items.push(format!("burst={b}"));
        }
        if self.reorder != d.reorder {
            items.push(format!("reorder={}", self.reorder));
        }
        if let Some(rd) = self.reorder_delay {
            items.push(format!("reorder_delay={}", format_duration(rd)));
        }
        if self.dup != d.dup {
            items.push(format!("dup={}", self.dup));
        }
        if self.corrupt != d.corrupt {
            items.push(format!("corrupt={}", self.corrupt));
        }
        f.write_str(&items.join(","))
    }
}
