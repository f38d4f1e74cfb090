//! Property test for hot accounts: random batches of transfers among ordinary, buffered and
//! split accounts — with linked pairs, option changes, time jumps past flush intervals and
//! day-ends — must keep every invariant after every batch, move exactly what the accepted
//! records say (economic balance = balance + pending credit, a split account = its
//! sub-accounts), never let a split account go negative in total, and replay and snapshot to
//! the same state.

mod common;

use std::collections::BTreeMap;

use common::*;
use paycore_ledger::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

const MS: u64 = 1_000_000;
/// A, B, C ordinary customers; H buffered (credit line 50); S split into 3.
const ACCOUNTS: [&str; 5] = ["A", "B", "C", "H", "S"];

#[derive(Clone, Debug)]
enum Step {
    Transfer {
        from: usize,
        to: usize,
        amount: u64,
        linked: bool,
    },
    Options {
        interval_ms: u32,
        max_entries: u32,
        credit_line: u64,
    },
    Wait {
        ms: u64,
    },
    DayEnd,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => (0..5usize, 0..5usize, 1..400u64, prop::bool::weighted(0.2))
            .prop_map(|(from, to, amount, linked)| Step::Transfer { from, to, amount, linked }),
        1 => (1..20u32, 1..8u32, 0..100u64).prop_map(|(interval_ms, max_entries, credit_line)| {
            Step::Options { interval_ms, max_entries, credit_line }
        }),
        2 => (0..30u64).prop_map(|ms| Step::Wait { ms }),
        1 => Just(Step::DayEnd),
    ]
}

fn batches() -> impl Strategy<Value = Vec<Vec<Step>>> {
    prop::collection::vec(prop::collection::vec(step(), 1..12), 1..30)
}

fn setup() -> Harness {
    let mut h = Harness::with_customers();
    h.open("H", AccountType::Merchant, Currency::CNY);
    h.open("S", AccountType::Merchant, Currency::CNY);
    let split = h.cmd(
        "split-S",
        Op::SplitAccount {
            account: Harness::key("S"),
            parts: 3,
        },
    );
    h.one(split).unwrap();
    let hot = h.cmd(
        "hot-H",
        Op::SetHot {
            account: Harness::key("H"),
            options: Some(HotOptions {
                flush_interval_ms: 5,
                max_entries: 4,
                credit_line: 50,
            }),
        },
    );
    h.one(hot).unwrap();
    for (i, n) in ["A", "B", "C"].into_iter().enumerate() {
        let fund = h.deposit(&format!("fund-{i}"), n, 2_000);
        h.one(fund).unwrap();
    }
    h
}

/// Balance plus pending credit; for a split account, the sum over its sub-accounts.
fn economic(h: &Harness, number: &str) -> i64 {
    let l = &h.ledger;
    let id = l.resolve(&AccountNo::new(number).unwrap()).unwrap();
    let own = l.account(id).unwrap().balance + l.pending_credit(id);
    let subs: i64 = l
        .sub_accounts(id)
        .unwrap_or_default()
        .iter()
        .map(|s| l.account(*s).unwrap().balance)
        .sum();
    own + subs
}

fn config() -> Config {
    Config {
        cases: 64,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x407_ACC7),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn hot_and_split_accounts_keep_every_invariant(batches in batches()) {
        let mut h = setup();
        let mut expected: BTreeMap<&str, i64> =
            ACCOUNTS.iter().map(|n| (*n, economic(&h, n))).collect();
        let mut applied: Vec<(u64, Vec<Command>)> = Vec::new();
        let mut n = 0;
        for batch in &batches {
            let mut commands = Vec::new();
            let mut moves = Vec::new();
            for step in batch {
                n += 1;
                match step {
                    Step::Transfer { from, to, amount, linked } => {
                        let cmd = h
                            .transfer(&format!("t{n}"), ACCOUNTS[*from], ACCOUNTS[*to], *amount)
                            .linked(*linked);
                        moves.push(Some((ACCOUNTS[*from], ACCOUNTS[*to], *amount)));
                        commands.push(cmd);
                    }
                    Step::Options { interval_ms, max_entries, credit_line } => {
                        let op = Op::SetHot {
                            account: Harness::key("H"),
                            options: Some(HotOptions {
                                flush_interval_ms: *interval_ms,
                                max_entries: *max_entries,
                                credit_line: *credit_line,
                            }),
                        };
                        moves.push(None);
                        commands.push(h.cmd(&format!("o{n}"), op));
                    }
                    Step::Wait { ms } => h.now += ms * MS,
                    Step::DayEnd => {
                        let date = h.ledger.accounting_date();
                        moves.push(None);
                        commands.push(h.cmd(&format!("d{n}"), Op::DayEnd { date }));
                    }
                }
            }
            if commands.is_empty() {
                continue;
            }
            h.now += 1_000;
            let at = h.now;
            h.ledger.apply_batch(at, &commands, &mut h.out);
            h.now += commands.len() as u64;
            h.ledger.check_invariants().unwrap();
            for (outcome, movement) in h.out.outcomes.iter().zip(&moves) {
                if let (Ok(()), Some((from, to, amount))) = (outcome.result, movement) {
                    *expected.get_mut(from).unwrap() -= *amount as i64;
                    *expected.get_mut(to).unwrap() += *amount as i64;
                }
            }
            for number in ACCOUNTS {
                prop_assert_eq!(economic(&h, number), expected[number], "{}", number);
            }
            prop_assert!(economic(&h, "S") >= 0, "a split account never goes negative");
            for k in 1..=3 {
                let sub = format!("S-S{}", k);
                prop_assert!(h.balance(&sub) >= 0, "{} went negative", sub);
            }
            applied.push((at, commands));
        }

        let mut replay = setup();
        for (at, commands) in &applied {
            replay.ledger.apply_batch(*at, commands, &mut replay.out);
        }
        prop_assert_eq!(replay.ledger.digest(), h.ledger.digest());
        let mut encoded = Vec::new();
        h.ledger.snapshot().encode(&mut encoded).unwrap();
        let restored = LedgerSnapshot::decode(&mut &encoded[..]).unwrap();
        prop_assert_eq!(restored.digest(), h.ledger.digest());
    }
}
