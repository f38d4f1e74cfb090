//! An exception (差错): one difference of one run, handled to closure. `open` until someone
//! (or a certain rule) acts; `resolving` while the money an action moves is on its way (an
//! adjustment waiting for its second person); `closed` once it moved, or was accepted. Its
//! history records who did what and when, and only grows.

use crate::classify::Difference;
use crate::error::ReconError;
use crate::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionStatus {
    Open,
    Resolving,
    Closed,
}

impl ExceptionStatus {
    pub const ALL: [ExceptionStatus; 3] = [
        ExceptionStatus::Open,
        ExceptionStatus::Resolving,
        ExceptionStatus::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExceptionStatus::Open => "open",
            ExceptionStatus::Resolving => "resolving",
            ExceptionStatus::Closed => "closed",
        }
    }

    pub fn from_name(name: &str) -> Option<ExceptionStatus> {
        ExceptionStatus::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What a person decides for an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Return money the channel holds that paycore does not count (through the channel).
    Refund,
    /// Book money the channel has and paycore lacks (an adjustment).
    Supplement,
    /// Nothing to move: the difference is explained (with the reason).
    Accept,
    /// Book a loss for money paycore counted that the channel never had (an adjustment).
    WriteOff,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Refund,
        Action::Supplement,
        Action::Accept,
        Action::WriteOff,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Refund => "refund",
            Action::Supplement => "supplement",
            Action::Accept => "accept",
            Action::WriteOff => "write_off",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether the action makes sense for the difference: money the channel has and paycore
    /// lacks is supplemented or refunded, money paycore counted that the channel lacks is
    /// written off; anything may be accepted with a reason.
    pub fn applies_to(self, kind: Difference) -> bool {
        use Difference::*;
        match self {
            Action::Accept => true,
            Action::Supplement => matches!(kind, MissingOurs | AmountMismatch),
            Action::WriteOff => matches!(kind, MissingTheirs | AmountMismatch),
            Action::Refund => matches!(kind, MissingOurs | Duplicate),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at: Millis,
    /// An operator, or `system` for a rule.
    pub by: String,
    /// `opened`, an action's name, `closed`, `supplemented` (补单 by the statement)…
    pub event: String,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    pub id: String,
    pub run_id: String,
    pub kind: Difference,
    pub channel: String,
    pub channel_order_no: String,
    pub status: ExceptionStatus,
    /// JSON of each side's record (`null` when absent), as seen by the run.
    pub ours: String,
    pub theirs: String,
    /// The amount the difference is about (minor units).
    pub amount: u64,
    pub currency: String,
    /// The adjustment proposed for it, if any.
    pub adjustment_id: Option<String>,
    /// The refund sent through the channel for it (action `refund`), if any.
    pub refund_id: Option<String>,
    pub history: Vec<HistoryEntry>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Exception {
    pub fn open(mut self, at: Millis) -> Exception {
        assert!(self.history.is_empty());
        self.status = ExceptionStatus::Open;
        self.created_at = at;
        self.updated_at = at;
        self.push(at, "system", "opened", self.kind.name().to_owned());
        self
    }

    fn push(&mut self, at: Millis, by: &str, event: &str, note: String) {
        let at = at.max(self.updated_at);
        self.history.push(HistoryEntry {
            at,
            by: by.to_owned(),
            event: event.to_owned(),
            note,
        });
        self.updated_at = at;
    }

    /// Checks a person's action before anything moves.
    pub fn check_action(&self, action: Action) -> Result<(), ReconError> {
        if self.status != ExceptionStatus::Open {
            return Err(ReconError::ExceptionClosed {
                status: self.status.name(),
            });
        }
        if !action.applies_to(self.kind) {
            return Err(ReconError::ActionNotApplicable {
                action: action.name(),
                kind: self.kind.name(),
            });
        }
        Ok(())
    }

    /// A person's accept: closed, nothing moves.
    pub fn accept(&mut self, by: &str, reason: &str, at: Millis) -> Result<(), ReconError> {
        self.check_action(Action::Accept)?;
        self.push(at, by, "accept", reason.to_owned());
        self.close(at, by, "accepted");
        Ok(())
    }

    /// An action whose money moves later (`adjustment` proposed, or a refund sent).
    pub fn resolving(
        &mut self,
        action: Action,
        by: &str,
        reason: &str,
        reference: &str,
        at: Millis,
    ) -> Result<(), ReconError> {
        self.check_action(action)?;
        self.push(at, by, action.name(), format!("{reason} ({reference})"));
        self.status = ExceptionStatus::Resolving;
        Ok(())
    }

    /// The action's adjustment was rejected or expired, or its refund failed: open again for
    /// another decision.
    pub fn reopen(&mut self, at: Millis, by: &str, note: &str) {
        assert_eq!(
            self.status,
            ExceptionStatus::Resolving,
            "only a resolving one reopens"
        );
        self.push(at, by, "reopened", note.to_owned());
        self.status = ExceptionStatus::Open;
        self.adjustment_id = None;
        self.refund_id = None;
    }

    /// The money moved (or a certain rule settled it): closed.
    pub fn close(&mut self, at: Millis, by: &str, note: &str) {
        assert_ne!(self.status, ExceptionStatus::Closed, "closed once");
        self.push(at, by, "closed", note.to_owned());
        self.status = ExceptionStatus::Closed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exception(kind: Difference) -> Exception {
        Exception {
            id: "e1".into(),
            run_id: "r1".into(),
            kind,
            channel: "a".into(),
            channel_order_no: "o1".into(),
            status: ExceptionStatus::Open,
            ours: "null".into(),
            theirs: "{}".into(),
            amount: 100,
            currency: "CNY".into(),
            adjustment_id: None,
            refund_id: None,
            history: Vec::new(),
            created_at: 0,
            updated_at: 0,
        }
        .open(10)
    }

    #[test]
    fn actions_fit_their_difference_and_close_once() {
        let mut e = exception(Difference::MissingTheirs);
        assert_eq!(
            e.check_action(Action::Supplement).unwrap_err().code(),
            "action_not_applicable"
        );
        e.resolving(Action::WriteOff, "ann", "bank lost it", "adj-1", 20)
            .unwrap();
        assert_eq!(e.status, ExceptionStatus::Resolving);
        assert_eq!(
            e.accept("bob", "x", 30).unwrap_err().code(),
            "exception_closed"
        );
        e.close(40, "system", "adjustment adj-1 posted");
        let events: Vec<_> = e.history.iter().map(|h| h.event.as_str()).collect();
        assert_eq!(events, ["opened", "write_off", "closed"]);
        assert!(e.history.windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn accepting_closes_with_the_reason() {
        let mut e = exception(Difference::Duplicate);
        e.accept("ann", "the bank printed it twice", 20).unwrap();
        assert_eq!(e.status, ExceptionStatus::Closed);
        assert_eq!(e.history[1].note, "the bank printed it twice");
    }
}
