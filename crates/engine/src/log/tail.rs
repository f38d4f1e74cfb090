//! `LogTail`: reads a live log record by record, from any sequence on, as the writer appends
//! to it. The caller says how far the log is durable; records beyond that are never read, so
//! a write in progress is never seen half-done.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use super::reader::LogError;
use super::record::{self, Header, Parsed, HEADER_BYTES};
use super::{list_segments, segment_path};

pub struct LogTail {
    /// Where segments may be: the log directory, then the archive (retired segments).
    dirs: Vec<PathBuf>,
    segment: u64,
    offset: u64,
    file: Option<(u64, PathBuf, File)>,
    next_sequence: u64,
    prev_checksum: u128,
    body_len_max: usize,
    buffer: Vec<u8>,
}

impl LogTail {
    /// Positions the tail at the record `sequence`, which must link to `prev_checksum`
    /// (0 for sequence 1; a snapshot's chain checksum otherwise, or `None` to accept any).
    pub fn open(
        dirs: Vec<PathBuf>,
        sequence: u64,
        prev_checksum: Option<u128>,
        body_len_max: usize,
    ) -> Result<LogTail, LogError> {
        let mut segments = Vec::new();
        for dir in &dirs {
            if dir.exists() {
                segments.extend(list_segments(dir).map_err(|source| LogError::Io {
                    path: dir.clone(),
                    source,
                })?);
            }
        }
        segments.sort();
        segments.dedup_by_key(|(index, _)| *index);
        let mut tail = LogTail {
            dirs,
            segment: segments.first().map_or(1, |s| s.0),
            offset: 0,
            file: None,
            next_sequence: 1,
            prev_checksum: 0,
            body_len_max,
            buffer: Vec::new(),
        };
        // Start in the last segment that begins at or before the wanted sequence.
        for (index, _) in &segments {
            match tail.first_header(*index)? {
                Some(header) if header.sequence <= sequence => {
                    tail.segment = *index;
                    tail.next_sequence = header.sequence;
                    tail.prev_checksum = header.prev_checksum;
                }
                _ => break,
            }
        }
        if tail.next_sequence > sequence {
            let reason = format!(
                "the log starts at sequence {} but {sequence} is needed",
                tail.next_sequence
            );
            return Err(LogError::Corrupt {
                path: segment_path(&tail.dirs[0], tail.segment),
                offset: 0,
                reason,
            });
        }
        while tail.next_sequence < sequence {
            if tail.next(u64::MAX)?.is_none() {
                let reason = format!("the log ends before sequence {sequence}");
                return Err(LogError::Corrupt {
                    path: segment_path(&tail.dirs[0], tail.segment),
                    offset: tail.offset,
                    reason,
                });
            }
        }
        if let Some(expected) = prev_checksum {
            if tail.prev_checksum != expected && tail.next_sequence > 1 {
                let reason =
                    format!("record {sequence} does not link to the state it should continue");
                return Err(LogError::Corrupt {
                    path: segment_path(&tail.dirs[0], tail.segment),
                    offset: tail.offset,
                    reason,
                });
            }
        }
        Ok(tail)
    }

    /// Sequence of the record `next` returns next.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// The next record if its sequence is at most `durable_sequence`; `None` when caught up.
    pub fn next(&mut self, durable_sequence: u64) -> Result<Option<(Header, &[u8])>, LogError> {
        if self.next_sequence > durable_sequence {
            return Ok(None);
        }
        loop {
            match self.parse_here()? {
                Some(header) => {
                    let (path, offset) = (self.path()?, self.offset);
                    if header.sequence != self.next_sequence
                        || header.prev_checksum != self.prev_checksum
                    {
                        let reason = format!(
                            "expected record {} linked to its predecessor, found record {}",
                            self.next_sequence, header.sequence
                        );
                        return Err(LogError::Corrupt {
                            path,
                            offset,
                            reason,
                        });
                    }
                    self.offset += header.record_bytes() as u64;
                    self.next_sequence += 1;
                    self.prev_checksum = header.checksum;
                    let body = &self.buffer[HEADER_BYTES..HEADER_BYTES + header.body_len as usize];
                    return Ok(Some((header, body)));
                }
                // Nothing (or an abandoned write) here: the record is in the next segment.
                None if self.segment_exists(self.segment + 1) => {
                    self.segment += 1;
                    self.offset = 0;
                }
                None if durable_sequence == u64::MAX => return Ok(None),
                None => {
                    let reason = format!("record {} is durable but not found", self.next_sequence);
                    return Err(LogError::Corrupt {
                        path: self.path()?,
                        offset: self.offset,
                        reason,
                    });
                }
            }
        }
    }

    /// The valid record at the current position, if there is one.
    fn parse_here(&mut self) -> Result<Option<Header>, LogError> {
        self.ensure_file()?;
        let (_, path, file) = self.file.as_ref().expect("ensured");
        let io = |source| LogError::Io {
            path: path.clone(),
            source,
        };
        let mut header = [0u8; HEADER_BYTES];
        let read = read_at(file, &mut header, self.offset).map_err(io)?;
        if read < HEADER_BYTES || header.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let body_len = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes")) as usize;
        if body_len > self.body_len_max {
            return Ok(None);
        }
        self.buffer.resize(record::record_bytes(body_len), 0);
        let read = read_at(file, &mut self.buffer, self.offset).map_err(io)?;
        Ok(
            match record::parse(&self.buffer[..read], self.body_len_max) {
                Parsed::Valid(header) => Some(header),
                Parsed::Empty | Parsed::Invalid(_) => None,
            },
        )
    }

    fn first_header(&mut self, segment: u64) -> Result<Option<Header>, LogError> {
        let (saved_segment, saved_offset) = (self.segment, self.offset);
        self.segment = segment;
        self.offset = 0;
        let header = self.parse_here();
        self.segment = saved_segment;
        self.offset = saved_offset;
        header
    }

    fn locate(&self, segment: u64) -> Option<PathBuf> {
        self.dirs
            .iter()
            .map(|dir| segment_path(dir, segment))
            .find(|path| path.exists())
    }

    fn segment_exists(&self, segment: u64) -> bool {
        self.locate(segment).is_some()
    }

    fn path(&mut self) -> Result<PathBuf, LogError> {
        self.ensure_file()?;
        Ok(self.file.as_ref().expect("ensured").1.clone())
    }

    fn ensure_file(&mut self) -> Result<(), LogError> {
        if self
            .file
            .as_ref()
            .is_some_and(|(index, _, _)| *index == self.segment)
        {
            return Ok(());
        }
        let path = self.locate(self.segment).ok_or_else(|| LogError::Corrupt {
            path: segment_path(&self.dirs[0], self.segment),
            offset: 0,
            reason: "segment missing".into(),
        })?;
        let file = File::open(&path).map_err(|source| LogError::Io {
            path: path.clone(),
            source,
        })?;
        self.file = Some((self.segment, path, file));
        Ok(())
    }
}

/// Reads as much of `buffer` as the file holds at `offset`.
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buffer.len() {
        match file.read_at(&mut buffer[done..], offset + done as u64)? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}
