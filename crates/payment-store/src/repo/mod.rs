//! Typed reads and writes of the payment tables, written once against `Sql` for both
//! backends: each module maps one table (or two) to the domain's types.

pub mod adjustments;
pub mod channels;
pub mod merchants;
pub mod payments;
pub mod refunds;
mod route_json;
pub mod state;
pub mod trades;

use paycore_money::Currency;

use crate::StoreError;

pub(crate) fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::from_code(code).map_err(|e| StoreError::Corrupt(format!("currency {code:?}: {e}")))
}

pub(crate) fn failure(
    code: Option<String>,
    message: Option<String>,
) -> Option<paycore_payments::Failure> {
    code.map(|code| paycore_payments::Failure {
        code,
        message: message.unwrap_or_default(),
    })
}

pub(crate) fn small(v: u64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt("a count above u32".into()))
}

pub(crate) fn bool_of(v: i64) -> bool {
    v != 0
}
