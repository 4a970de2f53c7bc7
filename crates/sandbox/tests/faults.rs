//! Each fault, switched on through the control API or the handle.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use roster_sandbox::{Faults, SandboxConfig};
use serde_json::{Value, json};

async fn put_faults(s: &roster_sandbox::RunningSandbox, faults: Value) -> reqwest::Response {
    client()
        .put(format!("{}/_sandbox/faults", s.base_url()))
        .json(&faults)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn faults_round_trip_through_the_control_api() {
    let s = start(5).await;
    let res = put_faults(
        &s,
        json!({"rate_limit_per_sec": 5, "latency_ms": 3, "malformed_page_rate": 0.25,
               "duplicate_across_pages": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let got: Value = client()
        .get(format!("{}/_sandbox/faults", s.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["rate_limit_per_sec"], 5);
    assert_eq!(got["latency_ms"], 3);
    assert_eq!(got["truncated_page_rate"], 0.25);
    assert_eq!(got["duplicate_across_pages"], true);
    assert_eq!(got["insert_while_paging"], false);
    assert_eq!(s.handle().faults().latency, Duration::from_millis(3));
    let res = put_faults(&s, json!({"error_rate": 2.0})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = put_faults(&s, json!({"no_such_fault": true})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        s.handle().faults().rate_limit_per_sec,
        Some(5),
        "unchanged by bad input"
    );
}

#[tokio::test]
async fn rate_limit_gives_429_with_retry_after() {
    let s = start_with(SandboxConfig {
        faults: Faults {
            rate_limit_per_sec: Some(3),
            ..Faults::default()
        },
        ..config(5)
    })
    .await;
    let token = s.mint_token(&["member.basic:read"]);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..10 {
        let res = client()
            .get(format!("{}/v1/members", s.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = res.json().await.unwrap();
            assert_eq!(error_code(&body), "rate_limited");
            statuses.push(429);
        } else {
            statuses.push(res.status().as_u16());
        }
    }
    assert_eq!(
        statuses.iter().filter(|&&c| c == 200).count()
            + statuses.iter().filter(|&&c| c == 429).count(),
        10
    );
    assert!(
        statuses.iter().filter(|&&c| c == 200).count() <= 6,
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!(secs >= 1);
    // The control API is not rate limited.
    for _ in 0..10 {
        let res = client()
            .get(format!("{}/_sandbox/info", s.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    // After the window, requests pass again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = get(&s, "/v1/members", &token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn error_rate_one_gives_5xx() {
    let s = start(5).await;
    let token = s.mint_token(ALL);
    let h = s.handle();
    h.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    let mut seen = HashSet::new();
    for path in ["/v1/members", "/v1/company", "/v1/members?limit=5"]
        .iter()
        .cycle()
        .take(30)
    {
        let (status, body) = get(&s, path, &token).await;
        assert!(status.is_server_error(), "{path}: {status}");
        assert_eq!(error_code(&body), "internal");
        seen.insert(status.as_u16());
    }
    assert!(seen.iter().all(|c| [500, 502, 503].contains(c)));
    assert!(seen.len() >= 2, "a mix of 5xx codes: {seen:?}");
    h.set_faults(Faults::default()).unwrap();
    let (status, _) = get(&s, "/v1/members", &token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn truncated_pages_are_not_json() {
    let s = start(50).await;
    let token = s.mint_token(&["member.basic:read"]);
    s.handle()
        .set_faults(Faults {
            truncated_page_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    for _ in 0..3 {
        let res = client()
            .get(format!("{}/v1/members?limit=10", s.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        assert!(!text.is_empty());
        assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    }
    // Only list pages are cut.
    let id = s.handle().members(false)[0].member["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = get(&s, &format!("/v1/members/{id}"), &token).await;
    assert_eq!(
        (status, body["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
}

#[tokio::test]
async fn duplicate_across_pages_repeats_the_previous_last_member() {
    let s = start(60).await;
    let token = s.mint_token(&["member.basic:read"]);
    s.handle()
        .set_faults(Faults {
            duplicate_across_pages: true,
            ..Faults::default()
        })
        .unwrap();
    let (_, page1) = get(&s, "/v1/members?limit=10", &token).await;
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = get(&s, &format!("/v1/members?limit=10&cursor={cursor}"), &token).await;
    assert_eq!(page2["items"][0]["id"], page1["items"][9]["id"]);
    assert_eq!(page2["items"].as_array().unwrap().len(), 10);
    let (items, _) = walk(&s, &token, "limit=10").await;
    let unique: HashSet<String> = ids(&items).into_iter().collect();
    assert_eq!(unique.len(), 60, "paging still reaches every member");
    assert!(items.len() > 60, "with duplicates");
}

#[tokio::test]
async fn insert_while_paging_hires_a_member_that_sorts_last() {
    let s = start(250).await;
    let token = s.mint_token(&["member.basic:read"]);
    s.handle()
        .set_faults(Faults {
            insert_while_paging: true,
            ..Faults::default()
        })
        .unwrap();
    let (items, pages) = walk(&s, &token, "limit=50").await;
    assert_eq!(s.handle().members(false).len(), 251);
    assert_eq!(items.len(), 251, "the new hire shows up once, at the end");
    assert_eq!(pages, 6);
    let unique: HashSet<String> = ids(&items).into_iter().collect();
    assert_eq!(unique.len(), 251);
    let newest = items.last().unwrap();
    let created: jiff::Timestamp = newest["created_at"].as_str().unwrap().parse().unwrap();
    assert!(jiff::Timestamp::now().duration_since(created) < jiff::SignedDuration::from_secs(60));
    // Only page 2 triggers it: a second walk hires exactly one more.
    let (items, _) = walk(&s, &token, "limit=50").await;
    assert_eq!(items.len(), 252);
}

#[tokio::test]
async fn latency_delays_api_responses() {
    let s = start(5).await;
    let token = s.mint_token(&["member.basic:read"]);
    s.handle()
        .set_faults(Faults {
            latency: Duration::from_millis(250),
            ..Faults::default()
        })
        .unwrap();
    let t = Instant::now();
    let (status, _) = get(&s, "/v1/members", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn early_token_expiry_ends_tokens_after_a_second() {
    let s = start(5).await;
    s.handle()
        .set_faults(Faults {
            early_token_expiry: true,
            ..Faults::default()
        })
        .unwrap();
    let token = s.mint_token(&["member.basic:read"]);
    let (status, _) = get(&s, "/v1/members", &token).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, _) = get(&s, "/v1/members", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.handle().set_faults(Faults::default()).unwrap();
    let (status, _) = get(&s, "/v1/members", &token).await;
    assert_eq!(status, StatusCode::OK, "the token's real lifetime is 24 h");
}
