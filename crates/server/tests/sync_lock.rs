//! The sync lock over the API (#11.4): anyone may read who holds it; an account admin
//! releases a lock whose holder is gone, naming the generation it read (the
//! confirmation), and the release is in the history.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{TestServer, connect_static, sandbox};
use reqwest::{Method, StatusCode};
use roster_store::access::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_releases_a_lock_from_another_host() {
    let server = TestServer::start().await;
    let sb = sandbox(20).await;
    let admin = server.token("acme", Role::AccountAdmin).await;
    let viewer = server.token("acme", Role::Viewer).await;
    let id = connect_static(&server, &admin, &sb).await;
    let path = format!("/api/v1/integrations/{id}/lock");

    let free = server.get(&path, &viewer).await;
    assert_eq!(free["held"], false, "{free}");

    // Another host's process holds it, with a live lease.
    let account = server.store.ensure_account("acme").await.unwrap();
    let until = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(30);
    let generation = server
        .store
        .lock_sync(account, id, "build-7.example:4242:99:abc", until)
        .await
        .unwrap();
    let held = server.get(&path, &viewer).await;
    assert_eq!(held["held"], true);
    assert_eq!(held["host"], "build-7.example");
    assert_eq!(held["pid"], 4242);
    assert_eq!(held["generation"], generation);
    assert_eq!(held["lease_expired"], false);

    // Applying a reviewed sync meanwhile is refused as running.
    let review = server.sync(&admin, id).await;
    let (s, v) = server
        .call(
            Method::POST,
            &format!("/api/v1/reviews/{}/apply", review["id"]),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "sync_running", "{v}");

    // A viewer may not release it; a stale generation is refused.
    let (s, _) = server
        .call(
            Method::DELETE,
            &path,
            Some(&viewer),
            Some(json!({ "generation": generation })),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = server
        .call(
            Method::DELETE,
            &path,
            Some(&admin),
            Some(json!({ "generation": generation - 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(server.get(&path, &viewer).await["held"], true);

    let released = server
        .send(
            Method::DELETE,
            &path,
            &admin,
            json!({ "generation": generation }),
            200,
        )
        .await;
    assert_eq!(released["released"], true);
    assert_eq!(server.get(&path, &viewer).await["held"], false);
    let imports = server.get("/api/v1/imports", &viewer).await;
    let list = imports
        .as_array()
        .or_else(|| imports["items"].as_array())
        .expect("a list of imports")
        .clone();
    assert!(
        list.iter()
            .any(|i| i["kind"] == "unlock" && i["id"] == released["import_id"]),
        "the release is in the history: {imports}"
    );
    // The old holder's renewal fails: its lock is gone.
    assert!(
        !server
            .store
            .renew_sync(
                account,
                id,
                "build-7.example:4242:99:abc",
                generation,
                until
            )
            .await
            .unwrap()
    );
}
