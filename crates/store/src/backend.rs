//! The `Store` trait both backends implement, and how a store is chosen from a URL.

use std::path::{Path, PathBuf};

use crate::projection::Projection;
use crate::rows::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("schema migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("query store: {0}")]
    Invalid(String),
    #[error("query store unavailable: {0}")]
    Unavailable(String),
}

/// Where the query store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://…`).
    Postgres(String),
}

impl StoreUrl {
    /// `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite:PATH` or a plain path for SQLite.
    pub fn parse(text: &str) -> StoreUrl {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            StoreUrl::Postgres(text.to_owned())
        } else {
            StoreUrl::Sqlite(PathBuf::from(text.strip_prefix("sqlite:").unwrap_or(text)))
        }
    }

    /// The embedded default: `store.sqlite` in the data directory.
    pub fn default_in(data_dir: &Path) -> StoreUrl {
        StoreUrl::Sqlite(data_dir.join("store.sqlite"))
    }
}

/// Where the projection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub sequence: u64,
    pub timestamp: u64,
    pub accounting_date: String,
}

/// A query store. The projector is the only writer; readers open their own handles.
///
/// A projection is written in two parts, each in a transaction of its own with its own
/// position, by two threads at once: the main part (records, accounts, holds, balances, day
/// tables) by `apply_main`, then the journal (entries, runs, flush members) by a
/// `JournalWriter`, which commits only after the main part has. So the journal's position
/// never passes the main one's, and every entry a reader sees has its record and account.
pub trait Store: Send {
    /// The last batch whose main part is written, or `None` for an empty store.
    fn applied(&mut self) -> Result<Option<Applied>, StoreError>;
    /// The last batch whose journal part is written (0 for none).
    fn journal_applied(&mut self) -> Result<u64, StoreError>;
    /// Writes a projection's main part and its position in one transaction.
    fn apply_main(&mut self, projection: &Projection) -> Result<(), StoreError>;
    /// A writer for the journal part, on a connection of its own.
    fn journal_writer(&mut self) -> Result<Box<dyn JournalWriter>, StoreError>;
    /// Whether projected entries should carry their command's client id (a store that keeps
    /// it with the entry); otherwise `EntryRow::client_id` is left empty.
    fn stores_entry_client_ids(&self) -> bool {
        false
    }
    fn account_id(&mut self, account_no: &str) -> Result<Option<u64>, StoreError>;
    fn account(&mut self, id: u64) -> Result<Option<AccountRow>, StoreError>;
    /// Journal entries in sequence order, with the client id of the command behind each.
    fn entries(&mut self, query: &EntryQuery) -> Result<Vec<EntryRow>, StoreError>;
    /// An account's holds in hold order.
    fn holds(&mut self, query: &HoldQuery) -> Result<Vec<HoldRow>, StoreError>;
    /// Records in record order.
    fn records(&mut self, query: &RecordQuery) -> Result<Vec<RecordRow>, StoreError>;
    /// The records (transfers) a hot account's aggregated credit entry `entry_seq` contains.
    fn flush_members(&mut self, entry_seq: u64) -> Result<Vec<RecordRow>, StoreError>;
    /// Stored daily rows of an account within [from, to], in date order.
    fn daily_rows(
        &mut self,
        account_id: u64,
        from: &str,
        to: &str,
    ) -> Result<Vec<DailyRow>, StoreError>;
    /// The closing balance of the account's last stored day before `date`.
    fn closing_before(&mut self, account_id: u64, date: &str) -> Result<Option<i64>, StoreError>;
    fn day_flows(&mut self, date: &str) -> Result<Vec<DayFlow>, StoreError>;
    fn day_closings(&mut self, date: &str) -> Result<Vec<DayClosing>, StoreError>;
    fn day_suspense(&mut self, date: &str) -> Result<Vec<SuspenseRow>, StoreError>;
    /// Per account: credits minus debits over the journal entries with `seq < seq_end`, and
    /// their number.
    fn journal_sums(&mut self, seq_end: u64) -> Result<Vec<(u64, i64, u64)>, StoreError>;
    /// The first entry of the account that does not continue the previous one's balance.
    fn first_broken_entry(&mut self, account_id: u64) -> Result<Option<EntryRow>, StoreError>;
    /// Runs raw SQL (tests and operators' repairs only).
    fn execute_raw(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Whether the handle's connection is gone for good (a pool drops such a handle).
    fn is_broken(&self) -> bool {
        false
    }
}

/// Writes the journal part of projections (see `Store`).
pub trait JournalWriter: Send {
    /// Writes the journal part of `projection` and its position in one transaction, and
    /// commits it once `main_committed` says the main part has been committed; if that says
    /// it failed, rolls back and fails.
    fn apply(
        &mut self,
        projection: &Projection,
        main_committed: &mut dyn FnMut() -> bool,
    ) -> Result<(), StoreError>;
}

/// The end of a journal part's transaction: waits for the main part's commit, then commits
/// with `commit`; if the main part failed, returns an error (dropping the transaction rolls
/// it back).
pub(crate) fn commit_after_main(
    main_committed: &mut dyn FnMut() -> bool,
    mut phases: Phases,
    p: &Projection,
    commit: impl FnOnce() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if !main_committed() {
        return Err(StoreError::Invalid(
            "the main part of the transaction failed; the journal part is rolled back".into(),
        ));
    }
    phases.mark("waiting for the main part");
    commit()?;
    phases.mark("commit");
    phases.log("journal", p);
    Ok(())
}

/// Opens (creating and migrating if needed) the store at `url`.
pub fn open_store(url: &StoreUrl) -> Result<Box<dyn Store>, StoreError> {
    Ok(match url {
        StoreUrl::Sqlite(path) => Box::new(crate::sqlite::SqliteStore::open(path)?),
        StoreUrl::Postgres(url) => Box::new(crate::postgres::PostgresStore::connect(url)?),
    })
}

/// Opens a reading handle on the store at `url`, which the writer has created and migrated.
pub fn open_reader(url: &StoreUrl) -> Result<Box<dyn Store>, StoreError> {
    Ok(match url {
        StoreUrl::Sqlite(path) => Box::new(crate::sqlite::SqliteStore::open_reader(path)?),
        StoreUrl::Postgres(url) => Box::new(crate::postgres::PostgresStore::connect_reader(url)?),
    })
}

/// One schema in two dialects (see the migration files).
pub(crate) mod sqlite_migrations {
    refinery::embed_migrations!("migrations/sqlite");
}

pub(crate) mod postgres_migrations {
    refinery::embed_migrations!("migrations/postgres");
}

/// `limit` clamped to 1..=max.
pub(crate) fn bounded(limit: usize, max: usize) -> i64 {
    limit.clamp(1, max) as i64
}

pub(crate) const QUERY_LIMIT_MAX: usize = 10_000;

/// A position from the API as a SQL BIGINT; positions past i64::MAX match nothing anyway.
pub(crate) fn sql_u64(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}

/// The accounts a query with `account` and `sub_accounts` reads, each once.
pub(crate) fn query_accounts(account: u64, sub_accounts: &[u64]) -> Vec<u64> {
    let mut accounts: Vec<u64> = std::iter::once(account)
        .chain(sub_accounts.iter().copied())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts
}

/// Where one store transaction spends its time, logged at debug level
/// (`PAYCORE_LOG=paycore_store=debug`).
pub(crate) struct Phases {
    started: std::time::Instant,
    marked: std::time::Duration,
    spent: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    pub fn start() -> Phases {
        Phases {
            started: std::time::Instant::now(),
            marked: std::time::Duration::ZERO,
            spent: Vec::new(),
        }
    }

    /// The time since the previous mark was spent on `phase`.
    pub fn mark(&mut self, phase: &'static str) {
        let now = self.started.elapsed();
        self.spent.push((phase, now - self.marked));
        self.marked = now;
    }

    pub fn log(&self, part: &str, p: &crate::Projection) {
        let phases: Vec<String> = self
            .spent
            .iter()
            .map(|(phase, time)| format!("{phase} {time:.2?}"))
            .collect();
        tracing::debug!(
            part,
            records = p.records.len(),
            entries = p.entries.len(),
            accounts = p.accounts.len() + p.new_accounts.len(),
            phases = %phases.join(", "),
            "query store transaction"
        );
    }
}
