//! The PostgreSQL backend (`--store postgres://…`). Records are streamed with binary COPY
//! (`postgres_copy.rs`); accounts, holds, daily balances and day flows are upserted from arrays
//! (one statement each per transaction). The journal is written on a second connection
//! (`postgres_journal.rs`).

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Transaction};

use crate::backend::{
    bounded, postgres_migrations, query_accounts, sql_u64, Applied, JournalWriter, Phases, Store,
    StoreError, QUERY_LIMIT_MAX,
};
use crate::postgres_copy::copy_rows;
use crate::postgres_journal::PostgresJournalWriter;
use crate::projection::Projection;
use crate::rows::*;

pub struct PostgresStore {
    /// Always `Some` until dropped.
    client: Option<Client>,
    /// For the journal writer's own connection.
    url: String,
}

impl PostgresStore {
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let mut client = session(url)?;
        postgres_migrations::migrations::runner().run(&mut client)?;
        Ok(PostgresStore {
            client: Some(client),
            url: url.to_owned(),
        })
    }

    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("the client lives until drop")
    }

    /// One account's entries (and its sub-accounts'), through its runs.
    fn account_entries(
        &mut self,
        account: u64,
        q: &EntryQuery,
    ) -> Result<Vec<EntryRow>, StoreError> {
        // Enough runs of each account for a full page: every run after the first lists at
        // least one entry at or after the cursor.
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
            ") x CROSS JOIN LATERAL unnest(x.seqs) AS j(seq) {ENTRY_BY_SEQ} {ENTRY_JOINS}"
        ));
        filter.push(" WHERE j.seq >= ?", sql_u64(q.from_seq));
        filter.date_range("e.accounting_date", &q.from_date, &q.to_date);
        filter.push(" ORDER BY j.seq LIMIT ?", bounded(q.limit, QUERY_LIMIT_MAX));
        Ok(self
            .client()
            .query(&filter.sql, &filter.args())?
            .iter()
            .map(entry)
            .collect())
    }

    /// The journal in sequence order, read through windows of chunks. Sequences are dense, so
    /// the first window (as many sequences as the page holds) is normally the only one; when
    /// filters or removed entries leave it short, the next windows, twice as wide each time,
    /// go on up to the journal's last entry.
    fn journal_entries(&mut self, q: &EntryQuery) -> Result<Vec<EntryRow>, StoreError> {
        let limit = bounded(q.limit, QUERY_LIMIT_MAX) as usize;
        let mut rows = Vec::new();
        let (mut from, mut width) = (q.from_seq, limit as u64);
        let mut last_entry = None;
        loop {
            let end = from.saturating_add(width);
            rows.extend(self.journal_window(q, from, end, limit - rows.len())?);
            if rows.len() >= limit {
                break;
            }
            let last = match last_entry {
                Some(last) => last,
                None => *last_entry.insert(self.last_entry_seq()?),
            };
            if end > last {
                break;
            }
            (from, width) = (end, width.saturating_mul(2));
        }
        Ok(rows)
    }

    /// Entries with sequences from `from` to before `end` that pass `q`'s date filters.
    fn journal_window(
        &mut self,
        q: &EntryQuery,
        from: u64,
        end: u64,
        limit: usize,
    ) -> Result<Vec<EntryRow>, StoreError> {
        let mut filter = Filter::default();
        filter.push(
            &format!("SELECT {ENTRY_COLUMNS} FROM entries e {ENTRY_JOINS} \
             WHERE e.chunk >= coalesce((SELECT max(first_seq) FROM entry_chunks WHERE first_seq <= ?), 0)"),
            sql_u64(from),
        );
        filter.push(" AND e.chunk < ?", sql_u64(end));
        filter.push(" AND e.seq >= ?", sql_u64(from));
        filter.push(" AND e.seq < ?", sql_u64(end));
        filter.date_range("e.accounting_date", &q.from_date, &q.to_date);
        filter.push(" ORDER BY e.seq LIMIT ?", limit as i64);
        Ok(self
            .client()
            .query(&filter.sql, &filter.args())?
            .iter()
            .map(entry)
            .collect())
    }

    /// The journal's last entry's sequence (0 when empty).
    fn last_entry_seq(&mut self) -> Result<u64, StoreError> {
        let sql =
            "SELECT seqs[cardinality(seqs)] FROM entry_chunks ORDER BY first_seq DESC LIMIT 1";
        let row = self.client().query_opt(sql, &[])?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }
}

/// A connection with the store's session settings.
pub(crate) fn session(url: &str) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls)?;
    // The store is derived from the log: a server crash may drop the last commits, and the
    // stored position with them, and the projector writes them again; so commits need not
    // wait for the server's WAL flush.
    client.batch_execute("SET synchronous_commit = off")?;
    // Compiling a plan costs more than running any of the store's queries does.
    client.batch_execute("SET jit = off")?;
    Ok(client)
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        close(self.client.take());
    }
}

/// The synchronous client blocks on its own runtime when it closes, which is not allowed on
/// an async runtime's thread; closes it on a thread of its own.
pub(crate) fn close(client: Option<Client>) {
    if let Some(client) = client {
        let _ = std::thread::spawn(move || drop(client)).join();
    }
}

const ENTRY_COLUMNS: &str = "e.seq, e.account_id, e.record_id, r.client_id, e.kind, e.amount, e.balance_before, e.balance_after, e.frozen_after, e.accounting_date, e.timestamp, a.account_no, e.aggregated";
/// The record and the account of each entry `e`.
const ENTRY_JOINS: &str =
    "JOIN records r ON r.record_id = e.record_id JOIN accounts a ON a.id = e.account_id";
/// The entry `e` of sequence `j.seq` (if the journal holds it), read from its chunk: the one
/// with the greatest first_seq at or below it (migration V8).
const ENTRY_BY_SEQ: &str = "CROSS JOIN LATERAL (SELECT j.seq, c.account_ids[p] AS account_id, c.record_ids[p] AS record_id, \
     c.kinds[p] AS kind, c.amounts[p] AS amount, c.balances_before[p] AS balance_before, c.balances_after[p] AS balance_after, \
     c.frozen_after[p] AS frozen_after, c.dates[p] AS accounting_date, c.timestamps[p] AS timestamp, c.aggregated[p] AS aggregated \
     FROM (SELECT * FROM entry_chunks WHERE first_seq <= j.seq ORDER BY first_seq DESC LIMIT 1) c \
     CROSS JOIN LATERAL array_position(c.seqs, j.seq) AS p WHERE p IS NOT NULL) e";
/// Runs `x` of accounts, each listing its entries' sequences `j.seq`.
const ACCOUNT_RUNS: &str = "entry_runs x CROSS JOIN LATERAL unnest(x.seqs) AS j(seq)";
const RECORD_COLUMNS: &str = "record_id, client_id, op, kind, debit_account, credit_account, amount, currency, reference, result, timestamp, accounting_date, batch_sequence";

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

fn record(r: &Row) -> RecordRow {
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

fn copy_records(tx: &mut Transaction<'_>, records: &[RecordRow]) -> Result<(), StoreError> {
    let table = format!("records ({RECORD_COLUMNS})");
    copy_rows(tx, &table, records, |copy, r| {
        copy.row(13)?;
        copy.uint8(r.record_id);
        copy.text(&r.client_id);
        copy.text(&r.op);
        copy.opt_text(r.kind.as_deref());
        copy.opt_uint8(r.debit_account);
        copy.opt_uint8(r.credit_account);
        copy.uint8(r.amount);
        copy.opt_text(r.currency.as_deref());
        copy.text(&r.reference);
        copy.text(&r.result);
        copy.uint8(r.timestamp);
        copy.text(&r.accounting_date);
        copy.uint8(r.batch_sequence);
        Ok(())
    })
}

fn update_accounts(tx: &mut Transaction<'_>, accounts: &[AccountRow]) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&AccountRow) -> i64| accounts.iter().map(f).collect::<Vec<i64>>();
    let status: Vec<&str> = accounts.iter().map(|a| a.status.as_str()).collect();
    tx.execute(
        "UPDATE accounts a SET balance = u.balance, frozen = u.frozen, status = u.status, pending_credit = u.pending_credit \
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) AS u(id, balance, frozen, status, pending_credit) \
         WHERE a.id = u.id",
        &[
            &column(|a| a.id as i64), &column(|a| a.balance), &column(|a| a.frozen), &status,
            &column(|a| a.pending_credit),
        ],
    )?;
    Ok(())
}

fn insert_accounts(tx: &mut Transaction<'_>, accounts: &[AccountRow]) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&AccountRow) -> i64| accounts.iter().map(f).collect::<Vec<i64>>();
    let text = |f: fn(&AccountRow) -> &str| {
        accounts
            .iter()
            .map(|a| f(a).to_owned())
            .collect::<Vec<String>>()
    };
    let flags: Vec<i16> = accounts
        .iter()
        .map(|a| i16::from(a.allow_negative))
        .collect();
    tx.execute(
        "INSERT INTO accounts SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::smallint[], $9::text[], $10::bigint[], $11::text[], $12::bigint[])",
        &[
            &column(|a| a.id as i64), &text(|a| &a.account_no), &text(|a| &a.account_type), &text(|a| &a.currency),
            &column(|a| a.balance), &column(|a| a.frozen), &text(|a| &a.status), &flags, &text(|a| &a.reference),
            &column(|a| a.opened_at as i64), &text(|a| &a.opened_by), &column(|a| a.pending_credit),
        ],
    )?;
    Ok(())
}

fn upsert_holds(tx: &mut Transaction<'_>, holds: &[HoldRow]) -> Result<(), StoreError> {
    if holds.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&HoldRow) -> i64| holds.iter().map(f).collect::<Vec<i64>>();
    let client_ids: Vec<String> = holds.iter().map(|h| h.client_id.clone()).collect();
    let statuses: Vec<String> = holds.iter().map(|h| h.status.clone()).collect();
    let expiries: Vec<Option<i64>> = holds
        .iter()
        .map(|h| h.expires_at.map(|t| t as i64))
        .collect();
    tx.execute(
        "INSERT INTO holds SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[]) \
         ON CONFLICT (hold_id) DO UPDATE SET remaining = EXCLUDED.remaining, captured = EXCLUDED.captured, status = EXCLUDED.status",
        &[
            &column(|h| h.hold_id as i64), &client_ids, &column(|h| h.account_id as i64), &column(|h| h.amount as i64),
            &column(|h| h.remaining as i64), &column(|h| h.captured as i64), &statuses, &expiries, &column(|h| h.record_id as i64),
        ],
    )?;
    Ok(())
}

fn upsert_daily(tx: &mut Transaction<'_>, daily: &[DailyDelta]) -> Result<(), StoreError> {
    if daily.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&DailyDelta) -> i64| daily.iter().map(f).collect::<Vec<i64>>();
    let dates: Vec<String> = daily.iter().map(|d| d.accounting_date.clone()).collect();
    tx.execute(
        "INSERT INTO daily_balances SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) \
         ON CONFLICT (account_id, accounting_date) DO UPDATE SET debits = daily_balances.debits + EXCLUDED.debits, \
         credits = daily_balances.credits + EXCLUDED.credits, closing = EXCLUDED.closing, entries = daily_balances.entries + EXCLUDED.entries",
        &[&column(|d| d.account_id as i64), &dates, &column(|d| d.opening), &column(|d| d.debits), &column(|d| d.credits), &column(|d| d.closing), &column(|d| d.entries)],
    )?;
    Ok(())
}

fn write_days(tx: &mut Transaction<'_>, p: &Projection) -> Result<(), StoreError> {
    for f in &p.flows {
        tx.execute(
            "INSERT INTO day_flows VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (accounting_date, account_type, currency) DO UPDATE SET \
             debits = day_flows.debits + EXCLUDED.debits, credits = day_flows.credits + EXCLUDED.credits, entries = day_flows.entries + EXCLUDED.entries",
            &[&f.accounting_date, &f.account_type, &f.currency, &f.debits, &f.credits, &f.entries],
        )?;
    }
    for c in &p.closings {
        tx.execute(
            "INSERT INTO day_closings VALUES ($1, $2, $3, $4, $5)",
            &[
                &c.accounting_date,
                &c.account_type,
                &c.currency,
                &c.accounts,
                &c.closing,
            ],
        )?;
    }
    for s in &p.suspense {
        tx.execute(
            "INSERT INTO day_suspense VALUES ($1, $2, $3)",
            &[&s.accounting_date, &(s.account_id as i64), &s.balance],
        )?;
    }
    Ok(())
}

/// Dynamic WHERE clauses with numbered parameters.
#[derive(Default)]
struct Filter {
    sql: String,
    args: Vec<Box<dyn ToSql + Sync>>,
}

impl Filter {
    fn push(&mut self, clause: &str, value: impl ToSql + Sync + 'static) {
        self.args.push(Box::new(value));
        self.sql
            .push_str(&clause.replace('?', &format!("${}", self.args.len())));
    }

    /// SQL without a parameter.
    fn push_sql(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Narrows the query to the accounting dates from `from` to `to` (either may be open).
    fn date_range(&mut self, column: &str, from: &Option<String>, to: &Option<String>) {
        for (bound, op) in [(from, ">="), (to, "<=")] {
            if let Some(date) = bound {
                self.push(&format!(" AND {column} {op} ?"), date.clone());
            }
        }
    }

    fn args(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args.iter().map(|a| a.as_ref()).collect()
    }
}

impl Store for PostgresStore {
    fn applied(&mut self) -> Result<Option<Applied>, StoreError> {
        let row = self.client().query_opt("SELECT applied_sequence, applied_timestamp, accounting_date FROM projection_state WHERE id = 1", &[])?;
        Ok(row.map(|r| Applied {
            sequence: r.get::<_, i64>(0) as u64,
            timestamp: r.get::<_, i64>(1) as u64,
            accounting_date: r.get(2),
        }))
    }

    fn journal_applied(&mut self) -> Result<u64, StoreError> {
        let sql = "SELECT applied_sequence FROM journal_state WHERE id = 1";
        let row = self.client().query_opt(sql, &[])?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    fn journal_writer(&mut self) -> Result<Box<dyn JournalWriter>, StoreError> {
        Ok(Box::new(PostgresJournalWriter::connect(&self.url)?))
    }

    fn apply_main(&mut self, p: &Projection) -> Result<(), StoreError> {
        let mut tx = self.client().transaction()?;
        let mut phases = Phases::start();
        copy_records(&mut tx, &p.records)?;
        phases.mark("records");
        insert_accounts(&mut tx, &p.new_accounts)?;
        update_accounts(&mut tx, &p.accounts)?;
        phases.mark("accounts");
        upsert_holds(&mut tx, &p.holds)?;
        upsert_daily(&mut tx, &p.daily)?;
        write_days(&mut tx, p)?;
        tx.execute(
            "INSERT INTO projection_state VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
             applied_sequence = EXCLUDED.applied_sequence, applied_timestamp = EXCLUDED.applied_timestamp, accounting_date = EXCLUDED.accounting_date",
            &[&(p.last_sequence as i64), &(p.last_timestamp as i64), &p.accounting_date],
        )?;
        phases.mark("the rest");
        tx.commit()?;
        phases.mark("commit");
        phases.log("main", p);
        Ok(())
    }

    fn account_id(&mut self, account_no: &str) -> Result<Option<u64>, StoreError> {
        let row = self.client().query_opt(
            "SELECT id FROM accounts WHERE account_no = $1",
            &[&account_no],
        )?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64))
    }

    fn account(&mut self, id: u64) -> Result<Option<AccountRow>, StoreError> {
        let sql = "SELECT id, account_no, account_type, currency, balance, frozen, status, allow_negative, reference, opened_at, opened_by, pending_credit FROM accounts WHERE id = $1";
        let row = self.client().query_opt(sql, &[&(id as i64)])?;
        Ok(row.map(|r| AccountRow {
            id: r.get::<_, i64>(0) as u64,
            account_no: r.get(1),
            account_type: r.get(2),
            currency: r.get(3),
            balance: r.get(4),
            frozen: r.get(5),
            status: r.get(6),
            allow_negative: r.get::<_, i16>(7) != 0,
            reference: r.get(8),
            opened_at: r.get::<_, i64>(9) as u64,
            opened_by: r.get(10),
            pending_credit: r.get(11),
        }))
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<EntryRow>, StoreError> {
        match q.account_id {
            Some(account) => self.account_entries(account, q),
            None => self.journal_entries(q),
        }
    }

    fn flush_members(&mut self, entry_seq: u64) -> Result<Vec<RecordRow>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE record_id IN (SELECT record_id FROM flush_members WHERE entry_seq = $1) ORDER BY record_id");
        Ok(self
            .client()
            .query(&sql, &[&sql_u64(entry_seq)])?
            .iter()
            .map(record)
            .collect())
    }

    fn records(&mut self, q: &RecordQuery) -> Result<Vec<RecordRow>, StoreError> {
        let mut filter = Filter::default();
        filter.push(
            "op IN ('transfer', 'capture') AND record_id > ?",
            q.after_record.map_or(-1, sql_u64),
        );
        if let Some(account) = q.account_id {
            // Through the account's journal: a transfer has one entry on each side; a credit a
            // hot account buffered is found through the aggregated entry that posted it.
            let accounts: Vec<i64> = query_accounts(account, &q.sub_accounts)
                .into_iter()
                .map(|a| a as i64)
                .collect();
            let push_list = |filter: &mut Filter| {
                for (i, a) in accounts.iter().enumerate() {
                    filter.push(if i == 0 { "?" } else { ", ?" }, *a);
                }
            };
            filter.push_sql(&format!(
                " AND record_id IN (SELECT e.record_id FROM {ACCOUNT_RUNS} {ENTRY_BY_SEQ} WHERE x.account_id IN ("
            ));
            push_list(&mut filter);
            filter.push(") AND e.record_id > ?", q.after_record.map_or(-1, sql_u64));
            filter.push_sql(&format!(" UNION SELECT f.record_id FROM {ACCOUNT_RUNS} {ENTRY_BY_SEQ} JOIN flush_members f ON f.entry_seq = e.seq WHERE x.account_id IN ("));
            push_list(&mut filter);
            filter.push_sql(") AND e.aggregated > 0)");
        }
        if let Some(reference) = &q.reference {
            // `<> ''` lets the partial reference index serve the query.
            filter.push(" AND reference <> '' AND reference = ?", reference.clone());
        }
        filter.date_range("accounting_date", &q.from_date, &q.to_date);
        filter.push(
            " ORDER BY record_id LIMIT ?",
            bounded(q.limit, QUERY_LIMIT_MAX),
        );
        let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE {}", filter.sql);
        Ok(self
            .client()
            .query(&sql, &filter.args())?
            .iter()
            .map(record)
            .collect())
    }

    fn daily_rows(
        &mut self,
        account_id: u64,
        from: &str,
        to: &str,
    ) -> Result<Vec<DailyRow>, StoreError> {
        let sql = "SELECT accounting_date, opening, debits, credits, closing, entries FROM daily_balances \
                   WHERE account_id = $1 AND accounting_date >= $2 AND accounting_date <= $3 ORDER BY accounting_date";
        let rows = self
            .client()
            .query(sql, &[&(account_id as i64), &from, &to])?;
        Ok(rows
            .iter()
            .map(|r| DailyRow {
                accounting_date: r.get(0),
                opening: r.get(1),
                debits: r.get(2),
                credits: r.get(3),
                closing: r.get(4),
                entries: r.get(5),
            })
            .collect())
    }

    fn closing_before(&mut self, account_id: u64, date: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT closing FROM daily_balances WHERE account_id = $1 AND accounting_date < $2 ORDER BY accounting_date DESC LIMIT 1";
        Ok(self
            .client()
            .query_opt(sql, &[&(account_id as i64), &date])?
            .map(|r| r.get(0)))
    }

    fn day_flows(&mut self, date: &str) -> Result<Vec<DayFlow>, StoreError> {
        let sql = "SELECT accounting_date, account_type, currency, debits, credits, entries FROM day_flows WHERE accounting_date = $1 ORDER BY account_type, currency";
        let rows = self.client().query(sql, &[&date])?;
        Ok(rows
            .iter()
            .map(|r| DayFlow {
                accounting_date: r.get(0),
                account_type: r.get(1),
                currency: r.get(2),
                debits: r.get(3),
                credits: r.get(4),
                entries: r.get(5),
            })
            .collect())
    }

    fn day_closings(&mut self, date: &str) -> Result<Vec<DayClosing>, StoreError> {
        let sql = "SELECT accounting_date, account_type, currency, accounts, closing FROM day_closings WHERE accounting_date = $1 ORDER BY account_type, currency";
        let rows = self.client().query(sql, &[&date])?;
        Ok(rows
            .iter()
            .map(|r| DayClosing {
                accounting_date: r.get(0),
                account_type: r.get(1),
                currency: r.get(2),
                accounts: r.get(3),
                closing: r.get(4),
            })
            .collect())
    }

    fn day_suspense(&mut self, date: &str) -> Result<Vec<SuspenseRow>, StoreError> {
        let rows = self.client().query("SELECT accounting_date, account_id, balance FROM day_suspense WHERE accounting_date = $1 ORDER BY account_id", &[&date])?;
        Ok(rows
            .iter()
            .map(|r| SuspenseRow {
                accounting_date: r.get(0),
                account_id: r.get::<_, i64>(1) as u64,
                balance: r.get(2),
            })
            .collect())
    }

    fn journal_sums(&mut self, seq_end: u64) -> Result<Vec<(u64, i64, u64)>, StoreError> {
        let sql = "SELECT account_id, SUM(CASE kind WHEN 'credit' THEN amount WHEN 'debit' THEN -amount ELSE 0 END)::bigint, COUNT(*) \
                   FROM entries WHERE seq < $1 GROUP BY account_id ORDER BY account_id";
        let rows = self.client().query(sql, &[&(sql_u64(seq_end))])?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, i64>(0) as u64,
                    r.get::<_, i64>(1),
                    r.get::<_, i64>(2) as u64,
                )
            })
            .collect())
    }

    fn first_broken_entry(&mut self, account_id: u64) -> Result<Option<EntryRow>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM {ACCOUNT_RUNS} {ENTRY_BY_SEQ} {ENTRY_JOINS} WHERE x.account_id = $1 ORDER BY j.seq"
        );
        let rows = self.client().query(&sql, &[&(account_id as i64)])?;
        Ok(first_broken(rows.iter().map(entry)))
    }

    fn execute_raw(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client().batch_execute(sql)?;
        Ok(())
    }
}
