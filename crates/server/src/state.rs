//! What every handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use roster_engine::{Cipher, Clock, Engine};
use roster_store::access::ApiToken;
use roster_store::{AccountId, Store};

use crate::config::ServerConfig;

/// The server's shared state: one store for every account, the clock, the
/// credentials cipher and the configuration.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub cipher: Cipher,
    pub config: Arc<ServerConfig>,
    /// Renders `/metrics`; `None` serves an empty page (tests that do not install the
    /// global recorder).
    pub metrics: Option<PrometheusHandle>,
    /// Decoded review plans (see [`crate::api::syncs::ReviewCache`]).
    pub reviews: Arc<crate::api::syncs::ReviewCache>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        config: ServerConfig,
    ) -> Self {
        Self {
            store,
            clock,
            cipher,
            config: Arc::new(config),
            metrics: None,
            reviews: Arc::default(),
        }
    }

    /// With a Prometheus recorder (see [`crate::metrics::install`]).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// The engine of one account.
    pub fn engine(&self, account: AccountId) -> Arc<Engine> {
        Arc::new(Engine::for_account(
            self.store.clone(),
            self.clock.clone(),
            self.cipher.clone(),
            account,
        ))
    }

    /// Record a token's use, at most once a minute per token (best effort).
    pub async fn touch_token(&self, token: &ApiToken) {
        let now = jiff::Timestamp::now();
        let stale = token
            .last_used_at
            .is_none_or(|t| now.duration_since(t) > jiff::SignedDuration::from_secs(60));
        if stale
            && let Err(e) = self
                .store
                .touch_api_token(token.account_id, token.id, now)
                .await
        {
            tracing::warn!(token = token.id, error = %e, "could not record the token's use");
        }
    }
}
