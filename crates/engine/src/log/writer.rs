//! Appending batches to the log: build the record, write it at the tail of the current
//! segment, fdatasync, and only then advance. A failed write or fdatasync breaks the writer for
//! good (`AppendError::Storage`): after a failed fdatasync Linux may already have dropped the
//! dirty pages, so a later fdatasync could succeed without them. Only a segment that could not
//! be created (a full disk at rollover) leaves the writer where it was, to try again.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::record;
use super::segment_path;
use crate::faults::{self, Faults};

/// Where appending continues, as found by recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tail {
    pub segment: u64,
    pub offset: u64,
    pub next_sequence: u64,
    pub last_checksum: u128,
}

/// What an append made durable.
#[derive(Clone, Copy, Debug)]
pub struct Appended {
    pub sequence: u64,
    pub checksum: u128,
    pub bytes: u64,
    pub sync_time: Duration,
    /// A segment was finished and a new one started by this append.
    pub rolled_over: bool,
}

/// Why an append made nothing durable.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The next segment could not be created (e.g. the disk is full): nothing was written and
    /// the writer is where it was, so a later append may succeed.
    #[error("cannot start log segment {segment}: {source}")]
    NoSegment { segment: u64, source: io::Error },
    /// A write or an fdatasync failed: what the file holds is unknown, and pages the kernel
    /// dropped would not be reported by a later fdatasync. The writer refuses every later
    /// append; a restart recovers from what is on disk.
    #[error("log {operation} for batch {sequence} failed: {source}")]
    Storage {
        operation: &'static str,
        sequence: u64,
        /// The failed append had already moved on to a new segment (`LogWriter::segment`),
        /// whose first batch is `sequence`.
        rolled_over: bool,
        source: io::Error,
    },
}

impl AppendError {
    /// The writer can no longer be used.
    pub fn is_fatal(&self) -> bool {
        matches!(self, AppendError::Storage { .. })
    }

    /// The failed append had already moved on to a new segment, which the batch it failed
    /// for would have started.
    pub fn rolled_over(&self) -> bool {
        matches!(
            self,
            AppendError::Storage {
                rolled_over: true,
                ..
            }
        )
    }
}

pub struct LogWriter {
    dir: PathBuf,
    segment_bytes: u64,
    segment: u64,
    file: File,
    offset: u64,
    next_sequence: u64,
    last_checksum: u128,
    record: Vec<u8>,
    faults: Arc<Faults>,
    /// A write or fdatasync failed: nothing may be appended any more.
    broken: bool,
}

impl LogWriter {
    pub fn open(
        dir: &Path,
        segment_bytes: u64,
        tail: Tail,
        faults: Arc<Faults>,
    ) -> io::Result<LogWriter> {
        let file = open_segment(dir, tail.segment, segment_bytes, &faults)?;
        sync_segment(&file, dir)?;
        Ok(LogWriter {
            dir: dir.to_owned(),
            segment_bytes,
            segment: tail.segment,
            file,
            offset: tail.offset,
            next_sequence: tail.next_sequence,
            last_checksum: tail.last_checksum,
            record: Vec::new(),
            faults,
            broken: false,
        })
    }

    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// The segment currently appended to.
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Makes one batch durable. After `AppendError::NoSegment` nothing advanced: the same
    /// sequence number goes to the next batch. After `AppendError::Storage` the writer is
    /// broken and must not be used again (asserted).
    pub fn append(
        &mut self,
        timestamp: u64,
        command_count: u32,
        body: &[u8],
    ) -> Result<Appended, AppendError> {
        assert!(
            !self.broken,
            "append after a failed log write or fdatasync: the file's contents are unknown"
        );
        let sequence = self.next_sequence;
        let checksum = record::build(
            &mut self.record,
            sequence,
            timestamp,
            command_count,
            self.last_checksum,
            body,
        );
        let len = self.record.len() as u64;
        assert!(
            len <= self.segment_bytes,
            "a record must fit in an empty segment"
        );
        let rolled_over = self.offset + len > self.segment_bytes;
        if rolled_over {
            self.roll_over(sequence)?;
        }
        let sync_time = self.write_and_sync(len).map_err(|(operation, source)| {
            self.broken = true;
            AppendError::Storage {
                operation,
                sequence,
                rolled_over,
                source,
            }
        })?;
        self.offset += len;
        self.next_sequence += 1;
        self.last_checksum = checksum;
        Ok(Appended {
            sequence,
            checksum,
            bytes: len,
            sync_time,
            rolled_over,
        })
    }

    /// Writes the record at the tail and fdatasyncs; returns the time the fdatasync took, or
    /// which of the two failed.
    fn write_and_sync(&mut self, len: u64) -> Result<Duration, (&'static str, io::Error)> {
        self.write(len).map_err(|error| ("write", error))?;
        let sync_start = Instant::now();
        self.sync().map_err(|error| ("fdatasync", error))?;
        Ok(sync_start.elapsed())
    }

    fn write(&mut self, len: u64) -> io::Result<()> {
        if self.faults.write_fails() {
            let half = &self.record[..self.record.len() / 2];
            self.file.write_all_at(half, self.offset)?;
            return Err(faults::no_space());
        }
        debug_assert_eq!(len as usize, self.record.len());
        self.file.write_all_at(&self.record, self.offset)
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.faults.sync_fails() {
            return Err(faults::io_error());
        }
        self.file.sync_data()
    }

    /// Continues in the next segment (created and preallocated if needed). The rest of the
    /// current one stays zeros, which readers take as "continue in the next segment". Failing
    /// to create it changes nothing; failing to make it durable breaks the writer.
    fn roll_over(&mut self, sequence: u64) -> Result<(), AppendError> {
        let next = self.segment + 1;
        let file =
            open_segment(&self.dir, next, self.segment_bytes, &self.faults).map_err(|source| {
                AppendError::NoSegment {
                    segment: next,
                    source,
                }
            })?;
        sync_segment(&file, &self.dir).map_err(|source| {
            self.broken = true;
            AppendError::Storage {
                operation: "fsync of a new segment",
                sequence,
                rolled_over: false,
                source,
            }
        })?;
        self.file = file;
        self.segment = next;
        self.offset = 0;
        Ok(())
    }
}

/// Opens segment `index`, creating and preallocating it if new (a segment that cannot be
/// preallocated is removed again).
fn open_segment(dir: &Path, index: u64, segment_bytes: u64, faults: &Faults) -> io::Result<File> {
    let path = segment_path(dir, index);
    if path.exists() {
        return OpenOptions::new().read(true).write(true).open(&path);
    }
    if faults.create_fails() {
        return Err(faults::no_space());
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    if let Err(error) = preallocate(&file, segment_bytes) {
        drop(file);
        let _ = std::fs::remove_file(&path);
        return Err(error);
    }
    Ok(file)
}

/// Makes a segment and its directory entry durable before anything is appended to it — also
/// one found already there (left by an attempt that failed before or a process that stopped
/// before writing to it), whose creation may never have been synced.
fn sync_segment(file: &File, dir: &Path) -> io::Result<()> {
    file.sync_all()?;
    sync_dir(dir)
}

/// Reserves the segment's blocks up front, so that a full disk shows up when a segment is
/// created, not in the middle of appending to it.
fn preallocate(file: &File, len: u64) -> io::Result<()> {
    // SAFETY: plain syscall on a file descriptor we own; no memory is passed.
    let result = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
    match result {
        0 => Ok(()),
        libc::EOPNOTSUPP | libc::EINVAL => file.set_len(len),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// Makes a directory's entries (new or renamed files) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::SeqCst;

    use super::*;

    const SEGMENT_BYTES: u64 = 4096;
    /// 1,064 bytes as a record: three fit in a segment, the fourth starts the next one.
    const BODY: [u8; 1000] = [7; 1000];

    fn writer(dir: &Path) -> (LogWriter, Arc<Faults>) {
        let faults = Arc::new(Faults::default());
        let tail = Tail {
            segment: 1,
            offset: 0,
            next_sequence: 1,
            last_checksum: 0,
        };
        let log = LogWriter::open(dir, SEGMENT_BYTES, tail, faults.clone()).unwrap();
        (log, faults)
    }

    fn fill_first_segment(log: &mut LogWriter) {
        for timestamp in 1..=3 {
            let appended = log.append(timestamp, 1, &BODY).unwrap();
            assert_eq!(
                (appended.sequence, appended.rolled_over),
                (timestamp, false)
            );
        }
    }

    #[test]
    fn a_failed_write_after_a_rollover_reports_the_new_segment() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, faults) = writer(dir.path());
        fill_first_segment(&mut log);
        faults.fail_writes.store(1, SeqCst);
        let error = log.append(4, 1, &BODY).unwrap_err();
        assert!(error.is_fatal() && error.rolled_over(), "{error}");
        assert!(
            matches!(
                error,
                AppendError::Storage {
                    sequence: 4,
                    operation: "write",
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!((log.segment(), log.next_sequence()), (2, 4));
    }

    #[test]
    fn a_segment_that_cannot_be_created_changes_nothing_and_the_next_append_rolls_over() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, faults) = writer(dir.path());
        fill_first_segment(&mut log);
        faults.fail_creates.store(1, SeqCst);
        let error = log.append(4, 1, &BODY).unwrap_err();
        assert!(!error.is_fatal() && !error.rolled_over(), "{error}");
        assert_eq!((log.segment(), log.next_sequence()), (1, 4));
        let appended = log.append(5, 1, &BODY).unwrap();
        assert_eq!((appended.sequence, appended.rolled_over), (4, true));
        assert_eq!(log.segment(), 2);
    }

    #[test]
    #[should_panic(expected = "append after a failed log write or fdatasync")]
    fn a_writer_whose_fdatasync_failed_never_appends_again() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, faults) = writer(dir.path());
        faults.fail_syncs.store(1, SeqCst);
        let error = log.append(1, 1, &BODY).unwrap_err();
        assert!(
            matches!(
                error,
                AppendError::Storage {
                    sequence: 1,
                    operation: "fdatasync",
                    rolled_over: false,
                    ..
                }
            ),
            "{error}"
        );
        let _ = log.append(2, 1, &BODY);
    }
}
