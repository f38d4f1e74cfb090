//! Split accounts (二级子账户): credits spread over the sub-accounts, a debit larger than any
//! one sub-account takes from several atomically, the total never goes negative, and the
//! ledger's invariants hold throughout.

mod common;

use common::*;
use paycore_ledger::*;

fn split(h: &Harness, id: &str, account: &str, parts: u8) -> Command {
    h.cmd(
        id,
        Op::SplitAccount {
            account: Harness::key(account),
            parts,
        },
    )
}

/// A, B, C funded with 10,000 each; M a merchant split into 4.
fn split_harness() -> Harness {
    let mut h = Harness::with_customers();
    h.open("M", AccountType::Merchant, Currency::CNY);
    for (i, n) in ["A", "B", "C"].into_iter().enumerate() {
        let fund = h.deposit(&format!("fund-{i}"), n, 10_000);
        h.one(fund).unwrap();
    }
    let cmd = split(&h, "split-M", "M", 4);
    h.one(cmd).unwrap();
    h
}

fn subs(h: &Harness) -> Vec<i64> {
    (1..=4).map(|k| h.balance(&format!("M-S{k}"))).collect()
}

#[test]
fn credits_spread_over_the_sub_accounts_and_the_main_account_holds_nothing() {
    let mut h = split_harness();
    let batch: Vec<_> = (0..8)
        .map(|i| h.transfer(&format!("pay-{i}"), "A", "M", 100))
        .collect();
    assert!(h.apply(&batch).iter().all(|o| o.result.is_ok()));
    assert_eq!(h.balance("M"), 0);
    assert_eq!(
        subs(&h),
        [200, 200, 200, 200],
        "round-robin by record number"
    );
    let m = h.ledger.resolve(&AccountNo::new("M").unwrap()).unwrap();
    assert_eq!(h.ledger.sub_accounts(m).unwrap().len(), 4);
    assert!(h.out.journal.iter().all(|e| e.account != m));
}

#[test]
fn a_debit_larger_than_any_sub_account_takes_from_several_at_once() {
    let mut h = split_harness();
    let batch: Vec<_> = (0..8)
        .map(|i| h.transfer(&format!("pay-{i}"), "B", "M", 100))
        .collect();
    h.apply(&batch);
    let big = h.transfer("payout", "M", "C", 700);
    h.one(big).unwrap();
    assert_eq!(subs(&h).iter().sum::<i64>(), 100);
    let debits = h
        .out
        .journal
        .iter()
        .filter(|e| e.kind == EntryKind::Debit)
        .count();
    assert_eq!(debits, 4, "700 needs all four sub-accounts");
    // More than the total: refused, nothing moves.
    let too_much = h.transfer("too-much", "M", "C", 101);
    assert_eq!(h.one(too_much), Err(ErrorCode::InsufficientFunds));
    assert_eq!(subs(&h).iter().sum::<i64>(), 100);
    assert!(subs(&h).iter().all(|b| *b >= 0));
    let exact = h.transfer("exact", "M", "C", 100);
    h.one(exact).unwrap();
    assert_eq!(subs(&h), [0, 0, 0, 0]);
}

#[test]
fn a_failed_chain_undoes_a_split_debit() {
    let mut h = split_harness();
    let pay = h.transfer("pay", "A", "M", 400);
    h.one(pay).unwrap();
    let out = h.transfer("out", "M", "B", 300).linked(true);
    let fails = h.transfer("fails", "C", "B", 1_000_000);
    let outcomes = h.apply(&[out, fails]);
    assert_eq!(outcomes[0].result, Err(ErrorCode::LinkedBatchFailed));
    assert_eq!(subs(&h).iter().sum::<i64>(), 400);
}

#[test]
fn split_rules_and_closing() {
    let mut h = split_harness();
    let again = split(&h, "split-again", "M", 2);
    assert_eq!(h.one(again), Err(ErrorCode::SplitNotAllowed));
    let funded = split(&h, "split-A", "A", 2);
    assert_eq!(h.one(funded), Err(ErrorCode::BalanceNotZero));
    h.open("N", AccountType::Merchant, Currency::CNY);
    for (i, parts) in [0u8, 1, 65].into_iter().enumerate() {
        let bad = split(&h, &format!("bad-{i}"), "N", parts);
        assert_eq!(h.one(bad), Err(ErrorCode::InvalidSplit));
    }
    h.open("N-S2", AccountType::Merchant, Currency::CNY);
    let taken = split(&h, "taken", "N", 2);
    assert_eq!(h.one(taken), Err(ErrorCode::InvalidSplit));
    let hold = h.freeze("hold-M", "M", 1, None);
    assert_eq!(h.one(hold), Err(ErrorCode::SplitNotAllowed));
    let hot = h.cmd(
        "hot-M",
        Op::SetHot {
            account: Harness::key("M"),
            options: Some(HotOptions {
                flush_interval_ms: 10,
                max_entries: 10,
                credit_line: 0,
            }),
        },
    );
    assert_eq!(h.one(hot), Err(ErrorCode::SplitNotAllowed));

    let pay = h.transfer("pay", "A", "M", 10);
    h.one(pay).unwrap();
    let close = h.close("close-M", "M");
    assert_eq!(h.one(close), Err(ErrorCode::BalanceNotZero));
    let back = h.transfer("back", "M", "A", 10);
    h.one(back).unwrap();
    let close = h.close("close-M-2", "M");
    h.one(close).unwrap();
    assert_eq!(h.account("M-S1").status, AccountStatus::Closed);
}

#[test]
fn snapshots_keep_split_accounts() {
    let mut h = split_harness();
    let pay = h.transfer("pay", "A", "M", 10);
    h.one(pay).unwrap();
    let mut bytes = Vec::new();
    h.ledger.snapshot().encode(&mut bytes).unwrap();
    let restored = LedgerSnapshot::decode(&mut bytes.as_slice()).unwrap();
    assert_eq!(restored.digest(), h.ledger.digest());
    let m = restored.resolve(&AccountNo::new("M").unwrap()).unwrap();
    assert_eq!(restored.account(m).unwrap().mode, PostingMode::Split);
    assert_eq!(restored.sub_accounts(m).unwrap().len(), 4);
}
