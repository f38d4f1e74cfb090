//! Turning followed batches into rows. Pure: reads the replica ledger, writes nothing.
//!
//! Several log batches accumulate into one `Projection`, written in one transaction. Accounts
//! and holds are written as their state after the last batch (so only touched ones are
//! written, once); records and entries are appended; daily balances and day flows are deltas
//! merged per (account, day) and (day, type, currency). At a day-end command the exact
//! balances at the cut are taken from the replica: its state after the batch, minus the
//! entries of that batch that were posted after the cut (they carry the next date).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;

use paycore_engine::FollowedBatch;
use paycore_ledger::{
    AccountId, AccountType, Date, EntryKind, HoldId, JournalEntry, Ledger, OpKind, RecordId,
};

use crate::rows::*;
use crate::touched::Touched;

/// Everything one store transaction writes.
#[derive(Clone, Debug, Default)]
pub struct Projection {
    pub last_sequence: u64,
    pub last_timestamp: u64,
    /// Every batch in it was already in the store's main part (the journal part commits
    /// after it, so after a crash between the two it catches up alone): only journal rows.
    pub journal_only: bool,
    /// The accounting date after the last batch.
    pub accounting_date: String,
    /// Accounts opened by the batches of this projection, as they stand after the last one.
    pub new_accounts: Vec<AccountRow>,
    /// Accounts the store already has that these batches changed: their new state.
    pub accounts: Vec<AccountRow>,
    pub records: Vec<RecordRow>,
    pub entries: Vec<EntryRow>,
    /// The entries grouped by account, in account order.
    pub runs: Vec<EntryRun>,
    pub holds: Vec<HoldRow>,
    pub daily: Vec<DailyDelta>,
    pub flows: Vec<DayFlow>,
    pub closings: Vec<DayClosing>,
    pub suspense: Vec<SuspenseRow>,
    /// (aggregated entry, record it contains) for every hot-account flush.
    pub flush_members: Vec<(u64, u64)>,
}

impl Projection {
    /// Empties every list, keeping its memory.
    fn clear(&mut self) {
        let Projection {
            last_sequence,
            last_timestamp,
            journal_only,
            accounting_date,
            new_accounts,
            accounts,
            records,
            entries,
            runs,
            holds,
            daily,
            flows,
            closings,
            suspense,
            flush_members,
        } = self;
        (*last_sequence, *last_timestamp, *journal_only) = (0, 0, false);
        accounting_date.clear();
        new_accounts.clear();
        accounts.clear();
        records.clear();
        entries.clear();
        runs.clear();
        holds.clear();
        daily.clear();
        flows.clear();
        closings.clear();
        suspense.clear();
        flush_members.clear();
    }
}

/// A written projection handed back to the builder, which fills it again instead of growing a
/// new one: a new projection of a million rows faults in hundreds of megabytes of fresh,
/// kernel-zeroed pages (a fifth of the projector's CPU, measured with perf), a reused one
/// writes over pages it has.
#[derive(Clone, Default)]
pub struct SpareProjection(Arc<Mutex<Option<Projection>>>);

impl SpareProjection {
    pub fn put(&self, mut projection: Projection) {
        projection.clear();
        *self.0.lock() = Some(projection);
    }

    fn take(&self) -> Option<Projection> {
        self.0.lock().take()
    }
}

pub struct ProjectionBuilder {
    date: Date,
    projection: Projection,
    spare: SpareProjection,
    accounts: Touched,
    holds: Touched,
    /// Accounts with a smaller id were opened before this projection's batches (ids are
    /// dense and given in order), so the store has them.
    stored_accounts: u32,
    daily: HashMap<(AccountId, Date), DailyDelta>,
    /// (account, day) rows earlier projections of this builder wrote.
    daily_written: HashSet<(AccountId, Date)>,
    flows: BTreeMap<(Date, AccountType, [u8; 4]), DayFlow>,
    pending_batches: usize,
    /// The last projection's records and entries.
    rows_expected: (usize, usize),
    /// Fill in each entry's client id (`Store::stores_entry_client_ids`).
    entry_client_ids: bool,
    dates: DateText,
    /// Batches up to this one are in the store's main part already: only their journal
    /// rows are built.
    main_done: u64,
}

/// Dates as text, formatted once per day instead of once per row.
#[derive(Default)]
struct DateText {
    date: Option<Date>,
    text: String,
}

impl DateText {
    fn text(&mut self, date: Date) -> String {
        if self.date != Some(date) {
            self.date = Some(date);
            self.text = date.to_string();
        }
        self.text.clone()
    }
}

impl ProjectionBuilder {
    /// Starts from `ledger` as the store's journal has it (its accounting date and accounts);
    /// the main part holds every batch up to `main_done` (at least as far as `ledger`).
    pub fn new(ledger: &Ledger, main_done: u64) -> ProjectionBuilder {
        ProjectionBuilder {
            main_done,
            date: ledger.accounting_date(),
            stored_accounts: ledger.account_count(),
            projection: Projection::default(),
            spare: SpareProjection::default(),
            accounts: Touched::default(),
            holds: Touched::default(),
            daily: HashMap::new(),
            daily_written: HashSet::new(),
            flows: BTreeMap::new(),
            pending_batches: 0,
            rows_expected: (0, 0),
            entry_client_ids: false,
            dates: DateText::default(),
        }
    }

    /// Entries will carry their command's client id.
    pub fn with_entry_client_ids(mut self, yes: bool) -> ProjectionBuilder {
        self.entry_client_ids = yes;
        self
    }

    /// Where a written projection goes back for the builder to fill again.
    pub fn spare(&self) -> SpareProjection {
        self.spare.clone()
    }

    /// Rows waiting to be written.
    pub fn pending_rows(&self) -> usize {
        self.projection.records.len() + self.projection.entries.len()
    }

    pub fn pending_batches(&self) -> usize {
        self.pending_batches
    }

    pub fn add(&mut self, batch: &FollowedBatch<'_>) {
        if self.pending_batches == 0 {
            // Taken here, not in `finish`: the writer gives the last projection back only
            // once it has taken the one `finish` made.
            if let Some(spare) = self.spare.take() {
                self.projection = spare;
            }
            // The next projection is likely as large as the last one: room for it now,
            // instead of doubling (copying hundreds of megabytes into fresh pages each time).
            let (records, entries) = self.rows_expected;
            room_for(&mut self.projection.records, records);
            room_for(&mut self.projection.entries, entries);
        }
        let ledger = batch.ledger;
        let journal_only = batch.sequence <= self.main_done;
        for outcome in batch.outcomes {
            let Some(record_id) = outcome.record.filter(|_| !outcome.replayed) else {
                continue;
            };
            let record = ledger.record(record_id).expect("outcomes point at records");
            let cuts_the_day = record.op == OpKind::DayEnd && record.result.is_ok();
            if journal_only {
                if cuts_the_day {
                    self.date = next_day(self.date);
                }
                continue;
            }
            self.projection.records.push(record_row(
                ledger,
                record_id,
                self.dates.text(self.date),
                batch.sequence,
            ));
            self.touch_for_record(record_id, ledger);
            if cuts_the_day {
                self.cut(batch);
            }
        }
        let first_entry = self.projection.entries.len();
        for entry in batch.journal {
            self.add_entry(entry, ledger);
            if !journal_only {
                self.add_to_balances(entry, ledger);
            }
        }
        if journal_only {
            // Accounts it opened are in the store's accounts table already.
            self.stored_accounts = ledger.account_count();
        }
        for flush in batch.flushes {
            let row = self.projection.entries[first_entry..]
                .iter_mut()
                .find(|e| e.seq == flush.entry_seq)
                .expect("a flush's entry is in its batch");
            row.aggregated = flush.members.len() as u64;
            self.projection
                .flush_members
                .extend(flush.members.iter().map(|m| (flush.entry_seq, m.0)));
        }
        self.projection.last_sequence = batch.sequence;
        self.projection.last_timestamp = batch.timestamp;
        self.pending_batches += 1;
    }

    fn touch_for_record(&mut self, record_id: RecordId, ledger: &Ledger) {
        let record = ledger.record(record_id).expect("record exists");
        if record.result.is_err() {
            return;
        }
        for account in [record.debit, record.credit] {
            if account != AccountId::NONE {
                self.accounts.insert(account.0);
            }
        }
        if record.hold != HoldId::NONE {
            self.holds.insert(record.hold.0);
        }
    }

    fn add_entry(&mut self, entry: &JournalEntry, ledger: &Ledger) {
        let client_id = if self.entry_client_ids {
            let record = ledger
                .record(entry.record)
                .expect("entries point at records");
            ledger.record_client_id(record).to_owned()
        } else {
            String::new()
        };
        self.projection.entries.push(EntryRow {
            seq: entry.seq,
            account_id: u64::from(entry.account.0),
            record_id: entry.record.0,
            client_id,
            account_no: String::new(),
            kind: entry.kind.name().into(),
            amount: entry.amount,
            balance_before: entry.balance_before,
            balance_after: entry.balance_after,
            frozen_after: entry.frozen_after,
            accounting_date: self.dates.text(entry.accounting_date),
            timestamp: entry.timestamp,
            aggregated: 0,
        });
    }

    /// What an entry changes in the main part: its account's row, its hold's, its day.
    fn add_to_balances(&mut self, entry: &JournalEntry, ledger: &Ledger) {
        let account = ledger
            .account(entry.account)
            .expect("entries point at accounts");
        self.accounts.insert(entry.account.0);
        if entry.kind == EntryKind::Expire {
            if let Some(hold) = ledger
                .record(entry.record)
                .map(|r| r.hold)
                .filter(|h| *h != HoldId::NONE)
            {
                self.holds.insert(hold.0);
            }
        }
        let (debit, credit) = match entry.kind {
            EntryKind::Debit => (i128::from(entry.amount), 0),
            EntryKind::Credit => (0, i128::from(entry.amount)),
            EntryKind::Freeze | EntryKind::Unfreeze | EntryKind::Expire => (0, 0),
        };
        let day = self
            .daily
            .entry((entry.account, entry.accounting_date))
            .or_insert_with(|| DailyDelta {
                account_id: u64::from(entry.account.0),
                accounting_date: entry.accounting_date.to_string(),
                opening: entry.balance_before,
                debits: 0,
                credits: 0,
                closing: entry.balance_before,
                entries: 0,
                stored: false,
            });
        day.debits += debit;
        day.credits += credit;
        day.closing = entry.balance_after;
        day.entries += 1;
        let key = (
            entry.accounting_date,
            account.kind,
            account.currency.to_bytes(),
        );
        let flow = self.flows.entry(key).or_insert_with(|| DayFlow {
            accounting_date: entry.accounting_date.to_string(),
            account_type: account.kind.name().to_owned(),
            currency: account.currency.code().to_owned(),
            debits: 0,
            credits: 0,
            entries: 0,
        });
        flow.debits += debit;
        flow.credits += credit;
        flow.entries += 1;
    }

    /// A day-end command of this batch closed `self.date`: record every type's closing
    /// balances and the transit accounts left with money, as of the cut.
    fn cut(&mut self, batch: &FollowedBatch<'_>) {
        let closed = self.date;
        let ledger = batch.ledger;
        // Entries of this batch dated after the closed day were posted after the cut.
        // In i128: each step fits in i64, their running sum need not.
        let mut after_cut: HashMap<AccountId, i128> = HashMap::new();
        for entry in batch.journal.iter().filter(|e| e.accounting_date > closed) {
            *after_cut.entry(entry.account).or_default() +=
                i128::from(entry.balance_after) - i128::from(entry.balance_before);
        }
        let mut closings: BTreeMap<(AccountType, [u8; 4]), DayClosing> = BTreeMap::new();
        for (index, account) in ledger.accounts().iter().enumerate() {
            let id = AccountId(index as u32);
            let balance = i64::try_from(
                i128::from(account.balance) - after_cut.get(&id).copied().unwrap_or(0),
            )
            .expect("the balance at the cut was an account's balance, so it fits in i64");
            let closing = closings
                .entry((account.kind, account.currency.to_bytes()))
                .or_insert_with(|| DayClosing {
                    accounting_date: closed.to_string(),
                    account_type: account.kind.name().to_owned(),
                    currency: account.currency.code().to_owned(),
                    accounts: 0,
                    closing: 0,
                });
            closing.accounts += 1;
            closing.closing += i128::from(balance);
            if account.kind == AccountType::Transit && balance != 0 {
                self.projection.suspense.push(SuspenseRow {
                    accounting_date: closed.to_string(),
                    account_id: u64::from(id.0),
                    balance,
                });
            }
        }
        self.projection.closings.extend(closings.into_values());
        self.date = next_day(closed);
    }

    /// The rows accumulated so far, with accounts and holds as `ledger` (the replica after the
    /// last added batch) has them; the builder starts empty again.
    pub fn finish(&mut self, ledger: &Ledger) -> Projection {
        let mut projection = std::mem::take(&mut self.projection);
        self.rows_expected = (projection.records.len(), projection.entries.len());
        // Batches come in order, so the last one tells for all.
        projection.journal_only = projection.last_sequence <= self.main_done;
        projection.accounting_date = self.date.to_string();
        // Every account opened since, touched or not; then the changed ones the store has.
        projection.new_accounts = (self.stored_accounts..ledger.account_count())
            .map(|id| account_row(ledger, AccountId(id)).expect("ids below the count exist"))
            .collect();
        projection.accounts = (self.accounts.take_sorted().into_iter())
            .filter(|id| *id < self.stored_accounts)
            .filter_map(|id| account_row(ledger, AccountId(id)))
            .collect();
        self.stored_accounts = ledger.account_count();
        projection.holds = (self.holds.take_sorted().into_iter())
            .filter_map(|id| hold_row(ledger, HoldId(id)))
            .collect();
        projection.runs = runs(&projection.entries);
        let mut daily: Vec<DailyDelta> = (std::mem::take(&mut self.daily).into_iter())
            .map(|(key, delta)| DailyDelta {
                stored: !self.daily_written.insert(key),
                ..delta
            })
            .collect();
        // Later batches are dated from the current day on.
        let today = self.date;
        self.daily_written.retain(|(_, date)| *date >= today);
        // In key order, so the upserts walk the daily-balance tree forward.
        daily.sort_unstable_by(|a, b| {
            (a.account_id, &a.accounting_date).cmp(&(b.account_id, &b.accounting_date))
        });
        projection.daily = daily;
        projection.flows = std::mem::take(&mut self.flows).into_values().collect();
        self.pending_batches = 0;
        projection
    }
}

/// Capacity for `rows` in the empty `list`: a new allocation when it has less, as growing it
/// would copy its whole old capacity.
fn room_for<T>(list: &mut Vec<T>, rows: usize) {
    debug_assert!(list.is_empty());
    if list.capacity() < rows {
        *list = Vec::with_capacity(rows);
    }
}

fn next_day(date: Date) -> Date {
    date.next_day().expect("dates stay far from year 9999")
}

/// One run per account of `entries` (which are in sequence order). Works from a sorted list
/// of (account, seq, index) and visits each run's last entry only, for its date: the entries
/// themselves, in account order, would be a cache miss each.
fn runs(entries: &[EntryRow]) -> Vec<EntryRun> {
    let mut order: Vec<(u64, u64, u32)> = (entries.iter().enumerate())
        .map(|(index, e)| (e.account_id, e.seq, index as u32))
        .collect();
    order.sort_unstable();
    let mut runs: Vec<EntryRun> = Vec::new();
    let mut last_index = 0;
    for (account_id, seq, index) in order {
        match runs.last_mut() {
            Some(run) if run.account_id == account_id => {
                debug_assert!(run.last_seq < seq);
                run.last_seq = seq;
                run.seqs.push(seq);
            }
            _ => {
                close_run(&mut runs, entries, last_index);
                runs.push(EntryRun {
                    account_id,
                    last_seq: seq,
                    last_date: String::new(),
                    seqs: vec![seq],
                });
            }
        }
        last_index = index as usize;
    }
    close_run(&mut runs, entries, last_index);
    runs
}

/// Dates the last run by its last entry, `entries[last_index]`.
fn close_run(runs: &mut [EntryRun], entries: &[EntryRow], last_index: usize) {
    if let Some(run) = runs.last_mut() {
        debug_assert_eq!(entries[last_index].seq, run.last_seq);
        run.last_date
            .clone_from(&entries[last_index].accounting_date);
    }
}

fn record_row(ledger: &Ledger, id: RecordId, date: String, batch_sequence: u64) -> RecordRow {
    let record = ledger.record(id).expect("record exists");
    let account = |a: AccountId| (a != AccountId::NONE).then_some(u64::from(a.0));
    RecordRow {
        record_id: id.0,
        client_id: ledger.record_client_id(record).to_owned(),
        op: record.op.name().into(),
        kind: record.kind.map(|k| k.name().into()),
        debit_account: account(record.debit),
        credit_account: account(record.credit),
        amount: record.amount,
        currency: record.currency.map(|c| c.code().to_owned().into()),
        reference: ledger.record_reference(record).to_owned(),
        result: record.result.err().map_or("ok", |e| e.code()).into(),
        timestamp: record.timestamp,
        accounting_date: date,
        batch_sequence,
    }
}

fn account_row(ledger: &Ledger, id: AccountId) -> Option<AccountRow> {
    let account = ledger.account(id)?;
    let info = ledger.account_info(id)?;
    Some(AccountRow {
        id: u64::from(id.0),
        account_no: info.number.to_string(),
        account_type: account.kind.name().to_owned(),
        currency: account.currency.code().to_owned(),
        balance: account.balance,
        frozen: account.frozen,
        status: account.status.name().to_owned(),
        allow_negative: account.allow_negative,
        reference: info.reference.as_str().to_owned(),
        opened_at: info.opened_at,
        opened_by: info.opened_by.as_str().to_owned(),
        pending_credit: ledger.pending_credit(id),
    })
}

fn hold_row(ledger: &Ledger, id: HoldId) -> Option<HoldRow> {
    let hold = ledger.hold(id)?;
    let freeze = ledger.record(hold.record)?;
    Some(HoldRow {
        hold_id: u64::from(id.0),
        client_id: ledger.record_client_id(freeze).to_owned(),
        account_id: u64::from(hold.account.0),
        amount: hold.amount,
        remaining: hold.remaining,
        captured: hold.captured,
        status: hold.status.name().to_owned(),
        expires_at: hold.expires_at,
        record_id: hold.record.0,
    })
}
