//! The payment state machine: what reports do, the keep-or-return decision, the steps after
//! it, reroute and resend.

use paycore_money::Currency;

use super::*;
use crate::routing::Strategy as RouteStrategy;
use crate::trade::{Trade, TradeStatus};

const TIMING: Timing = Timing {
    not_found_grace_ms: 10_000,
};

fn route(channel: &str) -> RouteDecision {
    RouteDecision {
        chosen: Some(channel.into()),
        strategy: RouteStrategy::Weighted,
        candidates: Vec::new(),
        split_key: None,
        at: 0,
    }
}

fn trade() -> Trade {
    Trade {
        trade_id: "T".into(),
        merchant: "m".into(),
        merchant_order_no: "o".into(),
        amount: 100,
        currency: Currency::CNY,
        subject: String::new(),
        notify_url: None,
        status: TradeStatus::Open,
        created_at: 0,
        expires_at: 900_000,
        paid_by: None,
        paid_at: None,
        claimed_by: None,
    }
}

fn request(id: &str, method: Method, balance: u64) -> NewPayment {
    NewPayment {
        id: id.into(),
        trade_id: "T".into(),
        merchant: "m".into(),
        method,
        amount: 100,
        currency: Currency::CNY,
        fee: 1,
        requested_channel: None,
        payer_account: (balance > 0).then(|| "payer".to_owned()),
        balance_amount: balance,
    }
}

fn payment(id: &str) -> Payment {
    Payment::new(
        request(id, Method::Quickpay, 0),
        format!("{id}-o1"),
        route("a"),
        0,
        6_000,
    )
}

fn report(order: &str, source: ReportSource, result: BankResult) -> BankReport {
    BankReport {
        order_no: order.into(),
        source,
        result,
    }
}

fn success(amount: u64) -> BankResult {
    BankResult::Succeeded {
        bank_ref: "B1".into(),
        amount,
    }
}

fn failed() -> BankResult {
    BankResult::Failed {
        code: "CARD_DECLINED".into(),
        message: "declined".into(),
    }
}

fn timeout() -> BankResult {
    BankResult::NoAnswer {
        reason: "timeout".into(),
    }
}

#[test]
fn a_timeout_is_unknown_and_a_later_success_is_kept_once_posted() {
    let (mut t, mut p) = (trade(), payment("p"));
    assert_eq!(
        p.report(
            &mut t,
            &report("p-o1", ReportSource::Response, timeout()),
            5,
            TIMING
        ),
        Effect::Changed
    );
    assert_eq!(
        (p.status, p.next_step()),
        (PaymentStatus::Unknown, Step::AskBank)
    );
    assert_eq!(
        p.check_reroute().unwrap_err().code(),
        "payment_outcome_unknown"
    );
    p.report(
        &mut t,
        &report("p-o1", ReportSource::Query, success(100)),
        9,
        TIMING,
    );
    assert_eq!(
        p.status,
        PaymentStatus::Unknown,
        "not a success before the ledger posted"
    );
    assert_eq!(
        (p.next_step(), p.disposition),
        (Step::PostKeep, Some(Disposition::Keep))
    );
    assert_eq!(t.claimed_by.as_deref(), Some("p"));
    // A repeat or a contradiction changes nothing; the posting is still next.
    p.report(
        &mut t,
        &report("p-o1", ReportSource::Callback, success(100)),
        9,
        TIMING,
    );
    let contradiction = p.report(
        &mut t,
        &report("p-o1", ReportSource::Callback, failed()),
        9,
        TIMING,
    );
    assert!(matches!(contradiction, Effect::Anomaly(_)));
    assert_eq!(p.next_step(), Step::PostKeep);
    p.kept(&mut t, 10);
    assert_eq!(
        (p.status, p.next_step(), p.next_check_at),
        (PaymentStatus::Succeeded, Step::Done, None)
    );
    assert_eq!(
        (t.status, t.paid_by.as_deref()),
        (TradeStatus::Paid, Some("p"))
    );
}

#[test]
fn a_second_success_on_the_trade_is_returned_and_refunded() {
    let mut t = trade();
    let (mut first, mut second) = (payment("p1"), payment("p2"));
    first.report(
        &mut t,
        &report("p1-o1", ReportSource::Response, success(100)),
        1,
        TIMING,
    );
    // Both succeed before either is posted: only the first claimed the trade.
    second.report(
        &mut t,
        &report("p2-o1", ReportSource::Callback, success(100)),
        1,
        TIMING,
    );
    assert_eq!(
        second.disposition,
        Some(Disposition::Return(ReturnReason::DuplicatePayment))
    );
    assert_eq!(
        (second.status, second.next_step()),
        (PaymentStatus::Refunding, Step::PostToSuspense)
    );
    first.kept(&mut t, 2);
    second.in_suspense(3);
    assert_eq!(second.next_step(), Step::Refund);
    second.refund_started("auto-p2", 3);
    assert_eq!(second.next_step(), Step::Done);
    second.refunded(4);
    assert_eq!(second.status, PaymentStatus::Refunded);
    assert_eq!(
        second.refund_reason().map(ReturnReason::name),
        Some("duplicate_payment")
    );
}

#[test]
fn a_refused_posting_gives_the_money_and_the_trade_back() {
    let (mut t, mut p) = (trade(), payment("p"));
    p.report(
        &mut t,
        &report("p-o1", ReportSource::Response, success(100)),
        1,
        TIMING,
    );
    p.keep_refused(&mut t, "account_closed", 2);
    assert_eq!(
        (p.status, p.next_step()),
        (PaymentStatus::Refunding, Step::PostToSuspense)
    );
    assert!(t.check_payable(3).is_ok());
    p.in_suspense(3);
    p.refund_started("auto-p", 3);
    p.refunded(4);
    assert_eq!(p.status, PaymentStatus::Failed, "it never paid");
    assert_eq!(p.failure.as_ref().unwrap().code, "ledger_rejected");
}

#[test]
fn a_combined_payment_posts_its_external_part_then_its_balance_part() {
    let mut t = trade();
    let mut p = Payment::new(
        request("c", Method::Combined, 30),
        "c-o1".into(),
        route("a"),
        0,
        1,
    );
    assert_eq!(p.external_amount(), 70);
    let wrong = p.report(
        &mut t,
        &report("c-o1", ReportSource::Response, success(100)),
        1,
        TIMING,
    );
    assert!(
        matches!(wrong, Effect::Anomaly(_)),
        "the bank charges only the external part"
    );
    p.report(
        &mut t,
        &report("c-o1", ReportSource::Query, success(70)),
        2,
        TIMING,
    );
    assert_eq!(p.next_step(), Step::PostToSuspense);
    p.in_suspense(3);
    assert_eq!(p.next_step(), Step::PostCombined);
    let mut failing = p.clone();
    p.kept(&mut t, 4);
    assert_eq!(p.status, PaymentStatus::Succeeded);
    // The other ending: the balance part is refused, the external part goes back.
    let mut t2 = trade();
    t2.claim("c", 1).unwrap();
    failing.combined_refused(&mut t2, "insufficient_funds", 4);
    assert_eq!(
        (failing.status, failing.next_step()),
        (PaymentStatus::Refunding, Step::Refund)
    );
    failing.refund_started("auto-c", 5);
    failing.refunded(6);
    assert_eq!(failing.status, PaymentStatus::Failed);
    assert_eq!(failing.failure.as_ref().unwrap().code, "balance_failed");
    assert!(t2.check_payable(7).is_ok());
}

#[test]
fn a_balance_payment_posts_at_once_or_fails() {
    let mut t = trade();
    t.claim("b", 0).unwrap();
    let mut p = Payment::new_balance(request("b", Method::Balance, 100), 0);
    assert_eq!(p.next_step(), Step::PostBalance);
    p.balance_refused(&mut t, "insufficient_funds", 1);
    assert_eq!(
        (p.status, p.next_step()),
        (PaymentStatus::Failed, Step::Done)
    );
    assert_eq!(p.check_reroute().unwrap_err().code(), "payment_final");
    assert!(t.claimed_by.is_none());
}

#[test]
fn reroute_only_after_a_definitive_failure_and_resend_keeps_the_number() {
    let (mut t, mut p) = (trade(), payment("p"));
    p.report(
        &mut t,
        &report("p-o1", ReportSource::Response, timeout()),
        1,
        TIMING,
    );
    let sent = p.resend(2).unwrap();
    assert_eq!(
        (sent.order.order_no.as_str(), sent.order.sends),
        ("p-o1", 2)
    );
    p.report(
        &mut t,
        &report("p-o1", ReportSource::Query, failed()),
        3,
        TIMING,
    );
    assert_eq!((p.status, p.next_check_at), (PaymentStatus::Failed, None));
    assert_eq!(p.resend(4).unwrap_err().code(), "payment_final");
    p.reroute("p-o2".into(), route("b"), 5, 6).unwrap();
    assert_eq!(
        (p.status, p.tried_channels()),
        (
            PaymentStatus::Processing,
            vec!["a".to_owned(), "b".to_owned()]
        )
    );
    let late = p.report(
        &mut t,
        &report("p-o1", ReportSource::Callback, success(100)),
        7,
        TIMING,
    );
    assert!(
        matches!(late, Effect::Anomaly(_)),
        "a late word on a failed order is kept, not applied"
    );
    assert_eq!(p.status, PaymentStatus::Processing);
    p.report(
        &mut t,
        &report("p-o2", ReportSource::Response, success(100)),
        8,
        TIMING,
    );
    p.kept(&mut t, 9);
    assert_eq!(
        p.check_reroute().unwrap_err().code(),
        "payment_already_succeeded"
    );
}

#[test]
fn a_success_after_the_trade_expired_or_closed_is_returned() {
    let mut t = trade();
    let mut p = payment("p");
    p.report(
        &mut t,
        &report("p-o1", ReportSource::Callback, success(100)),
        900_000,
        TIMING,
    );
    assert_eq!(p.refund_reason(), Some(ReturnReason::TradeExpired));
    let mut closed = trade();
    closed.close(false).unwrap();
    let mut q = payment("q");
    q.report(
        &mut closed,
        &report("q-o1", ReportSource::Callback, success(100)),
        1,
        TIMING,
    );
    assert_eq!(q.refund_reason(), Some(ReturnReason::TradeClosed));
}

#[test]
fn a_methods_fields_are_checked() {
    assert!(request("x", Method::Combined, 30).check_parts().is_ok());
    assert!(request("x", Method::Combined, 100).check_parts().is_err());
    assert!(request("x", Method::Quickpay, 30).check_parts().is_err());
    let mut no_payer = request("x", Method::Balance, 100);
    no_payer.payer_account = None;
    assert_eq!(no_payer.check_parts().unwrap_err().code(), "invalid_field");
}
