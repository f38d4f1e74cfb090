//! PostgreSQL's binary COPY format, written by hand for the projector's bulk tables: the server
//! takes the values as they are (no text to parse), and encoding is a few byte copies per value.
//! `postgres::binary_copy::BinaryCopyInWriter` does the same through a `&dyn ToSql` per value
//! and cost us more CPU than formatting text did (3M transfers: 19–20 s against 16–17 s).
//!
//! Format: a signature and two zero words, then per row a field count and per field its byte
//! length (-1 for NULL) and its bytes (big-endian integers), then -1 as the trailer.

use std::io::Write as _;

use postgres::{CopyInWriter, Transaction};

use crate::backend::StoreError;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// The OID of `bigint`, named inside a binary array.
const INT8_OID: u32 = 20;
/// The OID of `text`.
const TEXT_OID: u32 = 25;
/// Sent to the server whenever this much is encoded, so it works while we encode the rest.
const CHUNK: usize = 1 << 18;

/// Rows being streamed into one table.
pub(crate) struct CopyRows<'a> {
    sink: CopyInWriter<'a>,
    buf: Vec<u8>,
    /// Fields still to come in the current row.
    fields_left: i16,
}

impl<'a> CopyRows<'a> {
    /// Starts `COPY table FROM STDIN (FORMAT binary)`; `table` may list columns.
    pub fn start(tx: &'a mut Transaction<'_>, table: &str) -> Result<CopyRows<'a>, StoreError> {
        let sink = tx.copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))?;
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        Ok(CopyRows {
            sink,
            buf,
            fields_left: 0,
        })
    }

    /// Begins a row of `fields` values.
    pub fn row(&mut self, fields: i16) -> Result<(), StoreError> {
        assert_eq!(self.fields_left, 0, "the previous row is incomplete");
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self.fields_left = fields;
        Ok(())
    }

    fn field(&mut self, len: i32) {
        assert!(self.fields_left > 0, "more fields than the row declared");
        self.fields_left -= 1;
        self.buf.extend_from_slice(&len.to_be_bytes());
    }

    pub fn int8(&mut self, value: i64) {
        self.field(8);
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    /// A non-negative count, id or amount.
    pub fn uint8(&mut self, value: u64) {
        self.int8(bigint(value));
    }

    pub fn text(&mut self, value: &str) {
        let len = i32::try_from(value.len()).expect("a stored text is shorter than 2 GB");
        self.field(len);
        self.buf.extend_from_slice(value.as_bytes());
    }

    /// A one-dimensional `bigint[]` without NULLs.
    pub fn uint8_array(&mut self, values: impl Iterator<Item = u64>) {
        self.opt_int8_array(values.map(|v| Some(bigint(v))));
    }

    /// A one-dimensional `bigint[]` without NULLs.
    pub fn int8_array(&mut self, values: impl Iterator<Item = i64>) {
        self.opt_int8_array(values.map(Some));
    }

    /// A one-dimensional `bigint[]`, `None` as NULL.
    pub fn opt_uint8_array(&mut self, values: impl Iterator<Item = Option<u64>>) {
        self.opt_int8_array(values.map(|v| v.map(bigint)));
    }

    fn opt_int8_array(&mut self, values: impl Iterator<Item = Option<i64>>) {
        self.array(INT8_OID, values, |buf, value| {
            buf.extend_from_slice(&8i32.to_be_bytes());
            buf.extend_from_slice(&value.to_be_bytes());
        });
    }

    /// A one-dimensional `text[]` without NULLs.
    pub fn text_array<'s>(&mut self, values: impl Iterator<Item = &'s str>) {
        self.opt_text_array(values.map(Some));
    }

    /// A one-dimensional `text[]`, `None` as NULL.
    pub fn opt_text_array<'s>(&mut self, values: impl Iterator<Item = Option<&'s str>>) {
        self.array(TEXT_OID, values, |buf, value| {
            let len = i32::try_from(value.len()).expect("a stored text is shorter than 2 GB");
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(value.as_bytes());
        });
    }

    /// An array field: a header (dimensions, NULL flag, element type, length, lower bound),
    /// then per element its length and bytes (`write` appends both) or -1 for NULL. The
    /// field's byte length, the NULL flag and the element count are filled in after.
    fn array<T>(
        &mut self,
        element_oid: u32,
        values: impl Iterator<Item = Option<T>>,
        write: impl Fn(&mut Vec<u8>, T),
    ) {
        self.field(0);
        let length_at = self.buf.len() - 4;
        self.buf.extend_from_slice(&1i32.to_be_bytes()); // dimensions
        let nulls_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.extend_from_slice(&element_oid.to_be_bytes());
        let count_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.extend_from_slice(&1i32.to_be_bytes()); // lower bound
        let (mut count, mut nulls) = (0usize, false);
        for value in values {
            match value {
                Some(value) => write(&mut self.buf, value),
                None => {
                    self.buf.extend_from_slice(&(-1i32).to_be_bytes());
                    nulls = true;
                }
            }
            count += 1;
        }
        let bytes = self.buf.len() - length_at - 4;
        let (Ok(count), Ok(bytes)) = (i32::try_from(count), i32::try_from(bytes)) else {
            panic!("an array of {count} values is past a COPY field's 2 GB");
        };
        self.buf[nulls_at..nulls_at + 4].copy_from_slice(&i32::from(nulls).to_be_bytes());
        self.buf[count_at..count_at + 4].copy_from_slice(&count.to_be_bytes());
        self.buf[length_at..length_at + 4].copy_from_slice(&bytes.to_be_bytes());
    }

    fn send(&mut self) -> Result<(), StoreError> {
        self.sink
            .write_all(&self.buf)
            .map_err(|e| StoreError::Invalid(format!("COPY: {e}")))?;
        self.buf.clear();
        Ok(())
    }

    /// Sends the trailer and ends the COPY.
    pub fn finish(mut self) -> Result<(), StoreError> {
        assert_eq!(self.fields_left, 0, "the last row is incomplete");
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.send()?;
        self.sink.finish()?;
        Ok(())
    }
}

/// Ids, sequences, amounts and timestamps all fit a bigint (the ledger's balances are i64);
/// one that did not would be a broken invariant, not input to reject.
fn bigint(value: u64) -> i64 {
    i64::try_from(value).expect("a stored number fits a bigint")
}

/// Streams `rows` into `table` (which may list columns), each written by `write_row`.
pub(crate) fn copy_rows<T>(
    tx: &mut Transaction<'_>,
    table: &str,
    rows: &[T],
    mut write_row: impl FnMut(&mut CopyRows<'_>, &T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = CopyRows::start(tx, table)?;
    for row in rows {
        write_row(&mut copy, row)?;
    }
    copy.finish()
}
