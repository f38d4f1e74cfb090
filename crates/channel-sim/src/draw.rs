//! Deterministic draws: every random choice about an order is a hash of (seed, channel id,
//! order number, purpose), so the same seed gives the same outcomes whatever the order of
//! arrival.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::config::ChannelConfig;

/// What happens to a new order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawn {
    Success,
    Fail,
    /// The request is held past the caller's patience; the order still gets this outcome.
    Timeout {
        succeeds: bool,
    },
}

impl Drawn {
    /// Whether the order's real outcome is a success.
    pub fn succeeds(self) -> bool {
        match self {
            Drawn::Success => true,
            Drawn::Fail => false,
            Drawn::Timeout { succeeds } => succeeds,
        }
    }
}

const OUTCOME: u8 = 1;
const TIMEOUT_OUTCOME: u8 = 2;
const DUPLICATE: u8 = 3;
const BANK_REF: u8 = 4;

fn roll(seed: u64, channel_id: &str, order_no: &str, purpose: u8) -> u64 {
    let mut key = Vec::with_capacity(channel_id.len() + order_no.len() + 2);
    key.extend_from_slice(channel_id.as_bytes());
    key.push(0);
    key.extend_from_slice(order_no.as_bytes());
    key.push(purpose);
    xxh3_64_with_seed(&key, seed)
}

/// The outcome of order `order_no`: r in [0, 100) below success_pct succeeds, below
/// success + fail fails, else times out with a real outcome drawn success:fail in proportion
/// (a success when both are 0).
pub fn outcome(seed: u64, channel_id: &str, order_no: &str, config: &ChannelConfig) -> Drawn {
    let (success, fail) = (u64::from(config.success_pct), u64::from(config.fail_pct));
    let r = roll(seed, channel_id, order_no, OUTCOME) % 100;
    if r < success {
        return Drawn::Success;
    }
    if r < success + fail {
        return Drawn::Fail;
    }
    let succeeds = success + fail == 0
        || roll(seed, channel_id, order_no, TIMEOUT_OUTCOME) % (success + fail) < success;
    Drawn::Timeout { succeeds }
}

/// Whether the order's callback is sent twice.
pub fn duplicate(seed: u64, channel_id: &str, order_no: &str, pct: u8) -> bool {
    roll(seed, channel_id, order_no, DUPLICATE) % 100 < u64::from(pct)
}

/// The bank's reference of the order.
pub fn bank_ref(seed: u64, channel_id: &str, order_no: &str) -> String {
    format!("SIM{:016X}", roll(seed, channel_id, order_no, BANK_REF))
}

#[cfg(test)]
mod tests {
    use paycore_channels::{Protocol, SigningSecret};

    use super::*;
    use crate::config::CallbackMode;

    fn config(success_pct: u8, fail_pct: u8, timeout_pct: u8) -> ChannelConfig {
        ChannelConfig {
            protocol: Protocol::SimForm,
            secret: SigningSecret::new("k"),
            success_pct,
            fail_pct,
            timeout_pct,
            latency_ms: 0,
            timeout_hold_ms: 0,
            callback: CallbackMode::None,
            callback_delay_ms: 0,
            duplicate_callback_pct: 0,
            callback_retry_base_ms: 1,
        }
    }

    fn counts(seed: u64, config: &ChannelConfig) -> [u32; 4] {
        let mut counts = [0; 4];
        for i in 0..10_000 {
            let index = match outcome(seed, "c1", &format!("P{i}"), config) {
                Drawn::Success => 0,
                Drawn::Fail => 1,
                Drawn::Timeout { succeeds: true } => 2,
                Drawn::Timeout { succeeds: false } => 3,
            };
            counts[index] += 1;
        }
        counts
    }

    #[test]
    fn draws_follow_the_percentages() {
        let [s, f, ts, tf] = counts(7, &config(60, 30, 10));
        assert!((5_800..6_200).contains(&s), "{s}");
        assert!((2_800..3_200).contains(&f), "{f}");
        assert!((800..1_200).contains(&(ts + tf)), "{ts} {tf}");
        // Timeouts resolve 60:30, i.e. two in three succeed.
        assert!(ts > tf, "{ts} {tf}");
        assert_eq!(counts(7, &config(100, 0, 0)), [10_000, 0, 0, 0]);
        assert_eq!(counts(7, &config(0, 0, 100))[2], 10_000);
        assert_eq!(counts(7, &config(0, 100, 0))[1], 10_000);
    }

    #[test]
    fn draws_depend_on_seed_channel_and_number_only() {
        let config = config(50, 50, 0);
        let first: Vec<Drawn> = (0..100)
            .map(|i| outcome(1, "c", &format!("P{i}"), &config))
            .collect();
        let again: Vec<Drawn> = (0..100)
            .rev()
            .map(|i| outcome(1, "c", &format!("P{i}"), &config))
            .collect();
        assert_eq!(first, again.into_iter().rev().collect::<Vec<_>>());
        let other_seed: Vec<Drawn> = (0..100)
            .map(|i| outcome(2, "c", &format!("P{i}"), &config))
            .collect();
        assert_ne!(first, other_seed);
        assert_eq!(bank_ref(1, "c", "P1"), bank_ref(1, "c", "P1"));
        assert_ne!(bank_ref(1, "c", "P1"), bank_ref(1, "d", "P1"));
        assert!(!duplicate(1, "c", "P1", 0));
        assert!(duplicate(1, "c", "P1", 100));
    }
}
