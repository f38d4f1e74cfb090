//! `pay_refunds`: a refund and its one channel order, in one row (a refund is always read
//! and written whole).

use paycore_payments::{ChannelOrder, HoldState, OrderStatus, Refund, RefundSource};

use super::{bool_of, currency, failure, small};
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, payment_id, trade_id, merchant, amount, currency, reason, source, \
             channel, channel_order_no, paid_order_no, order_status, order_created_at, \
             order_updated_at, sent_at, sends, queries, bank_ref, order_failure_code, \
             order_failure_message, note, hold, posted, created_at, updated_at, next_check_at, \
             failure_code, failure_message, anomalies FROM pay_refunds ",
            $rest
        )
    };
}

/// Inserts or updates the refund.
pub fn save(sql: &mut dyn Sql, r: &Refund) -> Result<(), StoreError> {
    let o = &r.order;
    let anomalies = serde_json::to_string(&r.anomalies).expect("strings serialize");
    sql.exec(
        "INSERT INTO pay_refunds (id, payment_id, trade_id, merchant, amount, currency, reason, \
         source, channel, channel_order_no, paid_order_no, order_status, order_created_at, \
         order_updated_at, sent_at, sends, queries, bank_ref, order_failure_code, \
         order_failure_message, note, hold, posted, created_at, updated_at, next_check_at, \
         failure_code, failure_message, anomalies) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29) \
         ON CONFLICT (id) DO UPDATE SET order_status = excluded.order_status, \
         order_updated_at = excluded.order_updated_at, sent_at = excluded.sent_at, \
         sends = excluded.sends, queries = excluded.queries, bank_ref = excluded.bank_ref, \
         order_failure_code = excluded.order_failure_code, \
         order_failure_message = excluded.order_failure_message, note = excluded.note, \
         hold = excluded.hold, posted = excluded.posted, updated_at = excluded.updated_at, \
         next_check_at = excluded.next_check_at, failure_code = excluded.failure_code, \
         failure_message = excluded.failure_message, anomalies = excluded.anomalies",
        &[
            Value::text(&r.id),
            Value::text(&r.payment_id),
            Value::text(&r.trade_id),
            Value::text(&r.merchant),
            Value::uint(r.amount),
            Value::text(r.currency.code()),
            Value::text(&r.reason),
            Value::text(r.source.name()),
            Value::text(&o.channel),
            Value::text(&o.order_no),
            Value::text(&r.paid_order_no),
            Value::text(o.status.name()),
            Value::uint(o.created_at),
            Value::uint(o.updated_at),
            Value::uint(o.sent_at),
            Value::uint(o.sends as u64),
            Value::uint(o.queries as u64),
            Value::opt_text(o.bank_ref.as_deref()),
            Value::opt_text(o.failure.as_ref().map(|f| f.code.as_str())),
            Value::opt_text(o.failure.as_ref().map(|f| f.message.as_str())),
            Value::opt_text(o.note.as_deref()),
            Value::text(r.hold.name()),
            Value::uint(u64::from(r.posted)),
            Value::uint(r.created_at),
            Value::uint(r.updated_at),
            Value::opt_uint(r.next_check_at),
            Value::opt_text(r.failure.as_ref().map(|f| f.code.as_str())),
            Value::opt_text(r.failure.as_ref().map(|f| f.message.as_str())),
            Value::text(anomalies),
        ],
    )?;
    Ok(())
}

pub fn get(sql: &mut dyn Sql, id: &str) -> Result<Option<Refund>, StoreError> {
    sql.query_opt(select!("WHERE id = $1"), &[Value::text(id)])?
        .map(|r| from_row(&r))
        .transpose()
}

pub fn by_channel_order(sql: &mut dyn Sql, order_no: &str) -> Result<Option<Refund>, StoreError> {
    sql.query_opt(
        select!("WHERE channel_order_no = $1"),
        &[Value::text(order_no)],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

/// Every refund of a payment, in creation order.
pub fn of_payment(sql: &mut dyn Sql, payment_id: &str) -> Result<Vec<Refund>, StoreError> {
    sql.query(
        select!("WHERE payment_id = $1 ORDER BY created_at, id"),
        &[Value::text(payment_id)],
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// Refunds with a step left, due by `until`, soonest first: (refund id, next check).
pub fn due_checks(
    sql: &mut dyn Sql,
    until: u64,
    limit: u64,
) -> Result<Vec<(String, u64)>, StoreError> {
    super::due_checks(sql, super::due_checks_sql!("pay_refunds"), until, limit)
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("refund {what} {value:?}"))
}

fn from_row(r: &Row) -> Result<Refund, StoreError> {
    let (source, status, hold) = (r.text(7)?, r.text(11)?, r.text(21)?);
    let anomalies: Vec<String> = serde_json::from_str(&r.text(28)?)
        .map_err(|e| StoreError::Corrupt(format!("anomalies: {e}")))?;
    let order = ChannelOrder {
        channel: r.text(8)?,
        order_no: r.text(9)?,
        status: OrderStatus::from_name(&status).ok_or_else(|| corrupt("status", &status))?,
        created_at: r.uint(12)?,
        updated_at: r.uint(13)?,
        sent_at: r.uint(14)?,
        sends: small(r.uint(15)?)?,
        queries: small(r.uint(16)?)?,
        bank_ref: r.opt_text(17)?,
        failure: failure(r.opt_text(18)?, r.opt_text(19)?),
        note: r.opt_text(20)?,
    };
    Ok(Refund {
        id: r.text(0)?,
        payment_id: r.text(1)?,
        trade_id: r.text(2)?,
        merchant: r.text(3)?,
        amount: r.uint(4)?,
        currency: currency(&r.text(5)?)?,
        reason: r.text(6)?,
        source: RefundSource::from_name(&source).ok_or_else(|| corrupt("source", &source))?,
        order,
        paid_order_no: r.text(10)?,
        hold: HoldState::from_name(&hold).ok_or_else(|| corrupt("hold", &hold))?,
        posted: bool_of(r.int(22)?),
        created_at: r.uint(23)?,
        updated_at: r.uint(24)?,
        next_check_at: r.opt_uint(25)?,
        failure: failure(r.opt_text(26)?, r.opt_text(27)?),
        anomalies,
    })
}
