//! Two shards (each a replicated `paycore serve` on a real 3-member etcd) behind `paycore
//! router`: requests reach their account's shard; a transfer between shards completes on both
//! or is compensated (closed account, wrong currency, unknown account), is idempotent, and
//! leaves transit accounts at zero and due accounts netting to zero; a transfer caught by a
//! dead target shard waits in transit, is listed by the source shard's day-end report (挂账)
//! and completes once the shard is back; and under kill -9 of either shard's leader and of
//! the router, every transfer ends completed on both shards or undone, none half, each
//! exactly once.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use paycore_replication::cluster::EtcdCluster;
use serde_json::{json, Value};

const KEY: &str = "pck_cross_shard_test_admin";
const SETTLE_MAX: Duration = Duration::from_secs(60);
/// Transfers the kill test posts (four clients).
const TOTAL: usize = 480;

fn shard_cli(etcd: &str, args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_paycore"))
        .arg("shard")
        .args(args)
        .args(["--etcd", etcd])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

fn node(dir: &Path, port: u16, etcd: &str, shard: &str) -> common::Process {
    let args = common::replicated_args(dir, port, etcd, shard);
    common::start_owned(&args, "paycore listening on ", KEY)
}

fn router(port: u16, etcd: &str, wait_ms: &str) -> common::Process {
    let listen = format!("127.0.0.1:{port}");
    let args = [
        "router",
        "--listen",
        &listen,
        "--etcd",
        etcd,
        "--api-key",
        KEY,
        "--transfer-wait-ms",
        wait_ms,
    ];
    common::start(&args, "paycore router listening on ", KEY)
}

/// Shards s1 (the default) and s2 (accounts `B…`), each with its own data directory.
struct Cluster {
    etcd: EtcdCluster,
    nodes: BTreeMap<&'static str, (common::Process, u16, tempfile::TempDir)>,
    router: common::Process,
    router_port: u16,
}

impl Cluster {
    fn start(wait_ms: &str) -> Option<Cluster> {
        let etcd = EtcdCluster::start(3)?;
        let url = etcd.url();
        shard_cli(&url, &["add", "s1"]);
        shard_cli(&url, &["add", "s2"]);
        shard_cli(&url, &["assign", "B", "s2"]);
        let mut nodes = BTreeMap::new();
        for shard in ["s1", "s2"] {
            let (dir, port) = (tempfile::tempdir().unwrap(), common::free_port());
            nodes.insert(shard, (node(dir.path(), port, &url, shard), port, dir));
        }
        let router_port = common::free_port();
        let router = router(router_port, &url, wait_ms);
        Some(Cluster {
            etcd,
            nodes,
            router,
            router_port,
        })
    }

    fn kill(&mut self, shard: &str) {
        let (process, _, _) = self.nodes.get_mut(shard).unwrap();
        process.child.kill().unwrap();
        process.child.wait().unwrap();
    }

    fn restart(&mut self, shard: &str) {
        let url = self.etcd.url();
        let (process, port, dir) = self.nodes.get_mut(shard).unwrap();
        *process = node(dir.path(), *port, &url, shard);
    }

    fn restart_router(&mut self, wait_ms: &str) {
        self.router.child.kill().unwrap();
        self.router.child.wait().unwrap();
        self.router = router(self.router_port, &self.etcd.url(), wait_ms);
    }

    fn url(&self) -> String {
        self.router.url.clone()
    }
}

struct Answer {
    status: u16,
    body: Value,
    shard: String,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

fn call(
    url: &str,
    method: &str,
    path: &str,
    shard: Option<&str>,
    body: Option<&Value>,
) -> Option<Answer> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut request = client
        .request(method.parse().unwrap(), format!("{url}{path}"))
        .bearer_auth(KEY);
    if let Some(shard) = shard {
        request = request.header("Paycore-Shard", shard);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().ok()?;
    let status = response.status().as_u16();
    let shard = response
        .headers()
        .get("paycore-shard")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Some(Answer {
        status,
        body: response.json().unwrap_or(Value::Null),
        shard,
    })
}

fn post(url: &str, path: &str, body: Value) -> Answer {
    call(url, "POST", path, None, Some(&body)).expect("the router answers")
}

fn get(url: &str, path: &str) -> Answer {
    call(url, "GET", path, None, None).expect("the router answers")
}

fn open(url: &str, no: &str, currency: &str) {
    let body = json!({"account_no": no, "type": "customer", "currency": currency});
    let opened = post(url, "/v1/accounts", body);
    assert_eq!(opened.status, 201, "{}", opened.body);
    let expected = if no.starts_with('B') { "s2" } else { "s1" };
    assert_eq!(opened.shard, expected, "{no} opened on its shard");
}

fn deposit(url: &str, no: &str, amount: u64) {
    let body =
        json!({"id": format!("dep-{no}"), "account": no, "amount": amount, "currency": "CNY"});
    let deposited = post(url, "/v1/deposits", body);
    assert_eq!(deposited.status, 201, "{}", deposited.body);
}

fn transfer(id: &str, debit: &str, credit: &str, amount: u64) -> Value {
    json!({"id": id, "debit_account": debit, "credit_account": credit, "amount": amount, "currency": "CNY"})
}

fn balance(url: &str, no: &str) -> i64 {
    let account = get(url, &format!("/v1/accounts/{no}"));
    assert_eq!(account.status, 200, "{no}: {}", account.body);
    account.body["balance"].as_i64().unwrap()
}

/// Each shard's balances sum to zero (its books balance on their own).
fn assert_books_balance(url: &str) {
    for shard in ["s1", "s2"] {
        let accounts = call(url, "GET", "/v1/accounts?limit=1000", Some(shard), None).unwrap();
        assert_eq!(accounts.status, 200, "{}", accounts.body);
        let sum: i64 = accounts.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["balance"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, 0, "shard {shard}'s books");
    }
}

/// Waits until nothing is in flight, then checks transit is zero and due pairs net to zero.
fn assert_transit_clean(url: &str) -> Value {
    let deadline = Instant::now() + SETTLE_MAX;
    loop {
        let report = call(url, "GET", "/v1/shards/transit", None, None);
        if let Some(report) = report.filter(|r| r.status == 200 && r.body["clean"] == true) {
            for pair in report.body["due_pairs"].as_array().unwrap() {
                assert_eq!(pair["net"], 0, "{pair}");
            }
            for account in report.body["transit"].as_array().unwrap() {
                assert_eq!(account["balance"], 0, "{account}");
            }
            return report.body;
        }
        assert!(Instant::now() < deadline, "transfers never settled");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn transfers_between_shards_complete_or_are_undone_and_transit_nets_to_zero() {
    let Some(cluster) = Cluster::start("10000") else {
        return;
    };
    let url = cluster.url();
    for (no, currency) in [
        ("A1", "CNY"),
        ("A2", "CNY"),
        ("B1", "CNY"),
        ("B2", "USD"),
        ("B3", "CNY"),
    ] {
        open(&url, no, currency);
    }
    deposit(&url, "A1", 1_000_000);
    assert_eq!(post(&url, "/v1/accounts/B3/close", json!({})).status, 200);

    let moved = post(&url, "/v1/transfers", transfer("x1", "A1", "B1", 100));
    assert_eq!(moved.status, 201, "{}", moved.body);
    assert_eq!(moved.body["status"], "posted");
    // Answered once credited; the transit account is settled right behind the answer.
    assert_eq!(moved.body["cross_shard"]["phase"], "credited");
    let steps: Vec<&str> = moved.body["cross_shard"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["debit", "credit"]);
    assert_eq!((balance(&url, "A1"), balance(&url, "B1")), (999_900, 100));

    // A retry answers the same and moves nothing; other content under the id is refused.
    let retried = post(&url, "/v1/transfers", transfer("x1", "A1", "B1", 100));
    assert_eq!(
        (retried.status, &retried.body["status"]),
        (201, &json!("posted"))
    );
    let conflict = post(&url, "/v1/transfers", transfer("x1", "A1", "B1", 101));
    assert_eq!(
        (conflict.status, conflict.code()),
        (409, "id_conflict"),
        "{}",
        conflict.body
    );
    assert_eq!((balance(&url, "A1"), balance(&url, "B1")), (999_900, 100));

    // The target refuses: the debit is reversed, with the target's own error.
    for (id, credit, status, code) in [
        ("x2", "B2", 422, "currency_mismatch"),
        ("x3", "B3", 422, "account_closed"),
        ("x4", "B9", 404, "account_not_found"),
    ] {
        let undone = post(&url, "/v1/transfers", transfer(id, "A1", credit, 50));
        assert_eq!(
            (undone.status, undone.code()),
            (status, code),
            "{}",
            undone.body
        );
        assert_eq!(undone.body["cross_shard"]["phase"], "compensated");
    }
    // The source refuses: nothing moves anywhere.
    let poor = post(
        &url,
        "/v1/transfers",
        transfer("x5", "A1", "B1", 10_000_000),
    );
    assert_eq!((poor.status, poor.code()), (422, "insufficient_funds"));
    assert_eq!(poor.body["cross_shard"]["phase"], "refused");
    assert_eq!((balance(&url, "A1"), balance(&url, "B1")), (999_900, 100));

    // Back the other way, and a transfer inside one shard goes straight to it.
    let back = post(&url, "/v1/transfers", transfer("x6", "B1", "A2", 40));
    assert_eq!(back.status, 201, "{}", back.body);
    let local = post(&url, "/v1/transfers", transfer("x7", "A1", "A2", 1));
    assert_eq!((local.status, local.shard.as_str()), (201, "s1"));
    assert!(local.body.get("cross_shard").is_none());

    // Lookups find transfers wherever they are; a cross-shard one shows its outcome.
    let found = get(&url, "/v1/transfers/x1");
    assert_eq!(
        (found.status, &found.body["status"]),
        (200, &json!("posted")),
        "{}",
        found.body
    );
    assert_eq!(found.body["credit_account"], "B1");
    assert_eq!(get(&url, "/v1/transfers/x3").body["status"], "compensated");
    assert_eq!(get(&url, "/v1/transfers/x7").shard, "s1");
    assert_eq!(get(&url, "/v1/transfers/nothing").status, 404);

    // What only the coordinator may do is refused at the router.
    let batch = json!({"transfers": [transfer("b1", "A1", "B1", 1)]});
    assert_eq!(
        post(&url, "/v1/transfers/batch", batch).code(),
        "cross_shard_batch"
    );
    let step_id = post(&url, "/v1/transfers", transfer("xs:d:x9", "A1", "A2", 1));
    assert_eq!((step_id.status, step_id.code()), (400, "invalid_field"));
    let transit = post(&url, "/v1/transfers", transfer("x8", "XT-s2-CNY", "A2", 1));
    assert_eq!((transit.status, transit.code()), (400, "invalid_field"));
    let freeze = post(&url, "/v1/accounts/XT-s2-CNY/freeze", json!({}));
    assert_eq!((freeze.status, freeze.code()), (400, "invalid_field"));

    let report = assert_transit_clean(&url);
    assert_eq!(
        report["due_pairs"][0]["shards"],
        json!(["s1", "s2"]),
        "{report}"
    );
    assert_eq!(report["due_pairs"][0]["balances"]["s1"], 60, "{report}");
    assert_books_balance(&url);
}

#[test]
fn a_transfer_caught_by_a_dead_target_waits_in_transit_is_listed_at_day_end_and_completes() {
    let Some(mut cluster) = Cluster::start("1500") else {
        return;
    };
    let url = cluster.url();
    open(&url, "A1", "CNY");
    open(&url, "B1", "CNY");
    deposit(&url, "A1", 1_000);
    cluster.kill("s2");

    let waiting = post(&url, "/v1/transfers", transfer("late-1", "A1", "B1", 300));
    assert_eq!(
        (waiting.status, &waiting.body["status"]),
        (202, &json!("in_flight")),
        "{}",
        waiting.body
    );
    assert_eq!(balance(&url, "A1"), 700, "debited into transit");
    let in_transit = call(&url, "GET", "/v1/accounts/XT-s2-CNY", Some("s1"), None).unwrap();
    assert_eq!(in_transit.body["balance"], 300);
    assert_eq!(
        get(&url, "/v1/transfers/late-1").body["status"],
        "in_flight"
    );

    // The source shard's day-end lists the transit account left with money (挂账).
    let closed = call(&url, "POST", "/v1/day-end", Some("s1"), Some(&json!({}))).unwrap();
    assert_eq!(closed.status, 200, "{}", closed.body);
    let deadline = Instant::now() + SETTLE_MAX;
    let suspense = loop {
        let report = call(&url, "GET", "/v1/reports/day-end", Some("s1"), None).unwrap();
        if report.status == 200 && report.body["closed"] == true {
            break report.body["suspense"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no day-end report: {}",
            report.body
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(suspense[0]["account_no"], "XT-s2-CNY", "{suspense}");
    assert_eq!(suspense[0]["balance"], 300);

    // Once the target is back, the router's recovery finishes the transfer by itself.
    cluster.restart("s2");
    assert_transit_clean(&url);
    assert_eq!((balance(&url, "A1"), balance(&url, "B1")), (700, 300));
    let retried = post(&url, "/v1/transfers", transfer("late-1", "A1", "B1", 300));
    assert_eq!(
        (retried.status, &retried.body["status"]),
        (201, &json!("posted"))
    );
    assert_books_balance(&url);
}

/// What one client thread saw: each transfer id with its final status.
type Outcomes = Arc<Mutex<Vec<(Value, u16)>>>;

/// Posts `count` transfers, each retried with its id until its answer is final.
fn client(url: String, thread: usize, count: usize, outcomes: Outcomes) {
    for n in 0..count {
        let (debit, credit) = match (thread % 2, n % 7) {
            (0, 6) => ("A1".to_owned(), "BX".to_owned()),
            (0, _) => (format!("A{}", thread + 1), format!("B{}", n % 3 + 1)),
            (_, _) => (format!("B{}", thread + 1), format!("A{}", n % 3 + 1)),
        };
        let body = transfer(
            &format!("k{thread}-{n}"),
            &debit,
            &credit,
            (n % 5 + 1) as u64,
        );
        let deadline = Instant::now() + SETTLE_MAX;
        loop {
            assert!(Instant::now() < deadline, "no final answer for {body}");
            match call(&url, "POST", "/v1/transfers", None, Some(&body)) {
                Some(answer) if answer.status == 201 || (400..500).contains(&answer.status) => {
                    outcomes.lock().unwrap().push((body.clone(), answer.status));
                    break;
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

#[test]
fn cross_shard_transfers_end_whole_or_undone_under_kill_9_of_either_leader_and_the_router() {
    let Some(mut cluster) = Cluster::start("3000") else {
        return;
    };
    let url = cluster.url();
    let accounts = ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "BX"];
    for no in accounts {
        open(&url, no, "CNY");
    }
    for no in &accounts[..8] {
        deposit(&url, no, 1_000_000);
    }
    assert_eq!(post(&url, "/v1/accounts/BX/close", json!({})).status, 200);
    let before: BTreeMap<&str, i64> = accounts.iter().map(|no| (*no, balance(&url, no))).collect();

    let outcomes: Outcomes = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|thread| {
            let (url, outcomes) = (url.clone(), outcomes.clone());
            std::thread::spawn(move || client(url, thread, TOTAL / 4, outcomes))
        })
        .collect();
    // Each kill comes once so many transfers were answered, so every one hits a stream.
    let answered = || outcomes.lock().unwrap().len();
    let wait_for = |n: usize| {
        let deadline = Instant::now() + SETTLE_MAX;
        while answered() < n {
            assert!(Instant::now() < deadline, "stuck at {} answers", answered());
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for(60);
    cluster.kill("s1");
    cluster.restart("s1");
    wait_for(180);
    cluster.kill("s2");
    cluster.restart("s2");
    wait_for(300);
    cluster.restart_router("3000");
    assert!(answered() < TOTAL, "the router died under load too");
    for client in clients {
        client.join().unwrap();
    }

    assert_transit_clean(&url);
    let outcomes = outcomes.lock().unwrap();
    assert_eq!(outcomes.len(), TOTAL, "every transfer got a final answer");
    let mut expected = before.clone();
    for (body, status) in outcomes.iter() {
        let (debit, credit) = (
            body["debit_account"].as_str().unwrap(),
            body["credit_account"].as_str().unwrap(),
        );
        let amount = body["amount"].as_i64().unwrap();
        if credit == "BX" {
            assert_eq!(*status, 422, "to a closed account: {body}");
        } else {
            assert_eq!(*status, 201, "{body}");
            *expected.get_mut(debit).unwrap() -= amount;
            *expected.get_mut(credit).unwrap() += amount;
        }
    }
    let after: BTreeMap<&str, i64> = accounts.iter().map(|no| (*no, balance(&url, no))).collect();
    assert_eq!(
        after, expected,
        "every accepted transfer moved once, every refused one not at all"
    );
    assert_books_balance(&url);
}
