//! `Ledger`: the whole in-memory state of the ledger and its read accessors. The rules that
//! change it live in `apply/`; this file only owns the data.

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::HashMap;
use time::Date;

use crate::apply::UndoLog;
use crate::ids::{ClientId, IdHasher};
use crate::store::{ByteArena, ChunkedVec, IdIndex};
use crate::text::AccountNo;
use crate::{Account, AccountId, AccountInfo, Hold, HoldId, HotBuffer, Record, RecordId};

/// What a new ledger starts from. Both values are persisted with the state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LedgerConfig {
    /// Secret key of the id hash (see `IdHasher`).
    pub hash_key: [u8; 16],
    /// The first accounting date (记账日); day-end commands advance it.
    pub initial_date: Date,
}

/// The ledger state machine. Single-threaded by design: one writer applies batches; readers
/// get copies or views between batches.
pub struct Ledger {
    pub(crate) hasher: IdHasher,
    pub(crate) accounts: Vec<Account>,
    pub(crate) infos: ChunkedVec<AccountInfo>,
    pub(crate) numbers: HashMap<AccountNo, AccountId, foldhash::fast::RandomState>,
    pub(crate) holds: ChunkedVec<Hold>,
    /// Active holds with an expiry, ordered by (expiry, hold) so sweeps are deterministic.
    pub(crate) expiries: BTreeSet<(u64, HoldId)>,
    /// Buffered (hot) accounts and their pending credits, in account order.
    pub(crate) hot: BTreeMap<AccountId, HotBuffer>,
    /// Split accounts and their sub-accounts, in account order.
    pub(crate) splits: BTreeMap<AccountId, Vec<AccountId>>,
    pub(crate) records: ChunkedVec<Record>,
    pub(crate) client_ids: ByteArena,
    pub(crate) references: ByteArena,
    pub(crate) index: IdIndex,
    pub(crate) next_entry_seq: u64,
    pub(crate) last_timestamp: u64,
    pub(crate) accounting_date: Date,
    pub(crate) undo: UndoLog,
}

/// Memory held by the idempotency machinery, for capacity planning.
#[derive(Clone, Copy, Debug)]
pub struct MemoryReport {
    pub records: u64,
    pub record_bytes: u64,
    pub index_bytes: u64,
    pub arena_bytes: u64,
}

impl MemoryReport {
    pub fn bytes_per_record(&self) -> f64 {
        let total = self.record_bytes + self.index_bytes + self.arena_bytes;
        total as f64 / self.records.max(1) as f64
    }
}

impl Ledger {
    pub fn new(config: LedgerConfig) -> Ledger {
        Ledger {
            hasher: IdHasher::new(config.hash_key),
            accounts: Vec::new(),
            infos: ChunkedVec::default(),
            numbers: HashMap::default(),
            holds: ChunkedVec::default(),
            expiries: BTreeSet::new(),
            hot: BTreeMap::new(),
            splits: BTreeMap::new(),
            records: ChunkedVec::default(),
            client_ids: ByteArena::default(),
            references: ByteArena::default(),
            index: IdIndex::default(),
            next_entry_seq: 1,
            last_timestamp: 0,
            accounting_date: config.initial_date,
            undo: UndoLog::default(),
        }
    }

    /// The keyed hasher commands for this ledger must be built with.
    pub fn hasher(&self) -> &IdHasher {
        &self.hasher
    }

    pub fn account_count(&self) -> u32 {
        self.accounts.len() as u32
    }

    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(id.index())
    }

    /// The buffer of a hot (buffered-posting) account; `None` for ordinary accounts.
    pub fn hot(&self, id: AccountId) -> Option<&HotBuffer> {
        self.hot.get(&id)
    }

    /// Credits accepted for `id` but not yet posted to its balance (0 unless it is hot).
    pub fn pending_credit(&self, id: AccountId) -> i64 {
        self.hot.get(&id).map_or(0, |b| b.pending)
    }

    pub fn account_info(&self, id: AccountId) -> Option<&AccountInfo> {
        self.infos.get(u64::from(id.0))
    }

    pub fn resolve(&self, number: &AccountNo) -> Option<AccountId> {
        self.numbers.get(number).copied()
    }

    pub fn record_count(&self) -> u64 {
        self.records.len()
    }

    pub fn record(&self, id: RecordId) -> Option<&Record> {
        self.records.get(id.0)
    }

    /// The record of the command that used `id`, if any.
    #[inline]
    pub fn find_record(&self, id: &ClientId) -> Option<RecordId> {
        self.index
            .find(id.hash(), |r| {
                self.record_client_id_bytes(RecordId(r)) == id.as_bytes()
            })
            .map(RecordId)
    }

    fn record_client_id_bytes(&self, id: RecordId) -> &[u8] {
        let record = self
            .records
            .get(id.0)
            .expect("the index points at stored records");
        self.client_ids.get(record.client_id)
    }

    pub fn record_client_id(&self, record: &Record) -> &str {
        std::str::from_utf8(self.client_ids.get(record.client_id)).expect("ids are UTF-8")
    }

    pub fn record_reference(&self, record: &Record) -> &str {
        std::str::from_utf8(self.references.get(record.reference)).expect("references are UTF-8")
    }

    pub fn hold_count(&self) -> u64 {
        self.holds.len()
    }

    pub fn hold(&self, id: HoldId) -> Option<&Hold> {
        self.holds.get(u64::from(id.0))
    }

    /// The hold created by the freeze command with client id `id`.
    pub fn find_hold(&self, id: &ClientId) -> Option<HoldId> {
        let record = self.record(self.find_record(id)?)?;
        (record.hold != HoldId::NONE && record.op == crate::OpKind::Freeze).then_some(record.hold)
    }

    pub fn accounting_date(&self) -> Date {
        self.accounting_date
    }

    /// Timestamp of the last command applied; the next batch must start after it.
    pub fn last_timestamp(&self) -> u64 {
        self.last_timestamp
    }

    /// Sequence number the next journal entry will get.
    pub fn next_entry_seq(&self) -> u64 {
        self.next_entry_seq
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    pub fn memory_report(&self) -> MemoryReport {
        MemoryReport {
            records: self.records.len(),
            record_bytes: self.records.len() * std::mem::size_of::<Record>() as u64,
            index_bytes: self.index.memory_bytes() as u64,
            arena_bytes: (self.client_ids.capacity_bytes() + self.references.capacity_bytes())
                as u64,
        }
    }
}
