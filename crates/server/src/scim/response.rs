//! SCIM responses: `application/scim+json` bodies and RFC 7644 §3.12 errors.

use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_scim::ScimError;
use serde_json::Value;

use crate::error::ApiError;

/// The media type of every SCIM response.
pub const SCIM_JSON: &str = "application/scim+json";

/// The SCIM base URL of a server: `{public_url}/scim/v2`.
pub fn base_url(public_url: &str) -> String {
    format!("{}/scim/v2", public_url.trim_end_matches('/'))
}

/// A SCIM response: a JSON body with `application/scim+json`.
pub(crate) fn scim_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))],
        body.to_string(),
    )
        .into_response()
}

/// A SCIM error as its RFC 7644 §3.12 body.
pub(crate) struct Scim(pub ScimError);

impl From<ScimError> for Scim {
    fn from(e: ScimError) -> Self {
        Self(e)
    }
}

impl From<ApiError> for Scim {
    fn from(e: ApiError) -> Self {
        Self(match e {
            ApiError::Unauthenticated => ScimError::Unauthorized(e.to_string()),
            ApiError::Forbidden { .. } | ApiError::Csrf => ScimError::Forbidden(e.to_string()),
            ApiError::NotFound(m) => ScimError::NotFound(m),
            other => {
                tracing::error!(error = %other, "scim request failed");
                ScimError::Internal
            }
        })
    }
}

impl From<roster_engine::EngineError> for Scim {
    fn from(e: roster_engine::EngineError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<roster_store::StoreError> for Scim {
    fn from(e: roster_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut r = scim_json(status, &self.0.body());
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"roster-scim\""),
            );
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET"));
        }
        r
    }
}
