//! `engine.meta`: what a data directory was created with — format version, the ledger's
//! secret hash key and its first accounting date. Written once, atomically.

use std::fs;
use std::path::Path;

use paycore_ledger::{Date, LedgerConfig};

use crate::log::writer::sync_dir;
use crate::EngineError;

const FILE: &str = "engine.meta";
const FORMAT: &str = "paycore-data 1";

/// Reads an existing data directory's metadata; never creates one.
pub fn load(data_dir: &Path) -> Result<LedgerConfig, EngineError> {
    let path = data_dir.join(FILE);
    let text =
        fs::read_to_string(&path).map_err(EngineError::io("reading engine metadata", &path))?;
    parse(&text).map_err(|reason| EngineError::BadDataDir { path, reason })
}

pub fn load_or_create(
    data_dir: &Path,
    utc_offset_seconds: i32,
) -> Result<LedgerConfig, EngineError> {
    let path = data_dir.join(FILE);
    if path.exists() {
        return load(data_dir);
    }
    let mut hash_key = [0u8; 16];
    getrandom::fill(&mut hash_key).map_err(|e| EngineError::BadDataDir {
        path: path.clone(),
        reason: format!("no randomness for the hash key: {e}"),
    })?;
    let config = LedgerConfig {
        hash_key,
        initial_date: today(utc_offset_seconds),
    };
    let text = format!(
        "{FORMAT}\nhash_key {}\ninitial_date {}\n",
        hex::encode(hash_key),
        config.initial_date
    );
    let tmp = data_dir.join("engine.meta.tmp");
    write_synced(&tmp, text.as_bytes())
        .map_err(EngineError::io("writing engine metadata", &tmp))?;
    fs::rename(&tmp, &path).map_err(EngineError::io("publishing engine metadata", &path))?;
    sync_dir(data_dir).map_err(EngineError::io("syncing data directory", data_dir))?;
    Ok(config)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn today(utc_offset_seconds: i32) -> Date {
    let offset =
        time::UtcOffset::from_whole_seconds(utc_offset_seconds).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(offset).date()
}

fn parse(text: &str) -> Result<LedgerConfig, String> {
    let mut lines = text.lines();
    if lines.next() != Some(FORMAT) {
        return Err(format!("not a {FORMAT} data directory"));
    }
    let mut hash_key = None;
    let mut initial_date = None;
    for line in lines {
        match line.split_once(' ') {
            Some(("hash_key", value)) => hash_key = Some(parse_key(value)?),
            Some(("initial_date", value)) => initial_date = Some(parse_date(value)?),
            _ => return Err(format!("unexpected line {line:?}")),
        }
    }
    Ok(LedgerConfig {
        hash_key: hash_key.ok_or("hash_key missing")?,
        initial_date: initial_date.ok_or("initial_date missing")?,
    })
}

/// Reads `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Result<Date, String> {
    let invalid = || format!("invalid date {value:?}: expected YYYY-MM-DD");
    let mut parts = value.splitn(3, '-');
    let mut next = || parts.next().ok_or_else(invalid);
    let (year, month, day) = (next()?, next()?, next()?);
    if month.len() != 2 || day.len() != 2 {
        return Err(invalid());
    }
    let year: i32 = year.parse().map_err(|_| invalid())?;
    let month: u8 = month.parse().map_err(|_| invalid())?;
    let day: u8 = day.parse().map_err(|_| invalid())?;
    let month = time::Month::try_from(month).map_err(|_| invalid())?;
    Date::from_calendar_date(year, month, day).map_err(|_| invalid())
}

fn parse_key(value: &str) -> Result<[u8; 16], String> {
    if value.len() != 32 {
        return Err("hash_key must be 32 hex digits".into());
    }
    let mut key = [0u8; 16];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte =
            u8::from_str_radix(&value[2 * i..2 * i + 2], 16).map_err(|_| "hash_key is not hex")?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let created = load_or_create(dir.path(), 8 * 3600).unwrap();
        let loaded = load_or_create(dir.path(), 0).unwrap();
        assert_eq!(created, loaded);
        fs::write(dir.path().join(FILE), "something else\n").unwrap();
        assert!(load_or_create(dir.path(), 0).is_err());
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(parse_date("2026-11-26").unwrap().to_string(), "2026-11-26");
        for bad in ["2026-2-30", "2026-02-30", "26-11", "x", "2026-11-26-1"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
