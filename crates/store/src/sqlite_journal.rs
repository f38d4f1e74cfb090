//! The journal half of the SQLite store: entries, their runs and flush members in a file of
//! their own (`<store>.journal.sqlite`), written by the projector's second writer thread while
//! the first writes the main file. SQLite takes one writer per file; two files let the two
//! parts of a projection be written at once (migrations/sqlite_journal explains the layout).

use std::path::{Path, PathBuf};
use std::time::Duration;

use paycore_sqlite::{insert_rows, Binder, Checkpointer};
use rusqlite::{params, Connection, OptionalExtension};

use crate::backend::{commit_after_main, JournalWriter, Phases, StoreError};
use crate::projection::Projection;
use crate::rows::*;

/// Page cache of the journal's writer, KiB: it appends, so a modest one does.
const WRITER_CACHE_KIB: u64 = 256 * 1024;

pub(crate) mod migrations {
    refinery::embed_migrations!("migrations/sqlite_journal");
}

/// refinery's history table in the journal file, named apart from the main file's so that a
/// connection with both attached never mistakes one history for the other.
const HISTORY_TABLE: &str = "journal_schema_history";

/// The journal file beside the main store file `store`.
pub(crate) fn journal_path(store: &Path) -> PathBuf {
    store.with_extension("journal.sqlite")
}

/// Creates or migrates the journal file.
pub(crate) fn migrate(path: &Path) -> Result<(), StoreError> {
    let mut conn = paycore_sqlite::open(path, 2 * 1024, Duration::from_secs(10))?;
    migrations::migrations::runner()
        .set_migration_table_name(HISTORY_TABLE)
        .run(&mut conn)?;
    Ok(())
}

/// The main file's last schema version that still held the journal.
pub(crate) const LAST_VERSION_WITH_JOURNAL: i32 = 4;

/// Attaches the journal file at `journal` to `conn` as schema `journal`, with `cache_kib` of
/// page cache.
pub(crate) fn attach(conn: &Connection, journal: &str, cache_kib: u64) -> Result<(), StoreError> {
    conn.execute("ATTACH DATABASE ?1 AS journal", [journal])?;
    conn.pragma_update(Some("journal"), "cache_size", -(cache_kib as i64))?;
    Ok(())
}

/// A store from before the split (main schema at `LAST_VERSION_WITH_JOURNAL`) keeps its
/// journal in the main file: copies it into the journal file at `journal`, in a transaction of
/// that file alone, so the main file's next migration may then drop it. Copying again after a
/// crash changes nothing.
pub(crate) fn move_legacy_journal(main: &Connection, journal: &str) -> Result<(), StoreError> {
    let legacy: Option<i64> = main
        .query_row(
            "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'entries'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if legacy.is_none() {
        return Ok(());
    }
    attach(main, journal, 2 * 1024)?;
    main.execute_batch(
        "BEGIN;
         INSERT OR IGNORE INTO journal.entries SELECT seq, account_id, record_id, kind, amount, balance_before,
             balance_after, frozen_after, accounting_date, timestamp, aggregated FROM main.entries;
         INSERT OR IGNORE INTO journal.entry_runs SELECT account_id, last_seq, last_date, seqs FROM main.entry_runs;
         INSERT OR IGNORE INTO journal.flush_members SELECT entry_seq, record_id FROM main.flush_members;
         INSERT OR REPLACE INTO journal.journal_state SELECT 1, applied_sequence FROM main.projection_state;
         COMMIT;",
    )?;
    main.execute("DETACH DATABASE journal", [])?;
    Ok(())
}

/// The last batch the journal file holds (0 for none), read through `conn` with the journal
/// attached as `journal`.
pub(crate) fn applied(conn: &Connection) -> Result<u64, StoreError> {
    let sql = "SELECT applied_sequence FROM journal.journal_state WHERE id = 1";
    let sequence: Option<i64> = conn.query_row(sql, [], |r| r.get(0)).optional()?;
    Ok(sequence.map_or(0, |s| s as u64))
}

/// The journal's writer: its own connection and checkpointer.
pub(crate) struct SqliteJournalWriter {
    conn: Connection,
    checkpointer: Checkpointer,
}

impl SqliteJournalWriter {
    pub(crate) fn open(path: &Path) -> Result<SqliteJournalWriter, StoreError> {
        let conn = paycore_sqlite::open(path, WRITER_CACHE_KIB, Duration::from_secs(10))?;
        let checkpointer = Checkpointer::start(&conn, path)?;
        Ok(SqliteJournalWriter { conn, checkpointer })
    }
}

impl JournalWriter for SqliteJournalWriter {
    fn apply(
        &mut self,
        p: &Projection,
        main_committed: &mut dyn FnMut() -> bool,
    ) -> Result<(), StoreError> {
        self.checkpointer.before_transaction()?;
        let tx = self.conn.transaction()?;
        let mut phases = Phases::start();
        insert_rows(&tx, "entries", 11, &p.entries, bind_entry)?;
        phases.mark("entries");
        insert_rows(&tx, "entry_runs", 4, &p.runs, bind_run)?;
        phases.mark("runs");
        insert_rows(&tx, "flush_members", 2, &p.flush_members, bind_member)?;
        tx.execute(
            "INSERT INTO journal_state VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET applied_sequence = excluded.applied_sequence",
            params![p.last_sequence as i64],
        )?;
        phases.mark("the rest");
        commit_after_main(main_committed, phases, p, || Ok(tx.commit()?))?;
        self.checkpointer.committed()?;
        Ok(())
    }
}

fn bind_entry<'r>(b: &mut Binder<'r>, e: &'r EntryRow) {
    b.int(e.seq as i64);
    b.int(e.account_id as i64);
    b.int(e.record_id as i64);
    b.text(&e.kind);
    b.int(e.amount as i64);
    b.int(e.balance_before);
    b.int(e.balance_after);
    b.int(e.frozen_after);
    b.text(&e.accounting_date);
    b.int(e.timestamp as i64);
    b.int(e.aggregated as i64);
}

fn bind_run<'r>(b: &mut Binder<'r>, run: &'r EntryRun) {
    b.int(run.account_id as i64);
    b.int(run.last_seq as i64);
    b.text(&run.last_date);
    b.text_copied(&run.seqs_json());
}

fn bind_member<'r>(b: &mut Binder<'r>, (entry_seq, record_id): &'r (u64, u64)) {
    b.int(*entry_seq as i64);
    b.int(*record_id as i64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{sqlite_migrations, Store};
    use crate::sqlite::SqliteStore;

    /// A main store file migrated up to `version` only, with `rows` written into it.
    fn legacy_store(dir: &Path, version: i32, rows: &str) -> PathBuf {
        let path = dir.join("store.sqlite");
        let mut conn = paycore_sqlite::open(&path, 1024, Duration::from_secs(1)).unwrap();
        (sqlite_migrations::migrations::runner())
            .set_target(refinery::Target::Version(version))
            .run(&mut conn)
            .unwrap();
        conn.execute_batch(rows).unwrap();
        path
    }

    /// A store written before the journal had a file of its own keeps its journal: opening it
    /// moves entries, runs, flush members and the position over.
    #[test]
    fn a_store_from_before_the_split_keeps_its_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = legacy_store(
            dir.path(),
            LAST_VERSION_WITH_JOURNAL,
            "INSERT INTO projection_state VALUES (1, 7, 0, '2026-11-27');
             INSERT INTO entries VALUES (1, 0, 1, 'credit', 500, 0, 500, 0, '2026-11-27', 0, 0);
             INSERT INTO entries VALUES (2, 0, 2, 'debit', 200, 500, 300, 0, '2026-11-27', 0, 2);
             INSERT INTO entry_runs VALUES (0, 2, '2026-11-27', '[1,2]');
             INSERT INTO flush_members VALUES (2, 1), (2, 2);",
        );
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.journal_applied().unwrap(), 7);
        assert_eq!(store.journal_sums(u64::MAX).unwrap(), vec![(0, 300, 2)]);
        let moved: i64 = rusqlite::Connection::open(journal_path(&path))
            .unwrap()
            .query_row(
                "SELECT (SELECT count(*) FROM entry_runs) + (SELECT count(*) FROM flush_members)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(moved, 3);
        drop(store);
        // Opening again changes nothing.
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.journal_sums(u64::MAX).unwrap(), vec![(0, 300, 2)]);
    }

    /// Older still (V3: no runs yet): the main file's migrations build the runs first, then
    /// the journal moves, and an account's statement reads through them.
    #[test]
    fn a_store_from_before_the_runs_keeps_its_journal_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = legacy_store(
            dir.path(),
            3,
            "INSERT INTO projection_state VALUES (1, 5, 0, '2026-11-27');
             INSERT INTO accounts VALUES (0, 'A', 'customer', 'CNY', 300, 0, 'normal', 0, '', 0, 'op', 0);
             INSERT INTO records (record_id, client_id, op, amount, reference, result, timestamp, accounting_date, batch_sequence)
                 VALUES (1, 'c1', 'deposit', 500, '', 'ok', 0, '2026-11-27', 1), (2, 'c2', 'withdraw', 200, '', 'ok', 0, '2026-11-27', 2);
             INSERT INTO entries VALUES (1, 0, 1, 'credit', 500, 0, 500, 0, '2026-11-27', 0, 0);
             INSERT INTO entries VALUES (2, 0, 2, 'debit', 200, 500, 300, 0, '2026-11-27', 0, 0);",
        );
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.journal_applied().unwrap(), 5);
        let statement = store
            .entries(&crate::EntryQuery {
                account_id: Some(0),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        let seqs: Vec<u64> = statement.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2]);
        assert_eq!(store.first_broken_entry(0).unwrap(), None);
    }
}
