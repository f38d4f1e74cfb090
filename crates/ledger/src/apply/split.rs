//! Rules of split accounts (二级子账户): an account represented by N sub-accounts that carry
//! its postings. Credits are spread by record number (round-robin over the ledger's record
//! sequence); a debit takes from the sub-account the record number points at, or — when that
//! one is not enough — from the following ones in turn, all in the same command. The main
//! account's balance is the sum of its sub-accounts'; it never holds money itself.

use crate::apply::undo::Undo;
use crate::apply::{Ctx, Draft};
use crate::text::AccountNo;
use crate::{
    Account, AccountId, AccountInfo, AccountStatus, EntryKind, ErrorCode, JournalEntry, Ledger,
    PostingMode,
};

/// Sub-accounts per split account at most.
pub const SPLIT_PARTS_MAX: u8 = 64;

impl Ledger {
    /// Rules, in order: account_not_found, account_closed, split_not_allowed (already split or
    /// buffered), balance_not_zero, invalid_split (2–64 parts; `<number>-S<k>` must fit in 32
    /// characters and be free). Opens the sub-accounts `<number>-S1` … `<number>-S<N>` like
    /// the main account.
    pub(crate) fn split_account(
        &mut self,
        ctx: Ctx,
        parts: u8,
        draft: &Draft,
    ) -> Result<(), ErrorCode> {
        let main = self.existing_account(draft.debit)?;
        if main.status == AccountStatus::Closed {
            return Err(ErrorCode::AccountClosed);
        }
        if main.mode != PostingMode::Direct {
            return Err(ErrorCode::SplitNotAllowed);
        }
        if main.balance != 0 || main.frozen != 0 {
            return Err(ErrorCode::BalanceNotZero);
        }
        let info = *self.account_info(draft.debit).expect("accounts have infos");
        let numbers = sub_numbers(&info.number, parts).ok_or(ErrorCode::InvalidSplit)?;
        if numbers.iter().any(|n| self.numbers.contains_key(n)) {
            return Err(ErrorCode::InvalidSplit);
        }
        let mut subs = Vec::with_capacity(numbers.len());
        for number in numbers {
            let id = AccountId(self.accounts.len() as u32);
            assert_ne!(id, AccountId::NONE, "account ids exhausted");
            self.accounts.push(Account {
                mode: PostingMode::Direct,
                ..main
            });
            self.infos.push(AccountInfo {
                number,
                opened_at: ctx.timestamp,
                opened_record: ctx.record,
                ..info
            });
            self.numbers.insert(number, id);
            self.undo.push(Undo::AccountOpened { number });
            subs.push(id);
        }
        self.accounts[draft.debit.index()].mode = PostingMode::Split;
        self.splits.insert(draft.debit, subs);
        Ok(())
    }

    /// The sub-accounts of a split account.
    pub fn sub_accounts(&self, id: AccountId) -> Option<&[AccountId]> {
        self.splits.get(&id).map(Vec::as_slice)
    }

    /// Where a credit to `id` lands: itself, or for a split account the sub-account the record
    /// number points at.
    pub(crate) fn credit_target(&self, id: AccountId, ctx: Ctx) -> AccountId {
        match self.sub_accounts(id) {
            Some(subs) if self.accounts[id.index()].mode == PostingMode::Split => {
                subs[(ctx.record.0 % subs.len() as u64) as usize]
            }
            _ => id,
        }
    }

    /// How a debit of `amount` from split account `id` is taken: (sub-account, part) in order,
    /// or insufficient_funds when the sub-accounts together cannot cover it.
    pub(crate) fn split_debit_plan(
        &self,
        id: AccountId,
        amount: u64,
        ctx: Ctx,
    ) -> Result<Vec<(AccountId, u64)>, ErrorCode> {
        let subs = self
            .sub_accounts(id)
            .expect("split accounts have sub-accounts");
        let start = (ctx.record.0 % subs.len() as u64) as usize;
        let order = subs[start..].iter().chain(&subs[..start]);
        let mut plan = Vec::new();
        let mut left = amount;
        for &sub in order {
            let account = self.accounts[sub.index()];
            let usable = if account.allow_negative {
                u64::MAX
            } else {
                u64::try_from(account.available().max(0)).unwrap_or(u64::MAX)
            };
            let take = usable.min(left);
            if take == 0 {
                continue;
            }
            account
                .balance
                .checked_sub(take as i64)
                .ok_or(ErrorCode::AmountOverflow)?;
            plan.push((sub, take));
            left -= take;
            if left == 0 {
                return Ok(plan);
            }
        }
        Err(ErrorCode::InsufficientFunds)
    }

    /// Posts a planned split debit: one debit entry per sub-account used.
    pub(crate) fn post_split_debit(
        &mut self,
        ctx: Ctx,
        journal: &mut Vec<JournalEntry>,
        plan: &[(AccountId, u64)],
    ) {
        for &(sub, part) in plan {
            self.post(ctx, journal, sub, EntryKind::Debit, part, 0);
        }
    }

    /// Closing a split account closes its sub-accounts, which must all be empty.
    pub(crate) fn close_sub_accounts(&mut self, id: AccountId) -> Result<(), ErrorCode> {
        let Some(subs) = self.splits.get(&id).cloned() else {
            return Ok(());
        };
        if subs.iter().any(|s| {
            let a = self.accounts[s.index()];
            a.balance != 0 || a.frozen != 0
        }) {
            return Err(ErrorCode::BalanceNotZero);
        }
        for sub in subs {
            let before = self.accounts[sub.index()];
            self.undo.push(Undo::Account { id: sub, before });
            self.accounts[sub.index()].status = AccountStatus::Closed;
        }
        Ok(())
    }
}

/// `<number>-S1` … `<number>-S<parts>`, if `parts` is allowed and every number fits. Public so
/// that opening an account split from the start can be refused before anything is opened.
pub fn sub_numbers(main: &AccountNo, parts: u8) -> Option<Vec<AccountNo>> {
    if !(2..=SPLIT_PARTS_MAX).contains(&parts) {
        return None;
    }
    (1..=parts)
        .map(|k| AccountNo::new(&format!("{main}-S{k}")).ok())
        .collect()
}
