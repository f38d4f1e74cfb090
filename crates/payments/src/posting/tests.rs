//! Each step's postings: accounts, amounts and ids, and that every plan balances.

use paycore_money::Currency;

use super::*;
use crate::channel::Method;
use crate::order::{BankReport, BankResult, ReportSource, Timing};
use crate::payment::NewPayment;
use crate::routing::{RouteDecision, Strategy};
use crate::trade::Trade;

fn route() -> RouteDecision {
    RouteDecision {
        chosen: Some("bank-a".into()),
        strategy: Strategy::Weighted,
        candidates: Vec::new(),
        split_key: None,
        at: 0,
    }
}

fn trade() -> Trade {
    Trade {
        trade_id: "T1".into(),
        merchant: "shop".into(),
        merchant_order_no: "o".into(),
        amount: 10_000,
        currency: Currency::CNY,
        subject: String::new(),
        notify_url: None,
        status: crate::trade::TradeStatus::Open,
        created_at: 0,
        expires_at: 1_000_000,
        paid_by: None,
        paid_at: None,
        claimed_by: None,
    }
}

fn received(method: Method, amount: u64, fee: u64, balance: u64) -> Payment {
    let request = NewPayment {
        id: "p-1".into(),
        trade_id: "T1".into(),
        merchant: "shop".into(),
        method,
        amount,
        currency: Currency::CNY,
        fee,
        requested_channel: None,
        payer_account: (balance > 0).then(|| "alice".to_owned()),
        balance_amount: balance,
    };
    let mut p = Payment::new(request, "o1".into(), route(), 0, 1);
    let report = BankReport {
        order_no: "o1".into(),
        source: ReportSource::Response,
        result: BankResult::Succeeded {
            bank_ref: "B".into(),
            amount: amount - balance,
        },
    };
    p.report(
        &mut trade(),
        &report,
        1,
        Timing {
            not_found_grace_ms: 0,
        },
    );
    p
}

#[test]
fn a_kept_payment_posts_net_to_the_merchant_and_the_fee_to_income() {
    let t = payment_postings(&received(Method::Quickpay, 10_000, 60, 0), "M-shop");
    assert_eq!(t.len(), 2);
    assert_eq!(
        (
            t[0].client_id.as_str(),
            t[0].debit.as_str(),
            t[0].credit.as_str(),
            t[0].amount
        ),
        ("payment:p-1", "CLR-bank-a-CNY", "M-shop", 9_940)
    );
    assert_eq!(
        (
            t[1].client_id.as_str(),
            t[1].credit.as_str(),
            t[1].amount,
            t[1].kind
        ),
        ("fee:p-1", "FEE-INCOME-CNY", 60, LedgerKind::Fee)
    );
    assert_eq!(t[0].reference, "trade T1");
    let all_fee = payment_postings(&received(Method::Quickpay, 500, 500, 0), "M-shop");
    assert_eq!((all_fee.len(), all_fee[0].kind), (1, LedgerKind::Fee));
}

#[test]
fn money_not_kept_waits_in_suspense_and_is_refunded_from_there() {
    let mut p = received(Method::Quickpay, 700, 4, 0);
    let into = suspense_posting(&p);
    assert_eq!(
        (
            into.client_id.as_str(),
            into.debit.as_str(),
            into.credit.as_str(),
            into.amount
        ),
        ("received:p-1", "CLR-bank-a-CNY", "PAY-SUSPENSE-CNY", 700)
    );
    // Each try after a stored refusal is a new command; a stale refusal (of an id already
    // left behind, from a concurrent try) moves nothing, so at most one id can ever post.
    p.suspense_refused(0, "account_frozen", 10, 300);
    assert_eq!(suspense_posting(&p).client_id, "received:p-1:1");
    p.suspense_refused(0, "account_frozen", 20, 300);
    assert_eq!((p.ledger_tries, p.next_check_at), (1, Some(310)));
    p.suspense_refused(1, "account_frozen", 320, 300);
    assert_eq!(suspense_posting(&p).client_id, "received:p-1:2");
    assert_eq!(p.anomalies.len(), 1, "{:?}", p.anomalies);
    p.ledger_tries = 0;
    let back = suspense_refund_posting(&p, "auto-p-1", 700);
    assert_eq!(
        (
            back.client_id.as_str(),
            back.debit.as_str(),
            back.credit.as_str(),
            back.kind
        ),
        (
            "refund:auto-p-1",
            "PAY-SUSPENSE-CNY",
            "CLR-bank-a-CNY",
            LedgerKind::Refund
        )
    );
}

#[test]
fn a_combined_payment_takes_the_balance_part_first_then_pays_from_suspense() {
    let p = received(Method::Combined, 1_000, 6, 300);
    assert_eq!(suspense_posting(&p).amount, 700, "the external part");
    let t = combined_postings(&p, "M-shop");
    let shape: Vec<(&str, &str, u64)> = t
        .iter()
        .map(|t| (t.debit.as_str(), t.credit.as_str(), t.amount))
        .collect();
    assert_eq!(
        shape,
        [
            ("alice", "PAY-SUSPENSE-CNY", 300),
            ("PAY-SUSPENSE-CNY", "M-shop", 994),
            ("PAY-SUSPENSE-CNY", "FEE-INCOME-CNY", 6)
        ]
    );
    let into: u64 = 700 + 300;
    let out: u64 = t[1..].iter().map(|t| t.amount).sum();
    assert_eq!(into, out, "suspense ends at zero");
}

#[test]
fn ids_fit_the_ledger() {
    let long = "x".repeat(crate::ids::ORDER_ID_BYTES_MAX);
    let (hold, capture, free) = payout_ids(&long, crate::payout::PAYOUT_ATTEMPTS_MAX);
    for id in [hold, capture, free] {
        assert!(id.len() <= 64, "{id}");
    }
    let (hold, capture, free) = refund_ids(&long);
    for id in [
        hold,
        capture,
        free,
        format!("comb-payer:{long}"),
        format!("received:{long}:{}", u16::MAX),
    ] {
        assert!(id.len() <= 64, "{id}");
    }
}
