//! Building a Justworks `Source` for an integration: its stored (non-secret) config
//! plus its encrypted credentials, with refreshed tokens written back encrypted.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use async_trait::async_trait;
use roster_engine::Engine;
use roster_justworks::auth::{Credentials, TokenSet, TokenStore, TokenStoreError};
use roster_justworks::{JustworksConfig, JustworksSource};
use roster_store::{Integration, IntegrationId};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

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
    /// `static` (a token given on the command line) or `oauth`.
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
    pub fn to_config(&self, secrets: &StoredSecrets) -> Result<JustworksConfig> {
        let base = Url::parse(&self.base_url).context("while reading the stored base URL")?;
        let mut c = JustworksConfig::with_base_url(base);
        if let Some(a) = &self.authorize_url {
            c.authorize_url = Url::parse(a).context("while reading the stored authorize URL")?;
        }
        if let Some(t) = &self.token_url {
            c.token_url = Some(Url::parse(t).context("while reading the stored token URL")?);
        }
        c.client_id = self.client_id.clone();
        c.client_secret = SecretString::from(secrets.client_secret.clone().unwrap_or_default());
        c.redirect_uri = self
            .redirect_uri
            .as_deref()
            .map(Url::parse)
            .transpose()
            .context("redirect URI")?;
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

pub fn secrets(engine: &Engine, i: &Integration) -> Result<StoredSecrets> {
    let bytes = engine
        .credentials(i)?
        .ok_or_else(|| anyhow!("integration {} has no credentials: connect again", i.id))?;
    serde_json::from_slice(&bytes).context("while reading the stored credentials")
}

pub fn stored_config(i: &Integration) -> Result<StoredConfig> {
    serde_json::from_value(i.config.clone())
        .context("while reading the integration's stored configuration")
}

/// The Justworks source of an integration.
pub fn source(engine: &Arc<Engine>, i: &Integration) -> Result<JustworksSource> {
    if i.kind != "justworks" {
        return Err(anyhow!(
            "integration {} is a {} integration, not justworks",
            i.id,
            i.kind
        ));
    }
    let cfg = stored_config(i)?;
    let secrets = secrets(engine, i)?;
    let config = cfg.to_config(&secrets)?;
    let source = match (secrets.static_token.clone(), secrets.tokens.clone()) {
        (Some(t), _) => JustworksSource::new(config, Credentials::Static(SecretString::from(t)))?,
        (None, Some(tokens)) => {
            let store = Arc::new(EngineTokenStore {
                engine: engine.clone(),
                integration: i.id,
                client_secret: secrets.client_secret.clone(),
            });
            JustworksSource::with_token_store(config, Credentials::OAuth(tokens), store)?
        }
        (None, None) => return Err(anyhow!("integration {} has no token: connect again", i.id)),
    };
    Ok(source)
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
