//! The rules of every operation, case by case: what succeeds, what each rejection code means,
//! and that a rejected command changes nothing.

mod common;

use common::{date, Harness};
use paycore_ledger::*;

fn funded() -> Harness {
    let mut h = Harness::with_customers();
    let deposit = h.deposit("dep-A", "A", 1_000);
    h.one(deposit).unwrap();
    h
}

/// Applies `command`, expects `code`, and checks that balances, holds and counters are unchanged.
fn rejected(h: &mut Harness, command: Command, code: ErrorCode) {
    let accounts_before = h.ledger.accounts().to_vec();
    let seq_before = h.ledger.next_entry_seq();
    let holds_before = h.ledger.hold_count();
    let outcome = h.apply(&[command])[0];
    assert_eq!(outcome.result, Err(code), "{command:?}");
    assert_eq!(
        h.ledger.accounts(),
        &accounts_before[..],
        "{code:?} changed balances"
    );
    assert_eq!(
        h.ledger.next_entry_seq(),
        seq_before,
        "{code:?} wrote journal entries"
    );
    assert_eq!(h.ledger.hold_count(), holds_before);
    assert!(h.out.journal.is_empty());
}

#[test]
fn deposit_transfer_withdraw_move_balances_and_write_the_journal() {
    let mut h = funded();
    assert_eq!(h.balance("A"), 1_000);
    assert_eq!(h.balance("SETTLE"), -1_000);

    let transfer = h.transfer("t1", "A", "B", 300);
    h.one(transfer).unwrap();
    let journal = h.out.journal.clone();
    assert_eq!(journal.len(), 2);
    let (debit, credit) = (journal[0], journal[1]);
    assert_eq!(
        (
            debit.kind,
            debit.amount,
            debit.balance_before,
            debit.balance_after
        ),
        (EntryKind::Debit, 300, 1_000, 700)
    );
    assert_eq!(
        (credit.kind, credit.balance_before, credit.balance_after),
        (EntryKind::Credit, 0, 300)
    );
    assert_eq!(credit.seq, debit.seq + 1);
    assert_eq!(debit.record, credit.record);
    assert_eq!(debit.accounting_date, date(2026, 11, 26));

    let withdraw = h.cmd(
        "w1",
        Harness::transfer_op("B", "SETTLE", 100, TransferKind::Withdrawal),
    );
    h.one(withdraw).unwrap();
    assert_eq!(
        (h.balance("A"), h.balance("B"), h.balance("SETTLE")),
        (700, 200, -900)
    );

    let record = h
        .ledger
        .record(h.ledger.find_record(&h.id("t1")).unwrap())
        .unwrap();
    assert_eq!(
        (record.op, record.amount, record.result),
        (OpKind::Transfer, 300, Ok(()))
    );
    assert_eq!(h.ledger.record_client_id(record), "t1");
}

#[test]
fn transfer_rejections_have_their_codes_and_change_nothing() {
    let mut h = funded();
    h.open("USD1", AccountType::Customer, Currency::USD);
    h.open("GONE", AccountType::Customer, Currency::CNY);
    let close = h.close("close-GONE", "GONE");
    h.one(close).unwrap();
    h.open("ICE", AccountType::Customer, Currency::CNY);
    let dep = h.deposit("dep-ICE", "ICE", 50);
    h.one(dep).unwrap();
    let ice = h.cmd(
        "freeze-ICE",
        Op::SetAccountFrozen {
            account: Harness::key("ICE"),
            frozen: true,
        },
    );
    h.one(ice).unwrap();

    let cases: Vec<(Command, ErrorCode)> = vec![
        (h.transfer("x1", "A", "B", 0), ErrorCode::AmountZero),
        (
            h.transfer("x2", "A", "B", u64::MAX),
            ErrorCode::AmountOverflow,
        ),
        (h.transfer("x3", "NOPE", "B", 1), ErrorCode::AccountNotFound),
        (h.transfer("x4", "A", "NOPE", 1), ErrorCode::AccountNotFound),
        (h.transfer("x5", "A", "A", 1), ErrorCode::SameAccount),
        (
            h.transfer("x6", "A", "USD1", 1),
            ErrorCode::CurrencyMismatch,
        ),
        (h.transfer("x7", "A", "GONE", 1), ErrorCode::AccountClosed),
        (h.transfer("x8", "GONE", "A", 1), ErrorCode::AccountClosed),
        (h.transfer("x9", "ICE", "A", 1), ErrorCode::AccountFrozen),
        (
            h.transfer("x10", "A", "B", 1_001),
            ErrorCode::InsufficientFunds,
        ),
        (
            h.cmd(
                "x11",
                Harness::transfer_op("B", "A", 1, TransferKind::Deposit),
            ),
            ErrorCode::NotSettlementAccount,
        ),
        (
            h.cmd(
                "x12",
                Harness::transfer_op("A", "B", 1, TransferKind::Withdrawal),
            ),
            ErrorCode::NotSettlementAccount,
        ),
        (
            h.deposit("x13", "A", i64::MAX as u64),
            ErrorCode::AmountOverflow,
        ),
    ];
    for (command, code) in cases {
        rejected(&mut h, command, code);
    }
    // Credits to a frozen account still arrive; the exact limit still fits.
    let to_ice = h.transfer("ok1", "A", "ICE", 1_000);
    h.one(to_ice).unwrap();
    h.open("SETTLE2", AccountType::Settlement, Currency::CNY);
    let to_edge = h.cmd(
        "ok2",
        Harness::transfer_op("SETTLE2", "B", i64::MAX as u64, TransferKind::Deposit),
    );
    h.one(to_edge).unwrap();
    let beyond = h.cmd(
        "x14",
        Harness::transfer_op("SETTLE", "B", 1, TransferKind::Deposit),
    );
    rejected(&mut h, beyond, ErrorCode::AmountOverflow);
    assert_eq!(h.balance("B"), i64::MAX);
}

#[test]
fn currencies_are_never_mixed() {
    let mut h = Harness::with_customers();
    h.open("U", AccountType::Customer, Currency::USD);
    let mut op = Harness::transfer_op("SETTLE", "A", 5, TransferKind::Deposit);
    if let Op::Transfer(t) = &mut op {
        t.currency = Currency::USD;
    }
    let usd_into_cny = h.cmd("usd", op);
    rejected(&mut h, usd_into_cny, ErrorCode::CurrencyMismatch);
}

#[test]
fn a_retry_returns_the_original_result_and_a_changed_retry_conflicts() {
    let mut h = funded();
    let first = h.apply(&[h.transfer("t1", "A", "B", 100)])[0];
    assert!(!first.replayed);
    let retry = h.apply(&[h.transfer("t1", "A", "B", 100)])[0];
    assert_eq!(
        (retry.result, retry.record, retry.replayed),
        (Ok(()), first.record, true)
    );
    assert!(h.out.journal.is_empty());
    assert_eq!(h.balance("B"), 100);

    let changed = h.transfer("t1", "A", "B", 101);
    rejected(&mut h, changed, ErrorCode::IdConflict);
    let other_op = h.freeze("t1", "A", 1, None);
    rejected(&mut h, other_op, ErrorCode::IdConflict);

    // A rejection is an outcome too: retried after the money arrived, it stays rejected.
    let too_big = h.transfer("t2", "B", "C", 500);
    rejected(&mut h, too_big, ErrorCode::InsufficientFunds);
    let topup = h.deposit("dep-B", "B", 1_000);
    h.one(topup).unwrap();
    let again = h.apply(&[h.transfer("t2", "B", "C", 500)])[0];
    assert_eq!(
        (again.result, again.replayed),
        (Err(ErrorCode::InsufficientFunds), true)
    );
    assert_eq!(h.balance("C"), 0);

    // The same id twice in one batch: the second is a retry of the first.
    let pair = h.apply(&[h.transfer("t3", "A", "C", 1), h.transfer("t3", "A", "C", 1)]);
    assert_eq!(
        (pair[0].replayed, pair[1].replayed, pair[1].record),
        (false, true, pair[0].record)
    );
    assert_eq!(h.balance("C"), 1);
}

#[test]
fn accounts_open_with_type_defaults_and_unique_numbers() {
    let mut h = Harness::with_customers();
    assert!(!h.account("A").allow_negative);
    assert!(h.account("SETTLE").allow_negative);
    h.open("INT", AccountType::Internal, Currency::CNY);
    h.open("TR", AccountType::Transit, Currency::CNY);
    assert!(h.account("INT").allow_negative && !h.account("TR").allow_negative);
    let dup = h.cmd(
        "open-again",
        Harness::open_op("A", AccountType::Merchant, Currency::CNY),
    );
    rejected(&mut h, dup, ErrorCode::AccountExists);

    let id = h.ledger.resolve(&AccountNo::new("A").unwrap()).unwrap();
    let info = h.ledger.account_info(id).unwrap();
    assert_eq!(
        (info.number.as_str(), info.opened_by.as_str()),
        ("A", "system")
    );
    assert!(info.opened_at > common::T0);
}

#[test]
fn close_is_refused_while_money_or_holds_remain() {
    let mut h = funded();
    let (c1, c2) = (h.close("c1", "A"), h.close("c2", "NOPE"));
    rejected(&mut h, c1, ErrorCode::BalanceNotZero);
    rejected(&mut h, c2, ErrorCode::AccountNotFound);

    let hold = h.freeze("h1", "A", 1_000, None);
    h.one(hold).unwrap();
    let capture = h.capture("cap", "h1", "B", None);
    h.one(capture).unwrap();
    h.one(h.close("c3", "A")).unwrap();
    assert_eq!(h.account("A").status, AccountStatus::Closed);
    let c4 = h.close("c4", "A");
    rejected(&mut h, c4, ErrorCode::AccountClosed);
    let reopen = h.cmd(
        "thaw",
        Op::SetAccountFrozen {
            account: Harness::key("A"),
            frozen: false,
        },
    );
    rejected(&mut h, reopen, ErrorCode::AccountClosed);
    let hold_closed = h.freeze("h2", "A", 1, None);
    rejected(&mut h, hold_closed, ErrorCode::AccountClosed);
}

#[test]
fn account_level_freeze_blocks_debits_until_lifted() {
    let mut h = funded();
    let set = |h: &Harness, id: &str, frozen: bool| {
        h.cmd(
            id,
            Op::SetAccountFrozen {
                account: Harness::key("A"),
                frozen,
            },
        )
    };
    h.one(set(&h, "f1", true)).unwrap();
    assert_eq!(h.account("A").status, AccountStatus::Frozen);
    let debit = h.transfer("t1", "A", "B", 1);
    rejected(&mut h, debit, ErrorCode::AccountFrozen);
    let hold = h.freeze("h1", "A", 10, None);
    h.one(hold).unwrap();
    let capture = h.capture("cap1", "h1", "B", None);
    rejected(&mut h, capture, ErrorCode::AccountFrozen);
    h.one(set(&h, "f2", false)).unwrap();
    let debit = h.transfer("t2", "A", "B", 1);
    h.one(debit).unwrap();
}

#[test]
fn holds_freeze_release_and_capture() {
    let mut h = funded();
    let hold = h.freeze("h1", "A", 600, None);
    h.one(hold).unwrap();
    assert_eq!(
        (h.account("A").frozen, h.account("A").available()),
        (600, 400)
    );
    let overdraw = h.transfer("t1", "A", "B", 401);
    rejected(&mut h, overdraw, ErrorCode::InsufficientFunds);
    let second = h.freeze("h2", "A", 401, None);
    rejected(&mut h, second, ErrorCode::InsufficientFunds);

    let partial = h.unfreeze("u1", "h1", Some(100));
    h.one(partial).unwrap();
    assert_eq!(h.account("A").frozen, 500);
    let capture = h.capture("c1", "h1", "B", Some(200));
    h.one(capture).unwrap();
    let entries = h.out.journal.clone();
    assert_eq!(
        (
            entries[0].kind,
            entries[0].balance_after,
            entries[0].frozen_after
        ),
        (EntryKind::Debit, 800, 300)
    );
    assert_eq!(
        (h.balance("A"), h.balance("B"), h.account("A").frozen),
        (800, 200, 300)
    );

    let too_much = h.capture("c2", "h1", "B", Some(301));
    rejected(&mut h, too_much, ErrorCode::HoldAmountExceeded);
    let zero = h.unfreeze("u2", "h1", Some(0));
    rejected(&mut h, zero, ErrorCode::AmountZero);
    let self_pay = h.capture("c3", "h1", "A", None);
    rejected(&mut h, self_pay, ErrorCode::SameAccount);
    let nowhere = h.capture("c4", "h1", "NOPE", None);
    rejected(&mut h, nowhere, ErrorCode::AccountNotFound);
    let rest = h.capture("c5", "h1", "C", None);
    h.one(rest).unwrap();
    let hold_id = h.ledger.find_hold(&h.id("h1")).unwrap();
    let hold = h.ledger.hold(hold_id).unwrap();
    assert_eq!(
        (hold.status, hold.remaining, hold.captured),
        (HoldStatus::Captured, 0, 500)
    );
    let after_close = h.unfreeze("u3", "h1", None);
    rejected(&mut h, after_close, ErrorCode::HoldClosed);
    let unknown = h.unfreeze("u4", "nope", None);
    rejected(&mut h, unknown, ErrorCode::HoldNotFound);
    let not_a_hold = h.unfreeze("u5", "dep-A", None);
    rejected(&mut h, not_a_hold, ErrorCode::HoldNotFound);
    assert_eq!(
        h.balance("A") + h.balance("B") + h.balance("C") + h.balance("SETTLE"),
        0
    );
}

#[test]
fn holds_expire_by_themselves_at_the_first_batch_after_their_expiry() {
    let mut h = funded();
    let past = h.freeze("h0", "A", 10, Some(h.now));
    rejected(&mut h, past, ErrorCode::InvalidExpiry);
    let expires_at = h.now + 5_000;
    let hold = h.freeze("h1", "A", 300, Some(expires_at));
    h.one(hold).unwrap();
    let keep = h.freeze("h2", "A", 100, None);
    h.one(keep).unwrap();
    h.apply(&[]);
    assert_eq!(h.account("A").frozen, 400, "not yet expired");

    h.now = expires_at;
    h.apply(&[]);
    assert_eq!(h.account("A").frozen, 100);
    let entry = h.out.journal[0];
    assert_eq!(
        (entry.kind, entry.amount, entry.frozen_after),
        (EntryKind::Expire, 300, 100)
    );
    let late = h.capture("c1", "h1", "B", None);
    rejected(&mut h, late, ErrorCode::HoldExpired);
    let late_release = h.unfreeze("u1", "h1", None);
    rejected(&mut h, late_release, ErrorCode::HoldExpired);
}

#[test]
fn a_hold_past_its_expiry_is_unusable_even_before_the_sweep() {
    let mut h = funded();
    let expires_at = h.now + 1_500;
    let hold = h.freeze("h1", "A", 300, Some(expires_at));
    h.one(hold).unwrap();
    // The next batch starts before the expiry; its 600th command lies after it.
    let mut batch: Vec<Command> = (0..600)
        .map(|i| h.transfer(&format!("t{i}"), "A", "B", 1))
        .collect();
    batch.push(h.capture("late", "h1", "B", None));
    let outcomes = h.apply(&batch);
    assert_eq!(outcomes[600].result, Err(ErrorCode::HoldExpired));
}

#[test]
fn day_end_moves_the_accounting_date() {
    let mut h = funded();
    let wrong = h.cmd(
        "de0",
        Op::DayEnd {
            date: date(2026, 11, 25),
        },
    );
    rejected(&mut h, wrong, ErrorCode::DayEndDateMismatch);
    let day_end = h.cmd(
        "de1",
        Op::DayEnd {
            date: date(2026, 11, 26),
        },
    );
    h.one(day_end).unwrap();
    assert_eq!(h.ledger.accounting_date(), date(2026, 11, 27));
    let transfer = h.transfer("t1", "A", "B", 1);
    h.one(transfer).unwrap();
    assert!(h
        .out
        .journal
        .iter()
        .all(|e| e.accounting_date == date(2026, 11, 27)));
}

#[test]
fn commands_may_name_accounts_by_dense_id() {
    let mut h = funded();
    let a = h.ledger.resolve(&AccountNo::new("A").unwrap()).unwrap();
    let b = h.ledger.resolve(&AccountNo::new("B").unwrap()).unwrap();
    let op = |debit, credit| {
        Op::Transfer(Transfer {
            debit: AccountKey::Id(debit),
            credit: AccountKey::Id(credit),
            amount: 5,
            currency: Currency::CNY,
            kind: TransferKind::Transfer,
            reference: Reference::new("order-1").unwrap(),
        })
    };
    let by_id = h.cmd("i1", op(a, b));
    h.one(by_id).unwrap();
    assert_eq!(h.balance("B"), 5);
    let record = h
        .ledger
        .record(h.ledger.find_record(&h.id("i1")).unwrap())
        .unwrap();
    assert_eq!(h.ledger.record_reference(record), "order-1");
    let bad = h.cmd("i2", op(a, AccountId(999)));
    rejected(&mut h, bad, ErrorCode::AccountNotFound);

    // Resolving numbers to ids keeps the fingerprint: a retry by number is still a retry.
    let mut resolved = h.transfer("i3", "A", "B", 7);
    resolved.resolve_accounts(|n| h.ledger.resolve(n));
    assert!(matches!(
        resolved.op,
        Op::Transfer(Transfer {
            debit: AccountKey::Id(_),
            ..
        })
    ));
    h.one(resolved).unwrap();
    let retry = h.apply(&[h.transfer("i3", "A", "B", 7)])[0];
    assert!(retry.replayed);
}
