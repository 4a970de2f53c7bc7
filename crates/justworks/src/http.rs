//! The HTTP layer: one keep-alive client, bearer auth with refresh, a client-side
//! rate limit, and retries with backoff that obey `Retry-After`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use roster_source::SourceError;
use secrecy::ExposeSecret;
use url::Url;

use crate::auth::{AuthError, Credentials, OAuthClient, TokenSet, TokenStore};
use crate::client::describe_reqwest;
use crate::config::JustworksConfig;

/// A `Retry-After` longer than this is not waited out: the request fails.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10 * 60);

/// Parse a `Retry-After` value: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = when.duration_since(now);
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

/// Requests and bytes of one fetch.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

impl Counters {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The answer to a GET that callers handle themselves.
pub(crate) enum Got<T> {
    Ok(T),
    NotFound,
    Forbidden,
}

/// The access token in use.
#[derive(Clone)]
struct Current {
    header: HeaderValue,
    generation: u64,
    /// Refresh proactively from this instant on (OAuth with a known expiry).
    refresh_at: Option<Timestamp>,
    tokens: Option<TokenSet>,
}

/// Bearer credentials, refreshed when due or after a 401.
pub(crate) struct Auth {
    oauth: Option<OAuthClient>,
    store: Option<Arc<dyn TokenStore>>,
    current: RwLock<Current>,
    refresh_lock: tokio::sync::Mutex<()>,
    margin: Duration,
    save_failed: AtomicBool,
}

fn bearer(token: &str) -> Result<HeaderValue, SourceError> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
        SourceError::Unauthorized("the access token is not valid header text".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl Auth {
    pub fn new(
        credentials: Credentials,
        oauth: Option<OAuthClient>,
        store: Option<Arc<dyn TokenStore>>,
        margin: Duration,
    ) -> Result<Self, SourceError> {
        let current = match credentials {
            Credentials::Static(token) => Current {
                header: bearer(token.expose_secret())?,
                generation: 0,
                refresh_at: None,
                tokens: None,
            },
            Credentials::OAuth(tokens) => Current {
                header: bearer(tokens.access_token.expose_secret())?,
                generation: 0,
                refresh_at: refresh_at(&tokens, margin),
                tokens: Some(tokens),
            },
        };
        Ok(Self {
            oauth,
            store,
            current: RwLock::new(current),
            refresh_lock: tokio::sync::Mutex::new(()),
            margin,
            save_failed: AtomicBool::new(false),
        })
    }

    fn snapshot(&self) -> Current {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The tokens in use (OAuth mode).
    pub fn tokens(&self) -> Option<TokenSet> {
        self.snapshot().tokens
    }

    /// Whether saving a refreshed token failed (the engine must hear of it).
    pub fn save_failed(&self) -> bool {
        self.save_failed.load(Ordering::Relaxed)
    }

    /// The header for the next request and its generation, refreshing first when
    /// the token is about to expire.
    async fn header(&self) -> (HeaderValue, u64) {
        let (header, generation, refresh_at) = {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            (
                current.header.clone(),
                current.generation,
                current.refresh_at,
            )
        };
        match refresh_at {
            Some(at) if Timestamp::now() >= at => {
                if let Err(err) = self.refresh(generation).await {
                    // Keep using the current token until the server says no.
                    tracing::warn!(error = %err, "justworks: proactive token refresh failed");
                    let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
                    if current.generation == generation {
                        current.refresh_at = None;
                    }
                }
                let current = self.snapshot();
                (current.header, current.generation)
            }
            _ => (header, generation),
        }
    }

    fn can_refresh(&self) -> bool {
        self.oauth.is_some()
            && self
                .snapshot()
                .tokens
                .is_some_and(|t| t.refresh_token.is_some())
    }

    /// Refresh unless another task already replaced token `generation`.
    async fn refresh(&self, generation: u64) -> Result<(), AuthError> {
        let _guard = self.refresh_lock.lock().await;
        let current = self.snapshot();
        if current.generation != generation {
            return Ok(());
        }
        let (Some(oauth), Some(tokens)) = (&self.oauth, &current.tokens) else {
            return Err(AuthError::NoRefreshToken);
        };
        let new = oauth.refresh(tokens).await?;
        if let Some(store) = &self.store
            && let Err(err) = store.save(&new).await
        {
            tracing::error!(error = %err, "justworks: could not save refreshed tokens");
            self.save_failed.store(true, Ordering::Relaxed);
        }
        let header = bearer(new.access_token.expose_secret())
            .map_err(|_| AuthError::Malformed("access token is not valid header text".into()))?;
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        *current = Current {
            header,
            generation: generation + 1,
            refresh_at: refresh_at(&new, self.margin),
            tokens: Some(new),
        };
        Ok(())
    }
}

/// When to refresh: `margin` before expiry, at most half the token's known lifetime.
fn refresh_at(tokens: &TokenSet, margin: Duration) -> Option<Timestamp> {
    let expires_at = tokens.expires_at?;
    tokens.refresh_token.as_ref()?;
    let mut margin = SignedDuration::try_from(margin).unwrap_or(SignedDuration::MAX);
    if let Some(obtained) = tokens.obtained_at {
        let lifetime = expires_at.duration_since(obtained);
        if lifetime.is_positive() {
            margin = margin.min(lifetime / 2);
        }
    }
    expires_at.checked_sub(margin).ok()
}

/// What failed on the last attempt, for the final error.
enum Failure {
    Status(u16),
    Transport(String),
    Malformed(String),
}

/// The API client of one connection.
pub(crate) struct Api {
    client: reqwest::Client,
    limiter: Option<DefaultDirectRateLimiter>,
    pub auth: Auth,
    errors_backoff: ExponentialBuilder,
    limited_backoff: ExponentialBuilder,
}

impl Api {
    pub fn new(config: &JustworksConfig, client: reqwest::Client, auth: Auth) -> Self {
        let limiter = config
            .requests_per_second
            .and_then(NonZeroU32::new)
            .map(|rps| RateLimiter::direct(client_quota(rps)));
        let base = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(config.retry_base_delay)
            .with_max_delay(config.retry_max_delay.max(config.retry_base_delay));
        let retries = usize::try_from(config.max_retries).unwrap_or(usize::MAX);
        Self {
            client,
            limiter,
            auth,
            errors_backoff: base.with_max_times(retries),
            limited_backoff: base.with_max_times(retries.saturating_mul(4)),
        }
    }

    /// GET `url`, retrying what can be retried, and parse a 2xx body with `parse`
    /// (a body `parse` rejects is retried like a 5xx). 401 refreshes once (OAuth)
    /// and then fails; 403 and 404 are handed back.
    pub async fn get<T>(
        &self,
        url: &Url,
        what: &str,
        counters: &Counters,
        parse: impl Fn(Bytes) -> Result<T, String>,
    ) -> Result<Got<T>, SourceError> {
        let mut errors = self.errors_backoff.build();
        let mut limited = self.limited_backoff.build();
        let mut attempts: u32 = 0;
        let mut refreshed = false;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            let (header, generation) = self.auth.header().await;
            attempts += 1;
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .client
                .get(url.clone())
                .header(AUTHORIZATION, header)
                .send()
                .await;
            let (failure, delay) = match sent {
                Err(err) => {
                    if let Some(refused) = crate::address::refusal_in(&err) {
                        return Err(SourceError::AddressRefused(refused.0));
                    }
                    (Failure::Transport(describe_reqwest(&err)), errors.next())
                }
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response.headers().get(RETRY_AFTER).cloned();
                    let body = response.bytes().await;
                    if let Ok(body) = &body {
                        counters
                            .bytes
                            .fetch_add(body.len() as u64, Ordering::Relaxed);
                    }
                    match status {
                        s if s.is_success() => match body {
                            Err(err) => (Failure::Transport(describe_reqwest(&err)), errors.next()),
                            Ok(body) => match parse(body) {
                                Ok(value) => return Ok(Got::Ok(value)),
                                Err(message) => (Failure::Malformed(message), errors.next()),
                            },
                        },
                        StatusCode::UNAUTHORIZED => {
                            if refreshed || !self.auth.can_refresh() {
                                return Err(SourceError::Unauthorized(format!(
                                    "{what}: the access token was rejected (401)"
                                )));
                            }
                            refreshed = true;
                            tracing::info!(what, "justworks: 401, refreshing the access token");
                            if let Err(err) = self.auth.refresh(generation).await {
                                return Err(SourceError::Unauthorized(format!(
                                    "{what}: the access token was rejected and could not be refreshed: {err}"
                                )));
                            }
                            attempts -= 1;
                            continue;
                        }
                        StatusCode::FORBIDDEN => return Ok(Got::Forbidden),
                        StatusCode::NOT_FOUND => return Ok(Got::NotFound),
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                            let budget = if status == StatusCode::TOO_MANY_REQUESTS {
                                &mut limited
                            } else {
                                &mut errors
                            };
                            let next = budget.next();
                            let server = retry_after
                                .as_ref()
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| parse_retry_after(v, Timestamp::now()));
                            let delay = match (next, server) {
                                (None, _) => None,
                                (Some(_), Some(wait)) if wait > MAX_RETRY_AFTER => None,
                                (Some(_), Some(wait)) => Some(wait),
                                (Some(backoff), None) => Some(backoff),
                            };
                            (Failure::Status(status.as_u16()), delay)
                        }
                        s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
                            (Failure::Status(s.as_u16()), errors.next())
                        }
                        s => {
                            return Err(SourceError::Status {
                                status: s.as_u16(),
                                what: what.to_owned(),
                                attempts,
                            });
                        }
                    }
                }
            };
            let Some(delay) = delay else {
                tracing::warn!(what, attempts, "justworks: giving up after retries");
                return Err(match failure {
                    Failure::Status(status) => SourceError::Status {
                        status,
                        what: what.to_owned(),
                        attempts,
                    },
                    Failure::Transport(message) => SourceError::Transport {
                        what: what.to_owned(),
                        message: format!("{message} (after {attempts} attempt(s))"),
                    },
                    Failure::Malformed(message) => SourceError::Malformed {
                        what: what.to_owned(),
                        message: format!("{message} (after {attempts} attempt(s))"),
                    },
                });
            };
            match &failure {
                Failure::Status(status) => {
                    tracing::debug!(
                        what,
                        status,
                        attempts,
                        delay_ms = delay.as_millis() as u64,
                        "justworks: retrying"
                    );
                }
                Failure::Transport(message) | Failure::Malformed(message) => {
                    tracing::debug!(what, error = %message, attempts, delay_ms = delay.as_millis() as u64, "justworks: retrying");
                }
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// Spacing added to the client-side interval, as a fraction of it. A server counting
/// requests in fixed one-second windows then sees at most R requests per window even
/// when arrival times jitter by up to 30 ms; the fetch is 3 % slower than R req/s.
const RATE_MARGIN: f64 = 0.03;

/// The client-side quota for `rps` requests per second: evenly spaced requests with
/// no burst (a burst would trip a server limiting the same rate), slightly under `rps`.
fn client_quota(rps: NonZeroU32) -> Quota {
    let period = Duration::from_secs_f64((1.0 + RATE_MARGIN) / f64::from(rps.get()));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(rps))
        .allow_burst(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now: Timestamp = "2024-05-01T09:30:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Wed, 01 May 2024 09:30:12 GMT", now),
            Some(Duration::from_secs(12))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Wed, 01 May 2024 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn refresh_margin_is_capped_by_lifetime() {
        let obtained: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let mut tokens = TokenSet::access_only("a");
        tokens.refresh_token = Some("r".to_owned().into());
        tokens.obtained_at = Some(obtained);
        tokens.expires_at = Some(obtained + SignedDuration::from_secs(4));
        let at = refresh_at(&tokens, Duration::from_secs(300)).unwrap();
        assert_eq!(at, obtained + SignedDuration::from_secs(2));

        tokens.expires_at = Some(obtained + SignedDuration::from_hours(24));
        let at = refresh_at(&tokens, Duration::from_secs(300)).unwrap();
        assert_eq!(
            at,
            obtained + SignedDuration::from_hours(24) - SignedDuration::from_secs(300)
        );

        tokens.refresh_token = None;
        assert!(refresh_at(&tokens, Duration::from_secs(300)).is_none());
    }
}
