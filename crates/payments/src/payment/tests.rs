//! The payment state machine: a table of reports and what each does, and a property test
//! of random report sequences against the rules (final never changes, posted once).

use paycore_money::Currency;
use proptest::prelude::*;

use super::*;
use crate::routing::Strategy as RouteStrategy;

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

fn payment() -> Payment {
    let request = NewPayment {
        id: "p".into(),
        trade_id: "T".into(),
        merchant: "m".into(),
        method: Method::Quickpay,
        amount: 100,
        currency: Currency::CNY,
        fee: 1,
        requested_channel: None,
    };
    Payment::new(request, "co-1".into(), route("a"), 0, 6_000)
}

fn report(source: ReportSource, result: BankResult) -> BankReport {
    BankReport {
        channel_order_no: "co-1".into(),
        source,
        result,
    }
}

fn success() -> BankResult {
    BankResult::Succeeded {
        bank_ref: "B1".into(),
        amount: 100,
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
fn a_timeout_is_unknown_and_a_later_query_decides() {
    let mut p = payment();
    assert_eq!(
        p.report(&report(ReportSource::Response, timeout()), 5, TIMING),
        Effect::Changed
    );
    assert_eq!(p.status, PaymentStatus::Unknown);
    assert_eq!(p.current().note.as_deref(), Some("timeout"));
    assert_eq!(
        p.check_reroute().unwrap_err().code(),
        "payment_outcome_unknown"
    );
    assert_eq!(
        p.report(&report(ReportSource::Query, success()), 9, TIMING),
        Effect::Post
    );
    assert_eq!(
        p.status,
        PaymentStatus::Unknown,
        "not a success before the ledger posted"
    );
    assert!(p.needs_posting());
    // Until it is posted, anything that comes next posts again (the ledger makes it once),
    // and a contradiction changes nothing but is kept.
    let again = p.report(&report(ReportSource::Callback, success()), 9, TIMING);
    assert_eq!(again, Effect::Post);
    let contradiction = p.report(&report(ReportSource::Callback, failed()), 9, TIMING);
    assert_eq!(contradiction, Effect::Post);
    assert_eq!(p.anomalies.len(), 1);
    assert_eq!(p.current().status, AttemptStatus::Succeeded);
    p.mark_posted(10);
    assert_eq!(p.status, PaymentStatus::Succeeded);
    assert_eq!(p.current().queries, 1);
    assert_eq!(p.current().next_check_at, None);
    assert_eq!(p.current().bank_ref.as_deref(), Some("B1"));
}

#[test]
fn final_states_never_change_and_contradictions_are_kept() {
    let mut p = payment();
    p.report(&report(ReportSource::Response, failed()), 1, TIMING);
    assert_eq!(p.status, PaymentStatus::Failed);
    assert_eq!(
        p.report(&report(ReportSource::Callback, failed()), 2, TIMING),
        Effect::Nothing
    );
    let late = p.report(&report(ReportSource::Callback, success()), 3, TIMING);
    assert!(matches!(late, Effect::Anomaly(_)));
    assert_eq!(p.status, PaymentStatus::Failed);
    assert_eq!(p.anomalies.len(), 1);
    p.report(&report(ReportSource::Callback, success()), 4, TIMING);
    assert_eq!(p.anomalies.len(), 1, "the same contradiction is kept once");
}

#[test]
fn not_found_fails_only_long_after_sending() {
    let mut p = payment();
    p.report(&report(ReportSource::Response, timeout()), 5, TIMING);
    p.report(
        &report(ReportSource::Query, BankResult::NotFound),
        9_999,
        TIMING,
    );
    assert_eq!(p.status, PaymentStatus::Unknown);
    p.report(
        &report(ReportSource::Callback, BankResult::NotFound),
        20_000,
        TIMING,
    );
    assert_eq!(
        p.status,
        PaymentStatus::Unknown,
        "only a query's not-found counts"
    );
    p.report(
        &report(ReportSource::Query, BankResult::NotFound),
        10_000,
        TIMING,
    );
    assert_eq!(p.status, PaymentStatus::Failed);
    assert_eq!(p.failure.as_ref().unwrap().code, "order_not_found");
}

#[test]
fn a_success_for_another_amount_is_an_anomaly() {
    let mut p = payment();
    let wrong = BankResult::Succeeded {
        bank_ref: "B".into(),
        amount: 99,
    };
    assert!(matches!(
        p.report(&report(ReportSource::Callback, wrong), 1, TIMING),
        Effect::Anomaly(_)
    ));
    assert_eq!(p.status, PaymentStatus::Unknown);
}

#[test]
fn reroute_only_after_a_definitive_failure_with_a_new_order_number() {
    let mut p = payment();
    assert_eq!(
        p.check_reroute().unwrap_err().code(),
        "payment_outcome_unknown"
    );
    p.report(&report(ReportSource::Response, failed()), 1, TIMING);
    assert_eq!(p.resend(2).unwrap_err().code(), "payment_final");
    p.reroute("co-2".into(), route("b"), 3, 4).unwrap();
    assert_eq!(p.status, PaymentStatus::Processing);
    assert_eq!(p.tried_channels(), ["a", "b"]);
    assert_eq!(p.current().channel_order_no, "co-2");
    // A late word on the first order changes nothing.
    let late = p.report(&report(ReportSource::Callback, success()), 5, TIMING);
    assert!(matches!(late, Effect::Anomaly(_)));
    assert_eq!(p.status, PaymentStatus::Processing);
    let mut second = report(ReportSource::Response, success());
    second.channel_order_no = "co-2".into();
    assert_eq!(p.report(&second, 6, TIMING), Effect::Post);
    p.mark_posted(7);
    assert_eq!(
        p.check_reroute().unwrap_err().code(),
        "payment_already_succeeded"
    );
}

#[test]
fn a_ledger_refusal_fails_the_payment_but_keeps_the_channels_success() {
    let mut p = payment();
    assert_eq!(
        p.report(&report(ReportSource::Response, success()), 1, TIMING),
        Effect::Post
    );
    p.mark_ledger_rejected("account_closed", 2);
    assert_eq!(p.status, PaymentStatus::Failed);
    assert!(p.received_at_channel());
    assert_eq!(
        p.check_reroute().unwrap_err().code(),
        "payment_already_succeeded"
    );
}

#[test]
fn resend_keeps_the_order_number_and_restarts_the_grace() {
    let mut p = payment();
    p.report(&report(ReportSource::Response, timeout()), 1, TIMING);
    let sent = p.resend(50_000).unwrap();
    assert_eq!((sent.channel_order_no.as_str(), sent.sends), ("co-1", 2));
    p.report(
        &report(ReportSource::Query, BankResult::NotFound),
        55_000,
        TIMING,
    );
    assert_eq!(p.status, PaymentStatus::Unknown);
}

fn any_result() -> impl Strategy<Value = BankResult> {
    prop_oneof![
        Just(success()),
        Just(failed()),
        Just(BankResult::Processing),
        Just(BankResult::NotFound),
        Just(timeout()),
    ]
}

fn any_source() -> impl Strategy<Value = ReportSource> {
    prop_oneof![
        Just(ReportSource::Response),
        Just(ReportSource::Query),
        Just(ReportSource::Callback),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x9A7_5EED),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever the banks say in whatever order: once final, a payment stays as it is; it is
    /// posted at most once; it succeeds only through a post.
    #[test]
    fn random_reports_respect_the_rules(
        reports in proptest::collection::vec((any_source(), any_result(), 0u64..30_000), 1..40)
    ) {
        let mut p = payment();
        let mut posts = 0;
        let mut final_seen: Option<PaymentStatus> = None;
        for (source, result, now) in reports {
            let effect = p.report(&report(source, result), now, TIMING);
            if let Some(status) = final_seen {
                prop_assert_eq!(p.status, status);
                prop_assert!(effect != Effect::Post);
            }
            if effect == Effect::Post {
                posts += 1;
                prop_assert!(p.needs_posting());
                p.mark_posted(now);
            }
            prop_assert!(p.status != PaymentStatus::Succeeded || posts == 1);
            if p.status.is_final() && final_seen.is_none() {
                final_seen = Some(p.status);
            }
            prop_assert_eq!(p.current().next_check_at.is_none() && p.status.is_final(), p.status.is_final());
        }
        prop_assert!(posts <= 1);
    }
}
