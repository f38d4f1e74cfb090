//! A statement day: a calendar date in Beijing time (UTC+8, no daylight saving), the clock
//! the channels date their statements by, and its bounds in paycore's milliseconds.

use crate::error::ReconError;
use crate::Millis;

/// Orders that succeeded this close to a day's end may be listed by the channel on the next
/// day (跨日): they are carried to the next day's run first. Ten minutes.
pub const CARRY_WINDOW_MS_DEFAULT: Millis = 600_000;

const DAY_MS: i64 = 86_400_000;
const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;

/// Days since 1970-01-01 (Beijing), kept with the text it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    days: i64,
}

impl Day {
    /// `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Day, ReconError> {
        let bad = || ReconError::invalid("date", format!("{text:?} is not a date YYYY-MM-DD"));
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| -> Result<i64, ReconError> {
            let part = &text[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
        if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in(y, m) {
            return Err(bad());
        }
        Ok(Day {
            days: days_from_civil(y, m, d),
        })
    }

    /// The Beijing day of the instant `at`.
    pub fn of(at: Millis) -> Day {
        let local = at as i64 + BEIJING_OFFSET_MS;
        Day {
            days: local.div_euclid(DAY_MS),
        }
    }

    /// [start, end) of the day in Unix milliseconds.
    pub fn bounds(self) -> (Millis, Millis) {
        let start = self.days * DAY_MS - BEIJING_OFFSET_MS;
        (start.max(0) as Millis, (start + DAY_MS).max(0) as Millis)
    }

    pub fn previous(self) -> Day {
        Day {
            days: self.days - 1,
        }
    }

    pub fn next(self) -> Day {
        Day {
            days: self.days + 1,
        }
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        let (y, m, d) = civil_from_days(self.days);
        format!("{y:04}-{m:02}-{d:02}")
    }
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_beijing_days() {
        let day = Day::parse("2026-12-02").unwrap();
        assert_eq!(day.iso(), "2026-12-02");
        let (start, end) = day.bounds();
        assert_eq!(end - start, 86_400_000);
        // 2026-12-01T16:00:00Z is midnight in Beijing.
        assert_eq!(start, 1_796_140_800_000);
        assert_eq!(Day::of(start), day);
        assert_eq!(Day::of(start - 1), day.previous());
        assert_eq!(Day::of(end), day.next());
        assert_eq!(Day::parse("2024-02-29").unwrap().next().iso(), "2024-03-01");
    }

    #[test]
    fn bad_dates_are_refused() {
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "2026-1-01",
            "20261201",
            "２０２６-12-01",
            "",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }
}
