//! Errors of the ledger crate: `ErrorCode` for business rejections of a command (stable codes,
//! stored in records) and `LedgerError` for values that cannot even be built (bad ids, names).

use thiserror::Error;

/// Why the state machine rejected a command. A rejected command changes no balance; the code
/// is stored with the command's record so a retry returns it again.
///
/// The discriminants are part of the snapshot and log formats: append, never renumber.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Error)]
#[repr(u8)]
pub enum ErrorCode {
    #[error("the id was already used for a command with different content")]
    IdConflict = 1,
    #[error("account not found")]
    AccountNotFound = 2,
    #[error("account is closed")]
    AccountClosed = 3,
    #[error("account is frozen: no debits allowed")]
    AccountFrozen = 4,
    #[error("an account with this number already exists")]
    AccountExists = 5,
    #[error("currency does not match the account's currency")]
    CurrencyMismatch = 6,
    #[error("debit and credit account are the same")]
    SameAccount = 7,
    #[error("amount must be greater than zero")]
    AmountZero = 8,
    #[error("amount overflow: the result does not fit in 64-bit minor units")]
    AmountOverflow = 9,
    #[error("insufficient funds: available balance is lower than the amount")]
    InsufficientFunds = 10,
    #[error("hold not found")]
    HoldNotFound = 11,
    #[error("hold has expired")]
    HoldExpired = 12,
    #[error("hold is already fully released or captured")]
    HoldClosed = 13,
    #[error("amount exceeds the hold's remaining amount")]
    HoldAmountExceeded = 14,
    #[error("account balance or frozen amount is not zero")]
    BalanceNotZero = 15,
    #[error("another command of the linked batch failed")]
    LinkedBatchFailed = 16,
    #[error("the linked batch is not closed: its last command is marked linked")]
    LinkedChainOpen = 17,
    #[error("deposits must debit and withdrawals must credit a settlement account")]
    NotSettlementAccount = 18,
    #[error("expiry time is not in the future")]
    InvalidExpiry = 19,
    #[error("day-end date is not the current accounting date")]
    DayEndDateMismatch = 20,
    #[error("this command cannot be part of a linked batch")]
    NotLinkable = 21,
    #[error("hot account options: flush interval 1 ms to 60 s, at least one entry per flush")]
    InvalidHotOptions = 22,
    #[error("not allowed on this account: it is split into sub-accounts, or buffered")]
    SplitNotAllowed = 23,
    #[error(
        "split: 2 to 64 sub-accounts, and <number>-S<k> must fit in 32 characters and be free"
    )]
    InvalidSplit = 24,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 24] = [
        ErrorCode::IdConflict,
        ErrorCode::AccountNotFound,
        ErrorCode::AccountClosed,
        ErrorCode::AccountFrozen,
        ErrorCode::AccountExists,
        ErrorCode::CurrencyMismatch,
        ErrorCode::SameAccount,
        ErrorCode::AmountZero,
        ErrorCode::AmountOverflow,
        ErrorCode::InsufficientFunds,
        ErrorCode::HoldNotFound,
        ErrorCode::HoldExpired,
        ErrorCode::HoldClosed,
        ErrorCode::HoldAmountExceeded,
        ErrorCode::BalanceNotZero,
        ErrorCode::LinkedBatchFailed,
        ErrorCode::LinkedChainOpen,
        ErrorCode::NotSettlementAccount,
        ErrorCode::InvalidExpiry,
        ErrorCode::DayEndDateMismatch,
        ErrorCode::NotLinkable,
        ErrorCode::InvalidHotOptions,
        ErrorCode::SplitNotAllowed,
        ErrorCode::InvalidSplit,
    ];

    /// The stable machine code used by the API, the CLI and the docs.
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::IdConflict => "id_conflict",
            ErrorCode::AccountNotFound => "account_not_found",
            ErrorCode::AccountClosed => "account_closed",
            ErrorCode::AccountFrozen => "account_frozen",
            ErrorCode::AccountExists => "account_exists",
            ErrorCode::CurrencyMismatch => "currency_mismatch",
            ErrorCode::SameAccount => "same_account",
            ErrorCode::AmountZero => "amount_zero",
            ErrorCode::AmountOverflow => "amount_overflow",
            ErrorCode::InsufficientFunds => "insufficient_funds",
            ErrorCode::HoldNotFound => "hold_not_found",
            ErrorCode::HoldExpired => "hold_expired",
            ErrorCode::HoldClosed => "hold_closed",
            ErrorCode::HoldAmountExceeded => "hold_amount_exceeded",
            ErrorCode::BalanceNotZero => "balance_not_zero",
            ErrorCode::LinkedBatchFailed => "linked_batch_failed",
            ErrorCode::LinkedChainOpen => "linked_chain_open",
            ErrorCode::NotSettlementAccount => "not_settlement_account",
            ErrorCode::InvalidExpiry => "invalid_expiry",
            ErrorCode::DayEndDateMismatch => "day_end_date_mismatch",
            ErrorCode::NotLinkable => "not_linkable",
            ErrorCode::InvalidHotOptions => "invalid_hot_options",
            ErrorCode::SplitNotAllowed => "split_not_allowed",
            ErrorCode::InvalidSplit => "invalid_split",
        }
    }

    pub fn from_u8(value: u8) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|code| *code as u8 == value)
    }
}

/// A value refused before it could become part of a command.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LedgerError {
    #[error("invalid id {0:?}: 1 to 64 bytes of printable text")]
    InvalidClientId(String),
    #[error("invalid account number {0:?}: 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'")]
    InvalidAccountNo(String),
    #[error("invalid reference {0:?}: at most 64 bytes of printable text")]
    InvalidReference(String),
    #[error("invalid operator {0:?}: 1 to 32 bytes of printable text")]
    InvalidOperator(String),
}

impl LedgerError {
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::InvalidClientId(_) => "invalid_id",
            LedgerError::InvalidAccountNo(_) => "invalid_account_no",
            LedgerError::InvalidReference(_) => "invalid_reference",
            LedgerError::InvalidOperator(_) => "invalid_operator",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(ErrorCode::from_u8(*code as u8), Some(*code));
            for other in &ErrorCode::ALL[i + 1..] {
                assert_ne!(code.code(), other.code());
            }
        }
        assert_eq!(ErrorCode::from_u8(0), None);
    }
}
