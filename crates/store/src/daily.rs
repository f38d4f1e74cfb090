//! Daily balances for a range of days: stored rows for days with activity, and for days
//! without, the previous closing carried forward — opening(T) = closing(T−1) always.

use paycore_ledger::Date;

use crate::rows::DailyRow;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyBalance {
    pub accounting_date: String,
    pub opening: i64,
    pub debits: i128,
    pub credits: i128,
    pub closing: i64,
    pub entries: i64,
}

/// Every day from `from` to `to`: the stored row if any, else a day with no flows whose
/// opening and closing are the previous day's closing (`before`: the closing before `from`).
pub fn carry_forward(
    from: Date,
    to: Date,
    before: Option<i64>,
    rows: &[DailyRow],
) -> Vec<DailyBalance> {
    let mut balance = before.unwrap_or(0);
    let mut rows = rows.iter().peekable();
    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        let text = day.to_string();
        match rows.next_if(|r| r.accounting_date == text) {
            Some(row) => {
                days.push(DailyBalance {
                    accounting_date: text,
                    opening: row.opening,
                    debits: row.debits,
                    credits: row.credits,
                    closing: row.closing,
                    entries: row.entries,
                });
                balance = row.closing;
            }
            None => days.push(DailyBalance {
                accounting_date: text,
                opening: balance,
                debits: 0,
                credits: 0,
                closing: balance,
                entries: 0,
            }),
        }
        let Some(next) = day.next_day() else { break };
        day = next;
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: u8) -> Date {
        Date::from_calendar_date(2026, time::Month::November, d).unwrap()
    }

    #[test]
    fn quiet_days_carry_the_previous_closing() {
        let rows = [DailyRow {
            accounting_date: "2026-11-03".into(),
            opening: 100,
            debits: 30,
            credits: 0,
            closing: 70,
            entries: 1,
        }];
        let days = carry_forward(date(1), date(5), Some(100), &rows);
        let closings: Vec<_> = days.iter().map(|d| (d.opening, d.closing)).collect();
        assert_eq!(
            closings,
            [(100, 100), (100, 100), (100, 70), (70, 70), (70, 70)]
        );
        for pair in days.windows(2) {
            assert_eq!(pair[1].opening, pair[0].closing);
        }
    }
}
