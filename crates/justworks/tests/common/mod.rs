//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use axum::Router;
use roster_justworks::JustworksConfig;
use tokio::net::TcpListener;
use url::Url;

/// Serve `router` on a loopback port; the server lives as long as the runtime.
pub async fn serve(router: Router) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    Url::parse(&format!("http://{addr}/")).expect("url")
}

/// Connector settings for a local server, with short retry delays.
pub fn config(base: &Url) -> JustworksConfig {
    let mut config = JustworksConfig::with_base_url(base.clone());
    config.retry_base_delay = Duration::from_millis(10);
    config.retry_max_delay = Duration::from_millis(200);
    config.request_timeout = Duration::from_secs(10);
    config
}

/// A sandbox on a loopback port.
pub async fn sandbox(
    members: usize,
    faults: roster_sandbox::Faults,
) -> roster_sandbox::RunningSandbox {
    sandbox_with(roster_sandbox::SandboxConfig {
        members,
        faults,
        ..roster_sandbox::SandboxConfig::default()
    })
    .await
}

pub async fn sandbox_with(config: roster_sandbox::SandboxConfig) -> roster_sandbox::RunningSandbox {
    roster_sandbox::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox starts")
}

pub fn base_url(sandbox: &roster_sandbox::RunningSandbox) -> Url {
    Url::parse(&format!("{}/", sandbox.base_url())).expect("url")
}

/// A connector on a static sandbox token with these scopes.
pub fn static_source(
    sandbox: &roster_sandbox::RunningSandbox,
    scopes: &[&str],
    tweak: impl FnOnce(&mut JustworksConfig),
) -> roster_justworks::JustworksSource {
    let mut config = config(&base_url(sandbox));
    tweak(&mut config);
    let token = sandbox.mint_token(scopes);
    roster_justworks::JustworksSource::new(
        config,
        roster_justworks::Credentials::Static(token.into()),
    )
    .expect("source")
}

/// A fetch that reads custom-field values too.
pub fn with_custom_fields() -> roster_source::FetchRequest {
    roster_source::FetchRequest {
        custom_fields: true,
        ..roster_source::FetchRequest::default()
    }
}

/// An incremental fetch: members changed at or after `since`.
pub fn updated_since(since: jiff::Timestamp) -> roster_source::FetchRequest {
    roster_source::FetchRequest {
        updated_since: Some(since),
        ..roster_source::FetchRequest::default()
    }
}

/// An incremental fetch that resolves managers outside it from `known` first.
pub fn updated_since_knowing(
    since: jiff::Timestamp,
    known: std::sync::Arc<dyn roster_source::KnownMembers>,
) -> roster_source::FetchRequest {
    roster_source::FetchRequest {
        known: Some(known),
        ..updated_since(since)
    }
}

/// Every Justworks scope.
pub fn all_scopes() -> Vec<&'static str> {
    roster_sandbox::all_scopes()
}

/// OAuth settings for the sandbox's registered client.
pub fn oauth_config(sandbox: &roster_sandbox::RunningSandbox, redirect: &Url) -> JustworksConfig {
    let handle = sandbox.handle();
    let mut config = config(&base_url(sandbox));
    config.client_id = handle.config().client_id.clone();
    config.client_secret = handle.config().client_secret.clone().into();
    config.redirect_uri = Some(redirect.clone());
    config
}

/// `(name, value)` of every hidden input of an HTML page, and whether an input named
/// `checkbox` exists.
pub fn form_fields(html: &str, checkbox: &str) -> (Vec<(String, String)>, bool) {
    let mut fields = Vec::new();
    let mut has_checkbox = false;
    for tag in html.split('<').filter(|t| t.starts_with("input ")) {
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            let start = tag.find(&key)? + key.len();
            let end = tag[start..].find('"')? + start;
            Some(unescape(&tag[start..end]))
        };
        match attr("type").as_deref() {
            Some("hidden") => {
                if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
                    fields.push((n, v));
                }
            }
            Some("checkbox") if attr("name").as_deref() == Some(checkbox) => has_checkbox = true,
            _ => {}
        }
    }
    (fields, has_checkbox)
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The browser's landing after the consent page, for these tests (the CLI's
/// `roster connect` has its own): serve `listener` until a request carries `code`
/// or `error`, answer with a page saying the window can be closed, and return the
/// code (state checked; `access_denied` is [`AuthError::AccessDenied`]).
pub async fn receive_redirect(
    listener: TcpListener,
    expected_state: &str,
) -> Result<String, roster_justworks::AuthError> {
    use roster_justworks::AuthError;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<String, AuthError>>(1);
    let expected = expected_state.to_owned();
    let app = Router::new().fallback(
        move |axum::extract::RawQuery(query): axum::extract::RawQuery| {
            let (tx, expected) = (tx.clone(), expected.clone());
            async move {
                let q: std::collections::HashMap<String, String> =
                    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                        .into_owned()
                        .collect();
                let result = match (q.get("code"), q.get("error")) {
                    (None, None) => return (axum::http::StatusCode::NOT_FOUND, "waiting"),
                    _ if q.get("state") != Some(&expected) => Err(AuthError::StateMismatch),
                    (_, Some(e)) if e == "access_denied" => Err(AuthError::AccessDenied),
                    (_, Some(e)) => Err(AuthError::Redirect(e.clone())),
                    (Some(code), None) => Ok(code.clone()),
                };
                let _ = tx.send(result).await;
                (axum::http::StatusCode::OK, "You can close this window.")
            }
        },
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let result = rx.recv().await;
    server.abort();
    result.unwrap_or_else(|| Err(AuthError::Transport("the listener stopped".into())))
}
