//! The payment side's two uses of the ledger engine: opening the accounts it needs (merchant,
//! channel clearing, fee income), and posting what an order's outcome says — each through
//! ids derived from the order, so the ledger's idempotency makes any retry a replay.

use std::sync::Arc;

use paycore_engine::Engine;
use paycore_ledger::{
    AccountNo, AccountType, Capture, Command, ErrorCode, Freeze, Op, OpenAccount, Operator,
    Reference, Transfer, TransferKind, Unfreeze,
};
use paycore_money::Currency;
use paycore_payments::{LedgerKind, LedgerTransfer};

use crate::error::{Result, ServiceError};

#[derive(Clone)]
pub struct Ledger {
    pub(crate) engine: Arc<Engine>,
}

fn kind_of(kind: LedgerKind) -> TransferKind {
    match kind {
        LedgerKind::Payment => TransferKind::Payment,
        LedgerKind::Fee => TransferKind::Fee,
        LedgerKind::Refund => TransferKind::Refund,
        LedgerKind::Withdrawal => TransferKind::Withdrawal,
    }
}

impl Ledger {
    pub fn new(engine: Arc<Engine>) -> Ledger {
        Ledger { engine }
    }

    /// Opens `number` unless an account of that type and currency already has the number.
    pub async fn ensure_account(
        &self,
        number: &str,
        kind: AccountType,
        currency: Currency,
        reference: &str,
    ) -> Result<()> {
        let number = AccountNo::new(number)?;
        let hasher = self.engine.hasher();
        let op = Op::OpenAccount(OpenAccount {
            number,
            kind,
            currency,
            allow_negative: None,
            reference: Reference::new(reference)?,
            opened_by: Operator::SYSTEM,
        });
        let id = hasher.client_id(&format!("open:{number}"))?;
        let outcome = self
            .engine
            .submit(vec![Command::new(id, op, &hasher)])
            .await?;
        let usable = self.engine.read(|l| {
            l.resolve(&number)
                .and_then(|a| l.account(a))
                .is_some_and(|a| a.kind == kind && a.currency == currency)
        });
        match outcome[0].result {
            Ok(()) if usable => Ok(()),
            Err(ErrorCode::AccountExists | ErrorCode::IdConflict) if usable => Ok(()),
            Ok(()) => Err(ServiceError::Ledger {
                what: format!("opening {number}"),
                code: ErrorCode::AccountNotFound,
            }),
            Err(code) => Err(ServiceError::Ledger {
                what: format!(
                    "opening {number} as a {} {} account",
                    kind.name(),
                    currency.code()
                ),
                code: if usable {
                    code
                } else {
                    ErrorCode::AccountExists
                },
            }),
        }
    }

    /// Posts `transfers` as one linked batch (all or none). `Ok(Err(code))` is the ledger's
    /// refusal (the first rule that failed); a retry of a posted batch is a replay.
    pub async fn post(
        &self,
        transfers: &[LedgerTransfer],
    ) -> Result<std::result::Result<(), ErrorCode>> {
        assert!(!transfers.is_empty());
        let hasher = self.engine.hasher();
        let mut commands = Vec::with_capacity(transfers.len());
        for (i, t) in transfers.iter().enumerate() {
            let op = Op::Transfer(Transfer {
                debit: AccountNo::new(&t.debit)?.into(),
                credit: AccountNo::new(&t.credit)?.into(),
                amount: t.amount,
                currency: t.currency,
                kind: kind_of(t.kind),
                reference: Reference::new(&t.reference)?,
            });
            let id = hasher.client_id(&t.client_id)?;
            let linked = i + 1 < transfers.len();
            commands.push(Command::new(id, op, &hasher).linked(linked));
        }
        let outcomes = self.engine.submit(commands).await?;
        let refusal = outcomes
            .iter()
            .filter_map(|o| o.result.err())
            .find(|code| *code != ErrorCode::LinkedBatchFailed)
            .or_else(|| outcomes.iter().find_map(|o| o.result.err()));
        Ok(match refusal {
            None => Ok(()),
            Some(code) => Err(code),
        })
    }

    /// Opens the transit account money not (yet) kept waits in (`PAY-SUSPENSE-<currency>`).
    pub async fn ensure_suspense(&self, currency: Currency) -> Result<()> {
        let number = paycore_payments::posting::suspense_account(currency);
        self.ensure_account(&number, AccountType::Transit, currency, "payment suspense")
            .await
    }

    /// Freezes `amount` of `account` under the hold id `hold`.
    pub async fn freeze(
        &self,
        hold: &str,
        account: &str,
        amount: u64,
        currency: Currency,
        reference: &str,
    ) -> Result<std::result::Result<(), ErrorCode>> {
        let op = Op::Freeze(Freeze {
            account: AccountNo::new(account)?.into(),
            amount,
            currency: Some(currency),
            expires_at: None,
            reference: Reference::new(reference)?,
        });
        self.submit_one(hold, op).await
    }

    /// Pays the whole hold `hold` to `credit`, under the id `id`.
    pub async fn capture(
        &self,
        id: &str,
        hold: &str,
        credit: &str,
        kind: LedgerKind,
        reference: &str,
    ) -> Result<std::result::Result<(), ErrorCode>> {
        let op = Op::Capture(Capture {
            hold: self.engine.hasher().client_id(hold)?,
            credit: AccountNo::new(credit)?.into(),
            amount: None,
            kind: kind_of(kind),
            reference: Reference::new(reference)?,
        });
        self.submit_one(id, op).await
    }

    /// Releases the whole hold `hold`, under the id `id`.
    pub async fn release(
        &self,
        id: &str,
        hold: &str,
    ) -> Result<std::result::Result<(), ErrorCode>> {
        let op = Op::Unfreeze(Unfreeze {
            hold: self.engine.hasher().client_id(hold)?,
            amount: None,
        });
        self.submit_one(id, op).await
    }

    async fn submit_one(&self, id: &str, op: Op) -> Result<std::result::Result<(), ErrorCode>> {
        let hasher = self.engine.hasher();
        let id = hasher.client_id(id)?;
        let outcome = self
            .engine
            .submit(vec![Command::new(id, op, &hasher)])
            .await?;
        Ok(outcome[0].result)
    }
}
