//! SCIM 2.0 (RFC 7643, RFC 7644) under `/scim/v2`, read-only, per account: discovery,
//! Users, Groups. The protocol (filters, paging, projection, representations, errors)
//! is `roster_scim`'s; this module adds the routes, authentication and the directory
//! reads.
//!
//! User filters run as indexed store queries ([`selection`]), paged and counted in
//! SQL where the index answers them exactly ([`resources::Reader::list_users`]);
//! `meta.created`/`lastModified` are each employee's own.

mod openapi;
mod resources;
mod response;
mod selection;

pub use openapi::ScimDoc;

pub use response::{SCIM_JSON, base_url};
use response::{Scim, scim_json};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use roster_scim::{ResourceType, ScimError, SearchRequest, WriteMethod};
use serde_json::Value;

use crate::auth::{Principal, authenticate};
use crate::state::AppState;

type ScimResult = Result<Response, Scim>;

/// The caller; any role may read. Every failure is a SCIM body.
async fn principal(headers: &HeaderMap, method: &Method, st: &AppState) -> Result<Principal, Scim> {
    Ok(authenticate(headers, method, st).await?)
}

/// The SCIM routes, to be nested at `/scim/v2`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", discovery(service_provider_config))
        .route("/Schemas", discovery(schemas))
        .route("/Schemas/{id}", discovery_one(schema))
        .route("/ResourceTypes", discovery(resource_types))
        .route("/ResourceTypes/{id}", discovery_one(resource_type))
        .route("/Users", get(list_users).post(write_users))
        .route("/Users/.search", post(search_users))
        .route(
            "/Users/{id}",
            get(show_user)
                .put(write_users)
                .patch(write_users)
                .delete(write_users),
        )
        .route("/Groups", get(list_groups).post(write_groups))
        .route("/Groups/.search", post(search_groups))
        .route(
            "/Groups/{id}",
            get(show_group)
                .put(write_groups)
                .patch(write_groups)
                .delete(write_groups),
        )
        .fallback(|| async { Scim(ScimError::NotFound("no such SCIM endpoint".into())) })
}

fn not_allowed() -> Scim {
    Scim(ScimError::MethodNotAllowed(
        "discovery endpoints answer GET only".into(),
    ))
}

/// A discovery endpoint: GET, and 405 with `Allow: GET` for anything else.
fn discovery<F>(doc: F) -> MethodRouter<AppState>
where
    F: Fn(&roster_scim::ScimProvider) -> Value + Clone + Send + Sync + 'static,
{
    get(
        |State(st): State<AppState>, method: Method, headers: HeaderMap| async move {
            let p = principal(&headers, &method, &st).await?;
            let provider = resources::provider(&st, &p).await?;
            Ok::<_, Scim>(scim_json(StatusCode::OK, &doc(&provider)))
        },
    )
    .fallback(|| async { not_allowed() })
}

/// A discovery document by id: GET, 404 for an unknown id, 405 otherwise.
fn discovery_one<F>(doc: F) -> MethodRouter<AppState>
where
    F: Fn(&roster_scim::ScimProvider, &str) -> Option<Value> + Clone + Send + Sync + 'static,
{
    get(
        |State(st): State<AppState>,
         method: Method,
         headers: HeaderMap,
         Path(id): Path<String>| async move {
            let p = principal(&headers, &method, &st).await?;
            let provider = resources::provider(&st, &p).await?;
            let body = doc(&provider, &id).ok_or_else(|| ScimError::not_found("schema", &id))?;
            Ok::<_, Scim>(scim_json(StatusCode::OK, &body))
        },
    )
    .fallback(|| async { not_allowed() })
}

fn service_provider_config(p: &roster_scim::ScimProvider) -> Value {
    p.service_provider_config()
}
fn schemas(p: &roster_scim::ScimProvider) -> Value {
    p.schemas_document()
}
fn schema(p: &roster_scim::ScimProvider, id: &str) -> Option<Value> {
    p.schema_document(id)
}
fn resource_types(p: &roster_scim::ScimProvider) -> Value {
    p.resource_types_document()
}
fn resource_type(p: &roster_scim::ScimProvider, id: &str) -> Option<Value> {
    p.resource_type_document(id)
}

fn query_request(raw: Option<&str>) -> SearchRequest {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    SearchRequest::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

async fn list(
    st: AppState,
    method: Method,
    headers: HeaderMap,
    resource: ResourceType,
    req: Result<SearchRequest, ScimError>,
) -> ScimResult {
    let p = principal(&headers, &method, &st).await?;
    let req = req?;
    let provider = resources::provider(&st, &p).await?;
    let query = provider.query(resource, &req)?;
    let reader = resources::Reader {
        st: &st,
        account: p.account,
        provider: &provider,
    };
    let out = match resource {
        ResourceType::User => reader.list_users(&query).await?,
        ResourceType::Group => query.respond(reader.groups().await?),
    };
    Ok(scim_json(StatusCode::OK, &out.to_json()))
}

async fn list_users(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ScimResult {
    list(
        st,
        method,
        headers,
        ResourceType::User,
        Ok(query_request(q.as_deref())),
    )
    .await
}

async fn list_groups(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ScimResult {
    list(
        st,
        method,
        headers,
        ResourceType::Group,
        Ok(query_request(q.as_deref())),
    )
    .await
}

/// `POST /.search` reads: authenticated as a GET (no CSRF token for a session).
async fn search_users(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> ScimResult {
    let req = SearchRequest::from_json(&body);
    list(st, Method::GET, headers, ResourceType::User, req).await
}

async fn search_groups(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> ScimResult {
    let req = SearchRequest::from_json(&body);
    list(st, Method::GET, headers, ResourceType::Group, req).await
}

/// A single resource with its `ETag`; 304 when `If-None-Match` names its version.
fn single(
    headers: &HeaderMap,
    body: Value,
    raw: Option<&str>,
    provider: &roster_scim::ScimProvider,
    resource: ResourceType,
) -> ScimResult {
    let version = body["meta"]["version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(inm) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && roster_scim::etag::matches(inm, &version)
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&version) {
            r.headers_mut().insert(ETAG, v);
        }
        return Ok(r);
    }
    let req = query_request(raw);
    let projection =
        provider.projection_from_lists(resource, &req.attributes, &req.excluded_attributes)?;
    let body = projection.apply(body);
    let mut r = scim_json(StatusCode::OK, &body);
    if let Ok(v) = HeaderValue::from_str(&version) {
        r.headers_mut().insert(ETAG, v);
    }
    Ok(r)
}

/// `GET /Users/{id}` and `GET /Groups/{id}`, as [`list`] serves both lists.
async fn show(
    st: AppState,
    method: Method,
    headers: HeaderMap,
    resource: ResourceType,
    id: String,
    q: Option<String>,
) -> ScimResult {
    let p = principal(&headers, &method, &st).await?;
    let provider = resources::provider(&st, &p).await?;
    let reader = resources::Reader {
        st: &st,
        account: p.account,
        provider: &provider,
    };
    let found = match resource {
        ResourceType::User => reader.user(&id).await?,
        ResourceType::Group => reader.group(&id).await?,
    };
    let found = found.ok_or_else(|| ScimError::not_found(resource.name(), &id))?;
    single(&headers, found, q.as_deref(), &provider, resource)
}

async fn show_user(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ScimResult {
    show(st, method, headers, ResourceType::User, id, q).await
}

async fn show_group(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ScimResult {
    show(st, method, headers, ResourceType::Group, id, q).await
}

/// Any write: authenticate, validate, refuse (400 or 501). Nothing is written.
async fn refuse(
    st: AppState,
    method: Method,
    headers: HeaderMap,
    resource: ResourceType,
    body: Bytes,
) -> ScimResult {
    let p = principal(&headers, &method, &st).await?;
    let provider = resources::provider(&st, &p).await?;
    let m = WriteMethod::parse(method.as_str())
        .ok_or_else(|| ScimError::MethodNotAllowed(format!("{method} is not supported")))?;
    Err(Scim(provider.refuse_write(resource, m, &body)))
}

/// Any write on `/Users` or `/Users/{id}` (the id is not needed to refuse it).
async fn write_users(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    refuse(st, method, headers, ResourceType::User, body).await
}

/// Any write on `/Groups` or `/Groups/{id}`.
async fn write_groups(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    refuse(st, method, headers, ResourceType::Group, body).await
}
