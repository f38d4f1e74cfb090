//! The accounts a cross-shard transfer passes through and the ledger ids of its steps. Both
//! are derived, never stored: any coordinator recomputes them from the intent alone.

use crate::plan::StepKind;

/// Every step id starts with this, so a client cannot take one (the router refuses such ids).
pub const ID_PREFIX: &str = "xs:";
/// Step ids are `xs:<letter>:<client id>` and ledger ids are at most 64 bytes.
pub const CLIENT_ID_MAX: usize = 64 - ID_PREFIX.len() - 2;
/// Account numbers are at most 32 bytes: `XT-` + shard + `-` + a 3-letter currency.
pub const SHARD_NAME_MAX: usize = 32 - 3 - 1 - 3;
/// The prefixes of the accounts the coordinator opens on every shard.
pub const ACCOUNT_PREFIXES: [&str; 2] = ["XT-", "XD-"];

/// On the source shard: money in flight toward `target` (type transit, never negative).
pub fn transit_account(target: &str, currency: &str) -> String {
    format!("XT-{target}-{currency}")
}

/// On each shard: its position with `peer` (type internal, may go negative). The pair
/// `XD-<b>` on shard a and `XD-<a>` on shard b sums to zero when nothing is in flight.
pub fn due_account(peer: &str, currency: &str) -> String {
    format!("XD-{peer}-{currency}")
}

/// The ledger id of one step of the transfer the client called `id`.
pub fn step_id(kind: StepKind, id: &str) -> String {
    let letter = match kind {
        StepKind::Debit => 'd',
        StepKind::Credit => 'c',
        StepKind::Settle => 's',
        StepKind::Compensate => 'k',
    };
    format!("{ID_PREFIX}{letter}:{id}")
}

pub fn is_reserved_id(id: &str) -> bool {
    id.starts_with(ID_PREFIX)
}

pub fn is_reserved_account(account_no: &str) -> bool {
    ACCOUNT_PREFIXES.iter().any(|p| account_no.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_fit_the_ledger_limits() {
        let shard = "s".repeat(SHARD_NAME_MAX);
        assert_eq!(transit_account(&shard, "CNY").len(), 32);
        assert_eq!(due_account(&shard, "CNY").len(), 32);
        let id = "i".repeat(CLIENT_ID_MAX);
        for kind in [
            StepKind::Debit,
            StepKind::Credit,
            StepKind::Settle,
            StepKind::Compensate,
        ] {
            let step = step_id(kind, &id);
            assert_eq!(step.len(), 64);
            assert!(is_reserved_id(&step));
        }
        assert!(is_reserved_account("XT-s2-CNY") && is_reserved_account("XD-s1-USD"));
        assert!(!is_reserved_account("X-1") && !is_reserved_id("x:1"));
    }
}
