//! The one decision per key: matched, a difference, or carried to the next day's run.

use crate::record::{OurStatus, Ours, Theirs};
use crate::Millis;

/// How the two sides disagree about one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Difference {
    /// The channel has it; paycore does not, or holds it unknown, processing or failed (长款).
    MissingOurs,
    /// paycore has a success the channel does not list (短款).
    MissingTheirs,
    AmountMismatch,
    /// The channel lists it with a status that says the money did not move, while paycore
    /// has it succeeded (or the kinds disagree).
    StatusMismatch,
    /// The channel lists it more than once.
    Duplicate,
}

impl Difference {
    pub const ALL: [Difference; 5] = [
        Difference::MissingOurs,
        Difference::MissingTheirs,
        Difference::AmountMismatch,
        Difference::StatusMismatch,
        Difference::Duplicate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Difference::MissingOurs => "missing_ours",
            Difference::MissingTheirs => "missing_theirs",
            Difference::AmountMismatch => "amount_mismatch",
            Difference::StatusMismatch => "status_mismatch",
            Difference::Duplicate => "duplicate",
        }
    }

    pub fn from_name(name: &str) -> Option<Difference> {
        Difference::ALL.into_iter().find(|d| d.name() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Matched,
    Different(Difference),
    /// paycore's success near the day's end that the channel may list on the next day:
    /// looked for again in the next day's run before it becomes a difference.
    Carried,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Matched => "matched",
            Verdict::Carried => "carried",
            Verdict::Different(d) => d.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Verdict> {
        match name {
            "matched" => Some(Verdict::Matched),
            "carried" => Some(Verdict::Carried),
            other => Difference::from_name(other).map(Verdict::Different),
        }
    }
}

/// A key the statement lists, against paycore's record of it (of any day).
pub fn classify(ours: Option<&Ours>, theirs: &Theirs) -> Verdict {
    use Difference::*;
    if theirs.lines > 1 {
        return Verdict::Different(Duplicate);
    }
    let Some(ours) = ours else {
        return Verdict::Different(MissingOurs);
    };
    assert_eq!(ours.key, theirs.key, "classified against its own key");
    if ours.kind != theirs.kind {
        return Verdict::Different(StatusMismatch);
    }
    match (theirs.says_done(), ours.status) {
        (false, OurStatus::Succeeded) => Verdict::Different(StatusMismatch),
        // The channel says it did not happen, and paycore does not count it either.
        (false, _) => Verdict::Matched,
        (true, OurStatus::Succeeded) if ours.amount != theirs.amount || !theirs.amounts_agree => {
            Verdict::Different(AmountMismatch)
        }
        (true, OurStatus::Succeeded) => Verdict::Matched,
        (true, _) => Verdict::Different(MissingOurs),
    }
}

/// A success paycore has for the day that the statement does not list: carried when it is
/// within `carry_window_ms` of the day's end (the channel may date it on the next day), else
/// missing on their side.
pub fn classify_ours_only(ours: &Ours, day_end: Millis, carry_window_ms: Millis) -> Verdict {
    assert_eq!(ours.status, OurStatus::Succeeded, "only successes are owed");
    if ours.at.saturating_add(carry_window_ms) >= day_end {
        Verdict::Carried
    } else {
        Verdict::Different(Difference::MissingTheirs)
    }
}

#[cfg(test)]
mod tests {
    use paycore_money::Currency;

    use super::*;
    use crate::RecordKind;

    fn ours(status: OurStatus, amount: u64) -> Ours {
        Ours {
            key: "o1".into(),
            kind: RecordKind::Payment,
            owner: "p1".into(),
            amount,
            currency: Currency::CNY,
            status,
            at: 1_000,
        }
    }

    fn theirs(status: &str, amount: u64, lines: u64) -> Theirs {
        Theirs {
            key: "o1".into(),
            kind: RecordKind::Payment,
            amount,
            amounts_agree: true,
            status: status.into(),
            lines,
            reversals: 0,
            line_no: 2,
            bank_ref: "B".into(),
            fee: 0,
        }
    }

    #[test]
    fn each_disagreement_has_its_name() {
        use Difference::*;
        let ok = ours(OurStatus::Succeeded, 100);
        let cases = [
            (Some(&ok), theirs("SUCCESS", 100, 1), Verdict::Matched),
            (
                Some(&ok),
                theirs("SUCCESS", 101, 1),
                Verdict::Different(AmountMismatch),
            ),
            (
                Some(&ok),
                theirs("REVOKED", 100, 1),
                Verdict::Different(StatusMismatch),
            ),
            (
                Some(&ok),
                theirs("SUCCESS", 100, 2),
                Verdict::Different(Duplicate),
            ),
            (
                None,
                theirs("SUCCESS", 100, 1),
                Verdict::Different(MissingOurs),
            ),
        ];
        for (o, t, want) in cases {
            assert_eq!(classify(o, &t), want, "{t:?}");
        }
        for held in [OurStatus::Unknown, OurStatus::Failed, OurStatus::Processing] {
            let o = ours(held, 100);
            assert_eq!(
                classify(Some(&o), &theirs("SUCCESS", 100, 1)),
                Verdict::Different(MissingOurs),
                "长款: the bank has money paycore does not count"
            );
            assert_eq!(
                classify(Some(&o), &theirs("REVOKED", 100, 1)),
                Verdict::Matched
            );
        }
    }

    #[test]
    fn a_duplicate_is_reversed_only_when_every_extra_listing_is() {
        let mut t = theirs("SUCCESS", 100, 3);
        assert_eq!(
            classify(None, &t),
            Verdict::Different(Difference::Duplicate)
        );
        assert!(!t.duplicate_reversed(), "two listings, none reversed");
        t.reversals = 1;
        assert!(t.duplicate_reversed(), "two listings, one reversed");
        t.amounts_agree = false;
        assert!(!t.duplicate_reversed(), "a reversal for another amount");
        let single = theirs("SUCCESS", 100, 1);
        assert!(!single.duplicate_reversed());
    }

    #[test]
    fn a_success_near_midnight_is_carried_once_not_flagged() {
        let o = ours(OurStatus::Succeeded, 100);
        assert_eq!(classify_ours_only(&o, 1_500, 600), Verdict::Carried);
        assert_eq!(
            classify_ours_only(&o, 5_000, 600),
            Verdict::Different(Difference::MissingTheirs)
        );
    }

    #[test]
    fn names_round_trip() {
        for d in Difference::ALL {
            let v = Verdict::Different(d);
            assert_eq!(Verdict::from_name(v.name()), Some(v));
        }
        assert_eq!(Verdict::from_name("carried"), Some(Verdict::Carried));
    }
}
