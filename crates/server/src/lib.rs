#![forbid(unsafe_code)]
//! `roster serve`: the REST API under `/api/v1` (documented by the OpenAPI document at
//! `/api/v1/openapi.json`), access control, `/healthz`, `/readyz` and `/metrics`.
//!
//! Every operation goes through `roster_engine::Engine`, as the CLI's do; the server
//! adds no sync logic. [`router`] builds the application (for tests, with `oneshot`
//! or on port 0) apart from [`serve`], which binds and runs it until shutdown.

pub mod api;
pub mod auth;
pub mod config;
pub mod dto;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod reviews;
pub mod scim;
pub mod state;
mod ui;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

pub use api::openapi_json;
pub use config::{DEFAULT_CONFIG, ServerConfig};
pub use error::ApiError;
pub use state::AppState;

/// The whole application.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let (api, _doc) = api::routes().split_for_parts();
    let spec = openapi_json();
    api.route(
        "/api/v1/openapi.json",
        get(move || {
            let spec = spec.clone();
            async move { ([(CONTENT_TYPE, "application/json")], spec) }
        }),
    )
    .route("/static/roster.css", get(stylesheet))
    .merge(ui::routes())
    .nest("/scim/v2", scim::routes())
    .fallback(|| async {
        ApiError::NotFound("no such endpoint; see /api/v1/openapi.json".into()).into_response()
    })
    .with_state(state)
    .layer(DefaultBodyLimit::max(limit))
    .layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        timeout,
    ))
    .layer(axum::middleware::from_fn(metrics::track))
    .layer(axum::middleware::from_fn(security_headers))
}

/// The web UI's one stylesheet (no inline styles: see [`CONTENT_SECURITY_POLICY`]).
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            // Holds no personal data: browsers may keep it a while.
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/roster.css"),
    )
}

/// Everything the UI loads comes from the server itself: no inline script or style
/// (the templates have none), no plugins, no framing by any site.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// Security headers on every response (pages, API JSON, downloads, errors): the CSP,
/// `nosniff`, no framing, no referrer to other sites, and `Cache-Control: no-store`
/// unless a handler chose otherwise (directory pages, JSON and CSV carry personal data:
/// no browser or proxy cache may keep them).
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::HeaderValue;
    use axum::http::header;
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::CACHE_CONTROL, "no-store");
    response
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Serve `state` on `listener` until `shutdown` completes, then finish the requests
/// in flight.
///
/// Connections are HTTP/1.1 (hyper): a request's header must arrive within
/// `header_read_timeout_secs` of the server starting to wait for it (a half-sent
/// header, or a kept-alive connection left idle, is closed then), and at most
/// `max_connections` are served at once (the listener is not polled while all are
/// taken; the kernel's queue holds the rest).
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use hyper_util::rt::{TokioIo, TokioTimer};

    // The hash unknown emails are checked against, made before the first sign-in so
    // that the first unknown email takes no longer than a known one.
    tokio::task::spawn_blocking(|| {
        let _ = api::access::dummy_hash();
    });
    let header_timeout = Duration::from_secs(state.config.header_read_timeout_secs.max(1));
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(
        usize::try_from(state.config.max_connections.max(1)).unwrap_or(usize::MAX),
    ));
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Bind `state.config.listen` and serve until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState) -> Result<(), ServeError> {
    let addr = state.config.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %local, "roster serve listening");
    serve_on(listener, state, shutdown_signal()).await
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
