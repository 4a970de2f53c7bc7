//! Credentials are encrypted at rest with AES-256-GCM. The key comes from
//! `ROSTER_SECRET_KEY` (base64, 32 bytes), or a key file created beside the database
//! on first use with mode 0600.

use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the secret key is not 32 bytes of base64")]
    BadKey,
    #[error("could not read or create the key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("stored credentials could not be decrypted (wrong ROSTER_SECRET_KEY or key file?)")]
    Decrypt,
}

/// Encrypts and decrypts credentials.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
    /// HMAC key for digests of identifiers (derived from the secret key: the key
    /// itself is never used for two purposes).
    digest_key: [u8; 32],
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(redacted)")
    }
}

const NONCE_LEN: usize = 12;

/// What the digest key is derived with (HMAC of the secret key over this label).
const DIGEST_KEY_LABEL: &[u8] = b"roster source id digest key, v1";

/// What a key check value holds, encrypted: a constant, so that a key that decrypts
/// it is the key the value was written with.
const KEY_CHECK_PLAINTEXT: &[u8] = b"roster credentials key check, v1";

impl Cipher {
    pub fn from_key(key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != 32 {
            return Err(CryptoError::BadKey);
        }
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
        mac.update(DIGEST_KEY_LABEL);
        Ok(Self {
            aead: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
            digest_key: mac.finalize().into_bytes().into(),
        })
    }

    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let key = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey)?;
        Self::from_key(&key)
    }

    /// A fresh random key (base64), for `roster` to write to a key file.
    pub fn generate_base64() -> String {
        STANDARD.encode(Aes256Gcm::generate_key(OsRng))
    }

    /// `ROSTER_SECRET_KEY` if set, else the key file at `path`, created if missing.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        Self::load_or_create_with(path, std::env::var("ROSTER_SECRET_KEY").ok())
    }

    /// `key` (the variable's value) when set and not blank, else the key file at
    /// `path`, created if missing. A blank variable counts as unset, as a shell's
    /// `ROSTER_SECRET_KEY=` means.
    pub fn load_or_create_with(path: &Path, key: Option<String>) -> Result<Self, CryptoError> {
        if let Some(k) = key.filter(|k| !k.trim().is_empty()) {
            return Self::from_base64(&k);
        }
        let err = |e: std::io::Error| CryptoError::KeyFile {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate_base64();
                write_private(path, &key).map_err(err)?;
                Self::from_base64(&key)
            }
            Err(e) => Err(err(e)),
        }
    }

    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        out.extend(self.aead.encrypt(&nonce, plaintext).unwrap_or_default());
        out
    }

    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if data.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, body) = data.split_at(NONCE_LEN);
        self.aead
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| CryptoError::Decrypt)
    }
}

impl Cipher {
    /// A key check value for this key: [`KEY_CHECK_PLAINTEXT`] encrypted (a fresh
    /// nonce each time; the key itself cannot be derived from it).
    pub fn key_check_value(&self) -> Vec<u8> {
        self.encrypt(KEY_CHECK_PLAINTEXT)
    }

    /// The keyed digest of a source id (HMAC-SHA256 under a key derived from the
    /// secret key, hex): kept after an erasure instead of the id, so that a re-hire
    /// is recognised (issue #17). The same id gives the same digest under the same
    /// key; without the key it cannot be computed or reversed.
    pub fn source_digest(&self, source_id: &str) -> String {
        // HMAC takes a key of any length: `new_from_slice` cannot fail here.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.digest_key) else {
            return String::new();
        };
        mac.update(source_id.trim().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `value` is a key check value written with this key.
    pub fn fits_key_check(&self, value: &[u8]) -> bool {
        self.decrypt(value)
            .is_ok_and(|plain| plain == KEY_CHECK_PLAINTEXT)
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let c = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
        let sealed = c.encrypt(b"refresh-token-123");
        assert!(!sealed.windows(7).any(|w| w == b"refresh"));
        assert_eq!(c.decrypt(&sealed).unwrap(), b"refresh-token-123");
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(c.decrypt(&bad).is_err());
        let other = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
        assert!(other.decrypt(&sealed).is_err());
    }

    #[test]
    fn key_check_value_fits_its_key_only() {
        let c = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
        let value = c.key_check_value();
        assert!(c.fits_key_check(&value));
        assert!(!value.windows(8).any(|w| w == b"key chec"), "encrypted");
        let other = Cipher::from_base64(&Cipher::generate_base64()).unwrap();
        assert!(!other.fits_key_check(&value));
        // Another secret of the same key is not a check value.
        assert!(!c.fits_key_check(&c.encrypt(b"token")));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.key");
        let a = Cipher::load_or_create_with(&path, None).unwrap();
        // A blank variable counts as unset: the same file's key.
        let b = Cipher::load_or_create_with(&path, Some("  ".into())).unwrap();
        assert_eq!(b.decrypt(&a.encrypt(b"x")).unwrap(), b"x");
        // A key in the variable wins over the file.
        let c = Cipher::load_or_create_with(&path, Some(Cipher::generate_base64())).unwrap();
        assert!(c.decrypt(&a.encrypt(b"x")).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
