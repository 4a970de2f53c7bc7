//! The sandbox's faults, one at a time: rate limits (with and without the client
//! limiter), server errors, truncated pages, duplicates across pages, inserts while
//! paging, latency. Timing-sensitive tests take a lock so they do not share the CPU.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use roster_core::member::SourceMember;
use roster_sandbox::Faults;
use roster_source::{FetchRequest, Snapshot, Source, SourceError};

static TIMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ids(members: &[SourceMember]) -> Vec<&str> {
    members.iter().map(|m| m.source_id.as_str()).collect()
}

/// A sandbox of `members` with the faults `set` turns on.
async fn faulty(members: usize, set: impl FnOnce(&mut Faults)) -> roster_sandbox::RunningSandbox {
    let mut faults = Faults::default();
    set(&mut faults);
    common::sandbox(members, faults).await
}

/// A connector on a token with every scope, tweaked by `tweak`.
fn source(
    sandbox: &roster_sandbox::RunningSandbox,
    tweak: impl FnOnce(&mut roster_justworks::JustworksConfig),
) -> roster_justworks::JustworksSource {
    common::static_source(sandbox, &common::all_scopes(), tweak)
}

/// How many different member ids a snapshot holds.
fn distinct(snapshot: &Snapshot) -> usize {
    ids(&snapshot.members)
        .into_iter()
        .collect::<HashSet<_>>()
        .len()
}

/// The snapshot has the members a fetch without faults finds, in the same order.
async fn assert_same_members(snapshot: &Snapshot, sandbox: &roster_sandbox::RunningSandbox) {
    assert_eq!(
        ids(&snapshot.members),
        ids(&clean_fetch(sandbox).await.members)
    );
}

async fn clean_fetch(sandbox: &roster_sandbox::RunningSandbox) -> Snapshot {
    let faults = sandbox.handle().faults();
    sandbox.handle().set_faults(Faults::default()).unwrap();
    let snapshot = source(sandbox, |_| {})
        .fetch(FetchRequest::default())
        .await
        .unwrap();
    sandbox.handle().set_faults(faults).unwrap();
    snapshot
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_limiter_keeps_under_the_server_limit() {
    let _timing = TIMING.lock().await;
    let rate = 20;
    let sandbox = faulty(300, |f| f.rate_limit_per_sec = Some(rate)).await;
    let source = source(&sandbox, |c| {
        c.page_limit = 10;
        c.requests_per_second = Some(rate);
    });
    let started = Instant::now();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let pages = 30;
    assert_eq!(snapshot.members.len(), 300);
    assert_eq!(
        snapshot.requests, pages,
        "no 429 seen (every request was a page)"
    );
    let ideal = pages as f64 / f64::from(rate);
    assert!(
        elapsed <= 1.1 * ideal,
        "{elapsed:.3}s for {pages} pages at {rate}/s (ideal {ideal:.2}s)"
    );
    assert!(
        elapsed >= 0.9 * ideal,
        "{elapsed:.3}s is faster than the limit allows"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_limiter_429s_are_retried_after_retry_after() {
    let _timing = TIMING.lock().await;
    let rate = 10;
    let sandbox = faulty(300, |f| f.rate_limit_per_sec = Some(rate)).await;
    let source = source(&sandbox, |c| c.page_limit = 10);
    let started = Instant::now();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let pages = 30;
    assert_same_members(&snapshot, &sandbox).await;
    let limited = snapshot.requests - pages;
    assert!(
        limited >= 2,
        "the server limited us: {} requests for {pages} pages",
        snapshot.requests
    );
    // Each 429 said `Retry-After: 1` and the fetch is sequential: one second per 429,
    // and not much more (no extra backoff on top).
    assert!(
        elapsed >= limited as f64 * 0.99,
        "{elapsed:.3}s for {limited} 429s"
    );
    assert!(
        elapsed <= limited as f64 + 1.0,
        "{elapsed:.3}s for {limited} 429s"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_of_server_errors_is_retried_to_success() {
    let sandbox = faulty(300, |f| f.error_rate = 0.3).await;
    let source = source(&sandbox, |c| c.page_limit = 25);
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert!(
        snapshot.requests > 12,
        "errors were retried: {} requests for 12 pages",
        snapshot.requests
    );
    assert_same_members(&snapshot, &sandbox).await;
    assert!(snapshot.rejected.is_empty() && snapshot.diagnostics.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_server_errors_fail_the_fetch_with_nothing_partial() {
    let sandbox = common::sandbox(300, Faults::default()).await;
    let source = source(&sandbox, |c| {
        c.page_limit = 50;
        c.max_retries = 2;
    });
    // The first pages succeed, then the server breaks for good: still an error.
    // (Counted in members, not requests: the page after is asked for already.)
    let handle = sandbox.handle();
    let progress: roster_source::ProgressFn =
        std::sync::Arc::new(move |p: roster_source::FetchProgress| {
            if p.members == 100 {
                handle
                    .set_faults(Faults {
                        error_rate: 1.0,
                        ..Faults::default()
                    })
                    .unwrap();
            }
        });
    let err = source
        .fetch(FetchRequest {
            progress: Some(progress),
            ..FetchRequest::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError::Status {
                status: 500 | 502 | 503,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_pages_are_retried() {
    let sandbox = faulty(300, |f| f.truncated_page_rate = 0.5).await;
    let source = source(&sandbox, |c| c.page_limit = 50);
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert!(
        snapshot.requests > 6,
        "truncated pages were fetched again: {}",
        snapshot.requests
    );
    assert_same_members(&snapshot, &sandbox).await;
    assert!(snapshot.rejected.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_across_pages_are_kept_once_with_a_diagnostic() {
    let sandbox = faulty(300, |f| f.duplicate_across_pages = true).await;
    let source = source(&sandbox, |_| {});
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.members.len(), 300);
    assert_eq!(distinct(&snapshot), 300);
    assert_same_members(&snapshot, &sandbox).await;
    let positions: Vec<usize> = snapshot.members.iter().map(|m| m.position).collect();
    assert_eq!(positions, (1..=300).collect::<Vec<_>>());
    // 100 + 99 + 99 + 2 new members: four pages, three repeats.
    assert_eq!(snapshot.requests, 4);
    let diagnostic = snapshot
        .diagnostics
        .iter()
        .find(|d| d.code == "duplicate_member")
        .expect("a diagnostic");
    assert!(
        diagnostic.message.starts_with("3 member record(s)"),
        "{}",
        diagnostic.message
    );
    assert!(snapshot.complete);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_hired_while_paging_is_seen_once() {
    let sandbox = faulty(300, |f| f.insert_while_paging = true).await;
    let source = source(&sandbox, |_| {});
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    let listed = sandbox.handle().members(false);
    assert_eq!(listed.len(), 301, "the fault hired one member");
    assert_eq!(snapshot.members.len(), 301);
    assert_eq!(distinct(&snapshot), 301);
    let newest = listed.last().unwrap().member["id"].as_str().unwrap();
    assert_eq!(snapshot.members.last().unwrap().source_id, newest);
    assert!(snapshot.diagnostics.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_is_absorbed_and_per_member_requests_overlap() {
    let _timing = TIMING.lock().await;
    let latency = Duration::from_millis(20);
    let sandbox = faulty(160, |f| f.latency = latency).await;
    let source = source(&sandbox, |c| c.per_member_concurrency = 8);
    let started = Instant::now();
    let snapshot = source.fetch(common::with_custom_fields()).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(snapshot.members.len(), 160);
    assert_eq!(snapshot.requests, 2 + 160);
    assert!(elapsed >= latency * 2 + latency * 160 / 8, "{elapsed:?}");
    // One at a time would take 162 × 20 ms = 3.2 s.
    assert!(
        elapsed < latency * 162 / 2,
        "per-member requests overlap: {elapsed:?}"
    );
    assert!(
        snapshot
            .members
            .iter()
            .any(|m| m.fields.keys().any(|k| k.starts_with("custom:")))
    );
}
