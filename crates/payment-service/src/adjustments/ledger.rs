//! The ledger's side of an adjustment: the accounts as they are when it is proposed (both
//! exist, in its currency, distinct, not closed — the ledger's own rules and codes, in its
//! order), and the posting: one transfer of kind `adjustment` under the id derived from the
//! adjustment and its attempt, so asking again is a replay of the ledger's first decision.

use paycore_adjustments::{AdjustError, Adjustment, NewAdjustment};
use paycore_ledger::{
    AccountNo, AccountStatus, Command, ErrorCode, Op, Reference, Transfer, TransferKind,
};

use crate::error::Result;
use crate::ledger::Ledger;

/// The ledger's refusal as an adjustment error (422 with the ledger's code).
pub(crate) fn refusal(code: ErrorCode) -> AdjustError {
    AdjustError::Ledger {
        code: code.code(),
        message: code.to_string(),
    }
}

fn account_no(field: &'static str, text: &str) -> std::result::Result<AccountNo, AdjustError> {
    AccountNo::new(text).map_err(|e| AdjustError::invalid(field, e.to_string()))
}

impl Ledger {
    /// The ledger's rules a proposal can already be held to (the posting checks them again).
    pub(crate) fn check_adjustment_accounts(
        &self,
        request: &NewAdjustment,
    ) -> std::result::Result<(), AdjustError> {
        let debit = account_no("debit_account", &request.debit_account)?;
        let credit = account_no("credit_account", &request.credit_account)?;
        let found = self.engine.read(|l| {
            let facts = |no: &AccountNo| {
                l.resolve(no)
                    .and_then(|id| l.account(id).map(|a| (id, a.currency, a.status)))
            };
            (facts(&debit), facts(&credit))
        });
        let (Some(debit), Some(credit)) = found else {
            return Err(refusal(ErrorCode::AccountNotFound));
        };
        if debit.0 == credit.0 {
            return Err(refusal(ErrorCode::SameAccount));
        }
        if debit.1 != request.currency || credit.1 != request.currency {
            return Err(refusal(ErrorCode::CurrencyMismatch));
        }
        if debit.2 == AccountStatus::Closed || credit.2 == AccountStatus::Closed {
            return Err(refusal(ErrorCode::AccountClosed));
        }
        Ok(())
    }

    /// Posts the adjustment under `ledger_id`: `Ok(Err(code))` is the ledger's refusal.
    pub(crate) async fn post_adjustment(
        &self,
        adjustment: &Adjustment,
        ledger_id: &str,
    ) -> Result<std::result::Result<(), ErrorCode>> {
        let hasher = self.engine.hasher();
        let op = Op::Transfer(Transfer {
            debit: AccountNo::new(&adjustment.debit_account)?.into(),
            credit: AccountNo::new(&adjustment.credit_account)?.into(),
            amount: adjustment.amount,
            currency: adjustment.currency,
            kind: TransferKind::Adjustment,
            reference: Reference::new(&format!("adjustment {}", adjustment.id))?,
        });
        let id = hasher.client_id(ledger_id)?;
        let mut outcomes = self
            .engine
            .submit(vec![Command::new(id, op, &hasher)])
            .await?;
        let outcome = outcomes.pop().expect("one outcome per command");
        Ok(outcome.result)
    }
}
