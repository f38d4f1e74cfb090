//! `Follower`: a replica of the ledger that follows the durable log, batch by batch, for
//! projections (the SQL query store) that need every batch's outcomes and journal entries.
//!
//! It starts from the newest snapshot at or before the wanted batch, replays up to it without
//! reporting, then reports each further batch as the engine makes it durable. Everything it
//! reports comes from the log — the same records recovery replays — so a projection can never
//! disagree with the ledger. Cost: a second copy of the ledger state in memory.

use std::path::Path;

use paycore_ledger::{BatchOutput, Command, Flush, IdHasher, JournalEntry, Ledger, Outcome};

use crate::codec::decode_batch;
use crate::log::reader::LogError;
use crate::log::tail::LogTail;
use crate::{meta, snapshot_file, EngineConfig, EngineError};

pub struct Follower {
    ledger: Ledger,
    tail: LogTail,
    out: BatchOutput,
    commands: Vec<Command>,
    hasher: IdHasher,
    commands_max: usize,
}

/// One batch as applied by the replica.
pub struct FollowedBatch<'a> {
    pub sequence: u64,
    pub timestamp: u64,
    pub commands: &'a [Command],
    pub outcomes: &'a [Outcome],
    pub journal: &'a [JournalEntry],
    /// Aggregated credits of hot accounts among `journal`, with the records each contains.
    pub flushes: &'a [Flush],
    /// The replica's state right after this batch.
    pub ledger: &'a Ledger,
}

impl Follower {
    /// A replica as of batch `sequence` (0: before the first batch), ready to follow.
    pub fn open(data_dir: &Path, sequence: u64) -> Result<Follower, EngineError> {
        let config = EngineConfig::new(data_dir);
        let ledger_config = meta::load(data_dir)?;
        let mut start = (Ledger::new(ledger_config), 0, 0u128);
        let snapshot_dir = config.snapshot_dir();
        let snapshots = snapshot_file::list(&snapshot_dir)
            .map_err(EngineError::io("listing snapshots", &snapshot_dir))?;
        for (covered, path) in snapshots
            .into_iter()
            .filter(|(covered, _)| *covered <= sequence)
        {
            match snapshot_file::load(&path) {
                Ok(loaded) => {
                    start = (loaded.ledger, covered, loaded.header.chain_checksum);
                    break;
                }
                Err(reason) => {
                    tracing::warn!(file = %path.display(), %reason, "follower skips an unusable snapshot")
                }
            }
        }
        let (ledger, covered, prev_checksum) = start;
        let dirs = vec![config.log_dir(), config.archive_dir()];
        let tail = LogTail::open(
            dirs,
            covered + 1,
            Some(prev_checksum),
            config.body_bytes_max(),
        )?;
        let hasher = *ledger.hasher();
        let mut follower = Follower {
            ledger,
            tail,
            out: BatchOutput::default(),
            commands: Vec::new(),
            hasher,
            commands_max: config.batch_commands_max,
        };
        while follower.applied_sequence() < sequence {
            if follower.next(u64::MAX)?.is_none() {
                return Err(EngineError::Log(LogError::Corrupt {
                    path: config.log_dir(),
                    offset: 0,
                    reason: format!("the log ends at batch {} but the follower must start after batch {sequence}", follower.applied_sequence()),
                }));
            }
        }
        Ok(follower)
    }

    /// Last batch applied to the replica.
    pub fn applied_sequence(&self) -> u64 {
        self.tail.next_sequence() - 1
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Applies and returns the next batch if it is durable (sequence ≤ `durable_sequence`).
    pub fn next(
        &mut self,
        durable_sequence: u64,
    ) -> Result<Option<FollowedBatch<'_>>, EngineError> {
        let expected = self.applied_sequence() + 1;
        let Some((header, body)) = self.tail.next(durable_sequence)? else {
            return Ok(None);
        };
        assert_eq!(
            header.sequence, expected,
            "the follower skipped or repeated a batch"
        );
        let corrupt = |reason: String| {
            EngineError::Log(LogError::Corrupt {
                path: Default::default(),
                offset: 0,
                reason: format!("batch {}: {reason}", header.sequence),
            })
        };
        decode_batch(
            body,
            header.command_count,
            self.commands_max,
            self.hasher,
            &mut self.commands,
        )
        .map_err(corrupt)?;
        if header.timestamp <= self.ledger.last_timestamp() {
            return Err(corrupt("timestamp does not increase".into()));
        }
        self.ledger
            .apply_batch(header.timestamp, &self.commands, &mut self.out);
        Ok(Some(FollowedBatch {
            sequence: header.sequence,
            timestamp: header.timestamp,
            commands: &self.commands,
            outcomes: &self.out.outcomes,
            journal: &self.out.journal,
            flushes: &self.out.flushes,
            ledger: &self.ledger,
        }))
    }
}
