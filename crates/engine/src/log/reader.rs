//! Reading the log back: every record is checked (checksum, sequence, link to its
//! predecessor) and handed to a visitor in order. Used by recovery and by verify-log.
//!
//! What is tolerated and what is refused:
//! - A broken record with nothing valid after it anywhere is a torn final write (the process
//!   died mid-write; the batch was never acknowledged): it is reported and dropped.
//! - A broken record followed, in the next segment, by a record that continues the chain is a
//!   write that failed before a rollover (the engine moved on without acknowledging it).
//! - Anything else — a broken record followed by valid data, a sequence gap, a broken link —
//!   is corruption: the scan stops with the file and offset, and nothing is truncated.

use std::path::{Path, PathBuf};

use super::list_segments;
use super::record::{self, Header, Parsed, HEADER_BYTES};
use super::writer::Tail;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot read log file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("log is corrupt in {path} at byte offset {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
}

/// Where the chain must start.
#[derive(Clone, Copy, Debug)]
pub enum Start {
    /// At this sequence, linked to this checksum (0 for the very first record). Records
    /// before it (covered by a snapshot) are checked but not visited.
    At { sequence: u64, prev_checksum: u128 },
    /// Wherever the oldest record is (verify-log, when old segments were archived).
    Oldest,
}

#[derive(Debug)]
pub struct ScanOutcome {
    pub tail: Tail,
    /// Records visited.
    pub visited: u64,
    /// First sequence seen, if any record exists.
    pub first_sequence: Option<u64>,
    /// A torn final record that was dropped: file and offset.
    pub torn_tail: Option<(PathBuf, u64)>,
    /// First sequence stored in each segment that holds records, by segment index.
    pub segment_first_sequences: Vec<(u64, u64)>,
}

/// Follows the chain of records.
struct Chain {
    expected: Start,
    last: Option<(u64, u128)>,
}

impl Chain {
    /// Checks `header` against its predecessor and the required start; true if it is to be
    /// visited (it is at or after the start).
    fn accept(&mut self, header: &Header) -> Result<bool, String> {
        if let Some((seq, checksum)) = self.last {
            if header.sequence != seq + 1 {
                return Err(format!("sequence {} follows {seq}", header.sequence));
            }
            if header.prev_checksum != checksum {
                return Err(format!(
                    "record {} does not link to record {seq}: the chain is broken",
                    header.sequence
                ));
            }
        }
        let visit = match self.expected {
            Start::Oldest => true,
            Start::At {
                sequence,
                prev_checksum,
            } => {
                if self.last.is_none() && header.sequence > sequence {
                    return Err(format!(
                        "log starts at sequence {} but sequence {sequence} is needed",
                        header.sequence
                    ));
                }
                if header.sequence == sequence && header.prev_checksum != prev_checksum {
                    return Err(format!("record {sequence} does not link to the record before it (snapshot or start of log)"));
                }
                header.sequence >= sequence
            }
        };
        self.last = Some((header.sequence, header.checksum));
        Ok(visit)
    }
}

/// Scans every segment in `dir`, calling `visit` for each record from the start on.
pub fn scan(
    dir: &Path,
    start: Start,
    body_len_max: usize,
    mut visit: impl FnMut(&Header, &[u8], &Path, u64) -> Result<(), LogError>,
) -> Result<ScanOutcome, LogError> {
    let segments = list_segments(dir).map_err(|source| LogError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let (next_sequence, last_checksum) = match start {
        Start::At {
            sequence,
            prev_checksum,
        } => (sequence, prev_checksum),
        Start::Oldest => (1, 0),
    };
    let mut outcome = ScanOutcome {
        tail: Tail {
            segment: segments.first().map_or(1, |s| s.0),
            offset: 0,
            next_sequence,
            last_checksum,
        },
        visited: 0,
        first_sequence: None,
        torn_tail: None,
        segment_first_sequences: Vec::new(),
    };
    let mut chain = Chain {
        expected: start,
        last: None,
    };
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|source| LogError::Io {
            path: path.clone(),
            source,
        })
    };
    for (k, (index, path)) in segments.iter().enumerate() {
        let bytes = read(path)?;
        let corrupt = |offset: usize, reason: String| LogError::Corrupt {
            path: path.clone(),
            offset: offset as u64,
            reason,
        };
        let mut offset = 0;
        loop {
            match record::parse(&bytes[offset..], body_len_max) {
                Parsed::Valid(header) => {
                    let body = &bytes
                        [offset + HEADER_BYTES..offset + HEADER_BYTES + header.body_len as usize];
                    let visited = chain
                        .accept(&header)
                        .map_err(|reason| corrupt(offset, reason))?;
                    outcome.first_sequence.get_or_insert(header.sequence);
                    if offset == 0 {
                        outcome
                            .segment_first_sequences
                            .push((*index, header.sequence));
                    }
                    if visited {
                        visit(&header, body, path, offset as u64)?;
                        outcome.visited += 1;
                    }
                    offset += header.record_bytes();
                    outcome.tail = Tail {
                        segment: *index,
                        offset: offset as u64,
                        next_sequence: header.sequence + 1,
                        last_checksum: header.checksum,
                    };
                }
                Parsed::Empty => {
                    if let Some(found) = valid_record_after(&bytes, offset, body_len_max) {
                        return Err(corrupt(
                            found,
                            format!("a record follows the empty space at offset {offset}"),
                        ));
                    }
                    break;
                }
                Parsed::Invalid(reason) => {
                    if let Some(found) = valid_record_after(&bytes, offset + 8, body_len_max) {
                        return Err(corrupt(
                            offset,
                            format!("{reason}, and a valid record follows at offset {found}"),
                        ));
                    }
                    let later = &segments[k + 1..];
                    if continues_chain(later.first(), chain.last, body_len_max, read)? {
                        break; // a write abandoned before a rollover
                    }
                    if has_any_record(later, body_len_max, read)? {
                        return Err(corrupt(
                            offset,
                            format!("{reason}, and later segments hold records"),
                        ));
                    }
                    outcome.torn_tail = Some((path.clone(), offset as u64));
                    return Ok(outcome);
                }
            }
        }
    }
    if let (Start::At { sequence, .. }, Some(first)) = (start, outcome.first_sequence) {
        if outcome.tail.next_sequence < sequence {
            let path = dir.to_owned();
            let reason = format!(
                "log ends at sequence {} (starting {first}) but sequence {sequence} is needed",
                outcome.tail.next_sequence - 1
            );
            return Err(LogError::Corrupt {
                path,
                offset: 0,
                reason,
            });
        }
    }
    Ok(outcome)
}

/// Offset of a valid record at or after `from` (8-byte aligned positions), if any.
fn valid_record_after(bytes: &[u8], from: usize, body_len_max: usize) -> Option<usize> {
    let magic = record::MAGIC.to_le_bytes();
    let start = from.next_multiple_of(8);
    (start..bytes.len().saturating_sub(HEADER_BYTES - 1))
        .step_by(8)
        .find(|&at| {
            bytes[at..at + 4] == magic
                && matches!(record::parse(&bytes[at..], body_len_max), Parsed::Valid(_))
        })
}

fn first_record(
    path: &PathBuf,
    body_len_max: usize,
    read: impl Fn(&PathBuf) -> Result<Vec<u8>, LogError>,
) -> Result<Parsed, LogError> {
    Ok(record::parse(&read(path)?, body_len_max))
}

fn continues_chain(
    next: Option<&(u64, PathBuf)>,
    last: Option<(u64, u128)>,
    body_len_max: usize,
    read: impl Fn(&PathBuf) -> Result<Vec<u8>, LogError>,
) -> Result<bool, LogError> {
    let (Some((_, path)), Some((seq, checksum))) = (next, last) else {
        return Ok(false);
    };
    Ok(
        matches!(first_record(path, body_len_max, read)?, Parsed::Valid(h) if h.sequence == seq + 1 && h.prev_checksum == checksum),
    )
}

fn has_any_record(
    segments: &[(u64, PathBuf)],
    body_len_max: usize,
    read: impl Fn(&PathBuf) -> Result<Vec<u8>, LogError>,
) -> Result<bool, LogError> {
    for (_, path) in segments {
        let bytes = read(path)?;
        if !matches!(record::parse(&bytes, body_len_max), Parsed::Empty)
            || valid_record_after(&bytes, 0, body_len_max).is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}
