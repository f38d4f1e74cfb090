//! Posting rules (会计分录规则): configuration mapping a ledger transaction — its kind and the
//! types of its debited and credited accounts — to the lines of a voucher, and mapping every
//! ledger account to its control account (统驭科目) in the chart. Pure: parsing, validation and
//! matching; the file lives in the data directory (`accounting/rules.toml`, versioned).

use serde::{Deserialize, Serialize};

use crate::chart::Side;
use crate::Chart;

/// The rules shipped with paycore, written to the data directory on first start.
pub const DEFAULT_RULES: &str = include_str!("default_rules.toml");

/// In a rule line, the control account of the ledger account debited / credited.
pub const DEBIT_CONTROL: &str = "{debit}";
pub const CREDIT_CONTROL: &str = "{credit}";
/// Matches any kind or account type.
pub const ANY: &str = "*";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Raised by one on every change; each voucher records the version that posted it.
    pub version: u32,
    #[serde(default)]
    pub controls: Vec<Control>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Ledger accounts of `type` (and, if given, whose number starts with `prefix`) are kept in
/// the GL under `code`. The first matching control wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    #[serde(rename = "type")]
    pub account_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    pub code: String,
}

/// Transactions of `kind` from a `debit`-type account to a `credit`-type account post `lines`,
/// each for the transaction's amount. The first matching rule wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    pub kind: String,
    pub debit: String,
    pub credit: String,
    pub lines: Vec<LineRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineRule {
    pub side: Side,
    /// A chart code, or `{debit}` / `{credit}`: the control account of that ledger side.
    pub account: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RulesError {
    #[error("rules are not valid TOML: {0}")]
    Syntax(String),
    #[error("rule {rule}: {reason}")]
    Rule { rule: String, reason: String },
    #[error("control for {account_type}: {reason}")]
    Control {
        account_type: String,
        reason: String,
    },
}

/// The ledger side of a transaction, as rules see it.
#[derive(Clone, Copy, Debug)]
pub struct LedgerSide<'a> {
    pub account_type: &'a str,
    pub account_no: &'a str,
}

/// A voucher's lines before amounts: which account, which side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub rule: String,
    pub lines: Vec<(Side, String)>,
}

impl Rules {
    pub fn parse(text: &str) -> Result<Rules, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::Syntax(e.to_string()))
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("rules always serialize")
    }

    /// Every rule balances (as many debit as credit lines, each for the full amount), names
    /// known kinds and types, and posts only to enabled leaf accounts of `chart`.
    pub fn validate(&self, chart: &Chart) -> Result<(), RulesError> {
        for control in &self.controls {
            let fail = |reason: String| RulesError::Control {
                account_type: control.account_type.clone(),
                reason,
            };
            if paycore_ledger::AccountType::from_name(&control.account_type).is_none() {
                return Err(fail("unknown ledger account type".into()));
            }
            chart.postable(&control.code).map_err(fail)?;
        }
        for rule in &self.rules {
            let fail = |reason: String| RulesError::Rule {
                rule: rule.name.clone(),
                reason,
            };
            if rule.kind != ANY
                && rule.kind != "capture"
                && paycore_ledger::TransferKind::from_name(&rule.kind).is_none()
            {
                return Err(fail(format!("unknown transaction kind {:?}", rule.kind)));
            }
            for side in [&rule.debit, &rule.credit] {
                if side != ANY && paycore_ledger::AccountType::from_name(side).is_none() {
                    return Err(fail(format!("unknown account type {side:?}")));
                }
            }
            let debits = rule.lines.iter().filter(|l| l.side == Side::Debit).count();
            let credits = rule.lines.len() - debits;
            if debits == 0 || debits != credits {
                return Err(fail(format!(
                    "{debits} debit and {credits} credit lines do not balance"
                )));
            }
            for line in &rule.lines {
                if line.account != DEBIT_CONTROL && line.account != CREDIT_CONTROL {
                    chart.postable(&line.account).map_err(fail)?;
                }
            }
        }
        Ok(())
    }

    /// The control account of a ledger account, if any control matches it.
    pub fn control(&self, side: LedgerSide<'_>) -> Option<&str> {
        self.controls
            .iter()
            .find(|c| {
                c.account_type == side.account_type
                    && c.prefix
                        .as_deref()
                        .is_none_or(|p| side.account_no.starts_with(p))
            })
            .map(|c| c.code.as_str())
    }

    /// The voucher lines for a transaction of `kind` from `debit` to `credit`, or why there are
    /// none (the transaction then waits in the exception queue).
    pub fn map(
        &self,
        kind: &str,
        debit: LedgerSide<'_>,
        credit: LedgerSide<'_>,
        chart: &Chart,
    ) -> Result<Mapped, String> {
        let matches = |pattern: &str, value: &str| pattern == ANY || pattern == value;
        let rule = self
            .rules
            .iter()
            .find(|r| {
                matches(&r.kind, kind)
                    && matches(&r.debit, debit.account_type)
                    && matches(&r.credit, credit.account_type)
            })
            .ok_or_else(|| {
                format!(
                    "no posting rule for {kind} from {} to {}",
                    debit.account_type, credit.account_type
                )
            })?;
        let mut lines = Vec::with_capacity(rule.lines.len());
        for line in &rule.lines {
            let code = match line.account.as_str() {
                DEBIT_CONTROL => self.control(debit).ok_or_else(|| no_control(debit))?,
                CREDIT_CONTROL => self.control(credit).ok_or_else(|| no_control(credit))?,
                code => code,
            };
            chart.postable(code)?;
            lines.push((line.side, code.to_owned()));
        }
        Ok(Mapped {
            rule: rule.name.clone(),
            lines,
        })
    }
}

fn no_control(side: LedgerSide<'_>) -> String {
    format!(
        "no control account for {} account {}",
        side.account_type, side.account_no
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::default_chart;

    fn side<'a>(account_type: &'a str, account_no: &'a str) -> LedgerSide<'a> {
        LedgerSide {
            account_type,
            account_no,
        }
    }

    #[test]
    fn the_default_rules_are_valid_and_post_a_deposit_to_reserve_funds() {
        let chart = Chart::new(default_chart());
        let rules = Rules::parse(DEFAULT_RULES).unwrap();
        rules.validate(&chart).unwrap();
        let mapped = rules
            .map(
                "deposit",
                side("settlement", "SETTLEMENT-CNY"),
                side("customer", "C1"),
                &chart,
            )
            .unwrap();
        assert_eq!(
            mapped.lines,
            [
                (Side::Debit, "10020101".to_owned()),
                (Side::Credit, "22010101".to_owned())
            ]
        );
        let fee = rules
            .map(
                "fee",
                side("merchant", "M1"),
                side("internal", "FEE-CNY"),
                &chart,
            )
            .unwrap();
        assert_eq!(fee.lines[1], (Side::Credit, "60210101".to_owned()));
    }

    /// Every shipped rule maps a transaction it matches to balanced lines on the control
    /// accounts of the ledger sides (so the GL keeps equal to the sub-ledger).
    #[test]
    fn every_default_rule_posts_to_the_controls_of_its_sides() {
        let chart = Chart::new(default_chart());
        let rules = Rules::parse(DEFAULT_RULES).unwrap();
        let number = |t: &str| match t {
            "internal" => "FEE-CNY",
            _ => "X1",
        };
        for rule in &rules.rules {
            let concrete = |t: &str| if t == ANY { "customer" } else { t }.to_owned();
            let (debit_type, credit_type) = (concrete(&rule.debit), concrete(&rule.credit));
            let (debit_type, credit_type) = if debit_type == credit_type && rule.kind == "deposit" {
                ("settlement".to_owned(), credit_type)
            } else {
                (debit_type, credit_type)
            };
            let debit = side(&debit_type, number(&debit_type));
            let credit = side(&credit_type, number(&credit_type));
            let mapped = rules.map(&rule.kind, debit, credit, &chart).unwrap();
            let lines: Vec<_> = mapped
                .lines
                .iter()
                .map(|(s, code)| crate::voucher::VoucherLine {
                    code: code.clone(),
                    side: *s,
                    amount: 100,
                })
                .collect();
            assert!(crate::voucher::balanced(&lines), "{}", rule.name);
            assert_eq!(
                mapped.lines,
                [
                    (Side::Debit, rules.control(debit).unwrap().to_owned()),
                    (Side::Credit, rules.control(credit).unwrap().to_owned())
                ],
                "{}",
                rule.name
            );
        }
        let withdrawal = rules
            .map(
                "withdrawal",
                side("merchant", "M1"),
                side("settlement", "S"),
                &chart,
            )
            .unwrap();
        assert_eq!(withdrawal.rule, "withdrawal");
        assert_eq!(
            withdrawal.lines,
            [
                (Side::Debit, "22010201".to_owned()),
                (Side::Credit, "10020101".to_owned())
            ]
        );
        let cost = rules.control(side("internal", "COST-CHANNEL"));
        assert_eq!(cost, Some("64210101"));
    }

    #[test]
    fn an_unmatched_transaction_says_why() {
        let chart = Chart::new(default_chart());
        let rules = Rules::parse(DEFAULT_RULES).unwrap();
        let error = rules
            .map(
                "deposit",
                side("customer", "C1"),
                side("customer", "C2"),
                &chart,
            )
            .unwrap_err();
        assert_eq!(
            error,
            "no posting rule for deposit from customer to customer"
        );
    }

    #[test]
    fn unbalanced_rules_and_unknown_codes_are_refused() {
        let chart = Chart::new(default_chart());
        let unbalanced = Rules::parse(
            r#"version = 1
            [[rules]]
            name = "bad"
            kind = "deposit"
            debit = "*"
            credit = "*"
            lines = [{ side = "debit", account = "{debit}" }]"#,
        )
        .unwrap();
        assert!(matches!(
            unbalanced.validate(&chart),
            Err(RulesError::Rule { .. })
        ));
        let unknown = Rules::parse(
            r#"version = 1
            [[controls]]
            type = "customer"
            code = "99999999""#,
        )
        .unwrap();
        assert!(matches!(
            unknown.validate(&chart),
            Err(RulesError::Control { .. })
        ));
        assert!(matches!(
            Rules::parse("version = 1\nbogus = 2"),
            Err(RulesError::Syntax(_))
        ));
    }
}
