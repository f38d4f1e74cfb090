//! The plan against a model of two shards whose ledgers, like the real one, record every
//! decided id (accepted or refused) and answer a retry with the same outcome: whatever the
//! refusals and however often a coordinator crashes and replays from the start, a transfer
//! ends completed on both shards or with nothing moved, transit accounts at zero and the due
//! accounts netting to zero.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

use super::*;

#[derive(Default)]
struct ModelShard {
    balances: BTreeMap<String, i64>,
    may_go_negative: BTreeSet<String>,
    closed: BTreeSet<String>,
    decided: HashMap<String, Outcome>,
}

fn refusal(code: &str) -> Outcome {
    Outcome::Refused(Refusal {
        status: 422,
        code: code.into(),
        message: code.into(),
    })
}

impl ModelShard {
    fn post(&mut self, step: &Step) -> Outcome {
        if let Some(outcome) = self.decided.get(&step.id) {
            return outcome.clone();
        }
        let outcome = self.decide(step);
        self.decided.insert(step.id.clone(), outcome.clone());
        outcome
    }

    fn decide(&mut self, step: &Step) -> Outcome {
        let (debit, credit) = (&step.debit_account, &step.credit_account);
        if self.closed.contains(debit) || self.closed.contains(credit) {
            return refusal("account_closed");
        }
        let amount = step.amount as i64;
        let balance = self.balances.get(debit).copied().unwrap_or(0);
        if !self.may_go_negative.contains(debit) && balance < amount {
            return refusal("insufficient_funds");
        }
        *self.balances.entry(debit.clone()).or_default() -= amount;
        *self.balances.entry(credit.clone()).or_default() += amount;
        Outcome::Accepted
    }

    fn balance(&self, account: &str) -> i64 {
        self.balances.get(account).copied().unwrap_or(0)
    }

    fn total(&self) -> i64 {
        self.balances.values().sum()
    }
}

#[derive(Clone, Debug)]
struct Case {
    funded: i64,
    amount: u64,
    target_closed: bool,
    debit_closed_after_debit: bool,
    crashes_after: Vec<usize>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        0i64..300,
        1u64..200,
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::collection::vec(0usize..4, 0..4),
    )
        .prop_map(
            |(funded, amount, target_closed, debit_closed_after_debit, crashes_after)| Case {
                funded,
                amount,
                target_closed,
                debit_closed_after_debit,
                crashes_after,
            },
        )
}

fn intent(amount: u64) -> Intent {
    Intent::new("t-1", "A", "B", amount, "CNY", None, None, ("s1", "s2")).unwrap()
}

fn shards(case: &Case) -> BTreeMap<String, ModelShard> {
    let mut s1 = ModelShard::default();
    for internal in ["SETTLE", "XD-s2-CNY"] {
        s1.may_go_negative.insert(internal.into());
    }
    s1.balances.insert("SETTLE".into(), -case.funded);
    s1.balances.insert("A".into(), case.funded);
    let mut s2 = ModelShard::default();
    s2.may_go_negative.insert("XD-s1-CNY".into());
    if case.target_closed {
        s2.closed.insert("B".into());
    }
    BTreeMap::from([("s1".into(), s1), ("s2".into(), s2)])
}

/// Drives the intent to a final phase; a "crash" after n steps throws the coordinator's
/// state away and a new one starts over from the intent as first recorded.
fn drive(case: &Case, shards: &mut BTreeMap<String, ModelShard>) -> Intent {
    let mut crashes = case.crashes_after.clone();
    let mut current = intent(case.amount);
    let mut steps_since_start = 0;
    while let Some(step) = current.next_step() {
        if crashes.first() == Some(&steps_since_start) {
            crashes.remove(0);
            current = intent(case.amount);
            steps_since_start = 0;
            continue;
        }
        let outcome = shards.get_mut(&step.shard).unwrap().post(&step);
        if step.kind == StepKind::Debit && case.debit_closed_after_debit {
            shards.get_mut("s1").unwrap().closed.insert("A".into());
        }
        current.advance(step.kind, outcome);
        steps_since_start += 1;
    }
    current
}

fn check(case: &Case, done: &Intent, shards: &BTreeMap<String, ModelShard>) {
    let (s1, s2) = (&shards["s1"], &shards["s2"]);
    let amount = case.amount as i64;
    assert_eq!((s1.total(), s2.total()), (0, 0), "each shard balances");
    let moved = matches!(done.phase, Phase::Completed);
    let in_transit = match done.phase {
        Phase::CompensationRefused { .. } => amount,
        _ => 0,
    };
    assert_eq!(s1.balance("XT-s2-CNY"), in_transit, "{:?}", done.phase);
    assert_eq!(s1.balance("XD-s2-CNY") + s2.balance("XD-s1-CNY"), 0);
    let debited = if moved || in_transit > 0 { amount } else { 0 };
    assert_eq!(s1.balance("A"), case.funded - debited);
    assert_eq!(s2.balance("B"), if moved { amount } else { 0 });
    let expected_final = match (case.funded >= amount, case.target_closed) {
        (false, _) => "refused",
        (true, false) => "completed",
        (true, true) if case.debit_closed_after_debit => "compensation_refused",
        (true, true) => "compensated",
    };
    assert_eq!(done.phase_name(), expected_final);
}

proptest! {
    #![proptest_config(Config {
        cases: 512,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x5_4A2D),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn every_transfer_ends_whole_or_undone_however_often_its_coordinator_restarts(case in cases()) {
        let mut shards = shards(&case);
        let done = drive(&case, &mut shards);
        prop_assert!(done.is_final());
        check(&case, &done, &shards);
        // A client's retry after the intent was forgotten replays to the same end.
        let replay = drive(&Case { crashes_after: vec![], ..case }, &mut shards);
        prop_assert_eq!(replay.phase_name(), done.phase_name());
    }
}

#[test]
fn invalid_intents_are_refused_with_a_code() {
    let new = |id: &str, debit: &str, currency: &str, kind: Option<&str>| {
        Intent::new(id, debit, "B", 1, currency, kind, None, ("s1", "s2")).map_err(|e| e.code)
    };
    assert_eq!(new(&"x".repeat(60), "A", "CNY", None), Err("invalid_field"));
    assert_eq!(new("xs:d:1", "A", "CNY", None), Err("invalid_field"));
    assert_eq!(new("1", "XT-s2-CNY", "CNY", None), Err("invalid_field"));
    assert_eq!(new("1", "A", "cny", None), Err("invalid_currency"));
    assert_eq!(
        new("1", "A", "CNY", Some("adjustment")),
        Err("adjustment_requires_approval")
    );
    let long = "s".repeat(30);
    assert_eq!(
        Intent::new("1", "A", "B", 1, "CNY", None, None, ("s1", &long)).map_err(|e| e.code),
        Err("shard_name_too_long")
    );
}

#[test]
fn a_retry_is_the_same_request_whatever_its_phase_and_the_intent_reads_back() {
    let mut first = intent(5);
    first.advance(StepKind::Debit, Outcome::Accepted);
    assert!(first.same_request(&intent(5)) && !first.same_request(&intent(6)));
    let text = serde_json::to_string(&first).unwrap();
    assert_eq!(serde_json::from_str::<Intent>(&text).unwrap(), first);
    assert!(text.contains(r#""phase":"debited""#), "{text}");
}
