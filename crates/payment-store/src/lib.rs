//! Storage of paycore's payment side: merchants, channels, trades, payments and their
//! channel orders, the router's split state and counters, and adjustments (调账) with their
//! history.
//!
//! One schema (`migrations/`) and one set of queries (`repo/`) for both backends: statements
//! are written once against `sql::Sql` over BIGINT and TEXT columns, which SQLite
//! (`sqlite.rs`, the embedded default: `payments.sqlite` in the data directory) and PostgreSQL
//! (`postgres.rs`: the query store's database, tables `pay_*`) both run unchanged.
//! Writes go through the group-commit `Writer` (one thread, one transaction and one fsync
//! for every job waiting); reads through `Readers`, a pool of read-only transactions.
//!
//! *Invariant: a job's answer is given only after its transaction committed durably.*

mod cache;
mod postgres;
mod readers;
pub mod repo;
pub mod sql;
mod sqlite;
mod writer;

use std::path::PathBuf;

pub use cache::RowCache;
pub use readers::Readers;
pub use sql::{Connection, Row, Sql, Value};
pub use writer::{BeforeCommit, Init, Writer, JOBS_PER_TRANSACTION_MAX};

/// The migration history table of the payment schema (the query store keeps its own).
pub(crate) const MIGRATION_TABLE: &str = "pay_schema_history";

#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(String),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("schema migration failed: {0}")]
    Migration(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("payment store: {0}")]
    Invalid(String),
    #[error("the payment store is shut down")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> Self {
        StoreError::Postgres(e.to_string())
    }
}

impl From<refinery::Error> for StoreError {
    fn from(e: refinery::Error) -> Self {
        StoreError::Migration(e.to_string())
    }
}

/// Where the payment tables live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// Opens a connection (the writer's migrates the schema first).
    pub fn connect(&self, migrate: bool) -> Result<Box<dyn Connection>, StoreError> {
        Ok(match self {
            Location::Sqlite(path) => Box::new(sqlite::SqliteConnection::open(path, migrate)?),
            Location::Postgres(url) => {
                Box::new(postgres::PostgresConnection::connect(url, migrate)?)
            }
        })
    }

    /// A pool of readers on this location.
    pub fn readers(&self, idle_max: usize) -> Readers {
        let location = self.clone();
        Readers::new(move || location.connect(false), idle_max)
    }
}
