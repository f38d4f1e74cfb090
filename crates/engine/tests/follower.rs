//! The follower replica reproduces the engine's state batch by batch from the log, across
//! segment rollovers, snapshots and archived segments, and can start from any batch.

mod common;

use common::*;
use paycore_engine::{Engine, Follower, Retention};
use paycore_ledger::TransferKind;

#[test]
fn a_follower_started_anywhere_tracks_the_engine_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.segment_bytes = 16 << 10;
    cfg.snapshot_every_commands = 700;
    cfg.retention = Retention::Archive;
    cfg.snapshot_on_shutdown = true;
    let engine = Engine::open(cfg).unwrap();
    setup(&engine, 6, 1_000_000);
    let h = engine.hasher();
    let mut digests = vec![];
    let mut follower = Follower::open(dir.path(), 0).unwrap();
    for i in 0..40 {
        let batch = (0..60)
            .map(|j| {
                transfer(
                    &h,
                    &format!("b{i}-{j}"),
                    &format!("C{}", j % 6),
                    &format!("C{}", (j + 1) % 6),
                    1 + j,
                    TransferKind::Transfer,
                )
            })
            .collect();
        engine.submit_blocking(batch).unwrap();
        let sequence = engine.metrics().applied_sequence;
        digests.push((sequence, digest(&engine)));
        // The live follower catches up to what is durable and matches the engine there.
        while let Some(batch) = follower.next(engine.metrics().durable_sequence).unwrap() {
            assert_eq!(batch.outcomes.len(), batch.commands.len());
        }
        assert_eq!(follower.applied_sequence(), sequence);
        assert_eq!(follower.ledger().digest(), digests.last().unwrap().1);
    }
    // Snapshots and retention run on a background thread; shutting down waits for them (and
    // writes a final snapshot), so the archive below is no longer a race with a slow machine.
    engine.shutdown();
    assert!(
        dir.path().join("archive").exists(),
        "some segments were archived"
    );
    // Followers opened at earlier batches (from snapshots and archived segments) agree too.
    for (sequence, expected) in digests.iter().step_by(7) {
        let replica = Follower::open(dir.path(), *sequence).unwrap();
        assert_eq!(replica.applied_sequence(), *sequence);
        assert_eq!(replica.ledger().digest(), *expected, "batch {sequence}");
    }
    let beyond = Follower::open(dir.path(), digests.last().unwrap().0 + 5);
    assert!(beyond.is_err(), "cannot start after the end of the log");
}
