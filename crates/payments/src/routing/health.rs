//! Channel health: a channel that failed or did not answer many times in a row is rested for
//! a while, then tried again (one more failure rests it again).

use crate::ids::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Consecutive failures or unanswered calls that rest a channel; 0 never rests one.
    pub failures_max: u32,
    pub rest_ms: u64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            failures_max: 10,
            rest_ms: 30_000,
        }
    }
}

/// What one call to a channel came to, for its health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    Succeeded,
    Failed,
    NoAnswer,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    pub consecutive_failures: u32,
    pub resting_until: Option<Millis>,
}

impl Health {
    pub fn record(&mut self, outcome: CallOutcome, now: Millis, policy: HealthPolicy) {
        match outcome {
            CallOutcome::Succeeded => *self = Health::default(),
            CallOutcome::Failed | CallOutcome::NoAnswer => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                if policy.failures_max > 0 && self.consecutive_failures >= policy.failures_max {
                    self.resting_until = Some(now + policy.rest_ms);
                }
            }
        }
    }

    /// `Some(until)` while the channel rests.
    pub fn resting(&self, now: Millis) -> Option<Millis> {
        self.resting_until.filter(|until| now < *until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_a_row_rest_a_channel_and_a_success_heals_it() {
        let policy = HealthPolicy {
            failures_max: 3,
            rest_ms: 1_000,
        };
        let mut h = Health::default();
        h.record(CallOutcome::Failed, 0, policy);
        h.record(CallOutcome::NoAnswer, 0, policy);
        assert_eq!(h.resting(0), None);
        h.record(CallOutcome::Failed, 10, policy);
        assert_eq!(h.resting(500), Some(1_010));
        assert_eq!(h.resting(1_010), None, "tried again after the rest");
        h.record(CallOutcome::Failed, 1_020, policy);
        assert_eq!(
            h.resting(1_020),
            Some(2_020),
            "one more failure rests it again"
        );
        h.record(CallOutcome::Succeeded, 2_100, policy);
        assert_eq!(h, Health::default());
        let never = HealthPolicy {
            failures_max: 0,
            rest_ms: 1,
        };
        for _ in 0..100 {
            h.record(CallOutcome::Failed, 0, never);
        }
        assert_eq!(h.resting(0), None);
    }
}
