//! The states of an adjustment and their names on the wire and in the store.

/// `PendingApproval` → (`PartiallyApproved` →) `Approved` → `Posted`; `Rejected` and `Expired`
/// end a proposal that waits. `Approved` is the recorded intent to post: the ledger is asked
/// only after it committed, and an adjustment in it is finished (posted, or sent back to
/// waiting with the ledger's refusal) before anything else happens to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    PendingApproval,
    PartiallyApproved,
    Approved,
    Posted,
    Rejected,
    Expired,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::PendingApproval,
        Status::PartiallyApproved,
        Status::Approved,
        Status::Posted,
        Status::Rejected,
        Status::Expired,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::PendingApproval => "pending_approval",
            Status::PartiallyApproved => "partially_approved",
            Status::Approved => "approved",
            Status::Posted => "posted",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Waiting for approvals: the states that expire.
    pub fn is_waiting(self) -> bool {
        matches!(self, Status::PendingApproval | Status::PartiallyApproved)
    }

    /// Nothing changes an adjustment in a final state.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Posted | Status::Rejected | Status::Expired)
    }
}
