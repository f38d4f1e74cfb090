//! Rows of the query store, as the projector writes them and queries return them.
//!
//! Names from a fixed set (operations, kinds, results, currencies) are `Name`s: the projector
//! borrows the ledger's static strings instead of allocating millions of copies; queries read
//! them back as owned strings.

use std::borrow::Cow;

/// A name from a fixed set: static when projected, owned when read back.
pub type Name = Cow<'static, str>;

/// An account's current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub id: u64,
    pub account_no: String,
    pub account_type: String,
    pub currency: String,
    pub balance: i64,
    pub frozen: i64,
    pub status: String,
    pub allow_negative: bool,
    pub reference: String,
    pub opened_at: u64,
    pub opened_by: String,
    /// Credits a hot account has accepted but not yet posted.
    pub pending_credit: i64,
}

/// A decided command (accepted or rejected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRow {
    pub record_id: u64,
    pub client_id: String,
    pub op: Name,
    pub kind: Option<Name>,
    pub debit_account: Option<u64>,
    pub credit_account: Option<u64>,
    pub amount: u64,
    pub currency: Option<Name>,
    pub reference: String,
    /// `ok` or the rejection's code.
    pub result: Name,
    pub timestamp: u64,
    /// YYYY-MM-DD.
    pub accounting_date: String,
    pub batch_sequence: u64,
}

/// A journal entry (账户流水).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub seq: u64,
    pub account_id: u64,
    pub record_id: u64,
    /// Client id of the command that caused it (SQLite reads it from the record; PostgreSQL
    /// keeps it in the entry).
    pub client_id: String,
    /// The account's number (filled by queries).
    pub account_no: String,
    pub kind: Name,
    pub amount: u64,
    pub balance_before: i64,
    pub balance_after: i64,
    pub frozen_after: i64,
    pub accounting_date: String,
    pub timestamp: u64,
    /// For the aggregated credit of a hot account's flush: how many transfers it contains
    /// (listed by `Store::flush_members`); 0 for an entry of its own.
    pub aggregated: u64,
}

/// One account's journal entries within one store transaction, in sequence order: the
/// journal's index by account. A B-tree keyed by (account, seq) takes one random insert per
/// entry; a run takes one per account and transaction, however many entries it lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRun {
    pub account_id: u64,
    /// The run's last entry (runs of one account never overlap, so this orders them).
    pub last_seq: u64,
    /// The accounting date of the last entry (dates never go back along the journal).
    pub last_date: String,
    pub seqs: Vec<u64>,
}

impl EntryRun {
    /// The sequences as a JSON array, how SQLite stores them (`json_each` reads them back).
    pub fn seqs_json(&self) -> String {
        let mut text = String::with_capacity(self.seqs.len() * 9 + 2);
        text.push('[');
        for (index, seq) in self.seqs.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            text.push_str(itoa::Buffer::new().format(*seq));
        }
        text.push(']');
        text
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRow {
    pub hold_id: u64,
    pub client_id: String,
    pub account_id: u64,
    pub amount: u64,
    pub remaining: u64,
    pub captured: u64,
    pub status: String,
    pub expires_at: Option<u64>,
    pub record_id: u64,
}

/// What one batch of postings adds to an account's day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyDelta {
    pub account_id: u64,
    pub accounting_date: String,
    /// Balance before the first entry of the day (used only if the day has no row yet).
    pub opening: i64,
    /// Turnover: the day's debits and credits may pass i64, each amount and balance cannot.
    pub debits: i128,
    pub credits: i128,
    pub closing: i64,
    pub entries: i64,
    /// An earlier projection of the same builder wrote this account's row for the day, so it
    /// exists: a store may update it in place rather than insert-or-update.
    pub stored: bool,
}

/// A stored daily balance row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyRow {
    pub accounting_date: String,
    pub opening: i64,
    pub debits: i128,
    pub credits: i128,
    pub closing: i64,
    pub entries: i64,
}

/// Postings of one account type and currency on one day (accumulated as projected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayFlow {
    pub accounting_date: String,
    pub account_type: String,
    pub currency: String,
    pub debits: i128,
    pub credits: i128,
    pub entries: i64,
}

/// Balances of one account type and currency at a day's cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayClosing {
    pub accounting_date: String,
    pub account_type: String,
    pub currency: String,
    pub accounts: i64,
    /// Sum of the balances at the cut (many accounts' balances may pass i64).
    pub closing: i128,
}

/// A transit account (中间过渡户) left with a balance at a cut (挂账).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuspenseRow {
    pub accounting_date: String,
    pub account_id: u64,
    pub balance: i64,
}

/// Filters of a journal query; results are in sequence order from `from_seq` on.
#[derive(Clone, Debug, Default)]
pub struct EntryQuery {
    pub account_id: Option<u64>,
    /// With `account_id`: also the entries of these accounts (a split account's sub-accounts,
    /// whose journal is the split account's).
    pub sub_accounts: Vec<u64>,
    pub from_seq: u64,
    pub from_date: Option<String>,
    pub to_date: Option<String>,
    pub limit: usize,
}

/// An account's holds in hold order (after `after_hold`, if given), optionally only those in
/// `status`.
#[derive(Clone, Debug, Default)]
pub struct HoldQuery {
    pub account_id: u64,
    pub status: Option<String>,
    pub after_hold: Option<u64>,
    pub limit: usize,
}

/// Filters of a record query; results are in record order after `after_record`.
#[derive(Clone, Debug, Default)]
pub struct RecordQuery {
    pub account_id: Option<u64>,
    /// With `account_id`: also the records of these accounts (a split account's sub-accounts).
    pub sub_accounts: Vec<u64>,
    pub reference: Option<String>,
    pub from_date: Option<String>,
    pub to_date: Option<String>,
    pub after_record: Option<u64>,
    pub limit: usize,
}

/// The first entry of one account's journal (in sequence order) that does not continue the chain:
/// its balance before differs from the previous balance after (starting at zero), or its own
/// before/after disagree with its kind and amount.
pub(crate) fn first_broken(entries: impl IntoIterator<Item = EntryRow>) -> Option<EntryRow> {
    let mut previous = 0i64;
    for row in entries {
        if row.balance_before != previous || !continues(&row) {
            return Some(row);
        }
        previous = row.balance_after;
    }
    None
}

/// Whether an entry's own before/after agree with its kind and amount.
fn continues(entry: &EntryRow) -> bool {
    let delta = entry.balance_after - entry.balance_before;
    match &*entry.kind {
        "credit" => delta == entry.amount as i64,
        "debit" => delta == -(entry.amount as i64),
        _ => delta == 0,
    }
}
