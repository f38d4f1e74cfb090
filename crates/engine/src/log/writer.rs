//! Appending batches to the log: build the record, write it at the tail of the current
//! segment, fdatasync, and only then advance. A failed append leaves the writer where it was,
//! so the next batch overwrites whatever a half-finished write left behind.

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
}

impl LogWriter {
    pub fn open(
        dir: &Path,
        segment_bytes: u64,
        tail: Tail,
        faults: Arc<Faults>,
    ) -> io::Result<LogWriter> {
        let file = open_segment(dir, tail.segment, segment_bytes, &faults)?;
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
        })
    }

    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// The segment currently appended to.
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Makes one batch durable. On error nothing advanced: the same sequence number goes to
    /// the next batch, written at the same place.
    pub fn append(
        &mut self,
        timestamp: u64,
        command_count: u32,
        body: &[u8],
    ) -> io::Result<Appended> {
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
            self.roll_over()?;
        }
        self.write(len)?;
        let sync_start = Instant::now();
        self.sync()?;
        let sync_time = sync_start.elapsed();
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
    /// current one stays zeros, which readers take as "continue in the next segment".
    fn roll_over(&mut self) -> io::Result<()> {
        let next = self.segment + 1;
        let file = open_segment(&self.dir, next, self.segment_bytes, &self.faults)?;
        self.file = file;
        self.segment = next;
        self.offset = 0;
        Ok(())
    }
}

/// Opens segment `index`, creating and preallocating it (and syncing the directory) if new.
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
    file.sync_all()?;
    sync_dir(dir)?;
    Ok(file)
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
