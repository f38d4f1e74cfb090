//! `pay_merchant_secrets`: the secrets that sign a merchant's notifications. `create` stores
//! the first, `rotate` a new one while the previous keeps signing until its grace ends, and
//! `active` is what signs now (newest first).

use std::fmt;

use crate::sql::{Row, Sql, Value};
use crate::StoreError;

/// Shortest and longest secret.
pub const SECRET_BYTES_MIN: usize = 16;
pub const SECRET_BYTES_MAX: usize = 256;
/// Most secrets signing at once (the newest; rotations faster than the grace drop the oldest).
pub const ACTIVE_MAX: u64 = 3;

/// A signing secret. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct MerchantSecret {
    pub merchant: String,
    /// 1, 2, … per merchant.
    pub version: u64,
    pub secret: String,
    pub created_at: u64,
    /// No longer signs from then on; `None` for the current secret.
    pub retires_at: Option<u64>,
}

impl fmt::Debug for MerchantSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantSecret")
            .field("merchant", &self.merchant)
            .field("version", &self.version)
            .field("secret", &"****")
            .field("created_at", &self.created_at)
            .field("retires_at", &self.retires_at)
            .finish()
    }
}

/// Stores a merchant's first secret; its version. Storing the same first secret again is a
/// no-op; a merchant that has one already must `rotate`.
pub fn create(
    sql: &mut dyn Sql,
    merchant: &str,
    secret: &str,
    now: u64,
) -> Result<u64, StoreError> {
    check(secret)?;
    match newest(sql, merchant)? {
        Some(s) if s.secret == secret && s.retires_at.is_none() => Ok(s.version),
        Some(_) => Err(StoreError::Invalid(format!(
            "merchant_secret_exists: merchant {merchant} has a secret; rotate it instead"
        ))),
        None => {
            add(sql, merchant, 1, secret, now)?;
            Ok(1)
        }
    }
}

/// Makes `secret` the merchant's current secret; the ones signing now keep signing until
/// `now + grace_ms` (0: they stop at once). Its version. Rotating to the current secret
/// again is a no-op.
pub fn rotate(
    sql: &mut dyn Sql,
    merchant: &str,
    secret: &str,
    now: u64,
    grace_ms: u64,
) -> Result<u64, StoreError> {
    check(secret)?;
    let Some(current) = newest(sql, merchant)? else {
        return Err(StoreError::Invalid(format!(
            "merchant_secret_missing: merchant {merchant} has no secret to rotate"
        )));
    };
    if current.secret == secret && current.retires_at.is_none() {
        return Ok(current.version);
    }
    let retires_at = now.saturating_add(grace_ms);
    sql.exec(
        "UPDATE pay_merchant_secrets SET retires_at = $2 \
         WHERE merchant = $1 AND (retires_at IS NULL OR retires_at > $2)",
        &[Value::text(merchant), Value::uint(retires_at)],
    )?;
    let version = current.version + 1;
    add(sql, merchant, version, secret, now)?;
    Ok(version)
}

/// The secrets that sign at `now`, newest first (at most `ACTIVE_MAX`).
pub fn active(
    sql: &mut dyn Sql,
    merchant: &str,
    now: u64,
) -> Result<Vec<MerchantSecret>, StoreError> {
    sql.query(
        "SELECT merchant, version, secret, created_at, retires_at FROM pay_merchant_secrets \
         WHERE merchant = $1 AND (retires_at IS NULL OR retires_at > $2) \
         ORDER BY version DESC LIMIT $3",
        &[
            Value::text(merchant),
            Value::uint(now),
            Value::uint(ACTIVE_MAX),
        ],
    )?
    .iter()
    .map(from_row)
    .collect()
}

fn newest(sql: &mut dyn Sql, merchant: &str) -> Result<Option<MerchantSecret>, StoreError> {
    sql.query_opt(
        "SELECT merchant, version, secret, created_at, retires_at FROM pay_merchant_secrets \
         WHERE merchant = $1 ORDER BY version DESC LIMIT 1",
        &[Value::text(merchant)],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

fn add(
    sql: &mut dyn Sql,
    merchant: &str,
    version: u64,
    secret: &str,
    now: u64,
) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_merchant_secrets (merchant, version, secret, created_at, retires_at) \
         VALUES ($1, $2, $3, $4, NULL)",
        &[
            Value::text(merchant),
            Value::uint(version),
            Value::text(secret),
            Value::uint(now),
        ],
    )?;
    Ok(())
}

fn check(secret: &str) -> Result<(), StoreError> {
    if !(SECRET_BYTES_MIN..=SECRET_BYTES_MAX).contains(&secret.len()) {
        return Err(StoreError::Invalid(format!(
            "merchant secret: {SECRET_BYTES_MIN} to {SECRET_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

fn from_row(r: &Row) -> Result<MerchantSecret, StoreError> {
    Ok(MerchantSecret {
        merchant: r.text(0)?,
        version: r.uint(1)?,
        secret: r.text(2)?,
        created_at: r.uint(3)?,
        retires_at: r.opt_uint(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let s = MerchantSecret {
            merchant: "m1".into(),
            version: 1,
            secret: "whsec_do_not_print_me".into(),
            created_at: 0,
            retires_at: None,
        };
        let shown = format!("{s:?}");
        assert!(shown.contains("****"), "{shown}");
        assert!(!shown.contains("do_not_print"), "{shown}");
    }
}
