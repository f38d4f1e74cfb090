//! The bounds of every field, checked at the domain's edge: ids safe in URLs and in the
//! ledger ids derived from them, account numbers as the ledger writes them, short printable
//! texts.

use crate::error::AdjustError;

/// Adjustment ids: the ledger ids derived from them (`adjustment:<id>:<attempt>`) must fit the
/// ledger's 64 bytes.
pub const ID_BYTES_MAX: usize = 48;
/// The ledger's account numbers.
pub const ACCOUNT_NO_BYTES_MAX: usize = 32;
/// Reconciliation exception ids (差错).
pub const EXCEPTION_ID_BYTES_MAX: usize = 64;
/// Operators: the ledger's `opened_by` holds 32 bytes.
pub const OPERATOR_BYTES_MAX: usize = 32;
pub const REASON_BYTES_MAX: usize = 512;
pub const COMMENT_BYTES_MAX: usize = 512;
/// Evidence: a ticket number, a document reference or a URL.
pub const EVIDENCE_BYTES_MAX: usize = 1024;
/// Postings the ledger may refuse before the adjustment must be proposed again: the attempt
/// number is part of the ledger id (`:99` is three bytes).
pub const POST_ATTEMPTS_MAX: u32 = 99;
/// Approvals an adjustment can need (one, or two above the threshold).
pub const APPROVALS_MAX: u8 = 2;

const _: () = assert!("adjustment:".len() + ID_BYTES_MAX + ":99".len() <= 64);

/// `[A-Za-z0-9_.:-]`, 1 to `max` bytes.
pub fn check_id(field: &'static str, id: &str, max: usize) -> Result<(), AdjustError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':');
    if id.is_empty() || id.len() > max || !id.bytes().all(allowed) {
        return Err(AdjustError::invalid(
            field,
            format!("1 to {max} characters of A-Z a-z 0-9 _ - . :"),
        ));
    }
    Ok(())
}

/// The ledger's account number rule: 1–32 characters of `[A-Za-z0-9_-]`.
pub fn check_account(field: &'static str, number: &str) -> Result<(), AdjustError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    if number.is_empty() || number.len() > ACCOUNT_NO_BYTES_MAX || !number.bytes().all(allowed) {
        return Err(AdjustError::invalid(
            field,
            "an account number: 1 to 32 characters of A-Z a-z 0-9 _ -",
        ));
    }
    Ok(())
}

/// Printable text of at most `max` bytes; `required` refuses empty (or blank) text.
pub fn check_text(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<(), AdjustError> {
    if required && text.trim().is_empty() {
        return Err(AdjustError::invalid(field, "required, and not blank"));
    }
    if text.len() > max || text.chars().any(char::is_control) {
        return Err(AdjustError::invalid(
            field,
            format!("at most {max} bytes of printable text"),
        ));
    }
    Ok(())
}

/// A positive amount in minor units that fits the ledger's signed balances.
pub fn check_amount(amount: u64) -> Result<(), AdjustError> {
    if amount == 0 || amount > i64::MAX as u64 {
        return Err(AdjustError::invalid(
            "amount",
            "a positive integer in minor units, at most 9223372036854775807",
        ));
    }
    Ok(())
}

/// An operator's name: 1–32 bytes of printable text, not blank.
pub fn check_operator(name: &str) -> Result<(), AdjustError> {
    check_text("operator", name, OPERATOR_BYTES_MAX, true)
}
