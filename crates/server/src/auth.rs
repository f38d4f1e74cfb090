//! API keys and roles. Keys are random tokens shown once at creation; only their SHA-256
//! hashes are stored (`keys.json` in the data directory, replaced atomically on change).
//!
//! Roles: `admin` — everything, including keys and opening/closing accounts; `operator` —
//! money movements and reads; `auditor` — reads only.
//!
//! Every key belongs to a person, its `operator` (one person may hold several keys): writes
//! record the operator, and maker-checker compares operators, not keys. A key stored before
//! operators existed belongs to its name.

use std::fmt;
use std::path::{Path, PathBuf};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use paycore_api::Role;

use crate::error::ApiError;
use crate::state::AppState;

/// What a request needs to be allowed.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    Read,
    PostMoney,
    Admin,
}

impl Need {
    pub fn allowed_to(self, role: Role) -> bool {
        matches!(
            (role, self),
            (Role::Admin, _)
                | (Role::Operator, Need::Read | Need::PostMoney)
                | (Role::Auditor, Need::Read)
        )
    }
}

/// A secret that never prints itself.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// A stored key: everything but the key itself.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyRecord {
    pub id: String,
    pub name: String,
    /// The person the key belongs to; absent in keys made before operators existed, whose
    /// operator is their name (`KeyRecord::operator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    pub role: Role,
    /// SHA-256 of the key, hex.
    #[schema(ignore)]
    #[serde(rename = "sha256")]
    pub hash: String,
    pub created_at: String,
    /// The operator who created it (absent for the bootstrap key and older keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub revoked: bool,
    /// The operator who revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
}

impl KeyRecord {
    /// The person the key belongs to.
    pub fn operator(&self) -> &str {
        self.operator.as_deref().unwrap_or(&self.name)
    }
}

/// Who a new key is, and who made it.
#[derive(Clone, Debug)]
pub struct NewKey<'a> {
    pub name: &'a str,
    pub operator: Option<&'a str>,
    pub role: Role,
    pub created_by: Option<&'a str>,
}

impl<'a> NewKey<'a> {
    pub fn named(name: &'a str, role: Role) -> NewKey<'a> {
        NewKey {
            name,
            operator: None,
            role,
            created_by: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("key store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key store {path} is not valid: {source}")]
    Format {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("no randomness available: {0}")]
    Random(String),
}

/// Why a key was not revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("no API key {0:?}")]
    NotFound(String),
    #[error(
        "{0} is the last active admin key: revoking it would lock administration out; create \
         another admin key first (a stopped server: `paycore keys reset-admin`)"
    )]
    LastAdminKey(String),
    #[error(transparent)]
    Store(#[from] KeyStoreError),
}

pub struct KeyStore {
    path: PathBuf,
    keys: RwLock<Vec<KeyRecord>>,
}

/// The requester, once authenticated.
#[derive(Clone, Debug)]
pub struct Principal {
    pub key_id: String,
    pub name: String,
    /// The person behind the key: what writes record, what maker-checker compares.
    pub operator: String,
    pub role: Role,
}

impl Principal {
    pub fn require(&self, need: Need) -> Result<(), ApiError> {
        if need.allowed_to(self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                self.role
            )))
        }
    }
}

/// The key store's file in the data directory.
pub const KEYS_FILE: &str = "keys.json";
const KEY_PREFIX: &str = "pck_";

impl KeyStore {
    /// Opens the store; on first start creates it with one admin key — `bootstrap` if given
    /// (PAYCORE_BOOTSTRAP_KEY), else a random one — and returns that key so it can be shown once.
    pub fn open(
        data_dir: &Path,
        bootstrap: Option<&str>,
    ) -> Result<(KeyStore, Option<Secret>), KeyStoreError> {
        let path = data_dir.join(KEYS_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|source| KeyStoreError::Io {
                path: path.clone(),
                source,
            })?;
            let keys = serde_json::from_str(&text).map_err(|source| KeyStoreError::Format {
                path: path.clone(),
                source,
            })?;
            return Ok((
                KeyStore {
                    path,
                    keys: RwLock::new(keys),
                },
                None,
            ));
        }
        let store = KeyStore {
            path,
            keys: RwLock::new(Vec::new()),
        };
        let secret = match bootstrap {
            Some(given) => Secret(given.to_owned()),
            None => random_key()?,
        };
        store.add(NewKey::named("bootstrap-admin", Role::Admin), &secret)?;
        Ok((store, Some(secret)))
    }

    /// Creates a key; the returned secret is the only copy.
    pub fn create(&self, key: NewKey<'_>) -> Result<(KeyRecord, Secret), KeyStoreError> {
        let secret = random_key()?;
        let record = self.add(key, &secret)?;
        Ok((record, secret))
    }

    fn add(&self, key: NewKey<'_>, secret: &Secret) -> Result<KeyRecord, KeyStoreError> {
        let mut id_bytes = [0u8; 6];
        getrandom::fill(&mut id_bytes).map_err(|e| KeyStoreError::Random(e.to_string()))?;
        let record = KeyRecord {
            id: format!("key_{}", hex::encode(id_bytes)),
            name: key.name.to_owned(),
            operator: key.operator.map(str::to_owned),
            role: key.role,
            hash: hash(secret.expose()),
            created_at: crate::render::now_rfc3339(),
            created_by: key.created_by.map(str::to_owned),
            revoked: false,
            revoked_by: None,
        };
        let mut keys = self.keys.write();
        keys.push(record.clone());
        self.save(&keys)?;
        Ok(record)
    }

    pub fn list(&self) -> Vec<KeyRecord> {
        self.keys.read().clone()
    }

    /// Revokes a key — never the last active admin key: checked under the same write lock as
    /// the change, so two concurrent revocations cannot remove the last two admin keys.
    /// Revoking a revoked key changes nothing and answers its record.
    pub fn revoke(&self, id: &str, by: &str) -> Result<KeyRecord, RevokeError> {
        let mut keys = self.keys.write();
        let index = keys
            .iter()
            .position(|k| k.id == id)
            .ok_or_else(|| RevokeError::NotFound(id.to_owned()))?;
        let active_admins = keys.iter().filter(|k| is_active_admin(k)).count();
        if is_active_admin(&keys[index]) && active_admins == 1 {
            return Err(RevokeError::LastAdminKey(id.to_owned()));
        }
        if !keys[index].revoked {
            keys[index].revoked = true;
            keys[index].revoked_by = Some(by.to_owned());
        }
        let revoked = keys[index].clone();
        self.save(&keys)?;
        debug_assert!(active_admins == 0 || keys.iter().any(is_active_admin));
        Ok(revoked)
    }

    /// The principal a presented key belongs to, if it is valid and not revoked.
    pub fn authenticate(&self, presented: &str) -> Option<Principal> {
        let wanted = hash(presented);
        let keys = self.keys.read();
        keys.iter()
            .find(|k| k.hash == wanted && !k.revoked)
            .map(|k| Principal {
                key_id: k.id.clone(),
                name: k.name.clone(),
                operator: k.operator().to_owned(),
                role: k.role,
            })
    }

    fn save(&self, keys: &[KeyRecord]) -> Result<(), KeyStoreError> {
        let io = |source| KeyStoreError::Io {
            path: self.path.clone(),
            source,
        };
        let text = serde_json::to_string_pretty(keys).expect("key records serialize");
        let tmp = self.path.with_extension("json.tmp");
        write_synced(&tmp, text.as_bytes()).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)
    }
}

fn is_active_admin(key: &KeyRecord) -> bool {
    key.role == Role::Admin && !key.revoked
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn random_key() -> Result<Secret, KeyStoreError> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| KeyStoreError::Random(e.to_string()))?;
    Ok(Secret(format!("{KEY_PREFIX}{}", hex::encode(bytes))))
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Principal, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("missing API key: send `Authorization: Bearer <key>`")
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <key>`")
            })?;
        let principal = state
            .keys
            .authenticate(token)
            .ok_or_else(|| ApiError::unauthorized("invalid or revoked API key"))?;
        // Every write names its operator in the audit log (the records themselves carry it
        // where they have a field for it: accounts' opened_by, keys, adjustments' history).
        if !matches!(
            parts.method,
            axum::http::Method::GET | axum::http::Method::HEAD
        ) {
            tracing::info!(target: "paycore::audit", operator = %principal.operator, key = %principal.key_id, method = %parts.method, path = %parts.uri.path(), "write");
        }
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_hash_is_lower_case_hex() {
        let hashed = hash("abc");
        assert_eq!(hashed.len(), 64);
        assert!(hashed
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }

    #[test]
    fn roles_allow_what_they_should() {
        assert!(Need::Admin.allowed_to(Role::Admin) && Need::PostMoney.allowed_to(Role::Admin));
        assert!(
            Need::PostMoney.allowed_to(Role::Operator) && !Need::Admin.allowed_to(Role::Operator)
        );
        assert!(Need::Read.allowed_to(Role::Auditor) && !Need::PostMoney.allowed_to(Role::Auditor));
    }

    #[test]
    fn keys_are_stored_hashed_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let (store, bootstrap) = KeyStore::open(dir.path(), Some("pck_given")).unwrap();
        assert_eq!(bootstrap.unwrap().expose(), "pck_given");
        assert_eq!(store.authenticate("pck_given").unwrap().role, Role::Admin);
        let (record, secret) = store
            .create(NewKey {
                operator: Some("Li Lei"),
                created_by: Some("bootstrap-admin"),
                ..NewKey::named("ops", Role::Operator)
            })
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
        assert!(!text.contains(secret.expose()) && !text.contains("pck_given"));
        assert_eq!(format!("{secret:?}"), "Secret(****)");

        let (reopened, again) = KeyStore::open(dir.path(), Some("ignored")).unwrap();
        assert!(again.is_none());
        let principal = reopened.authenticate(secret.expose()).unwrap();
        assert_eq!(
            (principal.name.as_str(), principal.operator.as_str()),
            ("ops", "Li Lei")
        );
        let admin = reopened.authenticate("pck_given").unwrap();
        assert_eq!(
            admin.operator, "bootstrap-admin",
            "an older key is its name's"
        );
        let revoked = reopened.revoke(&record.id, "auditor-x").unwrap();
        assert_eq!(revoked.revoked_by.as_deref(), Some("auditor-x"));
        assert_eq!(revoked.created_by.as_deref(), Some("bootstrap-admin"));
        assert!(reopened.authenticate(secret.expose()).is_none());
        assert!(reopened.authenticate("nope").is_none());
        assert_eq!(reopened.list().len(), 2);
        assert!(matches!(
            reopened.revoke("key_nope", "x"),
            Err(RevokeError::NotFound(_))
        ));
    }

    #[test]
    fn the_last_active_admin_key_is_never_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = KeyStore::open(dir.path(), Some("pck_first")).unwrap();
        let first = store.authenticate("pck_first").unwrap().key_id;
        let (second, _) = store.create(NewKey::named("second", Role::Admin)).unwrap();
        let (operator, _) = store.create(NewKey::named("ops", Role::Operator)).unwrap();
        store.revoke(&first, "admin").unwrap();
        let refused = store.revoke(&second.id, "admin").unwrap_err();
        assert!(matches!(refused, RevokeError::LastAdminKey(_)), "{refused}");
        // The refusal changed nothing on disk either.
        let (reopened, _) = KeyStore::open(dir.path(), None).unwrap();
        let listed = reopened.list();
        assert!(!listed.iter().find(|k| k.id == second.id).unwrap().revoked);
        // Other roles and already revoked keys are not guarded.
        reopened.revoke(&operator.id, "admin").unwrap();
        assert!(reopened.revoke(&first, "admin").unwrap().revoked);
    }
}
