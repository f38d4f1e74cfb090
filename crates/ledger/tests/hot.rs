//! Buffered posting (缓冲记账) on hot accounts: credits collect as pending credit and reach the
//! balance as one aggregated entry per flush; debits use the posted balance plus at most the
//! credit line; day-end, option changes and replays keep every buffered credit.

mod common;

use common::*;
use paycore_ledger::*;

const MS: u64 = 1_000_000;

fn options(interval_ms: u32, max_entries: u32, credit_line: u64) -> Option<HotOptions> {
    Some(HotOptions {
        flush_interval_ms: interval_ms,
        max_entries,
        credit_line,
    })
}

fn set_hot(h: &Harness, id: &str, account: &str, options: Option<HotOptions>) -> Command {
    h.cmd(
        id,
        Op::SetHot {
            account: Harness::key(account),
            options,
        },
    )
}

/// A, B, C funded with 1,000 each; M a merchant buffered with `options`.
fn hot_harness(options: Option<HotOptions>) -> Harness {
    let mut h = Harness::with_customers();
    h.open("M", AccountType::Merchant, Currency::CNY);
    for (i, n) in ["A", "B", "C"].into_iter().enumerate() {
        let fund = h.deposit(&format!("fund-{i}"), n, 1_000);
        h.one(fund).unwrap();
    }
    let cmd = set_hot(&h, "hot-M", "M", options);
    h.one(cmd).unwrap();
    h
}

fn pending(h: &Harness, number: &str) -> i64 {
    let id = h.ledger.resolve(&AccountNo::new(number).unwrap()).unwrap();
    h.ledger.pending_credit(id)
}

#[test]
fn credits_wait_in_pending_and_post_as_one_entry_after_the_interval() {
    let mut h = hot_harness(options(1_000, 1_000, 0));
    let batch: Vec<_> = (0..5)
        .map(|i| {
            h.transfer(
                &format!("pay-{i}"),
                ["A", "B", "C"][i % 3],
                "M",
                10 + i as u64,
            )
        })
        .collect();
    assert!(h.apply(&batch).iter().all(|o| o.result.is_ok()));
    assert_eq!((h.balance("M"), pending(&h, "M")), (0, 60));
    assert!(
        h.out.journal.iter().all(|e| e.kind == EntryKind::Debit),
        "no credit entry for the hot account yet"
    );
    assert_eq!(h.balance("A"), 1_000 - 10 - 13);

    // Not yet due: another batch inside the interval leaves it pending.
    let more = h.transfer("pay-5", "A", "M", 5);
    h.one(more).unwrap();
    assert_eq!(pending(&h, "M"), 65);

    h.now += 1_000 * MS;
    let other = h.transfer("other", "A", "B", 1);
    h.one(other).unwrap();
    let flush: Vec<_> = h
        .out
        .journal
        .iter()
        .filter(|e| e.kind == EntryKind::Credit && e.balance_after == 65)
        .collect();
    assert_eq!(flush.len(), 1, "{:?}", h.out.journal);
    assert_eq!((flush[0].amount, flush[0].balance_before), (65, 0));
    assert_eq!(h.out.flushes.len(), 1);
    assert_eq!(h.out.flushes[0].members.len(), 6);
    assert_eq!(h.out.flushes[0].entry_seq, flush[0].seq);
    assert_eq!((h.balance("M"), pending(&h, "M")), (65, 0));
}

#[test]
fn a_full_buffer_is_flushed_at_the_next_batch() {
    let mut h = hot_harness(options(60_000, 3, 0));
    let batch: Vec<_> = (0..4)
        .map(|i| h.transfer(&format!("pay-{i}"), "A", "M", 1))
        .collect();
    h.apply(&batch);
    assert_eq!(pending(&h, "M"), 4, "checked at batch start, not mid-batch");
    let next = h.transfer("next", "B", "C", 1);
    h.one(next).unwrap();
    assert_eq!((h.balance("M"), pending(&h, "M")), (4, 0));
}

#[test]
fn debits_use_the_posted_balance_and_at_most_the_credit_line() {
    let mut h = hot_harness(options(60_000, 1_000, 30));
    let fund = h.transfer("pay", "A", "M", 100);
    h.one(fund).unwrap();
    assert_eq!((h.balance("M"), pending(&h, "M")), (0, 100));
    // Deduct first, add later: only the credit line of the pending credit is usable.
    let too_much = h.transfer("out-1", "M", "B", 31);
    assert_eq!(h.one(too_much), Err(ErrorCode::InsufficientFunds));
    let within = h.transfer("out-2", "M", "B", 30);
    h.one(within).unwrap();
    assert_eq!((h.balance("M"), pending(&h, "M")), (-30, 100));
    let none_left = h.transfer("out-3", "M", "B", 1);
    assert_eq!(h.one(none_left), Err(ErrorCode::InsufficientFunds));

    let mut h = hot_harness(options(60_000, 1_000, 0));
    let fund = h.transfer("pay", "A", "M", 100);
    h.one(fund).unwrap();
    let no_line = h.transfer("out", "M", "B", 1);
    assert_eq!(h.one(no_line), Err(ErrorCode::InsufficientFunds));
}

#[test]
fn day_end_posts_every_pending_credit_on_the_closing_day() {
    let mut h = hot_harness(options(60_000, 1_000, 0));
    let pay = h.transfer("pay", "A", "M", 40);
    h.one(pay).unwrap();
    let today = h.ledger.accounting_date();
    let cut = h.cmd("cut", Op::DayEnd { date: today });
    let late = h.transfer("late", "B", "M", 2);
    h.apply(&[cut, late]);
    let flush = h
        .out
        .journal
        .iter()
        .find(|e| e.kind == EntryKind::Credit)
        .unwrap();
    assert_eq!((flush.amount, flush.accounting_date), (40, today));
    assert_eq!((h.balance("M"), pending(&h, "M")), (40, 2));

    let wrong = h.cmd("cut-wrong", Op::DayEnd { date: today });
    assert_eq!(h.one(wrong), Err(ErrorCode::DayEndDateMismatch));
    assert_eq!(pending(&h, "M"), 2, "a rejected day-end flushes nothing");
}

#[test]
fn a_failed_chain_takes_its_buffered_credit_back() {
    let mut h = hot_harness(options(60_000, 1_000, 0));
    let ok = h.transfer("c-1", "A", "M", 5).linked(true);
    let fails = h.transfer("c-2", "B", "C", 1_000_000);
    let outcomes = h.apply(&[ok, fails]);
    assert_eq!(outcomes[0].result, Err(ErrorCode::LinkedBatchFailed));
    assert_eq!((pending(&h, "M"), h.balance("A")), (0, 1_000));
    let id = h.ledger.resolve(&AccountNo::new("M").unwrap()).unwrap();
    assert!(h.ledger.hot(id).unwrap().members.is_empty());
    let linked_hot = set_hot(&h, "hot-in-chain", "M", None).linked(true);
    let after = h.transfer("after", "A", "B", 1);
    assert_eq!(
        h.apply(&[linked_hot, after])[0].result,
        Err(ErrorCode::NotLinkable)
    );
}

#[test]
fn options_are_checked_changes_flush_and_closing_needs_an_empty_buffer() {
    let mut h = hot_harness(options(60_000, 1_000, 0));
    for (i, bad) in [options(0, 1, 0), options(60_001, 1, 0), options(10, 0, 0)]
        .into_iter()
        .enumerate()
    {
        let cmd = set_hot(&h, &format!("bad-{i}"), "M", bad);
        assert_eq!(h.one(cmd), Err(ErrorCode::InvalidHotOptions));
    }
    let missing = set_hot(&h, "missing", "NOPE", options(1, 1, 0));
    assert_eq!(h.one(missing), Err(ErrorCode::AccountNotFound));
    let pay = h.transfer("pay", "A", "M", 9);
    h.one(pay).unwrap();
    let close = h.close("close-M", "M");
    assert_eq!(h.one(close), Err(ErrorCode::BalanceNotZero));
    let off = set_hot(&h, "off", "M", None);
    h.one(off).unwrap();
    assert_eq!((h.balance("M"), pending(&h, "M")), (9, 0));
    assert_eq!(h.out.flushes.len(), 1);
    let plain = h.transfer("plain", "A", "M", 1);
    h.one(plain).unwrap();
    assert_eq!(h.balance("M"), 10, "credits post at once again");
}

#[test]
fn snapshots_and_replays_keep_buffered_credits() {
    let mut h = hot_harness(options(1, 2, 5));
    let mut batches: Vec<(u64, Vec<Command>)> = Vec::new();
    for round in 0..20u64 {
        let batch: Vec<_> = (0..3)
            .map(|i| {
                let from = ["A", "B", "C"][(round as usize + i) % 3];
                h.transfer(&format!("r{round}-{i}"), from, "M", round + i as u64 + 1)
            })
            .collect();
        if round % 7 == 6 {
            h.now += 2 * MS;
        }
        h.now += 1_000;
        batches.push((h.now, batch.clone()));
        h.ledger.apply_batch(h.now, &batch, &mut h.out);
        h.now += batch.len() as u64;
        h.ledger.check_invariants().unwrap();
    }
    let snapshot = h.ledger.snapshot();
    let mut bytes = Vec::new();
    snapshot.encode(&mut bytes).unwrap();
    let restored = LedgerSnapshot::decode(&mut bytes.as_slice()).unwrap();
    assert_eq!(restored.digest(), h.ledger.digest());
    let m = h.ledger.resolve(&AccountNo::new("M").unwrap()).unwrap();
    assert_eq!(restored.hot(m), h.ledger.hot(m));
    assert!(
        h.ledger.pending_credit(m) > 0,
        "something is still buffered"
    );

    // The same setup and batches on a fresh ledger reproduce the state bit for bit.
    let mut replay = hot_harness(options(1, 2, 5));
    for (at, batch) in &batches {
        replay.ledger.apply_batch(*at, batch, &mut replay.out);
    }
    assert_eq!(replay.ledger.digest(), h.ledger.digest());
}
