//! Ledger values to response bodies: accounts, transfer records and holds, with times as
//! RFC 3339 text and amounts in minor units.

use paycore_ledger::{AccountId, Hold, Ledger, OpKind, Record, RecordId};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::ErrorDetail;
use paycore_api::ledger::{AccountResponse, HoldResponse, HotSettings, TransferResponse};

pub fn timestamp(nanos: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub fn account(ledger: &Ledger, id: AccountId) -> Option<AccountResponse> {
    let mut account = *ledger.account(id)?;
    let info = ledger.account_info(id)?;
    // A split account shows its sub-accounts' sums (saturated for display, like `available`;
    // real balances stay far inside i64).
    let subs = ledger.sub_accounts(id).unwrap_or_default();
    for sub in subs {
        let part = ledger.account(*sub)?;
        account.balance = account.balance.saturating_add(part.balance);
        account.frozen = account.frozen.saturating_add(part.frozen);
    }
    Some(AccountResponse {
        account_no: info.number.to_string(),
        account_type: account.kind.name().to_owned(),
        currency: account.currency.code().to_owned(),
        balance: account.balance,
        frozen: account.frozen,
        available: account.available_i64(),
        status: account.status.name().to_owned(),
        allow_negative: account.allow_negative,
        reference: info.reference.as_str().to_owned(),
        opened_at: timestamp(info.opened_at),
        opened_by: info.opened_by.as_str().to_owned(),
        pending_credit: ledger.pending_credit(id),
        hot: ledger.hot(id).map(|b| HotSettings {
            mode: "buffered".into(),
            flush_interval_ms: Some(b.options.flush_interval_ms),
            max_entries: Some(b.options.max_entries),
            credit_line: Some(b.options.credit_line),
            id: None,
        }),
        sub_accounts: subs.iter().filter_map(|s| number(ledger, *s)).collect(),
    })
}

fn number(ledger: &Ledger, id: AccountId) -> Option<String> {
    ledger.account_info(id).map(|info| info.number.to_string())
}

/// A transfer-like record (transfer, deposit, withdrawal, capture) as a transfer.
pub fn transfer(ledger: &Ledger, id: RecordId) -> Option<TransferResponse> {
    let record = ledger.record(id)?;
    if !matches!(record.op, OpKind::Transfer | OpKind::Capture) {
        return None;
    }
    Some(transfer_of(ledger, record))
}

pub fn transfer_of(ledger: &Ledger, record: &Record) -> TransferResponse {
    TransferResponse {
        id: ledger.record_client_id(record).to_owned(),
        debit_account: number(ledger, record.debit),
        credit_account: number(ledger, record.credit),
        amount: record.amount,
        currency: record.currency.map(|c| c.code().to_owned()),
        kind: record.kind.map_or("transfer", |k| k.name()).to_owned(),
        reference: ledger.record_reference(record).to_owned(),
        status: if record.result.is_ok() {
            "posted"
        } else {
            "rejected"
        }
        .to_owned(),
        error: record.result.err().map(|code| ErrorDetail {
            code: code.code().to_owned(),
            message: code.to_string(),
        }),
        timestamp: timestamp(record.timestamp),
    }
}

pub fn hold(ledger: &Ledger, hold: &Hold) -> HoldResponse {
    let freeze = ledger
        .record(hold.record)
        .expect("holds point at their freeze record");
    let account = ledger
        .account(hold.account)
        .expect("holds point at their account");
    HoldResponse {
        id: ledger.record_client_id(freeze).to_owned(),
        account: number(ledger, hold.account).unwrap_or_default(),
        currency: account.currency.code().to_owned(),
        amount: hold.amount,
        remaining: hold.remaining,
        captured: hold.captured,
        status: hold.status.name().to_owned(),
        expires_at: hold.expires_at.map(timestamp),
        created_at: timestamp(freeze.timestamp),
    }
}
