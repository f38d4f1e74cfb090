//! Accounting against a real engine: a few days of deposits, transfers, withdrawals, holds,
//! captures and fees are posted, the feed follows the log, and the books must agree with the
//! ledger — every transaction posted exactly once, trial balances balanced, the GL equal to
//! the sub-ledger — through exceptions, rule changes, restarts, period closes and reversals.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use paycore_accounting::*;
use paycore_engine::{Engine, EngineConfig};
use paycore_ledger::*;
use rand::{Rng, SeedableRng};

const WAIT: Duration = Duration::from_secs(60);

struct World {
    engine: Arc<Engine>,
    hasher: IdHasher,
    books: Arc<Books>,
    data: std::path::PathBuf,
}

fn key(number: &str) -> AccountKey {
    AccountKey::No(AccountNo::new(number).unwrap())
}

fn open_op(number: &str, kind: AccountType) -> (String, Op) {
    let op = Op::OpenAccount(OpenAccount {
        number: AccountNo::new(number).unwrap(),
        kind,
        currency: Currency::CNY,
        allow_negative: None,
        reference: Reference::NONE,
        opened_by: Operator::SYSTEM,
    });
    (format!("open-{number}"), op)
}

fn transfer(
    id: String,
    debit: &str,
    credit: &str,
    amount: u64,
    kind: TransferKind,
) -> (String, Op) {
    let op = Op::Transfer(Transfer {
        debit: key(debit),
        credit: key(credit),
        amount,
        currency: Currency::CNY,
        kind,
        reference: Reference::NONE,
    });
    (id, op)
}

impl World {
    fn open(dir: &Path) -> World {
        let data = dir.join("data");
        let mut config = EngineConfig::new(&data);
        config.segment_bytes = 1 << 20;
        config.snapshot_every_commands = 3_000;
        let engine = Arc::new(Engine::open(config).unwrap());
        let hasher = engine.hasher();
        let books = Arc::new(Books::open(&data).unwrap());
        World {
            engine,
            hasher,
            books,
            data,
        }
    }

    fn submit(&self, ops: Vec<(String, Op)>) -> Vec<Outcome> {
        let commands = ops
            .into_iter()
            .map(|(id, op)| Command::new(self.hasher.client_id(&id).unwrap(), op, &self.hasher))
            .collect();
        self.engine.submit_blocking(commands).unwrap()
    }

    fn day_end(&self, id: &str) {
        let date = self.engine.read(|l| l.accounting_date());
        let outcome = self.submit(vec![(id.to_owned(), Op::DayEnd { date })])[0];
        assert_eq!(outcome.result, Ok(()));
    }

    fn feed(&self) -> Feed {
        let engine = self.engine.clone();
        Feed::start(
            self.data.clone(),
            self.books.clone(),
            Arc::new(move || engine.metrics().durable_sequence),
        )
    }

    /// Runs a feed until it has posted everything durable, then stops it.
    fn catch_up(&self) {
        let mut feed = self.feed();
        let caught_up = feed.wait_for(self.engine.metrics().durable_sequence, WAIT);
        assert!(caught_up, "{:?}", feed.status().last_error.lock());
        feed.stop();
    }

    fn date(&self) -> String {
        self.engine.read(|l| l.accounting_date().to_string())
    }

    fn setup(&self) {
        let mut ops = vec![
            open_op("SETTLEMENT-CNY", AccountType::Settlement),
            open_op("FEE-CNY", AccountType::Internal),
            open_op("PROMO-CNY", AccountType::Internal),
            open_op("TRANSIT-CNY", AccountType::Transit),
        ];
        ops.extend((0..6).map(|i| open_op(&format!("C{i}"), AccountType::Customer)));
        ops.extend((0..3).map(|i| open_op(&format!("M{i}"), AccountType::Merchant)));
        ops.extend((0..6).map(|i| {
            transfer(
                format!("fund-{i}"),
                "SETTLEMENT-CNY",
                &format!("C{i}"),
                500_000,
                TransferKind::Deposit,
            )
        }));
        self.submit(ops);
    }

    /// One day of mixed activity (every op of a payment company's day), then a day-end.
    fn run_day(&self, day: usize, rng: &mut rand::rngs::SmallRng) {
        for batch in 0..10 {
            let mut ops = Vec::new();
            for k in 0..30 {
                let id = format!("d{day}-b{batch}-{k}");
                let c = format!("C{}", rng.gen_range(0..6));
                let c2 = format!("C{}", rng.gen_range(0..6));
                let m = format!("M{}", rng.gen_range(0..3));
                let amount = rng.gen_range(1..3_000);
                ops.push(match rng.gen_range(0..9) {
                    0 => transfer(id, "SETTLEMENT-CNY", &c, amount, TransferKind::Deposit),
                    1 => transfer(id, &c, "SETTLEMENT-CNY", amount, TransferKind::Withdrawal),
                    2 => transfer(id, &c, &m, amount, TransferKind::Payment),
                    3 => transfer(id, &m, "FEE-CNY", amount / 100 + 1, TransferKind::Fee),
                    4 => transfer(id, &c, &c2, amount, TransferKind::Transfer),
                    5 => transfer(id, &m, &c, amount, TransferKind::Refund),
                    6 => (
                        id,
                        Op::Freeze(Freeze {
                            account: key(&c),
                            amount,
                            currency: None,
                            expires_at: None,
                            reference: Reference::NONE,
                        }),
                    ),
                    7 => (
                        id,
                        Op::Capture(Capture {
                            hold: self
                                .hasher
                                .client_id(&format!("d{day}-b{batch}-{}", k.max(1) - 1))
                                .unwrap(),
                            credit: key(&m),
                            amount: None,
                            kind: TransferKind::Payment,
                            reference: Reference::NONE,
                        }),
                    ),
                    _ => transfer(id, &m, "SETTLEMENT-CNY", amount, TransferKind::Settlement),
                });
            }
            self.submit(ops);
        }
        self.day_end(&format!("day-end-{day}"));
    }

    /// Accepted money movements in the ledger: record id → amount.
    fn ledger_movements(&self) -> BTreeMap<u64, u64> {
        self.engine.read(|l| {
            (0..=l.record_count())
                .filter_map(|i| Some((i, l.record(RecordId(i))?)))
                .filter(|(_, r)| {
                    r.result.is_ok() && matches!(r.op, OpKind::Transfer | OpKind::Capture)
                })
                .map(|(i, r)| (i, r.amount))
                .collect()
        })
    }

    /// Every ledger transaction posted exactly once, for its amount; the books balanced and
    /// equal to the ledger on every day.
    fn check_books(&self, days: &[String]) {
        let movements = self.ledger_movements();
        let mut posted: BTreeMap<u64, u64> = BTreeMap::new();
        let mut after = None;
        loop {
            let page = self
                .books
                .vouchers(&VoucherQuery {
                    after,
                    limit: 1_000,
                    ..VoucherQuery::default()
                })
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for v in page.iter().filter(|v| v.body.source == Source::Ledger) {
                let debit: i64 = v
                    .body
                    .lines
                    .iter()
                    .filter(|l| l.side == Side::Debit)
                    .map(|l| l.amount)
                    .sum();
                let previous = posted.insert(v.body.record_id.unwrap(), debit as u64);
                assert_eq!(previous, None, "record {:?} posted twice", v.body.record_id);
            }
        }
        assert_eq!(posted, movements, "vouchers = ledger transactions");
        for day in days {
            let trial = self.books.trial_balance(day, day, "CNY").unwrap();
            assert!(trial.totals.balanced, "{day}: {:?}", trial.totals);
            let check = self.books.gl_check(day).unwrap();
            assert!(
                check.differences.is_empty(),
                "{day}: {:?}",
                check.differences
            );
            assert!(check.checked.len() >= 2, "{day}: {:?}", check.checked);
        }
        let first = days.first().unwrap();
        let last = days.last().unwrap();
        assert!(
            self.books
                .trial_balance(first, last, "CNY")
                .unwrap()
                .totals
                .balanced
        );
        // The GL's control accounts hold exactly the ledger's balances by type.
        let check = self.books.gl_check(&self.date()).unwrap();
        let by_type = self.engine.read(|l| {
            let mut sums: BTreeMap<&'static str, i128> = BTreeMap::new();
            for a in l.accounts() {
                *sums.entry(a.kind.name()).or_default() += a.balance as i128;
            }
            sums
        });
        let gl = |code: &str| {
            check
                .checked
                .iter()
                .find(|c| c.code == code)
                .map_or(0, |c| c.gl_balance)
        };
        assert_eq!(gl("22010101"), by_type["customer"]);
        assert_eq!(gl("22010201"), by_type["merchant"]);
        assert_eq!(gl("10020101"), by_type["settlement"]);
    }
}

#[test]
fn random_days_post_every_transaction_once_and_the_gl_equals_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path());
    world.setup();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let mut days = vec![world.date()];
    for day in 0..3 {
        world.run_day(day, &mut rng);
        days.push(world.date());
    }
    world.catch_up();
    assert!(world.books.exceptions().unwrap().is_empty());
    world.check_books(&days);
    let reserve = world
        .books
        .reserve_report(&days[0], days.last().unwrap())
        .unwrap();
    let rows: Vec<_> = reserve
        .rows
        .iter()
        .filter(|r| r.code == "10020101")
        .collect();
    assert_eq!(rows.len(), days.len());
    for pair in rows.windows(2) {
        assert_eq!(pair[0].closing, pair[1].opening);
    }
    let settlement = world.engine.read(|l| {
        l.account(
            l.resolve(&AccountNo::new("SETTLEMENT-CNY").unwrap())
                .unwrap(),
        )
        .unwrap()
        .balance
    });
    // Reserve funds are an asset: the mirror of the settlement account's ledger balance.
    assert_eq!(rows.last().unwrap().closing, -(settlement as i128));
}

#[test]
fn an_unmapped_transaction_waits_in_the_queue_and_posts_once_a_rule_exists() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path());
    world.setup();
    // No default rule moves money from an internal account to a customer as a plain transfer.
    world.submit(vec![transfer(
        "promo-1".into(),
        "PROMO-CNY",
        "C1",
        800,
        TransferKind::Transfer,
    )]);
    world.catch_up();
    let parked = world.books.exceptions().unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].client_id, "promo-1");
    assert!(
        parked[0].reason.contains("no posting rule"),
        "{}",
        parked[0].reason
    );
    let today = world.date();
    let check = world.books.gl_check(&today).unwrap();
    assert_eq!(check.unposted.len(), 1);
    assert_eq!(check.differences.len(), 2, "{:?}", check.differences);

    let rules = format!(
        "{}\n[[rules]]\nname = \"promotion\"\nkind = \"transfer\"\ndebit = \"internal\"\ncredit = \"customer\"\nlines = [{{ side = \"debit\", account = \"{{debit}}\" }}, {{ side = \"credit\", account = \"{{credit}}\" }}]\n",
        world.books.rules_text().unwrap()
    );
    let (rules, posted, remaining) = world.books.replace_rules(&rules).unwrap();
    assert_eq!((rules.version, posted, remaining), (2, 1, 0));
    assert!(world.books.exceptions().unwrap().is_empty());
    world.check_books(&[today]);
    // Retrying again posts nothing twice.
    assert_eq!(world.books.retry_exceptions().unwrap(), (0, 0));
    assert!(dir.path().join("data/accounting/rules-v1.toml").exists());
}

#[test]
fn the_feed_resumes_exactly_after_stops_and_ledger_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(dir.path());
    world.setup();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
    let mut days = vec![world.date()];
    for day in 0..4 {
        // The feed runs while the day is posted and is stopped at an arbitrary point.
        let mut feed = world.feed();
        world.run_day(day, &mut rng);
        days.push(world.date());
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..20)));
        feed.stop();
        if day == 1 {
            // The ledger restarts (recovering from its log); accounting keeps its position.
            world.engine.shutdown();
            drop(world.engine);
            let mut config = EngineConfig::new(&world.data);
            config.segment_bytes = 1 << 20;
            config.snapshot_every_commands = 3_000;
            world.engine = Arc::new(Engine::open(config).unwrap());
            world.books = Arc::new(Books::open(&world.data).unwrap());
        }
    }
    world.catch_up();
    world.check_books(&days);
}

#[test]
fn closed_periods_refuse_vouchers_and_late_items_move_to_the_next_open_day() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path());
    world.setup();
    let first = world.date();
    world.submit(vec![transfer(
        "promo-late".into(),
        "PROMO-CNY",
        "C1",
        500,
        TransferKind::Transfer,
    )]);
    world.catch_up();
    let early = world.books.close_period(&first).unwrap_err();
    assert_eq!(early.code().as_str(), "period_not_ended");
    world.day_end("cut-1");
    world.catch_up();
    let second = world.date();
    let closed = world.books.close_period(&first).unwrap();
    assert!(closed.vouchers >= 6, "{closed:?}");
    assert_eq!(closed.debit, closed.credit);
    assert_eq!(
        world
            .books
            .close_period(&first)
            .unwrap_err()
            .code()
            .as_str(),
        "period_closed"
    );
    // The month is not over in the ledger yet.
    assert_eq!(
        world
            .books
            .close_period(&first[..7])
            .unwrap_err()
            .code()
            .as_str(),
        "period_not_ended"
    );
    assert_eq!(
        world
            .books
            .close_period("2026-13")
            .unwrap_err()
            .code()
            .as_str(),
        "invalid_date"
    );

    // A manual voucher into the closed day is refused; into the open day it posts.
    let manual = |id: &str, date: &str| ManualVoucher {
        id: id.into(),
        date: Some(date.into()),
        currency: "CNY".into(),
        note: "capital injection".into(),
        lines: vec![
            VoucherLine {
                code: "10020201".into(),
                side: Side::Debit,
                amount: 1_000,
            },
            VoucherLine {
                code: "40010101".into(),
                side: Side::Credit,
                amount: 1_000,
            },
        ],
    };
    assert_eq!(
        world
            .books
            .post_manual(manual("cap-1", &first))
            .unwrap_err()
            .code()
            .as_str(),
        "period_closed"
    );
    let (voucher, replayed) = world.books.post_manual(manual("cap-1", &second)).unwrap();
    assert!(!replayed);
    let (again, replayed) = world.books.post_manual(manual("cap-1", &second)).unwrap();
    assert!(replayed);
    assert_eq!(again, voucher);
    let mut different = manual("cap-1", &second);
    different.lines[0].amount = 2_000;
    different.lines[1].amount = 2_000;
    assert_eq!(
        world
            .books
            .post_manual(different)
            .unwrap_err()
            .code()
            .as_str(),
        "id_conflict"
    );

    // The parked item of the closed day posts, after a rule appears, on the next open day.
    let rules = world.books.rules_text().unwrap().replace(
        "[[rules]]\nname = \"adjustment\"",
        "[[rules]]\nname = \"promotion\"\nkind = \"transfer\"\ndebit = \"internal\"\ncredit = \"*\"\nlines = [{ side = \"debit\", account = \"{debit}\" }, { side = \"credit\", account = \"{credit}\" }]\n\n[[rules]]\nname = \"adjustment\"",
    );
    let (_, posted, _) = world.books.replace_rules(&rules).unwrap();
    assert_eq!(posted, 1);
    let late = world
        .books
        .vouchers(&VoucherQuery {
            date: Some(second.clone()),
            account: Some("22010101".into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let late = late
        .iter()
        .find(|v| v.body.client_id == "promo-late")
        .expect("late voucher");
    assert_eq!(late.body.ledger_date.as_deref(), Some(first.as_str()));
    assert!(late.body.note.contains("late item"), "{}", late.body.note);

    // Red-letter reversal nets the voucher out; a second reversal is refused.
    let before = world.books.trial_balance(&second, &second, "CNY").unwrap();
    let (reversal, _) = world
        .books
        .reverse(&voucher.voucher_no, "rev-1", "entered twice")
        .unwrap();
    assert_eq!(reversal.body.reverses, Some(voucher.id));
    assert!(reversal.body.lines.iter().all(|l| l.amount == -1_000));
    assert_eq!(
        world
            .books
            .reverse(&voucher.voucher_no, "rev-2", "again")
            .unwrap_err()
            .code()
            .as_str(),
        "voucher_already_reversed"
    );
    let after = world.books.trial_balance(&second, &second, "CNY").unwrap();
    let row =
        |t: &TrialBalance, code: &str| t.rows.iter().find(|r| r.code == code).unwrap().closing;
    assert_eq!(row(&before, "40010101") - 1_000, row(&after, "40010101"));
    assert!(after.totals.balanced);
}

#[test]
fn manual_vouchers_and_chart_edits_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::open(dir.path());
    world.setup();
    world.catch_up();
    let date = world.date();
    let voucher = |lines: Vec<(&str, Side, i64)>| ManualVoucher {
        id: "m".into(),
        date: Some(date.clone()),
        currency: "CNY".into(),
        note: String::new(),
        lines: lines
            .into_iter()
            .map(|(code, side, amount)| VoucherLine {
                code: code.into(),
                side,
                amount,
            })
            .collect(),
    };
    let code = |v| world.books.post_manual(v).unwrap_err().code().as_str();
    assert_eq!(
        code(voucher(vec![
            ("10020201", Side::Debit, 5),
            ("40010101", Side::Credit, 4)
        ])),
        "voucher_unbalanced"
    );
    assert_eq!(
        code(voucher(vec![("10020201", Side::Debit, 5)])),
        "voucher_unbalanced"
    );
    assert_eq!(
        code(voucher(vec![
            ("1002", Side::Debit, 5),
            ("40010101", Side::Credit, 5)
        ])),
        "invalid_voucher"
    );
    assert_eq!(
        code(voucher(vec![
            ("99999999", Side::Debit, 5),
            ("40010101", Side::Credit, 5)
        ])),
        "invalid_voucher"
    );
    assert_eq!(
        code(voucher(vec![
            ("10020201", Side::Debit, -5),
            ("40010101", Side::Credit, -5)
        ])),
        "invalid_voucher"
    );

    let bank = world
        .books
        .create_account(NewGlAccount {
            code: "10020103".into(),
            name: "备付金存款-第三银行".into(),
            class: None,
            side: None,
        })
        .unwrap();
    assert_eq!((bank.class, bank.side), (Class::Asset, Side::Debit));
    let again = NewGlAccount {
        code: "10020103".into(),
        name: "x".into(),
        class: None,
        side: None,
    };
    assert_eq!(
        world
            .books
            .create_account(again)
            .unwrap_err()
            .code()
            .as_str(),
        "gl_account_exists"
    );
    let orphan = NewGlAccount {
        code: "77770101".into(),
        name: "x".into(),
        class: None,
        side: None,
    };
    assert_eq!(
        world
            .books
            .create_account(orphan)
            .unwrap_err()
            .code()
            .as_str(),
        "invalid_gl_account"
    );
    world.books.delete_account("10020103").unwrap();
    // Used (posted to by the setup's deposits) and named by the rules: only disabling.
    assert_eq!(
        world
            .books
            .delete_account("10020101")
            .unwrap_err()
            .code()
            .as_str(),
        "gl_account_in_use"
    );
    world
        .books
        .update_account("10020101", None, Some(false))
        .unwrap();
    world.submit(vec![transfer(
        "dep-disabled".into(),
        "SETTLEMENT-CNY",
        "C2",
        10,
        TransferKind::Deposit,
    )]);
    world.catch_up();
    let parked = world.books.exceptions().unwrap();
    assert_eq!(parked.len(), 1);
    assert!(
        parked[0].reason.contains("disabled"),
        "{}",
        parked[0].reason
    );
    world
        .books
        .update_account("10020101", None, Some(true))
        .unwrap();
    assert_eq!(world.books.retry_exceptions().unwrap(), (1, 0));
    world.check_books(&[date]);
}
