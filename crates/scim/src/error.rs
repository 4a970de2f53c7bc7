//! SCIM errors (RFC 7644 §3.12): one typed enum, each variant with its HTTP status and
//! `scimType`, rendered as the `urn:ietf:params:scim:api:messages:2.0:Error` body.

use serde_json::{Value, json};

/// The error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Every error the service provider answers with. The `String` is the `detail` shown to
/// the client: it names what was wrong (the attribute, the position in a filter) and
/// never carries internals; [`ScimError::Internal`] has a fixed text for that reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 400 `invalidFilter`: the filter does not parse, names an attribute that cannot be
    /// filtered, or compares it in a way its type does not allow.
    #[error("{0}")]
    InvalidFilter(String),
    /// 400 `invalidSyntax`: the request body is not JSON or not the message it must be
    /// (a missing `schemas`, a malformed PATCH operation, a SearchRequest of the wrong
    /// shape).
    #[error("{0}")]
    InvalidSyntax(String),
    /// 400 `invalidValue`: a value of the wrong type or out of range (a request body's
    /// attribute, a query parameter such as `count=abc`, an unknown `sortBy`).
    #[error("{0}")]
    InvalidValue(String),
    /// 400 `invalidPath`: a PATCH `path` that does not parse or names no attribute.
    #[error("{0}")]
    InvalidPath(String),
    /// 400 `noTarget`: a PATCH `remove` without a `path`.
    #[error("{0}")]
    NoTarget(String),
    /// 400 `mutability`: a PATCH or PUT aimed at an attribute no client may ever
    /// change (`id`, `meta`, `groups`).
    #[error("{0}")]
    Mutability(String),
    /// 400 `tooMany`: the request would return more than the service provider allows.
    #[error("{0}")]
    TooMany(String),
    /// 400 `invalidCursor` (RFC 9865): a cursor this service provider did not issue, or
    /// one issued for another query.
    #[error("{0}")]
    InvalidCursor(String),
    /// 401: no or a bad API token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404, no `scimType`: no such resource (also another account's ids).
    #[error("{0}")]
    NotFound(String),
    /// 405, no `scimType`: a method the endpoint does not answer (the HTTP layer adds
    /// `Allow`).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 412, no `scimType`: an `If-Match` that does not match the current version.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413, no `scimType`: a request body over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 500, no `scimType`, a fixed detail: internals never reach the client.
    #[error("internal error")]
    Internal,
    /// 501, no `scimType`: writes. The directory is read-only; changes come from the HR
    /// system. See [`ScimError::read_only`].
    #[error("{0}")]
    NotImplemented(String),
}

impl ScimError {
    /// The 501 answer to a write (POST, PUT, PATCH, DELETE on Users or Groups) that
    /// passed [`crate::ScimProvider::validate_write`].
    pub fn read_only() -> Self {
        Self::NotImplemented(
            "This SCIM directory is read-only: Roster serves the HR system's data and \
             every change comes from the HR system through Roster's review. Make the \
             change in the HR system instead."
                .into(),
        )
    }

    /// 404 for a resource id this account does not have.
    pub fn not_found(resource: &str, id: &str) -> Self {
        Self::NotFound(format!("no {resource} with id {id:?}"))
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidFilter(_)
            | Self::InvalidSyntax(_)
            | Self::InvalidValue(_)
            | Self::InvalidPath(_)
            | Self::NoTarget(_)
            | Self::Mutability(_)
            | Self::TooMany(_)
            | Self::InvalidCursor(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::PreconditionFailed(_) => 412,
            Self::PayloadTooLarge(_) => 413,
            Self::Internal => 500,
            Self::NotImplemented(_) => 501,
        }
    }

    /// The RFC 7644 §3.12 (and RFC 9865) `scimType`, for the 400s.
    pub fn scim_type(&self) -> Option<&'static str> {
        Some(match self {
            Self::InvalidFilter(_) => "invalidFilter",
            Self::InvalidSyntax(_) => "invalidSyntax",
            Self::InvalidValue(_) => "invalidValue",
            Self::InvalidPath(_) => "invalidPath",
            Self::NoTarget(_) => "noTarget",
            Self::Mutability(_) => "mutability",
            Self::TooMany(_) => "tooMany",
            Self::InvalidCursor(_) => "invalidCursor",
            _ => return None,
        })
    }

    /// The human-readable `detail`.
    pub fn detail(&self) -> String {
        self.to_string()
    }

    /// The error body: `schemas`, `status` (a string, as RFC 7644 §3.12 says),
    /// `scimType` when there is one, and `detail`.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status().to_string(),
            "detail": self.detail(),
        });
        if let Some(t) = self.scim_type() {
            body["scimType"] = Value::String(t.into());
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(ScimError::InvalidFilter("x".into()), 400, Some("invalidFilter"))]
    #[case(ScimError::InvalidSyntax("x".into()), 400, Some("invalidSyntax"))]
    #[case(ScimError::InvalidValue("x".into()), 400, Some("invalidValue"))]
    #[case(ScimError::InvalidPath("x".into()), 400, Some("invalidPath"))]
    #[case(ScimError::NoTarget("x".into()), 400, Some("noTarget"))]
    #[case(ScimError::Mutability("x".into()), 400, Some("mutability"))]
    #[case(ScimError::TooMany("x".into()), 400, Some("tooMany"))]
    #[case(ScimError::InvalidCursor("x".into()), 400, Some("invalidCursor"))]
    #[case(ScimError::Unauthorized("x".into()), 401, None)]
    #[case(ScimError::Forbidden("x".into()), 403, None)]
    #[case(ScimError::NotFound("x".into()), 404, None)]
    #[case(ScimError::MethodNotAllowed("x".into()), 405, None)]
    #[case(ScimError::PreconditionFailed("x".into()), 412, None)]
    #[case(ScimError::PayloadTooLarge("x".into()), 413, None)]
    #[case(ScimError::Internal, 500, None)]
    #[case(ScimError::read_only(), 501, None)]
    fn status_and_scim_type(
        #[case] e: ScimError,
        #[case] status: u16,
        #[case] scim_type: Option<&str>,
    ) {
        assert_eq!(e.status(), status);
        assert_eq!(e.scim_type(), scim_type);
        let body = e.body();
        assert_eq!(body["status"], status.to_string());
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
        assert_eq!(body.get("scimType").and_then(Value::as_str), scim_type);
        assert!(body["detail"].is_string());
    }

    #[test]
    fn bodies() {
        insta::assert_json_snapshot!(
            "error_invalid_filter",
            ScimError::InvalidFilter("unknown attribute \"nope\"".into()).body()
        );
        insta::assert_json_snapshot!("error_read_only", ScimError::read_only().body());
        assert_eq!(ScimError::Internal.body()["detail"], "internal error");
    }
}
