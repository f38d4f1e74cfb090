//! Rules for moving money: transfer (转账, also deposit 充值 and withdrawal 提现) and capture
//! (pay from frozen). Each movement debits one account and credits another of the same
//! currency by the same amount, so the per-currency sum of balances never changes.

use crate::apply::undo::Undo;
use crate::apply::{Ctx, Draft};
use crate::command::{Capture, Transfer, TransferKind};
use crate::{
    Account, AccountId, AccountStatus, AccountType, EntryKind, ErrorCode, HoldStatus, JournalEntry,
    Ledger, PostingMode,
};

impl Ledger {
    /// Rules, checked in this order (the first failing one is reported):
    /// amount_zero, amount_overflow (amount > i64::MAX), account_not_found (debit, then credit),
    /// same_account, currency_mismatch, account_closed (debit, then credit), account_frozen
    /// (debit), not_settlement_account (deposits/withdrawals), insufficient_funds or
    /// amount_overflow (debit side), amount_overflow (credit side).
    pub(crate) fn transfer(
        &mut self,
        ctx: Ctx,
        transfer: &Transfer,
        draft: &Draft,
        journal: &mut Vec<JournalEntry>,
    ) -> Result<(), ErrorCode> {
        check_amount(transfer.amount)?;
        let debit = self.existing_account(draft.debit)?;
        let credit = self.existing_account(draft.credit)?;
        if draft.debit == draft.credit {
            return Err(ErrorCode::SameAccount);
        }
        if debit.currency != transfer.currency || credit.currency != transfer.currency {
            return Err(ErrorCode::CurrencyMismatch);
        }
        check_open(&debit)?;
        check_open(&credit)?;
        if debit.status == AccountStatus::Frozen {
            return Err(ErrorCode::AccountFrozen);
        }
        check_settlement_side(transfer.kind, &debit, &credit)?;
        let split_plan = if debit.mode == PostingMode::Split {
            Some(self.split_debit_plan(draft.debit, transfer.amount, ctx)?)
        } else {
            let allowance = if debit.mode == PostingMode::Buffered {
                self.hot_buffer(draft.debit)
                    .map_or(0, |b| b.credit_allowance())
            } else {
                0
            };
            check_debit(&debit, transfer.amount, allowance)?;
            None
        };
        let target = self.credit_target(draft.credit, ctx);
        let target_account = self.existing_account(target)?;
        self.check_credit(&target_account, target, transfer.amount)?;

        match split_plan {
            Some(plan) => self.post_split_debit(ctx, journal, &plan),
            None => self.post(
                ctx,
                journal,
                draft.debit,
                EntryKind::Debit,
                transfer.amount,
                0,
            ),
        }
        self.credit(ctx, journal, target, transfer.amount);
        Ok(())
    }

    /// Rules, in order: hold_not_found, hold_expired, hold_closed, amount_zero,
    /// hold_amount_exceeded, account_not_found (credit), same_account, currency_mismatch,
    /// account_closed (credit), account_frozen (debit), amount_overflow (either side).
    /// The debit cannot lack funds: the amount was reserved when the hold was placed.
    pub(crate) fn capture(
        &mut self,
        ctx: Ctx,
        capture: &Capture,
        draft: &mut Draft,
        journal: &mut Vec<JournalEntry>,
    ) -> Result<(), ErrorCode> {
        let hold = self.usable_hold(ctx, draft)?;
        let amount = hold_amount(capture.amount, hold.remaining)?;
        draft.amount = amount;
        let debit = self.existing_account(hold.account)?;
        let credit = self.existing_account(draft.credit)?;
        if hold.account == draft.credit {
            return Err(ErrorCode::SameAccount);
        }
        if credit.currency != debit.currency {
            return Err(ErrorCode::CurrencyMismatch);
        }
        check_open(&credit)?;
        if debit.status == AccountStatus::Frozen {
            return Err(ErrorCode::AccountFrozen);
        }
        debug_assert!(debit.frozen as u64 >= amount);
        check_debit_unreserved(&debit, amount)?;
        let target = self.credit_target(draft.credit, ctx);
        let target_account = self.existing_account(target)?;
        self.check_credit(&target_account, target, amount)?;

        let mut after = hold;
        after.remaining -= amount;
        after.captured += amount;
        if after.remaining == 0 {
            after.status = HoldStatus::Captured;
        }
        self.replace_hold(draft.hold, after);
        self.post(
            ctx,
            journal,
            hold.account,
            EntryKind::Debit,
            amount,
            -(amount as i64),
        );
        self.credit(ctx, journal, target, amount);
        Ok(())
    }

    /// Credits `id`: posted at once, or added to its pending credit when it is hot.
    fn credit(&mut self, ctx: Ctx, journal: &mut Vec<JournalEntry>, id: AccountId, amount: u64) {
        if self.accounts[id.index()].mode == PostingMode::Buffered {
            self.buffer_credit(ctx, id, amount);
        } else {
            self.post(ctx, journal, id, EntryKind::Credit, amount, 0);
        }
    }

    /// The balance bound of a credit: balance plus pending credit plus the amount must stay
    /// within i64, so a later flush cannot overflow.
    fn check_credit(&self, account: &Account, id: AccountId, amount: u64) -> Result<(), ErrorCode> {
        account
            .balance
            .checked_add(if account.mode == PostingMode::Buffered {
                self.pending_credit(id)
            } else {
                0
            })
            .and_then(|b| b.checked_add(amount as i64))
            .map(|_| ())
            .ok_or(ErrorCode::AmountOverflow)
    }

    /// Writes a hold's new state, keeping the expiry queue to active holds only.
    pub(crate) fn replace_hold(&mut self, id: crate::HoldId, after: crate::Hold) {
        let slot = self
            .holds
            .get_mut(u64::from(id.0))
            .expect("hold ids are valid");
        let before = *slot;
        *slot = after;
        self.undo.push(Undo::Hold { id, before });
        if before.status == HoldStatus::Active && after.status != HoldStatus::Active {
            if let Some(at) = before.expires_at {
                self.expiries.remove(&(at, id));
            }
        }
    }
}

pub(crate) fn check_amount(amount: u64) -> Result<(), ErrorCode> {
    if amount == 0 {
        return Err(ErrorCode::AmountZero);
    }
    if amount > i64::MAX as u64 {
        return Err(ErrorCode::AmountOverflow);
    }
    Ok(())
}

/// The amount a release or capture uses: all that remains, or a part of it.
pub(crate) fn hold_amount(requested: Option<u64>, remaining: u64) -> Result<u64, ErrorCode> {
    match requested {
        None => Ok(remaining),
        Some(0) => Err(ErrorCode::AmountZero),
        Some(amount) if amount > remaining => Err(ErrorCode::HoldAmountExceeded),
        Some(amount) => Ok(amount),
    }
}

pub(crate) fn check_open(account: &Account) -> Result<(), ErrorCode> {
    if account.status == AccountStatus::Closed {
        return Err(ErrorCode::AccountClosed);
    }
    Ok(())
}

fn check_settlement_side(
    kind: TransferKind,
    debit: &Account,
    credit: &Account,
) -> Result<(), ErrorCode> {
    let settlement_side = match kind {
        TransferKind::Deposit => debit,
        TransferKind::Withdrawal => credit,
        _ => return Ok(()),
    };
    if settlement_side.kind != AccountType::Settlement {
        return Err(ErrorCode::NotSettlementAccount);
    }
    Ok(())
}

/// A debit of new money: available (plus, for a hot account, the usable part of its pending
/// credit) must cover it unless the account may go negative.
fn check_debit(account: &Account, amount: u64, allowance: i128) -> Result<(), ErrorCode> {
    if !account.allow_negative && account.available() + allowance < i128::from(amount) {
        return Err(ErrorCode::InsufficientFunds);
    }
    check_debit_unreserved(account, amount)
}

/// The balance bound of any debit (also of reserved money): it must stay within i64.
fn check_debit_unreserved(account: &Account, amount: u64) -> Result<(), ErrorCode> {
    account
        .balance
        .checked_sub(amount as i64)
        .map(|_| ())
        .ok_or(ErrorCode::AmountOverflow)
}
