//! Extractors whose rejections are catalogue errors naming the field at fault.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Malformed JSON, a wrong type, a missing or an unknown field is a
/// `bad_request` whose `field` is the JSON path (`settings.on_missing`, `[2].kind`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                v.starts_with("application/json")
                    || (v.starts_with("application/") && v.contains("+json"))
            });
        if !json {
            return Err(ApiError::bad_request(
                "send the body as JSON with Content-Type: application/json",
                None,
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::bad_request(format!("could not read the body: {}", e.body_text()), None)
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserialize JSON, naming the path of the first error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = (path != "." && !path.is_empty()).then_some(path);
            let message = match &field {
                Some(f) => format!("invalid JSON body at `{f}`: {inner}"),
                None => format!("invalid JSON body: {inner}"),
            };
            Err(ApiError::BadRequest { message, field })
        }
    }
}

/// A query string. A bad value is a `bad_request` naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded_de(query);
        match de {
            Ok(v) => Ok(ApiQuery(v)),
            Err((field, message)) => Err(ApiError::BadRequest {
                message: match &field {
                    Some(f) => format!("bad query parameter `{f}`: {message}"),
                    None => format!("bad query string: {message}"),
                },
                field,
            }),
        }
    }
}

pub(crate) fn serde_urlencoded_de<T: DeserializeOwned>(
    query: &str,
) -> Result<T, (Option<String>, String)> {
    // axum's Query rejection text names the parameter; keep it, and pull the name
    // out for `field`.
    let uri: axum::http::Uri = format!("/?{query}")
        .parse()
        .map_err(|_| (None, "the query string is not valid".to_string()))?;
    match axum::extract::Query::<T>::try_from_uri(&uri) {
        Ok(axum::extract::Query(v)) => Ok(v),
        Err(e) => {
            let text = e.body_text();
            let text = text
                .strip_prefix("Failed to deserialize query string: ")
                .unwrap_or(&text)
                .to_string();
            let field = text
                .split_once(": ")
                .map(|(f, _)| f.to_string())
                .filter(|f| !f.contains(' '));
            Err((field, text))
        }
    }
}

/// A path parameter. A bad value is a `bad_request` naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(e.into()),
        }
    }
}
