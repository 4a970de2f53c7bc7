//! What every handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use roster_engine::{Cipher, Clock, Engine};
use roster_store::access::ApiToken;
use roster_store::{AccountId, Store};

use crate::config::ServerConfig;
use crate::reviews::Reviews;

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
    /// Reviews kept between requests (see [`crate::reviews::Reviews`]).
    pub reviews: Arc<Reviews>,
    /// Sign-in attempts per email and in all (see [`LoginLimiter`]).
    pub logins: Arc<LoginLimiter>,
    /// Password hashing (argon2, ~19 MiB each) running at once (see [`Hashing`]).
    pub hashing: Arc<Hashing>,
    /// HTTP clients the Justworks sources of manual syncs share (one TLS setup and
    /// connection pool for the server, not one per request).
    pub http: Arc<roster_justworks::HttpClients>,
    /// Which addresses Justworks sources may reach (see
    /// [`roster_wiring::source_policy`]); private ones allowed by default.
    pub source_policy: roster_justworks::UrlPolicy,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        config: ServerConfig,
    ) -> Self {
        let reviews = Arc::new(Reviews::new(store.clone(), clock.clone()));
        Self {
            store,
            clock,
            cipher,
            logins: Arc::new(LoginLimiter::new(
                config.login_attempts_per_minute,
                config.login_attempts_global_per_minute,
            )),
            hashing: Arc::new(Hashing::new(config.password_hashing_concurrency)),
            http: Arc::default(),
            config: Arc::new(config),
            metrics: None,
            reviews,
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
/// most, never guess at speed. On top, all sign-ins together get `global_per_minute`
/// (the same shape): distinct emails cannot bypass the per-email limit to keep the
/// server hashing.
pub struct LoginLimiter {
    limiter: governor::DefaultKeyedRateLimiter<String>,
    global: governor::DefaultDirectRateLimiter,
}

/// Emails tracked before the ones idle long enough are forgotten.
const LOGIN_KEYS_KEPT: usize = 10_000;

fn quota(per_minute: u32) -> governor::Quota {
    let n = std::num::NonZeroU32::new(per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    governor::Quota::per_minute(n)
}

/// Whole seconds until `not_until` (at least 1).
fn wait_secs(not_until: &governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    use governor::clock::{Clock as _, DefaultClock};
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl LoginLimiter {
    pub fn new(per_minute: u32, global_per_minute: u32) -> Self {
        Self {
            limiter: governor::RateLimiter::keyed(quota(per_minute)),
            global: governor::RateLimiter::direct(quota(global_per_minute)),
        }
    }

    /// Take one attempt for `email` (and one of all sign-ins); `Err(seconds)` says
    /// how long until the next.
    pub fn attempt(&self, email: &str) -> Result<(), u64> {
        let key: String = email.trim().to_lowercase().chars().take(320).collect();
        if self.limiter.len() > LOGIN_KEYS_KEPT {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&key).map_err(|n| wait_secs(&n))?;
        self.global.check().map_err(|n| {
            tracing::warn!("sign-in refused: too many sign-ins in all");
            wait_secs(&n)
        })
    }
}

/// Caps password hashing running at once. Each argon2 hash or check takes ~19 MiB
/// and a core for tens of milliseconds; unbounded, a few hundred sign-ins at once took
/// gigabytes. A caller waits at most [`HASH_WAIT`] for its turn, then is told to come
/// back (429 with `Retry-After`).
pub struct Hashing {
    permits: tokio::sync::Semaphore,
    pub concurrency: usize,
}

/// How long a sign-in waits for a free hashing slot.
pub const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Hashing {
    /// `concurrency` slots; 0: one per core.
    pub fn new(concurrency: u32) -> Self {
        let n = match usize::try_from(concurrency).unwrap_or(1) {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };
        Self {
            permits: tokio::sync::Semaphore::new(n),
            concurrency: n,
        }
    }

    /// Run `f` (hashing) on the blocking pool once a slot is free; `None` when none
    /// frees up within [`HASH_WAIT`].
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<Result<T, tokio::task::JoinError>> {
        let permit = tokio::time::timeout(HASH_WAIT, self.permits.acquire())
            .await
            .ok()?
            .ok()?;
        let out = tokio::task::spawn_blocking(f).await;
        drop(permit);
        Some(out)
    }
}
