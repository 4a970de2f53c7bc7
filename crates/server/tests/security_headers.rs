//! Web responses carry security headers (#11.7): a Content-Security-Policy the UI
//! fits (no inline script or style), no framing, `nosniff`, a referrer policy, and
//! `Cache-Control: no-store` on every page, JSON answer and download with personal
//! data. The session cookie is `Secure` whenever `public_url` is https.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::TestServer;
use reqwest::Method;
use reqwest::header::HeaderMap;
use roster_store::access::Role;
use serde_json::json;

const PASSWORD: &str = "a long enough password";

async fn web_user(server: &TestServer, email: &str) {
    let admin = server.token("default", Role::AccountAdmin).await;
    server
        .send(
            Method::POST,
            "/api/v1/web-users",
            &admin,
            json!({ "email": email, "role": "employee_data_admin", "password": PASSWORD }),
            201,
        )
        .await;
}

/// Sign in through the API: the `Set-Cookie` header and the cookie pair.
async fn sign_in(server: &TestServer, email: &str) -> (String, String) {
    let res = server
        .http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status().as_u16(), 201);
    let set = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a cookie")
        .to_string();
    let pair = set.split(';').next().unwrap_or_default().to_string();
    (set, pair)
}

fn assert_secure_headers(what: &str, h: &HeaderMap, cache: &str) {
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let csp = get("content-security-policy");
    for part in ["default-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.contains(part), "{what}: CSP {csp:?} lacks {part}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp:?}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert!(
        !get("referrer-policy").is_empty(),
        "{what}: no Referrer-Policy"
    );
    assert_eq!(get("cache-control"), cache, "{what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_json_and_downloads_carry_the_headers() {
    let server = TestServer::start().await;
    web_user(&server, "hr@headers.example").await;
    let token = server.token("default", Role::Viewer).await;
    let (_, cookie) = sign_in(&server, "hr@headers.example").await;
    let by_cookie = |path: &str| {
        server
            .http
            .get(format!("{}{path}", server.base))
            .header("cookie", &cookie)
            .send()
    };
    for path in ["/users", "/integrations", "/imports", "/files/users.csv"] {
        let res = by_cookie(path).await.expect("get");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert_secure_headers(path, res.headers(), "no-store");
    }
    for path in ["/api/v1/users", "/api/v1/exports/users.csv", "/api/v1/nope"] {
        let res = server
            .http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_secure_headers(path, res.headers(), "no-store");
    }
    let login = reqwest::get(format!("{}/login", server.base))
        .await
        .expect("login page");
    assert_secure_headers("/login", login.headers(), "no-store");
    let html = login.text().await.expect("html");
    assert!(html.contains("/static/roster.css"), "{html}");
    // The stylesheet holds no personal data: cacheable.
    let css = reqwest::get(format!("{}/static/roster.css", server.base))
        .await
        .expect("css");
    assert_eq!(css.status().as_u16(), 200);
    assert_secure_headers("/static/roster.css", css.headers(), "public, max-age=3600");
    assert!(
        css.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/css"))
    );
}

/// The templates hold nothing a `default-src 'self'` policy blocks.
#[test]
fn templates_have_no_inline_script_style_or_handlers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("templates/") {
        let path = entry.expect("entry").path();
        let html = std::fs::read_to_string(&path)
            .expect("template")
            .to_lowercase();
        seen += 1;
        for bad in ["<script", "<style", " style=", "javascript:"] {
            assert!(!html.contains(bad), "{} holds {bad}", path.display());
        }
        let handler = html.split_whitespace().find(|w| {
            w.starts_with("on")
                && w.contains("=\"")
                && w[2..]
                    .split('=')
                    .next()
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_lowercase()))
        });
        assert_eq!(handler, None, "{} has an event handler", path.display());
    }
    assert!(seen > 10, "only {seen} templates");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cookie_is_secure_when_public_url_is_https() {
    let https = TestServer::start_with(|c| {
        c.public_url = "https://roster.example.com".into();
        c.secure_cookies = false;
    })
    .await;
    web_user(&https, "a@https.example").await;
    let (set, _) = sign_in(&https, "a@https.example").await;
    assert!(set.contains("; Secure"), "{set}");

    let http = TestServer::start().await;
    web_user(&http, "a@http.example").await;
    let (set, _) = sign_in(&http, "a@http.example").await;
    assert!(!set.contains("Secure"), "{set}");
}
