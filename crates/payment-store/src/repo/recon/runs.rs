//! Reconciliation runs (`pay_recon_runs`): what one run matched, its differences by kind, both
//! sides' totals and the fund check. Totals and the fund are stored as JSON of 128-bit
//! integers (a day's sums may pass 64 bits); `serde_json` writes and reads those exactly when
//! the shape is typed, which a `Value` would not.

use std::collections::BTreeMap;

use paycore_recon::{Difference, Fund, Side, Totals};
use serde::{Deserialize, Serialize};

use super::corrupt;
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub id: String,
    pub channel: String,
    pub day: String,
    pub statement_id: String,
    pub matched: u64,
    pub carried: u64,
    pub differences: Vec<(Difference, u64)>,
    pub totals: Totals,
    pub fund: Option<Fund>,
    pub created_at: u64,
}

/// `Side` as stored; every field is required, so a damaged row is an error, not a zero.
#[derive(Serialize, Deserialize)]
struct StoredSide {
    count: u64,
    payments: u128,
    refunds: u128,
    fees: i128,
}

#[derive(Serialize, Deserialize)]
struct StoredTotals {
    ours: StoredSide,
    theirs: StoredSide,
}

#[derive(Serialize, Deserialize)]
struct StoredFund {
    statement_net: i128,
    settled: i64,
    difference: i128,
}

impl From<&Side> for StoredSide {
    fn from(s: &Side) -> StoredSide {
        StoredSide {
            count: s.count,
            payments: s.payments,
            refunds: s.refunds,
            fees: s.fees,
        }
    }
}

impl From<StoredSide> for Side {
    fn from(s: StoredSide) -> Side {
        Side {
            count: s.count,
            payments: s.payments,
            refunds: s.refunds,
            fees: s.fees,
        }
    }
}

fn totals_json(t: &Totals) -> String {
    let stored = StoredTotals {
        ours: (&t.ours).into(),
        theirs: (&t.theirs).into(),
    };
    serde_json::to_string(&stored).expect("integers serialize")
}

fn totals_from(text: &str) -> Result<Totals, StoreError> {
    let t: StoredTotals = serde_json::from_str(text).map_err(|e| corrupt("totals", e))?;
    let totals = Totals {
        ours: t.ours.into(),
        theirs: t.theirs.into(),
    };
    // Sums of 64-bit amounts always net within 128 bits; readers rely on it.
    match (totals.ours.net(), totals.theirs.net()) {
        (Some(_), Some(_)) => Ok(totals),
        _ => Err(corrupt("totals", "net past 128 bits")),
    }
}

fn fund_json(f: &Fund) -> String {
    let stored = StoredFund {
        statement_net: f.statement_net,
        settled: f.settled,
        difference: f.difference,
    };
    serde_json::to_string(&stored).expect("integers serialize")
}

fn fund_from(text: &str) -> Result<Fund, StoreError> {
    let f: StoredFund = serde_json::from_str(text).map_err(|e| corrupt("fund", e))?;
    // The difference is derived; a stored one that disagrees is damage, not a figure.
    let fund = Fund::new(f.statement_net, f.settled)
        .filter(|fund| fund.difference == f.difference)
        .ok_or_else(|| corrupt("fund", "difference disagrees with its terms"))?;
    Ok(fund)
}

fn differences_json(differences: &[(Difference, u64)]) -> String {
    let map: BTreeMap<&str, u64> = differences.iter().map(|(d, n)| (d.name(), *n)).collect();
    serde_json::to_string(&map).expect("counts serialize")
}

fn differences_from(text: &str) -> Result<Vec<(Difference, u64)>, StoreError> {
    let mut map: BTreeMap<String, u64> =
        serde_json::from_str(text).map_err(|e| corrupt("differences", e))?;
    let found = Difference::ALL
        .into_iter()
        .filter_map(|d| map.remove(d.name()).map(|n| (d, n)))
        .collect();
    match map.keys().next() {
        Some(unknown) => Err(corrupt("difference", unknown)),
        None => Ok(found),
    }
}

pub fn insert_run(sql: &mut dyn Sql, run: &RunRecord) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_recon_runs (id, channel, day, statement_id, matched, carried, \
         differences, totals, fund, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Value::text(&run.id),
            Value::text(&run.channel),
            Value::text(&run.day),
            Value::text(&run.statement_id),
            Value::uint(run.matched),
            Value::uint(run.carried),
            Value::text(differences_json(&run.differences)),
            Value::text(totals_json(&run.totals)),
            Value::opt_text(run.fund.as_ref().map(fund_json)),
            Value::uint(run.created_at),
        ],
    )?;
    Ok(())
}

macro_rules! select_runs {
    ($rest:literal) => {
        concat!(
            "SELECT id, channel, day, statement_id, matched, carried, differences, totals, fund, \
             created_at FROM pay_recon_runs ",
            $rest
        )
    };
}

pub fn run(sql: &mut dyn Sql, id: &str) -> Result<Option<RunRecord>, StoreError> {
    sql.query_opt(select_runs!("WHERE id = $1"), &[Value::text(id)])?
        .map(|r| run_from_row(&r))
        .transpose()
}

pub fn run_of_statement(
    sql: &mut dyn Sql,
    statement_id: &str,
) -> Result<Option<RunRecord>, StoreError> {
    sql.query_opt(
        select_runs!("WHERE statement_id = $1"),
        &[Value::text(statement_id)],
    )?
    .map(|r| run_from_row(&r))
    .transpose()
}

/// Runs of a channel (or of every channel, `channel` empty), newest day first.
pub fn runs(sql: &mut dyn Sql, channel: &str, limit: u64) -> Result<Vec<RunRecord>, StoreError> {
    sql.query(
        select_runs!("WHERE ($1 = '' OR channel = $1) ORDER BY day DESC, created_at DESC LIMIT $2"),
        &[Value::text(channel), Value::uint(limit)],
    )?
    .iter()
    .map(run_from_row)
    .collect()
}

fn run_from_row(r: &Row) -> Result<RunRecord, StoreError> {
    Ok(RunRecord {
        id: r.text(0)?,
        channel: r.text(1)?,
        day: r.text(2)?,
        statement_id: r.text(3)?,
        matched: r.uint(4)?,
        carried: r.uint(5)?,
        differences: differences_from(&r.text(6)?)?,
        totals: totals_from(&r.text(7)?)?,
        fund: r.opt_text(8)?.as_deref().map(fund_from).transpose()?,
        created_at: r.uint(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide_side() -> Side {
        Side {
            count: 3,
            payments: 3 * u128::from(u64::MAX),
            refunds: 5,
            fees: -3 * i128::from(i64::MAX),
        }
    }

    #[test]
    fn totals_past_64_bits_read_back_exactly() {
        let totals = Totals {
            ours: wide_side(),
            theirs: Side::default(),
        };
        assert_eq!(totals_from(&totals_json(&totals)).unwrap(), totals);
        let fund = Fund::new(-3 * i128::from(i64::MAX), i64::MIN).unwrap();
        assert_eq!(fund_from(&fund_json(&fund)).unwrap(), fund);
    }

    #[test]
    fn damaged_rows_are_errors_not_zeros() {
        assert!(totals_from(r#"{"ours":{"count":1},"theirs":{}}"#).is_err());
        assert!(
            totals_from(r#"{"ours":{"count":1,"payments":1.5e20,"refunds":0,"fees":0}}"#).is_err()
        );
        let fund = r#"{"statement_net":10,"settled":7,"difference":4}"#;
        assert!(fund_from(fund).is_err());
        let huge = format!(
            r#"{{"count":1,"payments":{},"refunds":0,"fees":0}}"#,
            u128::MAX
        );
        let zero = r#"{"count":0,"payments":0,"refunds":0,"fees":0}"#;
        assert!(totals_from(&format!(r#"{{"ours":{huge},"theirs":{zero}}}"#)).is_err());
        assert!(differences_from(r#"{"no_such_difference":1}"#).is_err());
        let both = [(Difference::ALL[0], 2), (Difference::ALL[1], 0)];
        assert_eq!(differences_from(&differences_json(&both)).unwrap(), both);
    }
}
