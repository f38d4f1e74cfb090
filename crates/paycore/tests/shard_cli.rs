//! `paycore shard add|list|assign` against a real etcd: the map is stored, listed with the
//! default shard, and edits that would move accounts or name nothing are refused.

use std::process::{Command, Output};

use paycore_replication::cluster::EtcdCluster;

fn shard(etcd: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paycore"))
        .arg("shard")
        .args(args)
        .args(["--etcd", etcd])
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_shard_map_is_edited_and_listed_from_the_command_line() {
    let Some(cluster) = EtcdCluster::start(1) else {
        return;
    };
    let etcd = cluster.url();
    assert!(text(&shard(&etcd, &["list"])).contains("no shards yet"));
    for name in ["s1", "s2"] {
        assert!(shard(&etcd, &["add", name]).status.success());
    }
    assert!(shard(&etcd, &["assign", "M-", "s2"]).status.success());
    let moved = shard(&etcd, &["assign", "M-", "s1"]);
    assert!(!moved.status.success());
    assert!(
        text(&moved).contains("assigned to shard s2 already"),
        "{}",
        text(&moved)
    );
    let invalid = shard(&etcd, &["assign", "a b", "s1"]);
    assert!(!invalid.status.success() && text(&invalid).contains("prefix"));
    let listed = text(&shard(&etcd, &["list"]));
    assert!(
        listed.contains("shard s1") && listed.contains("(default)"),
        "{listed}"
    );
    assert!(listed.contains("M-") && listed.contains("s2"), "{listed}");
    let nowhere = Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(["shard", "list"])
        .env_remove("PAYCORE_ETCD")
        .output()
        .unwrap();
    assert!(!nowhere.status.success() && text(&nowhere).contains("--etcd"));
    let unreachable = shard("etcd://127.0.0.1:1", &["list"]);
    assert!(!unreachable.status.success() && text(&unreachable).contains("etcd unavailable"));
}
