//! sim-form callbacks: the bank's signed form POST to the order's `notify_url` (simulator side)
//! and its verification and reading (adapter side). Acknowledged with the body `success`.

use super::{decode_report, fields, reply::put_report, Params};
use crate::wire::OrderReport;
use crate::{clock, sign, Callback, CallbackError, OrderKind, SigningSecret};

/// The signed parameters of a callback about `report`, sent at `notify_time` (unix seconds).
pub fn encode(
    app_id: &str,
    report: &OrderReport,
    notify_time: i64,
    secret: &SigningSecret,
) -> Params {
    let mut params = Params::new();
    params
        .set("notify_id", sign::nonce())
        .set("notify_type", fields(report.kind).notify_type)
        .set("notify_time", clock::form_timestamp(notify_time))
        .set("app_id", app_id);
    put_report(&mut params, report);
    params.sign(secret);
    params
}

/// Verifies (signature, then a `notify_time` within five minutes of `now`) and reads a callback
/// meant for channel `app_id`.
pub fn parse(
    params: &Params,
    app_id: &str,
    secret: &SigningSecret,
    now: i64,
) -> Result<Callback, CallbackError> {
    if !params.verify(secret) {
        return Err(CallbackError::BadSignature(
            "sign does not verify".to_owned(),
        ));
    }
    let sent = params
        .get("notify_time")
        .and_then(clock::parse_form_timestamp);
    if !sent.is_some_and(|sent| sign::is_fresh(sent, now)) {
        return Err(CallbackError::BadSignature(
            "notify_time missing or more than five minutes off".to_owned(),
        ));
    }
    let malformed = CallbackError::Malformed;
    if params.get("app_id") != Some(app_id) {
        return Err(malformed(format!("app_id is not {app_id}")));
    }
    let kind = match params.require("notify_type").map_err(malformed)? {
        "trade_status_sync" => OrderKind::Pay,
        "refund_status_sync" => OrderKind::Refund,
        "payout_status_sync" => OrderKind::Payout,
        other => return Err(malformed(format!("unknown notify_type {other:?}"))),
    };
    let (order_no, status) = decode_report(kind, params).map_err(malformed)?;
    Ok(Callback {
        kind,
        order_no,
        status,
    })
}

#[cfg(test)]
mod tests {
    use paycore_money::Currency;

    use super::*;
    use crate::wire::ReportState;
    use crate::BankStatus;

    const NOW: i64 = 1_709_251_200;

    fn secret() -> SigningSecret {
        SigningSecret::new("cb-key")
    }

    fn refund_report() -> OrderReport {
        OrderReport {
            kind: OrderKind::Refund,
            order_no: "R1".into(),
            paid_order_no: Some("P1".into()),
            amount_minor: 500,
            currency: Currency::CNY,
            state: ReportState::Succeeded,
            bank_ref: "BR1".into(),
        }
    }

    #[test]
    fn a_signed_callback_reads_back() {
        let params = encode("ch1", &refund_report(), NOW, &secret());
        assert_eq!(params.get("notify_type"), Some("refund_status_sync"));
        assert_eq!(params.get("out_trade_no"), Some("P1"));
        let wire = Params::decode(params.encode().as_bytes()).unwrap();
        let callback = parse(&wire, "ch1", &secret(), NOW + 60).unwrap();
        assert_eq!(
            callback,
            Callback {
                kind: OrderKind::Refund,
                order_no: "R1".into(),
                status: BankStatus::Succeeded {
                    bank_ref: "BR1".into(),
                    amount_minor: 500
                }
            }
        );
    }

    #[test]
    fn tampered_stale_or_foreign_callbacks_are_refused() {
        let params = encode("ch1", &refund_report(), NOW, &secret());
        let mut tampered = params.clone();
        tampered.set("refund_amount", "50.00");
        assert!(matches!(
            parse(&tampered, "ch1", &secret(), NOW),
            Err(CallbackError::BadSignature(_))
        ));
        assert!(matches!(
            parse(&params, "ch1", &secret(), NOW + 301),
            Err(CallbackError::BadSignature(m)) if m.contains("notify_time")
        ));
        assert!(matches!(
            parse(&params, "ch2", &secret(), NOW),
            Err(CallbackError::Malformed(_))
        ));
        let mut unknown = params.clone();
        unknown.set("notify_type", "magic_sync").sign(&secret());
        assert!(matches!(
            parse(&unknown, "ch1", &secret(), NOW),
            Err(CallbackError::Malformed(_))
        ));
    }
}
