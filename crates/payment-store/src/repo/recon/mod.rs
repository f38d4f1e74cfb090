//! Reconciliation's rows: imported statements and their lines (`pay_recon_statements`,
//! `pay_recon_lines`), runs, orders carried to the next day, and exceptions. The matching
//! reads are paged by key, so a run never holds more than a page of either side. Runs are in
//! `runs.rs`, exceptions in `exceptions.rs`.

mod exceptions;
mod runs;

pub use exceptions::*;
pub use runs::*;

use paycore_money::Currency;
use paycore_recon::{OurStatus, Ours, RecordKind, Side, Theirs};
use serde_json::{json, Value as Json};

use super::currency;
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRecord {
    pub id: String,
    pub channel: String,
    pub day: String,
    pub format: String,
    pub sha256: String,
    pub lines: u64,
    /// `upload` or `fetch`.
    pub source: String,
    pub imported_at: u64,
}

/// One statement line as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRecord {
    pub seq: u64,
    pub line_no: u64,
    pub key: String,
    pub kind: RecordKind,
    pub amount: u64,
    pub fee: i64,
    pub status: String,
    pub bank_ref: String,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("recon {what}: {e}"))
}

pub fn statement_by_hash(
    sql: &mut dyn Sql,
    channel: &str,
    day: &str,
    sha256: &str,
) -> Result<Option<StatementRecord>, StoreError> {
    sql.query_opt(
        "SELECT id, channel, day, format, sha256, lines, source, imported_at \
         FROM pay_recon_statements WHERE channel = $1 AND day = $2 AND sha256 = $3",
        &[Value::text(channel), Value::text(day), Value::text(sha256)],
    )?
    .map(|r| statement_from_row(&r))
    .transpose()
}

pub fn statement(sql: &mut dyn Sql, id: &str) -> Result<Option<StatementRecord>, StoreError> {
    sql.query_opt(
        "SELECT id, channel, day, format, sha256, lines, source, imported_at \
         FROM pay_recon_statements WHERE id = $1",
        &[Value::text(id)],
    )?
    .map(|r| statement_from_row(&r))
    .transpose()
}

fn statement_from_row(r: &Row) -> Result<StatementRecord, StoreError> {
    Ok(StatementRecord {
        id: r.text(0)?,
        channel: r.text(1)?,
        day: r.text(2)?,
        format: r.text(3)?,
        sha256: r.text(4)?,
        lines: r.uint(5)?,
        source: r.text(6)?,
        imported_at: r.uint(7)?,
    })
}

pub fn insert_statement(sql: &mut dyn Sql, s: &StatementRecord) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_recon_statements (id, channel, day, format, sha256, lines, source, \
         imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Value::text(&s.id),
            Value::text(&s.channel),
            Value::text(&s.day),
            Value::text(&s.format),
            Value::text(&s.sha256),
            Value::uint(s.lines),
            Value::text(&s.source),
            Value::uint(s.imported_at),
        ],
    )?;
    Ok(())
}

/// Stores lines of statement `id` (a retry of the same lines is a no-op).
pub fn insert_lines(sql: &mut dyn Sql, id: &str, lines: &[LineRecord]) -> Result<(), StoreError> {
    for l in lines {
        sql.exec(
            "INSERT INTO pay_recon_lines (statement_id, seq, line_no, rec_key, kind, amount, fee, \
             status, bank_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (statement_id, seq) DO NOTHING",
            &[
                Value::text(id),
                Value::uint(l.seq),
                Value::uint(l.line_no),
                Value::text(&l.key),
                Value::text(l.kind.name()),
                Value::uint(l.amount),
                Value::int(l.fee),
                Value::text(&l.status),
                Value::text(&l.bank_ref),
            ],
        )?;
    }
    Ok(())
}

/// The statement's keys after `after`, each with its lines folded, in key order.
pub fn theirs_page(
    sql: &mut dyn Sql,
    statement_id: &str,
    after: &str,
    limit: u64,
) -> Result<Vec<Theirs>, StoreError> {
    let rows = sql.query(
        "SELECT rec_key, MIN(kind), MIN(line_no), COUNT(*), MIN(amount), MAX(amount), \
         MIN(status), MIN(bank_ref), CAST(SUM(fee) AS BIGINT), \
         CAST(CASE WHEN MIN(kind) = 'payment' \
         THEN SUM(CASE WHEN kind = 'refund' THEN 1 ELSE 0 END) ELSE 0 END AS BIGINT) \
         FROM pay_recon_lines \
         WHERE statement_id = $1 AND rec_key > $2 GROUP BY rec_key ORDER BY rec_key LIMIT $3",
        &[
            Value::text(statement_id),
            Value::text(after),
            Value::uint(limit),
        ],
    )?;
    rows.iter()
        .map(|r| {
            let kind = r.text(1)?;
            let (low, high) = (r.uint(4)?, r.uint(5)?);
            Ok(Theirs {
                key: r.text(0)?,
                kind: RecordKind::from_name(&kind).ok_or_else(|| corrupt("kind", &kind))?,
                amount: low,
                amounts_agree: low == high,
                line_no: r.uint(2)?,
                lines: r.uint(3)?,
                reversals: r.uint(9)?,
                status: r.text(6)?,
                bank_ref: r.text(7)?,
                fee: r.int(8)?,
            })
        })
        .collect()
}

/// `SUM(x)` of a BIGINT expression as two BIGINT columns, the sums of its high and low
/// halves (`x / 2^32`, `x % 2^32`), which `wide_sum` joins again. A plain `SUM` fails on
/// SQLite once a day's amounts pass i64 (and PostgreSQL's NUMERIC would not fit the
/// column type); each half stays far from i64's limit for up to 2^31 rows. Both backends
/// truncate the division toward zero, so `high · 2^32 + low` is exact for negative values.
macro_rules! sum_halves {
    ($x:literal) => {
        concat!(
            "CAST(SUM((",
            $x,
            ") / 4294967296) AS BIGINT), ",
            "CAST(SUM((",
            $x,
            ") % 4294967296) AS BIGINT)"
        )
    };
}

/// The sum `sum_halves!` split into columns `i` and `i + 1`.
fn wide_sum(r: &Row, i: usize) -> Result<i128, StoreError> {
    Ok(i128::from(r.int(i)?) * (1 << 32) + i128::from(r.int(i + 1)?))
}

/// The statement's own sums, per kind.
pub fn theirs_totals(sql: &mut dyn Sql, statement_id: &str) -> Result<Side, StoreError> {
    const QUERY: &str = concat!(
        "SELECT kind, COUNT(*), ",
        sum_halves!("amount"),
        ", ",
        sum_halves!("fee"),
        " FROM pay_recon_lines WHERE statement_id = $1 GROUP BY kind"
    );
    let rows = sql.query(QUERY, &[Value::text(statement_id)])?;
    let mut side = Side::default();
    for r in &rows {
        add_kind(&mut side, r)?;
        side.fees += wide_sum(r, 4)?;
    }
    Ok(side)
}

/// paycore's payment attempts and refund orders on `channel`, as one relation: key, kind,
/// owner, amount (a payment's external part), currency, status, time of the last change.
/// paycore's payments' channel orders on channel `$1` as `Ours` rows, where `$where`.
macro_rules! ours_payments {
    ($where:literal) => {
        concat!(
            "SELECT a.channel_order_no AS k, 'payment' AS kind, a.payment_id AS owner, \
             p.amount - p.balance_amount AS amount, p.currency AS currency, a.status AS status, \
             a.updated_at AS at FROM pay_attempts a JOIN pay_payments p ON p.id = a.payment_id \
             WHERE a.channel = $1 AND ",
            $where
        )
    };
}

/// paycore's refunds' channel orders on channel `$1` as `Ours` rows, where `$where`.
macro_rules! ours_refunds {
    ($where:literal) => {
        concat!(
            "SELECT r.channel_order_no, 'refund', r.id, r.amount, r.currency, \
             r.order_status, r.order_updated_at FROM pay_refunds r WHERE r.channel = $1 AND ",
            $where
        )
    };
}

macro_rules! ours_union {
    ($where_attempts:literal, $where_refunds:literal) => {
        concat!(
            ours_payments!($where_attempts),
            " UNION ALL ",
            ours_refunds!($where_refunds)
        )
    };
}

fn ours_from_row(r: &Row) -> Result<Ours, StoreError> {
    let (kind, status) = (r.text(1)?, r.text(5)?);
    Ok(Ours {
        key: r.text(0)?,
        kind: RecordKind::from_name(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        owner: r.text(2)?,
        amount: r.uint(3)?,
        currency: currency(&r.text(4)?)?,
        status: OurStatus::from_name(&status).ok_or_else(|| corrupt("status", &status))?,
        at: r.uint(6)?,
    })
}

/// paycore's records on `channel` with keys in [first, last], of any day.
pub fn ours_in_range(
    sql: &mut dyn Sql,
    channel: &str,
    first: &str,
    last: &str,
) -> Result<Vec<Ours>, StoreError> {
    let rows = sql.query(
        ours_union!(
            "a.channel_order_no >= $2 AND a.channel_order_no <= $3",
            "r.channel_order_no >= $2 AND r.channel_order_no <= $3"
        ),
        &[Value::text(channel), Value::text(first), Value::text(last)],
    )?;
    rows.iter().map(ours_from_row).collect()
}

/// paycore's successes on `channel` in [start, end) the statement does not list, keys after
/// `after`, in key order.
///
/// Payments and refunds are asked apart, each walking its key index from `after` and
/// stopping at `limit`, then merged: an `ORDER BY … LIMIT` over their union would sort every
/// remaining row on each page (a run over a million orders then takes quadratic time).
pub fn ours_unlisted_page(
    sql: &mut dyn Sql,
    channel: &str,
    (start, end): (u64, u64),
    statement_id: &str,
    after: &str,
    limit: u64,
) -> Result<Vec<Ours>, StoreError> {
    const PAYMENTS: &str = ours_payments!(
        "a.status = 'succeeded' AND a.updated_at >= $2 AND a.updated_at < $3 \
         AND a.channel_order_no > $4 AND NOT EXISTS (SELECT 1 FROM pay_recon_lines l \
         WHERE l.statement_id = $5 AND l.rec_key = a.channel_order_no) \
         ORDER BY a.channel_order_no LIMIT $6"
    );
    const REFUNDS: &str = ours_refunds!(
        "r.order_status = 'succeeded' AND r.order_updated_at >= $2 AND r.order_updated_at < $3 \
         AND r.channel_order_no > $4 AND NOT EXISTS (SELECT 1 FROM pay_recon_lines l \
         WHERE l.statement_id = $5 AND l.rec_key = r.channel_order_no) \
         ORDER BY r.channel_order_no LIMIT $6"
    );
    let params = [
        Value::text(channel),
        Value::uint(start),
        Value::uint(end),
        Value::text(after),
        Value::text(statement_id),
        Value::uint(limit),
    ];
    let mut page = Vec::new();
    for query in [PAYMENTS, REFUNDS] {
        for row in sql.query(query, &params)? {
            page.push(ours_from_row(&row)?);
        }
    }
    // Both arms hold every key up to the merged page's last: each returned all it has or
    // `limit` keys, and the page keeps the smallest `limit` of them.
    page.sort_by(|a, b| a.key.cmp(&b.key));
    page.truncate(limit as usize);
    Ok(page)
}

/// paycore's own sums of its successes on `channel` in [start, end).
pub fn ours_totals(
    sql: &mut dyn Sql,
    channel: &str,
    (start, end): (u64, u64),
) -> Result<Side, StoreError> {
    const QUERY: &str = concat!(
        "SELECT kind, COUNT(*), ",
        sum_halves!("amount"),
        " FROM (",
        ours_union!(
            "a.status = 'succeeded' AND a.updated_at >= $2 AND a.updated_at < $3",
            "r.order_status = 'succeeded' AND r.order_updated_at >= $2 AND r.order_updated_at < $3"
        ),
        ") o GROUP BY kind"
    );
    let rows = sql.query(
        QUERY,
        &[Value::text(channel), Value::uint(start), Value::uint(end)],
    )?;
    let mut side = Side::default();
    for r in &rows {
        add_kind(&mut side, r)?;
    }
    Ok(side)
}

/// One `kind, COUNT(*), sum_halves!(amount)` row into a side's totals.
fn add_kind(side: &mut Side, r: &Row) -> Result<(), StoreError> {
    let kind = r.text(0)?;
    let count = r.uint(1)?;
    let amount = u128::try_from(wide_sum(r, 2)?).map_err(|_| corrupt("amount sum", "< 0"))?;
    side.count += count;
    match RecordKind::from_name(&kind).ok_or_else(|| corrupt("kind", &kind))? {
        RecordKind::Payment => side.payments = amount,
        RecordKind::Refund => side.refunds = amount,
    }
    Ok(())
}

pub fn ours_json(o: &Ours) -> String {
    json!({"key": o.key, "kind": o.kind.name(), "owner": o.owner, "amount": o.amount,
        "currency": o.currency.code(), "status": o.status.name(), "at": o.at})
    .to_string()
}

/// paycore's record as `ours_json` wrote it.
pub fn ours_from_json(text: &str) -> Result<Ours, StoreError> {
    let v: Json = serde_json::from_str(text).map_err(|e| corrupt("carried", e))?;
    let field = |name: &str| {
        v[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| corrupt("carried field", name))
    };
    let number = |name: &str| {
        v[name]
            .as_u64()
            .ok_or_else(|| corrupt("carried field", name))
    };
    let (kind, status) = (field("kind")?, field("status")?);
    Ok(Ours {
        key: field("key")?,
        kind: RecordKind::from_name(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        owner: field("owner")?,
        amount: number("amount")?,
        currency: Currency::from_code(&field("currency")?).map_err(|e| corrupt("currency", e))?,
        status: OurStatus::from_name(&status).ok_or_else(|| corrupt("status", &status))?,
        at: number("at")?,
    })
}

pub fn theirs_json(t: &Theirs) -> String {
    json!({"key": t.key, "kind": t.kind.name(), "amount": t.amount, "amounts_agree": t.amounts_agree,
        "status": t.status, "lines": t.lines, "reversals": t.reversals, "line_no": t.line_no, "bank_ref": t.bank_ref, "fee": t.fee})
    .to_string()
}

pub fn insert_carried(
    sql: &mut dyn Sql,
    channel: &str,
    day: &str,
    ours: &Ours,
    run_id: &str,
) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_recon_carried (channel, day, rec_key, record, run_id) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, day, rec_key) DO NOTHING",
        &[
            Value::text(channel),
            Value::text(day),
            Value::text(&ours.key),
            Value::text(ours_json(ours)),
            Value::text(run_id),
        ],
    )?;
    Ok(())
}

/// Orders carried from `day` not settled by a later run yet.
pub fn carried_open(sql: &mut dyn Sql, channel: &str, day: &str) -> Result<Vec<Ours>, StoreError> {
    sql.query(
        "SELECT record FROM pay_recon_carried WHERE channel = $1 AND day = $2 \
         AND settled_by IS NULL ORDER BY rec_key",
        &[Value::text(channel), Value::text(day)],
    )?
    .iter()
    .map(|r| ours_from_json(&r.text(0)?))
    .collect()
}

pub fn settle_carried(
    sql: &mut dyn Sql,
    channel: &str,
    day: &str,
    key: &str,
    run_id: &str,
) -> Result<(), StoreError> {
    sql.exec(
        "UPDATE pay_recon_carried SET settled_by = $4 WHERE channel = $1 AND day = $2 \
         AND rec_key = $3",
        &[
            Value::text(channel),
            Value::text(day),
            Value::text(key),
            Value::text(run_id),
        ],
    )?;
    Ok(())
}

/// Whether statement `id` lists `key`.
pub fn lists(sql: &mut dyn Sql, statement_id: &str, key: &str) -> Result<bool, StoreError> {
    Ok(sql
        .query_opt(
            "SELECT 1 FROM pay_recon_lines WHERE statement_id = $1 AND rec_key = $2 LIMIT 1",
            &[Value::text(statement_id), Value::text(key)],
        )?
        .is_some())
}
