//! The admin UI's pictures over real HTTP: the overview (dashboard), the org chart,
//! and the review and import pages in plain words, on a sandbox company whose
//! reporting lines are broken on purpose.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{TestServer, connect_static, sandbox};
use reqwest::{Method, StatusCode};
use roster_core::guard::Trigger;
use roster_engine::{SyncOptions, SyncStatus};
use roster_store::access::Role;
use serde_json::json;

const PASSWORD: &str = "a long enough password";

struct Page {
    status: StatusCode,
    html: String,
}

struct Admin {
    b: reqwest::Client,
    csrf: String,
    base: String,
}

impl Admin {
    async fn sign_in(server: &TestServer) -> Admin {
        let admin = server.token("default", Role::AccountAdmin).await;
        server
            .send(
                Method::POST,
                "/api/v1/web-users",
                &admin,
                json!({ "email": "hr@acme.example", "role": "account_admin", "password": PASSWORD }),
                201,
            )
            .await;
        let b = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let res = b
            .post(format!("{}/login", server.base))
            .form(&[("email", "hr@acme.example"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let html = res.text().await.unwrap();
        let key = "name=\"csrf_token\" value=\"";
        let start = html.find(key).unwrap() + key.len();
        let end = html[start..].find('"').unwrap() + start;
        Admin {
            csrf: html[start..end].to_string(),
            b,
            base: server.base.clone(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        let res = self
            .b
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Page {
            status: res.status(),
            html: res.text().await.unwrap(),
        }
    }

    /// Post a form (with the CSRF token); the path the redirects end on and the page.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (String, Page) {
        let mut form = form.to_vec();
        form.push(("csrf_token", &self.csrf));
        let res = self
            .b
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        let path = res.url().path().to_string();
        (
            path,
            Page {
                status: res.status(),
                html: res.text().await.unwrap(),
            },
        )
    }
}

impl Admin {
    async fn setup_sync(&self, integration: i64) {
        self.post(&format!("/integrations/{integration}/setup-sync"), &[])
            .await;
    }

    /// A sync from the UI: the path of its review page.
    async fn sync(&self, integration: i64) -> String {
        self.post(&format!("/integrations/{integration}/sync"), &[])
            .await
            .0
    }

    /// Imports a review: the path the import ends on.
    async fn import(&self, review: &str) -> String {
        self.post(&format!("{review}/import"), &[]).await.0
    }
}

/// A server, a sandbox company of `members` connected to its default account, an
/// admin token, the integration's id, and an admin signed in to the UI.
async fn company(
    members: usize,
) -> (
    TestServer,
    roster_sandbox::RunningSandbox,
    String,
    i64,
    Admin,
) {
    let server = TestServer::start().await;
    let sb = sandbox(members).await;
    let token = server.token("default", Role::AccountAdmin).await;
    let id = connect_static(&server, &token, &sb).await;
    let admin = Admin::sign_in(&server).await;
    (server, sb, token, id, admin)
}

/// An automatic sync, as the worker runs it (guards block).
async fn automatic_sync(server: &TestServer, id: i64) -> SyncStatus {
    let account = server.store.ensure_account("default").await.unwrap();
    let engine = server.state.engine(account);
    let i = engine.integration(Some(id)).await.unwrap();
    let source =
        roster_wiring::source(&engine, &i, roster_justworks::UrlPolicy::default()).unwrap();
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
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_says_how_each_integration_is_and_draws_the_company() {
    let (server, sb, token, id, admin) = company(20).await;

    // Before the first sync the overview says what to do.
    let home = admin.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.html);
    assert!(home.html.contains("What needs you now"), "{}", home.html);
    assert!(home.html.contains("run the setup sync"), "{}", home.html);

    admin.setup_sync(id).await;
    let review = admin.sync(id).await;
    let done = admin.import(&review).await;
    assert!(done.starts_with("/imports/"), "{done}");

    let home = admin.get("/").await;
    assert!(
        home.html.contains("Last sync applied") && home.html.contains("20 created"),
        "{}",
        home.html
    );
    let active = server.get("/api/v1/users?limit=1", &token).await["total"]
        .as_u64()
        .unwrap();
    assert!(
        home.html
            .contains(&format!("Headcount: {active} active employees")),
        "{}",
        home.html
    );
    // The charts are SVG with the numbers as text, and as tables.
    assert!(home.html.contains("<svg class=\"chart\""));
    assert!(home.html.contains("<polyline points="));
    assert!(home.html.contains("id=\"headcount-table\""));
    assert!(
        home.html.contains("<td>before</td><td>0</td>"),
        "{}",
        home.html
    );
    assert!(home.html.contains("fill=\"url(#pat-created)\""));
    assert!(home.html.contains("id=\"imports-table\""));
    assert!(home.html.contains("Auto-sync is off"));

    // A name and a date of birth change at once: the automatic sync is blocked, and
    // the overview names the guard and the way through.
    let users = server.get("/api/v1/users?limit=1", &token).await;
    let eid = users["items"][0]["employee_id"]
        .as_str()
        .unwrap()
        .to_string();
    sb.handle()
        .set_name_and_dob(
            &eid,
            &roster_sandbox::NameChange {
                family_name: Some("Okonkwo-Smith".into()),
                date_of_birth: Some(jiff::civil::date(1988, 2, 29)),
                ..roster_sandbox::NameChange::default()
            },
        )
        .unwrap();
    assert_eq!(automatic_sync(&server, id).await, SyncStatus::Blocked);
    let home = admin.get("/").await;
    assert!(home.html.contains("Last sync blocked"), "{}", home.html);
    assert!(
        home.html.contains(
            "Privacy guard: 1 employee has two or more of name, date of birth and email changing at once"
        ),
        "{}",
        home.html
    );
    assert!(home.html.contains("To push it through"));
    assert!(home.html.contains(&format!("id=\"push-{id}\"")));

    // Imported without the confirmation: the held employee is one click away.
    let review = admin.sync(id).await;
    admin.import(&review).await;
    let home = admin.get("/").await;
    assert!(
        home.html.contains("1 employee held by the privacy guard"),
        "{}",
        home.html
    );
    assert!(
        home.html.contains("#held\">See the 1 employee held"),
        "{}",
        home.html
    );
}

/// The company after its first sync, then three broken reporting lines in the
/// source: a cycle (A ↔ B), a manager without a work email (C, manager of D), and a
/// privacy change (E); the second sync's review is returned, not imported.
struct Broken {
    server: TestServer,
    _sb: roster_sandbox::RunningSandbox,
    admin: Admin,
    token: String,
    /// A, B, C, D, E (employee IDs).
    ids: Vec<String>,
    review: String,
}

async fn broken_company() -> Broken {
    let (server, sb, token, id, admin) = company(16).await;
    admin.setup_sync(id).await;
    let review = admin.sync(id).await;
    admin.import(&review).await;
    let users = server.get("/api/v1/users?limit=100", &token).await;
    let ids: Vec<String> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["is_manager"] == false)
        .take(5)
        .map(|u| u["employee_id"].as_str().unwrap().to_string())
        .collect();
    let h = sb.handle();
    h.set_manager(&ids[0], Some(&ids[1])).unwrap();
    h.set_manager(&ids[1], Some(&ids[0])).unwrap();
    h.set_manager(&ids[3], Some(&ids[2])).unwrap();
    h.set_work_email(&ids[2], None).unwrap();
    h.set_name_and_dob(
        &ids[4],
        &roster_sandbox::NameChange {
            family_name: Some("Okonkwo-Smith".into()),
            date_of_birth: Some(jiff::civil::date(1988, 2, 29)),
            ..roster_sandbox::NameChange::default()
        },
    )
    .unwrap();
    let review = admin.sync(id).await;
    assert!(review.starts_with("/reviews/"), "{review}");
    Broken {
        server,
        _sb: sb,
        admin,
        token,
        ids,
        review,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_org_chart_draws_the_tree_and_its_broken_lines() {
    let w = broken_company().await;
    // Before the import the chart is the company as it is: a whole tree.
    let org = w.admin.get("/org").await;
    assert_eq!(org.status, StatusCode::OK, "{}", org.html);
    assert!(org.html.contains("id=\"org-tree\""));
    assert!(
        org.html
            .contains("<details class=\"team-toggle\" open><summary>team of "),
        "{}",
        org.html
    );
    assert!(org.html.contains("team of "), "{}", org.html);
    // Imported with the privacy-held employee confirmed.
    let (done, _) = w
        .admin
        .post(
            &format!("{}/import", w.review),
            &[("confirm_privacy", "yes")],
        )
        .await;
    assert!(done.starts_with("/imports/"), "{done}");
    let org = w.admin.get("/org").await;
    // The cycle's dropped link and the manager without a work email are drawn as
    // broken lines, each with its fix.
    assert!(
        org.html.contains("class=\"broken broken-cycle\""),
        "{}",
        org.html
    );
    assert!(org.html.contains("closed a cycle"), "{}", org.html);
    let imp = w
        .server
        .get(&format!("/api/v1{done}?limit=1"), &w.token)
        .await;
    assert!(
        org.html.contains("class=\"broken-no-work-email\""),
        "{}",
        imp["details"]["issues"]
    );
    assert!(
        org.html
            .contains("Give the manager a work email in the source.")
    );
    assert!(org.html.contains("id=\"broken-lines\""));

    // Search: the person, their chain to the top, the path opened in the tree.
    let user = w
        .server
        .get(&format!("/api/v1/users/{}", w.ids[1]), &w.token)
        .await;
    let last = user["employee"]["last_name"].as_str().unwrap().to_string();
    let found = w.admin.get(&format!("/org?q={last}")).await;
    assert!(found.html.contains("found for"), "{}", found.html);
    assert!(found.html.contains("<mark>"), "{}", found.html);

    // A subtree with a depth limit: deeper teams are links.
    let top = w.server.get("/api/v1/users?limit=100", &w.token).await;
    let manager = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["is_manager"] == true)
        .map(|u| u["employee_id"].as_str().unwrap().to_string())
        .unwrap();
    let sub = w.admin.get(&format!("/org?root={manager}&depth=1")).await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.html);
    assert!(sub.html.contains("id=\"org-root\""), "{}", sub.html);
    assert!(sub.html.contains("show this team"), "{}", sub.html);
    let missing = w.admin.get("/org?root=nobody").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // People, not ids: a manager's page shows their reports and their place in the
    // tree; a report's page names the manager, linked.
    let page = w.admin.get(&format!("/users/{manager}")).await;
    assert!(page.html.contains("id=\"place\""), "{}", page.html);
    assert!(page.html.contains("id=\"reports\""), "{}", page.html);
    let report = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["manager_email"].is_string() && u["active"] == true)
        .unwrap();
    let page = w
        .admin
        .get(&format!(
            "/users/{}",
            report["employee_id"].as_str().unwrap()
        ))
        .await;
    let dd = &page.html[page.html.find("id=\"user-manager\"").unwrap()..];
    assert!(
        dd.starts_with("id=\"user-manager\"><a href=\"/users/"),
        "{dd}"
    );
    assert!(
        page.html.contains("Reports to <a href=\"/users/"),
        "{}",
        page.html
    );
    let boss = w
        .server
        .get(
            &format!(
                "/api/v1/users/{}",
                report["manager_email"].as_str().unwrap()
            ),
            &w.token,
        )
        .await;
    let boss_id = boss["employee"]["employee_id"].as_str().unwrap();
    let list = w.admin.get("/users?search=").await;
    let rid = report["employee_id"].as_str().unwrap();
    let row = &list.html[list
        .html
        .find(&format!("<a href=\"/users/{rid}\">"))
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains(&format!("<td><a href=\"/users/{boss_id}\">")),
        "the manager is named and linked in the list: {row}"
    );
}

/// What a page must never print: JSON objects or arrays as stored.
fn assert_no_json(html: &str) {
    for raw in ["{&quot;", "{\"", "[{", "&quot;:", "\":"] {
        assert!(!html.contains(raw), "raw JSON ({raw}) on the page:\n{html}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reviews_and_imports_read_in_plain_words() {
    let w = broken_company().await;
    let review = w.admin.get(&w.review).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.html);
    // Findings grouped by cause, with a count and the members by name.
    assert!(review.html.contains("id=\"issues\""), "{}", review.html);
    assert!(
        review
            .html
            .contains("Reporting line closing a cycle: the link is dropped: 1"),
        "{}",
        review.html
    );
    // Members known by their source ID are named and linked too, and so is the
    // manager a message names by ID.
    let group = &review.html[review
        .html
        .find("data-code=\"manager_no_work_email\"")
        .unwrap()..];
    let group = &group[..group.find("</div>").unwrap()];
    assert!(group.contains("<a href=\"/users/"), "{group}");
    assert!(!group.contains("member #"), "{group}");
    let manager = w
        .server
        .get(&format!("/api/v1/users/{}", w.ids[2]), &w.token)
        .await;
    let manager_name = manager["employee"]["last_name"].as_str().unwrap();
    assert!(group.contains(manager_name), "the manager by name: {group}");
    // The guard's finding as a sentence, the held employee by name with the change.
    assert!(
        review.html.contains(
            "1 employee has two or more of name, date of birth and email changing at once"
        )
    );
    assert!(review.html.contains("id=\"held\""));
    let held = &review.html[review.html.find("id=\"held\"").unwrap()..];
    let held = &held[..held.find("</table>").unwrap()];
    assert!(held.contains("Okonkwo-Smith"), "{held}");
    assert!(held.contains("<del class=\"old\">") && held.contains("<ins class=\"new\">"));
    assert!(held.contains("<th scope=\"row\">Last name</th>"), "{held}");
    // What changes, by field.
    assert!(review.html.contains("id=\"field-summary\""));
    assert!(review.html.contains("<td>Manager</td>"), "{}", review.html);
    assert_no_json(&review.html);

    // Imported without confirming: the import page says the same in words.
    let (done, page) = w.admin.post(&format!("{}/import", w.review), &[]).await;
    assert!(done.starts_with("/imports/"), "{done}");
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html
            .contains("applied except the privacy-held employees")
    );
    assert!(
        page.html
            .contains("id=\"import-status\">partially_applied<")
    );
    assert!(
        page.html.contains("Held by the privacy guard (1)"),
        "{}",
        page.html
    );
    assert!(page.html.contains("Okonkwo-Smith"));
    assert!(page.html.contains("Reporting line closing a cycle"));
    assert!(
        page.html
            .contains("Members read</dt><dd>16 from the source"),
        "{}",
        page.html
    );
    assert_no_json(&page.html);
    // The history lists integrations by name, outcomes in words.
    let list = w.admin.get("/imports").await;
    assert!(list.html.contains("<td>Justworks</td>"), "{}", list.html);
    assert!(
        list.html
            .contains("applied except the privacy-held employees")
    );
    let _ = &w.ids;
}

/// Post a users file (multipart, as a browser sends it) for review; the path the
/// redirects end on.
async fn upload_users_file(admin: &Admin, text: &str) -> String {
    let boundary = "roster-test-boundary";
    let mut body = String::new();
    for (name, extra, value) in [
        ("csrf_token", "", admin.csrf.as_str()),
        ("mode", "", "partial"),
        ("file", "; filename=\"users.csv\"", text),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let res = admin
        .b
        .post(format!("{}/files/import", admin.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.url().path().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_lists_reviews_waiting_for_the_admin() {
    let (_server, _sb, _token, id, admin) = company(6).await;
    admin.setup_sync(id).await;
    let listed = |html: &str, review: &str| html.contains(&format!("<a href=\"{review}\">"));

    // A sync waiting for its import is listed, linked to its review page, until it
    // is imported.
    let review = admin.sync(id).await;
    assert!(review.starts_with("/reviews/"), "{review}");
    let home = admin.get("/").await;
    assert!(listed(&home.html, &review), "{}", home.html);
    assert!(
        home.html.contains("Justworks: a review from ")
            && home.html.contains("waits for you to import or discard it"),
        "{}",
        home.html
    );
    let done = admin.import(&review).await;
    assert!(done.starts_with("/imports/"), "{done}");
    let home = admin.get("/").await;
    assert!(!listed(&home.html, &review), "{}", home.html);
    assert!(
        !home.html.contains("waits for you to import"),
        "{}",
        home.html
    );

    // Two waiting at once: both, the newest first; a discarded one goes.
    let first = admin.sync(id).await;
    let csv = admin.b.get(format!("{}/files/users.csv", admin.base));
    let text = csv.send().await.unwrap().text().await.unwrap();
    let file = upload_users_file(&admin, &text).await;
    assert!(file.starts_with("/reviews/") && file != first, "{file}");
    let home = admin.get("/").await;
    let (at_first, at_file) = (
        home.html.find(&format!("<a href=\"{first}\">")),
        home.html.find(&format!("<a href=\"{file}\">")),
    );
    assert!(
        matches!((at_first, at_file), (Some(a), Some(b)) if b < a),
        "{}",
        home.html
    );
    let (discarded, _) = admin.post(&format!("{first}/discard"), &[]).await;
    assert!(discarded.starts_with("/imports/"), "{discarded}");
    let home = admin.get("/").await;
    assert!(!listed(&home.html, &first), "{}", home.html);
    assert!(listed(&home.html, &file), "{}", home.html);
    admin.post(&format!("{file}/discard"), &[]).await;
    let home = admin.get("/").await;
    assert!(
        !home.html.contains("waits for you to import"),
        "{}",
        home.html
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_shows_who_retention_anonymises_soon() {
    let (server, _sb, token, id, admin) = company(6).await;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let ended = today.checked_sub(jiff::Span::new().days(20)).unwrap();
    // A former employee whose end date was 20 days ago: due in 10 days at 30.
    let file = format!(
        "Employee ID,Email,First Name,Last Name,Start Date,End Date\n\
         R1,r1@ret.example,Rita,Leaver,2020-01-01,{ended}\n"
    );
    let res = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/imports/csv?mode=partial&apply=true",
            server.base
        ))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let home = admin.get("/").await;
    assert!(
        !home.html.contains("Anonymised by retention"),
        "off by default"
    );

    server
        .send(
            Method::PUT,
            &format!("/api/v1/integrations/{id}/settings"),
            &token,
            json!({ "retention_days": "30" }),
            200,
        )
        .await;
    let home = admin.get("/").await;
    let due = today.checked_add(jiff::Span::new().days(10)).unwrap();
    assert!(
        home.html
            .contains("Anonymised by retention in the next 14 days (1)")
            && home.html.contains(&format!("Rita Leaver</a>, due {due}")),
        "{}",
        home.html
    );
    // Held: no longer listed.
    let account = server.store.ensure_account("default").await.unwrap();
    let engine = server.state.engine(account);
    engine.hold_retention("R1", "legal hold").await.unwrap();
    let home = admin.get("/").await;
    assert!(
        home.html
            .contains("Anonymised by retention in the next 14 days (0)"),
        "{}",
        home.html
    );
}
