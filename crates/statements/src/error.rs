//! Why a statement could not be read (always with its line) or written.

use thiserror::Error;

/// What went wrong, for callers that branch on it; the reason text says the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Reading the input failed.
    Io,
    /// Bytes that are not UTF-8 (WeChat, plain CSV) or not GBK (Alipay).
    Encoding,
    /// Not a zip archive, truncated or corrupt, or without a detail file.
    Zip,
    /// A quoted field left open at the end of its line, or a line over the length limit.
    Malformed,
    /// The input has no header row.
    MissingHeader,
    /// The header lacks a column the format needs (named in the reason).
    MissingColumn,
    /// A row with more or fewer fields than its header.
    FieldCount,
    /// An amount that is not decimal text, is negative where that is not allowed, has too
    /// many decimals, or a total that overflows.
    InvalidAmount,
    /// Any other value the format does not allow: a time, a kind, a currency, an empty
    /// order number, a second currency.
    InvalidValue,
    /// A WeChat bill without its summary header or summary row.
    MissingSummary,
    /// A second WeChat summary.
    DuplicateSummary,
    /// A WeChat summary whose count or a total disagrees with the detail rows.
    SummaryMismatch,
    /// A row after the WeChat summary row.
    TrailingData,
}

/// A statement that could not be read, at one physical line (1-based; 0 for the container).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {reason}")]
pub struct StatementError {
    pub line: u64,
    pub reason: String,
    pub kind: ErrorKind,
}

impl StatementError {
    pub fn new(kind: ErrorKind, line: u64, reason: impl Into<String>) -> StatementError {
        StatementError {
            line,
            reason: reason.into(),
            kind,
        }
    }
}

/// A statement that could not be written.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error("writing the statement failed: {0}")]
    Io(#[from] std::io::Error),
    /// The line (1-based position in the writer's input) cannot be written in this format
    /// without changing what a reader would read back.
    #[error("statement line {item}: {reason}")]
    Unrepresentable { item: u64, reason: String },
    #[error("writing the zip archive failed: {0}")]
    Zip(String),
}

impl From<zip::result::ZipError> for WriteError {
    fn from(err: zip::result::ZipError) -> WriteError {
        match err {
            zip::result::ZipError::Io(io) => WriteError::Io(io),
            other => WriteError::Zip(other.to_string()),
        }
    }
}
