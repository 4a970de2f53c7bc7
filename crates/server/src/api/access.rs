//! API tokens, web users and web sessions (sign in, who am I, sign out).

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_store::access::{NewApiToken, NewSession, NewUser, Role};

use crate::auth::{
    self, Admin, Auth, Credential, Read, SESSION_COOKIE, csrf_token, digest, hash_password,
    new_api_token, random_secret, verify_password,
};
use crate::dto::{
    ApiTokenDto, CreateTokenRequest, CreateWebUserRequest, CreatedTokenDto, LoginRequest,
    SessionDto, WebUserDto,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

fn blocking_error(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(&e)
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "access",
    responses((status = 200, body = Vec<ApiTokenDto>), (status = "4XX", body = ErrorBody)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
) -> Result<Json<Vec<ApiTokenDto>>, ApiError> {
    let list = st.store.api_tokens(p.account).await?;
    Ok(Json(list.iter().map(ApiTokenDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "access",
    description = "Create an API token. The token is in this answer only; the server keeps its SHA-256 digest.",
    request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenDto), (status = "4XX", body = ErrorBody)))]
pub async fn create_token(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenDto>), ApiError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name must be 1 to 100 characters",
            Some("name"),
        ));
    }
    let token = new_api_token();
    let t = st
        .store
        .create_api_token(NewApiToken {
            account_id: p.account,
            name: name.to_string(),
            role: req.role.into(),
            digest: digest(&token),
            created_at: st.clock.now(),
        })
        .await?;
    tracing::info!(account = p.account, token = t.id, role = t.role.as_str(), principal = %p.label(), "api token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenDto {
            token,
            info: (&t).into(),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access",
    params(("id" = i64, Path)),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    if !st.store.revoke_api_token(p.account, id).await? {
        return Err(ApiError::NotFound(format!("no token {id}")));
    }
    tracing::info!(account = p.account, token = id, principal = %p.label(), "api token revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/web-users", tag = "access",
    responses((status = 200, body = Vec<WebUserDto>), (status = "4XX", body = ErrorBody)))]
pub async fn list_users(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
) -> Result<Json<Vec<WebUserDto>>, ApiError> {
    let list = st.store.users(p.account).await?;
    Ok(Json(list.iter().map(WebUserDto::from).collect()))
}

/// Validate and hash, then create a web user of `account`.
pub async fn create_web_user(
    st: &AppState,
    account: i64,
    email: &str,
    role: Role,
    password: String,
) -> Result<roster_store::access::User, ApiError> {
    let email = email.trim();
    if !roster_core::normalise::valid_email(email) {
        return Err(ApiError::invalid(
            "email is not a valid email address",
            Some("email"),
        ));
    }
    let hash = st
        .hashing
        .run(move || hash_password(&password))
        .await
        .ok_or(ApiError::TooManyAttempts {
            retry_after_secs: 1,
        })?
        .map_err(blocking_error)?
        .map_err(|e| match e {
            auth::PasswordError::TooShort(_) => ApiError::invalid(e.to_string(), Some("password")),
            other => ApiError::internal(&other),
        })?;
    Ok(st
        .store
        .create_user(NewUser {
            account_id: account,
            email: email.to_string(),
            role,
            password_hash: hash,
            created_at: st.clock.now(),
        })
        .await?)
}

#[utoipa::path(post, path = "/api/v1/web-users", tag = "access",
    description = "Create a web user (signs in with email and password). Emails are unique over every account.",
    request_body = CreateWebUserRequest,
    responses((status = 201, body = WebUserDto), (status = "4XX", body = ErrorBody)))]
pub async fn create_user(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiJson(req): ApiJson<CreateWebUserRequest>,
) -> Result<(StatusCode, Json<WebUserDto>), ApiError> {
    let u = create_web_user(&st, p.account, &req.email, req.role.into(), req.password).await?;
    tracing::info!(account = p.account, user = u.id, role = u.role.as_str(), principal = %p.label(), "web user created");
    Ok((StatusCode::CREATED, Json((&u).into())))
}

#[utoipa::path(delete, path = "/api/v1/web-users/{id}", tag = "access",
    description = "Delete a web user and end their sessions.",
    params(("id" = i64, Path)),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn delete_user(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Admin>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    if !st.store.delete_user(p.account, id).await? {
        return Err(ApiError::NotFound(format!("no web user {id}")));
    }
    tracing::info!(account = p.account, user = id, principal = %p.label(), "web user deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A hash to verify against when the email is unknown, so that the answer takes as
/// long as for a known one.
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("roster-dummy-password-for-timing").unwrap_or_default())
}

fn cookie(st: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    // Secure whenever browsers reach the server over HTTPS, flag or not.
    let secure = if st.config.secure_cookies || st.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::internal(&e))
}

#[utoipa::path(post, path = "/api/v1/session", tag = "access",
    description = "Sign in with email and password: sets the `roster_session` cookie (HttpOnly, SameSite=Lax) and returns the CSRF token to send in `X-CSRF-Token` with every change made through the cookie. Each email gets `login_attempts_per_minute` attempts (default 10), all sign-ins together `login_attempts_global_per_minute` (default 120), and password checks run `password_hashing_concurrency` at once (default: one per core; a sign-in waits 2 s at most for its turn); beyond, answers are 429 `too_many_attempts` with `Retry-After`.",
    request_body = LoginRequest,
    security(()),
    responses((status = 201, body = SessionDto), (status = "4XX", body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    if let Err(retry_after_secs) = st.logins.attempt(&req.email) {
        tracing::warn!("sign-in refused: too many attempts");
        return Err(ApiError::TooManyAttempts { retry_after_secs });
    }
    // Emails are unique per account: the same one may sign in to several.
    let mut found = st.store.users_by_email(&req.email).await?;
    if let Some(name) = req
        .account
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let accounts = st.store.accounts().await?;
        let id = accounts.iter().find(|(_, n)| n == name).map(|(id, _)| *id);
        found.retain(|c| Some(c.user.account_id) == id);
    }
    let candidates: Vec<(String, Option<roster_store::access::User>)> = if found.is_empty() {
        vec![(dummy_hash().to_string(), None)]
    } else {
        found
            .into_iter()
            .map(|c| (c.password_hash, Some(c.user)))
            .collect()
    };
    let password = req.password;
    // Known and unknown emails alike: argon2 checks, in a hashing slot.
    let mut matched = st
        .hashing
        .run(move || {
            candidates
                .into_iter()
                .filter(|(hash, _)| verify_password(&password, hash))
                .filter_map(|(_, user)| user)
                .collect::<Vec<_>>()
        })
        .await
        .ok_or_else(|| {
            tracing::warn!("sign-in refused: every password hashing slot is busy");
            ApiError::TooManyAttempts {
                retry_after_secs: 1,
            }
        })?
        .map_err(blocking_error)?;
    // Only a caller who knows the password learns that it opens several accounts.
    if matched.len() > 1 {
        tracing::info!("sign-in needs the account");
        return Err(ApiError::invalid(
            "this email and password sign in to several accounts: give `account`, the \
             account's name",
            Some("account"),
        ));
    }
    let Some(user) = matched.pop() else {
        tracing::info!("sign-in refused");
        return Err(ApiError::BadLogin);
    };
    let session = random_secret();
    let now = st.clock.now();
    let hours = i64::from(st.config.session_hours);
    let expires_at = now
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .map_err(|e| ApiError::internal(&e))?;
    st.store
        .create_session(NewSession {
            account_id: user.account_id,
            user_id: user.id,
            digest: digest(&session),
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(account = user.account_id, user = user.id, "signed in");
    let body = SessionDto {
        account_id: user.account_id,
        role: user.role.into(),
        principal: format!("user:{}", user.id),
        csrf_token: Some(csrf_token(&session)),
        expires_at: Some(expires_at),
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&st, &session, hours * 3600)?);
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/session", tag = "access",
    description = "Who is asking; for a web session, its CSRF token.",
    responses((status = 200, body = SessionDto), (status = "4XX", body = ErrorBody)))]
pub async fn whoami(
    State(st): State<AppState>,
    Auth(p, ..): Auth<Read>,
    headers: HeaderMap,
) -> Result<Json<SessionDto>, ApiError> {
    let (csrf, expires_at) = match p.credential {
        Credential::Session(_) => match auth::session_cookie(&headers) {
            Some(s) => {
                let found = st
                    .store
                    .session_by_digest(&digest(&s), st.clock.now())
                    .await?;
                (Some(csrf_token(&s)), found.map(|f| f.expires_at))
            }
            None => (None, None),
        },
        Credential::Token(_) => (None, None),
    };
    Ok(Json(SessionDto {
        account_id: p.account,
        role: p.role.into(),
        principal: p.label(),
        csrf_token: csrf,
        expires_at,
    }))
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "access",
    description = "Sign out: ends the session of the cookie (needs the CSRF token) and clears the cookie.",
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let p = auth::authenticate(&headers, &Method::DELETE, &st).await?;
    let Credential::Session(user) = p.credential else {
        return Err(ApiError::bad_request(
            "sign-out ends a web session; API tokens are revoked with DELETE /api/v1/tokens/{id}",
            None,
        ));
    };
    if let Some(s) = auth::session_cookie(&headers) {
        st.store.delete_session(&digest(&s)).await?;
    }
    tracing::info!(account = p.account, user, "signed out");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&st, "", 0)?);
    Ok(response)
}
