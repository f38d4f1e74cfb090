//! `paycore serve --replicate etcd://… --shard s1` against a real 3-member etcd: what a node
//! acknowledges is in etcd; a second node cannot lead the same shard; the leader killed with
//! SIGKILL comes back on its data directory (waiting out its own lease) with everything.

mod common;

use std::process::Command;
use std::time::Duration;

use paycore_replication::cluster::EtcdCluster;
use paycore_replication::ShardLog;
use serde_json::{json, Value};

const KEY: &str = "pck_replicated_serve_test_admin";

fn post(url: &str, path: &str, body: Value) -> Value {
    let response = reqwest::blocking::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().unwrap()
}

fn durable(url: &str) -> u64 {
    let health: Value = reqwest::blocking::get(format!("{url}/healthz"))
        .unwrap()
        .json()
        .unwrap();
    health["durable_sequence"].as_u64().unwrap()
}

fn etcd_head(cluster: &EtcdCluster) -> u64 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut log = ShardLog::connect(&cluster.endpoints(), "s1", Duration::from_secs(5))
            .await
            .unwrap();
        log.head().await.unwrap()
    })
}

/// etcd's head and the node's durable batch agree once the node is quiet (a background write
/// is in etcd a moment before the node counts it durable, never the other way round).
fn assert_level(url: &str, cluster: &EtcdCluster) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (durable, head) = (durable(url), etcd_head(cluster));
        assert!(
            head >= durable,
            "batch {durable} acknowledged but etcd's head is {head}"
        );
        if head == durable {
            return head;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "etcd {head}, node {durable}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_replicated_node_acknowledges_only_what_etcd_holds_and_comes_back_after_a_kill() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let etcd = cluster.url();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let port = common::free_port();
    let a_args = common::replicated_args(a_dir.path(), port, &etcd, "s1");
    let a = common::start_owned(&a_args, "paycore listening on ", KEY);
    for no in ["R1", "R2"] {
        post(
            &a.url,
            "/v1/accounts",
            json!({"account_no": no, "type": "customer", "currency": "CNY"}),
        );
    }
    post(
        &a.url,
        "/v1/deposits",
        json!({"id": "dep-1", "account": "R1", "amount": 10_000, "currency": "CNY"}),
    );
    for i in 0..20 {
        post(
            &a.url,
            "/v1/transfers",
            json!({"id": format!("rt-{i}"), "debit_account": "R1", "credit_account": "R2", "amount": 100, "currency": "CNY"}),
        );
    }
    let acknowledged = durable(&a.url);
    assert_eq!(
        etcd_head(&cluster),
        acknowledged,
        "etcd holds every acknowledged batch"
    );
    // Another node cannot lead the shard while this one does.
    let b = Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(common::replicated_args(
            b_dir.path(),
            common::free_port(),
            &etcd,
            "s1",
        ))
        .env("PAYCORE_BOOTSTRAP_KEY", KEY)
        .output()
        .unwrap();
    assert!(!b.status.success(), "two leaders of shard s1");
    let said = String::from_utf8_lossy(&b.stderr);
    assert!(
        said.contains("not the leader of shard s1") && said.contains(&a.url),
        "{said}"
    );
    // kill -9, then the same node again: it waits out its own lease and has everything.
    drop(a);
    let a = common::start_owned(&a_args, "paycore listening on ", KEY);
    assert!(assert_level(&a.url, &cluster) >= acknowledged);
    let r2: Value = reqwest::blocking::Client::new()
        .get(format!("{}/v1/accounts/R2", a.url))
        .bearer_auth(KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r2["balance"], 2_000, "{r2}");
    post(
        &a.url,
        "/v1/transfers",
        json!({"id": "after-restart", "debit_account": "R1", "credit_account": "R2", "amount": 1, "currency": "CNY"}),
    );
    assert!(assert_level(&a.url, &cluster) > acknowledged);
}
