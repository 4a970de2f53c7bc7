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
    /// Sign-in attempts per email (see [`LoginLimiter`]).
    pub logins: Arc<LoginLimiter>,
    /// HTTP clients the Justworks sources of manual syncs share (one TLS setup and
    /// connection pool for the server, not one per request).
    pub http: Arc<roster_justworks::HttpClients>,
    /// Which addresses Justworks sources may reach (see
    /// [`crate::wiring::source_policy`]); private ones allowed by default.
    pub source_policy: roster_justworks::UrlPolicy,
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
            logins: Arc::new(LoginLimiter::new(config.login_attempts_per_minute)),
            http: Arc::default(),
            config: Arc::new(config),
            metrics: None,
            reviews: Arc::default(),
            source_policy: roster_justworks::UrlPolicy::default(),
        }
    }

    /// Sources reach only what `policy` allows.
    pub fn with_source_policy(mut self, policy: roster_justworks::UrlPolicy) -> Self {
        self.source_policy = policy;
        self
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

/// Slows password guessing: each email gets `per_minute` sign-in attempts at once,
/// then one more every `60 / per_minute` seconds, whoever sends them. Keyed by the
/// email rather than the client address, so a proxy in front does not pool everyone
/// into one bucket; an attacker can lock one email out of the form for a minute at
/// most, never guess at speed.
pub struct LoginLimiter {
    limiter: governor::DefaultKeyedRateLimiter<String>,
}

/// Emails tracked before the ones idle long enough are forgotten.
const LOGIN_KEYS_KEPT: usize = 10_000;

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        let n = std::num::NonZeroU32::new(per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(n)),
        }
    }

    /// Take one attempt for `email`; `Err(seconds)` says how long until the next.
    pub fn attempt(&self, email: &str) -> Result<(), u64> {
        use governor::clock::{Clock as _, DefaultClock};
        let key: String = email.trim().to_lowercase().chars().take(320).collect();
        if self.limiter.len() > LOGIN_KEYS_KEPT {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}
