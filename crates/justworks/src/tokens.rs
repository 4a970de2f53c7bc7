//! What the connector authenticates with: a static token or an OAuth token set,
//! and the port where refreshed tokens are kept ([`TokenStore`]).

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

/// How the connector authenticates.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A bare access token (the CLI's `--token` mode, scripts, tests). Never refreshed;
    /// its scopes are unknown.
    Static(SecretString),
    /// Tokens from the OAuth flow; refreshed before they expire.
    OAuth(TokenSet),
}

/// OAuth tokens as the engine stores them (encrypted). `Debug` redacts the tokens.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenSet {
    #[serde(serialize_with = "expose")]
    pub access_token: SecretString,
    #[serde(default, serialize_with = "expose_opt")]
    pub refresh_token: Option<SecretString>,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub refresh_expires_at: Option<Timestamp>,
    /// Granted scopes when the server said; `None` when unknown.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// When these tokens were received; lets the refresh margin scale with the
    /// token's lifetime.
    #[serde(default)]
    pub obtained_at: Option<Timestamp>,
}

fn expose<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

fn expose_opt<S: Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => s.serialize_some(secret.expose_secret()),
        None => s.serialize_none(),
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("scopes", &self.scopes)
            .field("obtained_at", &self.obtained_at)
            .finish()
    }
}

impl TokenSet {
    /// An access token alone, e.g. minted by a sandbox.
    pub fn access_only(access_token: impl Into<String>) -> Self {
        Self {
            access_token: SecretString::from(access_token.into()),
            refresh_token: None,
            expires_at: None,
            refresh_expires_at: None,
            scopes: None,
            obtained_at: None,
        }
    }

    /// Whether `scope` was granted, counting the hierarchy (`member.detail:read`
    /// includes `member.basic:read`, …). `None` when the scopes are unknown.
    pub fn has_scope(&self, scope: &str) -> Option<bool> {
        self.scopes
            .as_deref()
            .map(|granted| scope_granted(granted, scope))
    }
}

/// Scopes that include another scope (API.md §2.2).
const SCOPE_PARENTS: &[(&str, &str)] = &[
    ("member.basic:read", "member.detail:read"),
    ("company.basic:read", "company.detail:read"),
    ("deductions:read", "deductions:write"),
];

/// Whether `scope` is among `granted`, directly or through a parent scope.
pub fn scope_granted(granted: &[String], scope: &str) -> bool {
    granted.iter().any(|g| {
        g == scope
            || SCOPE_PARENTS
                .iter()
                .any(|(child, parent)| *child == scope && g == parent)
    })
}

/// Why a token store failed.
#[derive(Debug, thiserror::Error)]
#[error("token store: {0}")]
pub struct TokenStoreError(pub String);

/// Where refreshed tokens are kept. The engine implements it over its encrypted
/// store; [`MemoryTokenStore`] is for tests and scripts.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError>;
    async fn save(&self, tokens: &TokenSet) -> Result<(), TokenStoreError>;
}

/// A [`TokenStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<TokenSet>>,
    saves: AtomicUsize,
}

impl MemoryTokenStore {
    pub fn new(tokens: Option<TokenSet>) -> Self {
        Self {
            tokens: Mutex::new(tokens),
            saves: AtomicUsize::new(0),
        }
    }

    /// How many times `save` was called.
    pub fn saves(&self) -> usize {
        self.saves.load(Ordering::Relaxed)
    }

    /// The tokens held now.
    pub fn current(&self) -> Option<TokenSet> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError> {
        Ok(self.current())
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        *self.tokens.lock().unwrap_or_else(|e| e.into_inner()) = Some(tokens.clone());
        self.saves.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
