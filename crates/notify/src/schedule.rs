//! When a notification that failed is tried again: a list of delays, one per retry, after
//! which it is dead. The default is WeChat Pay v3's: 15 retries over about 24 hours (16
//! attempts in all). `--notify-schedule 1s,2s,5s` parses into one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::NotifyError;

/// Most retries a schedule may have.
pub const RETRIES_MAX: usize = 64;
/// Longest single delay.
pub const DELAY_MAX: Duration = Duration::from_secs(7 * 24 * 3600);

/// WeChat Pay v3's notification schedule, in seconds.
const WECHAT_V3_S: [u64; 15] = [
    15, 15, 30, 180, 600, 1_200, 1_800, 1_800, 1_800, 3_600, 10_800, 10_800, 10_800, 21_600, 21_600,
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The delay before retry 1, 2, …
    delays: Vec<Duration>,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            delays: WECHAT_V3_S
                .iter()
                .map(|&s| Duration::from_secs(s))
                .collect(),
        }
    }
}

impl Schedule {
    pub fn new(delays: Vec<Duration>) -> Result<Schedule, NotifyError> {
        if delays.is_empty() || delays.len() > RETRIES_MAX {
            return Err(NotifyError::Schedule(format!("1 to {RETRIES_MAX} delays")));
        }
        if let Some(bad) = delays.iter().find(|d| d.is_zero() || **d > DELAY_MAX) {
            return Err(NotifyError::Schedule(format!(
                "{bad:?}: each delay is above zero and at most 7 days"
            )));
        }
        Ok(Schedule { delays })
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// Attempts in all: the first and one per retry.
    pub fn attempts_max(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    /// When to try again after `attempts_made` attempts all failed (the last at `now_ms`),
    /// or `None`: the schedule is spent, the notification is dead.
    pub fn next_after(&self, attempts_made: u32, now_ms: u64) -> Option<u64> {
        let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
        let delay = self.delays.get(index)?;
        Some(now_ms.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)))
    }

    /// From the first attempt to the last, if every one fails at once.
    pub fn span(&self) -> Duration {
        self.delays.iter().sum()
    }
}

impl FromStr for Schedule {
    type Err = NotifyError;

    /// `15s,15s,30s,3m,1h`: units `ms`, `s`, `m`, `h`.
    fn from_str(text: &str) -> Result<Schedule, NotifyError> {
        let delays = text
            .split(',')
            .map(|part| parse_delay(part.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Schedule::new(delays)
    }
}

fn parse_delay(text: &str) -> Result<Duration, NotifyError> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let bad = || NotifyError::Schedule(format!("{text:?}: expected e.g. 500ms, 15s, 3m or 6h"));
    let value: u64 = digits.parse().map_err(|_| bad())?;
    let ms_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    Ok(Duration::from_millis(
        value.checked_mul(ms_per_unit).ok_or_else(bad)?,
    ))
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.delays.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let ms = d.as_millis();
            match ms {
                _ if ms % 3_600_000 == 0 => write!(f, "{}h", ms / 3_600_000)?,
                _ if ms % 60_000 == 0 => write!(f, "{}m", ms / 60_000)?,
                _ if ms % 1_000 == 0 => write!(f, "{}s", ms / 1_000)?,
                _ => write!(f, "{ms}ms")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_wechat_pay_v3() {
        let s = Schedule::default();
        assert_eq!(
            s.to_string(),
            "15s,15s,30s,3m,10m,20m,30m,30m,30m,1h,3h,3h,3h,6h,6h"
        );
        assert_eq!(s.attempts_max(), 16);
        // 24 h 4 m 0 s from the first attempt to the last.
        assert_eq!(s.span(), Duration::from_secs(24 * 3600 + 4 * 60));
        assert_eq!(s.next_after(1, 1_000), Some(16_000));
        assert_eq!(s.next_after(4, 0), Some(180_000));
        assert_eq!(s.next_after(15, 0), Some(21_600_000));
        assert_eq!(
            s.next_after(16, 0),
            None,
            "after the 16th attempt it is dead"
        );
        assert_eq!(s.next_after(0, 0), None);
    }

    #[test]
    fn parses_what_the_flag_passes() {
        let s: Schedule = "100ms, 200ms,1s,2m,1h".parse().unwrap();
        assert_eq!(
            s.delays(),
            [
                Duration::from_millis(100),
                Duration::from_millis(200),
                Duration::from_secs(1),
                Duration::from_secs(120),
                Duration::from_secs(3600)
            ]
        );
        assert_eq!(s.to_string(), "100ms,200ms,1s,2m,1h");
        assert_eq!(s.attempts_max(), 6);
        assert_eq!(s.to_string().parse::<Schedule>().unwrap(), s);
    }

    #[test]
    fn refuses_bad_schedules() {
        for bad in [
            "",
            "1",
            "1d",
            "s",
            "0s",
            "-1s",
            "1s,,2s",
            "8000h",
            "1.5s",
            "99999999999999999h",
        ] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad:?}");
        }
        let too_many = vec!["1s"; RETRIES_MAX + 1].join(",");
        assert!(too_many.parse::<Schedule>().is_err());
        assert!(vec!["1s"; RETRIES_MAX]
            .join(",")
            .parse::<Schedule>()
            .is_ok());
    }
}
