//! The error catalogue: every error the API answers with, its HTTP status, a stable
//! string code and a message for people. The body is always
//! `{"error": {"code": "...", "message": "...", "field": "...", "error_id": "..."}}`
//! (`field` when one input field is at fault, `error_id` on 5xx).
//!
//! A 5xx never carries internals: the cause is logged with a fresh error id, and the
//! body carries only that id.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::settings::MappingError;
use roster_engine::EngineError;
use roster_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or credentials that name nobody.
    #[error("sign in or send a valid API token (Authorization: Bearer …)")]
    Unauthenticated,
    /// The principal's role does not allow this.
    #[error("your role ({role}) may not {action}")]
    Forbidden {
        role: &'static str,
        action: &'static str,
    },
    /// A cookie-authenticated change without the session's CSRF token.
    #[error("missing or wrong CSRF token: send the session's token in the X-CSRF-Token header")]
    Csrf,
    /// Wrong email or password.
    #[error("wrong email or password")]
    BadLogin,
    /// Nothing with this id in the principal's account.
    #[error("{0}")]
    NotFound(String),
    /// The request body or query is not what this endpoint takes.
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    /// Well-formed input the rules refuse (a setting's value, an email …).
    #[error("{message}")]
    Invalid {
        message: String,
        field: Option<String>,
    },
    /// The request conflicts with the current state (a duplicate, a closed review …).
    #[error("{0}")]
    Conflict(String),
    /// Another sync of the integration is running.
    #[error("a sync of integration {0} is already running; try again when it is done")]
    SyncRunning(i64),
    /// An automatic sync before the first manual one.
    #[error("integration {0} needs finalising: review and apply a manual sync first")]
    NeedsFinalise(i64),
    /// Fetching from the source failed: nothing was changed.
    #[error("fetching from the source failed, nothing was changed: {0}")]
    Source(String),
    /// The OAuth consent or code exchange failed.
    #[error("{0}")]
    OAuth(String),
    /// Too many sign-in attempts for one email (or in all) in a short time, or every
    /// password hashing slot busy.
    #[error("too many sign-in attempts: wait {retry_after_secs} s and try again")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The request body is larger than the server takes.
    #[error("the request body is too large")]
    TooLarge,
    /// The store cannot be reached.
    #[error("the directory database is not reachable")]
    Unavailable,
    /// Anything else: logged with an id, never shown.
    #[error("internal error {id}: the server logged the details under this id")]
    Internal { id: String },
}

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code; see the catalogue in the README.
    pub code: &'static str,
    /// For people; may change between versions.
    pub message: String,
    /// The input field at fault (a JSON path such as `settings.on_missing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On 5xx: the id the server logged the cause under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

/// `(code, status, meaning)` of every error, for documentation and tests.
pub const CATALOGUE: &[(&str, u16, &str)] = &[
    (
        "unauthenticated",
        401,
        "no credentials, or credentials that name nobody",
    ),
    ("bad_login", 401, "wrong email or password"),
    ("forbidden", 403, "the role does not allow this"),
    (
        "csrf_failed",
        403,
        "a cookie-authenticated change without the CSRF token",
    ),
    ("not_found", 404, "nothing with this id in your account"),
    (
        "bad_request",
        400,
        "the body, path or query is malformed (field names the culprit)",
    ),
    (
        "invalid_value",
        422,
        "a well-formed value the rules refuse (field names it)",
    ),
    (
        "conflict",
        409,
        "conflicts with the current state (duplicate, closed review …)",
    ),
    (
        "sync_running",
        409,
        "another sync of this integration is running",
    ),
    (
        "needs_finalise",
        409,
        "the integration needs its first manual sync",
    ),
    (
        "source_failed",
        502,
        "fetching from the source failed; nothing changed",
    ),
    (
        "oauth_failed",
        400,
        "the OAuth consent or code exchange failed",
    ),
    (
        "too_many_attempts",
        429,
        "too many sign-in attempts (for one email or in all), or every password-hashing slot busy; Retry-After says when to try again",
    ),
    ("too_large", 413, "the request body is too large"),
    (
        "unavailable",
        503,
        "the directory database is not reachable",
    ),
    (
        "internal",
        500,
        "an internal error; the body carries the id it was logged under",
    ),
];

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::BadLogin => "bad_login",
            Self::Forbidden { .. } => "forbidden",
            Self::Csrf => "csrf_failed",
            Self::NotFound(_) => "not_found",
            Self::BadRequest { .. } => "bad_request",
            Self::Invalid { .. } => "invalid_value",
            Self::Conflict(_) => "conflict",
            Self::SyncRunning(_) => "sync_running",
            Self::NeedsFinalise(_) => "needs_finalise",
            Self::Source(_) => "source_failed",
            Self::OAuth(_) => "oauth_failed",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::TooLarge => "too_large",
            Self::Unavailable => "unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::BadLogin => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } | Self::OAuth(_) => StatusCode::BAD_REQUEST,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) | Self::SyncRunning(_) | Self::NeedsFinalise(_) => {
                StatusCode::CONFLICT
            }
            Self::Source(_) => StatusCode::BAD_GATEWAY,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad_request(message: impl Into<String>, field: Option<&str>) -> Self {
        Self::BadRequest {
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    pub fn invalid(message: impl Into<String>, field: Option<&str>) -> Self {
        Self::Invalid {
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    /// Log `cause` under a fresh id and return the error that shows only the id.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(error_id = %id, error = %cause, "internal error");
        Self::Internal { id }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::BadRequest { field, .. } | Self::Invalid { field, .. } => field.clone(),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let error_id = match &self {
            Self::Internal { id } => Some(id.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
                error_id,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Self::TooManyAttempts { retry_after_secs } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SyncRunning(id) => Self::SyncRunning(id),
            StoreError::NotFound { what, id } => Self::NotFound(format!("no {what} {id}")),
            StoreError::Conflict(m) => Self::Conflict(m),
            other => Self::internal(&other),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(s) => s.into(),
            EngineError::Source(s) => Self::Source(s.to_string()),
            EngineError::NotFound(m) => Self::NotFound(m),
            EngineError::Invalid(m) => Self::invalid(m, None),
            EngineError::NeedsFinalise(id) => Self::NeedsFinalise(id),
            EngineError::Mapping(e) => match e {
                MappingError::UnknownField(_) | MappingError::NotMapped(_) => {
                    Self::NotFound(e.to_string())
                }
                MappingError::EmptyDemographic => Self::invalid(e.to_string(), Some("demographic")),
            },
            other => Self::internal(&other),
        }
    }
}

impl From<roster_wiring::WiringError> for ApiError {
    fn from(e: roster_wiring::WiringError) -> Self {
        use roster_wiring::WiringError;
        match e {
            WiringError::Engine(e) => e.into(),
            WiringError::NotJustworks(..) | WiringError::NoCredentials(_) => {
                Self::Conflict(e.to_string())
            }
            WiringError::AddressRefused(_) => Self::invalid(e.to_string(), Some("base_url")),
            other => Self::internal(&other),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request(format!("bad path: {}", r.body_text()), None)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(format!("bad query string: {}", r.body_text()), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_matches_the_enum() {
        let all = [
            ApiError::Unauthenticated,
            ApiError::BadLogin,
            ApiError::Forbidden {
                role: "viewer",
                action: "x",
            },
            ApiError::Csrf,
            ApiError::TooManyAttempts {
                retry_after_secs: 1,
            },
            ApiError::NotFound("x".into()),
            ApiError::bad_request("x", None),
            ApiError::invalid("x", None),
            ApiError::Conflict("x".into()),
            ApiError::SyncRunning(1),
            ApiError::NeedsFinalise(1),
            ApiError::Source("x".into()),
            ApiError::OAuth("x".into()),
            ApiError::TooLarge,
            ApiError::Unavailable,
            ApiError::Internal { id: "x".into() },
        ];
        assert_eq!(all.len(), CATALOGUE.len());
        for e in &all {
            let entry = CATALOGUE
                .iter()
                .find(|(c, _, _)| *c == e.code())
                .unwrap_or_else(|| panic!("{} is not in the catalogue", e.code()));
            assert_eq!(entry.1, e.status().as_u16(), "{}", e.code());
        }
    }

    #[test]
    fn internal_errors_show_only_the_id() {
        let e = ApiError::internal(&"password=hunter2 at db.example");
        let text = e.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
