//! Accounting (会计): the chart of accounts, vouchers (记账凭证), reports (trial balance, GL vs
//! sub-ledger check, reserve funds), the exception queue, posting rules, closed periods and the
//! feed's status. Amounts are integers in minor units; report amounts are sums over many
//! vouchers and may exceed 64 bits, so they are `i128` (JSON integers). Dates are `YYYY-MM-DD`
//! accounting dates; sides are `debit` or `credit`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One account of the chart (会计科目).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct GlAccountResponse {
    /// 4, 6 or 8 digits (levels 1, 2 and 3).
    pub code: String,
    pub name: String,
    /// 1, 2 or 3.
    pub level: u8,
    /// The code of the account one level up; absent at level 1.
    pub parent: Option<String>,
    /// asset, liability, equity, common, income or expense.
    pub class: String,
    /// The normal balance side (余额方向): debit or credit.
    pub side: String,
    pub enabled: bool,
}

/// The chart of accounts, three levels, in code order.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct GlAccountList {
    pub accounts: Vec<GlAccountResponse>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct VoucherLineResponse {
    pub code: String,
    /// debit or credit.
    pub side: String,
    /// Minor units; negative only in a red-letter reversal (红字冲销).
    pub amount: i64,
}

/// A voucher (记账凭证): balanced, immutable, numbered per month.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct VoucherResponse {
    pub id: u64,
    /// `<period>-<number>`, e.g. `2026-11-000042`.
    pub voucher_no: String,
    /// The month (`YYYY-MM`) it is numbered in.
    pub period: String,
    pub number: u64,
    /// The accounting date it is booked on.
    pub accounting_date: String,
    /// The ledger's accounting date of the transaction (every ledger voucher; it differs from
    /// `accounting_date` for a late item booked in the next open period).
    pub ledger_date: Option<String>,
    /// ledger, manual or reversal.
    pub source: String,
    /// The ledger record it posts (ledger vouchers).
    pub record_id: Option<u64>,
    /// The ledger transaction's id, or the id the API client gave a manual voucher.
    pub client_id: String,
    /// The ledger transaction's kind (ledger vouchers).
    pub kind: Option<String>,
    /// The posting rule that mapped it (ledger vouchers).
    pub rule: Option<String>,
    pub rules_version: u32,
    pub currency: String,
    /// The id of the voucher this one reverses.
    pub reverses: Option<u64>,
    pub note: String,
    pub lines: Vec<VoucherLineResponse>,
}

/// A page of vouchers in id order.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct VoucherPage {
    pub vouchers: Vec<VoucherResponse>,
    /// The `after` of the next page; null on the last page.
    pub next_after: Option<u64>,
}

/// One account of the trial balance; `opening` and `closing` are signed towards its normal
/// side.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct TrialRowResponse {
    pub code: String,
    pub name: String,
    pub level: u8,
    /// asset, liability, equity, common, income or expense.
    pub class: String,
    /// The account's normal balance side: debit or credit.
    pub side: String,
    pub opening: i128,
    pub debit: i128,
    pub credit: i128,
    pub closing: i128,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct TrialTotalsResponse {
    pub debit: i128,
    pub credit: i128,
    pub opening_debit: i128,
    pub opening_credit: i128,
    pub closing_debit: i128,
    pub closing_credit: i128,
    /// Period debits = credits, and debit balances = credit balances at both ends.
    pub balanced: bool,
}

/// The trial balance (试算平衡表) of `from`..=`to` in one currency.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct TrialBalanceResponse {
    pub from: String,
    pub to: String,
    pub currency: String,
    pub rows: Vec<TrialRowResponse>,
    pub totals: TrialTotalsResponse,
}

/// One control account compared with its ledger accounts, in the ledger's orientation
/// (credits − debits: what the company owes is positive).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ControlCheckResponse {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub gl_balance: i128,
    pub subledger_balance: i128,
    /// gl_balance − subledger_balance.
    pub difference: i128,
}

/// A ledger transaction no posting rule maps, waiting (never dropped) for a rule.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct PostingExceptionResponse {
    pub record_id: u64,
    pub client_id: String,
    pub kind: String,
    pub debit_type: String,
    pub debit_account_no: String,
    pub credit_type: String,
    pub credit_account_no: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    pub ledger_date: String,
    /// Why no rule posted it.
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct PostingExceptionList {
    pub exceptions: Vec<PostingExceptionResponse>,
}

/// Each control account against its ledger accounts at the end of `date`.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct GlCheckResponse {
    pub date: String,
    pub checked: Vec<ControlCheckResponse>,
    /// Empty when the GL and the sub-ledger agree.
    pub differences: Vec<ControlCheckResponse>,
    /// Ledger transactions of this date or earlier still waiting for a posting rule: they
    /// move the sub-ledger but not yet the GL.
    pub unposted: Vec<PostingExceptionResponse>,
}

/// One reserve-fund (备付金) bank account on one day.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ReserveRowResponse {
    pub date: String,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub opening: i128,
    pub inflow: i128,
    pub outflow: i128,
    pub closing: i128,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ReserveReportResponse {
    pub from: String,
    pub to: String,
    pub rows: Vec<ReserveRowResponse>,
}

/// A closed day or month: it accepts no new vouchers.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ClosedPeriodResponse {
    /// `YYYY-MM-DD` or `YYYY-MM`.
    pub period: String,
    /// Nanoseconds since the Unix epoch.
    pub closed_at: u64,
    /// Vouchers in the period.
    pub vouchers: u64,
    /// The period's total debits, minor units (may pass i64).
    pub debit: i128,
    /// The period's total credits, minor units (may pass i64).
    pub credit: i128,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct ClosedPeriodList {
    pub closed: Vec<ClosedPeriodResponse>,
}

/// The feed's position and its lag behind the ledger's durable log.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct AccountingStatusResponse {
    /// The last ledger log sequence the feed posted.
    pub applied_sequence: u64,
    /// The ledger's last durable log sequence.
    pub durable_sequence: u64,
    pub lag_batches: u64,
    pub lag_seconds: f64,
    /// The accounting date the feed is at; null before its first batch.
    pub accounting_date: Option<String>,
    /// Vouchers stored in total (ledger, manual and reversals).
    pub vouchers: u64,
    /// Ledger transactions waiting for a posting rule.
    pub exceptions: u64,
    pub rules_version: u32,
    /// The feed's last failure; null when it is healthy.
    pub last_error: Option<String>,
}

/// What a retry of the exception queue did.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RetryExceptionsResponse {
    /// Exceptions posted now.
    pub posted: u64,
    /// Exceptions still waiting.
    pub remaining: u64,
}

/// The posting rules in force.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RulesResponse {
    pub version: u32,
    /// The rules file (TOML).
    pub rules: String,
}

/// The new rules' version and the retry of the exception queue under them.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct RulesReplacedResponse {
    pub version: u32,
    /// Exceptions the new rules posted.
    pub posted: u64,
    /// Exceptions still waiting.
    pub remaining: u64,
}
