//! The adapter interface paycore's payment service codes against ([`ChannelAdapter`]), what a
//! callback and its acknowledgement are, and [`adapter`], which picks the protocol's client.

use std::sync::Arc;
use std::time::Duration;

use crate::{
    form_adapter::FormAdapter, json_adapter::JsonAdapter, BankStatus, CallError, CallbackError,
    ChannelEndpoint, OrderKind, PayOrder, PayoutOrder, Protocol, RefundOrder, Settlement,
};

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A verified callback: what the bank says about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub kind: OrderKind,
    pub order_no: String,
    pub status: BankStatus,
}

/// The HTTP answer to send the bank after its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// One channel (bank), spoken to in its protocol. Every request is signed and every answer and
/// callback verified; a bad signature is logged and refused, never applied.
pub trait ChannelAdapter: Send + Sync {
    fn pay<'a>(&'a self, order: &'a PayOrder) -> BoxFuture<'a, Result<BankStatus, CallError>>;
    fn query<'a>(
        &'a self,
        kind: OrderKind,
        order_no: &'a str,
    ) -> BoxFuture<'a, Result<BankStatus, CallError>>;
    fn refund<'a>(&'a self, order: &'a RefundOrder)
        -> BoxFuture<'a, Result<BankStatus, CallError>>;
    fn payout<'a>(&'a self, order: &'a PayoutOrder)
        -> BoxFuture<'a, Result<BankStatus, CallError>>;
    /// The day's statement file as the channel serves it (format name "wechat"|"alipay"|"csv");
    /// bytes untouched.
    fn statement<'a>(
        &'a self,
        date: time::Date,
        format: &'a str,
    ) -> BoxFuture<'a, Result<Vec<u8>, CallError>>;
    /// What the bank credited to our bank account for that day, in minor units.
    fn settlement<'a>(&'a self, date: time::Date) -> BoxFuture<'a, Result<Settlement, CallError>>;
    /// Verifies and parses a callback the bank POSTed to paycore (`/v1/channels/{id}/notify`).
    fn parse_callback(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Callback, CallbackError>;
    /// The answer to send the bank after a callback: `applied` = it was verified and recorded
    /// (or already known).
    fn callback_ack(&self, applied: bool) -> Ack;
}

/// The adapter for a channel's protocol. `timeout` bounds each call: no answer within it is
/// [`CallError::Timeout`].
pub fn adapter(
    endpoint: ChannelEndpoint,
    http: reqwest::Client,
    timeout: Duration,
) -> Arc<dyn ChannelAdapter> {
    match endpoint.protocol {
        Protocol::SimForm => Arc::new(FormAdapter::new(endpoint, http, timeout)),
        Protocol::SimJson => Arc::new(JsonAdapter::new(endpoint, http, timeout)),
    }
}
