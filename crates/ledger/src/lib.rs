//! The paycore ledger state machine (账务核心).
//!
//! It owns accounts, holds, the record of every decided command and the idempotency index,
//! and applies batches of commands deterministically: the same batches in the same order
//! always give the same state, bit for bit (see `Ledger::digest`).
//!
//! Architecture invariants:
//! - no I/O, no clock, no threads: time arrives with each batch;
//! - every money movement debits one account and credits another of the same currency by
//!   the same amount, so per currency the balances always sum to zero;
//! - a rejected command changes nothing but its own record.
//!
//! Start reading at `Ledger::apply_batch` (apply/mod.rs); the rules of each operation are in
//! apply/transfers.rs, apply/holds.rs and apply/accounts.rs.

mod account;
mod apply;
mod command;
mod digest;
mod error;
mod hold;
mod hot;
mod ids;
mod journal;
mod ledger;
mod record;
mod snapshot;
pub mod store;
mod text;

pub use account::{Account, AccountId, AccountInfo, AccountStatus, AccountType, PostingMode};
pub use apply::{sub_numbers, BatchOutput, BATCH_COMMANDS_MAX, SPLIT_PARTS_MAX};
pub use command::{
    AccountKey, Capture, Command, Freeze, Op, OpenAccount, Transfer, TransferKind, Unfreeze,
};
pub use digest::InvariantViolation;
pub use error::{ErrorCode, LedgerError};
pub use hold::{Hold, HoldId, HoldStatus};
pub use hot::{Flush, HotBuffer, HotOptions, HOT_FLUSH_INTERVAL_MS_MAX};
pub use ids::{ClientId, Fingerprint, IdHasher, CLIENT_ID_BYTES_MAX};
pub use journal::{EntryKind, JournalEntry};
pub use ledger::{Ledger, LedgerConfig, MemoryReport};
pub use record::{OpKind, Outcome, Record, RecordId};
pub use snapshot::{LedgerSnapshot, SnapshotError};
pub use text::{
    AccountNo, InlineStr, Operator, Reference, ACCOUNT_NO_BYTES_MAX, OPERATOR_BYTES_MAX,
    REFERENCE_BYTES_MAX,
};

pub use paycore_money::{Currency, Money};
pub use time::Date;
