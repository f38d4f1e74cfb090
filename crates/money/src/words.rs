//! Chinese capital numerals (大写金额) for CNY amounts, as written on vouchers and cheques.
//!
//! Rules follow the PBOC rules for filling in bills (正确填写票据和结算凭证的基本规定):
//! - a run of zeros inside the yuan part is written as one 零 (1005 → 壹仟零伍元);
//! - zeros at the end of a 万/亿 group are dropped (10000000 → 壹仟万元);
//! - a group whose leading digits are zero after a non-zero higher group gets one 零
//!   (100000005 → 壹亿零伍元, 10005 → 壹万零伍元);
//! - a leading ten is written 壹拾 (10 → 壹拾元整), never a bare 拾;
//! - 整 follows an amount that ends at 元; nothing follows 角 or 分;
//! - when 角 is zero and 分 is not, 零 follows 元 (100000.07 → 壹拾万元零柒分);
//! - where the rules allow either form (元 digit zero, 角 non-zero: 1680.32) paycore writes
//!   the shorter one without 零: 壹仟陆佰捌拾元叁角贰分.
//!
//! Groups above 亿 recurse: 10^12 is 壹万亿, 10^16 is 壹亿亿.

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const SECTION_UNITS: [&str; 4] = ["仟", "佰", "拾", ""];

const WAN: u64 = 10_000;
const YI: u64 = 100_000_000;

/// Writes `fen` (CNY minor units) in capital numerals: 100530 → "壹仟零伍元叁角".
pub fn cny_capital(fen: i64) -> String {
    let mut out = String::new();
    if fen < 0 {
        out.push('负');
    }
    let magnitude = fen.unsigned_abs();
    let yuan = magnitude / 100;
    let jiao = (magnitude / 10 % 10) as usize;
    let fen_digit = (magnitude % 10) as usize;

    if magnitude == 0 {
        return "零元整".to_owned();
    }
    if yuan > 0 {
        push_integer(yuan, &mut out);
        out.push('元');
    }
    if jiao == 0 && fen_digit == 0 {
        out.push('整');
        return out;
    }
    if jiao > 0 {
        out.push(DIGITS[jiao]);
        out.push('角');
    } else if yuan > 0 {
        out.push('零');
    }
    if fen_digit > 0 {
        out.push(DIGITS[fen_digit]);
        out.push('分');
    }
    out
}

/// Writes a positive integer, splitting at 亿 (recursively, so 亿 may repeat) and at 万.
fn push_integer(value: u64, out: &mut String) {
    debug_assert!(value > 0);
    if value >= YI {
        push_integer(value / YI, out);
        out.push('亿');
        push_lower(value % YI, YI / 10, out);
    } else if value >= WAN {
        push_section(value / WAN, out);
        out.push('万');
        push_lower(value % WAN, WAN / 10, out);
    } else {
        push_section(value, out);
    }
}

/// Writes the part below a 万/亿 boundary; a single 零 bridges leading zeros of that part.
fn push_lower(lower: u64, leading_digit_place: u64, out: &mut String) {
    if lower == 0 {
        return;
    }
    if lower < leading_digit_place {
        out.push('零');
    }
    push_integer(lower, out);
}

/// Writes 1..=9999 with its place units; runs of inner zeros become one 零, trailing zeros vanish.
fn push_section(section: u64, out: &mut String) {
    debug_assert!((1..WAN).contains(&section));
    let digits = [
        section / 1000,
        section / 100 % 10,
        section / 10 % 10,
        section % 10,
    ];
    let mut started = false;
    let mut zero_pending = false;
    for (digit, unit) in digits.iter().zip(SECTION_UNITS) {
        if *digit == 0 {
            zero_pending = started;
            continue;
        }
        if zero_pending {
            out.push('零');
            zero_pending = false;
        }
        out.push(DIGITS[*digit as usize]);
        out.push_str(unit);
        started = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_minor, Currency, Sign};

    /// Hand-checked against the PBOC rules; the first block is the rules' own examples.
    const CASES: &[(&str, &str)] = &[
        ("1409.50", "壹仟肆佰零玖元伍角"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        // The examples.
        ("1005.30", "壹仟零伍元叁角"),
        ("10000000", "壹仟万元整"),
        ("0.05", "伍分"),
        ("100000.07", "壹拾万元零柒分"),
        // Small amounts and the 角/分 rules.
        ("0", "零元整"),
        ("0.01", "壹分"),
        ("0.10", "壹角"),
        ("0.15", "壹角伍分"),
        ("1", "壹元整"),
        ("1.01", "壹元零壹分"),
        ("1.10", "壹元壹角"),
        ("100.10", "壹佰元壹角"),
        ("90000.09", "玖万元零玖分"),
        // Tens: always 壹拾.
        ("10", "壹拾元整"),
        ("11", "壹拾壹元整"),
        ("15.50", "壹拾伍元伍角"),
        ("20", "贰拾元整"),
        // Zeros inside a section.
        ("100", "壹佰元整"),
        ("101", "壹佰零壹元整"),
        ("110", "壹佰壹拾元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        // Zeros across the 万 boundary.
        ("10000", "壹万元整"),
        ("10001", "壹万零壹元整"),
        ("10010", "壹万零壹拾元整"),
        ("10100", "壹万零壹佰元整"),
        ("11000", "壹万壹仟元整"),
        ("50050.50", "伍万零伍拾元伍角"),
        ("100010", "壹拾万零壹拾元整"),
        ("1000000", "壹佰万元整"),
        ("1001000", "壹佰万壹仟元整"),
        ("1000100", "壹佰万零壹佰元整"),
        ("1010101.01", "壹佰零壹万零壹佰零壹元零壹分"),
        ("10010000", "壹仟零壹万元整"),
        // Zeros across the 亿 boundary.
        ("100000000", "壹亿元整"),
        ("100000001", "壹亿零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("110000000", "壹亿壹仟万元整"),
        ("200200200", "贰亿零贰拾万零贰佰元整"),
        ("1000000000", "壹拾亿元整"),
        ("1200000300", "壹拾贰亿零叁佰元整"),
        (
            "1234567890.12",
            "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分",
        ),
        // Beyond 亿: 万亿 and 亿亿.
        ("1000000000000", "壹万亿元整"),
        ("1000000000005", "壹万亿零伍元整"),
        ("10000000000000000", "壹亿亿元整"),
        (
            "92233720368547758.07",
            "玖亿贰仟贰佰叁拾叁万柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分",
        ),
        // Negative amounts (balances, reversals).
        ("-5", "负伍元整"),
        ("-0.30", "负叁角"),
    ];

    #[test]
    fn capital_numerals_match_the_hand_checked_table() {
        assert!(CASES.len() >= 40);
        for (text, expected) in CASES {
            let fen = parse_minor(text, Currency::CNY, Sign::Any).unwrap();
            assert_eq!(cny_capital(fen), *expected, "{text}");
        }
    }

    #[test]
    fn never_writes_doubled_or_trailing_zeros() {
        for fen in (1..2_000_000i64)
            .step_by(7)
            .chain((0..40).map(|p| 1i64 << p))
        {
            let words = cny_capital(fen);
            assert!(!words.contains("零零"), "{fen}: {words}");
            assert!(!words.contains("零元"), "{fen}: {words}");
            assert!(
                !words.contains("零万") && !words.contains("零亿"),
                "{fen}: {words}"
            );
            assert!(!words.starts_with('零'), "{fen}: {words}");
        }
    }
}
