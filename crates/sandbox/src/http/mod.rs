//! The HTTP front end: Justworks endpoints, OAuth, and the `/_sandbox` control API.

mod api;
mod control;
mod oauth;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use rand::Rng;

use crate::auth::TokenProblem;
use crate::error::ApiError;
use crate::scopes::ScopeSet;
use crate::state::SandboxHandle;

/// The whole sandbox as an axum router (no listener), e.g. for `tower::ServiceExt::oneshot`.
pub fn router(handle: SandboxHandle) -> Router {
    let api = Router::new()
        .route("/v1/company", get(api::company))
        .route("/v1/company/custom-fields", get(api::custom_fields))
        .route("/v1/members", get(api::list_members))
        .route("/v1/members/{id}", get(api::get_member))
        .route(
            "/v1/members/{id}/custom-field-values",
            get(api::custom_field_values),
        )
        .route("/v1/members/{id}/tax-id", get(api::tax_id))
        .route("/v1", any(api::unknown))
        .route("/v1/{*rest}", any(api::unknown))
        .layer(middleware::from_fn_with_state(handle.clone(), faults));
    Router::new()
        .route(
            "/oauth/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/v1/oauth/revoke", post(oauth::revoke))
        .merge(api)
        .route("/_sandbox/", get(control::index))
        .nest("/_sandbox", control::router())
        .fallback(fallback)
        .with_state(handle)
}

async fn fallback() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// Latency, rate limit and error-rate faults for the `/v1` API.
async fn faults(State(h): State<SandboxHandle>, req: Request, next: Next) -> Response {
    let f = h.faults();
    if !f.latency.is_zero() {
        tokio::time::sleep(f.latency).await;
    }
    if let Some(limit) = f.rate_limit_per_sec
        && let Err(retry) = h.shared.window.lock().acquire(limit)
    {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("more than {limit} requests per second"),
        );
        e.retry_after = Some(retry);
        return e.into_response();
    }
    if f.error_rate > 0.0 {
        let hit = {
            let mut rng = h.shared.fault_rng.lock();
            if rng.random::<f64>() < f.error_rate {
                Some(
                    [
                        StatusCode::INTERNAL_SERVER_ERROR,
                        StatusCode::BAD_GATEWAY,
                        StatusCode::SERVICE_UNAVAILABLE,
                    ][rng.random_range(0..3)],
                )
            } else {
                None
            }
        };
        if let Some(status) = hit {
            let mut res =
                ApiError::new(status, "internal", "simulated server error").into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            return res;
        }
    }
    next.run(req).await
}

/// The scopes of the request's bearer token; 401 without a live one.
pub(crate) struct Granted(pub ScopeSet);

impl Granted {
    pub(crate) fn require(&self, scope: u16, name: &str) -> Result<(), ApiError> {
        if self.0.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(name))
        }
    }

    pub(crate) fn expanded(&self) -> u16 {
        self.0.expanded()
    }
}

impl FromRequestParts<SandboxHandle> for Granted {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SandboxHandle,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized("missing bearer token"));
        };
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(ApiError::unauthorized(
                    "expected `Authorization: Bearer <token>`",
                ));
            }
        };
        let early = state.shared.faults.read().early_token_expiry;
        match state.shared.auth.lock().check_access(token, early) {
            Ok(scopes) => Ok(Granted(scopes)),
            Err(TokenProblem::Unknown) => Err(ApiError::unauthorized(
                "the access token is invalid or has been revoked",
            )),
            Err(TokenProblem::Expired) => {
                Err(ApiError::unauthorized("the access token has expired"))
            }
        }
    }
}
