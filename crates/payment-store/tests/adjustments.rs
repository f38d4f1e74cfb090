//! Adjustments in the store: stored whole and read back equal, listed in creation order with
//! filters, found when due or unfinished, and their history only ever appended to. Runs on
//! SQLite, and on PostgreSQL too when PAYCORE_TEST_POSTGRES is set.

use paycore_adjustments::{Adjustment, NewAdjustment, Policy, Status};
use paycore_money::Currency;
use paycore_payment_store::repo::adjustments::{self, Filter};
use paycore_payment_store::{Connection, Location};

fn locations(dir: &std::path::Path) -> Vec<Location> {
    let mut all = vec![Location::Sqlite(dir.join("payments.sqlite"))];
    if let Ok(admin) = std::env::var("PAYCORE_TEST_POSTGRES") {
        let name = format!("paycore_adjust_{}", std::process::id());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        // Two statements: PostgreSQL runs a multi-statement string as one transaction.
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        all.push(Location::Postgres(format!("{base}/{name}")));
    }
    all
}

fn made(id: &str, maker: &str, amount: u64, exception: Option<&str>) -> Adjustment {
    NewAdjustment {
        id: id.to_owned(),
        debit_account: "SUSPENSE".to_owned(),
        credit_account: "alice".to_owned(),
        amount,
        currency: Currency::CNY,
        reason: "misposted payment".to_owned(),
        evidence: None,
        exception_id: exception.map(str::to_owned),
    }
    .into_adjustment(maker, 1_000, &Policy::default())
    .unwrap()
}

fn write<T>(
    conn: &mut Box<dyn Connection>,
    job: impl FnOnce(&mut dyn paycore_payment_store::Sql) -> T,
) -> T {
    conn.begin(false).unwrap();
    let out = job(conn.sql());
    conn.commit().unwrap();
    out
}

#[test]
fn adjustments_round_trip_list_and_keep_their_history() {
    let dir = tempfile::tempdir().unwrap();
    for location in locations(dir.path()) {
        let mut conn = location.connect(true).unwrap();
        let mut first = made("a1", "maker", 100, None);
        let second = made("a2", "other", 200_000_000, Some("exc-9"));
        write(&mut conn, |sql| {
            adjustments::insert(sql, &first).unwrap();
            adjustments::insert(sql, &second).unwrap();
        });
        first.approve("checker", Some("ok".into()), 2_000).unwrap();
        assert!(first.posting_refused(&first.ledger_id(), "insufficient_funds", "checker", 2_100));
        first.approve("checker", None, 2_200).unwrap();
        write(&mut conn, |sql| adjustments::save(sql, &first).unwrap());
        assert_eq!(first.status, Status::Approved);

        conn.begin(true).unwrap();
        let sql = conn.sql();
        assert_eq!(adjustments::get(sql, "a1").unwrap().as_ref(), Some(&first));
        assert_eq!(adjustments::get(sql, "nope").unwrap(), None);
        let all = adjustments::list(
            sql,
            &Filter {
                limit: 10,
                ..Filter::default()
            },
        )
        .unwrap();
        let order: Vec<_> = all.iter().map(|(seq, a)| (*seq, a.id.as_str())).collect();
        assert_eq!(order, [(1, "a1"), (2, "a2")]);
        let page = Filter {
            after_seq: 1,
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(adjustments::list(sql, &page).unwrap()[0].1, second);
        let by_maker = Filter {
            maker: Some("other".into()),
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(adjustments::list(sql, &by_maker).unwrap().len(), 1);
        let approved = Filter {
            status: Some(Status::Approved),
            limit: 10,
            ..Filter::default()
        };
        assert_eq!(adjustments::list(sql, &approved).unwrap()[0].1.id, "a1");
        assert_eq!(
            adjustments::ids_with_status(sql, Status::Approved, 10).unwrap(),
            ["a1"]
        );
        assert!(adjustments::due(sql, second.expires_at - 1, 10)
            .unwrap()
            .is_empty());
        assert_eq!(
            adjustments::due(sql, second.expires_at, 10).unwrap(),
            ["a2"]
        );
        assert_eq!(
            adjustments::of_exception(sql, "exc-9").unwrap(),
            std::slice::from_ref(&second)
        );
        conn.commit().unwrap();

        // The history is never edited: a shorter one, or an entry written again, is refused.
        let mut shortened = first.clone();
        shortened.history.pop();
        conn.begin(false).unwrap();
        assert!(adjustments::save(conn.sql(), &shortened).is_err());
        conn.rollback().unwrap();
        conn.begin(false).unwrap();
        assert!(adjustments::insert(conn.sql(), &made("a3", "m", 1, None)).is_ok());
        assert!(adjustments::insert(conn.sql(), &made("a3", "m", 1, None)).is_err());
        conn.rollback().unwrap();
    }
}
