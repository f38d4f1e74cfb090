//! Decimal amounts of a statement into integer minor units, through `paycore_money`, plus
//! WeChat's five-decimal fees (exact, then rounded half away from zero).

use paycore_money::{format_minor, parse_minor, Currency, Sign};

use crate::{ErrorKind, StatementError};

/// Decimal places of the major unit WeChat prints fees with (手续费 `0.00600`).
pub(crate) const FEE_DECIMALS: u32 = 5;

/// A non-negative amount (订单金额, 退款金额, `amount`) in minor units.
pub(crate) fn amount(
    text: &str,
    currency: Currency,
    column: &str,
    line: u64,
) -> Result<u64, StatementError> {
    non_negative(text, currency, column, line).map(i64::unsigned_abs)
}

/// [`amount`] as the `i64` it was parsed into (never negative).
pub(crate) fn non_negative(
    text: &str,
    currency: Currency,
    column: &str,
    line: u64,
) -> Result<i64, StatementError> {
    parse_minor(text, currency, Sign::NonNegative).map_err(|err| invalid(column, text, line, err))
}

/// An amount that may be negative (Alipay's refunds and fees, the plain CSV's fee).
pub(crate) fn signed(
    text: &str,
    currency: Currency,
    column: &str,
    line: u64,
) -> Result<i64, StatementError> {
    parse_minor(text, currency, Sign::Any).map_err(|err| invalid(column, text, line, err))
}

/// A fee with up to [`FEE_DECIMALS`] decimals: exactly, and rounded to minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fee {
    /// Units of 10^-5 of the major unit: `0.00600` is 600.
    pub exact: i64,
    /// Minor units, rounded half away from zero: `0.00600` CNY is 1 fen.
    pub minor: i64,
}

/// Parses a fee such as `0.00600` or `-0.06000`. Up to the currency's scale the text goes
/// through `parse_minor`; the at most `FEE_DECIMALS - scale` digits after it are read here.
pub(crate) fn fee(
    text: &str,
    currency: Currency,
    column: &str,
    line: u64,
) -> Result<Fee, StatementError> {
    split_fee(text, currency).map_err(|err| invalid(column, text, line, err))
}

fn split_fee(text: &str, currency: Currency) -> Result<Fee, String> {
    // The split below counts bytes: anything but ASCII is refused before it (and is no
    // amount anyway).
    if !text.is_ascii() {
        return Err("expected digits with an optional decimal point, e.g. 0.00600".to_owned());
    }
    let scale = u32::from(currency.scale());
    let unit = 10i64.pow(FEE_DECIMALS - scale);
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let fraction = magnitude.split_once('.').map_or(0, |(_, f)| f.len());
    let extra = fraction.saturating_sub(scale as usize);
    if extra == 0 {
        let minor = parse_minor(text, currency, Sign::Any).map_err(|e| e.to_string())?;
        let exact = minor.checked_mul(unit).ok_or("the fee overflows")?;
        return Ok(Fee { exact, minor });
    }
    if extra > (FEE_DECIMALS - scale) as usize {
        return Err(format!("a fee has at most {FEE_DECIMALS} decimals"));
    }
    let (head, tail) = magnitude.split_at(magnitude.len() - extra);
    let head = if scale == 0 {
        head.strip_suffix('.').unwrap_or(head)
    } else {
        head
    };
    if !tail.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected digits with an optional decimal point, e.g. 0.00600".to_owned());
    }
    let truncated = parse_minor(head, currency, Sign::NonNegative).map_err(|e| e.to_string())?;
    let padding = 10i64.pow(FEE_DECIMALS - scale - extra as u32);
    let below = tail.bytes().fold(0i64, |v, d| v * 10 + i64::from(d - b'0')) * padding;
    let exact = truncated
        .checked_mul(unit)
        .and_then(|v| v.checked_add(below))
        .ok_or("the fee overflows")?;
    let minor = truncated + i64::from(below * 2 >= unit);
    Ok(if negative {
        Fee {
            exact: -exact,
            minor: -minor,
        }
    } else {
        Fee { exact, minor }
    })
}

/// Minor units as a fee's exact units (1 fen → 1000), `None` on overflow.
pub(crate) fn minor_to_exact(minor: i64, currency: Currency) -> Option<i64> {
    minor.checked_mul(10i64.pow(FEE_DECIMALS - u32::from(currency.scale())))
}

/// Writes exact fee units with five decimals: 600 → `0.00600`, -6000 → `-0.06000`.
pub(crate) fn format_fee(exact: i64) -> String {
    let sign = if exact < 0 { "-" } else { "" };
    let magnitude = exact.unsigned_abs();
    let unit = 10u64.pow(FEE_DECIMALS);
    let width = FEE_DECIMALS as usize;
    format!("{sign}{}.{:0width$}", magnitude / unit, magnitude % unit)
}

/// Writes minor units with the currency's scale, refusing what `parse_minor` could not read.
pub(crate) fn format_amount(minor: u64, currency: Currency) -> Option<String> {
    i64::try_from(minor).ok().map(|m| format_minor(m, currency))
}

fn invalid(column: &str, text: &str, line: u64, err: impl std::fmt::Display) -> StatementError {
    StatementError::new(
        ErrorKind::InvalidAmount,
        line,
        format!("{column} {text:?} is not a valid amount: {err}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CNY: Currency = Currency::CNY;

    fn fee_of(text: &str) -> Result<(i64, i64), ErrorKind> {
        fee(text, CNY, "手续费", 3)
            .map(|f| (f.exact, f.minor))
            .map_err(|e| e.kind)
    }

    #[test]
    fn fees_keep_five_decimals_and_round_half_away_from_zero() {
        let cases = [
            ("0.00600", (600, 1)),
            ("0.00500", (500, 1)),
            ("0.00499", (499, 0)),
            ("0.01", (1000, 1)),
            ("0", (0, 0)),
            ("12.34567", (1234567, 1235)),
            ("12.3456", (1234560, 1235)),
            ("12.345", (1234500, 1235)),
            ("12.344", (1234400, 1234)),
            ("-0.06000", (-6000, -6)),
            ("-0.00500", (-500, -1)),
            ("-0.00499", (-499, 0)),
        ];
        for (text, expected) in cases {
            assert_eq!(fee_of(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn bad_fees_are_refused() {
        for text in [
            "",
            "0.000001",
            "1.2.3",
            "1..5",
            "0.00a00",
            "--0.00500",
            "+1",
            "1e3",
            "0.0é",
            "１.00000",
        ] {
            assert_eq!(fee_of(text), Err(ErrorKind::InvalidAmount), "{text:?}");
        }
        let err = fee("0.000001", CNY, "手续费", 9).unwrap_err();
        assert_eq!(err.line, 9);
        assert!(err.reason.contains("手续费 \"0.000001\""), "{}", err.reason);
    }

    #[test]
    fn random_amount_text_never_panics_and_what_parses_round_trips() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let alphabet = ["0", "1", "5", "9", ".", "-", "é", "１", "`", " ", "元"];
        let currencies = [CNY, Currency::JPY, Currency::from_code("KWD").unwrap()];
        let mut rng = SmallRng::seed_from_u64(0xFEE5);
        for _ in 0..100_000 {
            let len = rng.gen_range(0..10);
            let text: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            let currency = currencies[rng.gen_range(0..currencies.len())];
            if let Ok(fee) = fee(&text, currency, "手续费", 1) {
                let again = self::fee(&format_fee(fee.exact), currency, "手续费", 1).unwrap();
                assert_eq!(again, fee, "{text:?}");
            }
            if let Ok(minor) = amount(&text, currency, "订单金额", 1) {
                assert_eq!(
                    format_amount(minor, currency).map(|t| amount(&t, currency, "", 1)),
                    Some(Ok(minor))
                );
            }
        }
    }

    #[test]
    fn fees_in_a_currency_without_minor_units() {
        let jpy = Currency::JPY;
        let f = fee("15.50000", jpy, "手续费", 1).unwrap();
        assert_eq!((f.exact, f.minor), (1_550_000, 16));
        let f = fee("15", jpy, "手续费", 1).unwrap();
        assert_eq!((f.exact, f.minor), (1_500_000, 15));
        assert_eq!(minor_to_exact(15, jpy), Some(1_500_000));
    }

    #[test]
    fn fee_text_round_trips() {
        for exact in [0, 1, 600, -6000, 1234567, -99_999, i64::MAX / 7] {
            let text = format_fee(exact);
            assert_eq!(fee(&text, CNY, "手续费", 1).unwrap().exact, exact, "{text}");
        }
        assert_eq!(format_fee(-500), "-0.00500");
    }

    #[test]
    fn amounts_are_exact_minor_units() {
        assert_eq!(amount("12.34", CNY, "订单金额", 1), Ok(1234));
        assert_eq!(amount("0.1", CNY, "订单金额", 1), Ok(10));
        for text in ["12.3.4", "-1.00", "1.005", "", "1,000.00"] {
            let err = amount(text, CNY, "订单金额", 4).unwrap_err();
            assert_eq!(
                (err.kind, err.line),
                (ErrorKind::InvalidAmount, 4),
                "{text}"
            );
        }
        assert_eq!(signed("-12.30", CNY, "服务费", 1), Ok(-1230));
        assert_eq!(format_amount(1234, CNY).as_deref(), Some("12.34"));
        assert_eq!(format_amount(u64::MAX, CNY), None);
    }
}
