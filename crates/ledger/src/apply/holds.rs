//! Rules for holds: freeze (冻结) an amount, unfreeze (解冻) all or part of it, and the
//! deterministic release of expired holds at the start of each batch.

use crate::apply::transfers::{check_amount, check_open, hold_amount};
use crate::apply::undo::Undo;
use crate::apply::{Ctx, Draft};
use crate::command::{Freeze, Unfreeze};
use crate::{EntryKind, ErrorCode, Hold, HoldId, HoldStatus, JournalEntry, Ledger};

impl Ledger {
    /// Rules, in order: amount_zero, amount_overflow, account_not_found, currency_mismatch
    /// (when a currency is given), account_closed, invalid_expiry (not after now),
    /// insufficient_funds (available must cover it unless the account may go negative),
    /// amount_overflow (frozen total). A frozen account may still get holds.
    pub(crate) fn freeze(
        &mut self,
        ctx: Ctx,
        freeze: &Freeze,
        draft: &mut Draft,
        journal: &mut Vec<JournalEntry>,
    ) -> Result<(), ErrorCode> {
        check_amount(freeze.amount)?;
        let account = self.existing_account(draft.debit)?;
        if freeze.currency.is_some_and(|c| c != account.currency) {
            return Err(ErrorCode::CurrencyMismatch);
        }
        check_open(&account)?;
        if account.mode == crate::PostingMode::Split {
            // A hold reserves money in one place: on one of the sub-accounts.
            return Err(ErrorCode::SplitNotAllowed);
        }
        if freeze.expires_at.is_some_and(|at| at <= ctx.timestamp) {
            return Err(ErrorCode::InvalidExpiry);
        }
        if !account.allow_negative && account.available() < i128::from(freeze.amount) {
            return Err(ErrorCode::InsufficientFunds);
        }
        account
            .frozen
            .checked_add(freeze.amount as i64)
            .ok_or(ErrorCode::AmountOverflow)?;

        let id = HoldId(u32::try_from(self.holds.len()).expect("hold ids fit in u32"));
        assert_ne!(id, HoldId::NONE);
        self.holds.push(Hold {
            account: draft.debit,
            amount: freeze.amount,
            remaining: freeze.amount,
            captured: 0,
            expires_at: freeze.expires_at,
            status: HoldStatus::Active,
            record: ctx.record,
        });
        self.undo.push(Undo::HoldCreated);
        if let Some(at) = freeze.expires_at {
            self.expiries.insert((at, id));
        }
        draft.hold = id;
        let amount = freeze.amount;
        self.post(
            ctx,
            journal,
            draft.debit,
            EntryKind::Freeze,
            amount,
            amount as i64,
        );
        Ok(())
    }

    /// Rules, in order: hold_not_found, hold_expired, hold_closed, amount_zero,
    /// hold_amount_exceeded. Without an amount the whole remainder is released.
    pub(crate) fn unfreeze(
        &mut self,
        ctx: Ctx,
        unfreeze: &Unfreeze,
        draft: &mut Draft,
        journal: &mut Vec<JournalEntry>,
    ) -> Result<(), ErrorCode> {
        let hold = self.usable_hold(ctx, draft)?;
        let amount = hold_amount(unfreeze.amount, hold.remaining)?;
        draft.amount = amount;
        let mut after = hold;
        after.remaining -= amount;
        if after.remaining == 0 {
            after.status = HoldStatus::Released;
        }
        self.replace_hold(draft.hold, after);
        self.post(
            ctx,
            journal,
            hold.account,
            EntryKind::Unfreeze,
            amount,
            -(amount as i64),
        );
        Ok(())
    }

    /// The draft's hold if it can still be released or captured at `ctx.timestamp`.
    pub(crate) fn usable_hold(&self, ctx: Ctx, draft: &Draft) -> Result<Hold, ErrorCode> {
        let hold = *self.hold(draft.hold).ok_or(ErrorCode::HoldNotFound)?;
        if hold.status == HoldStatus::Expired
            || (hold.status == HoldStatus::Active && hold.is_expired_at(ctx.timestamp))
        {
            return Err(ErrorCode::HoldExpired);
        }
        if hold.status != HoldStatus::Active {
            return Err(ErrorCode::HoldClosed);
        }
        Ok(hold)
    }

    /// Releases every active hold whose expiry is at or before `now`, oldest expiry first.
    pub(crate) fn expire_holds(&mut self, now: u64, journal: &mut Vec<JournalEntry>) {
        assert!(self.undo.is_idle());
        while let Some(&(at, id)) = self.expiries.first() {
            if at > now {
                break;
            }
            let hold = *self.hold(id).expect("queued holds exist");
            assert_eq!(
                hold.status,
                HoldStatus::Active,
                "only active holds are queued"
            );
            let expired = Hold {
                remaining: 0,
                status: HoldStatus::Expired,
                ..hold
            };
            self.replace_hold(id, expired);
            let ctx = Ctx {
                timestamp: now,
                record: hold.record,
            };
            let amount = hold.remaining;
            self.post(
                ctx,
                journal,
                hold.account,
                EntryKind::Expire,
                amount,
                -(amount as i64),
            );
        }
    }
}
