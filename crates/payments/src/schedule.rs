//! When the resolver asks a bank again about an order whose outcome is not known: soon at
//! first, then less and less often, never giving up (only the bank's word ends it).

use crate::ids::Millis;

/// Delays between status queries; the last repeats forever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuerySchedule {
    pub delays_ms: Vec<u64>,
}

impl Default for QuerySchedule {
    fn default() -> Self {
        QuerySchedule {
            delays_ms: vec![
                1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000,
            ],
        }
    }
}

impl QuerySchedule {
    /// When to ask next, after `queries` queries so far.
    pub fn next_after(&self, queries: u32, now: Millis) -> Millis {
        assert!(!self.delays_ms.is_empty());
        let index = (queries as usize).min(self.delays_ms.len() - 1);
        now + self.delays_ms[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_backs_off_and_never_ends() {
        let s = QuerySchedule::default();
        assert_eq!(s.next_after(0, 10), 1_010);
        assert_eq!(s.next_after(3, 0), 10_000);
        assert_eq!(s.next_after(8, 0), 600_000);
        assert_eq!(s.next_after(1_000_000, 0), 600_000);
    }
}
