//! A standby engine on a real 3-member etcd: it follows the shard's log and leads once the
//! leader is gone; a node whose local log holds batches the shard never committed — beyond the
//! head, or different at the same number — refuses to follow instead of forking the ledger.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use paycore_engine::{Engine, EngineConfig, EngineError, ReplicatorHandle};
use paycore_ledger::*;
use paycore_replication::cluster::EtcdCluster;
use paycore_replication::{spawn_standby, EtcdReplicator, StandbyOptions};

use common::{open, transfer};

/// A deposit of `amount` from the settlement account S to the customer C.
fn deposit(h: &IdHasher, id: &str, amount: u64) -> Command {
    transfer(h, id, "S", "C", amount)
}

fn config(dir: &std::path::Path) -> EngineConfig {
    let mut config = EngineConfig::new(dir);
    config.snapshot_on_shutdown = false;
    config
}

/// The accounts, then one batch per deposit `prefix-0…`.
fn write(engine: &Engine, prefix: &str, deposits: usize) {
    let h = engine.hasher();
    let opened = engine
        .submit_blocking(vec![
            open(&h, "S", AccountType::Settlement),
            open(&h, "C", AccountType::Customer),
        ])
        .unwrap();
    assert!(opened.iter().all(|o| o.result.is_ok()));
    for i in 0..deposits {
        let outcome = engine
            .submit_blocking(vec![deposit(&h, &format!("{prefix}-{i}"), 1 + i as u64)])
            .unwrap();
        assert!(outcome[0].result.is_ok());
    }
}

/// A data directory written on its own (no etcd): `deposits` batches after the accounts.
fn unreplicated(prefix: &str, deposits: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(config(dir.path())).unwrap();
    write(&engine, prefix, deposits);
    engine.shutdown();
    dir
}

fn standby(dir: &std::path::Path) -> Arc<Engine> {
    let mut config = config(dir);
    config.standby = true;
    Arc::new(Engine::open(config).unwrap())
}

fn options(cluster: &EtcdCluster, address: &str) -> StandbyOptions {
    StandbyOptions {
        endpoints: cluster.endpoints(),
        shard: "s1".into(),
        address: address.into(),
        ttl_s: 2,
        retry_for: Duration::from_secs(2),
        poll: Duration::from_millis(20),
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_standby_follows_and_leads_and_a_forked_log_refuses_to_follow() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    // The leader: the accounts and three deposits, every batch in etcd (head 4).
    let leader_dir = tempfile::tempdir().unwrap();
    let replicator = EtcdReplicator::start(
        &cluster.endpoints(),
        "s1",
        "node-a",
        2,
        Duration::from_secs(2),
    )
    .unwrap();
    let mut leader_config = config(leader_dir.path());
    leader_config.replicator = Some(ReplicatorHandle::new(replicator));
    let leader = Engine::open(leader_config).unwrap();
    write(&leader, "shard", 3);
    assert_eq!(leader.metrics().durable_sequence, 4);

    // Same length, other content: its batch 4 is not the shard's.
    let forked = unreplicated("elsewhere", 3);
    // Longer than the shard: batches 5 and 6 were never committed.
    let ahead = unreplicated("shard", 5);
    for (name, dir) in [("forked", &forked), ("ahead", &ahead)] {
        let engine = standby(dir.path());
        let before = engine.metrics().durable_sequence;
        let thread = spawn_standby(engine.clone(), options(&cluster, name));
        wait_until("the standby refuses and stops", || thread.is_finished());
        assert_eq!(
            engine.metrics().durable_sequence,
            before,
            "{name}: took nothing"
        );
        assert!(engine.is_standby(), "{name}: never leads");
        engine.shutdown();
    }

    // An empty standby takes the shard's log and has the leader's state.
    let follower_dir = tempfile::tempdir().unwrap();
    let follower = standby(follower_dir.path());
    let thread = spawn_standby(follower.clone(), options(&cluster, "node-b"));
    wait_until("the standby catches up", || {
        follower.metrics().applied_sequence == 4
    });
    let balance = |e: &Engine| {
        e.read(|l| {
            let c = l.resolve(&AccountNo::new("C").unwrap()).unwrap();
            l.account(c).unwrap().balance
        })
    };
    assert_eq!(balance(&follower), balance(&leader));
    let h = follower.hasher();
    let refused = follower.submit_blocking(vec![deposit(&h, "on-standby", 1)]);
    assert!(
        matches!(&refused, Err(EngineError::NotLeader { leader: Some(l) }) if l == "node-a"),
        "{refused:?}"
    );

    // The leader goes away (its lease expires); the standby leads and writes to etcd.
    leader.shutdown();
    drop(leader);
    wait_until("the standby takes over", || thread.is_finished());
    assert!(!follower.is_standby());
    let outcome = follower
        .submit_blocking(vec![deposit(&h, "on-new-leader", 100)])
        .unwrap();
    assert!(outcome[0].result.is_ok());
    assert_eq!(follower.metrics().durable_sequence, 5);
    assert_eq!(balance(&follower), 1 + 2 + 3 + 100);
    follower.shutdown();
}
