//! paycore's payment domain (支付), pure: no I/O, no thread, no clock. Time comes in as
//! `Millis` with every call, so every decision can be replayed and tested.
//!
//! - `merchant`, `channel`: who is paid, and the banks (渠道) money comes through.
//! - `trade`: a merchant's trade order (交易订单), paid by 1..N payment orders.
//! - `payment`: a payment order (支付订单) and its channel orders (机构订单, `Attempt`), and the
//!   rules of their state machine: a timeout is not a failure; a final state never changes.
//! - `routing`: the filter chain and the exact weighted split that pick a channel.
//! - `posting`: what the ledger posts when a payment succeeds (ids derived from the payment,
//!   so no retry or crash can post twice).
//! - `schedule`: when an unknown outcome is asked again.

pub mod channel;
pub mod error;
pub mod ids;
pub mod merchant;
pub mod payment;
pub mod posting;
pub mod routing;
pub mod schedule;
pub mod trade;

pub use channel::{Channel, ChannelPatch, Method, NewChannel};
pub use error::{ErrorKind, PayError};
pub use ids::Millis;
pub use merchant::{Merchant, NewMerchant};
pub use payment::{
    Attempt, AttemptStatus, BankReport, BankResult, Effect, Failure, NewPayment, Payment,
    PaymentStatus, ReportSource, Timing,
};
pub use posting::{payment_postings, LedgerKind, LedgerTransfer};
pub use routing::{
    CallOutcome, Candidate, DropReason, Health, HealthPolicy, RouteDecision, RouteRequest, Router,
    Strategy,
};
pub use schedule::QuerySchedule;
pub use trade::{NewTrade, Trade, TradeStatus};
