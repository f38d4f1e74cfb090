//! Snapshot files: `snapshots/snapshot-<sequence>.snap`, a 64-byte header and the ledger's
//! snapshot encoding. Written to a temporary name, fsynced, and published by rename, so a
//! snapshot file either exists complete or not at all. Loading verifies both checksums.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use paycore_ledger::{Ledger, LedgerSnapshot};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::log::writer::sync_dir;

const MAGIC: &[u8; 4] = b"PCSN";
const VERSION: u32 = 1;
const HEADER_BYTES: usize = 64;

/// What a snapshot file says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// Last log sequence the snapshot includes.
    pub sequence: u64,
    /// Checksum of that log record: the next record must link to it.
    pub chain_checksum: u128,
    pub body_len: u64,
    pub body_checksum: u128,
}

impl SnapshotHeader {
    fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut bytes = [0u8; HEADER_BYTES];
        bytes[0..4].copy_from_slice(MAGIC);
        bytes[4..8].copy_from_slice(&VERSION.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.sequence.to_le_bytes());
        bytes[16..32].copy_from_slice(&self.chain_checksum.to_le_bytes());
        bytes[32..40].copy_from_slice(&self.body_len.to_le_bytes());
        bytes[40..56].copy_from_slice(&self.body_checksum.to_le_bytes());
        let check = xxh3_64(&bytes[..56]);
        bytes[56..64].copy_from_slice(&check.to_le_bytes());
        bytes
    }

    fn decode(bytes: &[u8; HEADER_BYTES]) -> Result<SnapshotHeader, String> {
        if &bytes[0..4] != MAGIC {
            return Err("not a snapshot file".into());
        }
        let check = u64::from_le_bytes(bytes[56..64].try_into().expect("8 bytes"));
        if xxh3_64(&bytes[..56]) != check {
            return Err("header checksum mismatch".into());
        }
        if u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")) != VERSION {
            return Err("unknown snapshot version".into());
        }
        Ok(SnapshotHeader {
            sequence: u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")),
            chain_checksum: u128::from_le_bytes(bytes[16..32].try_into().expect("16 bytes")),
            body_len: u64::from_le_bytes(bytes[32..40].try_into().expect("8 bytes")),
            body_checksum: u128::from_le_bytes(bytes[40..56].try_into().expect("16 bytes")),
        })
    }
}

pub fn snapshot_path(dir: &Path, sequence: u64) -> PathBuf {
    dir.join(format!("snapshot-{sequence:020}.snap"))
}

/// Snapshot files in `dir`, newest (highest sequence) first.
pub fn list(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let sequence = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("snapshot-")?.strip_suffix(".snap"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(sequence) = sequence {
            found.push((sequence, path));
        }
    }
    found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    Ok(found)
}

/// Writes and publishes a snapshot; returns its path once it is durable.
pub fn write(
    dir: &Path,
    sequence: u64,
    chain_checksum: u128,
    snapshot: &LedgerSnapshot,
) -> io::Result<PathBuf> {
    let path = snapshot_path(dir, sequence);
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(&[0u8; HEADER_BYTES])?;
    let mut body = Hashing {
        inner: BufWriter::with_capacity(1 << 20, &mut file),
        hasher: Xxh3::new(),
        len: 0,
    };
    snapshot.encode(&mut body)?;
    body.inner.flush()?;
    let header = SnapshotHeader {
        sequence,
        chain_checksum,
        body_len: body.len,
        body_checksum: body.hasher.digest128(),
    };
    drop(body);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header.encode())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    Ok(path)
}

/// A snapshot read back into a working ledger.
pub struct Loaded {
    pub ledger: Ledger,
    pub header: SnapshotHeader,
}

/// Reads one snapshot file, verifying header and body checksums.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut header_bytes = [0u8; HEADER_BYTES];
    reader
        .read_exact(&mut header_bytes)
        .map_err(|e| format!("header: {e}"))?;
    let header = SnapshotHeader::decode(&header_bytes)?;
    let mut body = Hashing {
        inner: reader.take(header.body_len),
        hasher: Xxh3::new(),
        len: 0,
    };
    let ledger = LedgerSnapshot::decode(&mut body).map_err(|e| e.to_string());
    // Read to the declared end so the checksum covers every byte, whatever decode did.
    io::copy(&mut body, &mut io::sink()).map_err(|e| e.to_string())?;
    if body.len != header.body_len {
        return Err(format!(
            "body is {} bytes, header says {}",
            body.len, header.body_len
        ));
    }
    if body.hasher.digest128() != header.body_checksum {
        return Err("body checksum mismatch".into());
    }
    Ok(Loaded {
        ledger: ledger?,
        header,
    })
}

/// Passes bytes through while hashing and counting them.
struct Hashing<T> {
    inner: T,
    hasher: Xxh3,
    len: u64,
}

impl<T: Write> Write for Hashing<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Hashing<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}
