//! `pay_channels` and `pay_channel_counters`.

use paycore_payments::{Channel, Method};

use super::{bool_of, currency};
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, protocol, endpoint, secret, methods, currencies, min_amount, max_amount, \
             weight, rate_limit_per_s, enabled, created_at FROM pay_channels ",
            $rest
        )
    };
}

/// Inserts or replaces a channel's configuration.
pub fn save(sql: &mut dyn Sql, c: &Channel, now: u64) -> Result<(), StoreError> {
    let methods: Vec<&str> = c.methods.iter().map(|m| m.name()).collect();
    let currencies: Vec<&str> = c.currencies.iter().map(|c| c.code()).collect();
    sql.exec(
        "INSERT INTO pay_channels (id, protocol, endpoint, secret, methods, currencies, \
         min_amount, max_amount, weight, rate_limit_per_s, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET protocol = excluded.protocol, \
         endpoint = excluded.endpoint, secret = excluded.secret, methods = excluded.methods, \
         currencies = excluded.currencies, min_amount = excluded.min_amount, \
         max_amount = excluded.max_amount, weight = excluded.weight, \
         rate_limit_per_s = excluded.rate_limit_per_s, enabled = excluded.enabled, \
         updated_at = excluded.updated_at",
        &[
            Value::text(&c.id),
            Value::text(&c.protocol),
            Value::text(&c.endpoint),
            Value::text(&c.secret),
            Value::text(methods.join(",")),
            Value::text(currencies.join(",")),
            Value::opt_uint(c.min_amount),
            Value::opt_uint(c.max_amount),
            Value::uint(c.weight as u64),
            Value::opt_uint(c.rate_limit_per_s.map(u64::from)),
            Value::int(c.enabled as i64),
            Value::uint(c.created_at),
            Value::uint(now),
        ],
    )?;
    Ok(())
}

pub fn get(sql: &mut dyn Sql, id: &str) -> Result<Option<Channel>, StoreError> {
    sql.query_opt(select!("WHERE id = $1"), &[Value::text(id)])?
        .map(|r| from_row(&r))
        .transpose()
}

pub fn all(sql: &mut dyn Sql) -> Result<Vec<Channel>, StoreError> {
    sql.query(select!("ORDER BY id"), &[])?
        .iter()
        .map(from_row)
        .collect()
}

fn from_row(r: &Row) -> Result<Channel, StoreError> {
    let methods = r
        .text(4)?
        .split(',')
        .map(|m| Method::from_name(m).ok_or_else(|| StoreError::Corrupt(format!("method {m:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let currencies = r
        .text(5)?
        .split(',')
        .map(currency)
        .collect::<Result<Vec<_>, _>>()?;
    let small = |v: u64| u32::try_from(v).map_err(|_| StoreError::Corrupt("a u32 column".into()));
    Ok(Channel {
        id: r.text(0)?,
        protocol: r.text(1)?,
        endpoint: r.text(2)?,
        secret: r.text(3)?,
        methods,
        currencies,
        min_amount: r.opt_uint(6)?,
        max_amount: r.opt_uint(7)?,
        weight: small(r.uint(8)?)?,
        rate_limit_per_s: r.opt_uint(9)?.map(small).transpose()?,
        enabled: bool_of(r.int(10)?),
        created_at: r.uint(11)?,
    })
}

/// How routing and outcomes went for a channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub routed: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub unknown: u64,
}

impl Counters {
    pub fn add(&mut self, other: Counters) {
        self.routed += other.routed;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.unknown += other.unknown;
    }

    pub fn is_zero(&self) -> bool {
        *self == Counters::default()
    }
}

/// Adds `delta` to a channel's stored counters.
pub fn add_counters(sql: &mut dyn Sql, channel: &str, delta: Counters) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_channel_counters (channel, routed, succeeded, failed, unknown) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel) DO UPDATE SET \
         routed = pay_channel_counters.routed + excluded.routed, \
         succeeded = pay_channel_counters.succeeded + excluded.succeeded, \
         failed = pay_channel_counters.failed + excluded.failed, \
         unknown = pay_channel_counters.unknown + excluded.unknown",
        &[
            Value::text(channel),
            Value::uint(delta.routed),
            Value::uint(delta.succeeded),
            Value::uint(delta.failed),
            Value::uint(delta.unknown),
        ],
    )?;
    Ok(())
}

pub fn counters(sql: &mut dyn Sql, channel: &str) -> Result<Counters, StoreError> {
    let row = sql.query_opt(
        "SELECT routed, succeeded, failed, unknown FROM pay_channel_counters WHERE channel = $1",
        &[Value::text(channel)],
    )?;
    let Some(r) = row else {
        return Ok(Counters::default());
    };
    Ok(Counters {
        routed: r.uint(0)?,
        succeeded: r.uint(1)?,
        failed: r.uint(2)?,
        unknown: r.uint(3)?,
    })
}
