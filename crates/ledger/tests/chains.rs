//! Linked batches (组合记账): all members succeed or none does, with the failing member named.

mod common;

use common::Harness;
use paycore_ledger::*;

fn funded() -> Harness {
    let mut h = Harness::with_customers();
    let deposit = h.deposit("dep-A", "A", 1_000);
    h.one(deposit).unwrap();
    h
}

#[test]
fn a_successful_chain_applies_every_member() {
    let mut h = funded();
    let chain = [
        h.freeze("hold", "A", 500, None).linked(true),
        h.capture("pay", "hold", "B", Some(200)).linked(true),
        h.unfreeze("rest", "hold", None),
    ];
    let outcomes = h.apply(&chain);
    assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
    assert_eq!(
        (h.balance("A"), h.balance("B"), h.account("A").frozen),
        (800, 200, 0)
    );
}

#[test]
fn a_failing_member_undoes_the_whole_chain_and_is_named() {
    let mut h = funded();
    let digest_accounts = h.ledger.accounts().to_vec();
    let seq = h.ledger.next_entry_seq();
    let chain = [
        h.cmd(
            "open-D",
            Harness::open_op("D", AccountType::Customer, Currency::CNY),
        )
        .linked(true),
        h.transfer("t1", "A", "D", 600).linked(true),
        h.freeze("h1", "D", 100, Some(h.now + 10_000)).linked(true),
        h.transfer("t2", "A", "B", 600).linked(true), // only 400 left: fails
        h.transfer("t3", "B", "C", 1),
    ];
    let outcomes = h.apply(&chain);
    let codes: Vec<_> = outcomes.iter().map(|o| o.result).collect();
    assert_eq!(
        codes,
        [
            Err(ErrorCode::LinkedBatchFailed),
            Err(ErrorCode::LinkedBatchFailed),
            Err(ErrorCode::LinkedBatchFailed),
            Err(ErrorCode::InsufficientFunds),
            Err(ErrorCode::LinkedBatchFailed),
        ]
    );
    assert_eq!(h.ledger.accounts(), &digest_accounts[..]);
    assert_eq!(h.ledger.resolve(&AccountNo::new("D").unwrap()), None);
    assert_eq!(h.ledger.hold_count(), 0);
    assert_eq!(h.ledger.next_entry_seq(), seq);
    assert!(h.out.journal.is_empty());

    // Every member is recorded as failed: a retry returns the same, a new id is fresh.
    let retry = h.apply(&chain);
    assert!(retry.iter().all(|o| o.replayed));
    assert_eq!(retry.iter().map(|o| o.result).collect::<Vec<_>>(), codes);
    let fresh = h.transfer("t4", "A", "B", 400);
    h.one(fresh).unwrap();
}

#[test]
fn singles_around_a_failed_chain_are_unaffected() {
    let mut h = funded();
    let batch = [
        h.transfer("before", "A", "B", 100),
        h.transfer("c1", "A", "C", 100).linked(true),
        h.transfer("c2", "C", "B", 500),
        h.transfer("after", "A", "C", 100),
    ];
    let outcomes = h.apply(&batch);
    let codes: Vec<_> = outcomes.iter().map(|o| o.result).collect();
    assert_eq!(
        codes,
        [
            Ok(()),
            Err(ErrorCode::LinkedBatchFailed),
            Err(ErrorCode::InsufficientFunds),
            Ok(())
        ]
    );
    assert_eq!(
        (h.balance("A"), h.balance("B"), h.balance("C")),
        (800, 100, 100)
    );
}

#[test]
fn an_id_conflict_inside_a_chain_fails_it_without_taking_the_id() {
    let mut h = funded();
    let first = h.transfer("used", "A", "B", 10);
    h.one(first).unwrap();
    let chain = [
        h.transfer("n1", "A", "C", 10).linked(true),
        h.transfer("used", "A", "C", 99),
    ];
    let outcomes = h.apply(&chain);
    assert_eq!(outcomes[0].result, Err(ErrorCode::LinkedBatchFailed));
    assert_eq!(
        (outcomes[1].result, outcomes[1].record),
        (Err(ErrorCode::IdConflict), None)
    );
    assert_eq!(h.balance("C"), 0);
    let original = h
        .ledger
        .record(h.ledger.find_record(&h.id("used")).unwrap())
        .unwrap();
    assert_eq!((original.amount, original.result), (10, Ok(())));
}

#[test]
fn a_chain_left_open_at_the_end_of_the_batch_is_refused_unrecorded() {
    let mut h = funded();
    let batch = [
        h.transfer("ok", "A", "B", 1),
        h.transfer("open1", "A", "B", 1).linked(true),
        h.transfer("open2", "A", "B", 1).linked(true),
    ];
    let outcomes = h.apply(&batch);
    assert_eq!(outcomes[0].result, Ok(()));
    assert!(outcomes[1..]
        .iter()
        .all(|o| o.result == Err(ErrorCode::LinkedChainOpen) && o.record.is_none()));
    assert_eq!(h.ledger.find_record(&h.id("open1")), None);
    assert_eq!(h.balance("B"), 1);
}

#[test]
fn day_end_cannot_be_linked() {
    let mut h = funded();
    let today = h.ledger.accounting_date();
    let chain = [
        h.transfer("t", "A", "B", 1).linked(true),
        h.cmd("de", Op::DayEnd { date: today }),
    ];
    let outcomes = h.apply(&chain);
    assert_eq!(outcomes[1].result, Err(ErrorCode::NotLinkable));
    assert_eq!(outcomes[0].result, Err(ErrorCode::LinkedBatchFailed));
    assert_eq!(h.ledger.accounting_date(), today);
}

#[test]
fn an_expiring_hold_released_inside_a_failed_chain_comes_back() {
    let mut h = funded();
    let hold = h.freeze("h", "A", 300, Some(h.now + 1_000_000));
    h.one(hold).unwrap();
    let chain = [
        h.unfreeze("u", "h", None).linked(true),
        h.transfer("t", "A", "B", 5_000),
    ];
    h.apply(&chain);
    assert_eq!(h.account("A").frozen, 300);
    // Still queued for expiry: the sweep releases it later.
    h.now += 2_000_000;
    h.apply(&[]);
    assert_eq!(h.account("A").frozen, 0);
}
