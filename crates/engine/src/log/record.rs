//! The log record: a 64-byte header followed by the encoded commands of one batch, padded to
//! 8 bytes. The checksum (XXH3-128) covers the header — including the previous record's
//! checksum — and the body, so records form a chain: changing any byte anywhere breaks every
//! later link. See docs/log-format.md.

use xxhash_rust::xxh3::Xxh3;

pub const HEADER_BYTES: usize = 64;
pub const MAGIC: u32 = u32::from_le_bytes(*b"PCL1");
pub const KIND_BATCH: u8 = 1;
/// Bytes of the header covered by the checksum: everything before the checksum field.
const CHECKSUMMED_HEADER_BYTES: usize = 48;

/// The decoded fixed part of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub body_len: u32,
    pub command_count: u32,
    /// Batch sequence number: 1 for the first batch ever, then +1 per record.
    pub sequence: u64,
    /// Engine time of the batch, ns since the Unix epoch; command i is stamped `timestamp + i`.
    pub timestamp: u64,
    pub prev_checksum: u128,
    pub checksum: u128,
}

impl Header {
    /// Bytes the record occupies in a segment: header, body, padding to 8.
    pub fn record_bytes(&self) -> usize {
        record_bytes(self.body_len as usize)
    }
}

pub fn record_bytes(body_len: usize) -> usize {
    HEADER_BYTES + body_len.next_multiple_of(8)
}

/// Builds a record for `body` into `out` (cleared first) and returns its checksum.
pub fn build(
    out: &mut Vec<u8>,
    sequence: u64,
    timestamp: u64,
    command_count: u32,
    prev_checksum: u128,
    body: &[u8],
) -> u128 {
    out.clear();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&[KIND_BATCH, 0, 0, 0]);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&command_count.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&timestamp.to_le_bytes());
    out.extend_from_slice(&prev_checksum.to_le_bytes());
    debug_assert_eq!(out.len(), CHECKSUMMED_HEADER_BYTES);
    let checksum = checksum(&out[..CHECKSUMMED_HEADER_BYTES], body);
    out.extend_from_slice(&checksum.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(record_bytes(body.len()), 0);
    checksum
}

fn checksum(header: &[u8], body: &[u8]) -> u128 {
    let mut hasher = Xxh3::new();
    hasher.update(header);
    hasher.update(body);
    hasher.digest128()
}

/// What the bytes at a record position turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete record whose checksum matches.
    Valid(Header),
    /// Nothing written here: the header is all zeros.
    Empty,
    /// Bytes that are not a valid record (torn write, corruption, garbage).
    Invalid(&'static str),
}

/// Parses the record starting at `bytes[0]`; `bytes` extends to the end of the segment.
pub fn parse(bytes: &[u8], body_len_max: usize) -> Parsed {
    if bytes.len() < HEADER_BYTES {
        return if bytes.iter().all(|b| *b == 0) {
            Parsed::Empty
        } else {
            Parsed::Invalid("truncated header")
        };
    }
    let header = &bytes[..HEADER_BYTES];
    if header.iter().all(|b| *b == 0) {
        return Parsed::Empty;
    }
    let u32_at = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(header[i..i + 8].try_into().expect("8 bytes"));
    let u128_at = |i: usize| u128::from_le_bytes(header[i..i + 16].try_into().expect("16 bytes"));
    if u32_at(0) != MAGIC || header[4] != KIND_BATCH {
        return Parsed::Invalid("bad magic");
    }
    let body_len = u32_at(8) as usize;
    if body_len > body_len_max || record_bytes(body_len) > bytes.len() {
        return Parsed::Invalid("impossible length");
    }
    let body = &bytes[HEADER_BYTES..HEADER_BYTES + body_len];
    let stored = u128_at(48);
    if checksum(&header[..CHECKSUMMED_HEADER_BYTES], body) != stored {
        return Parsed::Invalid("checksum mismatch");
    }
    Parsed::Valid(Header {
        body_len: body_len as u32,
        command_count: u32_at(12),
        sequence: u64_at(16),
        timestamp: u64_at(24),
        prev_checksum: u128_at(32),
        checksum: stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_records_parse_and_any_flipped_byte_is_caught() {
        let mut record = Vec::new();
        let checksum = build(&mut record, 7, 1234, 2, 99, b"hello body");
        assert_eq!(record.len() % 8, 0);
        let header = match parse(&record, 1 << 20) {
            Parsed::Valid(h) => h,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (
                header.sequence,
                header.timestamp,
                header.command_count,
                header.prev_checksum
            ),
            (7, 1234, 2, 99)
        );
        assert_eq!(header.checksum, checksum);
        for i in 0..HEADER_BYTES + 10 {
            let mut flipped = record.clone();
            flipped[i] ^= 0x01;
            assert!(
                matches!(parse(&flipped, 1 << 20), Parsed::Invalid(_)),
                "byte {i}"
            );
        }
        assert_eq!(parse(&[0; 100], 1 << 20), Parsed::Empty);
        for cut in 1..HEADER_BYTES + 10 {
            let mut torn = record[..cut].to_vec();
            torn.resize(record.len() + 64, 0);
            assert!(
                matches!(parse(&torn, 1 << 20), Parsed::Invalid(_)),
                "cut at {cut}"
            );
        }
    }
}
