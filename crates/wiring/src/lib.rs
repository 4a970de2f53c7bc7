#![forbid(unsafe_code)]
//! Wiring shared by `roster` (CLI), `roster serve` and `roster worker`:
//! - a Justworks `Source` for an integration, from its stored (non-secret) config
//!   plus its encrypted credentials, with refreshed tokens written back encrypted
//!   ([`source`], and [`JustworksSources`] for the worker);
//! - the notifiers a worker delivers with ([`notifiers`]);
//! - which addresses sources may reach ([`source_policy`]: a shared deployment
//!   refuses loopback and private ones unless its operator allows them);
//! - users file intake ([`users_file`]: read a file with an integration's settings,
//!   record it when it fails as a whole, build the engine's `FileImport`).
//!
//! The stored shapes ([`StoredConfig`], [`StoredSecrets`]) are written when an
//! integration is connected, from the CLI or the API alike.

pub mod users_file;

use std::sync::Arc;

use async_trait::async_trait;
use roster_engine::Engine;
use roster_justworks::auth::{Credentials, TokenSet, TokenStore, TokenStoreError};
use roster_justworks::{HttpClients, JustworksConfig, JustworksSource, UrlPolicy};
use roster_store::{Integration, IntegrationId, IntegrationKind, Store, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

pub use users_file::{IntakeError, ReadRequest, UsersFile, read_users_file};

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("integration {0} is a {1} integration, not justworks")]
    NotJustworks(IntegrationId, IntegrationKind),
    #[error("integration {0} has no credentials: connect again")]
    NoCredentials(IntegrationId),
    #[error("the stored {0} is not valid")]
    Stored(&'static str),
    #[error(transparent)]
    Engine(#[from] roster_engine::EngineError),
    #[error("the Justworks connector: {0}")]
    Connector(String),
    /// The integration's URL reaches an address this deployment does not connect to.
    #[error("the source address is not allowed: {0}")]
    AddressRefused(String),
    #[error("notifications: {0}")]
    Email(String),
}

/// Non-secret connection settings, stored in the integration's config.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredConfig {
    pub base_url: String,
    #[serde(default)]
    pub authorize_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub requests_per_second: Option<u32>,
    /// `static` (a token given as is) or `oauth`.
    pub mode: String,
}

/// What is encrypted at rest.
#[derive(Serialize, Deserialize)]
pub struct StoredSecrets {
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub static_token: Option<String>,
    #[serde(default)]
    pub tokens: Option<TokenSet>,
}

impl StoredConfig {
    pub fn to_config(
        &self,
        client_secret: Option<&str>,
        policy: UrlPolicy,
    ) -> Result<JustworksConfig, WiringError> {
        let base = Url::parse(&self.base_url).map_err(|_| WiringError::Stored("base URL"))?;
        let mut c = JustworksConfig::with_base_url(base);
        c.url_policy = policy;
        if let Some(a) = &self.authorize_url {
            c.authorize_url = Url::parse(a).map_err(|_| WiringError::Stored("authorize URL"))?;
        }
        if let Some(t) = &self.token_url {
            c.token_url = Some(Url::parse(t).map_err(|_| WiringError::Stored("token URL"))?);
        }
        c.client_id = self.client_id.clone();
        c.client_secret = SecretString::from(client_secret.unwrap_or_default().to_string());
        c.redirect_uri = self
            .redirect_uri
            .as_deref()
            .map(Url::parse)
            .transpose()
            .map_err(|_| WiringError::Stored("redirect URI"))?;
        if !self.scopes.is_empty() {
            c.scopes = self.scopes.clone();
        }
        c.requests_per_second = self.requests_per_second;
        Ok(c)
    }
}

/// Saves refreshed tokens back into the integration, encrypted.
struct EngineTokenStore {
    engine: Arc<Engine>,
    integration: IntegrationId,
    client_secret: Option<String>,
}

#[async_trait]
impl TokenStore for EngineTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError> {
        let i = self
            .engine
            .integration(Some(self.integration))
            .await
            .map_err(|e| TokenStoreError(e.to_string()))?;
        let secrets = secrets(&self.engine, &i).map_err(|e| TokenStoreError(e.to_string()))?;
        Ok(secrets.tokens)
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        let s = StoredSecrets {
            client_secret: self.client_secret.clone(),
            static_token: None,
            tokens: Some(tokens.clone()),
        };
        let bytes = serde_json::to_vec(&s).map_err(|e| TokenStoreError(e.to_string()))?;
        self.engine
            .save_credentials(self.integration, &bytes)
            .await
            .map_err(|e| TokenStoreError(e.to_string()))
    }
}

pub fn secrets(engine: &Engine, i: &Integration) -> Result<StoredSecrets, WiringError> {
    let bytes = engine
        .credentials(i)?
        .ok_or(WiringError::NoCredentials(i.id))?;
    serde_json::from_slice(&bytes).map_err(|_| WiringError::Stored("credentials"))
}

pub fn stored_config(i: &Integration) -> Result<StoredConfig, WiringError> {
    serde_json::from_value(i.config.clone()).map_err(|_| WiringError::Stored("configuration"))
}

/// Which addresses sources may reach in this deployment: loopback and private ones
/// only on an unshared one (SQLite with a single account: the embedded directory,
/// the demo, a local sandbox), or when the operator allows them
/// (`allow_private_source_urls`). Link-local, multicast and unspecified addresses
/// are refused whatever this says.
pub async fn source_policy(
    store: &dyn Store,
    postgres: bool,
    allow_private: bool,
) -> Result<UrlPolicy, StoreError> {
    if allow_private {
        return Ok(UrlPolicy::default());
    }
    let shared = postgres || store.accounts().await?.len() > 1;
    Ok(if shared {
        UrlPolicy::public_only()
    } else {
        UrlPolicy::default()
    })
}

/// The Justworks source of an integration.
pub fn source(
    engine: &Arc<Engine>,
    i: &Integration,
    policy: UrlPolicy,
) -> Result<JustworksSource, WiringError> {
    source_on(engine, i, None, policy)
}

/// The Justworks source of an integration, on `http`'s shared clients when given.
pub fn source_on(
    engine: &Arc<Engine>,
    i: &Integration,
    http: Option<&HttpClients>,
    policy: UrlPolicy,
) -> Result<JustworksSource, WiringError> {
    if i.kind != IntegrationKind::Justworks {
        return Err(WiringError::NotJustworks(i.id, i.kind));
    }
    let cfg = stored_config(i)?;
    let secrets = secrets(engine, i)?;
    let config = cfg.to_config(secrets.client_secret.as_deref(), policy)?;
    let connector = |e: roster_source::SourceError| match e {
        roster_source::SourceError::AddressRefused(m) => WiringError::AddressRefused(m),
        e => WiringError::Connector(e.to_string()),
    };
    let (credentials, store): (_, Option<Arc<dyn TokenStore>>) =
        match (secrets.static_token.clone(), secrets.tokens.clone()) {
            (Some(t), _) => (Credentials::Static(SecretString::from(t)), None),
            (None, Some(tokens)) => (
                Credentials::OAuth(tokens),
                Some(Arc::new(EngineTokenStore {
                    engine: engine.clone(),
                    integration: i.id,
                    client_secret: secrets.client_secret.clone(),
                })),
            ),
            (None, None) => return Err(WiringError::NoCredentials(i.id)),
        };
    match (http, store) {
        (Some(http), store) => JustworksSource::new_shared(config, credentials, store, http),
        (None, Some(store)) => JustworksSource::with_token_store(config, credentials, store),
        (None, None) => JustworksSource::new(config, credentials),
    }
    .map_err(connector)
}

pub fn static_secrets(token: &SecretString) -> Vec<u8> {
    serde_json::to_vec(&StoredSecrets {
        client_secret: None,
        static_token: Some(token.expose_secret().to_string()),
        tokens: None,
    })
    .unwrap_or_default()
}

pub fn oauth_secrets(client_secret: &SecretString, tokens: &TokenSet) -> Vec<u8> {
    serde_json::to_vec(&StoredSecrets {
        client_secret: Some(client_secret.expose_secret().to_string()),
        static_token: None,
        tokens: Some(tokens.clone()),
    })
    .unwrap_or_default()
}

/// Justworks sources for the worker, built as `roster sync` builds them, sharing
/// HTTP clients across the worker's syncs.
#[derive(Default)]
pub struct JustworksSources {
    http: HttpClients,
    policy: UrlPolicy,
}

impl JustworksSources {
    /// Sources that reach only the addresses `policy` allows.
    pub fn new(policy: UrlPolicy) -> Self {
        Self {
            http: HttpClients::default(),
            policy,
        }
    }

    /// The shared clients (how many were built).
    pub fn http(&self) -> &HttpClients {
        &self.http
    }
}

#[async_trait]
impl roster_engine::worker::SourceFactory for JustworksSources {
    async fn source(
        &self,
        engine: &Arc<Engine>,
        integration: &Integration,
    ) -> Result<Box<dyn roster_source::Source>, String> {
        source_on(engine, integration, Some(&self.http), self.policy)
            .map(|s| Box::new(s) as Box<dyn roster_source::Source>)
            .map_err(|e| e.to_string())
    }
}

/// Where admin email goes: an SMTP URL (`smtp://host:25`, `smtps://user:pw@host:465`,
/// `?tls=required`), the sender, and the admin UI's base URL for links.
#[derive(Debug, Clone, Default)]
pub struct EmailSettings {
    pub smtp_url: Option<String>,
    pub from: Option<String>,
    pub public_url: Option<String>,
}

/// The notifiers a worker delivers with: signed webhooks always, email when an SMTP
/// server is configured.
pub fn notifiers(email: &EmailSettings) -> Result<roster_notify::Notifiers, WiringError> {
    let smtp = match &email.smtp_url {
        Some(url) => {
            let Some(from) = &email.from else {
                return Err(WiringError::Email(
                    "an SMTP URL needs a sender address (--smtp-from / ROSTER_SMTP_FROM)".into(),
                ));
            };
            Some(
                roster_notify::SmtpSender::new(
                    &SecretString::from(url.clone()),
                    from,
                    email.public_url.as_deref(),
                )
                .map_err(|e| WiringError::Email(e.to_string()))?,
            )
        }
        None => None,
    };
    Ok(roster_notify::Notifiers {
        webhook: roster_notify::WebhookSender::new(std::time::Duration::from_secs(10), 2)
            .map_err(|e| WiringError::Email(e.to_string()))?,
        smtp,
    })
}
