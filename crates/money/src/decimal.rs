//! Decimal text ⇄ integer minor units ("1005.30" CNY ⇄ 100530 fen), exact and checked.

use crate::{Currency, MoneyError};

/// Whether a parsed amount may be negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// Amounts of movements: "-5" is refused.
    NonNegative,
    /// Balances and adjustments: a leading '-' is accepted.
    Any,
}

/// Parses a decimal amount into minor units of `currency`.
///
/// Accepted: `1005`, `1005.3`, `1005.30`, and with [`Sign::Any`] a leading `-`. Refused with a
/// specific error: empty text, anything but digits and one point, more decimals than the
/// currency's scale, a negative where not allowed, and values beyond `i64` minor units.
pub fn parse_minor(text: &str, currency: Currency, sign: Sign) -> Result<i64, MoneyError> {
    if text.is_empty() {
        return Err(MoneyError::Empty);
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !is_digits(whole) || fraction.is_some_and(|f| !is_digits(f)) {
        return Err(MoneyError::InvalidFormat(text.to_owned()));
    }
    let fraction = fraction.unwrap_or("");
    let scale = usize::from(currency.scale());
    if fraction.len() > scale {
        return Err(MoneyError::TooManyDecimals {
            text: text.to_owned(),
            currency: currency.code().to_owned(),
            scale: currency.scale(),
        });
    }
    if negative && sign == Sign::NonNegative {
        return Err(MoneyError::Negative(text.to_owned()));
    }
    let magnitude = digits_to_minor(whole, fraction, scale)?;
    // i64::MIN has no positive twin; allowing it would make negation overflow elsewhere.
    let magnitude = i64::try_from(magnitude).map_err(|_| MoneyError::Overflow)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// Accumulates whole and fraction digits, padding the fraction to `scale`, with overflow checks.
fn digits_to_minor(whole: &str, fraction: &str, scale: usize) -> Result<u64, MoneyError> {
    let padding = scale - fraction.len();
    let digits = whole
        .bytes()
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', padding));
    let mut value: u64 = 0;
    for digit in digits {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit - b'0')))
            .ok_or(MoneyError::Overflow)?;
    }
    Ok(value)
}

/// Formats minor units as a decimal string with exactly the currency's scale: 100530 → "1005.30".
pub fn format_minor(minor: i64, currency: Currency) -> String {
    let scale = u32::from(currency.scale());
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{magnitude}");
    }
    let divisor = 10u64.pow(scale);
    let whole = magnitude / divisor;
    let fraction = magnitude % divisor;
    format!("{sign}{whole}.{fraction:0width$}", width = scale as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CNY: Currency = Currency::CNY;

    #[test]
    fn parses_the_accepted_forms() {
        let cases = [
            ("1005.30", 100530),
            ("1005.3", 100530),
            ("1005", 100500),
            ("0.05", 5),
            ("0", 0),
            ("000012.00", 1200),
            ("92233720368547758.07", i64::MAX),
        ];
        for (text, minor) in cases {
            assert_eq!(
                parse_minor(text, CNY, Sign::NonNegative),
                Ok(minor),
                "{text}"
            );
        }
        assert_eq!(parse_minor("-12.5", CNY, Sign::Any), Ok(-1250));
        assert_eq!(parse_minor("1500", Currency::JPY, Sign::Any), Ok(1500));
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(parse_minor("1.005", kwd, Sign::Any), Ok(1005));
    }

    #[test]
    fn refuses_bad_text_with_the_right_code() {
        let cases = [
            ("", Sign::Any, "amount_invalid"),
            ("abc", Sign::Any, "amount_invalid"),
            ("1.", Sign::Any, "amount_invalid"),
            (".5", Sign::Any, "amount_invalid"),
            ("1.2.3", Sign::Any, "amount_invalid"),
            ("+5", Sign::Any, "amount_invalid"),
            ("1e5", Sign::Any, "amount_invalid"),
            ("1,000", Sign::Any, "amount_invalid"),
            (" 5", Sign::Any, "amount_invalid"),
            ("--5", Sign::Any, "amount_invalid"),
            ("1.005", Sign::Any, "amount_too_many_decimals"),
            ("-5", Sign::NonNegative, "amount_negative"),
            ("92233720368547758.08", Sign::Any, "amount_overflow"),
            ("99999999999999999999999", Sign::Any, "amount_overflow"),
        ];
        for (text, sign, code) in cases {
            let err = parse_minor(text, CNY, sign).unwrap_err();
            assert_eq!(err.code(), code, "{text:?}: {err}");
        }
        let err = parse_minor("1.5", Currency::JPY, Sign::Any).unwrap_err();
        assert_eq!(err.code(), "amount_too_many_decimals");
        assert!(err.to_string().contains("JPY allows 0"), "{err}");
    }

    #[test]
    fn formats_with_the_currency_scale() {
        assert_eq!(format_minor(100530, CNY), "1005.30");
        assert_eq!(format_minor(5, CNY), "0.05");
        assert_eq!(format_minor(-5, CNY), "-0.05");
        assert_eq!(format_minor(0, CNY), "0.00");
        assert_eq!(format_minor(1500, Currency::JPY), "1500");
        assert_eq!(format_minor(i64::MIN, CNY), "-92233720368547758.08");
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(format_minor(1005, kwd), "1.005");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha, ..ProptestConfig::default() })]

        #[test]
        fn format_then_parse_round_trips(minor in (i64::MIN + 1)..=i64::MAX, pick in 0usize..crate::CURRENCIES.len()) {
            let currency = crate::CURRENCIES[pick];
            let text = format_minor(minor, currency);
            prop_assert_eq!(parse_minor(&text, currency, Sign::Any), Ok(minor));
        }
    }
}
