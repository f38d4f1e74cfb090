//! Offline recovery of administration for a stopped server (`paycore keys reset-admin`): adds
//! a new admin key to `keys.json`, holding the data directory's lock meanwhile — the lock a
//! running engine holds — so a server never has the file changed under it (it would rewrite
//! the file from memory and drop the new key). Other keys are left as they are.

use std::path::{Path, PathBuf};

use paycore_engine::EngineError;

use crate::auth::{KeyStore, KeyStoreError, NewKey, Role, Secret, KEYS_FILE};

/// Name of every key `reset_admin` creates.
pub const RECOVERED_ADMIN_NAME: &str = "recovered-admin";

#[derive(Debug, thiserror::Error)]
pub enum ResetAdminError {
    #[error("{} is not a paycore data directory ({source}); pass the --data-dir the server runs with", path.display())]
    NotADataDir { path: PathBuf, source: EngineError },
    #[error("{} has no {KEYS_FILE}: no server has started on it yet (the first start creates an admin key)", path.display())]
    NoKeys { path: PathBuf },
    #[error("{} is in use by a running paycore server: stop it first, then run this again", path.display())]
    InUse { path: PathBuf },
    #[error("cannot lock {}: {source}", path.display())]
    Lock { path: PathBuf, source: EngineError },
    #[error(transparent)]
    Keys(#[from] KeyStoreError),
}

/// A key `reset_admin` created; `secret` is its only copy.
#[derive(Debug)]
pub struct RecoveredKey {
    pub id: String,
    pub name: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
    pub secret: Secret,
    pub keys_file: PathBuf,
}

/// Creates an admin key named `recovered-admin` in `data_dir/keys.json`. Refused while a
/// server holds the directory, and for a directory that is not a server's.
pub fn reset_admin(data_dir: &Path) -> Result<RecoveredKey, ResetAdminError> {
    let path = data_dir.to_owned();
    // Checked before locking, which would create DIR/LOCK in whatever directory was given.
    paycore_engine::check_data_dir(data_dir).map_err(|source| ResetAdminError::NotADataDir {
        path: path.clone(),
        source,
    })?;
    let _lock = paycore_engine::lock_data_dir(data_dir).map_err(|source| match source {
        EngineError::Locked { .. } => ResetAdminError::InUse { path: path.clone() },
        source => ResetAdminError::Lock {
            path: path.clone(),
            source,
        },
    })?;
    let keys_file = data_dir.join(KEYS_FILE);
    if !keys_file.is_file() {
        return Err(ResetAdminError::NoKeys { path });
    }
    let (keys, created) = KeyStore::open(data_dir, None)?;
    assert!(created.is_none(), "an existing key store creates no key");
    let (record, secret) = keys.create(NewKey::named(RECOVERED_ADMIN_NAME, Role::Admin))?;
    tracing::warn!(
        key = %record.id,
        name = %record.name,
        file = %keys_file.display(),
        "admin API key created offline (keys reset-admin)"
    );
    Ok(RecoveredKey {
        id: record.id,
        name: record.name,
        created_at: record.created_at,
        secret,
        keys_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_stopped_servers_directory() {
        let empty = tempfile::tempdir().unwrap();
        let error = reset_admin(empty.path()).unwrap_err();
        assert!(
            matches!(error, ResetAdminError::NotADataDir { .. }),
            "{error}"
        );
        assert!(!empty.path().join("LOCK").exists(), "nothing created");

        let dir = tempfile::tempdir().unwrap();
        let engine =
            paycore_engine::Engine::open(paycore_engine::EngineConfig::new(dir.path())).unwrap();
        let error = reset_admin(dir.path()).unwrap_err();
        assert!(matches!(error, ResetAdminError::InUse { .. }), "{error}");
        drop(engine);
        let error = reset_admin(dir.path()).unwrap_err();
        assert!(matches!(error, ResetAdminError::NoKeys { .. }), "{error}");
        assert!(!dir.path().join(KEYS_FILE).exists());
    }

    #[test]
    fn adds_an_admin_key_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        drop(paycore_engine::Engine::open(paycore_engine::EngineConfig::new(dir.path())).unwrap());
        let (store, _) = KeyStore::open(dir.path(), Some("pck_lost")).unwrap();
        drop(store);
        let recovered = reset_admin(dir.path()).unwrap();
        assert_eq!(recovered.name, RECOVERED_ADMIN_NAME);
        let (store, _) = KeyStore::open(dir.path(), None).unwrap();
        let principal = store.authenticate(recovered.secret.expose()).unwrap();
        assert_eq!(
            (principal.role, principal.key_id),
            (Role::Admin, recovered.id)
        );
        assert!(store.authenticate("pck_lost").is_some(), "other keys stay");
        assert_eq!(store.list().len(), 2);
    }
}
