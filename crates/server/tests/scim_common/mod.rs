//! What the SCIM tests share: a synced sandbox company on a clock the test moves, raw
//! SCIM requests, and error checks.
#![allow(dead_code)]

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use roster_engine::FixedClock;
use roster_store::access::Role;
use serde_json::{Value, json};

use crate::common::*;

/// A server on a clock the test moves, with a sandbox company synced and applied,
/// an admin token and a viewer token (what a SCIM client gets).
pub struct Company {
    pub server: TestServer,
    pub sb: roster_sandbox::RunningSandbox,
    pub admin: String,
    pub viewer: String,
    pub integration: i64,
    pub clock: Arc<FixedClock>,
}

/// The day the company lives on (its clock starts at noon UTC).
pub fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 23)
}

impl Company {
    /// `members` sandbox members (seed 7), synced and applied at noon of [`today`].
    pub async fn start(members: usize) -> Company {
        let clock = Arc::new(FixedClock::on(today()));
        let server = TestServer::start_at(clock.clone()).await;
        let sb = roster_sandbox::start(
            roster_sandbox::SandboxConfig {
                seed: 7,
                members,
                today: today(),
                ..roster_sandbox::SandboxConfig::default()
            },
            "127.0.0.1:0".parse().expect("addr"),
        )
        .await
        .expect("sandbox");
        let admin = server.token("default", Role::AccountAdmin).await;
        let viewer = server.token("default", Role::Viewer).await;
        let integration = connect_static(&server, &admin, &sb).await;
        server
            .send(
                Method::POST,
                &format!("/api/v1/integrations/{integration}/setup-sync"),
                &admin,
                json!(null),
                200,
            )
            .await;
        let c = Company {
            server,
            sb,
            admin,
            viewer,
            integration,
            clock,
        };
        c.sync().await;
        c
    }

    /// A manual sync, applied.
    pub async fn sync(&self) {
        let review = self
            .server
            .send(
                Method::POST,
                &format!("/api/v1/integrations/{}/syncs", self.integration),
                &self.admin,
                json!({}),
                201,
            )
            .await;
        let rid = review["id"].as_i64().expect("review id");
        self.server
            .send(
                Method::POST,
                &format!("/api/v1/reviews/{rid}/apply"),
                &self.admin,
                json!({}),
                200,
            )
            .await;
    }

    /// Move the server's clock on by `minutes`.
    pub fn later(&self, minutes: i64) {
        let now = roster_engine::Clock::now(self.clock.as_ref());
        self.clock
            .set(now + jiff::SignedDuration::from_mins(minutes));
    }

    /// A SCIM GET as the viewer that must answer 200.
    pub async fn get(&self, path: &str) -> Value {
        get_ok(&self.server, path, &self.viewer).await
    }

    /// The ids of a list's resources, in order.
    pub async fn ids(&self, path: &str) -> Vec<String> {
        ids(&self.get(path).await)
    }
}

/// The ids of a ListResponse's resources, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

/// A server with a synced and applied sandbox company of 14 members: server,
/// sandbox, admin token, viewer token.
pub async fn directory() -> (TestServer, roster_sandbox::RunningSandbox, String, String) {
    let c = Company::start(14).await;
    (c.server, c.sb, c.admin, c.viewer)
}

pub const SCIM_JSON: &str = "application/scim+json";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A raw SCIM request: status, content type, ETag and the JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub etag: Option<String>,
    pub allow: Option<String>,
    pub body: Value,
}

pub async fn scim(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = server
        .http
        .request(method, format!("{}/scim/v2{path}", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", SCIM_JSON).body(b.to_string());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let status = res.status();
    let content_type = header("content-type").unwrap_or_default();
    let etag = header("etag");
    let allow = header("allow");
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        content_type,
        etag,
        allow,
        body,
    }
}

pub async fn get_ok(server: &TestServer, path: &str, token: &str) -> Value {
    let a = scim(server, Method::GET, path, Some(token), None, &[]).await;
    assert_eq!(a.status, StatusCode::OK, "GET {path}: {}", a.body);
    assert_eq!(a.content_type, SCIM_JSON, "GET {path}");
    a.body
}

pub fn assert_error(a: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(a.status.as_u16(), status, "{}", a.body);
    assert_eq!(a.content_type, SCIM_JSON);
    assert_eq!(a.body["schemas"][0], ERROR_SCHEMA);
    assert_eq!(a.body["status"], status.to_string());
    assert_eq!(a.body.get("scimType").and_then(Value::as_str), scim_type);
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
