//! The PostgreSQL store's chunked tables (migrations V8 and V9): the journal and the records
//! are stored as rows of up to 64 consecutive items, one array per column, keyed by the first
//! item's sequence or id. One item is found through the chunk with the greatest key
//! at or below it (a backward step on the primary key) and its place in the chunk
//! (`array_position`); items in order are read through windows of keys.

use std::sync::LazyLock;

use postgres::Client;

use crate::backend::{sql_u64, StoreError};
use crate::postgres::Filter;

/// A chunked table: its name, its key column (the first item's key) and the array of keys.
pub(crate) struct Chunked {
    table: &'static str,
    first: &'static str,
    keys: &'static str,
}

pub(crate) const ENTRY_CHUNKS: Chunked = Chunked {
    table: "entry_chunks",
    first: "first_seq",
    keys: "seqs",
};
pub(crate) const RECORD_CHUNKS: Chunked = Chunked {
    table: "record_chunks",
    first: "first_id",
    keys: "ids",
};

impl Chunked {
    /// Narrows a read of the table's view (item keys `{key}`, chunk keys `{chunk}`) to keys
    /// from `from` to before `end`, through the chunks' primary key: the chunk holding `from`
    /// and those starting before `end`.
    pub(crate) fn push_window(
        &self,
        filter: &mut Filter,
        key: &str,
        chunk: &str,
        from: u64,
        end: u64,
    ) {
        let Chunked { table, first, .. } = self;
        filter.push(
            &format!(" AND {chunk} >= coalesce((SELECT max({first}) FROM {table} WHERE {first} <= ?), 0)"),
            sql_u64(from),
        );
        filter.push(&format!(" AND {chunk} < ?"), sql_u64(end));
        filter.push(&format!(" AND {key} >= ?"), sql_u64(from));
        filter.push(&format!(" AND {key} < ?"), sql_u64(end));
    }

    /// The last item's key, `None` when the table is empty.
    pub(crate) fn last_key(&self, client: &mut Client) -> Result<Option<u64>, StoreError> {
        let Chunked { table, first, keys } = self;
        let sql = format!(
            "SELECT {keys}[cardinality({keys})] FROM {table} ORDER BY {first} DESC LIMIT 1"
        );
        let row = client.query_opt(&sql, &[])?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64))
    }
}

/// Items per chunk at most, and the bytes their values may take: a chunk stays under the 8,160
/// bytes PostgreSQL keeps inline in one page (past that it would compress and move arrays
/// out of line), however long the ids and references are.
const ITEMS_PER_CHUNK: usize = 64;
const CHUNK_BYTES: usize = 6_144;

/// A chunk's entries lie within this many sequences from its first: the journal's sequences
/// are dense and a chunk holds at most `ITEMS_PER_CHUNK` of them (the writer checks, and
/// removing entries only narrows a chunk). It bounds the search for an entry's chunk to a
/// short stretch of the primary key; an open-ended backward search reads a whole B-tree leaf
/// each time (3× the CPU per lookup, measured).
pub(crate) const ENTRY_SPAN: u64 = ITEMS_PER_CHUNK as u64;

/// `items` (consecutive) cut into chunks; `size` tells the bytes one item's values take.
pub(crate) fn split<T>(items: &[T], size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut chunks = Vec::with_capacity(items.len() / ITEMS_PER_CHUNK + 1);
    let (mut start, mut bytes) = (0, 0);
    for (index, item) in items.iter().enumerate() {
        let size = size(item);
        if index > start && (index - start == ITEMS_PER_CHUNK || bytes + size > CHUNK_BYTES) {
            chunks.push(&items[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < items.len() {
        chunks.push(&items[start..]);
    }
    chunks
}

/// Columns of a journal entry `e` and its account `a`, as `entry()` reads them.
pub(crate) const ENTRY_COLUMNS: &str = "e.seq, e.account_id, e.record_id, e.client_id, e.kind, e.amount, e.balance_before, e.balance_after, e.frozen_after, e.accounting_date, e.timestamp, a.account_no, e.aggregated";
/// Columns of a record `r`, as `record()` reads them.
pub(crate) const RECORD_COLUMNS: &str = "r.record_id, r.client_id, r.op, r.kind, r.debit_account, r.credit_account, r.amount, r.currency, r.reference, r.result, r.timestamp, r.accounting_date, r.batch_sequence";

/// The entry `e` of sequence `{seq}` (no row if the journal does not hold it).
pub(crate) fn entry_by_seq(seq: &str) -> String {
    format!(
        "CROSS JOIN LATERAL (SELECT {seq} AS seq, c.account_ids[p] AS account_id, c.record_ids[p] AS record_id, \
         c.client_ids[p] AS client_id, c.kinds[p] AS kind, c.amounts[p] AS amount, c.balances_before[p] AS balance_before, \
         c.balances_after[p] AS balance_after, c.frozen_after[p] AS frozen_after, c.dates[p] AS accounting_date, \
         c.timestamps[p] AS timestamp, c.aggregated[p] AS aggregated \
         FROM (SELECT * FROM entry_chunks WHERE first_seq <= {seq} AND first_seq > {seq} - {ENTRY_SPAN} \
         ORDER BY first_seq DESC LIMIT 1) c \
         CROSS JOIN LATERAL array_position(c.seqs, {seq}) AS p WHERE p IS NOT NULL) e"
    )
}

/// The record `r` of id `{id}` (no row if the store does not hold it).
pub(crate) fn record_by_id(id: &str) -> String {
    format!(
        "CROSS JOIN LATERAL (SELECT {id} AS record_id, c.client_ids[p] AS client_id, c.ops[p] AS op, \
         c.kinds[p] AS kind, c.debit_accounts[p] AS debit_account, c.credit_accounts[p] AS credit_account, \
         c.amounts[p] AS amount, c.currencies[p] AS currency, c.refs[p] AS reference, c.results[p] AS result, \
         c.timestamps[p] AS timestamp, c.dates[p] AS accounting_date, c.batch_sequences[p] AS batch_sequence \
         FROM (SELECT * FROM record_chunks WHERE first_id <= {id} ORDER BY first_id DESC LIMIT 1) c \
         CROSS JOIN LATERAL array_position(c.ids, {id}) AS p WHERE p IS NOT NULL) r"
    )
}

/// Runs `x` of accounts, each listing its entries' sequences `j.seq`, and those entries `e`.
pub(crate) static ACCOUNT_JOURNAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "entry_runs x CROSS JOIN LATERAL unnest(x.seqs) AS j(seq) {}",
        entry_by_seq("j.seq")
    )
});

/// The account `a` of each entry `e`.
pub(crate) const ENTRY_JOINS: &str = "JOIN accounts a ON a.id = e.account_id";

/// Up to `limit` items with keys from `from` to before `stop`, in key order: `read(from, end,
/// limit)` gives those from `from` to before `end`. Keys are dense, so the first window (as
/// many keys as the page holds) is normally the only one; when filters or removed items leave
/// it short, the next ones, twice as wide each time, go on towards `stop`.
pub(crate) fn in_windows<T>(
    from: u64,
    stop: u64,
    limit: usize,
    mut read: impl FnMut(u64, u64, usize) -> Result<Vec<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut rows = Vec::new();
    let (mut from, mut width) = (from, (limit as u64).max(1));
    while from < stop && rows.len() < limit {
        let end = from.saturating_add(width).min(stop);
        rows.extend(read(from, end, limit - rows.len())?);
        (from, width) = (end, width.saturating_mul(2));
    }
    Ok(rows)
}
