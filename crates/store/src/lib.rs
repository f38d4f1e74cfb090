//! paycore's query store: a SQL projection of the ledger log for people and reports.
//!
//! The engine's log is the source of truth. The projector (`projector.rs`) follows it with a
//! replica of the ledger (`paycore_engine::Follower`), turns each durable batch into rows
//! (`projection.rs`) and writes them in large transactions that also record the last batch
//! they include — so after any crash it resumes exactly after that batch: no gap, no duplicate.
//! Each transaction is written in two parts at once, on two connections: the main part
//! (records, accounts, balances) and the journal (`*_journal.rs`), whose commit follows the
//! main one's. Backends (`sqlite.rs`, `postgres.rs`) share one schema (migrations/) and one
//! `Store` trait; the same conformance tests run against both.

mod backend;
mod daily;
pub mod postgres;
mod postgres_chunks;
mod postgres_copy;
mod postgres_entries;
mod postgres_journal;
mod postgres_records;
mod projection;
mod projector;
mod readers;
mod rows;
mod shared;
pub mod sqlite;
mod sqlite_journal;
mod touched;

pub use backend::{open_reader, open_store, Applied, JournalWriter, Store, StoreError, StoreUrl};
pub use daily::{carry_forward, DailyBalance};
pub use paycore_engine::DurableSequence;
pub use projection::{Projection, ProjectionBuilder};
pub use projector::{Projector, ProjectorStatus};
pub use readers::{Reader, Readers, READERS_MAX};
pub use rows::*;
