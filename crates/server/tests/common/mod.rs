//! A real server on port 0 over a real SQLite store, and a Justworks sandbox.
#![allow(dead_code)]

mod syncs;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use roster_engine::{Cipher, Clock, SystemClock};
use roster_server::auth::{digest, new_api_token};
use roster_server::{AppState, ServerConfig};
use roster_store::Store;
use roster_store::access::{NewApiToken, Role};
use roster_store_sqlite::SqliteStore;
use serde_json::Value;
use tokio::sync::oneshot;

pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn Store>,
    /// The server's shared state (a clone: the same caches and clients).
    pub state: AppState,
    pub http: reqwest::Client,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `tune` adjusts.
    pub async fn start_with(tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("roster.db");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(path.to_str().expect("utf-8"))
                .await
                .expect("open store"),
        );
        Self::start_on(store, dir, tune).await
    }

    /// A server on `store` (of any backend); `dir` lives as long as the server.
    pub async fn start_on(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        tune: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        Self::start_with_clock(store, dir, Arc::new(SystemClock), tune).await
    }

    /// A server on a fresh SQLite store whose clock is `clock` (fixed-date tests).
    pub async fn start_at(clock: Arc<dyn Clock>) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("roster.db");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(path.to_str().expect("utf-8"))
                .await
                .expect("open store"),
        );
        Self::start_with_clock(store, dir, clock, |_| {}).await
    }

    async fn start_with_clock(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        clock: Arc<dyn Clock>,
        tune: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = ServerConfig {
            listen: addr,
            public_url: format!("http://{addr}"),
            ..ServerConfig::default()
        };
        tune(&mut config);
        let cipher = Cipher::from_base64(&Cipher::generate_base64()).expect("key");
        let mut state = AppState::new(store.clone(), clock, cipher, config);
        if let Some(h) = roster_server::metrics::install() {
            state = state.with_metrics(h);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let shared = state.clone();
        tokio::spawn(roster_server::serve_on(listener, state, async move {
            let _ = stopped.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            store,
            state: shared,
            http: reqwest::Client::new(),
            _stop: stop,
            _dir: dir,
        }
    }

    /// A token of `role` in the account named `account`.
    pub async fn token(&self, account: &str, role: Role) -> String {
        let account = self.store.ensure_account(account).await.expect("account");
        let token = new_api_token();
        self.store
            .create_api_token(NewApiToken {
                account_id: account,
                name: format!("test {}", role.as_str()),
                role,
                digest: digest(&token),
                created_at: jiff::Timestamp::now(),
            })
            .await
            .expect("token");
        token
    }

    /// Send a request; `body` as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn get(&self, path: &str, token: &str) -> Value {
        let (s, v) = self.call(Method::GET, path, Some(token), None).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
        v
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
        want: u16,
    ) -> Value {
        let (s, v) = self
            .call(method.clone(), path, Some(token), Some(body))
            .await;
        assert_eq!(s.as_u16(), want, "{method} {path}: {v}");
        v
    }
}

pub async fn sandbox(members: usize) -> roster_sandbox::RunningSandbox {
    roster_sandbox::start(
        roster_sandbox::SandboxConfig {
            members,
            ..roster_sandbox::SandboxConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox")
}

/// A server whose clock stands on 2026-11-23 and a sandbox company of `members`
/// (seed 7) on the same day: output that depends on neither the date nor chance.
pub async fn fixed_date_company(members: usize) -> (TestServer, roster_sandbox::RunningSandbox) {
    let today = jiff::civil::date(2026, 11, 23);
    let server = TestServer::start_at(Arc::new(roster_engine::FixedClock::on(today))).await;
    let sb = roster_sandbox::start(
        roster_sandbox::SandboxConfig {
            seed: 7,
            members,
            today,
            ..roster_sandbox::SandboxConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox");
    (server, sb)
}

/// Connect the sandbox with a static token (all scopes); returns the integration id.
pub async fn connect_static(
    server: &TestServer,
    admin: &str,
    sb: &roster_sandbox::RunningSandbox,
) -> i64 {
    let token = sb.mint_token(&roster_sandbox::all_scopes());
    let v = server
        .send(
            Method::POST,
            "/api/v1/integrations/justworks",
            admin,
            serde_json::json!({ "base_url": sb.base_url(), "token": token }),
            201,
        )
        .await;
    v["integration"]["id"].as_i64().expect("integration id")
}

/// Hidden inputs of the consent page's form.
pub fn form_fields(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for tag in html.split('<').filter(|t| t.starts_with("input ")) {
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            let start = tag.find(&key)? + key.len();
            let end = tag[start..].find('"')? + start;
            Some(
                tag[start..end]
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&#x27;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        };
        if attr("type").as_deref() == Some("hidden")
            && let (Some(n), Some(v)) = (attr("name"), attr("value"))
        {
            fields.push((n, v));
        }
    }
    fields
}
