//! The one error type of the money crate, with stable machine codes.

use thiserror::Error;

/// Why a currency code or an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("unknown currency {0:?}: expected an ISO 4217 code such as CNY, USD or JPY")]
    UnknownCurrency(String),
    #[error("amount is empty")]
    Empty,
    #[error("invalid amount {0:?}: expected digits with an optional decimal point, e.g. 1005.30")]
    InvalidFormat(String),
    #[error("amount {text:?} has too many decimal places: {currency} allows {scale}")]
    TooManyDecimals {
        text: String,
        currency: String,
        scale: u8,
    },
    #[error("amount {0:?} is negative, which is not allowed here")]
    Negative(String),
    #[error("amount overflow: the result does not fit in 64-bit minor units")]
    Overflow,
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch { left: String, right: String },
}

impl MoneyError {
    /// Stable machine code, shared with the API's error codes.
    pub fn code(&self) -> &'static str {
        match self {
            MoneyError::UnknownCurrency(_) => "unknown_currency",
            MoneyError::Empty | MoneyError::InvalidFormat(_) => "amount_invalid",
            MoneyError::TooManyDecimals { .. } => "amount_too_many_decimals",
            MoneyError::Negative(_) => "amount_negative",
            MoneyError::Overflow => "amount_overflow",
            MoneyError::CurrencyMismatch { .. } => "currency_mismatch",
        }
    }
}
