//! The payment side's two uses of the ledger engine: opening the accounts it needs (merchant,
//! channel clearing, fee income), and posting what an order's outcome says — each through
//! ids derived from the order, so the ledger's idempotency makes any retry a replay.

use std::sync::Arc;

use paycore_engine::Engine;
use paycore_ledger::{
    AccountNo, AccountType, Command, ErrorCode, Op, OpenAccount, Operator, Reference, Transfer,
    TransferKind,
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
}
