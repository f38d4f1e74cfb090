//! Shared helpers for engine tests: configurations with small files, command builders.
#![allow(dead_code)]

use std::path::Path;

use paycore_engine::{Engine, EngineConfig, Retention};
use paycore_ledger::*;

/// Small segments so rollovers happen, no automatic snapshots, full log kept.
pub fn config(dir: &Path) -> EngineConfig {
    let mut config = EngineConfig::new(dir);
    config.segment_bytes = 1 << 20;
    config.snapshot_every_commands = 0;
    config.snapshot_on_shutdown = false;
    config.retention = Retention::Keep;
    config
}

pub fn key(number: &str) -> AccountKey {
    AccountKey::No(AccountNo::new(number).unwrap())
}

pub fn open(hasher: &IdHasher, number: &str, kind: AccountType) -> Command {
    let op = Op::OpenAccount(OpenAccount {
        number: AccountNo::new(number).unwrap(),
        kind,
        currency: Currency::CNY,
        allow_negative: None,
        reference: Reference::NONE,
        opened_by: Operator::SYSTEM,
    });
    Command::new(
        hasher.client_id(&format!("open-{number}")).unwrap(),
        op,
        hasher,
    )
}

pub fn transfer(
    hasher: &IdHasher,
    id: &str,
    debit: &str,
    credit: &str,
    amount: u64,
    kind: TransferKind,
) -> Command {
    let op = Op::Transfer(Transfer {
        debit: key(debit),
        credit: key(credit),
        amount,
        currency: Currency::CNY,
        kind,
        reference: Reference::NONE,
    });
    Command::new(hasher.client_id(id).unwrap(), op, hasher)
}

/// Opens a settlement account S and customers C0..C{n}, each funded with `funds`.
pub fn setup(engine: &Engine, customers: usize, funds: u64) {
    let h = engine.hasher();
    let mut commands = vec![open(&h, "S", AccountType::Settlement)];
    commands.extend((0..customers).map(|i| open(&h, &format!("C{i}"), AccountType::Customer)));
    assert!(engine
        .submit_blocking(commands)
        .unwrap()
        .iter()
        .all(|o| o.result.is_ok()));
    let deposits = (0..customers)
        .map(|i| {
            transfer(
                &h,
                &format!("fund-{i}"),
                "S",
                &format!("C{i}"),
                funds,
                TransferKind::Deposit,
            )
        })
        .collect();
    assert!(engine
        .submit_blocking(deposits)
        .unwrap()
        .iter()
        .all(|o| o.result.is_ok()));
}

pub fn balance(engine: &Engine, number: &str) -> i64 {
    engine.read(|l| {
        l.account(l.resolve(&AccountNo::new(number).unwrap()).unwrap())
            .unwrap()
            .balance
    })
}

pub fn digest(engine: &Engine) -> u128 {
    engine.read(|l| l.digest())
}

/// Copies a data directory (files only, recursively), e.g. to damage the copy.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
