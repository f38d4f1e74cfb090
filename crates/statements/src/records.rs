//! Physical lines of a statement into records of text fields: line numbers counted exactly
//! (blank and comment lines included), UTF-8 or GBK decoded, RFC 4180 quotes within a line,
//! and a bound on the length of a line so memory stays bounded on any input.
//!
//! Not the `csv` crate: its record positions are where the previous record ended, so a row
//! after Alipay's `#` comment lines or after a blank line would be reported at the wrong line.

use std::io::{BufRead, BufReader, Read};

use encoding_rs::{DecoderResult, GBK};

use crate::{ErrorKind, StatementError};

/// The longest line a reader accepts, in bytes without its line break.
pub const MAX_LINE_BYTES: usize = 1 << 20;

const READ_BUFFER_BYTES: usize = 64 * 1024;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How the bytes of a statement encode its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Gbk,
}

/// One row: its fields as text, one comma between each two, and the physical line it was on.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// The fields' text; field `i` is `text[ends[i - 1] + 1..ends[i]]` (from 0 for the first).
    text: String,
    ends: Vec<usize>,
    line: u64,
}

impl Record {
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `index`, or `""` past the last one (callers check the width first).
    pub(crate) fn get(&self, index: usize) -> &str {
        let Some(&end) = self.ends.get(index) else {
            return "";
        };
        let start = index.checked_sub(1).map_or(0, |p| self.ends[p] + 1);
        self.text.get(start..end).unwrap_or("")
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// A record from one line of text, for tests of the format parsers.
    #[cfg(test)]
    pub(crate) fn parse(line: u64, text: &str) -> Record {
        let mut record = Record::default();
        split(text, &mut record).expect("a well-formed test line");
        record.line = line;
        record
    }
}

/// Reads records from a statement, one physical line at a time.
pub(crate) struct Lines<'a> {
    input: BufReader<Box<dyn Read + 'a>>,
    raw: Vec<u8>,
    decoded: String,
    line: u64,
    encoding: Encoding,
    skip_comments: bool,
    io_kind: ErrorKind,
}

impl<'a> Lines<'a> {
    /// `skip_comments`: lines starting with `#` are not records (Alipay). `io_kind`: the kind
    /// of a read error (a zip entry's inflate and checksum errors arrive as I/O errors).
    pub(crate) fn new(
        input: Box<dyn Read + 'a>,
        encoding: Encoding,
        skip_comments: bool,
        io_kind: ErrorKind,
    ) -> Lines<'a> {
        Lines {
            input: BufReader::with_capacity(READ_BUFFER_BYTES, input),
            raw: Vec::new(),
            decoded: String::new(),
            line: 0,
            encoding,
            skip_comments,
            io_kind,
        }
    }

    /// Physical lines read so far.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Fills `record` with the next row; `false` at the end of the input.
    pub(crate) fn next_record(&mut self, record: &mut Record) -> Result<bool, StatementError> {
        while self.read_line()? {
            let mut bytes = content(&self.raw);
            if self.line == 1 && self.encoding == Encoding::Utf8 {
                bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
            }
            if bytes.is_empty() || (self.skip_comments && bytes[0] == b'#') {
                continue;
            }
            let text = decode(bytes, self.encoding, &mut self.decoded, self.line)?;
            split(text, record)
                .map_err(|reason| StatementError::new(ErrorKind::Malformed, self.line, reason))?;
            record.line = self.line;
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads one physical line into `raw`; `false` at the end of the input.
    fn read_line(&mut self) -> Result<bool, StatementError> {
        self.raw.clear();
        let limit = MAX_LINE_BYTES as u64 + 2;
        let read = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.raw)
            .map_err(|err| StatementError::new(self.io_kind, self.line + 1, err.to_string()))?;
        if read == 0 {
            return Ok(false);
        }
        self.line += 1;
        if content(&self.raw).len() > MAX_LINE_BYTES {
            let reason = format!("the line is longer than {MAX_LINE_BYTES} bytes");
            return Err(StatementError::new(ErrorKind::Malformed, self.line, reason));
        }
        Ok(true)
    }
}

/// A line without its `\n` or `\r\n`.
fn content(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

fn decode<'t>(
    bytes: &'t [u8],
    encoding: Encoding,
    scratch: &'t mut String,
    line: u64,
) -> Result<&'t str, StatementError> {
    let bad = |at: usize, what: &str| {
        let reason = format!("the line is not valid {what} (at byte {})", at + 1);
        StatementError::new(ErrorKind::Encoding, line, reason)
    };
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes).map_err(|e| bad(e.valid_up_to(), "UTF-8")),
        Encoding::Gbk => {
            scratch.clear();
            let mut decoder = GBK.new_decoder_without_bom_handling();
            let room = decoder
                .max_utf8_buffer_length_without_replacement(bytes.len())
                .unwrap_or(usize::MAX);
            scratch.reserve(room);
            let (result, read) = decoder.decode_to_string_without_replacement(bytes, scratch, true);
            match result {
                DecoderResult::InputEmpty => Ok(scratch.as_str()),
                DecoderResult::Malformed(bad_len, _) => {
                    Err(bad(read.saturating_sub(usize::from(bad_len)), "GBK"))
                }
                DecoderResult::OutputFull => Err(bad(read, "GBK")),
            }
        }
    }
}

/// Splits one line into fields: commas separate them, a field that starts with `"` is quoted
/// (`""` inside is one quote) and must end at a comma or the end of the line. A line without
/// quotes (every WeChat and Alipay row we know of) is copied once and split at its commas.
fn split(text: &str, record: &mut Record) -> Result<(), String> {
    record.text.clear();
    record.ends.clear();
    let bytes = text.as_bytes();
    if memchr::memchr(b'"', bytes).is_none() {
        record.text.push_str(text);
        commas(bytes, &mut record.ends);
        record.ends.push(bytes.len());
        return Ok(());
    }
    let mut at = 0;
    loop {
        if !record.ends.is_empty() {
            record.text.push(',');
        }
        if bytes.get(at) == Some(&b'"') {
            at = unquote(text, at + 1, &mut record.text)?;
            record.ends.push(record.text.len());
            match bytes.get(at) {
                None => return Ok(()),
                Some(b',') => at += 1,
                Some(_) => return Err("a quoted field must end at a comma".to_owned()),
            }
        } else {
            let end = memchr::memchr(b',', &bytes[at..]).map_or(bytes.len(), |p| at + p);
            record.text.push_str(&text[at..end]);
            record.ends.push(record.text.len());
            if end == bytes.len() {
                return Ok(());
            }
            at = end + 1;
        }
    }
}

/// Appends the index of every comma in `bytes` to `out`, eight bytes at a time: commas are a
/// few bytes apart in a statement, too close for a search call per field to pay off.
fn commas(bytes: &[u8], out: &mut Vec<usize>) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let x = word ^ (ONES * u64::from(b','));
        // 0x80 in exactly the bytes of `x` that are zero (no carry crosses a byte).
        let mut zero = !(((x & LOW7) + LOW7) | x | LOW7);
        while zero != 0 {
            out.push(base + zero.trailing_zeros() as usize / 8);
            zero &= zero - 1;
        }
        base += 8;
    }
    let tail = chunks
        .remainder()
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b',');
    out.extend(tail.map(|(i, _)| base + i));
}

/// Copies a quoted field's content from `at` (just after the opening quote) into `out`;
/// returns the index just after the closing quote.
fn unquote(text: &str, mut at: usize, out: &mut String) -> Result<usize, String> {
    let bytes = text.as_bytes();
    loop {
        let Some(quote) = memchr::memchr(b'"', &bytes[at..]).map(|p| at + p) else {
            return Err("a quoted field is not closed on its line".to_owned());
        };
        out.push_str(&text[at..quote]);
        if bytes.get(quote + 1) == Some(&b'"') {
            out.push('"');
            at = quote + 2;
        } else {
            return Ok(quote + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Result<Vec<String>, String> {
        let mut record = Record::default();
        split(text, &mut record)?;
        Ok(record.iter().map(str::to_owned).collect())
    }

    #[test]
    fn splits_plain_and_quoted_fields() {
        assert_eq!(fields("a,b,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(fields("").unwrap(), [""]);
        assert_eq!(fields("a,,").unwrap(), ["a", "", ""]);
        assert_eq!(fields("\"a,b\",c").unwrap(), ["a,b", "c"]);
        assert_eq!(fields("\"say \"\"hi\"\"\",x").unwrap(), ["say \"hi\"", "x"]);
        assert_eq!(fields("\"\"").unwrap(), [""]);
        assert_eq!(fields("`商品,`微信").unwrap(), ["`商品", "`微信"]);
        assert_eq!(
            fields("a\"b,c").unwrap(),
            ["a\"b", "c"],
            "a quote inside stays"
        );
    }

    #[test]
    fn finds_every_comma() {
        for text in [
            "",
            ",",
            "a,b",
            ",,,,,,,,,,",
            "abcdefgh,",
            "abcdefg,h,ijklmnopq,,r",
            "\u{2c2c},\u{ac},x",
        ] {
            let mut found = Vec::new();
            commas(text.as_bytes(), &mut found);
            let expected: Vec<usize> = text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b',')
                .map(|(i, _)| i)
                .collect();
            assert_eq!(found, expected, "{text:?}");
        }
        let all: Vec<u8> = (0..=255u8).collect();
        let mut found = Vec::new();
        commas(&all, &mut found);
        assert_eq!(found, [usize::from(b',')]);
    }

    #[test]
    fn refuses_open_or_misplaced_quotes() {
        assert!(fields("\"abc").is_err());
        assert!(fields("a,\"b\"c").is_err());
        assert!(fields("\"a\"\"").is_err());
    }

    fn read_all(
        bytes: &[u8],
        encoding: Encoding,
        comments: bool,
    ) -> Result<Vec<(u64, Vec<String>)>, StatementError> {
        let mut lines = Lines::new(Box::new(bytes), encoding, comments, ErrorKind::Io);
        let mut record = Record::default();
        let mut out = Vec::new();
        while lines.next_record(&mut record)? {
            out.push((record.line(), record.iter().map(str::to_owned).collect()));
        }
        Ok(out)
    }

    #[test]
    fn counts_every_physical_line() {
        let text = "\u{feff}h1,h2\r\n\n#note\r\na,b\n\nc,d";
        let rows = read_all(text.as_bytes(), Encoding::Utf8, true).unwrap();
        assert_eq!(
            rows,
            [
                (1, vec!["h1".into(), "h2".into()]),
                (4, vec!["a".into(), "b".into()]),
                (6, vec!["c".into(), "d".into()])
            ]
        );
        let rows = read_all(b"#a,b\n", Encoding::Utf8, false).unwrap();
        assert_eq!(rows, [(1, vec!["#a".to_owned(), "b".to_owned()])]);
    }

    #[test]
    fn decodes_gbk_and_reports_bad_bytes_with_their_line() {
        let (gbk, _, _) = GBK.encode("交易,退款\n#注释\n支付宝,1\n");
        let rows = read_all(&gbk, Encoding::Gbk, true).unwrap();
        assert_eq!(rows[1], (3, vec!["支付宝".to_owned(), "1".to_owned()]));
        let err = read_all(b"ok\nok\n\x81\x20bad\n", Encoding::Gbk, false).unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::Encoding, 3), "{err}");
        let err = read_all(b"ok\n\xff\xfe\n", Encoding::Utf8, false).unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::Encoding, 2), "{err}");
        assert!(err.reason.contains("UTF-8"), "{err}");
    }

    #[test]
    fn refuses_a_line_over_the_limit_and_an_unclosed_quote() {
        let mut long = vec![b'a'; MAX_LINE_BYTES + 1];
        long.splice(0..0, b"ok\n".iter().copied());
        let err = read_all(&long, Encoding::Utf8, false).unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::Malformed, 2));
        let mut exact = vec![b'a'; MAX_LINE_BYTES];
        exact.extend_from_slice(b"\r\n");
        assert_eq!(read_all(&exact, Encoding::Utf8, false).unwrap().len(), 1);
        let err = read_all(b"a\nb\n\"c,d\n", Encoding::Utf8, false).unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::Malformed, 3));
    }
}
