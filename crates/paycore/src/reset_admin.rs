//! `paycore keys reset-admin`: the way back in when every admin key is lost or revoked. Local
//! and offline — it edits the stopped server's keys.json under the data directory's lock
//! (`paycore_server::reset_admin`), prints the new key on stdout and an audit line on stderr.

use std::path::Path;
use std::process::ExitCode;

use paycore_server::{reset_admin, ResetAdminError};

use crate::cli::EXIT_IN_USE;

pub fn run(data_dir: &Path) -> anyhow::Result<ExitCode> {
    crate::serve::init_logging("text")?;
    match reset_admin(data_dir) {
        Ok(key) => {
            eprintln!(
                "audit: {} keys reset-admin: created admin key {} ({}) in {} (uid {})",
                key.created_at,
                key.id,
                key.name,
                key.keys_file.display(),
                // SAFETY: getuid has no preconditions and cannot fail.
                unsafe { libc::getuid() },
            );
            eprintln!("the new admin key follows on stdout; it is shown once: store it now");
            println!("{}", key.secret.expose());
            Ok(ExitCode::SUCCESS)
        }
        Err(error @ ResetAdminError::InUse { .. }) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(EXIT_IN_USE))
        }
        Err(error) => Err(error.into()),
    }
}
