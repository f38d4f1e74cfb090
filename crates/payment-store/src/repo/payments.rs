//! `pay_payments` and their channel orders in `pay_attempts`. A payment is always read whole
//! (its row and every attempt) and written in one writer transaction — whole (`save`), or what
//! changed since it was read (`save_over`) — so a reader never sees half of a change.

use paycore_payments::{
    Attempt, ChannelOrder, Disposition, Method, Payment, PaymentStatus, Posted, ReturnReason,
};

use super::attempt_rows::{
    attempt_columns, attempt_select, attempt_updates, order_from_row, order_values, progress_values,
};
use super::{currency, failure};
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select_payments {
    ($rest:literal) => {
        concat!(
            "SELECT id, trade_id, merchant, method, amount, currency, fee, status, \
             requested_channel, created_at, updated_at, succeeded_at, failure_code, \
             failure_message, anomalies, payer_account, balance_amount, disposition, posted, \
             refund_id, next_check_at, ledger_tries FROM pay_payments ",
            $rest
        )
    };
}

/// Inserts or updates the payment and every attempt.
pub fn save(sql: &mut dyn Sql, p: &Payment) -> Result<(), StoreError> {
    save_row(sql, p)?;
    for (index, attempt) in p.attempts.iter().enumerate() {
        save_attempt(sql, &p.id, index as u64 + 1, attempt)?;
    }
    if let Some(cache) = sql.cache() {
        cache.put_payment(p);
    }
    Ok(())
}

/// The payment's own row (not its attempts).
fn save_row(sql: &mut dyn Sql, p: &Payment) -> Result<(), StoreError> {
    let anomalies = serde_json::to_string(&p.anomalies).expect("strings serialize");
    sql.exec(
        "INSERT INTO pay_payments (id, trade_id, merchant, method, amount, currency, fee, \
         status, requested_channel, created_at, updated_at, succeeded_at, failure_code, \
         failure_message, anomalies, payer_account, balance_amount, disposition, posted, \
         refund_id, next_check_at, ledger_tries) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         updated_at = excluded.updated_at, succeeded_at = excluded.succeeded_at, \
         failure_code = excluded.failure_code, failure_message = excluded.failure_message, \
         anomalies = excluded.anomalies, disposition = excluded.disposition, \
         posted = excluded.posted, refund_id = excluded.refund_id, \
         next_check_at = excluded.next_check_at, ledger_tries = excluded.ledger_tries",
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
            Value::opt_text(p.payer_account.as_deref()),
            Value::uint(p.balance_amount),
            Value::opt_text(p.disposition.map(disposition_name).as_deref()),
            Value::text(p.posted.name()),
            Value::opt_text(p.refund_id.as_deref()),
            Value::opt_uint(p.next_check_at),
            Value::uint(p.ledger_tries.into()),
        ],
    )?;
    Ok(())
}

/// `save` of a payment read as `before` in the same transaction: writes nothing if nothing
/// changed, and only the channel orders that did. Half of a pay-in's writer jobs change the
/// payment but none of its orders (measured: rewriting the orders was a seventh of the
/// writer's time under pay-in load).
pub fn save_over(sql: &mut dyn Sql, p: &Payment, before: &Payment) -> Result<(), StoreError> {
    assert_eq!(
        p.id, before.id,
        "a payment is saved over its own earlier state"
    );
    if p == before {
        return Ok(());
    }
    save_row(sql, p)?;
    for (index, attempt) in p.attempts.iter().enumerate() {
        match before.attempts.get(index) {
            Some(earlier) if earlier == attempt => {}
            // The same order, routed as it was: its route (JSON) need not be written again.
            Some(earlier)
                if earlier.order.order_no == attempt.order.order_no
                    && earlier.route == attempt.route =>
            {
                update_order(sql, &attempt.order)?;
            }
            _ => save_attempt(sql, &p.id, index as u64 + 1, attempt)?,
        }
    }
    if let Some(cache) = sql.cache() {
        cache.put_payment(p);
    }
    Ok(())
}

/// Writes what can change of a stored channel order: everything but its owner, number,
/// channel, route and creation time.
fn update_order(sql: &mut dyn Sql, o: &ChannelOrder) -> Result<(), StoreError> {
    let mut values = vec![Value::text(&o.order_no), Value::text(o.status.name())];
    values.extend(progress_values(o));
    let updated = sql.exec(
        "UPDATE pay_attempts SET status = $2, updated_at = $3, sent_at = $4, sends = $5, \
         queries = $6, bank_ref = $7, failure_code = $8, failure_message = $9, note = $10 \
         WHERE channel_order_no = $1",
        &values,
    )?;
    if updated != 1 {
        return Err(StoreError::Corrupt(format!(
            "channel order {} was read but is not stored",
            o.order_no
        )));
    }
    Ok(())
}

fn disposition_name(d: Disposition) -> String {
    match d {
        Disposition::Keep => "keep".to_owned(),
        Disposition::Return(reason) => format!("return:{}", reason.name()),
    }
}

fn disposition_from(name: &str) -> Result<Disposition, StoreError> {
    let parsed = match name.strip_prefix("return:") {
        None if name == "keep" => Some(Disposition::Keep),
        None => None,
        Some(reason) => ReturnReason::from_name(reason).map(Disposition::Return),
    };
    parsed.ok_or_else(|| StoreError::Corrupt(format!("disposition {name:?}")))
}

fn save_attempt(sql: &mut dyn Sql, payment: &str, no: u64, a: &Attempt) -> Result<(), StoreError> {
    sql.exec(
        concat!(
            "INSERT INTO pay_attempts (",
            attempt_columns!("payment_id"),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (channel_order_no) DO UPDATE SET ",
            attempt_updates!()
        ),
        &order_values(payment, no, &a.order, &a.route),
    )?;
    Ok(())
}

pub fn get(sql: &mut dyn Sql, id: &str) -> Result<Option<Payment>, StoreError> {
    let Some(cached) = sql.cache().and_then(|cache| cache.payment(id)) else {
        let stored = get_stored(sql, id)?;
        if let (Some(payment), Some(cache)) = (&stored, sql.cache()) {
            cache.put_payment(payment);
        }
        return Ok(stored);
    };
    #[cfg(debug_assertions)]
    assert_eq!(
        get_stored(sql, id)?.as_ref(),
        Some(&cached),
        "the writer's cache holds payment {id} as it is stored"
    );
    Ok(Some(cached))
}

/// The payment as its rows say.
fn get_stored(sql: &mut dyn Sql, id: &str) -> Result<Option<Payment>, StoreError> {
    let Some(row) = sql.query_opt(select_payments!("WHERE id = $1"), &[Value::text(id)])? else {
        return Ok(None);
    };
    let attempts = attempts_of(sql, id)?;
    from_row(&row, attempts).map(Some)
}

/// The trade of the payment that sent channel order `order_no`, if any.
pub fn trade_of_order(sql: &mut dyn Sql, order_no: &str) -> Result<Option<String>, StoreError> {
    sql.query_opt(
        "SELECT p.trade_id FROM pay_attempts a JOIN pay_payments p ON p.id = a.payment_id \
         WHERE a.channel_order_no = $1",
        &[Value::text(order_no)],
    )?
    .map(|row| row.text(0))
    .transpose()
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

/// Payments with something left to do (an open outcome to ask about, a step to finish),
/// due by `until`, soonest first: (payment id, next check).
pub fn due_checks(
    sql: &mut dyn Sql,
    until: u64,
    limit: u64,
) -> Result<Vec<(String, u64)>, StoreError> {
    super::due_checks(sql, super::due_checks_sql!("pay_payments"), until, limit)
}

const ATTEMPTS: &str = concat!(
    "SELECT ",
    attempt_select!(),
    " FROM pay_attempts WHERE payment_id = $1 ORDER BY attempt"
);

fn attempts_of(sql: &mut dyn Sql, payment: &str) -> Result<Vec<Attempt>, StoreError> {
    sql.query(ATTEMPTS, &[Value::text(payment)])?
        .iter()
        .map(|r| order_from_row(r).map(|(order, route)| Attempt { order, route }))
        .collect()
}

fn from_row(r: &Row, attempts: Vec<Attempt>) -> Result<Payment, StoreError> {
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
        payer_account: r.opt_text(15)?,
        balance_amount: r.uint(16)?,
        disposition: r.opt_text(17)?.map(|d| disposition_from(&d)).transpose()?,
        posted: Posted::from_name(&r.text(18)?)
            .ok_or_else(|| StoreError::Corrupt("posted".into()))?,
        refund_id: r.opt_text(19)?,
        next_check_at: r.opt_uint(20)?,
        ledger_tries: u16::try_from(r.uint(21)?)
            .map_err(|_| StoreError::Corrupt("ledger_tries".into()))?,
    })
}
