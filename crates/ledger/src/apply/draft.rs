//! The draft of a command's record (resolved accounts, hold, amount) and the helpers that
//! every rule uses to change an account: `post` for balance/frozen changes with their journal
//! entry, and `store_record` for the decision itself.

use paycore_money::Currency;

use crate::apply::undo::Undo;
use crate::apply::Ctx;
use crate::command::{AccountKey, Command, Op, TransferKind};
use crate::record::OpKind;
use crate::store::Span;
use crate::{AccountId, EntryKind, ErrorCode, HoldId, JournalEntry, Ledger, Record, RecordId};

/// Everything a record stores beyond the command's id and fingerprint. Built once per
/// command by resolving its accounts and hold, then completed by the rule that runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Draft {
    pub op: OpKind,
    pub debit: AccountId,
    pub credit: AccountId,
    pub hold: HoldId,
    pub amount: u64,
    pub currency: Option<Currency>,
    pub kind: Option<TransferKind>,
}

impl Ledger {
    /// Resolves the command's accounts and hold once; `AccountId::NONE` where unknown.
    pub(crate) fn draft_for(&self, command: &Command) -> Draft {
        let mut draft = Draft {
            op: OpKind::Transfer,
            debit: AccountId::NONE,
            credit: AccountId::NONE,
            hold: HoldId::NONE,
            amount: 0,
            currency: None,
            kind: None,
        };
        match &command.op {
            Op::Transfer(t) => {
                draft.debit = self.resolve_key(&t.debit);
                draft.credit = self.resolve_key(&t.credit);
                draft.amount = t.amount;
                draft.currency = Some(t.currency);
                draft.kind = Some(t.kind);
            }
            Op::OpenAccount(open) => {
                draft.op = OpKind::OpenAccount;
                draft.currency = Some(open.currency);
            }
            Op::CloseAccount { account } => {
                draft.op = OpKind::CloseAccount;
                draft.debit = self.resolve_key(account);
            }
            Op::SetAccountFrozen { account, .. } => {
                draft.op = OpKind::SetAccountFrozen;
                draft.debit = self.resolve_key(account);
            }
            Op::Freeze(freeze) => {
                draft.op = OpKind::Freeze;
                draft.debit = self.resolve_key(&freeze.account);
                draft.amount = freeze.amount;
                draft.currency = freeze.currency;
            }
            Op::Unfreeze(unfreeze) => {
                draft.op = OpKind::Unfreeze;
                self.draft_hold(&mut draft, &unfreeze.hold);
                draft.amount = unfreeze.amount.unwrap_or(0);
            }
            Op::Capture(capture) => {
                draft.op = OpKind::Capture;
                self.draft_hold(&mut draft, &capture.hold);
                draft.credit = self.resolve_key(&capture.credit);
                draft.amount = capture.amount.unwrap_or(0);
                draft.kind = Some(capture.kind);
            }
            Op::SetHot { account, .. } => {
                draft.op = OpKind::SetHot;
                draft.debit = self.resolve_key(account);
            }
            Op::SplitAccount { account, parts } => {
                draft.op = OpKind::SplitAccount;
                draft.debit = self.resolve_key(account);
                draft.amount = u64::from(*parts);
            }
            Op::DayEnd { date } => {
                draft.op = OpKind::DayEnd;
                draft.amount = date.to_julian_day() as u64;
            }
        }
        if draft.currency.is_none() {
            draft.currency = self.account(draft.debit).map(|a| a.currency);
        }
        draft
    }

    fn draft_hold(&self, draft: &mut Draft, hold: &crate::ClientId) {
        if let Some(id) = self.find_hold(hold) {
            draft.hold = id;
            draft.debit = self.hold(id).expect("found holds exist").account;
        }
    }

    #[inline]
    pub(crate) fn resolve_key(&self, key: &AccountKey) -> AccountId {
        match key {
            AccountKey::Id(id) if id.index() < self.accounts.len() => *id,
            AccountKey::Id(_) => AccountId::NONE,
            AccountKey::No(number) => self.resolve(number).unwrap_or(AccountId::NONE),
        }
    }

    /// Stores the decision on a command and indexes its client id.
    pub(crate) fn store_record(
        &mut self,
        timestamp: u64,
        command: &Command,
        draft: &Draft,
        result: Result<(), ErrorCode>,
    ) -> RecordId {
        let reference = match &command.op {
            Op::Transfer(t) => t.reference.as_bytes(),
            Op::Freeze(f) => f.reference.as_bytes(),
            Op::Capture(c) => c.reference.as_bytes(),
            Op::OpenAccount(o) => o.reference.as_bytes(),
            _ => &[],
        };
        let (id_padded, id_len) = command.id.padded();
        let record = Record {
            fingerprint: command.fingerprint,
            timestamp,
            amount: draft.amount,
            client_id: self.client_ids.push_padded(id_padded, id_len),
            reference: if reference.is_empty() {
                Span::EMPTY
            } else {
                self.references.push(reference)
            },
            debit: draft.debit,
            credit: draft.credit,
            hold: draft.hold,
            currency: draft.currency,
            op: draft.op,
            kind: draft.kind,
            result,
        };
        let id = RecordId(self.records.push(record));
        self.index.insert(command.id.hash(), id.0);
        self.undo.push(Undo::Record {
            hash: command.id.hash(),
        });
        id
    }

    /// Changes one account's balance and/or frozen amount and writes its journal entry.
    /// Callers have checked the rules; overflow here would be a bug, hence the asserts.
    #[inline]
    pub(crate) fn post(
        &mut self,
        ctx: Ctx,
        journal: &mut Vec<JournalEntry>,
        account_id: AccountId,
        kind: EntryKind,
        amount: u64,
        frozen_delta: i64,
    ) {
        let balance_delta = match kind {
            EntryKind::Debit => -(amount as i64),
            EntryKind::Credit => amount as i64,
            EntryKind::Freeze | EntryKind::Unfreeze | EntryKind::Expire => 0,
        };
        let before = self.accounts[account_id.index()];
        self.undo.push(Undo::Account {
            id: account_id,
            before,
        });
        let account = &mut self.accounts[account_id.index()];
        account.balance = before
            .balance
            .checked_add(balance_delta)
            .expect("rules checked the balance bound");
        account.frozen = before
            .frozen
            .checked_add(frozen_delta)
            .expect("rules checked the frozen bound");
        debug_assert!(account.frozen >= 0);
        debug_assert!(
            account.allow_negative
                || account.available()
                    + self
                        .hot
                        .get(&account_id)
                        .map_or(0, |b| b.credit_allowance())
                    >= 0
        );
        journal.push(JournalEntry {
            seq: self.next_entry_seq,
            timestamp: ctx.timestamp,
            record: ctx.record,
            account: account_id,
            kind,
            amount,
            balance_before: before.balance,
            balance_after: account.balance,
            frozen_after: account.frozen,
            accounting_date: self.accounting_date,
        });
        self.next_entry_seq += 1;
    }
}
