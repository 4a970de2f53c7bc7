//! Helpers shared by the integration tests: a sandbox on a loopback port and a client.
#![allow(dead_code)]

use jiff::civil::Date;
use reqwest::StatusCode;
use roster_sandbox::{RunningSandbox, SandboxConfig};
use serde_json::Value;

pub fn today() -> Date {
    Date::new(2025, 6, 2).unwrap()
}

pub fn config(members: usize) -> SandboxConfig {
    SandboxConfig {
        seed: 7,
        members,
        today: today(),
        ..SandboxConfig::default()
    }
}

pub async fn start(members: usize) -> RunningSandbox {
    start_with(config(members)).await
}

pub async fn start_with(config: SandboxConfig) -> RunningSandbox {
    roster_sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("sandbox starts")
}

/// A client that does not follow redirects (the OAuth tests read `Location`).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub const ALL: &[&str] = &[
    "company.detail:read",
    "member.detail:read",
    "member.dob:read",
    "member.sex:read",
    "member.employment:read",
    "member.tax_id:read",
];

/// GET with a bearer token; returns the status and the JSON body (Null if not JSON).
pub async fn get(s: &RunningSandbox, path: &str, token: &str) -> (StatusCode, Value) {
    let res = client()
        .get(format!("{}{path}", s.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Walks `/v1/members` with `query` (e.g. `limit=7&status=active`) to the end.
/// Returns the items and the number of pages.
pub async fn walk(s: &RunningSandbox, token: &str, query: &str) -> (Vec<Value>, usize) {
    let c = client();
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = format!("{}/v1/members?{query}", s.base_url());
        if let Some(cur) = &cursor {
            url.push_str("&cursor=");
            url.push_str(cur);
        }
        let res = c.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET {url}");
        let body: Value = res.json().await.unwrap();
        pages += 1;
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match body.get("next_cursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 100_000, "runaway paging");
    }
    (items, pages)
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or("")
}

/// The first error's message, as the API and the control API write it.
pub fn error_message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap()
}
