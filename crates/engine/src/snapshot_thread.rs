//! The snapshot thread: encodes snapshots in the background, publishes them, then applies the
//! retention policy to old snapshots and to log segments they fully cover.

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use paycore_ledger::LedgerSnapshot;
use tracing::{info, warn};

use crate::engine::Shared;
use crate::log::{list_segments, writer::sync_dir};
use crate::{snapshot_file, Retention};

pub(crate) struct SnapshotJob {
    pub sequence: u64,
    pub checksum: u128,
    pub snapshot: LedgerSnapshot,
}

pub(crate) fn spawn(shared: Arc<Shared>) -> (SyncSender<SnapshotJob>, JoinHandle<()>) {
    let (tx, rx) = mpsc::sync_channel::<SnapshotJob>(1);
    let handle = std::thread::Builder::new()
        .name("paycore-snapshot".into())
        .spawn(move || {
            for job in rx {
                write(&shared, job);
            }
        })
        .expect("spawning the snapshot thread");
    (tx, handle)
}

fn write(shared: &Shared, job: SnapshotJob) {
    let dir = shared.config.snapshot_dir();
    match snapshot_file::write(&dir, job.sequence, job.checksum, &job.snapshot) {
        Ok(path) => {
            info!(file = %path.display(), sequence = job.sequence, records = job.snapshot.record_count(), "snapshot written");
            shared
                .metrics
                .snapshot_sequence
                .store(job.sequence, Relaxed);
            shared.metrics.snapshots_written.fetch_add(1, Relaxed);
            if let Err(error) = apply_retention(shared) {
                warn!(%error, "retention failed; old files stay in place");
            }
        }
        Err(error) => {
            warn!(%error, sequence = job.sequence, "snapshot failed; the log still has everything")
        }
    }
}

/// Keeps the newest snapshots; archives or deletes segments whose every record is covered by
/// the oldest snapshot kept (so recovery can always fall back to it).
fn apply_retention(shared: &Shared) -> std::io::Result<()> {
    let config = &shared.config;
    let snapshot_dir = config.snapshot_dir();
    let snapshots = snapshot_file::list(&snapshot_dir)?;
    for (_, path) in snapshots.iter().skip(config.snapshots_kept.max(1)) {
        std::fs::remove_file(path)?;
    }
    sync_dir(&snapshot_dir)?;
    let kept = snapshots.len().min(config.snapshots_kept.max(1));
    let Some(&(covered, _)) = kept.checked_sub(1).and_then(|last| snapshots.get(last)) else {
        return Ok(());
    };
    let floor = config
        .retention_floors
        .iter()
        .map(|f| f.load(Relaxed))
        .min()
        .unwrap_or(u64::MAX);
    let covered = covered.min(floor);
    if config.retention == Retention::Keep {
        return Ok(());
    }
    let firsts = shared.segments.lock().clone();
    let log_dir = config.log_dir();
    for (index, path) in list_segments(&log_dir)? {
        // Covered when the next segment starts at or before the first uncovered batch.
        let next_first = firsts
            .iter()
            .find(|(i, _)| *i == index + 1)
            .map(|(_, first)| *first);
        if next_first.is_some_and(|first| first <= covered + 1) {
            retire(config.retention, &path, &config.archive_dir())?;
            shared.segments.lock().retain(|(i, _)| *i != index);
        }
    }
    sync_dir(&log_dir)
}

fn retire(retention: Retention, segment: &Path, archive_dir: &Path) -> std::io::Result<()> {
    match retention {
        Retention::Keep => Ok(()),
        Retention::Delete => std::fs::remove_file(segment),
        Retention::Archive => {
            std::fs::create_dir_all(archive_dir)?;
            let name = segment.file_name().expect("segments have file names");
            std::fs::rename(segment, archive_dir.join(name))?;
            sync_dir(archive_dir)
        }
    }
}
