//! Payments (支付): merchants, channels, trades, payments and their channel orders.
//! Amounts are integers in minor units; times are RFC 3339 (UTC).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::double_option;

// ----- merchants -----------------------------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchantRequest {
    /// 1–28 characters of `A-Z a-z 0-9 _ -`; the merchant's ledger account is `M-<id>`.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,28}$")]
    pub id: String,
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    /// Host names or IP addresses the merchant's `notify_url`s may point at.
    pub callback_hosts: Vec<String>,
    /// Fee per payment in basis points (0.01%), 0–10000; default 0.
    #[schema(minimum = 0, maximum = 10000)]
    pub fee_rate_bp: Option<u32>,
    /// Currency of the merchant's account; default the server's first currency.
    pub currency: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct MerchantResponse {
    pub id: String,
    pub name: String,
    pub callback_hosts: Vec<String>,
    pub fee_rate_bp: u32,
    pub currency: String,
    /// The merchant's ledger account (type merchant).
    pub account: String,
    pub created_at: String,
    /// The secret that signs the merchant's notifications (HMAC-SHA256): only in the answer
    /// that created the merchant, never again (`POST /v1/merchants/{id}/secret/rotate` makes
    /// a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_secret: Option<String>,
}

// ----- channels ------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    /// 1–24 characters of `A-Z a-z 0-9 _ -`.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,24}$")]
    pub id: String,
    /// sim-form or sim-json.
    pub protocol: String,
    /// Base URL of the channel's API, e.g. http://127.0.0.1:9000.
    pub endpoint: String,
    /// Shared signing secret (HMAC-SHA256); never shown again.
    pub secret: String,
    /// quickpay, netbank, payout.
    pub methods: Vec<String>,
    /// ISO 4217 codes.
    pub currencies: Vec<String>,
    pub min_amount: Option<u64>,
    pub max_amount: Option<u64>,
    /// Share of the weighted split (default 100; 0: only payments that name the channel).
    #[schema(minimum = 0, maximum = 1000000)]
    pub weight: Option<u32>,
    /// Calls per second the channel allows (a token bucket); none: no limit.
    #[schema(minimum = 1)]
    pub rate_limit_per_s: Option<u32>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Any of these; `null` removes a limit.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct PatchChannelRequest {
    #[schema(minimum = 0, maximum = 1000000)]
    pub weight: Option<u32>,
    pub enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u64>)]
    pub min_amount: Option<Option<u64>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u64>)]
    pub max_amount: Option<Option<u64>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>)]
    pub rate_limit_per_s: Option<Option<u32>>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelCounters {
    /// Payments routed to it (a reroute counts again).
    pub routed: u64,
    /// Channel orders it said succeeded.
    pub succeeded: u64,
    /// Channel orders it definitively failed.
    pub failed: u64,
    /// Channel orders whose outcome was unknown at some point (timeouts, lost answers).
    pub unknown: u64,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
pub struct ChannelHealth {
    pub consecutive_failures: u32,
    /// Set while the channel rests after consecutive failures.
    pub resting_until: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ChannelResponse {
    pub id: String,
    pub protocol: String,
    pub endpoint: String,
    pub methods: Vec<String>,
    pub currencies: Vec<String>,
    pub min_amount: Option<u64>,
    pub max_amount: Option<u64>,
    pub weight: u32,
    pub rate_limit_per_s: Option<u32>,
    pub enabled: bool,
    /// Its clearing accounts in the ledger (应收渠道款), one per currency.
    pub clearing_accounts: Vec<String>,
    pub counters: ChannelCounters,
    pub health: ChannelHealth,
    pub created_at: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ChannelList {
    pub channels: Vec<ChannelResponse>,
}

// ----- trades --------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreateTradeRequest {
    pub merchant: String,
    /// The merchant's own order number, unique per merchant (1–64 of `A-Z a-z 0-9 _ - . :`).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    pub merchant_order_no: String,
    #[schema(minimum = 1)]
    pub amount: u64,
    pub currency: String,
    pub subject: Option<String>,
    /// Where the merchant is told the outcome; its host must be one of the merchant's
    /// `callback_hosts`.
    pub notify_url: Option<String>,
    /// Payable for this long (default 900 s, at most 604800).
    #[schema(minimum = 1, maximum = 604800)]
    pub expires_in_s: Option<u64>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct TradeResponse {
    pub trade_id: String,
    pub merchant: String,
    pub merchant_order_no: String,
    pub amount: u64,
    pub currency: String,
    pub subject: String,
    pub notify_url: Option<String>,
    /// open, paid, expired or closed.
    pub status: String,
    pub created_at: String,
    pub expires_at: String,
    pub paid_by: Option<String>,
    pub paid_at: Option<String>,
    /// Its payments, in creation order.
    pub payments: Vec<PaymentResponse>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct TradeList {
    pub trades: Vec<TradeResponse>,
}

// ----- payments ------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentRequest {
    /// Idempotency key, unique across payments (1–48 of `A-Z a-z 0-9 _ - . :`).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,48}$")]
    pub id: String,
    /// quickpay, netbank, balance (from `payer_account`, no channel) or combined (the trade's
    /// amount less `balance_amount` through a channel first, then `balance_amount` from
    /// `payer_account`).
    pub method: String,
    /// Route to this channel (the filters still apply).
    pub channel: Option<String>,
    /// The ledger account a balance or combined payment debits.
    pub payer_account: Option<String>,
    /// A combined payment's part paid from `payer_account` (minor units).
    pub balance_amount: Option<u64>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundRequest {
    /// Idempotency key, unique across refunds (1–48 of `A-Z a-z 0-9 _ - . :`).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,48}$")]
    pub id: String,
    /// Minor units; the refunds of a payment never add up to more than it paid.
    pub amount: u64,
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RefundResponse {
    pub id: String,
    pub payment_id: String,
    pub trade_id: String,
    pub merchant: String,
    pub amount: u64,
    pub currency: String,
    pub reason: String,
    /// processing, succeeded (posted in the ledger), failed or unknown (asked again until
    /// the channel says).
    pub status: String,
    /// merchant (a refund the merchant asked for, held on its account first) or suspense
    /// (money a payment did not keep, returned by paycore).
    pub source: String,
    pub channel: String,
    /// The refund's own order number at the channel.
    pub channel_order_no: String,
    /// The paid channel order it refunds.
    pub paid_order_no: String,
    /// The ledger hold on the merchant's account: none, pending, placed, refused, captured
    /// or released.
    pub hold: String,
    pub created_at: String,
    pub updated_at: String,
    pub bank_ref: Option<String>,
    pub failure: Option<FailureResponse>,
    pub anomalies: Vec<String>,
}

// ----- payouts -------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreatePayoutRequest {
    /// Idempotency key, unique across payouts (1–48 of `A-Z a-z 0-9 _ - . :`).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,48}$")]
    pub id: String,
    /// The merchant whose account pays (held first, captured on the bank's success).
    pub merchant: String,
    /// Minor units.
    pub amount: u64,
    /// ISO 4217, the merchant account's currency.
    pub currency: String,
    /// Where the money goes (1–64 of `A-Z a-z 0-9 _ -`).
    pub bank_account: String,
    /// Route to this channel (the filters still apply); default: the weighted split among
    /// channels taking payouts.
    pub channel: Option<String>,
    /// Where paycore tells the merchant the outcome (`payout.succeeded`, `payout.failed`);
    /// its host must be one of the merchant's `callback_hosts`.
    pub notify_url: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct PayoutAttemptResponse {
    /// The channel order (same fields as a payment's attempt).
    #[serde(flatten)]
    pub order: AttemptResponse,
    /// The ledger hold guarding this order: pending, placed, refused, captured or released.
    pub hold: String,
    /// The hold's id in the ledger (`GET /v1/holds/{id}`).
    pub hold_id: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct PayoutResponse {
    pub id: String,
    pub merchant: String,
    pub amount: u64,
    pub currency: String,
    pub bank_account: String,
    /// processing, unknown (kept held, asked again until the channel says; never rerouted
    /// automatically), succeeded (the hold captured to the channel, kind withdrawal) or
    /// failed (the hold released, or never placed).
    pub status: String,
    /// The current channel order's channel and number.
    pub channel: String,
    pub channel_order_no: String,
    /// The current order's hold.
    pub hold: String,
    /// Every channel order, oldest first (a reroute adds one).
    pub attempts: Vec<PayoutAttemptResponse>,
    pub requested_channel: Option<String>,
    pub notify_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub failure: Option<FailureResponse>,
    /// Bank reports that contradict the payout (a late success after a failure…), kept for
    /// reconciliation.
    pub anomalies: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct PayoutList {
    pub payouts: Vec<PayoutResponse>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RerouteRequest {
    /// Route to this channel (the filters still apply); default: the split among the channels
    /// this payment has not tried.
    pub channel: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct FailureResponse {
    pub code: String,
    pub message: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct CandidateResponse {
    pub channel: String,
    pub weight: u32,
    /// Whether it passed every filter.
    pub eligible: bool,
    /// Why a filter dropped it: disabled, method_not_supported, currency_not_supported,
    /// below_min_amount, above_max_amount, rate_limited, resting, already_tried,
    /// not_requested, zero_weight.
    pub reason: Option<String>,
    pub detail: Option<String>,
}

/// How the channel was chosen.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RouteResponse {
    pub chosen: Option<String>,
    /// explicit (the payment named the channel) or weighted.
    pub strategy: String,
    /// The channel set the weighted split chose among (`a:100,b:50`).
    pub split_key: Option<String>,
    pub at: String,
    pub candidates: Vec<CandidateResponse>,
}

/// A channel order (机构订单).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct AttemptResponse {
    pub channel: String,
    pub channel_order_no: String,
    /// processing, unknown, succeeded or failed (at the channel).
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    /// Requests sent (1 + resends).
    pub sends: u32,
    /// Status queries made.
    pub queries: u32,
    /// When the channel is asked next (open outcomes only).
    pub next_check_at: Option<String>,
    /// The channel's own reference.
    pub bank_ref: Option<String>,
    pub failure: Option<FailureResponse>,
    /// Why the outcome is not known (timeout, transport error…).
    pub note: Option<String>,
    pub route: RouteResponse,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct PaymentResponse {
    pub id: String,
    pub trade_id: String,
    pub merchant: String,
    /// processing, succeeded (posted in the ledger), failed, unknown, refunding or refunded
    /// (its money went back: see `refund_reason`).
    pub status: String,
    pub method: String,
    pub amount: u64,
    pub currency: String,
    pub fee: u64,
    /// The current channel order's channel and number (none for a balance payment).
    pub channel: Option<String>,
    pub channel_order_no: Option<String>,
    pub attempts: Vec<AttemptResponse>,
    /// The current channel order's routing decision.
    pub route: Option<RouteResponse>,
    pub payer_account: Option<String>,
    /// The part paid from `payer_account`.
    pub balance_amount: u64,
    /// Why the money this payment received went back: duplicate_payment, trade_expired,
    /// trade_closed, balance_failed or ledger_rejected.
    pub refund_reason: Option<String>,
    /// The automatic refund of that money.
    pub refund_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub succeeded_at: Option<String>,
    pub failure: Option<FailureResponse>,
    /// Reports that contradicted a final state, kept for reconciliation.
    pub anomalies: Vec<String>,
}
