//! sim-json requests: a [`BankCall`] as method, path and body (adapter side), their signature
//! headers, and the call read back out of them (simulator side).

use http::HeaderMap;
use paycore_money::Currency;
use serde::de::DeserializeOwned;

use super::model::{Amount, PayBody, RefundAmount, RefundBody, TransferBody};
use super::names;
use crate::sign::{self, SignatureHeaders};
use crate::wire::{BankCall, Refusal};
use crate::{Method, OrderKind, PayOrder, PayoutOrder, RefundOrder, SigningSecret};

/// One request on the wire, before its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonRequest {
    /// `"GET"` or `"POST"`.
    pub method: &'static str,
    pub path_with_query: String,
    /// Empty for a GET.
    pub body: Vec<u8>,
}

impl JsonRequest {
    /// The signature headers of this request at `timestamp` (unix seconds).
    pub fn sign(&self, secret: &SigningSecret, timestamp: i64) -> SignatureHeaders {
        SignatureHeaders::sign(secret, timestamp, |ts, nonce| {
            sign::json_request_content(self.method, &self.path_with_query, ts, nonce, &self.body)
        })
    }
}

/// The request of a call by merchant `mchid`.
pub fn encode(mchid: &str, call: &BankCall) -> Result<JsonRequest, String> {
    call.validate()?;
    let post = |path: String, body: Vec<u8>| JsonRequest {
        method: "POST",
        path_with_query: path,
        body,
    };
    let request = match call {
        BankCall::Pay(order) => {
            let method = order.method.name();
            let path = format!("{}{method}", names(OrderKind::Pay).create_path);
            post(path, to_json(&pay_body(mchid, order))?)
        }
        BankCall::Refund(order) => {
            let path = names(OrderKind::Refund).create_path.to_owned();
            post(path, to_json(&refund_body(mchid, order))?)
        }
        BankCall::Payout(order) => {
            let path = names(OrderKind::Payout).create_path.to_owned();
            post(path, to_json(&transfer_body(mchid, order))?)
        }
        BankCall::Query { kind, order_no } => JsonRequest {
            method: "GET",
            path_with_query: format!("{}{order_no}?mchid={mchid}", names(*kind).query_path),
            body: Vec::new(),
        },
    };
    Ok(request)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|e| e.to_string())
}

fn pay_body(mchid: &str, order: &PayOrder) -> PayBody {
    PayBody {
        mchid: mchid.to_owned(),
        out_trade_no: order.channel_order_no.clone(),
        amount: Amount {
            total: order.amount_minor,
            currency: order.currency.code().to_owned(),
        },
        description: order.subject.clone(),
        notify_url: order.notify_url.clone(),
    }
}

fn refund_body(mchid: &str, order: &RefundOrder) -> RefundBody {
    RefundBody {
        mchid: mchid.to_owned(),
        out_trade_no: order.channel_order_no.clone(),
        out_refund_no: order.refund_no.clone(),
        reason: order.reason.clone(),
        notify_url: order.notify_url.clone(),
        amount: RefundAmount {
            refund: order.amount_minor,
            currency: order.currency.code().to_owned(),
        },
    }
}

fn transfer_body(mchid: &str, order: &PayoutOrder) -> TransferBody {
    TransferBody {
        mchid: mchid.to_owned(),
        out_batch_no: order.payout_no.clone(),
        amount: Amount {
            total: order.amount_minor,
            currency: order.currency.code().to_owned(),
        },
        payee_account: order.bank_account.clone(),
        notify_url: order.notify_url.clone(),
    }
}

/// Whether a request's `Sim-*` headers verify under `secret` with a timestamp fresh at `now`.
pub fn verify(
    method: &str,
    path_with_query: &str,
    body: &[u8],
    headers: &HeaderMap,
    secret: &SigningSecret,
    now: i64,
) -> bool {
    let Ok(signed) = SignatureHeaders::read(headers) else {
        return false;
    };
    sign::is_fresh(signed.timestamp, now)
        && signed.verify(secret, |ts, nonce| {
            sign::json_request_content(method, path_with_query, ts, nonce, body)
        })
}

/// A request read by the bank: whose it is (if that much could be read) and the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    pub mchid: Option<String>,
    pub call: Result<BankCall, Refusal>,
}

/// Reads a request (not yet verified: the merchant id says which secret verifies it).
pub fn parse(method: &str, path_with_query: &str, body: &[u8]) -> ParsedRequest {
    let (path, query) = path_with_query
        .split_once('?')
        .unwrap_or((path_with_query, ""));
    let parsed = match method {
        "POST" => parse_post(path, body),
        "GET" => parse_query(path, query),
        _ => Err(format!("method {method} not allowed")),
    };
    match parsed {
        Ok((mchid, call)) => {
            let call = call.validate().map(|()| call);
            ParsedRequest {
                mchid: Some(mchid),
                call: call.map_err(Refusal::InvalidRequest),
            }
        }
        Err(detail) => ParsedRequest {
            mchid: None,
            call: Err(Refusal::InvalidRequest(detail)),
        },
    }
}

fn parse_post(path: &str, body: &[u8]) -> Result<(String, BankCall), String> {
    if let Some(method) = path.strip_prefix(names(OrderKind::Pay).create_path) {
        let method = match Method::from_name(method) {
            Some(m @ (Method::Quickpay | Method::Netbank)) => m,
            _ => return Err(format!("unknown pay method {method:?}")),
        };
        let body: PayBody = from_json(body)?;
        let order = PayOrder {
            channel_order_no: body.out_trade_no,
            amount_minor: body.amount.total,
            currency: currency(&body.amount.currency)?,
            method,
            subject: body.description,
            notify_url: body.notify_url,
        };
        return Ok((body.mchid, BankCall::Pay(order)));
    }
    if path == names(OrderKind::Refund).create_path {
        let body: RefundBody = from_json(body)?;
        let order = RefundOrder {
            refund_no: body.out_refund_no,
            channel_order_no: body.out_trade_no,
            amount_minor: body.amount.refund,
            currency: currency(&body.amount.currency)?,
            reason: body.reason,
            notify_url: body.notify_url,
        };
        return Ok((body.mchid, BankCall::Refund(order)));
    }
    if path == names(OrderKind::Payout).create_path {
        let body: TransferBody = from_json(body)?;
        let order = PayoutOrder {
            payout_no: body.out_batch_no,
            amount_minor: body.amount.total,
            currency: currency(&body.amount.currency)?,
            bank_account: body.payee_account,
            notify_url: body.notify_url,
        };
        return Ok((body.mchid, BankCall::Payout(order)));
    }
    Err(format!("no such resource: POST {path}"))
}

fn parse_query(path: &str, query: &str) -> Result<(String, BankCall), String> {
    let kind = [OrderKind::Pay, OrderKind::Refund, OrderKind::Payout]
        .into_iter()
        .find(|kind| path.starts_with(names(*kind).query_path))
        .ok_or_else(|| format!("no such resource: GET {path}"))?;
    let order_no = &path[names(kind).query_path.len()..];
    let mchid = form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "mchid")
        .map(|(_, value)| value.into_owned())
        .ok_or("missing query parameter mchid")?;
    let call = BankCall::Query {
        kind,
        order_no: order_no.to_owned(),
    };
    Ok((mchid, call))
}

fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("body: {e}"))
}

fn currency(code: &str) -> Result<Currency, String> {
    Currency::from_code(code).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_709_251_200;

    fn calls() -> Vec<BankCall> {
        vec![
            BankCall::Pay(PayOrder {
                channel_order_no: "P1".into(),
                amount_minor: 1234,
                currency: Currency::CNY,
                method: Method::Quickpay,
                subject: "coffee".into(),
                notify_url: "http://127.0.0.1:1/n".into(),
            }),
            BankCall::Refund(RefundOrder {
                refund_no: "R1".into(),
                channel_order_no: "P1".into(),
                amount_minor: 34,
                currency: Currency::CNY,
                reason: "return".into(),
                notify_url: "http://127.0.0.1:1/n".into(),
            }),
            BankCall::Payout(PayoutOrder {
                payout_no: "O1".into(),
                amount_minor: 99,
                currency: Currency::CNY,
                bank_account: "6222".into(),
                notify_url: "".into(),
            }),
            BankCall::Query {
                kind: OrderKind::Payout,
                order_no: "O1".into(),
            },
        ]
    }

    fn headers(signed: &SignatureHeaders) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in signed.pairs() {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn every_call_round_trips_and_verifies() {
        let secret = SigningSecret::new("json-key");
        for call in calls() {
            let request = encode("m1", &call).unwrap();
            let map = headers(&request.sign(&secret, NOW));
            let (method, path, body) = (request.method, &request.path_with_query, &request.body);
            assert!(verify(method, path, body, &map, &secret, NOW + 5));
            assert!(!verify(method, path, body, &map, &secret, NOW + 301));
            assert!(!verify("PUT", path, body, &map, &secret, NOW));
            assert!(!verify(
                method,
                &format!("{path}x"),
                body,
                &map,
                &secret,
                NOW
            ));
            let parsed = parse(method, path, body);
            assert_eq!(parsed.mchid.as_deref(), Some("m1"));
            assert_eq!(parsed.call, Ok(call));
        }
    }

    #[test]
    fn paths_and_bodies_are_the_documented_ones() {
        let pay = encode("m1", &calls()[0]).unwrap();
        assert_eq!(pay.path_with_query, "/json/v3/pay/transactions/quickpay");
        let body: serde_json::Value = serde_json::from_slice(&pay.body).unwrap();
        assert_eq!(body["amount"]["total"], 1234);
        assert_eq!(body["amount"]["currency"], "CNY");
        let query = BankCall::Query {
            kind: OrderKind::Pay,
            order_no: "P1".into(),
        };
        let query = encode("m1", &query).unwrap();
        assert_eq!(
            query.path_with_query,
            "/json/v3/pay/transactions/out-trade-no/P1?mchid=m1"
        );
        assert_eq!(query.method, "GET");
    }

    #[test]
    fn unreadable_requests_are_refused() {
        let unknown = parse("POST", "/json/v3/pay/transactions/jsapi", b"{}");
        assert!(matches!(unknown.call, Err(Refusal::InvalidRequest(_))));
        let no_mchid = parse("GET", "/json/v3/pay/transactions/out-trade-no/P1", b"");
        assert_eq!(no_mchid.mchid, None);
        let bad_no = parse(
            "GET",
            "/json/v3/pay/transactions/out-trade-no/a%20b?mchid=m1",
            b"",
        );
        assert_eq!(bad_no.mchid.as_deref(), Some("m1"));
        assert!(matches!(bad_no.call, Err(Refusal::InvalidRequest(_))));
        let zero = br#"{"mchid":"m1","out_trade_no":"P","amount":{"total":0,"currency":"CNY"}}"#;
        let zero = parse("POST", "/json/v3/pay/transactions/netbank", zero);
        assert!(matches!(zero.call, Err(Refusal::InvalidRequest(_))));
    }
}
