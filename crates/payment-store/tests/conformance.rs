//! The payment store against SQLite (always) and PostgreSQL (when PAYCORE_TEST_POSTGRES names
//! a server whose user may create databases; CI sets it): every table round-trips the
//! domain's values, the writer commits groups of jobs and answers only after, a failed
//! transaction fails all its jobs and rebuilds the state, readers see what committed.

use paycore_money::Currency;
use paycore_payment_store::repo::{channels, merchants, payments, payouts, refunds, state, trades};
use paycore_payment_store::{Location, Sql, StoreError, Writer};
use paycore_payments::routing::Strategy;
use paycore_payments::*;

fn locations(dir: &std::path::Path, name: &str) -> Vec<Location> {
    let mut all = vec![Location::Sqlite(dir.join(format!("{name}.sqlite")))];
    match std::env::var("PAYCORE_TEST_POSTGRES") {
        Ok(admin) => all.push(fresh_postgres(&admin, name)),
        Err(_) => eprintln!("PAYCORE_TEST_POSTGRES not set: PostgreSQL skipped here (CI runs it)"),
    }
    all
}

fn fresh_postgres(admin: &str, name: &str) -> Location {
    let mut client = ::postgres::Client::connect(admin, ::postgres::NoTls)
        .expect("PAYCORE_TEST_POSTGRES reachable");
    let database = format!("paycore_paystore_{name}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Location::Postgres(format!("{base}/{database}"))
}

/// The writer's state in these tests: how many times it was built, and a counter.
#[derive(Default)]
struct Counter {
    builds: u32,
    value: u64,
}

fn writer(location: &Location) -> Writer<Counter> {
    let conn = location.connect(true).unwrap();
    let mut builds = 0;
    Writer::start(
        conn,
        Box::new(move |sql: &mut dyn Sql| {
            builds += 1;
            Ok(Counter {
                builds,
                value: state::sequence(sql, "test")?,
            })
        }),
        Box::new(|state: &mut Counter, sql: &mut dyn Sql| {
            state::save_sequence(sql, "test", state.value)
        }),
    )
    .unwrap()
}

fn merchant() -> Merchant {
    NewMerchant {
        id: "shop".into(),
        name: "茶 Shop".into(),
        callback_hosts: vec!["shop.example.com".into(), "::1".into()],
        fee_rate_bp: 60,
        currency: Currency::CNY,
    }
    .into_merchant(1_700_000_000_000)
    .unwrap()
}

fn channel(id: &str) -> Channel {
    NewChannel {
        id: id.into(),
        protocol: "sim-json".into(),
        endpoint: "http://127.0.0.1:9000".into(),
        secret: "s".into(),
        methods: vec![Method::Quickpay, Method::Netbank],
        currencies: vec![Currency::CNY, Currency::USD],
        min_amount: Some(1),
        max_amount: None,
        weight: 100,
        rate_limit_per_s: Some(50),
        enabled: true,
    }
    .into_channel(5)
    .unwrap()
}

fn trade(merchant: &Merchant, order_no: &str) -> Trade {
    NewTrade {
        merchant: merchant.id.clone(),
        merchant_order_no: order_no.into(),
        amount: 12_345,
        currency: Currency::CNY,
        subject: "龙井".into(),
        notify_url: Some("https://shop.example.com/n".into()),
        expires_in_s: Some(60),
    }
    .into_trade(merchant, format!("T-{order_no}"), 10)
    .unwrap()
}

fn payment(trade: &Trade, id: &str, order_no: &str) -> Payment {
    let mut router = Router::new(HealthPolicy::default());
    let mut dropped = channel("b-off");
    dropped.enabled = false;
    let route = router.route(
        &[channel("a"), dropped],
        &RouteRequest {
            method: Method::Quickpay,
            currency: Currency::CNY,
            amount: trade.amount,
            channel: None,
            exclude: &[],
        },
        11,
    );
    assert_eq!(route.strategy, Strategy::Weighted);
    Payment::new(
        NewPayment {
            id: id.into(),
            trade_id: trade.trade_id.clone(),
            merchant: trade.merchant.clone(),
            method: Method::Quickpay,
            amount: trade.amount,
            currency: trade.currency,
            fee: 74,
            requested_channel: None,
            payer_account: None,
            balance_amount: 0,
        },
        order_no.into(),
        route,
        11,
        5_011,
    )
}

#[test]
fn every_table_round_trips_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path(), "roundtrip") {
        let writer = writer(&location);
        let readers = location.readers(4);
        let m = merchant();
        let t = trade(&m, "o-1");
        let mut p = payment(&t, "p-1", "2026120100000000001");
        let saved = (m.clone(), t.clone(), p.clone());
        writer
            .run_blocking(move |_, sql| {
                merchants::insert(sql, &saved.0)?;
                channels::save(sql, &channel("a"), 7)?;
                trades::insert(sql, &saved.1)?;
                payments::save(sql, &saved.2)?;
                channels::add_counters(
                    sql,
                    "a",
                    channels::Counters {
                        routed: 2,
                        succeeded: 1,
                        failed: 0,
                        unknown: 1,
                    },
                )?;
                channels::add_counters(
                    sql,
                    "a",
                    channels::Counters {
                        routed: 1,
                        ..Default::default()
                    },
                )?;
                state::save_split(sql, "a:100", "a=0")
            })
            .unwrap();
        // A report, a reroute and an anomaly change the payment; it is saved whole again.
        let timing = Timing {
            not_found_grace_ms: 0,
        };
        let mut open_trade = t.clone();
        p.report(
            &mut open_trade,
            &BankReport {
                order_no: "2026120100000000001".into(),
                source: ReportSource::Query,
                result: BankResult::NotFound,
            },
            20,
            timing,
        );
        let route = p.current().unwrap().route.clone();
        p.reroute("2026120100000000002".into(), route, 21, 30)
            .unwrap();
        p.anomalies.push("late callback".into());
        let changed = p.clone();
        writer
            .run_blocking(move |_, sql| payments::save(sql, &changed))
            .unwrap();
        let read = readers
            .read_blocking(|sql| {
                Ok((
                    merchants::get(sql, "shop")?,
                    channels::get(sql, "a")?,
                    trades::by_merchant_order(sql, "shop", "o-1")?,
                    payments::get(sql, "p-1")?,
                    payments::by_channel_order(sql, "2026120100000000002")?,
                    channels::counters(sql, "a")?,
                    state::splits(sql)?,
                ))
            })
            .unwrap();
        assert_eq!(read.0.as_ref(), Some(&m), "{location:?}");
        assert_eq!(read.1, Some(channel("a")));
        assert_eq!(read.2.as_ref(), Some(&t));
        assert_eq!(read.3.as_ref(), Some(&p));
        assert_eq!(read.4.as_ref(), Some(&p));
        assert_eq!(
            read.5,
            channels::Counters {
                routed: 3,
                succeeded: 1,
                failed: 0,
                unknown: 1
            }
        );
        assert_eq!(read.6, vec![("a:100".to_owned(), "a=0".to_owned())]);
        let due = readers
            .read_blocking(|sql| payments::due_checks(sql, 100, 10))
            .unwrap();
        assert_eq!(due, vec![("p-1".to_owned(), 30)]);
        assert!(readers
            .read_blocking(|sql| payments::due_checks(sql, 29, 10))
            .unwrap()
            .is_empty());
        let mut paid = t.clone();
        paid.claim("p-1", 39).unwrap();
        paid.mark_paid("p-1", 40).unwrap();
        let update = paid.clone();
        writer
            .run_blocking(move |_, sql| trades::update(sql, &update))
            .unwrap();
        let stored = readers
            .read_blocking(|sql| trades::get(sql, "T-o-1"))
            .unwrap();
        assert_eq!(stored, Some(paid));
    }
}

#[test]
fn saving_over_an_earlier_state_writes_what_changed_and_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path(), "saveover") {
        let writer = writer(&location);
        let readers = location.readers(2);
        let m = merchant();
        let t = trade(&m, "o-1");
        let first = payment(&t, "p-1", "2026120100000000001");
        let saved = (m.clone(), t.clone(), first.clone());
        writer
            .run_blocking(move |_, sql| {
                merchants::insert(sql, &saved.0)?;
                channels::save(sql, &channel("a"), 7)?;
                trades::insert(sql, &saved.1)?;
                payments::save(sql, &saved.2)
            })
            .unwrap();
        let read = |id: &'static str| {
            readers
                .read_blocking(move |sql| payments::get(sql, id))
                .unwrap()
                .unwrap()
        };
        // Only the payment's own row changes.
        let mut noted = first.clone();
        noted.anomalies.push("late callback".into());
        noted.updated_at += 1;
        let (before, after) = (first.clone(), noted.clone());
        writer
            .run_blocking(move |_, sql| payments::save_over(sql, &after, &before))
            .unwrap();
        assert_eq!(read("p-1"), noted, "{location:?}");
        // A new channel order beside the first, which stays as it was.
        let mut rerouted = noted.clone();
        let route = rerouted.current().unwrap().route.clone();
        rerouted.report(
            &mut t.clone(),
            &BankReport {
                order_no: "2026120100000000001".into(),
                source: ReportSource::Query,
                result: BankResult::NotFound,
            },
            20,
            Timing {
                not_found_grace_ms: 0,
            },
        );
        rerouted
            .reroute("2026120100000000002".into(), route, 21, 30)
            .unwrap();
        let (before, after) = (noted.clone(), rerouted.clone());
        writer
            .run_blocking(move |_, sql| payments::save_over(sql, &after, &before))
            .unwrap();
        assert_eq!(read("p-1"), rerouted, "{location:?}");
        assert_eq!(rerouted.attempts.len(), 2);
        // Nothing changed: nothing written, the same payment read back.
        let (before, after) = (rerouted.clone(), rerouted.clone());
        writer
            .run_blocking(move |_, sql| payments::save_over(sql, &after, &before))
            .unwrap();
        assert_eq!(read("p-1"), rerouted);
    }
}

#[test]
fn refunds_round_trip_and_queue_their_checks() {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path(), "refunds") {
        let writer = writer(&location);
        let readers = location.readers(2);
        let paid = Refundable {
            payment_id: "p-1",
            trade_id: "T-1",
            merchant: "shop",
            currency: Currency::CNY,
            channel: "a",
            paid_order_no: "2026120100000000001",
        };
        let request = NewRefund {
            id: "r-1".into(),
            amount: 40,
            reason: "changed mind".into(),
        };
        let mut refund = Refund::new(
            request,
            &paid,
            RefundSource::Merchant,
            "2026120100000000009".into(),
            50,
        );
        let saved = refund.clone();
        writer
            .run_blocking(move |_, sql| refunds::save(sql, &saved))
            .unwrap();
        refund.hold_placed(51);
        refund.order.mark_sent(52);
        refund.schedule_check(60);
        refund.anomalies.push("late callback".into());
        let changed = refund.clone();
        writer
            .run_blocking(move |_, sql| refunds::save(sql, &changed))
            .unwrap();
        let read = readers
            .read_blocking(|sql| {
                Ok((
                    refunds::get(sql, "r-1")?,
                    refunds::by_channel_order(sql, "2026120100000000009")?,
                    refunds::of_payment(sql, "p-1")?,
                    refunds::due_checks(sql, 100, 10)?,
                    refunds::due_checks(sql, 59, 10)?,
                ))
            })
            .unwrap();
        assert_eq!(read.0.as_ref(), Some(&refund), "{location:?}");
        assert_eq!(read.1.as_ref(), Some(&refund));
        assert_eq!(read.2, vec![refund.clone()]);
        assert_eq!(read.3, vec![("r-1".to_owned(), 60)]);
        assert!(read.4.is_empty());
    }
}

fn payout_route(channel_id: &str) -> RouteDecision {
    let mut router = Router::new(HealthPolicy::default());
    let mut taking = channel(channel_id);
    taking.methods.push(Method::Payout);
    router.route(
        &[taking],
        &RouteRequest {
            method: Method::Payout,
            currency: Currency::CNY,
            amount: 500,
            channel: None,
            exclude: &[],
        },
        20,
    )
}

#[test]
fn payouts_round_trip_with_every_attempt_and_hold() {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path(), "payouts") {
        let writer = writer(&location);
        let readers = location.readers(2);
        let request = NewPayout {
            id: "w-1".into(),
            merchant: "shop".into(),
            amount: 500,
            currency: Currency::CNY,
            bank_account: "6222-0001".into(),
            channel: None,
            notify_url: Some("http://127.0.0.1:9/payouts".into()),
        };
        let mut payout = Payout::new(request, "2026120100000000021".into(), payout_route("a"), 20);
        payout.hold_placed(21);
        payout.mark_sent(22).unwrap();
        let failed = BankReport {
            order_no: "2026120100000000021".into(),
            source: ReportSource::Response,
            result: BankResult::Failed {
                code: "ACCOUNT_CLOSED".into(),
                message: "closed".into(),
            },
        };
        payout.report(
            &failed,
            23,
            Timing {
                not_found_grace_ms: 1_000,
            },
        );
        payout.released(24);
        payout
            .reroute("2026120100000000022".into(), payout_route("b"), 25)
            .unwrap();
        payout.anomalies.push("late callback".into());
        let saved = payout.clone();
        writer
            .run_blocking(move |_, sql| payouts::save(sql, &saved))
            .unwrap();
        let read = readers
            .read_blocking(|sql| {
                Ok((
                    payouts::get(sql, "w-1")?,
                    payouts::by_channel_order(sql, "2026120100000000021")?,
                    payouts::of_merchant(sql, "shop", None, 10)?,
                    payouts::of_merchant(sql, "shop", Some((20, "w-1")), 10)?,
                    payouts::due_checks(sql, 100, 10)?,
                ))
            })
            .unwrap();
        assert_eq!(read.0.as_ref(), Some(&payout), "{location:?}");
        assert_eq!(
            read.0.as_ref().unwrap().attempts[0].hold,
            HoldState::Released
        );
        assert_eq!(read.1.as_ref(), Some(&payout));
        assert_eq!(read.2, vec![payout.clone()]);
        assert!(read.3.is_empty(), "nothing before the only payout");
        assert_eq!(read.4, vec![("w-1".to_owned(), 25)]);
    }
}

#[test]
fn the_writer_commits_groups_and_a_failed_transaction_fails_all_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path(), "writer") {
        let writer = std::sync::Arc::new(writer(&location));
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for j in 0..50 {
                        writer
                            .run_blocking(move |state, sql| {
                                state.value += 1;
                                let m = NewMerchant {
                                    id: format!("m{i}-{j}"),
                                    name: "m".into(),
                                    callback_hosts: vec![],
                                    fee_rate_bp: 0,
                                    currency: Currency::CNY,
                                }
                                .into_merchant(1)
                                .unwrap();
                                merchants::insert(sql, &m)
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let readers = location.readers(2);
        let all = readers
            .read_blocking(|sql| merchants::list(sql, "", 1_000))
            .unwrap();
        assert_eq!(all.len(), 800);
        assert_eq!(
            readers
                .read_blocking(|sql| state::sequence(sql, "test"))
                .unwrap(),
            800
        );
        // A job whose statement fails (a duplicate key) fails its whole transaction: the
        // state is rebuilt from what committed.
        let failed: Result<(), StoreError> = writer.run_blocking(|state, sql| {
            state.value += 1_000;
            let existing = merchants::get(sql, "m0-0")?.unwrap();
            merchants::insert(sql, &existing)
        });
        assert!(failed.is_err(), "{location:?}");
        let after = writer
            .run_blocking(|state, _| Ok((state.value, state.builds)))
            .unwrap();
        assert_eq!(after, (800, 2), "rebuilt once, from the committed sequence");
    }
}

#[test]
fn a_rolled_back_transaction_leaves_nothing_of_its_writes_to_later_jobs() {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path(), "cache") {
        let writer = writer(&location);
        let shop = merchant();
        let open = trade(&shop, "c-1");
        let first = payment(&open, "P-c1", "CO-c1");
        let (t, p) = (open.clone(), first.clone());
        writer
            .run_blocking(move |_, sql| {
                merchants::insert(sql, &shop)?;
                trades::insert(sql, &t)?;
                payments::save(sql, &p)
            })
            .unwrap();
        // The job changes both, reads them back changed, then a statement fails.
        let (t, p) = (open.clone(), first.clone());
        let failed: Result<(), StoreError> = writer.run_blocking(move |_, sql| {
            let mut claimed = t.clone();
            claimed.claimed_by = Some(p.id.clone());
            trades::update(sql, &claimed)?;
            let mut later = p.clone();
            later.next_check_at = Some(99_999);
            payments::save(sql, &later)?;
            assert_eq!(trades::get(sql, &t.trade_id)?, Some(claimed));
            assert_eq!(payments::get(sql, &p.id)?, Some(later));
            trades::insert(sql, &t) // a duplicate key
        });
        assert!(failed.is_err(), "{location:?}");
        let (t, p) = (open.clone(), first.clone());
        let seen = writer
            .run_blocking(move |_, sql| {
                Ok((trades::get(sql, &t.trade_id)?, payments::get(sql, &p.id)?))
            })
            .unwrap();
        assert_eq!(seen, (Some(open), Some(first)), "{location:?}");
    }
}
