//! Personal data in a real headless Chromium (issue #17): the retention page lists
//! who is due; a legal hold placed on a user's page takes them out of it, released
//! puts them back; "Apply retention now" goes through a confirmation page; the
//! erase confirmation page. Every page is checked with axe-core (no serious or
//! critical violation).
//!
//! Needs `chromedriver`, `chromium` and axe-core from npm (`bash .ci/run` installs
//! what is missing).

use std::sync::Arc;

use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::json;

mod browser_support;
use browser_support::*;

/// The employee IDs in the table `css` (rows carry `data-employee`).
async fn rows(c: &Client, css: &str) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let mut out = Vec::new();
    for r in c
        .find_all(Locator::Css(&format!("{css} tr[data-employee]")))
        .await?
    {
        out.extend(r.attr("data-employee").await?);
    }
    Ok(out)
}

/// Two members who left 60 days ago, synced; retention on at 30 days. Their
/// employee IDs.
async fn two_leavers(
    w: &World,
) -> Result<(String, String), Box<dyn std::error::Error + Send + Sync>> {
    let token = w.sandbox.mint_token(&roster_sandbox::all_scopes());
    let i = api(
        w,
        Method::POST,
        "/api/v1/integrations/justworks",
        Some(json!({ "base_url": w.sandbox.base_url(), "token": token })),
    )
    .await;
    let id = i["integration"]["id"].as_i64().expect("integration id");
    api(
        w,
        Method::POST,
        &format!("/api/v1/integrations/{id}/setup-sync"),
        None,
    )
    .await;
    let left = jiff::Zoned::now()
        .date()
        .checked_sub(jiff::Span::new().days(60))?;
    let h = w.sandbox.handle();
    let sources: Vec<String> = h
        .members(false)
        .into_iter()
        .map(|l| l.member)
        .filter(|m| m["active"] == true && m.get("manager").is_some())
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .filter(|id| h.terminate(id, left).is_ok())
        .take(2)
        .collect();
    assert_eq!(sources.len(), 2, "two members could leave");
    let review = api(
        w,
        Method::POST,
        &format!("/api/v1/integrations/{id}/syncs"),
        Some(json!({})),
    )
    .await;
    let rid = review["id"].as_i64().expect("review id");
    api(
        w,
        Method::POST,
        &format!("/api/v1/reviews/{rid}/apply"),
        Some(json!({})),
    )
    .await;
    api(
        w,
        Method::PUT,
        &format!("/api/v1/integrations/{id}/settings"),
        Some(json!({ "retention_days": "30" })),
    )
    .await;
    let users = api(
        w,
        Method::GET,
        "/api/v1/users?include_deactivated=true&limit=100",
        None,
    )
    .await;
    let id_of = |source: &str| {
        users["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["source_id"] == source)
            .and_then(|u| u["employee_id"].as_str())
            .map(str::to_string)
            .expect("the leaver in the directory")
    };
    Ok((id_of(&sources[0]), id_of(&sources[1])))
}

async fn privacy_pages(c: Client, w: Arc<World>) -> Res {
    let (a, b) = two_leavers(&w).await?;
    sign_in(&c, &w).await?;

    // The retention page, from the overview's retention card (and the menu): both
    // due, with the fields replaced.
    assert!(
        c.find(Locator::Css("nav a[href='/retention']"))
            .await
            .is_ok()
    );
    click(&c, "#retention-link").await?;
    wait_for(&c, "#retention-due").await?;
    // (The sandbox's company may have a former employee due of its own.)
    let due = rows(&c, "#retention-due").await?;
    assert!(due.contains(&a) && due.contains(&b), "{due:?}");
    assert!(text(&c, "#retention-due").await?.contains("First name"));
    assert!(text(&c, "#no-holds").await?.contains("No retention holds"));
    accessible(&c, "retention page").await?;
    screenshot(&c, "retention").await;

    // A legal hold on A's page: A leaves the due list, and is listed as held.
    c.goto(&w.url(&format!("/users/{a}"))).await?;
    wait_for(&c, "#hold-form").await?;
    assert!(
        c.find(Locator::Css("#export-person")).await.is_ok(),
        "the download link"
    );
    accessible(&c, "user page with the hold form").await?;
    fill(&c, "#hold-reason", "legal hold: case 14").await?;
    click(&c, "#place-hold").await?;
    wait_for(&c, "#hold-status").await?;
    assert_eq!(text(&c, "#hold-reason-text").await?, "legal hold: case 14");
    assert!(
        text(&c, "p.notice")
            .await?
            .contains("Retention hold placed")
    );
    accessible(&c, "user page with a hold").await?;
    c.goto(&w.url("/retention")).await?;
    wait_for(&c, "#retention-holds").await?;
    let due = rows(&c, "#retention-due").await?;
    assert!(!due.contains(&a) && due.contains(&b), "{due:?}");
    assert_eq!(rows(&c, "#retention-holds").await?, vec![a.clone()]);
    accessible(&c, "retention page with a hold").await?;

    // Released: due again.
    c.goto(&w.url(&format!("/users/{a}"))).await?;
    click(&c, "#release-hold").await?;
    wait_for(&c, "#hold-form").await?;
    assert!(text(&c, "p.notice").await?.contains("released"));
    c.goto(&w.url("/retention")).await?;
    wait_for(&c, "#retention-due").await?;
    assert!(rows(&c, "#retention-due").await?.contains(&a));

    // Held again, then "Apply retention now" through its confirmation page: not A.
    c.goto(&w.url(&format!("/users/{a}"))).await?;
    fill(&c, "#hold-reason", "legal hold: case 14").await?;
    click(&c, "#place-hold").await?;
    wait_for(&c, "#hold-status").await?;
    c.goto(&w.url("/retention")).await?;
    click(&c, "#apply-retention").await?;
    wait_for(&c, "#confirm-retention").await?;
    assert!(text(&c, "#apply-list").await?.contains(&b));
    assert!(!text(&c, "#apply-list").await?.contains(&a));
    accessible(&c, "retention confirmation page").await?;
    screenshot(&c, "retention_apply").await;
    click(&c, "#confirm-retention").await?;
    wait_for(&c, "#nobody-due").await?;
    assert!(text(&c, "p.notice").await?.contains("Retention applied"));
    assert_eq!(rows(&c, "#retention-holds").await?, vec![a.clone()]);
    accessible(&c, "retention page after applying").await?;

    // The erase confirmation page (A's, still whole), then the erasure itself.
    c.goto(&w.url(&format!("/users/{a}"))).await?;
    click(&c, "#erase-link").await?;
    wait_for(&c, "#confirm-erase").await?;
    wait_for(&c, "#confirm-remove").await?;
    accessible(&c, "erase confirmation page").await?;
    screenshot(&c, "erase").await;
    click(&c, "#confirm-erase").await?;
    wait_for(&c, "p.notice").await?;
    assert!(text(&c, "p.notice").await?.contains("Erased"));
    assert!(text(&c, "h1").await?.contains("Former employee"));
    accessible(&c, "user page after an erasure").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_holds_and_erasure_pages_in_chromium() {
    let world = Arc::new(World::with_members(10).await);
    in_chromium("retention_holds_and_erasure", world, privacy_pages).await;
}
