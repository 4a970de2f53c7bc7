//! The transport: the reqwest client a connection's requests share (address policy
//! on every resolution and redirect), clients shared across sources, and reqwest
//! errors described without what they must not reveal.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};

use crate::config::JustworksConfig;

/// The reqwest client every request of a connection shares.
pub(crate) fn build_client(config: &JustworksConfig) -> reqwest::Result<reqwest::Client> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    reqwest::Client::builder()
        .user_agent(concat!("roster-justworks/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        .timeout(config.request_timeout)
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .dns_resolver(crate::address::resolver(config.url_policy))
        .redirect(crate::address::redirect_policy(config.url_policy))
        .build()
}

/// HTTP clients shared by many sources (a worker's syncs): one connection pool and
/// one TLS setup (reading the system's root certificates takes milliseconds) instead
/// of one per sync. One client per distinct timeout pair. Keep it within one Tokio
/// runtime: a client's pooled connections belong to the runtime that opened them.
#[derive(Default)]
pub struct HttpClients {
    clients: std::sync::Mutex<
        std::collections::HashMap<(Duration, Duration, crate::address::UrlPolicy), reqwest::Client>,
    >,
}

impl HttpClients {
    /// The shared client for `config`'s timeouts, built on first use.
    pub fn client_for(&self, config: &JustworksConfig) -> reqwest::Result<reqwest::Client> {
        let key = (
            config.request_timeout,
            config.connect_timeout,
            config.url_policy,
        );
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let c = build_client(config)?;
        clients.insert(key, c.clone());
        Ok(c)
    }

    /// How many distinct clients were built.
    pub fn len(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A reqwest error in one line, without the URL (which may carry a cursor) and
/// without the socket's detail: "connection refused" against "timed out" against
/// "answered" would map the ports of whatever host a base URL names (#11.9). The
/// detail goes to the debug log.
pub(crate) fn describe_reqwest(err: &reqwest::Error) -> String {
    let kind = if err.is_connect() {
        "the connection failed"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_body() || err.is_decode() {
        "reading the body failed"
    } else {
        "the request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::debug!(error = %detail, "justworks: request failed");
    kind.to_owned()
}
