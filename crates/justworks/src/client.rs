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
    let builder = reqwest::Client::builder()
        .user_agent(concat!("roster-justworks/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        .timeout(config.request_timeout)
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .dns_resolver(crate::address::resolver(config.url_policy))
        .redirect(crate::address::redirect_policy(config.url_policy));
    #[cfg(target_os = "linux")]
    let builder = match system_roots() {
        // What the platform verifier does on Linux (WebPKI over the system's roots),
        // with the roots read once per process, perhaps already by [`preload_roots`].
        Some(roots) => builder.tls_certs_only(roots.iter().cloned()),
        None => builder,
    };
    builder.build()
}

/// The system's root certificates as reqwest takes them, read once per process;
/// `None` when none could be read (the platform verifier then reports it when a
/// client is built, as before).
#[cfg(target_os = "linux")]
fn system_roots() -> Option<&'static [reqwest::Certificate]> {
    static ROOTS: std::sync::OnceLock<Vec<reqwest::Certificate>> = std::sync::OnceLock::new();
    let roots = ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        if !found.errors.is_empty() {
            tracing::debug!(
                errors = found.errors.len(),
                "reading the system's root certificates"
            );
        }
        // Those rustls can take as roots (the platform verifier skips the others the
        // same way; reqwest would refuse to build a client over one of them).
        found
            .certs
            .iter()
            .filter(|der| webpki::anchor_from_trusted_cert(der).is_ok())
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .collect()
    });
    (!roots.is_empty()).then_some(roots.as_slice())
}

/// Starts reading the system's root certificates on a thread of its own, for a
/// command about to reach Justworks: a client built later takes them instead of
/// reading them itself (≈ 5 ms on this project's Debian machine: the bundle, then
/// the directory of the same ≈ 145 roots file by file; issue #15: a sync's fixed
/// costs).
pub fn preload_roots() {
    #[cfg(target_os = "linux")]
    std::thread::spawn(|| {
        let _ = system_roots();
    });
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
    let detail = causes(err);
    tracing::debug!(error = %detail, "justworks: request failed");
    kind.to_owned()
}

/// The causes under `err`, each after ": ".
fn causes(err: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)] // a test panics on what must not fail

    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::{self, ServerConfig};

    use super::*;

    /// A certificate for 127.0.0.1 from a test authority no system trusts (made with
    /// `openssl`, for tests only; the authority's key was not kept).
    const CERT: &str = include_str!("../tests/fixtures/untrusted_server.crt");
    const CA: &str = include_str!("../tests/fixtures/test_ca.crt");
    const KEY: &str = include_str!("../tests/fixtures/untrusted_server_key.pem");

    /// An HTTPS server on a loopback port answering every request with `ok`.
    async fn https_server() -> url::Url {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let cert = CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        url::Url::parse(&format!("https://{addr}/")).unwrap()
    }

    fn chain(e: &reqwest::Error) -> String {
        format!("{e}{}", causes(e))
    }

    #[test]
    fn the_system_roots_are_read_once_and_all_usable() {
        preload_roots();
        let roots = system_roots().expect("the test machine has root certificates");
        let again = system_roots().unwrap();
        assert!(std::ptr::eq(roots, again), "read once per process");
        let usable = rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .filter(|der| webpki::anchor_from_trusted_cert(der).is_ok())
            .count();
        assert_eq!(roots.len(), usable);
    }

    #[tokio::test]
    async fn a_server_no_system_root_vouches_for_is_refused() {
        let url = https_server().await;
        let config = JustworksConfig::with_base_url(url.clone());
        let refused = build_client(&config).unwrap().get(url.clone()).send().await;
        let e = refused.expect_err("an unknown issuer is not trusted");
        assert!(
            chain(&e).to_lowercase().contains("certificate"),
            "refused for its certificate: {}",
            chain(&e)
        );
        // The same server, trusted: it answers (so the refusal above was the trust's).
        let trusting = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(CA.as_bytes()).unwrap()])
            .build()
            .unwrap();
        let body = trusting
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "ok");
    }
}
