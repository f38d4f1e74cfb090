//! paycore's payment domain (支付), pure: no I/O, no thread, no clock. Time comes in as
//! `Millis` with every call, so every decision can be replayed and tested.
//!
//! - `merchant`, `channel`: who is paid, and the banks (渠道) money comes through.
//! - `trade`: a merchant's trade order (交易订单), paid by exactly one of its payments.
//! - `order`: a channel order (机构订单) and the rules every bank report goes through: a
//!   timeout is not a failure; a final state never changes.
//! - `payment`: payment orders (支付订单) by channel, balance or both (组合支付); whether the
//!   money they receive is kept or returned (重复支付), and what the ledger posts next.
//! - `refund`, `payout`: refunds (退款) and payouts (出款), guarded by holds (`hold`).
//! - `routing`: the filter chain and the exact weighted split that pick a channel.
//! - `posting`: what the ledger posts, under ids derived from the orders.
//! - `schedule`: when an unknown outcome is asked again.

pub mod channel;
pub mod error;
pub mod hold;
pub mod ids;
pub mod merchant;
pub mod order;
pub mod payment;
pub mod payout;
pub mod posting;
pub mod refund;
pub mod routing;
pub mod schedule;
pub mod trade;

pub use channel::{Channel, ChannelPatch, Method, NewChannel};
pub use error::{ErrorKind, PayError};
pub use hold::HoldState;
pub use ids::Millis;
pub use merchant::{Merchant, NewMerchant};
pub use order::{
    BankReport, BankResult, ChannelOrder, Failure, OrderEffect, OrderStatus, ReportSource, Timing,
};
pub use payment::{
    Attempt, Disposition, Effect, NewPayment, Payment, PaymentStatus, Posted, ReturnReason, Step,
};
pub use payout::{NewPayout, Payout, PayoutAttempt, PayoutStep};
pub use posting::{payment_postings, LedgerKind, LedgerTransfer};
pub use refund::{NewRefund, Refund, RefundSource, RefundStep, Refundable};
pub use routing::{
    CallOutcome, Candidate, DropReason, Health, HealthPolicy, RouteDecision, RouteRequest, Router,
    Strategy,
};
pub use schedule::QuerySchedule;
pub use trade::{NewTrade, Trade, TradeStatus};
