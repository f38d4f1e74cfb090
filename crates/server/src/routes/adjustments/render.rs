//! Adjustments as the API's JSON: the amount in digits and in capital numerals (大写), the
//! approvals in force, the ledger's last refusal, and the history.

use paycore_adjustments::{Adjustment, Event};
use paycore_api::adjustments::{
    AdjustmentResponse, ApprovalResponse, HistoryEntryResponse, RefusalResponse,
};
use paycore_money::{cny_capital, format_minor, Currency};

fn time(ms: u64) -> String {
    crate::render::timestamp(ms.saturating_mul(1_000_000))
}

/// 大写金额 for CNY (people miscount zeros); other currencies have none.
fn amount_in_words(amount: u64, currency: Currency) -> Option<String> {
    let minor = i64::try_from(amount).expect("amounts are checked to fit i64");
    (currency == Currency::CNY).then(|| cny_capital(minor))
}

fn entry(e: &Event) -> HistoryEntryResponse {
    HistoryEntryResponse {
        seq: e.seq,
        at: time(e.at),
        action: e.action.name().to_owned(),
        operator: e.operator.clone(),
        comment: e.comment.clone(),
        code: e.code.clone(),
        ledger_id: e.ledger_id.clone(),
    }
}

/// The adjustment, with its history when `with_history`.
pub fn adjustment(a: &Adjustment, with_history: bool) -> AdjustmentResponse {
    let minor = i64::try_from(a.amount).expect("amounts are checked to fit i64");
    AdjustmentResponse {
        id: a.id.clone(),
        status: a.status.name().to_owned(),
        debit_account: a.debit_account.clone(),
        credit_account: a.credit_account.clone(),
        amount: a.amount,
        amount_text: format_minor(minor, a.currency),
        amount_in_words: amount_in_words(a.amount, a.currency),
        currency: a.currency.code().to_owned(),
        reason: a.reason.clone(),
        evidence: a.evidence.clone(),
        exception_id: a.exception_id.clone(),
        maker: a.maker.clone(),
        approvals_required: a.approvals_required,
        approvals: a
            .approvals()
            .into_iter()
            .map(|p| ApprovalResponse {
                operator: p.operator,
                at: time(p.at),
                comment: p.comment,
            })
            .collect(),
        ledger_transfer_id: a.posted_ledger_id(),
        last_refusal: a.last_refusal().map(|e| RefusalResponse {
            code: e.code.clone().unwrap_or_default(),
            at: time(e.at),
        }),
        created_at: time(a.created_at),
        expires_at: time(a.expires_at),
        updated_at: time(a.updated_at),
        posted_at: a.posted_at.map(time),
        history: with_history.then(|| a.history.iter().map(entry).collect()),
    }
}
