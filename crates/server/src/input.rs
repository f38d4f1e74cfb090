//! Request fields to ledger values, each with its 400 error when it does not fit.

use paycore_ledger::{
    AccountKey, AccountNo, AccountType, ClientId, IdHasher, Reference, TransferKind,
};
use paycore_money::Currency;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::ApiError;
use paycore_api::ledger::Instant;

pub fn client_id(hasher: &IdHasher, id: &str) -> Result<ClientId, ApiError> {
    Ok(hasher.client_id(id)?)
}

/// The id of a write: ids under `adjustment:` belong to approved adjustments' postings.
pub fn command_id(hasher: &IdHasher, id: &str) -> Result<ClientId, ApiError> {
    if id.starts_with(paycore_adjustments::LEDGER_ID_PREFIX) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("field `id`: ids starting with `{}` are reserved for the postings of approved adjustments", paycore_adjustments::LEDGER_ID_PREFIX),
        ));
    }
    client_id(hasher, id)
}

pub fn account_no(text: &str) -> Result<AccountNo, ApiError> {
    Ok(AccountNo::new(text)?)
}

pub fn account_key(text: &str) -> Result<AccountKey, ApiError> {
    Ok(AccountKey::No(account_no(text)?))
}

pub fn currency(code: &str) -> Result<Currency, ApiError> {
    Ok(Currency::from_code(code)?)
}

pub fn reference(text: Option<&str>) -> Result<Reference, ApiError> {
    Ok(Reference::new(text.unwrap_or(""))?)
}

pub fn account_type(name: &str) -> Result<AccountType, ApiError> {
    AccountType::from_name(name).ok_or_else(|| {
        ApiError::bad_request("invalid_account_type", format!("unknown account type {name:?}: customer, merchant, internal, transit or settlement"))
    })
}

/// A posting's kind; `adjustment` only through the approval flow (`/v1/adjustments`).
pub fn kind(name: Option<&str>, default: TransferKind) -> Result<TransferKind, ApiError> {
    let Some(name) = name else { return Ok(default) };
    if TransferKind::from_name(name) == Some(TransferKind::Adjustment) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "adjustment_requires_approval",
            "an adjustment (调账) is posted only when approved: propose it with POST /v1/adjustments and have another person approve it",
        ));
    }
    TransferKind::from_name(name).ok_or_else(|| {
        let known: Vec<_> = TransferKind::ALL.iter().map(|k| k.name()).collect();
        ApiError::bad_request(
            "invalid_kind",
            format!(
                "unknown transfer kind {name:?}: one of {}",
                known.join(", ")
            ),
        )
    })
}

/// An expiry as engine time (ns since the Unix epoch).
pub fn instant(value: &Instant) -> Result<u64, ApiError> {
    let invalid =
        |why: &str| ApiError::bad_request("invalid_field", format!("field `expires_at`: {why}"));
    let nanos = match value {
        Instant::Seconds(seconds) => i128::from(*seconds) * 1_000_000_000,
        Instant::Text(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|e| invalid(&format!("not an RFC 3339 time ({e})")))?
            .unix_timestamp_nanos(),
    };
    u64::try_from(nanos).map_err(|_| invalid("before 1970 or too far in the future"))
}

/// A `YYYY-MM-DD` date from a query or body field.
pub fn date(field: &str, text: &str) -> Result<paycore_ledger::Date, ApiError> {
    paycore_engine::parse_date(text)
        .map_err(|e| ApiError::bad_request("invalid_field", format!("field `{field}`: {e}")))
}

/// A fresh random id for a command the client sent without one (it is then not retry-safe).
pub fn unique_id(prefix: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}:auto:{hex}"))
}

/// Default buffered-posting settings.
const HOT_FLUSH_INTERVAL_MS: u32 = 1_000;
const HOT_MAX_ENTRIES: u32 = 10_000;

/// Hot settings as ledger options: `None` for `off`.
pub fn hot_options(
    settings: &paycore_api::ledger::HotSettings,
) -> Result<Option<paycore_ledger::HotOptions>, ApiError> {
    match settings.mode.as_str() {
        "off" => Ok(None),
        "buffered" => {
            let options = paycore_ledger::HotOptions {
                flush_interval_ms: settings.flush_interval_ms.unwrap_or(HOT_FLUSH_INTERVAL_MS),
                max_entries: settings.max_entries.unwrap_or(HOT_MAX_ENTRIES),
                credit_line: settings.credit_line.unwrap_or(0),
            };
            if !options.is_valid() {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    "field `hot`: flush_interval_ms 1–60000 and max_entries ≥ 1",
                ));
            }
            Ok(Some(options))
        }
        other => Err(ApiError::bad_request(
            "invalid_field",
            format!("field `hot.mode`: {other:?} is not buffered or off"),
        )),
    }
}

/// The default id of a hot-settings change: the same settings name the same change.
pub fn hot_id(account_no: &str, options: Option<paycore_ledger::HotOptions>) -> String {
    match options {
        None => format!("hot:{account_no}:off"),
        Some(o) => format!(
            "hot:{account_no}:{}:{}:{}",
            o.flush_interval_ms, o.max_entries, o.credit_line
        ),
    }
}
