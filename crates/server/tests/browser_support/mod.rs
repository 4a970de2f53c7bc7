//! What the browser tests share: chromedriver and a Chromium session, the server on
//! port 0 with a sandbox company, page helpers, screenshots into
//! `target/browser-screenshots/`, and the accessibility check (axe-core, from npm:
//! `crates/server/tests/axe/`, installed by `bash .ci/run`).
#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use roster_core::guard::Trigger;
use roster_engine::{Cipher, SyncOptions, SyncStatus, SystemClock};
use roster_server::auth::{digest, new_api_token};
use roster_server::{AppState, ServerConfig};
use roster_store::Store;
use roster_store::access::{NewApiToken, Role};
use roster_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub type Res = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub const EMAIL: &str = "hr@acme.example";
pub const PASSWORD: &str = "a long enough password";

/// `chromedriver` on a free loopback port, stopped on drop.
pub struct Driver {
    pub child: Child,
    pub url: String,
}

impl Driver {
    pub fn start() -> Driver {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({e}). The browser tests need Debian's chromium and \
                     chromium-driver: `apt-get update && apt-get install -y chromium chromium-driver` \
                     (bash .ci/run installs them when chromedriver is missing)."
                )
            });
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    pub async fn client(&self) -> Client {
        let mut caps = serde_json::Map::new();
        let mut chrome = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--window-size=1280,1600",
            ]
        });
        if let Some(bin) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
        {
            chrome["binary"] = json!(bin);
        }
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), chrome);
        let mut last = None;
        // chromedriver takes a moment to listen.
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("tls roots")
                .capabilities(caps.clone())
                .connect(&self.url)
                .await
            {
                Ok(c) => return c,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "cannot open a Chromium session through chromedriver: {last:?}. Is Debian's chromium \
             installed (apt-get install -y chromium chromium-driver)?"
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server on port 0 (its state kept, to run an automatic sync as the worker
/// would) and the sandbox.
pub struct World {
    pub base: String,
    pub state: AppState,
    pub account: i64,
    pub sandbox: roster_sandbox::RunningSandbox,
    /// An account admin's API token.
    pub token: String,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl World {
    pub async fn start() -> World {
        Self::with_members(15).await
    }

    /// A world whose sandbox company has `members` members.
    pub async fn with_members(members: usize) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("roster.db");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(path.to_str().expect("utf-8"))
                .await
                .expect("store"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = ServerConfig {
            listen: addr,
            public_url: format!("http://{addr}"),
            ..ServerConfig::default()
        };
        let cipher = Cipher::from_base64(&Cipher::generate_base64()).expect("key");
        let state = AppState::new(store.clone(), Arc::new(SystemClock), cipher, config);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(roster_server::serve_on(
            listener,
            state.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        let account = store.ensure_account("default").await.expect("account");
        // The web user, created through the API as `roster admin` would.
        let token = new_api_token();
        store
            .create_api_token(NewApiToken {
                account_id: account,
                name: "bootstrap".into(),
                role: Role::AccountAdmin,
                digest: digest(&token),
                created_at: jiff::Timestamp::now(),
            })
            .await
            .expect("token");
        let base = format!("http://{addr}");
        let res = reqwest::Client::new()
            .post(format!("{base}/api/v1/web-users"))
            .bearer_auth(&token)
            .json(&json!({ "email": EMAIL, "role": "account_admin", "password": PASSWORD }))
            .send()
            .await
            .expect("create user");
        assert_eq!(res.status().as_u16(), 201);
        let sandbox = roster_sandbox::start(
            roster_sandbox::SandboxConfig {
                members,
                ..roster_sandbox::SandboxConfig::default()
            },
            "127.0.0.1:0".parse().expect("addr"),
        )
        .await
        .expect("sandbox");
        World {
            base,
            state,
            account,
            sandbox,
            token,
            _stop: stop,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An automatic sync, as the worker runs it (guards block).
    pub async fn automatic_sync(&self, id: i64) -> SyncStatus {
        let engine = self.state.engine(self.account);
        let i = engine.integration(Some(id)).await.expect("integration");
        let source = roster_wiring::source(&engine, &i, roster_justworks::UrlPolicy::default())
            .expect("source");
        engine
            .sync(
                id,
                &source,
                SyncOptions {
                    trigger: Some(Trigger::Automatic),
                    apply: true,
                    ..SyncOptions::default()
                },
            )
            .await
            .expect("automatic sync")
            .status
    }
}

/// A call of the REST API with the world's admin token (it must succeed).
pub async fn api(w: &World, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new()
        .request(method, w.url(path))
        .bearer_auth(&w.token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("api call");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.expect("json")
}

pub async fn text(c: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await?
        .text()
        .await
}

pub async fn click(c: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await?
        .click()
        .await
}

pub async fn fill(c: &Client, css: &str, value: &str) -> Result<(), fantoccini::error::CmdError> {
    let e = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await?;
    e.clear().await?;
    e.send_keys(value).await
}

/// Click `css`, which leaves the page (a form's submit, a link), and wait until the
/// page is gone: the next page may have the elements a test waits for next, and a
/// wait that finds them on the page being left reads or clicks an element that goes
/// stale under it.
pub async fn click_to_leave(c: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    let page = c.find(Locator::Css("html")).await?;
    click(c, css).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match page.tag_name().await {
            Err(e) if e.is_stale_element_reference() => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) if std::time::Instant::now() > deadline => {
                return Err(fantoccini::error::CmdError::WaitTimeout);
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Wait until the page has `css` (after a navigation).
pub async fn wait_for(c: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .map(|_| ())
}

pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("browser-screenshots")
}

/// Save a screenshot of the page as `target/browser-screenshots/{name}.png`.
pub async fn screenshot(c: &Client, name: &str) {
    let dir = screenshot_dir();
    let file = dir.join(format!("{name}.png"));
    match c.screenshot().await {
        Ok(png) => {
            let _ = std::fs::create_dir_all(&dir);
            match std::fs::write(&file, png) {
                Ok(()) => eprintln!("screenshot: {}", file.display()),
                Err(e) => eprintln!("could not save the screenshot: {e}"),
            }
        }
        Err(e) => eprintln!("could not take a screenshot: {e}"),
    }
}

/// Run `test` in a fresh Chromium session; on failure save a screenshot of the page
/// as `{name}.png` and say where the browser was.
pub async fn in_chromium<F, Fut>(name: &str, world: Arc<World>, test: F)
where
    F: FnOnce(Client, Arc<World>) -> Fut,
    Fut: std::future::Future<Output = Res> + Send + 'static,
{
    let driver = Driver::start();
    let client = driver.client().await;
    let outcome = tokio::spawn(test(client.clone(), world)).await;
    if !matches!(outcome, Ok(Ok(()))) {
        screenshot(&client, name).await;
        if let Ok(url) = client.current_url().await {
            eprintln!("the browser was at {url}");
        }
    }
    let _ = client.close().await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e}"),
        Err(j) => std::panic::resume_unwind(j.into_panic()),
    }
}

/// Sign in through the form (from any page of the UI).
pub async fn sign_in(c: &Client, w: &World) -> Res {
    c.goto(&w.url("/login")).await?;
    wait_for(c, "input#password").await?;
    fill(c, "#email", EMAIL).await?;
    fill(c, "#password", PASSWORD).await?;
    click(c, "form button[type=submit]").await?;
    // Signing in lands on the overview, the UI's home.
    wait_for(c, "#needs-you").await?;
    assert_eq!(c.current_url().await?.path(), "/");
    Ok(())
}

/// axe-core's script, installed from npm into `crates/server/tests/axe/`.
fn axe_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}). The accessibility check needs axe-core from npm: \
             `npm ci --prefix crates/server/tests/axe` (bash .ci/run does it when missing).",
            path.display()
        )
    })
}

/// Run axe-core on the current page: no serious or critical violation of WCAG 2.x
/// A/AA (and axe's best practices) may be left. `page` names it in the failure.
pub async fn accessible(c: &Client, page: &str) -> Res {
    let loaded = c
        .execute("return typeof window.axe !== 'undefined'", vec![])
        .await?;
    if loaded.as_bool() != Some(true) {
        c.execute(&axe_source(), vec![]).await?;
    }
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ['violations'] })
                 .then(r => done(r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary) }))))
                 .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));"#,
            vec![],
        )
        .await?;
    let list = found.as_array().cloned().unwrap_or_default();
    if !list.is_empty() {
        return Err(format!(
            "{page}: {} serious or critical accessibility violations:\n{}",
            list.len(),
            serde_json::to_string_pretty(&list)?
        )
        .into());
    }
    Ok(())
}

/// Press Tab on `from`: the element the keyboard moves to must match `to`; its
/// outline (style and width) is returned, to check the focus ring is visible.
pub async fn tab_to(
    c: &Client,
    from: &str,
    to: &str,
) -> Result<String, fantoccini::error::CmdError> {
    c.execute(
        "document.querySelector(arguments[0]).focus()",
        vec![json!(from)],
    )
    .await?;
    c.find(Locator::Css(from))
        .await?
        .send_keys("\u{E004}")
        .await?;
    let v = c
        .execute(
            "const e = document.activeElement; \
             if (!e.matches(arguments[0])) return 'the focus went to ' + e.outerHTML.slice(0, 80); \
             const s = getComputedStyle(e); return s.outlineStyle + ' ' + s.outlineWidth;",
            vec![json!(to)],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}
