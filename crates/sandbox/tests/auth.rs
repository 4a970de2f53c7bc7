//! Tokens and the OAuth code flow over real HTTP.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::StatusCode;
use roster_sandbox::{RunningSandbox, SandboxConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn authorize_url(s: &RunningSandbox, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut url = Url::parse(&format!("{}/oauth/authorize", s.base_url())).unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair("client_id", "roster-sandbox-client");
        q.append_pair("redirect_uri", REDIRECT);
        q.append_pair("state", "st-123");
        q.append_pair("scope", scope);
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    url.into()
}

/// Submits the consent form; returns the redirect `Location` as a URL.
async fn consent(s: &RunningSandbox, form: &[(&str, &str)]) -> Url {
    let res = client()
        .post(format!("{}/oauth/authorize", s.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let loc = res.headers()["location"].to_str().unwrap();
    Url::parse(loc).unwrap()
}

/// GET `url` with the test client (no redirects followed).
async fn fetch(url: impl reqwest::IntoUrl) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

/// The token endpoint answered `status` with the OAuth `error` code `error`.
fn oauth_error(status: StatusCode, body: &Value, want: StatusCode, error: &str) {
    assert_eq!(
        (status, body["error"].as_str()),
        (want, Some(error)),
        "{body}"
    );
}

/// A code for `member.basic:read`, without PKCE or the sensitive checkbox.
async fn basic_code(s: &RunningSandbox) -> String {
    code_for(s, "member.basic:read", false, None).await
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn code_for(s: &RunningSandbox, scope: &str, share: bool, pkce: Option<&str>) -> String {
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", "roster-sandbox-client"),
        ("redirect_uri", REDIRECT),
        ("state", "st-123"),
        ("scope", scope),
        ("decision", "authorize"),
    ];
    if share {
        form.push(("share_sensitive", "yes"));
    }
    if let Some(c) = pkce {
        form.push(("code_challenge", c));
        form.push(("code_challenge_method", "S256"));
    }
    let loc = consent(s, &form).await;
    assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));
    query(&loc, "code").expect("code in redirect")
}

async fn token_request(s: &RunningSandbox, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = client()
        .post(format!("{}/oauth/token", s.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn exchange(s: &RunningSandbox, code: &str, verifier: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", "roster-sandbox-client"),
        ("client_secret", "roster-sandbox-secret"),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token_request(s, &form).await
}

async fn refresh(s: &RunningSandbox, rt: &str) -> (StatusCode, Value) {
    token_request(
        s,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", "roster-sandbox-client"),
            ("client_secret", "roster-sandbox-secret"),
        ],
    )
    .await
}

#[tokio::test]
async fn missing_garbage_and_malformed_tokens_are_401() {
    let s = start(5).await;
    let url = format!("{}/v1/members", s.base_url());
    let res = fetch(&url).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), "unauthorized");
    let (status, _) = get(&s, "/v1/members", "sbx_at_not-a-real-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let res = client()
        .get(&url)
        .header("authorization", "Token abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_without_member_basic_is_403_and_detail_implies_basic() {
    let s = start(5).await;
    let t = s.mint_token(&["company.basic:read", "member.dob:read"]);
    let (status, body) = get(&s, "/v1/members", &t).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "forbidden");
    let t = s.mint_token(&["member.detail:read"]);
    let (status, _) = get(&s, "/v1/members", &t).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn expired_tokens_are_401() {
    let s = start(5).await;
    let minted = s
        .handle()
        .mint_token_with_ttl(&["member.basic:read"], Duration::from_secs(1))
        .unwrap();
    let (status, _) = get(&s, "/v1/members", &minted.access_token).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = get(&s, "/v1/members", &minted.access_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error_message(&body).contains("expired"));
}

#[tokio::test]
async fn short_configured_ttl_applies_to_oauth_tokens() {
    let s = start_with(SandboxConfig {
        access_ttl: Duration::from_secs(1),
        ..config(5)
    })
    .await;
    let code = basic_code(&s).await;
    let (status, tok) = exchange(&s, &code, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tok["expires_in"], 1);
    let at = tok["access_token"].as_str().unwrap();
    let (status, _) = get(&s, "/v1/members", at).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, _) = get(&s, "/v1/members", at).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The refresh token still works and gives a fresh access token.
    let (status, tok2) = refresh(&s, tok["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&s, "/v1/members", tok2["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn revoked_tokens_are_401() {
    let s = start(5).await;
    let code = basic_code(&s).await;
    let (_, tok) = exchange(&s, &code, None).await;
    let at = tok["access_token"].as_str().unwrap().to_owned();
    let rt = tok["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = get(&s, "/v1/members", &at).await;
    assert_eq!(status, StatusCode::OK);
    let revoke = |token: String, secret: &'static str| {
        let url = format!("{}/v1/oauth/revoke", s.base_url());
        async move {
            client()
                .post(url)
                .form(&[
                    ("client_id", "roster-sandbox-client"),
                    ("client_secret", secret),
                    ("token", token.as_str()),
                    ("token_type_hint", "access_token"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let res = revoke(at.clone(), "wrong").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let res = revoke(at.clone(), "roster-sandbox-secret").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), serde_json::json!({}));
    let (status, _) = get(&s, "/v1/members", &at).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Revoking the refresh token ends the grant: the refresh no longer works.
    let res = revoke(rt.clone(), "roster-sandbox-secret").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = refresh(&s, &rt).await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn consent_page_shows_company_scopes_and_checkbox() {
    let s = start(5).await;
    let company = s.handle().info().company_name.unwrap();
    let page = fetch(authorize_url(
        &s,
        "member.basic:read member.dob:read member.sex:read",
        &[],
    ))
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    let escaped = company.replace('&', "&amp;");
    assert!(html.contains(&escaped), "company name on the page");
    assert!(html.contains("name=\"share_sensitive\""), "checkbox");
    assert!(html.contains("Share date of birth and sex"));
    assert!(html.contains("date of birth"));
    assert!(html.contains(">Authorize<") && html.contains(">Deny<"));
    assert!(html.contains("method=\"post\""));
    // No checkbox when neither dob nor sex is requested.
    let html = fetch(authorize_url(&s, "member.basic:read", &[]))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("share_sensitive"));
}

#[tokio::test]
async fn consent_page_escapes_user_input() {
    let s = start(5).await;
    let html = fetch(authorize_url(
        &s,
        "member.basic:read",
        &[("state", "\"><script>alert(1)</script>")],
    ))
    .await
    .text()
    .await
    .unwrap();
    assert!(!html.contains("<script>alert"), "state must be escaped");
    let res = fetch(format!(
        "{}/oauth/authorize?response_type=code&client_id=%3Cscript%3Ex&redirect_uri={REDIRECT}",
        s.base_url()
    ))
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;x") && !html.contains("<script>x"));
}

#[tokio::test]
async fn full_code_flow_with_and_without_the_checkbox() {
    let s = start(40).await;
    let scope = "member.basic:read member.dob:read member.sex:read";
    for share in [true, false] {
        let code = code_for(&s, scope, share, None).await;
        let (status, tok) = exchange(&s, &code, None).await;
        assert_eq!(status, StatusCode::OK, "{tok}");
        assert_eq!(tok["token_type"], "bearer");
        assert_eq!(tok["expires_in"], 86_400);
        let expires_at: jiff::Timestamp = tok["expires_at"].as_str().unwrap().parse().unwrap();
        let in_a_day = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
        assert!(in_a_day.duration_since(expires_at).abs() < jiff::SignedDuration::from_secs(60));
        let rt_exp: jiff::Timestamp = tok["refresh_token_expires_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(rt_exp > expires_at + jiff::SignedDuration::from_hours(24 * 28));
        let granted = tok["scope"].as_str().unwrap();
        assert_eq!(granted.contains("member.dob:read"), share, "{granted}");
        assert_eq!(granted.contains("member.sex:read"), share, "{granted}");
        assert!(granted.contains("member.basic:read"));
        let (items, _) = walk(&s, tok["access_token"].as_str().unwrap(), "").await;
        assert_eq!(items.len(), 40);
        assert!(
            items
                .iter()
                .all(|m| m.get("date_of_birth").is_some() == share)
        );
        assert!(
            items
                .iter()
                .any(|m| m.get("sex_assigned_at_birth").is_some() == share)
        );
    }
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let s = start(5).await;
    let loc = consent(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", "roster-sandbox-client"),
            ("redirect_uri", REDIRECT),
            ("state", "st-9"),
            ("scope", "member.basic:read"),
            ("decision", "deny"),
        ],
    )
    .await;
    assert!(loc.as_str().starts_with(REDIRECT));
    assert_eq!(query(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&loc, "state").as_deref(), Some("st-9"));
    assert_eq!(query(&loc, "code"), None);
}

#[tokio::test]
async fn bad_authorize_requests() {
    let s = start(5).await;
    // Unknown scope: back to the client with invalid_scope.
    let res = fetch(authorize_url(&s, "member.everything:read", &[])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let loc = Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_scope"));
    // No redirect_uri: an error page, never a redirect.
    let res = fetch(format!(
        "{}/oauth/authorize?response_type=code&client_id=roster-sandbox-client",
        s.base_url()
    ))
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pkce_is_checked() {
    let s = start(5).await;
    let verifier = "a-long-random-verifier-string-0123456789-abcdefghijkl";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let code = code_for(&s, "member.basic:read", false, Some(&challenge)).await;
    let (status, body) = exchange(&s, &code, Some("not-the-verifier")).await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    let code = code_for(&s, "member.basic:read", false, Some(&challenge)).await;
    let (status, body) = exchange(&s, &code, None).await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    let code = code_for(&s, "member.basic:read", false, Some(&challenge)).await;
    let (status, body) = exchange(&s, &code, Some(verifier)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn codes_are_single_use() {
    let s = start(5).await;
    let code = basic_code(&s).await;
    let (status, _) = exchange(&s, &code, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = exchange(&s, &code, None).await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn codes_are_short_lived() {
    let s = start_with(SandboxConfig {
        code_ttl: Duration::from_millis(300),
        ..config(5)
    })
    .await;
    let code = basic_code(&s).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = exchange(&s, &code, None).await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn refresh_rotates_and_old_refresh_is_rejected() {
    let s = start(5).await;
    let code = basic_code(&s).await;
    let (_, first) = exchange(&s, &code, None).await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&s, rt1).await;
    assert_eq!(status, StatusCode::OK);
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    assert_ne!(first["access_token"], second["access_token"]);
    assert_eq!(second["scope"], "member.basic:read");
    let (status, body) = refresh(&s, rt1).await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    let (status, third) = refresh(&s, rt2).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&s, "/v1/members", third["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn client_authentication_and_grant_errors() {
    let s = start(5).await;
    let code = basic_code(&s).await;
    let (status, body) = token_request(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "roster-sandbox-client"),
            ("client_secret", "wrong-secret"),
        ],
    )
    .await;
    oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    // A wrong secret does not burn the code; a different redirect_uri does not match.
    let (status, body) = token_request(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ("client_id", "roster-sandbox-client"),
            ("client_secret", "roster-sandbox-secret"),
        ],
    )
    .await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    // HTTP Basic client authentication works too.
    let code = basic_code(&s).await;
    let res = client()
        .post(format!("{}/oauth/token", s.base_url()))
        .basic_auth("roster-sandbox-client", Some("roster-sandbox-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = token_request(
        &s,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "roster-sandbox-client"),
            ("client_secret", "roster-sandbox-secret"),
        ],
    )
    .await;
    oauth_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    let (status, body) = token_request(&s, &[("client_id", "roster-sandbox-client")]).await;
    oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
}
