//! The adjustment service on a real engine and store: what the reconciliation side will use
//! (an adjustment for an exception, told when it is posted), and the approve → post step
//! stopped at each crash point, then restarted on the same data — posted exactly once, or
//! waiting again with the ledger's refusal; never half.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use paycore_adjustments::{NewAdjustment, Status};
use paycore_engine::{Engine, EngineConfig};
use paycore_ledger::{
    AccountKey, AccountNo, AccountType, Command, Op, OpenAccount, Operator, Reference, Transfer,
    TransferKind,
};
use paycore_money::Currency;
use paycore_payment_service::{PaymentConfig, PaymentService, ServiceError};
use paycore_payment_store::Location;

struct Running {
    engine: Arc<Engine>,
    service: PaymentService,
}

async fn start(dir: &Path, arm: impl FnOnce(&PaymentConfig)) -> Running {
    let engine = Arc::new(Engine::open(EngineConfig::new(dir.join("engine"))).unwrap());
    let location = Location::Sqlite(dir.join("payments.sqlite"));
    let config = PaymentConfig::new(location, "http://127.0.0.1:9".into());
    arm(&config);
    let service = PaymentService::start(config, engine.clone()).await.unwrap();
    Running { engine, service }
}

impl Running {
    async fn stop(self) {
        self.service.shutdown().await;
        drop(self.service);
        self.engine.shutdown();
    }

    async fn submit(&self, id: &str, op: Op) {
        let hasher = self.engine.hasher();
        let command = Command::new(hasher.client_id(id).unwrap(), op, &hasher);
        let outcome = self.engine.submit(vec![command]).await.unwrap();
        assert_eq!(outcome[0].result, Ok(()), "{id}");
    }

    async fn open(&self, number: &str, kind: AccountType) {
        let op = Op::OpenAccount(OpenAccount {
            number: AccountNo::new(number).unwrap(),
            kind,
            currency: Currency::CNY,
            allow_negative: None,
            reference: Reference::NONE,
            opened_by: Operator::new("test").unwrap(),
        });
        self.submit(&format!("open:{number}"), op).await;
    }

    async fn fund(&self, number: &str, amount: u64) {
        let op = Op::Transfer(Transfer {
            debit: key("SETTLE"),
            credit: key(number),
            amount,
            currency: Currency::CNY,
            kind: TransferKind::Deposit,
            reference: Reference::NONE,
        });
        self.submit(&format!("fund:{number}:{amount}"), op).await;
    }

    fn balance(&self, number: &str) -> i64 {
        let no = AccountNo::new(number).unwrap();
        self.engine
            .read(|l| l.account(l.resolve(&no).unwrap()).unwrap().balance)
    }

    /// Per currency the balances sum to zero.
    fn books_balance(&self) {
        let total: i64 = ["SETTLE", "SUSPENSE", "alice"]
            .iter()
            .map(|n| self.balance(n))
            .sum();
        assert_eq!(total, 0);
    }
}

fn key(number: &str) -> AccountKey {
    AccountNo::new(number).unwrap().into()
}

fn request(id: &str, amount: u64, exception: Option<&str>) -> NewAdjustment {
    NewAdjustment {
        id: id.to_owned(),
        debit_account: "SUSPENSE".to_owned(),
        credit_account: "alice".to_owned(),
        amount,
        currency: Currency::CNY,
        reason: "short credit found by reconciliation".to_owned(),
        evidence: None,
        exception_id: exception.map(str::to_owned),
    }
}

async fn world(dir: &Path) -> Running {
    let r = start(dir, |_| {}).await;
    r.open("SETTLE", AccountType::Settlement).await;
    r.open("SUSPENSE", AccountType::Internal).await;
    r.open("alice", AccountType::Customer).await;
    r.fund("SUSPENSE", 1_000_000).await;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_gets_its_adjustment_and_hears_when_it_is_posted() {
    let dir = tempfile::tempdir().unwrap();
    let r = world(dir.path()).await;
    let mut posted = r.service.subscribe_posted();
    let (made, created) = r
        .service
        .create_adjustment(request("exc-1-supplement", 500, Some("exc-1")), "recon-bot")
        .await
        .unwrap();
    assert!(created && made.status == Status::PendingApproval);
    let waiting = r.service.adjustments_of_exception("exc-1").await.unwrap();
    assert_eq!(waiting, std::slice::from_ref(&made));
    r.service
        .approve_adjustment("exc-1-supplement", "finance-lead", None)
        .await
        .unwrap();
    let heard = posted.recv().await.unwrap();
    assert_eq!(heard.exception_id.as_deref(), Some("exc-1"));
    assert_eq!(heard.ledger_id, "adjustment:exc-1-supplement");
    let settled = r.service.adjustments_of_exception("exc-1").await.unwrap();
    assert_eq!(settled[0].status, Status::Posted);
    assert_eq!(r.balance("alice"), 500);
    r.books_balance();
    r.stop().await;
}

/// Approves `id` with `point` armed: the call stops there like a killed process, and the
/// service does nothing more about adjustments.
async fn approve_and_crash(r: &Running, id: &str) {
    let stopped = r.service.approve_adjustment(id, "checker", None).await;
    assert!(
        matches!(stopped, Err(ServiceError::Internal(_))),
        "{stopped:?}"
    );
    let after = r
        .service
        .create_adjustment(request("later", 1, None), "maker")
        .await;
    assert!(
        matches!(after, Err(ServiceError::Internal(_))),
        "a crashed service does nothing"
    );
}

fn intent(c: &PaymentConfig) -> &AtomicU32 {
    &c.adjustments.faults.crash_after_intent
}

fn answer(c: &PaymentConfig) -> &AtomicU32 {
    &c.adjustments.faults.crash_after_post
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_either_point_posts_exactly_once_after_the_restart() {
    let points: [fn(&PaymentConfig) -> &AtomicU32; 2] = [intent, answer];
    for (round, point) in points.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let r = world(dir.path()).await;
        r.stop().await;
        let r = start(dir.path(), |c| point(c).store(1, Ordering::SeqCst)).await;
        r.service
            .create_adjustment(request("a1", 700, None), "maker")
            .await
            .unwrap();
        approve_and_crash(&r, "a1").await;
        let stored = r.service.adjustment("a1").await.unwrap();
        assert_eq!(
            stored.status,
            Status::Approved,
            "round {round}: the intent is recorded"
        );
        let before = r.balance("alice");
        assert_eq!(before, if round == 0 { 0 } else { 700 }, "round {round}");
        r.stop().await;

        let r = start(dir.path(), |_| {}).await;
        let a = r.service.adjustment("a1").await.unwrap();
        assert_eq!(a.status, Status::Posted, "round {round}: finished at start");
        assert_eq!(
            r.balance("alice"),
            700,
            "round {round}: posted exactly once"
        );
        let last = a.history.last().unwrap();
        assert_eq!(
            (last.action.name(), last.operator.as_str()),
            ("posted", "system")
        );
        r.books_balance();
        r.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posting_the_ledger_refuses_after_the_crash_waits_again_with_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let r = world(dir.path()).await;
    r.stop().await;
    let r = start(dir.path(), |c| intent(c).store(1, Ordering::SeqCst)).await;
    r.service
        .create_adjustment(request("a2", 700, None), "maker")
        .await
        .unwrap();
    approve_and_crash(&r, "a2").await;
    // Meanwhile the debit account is frozen: the posting at restart is refused.
    let freeze = Op::SetAccountFrozen {
        account: key("SUSPENSE"),
        frozen: true,
    };
    r.submit("freeze:SUSPENSE", freeze).await;
    r.stop().await;

    let r = start(dir.path(), |_| {}).await;
    let a = r.service.adjustment("a2").await.unwrap();
    assert_eq!(a.status, Status::PendingApproval);
    let refusal = a.last_refusal().unwrap();
    assert_eq!(refusal.code.as_deref(), Some("account_frozen"));
    assert_eq!(refusal.operator, "system");
    assert_eq!(r.balance("alice"), 0);
    // Fixed, approved again: posted under the next attempt's id.
    let unfreeze = Op::SetAccountFrozen {
        account: key("SUSPENSE"),
        frozen: false,
    };
    r.submit("unfreeze:SUSPENSE", unfreeze).await;
    let (posted, _) = r
        .service
        .approve_adjustment("a2", "checker", None)
        .await
        .unwrap();
    assert_eq!(
        posted.posted_ledger_id().as_deref(),
        Some("adjustment:a2:2")
    );
    assert_eq!(r.balance("alice"), 700);
    r.books_balance();
    r.stop().await;
}
