//! Crash injection for tests of the approve → post step: arm a point and the next approval
//! that reaches it stops there as a killed process would — the commits made so far stay, the
//! steps after it never run — and from then on this service does no adjustment work at all
//! (no request, no sweep) until it is started again. A *hold* instead stops the approval
//! there for good while the process keeps running, so a test can kill -9 the real process at
//! that point. By default nothing is armed and each check is one atomic load.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::error::{Result, ServiceError};

#[derive(Debug, Default)]
pub struct AdjustmentFaults {
    /// Stop after the intent to post is committed, before the ledger is asked.
    pub crash_after_intent: AtomicU32,
    /// Stop after the ledger answered, before its answer is recorded.
    pub crash_after_post: AtomicU32,
    /// Hold every posting after its intent is committed, before the ledger is asked.
    pub hold_after_intent: AtomicBool,
    /// Hold every posting after the ledger answered, before its answer is recorded.
    pub hold_after_post: AtomicBool,
    crashed: AtomicBool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum CrashPoint {
    AfterIntent,
    AfterPost,
}

impl AdjustmentFaults {
    /// Refuses once a crash was simulated: a dead process does nothing more.
    pub(crate) fn check_alive(&self) -> Result<()> {
        if self.crashed.load(Ordering::Acquire) {
            return Err(crashed());
        }
        Ok(())
    }

    /// Simulates the crash if `point` is armed.
    pub(crate) fn at(&self, point: CrashPoint) -> Result<()> {
        self.check_alive()?;
        let armed = match point {
            CrashPoint::AfterIntent => &self.crash_after_intent,
            CrashPoint::AfterPost => &self.crash_after_post,
        };
        let fired = armed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if fired {
            self.crashed.store(true, Ordering::Release);
            tracing::error!(?point, "simulated crash in the adjustment service");
            return Err(crashed());
        }
        Ok(())
    }

    /// Never returns if a hold is armed at `point` (the process is about to be killed).
    pub(crate) async fn hold(&self, point: CrashPoint) {
        let armed = match point {
            CrashPoint::AfterIntent => &self.hold_after_intent,
            CrashPoint::AfterPost => &self.hold_after_post,
        };
        if armed.load(Ordering::Acquire) {
            tracing::warn!(?point, "adjustment posting held for a crash test");
            std::future::pending::<()>().await;
        }
    }

    /// Arms the hold named `after_intent` or `after_post` (what `paycore serve` reads from
    /// `PAYCORE_TEST_HOLD_ADJUSTMENT_POSTING`, for the kill -9 test); false for another name.
    pub fn arm_hold(&self, point: &str) -> bool {
        let armed = match point {
            "after_intent" => &self.hold_after_intent,
            "after_post" => &self.hold_after_post,
            _ => return false,
        };
        armed.store(true, Ordering::Release);
        true
    }

    pub fn crashed(&self) -> bool {
        self.crashed.load(Ordering::Acquire)
    }
}

fn crashed() -> ServiceError {
    ServiceError::Internal("simulated crash: the adjustment service stopped".into())
}
