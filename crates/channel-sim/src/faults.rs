//! How a channel's statements lie, set with `PUT /sim/channels/{id}/statement-faults`: per-line
//! fault percentages, the share of fabricated lines, and how much the settlement falls short.
//! Only what the statement (and settlement) says changes; the bank's orders stay the truth.
//!
//! Each real line gets at most one fault, chosen by one draw r in [0, 100) keyed by (seed,
//! channel, order number): the bands `drop`, `amount`, `status`, `duplicate`, `next_day` are
//! laid end to end in that fixed order, so their percentages may add up to at most 100.
//! `status` applies to payments only: a refund line whose draw falls in its band is printed
//! true.

use serde::{Deserialize, Serialize};

use paycore_statements::LineKind;

/// What a statement line was made to say wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Left out of the statement.
    Drop,
    /// Fabricated: the bank never had such an order.
    Extra,
    /// Printed one minor unit more than the real amount.
    Amount,
    /// A payment printed as not having stood (WeChat and CSV `REVOKED`; Alipay a 退款).
    Status,
    /// Printed twice.
    Duplicate,
    /// Dated (and listed) the next day.
    NextDay,
}

impl Fault {
    /// The name `/truth` reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Drop => "drop",
            Fault::Extra => "extra",
            Fault::Amount => "amount",
            Fault::Status => "status",
            Fault::Duplicate => "duplicate",
            Fault::NextDay => "next_day",
        }
    }
}

/// A channel's statement faults, checked. Serialized as the GET view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatementFaults {
    pub drop_pct: u8,
    pub extra_pct: u8,
    pub amount_pct: u8,
    pub status_pct: u8,
    pub duplicate_pct: u8,
    /// Minor units the settlement credits less than the day's true net.
    pub settlement_short: i64,
    pub next_day_pct: u8,
}

/// The body of `PUT /sim/channels/{id}/statement-faults`: every field optional, default 0.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsBody {
    pub drop_pct: Option<u8>,
    pub extra_pct: Option<u8>,
    pub amount_pct: Option<u8>,
    pub status_pct: Option<u8>,
    pub duplicate_pct: Option<u8>,
    pub settlement_short: Option<i64>,
    pub next_day_pct: Option<u8>,
}

impl StatementFaults {
    /// Checks a body: each percentage 0 to 100, the per-line ones together at most 100, the
    /// shortfall not negative.
    pub fn from_body(body: FaultsBody) -> Result<StatementFaults, String> {
        let faults = StatementFaults {
            drop_pct: body.drop_pct.unwrap_or(0),
            extra_pct: body.extra_pct.unwrap_or(0),
            amount_pct: body.amount_pct.unwrap_or(0),
            status_pct: body.status_pct.unwrap_or(0),
            duplicate_pct: body.duplicate_pct.unwrap_or(0),
            settlement_short: body.settlement_short.unwrap_or(0),
            next_day_pct: body.next_day_pct.unwrap_or(0),
        };
        if faults.extra_pct > 100 {
            return Err("extra_pct must be 0 to 100".to_owned());
        }
        let line_sum: u32 = faults.bands().iter().map(|(_, pct)| u32::from(*pct)).sum();
        if line_sum > 100 {
            return Err(format!(
                "drop_pct + amount_pct + status_pct + duplicate_pct + next_day_pct must be at most 100, not {line_sum}"
            ));
        }
        if faults.settlement_short < 0 {
            return Err("settlement_short must not be negative".to_owned());
        }
        Ok(faults)
    }

    /// The per-line bands in their fixed order.
    fn bands(&self) -> [(Fault, u8); 5] {
        [
            (Fault::Drop, self.drop_pct),
            (Fault::Amount, self.amount_pct),
            (Fault::Status, self.status_pct),
            (Fault::Duplicate, self.duplicate_pct),
            (Fault::NextDay, self.next_day_pct),
        ]
    }

    /// The fault of a real line of `kind` whose draw is `r` (in [0, 100)), if any.
    pub fn pick(&self, r: u64, kind: LineKind) -> Option<Fault> {
        let mut end = 0u64;
        for (fault, pct) in self.bands() {
            end += u64::from(pct);
            if r < end {
                let payment_only = fault == Fault::Status && kind != LineKind::Payment;
                return (!payment_only).then_some(fault);
            }
        }
        None
    }

    /// How many fabricated lines a statement of `true_lines` real lines gets:
    /// `extra_pct` % of them, rounded up.
    pub fn extras(&self, true_lines: u64) -> u64 {
        (true_lines * u64::from(self.extra_pct)).div_ceil(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(json: &str) -> Result<StatementFaults, String> {
        let body: FaultsBody = serde_json::from_str(json).map_err(|e| e.to_string())?;
        StatementFaults::from_body(body)
    }

    #[test]
    fn bands_follow_the_fixed_order() {
        let f = faults(
            r#"{"drop_pct":10,"amount_pct":10,"status_pct":10,"duplicate_pct":10,"next_day_pct":10}"#,
        )
        .unwrap();
        let payment = |r| f.pick(r, LineKind::Payment);
        assert_eq!(payment(0), Some(Fault::Drop));
        assert_eq!(payment(9), Some(Fault::Drop));
        assert_eq!(payment(10), Some(Fault::Amount));
        assert_eq!(payment(25), Some(Fault::Status));
        assert_eq!(payment(30), Some(Fault::Duplicate));
        assert_eq!(payment(49), Some(Fault::NextDay));
        assert_eq!(payment(50), None);
        assert_eq!(payment(99), None);
        assert_eq!(
            f.pick(25, LineKind::Refund),
            None,
            "refunds keep their status"
        );
        assert_eq!(f.pick(30, LineKind::Refund), Some(Fault::Duplicate));
        assert_eq!(StatementFaults::default().pick(0, LineKind::Payment), None);
    }

    #[test]
    fn extras_round_up() {
        let f = faults(r#"{"extra_pct":10}"#).unwrap();
        assert_eq!(
            (f.extras(0), f.extras(1), f.extras(10), f.extras(11)),
            (0, 1, 1, 2)
        );
        assert_eq!(StatementFaults::default().extras(1000), 0);
    }

    #[test]
    fn refuses_what_cannot_be_drawn() {
        let cases = [
            (r#"{"drop_pct":60,"next_day_pct":41}"#, "at most 100"),
            (r#"{"extra_pct":101}"#, "extra_pct"),
            (r#"{"settlement_short":-1}"#, "negative"),
            (r#"{"drop_pct":300}"#, "invalid value"),
            (r#"{"colour":1}"#, "unknown field"),
        ];
        for (json, expected) in cases {
            let error = faults(json).unwrap_err();
            assert!(error.contains(expected), "{json}: {error}");
        }
        assert_eq!(faults("{}").unwrap(), StatementFaults::default());
    }
}
