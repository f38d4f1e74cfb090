//! What reconciliation refuses, with stable codes.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconError {
    #[error("field `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no reconciliation run {0}")]
    RunNotFound(String),
    #[error("no exception {0}")]
    ExceptionNotFound(String),
    #[error("the exception is {status}: nothing to resolve")]
    ExceptionClosed { status: &'static str },
    #[error("action {action} does not apply to a {kind} exception")]
    ActionNotApplicable {
        action: &'static str,
        kind: &'static str,
    },
    /// The action fits the kind, but not this exception's records (same code).
    #[error("action {action} cannot resolve this exception: {reason}")]
    ActionNotPossible {
        action: &'static str,
        reason: String,
    },
}

impl ReconError {
    pub fn code(&self) -> &'static str {
        match self {
            ReconError::Invalid { .. } => "invalid_field",
            ReconError::RunNotFound(_) => "run_not_found",
            ReconError::ExceptionNotFound(_) => "exception_not_found",
            ReconError::ExceptionClosed { .. } => "exception_closed",
            ReconError::ActionNotApplicable { .. } | ReconError::ActionNotPossible { .. } => {
                "action_not_applicable"
            }
        }
    }

    pub fn invalid(field: &'static str, reason: impl Into<String>) -> ReconError {
        ReconError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
