//! Holds: amounts frozen on an account until released, captured or expired.

use crate::{AccountId, RecordId};

/// Dense index of a hold, assigned in creation order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct HoldId(pub u32);

impl HoldId {
    pub const NONE: HoldId = HoldId(u32::MAX);
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum HoldStatus {
    Active = 1,
    /// Fully released by unfreeze (possibly after partial captures).
    Released = 2,
    /// Fully captured (paid from frozen).
    Captured = 3,
    /// Released by the engine because its expiry passed.
    Expired = 4,
}

impl HoldStatus {
    pub fn name(self) -> &'static str {
        match self {
            HoldStatus::Active => "active",
            HoldStatus::Released => "released",
            HoldStatus::Captured => "captured",
            HoldStatus::Expired => "expired",
        }
    }

    pub fn from_u8(value: u8) -> Option<HoldStatus> {
        [
            HoldStatus::Active,
            HoldStatus::Released,
            HoldStatus::Captured,
            HoldStatus::Expired,
        ]
        .into_iter()
        .find(|s| *s as u8 == value)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Hold {
    pub account: AccountId,
    pub amount: u64,
    /// Still frozen; reaches 0 exactly when the hold stops being active.
    pub remaining: u64,
    pub captured: u64,
    /// Engine time at which it releases itself; `None` holds until released.
    pub expires_at: Option<u64>,
    pub status: HoldStatus,
    /// The freeze command that created it.
    pub record: RecordId,
}

impl Hold {
    /// True once `now` has reached the expiry, whether or not the sweep has run yet.
    pub fn is_expired_at(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}
