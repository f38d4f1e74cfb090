//! The shard map in a real etcd: edits from several operators at once all land, refused edits
//! change nothing, and shards' leaders are listed.

use std::time::Duration;

use paycore_replication::cluster::EtcdCluster;
use paycore_replication::{Campaign, ReplicationError, ShardDirectory, ShardLog, ShardMapError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_all_land_and_refused_ones_change_nothing() {
    let Some(cluster) = EtcdCluster::start(3) else {
        return;
    };
    let endpoints = cluster.endpoints();
    let timeout = Duration::from_secs(5);
    let directory = ShardDirectory::new(&endpoints, timeout).unwrap();
    assert!(directory.load().await.unwrap().shards().is_empty());
    for shard in ["s1", "s2"] {
        directory.edit(|map| map.add_shard(shard)).await.unwrap();
    }
    // Two operators assigning at the same time, each 15 prefixes: none lost.
    let edits = (0..2).map(|operator| {
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let directory = ShardDirectory::new(&endpoints, timeout).unwrap();
            for i in 0..15 {
                let prefix = format!("P{operator}-{i}");
                let shard = if i % 2 == 0 { "s1" } else { "s2" };
                directory
                    .edit(|map| map.assign(&prefix, shard))
                    .await
                    .unwrap();
            }
        })
    });
    for edit in edits.collect::<Vec<_>>() {
        edit.await.unwrap();
    }
    let map = directory.load().await.unwrap();
    assert_eq!(map.assignments().len(), 30);
    assert_eq!(map.shard_of("P1-3-customer"), Some("s2"));
    assert_eq!(
        map.shard_of("C-1"),
        Some("s1"),
        "unassigned accounts: the first shard"
    );
    // Moving a prefix, or assigning to no shard, is refused and stores nothing.
    let moved = directory.edit(|map| map.assign("P0-0", "s2")).await;
    assert!(matches!(
        moved,
        Err(ReplicationError::ShardMap(
            ShardMapError::AlreadyAssigned { .. }
        ))
    ));
    assert!(directory.edit(|map| map.assign("Q", "nope")).await.is_err());
    assert_eq!(directory.load().await.unwrap(), map);
    // Leaders: s1 has one once a node campaigned, s2 none.
    let mut log = ShardLog::connect(&endpoints, "s1", timeout).await.unwrap();
    let Campaign::Won(_leadership) = log.campaign("node-a:8080", 10).await.unwrap() else {
        panic!("s1 had a leader already")
    };
    let leaders = directory.leaders(&map).await.unwrap();
    assert_eq!(leaders["s1"].as_deref(), Some("node-a:8080"));
    assert_eq!(leaders["s2"], None);
}
