//! The change feed over HTTP: `/api/v1/events` in cursor order with `next_after`,
//! types, one employee's events, any role; `/api/v1/users?as_of=` and the export.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::BTreeMap;

use common::*;
use reqwest::Method;
use roster_store::access::Role;
use serde_json::{Value, json};

/// Apply a sync of the integration; its import id.
async fn sync(server: &TestServer, admin: &str, id: i64) -> i64 {
    let review = server.sync(admin, id).await;
    let rid = review["id"].as_i64().unwrap();
    let applied = server.apply(admin, rid, json!({}), 200).await;
    applied["import_id"].as_i64().unwrap()
}

/// Every event, read in pages of `limit`.
async fn read_all(server: &TestServer, token: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = server
            .get(
                &format!("/api/v1/events?after={after}&limit={limit}"),
                token,
            )
            .await;
        let items = page["items"].as_array().unwrap().clone();
        let next = page["next_after"].as_i64().unwrap();
        if items.is_empty() {
            assert_eq!(next, after, "an empty page keeps after");
            return out;
        }
        assert_eq!(next, items.last().unwrap()["cursor"].as_i64().unwrap());
        after = next;
        out.extend(items);
    }
}

#[tokio::test]
async fn the_feed_replays_to_the_directory_and_any_role_reads_it() {
    let (server, sb) = fixed_date_company(12).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let viewer = server.token("default", Role::Viewer).await;
    let id = connect_static(&server, &admin, &sb).await;
    server
        .send(
            Method::POST,
            &format!("/api/v1/integrations/{id}/setup-sync"),
            &admin,
            json!(null),
            200,
        )
        .await;
    sync(&server, &admin, id).await;
    let users = server
        .get("/api/v1/users?include_deactivated=true&limit=1000", &viewer)
        .await;
    let first = users["items"][0].clone();
    let who = first["employee_id"].as_str().unwrap().to_string();
    server
        .send(
            Method::PUT,
            &format!("/api/v1/users/{who}/email"),
            &admin,
            json!({ "email": "renamed@acme.example" }),
            200,
        )
        .await;

    let events = read_all(&server, &viewer, 7).await;
    let cursors: Vec<i64> = events
        .iter()
        .map(|e| e["cursor"].as_i64().unwrap())
        .collect();
    assert_eq!(cursors, (1..=events.len() as i64).collect::<Vec<_>>());
    let created = events
        .iter()
        .filter(|e| e["type"] == "employee.created")
        .count();
    assert_eq!(created, users["items"].as_array().unwrap().len());
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "import.applied")
            .count(),
        2
    );
    // Replay: every field of every employee, as /users shows it now.
    let mut replayed: BTreeMap<i64, BTreeMap<String, Option<String>>> = BTreeMap::new();
    for e in &events {
        let Some(key) = e["employee_key"].as_i64() else {
            continue;
        };
        if e["type"].as_str().unwrap().ends_with("_scheduled") {
            continue;
        }
        let fields = replayed.entry(key).or_default();
        for c in e["changes"].as_array().unwrap() {
            fields.insert(
                c["field"].as_str().unwrap().to_string(),
                c["after"].as_str().map(str::to_string),
            );
        }
    }
    let now = server
        .get("/api/v1/users?include_deactivated=true&limit=1000", &viewer)
        .await;
    for u in now["items"].as_array().unwrap() {
        let fields = &replayed[&u["key"].as_i64().unwrap()];
        for f in [
            "employee_id",
            "email",
            "first_name",
            "last_name",
            "start_date",
        ] {
            assert_eq!(
                fields.get(f).cloned().flatten().as_deref(),
                u[f].as_str(),
                "{f} of {}",
                u["key"]
            );
        }
    }
    // One employee's events, and a type filter.
    let key = first["key"].as_i64().unwrap();
    let mine = server
        .get(&format!("/api/v1/employees/{key}/events"), &viewer)
        .await;
    let types: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.first(), Some(&"employee.created"));
    assert_eq!(types.last(), Some(&"employee.updated"));
    let updated = server
        .get("/api/v1/events?types=employee.updated", &viewer)
        .await;
    let items = updated["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|e| e["type"] == "employee.updated"));
    // Bad input names the field; an unknown employee is 404; no token is 401.
    let (s, v) = server
        .call(
            Method::GET,
            "/api/v1/events?types=employee.nope",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["error"]["field"].as_str()),
        (400, Some("types"))
    );
    let (s, _) = server
        .call(
            Method::GET,
            "/api/v1/employees/999999/events",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s.as_u16(), 404);
    let (s, _) = server.call(Method::GET, "/api/v1/events", None, None).await;
    assert_eq!(s.as_u16(), 401);
    // Another account sees none of it.
    let other = server.token("globex", Role::AccountAdmin).await;
    assert_eq!(read_all(&server, &other, 100).await.len(), 0);
    let (s, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/employees/{key}/events"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(s.as_u16(), 404);
}

#[tokio::test]
async fn users_as_of_a_date_before_an_edit_show_the_old_values() {
    let (server, sb) = fixed_date_company(6).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let viewer = server.token("default", Role::Viewer).await;
    let id = connect_static(&server, &admin, &sb).await;
    server
        .send(
            Method::POST,
            &format!("/api/v1/integrations/{id}/setup-sync"),
            &admin,
            json!(null),
            200,
        )
        .await;
    // Before the first import: nobody.
    let before = server.get("/api/v1/users?as_of=2026-11-22", &viewer).await;
    assert_eq!(before["items"].as_array().unwrap().len(), 0);
    assert_eq!(before["total"], 0);
    sync(&server, &admin, id).await;
    let today = server
        .get(
            "/api/v1/users?include_deactivated=true&as_of=2026-11-23",
            &viewer,
        )
        .await;
    let now = server
        .get("/api/v1/users?include_deactivated=true", &viewer)
        .await;
    assert_eq!(today["items"], now["items"]);
    // Searching the directory as of a date finds what the live search finds.
    let email = now["items"][0]["email"].as_str().unwrap().to_uppercase();
    let needle = &email[..email.find('@').unwrap()];
    let search =
        |as_of: &str| format!("/api/v1/users?include_deactivated=true&search={needle}{as_of}");
    let found = server.get(&search("&as_of=2026-11-23"), &viewer).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{needle}");
    assert_eq!(
        found["items"],
        server.get(&search(""), &viewer).await["items"]
    );
    let (s, v) = server
        .call(
            Method::GET,
            "/api/v1/users?as_of=yesterday",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s.as_u16(), 400, "{v}");
    let who = now["items"][0]["employee_id"].as_str().unwrap().to_string();
    let shown = server
        .get(&format!("/api/v1/users/{who}?as_of=2026-11-23"), &viewer)
        .await;
    assert_eq!(shown["employee"], now["items"][0]);
    let (s, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/users/{who}?as_of=2026-11-22"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s.as_u16(), 404, "not there yet");
    let csv = |q: &'static str| {
        let server = &server;
        let viewer = viewer.clone();
        async move {
            let r = server
                .http
                .get(format!("{}/api/v1/exports/users.csv{q}", server.base))
                .bearer_auth(viewer)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    assert_eq!(csv("?as_of=2026-11-23").await, csv("").await);
    assert_eq!(
        csv("?as_of=2026-11-22").await.lines().count(),
        1,
        "the header only"
    );
}
