//! Why an adjustment request was refused: one enum with a stable machine code per case and a
//! kind the HTTP edge maps to a status, once.

use thiserror::Error;

/// What sort of refusal an error is; the server turns it into 400, 403, 404, 409 or 422.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed (400).
    Invalid,
    /// The person may not do this (403).
    Forbidden,
    /// The adjustment does not exist (404).
    NotFound,
    /// It conflicts with the adjustment's state (409).
    Conflict,
    /// The ledger refuses it (422).
    Unprocessable,
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AdjustError {
    #[error("field `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("adjustment {0:?} not found")]
    NotFound(String),
    #[error("the id {0:?} was already used for an adjustment with different content")]
    IdConflict(String),
    /// Maker-checker (双人复核): the maker may not approve, nor anyone twice.
    #[error("maker-checker: {0}")]
    MakerChecker(String),
    #[error("adjustment {id:?} expired at {expires_at} ms without enough approvals")]
    Expired { id: String, expires_at: u64 },
    #[error("adjustment {id:?} is {status}: it can no longer be approved or rejected")]
    NotPending { id: String, status: &'static str },
    #[error("adjustment {0:?} was refused by the ledger too many times; create a new one")]
    AttemptsExhausted(String),
    /// The ledger refuses the posting (or would: the accounts as they are now), with its code.
    #[error("the ledger refuses the adjustment: {code}: {message}")]
    Ledger { code: &'static str, message: String },
}

impl AdjustError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> AdjustError {
        AdjustError::InvalidField {
            field,
            reason: reason.into(),
        }
    }

    /// The stable machine code used by the API, the CLI and the docs.
    pub fn code(&self) -> &'static str {
        match self {
            AdjustError::InvalidField { .. } => "invalid_field",
            AdjustError::NotFound(_) => "adjustment_not_found",
            AdjustError::IdConflict(_) => "id_conflict",
            AdjustError::MakerChecker(_) => "maker_checker_violation",
            AdjustError::Expired { .. } => "adjustment_expired",
            AdjustError::NotPending { .. } => "adjustment_not_pending",
            AdjustError::AttemptsExhausted(_) => "posting_attempts_exhausted",
            AdjustError::Ledger { code, .. } => code,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            AdjustError::InvalidField { .. } => ErrorKind::Invalid,
            AdjustError::MakerChecker(_) => ErrorKind::Forbidden,
            AdjustError::NotFound(_) => ErrorKind::NotFound,
            AdjustError::IdConflict(_)
            | AdjustError::Expired { .. }
            | AdjustError::NotPending { .. }
            | AdjustError::AttemptsExhausted(_) => ErrorKind::Conflict,
            AdjustError::Ledger { .. } => ErrorKind::Unprocessable,
        }
    }
}
