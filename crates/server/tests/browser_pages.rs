//! The admin UI's pictures in a real headless Chromium: the overview (dashboard), the
//! org chart with a broken line and a cycle, a review with findings grouped by cause
//! and a privacy-held employee, and the import it leads to. Every page visited is
//! checked with axe-core (no serious or critical violation), and each of the four
//! is saved as a screenshot into `target/browser-screenshots/` for a reviewer.
//!
//! Needs `chromedriver`, `chromium` and axe-core from npm (`bash .ci/run` installs
//! what is missing).

use std::sync::Arc;

use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::json;

mod browser_support;
use browser_support::*;

async fn count(c: &Client, css: &str) -> Result<usize, fantoccini::error::CmdError> {
    Ok(c.find_all(Locator::Css(css)).await?.len())
}

async fn pages(c: Client, w: Arc<World>) -> Res {
    // A company connected with a token, its first sync imported from the UI.
    let token = w.sandbox.mint_token(&roster_sandbox::all_scopes());
    api(
        &w,
        Method::POST,
        "/api/v1/integrations/justworks",
        Some(json!({ "base_url": w.sandbox.base_url(), "token": token })),
    )
    .await;
    sign_in(&c, &w).await?;
    c.goto(&w.url("/integrations")).await?;
    click(&c, "#setup-sync-1").await?;
    wait_for(&c, "#integration-1 [data-state='Needs finalise']").await?;
    click(&c, "#start-sync-1").await?;
    wait_for(&c, "#counts").await?;
    click(&c, "#import-button").await?;
    wait_for(&c, "#import-status").await?;

    // The source breaks three reporting lines and changes someone's name and date
    // of birth at once.
    let users = api(&w, Method::GET, "/api/v1/users?limit=100", None).await;
    let ids: Vec<String> = users["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| u["is_manager"] == false)
        .take(5)
        .filter_map(|u| u["employee_id"].as_str().map(str::to_string))
        .collect();
    let h = w.sandbox.handle();
    h.set_manager(&ids[0], Some(&ids[1]))?;
    h.set_manager(&ids[1], Some(&ids[0]))?;
    h.set_manager(&ids[3], Some(&ids[2]))?;
    h.set_work_email(&ids[2], None)?;
    h.set_name_and_dob(
        &ids[4],
        &roster_sandbox::NameChange {
            family_name: Some("Okonkwo-Smith".into()),
            date_of_birth: Some(jiff::civil::date(1988, 2, 29)),
            ..roster_sandbox::NameChange::default()
        },
    )?;

    // The review: findings grouped by cause with the members, the held employee.
    c.goto(&w.url("/integrations")).await?;
    click(&c, "#start-sync-1").await?;
    wait_for(&c, "#issues").await?;
    assert_eq!(count(&c, ".issue-group[data-code=manager_cycle]").await?, 1);
    assert_eq!(
        count(&c, ".issue-group[data-code=manager_no_work_email]").await?,
        1
    );
    let cycle = text(&c, ".issue-group[data-code=manager_cycle] h3").await?;
    assert!(cycle.ends_with(": 1"), "{cycle}");
    assert!(text(&c, "#held").await?.contains("Okonkwo-Smith"));
    assert!(
        text(&c, "#guards")
            .await?
            .contains("1 employee has two or more")
    );
    accessible(&c, "review with grouped findings and a held employee").await?;
    screenshot(&c, "review").await;

    // Imported without the confirmation: the import page in words.
    click(&c, "#import-button").await?;
    wait_for(&c, "#import-status").await?;
    assert_eq!(text(&c, "#import-status").await?, "partially_applied");
    assert!(
        text(&c, "h1")
            .await?
            .contains("applied except the privacy-held")
    );
    assert!(text(&c, "#held").await?.contains("Okonkwo-Smith"));
    assert!(!c.source().await?.contains("{&quot;"), "no raw JSON");
    accessible(&c, "import with a held employee").await?;
    screenshot(&c, "import").await;

    // The overview: the held employee one click away, the charts with their numbers.
    click(&c, "header a.brand").await?;
    wait_for(&c, "#needs-you").await?;
    assert!(
        text(&c, "#needs-you")
            .await?
            .contains("held by the privacy guard")
    );
    assert!(
        text(&c, "#integration-1 .outcome")
            .await?
            .contains("See the 1 employee held")
    );
    assert_eq!(count(&c, "#headcount svg.chart circle.dot").await?, 2);
    assert!(
        count(
            &c,
            "#import-changes svg.chart rect[fill='url(#pat-updated)']"
        )
        .await?
            >= 2
    );
    accessible(&c, "overview").await?;
    screenshot(&c, "dashboard").await;
    click(&c, "#integration-1 .outcome a").await?;
    wait_for(&c, "#held").await?;

    // The org chart: teams open and close without JavaScript; the broken lines.
    c.goto(&w.url("/org")).await?;
    wait_for(&c, "#org-tree").await?;
    assert_eq!(count(&c, "#org-tree .broken-cycle").await?, 1);
    assert!(count(&c, "#org-tree .broken-no-work-email").await? >= 1);
    assert!(text(&c, "#broken-lines").await?.contains("closed a cycle"));
    let shown = |c: Client| async move {
        c.execute(
            "return [...document.querySelectorAll('#org-tree li')].filter(l => l.offsetParent !== null).length",
            vec![],
        )
        .await
        .map(|v| v.as_u64().unwrap_or(0))
    };
    let before = shown(c.clone()).await?;
    click(&c, "#org-tree details[open] > summary").await?;
    let after = shown(c.clone()).await?;
    assert!(
        after < before,
        "closing a team hides it: {before} → {after}"
    );
    click(&c, "#org-tree details:not([open]) > summary").await?;
    // Keyboard: Tab from the person at the top reaches their team's toggle, with a
    // visible focus ring.
    let ring = tab_to(&c, "#org-tree > li:first-child > a", "#org-tree summary").await?;
    assert!(ring.starts_with("solid 3px"), "{ring}");
    accessible(&c, "org chart").await?;
    screenshot(&c, "org").await;
    // Search with the form: the person, their chain, the tree opened to them.
    let last = text(&c, "#broken-lines tr.broken-cycle td a").await?;
    fill(&c, "#org-q", &last).await?;
    click(&c, "#org-search button").await?;
    wait_for(&c, "#org-hits").await?;
    assert!(count(&c, "#org-tree mark").await? >= 1);
    accessible(&c, "org chart search").await?;

    // The checker itself fails on a page that breaks a rule.
    c.execute(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')",
        vec![],
    )
    .await?;
    assert!(
        accessible(&c, "a page with an unlabelled input")
            .await
            .is_err(),
        "axe finds an unlabelled input"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn overview_org_chart_review_and_import_in_chromium() {
    let world = Arc::new(World::with_members(16).await);
    in_chromium("overview_org_chart_review_and_import", world, pages).await;
}
