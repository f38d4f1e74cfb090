//! What the replication tests share: the ledger commands they post.

use paycore_ledger::*;

pub fn open(h: &IdHasher, number: &str, kind: AccountType) -> Command {
    let op = Op::OpenAccount(OpenAccount {
        number: AccountNo::new(number).unwrap(),
        kind,
        currency: Currency::CNY,
        allow_negative: None,
        reference: Reference::NONE,
        opened_by: Operator::SYSTEM,
    });
    Command::new(h.client_id(&format!("open-{number}")).unwrap(), op, h)
}

pub fn transfer(h: &IdHasher, id: &str, debit: &str, credit: &str, amount: u64) -> Command {
    let key = |n: &str| AccountKey::No(AccountNo::new(n).unwrap());
    let op = Op::Transfer(Transfer {
        debit: key(debit),
        credit: key(credit),
        amount,
        currency: Currency::CNY,
        kind: TransferKind::Deposit,
        reference: Reference::NONE,
    });
    Command::new(h.client_id(id).unwrap(), op, h)
}
