//! API errors: one JSON shape (`{"error":{"code","message"}}`), stable codes, and the HTTP
//! status of each code. Every rejection of the ledger, the engine, the stores, accounting and
//! the payment side is mapped here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use paycore_api::{ErrorBody, ErrorDetail};
use paycore_engine::EngineError;
use paycore_ledger::{ErrorCode, LedgerError};
use paycore_money::MoneyError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
    }
}

/// HTTP status of a ledger rejection: 404 for unknown things, 409 for conflicts with what
/// exists, 422 for every other business rule.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::AccountNotFound | ErrorCode::HoldNotFound => StatusCode::NOT_FOUND,
        ErrorCode::IdConflict | ErrorCode::AccountExists => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> ApiError {
        ApiError::new(status_of(code), code.code(), code.to_string())
    }
}

impl From<LedgerError> for ApiError {
    fn from(error: LedgerError) -> ApiError {
        ApiError::bad_request(error.code(), error.to_string())
    }
}

impl From<MoneyError> for ApiError {
    fn from(error: MoneyError) -> ApiError {
        ApiError::bad_request(error.code(), error.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        let status = match error {
            EngineError::RequestTooLarge { .. } => StatusCode::BAD_REQUEST,
            // `engine_unavailable` (stopped after a log failure, shutting down, not open) and
            // `storage_error` (this batch's log write failed): try again later.
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

impl From<paycore_accounting::AccountingError> for ApiError {
    fn from(error: paycore_accounting::AccountingError) -> ApiError {
        use paycore_accounting::ErrorCode::*;
        let code = error.code();
        let status = match code {
            Internal => return ApiError::internal(error.to_string()),
            InvalidDate => StatusCode::BAD_REQUEST,
            GlAccountNotFound | VoucherNotFound => StatusCode::NOT_FOUND,
            GlAccountExists
            | GlAccountInUse
            | IdConflict
            | PeriodClosed
            | VoucherAlreadyReversed => StatusCode::CONFLICT,
            InvalidRules | VoucherUnbalanced | InvalidVoucher | InvalidGlAccount
            | PeriodNotEnded => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, code.as_str(), error.to_string())
    }
}

impl From<paycore_store::StoreError> for ApiError {
    fn from(error: paycore_store::StoreError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            format!("query store: {error}"),
        )
    }
}

impl From<paycore_payment_service::ServiceError> for ApiError {
    fn from(error: paycore_payment_service::ServiceError) -> ApiError {
        use paycore_payment_service::ServiceError;
        use paycore_payments::ErrorKind;
        match error {
            ServiceError::Pay(e) => {
                let status = match e.kind() {
                    ErrorKind::Invalid => StatusCode::BAD_REQUEST,
                    ErrorKind::NotFound => StatusCode::NOT_FOUND,
                    ErrorKind::Conflict => StatusCode::CONFLICT,
                    ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, e.code(), e.to_string())
            }
            ServiceError::Adjust(e) => {
                use paycore_adjustments::ErrorKind as Kind;
                let status = match e.kind() {
                    Kind::Invalid => StatusCode::BAD_REQUEST,
                    Kind::Forbidden => StatusCode::FORBIDDEN,
                    Kind::NotFound => StatusCode::NOT_FOUND,
                    Kind::Conflict => StatusCode::CONFLICT,
                    // The ledger's refusal of an adjustment, whatever its code (also
                    // account_not_found): the adjustment exists, its posting is refused.
                    Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, e.code(), e.to_string())
            }
            ServiceError::Recon(e) => {
                use paycore_recon::ReconError as R;
                let status = match e {
                    R::Invalid { .. } => StatusCode::BAD_REQUEST,
                    R::RunNotFound(_) | R::ExceptionNotFound(_) => StatusCode::NOT_FOUND,
                    R::ExceptionClosed { .. }
                    | R::ActionNotApplicable { .. }
                    | R::ActionNotPossible { .. } => StatusCode::CONFLICT,
                };
                ApiError::new(status, e.code(), e.to_string())
            }
            ServiceError::Statement(e) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_statement",
                e.to_string(),
            ),
            ServiceError::Store(e) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                format!("payment store: {e}"),
            ),
            ServiceError::Engine(e) => ApiError::from(e),
            ServiceError::Ledger { what, code } => ApiError::new(
                status_of(code),
                code.code(),
                format!("the ledger refused {what}: {code}"),
            ),
            ServiceError::BadCallback(reason) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_signature",
                format!("callback refused: {reason}"),
            ),
            ServiceError::NotificationNotFound(id) => ApiError::not_found(
                "notification_not_found",
                format!("notification {id:?} not found"),
            ),
            ServiceError::NotificationDelivered(id) => ApiError::new(
                StatusCode::CONFLICT,
                "notification_delivered",
                format!("notification {id:?} was already delivered"),
            ),
            ServiceError::ChannelUnavailable { channel, reason } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "channel_unavailable",
                format!("channel {channel} did not answer: {reason}"),
            ),
            ServiceError::Internal(reason) => ApiError::internal(reason),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
