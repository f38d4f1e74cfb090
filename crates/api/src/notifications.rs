//! Merchant notifications (异步通知): what operators see of the outbox, and the notification
//! secret a merchant signs nothing with but verifies everything by. Times are RFC 3339 (UTC).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One try at sending a notification.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct NotificationAttempt {
    pub at: String,
    /// The merchant's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed: `timeout`, `connect_error`, `http_status`, `no_success_body`,
    /// `redirect`, `target_refused`, `invalid_url`, `no_secret`, `request_error`; absent
    /// when acknowledged.
    pub reason: Option<String>,
    pub latency_ms: u64,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct NotificationResponse {
    /// Stable: every attempt carries it (`Paycore-Event-Id`).
    pub event_id: String,
    /// `trade.paid`, `payment.refunded`, `refund.succeeded`, `refund.failed`,
    /// `payout.succeeded`, `payout.failed`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub merchant: String,
    /// The order it is about (a trade id, or a payout id): per order, notifications go out in
    /// `order_seq` order, one at a time.
    pub order: String,
    pub order_seq: u64,
    pub url: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// The latest attempts, oldest first (at most 32; `attempt_count` counts them all).
    pub attempts: Vec<NotificationAttempt>,
    pub attempt_count: u32,
    /// When a pending one is tried next.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// The JSON body as sent and signed, byte for byte.
    pub body: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct NotificationList {
    pub notifications: Vec<NotificationResponse>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// How long the secrets signing until now keep signing beside the new one, in seconds
    /// (0–2592000); default the server's `--notify-secret-grace-s` (86400).
    #[schema(minimum = 0, maximum = 2592000)]
    pub grace_period_s: Option<u64>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RotateSecretResponse {
    pub merchant: String,
    /// The new notification secret: shown only in this answer.
    pub notify_secret: String,
    /// 1, 2, … per merchant.
    pub version: u64,
    /// When the previous secret stops signing (absent: there was none).
    pub previous_retires_at: Option<String>,
}
