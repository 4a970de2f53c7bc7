//! Token answers in the shapes API.md leaves open ([U]): `expires_in`, `expires_at`
//! or neither; with or without a new refresh token; and the refresh-on-401 path.
//! A tiny token server stands in for Justworks.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};
use roster_justworks::{
    AuthError, Credentials, JustworksSource, MemoryTokenStore, OAuthClient, TokenSet, TokenStore,
};
use roster_source::{FetchRequest, Source, SourceError};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A token endpoint that answers `answer` and records the forms it got.
async fn token_server(
    answer: Value,
    status: StatusCode,
) -> (url::Url, Arc<Mutex<Vec<HashMap<String, String>>>>) {
    let forms: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
    let sink = Arc::clone(&forms);
    let router = Router::new().route(
        "/oauth/token",
        post(move |body: Bytes| {
            sink.lock().unwrap().push(form(&body));
            let answer = answer.clone();
            async move { (status, axum::Json(answer)) }
        }),
    );
    (common::serve(router).await, forms)
}

fn with_refresh(refresh: &str) -> TokenSet {
    let mut tokens = TokenSet::access_only("old-access");
    tokens.refresh_token = Some(refresh.to_owned().into());
    tokens
}

#[tokio::test]
async fn expires_in_or_expires_at_or_neither() {
    let (base, forms) = token_server(
        json!({"token_type": "Bearer", "access_token": "a1", "expires_in": 3600, "refresh_token": "r1"}),
        StatusCode::OK,
    )
    .await;
    let mut config = common::config(&base);
    config.client_id = "cid".into();
    config.client_secret = "shh".to_owned().into();
    let before = Timestamp::now();
    let tokens = OAuthClient::new(&config)
        .unwrap()
        .exchange_code("c", None)
        .await
        .unwrap();
    let expires = tokens.expires_at.unwrap();
    assert!(
        expires >= before + SignedDuration::from_secs(3599)
            && expires <= Timestamp::now() + SignedDuration::from_secs(3600)
    );
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "r1");
    assert!(tokens.scopes.is_none(), "no `scope` in the answer: unknown");
    let sent = forms.lock().unwrap()[0].clone();
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(sent["client_id"], "cid");
    assert_eq!(
        sent["client_secret"], "shh",
        "client credentials in the form body"
    );

    let (base, _) = token_server(
        json!({"token_type": "bearer", "access_token": "a2", "expires_at": "2031-02-03T04:05:06Z",
               "refresh_token_expires_at": "2031-03-01T00:00:00Z", "scope": "member.basic:read member.dob:read"}),
        StatusCode::OK,
    )
    .await;
    let tokens = OAuthClient::new(&common::config(&base))
        .unwrap()
        .exchange_code("c", None)
        .await
        .unwrap();
    assert_eq!(
        tokens.expires_at,
        Some("2031-02-03T04:05:06Z".parse().unwrap())
    );
    assert_eq!(
        tokens.refresh_expires_at,
        Some("2031-03-01T00:00:00Z".parse().unwrap())
    );
    assert_eq!(
        tokens.scopes.as_deref(),
        Some(&["member.basic:read".to_owned(), "member.dob:read".to_owned()][..])
    );

    let (base, _) = token_server(
        json!({"token_type": "bearer", "access_token": "a3"}),
        StatusCode::OK,
    )
    .await;
    let tokens = OAuthClient::new(&common::config(&base))
        .unwrap()
        .exchange_code("c", None)
        .await
        .unwrap();
    let in_a_day = Timestamp::now() + SignedDuration::from_hours(24);
    let expires = tokens.expires_at.unwrap();
    assert!(
        expires.duration_since(in_a_day).abs() < SignedDuration::from_secs(5),
        "assumed 24 h, got {expires}"
    );
}

#[tokio::test]
async fn refresh_keeps_the_old_refresh_token_unless_a_new_one_comes() {
    let (base, forms) = token_server(
        json!({"token_type": "bearer", "access_token": "a2", "expires_in": 60}),
        StatusCode::OK,
    )
    .await;
    let oauth = OAuthClient::new(&common::config(&base)).unwrap();
    let mut old = with_refresh("r-old");
    old.scopes = Some(vec!["member.basic:read".into()]);
    let new = oauth.refresh(&old).await.unwrap();
    assert_eq!(new.access_token.expose_secret(), "a2");
    assert_eq!(new.refresh_token.unwrap().expose_secret(), "r-old");
    assert_eq!(
        new.scopes, old.scopes,
        "scopes carried over when the answer names none"
    );
    let sent = forms.lock().unwrap()[0].clone();
    assert_eq!(sent["grant_type"], "refresh_token");
    assert_eq!(sent["refresh_token"], "r-old");

    let (base, _) = token_server(
        json!({"error": "invalid_grant", "error_description": "refresh token already used"}),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let err = OAuthClient::new(&common::config(&base))
        .unwrap()
        .refresh(&old)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidGrant { .. }), "{err}");
    let err = OAuthClient::new(&common::config(&base))
        .unwrap()
        .refresh(&TokenSet::access_only("a"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NoRefreshToken), "{err}");
}

/// An API that accepts only `valid` as bearer token, and a token endpoint that hands
/// out `new-access` / `new-refresh`.
async fn api_server(valid: &'static str) -> (url::Url, Arc<AtomicUsize>) {
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&refreshes);
    let router = Router::new()
        .route(
            "/v1/members",
            get(move |headers: HeaderMap| async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
                if auth == format!("Bearer {valid}") {
                    axum::Json(json!({"items": [{"id": "m1"}]})).into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        )
        .route(
            "/oauth/token",
            post(move |body: Bytes| {
                counter.fetch_add(1, Ordering::SeqCst);
                let f = form(&body);
                async move {
                    if f.get("refresh_token").map(String::as_str) == Some("r-old") {
                        axum::Json(json!({"token_type": "bearer", "access_token": "new-access", "expires_in": 86400, "refresh_token": "new-refresh"}))
                            .into_response()
                    } else {
                        (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"}))).into_response()
                    }
                }
            }),
        );
    (common::serve(router).await, refreshes)
}

#[tokio::test]
async fn a_401_refreshes_once_and_saves_the_new_tokens() {
    let (base, refreshes) = api_server("new-access").await;
    let store = Arc::new(MemoryTokenStore::new(None));
    let source = JustworksSource::with_token_store(
        common::config(&base),
        Credentials::OAuth(with_refresh("r-old")),
        store.clone(),
    )
    .unwrap();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.members.len(), 1);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(store.saves(), 1);
    let saved = store.load().await.unwrap().unwrap();
    assert_eq!(saved.access_token.expose_secret(), "new-access");
    assert_eq!(saved.refresh_token.unwrap().expose_secret(), "new-refresh");
    assert_eq!(
        source.tokens().unwrap().access_token.expose_secret(),
        "new-access"
    );

    // A token the server never accepts: one refresh, then Unauthorized.
    let (base, refreshes) = api_server("something-else").await;
    let source = JustworksSource::new(
        common::config(&base),
        Credentials::OAuth(with_refresh("r-old")),
    )
    .unwrap();
    let err = source.fetch(FetchRequest::default()).await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized(_)), "{err}");
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);

    // A rejected refresh token: Unauthorized, naming the re-authorisation.
    let (base, _) = api_server("new-access").await;
    let source = JustworksSource::new(
        common::config(&base),
        Credentials::OAuth(with_refresh("r-used")),
    )
    .unwrap();
    let err = source.fetch(FetchRequest::default()).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Unauthorized(ref m) if m.contains("authorise")),
        "{err}"
    );
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_use() {
    let (base, refreshes) = api_server("new-access").await;
    let mut tokens = with_refresh("r-old");
    tokens.expires_at = Some(Timestamp::now() + SignedDuration::from_secs(60));
    let store = Arc::new(MemoryTokenStore::new(None));
    let source = JustworksSource::with_token_store(
        common::config(&base),
        Credentials::OAuth(tokens),
        store.clone(),
    )
    .unwrap();
    // The old token would be refused; refreshing first means no 401 at all.
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.requests, 1, "no request with the old token");
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(store.saves(), 1);
}

#[tokio::test]
async fn a_static_token_is_never_refreshed() {
    let (base, refreshes) = api_server("new-access").await;
    let source = JustworksSource::new(
        common::config(&base),
        Credentials::Static("old".to_owned().into()),
    )
    .unwrap();
    let err = source.fetch(FetchRequest::default()).await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized(_)), "{err}");
    assert_eq!(refreshes.load(Ordering::SeqCst), 0);
    assert!(source.tokens().is_none());
}
