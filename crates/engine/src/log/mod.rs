//! The write-ahead log: segment files of chained, checksummed batch records.
//!
//! `writer` appends (one write and one fdatasync per batch), `reader` scans segments for
//! recovery and for `paycore verify-log`. The format is documented in docs/log-format.md.

pub mod reader;
pub mod record;
pub mod tail;
pub mod writer;

use std::path::{Path, PathBuf};

/// File name of segment `index` (1-based, ascending).
pub fn segment_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("{index:020}.seg"))
}

/// Segment files in `dir`, ascending by index.
pub fn list_segments(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let index = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(index) = index {
            segments.push((index, path));
        }
    }
    segments.sort();
    Ok(segments)
}
