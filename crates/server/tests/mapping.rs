//! Mapping a source field over the API follows `Settings::map_field`, as the CLI
//! does: a known field, a non-empty name, the field's mapping replaced, and a
//! warning when the name differs from another mapped one only by case, spacing or
//! punctuation.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{TestServer, connect_static, sandbox};
use reqwest::Method;
use roster_store::access::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_look_alike_demographic_is_mapped_with_a_warning() {
    let server = TestServer::start().await;
    let sb = sandbox(3).await;
    let admin = server.token("default", Role::AccountAdmin).await;
    let editor = server.token("default", Role::EmployeeDataAdmin).await;
    let id = connect_static(&server, &admin, &sb).await;
    let path = |key: &str| format!("/api/v1/integrations/{id}/mapping/{key}");

    let fresh = server
        .get(&format!("/api/v1/integrations/{id}/mapping"), &editor)
        .await;
    assert_eq!(fresh["warnings"], json!([]), "{fresh}");

    // `department` as "job-title": the default mapping has "Job Title" already.
    let mapped = server
        .send(
            Method::PUT,
            &path("department"),
            &editor,
            json!({ "demographic": " job-title " }),
            200,
        )
        .await;
    let department = mapped["mapping"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["source_key"] == "department"))
        .expect("department is mapped");
    assert_eq!(department["demographic"], "job-title", "trimmed");
    assert_eq!(
        mapped["warnings"],
        json!([
            "\"Job Title\" and \"job-title\" differ only by case, spacing or punctuation; this splits trend history"
        ]),
        "{mapped}"
    );

    // Mapping it again replaces the mapping, and a distinct name clears the warning.
    let renamed = server
        .send(
            Method::PUT,
            &path("department"),
            &editor,
            json!({ "demographic": "Team" }),
            200,
        )
        .await;
    assert_eq!(renamed["warnings"], json!([]), "{renamed}");
    let departments = renamed["mapping"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["source_key"] == "department").count());
    assert_eq!(departments, Some(1));

    // An unknown field is 404, an empty name names the field at fault.
    let (status, body) = server
        .call(
            Method::PUT,
            &path("no_such_field"),
            Some(&editor),
            Some(json!({ "demographic": "X" })),
        )
        .await;
    assert_eq!(status.as_u16(), 404, "{body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(
            |m| m.starts_with("unknown source field \"no_such_field\"; GET the mapping")
        ),
        "{body}"
    );
    let (status, body) = server
        .call(
            Method::PUT,
            &path("department"),
            Some(&editor),
            Some(json!({ "demographic": "  " })),
        )
        .await;
    assert_eq!(status.as_u16(), 422, "{body}");
    assert_eq!(body["error"]["field"], "demographic", "{body}");
}
