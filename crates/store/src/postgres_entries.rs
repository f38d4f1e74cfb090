//! Reading the journal from the PostgreSQL store: one account's statement through its runs
//! (each entry read from its chunk), the whole journal in order through windows of sequences.

use postgres::{Client, Row};

use crate::backend::{bounded, query_accounts, sql_u64, StoreError, QUERY_LIMIT_MAX};
use crate::postgres::Filter;
use crate::postgres_chunks::{
    entry_by_seq, in_windows, ACCOUNT_JOURNAL, ENTRY_CHUNKS, ENTRY_COLUMNS, ENTRY_JOINS,
};
use crate::rows::{EntryQuery, EntryRow};

fn entry(r: &Row) -> EntryRow {
    EntryRow {
        seq: r.get::<_, i64>(0) as u64,
        account_id: r.get::<_, i64>(1) as u64,
        record_id: r.get::<_, i64>(2) as u64,
        client_id: r.get(3),
        kind: r.get::<_, String>(4).into(),
        amount: r.get::<_, i64>(5) as u64,
        balance_before: r.get(6),
        balance_after: r.get(7),
        frozen_after: r.get(8),
        accounting_date: r.get(9),
        timestamp: r.get::<_, i64>(10) as u64,
        account_no: r.get(11),
        aggregated: r.get::<_, i64>(12) as u64,
    }
}

/// One account's entries (and its sub-accounts'), through its runs.
pub(crate) fn account_entries(
    client: &mut Client,
    account: u64,
    q: &EntryQuery,
) -> Result<Vec<EntryRow>, StoreError> {
    // Enough runs of each account for a full page: every run after the first lists at least
    // one entry at or after the cursor.
    let runs_per_account = bounded(q.limit, QUERY_LIMIT_MAX) + 1;
    let mut filter = Filter::default();
    filter.push_sql(&format!("SELECT {ENTRY_COLUMNS} FROM ("));
    for (index, id) in query_accounts(account, &q.sub_accounts)
        .into_iter()
        .enumerate()
    {
        if index > 0 {
            filter.push_sql(" UNION ALL ");
        }
        filter.push(
            "(SELECT seqs FROM entry_runs WHERE account_id = ?",
            id as i64,
        );
        filter.push(" AND last_seq >= ?", sql_u64(q.from_seq));
        filter.push(
            " AND last_date >= ?",
            q.from_date.clone().unwrap_or_default(),
        );
        filter.push(" ORDER BY last_seq LIMIT ?)", runs_per_account);
    }
    filter.push_sql(&format!(
        ") x CROSS JOIN LATERAL unnest(x.seqs) AS j(seq) {} {}",
        entry_by_seq("j.seq"),
        ENTRY_JOINS
    ));
    filter.push(" WHERE j.seq >= ?", sql_u64(q.from_seq));
    filter.date_range("e.accounting_date", &q.from_date, &q.to_date);
    filter.push(" ORDER BY j.seq LIMIT ?", bounded(q.limit, QUERY_LIMIT_MAX));
    Ok(client
        .query(&filter.sql, &filter.args())?
        .iter()
        .map(entry)
        .collect())
}

/// Every entry of one account, in order.
pub(crate) fn account_journal(
    client: &mut Client,
    account: u64,
) -> Result<Vec<EntryRow>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM {} {} WHERE x.account_id = $1 ORDER BY j.seq",
        *ACCOUNT_JOURNAL, ENTRY_JOINS
    );
    Ok(client
        .query(&sql, &[&(account as i64)])?
        .iter()
        .map(entry)
        .collect())
}

/// The journal in sequence order from `q.from_seq`, through windows of chunks.
pub(crate) fn journal_entries(
    client: &mut Client,
    q: &EntryQuery,
) -> Result<Vec<EntryRow>, StoreError> {
    let limit = bounded(q.limit, QUERY_LIMIT_MAX) as usize;
    let stop = ENTRY_CHUNKS
        .last_key(client)?
        .map_or(0, |last| last.saturating_add(1));
    in_windows(q.from_seq, stop, limit, |from, end, limit| {
        let mut filter = Filter::default();
        filter.push_sql(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e {ENTRY_JOINS} WHERE true"
        ));
        ENTRY_CHUNKS.push_window(&mut filter, "e.seq", "e.chunk", from, end);
        filter.date_range("e.accounting_date", &q.from_date, &q.to_date);
        filter.push(" ORDER BY e.seq LIMIT ?", limit as i64);
        Ok(client
            .query(&filter.sql, &filter.args())?
            .iter()
            .map(entry)
            .collect())
    })
}
