//! sim-json answers: a [`BankReply`] as HTTP status and body (simulator side), their signature
//! headers, and the [`BankStatus`] paycore reads from them (adapter side). 200 carries the
//! order's resource, 404 `ORDER_NOT_EXIST` a missing order, 4xx `{code,message}` a refusal.

use http::HeaderMap;
use paycore_money::Currency;
use serde_json::Value;

use super::model::{
    Amount, ErrorBody, RefundAmount, RefundResource, Resource, Transaction, TransferResource,
};
use super::names;
use crate::sign::{self, SignatureHeaders};
use crate::wire::{same_order, BankReply, OrderReport, Refusal, ReportState};
use crate::{BankStatus, CallError, OrderKind, SigningSecret};

/// Code of the 404 for an order the bank does not have.
pub const NOT_FOUND_CODE: &str = "ORDER_NOT_EXIST";

/// (HTTP status, `code`) of each refusal.
fn refusal_codes(refusal: &Refusal) -> (u16, &'static str) {
    match refusal {
        Refusal::BadSignature => (401, "SIGN_ERROR"),
        Refusal::UnknownChannel => (404, "MCH_NOT_EXISTS"),
        Refusal::InvalidRequest(_) => (400, "PARAM_ERROR"),
        Refusal::OrderConflict => (403, "OUT_TRADE_NO_USED"),
        Refusal::PaymentNotSucceeded => (403, "TRADE_NOT_SUCCESS"),
        Refusal::RefundExceedsPayment => (403, "REFUND_AMOUNT_EXCEEDED"),
    }
}

fn refusal_of(code: &str, message: &str) -> Option<Refusal> {
    Some(match code {
        "SIGN_ERROR" => Refusal::BadSignature,
        "MCH_NOT_EXISTS" => Refusal::UnknownChannel,
        "PARAM_ERROR" => Refusal::InvalidRequest(message.to_owned()),
        "OUT_TRADE_NO_USED" => Refusal::OrderConflict,
        "TRADE_NOT_SUCCESS" => Refusal::PaymentNotSucceeded,
        "REFUND_AMOUNT_EXCEEDED" => Refusal::RefundExceedsPayment,
        _ => return None,
    })
}

/// The resource of an order, as answers and callbacks carry it.
pub fn resource(mchid: &str, report: &OrderReport) -> Resource {
    let names = names(report.kind);
    let (state, desc) = match &report.state {
        ReportState::Succeeded => (names.succeeded, String::new()),
        ReportState::Processing => (names.processing, String::new()),
        ReportState::Failed { message } => (names.failed, message.clone()),
    };
    let currency = report.currency.code().to_owned();
    let amount = Amount {
        total: report.amount_minor,
        currency: currency.clone(),
    };
    match report.kind {
        OrderKind::Pay => Resource::Transaction(Transaction {
            mchid: mchid.to_owned(),
            out_trade_no: report.order_no.clone(),
            transaction_id: report.bank_ref.clone(),
            trade_state: state.to_owned(),
            trade_state_desc: desc,
            amount,
        }),
        OrderKind::Refund => Resource::Refund(RefundResource {
            mchid: mchid.to_owned(),
            out_trade_no: report.paid_order_no.clone().unwrap_or_default(),
            out_refund_no: report.order_no.clone(),
            refund_id: report.bank_ref.clone(),
            status: state.to_owned(),
            status_desc: desc,
            amount: RefundAmount {
                refund: report.amount_minor,
                currency,
            },
        }),
        OrderKind::Payout => Resource::Transfer(TransferResource {
            mchid: mchid.to_owned(),
            out_batch_no: report.order_no.clone(),
            batch_id: report.bank_ref.clone(),
            state: state.to_owned(),
            fail_reason: desc,
            amount,
        }),
    }
}

/// A resource read back: (merchant, order number, status).
pub(crate) fn read_resource(
    kind: OrderKind,
    value: Value,
) -> Result<(String, String, BankStatus), String> {
    let read = |e: serde_json::Error| format!("{} resource: {e}", names(kind).resource_type);
    let (mchid, order_no, state, desc, bank_ref, total, currency) = match kind {
        OrderKind::Pay => {
            let t: Transaction = serde_json::from_value(value).map_err(read)?;
            let amount = t.amount;
            let (no, state, desc, id) = (
                t.out_trade_no,
                t.trade_state,
                t.trade_state_desc,
                t.transaction_id,
            );
            (t.mchid, no, state, desc, id, amount.total, amount.currency)
        }
        OrderKind::Refund => {
            let r: RefundResource = serde_json::from_value(value).map_err(read)?;
            let amount = r.amount;
            (
                r.mchid,
                r.out_refund_no,
                r.status,
                r.status_desc,
                r.refund_id,
                amount.refund,
                amount.currency,
            )
        }
        OrderKind::Payout => {
            let p: TransferResource = serde_json::from_value(value).map_err(read)?;
            let amount = p.amount;
            (
                p.mchid,
                p.out_batch_no,
                p.state,
                p.fail_reason,
                p.batch_id,
                amount.total,
                amount.currency,
            )
        }
    };
    Currency::from_code(&currency).map_err(|e| e.to_string())?;
    let status = status_of(kind, &state, desc, bank_ref, total)?;
    Ok((mchid, order_no, status))
}

fn status_of(
    kind: OrderKind,
    state: &str,
    desc: String,
    bank_ref: String,
    amount_minor: u64,
) -> Result<BankStatus, String> {
    let names = names(kind);
    if state == names.succeeded {
        if bank_ref.is_empty() {
            return Err("a successful order without the bank's id".to_owned());
        }
        Ok(BankStatus::Succeeded {
            bank_ref,
            amount_minor,
        })
    } else if state == names.failed || state == names.failed_also {
        Ok(BankStatus::Failed {
            code: state.to_owned(),
            message: desc,
        })
    } else if state == names.processing || state == names.processing_also {
        Ok(BankStatus::Processing)
    } else {
        Err(format!("unknown state {state:?}"))
    }
}

/// The HTTP status and body of an answer.
pub fn encode(mchid: &str, reply: &BankReply) -> (u16, Vec<u8>) {
    let error = |status: u16, code: &str, message: String| {
        let body = ErrorBody {
            code: code.to_owned(),
            message,
        };
        (status, serde_json::to_vec(&body).expect("errors serialize"))
    };
    match reply {
        BankReply::Report(report) => {
            let body = serde_json::to_vec(&resource(mchid, report)).expect("resources serialize");
            (200, body)
        }
        BankReply::NotFound => error(404, NOT_FOUND_CODE, "the order does not exist".into()),
        BankReply::Refused(refusal) => {
            let (status, code) = refusal_codes(refusal);
            error(status, code, refusal.message())
        }
    }
}

/// The signature headers of an answer or callback body at `timestamp`.
pub fn sign_message(secret: &SigningSecret, timestamp: i64, body: &[u8]) -> SignatureHeaders {
    SignatureHeaders::sign(secret, timestamp, |ts, nonce| {
        sign::json_message_content(ts, nonce, body)
    })
}

/// Reads and checks the signature headers of an answer or callback body.
pub fn verify_message(
    headers: &HeaderMap,
    body: &[u8],
    secret: &SigningSecret,
) -> Result<SignatureHeaders, String> {
    let signed = SignatureHeaders::read(headers)?;
    if signed.verify(secret, |ts, nonce| {
        sign::json_message_content(ts, nonce, body)
    }) {
        Ok(signed)
    } else {
        Err("Sim-Signature does not verify".to_owned())
    }
}

/// What a verified answer says about order `order_no` of `kind`.
pub fn parse(
    kind: OrderKind,
    order_no: &str,
    status: u16,
    body: &[u8],
) -> Result<BankStatus, CallError> {
    if status == 200 {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| CallError::Protocol(format!("answer body: {e}")))?;
        let (_, answered, bank_status) = read_resource(kind, value).map_err(CallError::Protocol)?;
        same_order(order_no, &answered)?;
        return Ok(bank_status);
    }
    let error: ErrorBody = serde_json::from_slice(body)
        .map_err(|e| CallError::Protocol(format!("HTTP {status} without an error body: {e}")))?;
    if status == 404 && error.code == NOT_FOUND_CODE {
        return Ok(BankStatus::NotFound);
    }
    match refusal_of(&error.code, &error.message) {
        Some(refusal) if status < 500 => refusal.outcome(&error.code, &error.message),
        _ => Err(CallError::Protocol(format!(
            "HTTP {status} {}: {}",
            error.code, error.message
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(kind: OrderKind, state: ReportState) -> OrderReport {
        OrderReport {
            kind,
            order_no: "N1".into(),
            paid_order_no: (kind == OrderKind::Refund).then(|| "P1".to_owned()),
            amount_minor: 1234,
            currency: Currency::CNY,
            state,
            bank_ref: "B1".into(),
        }
    }

    fn round_trip(kind: OrderKind, reply: &BankReply) -> Result<BankStatus, CallError> {
        let (status, body) = encode("m1", reply);
        parse(kind, "N1", status, &body)
    }

    #[test]
    fn reports_of_every_kind_and_state_round_trip() {
        for kind in [OrderKind::Pay, OrderKind::Refund, OrderKind::Payout] {
            let ok = BankReply::Report(report(kind, ReportState::Succeeded));
            let succeeded = BankStatus::Succeeded {
                bank_ref: "B1".into(),
                amount_minor: 1234,
            };
            assert_eq!(round_trip(kind, &ok), Ok(succeeded));
            let pending = BankReply::Report(report(kind, ReportState::Processing));
            assert_eq!(round_trip(kind, &pending), Ok(BankStatus::Processing));
            let failed = ReportState::Failed {
                message: "declined".into(),
            };
            assert_eq!(
                round_trip(kind, &BankReply::Report(report(kind, failed))),
                Ok(BankStatus::Failed {
                    code: names(kind).failed.into(),
                    message: "declined".into()
                })
            );
        }
    }

    #[test]
    fn resources_use_the_documented_names() {
        let value = serde_json::to_value(resource(
            "m1",
            &report(OrderKind::Pay, ReportState::Succeeded),
        ))
        .unwrap();
        assert_eq!(value["trade_state"], "SUCCESS");
        assert_eq!(value["transaction_id"], "B1");
        assert_eq!(value["amount"]["total"], 1234);
        let refund = serde_json::to_value(resource(
            "m1",
            &report(OrderKind::Refund, ReportState::Processing),
        ))
        .unwrap();
        assert_eq!(refund["out_trade_no"], "P1");
        assert_eq!(refund["amount"]["refund"], 1234);
        assert_eq!(refund["status"], "PROCESSING");
    }

    #[test]
    fn not_found_refusals_and_server_errors() {
        assert_eq!(
            round_trip(OrderKind::Pay, &BankReply::NotFound),
            Ok(BankStatus::NotFound)
        );
        let exceeds = BankReply::Refused(Refusal::RefundExceedsPayment);
        assert!(matches!(
            round_trip(OrderKind::Refund, &exceeds),
            Ok(BankStatus::Failed { code, .. }) if code == "REFUND_AMOUNT_EXCEEDED"
        ));
        let conflict = BankReply::Refused(Refusal::OrderConflict);
        assert!(matches!(
            round_trip(OrderKind::Pay, &conflict),
            Err(CallError::Protocol(_))
        ));
        let body = br#"{"code":"SYSTEM_ERROR","message":"busy"}"#;
        assert!(matches!(
            parse(OrderKind::Pay, "N1", 500, body),
            Err(CallError::Protocol(m)) if m.contains("500")
        ));
        assert!(parse(OrderKind::Pay, "N1", 502, b"<html>").is_err());
    }

    #[test]
    fn a_success_without_a_bank_id_or_about_another_order_is_refused() {
        let mut value = serde_json::to_value(resource(
            "m1",
            &report(OrderKind::Pay, ReportState::Succeeded),
        ))
        .unwrap();
        value["transaction_id"] = Value::String(String::new());
        let body = serde_json::to_vec(&value).unwrap();
        assert!(parse(OrderKind::Pay, "N1", 200, &body).is_err());
        let (_, body) = encode(
            "m1",
            &BankReply::Report(report(OrderKind::Pay, ReportState::Succeeded)),
        );
        assert!(parse(OrderKind::Pay, "N2", 200, &body).is_err());
    }

    #[test]
    fn message_signatures_verify_only_for_the_same_body() {
        let secret = SigningSecret::new("k");
        let signed = sign_message(&secret, 100, b"{}");
        let mut map = HeaderMap::new();
        for (name, value) in signed.pairs() {
            map.insert(name, value.parse().unwrap());
        }
        assert!(verify_message(&map, b"{}", &secret).is_ok());
        assert!(verify_message(&map, b"{ }", &secret).is_err());
        assert!(verify_message(&map, b"{}", &SigningSecret::new("j")).is_err());
    }
}
