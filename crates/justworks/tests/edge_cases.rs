//! Behaviour the sandbox does not show, driven by tiny local servers: looping
//! cursors, the page ceiling, unparseable members, exact `Retry-After`, timeouts.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use roster_justworks::{Credentials, JustworksSource};
use roster_source::{FetchRequest, Snapshot, Source, SourceError};
use serde_json::{Value, json};

fn member(id: &str) -> Value {
    json!({
        "id": id,
        "name": {"given_name": "Given", "family_name": "Family"},
        "active": true,
        "type": "employee",
        "emails": [{"address": format!("{id}@acme.example"), "type": "work"}],
        "employment_history": [],
    })
}

fn source(
    base: &url::Url,
    tweak: impl FnOnce(&mut roster_justworks::JustworksConfig),
) -> JustworksSource {
    let mut config = common::config(base);
    tweak(&mut config);
    JustworksSource::new(config, Credentials::Static("t0ken".to_owned().into())).expect("source")
}

/// Serves `router` on a loopback port and fetches from it once.
async fn serve_and_fetch(
    router: Router,
    tweak: impl FnOnce(&mut roster_justworks::JustworksConfig),
) -> Result<Snapshot, SourceError> {
    let base = common::serve(router).await;
    source(&base, tweak).fetch(FetchRequest::default()).await
}

/// A server whose `/v1/members` answers with `handler`.
fn members(handler: axum::routing::MethodRouter) -> Router {
    Router::new().route("/v1/members", handler)
}

type Params = Query<HashMap<String, String>>;

/// The source ids of a snapshot's members, in order.
fn ids(snapshot: &Snapshot) -> Vec<&str> {
    snapshot
        .members
        .iter()
        .map(|m| m.source_id.as_str())
        .collect()
}

fn json_response(body: Value) -> Response {
    axum::Json(body).into_response()
}

// Both of these on two threads: the page after each is asked for while the loop
// still checks it (`Chain`), and neither asks for a page the loop would not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_cursor_ends_the_fetch_with_a_pagination_error() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let router = members(get(move |Query(q): Params| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let next = match q.get("cursor").map(String::as_str) {
                None => "A",
                Some("A") => "B",
                _ => "A", // back to a cursor already given
            };
            json_response(json!({"items": [member(&format!("m{next}"))], "next_cursor": next}))
        }
    }));
    let err = serve_and_fetch(router, |_| {}).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Pagination(ref m) if m.contains("repeated")),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    // The same cursor again and again.
    let router = members(get(|| async {
        json_response(json!({"items": [member("m1")], "next_cursor": "same"}))
    }));
    let err = serve_and_fetch(router, |_| {}).await.unwrap_err();
    assert!(matches!(err, SourceError::Pagination(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_pages_than_the_ceiling_end_the_fetch() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let router = members(get(move |Query(q): Params| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let n: u64 = q.get("cursor").map(|c| c.parse().unwrap()).unwrap_or(0) + 1;
            json_response(
                json!({"items": [member(&format!("m{n}"))], "next_cursor": n.to_string()}),
            )
        }
    }));
    let err = serve_and_fetch(router, |c| c.max_pages = 5)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Pagination(ref m) if m.contains("more than 5 pages")),
        "{err}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        5,
        "no request beyond the ceiling"
    );
}

/// The next page is asked for as soon as a page's body names it, before the page is
/// checked: here the first body is broken inside (its ends whole), and the server
/// answers the first page's retry only once the second page was asked for (or after
/// 5 s, when the order below fails the test). The broken body's next page is kept for
/// the retry naming the same cursor: asked for once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_page_is_asked_for_while_a_page_is_checked() {
    let asked: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let second = Arc::new(tokio::sync::Notify::new());
    let (log, notify) = (Arc::clone(&asked), Arc::clone(&second));
    let router = members(get(move |Query(q): Params| {
        let (log, notify) = (Arc::clone(&log), Arc::clone(&notify));
        async move {
            let cursor = q.get("cursor").cloned().unwrap_or_else(|| "first".into());
            let times = {
                let mut log = log.lock().unwrap();
                log.push(cursor.clone());
                log.iter().filter(|c| **c == cursor).count()
            };
            match (cursor.as_str(), times) {
                ("first", 1) => (
                    [("content-type", "application/json")],
                    r#"{"items":[{"id":"m1",}],"next_cursor":"p2"}"#,
                )
                    .into_response(),
                ("first", _) => {
                    let _ = tokio::time::timeout(Duration::from_secs(5), notify.notified()).await;
                    json_response(json!({"items": [member("m1")], "next_cursor": "p2"}))
                }
                _ => {
                    notify.notify_one();
                    json_response(json!({"items": [member("m2")]}))
                }
            }
        }
    }));
    let snapshot = serve_and_fetch(router, |_| {}).await.unwrap();
    assert_eq!(ids(&snapshot), ["m1", "m2"]);
    assert_eq!(*asked.lock().unwrap(), ["first", "p2", "first"]);
    assert_eq!(snapshot.requests, 3);
}

#[tokio::test]
async fn unparseable_members_are_reported_by_id_and_position_and_the_rest_continue() {
    let router = members(get(|Query(q): Params| async move {
        match q.get("cursor").map(String::as_str) {
            None => json_response(json!({
                "items": [
                    member("m1"),
                    {"name": {"given_name": "Ada", "family_name": "Lovelace"}},
                    {"id": "m3", "name": 42},
                    member("m4"),
                ],
                "next_cursor": "p2",
            })),
            _ => json_response(json!({
                "items": ["not an object", {"id": "m6", "active": "Ada Lovelace"}, member("m7")],
                "next_cursor": null,
            })),
        }
    }));
    let snapshot = serve_and_fetch(router, |_| {}).await.unwrap();
    assert_eq!(ids(&snapshot), ["m1", "m4", "m7"]);
    let positions: Vec<usize> = snapshot.members.iter().map(|m| m.position).collect();
    assert_eq!(positions, [1, 2, 3]);
    let rejected: Vec<(Option<&str>, usize)> = snapshot
        .rejected
        .iter()
        .map(|r| (r.source_id.as_deref(), r.position))
        .collect();
    assert_eq!(
        rejected,
        [(None, 2), (Some("m3"), 3), (None, 5), (Some("m6"), 6)]
    );
    assert!(snapshot.rejected[0].reason.contains("missing field `id`"));
    assert!(snapshot.rejected[1].reason.contains("`name`"));
    for r in &snapshot.rejected {
        assert!(
            !r.reason.contains("Ada") && !r.reason.contains("Lovelace"),
            "personal data in {r:?}"
        );
    }
    assert!(snapshot.complete);
}

#[tokio::test]
async fn empty_string_cursor_means_last_page() {
    let router = members(get(|| async {
        json_response(json!({"items": [member("m1")], "next_cursor": ""}))
    }));
    let snapshot = serve_and_fetch(router, |_| {}).await.unwrap();
    assert_eq!(snapshot.members.len(), 1);
    assert_eq!(snapshot.requests, 1);
    assert!(snapshot.bytes_read > 0);
}

/// Answers the first `failures` requests with `fail`, then one page.
fn flaky(
    failures: usize,
    fail: impl Fn() -> Response + Clone + Send + Sync + 'static,
) -> (Router, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let router = members(get(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let fail = fail.clone();
        async move {
            if n < failures {
                fail()
            } else {
                json_response(json!({"items": [member("m1"), member("m2")]}))
            }
        }
    }));
    (router, hits)
}

#[tokio::test]
async fn retry_after_seconds_is_obeyed_exactly() {
    let (router, hits) = flaky(1, || {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("1"));
        (StatusCode::TOO_MANY_REQUESTS, headers, "slow down").into_response()
    });
    let base = common::serve(router).await;
    let started = Instant::now();
    let snapshot = source(&base, |_| {})
        .fetch(FetchRequest::default())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(snapshot.members.len(), 2);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(snapshot.requests, 2);
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(1400),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn retry_after_http_date_is_obeyed() {
    let (router, _) = flaky(1, || {
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&at)
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_str(&date).unwrap());
        (StatusCode::SERVICE_UNAVAILABLE, headers, "").into_response()
    });
    let base = common::serve(router).await;
    let started = Instant::now();
    source(&base, |_| {})
        .fetch(FetchRequest::default())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    // The date has whole seconds: the wait is between 1 and 2 s.
    assert!(
        elapsed >= Duration::from_millis(1000) && elapsed < Duration::from_millis(2400),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_fail_the_whole_fetch() {
    let (router, hits) = flaky(3, || (StatusCode::BAD_GATEWAY, "upstream").into_response());
    let snapshot = serve_and_fetch(router, |_| {}).await.unwrap();
    assert_eq!(snapshot.members.len(), 2);
    assert_eq!(hits.load(Ordering::SeqCst), 4);

    let (router, hits) = flaky(usize::MAX, || {
        (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
    });
    let err = serve_and_fetch(router, |c| c.max_retries = 3)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError::Status {
                status: 500,
                attempts: 4,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_truncated_page_is_retried_and_a_never_whole_page_fails() {
    let (router, hits) = flaky(2, || {
        (
            [("content-type", "application/json")],
            r#"{"items":[{"id":"m1","na"#,
        )
            .into_response()
    });
    let snapshot = serve_and_fetch(router, |_| {}).await.unwrap();
    assert_eq!(snapshot.members.len(), 2);
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    let (router, _) = flaky(usize::MAX, || {
        ([("content-type", "application/json")], "{\"items\":[").into_response()
    });
    let err = serve_and_fetch(router, |c| c.max_retries = 2)
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Malformed { .. }), "{err}");
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let router = members(get(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            json_response(json!({"items": [member("m1")]}))
        }
    }));
    let snapshot = serve_and_fetch(router, |c| c.request_timeout = Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(snapshot.members.len(), 1);
    assert_eq!(snapshot.requests, 2);
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    // Bind then drop to get a port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let err = source(&base, |c| c.max_retries = 2)
        .fetch(FetchRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Transport { .. }), "{err}");
}

#[tokio::test]
async fn status_401_and_403() {
    let router = members(get(|| async { StatusCode::UNAUTHORIZED }));
    let err = serve_and_fetch(router, |_| {}).await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized(_)), "{err}");

    let router = members(get(|| async { StatusCode::FORBIDDEN }));
    let err = serve_and_fetch(router, |_| {}).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Forbidden(ref m) if m.contains("member.basic:read")),
        "{err}"
    );

    let router = members(get(|| async { StatusCode::BAD_REQUEST }));
    let err = serve_and_fetch(router, |_| {}).await.unwrap_err();
    assert!(
        matches!(
            err,
            SourceError::Status {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{err}"
    );
}
