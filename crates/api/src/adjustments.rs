//! Adjustments (调账) with maker-checker (双人复核): proposals, approvals, rejections and their
//! history. Amounts are integers in minor units, shown in Chinese capital numerals (大写) next
//! to the digits; times are RFC 3339 (UTC).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CreateAdjustmentRequest {
    /// Idempotency key and the adjustment's id: 1–48 characters of `A-Z a-z 0-9 _ - . :`.
    /// Its ledger transfer is `adjustment:<id>` (`adjustment:<id>:<n>` after refusals).
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,48}$")]
    pub id: String,
    pub debit_account: String,
    pub credit_account: String,
    /// Minor units (fen for CNY), > 0.
    pub amount: u64,
    pub currency: String,
    /// Why the correction is needed (required, ≤ 512 bytes).
    pub reason: String,
    /// A ticket, document reference or URL (≤ 1024 bytes).
    pub evidence: Option<String>,
    /// The reconciliation exception (差错) this adjustment settles.
    pub exception_id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveAdjustmentRequest {
    /// ≤ 512 bytes.
    pub comment: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RejectAdjustmentRequest {
    /// Why it is rejected (required, ≤ 512 bytes).
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct ApprovalResponse {
    pub operator: String,
    pub at: String,
    pub comment: Option<String>,
}

/// One history entry: never edited, kept forever.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntryResponse {
    pub seq: u32,
    pub at: String,
    /// created, approved, posted, posting_refused, rejected or expired.
    pub action: String,
    /// The person, or `system` (expiry; postings finished after a restart).
    pub operator: String,
    /// The reason (created, rejected) or the approver's comment.
    pub comment: Option<String>,
    /// The ledger's error code of a refused posting.
    pub code: Option<String>,
    /// The ledger transfer a posting used.
    pub ledger_id: Option<String>,
}

/// The ledger's last refusal while the adjustment waits again.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct RefusalResponse {
    pub code: String,
    pub at: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct AdjustmentResponse {
    pub id: String,
    /// pending_approval, partially_approved, approved (posting now), posted, rejected, expired.
    pub status: String,
    pub debit_account: String,
    pub credit_account: String,
    /// Minor units.
    pub amount: u64,
    /// The amount in the currency's units, e.g. `10000000.00`.
    pub amount_text: String,
    /// Chinese capital numerals (大写金额) for CNY, e.g. 壹仟万元整; null for other currencies.
    pub amount_in_words: Option<String>,
    pub currency: String,
    pub reason: String,
    pub evidence: Option<String>,
    pub exception_id: Option<String>,
    /// Who proposed it.
    pub maker: String,
    /// 1, or 2 above the server's `--adjustment-dual-approval-above`.
    pub approvals_required: u8,
    /// The approvals in force.
    pub approvals: Vec<ApprovalResponse>,
    /// The ledger transfer that posted it (`GET /v1/transfers/{id}`), once posted.
    pub ledger_transfer_id: Option<String>,
    /// The ledger's last refusal, while it waits for approval again.
    pub last_refusal: Option<RefusalResponse>,
    pub created_at: String,
    pub expires_at: String,
    pub updated_at: String,
    pub posted_at: Option<String>,
    /// Every entry, oldest first (`GET /v1/adjustments/{id}`; not in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntryResponse>>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct AdjustmentList {
    pub adjustments: Vec<AdjustmentResponse>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<u64>,
}
