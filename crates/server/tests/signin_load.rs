//! Sign-in under load (#11.2): password hashing runs a bounded number at once, the
//! rest wait briefly or get 429 with `Retry-After`; a global sign-in rate sits on top
//! of the per-email one; the server stays healthy.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use reqwest::StatusCode;
use serde_json::json;

async fn sign_in(server: &TestServer, email: &str) -> (StatusCode, Option<String>, String) {
    let res = server
        .http
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "email": email, "password": "not the password at all" }))
        .send()
        .await
        .expect("sign-in");
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry, res.text().await.unwrap_or_default())
}

/// 40 sign-ins with distinct unknown emails at once, one hashing slot: a few are
/// checked (401), the others are told to come back (429 with Retry-After); nothing
/// fails, and `/healthz` answers throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unknown_sign_ins_are_bounded() {
    let server = TestServer::start_with(|c| {
        c.password_hashing_concurrency = 1;
        c.login_attempts_global_per_minute = 10_000;
    })
    .await;
    let storm: Vec<_> = (0..40)
        .map(|i| {
            let server = &server;
            async move { sign_in(server, &format!("nobody{i}@storm.example")).await }
        })
        .collect();
    let health = async {
        let mut worst = Duration::ZERO;
        for _ in 0..10 {
            let t = Instant::now();
            let res = reqwest::get(format!("{}/healthz", server.base))
                .await
                .expect("healthz");
            assert_eq!(res.status(), StatusCode::OK);
            worst = worst.max(t.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        worst
    };
    let (answers, worst) = tokio::join!(futures::future::join_all(storm), health);
    let refused: Vec<_> = answers
        .iter()
        .filter(|(s, ..)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let checked = answers
        .iter()
        .filter(|(s, ..)| *s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(
        refused.len() + checked,
        answers.len(),
        "only 401 and 429: {answers:?}"
    );
    assert!(checked >= 1, "no sign-in was checked: {answers:?}");
    assert!(
        !refused.is_empty(),
        "40 hashes at once on one slot, none refused"
    );
    for (_, retry, body) in &refused {
        assert!(
            retry
                .as_deref()
                .and_then(|r| r.parse::<u64>().ok())
                .is_some_and(|r| r >= 1),
            "429 without Retry-After: {body}"
        );
        assert!(body.contains("too_many_attempts"), "{body}");
        assert!(!body.contains("storm.example"), "the email in an answer");
    }
    assert!(worst < Duration::from_secs(1), "/healthz took {worst:?}");
}

/// Distinct emails do not get round the limit: all sign-ins together get
/// `login_attempts_global_per_minute`.
#[tokio::test(flavor = "multi_thread")]
async fn the_global_sign_in_rate_holds_for_distinct_emails() {
    let server = TestServer::start_with(|c| c.login_attempts_global_per_minute = 3).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let (s, retry, _) = sign_in(&server, &format!("u{i}@global.example")).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry.is_some(), "429 without Retry-After");
        }
        statuses.push(s.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}
