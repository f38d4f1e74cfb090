//! The channel layer: how paycore talks to external banks (渠道). A [`ChannelAdapter`] per
//! channel speaks one of two protocols — `sim-form` (form-encoded, signed parameters, like
//! Alipay's open platform) and `sim-json` (JSON with signature headers, like WeChat Pay v3).
//!
//! The codecs of both protocols live here for both sides of every message ([`form`], [`json`],
//! over the neutral [`wire`] messages), with all signing in [`sign`], so the bank simulator
//! (`paycore-channel-sim`) reuses exactly what the adapters use.
//!
//! Invariants: every request is signed and every answer and callback verified before anything
//! in it is read (a bad one is logged and refused, never applied); a call whose outcome is
//! unknown — a timeout above all — is a [`CallError`], never a failed order.

mod adapter;
pub mod amount;
pub mod clock;
mod error;
pub mod files;
pub mod form;
mod form_adapter;
pub mod json;
mod json_adapter;
mod model;
mod secret;
pub mod sign;
mod transport;
pub mod wire;

pub use adapter::{adapter, Ack, BoxFuture, Callback, ChannelAdapter};
pub use error::{CallError, CallbackError};
pub use model::{
    valid_order_no, valid_text, BankStatus, ChannelEndpoint, Method, OrderKind, PayOrder,
    PayoutOrder, Protocol, RefundOrder, Settlement, ORDER_NO_MAX_LEN, TEXT_MAX_LEN,
};
pub use paycore_money::Currency;
pub use secret::SigningSecret;
