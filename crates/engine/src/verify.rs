//! `verify-log`: walks every record of the log from the oldest segment, checking checksums,
//! sequence numbers and the chain of checksums, and reports the first break.

use std::path::Path;

use crate::log::reader::{self, LogError, Start};
use crate::EngineConfig;

#[derive(Debug)]
pub struct VerifyReport {
    pub records: u64,
    pub first_sequence: Option<u64>,
    pub last_sequence: Option<u64>,
    /// A torn final record (crash mid-write), which recovery drops.
    pub torn_tail: Option<(std::path::PathBuf, u64)>,
}

/// Checks the whole log in `data_dir`. `Err` names the first break: file, offset, reason.
pub fn verify_log(data_dir: &Path) -> Result<VerifyReport, LogError> {
    let config = EngineConfig::new(data_dir);
    let outcome = reader::scan(
        &config.log_dir(),
        Start::Oldest,
        config.body_bytes_max(),
        |_, _, _, _| Ok(()),
    )?;
    Ok(VerifyReport {
        records: outcome.visited,
        first_sequence: outcome.first_sequence,
        last_sequence: outcome
            .first_sequence
            .map(|_| outcome.tail.next_sequence - 1),
        torn_tail: outcome.torn_tail,
    })
}
