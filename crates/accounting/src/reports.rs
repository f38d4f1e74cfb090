//! Reports computed from per-day movements: the trial balance (试算平衡表) at three levels, the
//! GL vs sub-ledger check, and the reserve-fund report (备付金报送). Pure: the queries that feed
//! them are in `books.rs`.

use std::collections::{BTreeMap, BTreeSet};

use crate::chart::{with_ancestors, Chart, Side};

/// Debit and credit totals of some movements.
pub type Sums = (i128, i128);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialRow {
    pub code: String,
    pub name: String,
    pub level: u8,
    pub class: String,
    /// The account's normal balance side; `opening` and `closing` are signed towards it.
    pub side: String,
    pub opening: i128,
    pub debit: i128,
    pub credit: i128,
    pub closing: i128,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrialTotals {
    pub debit: i128,
    pub credit: i128,
    pub opening_debit: i128,
    pub opening_credit: i128,
    pub closing_debit: i128,
    pub closing_credit: i128,
    /// Period debits = credits, and debit balances = credit balances at both ends.
    pub balanced: bool,
}

/// Rows for every account of the chart (movements of leaves rolled up to their ancestors) and
/// the totals over the first level.
pub fn trial_balance(
    chart: &Chart,
    opening: &BTreeMap<String, Sums>,
    period: &BTreeMap<String, Sums>,
) -> (Vec<TrialRow>, TrialTotals) {
    let opening = roll_up(opening);
    let period = roll_up(period);
    let mut rows = Vec::new();
    let mut totals = TrialTotals::default();
    for account in chart.accounts() {
        let (od, oc) = opening.get(&account.code).copied().unwrap_or_default();
        let (pd, pc) = period.get(&account.code).copied().unwrap_or_default();
        let orient = |d: i128, c: i128| match account.side {
            Side::Debit => d - c,
            Side::Credit => c - d,
        };
        let level = account.level();
        if level == 1 {
            totals.debit += pd;
            totals.credit += pc;
            add_by_side(
                od - oc,
                &mut totals.opening_debit,
                &mut totals.opening_credit,
            );
            add_by_side(
                od + pd - oc - pc,
                &mut totals.closing_debit,
                &mut totals.closing_credit,
            );
        }
        rows.push(TrialRow {
            code: account.code.clone(),
            name: account.name.clone(),
            level,
            class: account.class.name().to_owned(),
            side: account.side.name().to_owned(),
            opening: orient(od, oc),
            debit: pd,
            credit: pc,
            closing: orient(od + pd, oc + pc),
        });
    }
    totals.balanced = totals.debit == totals.credit
        && totals.opening_debit == totals.opening_credit
        && totals.closing_debit == totals.closing_credit;
    (rows, totals)
}

fn add_by_side(net_debit: i128, debit: &mut i128, credit: &mut i128) {
    if net_debit >= 0 {
        *debit += net_debit;
    } else {
        *credit -= net_debit;
    }
}

/// Each code's sums added to itself and every ancestor.
fn roll_up(leaves: &BTreeMap<String, Sums>) -> BTreeMap<String, Sums> {
    let mut all: BTreeMap<String, Sums> = BTreeMap::new();
    for (code, (d, c)) in leaves {
        for code in with_ancestors(code) {
            let sums = all.entry(code.to_owned()).or_default();
            sums.0 += d;
            sums.1 += c;
        }
    }
    all
}

/// One control account compared with its ledger accounts, in the ledger's orientation
/// (credits − debits: what the company owes is positive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlCheck {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub gl_balance: i128,
    pub subledger_balance: i128,
    pub difference: i128,
}

/// Every control account (by currency) with its GL and sub-ledger balances; the second list
/// holds those that differ.
pub fn gl_check(
    chart: &Chart,
    controls: &BTreeSet<String>,
    gl: &BTreeMap<(String, String), Sums>,
    subledger: &BTreeMap<(String, String), i128>,
) -> (Vec<ControlCheck>, Vec<ControlCheck>) {
    let mut keys: BTreeSet<(String, String)> = subledger.keys().cloned().collect();
    keys.extend(
        gl.keys()
            .filter(|(code, _)| controls.contains(code))
            .cloned(),
    );
    let checked: Vec<ControlCheck> = keys
        .into_iter()
        .map(|key| {
            let (d, c) = gl.get(&key).copied().unwrap_or_default();
            let sub = subledger.get(&key).copied().unwrap_or_default();
            ControlCheck {
                name: chart
                    .get(&key.0)
                    .map_or_else(String::new, |a| a.name.clone()),
                code: key.0,
                currency: key.1,
                gl_balance: c - d,
                subledger_balance: sub,
                difference: (c - d) - sub,
            }
        })
        .collect();
    let differences = checked
        .iter()
        .filter(|c| c.difference != 0)
        .cloned()
        .collect();
    (checked, differences)
}

/// One reserve-fund bank account on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReserveRow {
    pub date: String,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub opening: i128,
    pub inflow: i128,
    pub outflow: i128,
    pub closing: i128,
}

/// Reserve-fund accounts (leaves under `prefix`) for each of `days`: `before` holds sums
/// before the first day, `daily` the sums of each (day, code, currency).
pub fn reserve_report(
    chart: &Chart,
    prefix: &str,
    days: &[String],
    before: &BTreeMap<(String, String), Sums>,
    daily: &BTreeMap<(String, String, String), Sums>,
) -> Vec<ReserveRow> {
    let mut accounts: BTreeSet<(String, String)> = before.keys().cloned().collect();
    accounts.extend(
        daily
            .keys()
            .map(|(_, code, cur)| (code.clone(), cur.clone())),
    );
    accounts.retain(|(code, _)| code.starts_with(prefix) && !chart.has_children(code));
    let mut rows = Vec::new();
    for (code, currency) in accounts {
        let (d, c) = before
            .get(&(code.clone(), currency.clone()))
            .copied()
            .unwrap_or_default();
        let mut balance = d - c;
        for day in days {
            let key = (day.clone(), code.clone(), currency.clone());
            let (inflow, outflow) = daily.get(&key).copied().unwrap_or_default();
            let opening = balance;
            balance += inflow - outflow;
            rows.push(ReserveRow {
                date: day.clone(),
                name: chart
                    .get(&code)
                    .map_or_else(String::new, |a| a.name.clone()),
                code: code.clone(),
                currency: currency.clone(),
                opening,
                inflow,
                outflow,
                closing: balance,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::default_chart;

    #[test]
    fn a_deposit_rolls_up_and_balances() {
        let chart = Chart::new(default_chart());
        let period = BTreeMap::from([
            ("10020101".to_owned(), (100, 0)),
            ("22010101".to_owned(), (0, 100)),
        ]);
        let opening = BTreeMap::from([
            ("10020101".to_owned(), (50, 0)),
            ("22010101".to_owned(), (0, 50)),
        ]);
        let (rows, totals) = trial_balance(&chart, &opening, &period);
        let row = |code: &str| rows.iter().find(|r| r.code == code).unwrap().clone();
        assert_eq!(
            (row("1002").opening, row("1002").debit, row("1002").closing),
            (50, 100, 150)
        );
        assert_eq!((row("2201").credit, row("2201").closing), (100, 150));
        assert!(totals.balanced);
        assert_eq!((totals.closing_debit, totals.closing_credit), (150, 150));
    }
}
