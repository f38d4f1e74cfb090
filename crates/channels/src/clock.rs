//! Wall-clock times as the protocols write them: unix seconds (sim-json) and
//! `YYYY-MM-DD HH:MM:SS` in Beijing time, UTC+8 (sim-form), plus RFC 3339 for records.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Seconds east of UTC of the form protocol's timestamps (Asia/Shanghai, no DST).
const FORM_OFFSET_SECONDS: i32 = 8 * 3600;

/// Now, in unix seconds.
pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Now, in unix milliseconds.
pub fn unix_now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `YYYY-MM-DD HH:MM:SS` (UTC+8) of a unix time.
pub fn form_timestamp(unix_seconds: i64) -> String {
    let offset = UtcOffset::from_whole_seconds(FORM_OFFSET_SECONDS).expect("valid offset");
    let at = OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Reads a form timestamp back to unix seconds; `None` unless it is exactly the format.
pub fn parse_form_timestamp(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b' ',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u16>().ok();
    let month = Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::from(number(0..4)?), month, number(8..10)? as u8);
    let time = Time::from_hms(
        number(11..13)? as u8,
        number(14..16)? as u8,
        number(17..19)? as u8,
    );
    let local = PrimitiveDateTime::new(date.ok()?, time.ok()?);
    let offset = UtcOffset::from_whole_seconds(FORM_OFFSET_SECONDS).ok()?;
    Some(local.assume_offset(offset).unix_timestamp())
}

/// RFC 3339 in UTC with milliseconds, for the simulator's records.
pub fn rfc3339_utc(unix_millis: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// `YYYY-MM-DD` of a date (statement and settlement paths).
pub fn iso_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_timestamps_are_beijing_time_and_round_trip() {
        // 2024-03-01T00:00:00Z is 08:00 in Beijing.
        let unix = 1_709_251_200;
        assert_eq!(form_timestamp(unix), "2024-03-01 08:00:00");
        assert_eq!(parse_form_timestamp("2024-03-01 08:00:00"), Some(unix));
        assert_eq!(
            parse_form_timestamp(&form_timestamp(unix + 59)),
            Some(unix + 59)
        );
    }

    #[test]
    fn refuses_anything_but_the_exact_form() {
        for bad in [
            "",
            "2024-03-01T08:00:00",
            "2024-3-01 08:00:00",
            "2024-02-30 08:00:00",
            "2024-03-01 24:00:00",
            "2024-03-01 08:00:00Z",
            "２０24-03-01 08:00:0",
        ] {
            assert_eq!(parse_form_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_records_and_dates() {
        assert_eq!(rfc3339_utc(1_709_251_200_123), "2024-03-01T00:00:00.123Z");
        let date = Date::from_calendar_date(2024, Month::March, 5).unwrap();
        assert_eq!(iso_date(date), "2024-03-05");
    }
}
