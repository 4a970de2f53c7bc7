//! The OAuth flow against the sandbox: the consent page (with and without the date
//! of birth checkbox, and Deny), the PKCE code exchange, refresh with rotation and
//! short token lifetimes, early expiry, and revocation.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::receive_redirect;

use std::sync::Arc;
use std::time::Duration;

use roster_justworks::{
    AuthError, Credentials, JustworksSource, MemoryTokenStore, OAuthClient, TokenKind, TokenSet,
    TokenStore, new_state,
};
use roster_sandbox::{Faults, RunningSandbox, SandboxConfig};
use roster_source::{FetchRequest, Source, SourceError};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

#[derive(Clone, Copy)]
enum Decision {
    Authorize { share_dob: bool },
    Deny,
}

/// Walk the consent page like a browser: GET the authorize URL, fill the form, press
/// a button, follow the redirect to our one-shot listener. Returns the redirect's
/// outcome and the PKCE verifier.
async fn consent(
    sandbox: &RunningSandbox,
    decision: Decision,
    tweak: impl FnOnce(&mut roster_justworks::JustworksConfig),
) -> (Result<TokenSet, AuthError>, OAuthClient) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect: url::Url = format!("http://{}/callback", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let mut config = common::oauth_config(sandbox, &redirect);
    tweak(&mut config);
    let oauth = OAuthClient::new(&config).unwrap();
    let state = new_state();
    let waiting = tokio::spawn({
        let state = state.clone();
        async move { receive_redirect(listener, &state).await }
    });

    let (url, verifier) = oauth.authorize_url(&state, true);
    let browser = reqwest::Client::new();
    let page = browser.get(url.clone()).send().await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let html = page.text().await.unwrap();
    assert!(html.contains("Authorize") && html.contains("Deny"));
    let (mut form, has_checkbox) = common::form_fields(&html, "share_sensitive");
    assert!(
        has_checkbox,
        "the dob/sex checkbox is shown when member.dob:read is asked for"
    );
    assert!(form.iter().any(|(k, v)| k == "state" && *v == state));
    assert!(
        form.iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256")
    );
    match decision {
        Decision::Authorize { share_dob } => {
            form.push(("decision".into(), "authorize".into()));
            if share_dob {
                form.push(("share_sensitive".into(), "yes".into()));
            }
        }
        Decision::Deny => form.push(("decision".into(), "deny".into())),
    }
    // The form posts to `authorize`, relative to the page.
    let action = url.join("authorize").unwrap();
    let done = browser.post(action).form(&form).send().await.unwrap();
    assert!(
        done.status().is_success(),
        "the redirect reached our listener: {}",
        done.status()
    );
    assert!(done.text().await.unwrap().contains("close this window"));

    let tokens = match waiting.await.unwrap() {
        Ok(code) => oauth.exchange_code(&code, verifier).await,
        Err(e) => Err(e),
    };
    (tokens, oauth)
}

fn short_lived(access: Duration) -> SandboxConfig {
    SandboxConfig {
        members: 150,
        access_ttl: access,
        refresh_ttl: Duration::from_secs(3600),
        ..SandboxConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_with_the_checkbox_grants_date_of_birth() {
    let sandbox = common::sandbox(150, Faults::default()).await;
    let (tokens, _) = consent(&sandbox, Decision::Authorize { share_dob: true }, |_| {}).await;
    let tokens = tokens.unwrap();
    let scopes = tokens.scopes.clone().unwrap();
    assert!(scopes.iter().any(|s| s == "member.dob:read"), "{scopes:?}");
    assert!(tokens.refresh_token.is_some() && tokens.expires_at.is_some());
    let source = JustworksSource::new(
        common::config(&common::base_url(&sandbox)),
        Credentials::OAuth(tokens),
    )
    .unwrap();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert!(snapshot.members.iter().any(|m| m.date_of_birth.is_some()));
    assert!(
        snapshot.diagnostics.is_empty(),
        "{:?}",
        snapshot.diagnostics
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_without_the_checkbox_withholds_date_of_birth_and_sex() {
    let sandbox = common::sandbox(150, Faults::default()).await;
    let (tokens, _) = consent(&sandbox, Decision::Authorize { share_dob: false }, |_| {}).await;
    let tokens = tokens.unwrap();
    let scopes = tokens.scopes.clone().unwrap();
    assert!(
        !scopes
            .iter()
            .any(|s| s == "member.dob:read" || s == "member.sex:read"),
        "{scopes:?}"
    );
    let source = JustworksSource::new(
        common::config(&common::base_url(&sandbox)),
        Credentials::OAuth(tokens),
    )
    .unwrap();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert!(snapshot.members.iter().all(|m| m.date_of_birth.is_none()));
    let codes: Vec<&str> = snapshot
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    // Sex was not asked for (no mapping uses it by default): only the date of birth
    // is named.
    assert_eq!(codes, ["scope_missing.member.dob:read"]);
    assert_eq!(
        snapshot.diagnostics[0].message,
        "date of birth not shared: scope member.dob:read was not granted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deny_is_access_denied() {
    let sandbox = common::sandbox(20, Faults::default()).await;
    let (tokens, _) = consent(&sandbox, Decision::Deny, |_| {}).await;
    assert!(matches!(tokens, Err(AuthError::AccessDenied)), "{tokens:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_is_bound_to_its_pkce_verifier_and_used_once() {
    let sandbox = common::sandbox(20, Faults::default()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect: url::Url = format!("http://{}/cb", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(listener);
    let oauth = OAuthClient::new(&common::oauth_config(&sandbox, &redirect)).unwrap();
    let (url, _verifier) = oauth.authorize_url("s", true);
    let (mut form, _) = common::form_fields(
        &reqwest::get(url.clone())
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "share_sensitive",
    );
    form.push(("decision".into(), "authorize".into()));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = no_redirects
        .post(url.join("authorize").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    let location: url::Url = answer.headers()["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let wrong = roster_justworks::PkceVerifier::from_secret("x".repeat(64));
    let err = oauth.exchange_code(&code, Some(wrong)).await.unwrap_err();
    assert!(matches!(err, AuthError::InvalidGrant { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn short_lived_tokens_are_refreshed_saved_and_rotated() {
    let sandbox = common::sandbox_with(short_lived(Duration::from_secs(2))).await;
    let (tokens, oauth) = consent(&sandbox, Decision::Authorize { share_dob: true }, |_| {}).await;
    let first = tokens.unwrap();
    let store = Arc::new(MemoryTokenStore::new(Some(first.clone())));
    let config = common::oauth_config(&sandbox, &"http://127.0.0.1:9/cb".parse().unwrap());
    let source = JustworksSource::from_token_store(config, store.clone())
        .await
        .unwrap();
    assert_eq!(
        source
            .fetch(FetchRequest::default())
            .await
            .unwrap()
            .members
            .len(),
        150
    );

    // The access token expires; the next fetch refreshes first and saves.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.members.len(), 150);
    assert!(store.saves() >= 1);
    let saved = store.load().await.unwrap().unwrap();
    assert_ne!(
        saved.access_token.expose_secret(),
        first.access_token.expose_secret()
    );
    let rotated = saved.refresh_token.clone().unwrap();
    assert_ne!(
        rotated.expose_secret(),
        first.refresh_token.as_ref().unwrap().expose_secret()
    );
    assert_eq!(
        source.tokens().unwrap().access_token.expose_secret(),
        saved.access_token.expose_secret()
    );

    // The old refresh token stopped working when it was rotated.
    let err = oauth.refresh(&first).await.unwrap_err();
    assert!(matches!(err, AuthError::InvalidGrant { .. }), "{err}");

    // Revoking the refresh token ends the grant: the connector is told to re-authorise.
    oauth.revoke(&rotated, TokenKind::Refresh).await.unwrap();
    let err = source.fetch(FetchRequest::default()).await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_dying_early_are_refreshed_after_a_401() {
    let sandbox = common::sandbox(
        300,
        Faults {
            early_token_expiry: true,
            ..Faults::default()
        },
    )
    .await;
    let (tokens, _) = consent(&sandbox, Decision::Authorize { share_dob: true }, |_| {}).await;
    let tokens = tokens.unwrap();
    let store = Arc::new(MemoryTokenStore::new(None));
    // The token claims 24 h, so no proactive refresh: only the 401 tells.
    let source = JustworksSource::with_token_store(
        common::oauth_config(&sandbox, &"http://127.0.0.1:9/cb".parse().unwrap()),
        Credentials::OAuth(tokens),
        store.clone(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.members.len(), 300);
    assert_eq!(store.saves(), 1);
    assert_eq!(
        snapshot.requests, 4,
        "three pages and the one refused request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_the_access_token_ends_a_static_connection() {
    let sandbox = common::sandbox(20, Faults::default()).await;
    let token = sandbox.mint_token(&common::all_scopes());
    let redirect: url::Url = "http://127.0.0.1:9/cb".parse().unwrap();
    let oauth = OAuthClient::new(&common::oauth_config(&sandbox, &redirect)).unwrap();
    let source = JustworksSource::new(
        common::config(&common::base_url(&sandbox)),
        Credentials::Static(token.clone().into()),
    )
    .unwrap();
    assert_eq!(
        source
            .fetch(FetchRequest::default())
            .await
            .unwrap()
            .members
            .len(),
        20
    );
    oauth
        .revoke(&token.into(), TokenKind::Access)
        .await
        .unwrap();
    let err = source.fetch(FetchRequest::default()).await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized(_)), "{err}");
}
