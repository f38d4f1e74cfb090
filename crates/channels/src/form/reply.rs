//! sim-form answers: a [`BankReply`] as parameters (simulator side) and the [`BankStatus`]
//! paycore reads from them (adapter side). `code` 10000 reports an order; 40004 reports a
//! failed order (with its status) or a business refusal; 40002 refuses the request itself.

use super::{decode_report, fields, Params, CODE_BUSINESS, CODE_INVALID, CODE_OK, SUB_NOT_FOUND};
use crate::wire::{same_order, BankReply, OrderReport, Refusal, ReportState};
use crate::{amount, BankStatus, CallError, OrderKind};

/// (`code`, `sub_code`) of each refusal.
fn refusal_codes(refusal: &Refusal) -> (&'static str, &'static str) {
    match refusal {
        Refusal::BadSignature => (CODE_INVALID, "isv.invalid-signature"),
        Refusal::UnknownChannel => (CODE_INVALID, "isv.invalid-app-id"),
        Refusal::InvalidRequest(_) => (CODE_INVALID, "isv.invalid-parameter"),
        Refusal::OrderConflict => (CODE_BUSINESS, "ACQ.ORDER_CONFLICT"),
        Refusal::PaymentNotSucceeded => (CODE_BUSINESS, "ACQ.TRADE_STATUS_ERROR"),
        Refusal::RefundExceedsPayment => (CODE_BUSINESS, "ACQ.REFUND_AMT_EXCEEDED"),
    }
}

/// The refusal a `sub_code` stands for.
fn refusal_of(sub_code: &str, sub_msg: &str) -> Option<Refusal> {
    Some(match sub_code {
        "isv.invalid-signature" => Refusal::BadSignature,
        "isv.invalid-app-id" => Refusal::UnknownChannel,
        "isv.invalid-parameter" => Refusal::InvalidRequest(sub_msg.to_owned()),
        "ACQ.ORDER_CONFLICT" => Refusal::OrderConflict,
        "ACQ.TRADE_STATUS_ERROR" => Refusal::PaymentNotSucceeded,
        "ACQ.REFUND_AMT_EXCEEDED" => Refusal::RefundExceedsPayment,
        _ => return None,
    })
}

/// Writes an order's fields (shared with callbacks).
pub(crate) fn put_report(params: &mut Params, report: &OrderReport) {
    let fields = fields(report.kind);
    params.set(fields.no, &report.order_no);
    if let Some(paid) = &report.paid_order_no {
        params.set("out_trade_no", paid);
    }
    let amount = amount::to_decimal(report.amount_minor, report.currency).unwrap_or_default();
    params
        .set(fields.amount, amount)
        .set("currency", report.currency.code())
        .set("trade_no", &report.bank_ref);
    let status = match &report.state {
        ReportState::Succeeded => fields.succeeded,
        ReportState::Processing => fields.processing,
        ReportState::Failed { message } => {
            params
                .set("sub_code", fields.fail_code)
                .set("sub_msg", message);
            fields.failed
        }
    };
    params.set(fields.status, status);
}

/// The (unsigned) parameters of an answer.
pub fn encode(reply: &BankReply) -> Params {
    let mut params = Params::new();
    match reply {
        BankReply::Report(report) => {
            let failed = matches!(report.state, ReportState::Failed { .. });
            let (code, msg) = match failed {
                true => (CODE_BUSINESS, "Business Failed"),
                false => (CODE_OK, "Success"),
            };
            params.set("code", code).set("msg", msg);
            put_report(&mut params, report);
        }
        BankReply::NotFound => {
            params
                .set("code", CODE_BUSINESS)
                .set("msg", "Business Failed")
                .set("sub_code", SUB_NOT_FOUND)
                .set("sub_msg", "the order does not exist");
        }
        BankReply::Refused(refusal) => {
            let (code, sub_code) = refusal_codes(refusal);
            params
                .set("code", code)
                .set("msg", "Business Failed")
                .set("sub_code", sub_code)
                .set("sub_msg", refusal.message());
        }
    }
    params
}

/// What a verified answer says about order `order_no` of `kind`.
pub fn parse(kind: OrderKind, order_no: &str, params: &Params) -> Result<BankStatus, CallError> {
    let protocol = CallError::Protocol;
    let code = params.require("code").map_err(protocol)?;
    if params.get(fields(kind).status).is_some() {
        let (answered, status) = decode_report(kind, params).map_err(protocol)?;
        same_order(order_no, &answered)?;
        return Ok(status);
    }
    let sub_code = params.get("sub_code").unwrap_or_default();
    let sub_msg = params.get("sub_msg").unwrap_or_default();
    if sub_code == SUB_NOT_FOUND {
        return Ok(BankStatus::NotFound);
    }
    match refusal_of(sub_code, sub_msg) {
        Some(refusal) => refusal.outcome(sub_code, sub_msg),
        None => Err(CallError::Protocol(format!(
            "answer without a status: code {code} {sub_code} {sub_msg}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use paycore_money::Currency;

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
        let wire = Params::decode(encode(reply).encode().as_bytes()).unwrap();
        parse(kind, "N1", &wire)
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
            let failed = BankReply::Report(report(kind, failed));
            assert_eq!(
                round_trip(kind, &failed),
                Ok(BankStatus::Failed {
                    code: fields(kind).fail_code.into(),
                    message: "declined".into()
                })
            );
        }
    }

    #[test]
    fn pay_answers_use_the_documented_names() {
        let params = encode(&BankReply::Report(report(
            OrderKind::Pay,
            ReportState::Succeeded,
        )));
        assert_eq!(params.get("code"), Some("10000"));
        assert_eq!(params.get("trade_status"), Some("TRADE_SUCCESS"));
        assert_eq!(params.get("total_amount"), Some("12.34"));
        assert_eq!(params.get("trade_no"), Some("B1"));
    }

    #[test]
    fn not_found_and_refusals() {
        assert_eq!(
            round_trip(OrderKind::Pay, &BankReply::NotFound),
            Ok(BankStatus::NotFound)
        );
        let exceeds = BankReply::Refused(Refusal::RefundExceedsPayment);
        assert!(matches!(
            round_trip(OrderKind::Refund, &exceeds),
            Ok(BankStatus::Failed { code, .. }) if code == "ACQ.REFUND_AMT_EXCEEDED"
        ));
        let conflict = BankReply::Refused(Refusal::OrderConflict);
        assert!(matches!(
            round_trip(OrderKind::Pay, &conflict),
            Err(CallError::Protocol(_))
        ));
        let signature = BankReply::Refused(Refusal::BadSignature);
        assert!(matches!(
            round_trip(OrderKind::Pay, &signature),
            Err(CallError::BadSignature(_))
        ));
    }

    #[test]
    fn an_answer_about_another_order_is_a_protocol_error() {
        let reply = BankReply::Report(report(OrderKind::Pay, ReportState::Succeeded));
        let wire = encode(&reply);
        assert!(matches!(
            parse(OrderKind::Pay, "N2", &wire),
            Err(CallError::Protocol(m)) if m.contains("N2")
        ));
        let mut unknown = wire.clone();
        unknown.set("trade_status", "TRADE_MAYBE");
        assert!(parse(OrderKind::Pay, "N1", &unknown).is_err());
    }
}
