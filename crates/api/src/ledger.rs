//! The ledger's wire format: request and response bodies of accounts, transfers, holds, keys,
//! statements, day-end and verify. Core types never derive serde; the server renders ledger
//! values into these and reads requests out of them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ErrorDetail, Role};

// ----- accounts -----------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAccountRequest {
    /// 1–32 characters of `A-Z a-z 0-9 _ -`, unique.
    pub account_no: String,
    /// customer, merchant, internal, transit or settlement.
    #[serde(rename = "type")]
    pub account_type: String,
    /// ISO 4217 code, e.g. CNY.
    pub currency: String,
    /// Whether the balance may go negative. Default: no for customer, merchant and transit
    /// accounts; yes for internal and settlement accounts.
    pub allow_negative: Option<bool>,
    /// Free-form short reference (≤ 64 bytes), e.g. the member id.
    pub reference: Option<String>,
    /// Idempotency key; defaults to `open:<account_no>`.
    pub id: Option<String>,
    /// Make it a hot account from the start (see `PUT /v1/accounts/{account_no}/hot`).
    pub hot: Option<HotSettings>,
    /// Split it into this many sub-accounts (二级子账户, 2–64), `<account_no>-S1` …: credits
    /// are spread over them by record number, a debit takes from one or, atomically, several;
    /// the account shows their sums and its statement is theirs. Not with `hot`.
    pub split: Option<u8>,
}

/// Hot-account handling (热点账户). `buffered` (缓冲记账): credits are accepted at once and
/// recorded one by one, but reach the balance as one aggregated journal entry per flush — when
/// the oldest pending credit is `flush_interval_ms` old, when `max_entries` are pending (both
/// checked as each engine batch starts), at day-end and when the settings change. Debits use
/// the posted balance plus at most `credit_line` of the pending credit. `off`: post at once.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HotSettings {
    /// buffered or off.
    pub mode: String,
    /// 1–60000 (default 1000).
    pub flush_interval_ms: Option<u32>,
    /// At least 1 (default 10000).
    pub max_entries: Option<u32>,
    /// Minor units of pending credit debits may use (default 0).
    pub credit_line: Option<u64>,
    /// Idempotency key of the change (PUT only); default: derived from the account and settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct AccountResponse {
    pub account_no: String,
    #[serde(rename = "type")]
    pub account_type: String,
    pub currency: String,
    /// Credits minus debits, in minor units (fen for CNY).
    pub balance: i64,
    /// Sum of active holds.
    pub frozen: i64,
    /// balance − frozen: what debits may use.
    pub available: i64,
    /// normal, frozen (no debits) or closed.
    pub status: String,
    pub allow_negative: bool,
    pub reference: String,
    pub opened_at: String,
    pub opened_by: String,
    /// Credits accepted but not yet posted (hot accounts with buffered posting; else 0).
    #[serde(default)]
    pub pending_credit: i64,
    /// Buffered-posting settings, for hot accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot: Option<HotSettings>,
    /// For a split account: its sub-accounts (balance, frozen and available are their sums).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_accounts: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AccountList {
    pub accounts: Vec<AccountResponse>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AccountActionRequest {
    /// Idempotency key; defaults to `<action>:<account_no>`.
    pub id: Option<String>,
}

// ----- transfers ----------------------------------------------------------------------------

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Idempotency key (≤ 64 bytes), unique forever.
    pub id: String,
    pub debit_account: String,
    pub credit_account: String,
    /// Minor units (fen for CNY), > 0.
    pub amount: u64,
    pub currency: String,
    /// transfer (default), payment, refund, fee, settlement, adjustment, reversal, deposit,
    /// withdrawal.
    pub kind: Option<String>,
    pub reference: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// When true, all transfers succeed or all fail (组合记账).
    #[serde(default)]
    pub linked: bool,
    pub transfers: Vec<TransferRequest>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct TransferResponse {
    pub id: String,
    pub debit_account: Option<String>,
    pub credit_account: Option<String>,
    pub amount: u64,
    pub currency: Option<String>,
    pub kind: String,
    pub reference: String,
    /// posted, or rejected (with `error`).
    pub status: String,
    pub error: Option<ErrorDetail>,
    /// Engine time the ledger decided it (RFC 3339, UTC, ns precision).
    pub timestamp: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BatchItemResult {
    pub index: usize,
    pub id: String,
    /// posted or failed.
    pub status: String,
    pub error: Option<ErrorDetail>,
    pub transfer: Option<TransferResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub linked: bool,
    pub posted: usize,
    pub failed: usize,
    /// For a failed linked batch: the member that failed (the others are `linked_batch_failed`).
    pub failed_index: Option<usize>,
    pub results: Vec<BatchItemResult>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositRequest {
    pub id: String,
    pub account: String,
    pub amount: u64,
    pub currency: String,
    /// Defaults to the configured settlement account of the currency.
    pub settlement_account: Option<String>,
    pub reference: Option<String>,
}

// ----- holds --------------------------------------------------------------------------------

/// An expiry: RFC 3339 text or seconds since the Unix epoch.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Instant {
    Seconds(u64),
    Text(String),
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Idempotency key; also the hold's id.
    pub id: String,
    pub account: String,
    pub amount: u64,
    /// If given, must be the account's currency.
    pub currency: Option<String>,
    pub expires_at: Option<Instant>,
    pub reference: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// Idempotency key. Without it a full release uses `release:<hold>`; a partial release
    /// without an id is not retry-safe.
    pub id: Option<String>,
    /// Minor units to release; default: all that remains.
    pub amount: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// Idempotency key. Without it a full capture uses `capture:<hold>`.
    pub id: Option<String>,
    /// The account paid.
    #[serde(alias = "to_account")]
    pub credit_account: String,
    /// Minor units to pay; default: all that remains.
    pub amount: Option<u64>,
    /// payment (default), transfer, fee, …
    pub kind: Option<String>,
    pub reference: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct HoldResponse {
    pub id: String,
    pub account: String,
    pub currency: String,
    pub amount: u64,
    pub remaining: u64,
    pub captured: u64,
    /// active, released, captured or expired.
    pub status: String,
    pub expires_at: Option<String>,
    pub created_at: String,
}

// ----- keys and system ----------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub name: String,
    pub role: Role,
    /// The person the key belongs to (1–32 bytes; not `system`); one person may hold several
    /// keys. Default: the key's name. Maker-checker compares operators, not keys.
    pub operator: Option<String>,
}

/// The key a request was made with: who, and what their role allows.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WhoAmIResponse {
    pub key_id: String,
    pub name: String,
    /// The person the key belongs to (what maker-checker compares).
    pub operator: String,
    pub role: Role,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct KeyResponse {
    pub id: String,
    pub name: String,
    /// The person the key belongs to.
    pub operator: String,
    pub role: Role,
    pub created_at: String,
    /// The operator who created it (absent for the bootstrap key and older keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    /// Only in the response that created it: store it now, it is not kept.
    pub key: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, or `engine_stopped` (HTTP 503) once a failed log write or fsync stopped the engine.
    pub status: String,
    /// Why the engine stopped, if it did.
    pub engine_error: Option<String>,
    /// `leader` (takes writes: a single node, or a replicated shard's leader) or `standby`
    /// (follows its shard's log from etcd and serves reads; writes are `503 not_leader`).
    #[serde(default)]
    pub role: String,
    pub applied_sequence: u64,
    pub durable_sequence: u64,
    pub accounting_date: String,
    /// The UTC offset accounting days are reckoned in (`--utc-offset`), e.g. `+08:00`.
    pub utc_offset: String,
    /// Last batch written to the query store, and how far behind the log it is.
    pub store_sequence: u64,
    pub store_lag_batches: u64,
    pub store_lag_seconds: f64,
    /// The projector's last error, if it is retrying.
    pub store_error: Option<String>,
    /// Last batch posted to accounting, and how far behind the log it is.
    pub accounting_sequence: u64,
    pub accounting_lag_batches: u64,
    pub accounting_lag_seconds: f64,
    /// The accounting feed's last error, if it is retrying.
    pub accounting_error: Option<String>,
}

// ----- journal, day-end, events (query store) ----------------------------------------------

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct EntryResponse {
    /// Global, gap-free sequence number: the order of the journal.
    pub seq: u64,
    pub account_no: String,
    /// The id of the command (transfer, hold…) that caused it.
    pub transfer_id: String,
    /// debit, credit, freeze, unfreeze or expire.
    pub kind: String,
    pub amount: u64,
    /// 期初: balance before the entry.
    pub balance_before: i64,
    pub balance_after: i64,
    pub frozen_after: i64,
    pub accounting_date: String,
    pub timestamp: String,
    /// For a hot account's aggregated credit (缓冲记账 flush): how many transfers it contains,
    /// listed by `GET /v1/accounts/{account_no}/entries/{seq}/transfers`; 0 otherwise.
    #[serde(default)]
    pub aggregated: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EntryPage {
    pub entries: Vec<EntryResponse>,
    /// Pass as `from_seq` for the next page; absent when this page is not full.
    pub next_from_seq: Option<u64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HoldPage {
    pub holds: Vec<HoldResponse>,
    /// Pass as `after` for the next page; absent when this page is not full.
    pub next_after: Option<u64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TransferPage {
    pub transfers: Vec<TransferResponse>,
    /// Pass as `after` for the next page; absent when this page is not full.
    pub next: Option<u64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DailyBalanceResponse {
    pub accounting_date: String,
    pub opening: i64,
    /// The day's turnover; may pass i64 (the balance cannot), so read it as a wide integer.
    pub debits: i128,
    pub credits: i128,
    pub closing: i64,
    pub entries: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DailyBalances {
    pub account_no: String,
    pub currency: String,
    pub days: Vec<DailyBalanceResponse>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DayEndRequest {
    /// The day to close (YYYY-MM-DD); must be the current accounting date (the default).
    pub date: Option<String>,
    /// Idempotency key; defaults to `day-end:<date>`.
    pub id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DayEndResponse {
    pub closed_date: String,
    /// The accounting date postings now land on.
    pub accounting_date: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct FlowRow {
    pub account_type: String,
    pub currency: String,
    /// Turnover of every account of the type; may pass i64.
    pub debits: i128,
    pub credits: i128,
    pub entries: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ClosingRow {
    pub account_type: String,
    pub currency: String,
    pub accounts: i64,
    /// Sum of the accounts' balances; may pass i64.
    pub closing: i128,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CurrencyCheck {
    pub currency: String,
    pub debits: i128,
    pub credits: i128,
    /// Total debits = total credits on the day.
    pub balanced: bool,
    /// Sum of every account's balance at the cut: zero when the books balance.
    pub closing_sum: i128,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SuspenseAccount {
    pub account_no: String,
    pub balance: i64,
    /// Entries since the account was last at zero: the transfers still hanging (挂账).
    pub open_entries: Vec<EntryResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DayEndReport {
    pub date: String,
    /// Whether the day has been cut (closings and suspense are known only then).
    pub closed: bool,
    pub flows: Vec<FlowRow>,
    pub closings: Vec<ClosingRow>,
    pub currencies: Vec<CurrencyCheck>,
    /// Transit accounts (中间过渡户) with a non-zero balance at the cut.
    pub suspense: Vec<SuspenseAccount>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<EntryResponse>,
    /// Pass as `after` to continue.
    pub next_after: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct VerifyDifference {
    pub account_no: String,
    pub ledger_balance: i64,
    pub journal_balance: i64,
    pub first_diverging_entry: Option<EntryResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct VerifyReport {
    /// The ledger state compared (batch sequence).
    pub sequence: u64,
    pub accounts: u64,
    pub entries: u64,
    /// Empty when the query store's journal reproduces every ledger balance.
    pub differences: Vec<VerifyDifference>,
}

/// A new account of the chart of accounts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlAccountRequest {
    /// 4, 6 or 8 digits; the parent (code without its last two digits) must exist.
    pub code: String,
    pub name: String,
    /// asset, liability, equity, common, income or expense (default: the parent's).
    pub class: Option<String>,
    /// Normal balance side, debit or credit (default: the parent's).
    pub side: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlAccountPatch {
    pub name: Option<String>,
    /// false disables the account: rules posting to it park their transactions.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoucherLineRequest {
    pub code: String,
    /// debit or credit
    pub side: String,
    /// Minor units, positive.
    pub amount: i64,
}

/// A manual voucher (记账凭证); debits must equal credits.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualVoucherRequest {
    /// Idempotency id: a retry returns the original voucher.
    pub id: String,
    /// Accounting date (default: the current one); it must be in an open period.
    pub date: Option<String>,
    pub currency: String,
    pub note: Option<String>,
    pub lines: Vec<VoucherLineRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseRequest {
    /// Idempotency id of the reversal.
    pub id: String,
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CaptureResponse {
    pub hold: HoldResponse,
    pub transfer: TransferResponse,
}
