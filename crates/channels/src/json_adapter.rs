//! The sim-json client: calls signed in the `Sim-*` headers, answers and callbacks verified
//! before anything in them is read.

use std::time::Duration;

use crate::json::{self, callback, reply, request};
use crate::transport::{self, ANSWER_MAX_BYTES};
use crate::wire::BankCall;
use crate::{
    clock, files, Ack, BankStatus, BoxFuture, CallError, Callback, CallbackError, ChannelAdapter,
    ChannelEndpoint, OrderKind, PayOrder, PayoutOrder, RefundOrder, Settlement,
};

pub(crate) struct JsonAdapter {
    endpoint: ChannelEndpoint,
    http: reqwest::Client,
    timeout: Duration,
    base_url: String,
}

impl JsonAdapter {
    pub(crate) fn new(endpoint: ChannelEndpoint, http: reqwest::Client, timeout: Duration) -> Self {
        let base_url = transport::base_url(&endpoint.endpoint);
        JsonAdapter {
            endpoint,
            http,
            timeout,
            base_url,
        }
    }

    async fn call(&self, call: BankCall) -> Result<BankStatus, CallError> {
        let (kind, order_no) = (call.kind(), call.order_no().to_owned());
        let id = &self.endpoint.channel_id;
        let wire = request::encode(id, &call).map_err(CallError::Protocol)?;
        let signed = wire.sign(&self.endpoint.secret, clock::unix_now());
        let url = format!("{}{}", self.base_url, wire.path_with_query);
        let mut request = match wire.method {
            "GET" => self.http.get(url),
            _ => self
                .http
                .post(url)
                .header(http::header::CONTENT_TYPE, json::CONTENT_TYPE)
                .body(wire.body),
        };
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        let answer = transport::send(request, self.timeout, ANSWER_MAX_BYTES).await;
        let result = answer.and_then(|answer| self.read_answer(kind, &order_no, &answer));
        tracing::debug!(channel = %id, kind = kind.name(), order_no, ?result, "sim-json call");
        result
    }

    fn read_answer(
        &self,
        kind: OrderKind,
        order_no: &str,
        answer: &transport::Answer,
    ) -> Result<BankStatus, CallError> {
        if let Err(reason) =
            reply::verify_message(&answer.headers, &answer.body, &self.endpoint.secret)
        {
            tracing::warn!(
                channel = %self.endpoint.channel_id,
                kind = kind.name(),
                order_no,
                http_status = answer.status,
                reason,
                "refused a bank answer whose signature does not verify"
            );
            return Err(CallError::BadSignature(reason));
        }
        reply::parse(kind, order_no, answer.status, &answer.body)
    }
}

impl ChannelAdapter for JsonAdapter {
    fn pay<'a>(&'a self, order: &'a PayOrder) -> BoxFuture<'a, Result<BankStatus, CallError>> {
        Box::pin(self.call(BankCall::Pay(order.clone())))
    }

    fn query<'a>(
        &'a self,
        kind: OrderKind,
        order_no: &'a str,
    ) -> BoxFuture<'a, Result<BankStatus, CallError>> {
        let order_no = order_no.to_owned();
        Box::pin(self.call(BankCall::Query { kind, order_no }))
    }

    fn refund<'a>(
        &'a self,
        order: &'a RefundOrder,
    ) -> BoxFuture<'a, Result<BankStatus, CallError>> {
        Box::pin(self.call(BankCall::Refund(order.clone())))
    }

    fn payout<'a>(
        &'a self,
        order: &'a PayoutOrder,
    ) -> BoxFuture<'a, Result<BankStatus, CallError>> {
        Box::pin(self.call(BankCall::Payout(order.clone())))
    }

    fn statement<'a>(
        &'a self,
        date: time::Date,
        format: &'a str,
    ) -> BoxFuture<'a, Result<Vec<u8>, CallError>> {
        Box::pin(files::statement(
            &self.endpoint,
            &self.http,
            self.timeout,
            date,
            format,
        ))
    }

    fn settlement<'a>(&'a self, date: time::Date) -> BoxFuture<'a, Result<Settlement, CallError>> {
        Box::pin(files::settlement(
            &self.endpoint,
            &self.http,
            self.timeout,
            date,
        ))
    }

    fn parse_callback(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Callback, CallbackError> {
        let id = &self.endpoint.channel_id;
        let parsed = callback::parse(headers, body, id, &self.endpoint.secret, clock::unix_now());
        if let Err(CallbackError::BadSignature(reason)) = &parsed {
            tracing::warn!(channel = %id, reason, "refused a sim-json callback");
        }
        parsed
    }

    fn callback_ack(&self, applied: bool) -> Ack {
        if applied {
            return Ack {
                status: 204,
                content_type: json::CONTENT_TYPE,
                body: Vec::new(),
            };
        }
        Ack {
            status: 500,
            content_type: json::CONTENT_TYPE,
            body: br#"{"code":"FAIL","message":"not applied, send again"}"#.to_vec(),
        }
    }
}
