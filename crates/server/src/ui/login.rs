//! Sign in (the API's session login, from a form) and sign out.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{NoticeQuery, Posted, UiError, notice_text, see, session_user};
use crate::api::access;
use crate::dto::LoginRequest;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(show).post(submit))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    /// The account field: shown when an email and password open several accounts.
    account: Option<String>,
    error: Option<String>,
    notice: Option<String>,
}

async fn show(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    if session_user(&headers, &st).await?.is_some() {
        return Ok(see("/"));
    }
    super::page(&LoginPage {
        email: String::new(),
        account: None,
        error: None,
        notice: q
            .notice
            .as_deref()
            .and_then(notice_text)
            .map(str::to_string),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    account: Option<String>,
}

/// True when the browser says the form was posted from another site. The sign-in form
/// has no session yet to hang a CSRF token on, so it refuses cross-site posts by the
/// headers browsers set themselves (`Sec-Fetch-Site`, `Origin`): otherwise another
/// site could sign an admin into an account of its choosing.
fn cross_site(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return !matches!(site, "same-origin" | "same-site" | "none");
    }
    match (header("origin"), header("host")) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => url::Url::parse(origin)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| {
                    format!(
                        "{h}{}",
                        u.port().map(|p| format!(":{p}")).unwrap_or_default()
                    )
                })
            })
            .is_none_or(|authority| !authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, UiError> {
    let email = f.email.trim().to_string();
    if cross_site(&headers) {
        tracing::warn!("sign-in form posted from another site: refused");
        let html = LoginPage {
            email: String::new(),
            account: None,
            error: Some(
                "This sign-in form was sent from another site. Sign in here instead.".into(),
            ),
            notice: None,
        }
        .render()?;
        return Ok((StatusCode::FORBIDDEN, Html(html)).into_response());
    }
    let answer = access::login(
        State(st),
        ApiJson(LoginRequest {
            email: email.clone(),
            password: f.password,
            account: f.account.clone(),
        }),
    )
    .await;
    match answer {
        Ok(r) => {
            let mut out = see("/");
            for c in r.headers().get_all(SET_COOKIE) {
                out.headers_mut().append(SET_COOKIE, c.clone());
            }
            Ok(out)
        }
        Err(ApiError::Invalid {
            field: Some(field), ..
        }) if field == "account" => {
            let html = LoginPage {
                email,
                account: Some(String::new()),
                error: Some(
                    "This email and password open several accounts: enter the account's name."
                        .into(),
                ),
                notice: None,
            }
            .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(ApiError::BadLogin) => {
            let html = LoginPage {
                email,
                account: f.account.filter(|a| !a.trim().is_empty()),
                error: Some("Wrong email or password.".into()),
                notice: None,
            }
            .render()?;
            Ok((StatusCode::UNAUTHORIZED, Html(html)).into_response())
        }
        Err(ApiError::TooManyAttempts { retry_after_secs }) => {
            let html = LoginPage {
                email,
                account: None,
                error: Some(format!(
                    "Too many sign-in attempts for this email. Wait {retry_after_secs} seconds and try again."
                )),
                notice: None,
            }
            .render()?;
            let mut r = (StatusCode::TOO_MANY_REQUESTS, Html(html)).into_response();
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
            Ok(r)
        }
        Err(e) => Err(UiError::Api(e)),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(State(st): State<AppState>, p: Posted<Empty>) -> Result<Response, UiError> {
    let r = access::logout(State(st), p.user.api_headers()).await?;
    let mut out = see("/login?notice=signed_out");
    for c in r.headers().get_all(SET_COOKIE) {
        out.headers_mut().append(SET_COOKIE, c.clone());
    }
    Ok(out)
}
