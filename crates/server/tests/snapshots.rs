//! Snapshots of the main API bodies (insta), taken over one fixed-date story: connect,
//! setup sync, mapping, a review as JSON and as the preview CSV, its apply, the import
//! detail, the users list and one user with history, upcoming and milestones, and the
//! error bodies. Ids, keys and times are redacted; the sandbox's seed and the server's
//! clock are fixed, so everything else is the product's output byte for byte. A change
//! here is a change to the HTTP contract: review it with `cargo insta review`.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::*;
use reqwest::Method;
use roster_store::access::Role;
use serde_json::{Value, json};

/// Replace what differs run to run (ids, store keys, times, durations) by a marker.
fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let volatile_number = matches!(k.as_str(), "id" | "key" | "index_key")
                    || k.ends_with("_id") && val.is_number()
                    || k.ends_with("_key")
                    || k.ends_with("_ms")
                    || k == "timings";
                if volatile_number && !val.is_null() {
                    *val = Value::String(format!("[{k}]"));
                } else if k.ends_with("_at") && !val.is_null() {
                    *val = Value::String("[time]".into());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) if looks_like_timestamp(s) => *s = "[time]".into(),
        _ => {}
    }
}

fn looks_like_timestamp(s: &str) -> bool {
    s.len() >= 20 && s.parse::<jiff::Timestamp>().is_ok()
}

fn redacted(mut v: Value) -> Value {
    redact(&mut v);
    v
}

#[tokio::test]
async fn the_main_api_bodies_are_pinned() {
    let (server, sb) = fixed_date_company(14).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let viewer = server.token("default", Role::Viewer).await;

    let id = connect_static(&server, &admin, &sb).await;
    let integration = server
        .get(&format!("/api/v1/integrations/{id}"), &viewer)
        .await;
    let base = sb.base_url();
    let mut integration = redacted(integration);
    // The sandbox's port differs run to run.
    if let Some(s) = integration.pointer_mut("/base_url") {
        *s = Value::String(s.as_str().unwrap_or("").replace(&base, "[sandbox]"));
    }
    insta::assert_json_snapshot!("integration", integration);

    let setup = server
        .send(
            Method::POST,
            &format!("/api/v1/integrations/{id}/setup-sync"),
            &admin,
            json!(null),
            200,
        )
        .await;
    insta::assert_json_snapshot!("setup_sync", redacted(setup));
    let mapping = server
        .get(&format!("/api/v1/integrations/{id}/mapping"), &viewer)
        .await;
    insta::assert_json_snapshot!("mapping", redacted(mapping));
    let settings = server
        .get(&format!("/api/v1/integrations/{id}/settings"), &viewer)
        .await;
    insta::assert_json_snapshot!("settings", redacted(settings));

    let review = server.sync(&admin, id).await;
    let rid = review["id"].as_i64().expect("review id");
    insta::assert_json_snapshot!("review", redacted(review));
    let entries = server
        .get(&format!("/api/v1/reviews/{rid}/entries?limit=3"), &viewer)
        .await;
    insta::assert_json_snapshot!("review_entries", redacted(entries));
    let preview = server
        .http
        .get(format!("{}/api/v1/reviews/{rid}/preview.csv", server.base))
        .bearer_auth(&viewer)
        .send()
        .await
        .expect("preview");
    assert_eq!(preview.status(), 200);
    insta::assert_snapshot!("review_preview_csv", preview.text().await.expect("csv"));

    let applied = server.apply(&admin, rid, json!({}), 200).await;
    let import_id = applied["import_id"].as_i64().expect("import id");
    insta::assert_json_snapshot!("apply", redacted(applied));
    let import = server
        .get(&format!("/api/v1/imports/{import_id}"), &viewer)
        .await;
    insta::assert_json_snapshot!("import_detail", redacted(import));
    let imports = server.get("/api/v1/imports", &viewer).await;
    insta::assert_json_snapshot!("imports", redacted(imports));

    let users = server
        .get("/api/v1/users?limit=4&include_deactivated=true", &viewer)
        .await;
    let who = users["items"][0]["employee_id"]
        .as_str()
        .expect("employee id")
        .to_owned();
    insta::assert_json_snapshot!("users_page", redacted(users));
    let user = server.get(&format!("/api/v1/users/{who}"), &viewer).await;
    insta::assert_json_snapshot!("user_with_history", redacted(user));
    let upcoming = server.get("/api/v1/upcoming", &viewer).await;
    insta::assert_json_snapshot!("upcoming", redacted(upcoming));
    let milestones = server.get("/api/v1/milestones", &viewer).await;
    insta::assert_json_snapshot!("milestones", redacted(milestones));

    // Error bodies: not found, an invalid setting value, a conflict.
    let (status, missing) = server
        .call(Method::GET, "/api/v1/users/nobody", Some(&viewer), None)
        .await;
    assert_eq!(status, 404);
    insta::assert_json_snapshot!("error_not_found", redacted(missing));
    let bad = server
        .send(
            Method::PUT,
            &format!("/api/v1/integrations/{id}/settings"),
            &admin,
            json!({ "on_missing": "sometimes" }),
            422,
        )
        .await;
    insta::assert_json_snapshot!("error_invalid_value", redacted(bad));
    let twice = server.apply(&admin, rid, json!({}), 409).await;
    insta::assert_json_snapshot!("error_conflict", redacted(twice));
}
