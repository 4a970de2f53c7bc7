//! The checked-in `openapi.json` is the document the code generates, and the server
//! serves it at `/api/v1/openapi.json`.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::path::PathBuf;

const HOW: &str = "regenerate it with `UPDATE_OPENAPI=1 cargo test -p roster-server --test openapi` \
                   (or `roster openapi > openapi.json`) and commit the result";

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json")
}

#[test]
fn checked_in_openapi_matches_the_code() {
    let generated = roster_server::openapi_json();
    let path = checked_in();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.json");
        return;
    }
    let on_disk = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; {HOW}", path.display()));
    if on_disk != generated {
        let line = on_disk
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map(|n| n + 1)
            .unwrap_or_else(|| on_disk.lines().count().min(generated.lines().count()) + 1);
        panic!(
            "openapi.json differs from the API the code generates (first difference at line {line}); {HOW}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_serves_the_same_document() {
    let server = common::TestServer::start().await;
    let served = reqwest::get(format!("{}/api/v1/openapi.json", server.base))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert_eq!(served, roster_server::openapi_json());
    let doc: serde_json::Value = serde_json::from_str(&served).expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(doc["components"]["securitySchemes"]["bearer_token"].is_object());
}
