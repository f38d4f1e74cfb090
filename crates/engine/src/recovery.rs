//! Startup: newest valid snapshot, then the log after it, replayed through the state machine.
//! Either every acknowledged batch is restored or startup refuses with the reason.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::mpsc;

use paycore_ledger::{BatchOutput, Command, Ledger, LedgerConfig};
use tracing::{info, warn};

use crate::codec::decode_batch;
use crate::log::reader::{self, LogError, ScanOutcome, Start};
use crate::log::writer::Tail;
use crate::snapshot_file;
use crate::{meta, EngineConfig, EngineError};

/// Decoded batches the log reader may run ahead of replay.
const DECODED_BATCHES_AHEAD: usize = 4;

/// What recovery found and did, for logs and operators.
#[derive(Clone, Debug, Default)]
pub struct RecoveryReport {
    /// Snapshot loaded, with the last sequence it covers.
    pub snapshot: Option<(PathBuf, u64)>,
    /// Snapshots skipped because they failed verification, with the reason.
    pub unusable_snapshots: Vec<String>,
    pub replayed_batches: u64,
    pub replayed_commands: u64,
    /// A torn final log record that was dropped (never acknowledged): file and offset.
    pub torn_tail: Option<(PathBuf, u64)>,
    pub elapsed: Duration,
}

pub(crate) struct Recovered {
    pub ledger: Ledger,
    pub tail: Tail,
    pub segment_first_sequences: Vec<(u64, u64)>,
    pub report: RecoveryReport,
}

pub(crate) fn recover(config: &EngineConfig) -> Result<Recovered, EngineError> {
    let started = Instant::now();
    let ledger_config = meta::load_or_create(&config.data_dir, config.utc_offset_seconds)?;
    let mut report = RecoveryReport::default();
    let (mut ledger, start) = load_snapshot(config, ledger_config, &mut report)?;
    let replayed = replay_log(config, start, &mut ledger, &mut report);
    let scanned = replayed.map_err(|error| explain_with_snapshots(error, &report))?;
    check_log_reaches_snapshots(config, scanned.tail.next_sequence - 1, &report)?;
    if let Some((path, offset)) = &scanned.torn_tail {
        warn!(file = %path.display(), offset, "dropped a torn final log record (it was never acknowledged)");
    }
    report.torn_tail = scanned.torn_tail.clone();
    ledger
        .check_invariants()
        .map_err(|violation| EngineError::BadDataDir {
            path: config.data_dir.clone(),
            reason: format!("state after recovery breaks an invariant: {violation}"),
        })?;
    report.elapsed = started.elapsed();
    info!(
        batches = report.replayed_batches,
        commands = report.replayed_commands,
        elapsed_ms = report.elapsed.as_millis() as u64,
        "recovered"
    );
    Ok(Recovered {
        ledger,
        tail: scanned.tail,
        segment_first_sequences: scanned.segment_first_sequences,
        report,
    })
}

/// Replays the log after `start` into `ledger`. Reading, checking and decoding run on a helper
/// thread, applying on this one, so the two overlap.
fn replay_log(
    config: &EngineConfig,
    start: Start,
    ledger: &mut Ledger,
    report: &mut RecoveryReport,
) -> Result<ScanOutcome, LogError> {
    let hasher = *ledger.hasher();
    let (decoded_tx, decoded_rx) =
        mpsc::sync_channel::<(u64, u64, Vec<Command>)>(DECODED_BATCHES_AHEAD);
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<Command>>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            reader::scan(
                &config.log_dir(),
                start,
                config.body_bytes_max(),
                |header, body, path, offset| {
                    let corrupt = |reason: String| LogError::Corrupt {
                        path: path.to_owned(),
                        offset,
                        reason,
                    };
                    let mut commands = recycle_rx.try_recv().unwrap_or_default();
                    let commands_max = config.batch_commands_max;
                    decode_batch(
                        body,
                        header.command_count,
                        commands_max,
                        hasher,
                        &mut commands,
                    )
                    .map_err(corrupt)?;
                    // The applier stopped (it found an error): stop reading.
                    decoded_tx
                        .send((header.sequence, header.timestamp, commands))
                        .map_err(|_| corrupt("replay stopped".into()))
                },
            )
        });
        let mut out = BatchOutput::default();
        let mut previous: Option<u64> = None;
        for (sequence, timestamp, commands) in decoded_rx {
            // The scan checks the chain; this checks that replay saw every link of it once.
            if let Some(previous) = previous {
                assert_eq!(sequence, previous + 1, "replay skipped or repeated a batch");
            }
            previous = Some(sequence);
            if timestamp <= ledger.last_timestamp() {
                drop(reader);
                return Err(LogError::Corrupt {
                    path: config.log_dir(),
                    offset: 0,
                    reason: format!(
                        "batch {} has a timestamp that does not increase",
                        report.replayed_batches + 1
                    ),
                });
            }
            ledger.apply_batch(timestamp, &commands, &mut out);
            report.replayed_batches += 1;
            report.replayed_commands += commands.len() as u64;
            let _ = recycle_tx.send(commands);
        }
        reader.join().expect("log reader thread")
    })
}

/// The newest snapshot that verifies, or an empty ledger; and where the log must continue.
fn load_snapshot(
    config: &EngineConfig,
    ledger_config: LedgerConfig,
    report: &mut RecoveryReport,
) -> Result<(Ledger, Start), EngineError> {
    let dir = config.snapshot_dir();
    let snapshots =
        snapshot_file::list(&dir).map_err(EngineError::io("listing snapshots", &dir))?;
    for (sequence, path) in snapshots {
        match snapshot_file::load(&path) {
            Ok(loaded) if loaded.ledger.hasher().key() != ledger_config.hash_key => {
                return Err(EngineError::Snapshot {
                    path,
                    reason: "belongs to another data directory (hash key differs)".into(),
                });
            }
            Ok(loaded) => {
                let start = Start::At {
                    sequence: sequence + 1,
                    prev_checksum: loaded.header.chain_checksum,
                };
                report.snapshot = Some((path, sequence));
                return Ok((loaded.ledger, start));
            }
            Err(reason) => {
                warn!(file = %path.display(), %reason, "snapshot unusable; falling back to an older one or to the full log");
                report
                    .unusable_snapshots
                    .push(format!("{}: {reason}", path.display()));
            }
        }
    }
    Ok((
        Ledger::new(ledger_config),
        Start::At {
            sequence: 1,
            prev_checksum: 0,
        },
    ))
}

/// Every snapshot file, usable or not, was written after the log held its sequence. A log
/// that ends before it has lost acknowledged batches: refuse rather than start from less.
fn check_log_reaches_snapshots(
    config: &EngineConfig,
    log_end: u64,
    report: &RecoveryReport,
) -> Result<(), EngineError> {
    let dir = config.snapshot_dir();
    let newest = snapshot_file::list(&dir).map_err(EngineError::io("listing snapshots", &dir))?;
    match newest.first() {
        Some((sequence, path)) if *sequence > log_end => Err(EngineError::BadDataDir {
            path: config.data_dir.clone(),
            reason: format!(
                "{} covers batch {sequence} but the state can only be rebuilt up to batch {log_end}{}",
                path.display(),
                if report.unusable_snapshots.is_empty() { String::new() } else { format!(" (unusable: {})", report.unusable_snapshots.join("; ")) }
            ),
        }),
        _ => Ok(()),
    }
}

fn explain_with_snapshots(error: LogError, report: &RecoveryReport) -> EngineError {
    if report.unusable_snapshots.is_empty() {
        return EngineError::Log(error);
    }
    EngineError::BadDataDir {
        path: PathBuf::new(),
        reason: format!(
            "{error}; snapshots that could have covered it are unusable: {}",
            report.unusable_snapshots.join("; ")
        ),
    }
}
