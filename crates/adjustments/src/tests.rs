//! The state machine and the maker-checker rules, case by case.

use paycore_money::Currency;

use crate::adjustment::ledger_id;
use crate::limits::POST_ATTEMPTS_MAX;
use crate::{Action, AdjustError, Adjustment, ErrorKind, NewAdjustment, Next, Policy, Status};

const HOUR_MS: u64 = 3_600_000;
const POLICY: Policy = Policy {
    ttl_ms: 72 * HOUR_MS,
    dual_approval_above: 100_000_000,
};

fn request(id: &str, amount: u64) -> NewAdjustment {
    NewAdjustment {
        id: id.to_owned(),
        debit_account: "SUSPENSE".to_owned(),
        credit_account: "alice".to_owned(),
        amount,
        currency: Currency::CNY,
        reason: "payment 42 was credited to the wrong account".to_owned(),
        evidence: Some("ticket OPS-7".to_owned()),
        exception_id: None,
    }
}

fn made(amount: u64) -> Adjustment {
    request("adj-1", amount)
        .into_adjustment("maker", 1_000, &POLICY)
        .unwrap()
}

fn actions(a: &Adjustment) -> Vec<(&'static str, &str)> {
    a.history
        .iter()
        .map(|e| (e.action.name(), e.operator.as_str()))
        .collect()
}

fn code(result: Result<impl std::fmt::Debug, AdjustError>) -> &'static str {
    result.unwrap_err().code()
}

#[test]
fn a_request_is_checked_field_by_field() {
    type Edit = fn(&mut NewAdjustment);
    let cases: [(&str, Edit); 9] = [
        ("id", |r| r.id = String::new()),
        ("id", |r| r.id = "a/b".into()),
        ("id", |r| r.id = "x".repeat(49)),
        ("debit_account", |r| r.debit_account = "a b".into()),
        ("credit_account", |r| r.credit_account = "x".repeat(33)),
        ("amount", |r| r.amount = 0),
        ("reason", |r| r.reason = "   ".into()),
        ("evidence", |r| r.evidence = Some("a\nb".into())),
        ("exception_id", |r| r.exception_id = Some(String::new())),
    ];
    for (field, edit) in cases {
        let mut r = request("adj-1", 100);
        edit(&mut r);
        match r.check() {
            Err(AdjustError::InvalidField { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(request("adj-1", 100).check().is_ok());
    let system = request("adj-1", 100).into_adjustment("System", 0, &POLICY);
    assert_eq!(code(system), "invalid_field", "no person is called system");
}

#[test]
fn a_new_adjustment_waits_with_its_proposal_in_the_history() {
    let a = made(1_000_000_000);
    assert_eq!(a.status, Status::PendingApproval);
    assert_eq!(a.approvals_required, 2, "above the threshold");
    assert_eq!(a.expires_at, 1_000 + 72 * HOUR_MS);
    assert_eq!(a.ledger_id(), "adjustment:adj-1");
    assert_eq!(a.posted_ledger_id(), None);
    assert_eq!(actions(&a), [("created", "maker")]);
    assert_eq!(a.history[0].comment.as_deref(), Some(a.reason.as_str()));
    assert!(a.same_request(&request("adj-1", 1_000_000_000)));
    assert!(!a.same_request(&request("adj-1", 1_000_000_001)));
}

#[test]
fn the_threshold_is_exclusive() {
    assert_eq!(POLICY.approvals_required(100_000_000), 1);
    assert_eq!(POLICY.approvals_required(100_000_001), 2);
}

#[test]
fn the_maker_never_approves_with_any_spelling_of_their_name() {
    for spelling in ["maker", "Maker", " MAKER "] {
        let mut a = made(100);
        let refused = a.approve(spelling, None, 2_000).unwrap_err();
        assert_eq!(refused.code(), "maker_checker_violation");
        assert_eq!(refused.kind(), ErrorKind::Forbidden);
        assert_eq!(a, made(100), "a refusal changes nothing");
    }
}

#[test]
fn one_checker_posts_a_normal_amount_and_a_retry_is_done() {
    let mut a = made(100);
    let next = a.approve("checker", Some("ok".into()), 2_000).unwrap();
    assert_eq!(
        next,
        Next::Post {
            ledger_id: "adjustment:adj-1".into()
        }
    );
    assert_eq!(a.status, Status::Approved);
    // An approval while the intent is open asks for the same posting again (the ledger
    // replays it); it adds no approval.
    let again = a.approve("someone", None, 2_100).unwrap();
    assert_eq!(again, next);
    assert_eq!(
        code(a.approve("maker", None, 2_100)),
        "maker_checker_violation"
    );
    assert!(a.mark_posted("adjustment:adj-1", "checker", 2_200));
    assert!(!a.mark_posted("adjustment:adj-1", "checker", 2_300), "once");
    assert_eq!(a.status, Status::Posted);
    assert_eq!(a.posted_at, Some(2_200));
    assert_eq!(a.posted_ledger_id().as_deref(), Some("adjustment:adj-1"));
    assert_eq!(a.approve("Checker", None, 3_000).unwrap(), Next::Done);
    assert_eq!(
        code(a.approve("other", None, 3_000)),
        "adjustment_not_pending"
    );
    assert_eq!(
        code(a.reject("other", "late", 3_000)),
        "adjustment_not_pending"
    );
    assert_eq!(
        actions(&a),
        [
            ("created", "maker"),
            ("approved", "checker"),
            ("posted", "checker")
        ]
    );
    assert_eq!(a.history[2].ledger_id.as_deref(), Some("adjustment:adj-1"));
}

#[test]
fn a_large_amount_needs_two_checkers_besides_the_maker() {
    let mut a = made(100_000_001);
    assert_eq!(a.approve("first", None, 2_000).unwrap(), Next::Wait);
    assert_eq!(a.status, Status::PartiallyApproved);
    for again in ["first", "FIRST", "maker"] {
        assert_eq!(
            code(a.approve(again, None, 2_100)),
            "maker_checker_violation"
        );
    }
    assert_eq!(a.status, Status::PartiallyApproved);
    let next = a.approve("second", Some("checked the statement".into()), 2_200);
    assert!(matches!(next, Ok(Next::Post { .. })));
    let approvals = a.approvals();
    assert_eq!(approvals.len(), 2);
    assert_eq!(
        approvals[1].comment.as_deref(),
        Some("checked the statement")
    );
}

#[test]
fn a_refused_posting_cancels_its_approval_and_the_next_one_has_a_new_id() {
    let mut a = made(100);
    a.approve("checker", None, 2_000).unwrap();
    assert!(!a.posting_refused("adjustment:other", "insufficient_funds", "checker", 2_100));
    assert!(a.posting_refused("adjustment:adj-1", "insufficient_funds", "checker", 2_100));
    assert_eq!(a.status, Status::PendingApproval);
    assert!(a.approvals().is_empty());
    assert_eq!(a.ledger_id(), "adjustment:adj-1:2");
    let refusal = a.last_refusal().unwrap();
    assert_eq!(refusal.code.as_deref(), Some("insufficient_funds"));
    assert_eq!(refusal.ledger_id.as_deref(), Some("adjustment:adj-1"));
    // A report about the old attempt changes nothing; the same checker may try again.
    assert!(!a.mark_posted("adjustment:adj-1", "checker", 2_200));
    let next = a.approve("checker", None, 2_300).unwrap();
    assert_eq!(
        next,
        Next::Post {
            ledger_id: "adjustment:adj-1:2".into()
        }
    );
    assert!(a.last_refusal().is_none());
    assert!(a.mark_posted("adjustment:adj-1:2", "checker", 2_400));
    assert_eq!(
        actions(&a),
        [
            ("created", "maker"),
            ("approved", "checker"),
            ("posting_refused", "checker"),
            ("approved", "checker"),
            ("posted", "checker"),
        ]
    );
}

#[test]
fn a_refused_dual_posting_keeps_the_first_approval() {
    let mut a = made(200_000_000);
    a.approve("first", None, 2_000).unwrap();
    a.approve("second", None, 2_100).unwrap();
    assert!(a.posting_refused(&a.ledger_id(), "account_frozen", "system", 2_200));
    assert_eq!(a.status, Status::PartiallyApproved);
    assert_eq!(a.approvals()[0].operator, "first");
    assert_eq!(
        code(a.approve("first", None, 2_300)),
        "maker_checker_violation"
    );
    assert!(matches!(
        a.approve("second", None, 2_300),
        Ok(Next::Post { .. })
    ));
}

#[test]
fn attempts_are_bounded() {
    let mut a = made(100);
    for _ in 0..POST_ATTEMPTS_MAX {
        a.approve("checker", None, 2_000).unwrap();
        assert!(a.posting_refused(&a.ledger_id(), "insufficient_funds", "checker", 2_000));
    }
    assert_eq!(
        code(a.approve("checker", None, 2_000)),
        "posting_attempts_exhausted"
    );
    assert!(ledger_id("x".repeat(48).as_str(), POST_ATTEMPTS_MAX).len() <= 64);
}

#[test]
fn a_waiting_adjustment_expires_and_is_then_refused() {
    let mut a = made(200_000_000);
    a.approve("first", None, 2_000).unwrap();
    let expiry = a.expires_at;
    assert!(!a.expire_if_due(expiry - 1));
    assert_eq!(
        code(a.clone().approve("second", None, expiry)),
        "adjustment_expired"
    );
    assert!(a.expire_if_due(expiry));
    assert!(!a.expire_if_due(expiry + 1), "once");
    assert_eq!(a.status, Status::Expired);
    let refused = a.approve("second", None, expiry + 1).unwrap_err();
    assert_eq!(
        (refused.code(), refused.kind()),
        ("adjustment_expired", ErrorKind::Conflict)
    );
    assert_eq!(
        code(a.reject("second", "too late", expiry + 1)),
        "adjustment_expired"
    );
    assert_eq!(a.history.last().unwrap().action, Action::Expired);
    assert_eq!(a.history.last().unwrap().operator, "system");
}

#[test]
fn an_open_intent_does_not_expire() {
    let mut a = made(100);
    a.approve("checker", None, 2_000).unwrap();
    assert!(!a.expire_if_due(a.expires_at + 1));
    assert_eq!(a.status, Status::Approved);
    assert_eq!(
        code(a.reject("checker", "stop", 2_100)),
        "adjustment_not_pending"
    );
}

#[test]
fn a_rejection_needs_a_reason_and_is_final() {
    let mut a = made(100);
    assert_eq!(code(a.reject("checker", " ", 2_000)), "invalid_field");
    assert_eq!(a.reject("checker", "wrong account", 2_000), Ok(false));
    assert_eq!(
        a.reject("Checker", "wrong account", 2_100),
        Ok(true),
        "a retry"
    );
    assert_eq!(
        code(a.reject("checker", "other reason", 2_100)),
        "adjustment_not_pending"
    );
    assert_eq!(
        code(a.approve("checker", None, 2_200)),
        "adjustment_not_pending"
    );
    assert_eq!(a.status, Status::Rejected);
    let last = a.history.last().unwrap();
    assert_eq!(
        (last.action, last.comment.as_deref()),
        (Action::Rejected, Some("wrong account"))
    );
}

#[test]
fn the_maker_may_withdraw_a_proposal() {
    let mut a = made(100);
    assert_eq!(a.reject("maker", "proposed by mistake", 2_000), Ok(false));
    assert_eq!(a.status, Status::Rejected);
}

#[test]
fn history_times_never_go_back() {
    let mut a = made(100);
    a.approve("checker", None, 500).unwrap(); // a wall clock that stepped back
    assert!(a.mark_posted(&a.ledger_id(), "checker", 400));
    let times: Vec<u64> = a.history.iter().map(|e| e.at).collect();
    assert_eq!(times, [1_000, 1_000, 1_000]);
    assert_eq!(a.posted_at, Some(1_000));
}

#[test]
fn names_round_trip() {
    for status in Status::ALL {
        assert_eq!(Status::from_name(status.name()), Some(status));
    }
    for action in Action::ALL {
        assert_eq!(Action::from_name(action.name()), Some(action));
    }
    assert_eq!(Status::from_name("pending"), None);
}
