//! Erasure over HTTP (issue #17): `POST /api/v1/users/{who}/erase` as an account
//! admin; afterwards SCIM (`/scim/v2/Users/{id}`), the user's page in the API and the
//! change feed show the employee without any personal value.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;
mod scim_common;

use reqwest::Method;
use scim_common::*;
use serde_json::{Value, json};

const PERSONAL: &[&str] = &[
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "secondary_email",
    "phone",
    "date_of_birth",
];

#[tokio::test(flavor = "multi_thread")]
async fn erased_employee_shows_no_personal_value_in_scim_api_or_feed() {
    let c = Company::start(12).await;
    let users = c
        .server
        .get("/api/v1/users?include_deactivated=true&limit=100", &c.admin)
        .await;
    let list = users["items"].as_array().unwrap();
    // Someone whose values nobody else shares (a report names its manager's email).
    let (person, values) = list
        .iter()
        .filter(|u| !u["phone"].is_null() && !u["date_of_birth"].is_null())
        .find_map(|u| {
            let values: Vec<String> = PERSONAL
                .iter()
                .filter_map(|f| u[*f].as_str().map(str::to_lowercase))
                .filter(|v| !v.is_empty())
                .collect();
            let others: String = list
                .iter()
                .filter(|o| o["key"] != u["key"])
                .map(|o| {
                    let mut o = o.clone();
                    o["manager_email"] = Value::Null;
                    o.to_string().to_lowercase()
                })
                .collect();
            values
                .iter()
                .all(|v| !others.contains(v))
                .then(|| (u.clone(), values))
        })
        .expect("a person with distinct values");
    let email = person["email"].as_str().unwrap().to_string();
    let scim_list = c.get("/Users?count=100").await;
    let scim_user = scim_list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["userName"]
                .as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case(&email)
        })
        .expect("the person in SCIM")
        .clone();
    let scim_id = scim_user["id"].as_str().unwrap().to_string();
    let before = scim_user.to_string().to_lowercase();
    assert!(
        values.iter().any(|v| before.contains(v)),
        "SCIM shows the person: {before}"
    );

    // An employee-data admin may not erase; an account admin may.
    let editor = c
        .server
        .token("default", roster_store::access::Role::EmployeeDataAdmin)
        .await;
    c.server
        .send(
            Method::POST,
            &format!("/api/v1/users/{email}/erase"),
            &editor,
            json!(null),
            403,
        )
        .await;
    let done = c
        .server
        .send(
            Method::POST,
            &format!("/api/v1/users/{email}/erase"),
            &c.admin,
            json!(null),
            200,
        )
        .await;
    assert_eq!(done["employees"][0]["key"], person["key"]);
    let fields = done["employees"][0]["fields"].as_array().unwrap();
    assert!(fields.contains(&json!("date_of_birth")), "{done}");

    let scim_after = c.get(&format!("/Users/{scim_id}")).await;
    let api_after = c
        .server
        .get(
            &format!(
                "/api/v1/users/{}",
                done["employees"][0]["employee_id"].as_str().unwrap()
            ),
            &c.admin,
        )
        .await;
    let feed = c.server.get("/api/v1/events?limit=1000", &c.admin).await;
    for (what, doc) in [
        ("SCIM", &scim_after),
        ("the API", &api_after),
        ("the feed", &feed),
    ] {
        let text = doc.to_string().to_lowercase();
        for v in &values {
            assert!(!text.contains(v), "{what} still shows {v}: {doc:#}");
        }
    }
    assert!(
        scim_after.to_string().contains("Former employee"),
        "{scim_after:#}"
    );
    let last = feed["events"]
        .as_array()
        .or(feed["items"].as_array())
        .or(feed.as_array())
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["employee_key"] == person["key"])
        .unwrap()
        .clone();
    assert_eq!(last["import_kind"], "erasure", "{last:#}");
}

/// A web session of an account admin (a web user created for it, signed in).
async fn signed_in_admin(c: &Company) -> reqwest::Client {
    let password = "a long enough password";
    c.server
        .send(
            Method::POST,
            "/api/v1/web-users",
            &c.admin,
            json!({ "email": "admin@acme.example", "role": "account_admin", "password": password }),
            201,
        )
        .await;
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = b
        .post(format!("{}/login", c.server.base))
        .form(&[("email", "admin@acme.example"), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    b
}

/// The session's CSRF token in a page's form.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// The first employee the API lists: `(employee ID, the user as JSON)`.
async fn first_user(c: &Company) -> (String, Value) {
    let users = c.server.get("/api/v1/users?limit=3", &c.admin).await;
    let user = users["items"][0].clone();
    (user["employee_id"].as_str().unwrap().to_string(), user)
}

/// A UI page's text, as the signed-in browser `b` gets it.
async fn page(b: &reqwest::Client, url: String) -> String {
    b.get(url).send().await.unwrap().text().await.unwrap()
}

/// The erase confirmation form of `who`, posted with `fields`.
async fn post_erase(
    b: &reqwest::Client,
    c: &Company,
    who: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    b.post(format!("{}/users/{who}/erase", c.server.base))
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// The UI: a user's page links to a confirmation page (account admins); the
/// confirmed form (POST with the CSRF token) erases and lands on the anonymous
/// record's page.
#[tokio::test(flavor = "multi_thread")]
async fn the_ui_erases_after_a_confirmation_page() {
    let c = Company::start(8).await;
    let b = signed_in_admin(&c).await;
    let (who, user) = first_user(&c).await;
    let last = user["last_name"].as_str().unwrap().to_string();
    let user_page = page(&b, format!("{}/users/{who}", c.server.base)).await;
    assert!(user_page.contains("id=\"erase-link\""), "{user_page}");
    let confirm = page(&b, format!("{}/users/{who}/erase", c.server.base)).await;
    assert!(confirm.contains("id=\"confirm-erase\""), "{confirm}");
    let csrf = csrf_of(&confirm);
    let csrf = csrf.as_str();
    // Without the token: refused, nothing erased.
    let refused = post_erase(&b, &c, &who, &[("confirm", "yes")]).await;
    assert_eq!(refused.status(), 403);
    let done = post_erase(&b, &c, &who, &[("csrf_token", csrf), ("confirm", "yes")]).await;
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("Erased: the personal data"), "{html}");
    assert!(html.contains("Former employee"), "{html}");
    assert!(!html.contains(&last), "{html}");
}

/// `?remove=true`: only account admins; the record is anonymised and removed — the
/// API answers `removed` with the reports moved (and a `warning`: the employee was
/// active), SCIM answers 404 for it and lists it no more, the API knows it no more,
/// and the change feed ends its story with an `employee.removed` tombstone.
#[tokio::test(flavor = "multi_thread")]
async fn remove_takes_the_record_out_of_scim_and_the_api() {
    let c = Company::start(30).await;
    let users = c.server.get("/api/v1/users?limit=100", &c.admin).await;
    let list = users["items"].as_array().unwrap();
    let person = list
        .iter()
        .find(|u| u["is_manager"] == true && !u["manager_email"].is_null())
        .expect("a manager with a manager")
        .clone();
    let email = person["email"].as_str().unwrap().to_string();
    let reports = list
        .iter()
        .filter(|u| u["manager_email"].as_str() == Some(email.as_str()))
        .count();
    let scim_id = scim_common::scim(
        &c.server,
        Method::GET,
        &format!("/Users?filter={}", enc(&format!("userName eq \"{email}\""))),
        Some(&c.viewer),
        None,
        &[],
    )
    .await
    .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let editor = c
        .server
        .token("default", roster_store::access::Role::EmployeeDataAdmin)
        .await;
    let path = format!("/api/v1/users/{email}/erase?remove=true");
    c.server
        .send(Method::POST, &path, &editor, json!(null), 403)
        .await;
    c.server
        .send(
            Method::POST,
            &format!("/api/v1/users/{email}/erase?remove=maybe"),
            &c.admin,
            json!(null),
            400,
        )
        .await;
    let done = c
        .server
        .send(Method::POST, &path, &c.admin, json!(null), 200)
        .await;
    assert_eq!(done["removed"], true, "{done:#}");
    assert_eq!(done["employees"][0]["key"], person["key"]);
    assert_eq!(
        done["reports_moved"].as_array().unwrap().len(),
        reports,
        "{done:#}"
    );
    assert!(
        done["warning"].as_str().unwrap().contains("is active"),
        "{done:#}"
    );
    let gone = scim_common::scim(
        &c.server,
        Method::GET,
        &format!("/Users/{scim_id}"),
        Some(&c.viewer),
        None,
        &[],
    )
    .await;
    assert_error(&gone, 404, None);
    assert!(!c.ids("/Users?count=100").await.contains(&scim_id));
    let employee_id = done["employees"][0]["employee_id"].as_str().unwrap();
    let (status, _) = c
        .server
        .call(
            Method::GET,
            &format!("/api/v1/users/{employee_id}"),
            Some(&c.admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let feed = c.server.get("/api/v1/events?limit=1000", &c.admin).await;
    let events = feed["events"]
        .as_array()
        .or(feed["items"].as_array())
        .or(feed.as_array())
        .unwrap();
    let last = events
        .iter()
        .rev()
        .find(|e| e["employee_key"] == person["key"])
        .unwrap();
    assert_eq!(last["type"], "employee.removed", "{last:#}");
}

/// The UI: the confirmation page shows the `still-active` notice for an active
/// employee and a second button; that form (POST with the CSRF token) removes the
/// record and lands on the users list.
#[tokio::test(flavor = "multi_thread")]
async fn the_ui_removes_after_the_confirmation_page() {
    let c = Company::start(8).await;
    let b = signed_in_admin(&c).await;
    let (who, user) = first_user(&c).await;
    let key = user["key"].clone();
    let confirm = page(&b, format!("{}/users/{who}/erase", c.server.base)).await;
    assert!(confirm.contains("id=\"still-active\""), "{confirm}");
    assert!(confirm.contains("id=\"confirm-remove\""), "{confirm}");
    let csrf = csrf_of(&confirm);
    let csrf = csrf.as_str();
    let refused = post_erase(&b, &c, &who, &[("confirm", "yes"), ("remove", "yes")]).await;
    assert_eq!(refused.status(), 403);
    let fields = [("csrf_token", csrf), ("confirm", "yes"), ("remove", "yes")];
    let done = post_erase(&b, &c, &who, &fields).await;
    assert_eq!(done.status(), 200);
    assert!(done.url().path().ends_with("/users"), "{}", done.url());
    let html = done.text().await.unwrap();
    assert!(html.contains("Removed: the record"), "{html}");
    let after = c
        .server
        .get("/api/v1/users?include_deactivated=true&limit=100", &c.admin)
        .await;
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["key"] != key),
        "the record is gone"
    );
}
