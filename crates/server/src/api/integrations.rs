//! Integrations: list, show, connect Justworks (token or OAuth redirect), the OAuth
//! callback, setup sync, delete; the sync lock. The mapping and the settings are
//! `api::mapping`'s.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use roster_justworks::auth::{OAuthClient, PkceVerifier, new_state};
use roster_justworks::config::{DEFAULT_AUTHORIZE_URL, DEFAULT_BASE_URL};
use roster_justworks::{AuthError, JustworksConfig};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::auth::{Admin, Auth, EditData, Read, digest};
use crate::dto::{
    ConnectJustworksRequest, ConnectResponse, DiagnosticDto, IntegrationDto, OAuthCallbackQuery,
    SetupReportDto, SourceFieldDto, SyncLockDto, UnlockRequest, UnlockResponse,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use roster_wiring::{self as wiring, StoredConfig};

/// How long an OAuth consent may take.
const OAUTH_TTL: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);

#[utoipa::path(get, path = "/api/v1/integrations", tag = "integrations",
    responses((status = 200, body = Vec<IntegrationDto>), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
) -> Result<Json<Vec<IntegrationDto>>, ApiError> {
    let list = st.engine(p.account).integrations().await?;
    Ok(Json(list.iter().map(IntegrationDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}", tag = "integrations",
    params(("id" = i64, Path)),
    responses((status = 200, body = IntegrationDto), (status = "4XX", body = ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<IntegrationDto>, ApiError> {
    let i = st.engine(p.account).integration(Some(id)).await?;
    Ok(Json((&i).into()))
}

#[utoipa::path(delete, path = "/api/v1/integrations/{id}", tag = "integrations",
    description = "Remove credentials, mapping, settings and schedule; the directory and the import history stay. Irreversible.",
    params(("id" = i64, Path)),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let engine = st.engine(p.account);
    engine.integration(Some(id)).await?;
    if !engine.delete_integration(id).await? {
        return Err(ApiError::NotFound(format!("no integration {id}")));
    }
    tracing::info!(account = p.account, integration = id, principal = %p.label(), "integration deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn lock_dto(id: i64, lock: Option<&roster_store::SyncLockInfo>) -> SyncLockDto {
    let holder = lock.and_then(|l| roster_engine::lock::Holder::parse(&l.holder));
    SyncLockDto {
        integration_id: id,
        held: lock.is_some(),
        holder: lock.map(|l| l.holder.clone()),
        host: holder.as_ref().map(|h| h.host.clone()),
        pid: holder.as_ref().map(|h| h.pid),
        generation: lock.map(|l| l.generation),
        lease_until: lock.map(|l| l.until),
        lease_expired: lock.map(|l| l.until < jiff::Timestamp::now()),
    }
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/lock", tag = "integrations",
    description = "Who holds the integration's sync lock (a sync or CSV import that applies), and its lease.",
    params(("id" = i64, Path)),
    responses((status = 200, body = SyncLockDto), (status = "4XX", body = ErrorBody)))]
pub async fn lock(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SyncLockDto>, ApiError> {
    let lock = st.engine(p.account).sync_lock(id).await?;
    Ok(Json(lock_dto(id, lock.as_ref())))
}

#[utoipa::path(delete, path = "/api/v1/integrations/{id}/lock", tag = "integrations",
    description = "Release a sync lock whose holder is gone (a process killed on another host), whatever its lease. \
        The request names the lock's generation as `GET …/lock` showed it (the confirmation): a lock that changed \
        hands since is left alone (409). The release is recorded in the history as an `unlock` import; the old \
        holder's changes are refused from then on.",
    params(("id" = i64, Path)),
    request_body = UnlockRequest,
    responses((status = 200, body = UnlockResponse), (status = "4XX", body = ErrorBody)))]
pub async fn unlock(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UnlockRequest>,
) -> Result<Json<UnlockResponse>, ApiError> {
    let engine = st.engine(p.account);
    let Some(lock) = engine.sync_lock(id).await? else {
        return Err(ApiError::Conflict(format!(
            "integration {id} is not locked: nothing to release"
        )));
    };
    if lock.generation != req.generation {
        return Err(ApiError::Conflict(format!(
            "the lock of integration {id} changed hands (generation {} now): read it again",
            lock.generation
        )));
    }
    let Some(import_id) = engine.unlock(id, &lock).await? else {
        return Err(ApiError::Conflict(format!(
            "the lock of integration {id} changed hands meanwhile: read it again"
        )));
    };
    tracing::warn!(account = p.account, integration = id, import = import_id, principal = %p.label(), "sync lock released");
    Ok(Json(UnlockResponse {
        released: true,
        import_id,
    }))
}

/// What is kept (encrypted) between the connect request and the OAuth callback.
#[derive(Serialize, Deserialize)]
struct PendingOAuth {
    name: String,
    stored: StoredConfig,
    client_secret: String,
    verifier: Option<String>,
}

fn parse_url(v: &str, field: &str) -> Result<url::Url, ApiError> {
    let u = url::Url::parse(v.trim())
        .map_err(|e| ApiError::invalid(format!("{field} is not a URL: {e}"), Some(field)))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(ApiError::invalid(
            format!("{field} must be an http or https URL"),
            Some(field),
        ));
    }
    Ok(u)
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[utoipa::path(post, path = "/api/v1/integrations/justworks", tag = "integrations",
    description = "Connect Justworks. With `token`: the integration is created (201). With `client_id` and `client_secret`: the answer (202) carries `authorize_url`; send the admin's browser there. Justworks redirects back to `/api/v1/integrations/justworks/callback`, which finishes the connection.",
    request_body = ConnectJustworksRequest,
    responses((status = 201, body = ConnectResponse), (status = 202, body = ConnectResponse), (status = "4XX", body = ErrorBody)))]
pub async fn connect(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiJson(req): ApiJson<ConnectJustworksRequest>,
) -> Result<(StatusCode, Json<ConnectResponse>), ApiError> {
    let base_text = nonempty(&req.base_url)
        .unwrap_or(DEFAULT_BASE_URL)
        .to_string();
    let base = parse_url(&base_text, "base_url")?;
    let mut config = JustworksConfig::with_base_url(base);
    config.url_policy = st.source_policy;
    if base_text.trim_end_matches('/') == DEFAULT_BASE_URL {
        config.authorize_url = parse_url(DEFAULT_AUTHORIZE_URL, "authorize_url")?;
    }
    if let Some(u) = nonempty(&req.authorize_url) {
        config.authorize_url = parse_url(u, "authorize_url")?;
    }
    if let Some(u) = nonempty(&req.token_url) {
        config.token_url = Some(parse_url(u, "token_url")?);
    }
    if let Some(scopes) = &req.scopes {
        let scopes: Vec<String> = scopes
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if scopes.is_empty() {
            return Err(ApiError::invalid("scopes is empty", Some("scopes")));
        }
        config.scopes = scopes;
    }
    if req.requests_per_second == Some(0) {
        return Err(ApiError::invalid(
            "requests_per_second must be at least 1",
            Some("requests_per_second"),
        ));
    }
    // The token goes where these say: refuse addresses this deployment must not
    // reach before storing anything.
    for (url, field) in [
        (Some(config.base_url.clone()), "base_url"),
        (config.token_url.clone(), "token_url"),
    ] {
        if let Some(url) = url {
            roster_justworks::check_url_resolved(&url, st.source_policy)
                .await
                .map_err(|e| {
                    ApiError::invalid(
                        format!("the source address is not allowed: {e}"),
                        Some(field),
                    )
                })?;
        }
    }
    let name = nonempty(&req.name).unwrap_or("Justworks").to_string();
    let mut stored = StoredConfig {
        base_url: base_text.clone(),
        authorize_url: Some(config.authorize_url.to_string()),
        token_url: config.token_url.as_ref().map(|u| u.to_string()),
        client_id: nonempty(&req.client_id).unwrap_or_default().to_string(),
        redirect_uri: None,
        scopes: config.scopes.clone(),
        requests_per_second: req.requests_per_second,
        mode: "static".into(),
    };
    let engine = st.engine(p.account);
    if let Some(token) = nonempty(&req.token) {
        let secrets = wiring::static_secrets(&SecretString::from(token.to_string()));
        let stored = serde_json::to_value(&stored).map_err(|e| ApiError::internal(&e))?;
        let i = engine
            .connect(
                roster_store::IntegrationKind::Justworks,
                &name,
                stored,
                Some(&secrets),
            )
            .await?;
        tracing::info!(account = p.account, integration = i.id, principal = %p.label(), "justworks connected with a token");
        return Ok((
            StatusCode::CREATED,
            Json(ConnectResponse {
                integration: Some((&i).into()),
                authorize_url: None,
                expires_at: None,
            }),
        ));
    }
    let client_id = nonempty(&req.client_id).ok_or_else(|| {
        ApiError::invalid(
            "give `token`, or `client_id` and `client_secret` for OAuth",
            Some("client_id"),
        )
    })?;
    let client_secret = nonempty(&req.client_secret)
        .ok_or_else(|| ApiError::invalid("OAuth needs `client_secret`", Some("client_secret")))?;
    let redirect = st.config.oauth_redirect_uri();
    config.client_id = client_id.to_string();
    config.client_secret = SecretString::from(client_secret.to_string());
    config.redirect_uri = Some(parse_url(&redirect, "public_url")?);
    let oauth = OAuthClient::new(&config).map_err(|e| ApiError::invalid(e.to_string(), None))?;
    let state = new_state();
    let (url, verifier) = oauth.authorize_url(&state, true);
    stored.mode = "oauth".into();
    stored.redirect_uri = Some(redirect);
    let pending = PendingOAuth {
        name,
        stored,
        client_secret: client_secret.to_string(),
        verifier: verifier.map(|v| v.secret().to_string()),
    };
    let bytes = serde_json::to_vec(&pending).map_err(|e| ApiError::internal(&e))?;
    let expires_at = st
        .clock
        .now()
        .checked_add(OAUTH_TTL)
        .map_err(|e| ApiError::internal(&e))?;
    st.store
        .save_oauth_state(
            p.account,
            &digest(&state),
            st.cipher.encrypt(&bytes),
            expires_at,
        )
        .await?;
    tracing::info!(account = p.account, principal = %p.label(), "justworks oauth started");
    Ok((
        StatusCode::ACCEPTED,
        Json(ConnectResponse {
            integration: None,
            authorize_url: Some(url.to_string()),
            expires_at: Some(expires_at),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/integrations/justworks/callback", tag = "integrations",
    description = "Where Justworks sends the admin's browser back. The `state` (random, single use, 15 minutes) names the connection started by `POST /api/v1/integrations/justworks`; no other credentials are needed. A browser (`Accept: text/html`) is sent on to the web UI's Integrations page (303) with a notice saying whether the connection finished; other clients get the integration (201) or the error.",
    params(OAuthCallbackQuery),
    security(()),
    responses((status = 201, body = IntegrationDto), (status = 303, description = "a browser is sent to `/integrations?notice=connected` (or `oauth_denied`, `oauth_failed`)"), (status = "4XX", body = ErrorBody)))]
pub async fn callback(
    State(st): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<OAuthCallbackQuery>,
) -> Result<Response, ApiError> {
    let outcome = finish_oauth(&st, &q).await;
    if !wants_html(&headers) {
        return outcome
            .map(|i| (StatusCode::CREATED, Json(IntegrationDto::from(&i))).into_response());
    }
    let notice = match outcome {
        Ok(_) => "connected",
        Err(ApiError::OAuth(message)) if message == AuthError::AccessDenied.to_string() => {
            "oauth_denied"
        }
        Err(e) => {
            // The page shows a fixed text; the log keeps why (no personal data in it).
            tracing::warn!(code = e.code(), error = %e, "justworks oauth did not finish");
            "oauth_failed"
        }
    };
    Ok(Redirect::to(&format!("/integrations?notice={notice}")).into_response())
}

/// True when the client is a browser asking for a page rather than a JSON answer.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// Finish the connection an OAuth redirect answers: take the single-use state,
/// exchange the code, store the credentials.
async fn finish_oauth(
    st: &AppState,
    q: &OAuthCallbackQuery,
) -> Result<roster_store::Integration, ApiError> {
    let state = nonempty(&q.state)
        .ok_or_else(|| ApiError::OAuth("the redirect carries no state".into()))?;
    let (account, bytes) = st
        .store
        .take_oauth_state(&digest(state), st.clock.now())
        .await?
        .ok_or_else(|| {
            ApiError::OAuth(
                "this answer does not belong to a connection in progress (unknown or expired state): start again".into(),
            )
        })?;
    let plain = st
        .cipher
        .decrypt(&bytes)
        .map_err(|e| ApiError::internal(&e))?;
    let pending: PendingOAuth =
        serde_json::from_slice(&plain).map_err(|e| ApiError::internal(&e))?;
    if let Some(error) = nonempty(&q.error) {
        tracing::info!(account, "justworks oauth refused at the consent page");
        let err = if error == "access_denied" {
            AuthError::AccessDenied
        } else {
            AuthError::Redirect(
                error
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect(),
            )
        };
        return Err(ApiError::OAuth(err.to_string()));
    }
    let code =
        nonempty(&q.code).ok_or_else(|| ApiError::OAuth("the redirect carries no code".into()))?;
    let config = pending
        .stored
        .to_config(Some(&pending.client_secret), st.source_policy)
        .map_err(|e| ApiError::internal(&e))?;
    let oauth = OAuthClient::new(&config).map_err(|e| ApiError::internal(&e))?;
    let tokens = oauth
        .exchange_code(code, pending.verifier.map(PkceVerifier::from_secret))
        .await
        .map_err(|e| ApiError::OAuth(e.to_string()))?;
    let secrets =
        wiring::oauth_secrets(&SecretString::from(pending.client_secret.clone()), &tokens);
    let stored = serde_json::to_value(&pending.stored).map_err(|e| ApiError::internal(&e))?;
    let i = st
        .engine(account)
        .connect(
            roster_store::IntegrationKind::Justworks,
            &pending.name,
            stored,
            Some(&secrets),
        )
        .await?;
    tracing::info!(
        account,
        integration = i.id,
        "justworks connected through oauth"
    );
    Ok(i)
}

#[utoipa::path(post, path = "/api/v1/integrations/{id}/setup-sync", tag = "integrations",
    description = "Read the company, custom-field definitions, member count and a sample value per source field. Imports no employee data; the state becomes needs_finalise.",
    params(("id" = i64, Path)),
    responses((status = 200, body = SetupReportDto), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn setup_sync(
    State(st): State<AppState>,
    Auth(p, ..): Auth<EditData>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SetupReportDto>, ApiError> {
    let engine = st.engine(p.account);
    let i = engine.integration(Some(id)).await?;
    let source =
        wiring::source_on(&engine, &i, Some(&st.http), st.source_policy).map_err(ApiError::from)?;
    let r = engine.setup_sync(i.id, &source, None).await?;
    tracing::info!(account = p.account, integration = id, principal = %p.label(), "setup sync");
    Ok(Json(SetupReportDto {
        company_name: r.company_name,
        member_count: r.member_count,
        source_fields: r
            .source_fields
            .into_iter()
            .map(|f| SourceFieldDto {
                key: f.key,
                label: f.label,
                sample: f.sample,
            })
            .collect(),
        diagnostics: r
            .diagnostics
            .into_iter()
            .map(|d| DiagnosticDto {
                code: d.code,
                message: d.message,
            })
            .collect(),
    }))
}
