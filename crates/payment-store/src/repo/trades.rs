//! `pay_trades`.

use paycore_payments::{Trade, TradeStatus};

use super::currency;
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT trade_id, merchant, merchant_order_no, amount, currency, subject, notify_url, \
             status, created_at, expires_at, paid_by, paid_at, claimed_by FROM pay_trades ",
            $rest
        )
    };
}

pub fn insert(sql: &mut dyn Sql, t: &Trade) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_trades (trade_id, merchant, merchant_order_no, amount, currency, \
         subject, notify_url, status, created_at, expires_at, paid_by, paid_at, claimed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            Value::text(&t.trade_id),
            Value::text(&t.merchant),
            Value::text(&t.merchant_order_no),
            Value::uint(t.amount),
            Value::text(t.currency.code()),
            Value::text(&t.subject),
            Value::opt_text(t.notify_url.as_deref()),
            Value::text(t.status.name()),
            Value::uint(t.created_at),
            Value::uint(t.expires_at),
            Value::opt_text(t.paid_by.as_deref()),
            Value::opt_uint(t.paid_at),
            Value::opt_text(t.claimed_by.as_deref()),
        ],
    )?;
    if let Some(cache) = sql.cache() {
        cache.put_trade(t);
    }
    Ok(())
}

/// Writes the fields that change over a trade's life.
pub fn update(sql: &mut dyn Sql, t: &Trade) -> Result<(), StoreError> {
    let changed = sql.exec(
        "UPDATE pay_trades SET status = $2, paid_by = $3, paid_at = $4, claimed_by = $5 \
         WHERE trade_id = $1",
        &[
            Value::text(&t.trade_id),
            Value::text(t.status.name()),
            Value::opt_text(t.paid_by.as_deref()),
            Value::opt_uint(t.paid_at),
            Value::opt_text(t.claimed_by.as_deref()),
        ],
    )?;
    if changed != 1 {
        return Err(StoreError::Corrupt(format!(
            "trade {} is not stored",
            t.trade_id
        )));
    }
    if let Some(cache) = sql.cache() {
        cache.put_trade(t);
    }
    Ok(())
}

pub fn get(sql: &mut dyn Sql, trade_id: &str) -> Result<Option<Trade>, StoreError> {
    let Some(cached) = sql.cache().and_then(|cache| cache.trade(trade_id)) else {
        let stored = get_stored(sql, trade_id)?;
        if let (Some(trade), Some(cache)) = (&stored, sql.cache()) {
            cache.put_trade(trade);
        }
        return Ok(stored);
    };
    #[cfg(debug_assertions)]
    assert_eq!(
        get_stored(sql, trade_id)?.as_ref(),
        Some(&cached),
        "the writer's cache holds trade {trade_id} as it is stored"
    );
    Ok(Some(cached))
}

/// The trade as its row says.
fn get_stored(sql: &mut dyn Sql, trade_id: &str) -> Result<Option<Trade>, StoreError> {
    sql.query_opt(select!("WHERE trade_id = $1"), &[Value::text(trade_id)])?
        .map(|r| from_row(&r))
        .transpose()
}

pub fn by_merchant_order(
    sql: &mut dyn Sql,
    merchant: &str,
    merchant_order_no: &str,
) -> Result<Option<Trade>, StoreError> {
    sql.query_opt(
        select!("WHERE merchant = $1 AND merchant_order_no = $2"),
        &[Value::text(merchant), Value::text(merchant_order_no)],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

/// A merchant's trades in id order after `after`.
pub fn list(
    sql: &mut dyn Sql,
    merchant: &str,
    after: &str,
    limit: u64,
) -> Result<Vec<Trade>, StoreError> {
    sql.query(
        select!("WHERE merchant = $1 AND trade_id > $2 ORDER BY trade_id LIMIT $3"),
        &[
            Value::text(merchant),
            Value::text(after),
            Value::uint(limit),
        ],
    )?
    .iter()
    .map(from_row)
    .collect()
}

fn from_row(r: &Row) -> Result<Trade, StoreError> {
    let status = r.text(7)?;
    Ok(Trade {
        trade_id: r.text(0)?,
        merchant: r.text(1)?,
        merchant_order_no: r.text(2)?,
        amount: r.uint(3)?,
        currency: currency(&r.text(4)?)?,
        subject: r.text(5)?,
        notify_url: r.opt_text(6)?,
        status: TradeStatus::from_name(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("trade status {status:?}")))?,
        created_at: r.uint(8)?,
        expires_at: r.uint(9)?,
        paid_by: r.opt_text(10)?,
        paid_at: r.opt_uint(11)?,
        claimed_by: r.opt_text(12)?,
    })
}
