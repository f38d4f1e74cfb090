//! The one timestamp shape statements carry: `YYYY-MM-DD HH:MM:SS`.

/// Whether `text` is `YYYY-MM-DD HH:MM:SS` with a month 01–12, a day 01–31, an hour below 24
/// and minutes and seconds below 60 (leap seconds are not printed by any channel we read).
/// The calendar is not checked further: the channel's text is kept as printed.
pub(crate) fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' {
        return false;
    }
    if b[13] != b':' || b[16] != b':' {
        return false;
    }
    let number = |at: usize| -> Option<u32> {
        let (hi, lo) = (b[at], b[at + 1]);
        (hi.is_ascii_digit() && lo.is_ascii_digit())
            .then(|| u32::from(hi - b'0') * 10 + u32::from(lo - b'0'))
    };
    let year_ok = b[..4].iter().all(u8::is_ascii_digit);
    let fields = [
        (5, 1, 12),
        (8, 1, 31),
        (11, 0, 23),
        (14, 0, 59),
        (17, 0, 59),
    ];
    year_ok
        && fields
            .iter()
            .all(|&(at, lo, hi)| number(at).is_some_and(|n| (lo..=hi).contains(&n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_channel_timestamp_shape() {
        for ok in [
            "2024-03-01 10:00:00",
            "2024-12-31 23:59:59",
            "1999-01-01 00:00:00",
        ] {
            assert!(is_timestamp(ok), "{ok}");
        }
        let bad = [
            "",
            "2024-03-01",
            "2024-03-01T10:00:00",
            "2024-13-01 10:00:00",
            "2024-00-01 10:00:00",
            "2024-03-32 10:00:00",
            "2024-03-01 24:00:00",
            "2024-03-01 10:60:00",
            "2024-03-01 10:00:60",
            "2024-3-01 10:00:000",
            "２０２４-03-01 10:00",
            "2024-03-01 10:00:00 ",
        ];
        for text in bad {
            assert!(!is_timestamp(text), "{text:?}");
        }
    }
}
