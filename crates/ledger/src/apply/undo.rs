//! The undo log of a linked chain: before-images of everything a member changed, replayed
//! backwards when a later member fails. Outside a chain nothing is recorded.

use crate::text::AccountNo;
use crate::{Account, AccountId, Hold, HoldId, HoldStatus, HotBuffer, JournalEntry, Ledger};

pub(crate) enum Undo {
    Account {
        id: AccountId,
        before: Account,
    },
    AccountOpened {
        number: AccountNo,
    },
    Hold {
        id: HoldId,
        before: Hold,
    },
    HoldCreated,
    Record {
        hash: u64,
    },
    /// A hot account's buffer before a credit was added (or before it was removed).
    Hot {
        id: AccountId,
        before: HotBuffer,
    },
}

#[derive(Default)]
pub(crate) struct UndoLog {
    active: bool,
    entries: Vec<Undo>,
    journal_len: usize,
    next_entry_seq: u64,
}

impl UndoLog {
    pub fn begin(&mut self, journal_len: usize, next_entry_seq: u64) {
        assert!(!self.active && self.entries.is_empty());
        self.active = true;
        self.journal_len = journal_len;
        self.next_entry_seq = next_entry_seq;
    }

    /// Records a before-image while a chain is open; free otherwise.
    #[inline]
    pub fn push(&mut self, undo: Undo) {
        if self.active {
            self.entries.push(undo);
        }
    }

    pub fn finish(&mut self) {
        self.active = false;
        self.entries.clear();
    }

    /// Whether a chain is open (so changes must leave before-images).
    pub fn is_recording(&self) -> bool {
        self.active
    }

    pub fn is_idle(&self) -> bool {
        !self.active && self.entries.is_empty()
    }
}

impl Ledger {
    /// Restores the state from before the chain began, newest change first.
    pub(crate) fn rollback_chain(&mut self, journal: &mut Vec<JournalEntry>) {
        assert!(self.undo.active);
        let entries = std::mem::take(&mut self.undo.entries);
        for undo in entries.into_iter().rev() {
            self.undo_one(undo);
        }
        journal.truncate(self.undo.journal_len);
        self.next_entry_seq = self.undo.next_entry_seq;
        self.undo.finish();
    }

    fn undo_one(&mut self, undo: Undo) {
        match undo {
            Undo::Account { id, before } => self.accounts[id.index()] = before,
            Undo::AccountOpened { number } => {
                self.accounts.pop();
                self.infos.pop();
                self.numbers.remove(&number);
            }
            Undo::Hold { id, before } => {
                let current = self
                    .holds
                    .get_mut(u64::from(id.0))
                    .expect("undone holds exist");
                let reopened =
                    before.status == HoldStatus::Active && current.status != HoldStatus::Active;
                *current = before;
                if let (true, Some(at)) = (reopened, before.expires_at) {
                    self.expiries.insert((at, id));
                }
            }
            Undo::HoldCreated => {
                let id = HoldId((self.holds.len() - 1) as u32);
                let hold = self.holds.pop().expect("created holds exist");
                if let Some(at) = hold.expires_at {
                    self.expiries.remove(&(at, id));
                }
            }
            Undo::Hot { id, before } => {
                self.hot.insert(id, before);
            }
            Undo::Record { hash } => {
                let id = self.records.len() - 1;
                let record = self.records.pop().expect("stored records exist");
                self.index.remove(hash, id);
                self.client_ids.truncate_to(record.client_id);
                self.references.truncate_to(record.reference);
            }
        }
    }
}
