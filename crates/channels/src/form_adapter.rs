//! The sim-form client: calls signed as gateway parameters, answers and callbacks verified
//! before anything in them is read.

use std::time::Duration;

use crate::form::{self, callback, reply, request, Params};
use crate::transport::{self, ANSWER_MAX_BYTES};
use crate::wire::BankCall;
use crate::{
    clock, files, Ack, BankStatus, BoxFuture, CallError, Callback, CallbackError, ChannelAdapter,
    ChannelEndpoint, OrderKind, PayOrder, PayoutOrder, RefundOrder, Settlement,
};

pub(crate) struct FormAdapter {
    endpoint: ChannelEndpoint,
    http: reqwest::Client,
    timeout: Duration,
    gateway_url: String,
}

impl FormAdapter {
    pub(crate) fn new(endpoint: ChannelEndpoint, http: reqwest::Client, timeout: Duration) -> Self {
        let gateway_url = format!(
            "{}{}",
            transport::base_url(&endpoint.endpoint),
            form::GATEWAY_PATH
        );
        FormAdapter {
            endpoint,
            http,
            timeout,
            gateway_url,
        }
    }

    async fn call(&self, call: BankCall) -> Result<BankStatus, CallError> {
        let (kind, order_no) = (call.kind(), call.order_no().to_owned());
        let id = &self.endpoint.channel_id;
        let params = request::encode(id, &call, clock::unix_now(), &self.endpoint.secret)
            .map_err(CallError::Protocol)?;
        let request = self
            .http
            .post(&self.gateway_url)
            .header(http::header::CONTENT_TYPE, form::CONTENT_TYPE)
            .body(params.encode());
        let answer = transport::send(request, self.timeout, ANSWER_MAX_BYTES).await;
        let result = answer.and_then(|answer| self.read_answer(kind, &order_no, &answer));
        tracing::debug!(channel = %id, kind = kind.name(), order_no, ?result, "sim-form call");
        result
    }

    fn read_answer(
        &self,
        kind: OrderKind,
        order_no: &str,
        answer: &transport::Answer,
    ) -> Result<BankStatus, CallError> {
        let params = Params::decode(&answer.body).map_err(|e| {
            CallError::Protocol(format!("HTTP {} answer unreadable: {e}", answer.status))
        })?;
        if !params.verify(&self.endpoint.secret) {
            tracing::warn!(
                channel = %self.endpoint.channel_id,
                kind = kind.name(),
                order_no,
                http_status = answer.status,
                "refused a bank answer whose signature does not verify"
            );
            return Err(CallError::BadSignature(
                "the answer's sign does not verify".to_owned(),
            ));
        }
        reply::parse(kind, order_no, &params)
    }
}

impl ChannelAdapter for FormAdapter {
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
        _headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Callback, CallbackError> {
        let params = Params::decode(body).map_err(CallbackError::Malformed)?;
        let id = &self.endpoint.channel_id;
        let parsed = callback::parse(&params, id, &self.endpoint.secret, clock::unix_now());
        if let Err(CallbackError::BadSignature(reason)) = &parsed {
            tracing::warn!(channel = %id, reason, "refused a sim-form callback");
        }
        parsed
    }

    fn callback_ack(&self, applied: bool) -> Ack {
        let body = if applied {
            form::ACK_BODY
        } else {
            form::NACK_BODY
        };
        Ack {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
        }
    }
}
