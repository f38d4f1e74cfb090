//! The same conformance suite against SQLite (always) and PostgreSQL (when
//! PAYCORE_TEST_POSTGRES names a server whose user may create databases; CI sets it).
//!
//! A real engine posts a day of activity — deposits, transfers, holds, captures, expiries,
//! a transit account, day-ends — the projector follows the log into the store, and the store
//! must agree with the ledger on every balance, entry, record and day.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use paycore_engine::{Engine, EngineConfig, Retention};
use paycore_ledger::*;
use paycore_store::*;
use rand::{Rng, SeedableRng};

const WAIT: Duration = Duration::from_secs(60);

/// A fresh store: a SQLite file, or a new PostgreSQL database.
fn stores(dir: &std::path::Path, name: &str) -> Vec<StoreUrl> {
    let mut urls = vec![StoreUrl::Sqlite(dir.join(format!("{name}.sqlite")))];
    match std::env::var("PAYCORE_TEST_POSTGRES") {
        Ok(admin) => urls.push(fresh_postgres(&admin, name)),
        Err(_) => eprintln!(
            "PAYCORE_TEST_POSTGRES not set: PostgreSQL conformance skipped here (CI runs it)"
        ),
    }
    urls
}

fn fresh_postgres(admin: &str, name: &str) -> StoreUrl {
    let mut client = ::postgres::Client::connect(admin, ::postgres::NoTls)
        .expect("PAYCORE_TEST_POSTGRES reachable");
    let database = format!("paycore_test_{name}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    StoreUrl::Postgres(format!("{base}/{database}"))
}

struct World {
    engine: Arc<Engine>,
    hasher: IdHasher,
    now_step: u64,
    /// Days run so far (their commands' ids are numbered by day).
    days_run: usize,
}

impl World {
    fn open(dir: &std::path::Path) -> World {
        let mut config = EngineConfig::new(dir);
        config.segment_bytes = 1 << 20;
        config.snapshot_every_commands = 2_000;
        config.retention = Retention::Archive;
        let engine = Arc::new(Engine::open(config).unwrap());
        let hasher = engine.hasher();
        World {
            engine,
            hasher,
            now_step: 0,
            days_run: 0,
        }
    }

    fn submit(&self, ops: Vec<(String, Op)>) -> Vec<Outcome> {
        let commands = ops
            .into_iter()
            .map(|(id, op)| Command::new(self.hasher.client_id(&id).unwrap(), op, &self.hasher))
            .collect();
        self.engine.submit_blocking(commands).unwrap()
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

    fn transfer_op(
        id: String,
        debit: &str,
        credit: &str,
        amount: u64,
        kind: TransferKind,
        reference: &str,
    ) -> (String, Op) {
        let op = Op::Transfer(Transfer {
            debit: Self::key(debit),
            credit: Self::key(credit),
            amount,
            currency: Currency::CNY,
            kind,
            reference: Reference::new(reference).unwrap(),
        });
        (id, op)
    }

    fn day_end(&self, id: &str) -> Outcome {
        let date = self.engine.read(|l| l.accounting_date());
        self.submit(vec![(id.to_owned(), Op::DayEnd { date })])[0]
    }

    /// A few days of mixed activity, with a transit account left unbalanced on one day.
    fn run_days(&mut self, days: usize, seed: u64) {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let mut setup = vec![
            World::open_op("SETTLE", AccountType::Settlement),
            World::open_op("TRANSIT", AccountType::Transit),
        ];
        setup.extend((0..8).map(|i| World::open_op(&format!("C{i}"), AccountType::Customer)));
        setup.extend((0..8).map(|i| {
            World::transfer_op(
                format!("fund-{i}"),
                "SETTLE",
                &format!("C{i}"),
                1_000_000,
                TransferKind::Deposit,
                "",
            )
        }));
        self.submit(setup);
        // C7 is a hot account with buffered posting: its credits arrive as aggregated entries.
        let hot = Op::SetHot {
            account: Self::key("C7"),
            options: Some(HotOptions {
                flush_interval_ms: 1,
                max_entries: 7,
                credit_line: 0,
            }),
        };
        self.submit(vec![("hot-C7".to_owned(), hot)]);
        let first_day = self.days_run;
        self.days_run += days;
        for day in first_day..self.days_run {
            for batch in 0..20 {
                let mut ops = Vec::new();
                for k in 0..25 {
                    self.now_step += 1;
                    let id = format!("d{day}-b{batch}-{k}");
                    let (a, b) = (rng.gen_range(0..8), rng.gen_range(0..8));
                    let (a, b) = (format!("C{a}"), format!("C{b}"));
                    let amount = rng.gen_range(1..5_000);
                    ops.push(match rng.gen_range(0..10) {
                        0 => (
                            id.clone(),
                            Op::Freeze(Freeze {
                                account: Self::key(&a),
                                amount,
                                currency: None,
                                expires_at: None,
                                reference: Reference::NONE,
                            }),
                        ),
                        1 => (
                            id,
                            Op::Capture(Capture {
                                hold: self
                                    .hasher
                                    .client_id(&format!("d{day}-b{batch}-{}", k.max(1) - 1))
                                    .unwrap(),
                                credit: Self::key(&b),
                                amount: None,
                                kind: TransferKind::Payment,
                                reference: Reference::NONE,
                            }),
                        ),
                        2 => World::transfer_op(
                            id,
                            &a,
                            "TRANSIT",
                            amount,
                            TransferKind::Transfer,
                            "via transit",
                        ),
                        3 => World::transfer_op(
                            id,
                            "TRANSIT",
                            &b,
                            amount,
                            TransferKind::Transfer,
                            "via transit",
                        ),
                        4 => World::transfer_op(
                            id,
                            "SETTLE",
                            &a,
                            amount,
                            TransferKind::Deposit,
                            "top-up",
                        ),
                        _ => World::transfer_op(
                            id,
                            &a,
                            &b,
                            amount,
                            TransferKind::Transfer,
                            &format!("order-{}", rng.gen_range(0..5)),
                        ),
                    });
                }
                self.submit(ops);
            }
            // Bring the transit account back to zero on even days only.
            let transit = self.engine.read(|l| {
                l.account(l.resolve(&AccountNo::new("TRANSIT").unwrap()).unwrap())
                    .unwrap()
                    .balance
            });
            if day % 2 == 0 && transit != 0 {
                let op = if transit > 0 {
                    World::transfer_op(
                        format!("settle-transit-{day}"),
                        "TRANSIT",
                        "C0",
                        transit as u64,
                        TransferKind::Transfer,
                        "",
                    )
                } else {
                    World::transfer_op(
                        format!("settle-transit-{day}"),
                        "C0",
                        "TRANSIT",
                        (-transit) as u64,
                        TransferKind::Transfer,
                        "",
                    )
                };
                self.submit(vec![op]);
            }
            assert_eq!(self.day_end(&format!("day-end-{day}")).result, Ok(()));
        }
    }

    /// A projector from the data directory under `dir` into `url`.
    fn projector(&self, dir: &std::path::Path, url: &StoreUrl) -> Projector {
        Projector::start(dir.join("data"), open_store(url).unwrap(), self.durable())
    }

    /// Projects everything durable into `url`, stops, and opens the store for reading.
    fn project_all(&self, dir: &std::path::Path, url: &StoreUrl) -> Box<dyn Store> {
        let mut projector = self.projector(dir, url);
        let caught_up = projector.wait_for(self.engine.metrics().durable_sequence, WAIT);
        assert!(
            caught_up,
            "{url:?}: {:?}",
            projector.status().last_error.lock()
        );
        projector.stop();
        open_store(url).unwrap()
    }

    fn durable(&self) -> Arc<dyn Fn() -> u64 + Send + Sync> {
        let engine = self.engine.clone();
        Arc::new(move || engine.metrics().durable_sequence)
    }
}

/// The store agrees with the ledger on everything.
fn check_against_ledger(store: &mut dyn Store, engine: &Engine) {
    engine.read(|ledger| {
        let sums: BTreeMap<u64, (i64, u64)> = store
            .journal_sums(u64::MAX)
            .unwrap()
            .into_iter()
            .map(|(a, s, n)| (a, (s, n)))
            .collect();
        let mut entries = 0;
        for id in 0..ledger.account_count() {
            let account = ledger.account(AccountId(id)).unwrap();
            let row = store
                .account(u64::from(id))
                .unwrap()
                .expect("every account projected");
            assert_eq!(
                (
                    row.balance,
                    row.frozen,
                    row.status.as_str(),
                    row.pending_credit
                ),
                (
                    account.balance,
                    account.frozen,
                    account.status.name(),
                    ledger.pending_credit(AccountId(id))
                )
            );
            let (sum, count) = sums.get(&u64::from(id)).copied().unwrap_or((0, 0));
            assert_eq!(sum, account.balance, "journal sum of account {id}");
            entries += count;
            assert_eq!(store.first_broken_entry(u64::from(id)).unwrap(), None);
        }
        assert_eq!(
            entries,
            ledger.next_entry_seq() - 1,
            "every journal entry projected once"
        );
        let records = store
            .records(&RecordQuery {
                limit: 10_000,
                ..Default::default()
            })
            .unwrap();
        assert!(records
            .iter()
            .all(|r| r.op == "transfer" || r.op == "capture"));
        assert!(records.windows(2).all(|w| w[0].record_id < w[1].record_id));
        // Every entry names its command's client id and its account's number.
        let journal = (store.entries(&EntryQuery {
            limit: usize::MAX,
            ..Default::default()
        }))
        .unwrap();
        assert!(
            journal.len() > 1_000 && journal.len() < 10_000,
            "{} entries",
            journal.len()
        );
        for e in &journal {
            let record = ledger.record(RecordId(e.record_id)).unwrap();
            assert_eq!(
                e.client_id,
                ledger.record_client_id(record),
                "entry {}",
                e.seq
            );
            let account = ledger.account_info(AccountId(e.account_id as u32)).unwrap();
            assert_eq!(e.account_no, account.number.to_string(), "entry {}", e.seq);
        }
    });
}

fn check_days(store: &mut dyn Store, engine: &Engine, days: usize) {
    let first: Date = engine.read(|l| l.accounting_date()) - time::Duration::days(days as i64);
    let last = first + time::Duration::days(days as i64 - 1);
    for id in 0..engine.read(|l| l.account_count()) {
        let rows = store
            .daily_rows(u64::from(id), &first.to_string(), &last.to_string())
            .unwrap();
        let before = store
            .closing_before(u64::from(id), &first.to_string())
            .unwrap();
        let daily = carry_forward(first, last, before, &rows);
        for pair in daily.windows(2) {
            assert_eq!(
                pair[1].opening, pair[0].closing,
                "opening(T) = closing(T-1) for account {id}"
            );
        }
        for day in &daily {
            assert_eq!(
                i128::from(day.closing),
                i128::from(day.opening) + day.credits - day.debits,
                "account {id} on {}",
                day.accounting_date
            );
        }
    }
    let mut day = first;
    while day <= last {
        let date = day.to_string();
        let flows = store.day_flows(&date).unwrap();
        let (debits, credits): (i128, i128) = flows
            .iter()
            .fold((0, 0), |(d, c), f| (d + f.debits, c + f.credits));
        assert_eq!(debits, credits, "{date}: total debits = total credits");
        assert!(debits > 0);
        let closings = store.day_closings(&date).unwrap();
        assert_eq!(
            closings.iter().map(|c| c.closing).sum::<i128>(),
            0,
            "{date}: balances sum to zero at the cut"
        );
        let suspense = store.day_suspense(&date).unwrap();
        let transit_closing = closings
            .iter()
            .find(|c| c.account_type == "transit")
            .map_or(0, |c| c.closing);
        assert_eq!(
            suspense.iter().map(|s| i128::from(s.balance)).sum::<i128>(),
            transit_closing,
            "{date}: suspense lists every unbalanced transit account"
        );
        day = day.next_day().unwrap();
    }
}

/// The hot account's statement: aggregated credits whose drill-down lists exactly the
/// transfers into it, each once, adding up to the entry.
fn check_hot_statement(store: &mut dyn Store, engine: &Engine, number: &str) {
    let id = store.account_id(number).unwrap().unwrap();
    let entries = store
        .entries(&EntryQuery {
            account_id: Some(id),
            limit: 100_000,
            ..Default::default()
        })
        .unwrap();
    let aggregated: Vec<_> = entries.iter().filter(|e| e.aggregated > 0).collect();
    assert!(
        aggregated.len() > 3,
        "flushes happened: {}",
        aggregated.len()
    );
    let mut members = std::collections::BTreeSet::new();
    for entry in aggregated {
        let rows = store.flush_members(entry.seq).unwrap();
        assert_eq!(rows.len() as u64, entry.aggregated);
        assert_eq!(rows.iter().map(|r| r.amount).sum::<u64>(), entry.amount);
        for row in rows {
            assert_eq!(row.credit_account, Some(id));
            assert!(members.insert(row.record_id), "a transfer in two flushes");
        }
    }
    let (credits, pending) = engine.read(|l| {
        let account = l.resolve(&AccountNo::new(number).unwrap()).unwrap();
        // Credits from the moment it became hot (its funding deposit posted at once).
        let since = l
            .find_record(&l.hasher().client_id(&format!("hot-{number}")).unwrap())
            .unwrap()
            .0;
        let credits = (since..l.record_count())
            .filter_map(|r| l.record(RecordId(r)))
            .filter(|r| r.result.is_ok() && r.credit == account)
            .filter(|r| matches!(r.op, OpKind::Transfer | OpKind::Capture))
            .count();
        (credits, l.hot(account).map_or(0, |b| b.members.len()))
    });
    assert!(credits > 20, "the hot account received transfers");
    assert_eq!(
        members.len() + pending,
        credits,
        "every credit flushed or pending"
    );
}

#[test]
fn the_store_agrees_with_the_ledger_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    let days = 4;
    world.run_days(days, 7);
    let urls = stores(dir.path(), "agree");
    let mut projected = Vec::new();
    for url in &urls {
        projected.push(world.project_all(dir.path(), url));
    }
    let first = world.engine.read(|l| l.accounting_date()) - time::Duration::days(days as i64);
    let dates: Vec<String> = (0..=days as i64)
        .map(|d| (first + time::Duration::days(d)).to_string())
        .collect();
    check_record_searches(&mut projected, &dates);
    drop(projected);
    for url in urls {
        let mut store = world.project_all(dir.path(), &url);
        check_against_ledger(store.as_mut(), &world.engine);
        check_days(store.as_mut(), &world.engine, days);
        // Odd days left the transit account unbalanced at the cut: reported.
        let first = world.engine.read(|l| l.accounting_date()) - time::Duration::days(days as i64);
        let odd_day = (first + time::Duration::days(1)).to_string();
        let suspended: i64 = store
            .day_suspense(&odd_day)
            .unwrap()
            .iter()
            .map(|s| s.balance)
            .sum();
        let even_day = first.to_string();
        assert!(store.day_suspense(&even_day).unwrap().is_empty(), "{url:?}");
        let _ = suspended;
        check_hot_statement(store.as_mut(), &world.engine, "C7");
    }
}

/// Random transfer searches give the same answer on every backend; without an account, the
/// answer is the full list of transfers filtered by hand.
fn check_record_searches(stores: &mut [Box<dyn Store>], dates: &[String]) {
    let everything = |store: &mut Box<dyn Store>| {
        (store.records(&RecordQuery {
            limit: usize::MAX,
            ..Default::default()
        }))
        .unwrap()
    };
    let all = everything(&mut stores[0]);
    assert!(
        all.len() > 1_000 && all.len() < 10_000,
        "{} transfers",
        all.len()
    );
    for store in stores.iter_mut().skip(1) {
        assert_eq!(everything(store), all);
    }
    let accounts = 1 + all.iter().filter_map(|r| r.credit_account).max().unwrap();
    let references = [
        None,
        Some("order-1"),
        Some("via transit"),
        Some("top-up"),
        Some("none"),
    ];
    let mut rng = rand::rngs::SmallRng::seed_from_u64(23);
    for _ in 0..150 {
        let pick_date = |rng: &mut rand::rngs::SmallRng| {
            rng.gen_bool(0.5)
                .then(|| dates[rng.gen_range(0..dates.len())].clone())
        };
        let q = RecordQuery {
            account_id: rng.gen_bool(0.4).then(|| rng.gen_range(0..accounts)),
            reference: references[rng.gen_range(0..references.len())].map(Into::into),
            from_date: pick_date(&mut rng),
            to_date: pick_date(&mut rng),
            after_record: rng
                .gen_bool(0.5)
                .then(|| all[rng.gen_range(0..all.len())].record_id),
            limit: [1, 3, 20, 10_000][rng.gen_range(0..4)],
            ..Default::default()
        };
        let passes = |r: &RecordRow| {
            q.after_record.is_none_or(|a| r.record_id > a)
                && q.reference.as_ref().is_none_or(|x| &r.reference == x)
                && q.from_date.as_ref().is_none_or(|d| &r.accounting_date >= d)
                && q.to_date.as_ref().is_none_or(|d| &r.accounting_date <= d)
        };
        let got = stores[0].records(&q).unwrap();
        assert!(got.len() <= q.limit && got.iter().all(passes), "{q:?}");
        assert!(
            got.windows(2).all(|w| w[0].record_id < w[1].record_id),
            "{q:?}"
        );
        if q.account_id.is_none() {
            let expected: Vec<RecordRow> = all
                .iter()
                .filter(|r| passes(r))
                .take(q.limit)
                .cloned()
                .collect();
            assert_eq!(got, expected, "{q:?}");
        }
        for store in stores.iter_mut().skip(1) {
            assert_eq!(store.records(&q).unwrap(), got, "{q:?}");
        }
    }
}

#[test]
fn the_projection_resumes_exactly_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    world.run_days(2, 11);
    for url in stores(dir.path(), "resume") {
        // Follow half way, stop (a crash mid-transaction rolls back with the position it would
        // have recorded, so stopping between transactions is the general case), then resume:
        // primary keys would reject any row written twice.
        let mut projector = world.projector(dir.path(), &url);
        let target = world.engine.metrics().durable_sequence;
        assert!(projector.wait_for(target / 2, WAIT));
        projector.stop();
        let applied = projector.status().applied_sequence.load(Relaxed);
        assert!(applied >= target / 2);
        let mut projector = world.projector(dir.path(), &url);
        assert!(
            projector.wait_for(target, WAIT),
            "{:?}",
            projector.status().last_error.lock()
        );
        projector.stop();
        let mut store = open_store(&url).unwrap();
        check_against_ledger(store.as_mut(), &world.engine);
        assert_eq!(store.applied().unwrap().unwrap().sequence, target);
    }
}

/// The journal part of a store transaction commits after the main part; a crash between the
/// two leaves the journal behind. Simulated by rolling the journal back to an earlier
/// position: the projector brings it up alone (records, balances and days are not written
/// twice), then goes on with both parts.
#[test]
fn a_journal_left_behind_the_main_part_catches_up_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    let urls = stores(dir.path(), "behind");
    world.run_days(1, 13);
    let mut positions = Vec::new();
    for url in &urls {
        let mut store = world.project_all(dir.path(), url);
        // Entry sequences are dense from 1: the last one the journal has now.
        let last_entry: u64 = (store.journal_sums(u64::MAX).unwrap().iter())
            .map(|(_, _, n)| n)
            .sum();
        positions.push((store.journal_applied().unwrap(), last_entry));
    }
    world.run_days(1, 14);
    for (url, (behind, last_entry)) in urls.iter().zip(positions) {
        let mut store = world.project_all(dir.path(), url);
        store
            .execute_raw(&format!(
                "DELETE FROM entries WHERE seq > {last_entry};
                 DELETE FROM entry_runs WHERE last_seq > {last_entry};
                 DELETE FROM flush_members WHERE entry_seq > {last_entry};
                 UPDATE journal_state SET applied_sequence = {behind};"
            ))
            .unwrap();
        assert!(store.applied().unwrap().unwrap().sequence > behind);
    }
    world.run_days(1, 17);
    for url in &urls {
        let mut store = world.project_all(dir.path(), url);
        check_against_ledger(store.as_mut(), &world.engine);
        check_days(store.as_mut(), &world.engine, 3);
        let end = world.engine.metrics().durable_sequence;
        assert_eq!(store.applied().unwrap().unwrap().sequence, end);
        assert_eq!(store.journal_applied().unwrap(), end);
    }
}

#[test]
fn pages_never_skip_or_repeat_entries_while_postings_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    world.run_days(1, 3);
    for url in stores(dir.path(), "pages") {
        let mut projector = world.projector(dir.path(), &url);
        let mut reader = open_store(&url).unwrap();
        let account = reader_account(&mut *reader, &projector, &world, "C1");
        let mut seen = Vec::new();
        let mut from = 0;
        let engine = world.engine.clone();
        let hasher = world.hasher;
        let writer = std::thread::spawn(move || {
            for i in 0..60 {
                let op = World::transfer_op(
                    format!("live-{i}"),
                    "C2",
                    "C1",
                    1,
                    TransferKind::Transfer,
                    "",
                );
                engine
                    .submit_blocking(vec![Command::new(
                        hasher.client_id(&op.0).unwrap(),
                        op.1,
                        &hasher,
                    )])
                    .unwrap();
            }
        });
        for _ in 0..200 {
            let page = reader
                .entries(&EntryQuery {
                    account_id: Some(account),
                    from_seq: from,
                    limit: 7,
                    ..Default::default()
                })
                .unwrap();
            if let Some(last) = page.last() {
                from = last.seq + 1;
            }
            seen.extend(page.into_iter().map(|e| e.seq));
            std::thread::sleep(Duration::from_millis(2));
        }
        writer.join().unwrap();
        assert!(projector.wait_for(world.engine.metrics().durable_sequence, WAIT));
        loop {
            let page = reader
                .entries(&EntryQuery {
                    account_id: Some(account),
                    from_seq: from,
                    limit: 7,
                    ..Default::default()
                })
                .unwrap();
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            seen.extend(page.into_iter().map(|e| e.seq));
        }
        projector.stop();
        let all: Vec<u64> = reader
            .entries(&EntryQuery {
                account_id: Some(account),
                limit: 10_000,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(
            seen, all,
            "{url:?}: paging saw every entry exactly once, in order"
        );
        assert!(all.len() > 60);
    }
}

fn reader_account(
    reader: &mut dyn Store,
    projector: &Projector,
    world: &World,
    number: &str,
) -> u64 {
    assert!(projector.wait_for(world.engine.metrics().durable_sequence, WAIT));
    reader.account_id(number).unwrap().unwrap()
}

#[test]
fn queries_filter_transfers_and_a_corrupted_row_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    world.run_days(2, 5);
    for url in stores(dir.path(), "queries") {
        let mut store = world.project_all(dir.path(), &url);
        let c3 = store.account_id("C3").unwrap().unwrap();
        let mine = store
            .records(&RecordQuery {
                account_id: Some(c3),
                limit: 10_000,
                ..Default::default()
            })
            .unwrap();
        assert!(!mine.is_empty());
        assert!(mine
            .iter()
            .all(|r| r.debit_account == Some(c3) || r.credit_account == Some(c3)));
        let by_reference = store
            .records(&RecordQuery {
                reference: Some("order-2".into()),
                limit: 10_000,
                ..Default::default()
            })
            .unwrap();
        assert!(!by_reference.is_empty() && by_reference.iter().all(|r| r.reference == "order-2"));
        let page = store
            .records(&RecordQuery {
                limit: 5,
                ..Default::default()
            })
            .unwrap();
        let next = store
            .records(&RecordQuery {
                after_record: Some(page[4].record_id),
                limit: 5,
                ..Default::default()
            })
            .unwrap();
        assert!(next[0].record_id > page[4].record_id);
        let day = &page[0].accounting_date;
        let dated = store
            .records(&RecordQuery {
                from_date: Some(day.clone()),
                to_date: Some(day.clone()),
                limit: 10_000,
                ..Default::default()
            })
            .unwrap();
        assert!(dated.iter().all(|r| &r.accounting_date == day));

        // Tamper with one entry: the chain check names it.
        let victim = store
            .entries(&EntryQuery {
                account_id: Some(c3),
                limit: 10_000,
                ..Default::default()
            })
            .unwrap()[5]
            .clone();
        store
            .execute_raw(&format!(
                "UPDATE entries SET amount = amount + 1 WHERE seq = {}",
                victim.seq
            ))
            .unwrap();
        assert_eq!(
            store.first_broken_entry(c3).unwrap().map(|e| e.seq),
            Some(victim.seq)
        );
    }
}

#[test]
fn day_ends_racing_postings_cut_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    world.run_days(1, 13);
    let poster = {
        let (engine, hasher) = (world.engine.clone(), world.hasher);
        std::thread::spawn(move || {
            for i in 0..400 {
                let (id, op) = World::transfer_op(
                    format!("race-{i}"),
                    &format!("C{}", i % 8),
                    &format!("C{}", (i + 3) % 8),
                    1 + i % 7,
                    TransferKind::Transfer,
                    "",
                );
                engine
                    .submit_blocking(vec![Command::new(
                        hasher.client_id(&id).unwrap(),
                        op,
                        &hasher,
                    )])
                    .unwrap();
            }
        })
    };
    for day in 0..5 {
        std::thread::sleep(Duration::from_millis(3));
        assert_eq!(world.day_end(&format!("race-day-end-{day}")).result, Ok(()));
    }
    poster.join().unwrap();
    let days = 6;
    for url in stores(dir.path(), "race") {
        let mut store = world.project_all(dir.path(), &url);
        check_against_ledger(store.as_mut(), &world.engine);
        // Entries are dated in sequence order: a cut never lets an earlier entry carry a later day.
        let entries = store
            .entries(&EntryQuery {
                limit: 10_000,
                ..Default::default()
            })
            .unwrap();
        assert!(entries
            .windows(2)
            .all(|w| w[0].accounting_date <= w[1].accounting_date));
        let first: Date =
            world.engine.read(|l| l.accounting_date()) - time::Duration::days(days as i64);
        for d in 0..days {
            let date = (first + time::Duration::days(d as i64)).to_string();
            let closings = store.day_closings(&date).unwrap();
            assert!(!closings.is_empty(), "{url:?}: day {date} was cut");
            assert_eq!(closings.iter().map(|c| c.closing).sum::<i128>(), 0);
            let flows = store.day_flows(&date).unwrap();
            assert_eq!(
                flows.iter().map(|f| f.debits).sum::<i128>(),
                flows.iter().map(|f| f.credits).sum::<i128>()
            );
        }
        for id in 0..world.engine.read(|l| l.account_count()) {
            let last = first + time::Duration::days(days as i64 - 1);
            let rows = store
                .daily_rows(u64::from(id), &first.to_string(), &last.to_string())
                .unwrap();
            let daily = carry_forward(
                first,
                last,
                store
                    .closing_before(u64::from(id), &first.to_string())
                    .unwrap(),
                &rows,
            );
            assert!(daily.windows(2).all(|w| w[1].opening == w[0].closing));
        }
    }
}

/// An account's journal is read through its runs (one per account and store transaction);
/// whatever the cursor, dates, page size and extra (sub-)accounts, it must be exactly the
/// global journal filtered to those accounts.
#[test]
fn account_journals_read_through_runs_match_the_global_journal() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    let urls = stores(dir.path(), "runs");
    let mut projectors: Vec<Projector> = urls
        .iter()
        .map(|url| world.projector(dir.path(), url))
        .collect();
    world.run_days(3, 5);
    // Then postings one at a time, each projected before the next: a transaction each, so
    // the accounts' journals spread over many runs.
    let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
    for i in 0..80 {
        let (a, b) = (rng.gen_range(0..8), rng.gen_range(0..8));
        let op = World::transfer_op(
            format!("one-{i}"),
            &format!("C{a}"),
            &format!("C{b}"),
            1,
            TransferKind::Transfer,
            "",
        );
        world.submit(vec![op]);
        let durable = world.engine.metrics().durable_sequence;
        for projector in &projectors {
            assert!(projector.wait_for(durable, WAIT));
        }
    }
    let target = world.engine.metrics().durable_sequence;
    for projector in &mut projectors {
        assert!(projector.wait_for(target, WAIT));
        projector.stop();
        let transactions = projector.status().transactions.load(Relaxed);
        assert!(transactions > 80, "{transactions} store transactions");
    }
    let first = world.engine.read(|l| l.accounting_date()) - time::Duration::days(3);
    let days: Vec<Option<String>> = std::iter::once(None)
        .chain((0..4).map(|d| Some((first + time::Duration::days(d)).to_string())))
        .collect();
    let accounts = world.engine.read(|l| l.account_count());
    for url in urls {
        let mut store = open_store(&url).unwrap();
        let journal = store
            .entries(&EntryQuery {
                limit: usize::MAX,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            journal.len() as u64,
            world.engine.read(|l| l.next_entry_seq()) - 1
        );
        let mut rng = rand::rngs::SmallRng::seed_from_u64(17);
        for id in 0..u64::from(accounts) {
            for _ in 0..12 {
                let sub_accounts = if rng.gen_bool(0.3) {
                    vec![rng.gen_range(0..u64::from(accounts))]
                } else {
                    vec![]
                };
                let query = EntryQuery {
                    account_id: Some(id),
                    sub_accounts,
                    from_seq: rng.gen_range(0..journal.len() as u64 + 2),
                    from_date: days[rng.gen_range(0..days.len())].clone(),
                    to_date: days[rng.gen_range(0..days.len())].clone(),
                    limit: [1, 3, 20, 10_000][rng.gen_range(0..4)],
                };
                let expected: Vec<u64> = journal
                    .iter()
                    .filter(|e| e.account_id == id || query.sub_accounts.contains(&e.account_id))
                    .filter(|e| e.seq >= query.from_seq)
                    .filter(|e| {
                        query
                            .from_date
                            .as_ref()
                            .is_none_or(|d| &e.accounting_date >= d)
                    })
                    .filter(|e| {
                        query
                            .to_date
                            .as_ref()
                            .is_none_or(|d| &e.accounting_date <= d)
                    })
                    .take(query.limit)
                    .map(|e| e.seq)
                    .collect();
                let got: Vec<u64> = store
                    .entries(&query)
                    .unwrap()
                    .into_iter()
                    .map(|e| e.seq)
                    .collect();
                assert_eq!(got, expected, "{url:?} {query:?}");
            }
        }
        check_journal_reads(store.as_mut(), &journal, &days, &mut rng);
        // Written over many transactions a day: each daily row adds up its day's entries.
        check_daily_against_journal(store.as_mut(), &journal);
        check_days(store.as_mut(), &world.engine, 3);
        // A stretch of entries wider than most pages removed (by hand, as a repair would):
        // reads in order step over the hole.
        let (from, to) = (journal.len() as u64 / 3, journal.len() as u64 / 3 + 40);
        store
            .execute_raw(&format!(
                "DELETE FROM entries WHERE seq BETWEEN {from} AND {to}"
            ))
            .unwrap();
        let rest: Vec<EntryRow> = (journal.into_iter())
            .filter(|e| !(from..=to).contains(&e.seq))
            .collect();
        check_journal_reads(store.as_mut(), &rest, &days, &mut rng);
    }
}

/// Every account's daily rows against its entries: debits, credits and count of the day,
/// opening before its first entry and closing after its last.
fn check_daily_against_journal(store: &mut dyn Store, journal: &[EntryRow]) {
    let mut expected: BTreeMap<(u64, String), DailyRow> = BTreeMap::new();
    for e in journal {
        let day = expected
            .entry((e.account_id, e.accounting_date.clone()))
            .or_insert_with(|| DailyRow {
                accounting_date: e.accounting_date.clone(),
                opening: e.balance_before,
                debits: 0,
                credits: 0,
                closing: 0,
                entries: 0,
            });
        match e.kind.as_ref() {
            "debit" => day.debits += i128::from(e.amount),
            "credit" => day.credits += i128::from(e.amount),
            _ => {}
        }
        day.closing = e.balance_after;
        day.entries += 1;
    }
    let accounts: std::collections::BTreeSet<u64> = journal.iter().map(|e| e.account_id).collect();
    for account in accounts {
        let rows = store.daily_rows(account, "", "9999-12-31").unwrap();
        let wanted: Vec<&DailyRow> = (expected.range((account, String::new())..))
            .take_while(|((a, _), _)| *a == account)
            .map(|(_, row)| row)
            .collect();
        assert_eq!(rows.iter().collect::<Vec<_>>(), wanted, "account {account}");
    }
}

/// Reads of the whole journal in sequence order, from random points with random date filters
/// and page sizes, against `journal` (everything the store holds).
fn check_journal_reads(
    store: &mut dyn Store,
    journal: &[EntryRow],
    days: &[Option<String>],
    rng: &mut impl Rng,
) {
    let last = journal.last().map_or(0, |e| e.seq);
    for _ in 0..60 {
        let query = EntryQuery {
            from_seq: rng.gen_range(0..last + 2),
            from_date: days[rng.gen_range(0..days.len())].clone(),
            to_date: days[rng.gen_range(0..days.len())].clone(),
            limit: [1, 3, 20, 10_000][rng.gen_range(0..4)],
            ..Default::default()
        };
        let in_dates = |e: &&EntryRow| {
            (query.from_date.as_ref()).is_none_or(|d| &e.accounting_date >= d)
                && (query.to_date.as_ref()).is_none_or(|d| &e.accounting_date <= d)
        };
        let expected: Vec<u64> = (journal.iter())
            .filter(|e| e.seq >= query.from_seq)
            .filter(in_dates)
            .take(query.limit)
            .map(|e| e.seq)
            .collect();
        let got: Vec<u64> = (store.entries(&query).unwrap().into_iter())
            .map(|e| e.seq)
            .collect();
        assert_eq!(got, expected, "{query:?}");
    }
}

/// Readers from the pool agree with the ledger while one of them is held for a long read
/// (as `verify`'s scan holds one), see what the projector wrote after they were opened, and
/// cannot write.
#[test]
fn pooled_readers_read_beside_a_held_one_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::open(&dir.path().join("data"));
    world.run_days(2, 11);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (n, url) in stores(dir.path(), "readers").into_iter().enumerate() {
        drop(world.project_all(dir.path(), &url));
        let readers = Readers::open(&url, 2).unwrap();
        let mut held = readers.get().unwrap();
        check_against_ledger(held.as_mut(), &world.engine);
        let c0 = |store: &mut dyn Store| {
            let id = store.account_id("C0")?.expect("C0 projected");
            store
                .account(id)
                .map(|row| row.expect("C0 projected").balance)
        };
        let before = runtime.block_on(readers.read(c0)).unwrap();
        assert_eq!(
            readers.state().0,
            2,
            "{url:?}: the second read opened a handle"
        );

        world.submit(vec![World::transfer_op(
            format!("after-readers-{n}"),
            "SETTLE",
            "C0",
            5,
            TransferKind::Deposit,
            "",
        )]);
        drop(world.project_all(dir.path(), &url));
        let after = runtime.block_on(readers.read(c0)).unwrap();
        assert_eq!(
            after,
            before + 5,
            "{url:?}: a pooled reader sees new projections"
        );
        assert!(
            held.execute_raw("CREATE TABLE reader_wrote (a BIGINT)")
                .is_err(),
            "{url:?}: a reader refuses to write"
        );
        check_against_ledger(held.as_mut(), &world.engine);
    }
}
