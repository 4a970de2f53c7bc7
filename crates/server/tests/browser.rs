//! The admin web UI in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven with fantoccini: connect Justworks through the
//! sandbox's consent page, review and import the first sync, switch auto-sync on, see
//! a privacy-blocked automatic sync and push it through with the confirm checkbox,
//! edit a user's email.
//!
//! Needs `chromedriver` and `chromium` on PATH (`bash .ci/run` installs them when
//! missing). A failing run saves a screenshot to `target/browser-screenshots/`.

use std::sync::Arc;

use fantoccini::{Client, Locator};
use roster_engine::SyncStatus;

mod browser_support;
use browser_support::*;

async fn journey(c: Client, w: Arc<World>) -> Res {
    // Sign in.
    c.goto(&w.url("/integrations")).await?;
    wait_for(&c, "input#password").await?;
    fill(&c, "#email", EMAIL).await?;
    fill(&c, "#password", PASSWORD).await?;
    click(&c, "form button[type=submit]").await?;
    // Signing in lands on the overview, the UI's home; the integrations page is
    // one link away.
    wait_for(&c, "#needs-you").await?;
    assert_eq!(c.current_url().await?.path(), "/");
    c.goto(&w.url("/integrations")).await?;
    wait_for(&c, "#connect-justworks").await?;
    accessible(&c, "integrations (no integration yet)").await?;
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
    wait_for(&c, "#client_id").await?;
    accessible(&c, "connect Justworks").await?;
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
    accessible(&c, "review of the first sync").await?;
    let created: usize = text(&c, "[data-count=created]").await?.parse()?;
    assert!(created > 10, "{created} created");
    assert!(c.find_all(Locator::Css("tr.entry")).await?.len() > 10);
    // Filter by action, then import.
    let select = c
        .find(Locator::Css("#filter-form select[name=action]"))
        .await?;
    select.select_by_value("deactivate").await?;
    click_to_leave(&c, "#filter-form button").await?;
    wait_for(&c, "#entries-total").await?;
    assert!(text(&c, "#entries-total").await?.ends_with("of 0") || created < 15);
    click(&c, "#import-button").await?;
    wait_for(&c, "#import-status").await?;
    assert_eq!(text(&c, "#import-status").await?, "applied");

    // Switch auto-sync on.
    accessible(&c, "import of the first sync").await?;
    c.goto(&w.url("/integrations")).await?;
    assert_eq!(text(&c, "#integration-1 .state").await?, "Active");
    click(&c, "#autosync-on-1").await?;
    wait_for(&c, ".notice").await?;
    assert_eq!(text(&c, ".notice").await?, "Auto-sync is on.");
    let auto = text(&c, "#integration-1 .autosync").await?;
    assert!(auto.starts_with("on · daily at 02:00"), "{auto}");
    accessible(&c, "integrations (auto-sync on)").await?;

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
    accessible(&c, "review with a privacy-held employee").await?;
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
    // The unfiltered list may show the same link: the search's page first.
    click_to_leave(&c, "#search-form button").await?;
    wait_for(&c, "#search-form").await?;
    click(&c, &format!("#users a[href='/users/{eid}']")).await?;
    wait_for(&c, "#new-email").await?;
    accessible(&c, "a user's page").await?;
    fill(&c, "#new-email", "renamed@acme.example").await?;
    click(&c, "#save-email").await?;
    wait_for(&c, ".notice").await?;
    assert_eq!(text(&c, ".notice").await?, "The email is changed.");
    assert_eq!(text(&c, "#user-email").await?, "renamed@acme.example");
    c.goto(&w.url("/users")).await?;
    wait_for(&c, "#users").await?;
    accessible(&c, "users").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_journey_in_chromium() {
    let world = Arc::new(World::start().await);
    in_chromium("admin_journey_in_chromium", world, journey).await;
}
