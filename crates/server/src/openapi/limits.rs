//! The limits the server enforces on request fields and parameters, stated in the OpenAPI
//! document so generated clients validate before sending. Written once here, by field name,
//! from the constants the validators use (the payment side's request types carry theirs as
//! `#[schema(...)]` attributes in `paycore-api`).
//!
//! Lengths: JSON Schema counts characters, the server counts UTF-8 bytes; `maxLength` is the
//! byte limit, exact for the ASCII-only patterns and an upper bound for free text. Rules that
//! span fields (a split account's number length, min ≤ max, currencies matching accounts) are
//! the server's alone. Every entry must name a field or parameter of the document, or
//! building the document panics (the OpenAPI test builds it).

use paycore_accounting::{Class, Side};
use paycore_adjustments::limits as adjustments;
use paycore_adjustments::Status as AdjustmentStatus;
use paycore_ledger::{
    AccountType, TransferKind, ACCOUNT_NO_BYTES_MAX, BATCH_COMMANDS_MAX, CLIENT_ID_BYTES_MAX,
    HOT_FLUSH_INTERVAL_MS_MAX, REFERENCE_BYTES_MAX, SPLIT_PARTS_MAX,
};
use paycore_money::CURRENCIES;
use paycore_payment_store::repo::notifications::Status as NotificationStatus;
use paycore_payments::channel::PROTOCOLS;
use paycore_payments::ids as pay_ids;
use paycore_payments::payout::BANK_ACCOUNT_BYTES_MAX;
use paycore_payments::Method;
use paycore_recon as recon;
use paycore_statements::Format;
use serde_json::Value;
use utoipa::openapi::schema::{ArrayItems, KnownFormat, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::Modify;

use super::responses::operations;

/// No control characters (what `char::is_control` refuses).
const NO_CONTROLS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// Not blank, and no control characters.
const NOT_BLANK: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// Largest amount in minor units (amounts are signed 64-bit in the ledger's sums).
const AMOUNT_MAX: u64 = i64::MAX as u64;
/// A split account has this many sub-accounts at least (`SPLIT_PARTS_MAX` at most).
const SPLIT_PARTS_MIN: u64 = 2;

/// What one field or parameter must be.
#[derive(Clone, Default)]
struct Limit {
    pattern: Option<String>,
    format: Option<KnownFormat>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    minimum: Option<u64>,
    maximum: Option<u64>,
    one_of: Option<Vec<String>>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    /// For arrays: what each item must be.
    items: Option<Box<Limit>>,
}

impl Limit {
    fn pattern(pattern: impl Into<String>) -> Limit {
        Limit {
            pattern: Some(pattern.into()),
            ..Limit::default()
        }
    }

    fn text(pattern: &str, min_length: usize, max_length: usize) -> Limit {
        Limit {
            min_length: (min_length > 0).then_some(min_length),
            max_length: Some(max_length),
            ..Limit::pattern(pattern)
        }
    }

    /// Any text of `min_length` to `max_length` bytes.
    fn length(min_length: usize, max_length: usize) -> Limit {
        Limit {
            min_length: Some(min_length),
            max_length: Some(max_length),
            ..Limit::default()
        }
    }

    fn one_of<S: ToString>(values: impl IntoIterator<Item = S>) -> Limit {
        Limit {
            one_of: Some(values.into_iter().map(|v| v.to_string()).collect()),
            ..Limit::default()
        }
    }

    fn range(minimum: u64, maximum: u64) -> Limit {
        Limit {
            minimum: Some(minimum),
            maximum: Some(maximum),
            ..Limit::default()
        }
    }

    fn items(min_items: usize, max_items: Option<usize>, items: Option<Limit>) -> Limit {
        Limit {
            min_items: Some(min_items),
            max_items,
            items: items.map(Box::new),
            ..Limit::default()
        }
    }

    fn date() -> Limit {
        Limit {
            format: Some(KnownFormat::Date),
            ..Limit::default()
        }
    }

    /// Statement days (对账日) start in 1970.
    fn recon_date() -> Limit {
        Limit {
            pattern: Some(r"^(19[7-9]\d|[2-9]\d{3})-".into()),
            ..Limit::date()
        }
    }

    fn account_no() -> Limit {
        Limit::pattern(format!("^[A-Za-z0-9_-]{{1,{ACCOUNT_NO_BYTES_MAX}}}$"))
    }

    /// A ledger command's idempotency id (`ClientId`).
    fn client_id() -> Limit {
        Limit::text(NO_CONTROLS, 1, CLIENT_ID_BYTES_MAX)
    }

    fn currency() -> Limit {
        Limit::one_of(CURRENCIES.iter().map(|c| c.code()))
    }

    fn amount() -> Limit {
        Limit::range(1, AMOUNT_MAX)
    }
}

/// Which request schemas a body entry applies to.
enum Scope {
    /// Every request body schema that has the field (names ending in `Request`, and
    /// `HotSettings`).
    Requests,
    Only(&'static [&'static str]),
}

fn body_limits() -> Vec<(Scope, &'static [&'static str], Limit)> {
    use Scope::*;
    let transfer_kinds = TransferKind::ALL
        .iter()
        .filter(|k| **k != TransferKind::Adjustment)
        .map(|k| k.name());
    vec![
        (
            Requests,
            &[
                "account_no",
                "account",
                "debit_account",
                "credit_account",
                "settlement_account",
            ],
            Limit::account_no(),
        ),
        (Requests, &["currency"], Limit::currency()),
        (Requests, &["amount"], Limit::amount()),
        (
            Only(&[
                "OpenAccountRequest",
                "TransferRequest",
                "DepositRequest",
                "HoldRequest",
                "CaptureRequest",
                "ReleaseRequest",
                "AccountActionRequest",
                "DayEndRequest",
                "HotSettings",
            ]),
            &["id"],
            Limit::client_id(),
        ),
        (
            Requests,
            &["reference"],
            Limit::text(NO_CONTROLS, 0, REFERENCE_BYTES_MAX),
        ),
        (
            Only(&["OpenAccountRequest"]),
            &["type"],
            Limit::one_of(AccountType::ALL.map(AccountType::name)),
        ),
        (
            Only(&["OpenAccountRequest"]),
            &["split"],
            Limit::range(SPLIT_PARTS_MIN, u64::from(SPLIT_PARTS_MAX)),
        ),
        (
            Only(&["TransferRequest", "CaptureRequest"]),
            &["kind"],
            Limit::one_of(transfer_kinds),
        ),
        (
            Only(&["HotSettings"]),
            &["mode"],
            Limit::one_of(["buffered", "off"]),
        ),
        (
            Only(&["HotSettings"]),
            &["flush_interval_ms"],
            Limit::range(1, u64::from(HOT_FLUSH_INTERVAL_MS_MAX)),
        ),
        (
            Only(&["HotSettings"]),
            &["max_entries"],
            Limit::range(1, u64::from(u32::MAX)),
        ),
        (
            Only(&["BatchRequest"]),
            &["transfers"],
            Limit::items(1, Some(BATCH_COMMANDS_MAX), None),
        ),
        (
            Only(&["DayEndRequest", "ManualVoucherRequest"]),
            &["date"],
            Limit::date(),
        ),
        (Only(&["CreateRunRequest"]), &["date"], Limit::recon_date()),
        (
            Only(&["CreateKeyRequest"]),
            &["name", "operator"],
            Limit::text(NOT_BLANK, 1, crate::routes::keys::KEY_NAME_BYTES_MAX),
        ),
        // Adjustments (调账).
        (
            Only(&[
                "CreateAdjustmentRequest",
                "RejectAdjustmentRequest",
                "ResolveRequest",
            ]),
            &["reason"],
            Limit::text(NOT_BLANK, 1, adjustments::REASON_BYTES_MAX),
        ),
        (
            Only(&["CreateAdjustmentRequest"]),
            &["evidence"],
            Limit::text(NO_CONTROLS, 0, adjustments::EVIDENCE_BYTES_MAX),
        ),
        (
            Only(&["CreateAdjustmentRequest"]),
            &["exception_id"],
            Limit::pattern(format!(
                "^[A-Za-z0-9_.:-]{{1,{}}}$",
                adjustments::EXCEPTION_ID_BYTES_MAX
            )),
        ),
        (
            Only(&["ApproveAdjustmentRequest"]),
            &["comment"],
            Limit::text(NO_CONTROLS, 0, adjustments::REASON_BYTES_MAX),
        ),
        // Reconciliation (对账).
        (
            Only(&["CreateRunRequest"]),
            &["format"],
            Limit::one_of(Format::ALL.map(Format::name)),
        ),
        (
            Only(&["ResolveRequest"]),
            &["action"],
            Limit::one_of(recon::Action::ALL.map(recon::Action::name)),
        ),
        // Accounting (会计).
        (
            Only(&["GlAccountRequest"]),
            &["code"],
            Limit::pattern(r"^(\d{4}|\d{6}|\d{8})$"),
        ),
        (
            Only(&["GlAccountRequest", "GlAccountPatch"]),
            &["name"],
            Limit {
                min_length: Some(1),
                ..Limit::pattern(NOT_BLANK)
            },
        ),
        (
            Only(&["GlAccountRequest"]),
            &["class"],
            Limit::one_of(Class::ALL.map(Class::name)),
        ),
        (
            Only(&["GlAccountRequest", "VoucherLineRequest"]),
            &["side"],
            Limit::one_of(Side::ALL.map(Side::name)),
        ),
        (
            Only(&["ManualVoucherRequest", "ReverseRequest"]),
            &["id"],
            Limit::length(1, paycore_accounting::VOUCHER_ID_BYTES_MAX),
        ),
        (
            Only(&["ManualVoucherRequest"]),
            &["lines"],
            Limit::items(2, None, None),
        ),
        (
            Only(&["VoucherLineRequest"]),
            &["code"],
            Limit::pattern(r"^\d{4,8}$"),
        ),
        // Payments: what the payment types' attributes do not say.
        (
            Only(&["CreatePaymentRequest"]),
            &["method"],
            // What routes/pay/payments.rs takes: every method but payout.
            Limit::one_of(
                Method::ALL
                    .into_iter()
                    .filter(|m| *m != Method::Payout)
                    .map(Method::name),
            ),
        ),
        (
            Only(&["CreateChannelRequest"]),
            &["protocol"],
            Limit::one_of(PROTOCOLS),
        ),
        (
            Only(&["CreateChannelRequest"]),
            &["methods"],
            Limit::items(
                1,
                None,
                // A channel does what a method asks of it: not balance, not combined.
                Some(Limit::one_of(
                    Method::ALL
                        .into_iter()
                        .filter(|m| m.channel_method() == Some(*m))
                        .map(Method::name),
                )),
            ),
        ),
        (
            Only(&["CreateChannelRequest"]),
            &["currencies"],
            Limit::items(1, None, Some(Limit::currency())),
        ),
        (
            Only(&["CreateChannelRequest"]),
            &["secret"],
            Limit::length(1, pay_ids::SECRET_BYTES_MAX),
        ),
        (
            Only(&["CreateChannelRequest", "PatchChannelRequest"]),
            &["min_amount", "max_amount"],
            Limit::range(0, AMOUNT_MAX),
        ),
        (
            Only(&[
                "CreateChannelRequest",
                "CreateTradeRequest",
                "CreatePayoutRequest",
            ]),
            &["endpoint", "notify_url"],
            Limit::text(
                r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+",
                1,
                pay_ids::URL_BYTES_MAX,
            ),
        ),
        (
            Only(&["CreateMerchantRequest"]),
            &["callback_hosts"],
            Limit::items(
                0,
                Some(pay_ids::CALLBACK_HOSTS_MAX),
                Some(Limit::text(HOST, 1, pay_ids::HOST_BYTES_MAX)),
            ),
        ),
        (
            Only(&["CreateMerchantRequest"]),
            &["name"],
            Limit::pattern(NOT_BLANK),
        ),
        (
            Only(&["CreateTradeRequest", "CreateRefundRequest"]),
            &["subject", "reason"],
            Limit::text(NO_CONTROLS, 0, pay_ids::SUBJECT_BYTES_MAX),
        ),
        (
            Only(&["CreatePayoutRequest"]),
            &["bank_account"],
            Limit::pattern(format!("^[A-Za-z0-9_-]{{1,{BANK_ACCOUNT_BYTES_MAX}}}$")),
        ),
    ]
}

/// A DNS name (labels of letters, digits and inner hyphens) or an IP address.
const HOST: &str = r"^(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\]?|\[?::1\]?)$";

/// Query and path parameters, by name; `paths` narrows an entry to paths starting with one of
/// them (empty: every path).
fn param_limits() -> Vec<(&'static str, &'static [&'static str], Limit)> {
    vec![
        ("account_no", &[], Limit::account_no()),
        ("account", &["/v1/transfers"], Limit::account_no()),
        (
            "after",
            &["/v1/accounts"],
            Limit::pattern(format!("^([A-Za-z0-9_-]{{1,{ACCOUNT_NO_BYTES_MAX}}})?$")),
        ),
        ("id", &["/v1/transfers/", "/v1/holds/"], Limit::client_id()),
        ("before", &["/v1/payouts"], Limit::pattern(r"^\d{1,19}:.+$")),
        ("date", &["/v1/accounting", "/v1/reports"], Limit::date()),
        ("date", &["/v1/recon"], Limit::recon_date()),
        (
            "from",
            &["/v1/accounting", "/v1/transfers", "/v1/accounts"],
            Limit::date(),
        ),
        (
            "to",
            &["/v1/accounting", "/v1/transfers", "/v1/accounts"],
            Limit::date(),
        ),
        ("from_date", &[], Limit::date()),
        ("to_date", &[], Limit::date()),
        (
            "period",
            &[],
            Limit::pattern(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"),
        ),
        (
            "format",
            &["/v1/recon"],
            Limit::one_of(Format::ALL.map(Format::name)),
        ),
        (
            "status",
            &["/v1/notifications"],
            Limit::one_of(NotificationStatus::ALL.map(NotificationStatus::name)),
        ),
        (
            "status",
            &["/v1/adjustments"],
            // Empty means any status.
            Limit::one_of(
                [""].into_iter()
                    .chain(AdjustmentStatus::ALL.map(AdjustmentStatus::name)),
            ),
        ),
        (
            "status",
            &["/v1/recon/exceptions"],
            Limit::one_of(
                [""].into_iter()
                    .chain(recon::ExceptionStatus::ALL.map(recon::ExceptionStatus::name)),
            ),
        ),
    ]
}

pub struct Limits;

impl Modify for Limits {
    fn modify(&self, doc: &mut OpenApi) {
        let schemas = &mut doc
            .components
            .as_mut()
            .expect("the document has components")
            .schemas;
        for (scope, fields, limit) in body_limits() {
            let mut applied = 0;
            for (name, schema) in schemas.iter_mut() {
                let in_scope = match scope {
                    Scope::Requests => name.ends_with("Request") || name == "HotSettings",
                    Scope::Only(names) => names.contains(&name.as_str()),
                };
                let RefOr::T(Schema::Object(object)) = schema else {
                    continue;
                };
                if !in_scope {
                    continue;
                }
                for field in fields {
                    if let Some(RefOr::T(property)) = object.properties.get_mut(*field) {
                        apply(property, &limit);
                        applied += 1;
                    }
                }
            }
            assert!(applied > 0, "a limit on {fields:?} names no request field");
        }
        for (name, paths, limit) in param_limits() {
            let mut applied = 0;
            for (path, item) in doc.paths.paths.iter_mut() {
                if !paths.is_empty() && !paths.iter().any(|p| path.starts_with(p)) {
                    continue;
                }
                for operation in operations(item) {
                    let parameters = operation.parameters.iter_mut().flatten();
                    for parameter in parameters.filter(|p| p.name == name) {
                        if let Some(RefOr::T(schema)) = parameter.schema.as_mut() {
                            apply(schema, &limit);
                            applied += 1;
                        }
                    }
                }
            }
            assert!(
                applied > 0,
                "a limit on parameter {name} names no parameter"
            );
        }
    }
}

fn apply(schema: &mut Schema, limit: &Limit) {
    match schema {
        Schema::Object(object) => {
            let nullable = matches!(&object.schema_type, SchemaType::Array(types) if types.contains(&Type::Null));
            if let Some(pattern) = &limit.pattern {
                object.pattern = Some(pattern.clone());
            }
            if let Some(format) = &limit.format {
                object.format = Some(SchemaFormat::KnownFormat(format.clone()));
            }
            object.min_length = limit.min_length.or(object.min_length);
            object.max_length = limit.max_length.or(object.max_length);
            if let Some(minimum) = limit.minimum {
                object.minimum = Some((minimum as usize).into());
            }
            if let Some(maximum) = limit.maximum {
                object.maximum = Some((maximum as usize).into());
            }
            if let Some(values) = &limit.one_of {
                let mut values: Vec<Value> = values.iter().cloned().map(Value::String).collect();
                if nullable {
                    values.push(Value::Null);
                }
                object.enum_values = Some(values);
            }
        }
        Schema::Array(array) => {
            array.min_items = limit.min_items.or(array.min_items);
            array.max_items = limit.max_items.or(array.max_items);
            if let (Some(items), ArrayItems::RefOrSchema(schema)) = (&limit.items, &mut array.items)
            {
                if let RefOr::T(schema) = schema.as_mut() {
                    apply(schema, items);
                }
            }
        }
        _ => panic!("a limit on a schema that is neither a value nor an array"),
    }
}
