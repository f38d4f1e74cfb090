//! Records (every decided command) in the PostgreSQL store: written as chunks by the main
//! part's COPY, with the references they carry listed beside them, and searched by account
//! (through the journal), by reference, or in record order through windows of ids narrowed
//! by date (migration V9).

use postgres::{Client, Row, Transaction};

use crate::backend::{bounded, query_accounts, sql_u64, StoreError, QUERY_LIMIT_MAX};
use crate::postgres::Filter;
use crate::postgres_chunks::{
    in_windows, record_by_id, split, ACCOUNT_JOURNAL, RECORD_CHUNKS, RECORD_COLUMNS,
};
use crate::postgres_copy::copy_rows;
use crate::rows::{RecordQuery, RecordRow};

/// Operations a transfer search lists.
const TRANSFER_OPS: &str = "r.op IN ('transfer', 'capture')";

pub(crate) fn record(r: &Row) -> RecordRow {
    RecordRow {
        record_id: r.get::<_, i64>(0) as u64,
        client_id: r.get(1),
        op: r.get::<_, String>(2).into(),
        kind: r.get::<_, Option<String>>(3).map(Into::into),
        debit_account: r.get::<_, Option<i64>>(4).map(|a| a as u64),
        credit_account: r.get::<_, Option<i64>>(5).map(|a| a as u64),
        amount: r.get::<_, i64>(6) as u64,
        currency: r.get::<_, Option<String>>(7).map(Into::into),
        reference: r.get(8),
        result: r.get::<_, String>(9).into(),
        timestamp: r.get::<_, i64>(10) as u64,
        accounting_date: r.get(11),
        batch_sequence: r.get::<_, i64>(12) as u64,
    }
}

pub(crate) fn copy_records(
    tx: &mut Transaction<'_>,
    records: &[RecordRow],
) -> Result<(), StoreError> {
    // Six numbers and seven texts (each with its length word, at most).
    let size = |r: &RecordRow| {
        6 * 8
            + 7 * 4
            + r.client_id.len()
            + r.op.len()
            + r.reference.len()
            + r.result.len()
            + r.accounting_date.len()
            + r.kind.as_ref().map_or(0, |k| k.len())
            + r.currency.as_ref().map_or(0, |c| c.len())
    };
    copy_rows(tx, "record_chunks", &split(records, size), |copy, chunk| {
        debug_assert!(chunk.windows(2).all(|w| w[0].record_id < w[1].record_id));
        let last = chunk.last().expect("chunks are not empty");
        copy.row(15)?;
        copy.uint8(chunk[0].record_id);
        copy.text(&last.accounting_date);
        copy.uint8_array(chunk.iter().map(|r| r.record_id));
        copy.text_array(chunk.iter().map(|r| r.client_id.as_str()));
        copy.text_array(chunk.iter().map(|r| &*r.op));
        copy.opt_text_array(chunk.iter().map(|r| r.kind.as_deref()));
        copy.opt_uint8_array(chunk.iter().map(|r| r.debit_account));
        copy.opt_uint8_array(chunk.iter().map(|r| r.credit_account));
        copy.uint8_array(chunk.iter().map(|r| r.amount));
        copy.opt_text_array(chunk.iter().map(|r| r.currency.as_deref()));
        copy.text_array(chunk.iter().map(|r| r.reference.as_str()));
        copy.text_array(chunk.iter().map(|r| &*r.result));
        copy.uint8_array(chunk.iter().map(|r| r.timestamp));
        copy.text_array(chunk.iter().map(|r| r.accounting_date.as_str()));
        copy.uint8_array(chunk.iter().map(|r| r.batch_sequence));
        Ok(())
    })?;
    let referenced: Vec<&RecordRow> = records.iter().filter(|r| !r.reference.is_empty()).collect();
    copy_rows(tx, "record_references", &referenced, |copy, r| {
        copy.row(2)?;
        copy.text(&r.reference);
        copy.uint8(r.record_id);
        Ok(())
    })
}

/// The records a hot account's aggregated entry `entry_seq` posted.
pub(crate) fn flush_members(
    client: &mut Client,
    entry_seq: u64,
) -> Result<Vec<RecordRow>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM flush_members f {} WHERE f.entry_seq = $1 ORDER BY r.record_id",
        record_by_id("f.record_id")
    );
    Ok(client
        .query(&sql, &[&sql_u64(entry_seq)])?
        .iter()
        .map(record)
        .collect())
}

/// Transfers (and captures) matching `q`, in record order after `q.after_record`.
pub(crate) fn search(client: &mut Client, q: &RecordQuery) -> Result<Vec<RecordRow>, StoreError> {
    let from = q.after_record.map_or(0, |a| a.saturating_add(1));
    let limit = bounded(q.limit, QUERY_LIMIT_MAX) as usize;
    if let Some(account) = q.account_id {
        return by_account(client, q, account, from, limit);
    }
    if let Some(reference) = &q.reference {
        let mut filter = Filter::default();
        filter.push_sql(&format!(
            "SELECT {RECORD_COLUMNS} FROM record_references i {} WHERE {TRANSFER_OPS}",
            record_by_id("i.record_id")
        ));
        filter.push(" AND i.reference = ?", reference.clone());
        filter.push(" AND i.record_id >= ?", sql_u64(from));
        return page(client, filter, q, "i.record_id", limit);
    }
    let Some(start) = first_record_from(client, q.from_date.as_deref())? else {
        return Ok(Vec::new());
    };
    let stop = records_end(client, q.to_date.as_deref())?;
    in_windows(from.max(start), stop, limit, |from, end, limit| {
        let mut filter = Filter::default();
        filter.push_sql(&format!(
            "SELECT {RECORD_COLUMNS} FROM records r WHERE {TRANSFER_OPS}"
        ));
        RECORD_CHUNKS.push_window(&mut filter, "r.record_id", "r.chunk", from, end);
        page(client, filter, q, "r.record_id", limit)
    })
}

/// Through the account's journal: a transfer has one entry on each side; a credit a hot
/// account buffered is found through the aggregated entry that posted it.
fn by_account(
    client: &mut Client,
    q: &RecordQuery,
    account: u64,
    from: u64,
    limit: usize,
) -> Result<Vec<RecordRow>, StoreError> {
    let accounts: Vec<i64> = (query_accounts(account, &q.sub_accounts).into_iter())
        .map(|a| a as i64)
        .collect();
    let mut filter = Filter::default();
    let push_list = |filter: &mut Filter| {
        for (i, a) in accounts.iter().enumerate() {
            filter.push(if i == 0 { "?" } else { ", ?" }, *a);
        }
    };
    filter.push_sql(&format!(
        "SELECT {RECORD_COLUMNS} FROM (SELECT e.record_id FROM {} WHERE x.account_id IN (",
        *ACCOUNT_JOURNAL
    ));
    push_list(&mut filter);
    filter.push(") AND e.record_id >= ?", sql_u64(from));
    filter.push_sql(&format!(
        " UNION SELECT f.record_id FROM {} JOIN flush_members f ON f.entry_seq = e.seq WHERE x.account_id IN (",
        *ACCOUNT_JOURNAL
    ));
    push_list(&mut filter);
    filter.push(
        &format!(
            ") AND e.aggregated > 0 AND f.record_id >= ?) i {} WHERE {TRANSFER_OPS}",
            record_by_id("i.record_id")
        ),
        sql_u64(from),
    );
    if let Some(reference) = &q.reference {
        filter.push(" AND r.reference = ?", reference.clone());
    }
    page(client, filter, q, "r.record_id", limit)
}

/// Ends `filter` with `q`'s date range, the order and the limit, and runs it.
fn page(
    client: &mut Client,
    mut filter: Filter,
    q: &RecordQuery,
    order: &str,
    limit: usize,
) -> Result<Vec<RecordRow>, StoreError> {
    filter.date_range("r.accounting_date", &q.from_date, &q.to_date);
    filter.push(&format!(" ORDER BY {order} LIMIT ?"), limit as i64);
    Ok(client
        .query(&filter.sql, &filter.args())?
        .iter()
        .map(record)
        .collect())
}

/// The first record dated `date` or later (the first record when `None`); `None` if there is
/// none.
fn first_record_from(client: &mut Client, date: Option<&str>) -> Result<Option<u64>, StoreError> {
    let sql = "SELECT first_id FROM record_chunks WHERE last_date >= $1 ORDER BY last_date, first_id LIMIT 1";
    let row = client.query_opt(sql, &[&date.unwrap_or("")])?;
    Ok(row.map(|r| r.get::<_, i64>(0) as u64))
}

/// A record id past every record dated `date` or earlier (past every record when `None`).
/// Chunks' last dates never go back, so such records lie in the chunks up to the first one
/// whose last date is later: the end is where the chunk after that one starts.
fn records_end(client: &mut Client, date: Option<&str>) -> Result<u64, StoreError> {
    if let Some(date) = date {
        let sql = "SELECT first_id FROM record_chunks WHERE last_date > $1 ORDER BY last_date, first_id OFFSET 1 LIMIT 1";
        if let Some(row) = client.query_opt(sql, &[&date])? {
            return Ok(row.get::<_, i64>(0) as u64);
        }
    }
    Ok(RECORD_CHUNKS
        .last_key(client)?
        .map_or(0, |last| last.saturating_add(1)))
}
