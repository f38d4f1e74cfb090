//! What the replication tests share: the ledger commands they post, and winning a shard once
//! its previous leader's lease has expired.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use paycore_ledger::*;
use paycore_replication::{Campaign, Leadership, ShardLog};

/// Campaigns for the shard until the previous leader's lease expires and this one wins.
pub async fn campaign_until_won(log: &mut ShardLog, address: &str, ttl_s: i64) -> Leadership {
    let started = Instant::now();
    loop {
        match log.campaign(address, ttl_s).await.unwrap() {
            Campaign::Won(leadership) => return leadership,
            Campaign::Lost { .. } => {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "the lease never expired"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

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
