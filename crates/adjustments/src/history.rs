//! The history of an adjustment: who created, approved, rejected it, when, with what comment,
//! and what the ledger said. Entries are appended, numbered from 1, and never edited; the
//! approvals in force are derived from them (`approvals`).

use crate::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The maker proposed it (comment: the reason).
    Created,
    /// A checker approved it (comment: theirs).
    Approved,
    /// The ledger posted it (ledger_id: the transfer).
    Posted,
    /// The ledger refused the posting (code: why); the approval that asked for it no longer
    /// counts and the adjustment waits again.
    PostingRefused,
    /// Someone rejected it (comment: the reason).
    Rejected,
    /// It waited past its expiry.
    Expired,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Created,
        Action::Approved,
        Action::Posted,
        Action::PostingRefused,
        Action::Rejected,
        Action::Expired,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Approved => "approved",
            Action::Posted => "posted",
            Action::PostingRefused => "posting_refused",
            Action::Rejected => "rejected",
            Action::Expired => "expired",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// One history entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// 1, 2, 3… within the adjustment.
    pub seq: u32,
    pub at: Millis,
    pub action: Action,
    /// The person, or `system` (expiry, and postings finished after a restart).
    pub operator: String,
    pub comment: Option<String>,
    /// The ledger's error code of a refused posting.
    pub code: Option<String>,
    /// The ledger transfer id a posting used (posted or refused).
    pub ledger_id: Option<String>,
}

/// An approval in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    pub operator: String,
    pub at: Millis,
    pub comment: Option<String>,
}

/// The approvals in force after `history`: every approval, less the one each refused posting
/// cancelled (the last one before it, which had asked for the posting).
pub fn approvals(history: &[Event]) -> Vec<Approval> {
    let mut approvals = Vec::new();
    for event in history {
        match event.action {
            Action::Approved => approvals.push(Approval {
                operator: event.operator.clone(),
                at: event.at,
                comment: event.comment.clone(),
            }),
            Action::PostingRefused => {
                let cancelled = approvals.pop();
                assert!(cancelled.is_some(), "a refused posting follows an approval");
            }
            Action::Created | Action::Posted | Action::Rejected | Action::Expired => {}
        }
    }
    approvals
}
