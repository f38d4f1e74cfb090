//! Fields of a PATCH body that may be absent (leave as is), `null` (remove) or a value.

use serde::{Deserialize, Deserializer};

/// `#[serde(default, deserialize_with = "double_option")]` on an `Option<Option<T>>`: a field
/// that is present becomes `Some(..)`, even when it is `null`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
