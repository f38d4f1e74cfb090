//! Exact money: currencies with their minor-unit scale, amounts as integer minor units,
//! decimal text in and out, and Chinese capital numerals (大写金额) for vouchers.
//!
//! Architecture invariant: no floating point ever touches an amount. Every arithmetic
//! operation is checked and reports overflow instead of wrapping.

mod currency;
mod decimal;
mod error;
mod money;
mod words;

pub use currency::{Currency, CURRENCIES};
pub use decimal::{format_minor, parse_minor, Sign};
pub use error::MoneyError;
pub use money::Money;
pub use words::cny_capital;
