//! The embedded backend: two SQLite files in the data directory (WAL mode), `store.sqlite`
//! (records, accounts, holds, balances, day tables) and `store.journal.sqlite` (the journal,
//! `sqlite_journal.rs`), attached to every connection as schema `journal`. Writes are prepared
//! statements inside one transaction per projection and file; a crash loses at most
//! transactions that had not committed, and each file's position rolls back with them.

use std::path::{Path, PathBuf};

use paycore_sqlite::{execute_each, insert_rows, Binder, Checkpointer};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::backend::{
    bounded, query_accounts, sql_u64, sqlite_migrations, Applied, JournalWriter, Phases, Store,
    StoreError, QUERY_LIMIT_MAX,
};
use crate::projection::Projection;
use crate::rows::*;
use crate::shared;
use crate::sqlite_journal::{self, SqliteJournalWriter};

/// Page cache of the projector's connection, KiB.
const CACHE_KIB: u64 = 1024 * 1024;
/// Page cache of a reading handle per file, KiB: small, as its pages come from the memory map
/// (`READER_MMAP_BYTES`).
const READER_CACHE_KIB: u64 = 16 * 1024;
/// Address space a reading handle maps of each file (virtual; a 64-bit process has plenty).
const READER_MMAP_BYTES: i64 = 1 << 40;

pub struct SqliteStore {
    /// The main file, with the journal file attached as `journal`.
    conn: Connection,
    path: PathBuf,
    journal_path: PathBuf,
    /// Started by the first write: only the projector's connection writes.
    checkpointer: Option<Checkpointer>,
}

/// A connection on the main file with `cache_kib` of page cache, temporary tables in memory.
fn connect(path: &Path, cache_kib: u64) -> Result<Connection, StoreError> {
    let conn = paycore_sqlite::open(path, cache_kib, std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// SQLite's ATTACH takes the journal's path as text.
fn utf8(path: &Path) -> Result<&str, StoreError> {
    path.to_str()
        .ok_or_else(|| StoreError::Invalid(format!("not a UTF-8 path: {}", path.display())))
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let journal_path = sqlite_journal::journal_path(path);
        sqlite_journal::migrate(&journal_path)?;
        // Index pages are updated at random (accounts): a large cache keeps them in memory.
        let mut conn = connect(path, CACHE_KIB)?;
        let journal = utf8(&journal_path)?;
        // Migrated without the journal attached, so no unqualified name resolves there. Up to
        // V4 the journal lived in this file: a store from then has it moved out before V5
        // drops it, at the schema the move is written for.
        (sqlite_migrations::migrations::runner())
            .set_target(refinery::Target::Version(
                sqlite_journal::LAST_VERSION_WITH_JOURNAL,
            ))
            .run(&mut conn)?;
        sqlite_journal::move_legacy_journal(&conn, journal)?;
        sqlite_migrations::migrations::runner().run(&mut conn)?;
        sqlite_journal::attach(&conn, journal, CACHE_KIB)?;
        Ok(SqliteStore::on(conn, path, journal_path))
    }

    /// A reading handle on a store the writer has created: no migration, a smaller cache, and
    /// `query_only` so that nothing written through it by mistake can reach the files.
    pub fn open_reader(path: &Path) -> Result<SqliteStore, StoreError> {
        let journal_path = sqlite_journal::journal_path(path);
        let conn = connect(path, READER_CACHE_KIB)?;
        sqlite_journal::attach(&conn, utf8(&journal_path)?, READER_CACHE_KIB)?;
        // Pages read through a memory map are the OS's page cache itself, shared by every
        // handle, instead of a copy in each handle's own cache.
        conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
        conn.pragma_update(Some("journal"), "mmap_size", READER_MMAP_BYTES)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(SqliteStore::on(conn, path, journal_path))
    }

    fn on(conn: Connection, path: &Path, journal_path: PathBuf) -> SqliteStore {
        SqliteStore {
            conn,
            path: path.to_owned(),
            journal_path,
            checkpointer: None,
        }
    }

    /// Runs `read` in one read transaction that takes the journal file's snapshot before the
    /// main file's: the projector commits a transaction's main part first, so every entry
    /// the read sees has its record and account (a join would otherwise drop it, and a page
    /// would skip it).
    fn journal_first<T>(
        &mut self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.transaction()?;
        tx.query_row("SELECT count(*) FROM journal.journal_state", [], |_| Ok(()))?;
        tx.query_row("SELECT count(*) FROM main.projection_state", [], |_| Ok(()))?;
        let result = read(&tx)?;
        tx.commit()?;
        Ok(result)
    }
}

const ENTRY_COLUMNS: &str = "e.seq, e.account_id, e.record_id, r.client_id, e.kind, e.amount, e.balance_before, e.balance_after, e.frozen_after, e.accounting_date, e.timestamp, a.account_no, e.aggregated";
/// Entries with the client id of their command and their account's number.
const ENTRY_SOURCE: &str =
    "entries e JOIN records r ON r.record_id = e.record_id JOIN accounts a ON a.id = e.account_id";
/// Entries `e` of the accounts `x.account_id` selects, through their runs.
const ACCOUNT_JOURNAL: &str = "entry_runs x, json_each(x.seqs) j JOIN entries e ON e.seq = j.value";
const RECORD_COLUMNS: &str = "record_id, client_id, op, kind, debit_account, credit_account, amount, currency, reference, result, timestamp, accounting_date, batch_sequence";

fn entry(row: &Row) -> rusqlite::Result<EntryRow> {
    Ok(EntryRow {
        seq: row.get::<_, i64>(0)? as u64,
        account_id: row.get::<_, i64>(1)? as u64,
        record_id: row.get::<_, i64>(2)? as u64,
        client_id: row.get(3)?,
        kind: row.get::<_, String>(4)?.into(),
        amount: row.get::<_, i64>(5)? as u64,
        balance_before: row.get(6)?,
        balance_after: row.get(7)?,
        frozen_after: row.get(8)?,
        accounting_date: row.get(9)?,
        timestamp: row.get::<_, i64>(10)? as u64,
        account_no: row.get(11)?,
        aggregated: row.get::<_, i64>(12)? as u64,
    })
}

fn record(row: &Row) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        record_id: row.get::<_, i64>(0)? as u64,
        client_id: row.get(1)?,
        op: row.get::<_, String>(2)?.into(),
        kind: row.get::<_, Option<String>>(3)?.map(Into::into),
        debit_account: row.get::<_, Option<i64>>(4)?.map(|a| a as u64),
        credit_account: row.get::<_, Option<i64>>(5)?.map(|a| a as u64),
        amount: row.get::<_, i64>(6)? as u64,
        currency: row.get::<_, Option<String>>(7)?.map(Into::into),
        reference: row.get(8)?,
        result: row.get::<_, String>(9)?.into(),
        timestamp: row.get::<_, i64>(10)? as u64,
        accounting_date: row.get(11)?,
        batch_sequence: row.get::<_, i64>(12)? as u64,
    })
}

impl Store for SqliteStore {
    fn applied(&mut self) -> Result<Option<Applied>, StoreError> {
        let sql = "SELECT applied_sequence, applied_timestamp, accounting_date FROM projection_state WHERE id = 1";
        Ok(self
            .conn
            .query_row(sql, [], |r| {
                Ok(Applied {
                    sequence: r.get::<_, i64>(0)? as u64,
                    timestamp: r.get::<_, i64>(1)? as u64,
                    accounting_date: r.get(2)?,
                })
            })
            .optional()?)
    }

    fn journal_applied(&mut self) -> Result<u64, StoreError> {
        sqlite_journal::applied(&self.conn)
    }

    fn journal_writer(&mut self) -> Result<Box<dyn JournalWriter>, StoreError> {
        Ok(Box::new(SqliteJournalWriter::open(&self.journal_path)?))
    }

    fn apply_main(&mut self, p: &Projection) -> Result<(), StoreError> {
        if self.checkpointer.is_none() {
            self.checkpointer = Some(Checkpointer::start(&self.conn, &self.path)?);
        }
        let checkpointer = self.checkpointer.as_mut().expect("started above");
        checkpointer.before_transaction()?;
        let tx = self.conn.transaction()?;
        let mut phases = Phases::start();
        insert_rows(
            &tx,
            &format!("records ({RECORD_COLUMNS})"),
            13,
            &p.records,
            bind_record,
        )?;
        phases.mark("records");
        insert_rows(&tx, "accounts", 12, &p.new_accounts, bind_account)?;
        execute_each(
            &tx,
            "UPDATE accounts SET balance = ?2, frozen = ?3, status = ?4, pending_credit = ?5 WHERE id = ?1",
            5,
            &p.accounts,
            |b, a| {
                b.int(a.id as i64);
                b.int(a.balance);
                b.int(a.frozen);
                b.text(&a.status);
                b.int(a.pending_credit);
            },
        )?;
        phases.mark("accounts");
        execute_each(
            &tx,
            "INSERT INTO holds VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (hold_id) DO UPDATE SET \
             remaining = excluded.remaining, captured = excluded.captured, status = excluded.status",
            9,
            &p.holds,
            |b, h| {
                b.int(h.hold_id as i64);
                b.text(&h.client_id);
                b.int(h.account_id as i64);
                b.int(h.amount as i64);
                b.int(h.remaining as i64);
                b.int(h.captured as i64);
                b.text(&h.status);
                b.opt_int(h.expires_at.map(|t| t as i64));
                b.int(h.record_id as i64);
            },
        )?;
        execute_each(
            &tx,
            "INSERT INTO daily_balances VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (account_id, accounting_date) DO UPDATE SET \
             debits = wide_add(debits, excluded.debits), credits = wide_add(credits, excluded.credits), closing = excluded.closing, entries = entries + excluded.entries",
            7,
            &p.daily,
            |b, d| {
                b.int(d.account_id as i64);
                b.text(&d.accounting_date);
                b.int(d.opening);
                b.wide(d.debits);
                b.wide(d.credits);
                b.int(d.closing);
                b.int(d.entries);
            },
        )?;
        phases.mark("daily balances");
        write_days(&tx, p)?;
        phases.mark("the rest");
        tx.commit()?;
        phases.mark("commit");
        phases.log("main", p);
        checkpointer.committed()?;
        Ok(())
    }

    fn account_id(&mut self, account_no: &str) -> Result<Option<u64>, StoreError> {
        shared::account_id(&mut self.conn, account_no)
    }

    fn account(&mut self, id: u64) -> Result<Option<AccountRow>, StoreError> {
        shared::account(&mut self.conn, id)
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<EntryRow>, StoreError> {
        self.journal_first(|conn| read_entries(conn, q))
    }

    fn flush_members(&mut self, entry_seq: u64) -> Result<Vec<RecordRow>, StoreError> {
        self.journal_first(|conn| read_flush_members(conn, entry_seq))
    }

    fn records(&mut self, q: &RecordQuery) -> Result<Vec<RecordRow>, StoreError> {
        self.journal_first(|conn| read_records(conn, q))
    }

    fn holds(&mut self, q: &HoldQuery) -> Result<Vec<HoldRow>, StoreError> {
        shared::holds(&mut self.conn, q)
    }

    fn daily_rows(
        &mut self,
        account_id: u64,
        from: &str,
        to: &str,
    ) -> Result<Vec<DailyRow>, StoreError> {
        shared::daily_rows(&mut self.conn, account_id, from, to)
    }

    fn closing_before(&mut self, account_id: u64, date: &str) -> Result<Option<i64>, StoreError> {
        shared::closing_before(&mut self.conn, account_id, date)
    }

    fn day_flows(&mut self, date: &str) -> Result<Vec<DayFlow>, StoreError> {
        shared::day_flows(&mut self.conn, date)
    }

    fn day_closings(&mut self, date: &str) -> Result<Vec<DayClosing>, StoreError> {
        shared::day_closings(&mut self.conn, date)
    }

    fn day_suspense(&mut self, date: &str) -> Result<Vec<SuspenseRow>, StoreError> {
        shared::day_suspense(&mut self.conn, date)
    }

    fn journal_sums(&mut self, seq_end: u64) -> Result<Vec<(u64, i64, u64)>, StoreError> {
        shared::journal_sums(&mut self.conn, seq_end)
    }

    fn first_broken_entry(&mut self, account_id: u64) -> Result<Option<EntryRow>, StoreError> {
        self.journal_first(|conn| read_first_broken_entry(conn, account_id))
    }

    fn execute_raw(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql)?;
        Ok(())
    }
}

fn read_entries(conn: &Connection, q: &EntryQuery) -> Result<Vec<EntryRow>, StoreError> {
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let source = match q.account_id {
        None => ENTRY_SOURCE.to_owned(),
        Some(account) => {
            // Enough runs of each account for a full page: every run after the first
            // lists at least one entry at or after the cursor.
            let runs_per_account = bounded(q.limit, QUERY_LIMIT_MAX) + 1;
            let mut runs = Vec::new();
            for id in query_accounts(account, &q.sub_accounts) {
                runs.push(
                    "SELECT seqs FROM (SELECT seqs FROM entry_runs WHERE account_id = ? AND last_seq >= ? \
                     AND last_date >= ? ORDER BY last_seq LIMIT ?)",
                );
                args.push((id as i64).into());
                args.push(sql_u64(q.from_seq).into());
                args.push(q.from_date.clone().unwrap_or_default().into());
                args.push(runs_per_account.into());
            }
            format!(
                "({}) x, json_each(x.seqs) j JOIN entries e ON e.seq = j.value \
                 JOIN records r ON r.record_id = e.record_id JOIN accounts a ON a.id = e.account_id",
                runs.join(" UNION ALL ")
            )
        }
    };
    let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM {source} WHERE e.seq >= ?");
    args.push(sql_u64(q.from_seq).into());
    date_range(
        &mut sql,
        &mut args,
        "e.accounting_date",
        &q.from_date,
        &q.to_date,
    );
    sql.push_str(" ORDER BY e.seq LIMIT ?");
    args.push(bounded(q.limit, QUERY_LIMIT_MAX).into());
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(args), entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Narrows a query to the accounting dates from `from` to `to` (either may be open).
fn date_range(
    sql: &mut String,
    args: &mut Vec<rusqlite::types::Value>,
    column: &str,
    from: &Option<String>,
    to: &Option<String>,
) {
    for (bound, op) in [(from, ">="), (to, "<=")] {
        if let Some(date) = bound {
            sql.push_str(&format!(" AND {column} {op} ?"));
            args.push(date.clone().into());
        }
    }
}

fn read_flush_members(conn: &Connection, entry_seq: u64) -> Result<Vec<RecordRow>, StoreError> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE record_id IN (SELECT record_id FROM flush_members WHERE entry_seq = ?1) ORDER BY record_id");
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([sql_u64(entry_seq)], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn read_records(conn: &Connection, q: &RecordQuery) -> Result<Vec<RecordRow>, StoreError> {
    let mut sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE op IN ('transfer', 'capture') AND record_id > ?");
    let mut args: Vec<rusqlite::types::Value> = vec![q.after_record.map_or(-1, sql_u64).into()];
    if let Some(account) = q.account_id {
        // Through the account's journal: a transfer has one entry on each side; a credit a
        // hot account buffered is found through the aggregated entry that posted it.
        let accounts: Vec<i64> = query_accounts(account, &q.sub_accounts)
            .into_iter()
            .map(|a| a as i64)
            .collect();
        let list = vec!["?"; accounts.len()].join(", ");
        sql.push_str(&format!(
            " AND record_id IN (SELECT e.record_id FROM {ACCOUNT_JOURNAL} WHERE x.account_id IN ({list}) AND e.record_id > ? \
             UNION SELECT f.record_id FROM {ACCOUNT_JOURNAL} JOIN flush_members f ON f.entry_seq = e.seq \
             WHERE x.account_id IN ({list}) AND e.aggregated > 0)"
        ));
        args.extend(accounts.iter().map(|a| (*a).into()));
        args.push(q.after_record.map_or(-1, sql_u64).into());
        args.extend(accounts.iter().map(|a| (*a).into()));
    }
    if let Some(reference) = &q.reference {
        // `<> ''` lets the partial reference index serve the query.
        sql.push_str(" AND reference <> '' AND reference = ?");
        args.push(reference.clone().into());
    }
    date_range(
        &mut sql,
        &mut args,
        "accounting_date",
        &q.from_date,
        &q.to_date,
    );
    sql.push_str(" ORDER BY record_id LIMIT ?");
    args.push(bounded(q.limit, QUERY_LIMIT_MAX).into());
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(args), record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn read_first_broken_entry(
    conn: &Connection,
    account_id: u64,
) -> Result<Option<EntryRow>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM {ACCOUNT_JOURNAL} JOIN records r ON r.record_id = e.record_id \
         JOIN accounts a ON a.id = e.account_id WHERE x.account_id = ?1 ORDER BY e.seq"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([account_id as i64], entry)?;
    let rows: Vec<EntryRow> = rows.collect::<Result<_, _>>()?;
    Ok(first_broken(rows))
}

/// Day flows, the day's closings and suspense, and the position.
fn write_days(tx: &rusqlite::Transaction<'_>, p: &Projection) -> Result<(), StoreError> {
    execute_each(
        tx,
        "INSERT INTO day_flows VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (accounting_date, account_type, currency) DO UPDATE SET \
         debits = wide_add(debits, excluded.debits), credits = wide_add(credits, excluded.credits), entries = entries + excluded.entries",
        6,
        &p.flows,
        |b, f| {
            b.text(&f.accounting_date);
            b.text(&f.account_type);
            b.text(&f.currency);
            b.wide(f.debits);
            b.wide(f.credits);
            b.int(f.entries);
        },
    )?;
    execute_each(
        tx,
        "INSERT INTO day_closings VALUES (?1, ?2, ?3, ?4, ?5)",
        5,
        &p.closings,
        |b, c| {
            b.text(&c.accounting_date);
            b.text(&c.account_type);
            b.text(&c.currency);
            b.int(c.accounts);
            b.wide(c.closing);
        },
    )?;
    execute_each(
        tx,
        "INSERT INTO day_suspense VALUES (?1, ?2, ?3)",
        3,
        &p.suspense,
        |b, s| {
            b.text(&s.accounting_date);
            b.int(s.account_id as i64);
            b.int(s.balance);
        },
    )?;
    tx.execute(
        "INSERT INTO projection_state VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET \
         applied_sequence = excluded.applied_sequence, applied_timestamp = excluded.applied_timestamp, accounting_date = excluded.accounting_date",
        params![p.last_sequence as i64, p.last_timestamp as i64, p.accounting_date],
    )?;
    Ok(())
}

fn bind_record<'r>(b: &mut Binder<'r>, r: &'r RecordRow) {
    b.int(r.record_id as i64);
    b.text(&r.client_id);
    b.text(&r.op);
    b.opt_text(r.kind.as_deref());
    b.opt_int(r.debit_account.map(|a| a as i64));
    b.opt_int(r.credit_account.map(|a| a as i64));
    b.int(r.amount as i64);
    b.opt_text(r.currency.as_deref());
    b.text(&r.reference);
    b.text(&r.result);
    b.int(r.timestamp as i64);
    b.text(&r.accounting_date);
    b.int(r.batch_sequence as i64);
}

fn bind_account<'r>(b: &mut Binder<'r>, a: &'r AccountRow) {
    b.int(a.id as i64);
    b.text(&a.account_no);
    b.text(&a.account_type);
    b.text(&a.currency);
    b.int(a.balance);
    b.int(a.frozen);
    b.text(&a.status);
    b.int(a.allow_negative as i64);
    b.text(&a.reference);
    b.int(a.opened_at as i64);
    b.text(&a.opened_by);
    b.int(a.pending_credit);
}
