//! A shard's leader and its standby (`paycore serve --replicate … --standby`) on a real
//! 3-member etcd: the standby follows the log and serves reads while writes to it are
//! `503 not_leader` naming the leader; kill -9 of the leader under load → the standby takes
//! over with every acknowledged transfer, once, and balanced books; a leader frozen with
//! SIGSTOP until the standby took over is refused when it wakes and steps down; with one etcd
//! member killed writes go on, with two they fail with a clear reason and resume once the
//! quorum is back and the node restarted.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use paycore_replication::cluster::EtcdCluster;
use serde_json::{json, Value};

const KEY: &str = "pck_failover_test_admin";
const TAKEOVER_MAX: Duration = Duration::from_secs(30);

fn node(dir: &Path, port: u16, etcd: &str, standby: bool) -> common::Process {
    let mut args = common::replicated_args(dir, port, etcd, "s1");
    if standby {
        args.push("--standby".into());
    }
    common::start_owned(&args, "paycore listening on ", KEY)
}

struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

fn client() -> reqwest::blocking::Client {
    // Long enough for a write that waits out etcd without a quorum before it is refused.
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn call(url: &str, method: &str, path: &str, body: Option<Value>) -> Option<Answer> {
    let mut request = client()
        .request(method.parse().unwrap(), format!("{url}{path}"))
        .bearer_auth(KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().ok()?;
    let status = response.status().as_u16();
    Some(Answer {
        status,
        body: response.json().unwrap_or(Value::Null),
    })
}

fn post(url: &str, path: &str, body: Value) -> Option<Answer> {
    call(url, "POST", path, Some(body))
}

fn get(url: &str, path: &str) -> Answer {
    call(url, "GET", path, None).expect("the node answers")
}

fn transfer(url: &str, id: &str) -> Option<Answer> {
    post(
        url,
        "/v1/transfers",
        json!({"id": id, "debit_account": "F1", "credit_account": "F2", "amount": 1, "currency": "CNY"}),
    )
}

/// The leader's accounts: two customers, F1 funded.
fn set_up(leader: &str) {
    for no in ["F1", "F2"] {
        let opened = post(
            leader,
            "/v1/accounts",
            json!({"account_no": no, "type": "customer", "currency": "CNY"}),
        )
        .unwrap();
        assert_eq!(opened.status, 201, "{:?}", opened.body);
    }
    let deposit = json!({"id": "dep", "account": "F1", "amount": 1_000_000, "currency": "CNY"});
    assert_eq!(post(leader, "/v1/deposits", deposit).unwrap().status, 201);
}

/// Waits until `standby` has taken every batch `leader` made durable.
fn caught_up(standby: &str, leader: &str) {
    let target = get(leader, "/healthz").body["durable_sequence"]
        .as_u64()
        .unwrap();
    let deadline = Instant::now() + TAKEOVER_MAX;
    loop {
        let health = get(standby, "/healthz").body;
        if health["durable_sequence"].as_u64() >= Some(target) && health["store_lag_batches"] == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the standby never caught up: {health}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Posts probe transfers to `node` until one is accepted; how long that took.
fn first_accepted_write(node: &str, since: Instant) -> Duration {
    for i in 0.. {
        if let Some(answer) = transfer(node, &format!("probe-{i}")) {
            if answer.status == 201 {
                return since.elapsed();
            }
            assert_eq!(
                (answer.status, answer.code()),
                (503, "not_leader"),
                "{:?}",
                answer.body
            );
        }
        assert!(
            since.elapsed() < TAKEOVER_MAX,
            "the standby never took over"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    unreachable!()
}

/// Every account's balance summed per currency (zero when the books balance), and F2's.
fn books(url: &str) -> (i64, i64) {
    let accounts = get(url, "/v1/accounts?limit=1000").body;
    let sum = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["balance"].as_i64().unwrap())
        .sum();
    (
        sum,
        get(url, "/v1/accounts/F2").body["balance"]
            .as_i64()
            .unwrap(),
    )
}

/// A leader (set up) and its standby on shard s1, each on a data directory of its own.
struct Shard {
    a: common::Process,
    b: common::Process,
    _dirs: [tempfile::TempDir; 2],
}

impl Shard {
    fn start(cluster: &EtcdCluster) -> Shard {
        let etcd = cluster.url();
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let a = node(dirs[0].path(), common::free_port(), &etcd, false);
        set_up(&a.url);
        let b = node(dirs[1].path(), common::free_port(), &etcd, true);
        Shard { a, b, _dirs: dirs }
    }
}

#[test]
fn a_standby_follows_serves_reads_and_takes_over_when_the_leader_is_killed_under_load() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let Shard { a, b, _dirs } = Shard::start(&cluster);
    caught_up(&b.url, &a.url);

    // The standby reads what the leader wrote, and sends writers to the leader.
    assert_eq!(get(&b.url, "/v1/accounts/F1").body["balance"], 1_000_000);
    assert_eq!(get(&b.url, "/healthz").body["role"], "standby");
    let refused = transfer(&b.url, "to-standby").unwrap();
    assert_eq!((refused.status, refused.code()), (503, "not_leader"));
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&a.url), "names the leader: {message}");

    // A stream of transfers to the leader, killed (SIGKILL) in the middle of it.
    let mut acknowledged = BTreeSet::new();
    let mut sent = 0;
    while acknowledged.len() < 300 {
        let id = format!("load-{sent}");
        sent += 1;
        if transfer(&a.url, &id).is_some_and(|r| r.status == 201) {
            acknowledged.insert(id);
        }
    }
    let killed = Instant::now();
    drop(a);
    let took = first_accepted_write(&b.url, killed);
    println!("failover: first write accepted {took:?} after the kill");
    assert_eq!(get(&b.url, "/healthz").body["role"], "leader");

    for id in &acknowledged {
        let found = get(&b.url, &format!("/v1/transfers/{id}"));
        assert_eq!(found.status, 200, "acknowledged {id} is on the new leader");
    }
    caught_up(&b.url, &b.url);
    let (sum, f2) = books(&b.url);
    assert_eq!(sum, 0, "the books balance");
    // Each acknowledged transfer once, plus the one probe that was accepted (the load was
    // sequential, so no transfer was in flight at the kill).
    assert_eq!(
        f2,
        acknowledged.len() as i64 + 1,
        "every transfer exactly once"
    );
}

#[test]
fn a_frozen_leader_that_wakes_after_the_takeover_is_refused_and_steps_down() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let Shard { a, b, _dirs } = Shard::start(&cluster);
    for i in 0..20 {
        assert_eq!(
            transfer(&a.url, &format!("before-{i}")).unwrap().status,
            201
        );
    }
    caught_up(&b.url, &a.url);

    let pid = a.child.id() as i32;
    // SAFETY: signalling a child process this test started and still owns.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let frozen = Instant::now();
    let took = first_accepted_write(&b.url, frozen);
    println!("takeover from a frozen leader: {took:?}");
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);

    // Its next write cannot be appended after the new leader's: refused, pointing at it.
    let refused = transfer(&a.url, "after-wake").unwrap();
    assert_eq!(
        (refused.status, refused.code()),
        (503, "not_leader"),
        "{:?}",
        refused.body
    );
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&b.url), "names the new leader: {message}");
    let again = transfer(&a.url, "after-wake-2").unwrap();
    assert_eq!(again.code(), "not_leader", "it stepped down for good");
    assert_eq!(get(&a.url, "/healthz").status, 503);

    // No fork: the new leader has every transfer the old one acknowledged, not the refused.
    for i in 0..20 {
        assert_eq!(
            get(&b.url, &format!("/v1/transfers/before-{i}")).status,
            200
        );
    }
    assert_eq!(get(&b.url, "/v1/transfers/after-wake").status, 404);
    assert_eq!(transfer(&b.url, "on-new-leader").unwrap().status, 201);
    caught_up(&b.url, &b.url);
    let (sum, f2) = books(&b.url);
    assert_eq!(sum, 0, "the books balance");
    assert_eq!(f2, 20 + 1 + 1, "before, the takeover's probe, and one more");
}

#[test]
fn a_leader_writes_with_one_etcd_member_down_and_stops_clearly_without_a_quorum() {
    let Some(mut cluster) = EtcdCluster::start(3) else {
        return;
    };
    let etcd = cluster.url();
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let a = node(dir.path(), port, &etcd, false);
    set_up(&a.url);

    cluster.kill(2);
    for i in 0..20 {
        let answer = transfer(&a.url, &format!("one-down-{i}")).unwrap();
        assert_eq!(answer.status, 201, "a quorum is left: {:?}", answer.body);
    }

    // Without a quorum nothing is acknowledged: after retrying for the lease's length the
    // write fails, and the node says why.
    cluster.kill(1);
    let refused = transfer(&a.url, "no-quorum").unwrap();
    assert_eq!(refused.status, 503, "{:?}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("replication") || refused.code() == "not_leader",
        "a clear reason: {:?}",
        refused.body
    );
    assert_eq!(get(&a.url, "/healthz").status, 503);

    // With the quorum back, the node restarted on its data directory leads again and writes.
    cluster.restart(1);
    cluster.restart(2);
    cluster.wait_healthy(1);
    drop(a);
    let a = node(dir.path(), port, &etcd, false);
    assert_eq!(transfer(&a.url, "quorum-back").unwrap().status, 201);
    for i in 0..20 {
        let found = get(&a.url, &format!("/v1/transfers/one-down-{i}"));
        assert_eq!(found.status, 200, "acknowledged one-down-{i} survived");
    }
    caught_up(&a.url, &a.url);
    let (sum, f2) = books(&a.url);
    assert_eq!(sum, 0, "the books balance");
    // The refused transfer was never acknowledged: it may or may not have been committed.
    assert!((21..=22).contains(&f2), "{f2}");
}
