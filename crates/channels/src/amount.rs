//! Decimal amount text of the form protocol ("12.34" CNY) ⇄ integer minor units, exact, through
//! `paycore-money` (the currency's own scale: "1500" JPY, "1.005" KWD).

use paycore_money::{format_minor, parse_minor, Currency, Sign};

/// Minor units as the currency's decimal text; `None` beyond `i64::MAX` minor units.
pub fn to_decimal(amount_minor: u64, currency: Currency) -> Option<String> {
    let signed = i64::try_from(amount_minor).ok()?;
    Some(format_minor(signed, currency))
}

/// Decimal text (no sign, at most the currency's decimals) as minor units.
pub fn from_decimal(text: &str, currency: Currency) -> Option<u64> {
    let minor = parse_minor(text, currency, Sign::NonNegative).ok()?;
    u64::try_from(minor).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_exactly_at_the_currency_scale() {
        let cases = [
            (1234, Currency::CNY, "12.34"),
            (5, Currency::CNY, "0.05"),
            (100, Currency::CNY, "1.00"),
            (1500, Currency::JPY, "1500"),
            (i64::MAX as u64, Currency::CNY, "92233720368547758.07"),
        ];
        for (minor, currency, text) in cases {
            assert_eq!(to_decimal(minor, currency).as_deref(), Some(text));
            assert_eq!(from_decimal(text, currency), Some(minor), "{text}");
        }
        assert_eq!(from_decimal("12.3", Currency::CNY), Some(1230));
    }

    #[test]
    fn refuses_what_is_not_an_exact_amount() {
        assert_eq!(to_decimal(u64::MAX, Currency::CNY), None);
        for bad in ["12.345", "-1.00", "1e3", "", "12,34", " 1.00", "0x10"] {
            assert_eq!(from_decimal(bad, Currency::CNY), None, "{bad:?}");
        }
        assert_eq!(from_decimal("1.5", Currency::JPY), None);
    }
}
