//! `pay_merchants`.

use paycore_payments::Merchant;

use super::currency;
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, callback_hosts, fee_rate_bp, currency, account, created_at \
             FROM pay_merchants ",
            $rest
        )
    };
}

pub fn insert(sql: &mut dyn Sql, m: &Merchant) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_merchants \
         (id, name, callback_hosts, fee_rate_bp, currency, account, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Value::text(&m.id),
            Value::text(&m.name),
            Value::text(m.callback_hosts.join("\n")),
            Value::uint(m.fee_rate_bp as u64),
            Value::text(m.currency.code()),
            Value::text(&m.account),
            Value::uint(m.created_at),
        ],
    )?;
    Ok(())
}

pub fn get(sql: &mut dyn Sql, id: &str) -> Result<Option<Merchant>, StoreError> {
    sql.query_opt(select!("WHERE id = $1"), &[Value::text(id)])?
        .map(|r| from_row(&r))
        .transpose()
}

pub fn list(sql: &mut dyn Sql, after: &str, limit: u64) -> Result<Vec<Merchant>, StoreError> {
    sql.query(
        select!("WHERE id > $1 ORDER BY id LIMIT $2"),
        &[Value::text(after), Value::uint(limit)],
    )?
    .iter()
    .map(from_row)
    .collect()
}

fn from_row(r: &Row) -> Result<Merchant, StoreError> {
    Ok(Merchant {
        id: r.text(0)?,
        name: r.text(1)?,
        callback_hosts: r
            .text(2)?
            .split('\n')
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect(),
        fee_rate_bp: u32::try_from(r.uint(3)?)
            .map_err(|_| StoreError::Corrupt("fee_rate_bp".into()))?,
        currency: currency(&r.text(4)?)?,
        account: r.text(5)?,
        created_at: r.uint(6)?,
    })
}
