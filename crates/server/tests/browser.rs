//! The admin web UI in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven with fantoccini: connect Justworks through the
//! sandbox's consent page, review and import the first sync, switch auto-sync on, see
//! a privacy-blocked automatic sync and push it through with the confirm checkbox,
//! edit a user's email.
//!
//! Needs `chromedriver` and `chromium` on PATH (`bash .ci/run` installs them when
//! missing). A failing run saves a screenshot to `target/browser-screenshots/`.

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
use serde_json::json;
use tokio::sync::oneshot;

type Res = Result<(), Box<dyn std::error::Error + Send + Sync>>;

const EMAIL: &str = "hr@acme.example";
const PASSWORD: &str = "a long enough password";

/// `chromedriver` on a free loopback port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
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

    async fn client(&self) -> Client {
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
struct World {
    base: String,
    state: AppState,
    account: i64,
    sandbox: roster_sandbox::RunningSandbox,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
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
                members: 15,
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
            _stop: stop,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An automatic sync, as the worker runs it (guards block).
    async fn automatic_sync(&self, id: i64) -> SyncStatus {
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

async fn text(c: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await?
        .text()
        .await
}

async fn click(c: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await?
        .click()
        .await
}

async fn fill(c: &Client, css: &str, value: &str) -> Result<(), fantoccini::error::CmdError> {
    let e = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await?;
    e.clear().await?;
    e.send_keys(value).await
}

/// Wait until the page has `css` (after a navigation).
async fn wait_for(c: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .map(|_| ())
}

async fn journey(c: Client, w: Arc<World>) -> Res {
    // Sign in.
    c.goto(&w.url("/integrations")).await?;
    wait_for(&c, "input#password").await?;
    fill(&c, "#email", EMAIL).await?;
    fill(&c, "#password", PASSWORD).await?;
    click(&c, "form button[type=submit]").await?;
    wait_for(&c, "#connect-justworks").await?;
    // The stylesheet applies under the Content-Security-Policy (no inline styles).
    let header = c
        .execute(
            "return getComputedStyle(document.querySelector('header')).backgroundColor",
            vec![],
        )
        .await?;
    assert_eq!(
        header.as_str(),
        Some("rgb(35, 57, 93)"),
        "the header is not styled: /static/roster.css did not load"
    );

    // Connect Justworks through the sandbox's consent page.
    click(&c, "#connect-justworks").await?;
    let cfg = w.sandbox.handle().config().clone();
    fill(&c, "#client_id", &cfg.client_id).await?;
    fill(&c, "#client_secret", &cfg.client_secret).await?;
    fill(&c, "#oauth_base_url", &w.sandbox.base_url()).await?;
    click(&c, "#oauth-submit").await?;
    wait_for(&c, "button[value=authorize]").await?;
    assert!(
        c.current_url()
            .await?
            .as_str()
            .starts_with(&w.sandbox.base_url()),
        "the browser is on the sandbox's consent page"
    );
    click(&c, "#share_sensitive").await?;
    click(&c, "button[value=authorize]").await?;
    // The API's callback finishes the connection and sends the browser back to the
    // Integrations page.
    wait_for(&c, "#integration-1").await?;
    assert_eq!(c.current_url().await?.path(), "/integrations");
    assert!(
        text(&c, ".notice")
            .await?
            .contains("Justworks is connected"),
        "the page says so"
    );
    assert_eq!(text(&c, "#integration-1 .state").await?, "Connected");

    // Setup sync, then review and import the first sync.
    click(&c, "#setup-sync-1").await?;
    wait_for(&c, "#integration-1 [data-state='Needs finalise']").await?;
    click(&c, "#start-sync-1").await?;
    wait_for(&c, "#counts").await?;
    let created: usize = text(&c, "[data-count=created]").await?.parse()?;
    assert!(created > 10, "{created} created");
    assert!(c.find_all(Locator::Css("tr.entry")).await?.len() > 10);
    // Filter by action, then import.
    let select = c
        .find(Locator::Css("#filter-form select[name=action]"))
        .await?;
    select.select_by_value("deactivate").await?;
    click(&c, "#filter-form button").await?;
    wait_for(&c, "#entries-total").await?;
    assert!(text(&c, "#entries-total").await?.ends_with("of 0") || created < 15);
    click(&c, "#import-button").await?;
    wait_for(&c, "#import-status").await?;
    assert_eq!(text(&c, "#import-status").await?, "applied");

    // Switch auto-sync on.
    c.goto(&w.url("/integrations")).await?;
    assert_eq!(text(&c, "#integration-1 .state").await?, "Active");
    click(&c, "#autosync-on-1").await?;
    wait_for(&c, ".notice").await?;
    assert_eq!(text(&c, ".notice").await?, "Auto-sync is on.");
    let auto = text(&c, "#integration-1 .autosync").await?;
    assert!(auto.starts_with("on · daily at 02:00"), "{auto}");

    // Next day: a name and a date of birth change at once. The automatic sync is
    // blocked by the privacy guard, and the page says so.
    let users = w
        .state
        .store
        .employees(w.account, &roster_store::EmployeeQuery::default())
        .await?;
    let eid = users[0].employee_id.clone();
    w.sandbox.handle().set_name_and_dob(
        &eid,
        &roster_sandbox::NameChange {
            family_name: Some("Okonkwo-Smith".into()),
            date_of_birth: Some(jiff::civil::date(1988, 2, 29)),
            ..roster_sandbox::NameChange::default()
        },
    )?;
    assert_eq!(w.automatic_sync(1).await, SyncStatus::Blocked);
    c.goto(&w.url("/integrations")).await?;
    assert_eq!(text(&c, "#integration-1 .state").await?, "Blocked");
    // The admin reviews a manual sync and pushes the held employee through.
    click(&c, "#start-sync-1").await?;
    wait_for(&c, "#privacy").await?;
    assert!(text(&c, "#privacy").await?.contains("(1)"));
    assert!(c.source().await?.contains("Okonkwo-Smith"));
    click(&c, "#confirm_privacy").await?;
    click(&c, "#import-button").await?;
    wait_for(&c, "#import-status").await?;
    assert_eq!(text(&c, "#import-status").await?, "applied");
    let e = w
        .state
        .engine(w.account)
        .find(&eid)
        .await
        .expect("employee");
    assert_eq!(e.last_name.as_deref(), Some("Okonkwo-Smith"));
    c.goto(&w.url("/integrations")).await?;
    assert_eq!(text(&c, "#integration-1 .state").await?, "Active");

    // Edit a user's email.
    c.goto(&w.url("/users")).await?;
    fill(&c, "#search-form input[name=search]", &eid).await?;
    click(&c, "#search-form button").await?;
    // The unfiltered list may show the same link: wait for the search's page before
    // clicking, or the click lands on the page being left (a stale element).
    for _ in 0..200 {
        if c.current_url()
            .await?
            .query()
            .is_some_and(|q| q.contains("search="))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for(&c, "#search-form").await?;
    click(&c, &format!("#users a[href='/users/{eid}']")).await?;
    wait_for(&c, "#new-email").await?;
    fill(&c, "#new-email", "renamed@acme.example").await?;
    click(&c, "#save-email").await?;
    wait_for(&c, ".notice").await?;
    assert_eq!(text(&c, ".notice").await?, "The email is changed.");
    assert_eq!(text(&c, "#user-email").await?, "renamed@acme.example");
    Ok(())
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("browser-screenshots")
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_journey_in_chromium() {
    let driver = Driver::start();
    let client = driver.client().await;
    let world = Arc::new(World::start().await);
    let outcome = tokio::spawn(journey(client.clone(), world.clone())).await;
    if !matches!(outcome, Ok(Ok(()))) {
        let dir = screenshot_dir();
        let file = dir.join("admin_journey_in_chromium.png");
        match client.screenshot().await {
            Ok(png) => {
                let _ = std::fs::create_dir_all(&dir);
                match std::fs::write(&file, png) {
                    Ok(()) => eprintln!("screenshot of the failing page: {}", file.display()),
                    Err(e) => eprintln!("could not save the screenshot: {e}"),
                }
            }
            Err(e) => eprintln!("could not take a screenshot: {e}"),
        }
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
