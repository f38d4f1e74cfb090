//! Reconciliation (对账): statements, runs and exceptions (差错). Amounts are integers in minor
//! units; times are RFC 3339 (UTC); days are `YYYY-MM-DD` in Beijing time, as the channels
//! date their statements.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct StatementResponse {
    pub id: String,
    pub channel: String,
    pub date: String,
    /// wechat, alipay or csv.
    pub format: String,
    pub sha256: String,
    pub lines: u64,
    /// upload or fetch.
    pub source: String,
    pub imported_at: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreateRunRequest {
    pub channel: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The statement's format to ask the channel for: wechat, alipay or csv (default csv).
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
pub struct SideResponse {
    pub count: u64,
    /// Sums may pass 64 bits (each amount fits; a day's sum need not): plain JSON integers.
    pub payments: u128,
    pub refunds: u128,
    /// Fees as the statement prints them (0 on paycore's side).
    pub fees: i128,
    /// payments − refunds − fees.
    pub net: i128,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct TotalsResponse {
    pub ours: SideResponse,
    pub theirs: SideResponse,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct FundResponse {
    /// What the statement nets to.
    pub statement_net: i128,
    /// What the bank credited our account for the day.
    pub settled: i64,
    /// settled − statement_net.
    pub difference: i128,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RunResponse {
    pub id: String,
    pub channel: String,
    pub date: String,
    pub statement_id: String,
    pub matched: u64,
    /// paycore's successes near midnight the statement did not list, looked for again in the
    /// next day's run (跨日).
    pub carried: u64,
    /// Difference kind (missing_ours, missing_theirs, amount_mismatch, status_mismatch,
    /// duplicate) → count.
    pub differences: BTreeMap<String, u64>,
    pub totals: TotalsResponse,
    /// Absent when the channel had no settlement for the day.
    pub fund: Option<FundResponse>,
    pub created_at: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ImportResponse {
    pub statement: StatementResponse,
    pub run: RunResponse,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RunList {
    pub runs: Vec<RunResponse>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct HistoryResponse {
    pub at: String,
    /// An operator, or `system` for a rule.
    pub by: String,
    pub event: String,
    pub note: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ExceptionResponse {
    pub id: String,
    pub run_id: String,
    /// missing_ours, missing_theirs, amount_mismatch, status_mismatch or duplicate.
    pub kind: String,
    pub channel: String,
    pub channel_order_no: String,
    /// open, resolving (its adjustment waits for approval) or closed.
    pub status: String,
    /// paycore's record (null when it has none).
    #[schema(value_type = Object)]
    pub ours: serde_json::Value,
    /// The statement's lines for the key, folded (null when it lists none).
    #[schema(value_type = Object)]
    pub theirs: serde_json::Value,
    pub amount: u64,
    pub currency: String,
    pub adjustment_id: Option<String>,
    /// The refund sent through the channel to resolve it (action `refund`), if any.
    pub refund_id: Option<String>,
    pub history: Vec<HistoryResponse>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ExceptionList {
    pub exceptions: Vec<ExceptionResponse>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<u64>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// refund, supplement, accept or write_off.
    pub action: String,
    pub reason: String,
    /// Override the adjustment's debit account (supplement, write_off).
    pub debit_account: Option<String>,
    pub credit_account: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
pub struct ReportCell {
    pub count: u64,
    pub amount: u64,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ReportResponse {
    pub channel: String,
    pub date: String,
    pub runs: Vec<RunResponse>,
    /// Difference kind → exception status → count and amount.
    pub exceptions: BTreeMap<String, BTreeMap<String, ReportCell>>,
}
