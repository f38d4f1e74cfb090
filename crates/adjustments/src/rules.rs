//! The maker-checker rules (双人复核): who may approve, how many approvals an amount needs,
//! how long a proposal waits.

use crate::error::AdjustError;
use crate::history::Approval;
use crate::limits::APPROVALS_MAX;

/// The operator of what the system does by itself: expiry, and postings finished after a
/// restart. No person may be called that.
pub const SYSTEM_OPERATOR: &str = "system";

/// 72 hours.
pub const TTL_MS_DEFAULT: u64 = 72 * 3_600_000;
/// 1,000,000.00 in a currency with two decimals.
pub const DUAL_APPROVAL_ABOVE_DEFAULT: u64 = 100_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How long a proposal waits for its approvals.
    pub ttl_ms: u64,
    /// Amounts above this (minor units, any currency) need two approvers besides the maker.
    pub dual_approval_above: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            ttl_ms: TTL_MS_DEFAULT,
            dual_approval_above: DUAL_APPROVAL_ABOVE_DEFAULT,
        }
    }
}

impl Policy {
    pub fn approvals_required(&self, amount: u64) -> u8 {
        let required = if amount > self.dual_approval_above {
            2
        } else {
            1
        };
        debug_assert!(required <= APPROVALS_MAX);
        required
    }
}

/// Whether two operator names name the same person: compared trimmed and case-folded, so
/// `Alice` and `alice ` cannot approve each other's adjustments.
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// A person may approve unless they made the adjustment or already approved it.
pub fn check_checker(
    maker: &str,
    approvals: &[Approval],
    checker: &str,
) -> Result<(), AdjustError> {
    if same_person(maker, checker) {
        return Err(AdjustError::MakerChecker(format!(
            "{checker} made this adjustment; another person must approve it (with any of their keys, the maker cannot)"
        )));
    }
    if approvals.iter().any(|a| same_person(&a.operator, checker)) {
        return Err(AdjustError::MakerChecker(format!(
            "{checker} already approved this adjustment; the second approval must come from a third person"
        )));
    }
    Ok(())
}

/// Names people use; `system` is the system's own.
pub fn check_person(name: &str) -> Result<(), AdjustError> {
    crate::limits::check_operator(name)?;
    if same_person(name, SYSTEM_OPERATOR) {
        return Err(AdjustError::invalid(
            "operator",
            "`system` is reserved for what paycore does by itself",
        ));
    }
    Ok(())
}
