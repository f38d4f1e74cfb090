//! Readers never panic: every truncation of the fixtures, and random mutations and random
//! bytes from a fixed seed, end in lines or one error with a plausible line number.

mod common;

use std::io::Cursor;

use common::{fixture, payment, refund, write};
use paycore_statements::{Format, StatementReader};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SEED: u64 = 0x5EED_2024_0301;
const MUTATIONS_PER_INPUT: usize = 2000;

/// Reads `bytes` to the end; for text formats every line number stays within the input.
fn read_to_end(format: Format, bytes: &[u8]) {
    let last = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 2;
    let reader = match StatementReader::open(format, Cursor::new(bytes)) {
        Ok(reader) => reader,
        Err(err) => {
            assert_eq!((format, err.line), (Format::Alipay, 0), "{err}");
            return;
        }
    };
    let mut previous = 0;
    let mut errors = 0;
    for item in reader {
        let line = match item {
            Ok(line) => line.line_no,
            Err(err) => {
                errors += 1;
                assert!(!err.reason.is_empty());
                err.line
            }
        };
        assert!(line >= previous, "{format}: line {line} after {previous}");
        if format != Format::Alipay {
            assert!(
                line <= last,
                "{format}: line {line} of an input of {last} lines"
            );
        }
        previous = line;
    }
    assert!(errors <= 1, "at most one error");
}

fn inputs() -> Vec<(Format, Vec<u8>)> {
    let lines = [
        payment("PC1", "4200002101202403011234567890", 1234, 7),
        refund("PC1", "4200002101202403011234567890", "退款1", 200, -1),
    ];
    let mut alipay = lines.clone();
    alipay[0].status = "交易".into();
    alipay[1].status = "退款".into();
    vec![
        (Format::Wechat, fixture("wechat_all.csv")),
        (Format::Alipay, fixture("alipay_20240301.zip")),
        (Format::Csv, fixture("plain.csv")),
        (Format::Wechat, write(Format::Wechat, &lines).0),
        (Format::Alipay, write(Format::Alipay, &alipay).0),
        (Format::Csv, write(Format::Csv, &lines).0),
    ]
}

#[test]
fn every_truncation_reads_without_panicking() {
    for (format, bytes) in inputs() {
        for len in 0..bytes.len() {
            read_to_end(format, &bytes[..len]);
        }
    }
}

fn mutate(bytes: &[u8], rng: &mut SmallRng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let special = [
        b',', b'"', b'`', b'\n', b'\r', b'#', b'-', b'.', b'0', 0xFF, 0x81,
    ];
    let chars = ["é", "元", "１", "\u{feff}", "😀", "\t"];
    for _ in 0..rng.gen_range(1..4) {
        let at = rng.gen_range(0..=out.len());
        match rng.gen_range(0..6) {
            0 if at < out.len() => out[at] = rng.gen(),
            1 if at < out.len() => out[at] = special[rng.gen_range(0..special.len())],
            2 => out.insert(at, special[rng.gen_range(0..special.len())]),
            3 => {
                let text = chars[rng.gen_range(0..chars.len())].as_bytes();
                out.splice(at..at, text.iter().copied());
            }
            4 => {
                let end = rng.gen_range(at..=out.len());
                out.drain(at..end);
            }
            _ => out.truncate(at),
        }
    }
    out
}

#[test]
fn random_mutations_read_without_panicking() {
    let mut rng = SmallRng::seed_from_u64(SEED);
    for (format, bytes) in inputs() {
        for _ in 0..MUTATIONS_PER_INPUT {
            read_to_end(format, &mutate(&bytes, &mut rng));
        }
    }
}

#[test]
fn random_bytes_read_without_panicking() {
    let mut rng = SmallRng::seed_from_u64(SEED + 1);
    for _ in 0..300 {
        let len = rng.gen_range(0..2000);
        let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        for format in Format::ALL {
            read_to_end(format, &bytes);
        }
    }
}

/// Text with one field of one line replaced by random characters that amounts, times and
/// codes are made of (and some they are not).
fn mutate_value(text: &str, rng: &mut SmallRng) -> String {
    let alphabet = [
        "0", "1", "9", ".", "-", "`", ":", " ", "\t", "é", "元", "１", "REFUND", "CNY", "退款",
        "交易",
    ];
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let which = rng.gen_range(0..lines.len());
    let mut fields: Vec<String> = lines[which].split(',').map(str::to_owned).collect();
    let field = rng.gen_range(0..fields.len());
    let len = rng.gen_range(0..8);
    fields[field] = (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
        .collect();
    lines[which] = fields.join(",");
    lines.join("\n")
}

#[test]
fn random_values_read_without_panicking() {
    let mut rng = SmallRng::seed_from_u64(SEED + 2);
    let wechat = String::from_utf8(fixture("wechat_all.csv")).unwrap();
    let plain = String::from_utf8(fixture("plain.csv")).unwrap();
    let alipay = encoding_rs::GBK
        .decode(&fixture("alipay_detail.csv"))
        .0
        .into_owned();
    for _ in 0..3000 {
        read_to_end(Format::Wechat, mutate_value(&wechat, &mut rng).as_bytes());
        read_to_end(Format::Csv, mutate_value(&plain, &mut rng).as_bytes());
        let gbk = encoding_rs::GBK
            .encode(&mutate_value(&alipay, &mut rng))
            .0
            .into_owned();
        let errors = StatementReader::alipay_csv(gbk.as_slice())
            .filter(Result::is_err)
            .count();
        assert!(errors <= 1);
    }
}
