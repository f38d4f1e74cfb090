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

/// Counts the batches handed over, and when each output was handed over.
struct Counting(usize);

impl paycore_engine::Accumulate for Counting {
    type Output = usize;
    fn add(&mut self, _batch: &paycore_engine::FollowedBatch<'_>) {
        self.0 += 1;
    }
    fn is_full(&self) -> bool {
        false
    }
    fn is_empty(&self) -> bool {
        self.0 == 0
    }
    fn finish(&mut self, _ledger: &paycore_ledger::Ledger) -> usize {
        std::mem::take(&mut self.0)
    }
}

#[test]
fn a_paced_follower_gathers_a_stream_and_does_not_hold_back_a_lone_write() {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(config(dir.path())).unwrap());
    setup(&engine, 2, 1_000_000);
    let start = engine.metrics().durable_sequence;
    let h = engine.hasher();
    let pace = paycore_engine::Pace {
        idle: Duration::from_millis(250),
        min_interval: Duration::from_secs(2),
    };
    let outputs: Mutex<Vec<(Instant, usize)>> = Mutex::default();
    let stop = AtomicBool::new(false);
    let mut all = 0;
    let follower = Follower::open(dir.path(), start).unwrap();
    let durable: paycore_engine::DurableSequence = {
        let engine = engine.clone();
        Arc::new(move || engine.metrics().durable_sequence)
    };
    let post = |id: String| {
        let t = transfer(&h, &id, "C0", "C1", 1, TransferKind::Transfer);
        engine.submit_blocking(vec![t]).unwrap();
    };
    std::thread::scope(|scope| {
        scope.spawn(|| {
            paycore_engine::follow_in_two_stages::<_, paycore_engine::EngineError>(
                "test-builder",
                follower,
                Counting(0),
                &durable,
                &stop,
                pace,
                |n| {
                    outputs.lock().unwrap().push((Instant::now(), n));
                    Ok(())
                },
            )
            .unwrap();
        });
        // A lone write: handed over once a poll finds nothing new, long before min_interval.
        let lone = Instant::now();
        post("lone".into());
        while outputs.lock().unwrap().is_empty() {
            assert!(
                lone.elapsed() < Duration::from_secs(30),
                "the lone write was never handed over"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(outputs.lock().unwrap()[0].0 - lone < pace.min_interval);
        // A steady stream (a batch every few ms, never a whole `idle` without one) for about
        // one `min_interval`: gathered into at most a few outputs, not one per poll.
        let stream = Instant::now();
        let mut posted = 0;
        while stream.elapsed() < pace.min_interval {
            post(format!("s{posted}"));
            posted += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
        all = posted + 1;
        let deadline = Instant::now() + Duration::from_secs(30);
        while outputs.lock().unwrap().iter().map(|o| o.1).sum::<usize>() < all {
            assert!(
                Instant::now() < deadline,
                "the stream was not all handed over"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Relaxed);
    });
    let outputs = outputs.into_inner().unwrap();
    let handed: usize = outputs.iter().map(|o| o.1).sum();
    assert_eq!(handed, all, "every batch handed over exactly once");
    // The lone write, then the stream: a few hand-overs for it (about one per min_interval,
    // one when it stops; one more if this machine stalled the stream for a whole `idle`)
    // instead of one per poll (eight here).
    assert!(
        outputs.len() <= 5,
        "a steady stream was handed over in {} outputs: {:?}",
        outputs.len(),
        outputs.iter().map(|o| o.1).collect::<Vec<_>>()
    );
}
