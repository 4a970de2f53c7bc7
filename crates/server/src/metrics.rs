//! Prometheus metrics: syncs by outcome, sync step durations, members fetched, guard
//! blocks, HTTP requests by route and status. Rendered at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use roster_core::guard::{BlockReason, Decision};
use roster_engine::{SyncOutcome, SyncStatus};

pub const SYNCS: &str = "roster_syncs_total";
pub const SYNC_DURATION: &str = "roster_sync_duration_seconds";
pub const MEMBERS_FETCHED: &str = "roster_members_fetched_total";
pub const GUARD_BLOCKS: &str = "roster_guard_blocks_total";
pub const HTTP_REQUESTS: &str = "roster_http_requests_total";
pub const HTTP_DURATION: &str = "roster_http_request_duration_seconds";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process-wide Prometheus recorder (once; later calls return the same
/// handle). `None` when another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
                300.0,
            ];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    use roster_engine::worker::names;
    metrics::describe_counter!(names::JOBS, "Jobs a worker ran, by kind and outcome");
    metrics::describe_histogram!(names::JOB_DURATION, "How long worker jobs ran, by kind");
    metrics::describe_counter!(names::CLAIMS, "Jobs claimed by the worker");
    metrics::describe_gauge!(
        names::JOB_LAG,
        "Now minus next_run_at of the oldest due job at the last claim (0: none due)"
    );
    metrics::describe_counter!(names::LEASE_LOSSES, "Job leases lost while a job ran");
    metrics::describe_counter!(
        names::FENCING_REFUSALS,
        "Writes refused because the worker no longer held its job or sync lock, by kind (apply, completion)"
    );
    metrics::describe_gauge!(
        names::HEALTHY,
        "1 while the worker claims work, 0 once unhealthy"
    );
    metrics::describe_counter!(SYNCS, "Syncs run, by outcome");
    metrics::describe_histogram!(SYNC_DURATION, "Sync step durations, by step");
    metrics::describe_counter!(MEMBERS_FETCHED, "Members fetched from sources");
    metrics::describe_counter!(GUARD_BLOCKS, "Syncs a guard blocked or held, by guard");
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests, by route, method and status");
    metrics::describe_histogram!(HTTP_DURATION, "HTTP request durations, by route");
}

/// `/metrics` and `/healthz` of a `roster worker` (`--metrics-listen`): the same
/// recorder as the server's, the worker's health (503 with the reason once it is
/// unhealthy, e.g. a credentials key that does not fit).
pub fn worker_router(
    handle: Option<PrometheusHandle>,
    health: roster_engine::worker::Health,
) -> axum::Router {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::get;
    if health.is_healthy() {
        metrics::gauge!(roster_engine::worker::names::HEALTHY).set(1.0);
    }
    axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        handle.map(|h| h.render()).unwrap_or_default(),
                    )
                }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let health = health.clone();
                async move {
                    match health.reason() {
                        None => (StatusCode::OK, "ok\n".to_string()).into_response(),
                        Some(reason) => (
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("unhealthy: {reason}\n"),
                        )
                            .into_response(),
                    }
                }
            }),
        )
}

/// Serve [`worker_router`] on `listener` with the process-wide recorder, which is
/// installed by this call, not when the future first runs: call it before the
/// worker claims anything (a counter recorded before the recorder exists is lost;
/// a worker's first claim went uncounted when the serving task installed it).
pub fn serve_worker(
    listener: tokio::net::TcpListener,
    health: roster_engine::worker::Health,
) -> impl std::future::Future<Output = std::io::Result<()>> + Send {
    let router = worker_router(install(), health);
    async move { axum::serve(listener, router).await }
}

/// Count one sync that ran.
pub fn record_sync(o: &SyncOutcome) {
    metrics::counter!(SYNCS, "outcome" => o.status.as_str()).increment(1);
    metrics::counter!(MEMBERS_FETCHED).increment(o.members_fetched as u64);
    let t = &o.timings;
    for (step, ms) in [
        ("fetch", t.fetch_ms),
        ("load", t.load_ms),
        ("plan", t.plan_ms),
        ("apply", t.apply_ms),
    ] {
        metrics::histogram!(SYNC_DURATION, "step" => step).record(ms as f64 / 1000.0);
    }
    match &o.decision {
        Decision::Blocked { reasons } => {
            for r in reasons {
                let guard = match r {
                    BlockReason::Privacy => "privacy",
                    BlockReason::MassChange => "mass_change",
                };
                metrics::counter!(GUARD_BLOCKS, "guard" => guard).increment(1);
            }
        }
        Decision::NeedsConfirmation => {
            metrics::counter!(GUARD_BLOCKS, "guard" => "mass_change").increment(1);
        }
        Decision::Apply { held, .. } if !held.is_empty() && o.status != SyncStatus::Reviewed => {
            metrics::counter!(GUARD_BLOCKS, "guard" => "privacy_held").increment(1);
        }
        Decision::Apply { .. } => {}
    }
}

/// Count a sync that failed (fetch or store).
pub fn record_sync_failure() {
    metrics::counter!(SYNCS, "outcome" => "failed").increment(1);
}

/// Count a discarded review.
pub fn record_discard() {
    metrics::counter!(SYNCS, "outcome" => "discarded").increment(1);
}

/// Middleware: log, count and time every request by its route pattern (never the
/// raw path, which may carry an email), and answer with an `x-request-id`.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let start = Instant::now();
    let span = tracing::info_span!("request", id = %request_id);
    let mut response = {
        use tracing::Instrument;
        next.run(req).instrument(span).await
    };
    let elapsed = start.elapsed();
    let code = response.status().as_u16();
    tracing::info!(request = %request_id, method = %method, route = %route, status = code, ms = elapsed.as_millis() as u64, "http");
    if let Ok(v) = axum::http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let status = code.to_string();
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route).record(elapsed.as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn worker_healthz_is_503_once_unhealthy() {
        let health = roster_engine::worker::Health::default();
        let app = super::worker_router(None, health.clone());
        let get = || Request::get("/healthz").body(Body::empty()).unwrap();
        let ok = app.clone().oneshot(get()).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        health.set_unhealthy("stored credentials could not be decrypted");
        let down = app.oneshot(get()).await.unwrap();
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(down.into_body(), 1024).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("could not be decrypted"));
    }
}
