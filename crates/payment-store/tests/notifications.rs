//! The notification outbox and merchant secrets on SQLite (always) and PostgreSQL (when
//! PAYCORE_TEST_POSTGRES names a server whose user may create databases): each test runs on
//! a fresh store of each backend.

use paycore_payment_store::repo::notifications::{self, secrets, *};
use paycore_payment_store::{Connection, Location, StoreError};

/// A fresh SQLite file, and a fresh PostgreSQL database when configured.
fn locations(dir: &std::path::Path, name: &str) -> Vec<Location> {
    let mut locations = vec![Location::Sqlite(dir.join(format!("{name}.sqlite")))];
    match std::env::var("PAYCORE_TEST_POSTGRES") {
        Ok(admin) => locations.push(fresh_postgres(&admin, name)),
        Err(_) => eprintln!("PAYCORE_TEST_POSTGRES not set: PostgreSQL skipped here"),
    }
    locations
}

fn fresh_postgres(admin: &str, name: &str) -> Location {
    let mut client = ::postgres::Client::connect(admin, ::postgres::NoTls)
        .expect("PAYCORE_TEST_POSTGRES reachable");
    let database = format!("paycore_test_notif_{name}_{}", std::process::id());
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Location::Postgres(format!("{base}/{database}"))
}

/// Runs `test` on a migrated connection of each backend, each step in its own transaction.
fn on_each_backend(name: &str, test: impl Fn(&mut Tx)) {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path(), name) {
        let mut tx = Tx(location.connect(true).unwrap());
        test(&mut tx);
    }
}

struct Tx(Box<dyn Connection>);

impl Tx {
    /// Runs `f` in one write transaction, committed if it succeeded.
    fn run<R>(
        &mut self,
        f: impl FnOnce(&mut dyn paycore_payment_store::Sql) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.0.begin(false).unwrap();
        let result = f(self.0.sql());
        match &result {
            Ok(_) => self.0.commit().unwrap(),
            Err(_) => self.0.rollback().unwrap(),
        }
        result
    }
}

fn new(event_id: &str, order_id: &str, at: u64) -> NewNotification {
    NewNotification {
        event_id: event_id.into(),
        merchant: "m1".into(),
        order_id: order_id.into(),
        event_type: "trade.paid".into(),
        url: "https://shop.example.com/notify".into(),
        body: format!(r#"{{"event_id":"{event_id}"}}"#),
        created_at: at,
    }
}

fn ids(list: &[Notification]) -> Vec<&str> {
    list.iter().map(|n| n.event_id.as_str()).collect()
}

fn failed(at: u64) -> Attempt {
    Attempt {
        at,
        status_code: Some(500),
        reason: Some("http_status".into()),
        latency_ms: 7,
    }
}

#[test]
fn insert_numbers_each_order_and_is_idempotent_by_event_id() {
    on_each_backend("insert", |tx| {
        let inserted = tx.run(|sql| insert(sql, &new("e1", "t1", 10))).unwrap();
        assert_eq!(inserted, Inserted::New { order_seq: 1 });
        let inserted = tx.run(|sql| insert(sql, &new("e2", "t1", 11))).unwrap();
        assert_eq!(inserted, Inserted::New { order_seq: 2 });
        let inserted = tx.run(|sql| insert(sql, &new("e3", "t2", 12))).unwrap();
        assert_eq!(inserted, Inserted::New { order_seq: 1 });

        // The same event again: nothing written, its number reported.
        let again = tx.run(|sql| insert(sql, &new("e2", "t1", 99))).unwrap();
        assert_eq!(again, Inserted::Duplicate { order_seq: 2 });
        // The same id with other content is refused.
        let mut other = new("e2", "t1", 11);
        other.body = r#"{"changed":true}"#.into();
        let error = tx.run(|sql| insert(sql, &other)).unwrap_err();
        assert!(
            error.to_string().contains("notification_conflict"),
            "{error}"
        );

        let stored = tx.run(|sql| get(sql, "e2")).unwrap().unwrap();
        assert_eq!(stored.status, Status::Pending);
        assert_eq!(stored.order_seq, 2);
        assert_eq!(stored.next_attempt_at, Some(11));
        assert_eq!(stored.created_at, 11);
        assert_eq!(stored.body, r#"{"event_id":"e2"}"#);
        assert_eq!((stored.attempt_count, stored.attempts.len()), (0, 0));
        assert_eq!(tx.run(|sql| get(sql, "nope")).unwrap(), None);
    });
}

#[test]
fn insert_refuses_unbounded_fields() {
    on_each_backend("bounds", |tx| {
        let mut n = new("e1", "t1", 1);
        n.body = "x".repeat(BODY_BYTES_MAX + 1);
        assert!(tx.run(|sql| insert(sql, &n)).is_err());
        let mut n = new("e1", "t1", 1);
        n.event_id = String::new();
        assert!(tx.run(|sql| insert(sql, &n)).is_err());
        let mut n = new("e1", "t1", 1);
        n.url = format!("https://x/{}", "a".repeat(URL_BYTES_MAX));
        assert!(tx.run(|sql| insert(sql, &n)).is_err());
        assert_eq!(tx.run(|sql| stats(sql)).unwrap().pending, 0);
    });
}

#[test]
fn due_holds_back_later_events_of_an_order() {
    on_each_backend("due", |tx| {
        tx.run(|sql| {
            insert(sql, &new("a1", "ta", 10))?;
            insert(sql, &new("a2", "ta", 11))?;
            insert(sql, &new("b1", "tb", 12))?;
            insert(sql, &new("c1", "tc", 500))
        })
        .unwrap();
        let due_now = tx.run(|sql| due(sql, 100, 10)).unwrap();
        assert_eq!(ids(&due_now), ["a1", "b1"]);
        assert_eq!(tx.run(|sql| due(sql, 100, 1)).unwrap().len(), 1);
        assert_eq!(tx.run(|sql| next_due_at(sql, 100)).unwrap(), Some(500));

        // a1 fails and is retried later: a2 still waits behind it.
        let next = Next::RetryAt(300);
        let recorded = tx.run(|sql| record_attempt(sql, "a1", 0, &failed(100), next));
        assert_eq!(recorded.unwrap(), Some(Status::Pending));
        assert_eq!(ids(&tx.run(|sql| due(sql, 200, 10)).unwrap()), ["b1"]);
        // Delivered, it lets a2 go.
        let ok = Attempt {
            at: 300,
            status_code: Some(200),
            reason: None,
            latency_ms: 2,
        };
        let recorded = tx.run(|sql| record_attempt(sql, "a1", 1, &ok, Next::Delivered));
        assert_eq!(recorded.unwrap(), Some(Status::Delivered));
        assert_eq!(ids(&tx.run(|sql| due(sql, 300, 10)).unwrap()), ["a2", "b1"]);
        // Dead also lets the next one go.
        tx.run(|sql| record_attempt(sql, "a2", 0, &failed(300), Next::Dead))
            .unwrap();
        tx.run(|sql| insert(sql, &new("a3", "ta", 301))).unwrap();
        assert_eq!(
            ids(&tx.run(|sql| due(sql, 600, 10)).unwrap()),
            ["b1", "a3", "c1"]
        );
    });
}

#[test]
fn due_can_leave_busy_merchants_out() {
    on_each_backend("excluding", |tx| {
        tx.run(|sql| {
            for (i, merchant) in ["m1", "m2", "m1", "m3", "m2"].into_iter().enumerate() {
                let mut n = new(&format!("e{i}"), &format!("t{i}"), 10 + i as u64);
                n.merchant = merchant.into();
                insert(sql, &n)?;
            }
            Ok(())
        })
        .unwrap();
        let page = |tx: &mut Tx, out: &[&str]| {
            let due = tx.run(|sql| due_excluding(sql, 100, out, 10)).unwrap();
            ids(&due).into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        assert_eq!(page(tx, &[]), ["e0", "e1", "e2", "e3", "e4"]);
        assert_eq!(page(tx, &["m1"]), ["e1", "e3", "e4"]);
        assert_eq!(page(tx, &["m1", "m2"]), ["e3"]);
        assert!(page(tx, &["m1", "m2", "m3"]).is_empty());
        let too_many = vec!["m"; EXCLUDED_MAX + 1];
        assert!(tx
            .run(|sql| due_excluding(sql, 100, &too_many, 10))
            .is_err());
        let most: Vec<String> = (0..EXCLUDED_MAX).map(|i| format!("x{i}")).collect();
        let mut most: Vec<&str> = most.iter().map(String::as_str).collect();
        most[EXCLUDED_MAX - 1] = "m2";
        let due = tx.run(|sql| due_excluding(sql, 100, &most, 10)).unwrap();
        assert_eq!(ids(&due), ["e0", "e2", "e3"], "the last place counts too");

        // One merchant's: also only the first pending of each order.
        let m1 = tx.run(|sql| due_for(sql, "m1", 100, 10)).unwrap();
        assert_eq!(ids(&m1), ["e0", "e2"]);
        assert_eq!(
            ids(&tx.run(|sql| due_for(sql, "m1", 100, 1)).unwrap()),
            ["e0"]
        );
        assert!(tx.run(|sql| due_for(sql, "m1", 9, 10)).unwrap().is_empty());
        let mut later = new("e5", "t0", 11);
        later.merchant = "m1".into();
        tx.run(|sql| insert(sql, &later)).unwrap();
        assert_eq!(
            ids(&tx.run(|sql| due_for(sql, "m1", 100, 10)).unwrap()),
            ["e0", "e2"]
        );
        assert!(tx
            .run(|sql| due_for(sql, "m9", 100, 10))
            .unwrap()
            .is_empty());
    });
}

#[test]
fn a_claim_hides_a_notification_until_it_lapses_and_is_taken_once() {
    on_each_backend("claim", |tx| {
        tx.run(|sql| insert(sql, &new("e1", "t1", 10))).unwrap();
        assert!(tx.run(|sql| claim(sql, "e1", 0, 20, 1_000)).unwrap());
        // In flight: not due, not claimable again, not retried by an operator.
        assert!(tx.run(|sql| due(sql, 500, 10)).unwrap().is_empty());
        assert!(!tx.run(|sql| claim(sql, "e1", 0, 500, 2_000)).unwrap());
        assert_eq!(
            tx.run(|sql| retry_now(sql, "e1", 500)).unwrap(),
            Retry::InFlight
        );
        let stored = tx.run(|sql| get(sql, "e1")).unwrap().unwrap();
        assert_eq!(stored.claimed_until, Some(1_000));
        // A stale attempt count does not claim; a lapsed claim is due again.
        assert!(!tx.run(|sql| claim(sql, "e1", 3, 1_000, 2_000)).unwrap());
        assert_eq!(ids(&tx.run(|sql| due(sql, 1_000, 10)).unwrap()), ["e1"]);
        assert!(tx.run(|sql| claim(sql, "e1", 0, 1_000, 2_000)).unwrap());
        assert!(tx.run(|sql| claim(sql, "e1", 0, 5, 5)).is_err());
        // A claim given back unused makes it due at once; only a claim can be given back.
        assert!(tx.run(|sql| release(sql, "e1", 0, 1_001)).unwrap());
        assert!(!tx.run(|sql| release(sql, "e1", 0, 1_001)).unwrap());
        assert_eq!(ids(&tx.run(|sql| due(sql, 1_001, 10)).unwrap()), ["e1"]);
        assert!(tx.run(|sql| claim(sql, "e1", 0, 1_001, 2_000)).unwrap());
        // Recording ends the claim.
        tx.run(|sql| record_attempt(sql, "e1", 0, &failed(1_001), Next::RetryAt(1_500)))
            .unwrap();
        let stored = tx.run(|sql| get(sql, "e1")).unwrap().unwrap();
        assert_eq!(stored.claimed_until, None);
        assert_eq!(stored.next_attempt_at, Some(1_500));
    });
}

#[test]
fn an_attempt_is_recorded_once() {
    on_each_backend("record", |tx| {
        tx.run(|sql| insert(sql, &new("e1", "t1", 10))).unwrap();
        let first = tx.run(|sql| record_attempt(sql, "e1", 0, &failed(20), Next::RetryAt(30)));
        assert_eq!(first.unwrap(), Some(Status::Pending));
        // The same attempt again (a second dispatcher, a replayed job): refused.
        let again = tx.run(|sql| record_attempt(sql, "e1", 0, &failed(20), Next::RetryAt(30)));
        assert_eq!(again.unwrap(), None);
        let dead = tx.run(|sql| record_attempt(sql, "e1", 1, &failed(31), Next::Dead));
        assert_eq!(dead.unwrap(), Some(Status::Dead));
        let after_dead = tx.run(|sql| record_attempt(sql, "e1", 2, &failed(40), Next::Dead));
        assert_eq!(after_dead.unwrap(), None);
        let missing = tx.run(|sql| record_attempt(sql, "zz", 0, &failed(40), Next::Dead));
        assert_eq!(missing.unwrap(), None);

        let stored = tx.run(|sql| get(sql, "e1")).unwrap().unwrap();
        assert_eq!(stored.status, Status::Dead);
        assert_eq!(stored.attempt_count, 2);
        assert_eq!(stored.attempts, vec![failed(20), failed(31)]);
        assert_eq!((stored.next_attempt_at, stored.delivered_at), (None, None));
    });
}

#[test]
fn attempts_kept_are_bounded_and_reasons_cut() {
    on_each_backend("kept", |tx| {
        tx.run(|sql| insert(sql, &new("e1", "t1", 0))).unwrap();
        let total = ATTEMPTS_KEPT_MAX as u32 + 5;
        for i in 0..total {
            let mut attempt = failed(u64::from(i));
            attempt.reason = Some(format!("{i}:{}", "é".repeat(REASON_BYTES_MAX)));
            let next = Next::RetryAt(u64::from(i) + 1);
            tx.run(|sql| record_attempt(sql, "e1", i, &attempt, next))
                .unwrap()
                .unwrap();
        }
        let stored = tx.run(|sql| get(sql, "e1")).unwrap().unwrap();
        assert_eq!(stored.attempt_count, total);
        assert_eq!(stored.attempts.len(), ATTEMPTS_KEPT_MAX);
        assert_eq!(stored.attempts[0].at, 5, "the oldest were dropped");
        assert_eq!(stored.attempts.last().unwrap().at, u64::from(total - 1));
        let reason = stored.attempts[0].reason.as_deref().unwrap();
        assert!(reason.len() <= REASON_BYTES_MAX && reason.starts_with("5:é"));
    });
}

#[test]
fn retry_now_revives_the_dead_and_leaves_the_delivered() {
    on_each_backend("retry", |tx| {
        tx.run(|sql| {
            insert(sql, &new("dead", "t1", 10))?;
            insert(sql, &new("done", "t2", 10))?;
            insert(sql, &new("later", "t3", 10))?;
            record_attempt(sql, "dead", 0, &failed(11), Next::Dead)?;
            let ok = Attempt {
                at: 11,
                status_code: Some(200),
                reason: None,
                latency_ms: 1,
            };
            record_attempt(sql, "done", 0, &ok, Next::Delivered)?;
            record_attempt(sql, "later", 0, &failed(11), Next::RetryAt(9_999))
        })
        .unwrap();
        assert_eq!(
            tx.run(|sql| retry_now(sql, "dead", 50)).unwrap(),
            Retry::Scheduled
        );
        assert_eq!(
            tx.run(|sql| retry_now(sql, "later", 50)).unwrap(),
            Retry::Scheduled
        );
        assert_eq!(
            tx.run(|sql| retry_now(sql, "done", 50)).unwrap(),
            Retry::AlreadyDelivered
        );
        assert_eq!(
            tx.run(|sql| retry_now(sql, "none", 50)).unwrap(),
            Retry::NotFound
        );
        assert_eq!(
            ids(&tx.run(|sql| due(sql, 50, 10)).unwrap()),
            ["dead", "later"]
        );
        let revived = tx.run(|sql| get(sql, "dead")).unwrap().unwrap();
        assert_eq!(revived.status, Status::Pending);
        assert_eq!(revived.attempt_count, 1, "its history stays");
        let done = tx.run(|sql| get(sql, "done")).unwrap().unwrap();
        assert_eq!(
            (done.status, done.delivered_at),
            (Status::Delivered, Some(11))
        );
    });
}

#[test]
fn list_filters_and_pages_in_creation_order() {
    on_each_backend("list", |tx| {
        tx.run(|sql| {
            for (i, (merchant, order)) in [("m1", "t1"), ("m2", "t2"), ("m1", "t1"), ("m1", "t3")]
                .into_iter()
                .enumerate()
            {
                let mut n = new(&format!("e{i}"), order, 100 - i as u64);
                n.merchant = merchant.into();
                insert(sql, &n)?;
            }
            record_attempt(sql, "e1", 0, &failed(200), Next::Dead)
        })
        .unwrap();
        let list = |tx: &mut Tx, filter: Filter| {
            let page = tx.run(|sql| notifications::list(sql, &filter)).unwrap();
            ids(&page)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let all = Filter {
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(list(tx, all.clone()), ["e3", "e2", "e1", "e0"]);
        let first_two = Filter {
            limit: 2,
            ..all.clone()
        };
        assert_eq!(list(tx, first_two), ["e3", "e2"]);
        let after = Filter {
            after: Some("e2".into()),
            ..all.clone()
        };
        assert_eq!(list(tx, after), ["e1", "e0"]);
        let m1 = Filter {
            merchant: Some("m1".into()),
            ..all.clone()
        };
        assert_eq!(list(tx, m1.clone()), ["e3", "e2", "e0"]);
        let m1_after = Filter {
            after: Some("e3".into()),
            ..m1
        };
        assert_eq!(list(tx, m1_after), ["e2", "e0"]);
        let order = Filter {
            order_id: Some("t1".into()),
            ..all.clone()
        };
        assert_eq!(list(tx, order), ["e2", "e0"]);
        let dead = Filter {
            status: Some(Status::Dead),
            ..all.clone()
        };
        assert_eq!(list(tx, dead), ["e1"]);
        let pending_m2 = Filter {
            status: Some(Status::Pending),
            merchant: Some("m2".into()),
            ..all
        };
        assert!(list(tx, pending_m2).is_empty());
        let stats = tx.run(|sql| stats(sql)).unwrap();
        assert_eq!(stats.pending, 3);
        assert_eq!(stats.oldest_pending_created_at, Some(97));
    });
}

#[test]
fn secrets_rotate_with_a_grace_period() {
    on_each_backend("secrets", |tx| {
        let first = "first-secret-0123456789";
        let second = "second-secret-0123456789";
        assert_eq!(
            tx.run(|sql| secrets::create(sql, "m1", first, 10)).unwrap(),
            1
        );
        assert_eq!(
            tx.run(|sql| secrets::create(sql, "m1", first, 11)).unwrap(),
            1
        );
        let exists = tx
            .run(|sql| secrets::create(sql, "m1", second, 12))
            .unwrap_err();
        assert!(
            exists.to_string().contains("merchant_secret_exists"),
            "{exists}"
        );
        assert!(tx
            .run(|sql| secrets::create(sql, "m1", "short", 12))
            .is_err());
        let missing = tx
            .run(|sql| secrets::rotate(sql, "m9", second, 12, 5))
            .unwrap_err();
        assert!(
            missing.to_string().contains("merchant_secret_missing"),
            "{missing}"
        );

        let active = |tx: &mut Tx, at: u64| {
            let secrets = tx.run(|sql| secrets::active(sql, "m1", at)).unwrap();
            secrets.into_iter().map(|s| s.secret).collect::<Vec<_>>()
        };
        assert_eq!(active(tx, 50), [first]);
        assert_eq!(
            tx.run(|sql| secrets::rotate(sql, "m1", second, 100, 1_000))
                .unwrap(),
            2
        );
        assert_eq!(
            tx.run(|sql| secrets::rotate(sql, "m1", second, 101, 1_000))
                .unwrap(),
            2
        );
        assert_eq!(active(tx, 100), [second, first]);
        assert_eq!(active(tx, 1_099), [second, first]);
        assert_eq!(active(tx, 1_100), [second]);
        // Without grace the previous one stops at once.
        let third = "third-secret-0123456789";
        assert_eq!(
            tx.run(|sql| secrets::rotate(sql, "m1", third, 2_000, 0))
                .unwrap(),
            3
        );
        assert_eq!(active(tx, 2_000), [third]);
        assert!(tx
            .run(|sql| secrets::active(sql, "m2", 0))
            .unwrap()
            .is_empty());
    });
}

#[test]
fn rotations_faster_than_the_grace_sign_with_at_most_three() {
    on_each_backend("secrets_max", |tx| {
        tx.run(|sql| secrets::create(sql, "m1", "secret-number-00000", 0))
            .unwrap();
        for i in 1..6u64 {
            let secret = format!("secret-number-{i:05}");
            tx.run(|sql| secrets::rotate(sql, "m1", &secret, i, 1_000))
                .unwrap();
        }
        let active = tx.run(|sql| secrets::active(sql, "m1", 10)).unwrap();
        let versions: Vec<u64> = active.iter().map(|s| s.version).collect();
        assert_eq!(versions, [6, 5, 4]);
    });
}
