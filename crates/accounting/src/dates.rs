//! Accounting dates as `YYYY-MM-DD` and periods as `YYYY-MM` or a date.

use paycore_ledger::Date;
use time::Month;

/// A `YYYY-MM-DD` date, or `None`.
pub fn parse(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let month = Month::try_from(number(5..7)? as u8).ok()?;
    Date::from_calendar_date(number(0..4)? as i32, month, number(8..10)? as u8).ok()
}

/// A period: a month `YYYY-MM` or a day `YYYY-MM-DD`.
pub fn is_period(text: &str) -> bool {
    parse(text).is_some() || (text.len() == 7 && parse(&format!("{text}-01")).is_some())
}

/// The last day of a period.
pub fn period_end(period: &str) -> Option<Date> {
    if period.len() == 10 {
        return parse(period);
    }
    let first = parse(&format!("{period}-01"))?;
    let mut day = first;
    while let Some(next) = day.next_day().filter(|d| d.month() == first.month()) {
        day = next;
    }
    Some(day)
}

/// Every day from `from` to `to` inclusive (at most `max`), or `None` if the range is invalid.
pub fn days(from: &str, to: &str, max: usize) -> Option<Vec<String>> {
    let (mut day, to) = (parse(from)?, parse(to)?);
    let mut days = Vec::new();
    while day <= to {
        if days.len() == max {
            return None;
        }
        days.push(day.to_string());
        day = day.next_day()?;
    }
    Some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_periods() {
        assert_eq!(parse("2026-02-28").unwrap().to_string(), "2026-02-28");
        assert!(parse("2026-02-30").is_none());
        assert!(parse("2026-2-28").is_none());
        assert!(parse("+026-02-28").is_none());
        assert!(is_period("2026-11") && is_period("2026-11-26") && !is_period("2026-13"));
        assert_eq!(period_end("2024-02").unwrap().to_string(), "2024-02-29");
        assert_eq!(days("2026-11-29", "2026-12-01", 10).unwrap().len(), 3);
        assert!(days("2026-01-01", "2026-12-31", 100).is_none());
    }
}
