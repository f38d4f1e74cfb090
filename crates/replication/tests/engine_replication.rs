//! The engine replicating through etcd (3 real members): every acknowledged batch is in
//! etcd exactly as in the local log; a deposed leader's engine stops instead of writing; no
//! batch is acknowledged while etcd has no quorum.

mod common;

use std::time::Duration;

use paycore_engine::{codec, Engine, EngineConfig, Follower, ReplicatedBatch, ReplicatorHandle};
use paycore_ledger::*;
use paycore_replication::cluster::EtcdCluster;
use paycore_replication::{EtcdReplicator, ShardLog};

use common::{campaign_until_won, open, transfer};

fn engine(dir: &std::path::Path, replicator: EtcdReplicator) -> Engine {
    let mut config = EngineConfig::new(dir);
    config.snapshot_on_shutdown = false;
    config.replicator = Some(ReplicatorHandle::new(replicator));
    Engine::open(config).unwrap()
}

fn post(engine: &Engine, i: usize) -> Result<(), paycore_engine::EngineError> {
    let h = engine.hasher();
    let outcomes = engine.submit_blocking(vec![transfer(&h, &format!("t{i}"), "S", "C", 1)])?;
    assert!(outcomes[0].result.is_ok());
    Ok(())
}

fn setup(engine: &Engine) {
    let h = engine.hasher();
    let opened = engine
        .submit_blocking(vec![
            open(&h, "S", AccountType::Settlement),
            open(&h, "C", AccountType::Customer),
        ])
        .unwrap();
    assert!(opened.iter().all(|o| o.result.is_ok()));
}

async fn log(cluster: &EtcdCluster) -> ShardLog {
    ShardLog::connect(&cluster.endpoints(), "s1", Duration::from_secs(5))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_batch_is_in_etcd_as_in_the_local_log() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let endpoints = cluster.endpoints();
    let path = dir.path().to_owned();
    let (durable, hasher) = tokio::task::spawn_blocking(move || {
        let replicator =
            EtcdReplicator::start(&endpoints, "s1", "node-a:8080", 10, Duration::from_secs(5))
                .unwrap();
        let engine = engine(&path, replicator);
        setup(&engine);
        for i in 0..30 {
            post(&engine, i).unwrap();
        }
        let durable = engine.metrics().durable_sequence;
        let hasher = engine.hasher();
        engine.shutdown();
        (durable, hasher)
    })
    .await
    .unwrap();
    let mut log = log(&cluster).await;
    assert_eq!(
        log.head().await.unwrap(),
        durable,
        "etcd's head is the last durable batch"
    );
    let replicated = log.read(1, 10_000).await.unwrap();
    assert_eq!(replicated.len() as u64, durable);
    // Batch by batch, etcd holds what the local log holds.
    let mut follower = Follower::open(dir.path(), 0).unwrap();
    let mut commands = Vec::new();
    for (sequence, bytes) in &replicated {
        let batch = ReplicatedBatch::decode(*sequence, bytes).unwrap();
        codec::decode_batch(&batch.body, batch.count, 8190, hasher, &mut commands).unwrap();
        let local = follower
            .next(durable)
            .unwrap()
            .expect("the local log has it too");
        assert_eq!(local.sequence, *sequence);
        assert_eq!(local.timestamp, batch.timestamp);
        assert_eq!(local.commands, &commands[..], "batch {sequence}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_leader_stops_writing_and_acknowledges_nothing_more() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let endpoints = cluster.endpoints();
    let path = dir.path().to_owned();
    let engine = tokio::task::spawn_blocking(move || {
        let replicator =
            EtcdReplicator::start(&endpoints, "s1", "node-a:8080", 2, Duration::from_secs(5))
                .unwrap();
        // The node freezes from here on as far as its lease goes (SIGSTOP): it expires.
        replicator.stop_keep_alive();
        let engine = engine(&path, replicator);
        setup(&engine);
        post(&engine, 0).unwrap();
        engine
    })
    .await
    .unwrap();
    let before = engine.metrics().durable_sequence;
    let mut other = log(&cluster).await;
    let _new_leader = campaign_until_won(&mut other, "node-b:8080", 10).await;
    let refused = tokio::task::spawn_blocking(move || {
        let first = post(&engine, 1);
        let second = post(&engine, 2);
        (first, second, engine)
    })
    .await
    .unwrap();
    let (first, second, engine) = refused;
    assert!(
        first.is_err(),
        "the deposed leader's write was acknowledged"
    );
    // It stepped down, and points writers at the node that leads now.
    assert!(
        matches!(
            &second,
            Err(paycore_engine::EngineError::NotLeader { leader: Some(l) }) if l == "node-b:8080"
        ),
        "{second:?}"
    );
    assert_eq!(
        other.head().await.unwrap(),
        before,
        "nothing of the old leader reached etcd"
    );
    assert_eq!(engine.metrics().durable_sequence, before);
    tokio::task::spawn_blocking(move || engine.shutdown())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_quorum_nothing_is_acknowledged() {
    let Some(mut cluster) = EtcdCluster::start(3) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let endpoints = cluster.endpoints();
    let path = dir.path().to_owned();
    let engine = tokio::task::spawn_blocking(move || {
        let replicator =
            EtcdReplicator::start(&endpoints, "s1", "node-a:8080", 30, Duration::from_secs(1))
                .unwrap();
        let engine = engine(&path, replicator);
        setup(&engine);
        post(&engine, 0).unwrap();
        engine
    })
    .await
    .unwrap();
    let before = engine.metrics().durable_sequence;
    cluster.kill(1);
    cluster.kill(2);
    let (refused, engine) = tokio::task::spawn_blocking(move || (post(&engine, 1), engine))
        .await
        .unwrap();
    assert!(refused.is_err(), "acknowledged without a quorum");
    assert_eq!(engine.metrics().durable_sequence, before);
    cluster.restart(1);
    cluster.restart(2);
    cluster.wait_healthy(0);
    // The refused batch's fate is unknown, as its caller was told: etcd's leader may still
    // commit the proposal once the quorum is back. Either way it is the local log's batch.
    let mut log = log(&cluster).await;
    let head = log.head().await.unwrap();
    assert!(
        head == before || head == before + 1,
        "head {head} after {before}"
    );
    tokio::task::spawn_blocking(move || engine.shutdown())
        .await
        .unwrap();
    if head == before + 1 {
        let stored = log.read(head, 1).await.unwrap();
        let mut follower = Follower::open(dir.path(), before).unwrap();
        let local = follower
            .next(head)
            .unwrap()
            .expect("the local log has the batch");
        let replicated = ReplicatedBatch::decode(head, &stored[0].1).unwrap();
        assert_eq!(local.timestamp, replicated.timestamp);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_keeps_a_bounded_tail_of_the_log() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let endpoints = cluster.endpoints();
    let path = dir.path().to_owned();
    let durable = tokio::task::spawn_blocking(move || {
        let replicator =
            EtcdReplicator::start(&endpoints, "s1", "node-a:8080", 10, Duration::from_secs(5))
                .unwrap();
        let engine = engine(&path, replicator);
        setup(&engine);
        for i in 0..1_300 {
            post(&engine, i).unwrap();
        }
        let durable = engine.metrics().durable_sequence;
        engine.shutdown();
        durable
    })
    .await
    .unwrap();
    let stored = log(&cluster).await.read(1, 100_000).await.unwrap();
    // Compacted at batch 1,280 (every 256): what is 1,024 or more behind it is gone.
    assert_eq!(stored.first().unwrap().0, 1_280 - 1_024);
    assert_eq!(stored.last().unwrap().0, durable);
    assert_eq!(
        stored.len() as u64,
        durable - 256 + 1,
        "no gap in what is kept"
    );
}
