//! The zip archive around an Alipay bill: finding the detail file and reading it.
//!
//! `zip` parses the central directory; the detail entry is then inflated and checksummed
//! here from the archive's own reader, so the statement reader owns its input instead of
//! borrowing a `ZipArchive` for as long as it reads.

use std::borrow::Cow;
use std::io::{self, Read, Seek, SeekFrom};

use encoding_rs::GBK;
use flate2::read::DeflateDecoder;
use zip::{CompressionMethod, ZipArchive};

use super::{DETAIL_MARK, SUMMARY_MARK};
use crate::{ErrorKind, StatementError};

/// The detail file of the archive, decompressed, failing with `InvalidData` at its end if its
/// size or CRC-32 differ from the archive's record of them.
pub(crate) fn detail_file<'a, R: Read + Seek + 'a>(
    input: R,
) -> Result<Box<dyn Read + 'a>, StatementError> {
    let mut archive =
        ZipArchive::new(input).map_err(|e| corrupt(format!("not a readable zip archive: {e}")))?;
    let index = detail_index(&archive)?;
    let entry = Entry::of(&mut archive, index)?;
    let mut input = archive.into_inner();
    input
        .seek(SeekFrom::Start(entry.data_start))
        .map_err(|e| corrupt(format!("cannot seek to the detail file: {e}")))?;
    let raw = input.take(entry.compressed_size);
    let body: Box<dyn Read + 'a> = match entry.method {
        CompressionMethod::Stored => Box::new(raw),
        CompressionMethod::Deflated => Box::new(DeflateDecoder::new(raw)),
        other => {
            return Err(corrupt(format!(
                "the detail file is compressed with {other}, not deflate"
            )))
        }
    };
    Ok(Box::new(Checked {
        inner: body,
        hasher: crc32fast::Hasher::new(),
        size: 0,
        expected_size: entry.size,
        expected_crc: entry.crc32,
    }))
}

fn corrupt(reason: String) -> StatementError {
    StatementError::new(ErrorKind::Zip, 0, reason)
}

/// The entry whose name holds 业务明细 but not 汇总, else the archive's only `.csv` entry.
fn detail_index<R: Read + Seek>(archive: &ZipArchive<R>) -> Result<usize, StatementError> {
    let mut details = Vec::new();
    let mut csvs = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index_data(index)
            .map_err(|e| corrupt(format!("entry {index}: {e}")))?;
        let name = entry_name(entry.name_raw());
        if entry.is_dir() || !name.to_lowercase().ends_with(".csv") {
            continue;
        }
        if name.contains(DETAIL_MARK) && !name.contains(SUMMARY_MARK) {
            details.push(index);
        }
        csvs.push(index);
    }
    match (details.as_slice(), csvs.as_slice()) {
        ([index], _) | ([], [index]) => Ok(*index),
        ([], _) => Err(corrupt(format!(
            "no detail file: none of the archive's {} CSV files is named …{DETAIL_MARK}….csv",
            csvs.len()
        ))),
        _ => Err(corrupt(format!(
            "{} files are named …{DETAIL_MARK}….csv: which one is the bill?",
            details.len()
        ))),
    }
}

/// An entry's name: UTF-8 when it is, else GBK (Alipay does not flag its names as UTF-8).
fn entry_name(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(name) => Cow::Borrowed(name),
        Err(_) => GBK.decode_without_bom_handling(raw).0,
    }
}

/// Where the detail file's bytes are and what they must add up to.
struct Entry {
    data_start: u64,
    compressed_size: u64,
    size: u64,
    crc32: u32,
    method: CompressionMethod,
}

impl Entry {
    fn of<R: Read + Seek>(
        archive: &mut ZipArchive<R>,
        index: usize,
    ) -> Result<Entry, StatementError> {
        let file = archive
            .by_index_raw(index)
            .map_err(|e| corrupt(format!("the detail file: {e}")))?;
        if file.encrypted() {
            return Err(corrupt("the detail file is encrypted".to_owned()));
        }
        let data_start = file
            .data_start()
            .ok_or_else(|| corrupt("the detail file's data could not be located".to_owned()))?;
        Ok(Entry {
            data_start,
            compressed_size: file.compressed_size(),
            size: file.size(),
            crc32: file.crc32(),
            method: file.compression(),
        })
    }
}

/// Passes the decompressed bytes through, and at their end checks size and CRC-32.
struct Checked<'a> {
    inner: Box<dyn Read + 'a>,
    hasher: crc32fast::Hasher,
    size: u64,
    expected_size: u64,
    expected_crc: u32,
}

impl Read for Checked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if read > 0 {
            self.hasher.update(&buf[..read]);
            self.size += read as u64;
            if self.size > self.expected_size {
                return Err(damaged("the detail file is longer than the archive says"));
            }
        } else if !buf.is_empty() {
            if self.size != self.expected_size {
                return Err(damaged("the detail file is shorter than the archive says"));
            }
            if self.hasher.clone().finalize() != self.expected_crc {
                return Err(damaged(
                    "the detail file's CRC-32 does not match the archive's",
                ));
            }
        }
        Ok(read)
    }
}

fn damaged(reason: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt zip archive: {reason}"),
    )
}
