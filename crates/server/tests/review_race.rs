//! Apply and discard of one review sent at the same moment (#11.1): exactly one wins,
//! the other answers 409 `conflict`, and the review's status, the import history and
//! the directory agree, on SQLite and on PostgreSQL. A review whose apply stopped
//! (its process died) does not stay `applying`: its stale reservation makes it
//! `failed`.
//!
//! The PostgreSQL test needs ROSTER_TEST_POSTGRES_URL (see
//! `roster_store_postgres::testing`); without it, it fails saying how to start one.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::sync::Arc;

use common::TestServer;
use reqwest::{Method, StatusCode};
use roster_store::Store;
use roster_store::access::Role;
use serde_json::{Value, json};

const TRIALS: usize = 50;

/// Upload a users file setting E1's preferred name; `apply` imports it at once,
/// else the review's id.
async fn upload(server: &TestServer, token: &str, name: &str, apply: bool) -> Value {
    let res = server
        .http
        .post(format!(
            "{}/api/v1/imports/csv?mode=partial&apply={apply}",
            server.base
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(format!(
            "Employee ID,Email,First Name,Last Name,Preferred Name\r\n\
             E1,e1@race.example,Ann,Lee,{name}\r\n"
        ))
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), StatusCode::OK, "upload");
    res.json().await.expect("json")
}

async fn preferred_name(server: &TestServer, token: &str) -> String {
    let u = server.get("/api/v1/users/E1", token).await;
    u["employee"]["preferred_name"]
        .as_str()
        .unwrap_or_else(|| panic!("no preferred name: {u}"))
        .to_string()
}

async fn races(server: TestServer) {
    let editor = server.token("acme", Role::EmployeeDataAdmin).await;
    let applied = upload(&server, &editor, "P0", true).await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let mut name = "P0".to_string();
    let (mut applies, mut discards) = (0, 0);
    for trial in 1..=TRIALS {
        let wanted = format!("P{trial}");
        let reviewed = upload(&server, &editor, &wanted, false).await;
        let rid = reviewed["review_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no review: {reviewed}"));
        let before = server.get("/api/v1/imports?limit=1", &editor).await[0]["id"]
            .as_i64()
            .expect("an import");
        // Alternate which request leaves first.
        let (apply_path, discard_path) = (
            format!("/api/v1/reviews/{rid}/apply"),
            format!("/api/v1/reviews/{rid}/discard"),
        );
        let apply = server.call(Method::POST, &apply_path, Some(&editor), Some(json!({})));
        let discard = server.call(Method::POST, &discard_path, Some(&editor), None);
        let ((sa, va), (sd, vd)) = if trial % 2 == 0 {
            tokio::join!(apply, discard)
        } else {
            let (d, a) = tokio::join!(discard, apply);
            (a, d)
        };
        let review = server.get(&format!("/api/v1/reviews/{rid}"), &editor).await;
        let (winner, loser, status) = match (sa, sd) {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                applies += 1;
                (va, vd, "applied")
            }
            (StatusCode::CONFLICT, StatusCode::OK) => {
                discards += 1;
                (vd, va, "discarded")
            }
            _ => panic!("trial {trial}: apply {sa} {va}, discard {sd} {vd}: not one winner"),
        };
        assert_eq!(loser["error"]["code"], "conflict", "trial {trial}: {loser}");
        let import = winner["import_id"].as_i64().expect("the winner's import");
        assert_eq!(
            (review["status"].as_str(), review["import_id"].as_i64()),
            (Some(status), Some(import)),
            "trial {trial}: the review says otherwise: {review}"
        );
        let history = server.get("/api/v1/imports?limit=5", &editor).await;
        let new: Vec<(i64, &str)> = history
            .as_array()
            .expect("list")
            .iter()
            .filter(|i| i["id"].as_i64() > Some(before))
            .map(|i| {
                (
                    i["id"].as_i64().unwrap_or(0),
                    i["status"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            new,
            vec![(import, status)],
            "trial {trial}: the history holds other imports"
        );
        if status == "applied" {
            name = wanted;
        }
        assert_eq!(
            preferred_name(&server, &editor).await,
            name,
            "trial {trial}: the directory disagrees with a {status} review"
        );
    }
    eprintln!("{TRIALS} races: {applies} applied first, {discards} discarded first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apply_and_discard_raced_on_sqlite() {
    races(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apply_and_discard_raced_on_postgres() {
    let db = roster_store_postgres::testing::TestDb::create().await;
    let store: Arc<dyn Store> = Arc::new(db.store().await);
    let dir = tempfile::tempdir().expect("temp dir");
    races(TestServer::start_on(store, dir, |_| {}).await).await;
}

/// A reservation renewed recently holds the review (409 for others); one whose
/// holder stopped renewing it is stale, and the review becomes `failed`.
#[tokio::test(flavor = "multi_thread")]
async fn a_stale_reservation_fails_the_review_a_live_one_answers_409() {
    let server = TestServer::start().await;
    let editor = server.token("acme", Role::EmployeeDataAdmin).await;
    let account = server.store.ensure_account("acme").await.expect("account");
    let now = jiff::Timestamp::now();

    let live = upload(&server, &editor, "L", false).await["review_id"]
        .as_i64()
        .expect("review");
    assert!(
        server
            .store
            .reserve_review(account, live, "another process", now)
            .await
            .expect("reserve")
    );
    let review = server
        .get(&format!("/api/v1/reviews/{live}"), &editor)
        .await;
    assert_eq!(review["status"], "applying", "{review}");
    for action in ["apply", "discard"] {
        let v = server
            .send(
                Method::POST,
                &format!("/api/v1/reviews/{live}/{action}"),
                &editor,
                json!({}),
                409,
            )
            .await;
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("right now")),
            "{action}: {v}"
        );
    }

    let dead = upload(&server, &editor, "D", false).await["review_id"]
        .as_i64()
        .expect("review");
    let long_ago = now - jiff::SignedDuration::from_secs(301);
    assert!(
        server
            .store
            .reserve_review(account, dead, "a killed process", long_ago)
            .await
            .expect("reserve")
    );
    let review = server
        .get(&format!("/api/v1/reviews/{dead}"), &editor)
        .await;
    assert_eq!(review["status"], "failed", "{review}");
    let v = server.apply(&editor, dead, json!({}), 409).await;
    assert!(v.to_string().contains("already failed"), "{v}");
    // The holder coming back cannot close it any more.
    assert!(
        !server
            .store
            .finish_review(
                account,
                dead,
                "a killed process",
                roster_store::access::ReviewStatus::Applied,
                Some(1),
                now,
            )
            .await
            .expect("finish")
    );
    let history = server.get("/api/v1/imports", &editor).await;
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(0),
        "nothing was imported: {history}"
    );
}
