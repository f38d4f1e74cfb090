//! Reconciliation's rows: imported statements and their lines (`pay_recon_statements`,
//! `pay_recon_lines`), runs, orders carried to the next day, and exceptions. The matching
//! reads are paged by key, so a run never holds more than a page of either side.

use paycore_money::Currency;
use paycore_recon::{
    Difference, Exception, ExceptionStatus, Fund, HistoryEntry, OurStatus, Ours, RecordKind, Side,
    Theirs, Totals,
};
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub id: String,
    pub channel: String,
    pub day: String,
    pub statement_id: String,
    pub matched: u64,
    pub carried: u64,
    pub differences: Vec<(Difference, u64)>,
    pub totals: Totals,
    pub fund: Option<Fund>,
    pub created_at: u64,
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

/// The statement's own sums, per kind.
pub fn theirs_totals(sql: &mut dyn Sql, statement_id: &str) -> Result<Side, StoreError> {
    let rows = sql.query(
        "SELECT kind, COUNT(*), CAST(SUM(amount) AS BIGINT), CAST(SUM(fee) AS BIGINT) FROM pay_recon_lines \
         WHERE statement_id = $1 GROUP BY kind",
        &[Value::text(statement_id)],
    )?;
    let mut side = Side::default();
    for r in &rows {
        add_kind(&mut side, r)?;
        side.fees = side
            .fees
            .checked_add(r.int(3)?)
            .ok_or_else(|| corrupt("fees", "overflow"))?;
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
        "SELECT kind, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM (",
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

/// One `kind, COUNT(*), SUM(amount)` row into a side's totals.
fn add_kind(side: &mut Side, r: &Row) -> Result<(), StoreError> {
    let kind = r.text(0)?;
    let (count, amount) = (r.uint(1)?, r.uint(2)?);
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

fn side_json(s: &Side) -> Json {
    json!({"count": s.count, "payments": s.payments, "refunds": s.refunds, "fees": s.fees})
}

fn side_from(v: &Json) -> Side {
    Side {
        count: v["count"].as_u64().unwrap_or(0),
        payments: v["payments"].as_u64().unwrap_or(0),
        refunds: v["refunds"].as_u64().unwrap_or(0),
        fees: v["fees"].as_i64().unwrap_or(0),
    }
}

pub fn insert_run(sql: &mut dyn Sql, run: &RunRecord) -> Result<(), StoreError> {
    let differences: serde_json::Map<String, Json> = run
        .differences
        .iter()
        .map(|(d, n)| (d.name().to_owned(), json!(n)))
        .collect();
    let totals =
        json!({"ours": side_json(&run.totals.ours), "theirs": side_json(&run.totals.theirs)});
    let fund = run.fund.map(|f| {
        json!({"statement_net": f.statement_net, "settled": f.settled, "difference": f.difference})
            .to_string()
    });
    sql.exec(
        "INSERT INTO pay_recon_runs (id, channel, day, statement_id, matched, carried, \
         differences, totals, fund, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Value::text(&run.id),
            Value::text(&run.channel),
            Value::text(&run.day),
            Value::text(&run.statement_id),
            Value::uint(run.matched),
            Value::uint(run.carried),
            Value::text(Json::Object(differences).to_string()),
            Value::text(totals.to_string()),
            Value::opt_text(fund),
            Value::uint(run.created_at),
        ],
    )?;
    Ok(())
}

macro_rules! select_runs {
    ($rest:literal) => {
        concat!(
            "SELECT id, channel, day, statement_id, matched, carried, differences, totals, fund, \
             created_at FROM pay_recon_runs ",
            $rest
        )
    };
}

pub fn run(sql: &mut dyn Sql, id: &str) -> Result<Option<RunRecord>, StoreError> {
    sql.query_opt(select_runs!("WHERE id = $1"), &[Value::text(id)])?
        .map(|r| run_from_row(&r))
        .transpose()
}

pub fn run_of_statement(
    sql: &mut dyn Sql,
    statement_id: &str,
) -> Result<Option<RunRecord>, StoreError> {
    sql.query_opt(
        select_runs!("WHERE statement_id = $1"),
        &[Value::text(statement_id)],
    )?
    .map(|r| run_from_row(&r))
    .transpose()
}

/// Runs of a channel (or of every channel, `channel` empty), newest day first.
pub fn runs(sql: &mut dyn Sql, channel: &str, limit: u64) -> Result<Vec<RunRecord>, StoreError> {
    sql.query(
        select_runs!("WHERE ($1 = '' OR channel = $1) ORDER BY day DESC, created_at DESC LIMIT $2"),
        &[Value::text(channel), Value::uint(limit)],
    )?
    .iter()
    .map(run_from_row)
    .collect()
}

fn run_from_row(r: &Row) -> Result<RunRecord, StoreError> {
    let differences: Json =
        serde_json::from_str(&r.text(6)?).map_err(|e| corrupt("differences", e))?;
    let totals: Json = serde_json::from_str(&r.text(7)?).map_err(|e| corrupt("totals", e))?;
    let fund = match r.opt_text(8)? {
        None => None,
        Some(text) => {
            let v: Json = serde_json::from_str(&text).map_err(|e| corrupt("fund", e))?;
            Some(Fund {
                statement_net: v["statement_net"].as_i64().unwrap_or(0),
                settled: v["settled"].as_i64().unwrap_or(0),
                difference: v["difference"].as_i64().unwrap_or(0),
            })
        }
    };
    Ok(RunRecord {
        id: r.text(0)?,
        channel: r.text(1)?,
        day: r.text(2)?,
        statement_id: r.text(3)?,
        matched: r.uint(4)?,
        carried: r.uint(5)?,
        differences: Difference::ALL
            .into_iter()
            .filter_map(|d| differences[d.name()].as_u64().map(|n| (d, n)))
            .collect(),
        totals: Totals {
            ours: side_from(&totals["ours"]),
            theirs: side_from(&totals["theirs"]),
        },
        fund,
        created_at: r.uint(9)?,
    })
}

fn history_json(history: &[HistoryEntry]) -> String {
    Json::Array(
        history
            .iter()
            .map(|h| json!({"at": h.at, "by": h.by, "event": h.event, "note": h.note}))
            .collect(),
    )
    .to_string()
}

fn history_from(text: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    let v: Json = serde_json::from_str(text).map_err(|e| corrupt("history", e))?;
    let entries = v
        .as_array()
        .ok_or_else(|| corrupt("history", "not a list"))?;
    Ok(entries
        .iter()
        .map(|h| HistoryEntry {
            at: h["at"].as_u64().unwrap_or(0),
            by: h["by"].as_str().unwrap_or_default().to_owned(),
            event: h["event"].as_str().unwrap_or_default().to_owned(),
            note: h["note"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// The next exception's sequence number (ids and paging follow it).
pub fn next_exception_seq(sql: &mut dyn Sql) -> Result<u64, StoreError> {
    let row = sql.query_opt(
        "SELECT COALESCE(MAX(seq), 0) FROM pay_recon_exceptions",
        &[],
    )?;
    Ok(row.map(|r| r.uint(0)).transpose()?.unwrap_or(0) + 1)
}

/// Inserts or updates an exception (`seq` only on insert).
pub fn save_exception(sql: &mut dyn Sql, seq: u64, e: &Exception) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_recon_exceptions (id, seq, run_id, kind, channel, channel_order_no, \
         status, ours, theirs, amount, currency, adjustment_id, history, created_at, updated_at, \
         refund_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         adjustment_id = excluded.adjustment_id, refund_id = excluded.refund_id, \
         history = excluded.history, \
         updated_at = excluded.updated_at",
        &[
            Value::text(&e.id),
            Value::uint(seq),
            Value::text(&e.run_id),
            Value::text(e.kind.name()),
            Value::text(&e.channel),
            Value::text(&e.channel_order_no),
            Value::text(e.status.name()),
            Value::text(&e.ours),
            Value::text(&e.theirs),
            Value::uint(e.amount),
            Value::text(&e.currency),
            Value::opt_text(e.adjustment_id.as_deref()),
            Value::text(history_json(&e.history)),
            Value::uint(e.created_at),
            Value::uint(e.updated_at),
            Value::opt_text(e.refund_id.as_deref()),
        ],
    )?;
    Ok(())
}

macro_rules! select_exceptions {
    ($rest:literal) => {
        concat!(
            "SELECT id, run_id, kind, channel, channel_order_no, status, ours, theirs, amount, \
             currency, adjustment_id, history, created_at, updated_at, seq, refund_id \
             FROM pay_recon_exceptions ",
            $rest
        )
    };
}

pub fn exception(sql: &mut dyn Sql, id: &str) -> Result<Option<Exception>, StoreError> {
    sql.query_opt(select_exceptions!("WHERE id = $1"), &[Value::text(id)])?
        .map(|r| exception_from_row(&r).map(|(e, _)| e))
        .transpose()
}

/// Exceptions by status and run (either empty: any), after sequence `after`, oldest first;
/// with their sequence numbers for paging.
pub fn exceptions(
    sql: &mut dyn Sql,
    status: &str,
    run_id: &str,
    after: u64,
    limit: u64,
) -> Result<Vec<(Exception, u64)>, StoreError> {
    sql.query(
        select_exceptions!(
            "WHERE ($1 = '' OR status = $1) AND ($2 = '' OR run_id = $2) AND seq > $3 \
             ORDER BY seq LIMIT $4"
        ),
        &[
            Value::text(status),
            Value::text(run_id),
            Value::uint(after),
            Value::uint(limit),
        ],
    )?
    .iter()
    .map(exception_from_row)
    .collect()
}

/// The exception a reconciliation refund resolves.
pub fn exception_by_refund(
    sql: &mut dyn Sql,
    refund_id: &str,
) -> Result<Option<Exception>, StoreError> {
    sql.query_opt(
        select_exceptions!("WHERE refund_id = $1"),
        &[Value::text(refund_id)],
    )?
    .map(|r| exception_from_row(&r).map(|(e, _)| e))
    .transpose()
}

pub fn exception_by_adjustment(
    sql: &mut dyn Sql,
    adjustment_id: &str,
) -> Result<Option<Exception>, StoreError> {
    sql.query_opt(
        select_exceptions!("WHERE adjustment_id = $1"),
        &[Value::text(adjustment_id)],
    )?
    .map(|r| exception_from_row(&r).map(|(e, _)| e))
    .transpose()
}

fn exception_from_row(r: &Row) -> Result<(Exception, u64), StoreError> {
    let (kind, status) = (r.text(2)?, r.text(5)?);
    let exception = Exception {
        id: r.text(0)?,
        run_id: r.text(1)?,
        kind: Difference::from_name(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        channel: r.text(3)?,
        channel_order_no: r.text(4)?,
        status: ExceptionStatus::from_name(&status).ok_or_else(|| corrupt("status", &status))?,
        ours: r.text(6)?,
        theirs: r.text(7)?,
        amount: r.uint(8)?,
        currency: r.text(9)?,
        adjustment_id: r.opt_text(10)?,
        history: history_from(&r.text(11)?)?,
        created_at: r.uint(12)?,
        updated_at: r.uint(13)?,
        refund_id: r.opt_text(15)?,
    };
    Ok((exception, r.uint(14)?))
}
