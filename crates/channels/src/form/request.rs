//! sim-form requests: a [`BankCall`] as signed gateway parameters (adapter side) and back
//! (simulator side).

use paycore_money::Currency;

use super::{fields, Params};
use crate::wire::{BankCall, Refusal};
use crate::SigningSecret;
use crate::{amount, clock, sign, Method, OrderKind, PayOrder, PayoutOrder, RefundOrder};

/// The signed parameters of a call, stamped with `timestamp` (unix seconds).
pub fn encode(
    app_id: &str,
    call: &BankCall,
    timestamp: i64,
    secret: &SigningSecret,
) -> Result<Params, String> {
    call.validate()?;
    let mut params = Params::new();
    params
        .set("app_id", app_id)
        .set("timestamp", clock::form_timestamp(timestamp))
        .set("nonce", sign::nonce());
    match call {
        BankCall::Pay(order) => pay(&mut params, order)?,
        BankCall::Query { kind, order_no } => {
            let fields = fields(*kind);
            params
                .set("method", fields.query_method)
                .set(fields.no, order_no);
        }
        BankCall::Refund(order) => refund(&mut params, order)?,
        BankCall::Payout(order) => payout(&mut params, order)?,
    }
    params.sign(secret);
    Ok(params)
}

fn decimal(amount_minor: u64, currency: Currency) -> Result<String, String> {
    amount::to_decimal(amount_minor, currency).ok_or_else(|| "amount too large".to_owned())
}

fn pay(params: &mut Params, order: &PayOrder) -> Result<(), String> {
    let product = match order.method {
        Method::Netbank => "NETBANK",
        _ => "QUICKPAY",
    };
    params
        .set("method", "trade.pay")
        .set("out_trade_no", &order.channel_order_no)
        .set("total_amount", decimal(order.amount_minor, order.currency)?)
        .set("currency", order.currency.code())
        .set("subject", &order.subject)
        .set("notify_url", &order.notify_url)
        .set("product_code", product);
    Ok(())
}

fn refund(params: &mut Params, order: &RefundOrder) -> Result<(), String> {
    params
        .set("method", "trade.refund")
        .set("out_trade_no", &order.channel_order_no)
        .set("out_request_no", &order.refund_no)
        .set(
            "refund_amount",
            decimal(order.amount_minor, order.currency)?,
        )
        .set("currency", order.currency.code())
        .set("refund_reason", &order.reason)
        .set("notify_url", &order.notify_url);
    Ok(())
}

fn payout(params: &mut Params, order: &PayoutOrder) -> Result<(), String> {
    params
        .set("method", "fund.payout")
        .set("out_biz_no", &order.payout_no)
        .set("trans_amount", decimal(order.amount_minor, order.currency)?)
        .set("currency", order.currency.code())
        .set("payee_account", &order.bank_account)
        .set("notify_url", &order.notify_url);
    Ok(())
}

/// Whether a request's signature verifies under `secret` and its timestamp is fresh at `now`.
pub fn verify(params: &Params, secret: &SigningSecret, now: i64) -> bool {
    let fresh = params
        .get("timestamp")
        .and_then(clock::parse_form_timestamp)
        .is_some_and(|ts| sign::is_fresh(ts, now));
    fresh && params.verify(secret)
}

/// Reads the call out of verified request parameters.
pub fn parse(params: &Params) -> Result<BankCall, Refusal> {
    let call = parse_call(params).map_err(Refusal::InvalidRequest)?;
    call.validate().map_err(Refusal::InvalidRequest)?;
    Ok(call)
}

fn parse_call(params: &Params) -> Result<BankCall, String> {
    let method = params.require("method")?;
    let query = |kind: OrderKind| -> Result<BankCall, String> {
        Ok(BankCall::Query {
            kind,
            order_no: params.require(fields(kind).no)?.to_owned(),
        })
    };
    match method {
        "trade.pay" => parse_pay(params).map(BankCall::Pay),
        "trade.refund" => parse_refund(params).map(BankCall::Refund),
        "fund.payout" => parse_payout(params).map(BankCall::Payout),
        "trade.query" => query(OrderKind::Pay),
        "refund.query" => query(OrderKind::Refund),
        "payout.query" => query(OrderKind::Payout),
        other => Err(format!("unknown method {other:?}")),
    }
}

/// Currency and amount parameters as (currency, minor units).
fn money(params: &Params, amount_key: &str) -> Result<(Currency, u64), String> {
    let currency = Currency::from_code(params.require("currency")?).map_err(|e| e.to_string())?;
    let text = params.require(amount_key)?;
    let minor = amount::from_decimal(text, currency).ok_or_else(|| {
        format!(
            "{amount_key} {text:?} is not an amount in {}",
            currency.code()
        )
    })?;
    Ok((currency, minor))
}

fn optional(params: &Params, key: &str) -> String {
    params.get(key).unwrap_or_default().to_owned()
}

fn parse_pay(params: &Params) -> Result<PayOrder, String> {
    let (currency, amount_minor) = money(params, "total_amount")?;
    let method = match params.require("product_code")? {
        "QUICKPAY" => Method::Quickpay,
        "NETBANK" => Method::Netbank,
        other => return Err(format!("unknown product_code {other:?}")),
    };
    Ok(PayOrder {
        channel_order_no: params.require("out_trade_no")?.to_owned(),
        amount_minor,
        currency,
        method,
        subject: optional(params, "subject"),
        notify_url: optional(params, "notify_url"),
    })
}

fn parse_refund(params: &Params) -> Result<RefundOrder, String> {
    let (currency, amount_minor) = money(params, "refund_amount")?;
    Ok(RefundOrder {
        refund_no: params.require("out_request_no")?.to_owned(),
        channel_order_no: params.require("out_trade_no")?.to_owned(),
        amount_minor,
        currency,
        reason: optional(params, "refund_reason"),
        notify_url: optional(params, "notify_url"),
    })
}

fn parse_payout(params: &Params) -> Result<PayoutOrder, String> {
    let (currency, amount_minor) = money(params, "trans_amount")?;
    Ok(PayoutOrder {
        payout_no: params.require("out_biz_no")?.to_owned(),
        amount_minor,
        currency,
        bank_account: params.require("payee_account")?.to_owned(),
        notify_url: optional(params, "notify_url"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SigningSecret {
        SigningSecret::new("req-key")
    }

    fn calls() -> Vec<BankCall> {
        vec![
            BankCall::Pay(PayOrder {
                channel_order_no: "P1".into(),
                amount_minor: 1234,
                currency: Currency::CNY,
                method: Method::Netbank,
                subject: "咖啡 & cake".into(),
                notify_url: "http://127.0.0.1:1/v1/channels/c/notify".into(),
            }),
            BankCall::Refund(RefundOrder {
                refund_no: "R1".into(),
                channel_order_no: "P1".into(),
                amount_minor: 34,
                currency: Currency::CNY,
                reason: "".into(),
                notify_url: "http://h/n".into(),
            }),
            BankCall::Payout(PayoutOrder {
                payout_no: "O1".into(),
                amount_minor: 1500,
                currency: Currency::JPY,
                bank_account: "6222000011112222".into(),
                notify_url: "http://h/n".into(),
            }),
            BankCall::Query {
                kind: OrderKind::Refund,
                order_no: "R1".into(),
            },
        ]
    }

    #[test]
    fn every_call_round_trips_signed() {
        let now = 1_709_251_200;
        for call in calls() {
            let params = encode("ch1", &call, now, &secret()).unwrap();
            let wire = Params::decode(params.encode().as_bytes()).unwrap();
            assert!(verify(&wire, &secret(), now + 10), "{call:?}");
            assert_eq!(wire.get("app_id"), Some("ch1"));
            assert_eq!(parse(&wire).unwrap(), call);
        }
    }

    #[test]
    fn pay_parameters_are_the_documented_ones() {
        let params = encode("ch1", &calls()[0], 1_709_251_200, &secret()).unwrap();
        assert_eq!(params.get("method"), Some("trade.pay"));
        assert_eq!(params.get("total_amount"), Some("12.34"));
        assert_eq!(params.get("product_code"), Some("NETBANK"));
        assert_eq!(params.get("timestamp"), Some("2024-03-01 08:00:00"));
        assert_eq!(params.get("sign_type"), Some("HMAC-SHA256"));
        assert_eq!(params.get("sign").map(str::len), Some(64));
    }

    #[test]
    fn stale_or_tampered_requests_do_not_verify() {
        let now = 1_709_251_200;
        let params = encode("ch1", &calls()[0], now, &secret()).unwrap();
        assert!(!verify(&params, &secret(), now + 301));
        assert!(!verify(&params, &secret(), now - 301));
        let mut tampered = params.clone();
        tampered.set("total_amount", "1.00");
        assert!(!verify(&tampered, &secret(), now));
    }

    #[test]
    fn refuses_invalid_calls_on_both_sides() {
        let mut bad = calls()[0].clone();
        if let BankCall::Pay(order) = &mut bad {
            order.channel_order_no = "no spaces".into();
        }
        assert!(encode("ch1", &bad, 0, &secret()).is_err());
        let mut params = encode("ch1", &calls()[0], 0, &secret()).unwrap();
        params.set("total_amount", "12.345");
        assert!(matches!(parse(&params), Err(Refusal::InvalidRequest(_))));
        params.set("total_amount", "0.00");
        assert!(matches!(parse(&params), Err(Refusal::InvalidRequest(_))));
        params
            .set("total_amount", "1.00")
            .set("method", "trade.steal");
        assert!(
            matches!(parse(&params), Err(Refusal::InvalidRequest(m)) if m.contains("unknown method"))
        );
    }
}
