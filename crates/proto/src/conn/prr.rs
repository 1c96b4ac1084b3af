//! Proportional Rate Reduction (RFC 6937): how much to send on each ACK
//! during fast recovery.
//!
//! Halving (or, for CUBIC, cutting by 30 %) the window at once would stop
//! sending for half a round trip and then burst; NewReno's inflation does
//! the opposite. PRR spreads the reduction over the recovery round trip:
//! while the data in flight (`pipe`, RFC 6675) is above ssthresh it sends
//! `ssthresh / RecoverFS` of what the receiver reports delivered; once
//! `pipe` falls below ssthresh (more losses than the reduction), the
//! slow-start reduction bound lets it climb back at most as fast as slow
//! start would (PRR-SSRB, §3.1), so that recovery ends with `pipe` close
//! to ssthresh.

/// PRR's state for one recovery episode (RFC 6937 §3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Prr {
    /// RecoverFS: the flight size when recovery began.
    pub recover_fs: u32,
    /// prr_delivered: bytes the receiver reported delivered (cumulatively
    /// or by SACK) since recovery began.
    pub delivered: u64,
    /// prr_out: bytes sent (new or resent) since recovery began.
    pub out: u64,
}

impl Prr {
    /// Recovery begins with `flight_size` bytes outstanding (RFC 6937
    /// §3.1: RecoverFS = snd.nxt - snd.una).
    pub fn start(flight_size: u32) -> Prr {
        Prr {
            recover_fs: flight_size.max(1),
            delivered: 0,
            out: 0,
        }
    }

    /// Bytes were sent during recovery.
    pub fn on_sent(&mut self, bytes: u32) {
        self.out = self.out.saturating_add(u64::from(bytes));
    }

    /// An ACK (or a loss detection) during recovery: `delivered` bytes
    /// newly reported delivered, `pipe` the estimate of the data in
    /// flight after it, `ssthresh` the target. Returns `sndcnt`, how many
    /// bytes may be sent now; the window is then `pipe + sndcnt`.
    ///
    /// RFC 6937 §3.1, PRR-SSRB:
    /// ```text
    /// prr_delivered += DeliveredData
    /// if pipe > ssthresh:
    ///     sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out
    /// else:
    ///     limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS
    ///     sndcnt = MIN(ssthresh - pipe, limit)
    /// ```
    /// The first call of an episode allows at least one segment, so that
    /// the first retransmission is never held back (as Linux does).
    pub fn on_ack(&mut self, delivered: u32, pipe: u32, ssthresh: u32, mss: u32) -> u32 {
        self.delivered = self.delivered.saturating_add(u64::from(delivered));
        let (pipe, ssthresh, mss) = (u64::from(pipe), u64::from(ssthresh), u64::from(mss));
        let sndcnt = if pipe > ssthresh {
            let target = (self.delivered * ssthresh).div_ceil(u64::from(self.recover_fs));
            target.saturating_sub(self.out)
        } else {
            let limit = self
                .delivered
                .saturating_sub(self.out)
                .max(u64::from(delivered))
                + mss;
            (ssthresh - pipe).min(limit)
        };
        let sndcnt = if self.out == 0 {
            sndcnt.max(mss)
        } else {
            sndcnt
        };
        sndcnt.min(u64::from(u32::MAX)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn proportional_part_sends_ssthresh_over_recoverfs_of_what_is_delivered() {
        // 20 segments in flight, one lost; ssthresh 10 (Reno's half).
        let mut p = Prr::start(20 * MSS);
        let ssthresh = 10 * MSS;
        let mut pipe = 19 * MSS;
        let mut sent = std::vec::Vec::new();
        for _ in 0..19 {
            // Each ACK SACKs one segment: pipe drops by one.
            pipe -= MSS;
            let n = p.on_ack(MSS, pipe, ssthresh, MSS);
            let segs = n / MSS;
            p.on_sent(segs * MSS);
            pipe += segs * MSS;
            sent.push(segs);
        }
        // The first ACK sends the retransmission at once; then one
        // segment every other ACK (ssthresh / RecoverFS = 1/2, RFC 6937
        // §3); when pipe reaches ssthresh, the reduction bound keeps it
        // there, one for one.
        assert_eq!(
            sent,
            [1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1]
        );
        assert_eq!(p.out, 10 * u64::from(MSS));
        // Recovery ends with pipe at ssthresh, not below.
        assert_eq!(pipe, ssthresh);
    }

    #[test]
    fn slow_start_reduction_bound_when_pipe_falls_below_ssthresh() {
        // Heavy loss: pipe far below ssthresh.
        let mut p = Prr::start(20 * MSS);
        p.on_sent(MSS);
        // 2 segments delivered, nothing sent since: MAX(2000 - 1000, 2000)
        // + MSS = 3000, less than ssthresh - pipe.
        assert_eq!(p.on_ack(2 * MSS, 2 * MSS, 10 * MSS, MSS), 3 * MSS);
        // Never beyond ssthresh.
        assert_eq!(p.on_ack(5 * MSS, 9 * MSS, 10 * MSS, MSS), MSS);
    }

    #[test]
    fn extremes_do_not_panic() {
        let mut p = Prr::start(0);
        assert_eq!(p.on_ack(u32::MAX, u32::MAX, u32::MAX, u32::MAX), u32::MAX);
        p.on_sent(u32::MAX);
        let _ = p.on_ack(0, 0, 0, 0);
    }
}
