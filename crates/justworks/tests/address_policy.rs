//! Source URLs an account admin may not point a connection at (issue #11.9): the
//! token must never reach link-local (cloud metadata), multicast or unspecified
//! addresses, nor loopback and private ones under the "public only" policy of a
//! shared deployment — not by the URL itself, not after DNS, not after a redirect.
//! And an unreachable source is "could not reach the source", without the socket's
//! detail. Loopback servers only.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use roster_justworks::{Credentials, JustworksSource, OAuthClient, UrlPolicy};
use roster_source::{FetchRequest, Source, SourceError};

fn token() -> Credentials {
    Credentials::Static("secret-token".to_owned().into())
}

fn source(base: &str, policy: UrlPolicy) -> Result<JustworksSource, SourceError> {
    let mut config = common::config(&base.parse().unwrap());
    config.url_policy = policy;
    config.max_retries = 1;
    JustworksSource::new(config, token())
}

/// A loopback server counting the requests it gets.
async fn counting() -> (url::Url, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hits);
    let router = Router::new().fallback(move || {
        let seen = Arc::clone(&seen);
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            axum::Json(serde_json::json!({"items": []}))
        }
    });
    (common::serve(router).await, hits)
}

#[tokio::test]
async fn a_sandbox_on_loopback_is_refused_when_only_public_addresses_are_allowed() {
    let sandbox = common::sandbox(3, roster_sandbox::Faults::default()).await;
    // The IP literal: refused before any request.
    let err = source(&sandbox.base_url(), UrlPolicy::public_only()).expect_err("refused");
    let SourceError::AddressRefused(message) = &err else {
        panic!("not an address refusal: {err}");
    };
    assert!(message.contains("loopback"), "{message}");
    assert!(message.contains("allow_private_source_urls"), "{message}");
    assert!(
        err.to_string()
            .starts_with("the source address is not allowed")
    );

    // A name resolving to loopback: refused once resolved, nothing sent.
    let (base, hits) = counting().await;
    let by_name = format!("http://localhost:{}/", base.port().unwrap());
    let named =
        source(&by_name, UrlPolicy::public_only()).expect("a name passes the literal check");
    let err = named
        .fetch(FetchRequest::default())
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, SourceError::AddressRefused(m) if m.contains("loopback")),
        "{err}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a request reached the server"
    );

    // The same sandbox is fine where private addresses are allowed (the embedded
    // directory, the demo, the tests).
    let mut config = common::config(&sandbox.base_url().parse().unwrap());
    config.url_policy = UrlPolicy::default();
    let minted = sandbox.mint_token(&roster_sandbox::all_scopes());
    let allowed = JustworksSource::new(config, Credentials::Static(minted.into())).unwrap();
    let snapshot = allowed.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.members.len(), 3);
}

#[tokio::test]
async fn metadata_link_local_multicast_and_unspecified_are_refused_always() {
    for base in [
        "http://169.254.169.254/",
        "http://169.254.10.1:8080/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0:8899/",
        "http://[::]:8899/",
        "http://[::ffff:169.254.169.254]/",
    ] {
        for policy in [UrlPolicy::default(), UrlPolicy::public_only()] {
            // Refused when the source is built: no connection is attempted.
            let err = source(base, policy).expect_err(base);
            assert!(
                matches!(err, SourceError::AddressRefused(_)),
                "{base}: {err}"
            );
        }
    }
    let err = source("http://169.254.169.254/", UrlPolicy::default()).unwrap_err();
    assert!(err.to_string().contains("cloud metadata"), "{err}");

    // The OAuth client refuses its endpoints too.
    let mut config = common::config(&"http://169.254.169.254/".parse().unwrap());
    config.client_id = "cid".into();
    let err = OAuthClient::new(&config).expect_err("refused");
    assert!(
        matches!(err, roster_justworks::AuthError::AddressRefused(_)),
        "{err}"
    );
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_not_followed() {
    for target in [
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:9/v1/members",
    ] {
        let router = Router::new().fallback(move || async move {
            (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
        });
        let base = common::serve(router).await;
        let source = source(base.as_str(), UrlPolicy::default()).unwrap();
        let err = source
            .fetch(FetchRequest::default())
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, SourceError::AddressRefused(_)),
            "{target}: {err}"
        );
    }

    // A redirect to an allowed address is still followed.
    let (inner, hits) = counting().await;
    let location = format!("http://127.0.0.1:{}/v1/members", inner.port().unwrap());
    let router = Router::new().fallback(move || {
        let location = location.clone();
        async move { (StatusCode::FOUND, [(header::LOCATION, location)]).into_response() }
    });
    let outer = common::serve(router).await;
    let allowed = source(outer.as_str(), UrlPolicy::default()).unwrap();
    allowed.fetch(FetchRequest::default()).await.unwrap();
    assert!(
        hits.load(Ordering::SeqCst) > 0,
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn an_unreachable_source_says_so_without_the_socket_detail() {
    // A port nobody listens on: bind one, note it, close it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let source = source(&format!("http://127.0.0.1:{port}/"), UrlPolicy::default()).unwrap();
    let err = source
        .fetch(FetchRequest::default())
        .await
        .expect_err("nothing listens there");
    let text = err.to_string();
    assert!(matches!(err, SourceError::Transport { .. }), "{text}");
    assert!(text.contains("could not reach the source"), "{text}");
    for detail in ["refused", "os error", "tcp", "connect error", "127.0.0.1"] {
        assert!(
            !text.to_lowercase().contains(detail),
            "{detail:?} in {text}"
        );
    }
}
