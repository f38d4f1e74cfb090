//! The bank's calendar: statements are dated by the Beijing-time (UTC+8, no DST) calendar day
//! of the moment an outcome became visible, and print times as `YYYY-MM-DD HH:MM:SS` in that
//! zone; dates travel as `YYYY-MM-DD`.

use paycore_channels::clock;
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// Seconds east of UTC of the bank's calendar.
const BEIJING_OFFSET_SECONDS: i32 = 8 * 3600;

/// Reads `YYYY-MM-DD` (exactly: four, two and two digits, a real calendar day).
pub fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let year = text[0..4].parse::<i32>().ok()?;
    let month = Month::try_from(text[5..7].parse::<u8>().ok()?).ok()?;
    let day = text[8..10].parse::<u8>().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// `YYYY-MM-DD` of a date.
pub fn format_date(date: Date) -> String {
    clock::iso_date(date)
}

/// The Beijing calendar day of a unix time in milliseconds.
pub fn beijing_date(unix_ms: i64) -> Date {
    let offset = UtcOffset::from_whole_seconds(BEIJING_OFFSET_SECONDS).expect("valid offset");
    OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset)
        .date()
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time of a unix time in milliseconds.
pub fn beijing_time(unix_ms: i64) -> String {
    clock::form_timestamp(unix_ms.div_euclid(1000))
}

/// `YYYY-MM-DD HH:MM:SS` of a second of a day (taken modulo a day).
pub fn time_of_day(date: Date, second: u64) -> String {
    let second = second % 86_400;
    let (hour, minute, second) = (second / 3600, second / 60 % 60, second % 60);
    format!("{} {hour:02}:{minute:02}:{second:02}", format_date(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_exactly() {
        let date = parse_date("2024-02-29").unwrap();
        assert_eq!(format_date(date), "2024-02-29");
        for bad in [
            "",
            "2024-2-29",
            "2023-02-29",
            "2024-13-01",
            "2024-01-00",
            "2024/01/01",
            "2024-01-01 ",
            "２０24-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn beijing_days_start_at_16_00_utc() {
        // 2024-03-01T15:59:59.999Z is 23:59:59 in Beijing; a millisecond later is the 2nd.
        let last = 1_709_308_799_999;
        assert_eq!(format_date(beijing_date(last)), "2024-03-01");
        assert_eq!(beijing_time(last), "2024-03-01 23:59:59");
        assert_eq!(format_date(beijing_date(last + 1)), "2024-03-02");
        assert_eq!(beijing_time(last + 1), "2024-03-02 00:00:00");
        let date = parse_date("2024-03-01").unwrap();
        assert_eq!(time_of_day(date, 0), "2024-03-01 00:00:00");
        assert_eq!(time_of_day(date, 86_399), "2024-03-01 23:59:59");
        assert_eq!(time_of_day(date, 86_400 + 61), "2024-03-01 00:01:01");
    }
}
