//! A ledger hold (冻结) that guards money leaving a merchant's account — a refund's or a
//! payout's — from before the order is sent until the bank's word: captured to the
//! channel's clearing account on success, released on a definitive failure, kept while the
//! outcome is unknown.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldState {
    /// No hold (the money is in the suspense account already).
    NotNeeded,
    /// To be placed before anything is sent.
    Pending,
    Placed,
    /// The ledger refused it (insufficient funds…): nothing was sent.
    Refused,
    Captured,
    Released,
}

impl HoldState {
    pub const ALL: [HoldState; 6] = [
        HoldState::NotNeeded,
        HoldState::Pending,
        HoldState::Placed,
        HoldState::Refused,
        HoldState::Captured,
        HoldState::Released,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HoldState::NotNeeded => "none",
            HoldState::Pending => "pending",
            HoldState::Placed => "placed",
            HoldState::Refused => "refused",
            HoldState::Captured => "captured",
            HoldState::Released => "released",
        }
    }

    pub fn from_name(name: &str) -> Option<HoldState> {
        HoldState::ALL.into_iter().find(|h| h.name() == name)
    }
}
