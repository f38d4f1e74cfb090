//! What the payment service can fail with: a domain refusal (payments or adjustments, with
//! its stable code), or a part it depends on being unavailable.

use paycore_adjustments::AdjustError;
use paycore_engine::EngineError;
use paycore_ledger::ErrorCode;
use paycore_payment_store::StoreError;
use paycore_payments::PayError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Pay(#[from] PayError),
    #[error(transparent)]
    Adjust(#[from] AdjustError),
    #[error(transparent)]
    Recon(paycore_recon::ReconError),
    /// A statement file that does not read: its line and reason; nothing was imported.
    #[error("statement refused at {0}")]
    Statement(paycore_statements::StatementError),
    #[error("payment store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The ledger refused a command the payment side needed (e.g. an account it must open
    /// exists with another type).
    #[error("ledger refused {what}: {code}")]
    Ledger { what: String, code: ErrorCode },
    /// A callback whose signature or content did not verify: refused and logged, never applied.
    #[error("callback refused: {0}")]
    BadCallback(String),
    /// No notification has this event id (`notification_not_found`, 404).
    #[error("notification {0:?} not found")]
    NotificationNotFound(String),
    /// A retry of a notification the merchant already acknowledged
    /// (`notification_delivered`, 409).
    #[error("notification {0:?} was already delivered")]
    NotificationDelivered(String),
    /// A channel did not serve what paycore asked of it outside a payment (a statement):
    /// `channel_unavailable`, 503 — ask again later.
    #[error("channel {channel} did not answer: {reason}")]
    ChannelUnavailable { channel: String, reason: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<paycore_ledger::LedgerError> for ServiceError {
    fn from(e: paycore_ledger::LedgerError) -> Self {
        ServiceError::Pay(PayError::invalid("id", e.to_string()))
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
