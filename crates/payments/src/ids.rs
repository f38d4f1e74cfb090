//! Identifiers and their limits, checked at the edge of the domain: every id a client sends
//! is bounded and made of characters that are safe in URLs, ledger ids and statement files.

use crate::error::PayError;

/// Milliseconds since the Unix epoch. The domain never reads a clock: callers pass it in.
pub type Millis = u64;

/// Merchant ids: their ledger account `M-<id>` must fit the ledger's 32 characters.
pub const MERCHANT_ID_BYTES_MAX: usize = 28;
/// Channel ids: their clearing account `CLR-<id>-<currency>` must fit 32 characters.
pub const CHANNEL_ID_BYTES_MAX: usize = 24;
/// Client ids of payments, refunds and payouts: the ledger ids derived from them
/// (`payment:<id>`, `payout-capture:<id>`…) must fit the ledger's 64 bytes.
pub const ORDER_ID_BYTES_MAX: usize = 48;
/// A merchant's own order number (商户订单号).
pub const MERCHANT_ORDER_NO_BYTES_MAX: usize = 64;
pub const NAME_BYTES_MAX: usize = 128;
pub const SUBJECT_BYTES_MAX: usize = 256;
pub const URL_BYTES_MAX: usize = 512;
pub const SECRET_BYTES_MAX: usize = 256;
pub const CALLBACK_HOSTS_MAX: usize = 32;
/// The longest host name DNS allows.
pub const HOST_BYTES_MAX: usize = 253;
/// Ten thousand basis points are 100%.
pub const FEE_RATE_BP_MAX: u32 = 10_000;
pub const WEIGHT_MAX: u32 = 1_000_000;

/// `[A-Za-z0-9_-]`, 1 to `max` bytes: ids that appear inside ledger account numbers.
pub fn check_account_safe_id(field: &'static str, id: &str, max: usize) -> Result<(), PayError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    if id.is_empty() || id.len() > max || !id.bytes().all(allowed) {
        return Err(PayError::invalid(
            field,
            format!("1 to {max} characters of A-Z a-z 0-9 _ -"),
        ));
    }
    Ok(())
}

/// `[A-Za-z0-9_.:-]`, 1 to `max` bytes: client ids and order numbers.
pub fn check_order_id(field: &'static str, id: &str, max: usize) -> Result<(), PayError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':');
    if id.is_empty() || id.len() > max || !id.bytes().all(allowed) {
        return Err(PayError::invalid(
            field,
            format!("1 to {max} characters of A-Z a-z 0-9 _ - . :"),
        ));
    }
    Ok(())
}

/// Printable text of at most `max` bytes (names, subjects); `required` refuses empty text.
pub fn check_text(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<(), PayError> {
    if required && text.trim().is_empty() {
        return Err(PayError::invalid(field, "must not be empty"));
    }
    if text.len() > max || text.chars().any(char::is_control) {
        return Err(PayError::invalid(
            field,
            format!("at most {max} bytes of printable text"),
        ));
    }
    Ok(())
}

/// A positive amount in minor units that fits the ledger's signed balances.
/// The largest amount in minor units: amounts are stored and summed as signed 64-bit.
pub const AMOUNT_MAX: u64 = i64::MAX as u64;

pub fn check_amount(field: &'static str, amount: u64) -> Result<(), PayError> {
    if amount == 0 || amount > AMOUNT_MAX {
        return Err(PayError::invalid(
            field,
            "a positive integer in minor units, at most 9223372036854775807",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bounded_and_safe() {
        assert!(check_account_safe_id("id", "shop-1_A", 28).is_ok());
        for bad in ["", "a b", "a:b", "é", &"x".repeat(29)] {
            assert_eq!(
                check_account_safe_id("id", bad, 28).unwrap_err().code(),
                "invalid_field"
            );
        }
        assert!(check_order_id("id", "pay:2026.1-a_b", 48).is_ok());
        assert!(check_order_id("id", "pay/1", 48).is_err());
        assert!(check_order_id("id", &"x".repeat(49), 48).is_err());
        assert!(check_text("name", "", 10, true).is_err());
        assert!(check_text("name", "", 10, false).is_ok());
        assert!(check_text("name", "a\nb", 10, true).is_err());
        assert!(check_amount("amount", 0).is_err());
        assert!(check_amount("amount", 1 << 63).is_err());
        assert!(check_amount("amount", (1 << 63) - 1).is_ok());
    }
}
