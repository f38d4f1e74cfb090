//! Typed reads and writes of the payment tables, written once against `Sql` for both
//! backends: each module maps one table (or two) to the domain's types.

pub mod channels;
pub mod merchants;
pub mod notifications;
pub mod payments;
mod route_json;
pub mod state;
pub mod trades;

use paycore_money::Currency;

use crate::StoreError;

pub(crate) fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::from_code(code).map_err(|e| StoreError::Corrupt(format!("currency {code:?}: {e}")))
}

pub(crate) fn bool_of(v: i64) -> bool {
    v != 0
}
