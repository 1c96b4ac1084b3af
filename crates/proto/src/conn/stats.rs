//! A connection's counters: [`Stats`] as users see them (64-bit, like
//! `tcp_info`), and the [`Counters`] the connection keeps, narrower where
//! the count is of rare events.
//!
//! Every connection carries its counters, idle or not. Segment and byte
//! counts keep 64 bits: a fast connection passes 2^32 segments in an hour.
//! Counts of retransmissions, recoveries, probes, duplicate ACKs and
//! dropped segments are [`Count`]s of 32 bits (Linux's `tcp_sock` keeps
//! `total_retrans` and the like in 32 bits too), which stop at `u32::MAX`
//! rather than wrap.

use core::cmp::Ordering;
use core::ops::AddAssign;

/// Counters over the connection's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Segments sent.
    pub segs_out: u64,
    /// Segments received.
    pub segs_in: u64,
    /// Segments taken by header prediction (the receive fast path).
    pub fast_path_in: u64,
    /// Data bytes sent, retransmissions included.
    pub bytes_out: u64,
    /// Data bytes delivered in order.
    pub bytes_in: u64,
    /// Segments retransmitted after a timeout.
    pub rto_retransmits: u64,
    /// Segments retransmitted on duplicate ACKs (RFC 5681 §3.2, RFC 6582)
    /// or by RFC 6675's DupThresh rule.
    pub fast_retransmits: u64,
    /// Segments retransmitted because RACK deemed them lost (RFC 8985).
    pub rack_retransmits: u64,
    /// Tail loss probes sent (RFC 8985 §7), of new data or not.
    pub loss_probes: u64,
    /// Every segment sent again, whatever the reason (SYNs and loss
    /// probes that resent data included).
    pub retransmits: u64,
    /// Fast recoveries entered.
    pub recoveries: u64,
    /// Window reductions undone as spurious (D-SACK, Eifel, F-RTO).
    pub spurious_undos: u64,
    /// D-SACK blocks received (RFC 2883): data the peer got twice.
    pub dsacks_in: u64,
    /// D-SACK blocks sent.
    pub dsacks_out: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// Duplicate ACKs received.
    pub dupacks_in: u64,
    /// Challenge ACKs sent (RFC 5961).
    pub challenge_acks: u64,
    /// Duplicate ACKs not sent in answer to data-less unacceptable
    /// segments, because one went out less than
    /// [`Config::invalid_ack_interval`](super::Config::invalid_ack_interval)
    /// before.
    pub oow_acks_skipped: u64,
    /// Segments dropped as unacceptable.
    pub unacceptable_in: u64,
    /// Window probes sent.
    pub window_probes: u64,
    /// The largest congestion window reached.
    pub max_cwnd: u32,
}

/// What a connection counts; see the [module docs](self). The field names
/// are those of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub segs_out: u64,
    pub segs_in: u64,
    pub fast_path_in: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub rto_retransmits: Count,
    pub fast_retransmits: Count,
    pub rack_retransmits: Count,
    pub loss_probes: Count,
    pub retransmits: Count,
    pub recoveries: Count,
    pub spurious_undos: Count,
    pub dsacks_in: Count,
    pub dsacks_out: Count,
    pub timeouts: Count,
    pub dupacks_in: Count,
    pub challenge_acks: Count,
    pub oow_acks_skipped: Count,
    pub unacceptable_in: Count,
    pub window_probes: Count,
    pub max_cwnd: u32,
}

impl Counters {
    /// The counters as users see them.
    pub fn to_stats(self) -> Stats {
        Stats {
            segs_out: self.segs_out,
            segs_in: self.segs_in,
            fast_path_in: self.fast_path_in,
            bytes_out: self.bytes_out,
            bytes_in: self.bytes_in,
            rto_retransmits: self.rto_retransmits.into(),
            fast_retransmits: self.fast_retransmits.into(),
            rack_retransmits: self.rack_retransmits.into(),
            loss_probes: self.loss_probes.into(),
            retransmits: self.retransmits.into(),
            recoveries: self.recoveries.into(),
            spurious_undos: self.spurious_undos.into(),
            dsacks_in: self.dsacks_in.into(),
            dsacks_out: self.dsacks_out.into(),
            timeouts: self.timeouts.into(),
            dupacks_in: self.dupacks_in.into(),
            challenge_acks: self.challenge_acks.into(),
            oow_acks_skipped: self.oow_acks_skipped.into(),
            unacceptable_in: self.unacceptable_in.into(),
            window_probes: self.window_probes.into(),
            max_cwnd: self.max_cwnd,
        }
    }
}

/// A 32-bit count of rare events that saturates instead of wrapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Count(u32);

impl Count {
    /// The count after `n` more.
    pub fn saturating_add(self, n: u32) -> Count {
        Count(self.0.saturating_add(n))
    }
}

impl AddAssign<u32> for Count {
    fn add_assign(&mut self, n: u32) {
        *self = self.saturating_add(n);
    }
}

impl PartialEq<u32> for Count {
    fn eq(&self, other: &u32) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<u32> for Count {
    fn partial_cmp(&self, other: &u32) -> Option<Ordering> {
        Some(self.0.cmp(other))
    }
}

impl From<Count> for u64 {
    fn from(c: Count) -> u64 {
        u64::from(c.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_saturate_and_convert() {
        let mut c = Counters::default();
        c.timeouts += 1;
        c.retransmits = c.retransmits.saturating_add(2);
        assert!(c.timeouts > 0);
        assert_eq!(c.to_stats().retransmits, 2);
        c.dupacks_in = Count(u32::MAX);
        c.dupacks_in += 1;
        assert_eq!(c.to_stats().dupacks_in, u64::from(u32::MAX));
    }
}
