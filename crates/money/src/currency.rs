//! ISO 4217 currencies and the number of decimal places of their minor unit.

use std::fmt;

use crate::MoneyError;

/// A currency: its ISO 4217 alphabetic code and its minor-unit scale (CNY 2, JPY 0, KWD 3).
///
/// Four bytes, `Copy`, compared bytewise: cheap enough to carry on every ledger command.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    scale: u8,
}

macro_rules! currencies {
    ($($code:ident $scale:literal),* $(,)?) => {
        /// Currencies paycore knows, with their ISO 4217 minor units.
        pub const CURRENCIES: &[Currency] = &[
            $(Currency::new_const(stringify!($code), $scale)),*
        ];
    };
}

currencies! {
    CNY 2, USD 2, EUR 2, GBP 2, HKD 2, MOP 2, TWD 2, SGD 2, AUD 2, CAD 2, CHF 2, NZD 2,
    SEK 2, NOK 2, DKK 2, INR 2, IDR 2, MYR 2, THB 2, PHP 2, RUB 2, BRL 2, MXN 2, ZAR 2,
    AED 2, SAR 2, TRY 2, PLN 2, CZK 2, HUF 2, ILS 2, EGP 2, NGN 2, KES 2, PKR 2, BDT 2,
    LKR 2, ARS 2, COP 2, PEN 2, UAH 2, KZT 2, QAR 2, MAD 2, MNT 2, LAK 2, MMK 2, KHR 2,
    NPR 2, RON 2, BGN 2, GEL 2, AMD 2, AZN 2, UZS 2, BYN 2, RSD 2, MKD 2, ALL 2, MDL 2,
    JPY 0, KRW 0, VND 0, CLP 0, ISK 0, PYG 0, UGX 0, XAF 0, XOF 0, XPF 0, KMF 0, RWF 0,
    DJF 0, GNF 0, VUV 0, BIF 0,
    BHD 3, KWD 3, OMR 3, JOD 3, IQD 3, LYD 3, TND 3,
}

impl Currency {
    const fn new_const(code: &str, scale: u8) -> Currency {
        let bytes = code.as_bytes();
        assert!(bytes.len() == 3);
        Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            scale,
        }
    }

    /// Chinese yuan renminbi, the default currency of a paycore installation.
    pub const CNY: Currency = Currency::new_const("CNY", 2);
    pub const USD: Currency = Currency::new_const("USD", 2);
    pub const JPY: Currency = Currency::new_const("JPY", 0);

    /// Looks a code up in the table; the code must be three upper-case letters.
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        CURRENCIES
            .iter()
            .copied()
            .find(|c| c.code() == code)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }

    /// The three-letter ISO code, e.g. `"CNY"`.
    pub fn code(&self) -> &str {
        // The constructor only accepts ASCII letters, so this cannot fail.
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    /// Decimal places of the minor unit: 2 for CNY (fen), 0 for JPY.
    pub fn scale(&self) -> u8 {
        self.scale
    }

    /// The packed representation used by storage formats: code bytes then scale.
    pub fn to_bytes(self) -> [u8; 4] {
        [self.code[0], self.code[1], self.code[2], self.scale]
    }

    /// Inverse of [`Currency::to_bytes`]; refuses anything not in the table.
    pub fn from_bytes(bytes: [u8; 4]) -> Option<Currency> {
        let candidate = Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            scale: bytes[3],
        };
        CURRENCIES.contains(&candidate).then_some(candidate)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.code(), self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scales() {
        for (code, scale) in [("CNY", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("KRW", 0)] {
            assert_eq!(Currency::from_code(code).unwrap().scale(), scale, "{code}");
        }
    }

    #[test]
    fn unknown_and_lower_case_codes_are_refused() {
        for code in ["cny", "XYZ", "", "CNYY", "元"] {
            let err = Currency::from_code(code).unwrap_err();
            assert_eq!(err.code(), "unknown_currency");
        }
    }

    #[test]
    fn codes_are_unique_and_round_trip_through_bytes() {
        for (i, a) in CURRENCIES.iter().enumerate() {
            assert!(a.code().bytes().all(|b| b.is_ascii_uppercase()));
            assert_eq!(Currency::from_bytes(a.to_bytes()), Some(*a));
            for b in &CURRENCIES[i + 1..] {
                assert_ne!(a.code(), b.code());
            }
        }
        assert_eq!(Currency::from_bytes(*b"CNY\x03"), None);
    }
}
