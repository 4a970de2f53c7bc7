//! Retention over HTTP (issue #17): `GET /api/v1/retention` lists who is due with
//! the fields (never the values), a hold (`PUT/DELETE /api/v1/users/{who}/hold`)
//! takes someone out of it and back, `POST /api/v1/retention/apply` anonymises the
//! others in one `retention` import; roles as documented.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;
mod scim_common;

use reqwest::Method;
use roster_store::access::Role;
use scim_common::*;
use serde_json::{Value, json};

/// Two members the sandbox lets leave 60 days before [`today`] (their start is
/// earlier), synced as deactivated; retention on at 30 days. Their employee IDs.
async fn two_leavers(c: &Company) -> (String, String) {
    let left = today().checked_sub(jiff::Span::new().days(60)).unwrap();
    let h = c.sb.handle();
    let ids: Vec<String> = h
        .members(false)
        .into_iter()
        .map(|l| l.member)
        .filter(|m| m["active"] == true && m.get("manager").is_some())
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .filter(|id| h.terminate(id, left).is_ok())
        .take(2)
        .collect();
    assert_eq!(ids.len(), 2, "two members could leave");
    c.sync().await;
    c.server
        .send(
            Method::PUT,
            &format!("/api/v1/integrations/{}/settings", c.integration),
            &c.admin,
            json!({ "retention_days": "30" }),
            200,
        )
        .await;
    let users = c
        .server
        .get("/api/v1/users?include_deactivated=true&limit=100", &c.admin)
        .await;
    let employee_id = |source: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["source_id"] == source)
            .map(|u| u["employee_id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("member {source} in the directory: {users}"))
    };
    (employee_id(&ids[0]), employee_id(&ids[1]))
}

/// The hold and retention calls of these tests.
impl common::TestServer {
    /// `PUT /api/v1/users/{id}/hold` with `reason`, which must answer `want`.
    async fn hold(&self, token: &str, id: &str, reason: &str, want: u16) -> Value {
        let path = format!("/api/v1/users/{id}/hold");
        let body = json!({ "reason": reason });
        self.send(Method::PUT, &path, token, body, want).await
    }

    /// `DELETE /api/v1/users/{id}/hold`, which must answer 200.
    async fn release_hold(&self, token: &str, id: &str) -> Value {
        let path = format!("/api/v1/users/{id}/hold");
        self.send(Method::DELETE, &path, token, json!(null), 200)
            .await
    }

    /// `POST /api/v1/retention/apply`, which must answer `want`.
    async fn apply_retention(&self, token: &str, want: u16) -> Value {
        let path = "/api/v1/retention/apply";
        self.send(Method::POST, path, token, json!(null), want)
            .await
    }
}

fn due_ids(review: &Value) -> Vec<String> {
    review["due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["employee_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hold_takes_someone_out_of_retention_and_apply_anonymises_the_rest() {
    let c = Company::start(10).await;
    let (a, b) = two_leavers(&c).await;
    let editor = c.server.token("default", Role::EmployeeDataAdmin).await;

    // The review: both due, with the fields and without their values.
    let review = c.server.get("/api/v1/retention", &editor).await;
    assert_eq!(review["retention_days"], 30, "{review}");
    assert_eq!(review["today"], today().to_string());
    let due = due_ids(&review);
    assert!(due.contains(&a) && due.contains(&b), "{review}");
    let fields = review["due"][0]["fields"].to_string();
    for f in ["first_name", "last_name", "email", "date_of_birth"] {
        assert!(fields.contains(f), "{f} in {fields}");
    }
    assert_eq!(review["import_id"], Value::Null);
    let person = c.server.get(&format!("/api/v1/users/{a}"), &c.admin).await;
    let text = review.to_string();
    for f in ["email", "phone", "date_of_birth"] {
        if let Some(v) = person["employee"][f].as_str() {
            assert!(!text.contains(v), "the review shows {f} {v}: {text}");
        }
    }

    // A hold needs a reason and an account admin.
    let blank = c.server.hold(&c.admin, &a, "  ", 422).await;
    assert_eq!(blank["error"]["field"], "reason", "{blank}");
    c.server.hold(&editor, &a, "legal hold: case 14", 403).await;
    let held = c
        .server
        .hold(&c.admin, &a, "legal hold: case 14", 200)
        .await;
    assert_eq!(held["employee_id"], a.as_str());
    assert_eq!(held["reason"], "legal hold: case 14");
    let review = c.server.get("/api/v1/retention", &editor).await;
    let due = due_ids(&review);
    assert!(
        !due.contains(&a) && due.contains(&b),
        "held: out of it: {review}"
    );
    let holds = c.server.get("/api/v1/retention/holds", &c.admin).await;
    assert_eq!(holds.as_array().unwrap().len(), 1, "{holds}");
    assert_eq!(holds[0]["employee_id"], a.as_str());
    assert_eq!(holds[0]["reason"], "legal hold: case 14");

    // Released: due again; a second release says there was none.
    let released = c.server.release_hold(&c.admin, &a).await;
    assert_eq!(released["released"], true);
    let again = c.server.release_hold(&c.admin, &a).await;
    assert_eq!(again["released"], false);
    let review = c.server.get("/api/v1/retention", &editor).await;
    assert!(
        due_ids(&review).contains(&a),
        "released: due again: {review}"
    );

    // Held again, then applied by an account admin: B only, in one import.
    c.server
        .hold(&c.admin, &a, "legal hold: case 14", 200)
        .await;
    c.server.apply_retention(&editor, 403).await;
    let done = c.server.apply_retention(&c.admin, 200).await;
    let anonymised = due_ids(&done);
    assert!(
        anonymised.contains(&b) && !anonymised.contains(&a),
        "{done}"
    );
    let import = done["import_id"].as_i64().expect("a retention import");
    let recorded = c
        .server
        .get(&format!("/api/v1/imports/{import}"), &c.admin)
        .await;
    assert_eq!(recorded["summary"]["kind"], "retention", "{recorded}");
    let by = recorded["details"]["anonymisation"]["by"].as_str().unwrap();
    assert!(
        by.starts_with("token:"),
        "recorded as run by the admin: {by}"
    );
    let review = c.server.get("/api/v1/retention", &editor).await;
    assert_eq!(review["due"], json!([]), "nobody twice: {review}");
    let users = c
        .server
        .get("/api/v1/users?include_deactivated=true&limit=100", &c.admin)
        .await;
    let list = users["items"].as_array().unwrap();
    let still = list
        .iter()
        .find(|u| u["employee_id"] == a.as_str())
        .expect("the held employee keeps their ID");
    assert_eq!(still["first_name"], person["employee"]["first_name"]);
    let anonymous: Vec<&Value> = list
        .iter()
        .filter(|u| u["first_name"] == "Former employee")
        .collect();
    assert_eq!(
        anonymous.len(),
        anonymised.len(),
        "those due but A are anonymised: {users}"
    );
}

/// The review's body, pinned (ids and dates of the sandbox's seed are fixed).
#[tokio::test(flavor = "multi_thread")]
async fn the_retention_bodies_are_pinned() {
    let c = Company::start(10).await;
    let (a, _) = two_leavers(&c).await;
    let (s, _) = c
        .server
        .call(Method::GET, "/api/v1/retention", Some(&c.viewer), None)
        .await;
    assert_eq!(s, 403, "viewers do not see who is due");
    let editor = c.server.token("default", Role::EmployeeDataAdmin).await;
    let review = c.server.get("/api/v1/retention", &editor).await;
    insta::assert_json_snapshot!("retention_review", review);
    let mut hold = c
        .server
        .hold(&c.admin, &a, "legal hold: case 14", 200)
        .await;
    hold["since"] = json!("[time]");
    insta::assert_json_snapshot!("retention_hold", hold);
}

/// A signed-in web user's client (cookies kept) and the CSRF token of `page`.
async fn web_user(c: &Company, email: &str, role: &str) -> reqwest::Client {
    let password = "a long enough password";
    c.server
        .send(
            Method::POST,
            "/api/v1/web-users",
            &c.admin,
            json!({ "email": email, "role": role, "password": password }),
            201,
        )
        .await;
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = b
        .post(format!("{}/login", c.server.base))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    b
}

async fn html(b: &reqwest::Client, url: String) -> String {
    b.get(url).send().await.unwrap().text().await.unwrap()
}

fn csrf_of(page: &str) -> String {
    let key = "name=\"csrf_token\" value=\"";
    let start = page.find(key).unwrap() + key.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// The UI: a user's page offers the person's export as a download (session only,
/// not for viewers) and the hold form (POST + CSRF); the retention page lists who
/// is due and the holds.
#[tokio::test(flavor = "multi_thread")]
async fn the_ui_downloads_the_export_and_places_and_releases_a_hold() {
    let c = Company::start(10).await;
    let (a, b) = two_leavers(&c).await;
    let base = c.server.base.clone();
    let admin = web_user(&c, "admin@acme.example", "account_admin").await;
    let page = html(&admin, format!("{base}/users/{a}")).await;
    assert!(page.contains("id=\"export-person\""), "{page}");
    assert!(page.contains("id=\"hold-form\""), "{page}");
    let res = admin
        .get(format!("{base}/users/{a}/export.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"person-"),
        "{disposition}"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["format"], "roster.person_export.v1");
    assert_eq!(doc["employee"]["employee_id"], a.as_str());
    // Without a session: to the sign-in page, never the document.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}/users/{a}/export.json"))
        .send()
        .await
        .unwrap();
    assert!(
        anonymous.status().is_redirection(),
        "{}",
        anonymous.status()
    );
    let viewer = web_user(&c, "viewer@acme.example", "viewer").await;
    let page = html(&viewer, format!("{base}/users/{a}")).await;
    assert!(!page.contains("id=\"export-person\""), "{page}");
    assert!(!page.contains("id=\"hold-form\""), "{page}");
    let refused = viewer
        .get(format!("{base}/users/{a}/export.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // The hold: refused without the CSRF token; placed with it; listed; released.
    let csrf = csrf_of(&page_of(&admin, &base, &a).await);
    let no_token = admin
        .post(format!("{base}/users/{a}/hold"))
        .form(&[("reason", "legal hold: case 14")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let placed = admin
        .post(format!("{base}/users/{a}/hold"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("reason", "legal hold: case 14"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 200);
    let page = placed.text().await.unwrap();
    assert!(page.contains("id=\"hold-status\""), "{page}");
    assert!(page.contains("legal hold: case 14"), "{page}");
    let retention = html(&admin, format!("{base}/retention")).await;
    let due = &retention[retention.find("id=\"retention-due\"").unwrap()..];
    assert!(
        due.contains(&format!("data-employee=\"{b}\"")),
        "{retention}"
    );
    let holds = &retention[retention.find("id=\"retention-holds\"").unwrap()..];
    assert!(
        holds.contains(&format!("data-employee=\"{a}\"")),
        "{retention}"
    );
    assert!(
        !due[..due.find("</table>").unwrap()].contains(&format!("data-employee=\"{a}\"")),
        "held: not due: {retention}"
    );
    let released = admin
        .post(format!("{base}/users/{a}/release-hold"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let page = released.text().await.unwrap();
    assert!(page.contains("id=\"hold-form\""), "{page}");
    // Upcoming names an anonymisation as such (not as a start).
    let upcoming = html(&admin, format!("{base}/upcoming")).await;
    assert!(upcoming.contains("anonymised by retention"), "{upcoming}");
    // The retention page: viewers may not see it.
    let refused = viewer
        .get(format!("{base}/retention"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

async fn page_of(b: &reqwest::Client, base: &str, who: &str) -> String {
    html(b, format!("{base}/users/{who}")).await
}
