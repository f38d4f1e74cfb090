//! Per-channel rate limits as token buckets, in integer milli-tokens: a channel allowed `r`
//! calls a second refills `r` milli-tokens per millisecond up to one second's worth.

use crate::ids::Millis;

const MILLI: u64 = 1_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    per_s: u32,
    milli_tokens: u64,
    refilled_at: Millis,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(per_s: u32, now: Millis) -> TokenBucket {
        assert!(per_s > 0);
        TokenBucket {
            per_s,
            milli_tokens: per_s as u64 * MILLI,
            refilled_at: now,
        }
    }

    pub fn per_s(&self) -> u32 {
        self.per_s
    }

    fn refill(&mut self, now: Millis) {
        let elapsed = now.saturating_sub(self.refilled_at);
        let capacity = self.per_s as u64 * MILLI;
        self.milli_tokens = capacity.min(
            self.milli_tokens
                .saturating_add(elapsed.saturating_mul(self.per_s as u64)),
        );
        self.refilled_at = self.refilled_at.max(now);
    }

    /// Whether one call fits now.
    pub fn has_token(&mut self, now: Millis) -> bool {
        self.refill(now);
        self.milli_tokens >= MILLI
    }

    /// Takes the token `has_token` saw.
    pub fn take(&mut self, now: Millis) {
        self.refill(now);
        assert!(self.milli_tokens >= MILLI, "take only after has_token");
        self.milli_tokens -= MILLI;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_rate_and_refills() {
        let mut b = TokenBucket::new(10, 0);
        for _ in 0..10 {
            assert!(b.has_token(0));
            b.take(0);
        }
        assert!(!b.has_token(0));
        assert!(!b.has_token(99));
        assert!(b.has_token(100)); // 100 ms refill one token at 10/s
        b.take(100);
        assert!(!b.has_token(100));
        assert!(b.has_token(10_000));
        for _ in 0..10 {
            b.take(10_000);
        }
        assert!(!b.has_token(10_000), "never more than one second's worth");
    }
}
