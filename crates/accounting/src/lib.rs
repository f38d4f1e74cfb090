//! Accounting (会计): the company's double-entry general ledger over a chart of accounts, fed
//! asynchronously from the committed ledger log, with its own storage and reports.
//!
//! - `chart`: the chart of accounts (three levels) and the default chart.
//! - `rules`: posting rules (ledger transaction → voucher lines) and control accounts.
//! - `voucher`: vouchers, their balance rule, numbering and red-letter reversal.
//! - `posting`: followed ledger batches → vouchers, exceptions, sub-ledger movements (pure).
//! - `db`: SQLite storage and the one write path (`Posting`).
//! - `feed`: the thread following the log and acknowledging by position.
//! - `reports`: trial balance, GL vs sub-ledger check, reserve-fund report (pure).
//! - `books`: the service the API and CLI use.

pub mod books;
pub mod chart;
pub mod dates;
pub mod db;
pub mod feed;
pub mod posting;
pub mod reports;
pub mod rules;
pub mod voucher;

pub use books::{
    Books, ClosedPeriod, GlCheck, ManualVoucher, NewGlAccount, ReserveReport, TrialBalance,
    VoucherQuery, VOUCHER_ID_BYTES_MAX,
};
pub use chart::{Chart, Class, GlAccount, Side};
pub use feed::{Feed, FeedStatus};
pub use paycore_engine::DurableSequence;
pub use posting::Exception;
pub use rules::{Rules, RulesError};
pub use voucher::{Source, Voucher, VoucherLine};

/// The chart and rules in force; replaced whole when either changes.
#[derive(Clone, Debug)]
pub struct Config {
    pub chart: Chart,
    pub rules: Rules,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountingError {
    #[error("accounting storage: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("accounting storage migration: {0}")]
    Migration(#[from] refinery::Error),
    #[error(transparent)]
    Engine(#[from] paycore_engine::EngineError),
    #[error("accounting files: {0}")]
    Io(#[from] std::io::Error),
    #[error("accounting storage holds an invalid {0}")]
    Corrupt(&'static str),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error("voucher does not balance: debits must equal credits, with lines on both sides")]
    Unbalanced,
    #[error("{0}")]
    InvalidVoucher(String),
    #[error("{0}")]
    InvalidAccount(String),
    #[error("account {0} already exists")]
    AccountExists(String),
    #[error("account {0} is in use (posted to, has sub-accounts or is named by the rules); disable it instead")]
    AccountInUse(String),
    #[error("account {0} is not in the chart")]
    AccountNotFound(String),
    #[error("voucher {0} not found")]
    VoucherNotFound(String),
    #[error("voucher {0} was already reversed")]
    AlreadyReversed(String),
    #[error("id {0} was used for a different voucher")]
    IdConflict(String),
    #[error("period {0} is closed")]
    PeriodClosed(String),
    #[error("period {period} cannot close yet: {reason}")]
    PeriodNotEnded { period: String, reason: String },
    #[error("{0}")]
    InvalidDate(String),
}

/// The stable machine codes of accounting's errors, as the API reports them. The server maps
/// each to its HTTP status once, exhaustively, so a new code cannot go out unmapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// Storage, files or the engine failed: not the caller's doing.
    Internal,
    InvalidRules,
    VoucherUnbalanced,
    InvalidVoucher,
    InvalidGlAccount,
    GlAccountExists,
    GlAccountInUse,
    GlAccountNotFound,
    VoucherNotFound,
    VoucherAlreadyReversed,
    IdConflict,
    PeriodClosed,
    PeriodNotEnded,
    InvalidDate,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Internal => "internal",
            InvalidRules => "invalid_rules",
            VoucherUnbalanced => "voucher_unbalanced",
            InvalidVoucher => "invalid_voucher",
            InvalidGlAccount => "invalid_gl_account",
            GlAccountExists => "gl_account_exists",
            GlAccountInUse => "gl_account_in_use",
            GlAccountNotFound => "gl_account_not_found",
            VoucherNotFound => "voucher_not_found",
            VoucherAlreadyReversed => "voucher_already_reversed",
            IdConflict => "id_conflict",
            PeriodClosed => "period_closed",
            PeriodNotEnded => "period_not_ended",
            InvalidDate => "invalid_date",
        }
    }
}

impl AccountingError {
    /// The stable machine code the API reports.
    pub fn code(&self) -> ErrorCode {
        use AccountingError::*;
        match self {
            Db(_) | Migration(_) | Engine(_) | Io(_) | Corrupt(_) => ErrorCode::Internal,
            Rules(_) => ErrorCode::InvalidRules,
            Unbalanced => ErrorCode::VoucherUnbalanced,
            InvalidVoucher(_) => ErrorCode::InvalidVoucher,
            InvalidAccount(_) => ErrorCode::InvalidGlAccount,
            AccountExists(_) => ErrorCode::GlAccountExists,
            AccountInUse(_) => ErrorCode::GlAccountInUse,
            AccountNotFound(_) => ErrorCode::GlAccountNotFound,
            VoucherNotFound(_) => ErrorCode::VoucherNotFound,
            AlreadyReversed(_) => ErrorCode::VoucherAlreadyReversed,
            IdConflict(_) => ErrorCode::IdConflict,
            PeriodClosed(_) => ErrorCode::PeriodClosed,
            PeriodNotEnded { .. } => ErrorCode::PeriodNotEnded,
            InvalidDate(_) => ErrorCode::InvalidDate,
        }
    }
}

/// Wall-clock time for row stamps (never for ordering: order is by log sequence and id).
pub(crate) fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
