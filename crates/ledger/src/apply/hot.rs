//! Rules of buffered (hot) accounts: setting the mode, buffering a credit, and flushing. See
//! `crate::hot` for the model.

use crate::apply::undo::Undo;
use crate::apply::{Ctx, Draft};
use crate::hot::{Flush, HotBuffer, HotOptions};
use crate::{AccountId, AccountStatus, EntryKind, ErrorCode, JournalEntry, Ledger, PostingMode};

impl Ledger {
    /// Rules, in order: account_not_found, account_closed, invalid_hot_options. Pending
    /// credits are flushed first whenever the options change or buffering stops.
    pub(crate) fn set_hot(
        &mut self,
        ctx: Ctx,
        options: Option<HotOptions>,
        draft: &Draft,
        journal: &mut Vec<JournalEntry>,
        flushes: &mut Vec<Flush>,
    ) -> Result<(), ErrorCode> {
        let account = self.existing_account(draft.debit)?;
        if account.status == AccountStatus::Closed {
            return Err(ErrorCode::AccountClosed);
        }
        if account.mode == PostingMode::Split {
            return Err(ErrorCode::SplitNotAllowed);
        }
        if options.is_some_and(|o| !o.is_valid()) {
            return Err(ErrorCode::InvalidHotOptions);
        }
        self.flush(ctx.timestamp, draft.debit, journal, flushes);
        match options {
            Some(options) => {
                self.hot.insert(draft.debit, HotBuffer::new(options));
            }
            None => {
                self.hot.remove(&draft.debit);
            }
        }
        self.accounts[draft.debit.index()].mode = if options.is_some() {
            PostingMode::Buffered
        } else {
            PostingMode::Direct
        };
        Ok(())
    }

    /// The buffer of `id`, if it is a hot account.
    pub(crate) fn hot_buffer(&self, id: AccountId) -> Option<&HotBuffer> {
        self.hot.get(&id)
    }

    /// Adds a checked credit to the pending credit of hot account `id`.
    pub(crate) fn buffer_credit(&mut self, ctx: Ctx, id: AccountId, amount: u64) {
        let buffer = self
            .hot
            .get_mut(&id)
            .expect("buffered accounts have a buffer");
        if self.undo.is_recording() {
            self.undo.push(Undo::Hot {
                id,
                before: buffer.clone(),
            });
        }
        if buffer.pending == 0 {
            buffer.since = ctx.timestamp;
        }
        buffer.pending = buffer
            .pending
            .checked_add(amount as i64)
            .expect("rules checked the pending bound");
        buffer.members.push(ctx.record);
    }

    /// Posts the pending credit of `id` (if any) as one credit entry, attributed to the last
    /// buffered record, and reports the records it contains.
    pub(crate) fn flush(
        &mut self,
        timestamp: u64,
        id: AccountId,
        journal: &mut Vec<JournalEntry>,
        flushes: &mut Vec<Flush>,
    ) {
        assert!(
            !self.undo.is_recording(),
            "flushes never run inside a chain"
        );
        let Some(buffer) = self.hot.get_mut(&id) else {
            return;
        };
        if buffer.pending == 0 {
            debug_assert!(buffer.members.is_empty());
            return;
        }
        let amount = buffer.pending as u64;
        let members = std::mem::take(&mut buffer.members);
        buffer.pending = 0;
        buffer.since = 0;
        let ctx = Ctx {
            timestamp,
            record: *members.last().expect("pending credit has members"),
        };
        let entry_seq = self.next_entry_seq;
        self.post(ctx, journal, id, EntryKind::Credit, amount, 0);
        flushes.push(Flush {
            entry_seq,
            account: id,
            members,
        });
    }

    /// At the start of a batch: flushes every buffer whose oldest credit is at least its
    /// interval old, or that holds `max_entries` credits, in account order.
    pub(crate) fn flush_due(
        &mut self,
        timestamp: u64,
        journal: &mut Vec<JournalEntry>,
        flushes: &mut Vec<Flush>,
    ) {
        let due: Vec<AccountId> = self
            .hot
            .iter()
            .filter(|(_, b)| b.due(timestamp))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.flush(timestamp, id, journal, flushes);
        }
    }

    /// Before a day-end: every pending credit is posted on the day that closes.
    pub(crate) fn flush_all(
        &mut self,
        timestamp: u64,
        journal: &mut Vec<JournalEntry>,
        flushes: &mut Vec<Flush>,
    ) {
        let pending: Vec<AccountId> = self
            .hot
            .iter()
            .filter(|(_, b)| b.pending > 0)
            .map(|(id, _)| *id)
            .collect();
        for id in pending {
            self.flush(timestamp, id, journal, flushes);
        }
    }
}
