//! The clock of the single-threaded rows: CPU time of the running thread.
//!
//! Rows 1–3 run both endpoints in this one thread, so on an idle machine
//! its CPU time equals the wall time. On a shared machine (CI runners, the
//! 2-core boxes these figures come from) wall time also counts the time
//! the thread sat descheduled behind other processes, which hits whichever
//! stack happened to run at the wrong moment; thread CPU time does not, so
//! the ratios between stacks stay meaningful. Rows that involve other
//! threads or the kernel (the kernel churn rival, TUN) keep wall time.

use std::time::Duration;

use crate::sys::thread_cpu_time;

/// A stopwatch on this thread's CPU time.
#[derive(Debug, Clone, Copy)]
pub struct CpuClock(Duration);

impl CpuClock {
    /// Starts counting now.
    pub fn start() -> CpuClock {
        CpuClock(thread_cpu_time())
    }

    /// CPU seconds used by this thread since `start` (never zero, so that
    /// rates stay finite).
    pub fn secs(&self) -> f64 {
        (thread_cpu_time().saturating_sub(self.0))
            .as_secs_f64()
            .max(1e-9)
    }
}
