//! docs/openapi.json is the generated document, byte for byte. After changing the API, run
//! `UPDATE_OPENAPI=1 cargo test -p paycore-server --test openapi` and commit the result.

use utoipa::OpenApi;

#[test]
fn the_committed_document_matches_the_code() {
    let generated = paycore_server::openapi::ApiDoc::openapi()
        .to_pretty_json()
        .unwrap()
        + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: rerun with UPDATE_OPENAPI=1"
    );
}

#[test]
fn every_route_is_documented() {
    let doc = paycore_server::openapi::ApiDoc::openapi();
    let documented: Vec<&String> = doc.paths.paths.keys().collect();
    let routed = [
        "/v1/accounts",
        "/v1/accounts/{account_no}",
        "/v1/accounts/{account_no}/close",
        "/v1/accounts/{account_no}/freeze",
        "/v1/accounts/{account_no}/holds",
        "/v1/accounts/{account_no}/unfreeze",
        "/v1/accounts/{account_no}/hot",
        "/v1/accounts/{account_no}/entries/{seq}/transfers",
        "/v1/transfers",
        "/v1/transfers/batch",
        "/v1/transfers/{id}",
        "/v1/deposits",
        "/v1/withdrawals",
        "/v1/holds",
        "/v1/holds/{id}",
        "/v1/holds/{id}/release",
        "/v1/holds/{id}/capture",
        "/v1/keys",
        "/v1/keys/{id}/revoke",
        "/v1/whoami",
        "/healthz",
        "/metrics",
        "/openapi.json",
        "/v1/accounting/accounts",
        "/v1/accounting/accounts/{code}",
        "/v1/accounting/vouchers",
        "/v1/accounting/vouchers/{voucher_no}",
        "/v1/accounting/vouchers/{voucher_no}/reverse",
        "/v1/accounting/trial-balance",
        "/v1/accounting/gl-check",
        "/v1/accounting/reserve-report",
        "/v1/accounting/status",
        "/v1/accounting/exceptions",
        "/v1/accounting/exceptions/retry",
        "/v1/accounting/rules",
        "/v1/accounting/periods",
        "/v1/accounting/periods/{period}/close",
        "/v1/merchants",
        "/v1/merchants/{id}",
        "/v1/merchants/{id}/secret/rotate",
        "/v1/notifications",
        "/v1/notifications/{event_id}",
        "/v1/notifications/{event_id}/retry",
        "/v1/channels",
        "/v1/channels/{id}",
        "/v1/channels/{id}/notify",
        "/v1/trades",
        "/v1/trades/{trade_id}",
        "/v1/trades/{trade_id}/payments",
        "/v1/payments/{id}",
        "/v1/payments/{id}/resend",
        "/v1/payments/{id}/reroute",
        "/v1/payments/{id}/refunds",
        "/v1/refunds/{id}",
        "/v1/trades/{trade_id}/close",
        "/v1/payouts",
        "/v1/payouts/{id}",
        "/v1/payouts/{id}/resend",
        "/v1/payouts/{id}/reroute",
        "/v1/recon/statements",
        "/v1/recon/runs",
        "/v1/recon/runs/{id}",
        "/v1/recon/exceptions",
        "/v1/recon/exceptions/{id}",
        "/v1/recon/exceptions/{id}/resolve",
        "/v1/recon/report",
        "/v1/accounts/{account_no}/daily-balances",
        "/v1/accounts/{account_no}/entries",
        "/v1/day-end",
        "/v1/reports/day-end",
        "/v1/events",
        "/v1/verify",
        "/v1/adjustments",
        "/v1/adjustments/{id}",
        "/v1/adjustments/{id}/approve",
        "/v1/adjustments/{id}/reject",
    ];
    for path in routed {
        assert!(
            documented.iter().any(|p| *p == path),
            "{path} is routed but not documented"
        );
    }
    assert_eq!(
        documented.len(),
        routed.len(),
        "a documented path is not in the list above: {documented:?}"
    );
}
