//! `pay_payouts` and their channel orders in `pay_payout_attempts` (each with the hold that
//! guards it). A payout is always read and written whole, so a reader never sees half of a
//! change.

use paycore_payments::{HoldState, Payout, PayoutAttempt};

use super::attempt_rows::{
    attempt_columns, attempt_select, attempt_updates, order_from_row, order_values,
};
use super::{currency, failure};
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select_payouts {
    ($rest:literal) => {
        concat!(
            "SELECT id, merchant, amount, currency, bank_account, requested_channel, \
             created_at, updated_at, next_check_at, failure_code, failure_message, anomalies, \
             notify_url FROM pay_payouts ",
            $rest
        )
    };
}

/// Inserts or updates the payout and every attempt.
pub fn save(sql: &mut dyn Sql, p: &Payout) -> Result<(), StoreError> {
    let anomalies = serde_json::to_string(&p.anomalies).expect("strings serialize");
    sql.exec(
        "INSERT INTO pay_payouts (id, merchant, amount, currency, bank_account, \
         requested_channel, created_at, updated_at, next_check_at, failure_code, \
         failure_message, anomalies, notify_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, \
         next_check_at = excluded.next_check_at, failure_code = excluded.failure_code, \
         failure_message = excluded.failure_message, anomalies = excluded.anomalies",
        &[
            Value::text(&p.id),
            Value::text(&p.merchant),
            Value::uint(p.amount),
            Value::text(p.currency.code()),
            Value::text(&p.bank_account),
            Value::opt_text(p.requested_channel.as_deref()),
            Value::uint(p.created_at),
            Value::uint(p.updated_at),
            Value::opt_uint(p.next_check_at),
            Value::opt_text(p.failure.as_ref().map(|f| f.code.as_str())),
            Value::opt_text(p.failure.as_ref().map(|f| f.message.as_str())),
            Value::text(anomalies),
            Value::opt_text(p.notify_url.as_deref()),
        ],
    )?;
    for (index, attempt) in p.attempts.iter().enumerate() {
        save_attempt(sql, &p.id, index as u64 + 1, attempt)?;
    }
    Ok(())
}

fn save_attempt(
    sql: &mut dyn Sql,
    payout: &str,
    no: u64,
    a: &PayoutAttempt,
) -> Result<(), StoreError> {
    let mut values = order_values(payout, no, &a.order, &a.route);
    values.push(Value::text(a.hold.name()));
    sql.exec(
        concat!(
            "INSERT INTO pay_payout_attempts (",
            attempt_columns!("payout_id"),
            ", hold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16) ON CONFLICT (channel_order_no) DO UPDATE SET ",
            attempt_updates!(),
            ", hold = excluded.hold"
        ),
        &values,
    )?;
    Ok(())
}

pub fn get(sql: &mut dyn Sql, id: &str) -> Result<Option<Payout>, StoreError> {
    let Some(row) = sql.query_opt(select_payouts!("WHERE id = $1"), &[Value::text(id)])? else {
        return Ok(None);
    };
    let attempts = attempts_of(sql, id)?;
    from_row(&row, attempts).map(Some)
}

/// The payout a channel order number belongs to.
pub fn by_channel_order(sql: &mut dyn Sql, order_no: &str) -> Result<Option<Payout>, StoreError> {
    let row = sql.query_opt(
        "SELECT payout_id FROM pay_payout_attempts WHERE channel_order_no = $1",
        &[Value::text(order_no)],
    )?;
    match row {
        Some(r) => get(sql, &r.text(0)?),
        None => Ok(None),
    }
}

/// A merchant's payouts, newest first, after the cursor `(created_at, id)` of the last one
/// seen.
pub fn of_merchant(
    sql: &mut dyn Sql,
    merchant: &str,
    before: Option<(u64, &str)>,
    limit: u64,
) -> Result<Vec<Payout>, StoreError> {
    let (at, id) = before.unwrap_or((i64::MAX as u64, ""));
    let rows = sql.query(
        select_payouts!(
            "WHERE merchant = $1 AND (created_at < $2 OR (created_at = $2 AND id < $3) \
             OR $3 = '') ORDER BY created_at DESC, id DESC LIMIT $4"
        ),
        &[
            Value::text(merchant),
            Value::uint(at),
            Value::text(id),
            Value::uint(limit),
        ],
    )?;
    rows.iter()
        .map(|row| {
            let attempts = attempts_of(sql, &row.text(0)?)?;
            from_row(row, attempts)
        })
        .collect()
}

/// Payouts with a step left, due by `until`, soonest first: (payout id, next check).
pub fn due_checks(
    sql: &mut dyn Sql,
    until: u64,
    limit: u64,
) -> Result<Vec<(String, u64)>, StoreError> {
    super::due_checks(sql, super::due_checks_sql!("pay_payouts"), until, limit)
}

const ATTEMPTS: &str = concat!(
    "SELECT ",
    attempt_select!(),
    ", hold FROM pay_payout_attempts WHERE payout_id = $1 ORDER BY attempt"
);

fn attempts_of(sql: &mut dyn Sql, payout: &str) -> Result<Vec<PayoutAttempt>, StoreError> {
    sql.query(ATTEMPTS, &[Value::text(payout)])?
        .iter()
        .map(|r| {
            let (order, route) = order_from_row(r)?;
            let hold = r.text(13)?;
            let hold = HoldState::from_name(&hold)
                .ok_or_else(|| StoreError::Corrupt(format!("payout hold {hold:?}")))?;
            Ok(PayoutAttempt { order, route, hold })
        })
        .collect()
}

fn from_row(r: &Row, attempts: Vec<PayoutAttempt>) -> Result<Payout, StoreError> {
    if attempts.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "payout {} has no channel order",
            r.text(0)?
        )));
    }
    let anomalies: Vec<String> = serde_json::from_str(&r.text(11)?)
        .map_err(|e| StoreError::Corrupt(format!("anomalies: {e}")))?;
    Ok(Payout {
        id: r.text(0)?,
        merchant: r.text(1)?,
        amount: r.uint(2)?,
        currency: currency(&r.text(3)?)?,
        bank_account: r.text(4)?,
        requested_channel: r.opt_text(5)?,
        notify_url: r.opt_text(12)?,
        attempts,
        created_at: r.uint(6)?,
        updated_at: r.uint(7)?,
        next_check_at: r.opt_uint(8)?,
        failure: failure(r.opt_text(9)?, r.opt_text(10)?),
        anomalies,
    })
}
