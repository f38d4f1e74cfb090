//! `pay_payments` and their channel orders in `pay_attempts`. A payment is always read and
//! written whole (its row and every attempt), so a reader never sees half of a change.

use paycore_payments::{Attempt, AttemptStatus, Failure, Method, Payment, PaymentStatus};

use super::{currency, route_json};
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select_payments {
    ($rest:literal) => {
        concat!(
            "SELECT id, trade_id, merchant, method, amount, currency, fee, status, \
             requested_channel, created_at, updated_at, succeeded_at, failure_code, \
             failure_message, anomalies FROM pay_payments ",
            $rest
        )
    };
}

/// Inserts or updates the payment and every attempt.
pub fn save(sql: &mut dyn Sql, p: &Payment) -> Result<(), StoreError> {
    let anomalies = serde_json::to_string(&p.anomalies).expect("strings serialize");
    sql.exec(
        "INSERT INTO pay_payments (id, trade_id, merchant, method, amount, currency, fee, \
         status, requested_channel, created_at, updated_at, succeeded_at, failure_code, \
         failure_message, anomalies) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         updated_at = excluded.updated_at, succeeded_at = excluded.succeeded_at, \
         failure_code = excluded.failure_code, failure_message = excluded.failure_message, \
         anomalies = excluded.anomalies",
        &[
            Value::text(&p.id),
            Value::text(&p.trade_id),
            Value::text(&p.merchant),
            Value::text(p.method.name()),
            Value::uint(p.amount),
            Value::text(p.currency.code()),
            Value::uint(p.fee),
            Value::text(p.status.name()),
            Value::opt_text(p.requested_channel.as_deref()),
            Value::uint(p.created_at),
            Value::uint(p.updated_at),
            Value::opt_uint(p.succeeded_at),
            Value::opt_text(p.failure.as_ref().map(|f| f.code.as_str())),
            Value::opt_text(p.failure.as_ref().map(|f| f.message.as_str())),
            Value::text(anomalies),
        ],
    )?;
    for (index, attempt) in p.attempts.iter().enumerate() {
        save_attempt(sql, &p.id, index as u64 + 1, attempt)?;
    }
    Ok(())
}

fn save_attempt(sql: &mut dyn Sql, payment: &str, no: u64, a: &Attempt) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_attempts (channel_order_no, payment_id, attempt, channel, status, \
         route, created_at, updated_at, sent_at, sends, queries, next_check_at, bank_ref, \
         failure_code, failure_message, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (channel_order_no) DO UPDATE SET status = excluded.status, \
         updated_at = excluded.updated_at, sent_at = excluded.sent_at, sends = excluded.sends, \
         queries = excluded.queries, next_check_at = excluded.next_check_at, \
         bank_ref = excluded.bank_ref, failure_code = excluded.failure_code, \
         failure_message = excluded.failure_message, note = excluded.note",
        &[
            Value::text(&a.channel_order_no),
            Value::text(payment),
            Value::uint(no),
            Value::text(&a.channel),
            Value::text(a.status.name()),
            Value::text(route_json::encode(&a.route)),
            Value::uint(a.created_at),
            Value::uint(a.updated_at),
            Value::uint(a.sent_at),
            Value::uint(a.sends as u64),
            Value::uint(a.queries as u64),
            Value::opt_uint(a.next_check_at),
            Value::opt_text(a.bank_ref.as_deref()),
            Value::opt_text(a.failure.as_ref().map(|f| f.code.as_str())),
            Value::opt_text(a.failure.as_ref().map(|f| f.message.as_str())),
            Value::opt_text(a.note.as_deref()),
        ],
    )?;
    Ok(())
}

pub fn get(sql: &mut dyn Sql, id: &str) -> Result<Option<Payment>, StoreError> {
    let Some(row) = sql.query_opt(select_payments!("WHERE id = $1"), &[Value::text(id)])? else {
        return Ok(None);
    };
    let attempts = attempts_of(sql, id)?;
    from_row(&row, attempts).map(Some)
}

/// Every payment of a trade, in creation order.
pub fn of_trade(sql: &mut dyn Sql, trade_id: &str) -> Result<Vec<Payment>, StoreError> {
    let rows = sql.query(
        select_payments!("WHERE trade_id = $1 ORDER BY created_at, id"),
        &[Value::text(trade_id)],
    )?;
    rows.iter()
        .map(|row| {
            let attempts = attempts_of(sql, &row.text(0)?)?;
            from_row(row, attempts)
        })
        .collect()
}

/// The payment a channel order number belongs to.
pub fn by_channel_order(sql: &mut dyn Sql, order_no: &str) -> Result<Option<Payment>, StoreError> {
    let row = sql.query_opt(
        "SELECT payment_id FROM pay_attempts WHERE channel_order_no = $1",
        &[Value::text(order_no)],
    )?;
    match row {
        Some(r) => get(sql, &r.text(0)?),
        None => Ok(None),
    }
}

/// Channel orders whose outcome is open, due for a status query by `until` (or all of
/// them), soonest first: (payment id, channel order number, next check).
pub fn due_checks(
    sql: &mut dyn Sql,
    until: u64,
    limit: u64,
) -> Result<Vec<(String, String, u64)>, StoreError> {
    sql.query(
        "SELECT payment_id, channel_order_no, next_check_at FROM pay_attempts \
         WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
         ORDER BY next_check_at LIMIT $2",
        &[Value::uint(until), Value::uint(limit)],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.text(1)?, r.uint(2)?)))
    .collect()
}

const ATTEMPTS: &str = "SELECT channel_order_no, channel, status, route, created_at, updated_at, \
     sent_at, sends, queries, next_check_at, bank_ref, failure_code, failure_message, note \
     FROM pay_attempts WHERE payment_id = $1 ORDER BY attempt";

fn attempts_of(sql: &mut dyn Sql, payment: &str) -> Result<Vec<Attempt>, StoreError> {
    sql.query(ATTEMPTS, &[Value::text(payment)])?
        .iter()
        .map(attempt_from_row)
        .collect()
}

fn failure(code: Option<String>, message: Option<String>) -> Option<Failure> {
    code.map(|code| Failure {
        code,
        message: message.unwrap_or_default(),
    })
}

fn small(v: u64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt("a count above u32".into()))
}

fn attempt_from_row(r: &Row) -> Result<Attempt, StoreError> {
    let status = r.text(2)?;
    Ok(Attempt {
        channel_order_no: r.text(0)?,
        channel: r.text(1)?,
        status: AttemptStatus::from_name(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("attempt status {status:?}")))?,
        route: route_json::decode(&r.text(3)?)?,
        created_at: r.uint(4)?,
        updated_at: r.uint(5)?,
        sent_at: r.uint(6)?,
        sends: small(r.uint(7)?)?,
        queries: small(r.uint(8)?)?,
        next_check_at: r.opt_uint(9)?,
        bank_ref: r.opt_text(10)?,
        failure: failure(r.opt_text(11)?, r.opt_text(12)?),
        note: r.opt_text(13)?,
    })
}

fn from_row(r: &Row, attempts: Vec<Attempt>) -> Result<Payment, StoreError> {
    if attempts.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "payment {} has no attempt",
            r.text(0)?
        )));
    }
    let method = r.text(3)?;
    let status = r.text(7)?;
    let anomalies: Vec<String> = serde_json::from_str(&r.text(14)?)
        .map_err(|e| StoreError::Corrupt(format!("anomalies: {e}")))?;
    Ok(Payment {
        id: r.text(0)?,
        trade_id: r.text(1)?,
        merchant: r.text(2)?,
        method: Method::from_name(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("method {method:?}")))?,
        amount: r.uint(4)?,
        currency: currency(&r.text(5)?)?,
        fee: r.uint(6)?,
        status: PaymentStatus::from_name(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("payment status {status:?}")))?,
        attempts,
        requested_channel: r.opt_text(8)?,
        created_at: r.uint(9)?,
        updated_at: r.uint(10)?,
        succeeded_at: r.opt_uint(11)?,
        failure: failure(r.opt_text(12)?, r.opt_text(13)?),
        anomalies,
    })
}
