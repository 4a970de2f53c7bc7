//! The credentials key's check value (issue #18.2): a process started with another
//! key than the one the database's secrets were encrypted with must refuse to start,
//! not claim every due job and fail it.
//!
//! The store keeps one check value ([`Store::key_check`]): a constant encrypted with
//! the key (AES-256-GCM), never the key. [`verify_key`] is run at start-up by every
//! command that may decrypt (the worker, the server, the CLI's account commands):
//! - a check value exists: the key must decrypt it;
//! - none exists yet (a new database, or one written before the check existed): the
//!   key must decrypt the secrets already stored, if any; then the check value is
//!   written (the first process to do so wins; the others verify against it).

use jiff::Timestamp;
use roster_store::{Store, StoreError};

use crate::crypto::Cipher;

/// How many stored secrets are tried on a database without a check value.
const SAMPLES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "the credentials key does not fit this database: its secrets were encrypted with \
         another key. Start every roster process of this database with the same \
         ROSTER_SECRET_KEY (or, for SQLite, the key file beside the database)"
    )]
    WrongKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`verify_key`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCheck {
    /// The stored check value fits the key.
    Fits,
    /// There was none; the key fit the stored secrets (or there were none) and the
    /// check value was written.
    Written,
}

/// Check `cipher` against the store's key check value, writing one if missing.
pub async fn verify_key(
    store: &dyn Store,
    cipher: &Cipher,
    now: Timestamp,
) -> Result<KeyCheck, KeyCheckError> {
    if let Some(value) = store.key_check().await? {
        return if cipher.fits_key_check(&value) {
            Ok(KeyCheck::Fits)
        } else {
            Err(KeyCheckError::WrongKey)
        };
    }
    let samples = store.encrypted_samples(SAMPLES).await?;
    if !samples.is_empty() && !samples.iter().any(|s| cipher.decrypt(s).is_ok()) {
        return Err(KeyCheckError::WrongKey);
    }
    let stored = store.init_key_check(&cipher.key_check_value(), now).await?;
    // Another process may have written its value first: it must fit too.
    if cipher.fits_key_check(&stored) {
        Ok(KeyCheck::Written)
    } else {
        Err(KeyCheckError::WrongKey)
    }
}
