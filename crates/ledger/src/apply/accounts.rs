//! Rules for the account lifecycle: open (开户), close (销户), account-level freeze, and the
//! day-end cutover (日切) of the accounting date.

use time::Date;

use crate::apply::undo::Undo;
use crate::apply::{Ctx, Draft};
use crate::command::OpenAccount;
use crate::{Account, AccountId, AccountInfo, AccountStatus, ErrorCode, Ledger, PostingMode};

impl Ledger {
    /// Rules: the number must be new. The account starts at zero, status normal.
    pub(crate) fn open_account(
        &mut self,
        ctx: Ctx,
        open: &OpenAccount,
        draft: &mut Draft,
    ) -> Result<(), ErrorCode> {
        if self.numbers.contains_key(&open.number) {
            draft.debit = self.numbers[&open.number];
            return Err(ErrorCode::AccountExists);
        }
        let id = AccountId(self.accounts.len() as u32);
        assert_ne!(id, AccountId::NONE, "account ids exhausted");
        self.accounts.push(Account {
            balance: 0,
            frozen: 0,
            currency: open.currency,
            kind: open.kind,
            status: AccountStatus::Normal,
            allow_negative: open
                .allow_negative
                .unwrap_or_else(|| open.kind.allows_negative_by_default()),
            mode: PostingMode::Direct,
        });
        self.infos.push(AccountInfo {
            number: open.number,
            opened_at: ctx.timestamp,
            opened_by: open.opened_by,
            reference: open.reference,
            opened_record: ctx.record,
        });
        self.numbers.insert(open.number, id);
        self.undo.push(Undo::AccountOpened {
            number: open.number,
        });
        draft.debit = id;
        Ok(())
    }

    /// Rules, in order: the account exists, is not closed, and has zero balance, frozen and
    /// pending credit. A closed account stops buffering.
    pub(crate) fn close_account(&mut self, draft: &Draft) -> Result<(), ErrorCode> {
        let account = self.existing_account(draft.debit)?;
        if account.status == AccountStatus::Closed {
            return Err(ErrorCode::AccountClosed);
        }
        if account.balance != 0 || account.frozen != 0 || self.pending_credit(draft.debit) != 0 {
            return Err(ErrorCode::BalanceNotZero);
        }
        if account.mode == PostingMode::Split {
            self.close_sub_accounts(draft.debit)?;
        }
        if let Some(before) = self.hot.remove(&draft.debit) {
            self.undo.push(Undo::Hot {
                id: draft.debit,
                before,
            });
        }
        self.set_status(draft.debit, AccountStatus::Closed);
        if account.mode == PostingMode::Buffered {
            self.accounts[draft.debit.index()].mode = PostingMode::Direct;
        }
        Ok(())
    }

    /// Rules: the account exists and is not closed. Setting the current state again succeeds.
    pub(crate) fn set_account_frozen(
        &mut self,
        frozen: bool,
        draft: &Draft,
    ) -> Result<(), ErrorCode> {
        let account = self.existing_account(draft.debit)?;
        if account.status == AccountStatus::Closed {
            return Err(ErrorCode::AccountClosed);
        }
        let status = if frozen {
            AccountStatus::Frozen
        } else {
            AccountStatus::Normal
        };
        self.set_status(draft.debit, status);
        Ok(())
    }

    /// Rules: `date` must be the current accounting date; afterwards postings land on the
    /// next day. Balances need no change: opening(T+1) is closing(T) by construction.
    pub(crate) fn day_end(&mut self, date: Date) -> Result<(), ErrorCode> {
        if date != self.accounting_date {
            return Err(ErrorCode::DayEndDateMismatch);
        }
        self.accounting_date = date
            .next_day()
            .expect("accounting dates stay far from year 9999");
        Ok(())
    }

    #[inline]
    pub(crate) fn existing_account(&self, id: AccountId) -> Result<Account, ErrorCode> {
        self.accounts
            .get(id.index())
            .copied()
            .ok_or(ErrorCode::AccountNotFound)
    }

    fn set_status(&mut self, id: AccountId, status: AccountStatus) {
        let before = self.accounts[id.index()];
        self.undo.push(Undo::Account { id, before });
        self.accounts[id.index()].status = status;
    }
}
