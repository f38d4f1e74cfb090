//! The replicated log against a real 3-member etcd cluster: order and idempotent retries,
//! fencing of a deposed leader, no acknowledgement without a quorum, compaction.

mod common;

use std::time::{Duration, Instant};

use common::campaign_until_won;
use paycore_replication::cluster::EtcdCluster;
use paycore_replication::{
    parse_etcd_url, Appended, Campaign, Leadership, ReplicationError, ShardLog,
};

const TIMEOUT: Duration = Duration::from_secs(3);

async fn connect(cluster: &EtcdCluster, shard: &str) -> ShardLog {
    let endpoints = parse_etcd_url(&cluster.url()).unwrap();
    assert_eq!(endpoints, cluster.endpoints());
    ShardLog::connect(&endpoints, shard, TIMEOUT).await.unwrap()
}

async fn lead(log: &mut ShardLog, address: &str, ttl_s: i64) -> Leadership {
    match log.campaign(address, ttl_s).await.unwrap() {
        Campaign::Won(leadership) => leadership,
        Campaign::Lost { leader } => panic!("{address} lost the campaign to {leader:?}"),
    }
}

fn batch(sequence: u64) -> Vec<u8> {
    // Sizes from a few bytes to 64 KiB, content tied to the sequence.
    let len = 8 + (sequence as usize * 7919) % (64 << 10);
    (0..len).map(|i| (i as u64 ^ sequence) as u8).collect()
}

/// Appends `sequence`, retrying through errors of the transport (a member just killed):
/// a retry of an append that did commit answers `Already`.
async fn append_retrying(log: &mut ShardLog, leadership: &Leadership, sequence: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match log.append(leadership, sequence, &batch(sequence)).await {
            Ok(_) => return,
            Err(ReplicationError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(other) => panic!("append {sequence}: {other}"),
        }
    }
}

async fn assert_log_is(log: &mut ShardLog, last: u64) {
    assert_eq!(log.head().await.unwrap(), last);
    let stored = log.read(1, 10_000).await.unwrap();
    let sequences: Vec<u64> = stored.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        sequences,
        (1..=last).collect::<Vec<_>>(),
        "every batch once, in order"
    );
    for (sequence, bytes) in stored {
        assert_eq!(bytes, batch(sequence), "batch {sequence} as appended");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_are_ordered_and_a_retry_answers_what_was_committed() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let mut log = connect(&cluster, "s1").await;
    assert_eq!(log.head().await.unwrap(), 0);
    let leader = lead(&mut log, "node-a:8080", 10).await;
    assert_eq!(log.leader().await.unwrap().as_deref(), Some("node-a:8080"));
    for sequence in 1..=40 {
        assert_eq!(
            log.append(&leader, sequence, &batch(sequence))
                .await
                .unwrap(),
            Appended::Now
        );
    }
    // A retry of batch 40 (its answer lost) is recognised; anything else out of order is not.
    assert_eq!(
        log.append(&leader, 40, &batch(40)).await.unwrap(),
        Appended::Already
    );
    assert!(matches!(
        log.append(&leader, 40, b"other content").await,
        Err(ReplicationError::Diverged { sequence: 40, .. })
    ));
    assert!(matches!(
        log.append(&leader, 42, &batch(42)).await,
        Err(ReplicationError::HeadMoved {
            sequence: 42,
            head: 40,
            ..
        })
    ));
    // A second node cannot claim the shard while it is held.
    let mut other = connect(&cluster, "s1").await;
    match other.campaign("node-b:8080", 10).await.unwrap() {
        Campaign::Lost { leader } => assert_eq!(leader.as_deref(), Some("node-a:8080")),
        Campaign::Won(_) => panic!("two leaders of one shard"),
    }
    assert_log_is(&mut log, 40).await;
    // Shards are independent logs.
    let mut s2 = connect(&cluster, "s2").await;
    assert_eq!(s2.head().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_leader_cannot_append_and_the_log_does_not_fork() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let mut old = connect(&cluster, "s1").await;
    let old_leader = lead(&mut old, "node-a:8080", 2).await;
    for sequence in 1..=5 {
        old.append(&old_leader, sequence, &batch(sequence))
            .await
            .unwrap();
    }
    // The old leader freezes (SIGSTOP): it no longer keeps its lease alive.
    old_leader.stop_keep_alive();
    let mut new = connect(&cluster, "s1").await;
    let new_leader = campaign_until_won(&mut new, "node-b:8080", 2).await;
    assert_eq!(
        new.head().await.unwrap(),
        5,
        "the new leader continues from the head"
    );
    new.append(&new_leader, 6, &batch(6)).await.unwrap();
    // The old leader wakes up and tries to append what it had in hand: refused, told who leads.
    for sequence in [6, 7] {
        match old
            .append(&old_leader, sequence, b"stale leader's batch")
            .await
        {
            Err(ReplicationError::NotLeader { leader, .. }) => {
                assert_eq!(leader.as_deref(), Some("node-b:8080"))
            }
            other => panic!("a deposed leader appended batch {sequence}: {other:?}"),
        }
    }
    assert!(old.compact(&old_leader, 3).await.is_err(), "nor compact");
    assert_log_is(&mut new, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_continue_with_one_member_down_and_stop_without_a_quorum() {
    let Some(mut cluster) = EtcdCluster::start(3) else {
        return;
    };
    let mut log = connect(&cluster, "s1").await;
    let leader = lead(&mut log, "node-a:8080", 30).await;
    for sequence in 1..=10 {
        append_retrying(&mut log, &leader, sequence).await;
    }
    cluster.kill(2);
    for sequence in 11..=20 {
        append_retrying(&mut log, &leader, sequence).await;
    }
    cluster.kill(1);
    // No quorum: the append is never acknowledged; it fails with a clear error in bounded time.
    let started = Instant::now();
    let refused = log.append(&leader, 21, &batch(21)).await;
    assert!(
        matches!(refused, Err(ReplicationError::Unavailable(_))),
        "appended without a quorum: {refused:?}"
    );
    assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2));
    cluster.restart(1);
    cluster.restart(2);
    for member in 0..3 {
        cluster.wait_healthy(member);
    }
    // The retry either writes batch 21 or finds the first attempt committed after all.
    append_retrying(&mut log, &leader, 21).await;
    append_retrying(&mut log, &leader, 22).await;
    assert_log_is(&mut log, 22).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_removes_what_a_snapshot_covers() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let mut log = connect(&cluster, "s1").await;
    let leader = lead(&mut log, "node-a:8080", 10).await;
    for sequence in 1..=30 {
        log.append(&leader, sequence, &batch(sequence))
            .await
            .unwrap();
    }
    log.compact(&leader, 21).await.unwrap();
    let left: Vec<u64> = log
        .read(1, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(left, (21..=30).collect::<Vec<_>>());
    // The log goes on after compaction.
    log.append(&leader, 31, &batch(31)).await.unwrap();
    assert_eq!(log.head().await.unwrap(), 31);
    log.resign(leader).await.unwrap();
    assert_eq!(
        log.leader().await.unwrap(),
        None,
        "resigning frees the shard at once"
    );
}
