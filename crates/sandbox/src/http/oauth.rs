//! OAuth 2.0: the consent page, the token endpoint (authorization code with optional
//! PKCE, refresh with rotation) and revocation.

use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use jiff::Timestamp;
use serde_json::json;
use url::Url;

use crate::auth::{CodeRecord, Issued, PkceMethod, after, pkce_matches};
use crate::error::OAuthError;
use crate::scopes::{SENSITIVE, ScopeSet};
use crate::state::SandboxHandle;

type Params = HashMap<String, String>;

fn param<'a>(p: &'a Params, k: &str) -> Option<&'a str> {
    p.get(k).map(String::as_str).filter(|s| !s.is_empty())
}

/// A checked authorize request.
struct Authorize {
    client_id: String,
    redirect: Url,
    redirect_raw: String,
    state: Option<String>,
    scopes: ScopeSet,
    scope_raw: String,
    challenge: Option<(String, PkceMethod)>,
}

enum Refusal {
    /// Not safe to redirect: show an error page.
    Page(String),
    /// Redirect back to the client with `error=…`.
    Redirect(Url),
}

fn with_query(mut url: Url, pairs: &[(&str, &str)]) -> Url {
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    url
}

fn error_redirect(url: &Url, error: &str, state: Option<&str>) -> Refusal {
    let mut pairs = vec![("error", error)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    Refusal::Redirect(with_query(url.clone(), &pairs))
}

fn check_authorize(h: &SandboxHandle, p: &Params) -> Result<Authorize, Refusal> {
    let config = h.config();
    let client_id = param(p, "client_id").unwrap_or_default();
    if client_id != config.client_id {
        return Err(Refusal::Page(format!("Unknown client_id `{client_id}`.")));
    }
    let Some(redirect_raw) = param(p, "redirect_uri") else {
        return Err(Refusal::Page(
            "The redirect_uri parameter is missing.".into(),
        ));
    };
    let redirect = match Url::parse(redirect_raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.fragment().is_none() => u,
        _ => {
            return Err(Refusal::Page(format!(
                "The redirect_uri `{redirect_raw}` is not an absolute http(s) URL."
            )));
        }
    };
    if !config.redirect_uris.is_empty() && !config.redirect_uris.iter().any(|r| r == redirect_raw) {
        return Err(Refusal::Page(format!(
            "The redirect_uri `{redirect_raw}` is not registered for this client."
        )));
    }
    let state = param(p, "state").map(str::to_owned);
    if param(p, "response_type") != Some("code") {
        return Err(error_redirect(
            &redirect,
            "unsupported_response_type",
            state.as_deref(),
        ));
    }
    let scope_raw = param(p, "scope").unwrap_or_default().to_owned();
    let scopes = if scope_raw.trim().is_empty() {
        ScopeSet::ALL
    } else {
        match ScopeSet::parse(&scope_raw) {
            Ok(s) => s,
            Err(_) => return Err(error_redirect(&redirect, "invalid_scope", state.as_deref())),
        }
    };
    let challenge = match param(p, "code_challenge") {
        None => None,
        Some(c) => {
            let method = match param(p, "code_challenge_method") {
                None | Some("plain") => PkceMethod::Plain,
                Some("S256") => PkceMethod::S256,
                Some(_) => {
                    return Err(error_redirect(
                        &redirect,
                        "invalid_request",
                        state.as_deref(),
                    ));
                }
            };
            Some((c.to_owned(), method))
        }
    };
    Ok(Authorize {
        client_id: client_id.to_owned(),
        redirect,
        redirect_raw: redirect_raw.to_owned(),
        state,
        scopes,
        scope_raw,
        challenge,
    })
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Authorization error</title></head>\
         <body><main><h1>Authorization error</h1><p>{}</p></main></body></html>",
        text(message)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Page(msg) => error_page(&msg),
        Refusal::Redirect(url) => Redirect::to(url.as_str()).into_response(),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f6f8;margin:0}\
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.1)}h1{font-size:1.4rem}li{margin:.4rem 0}\
code{color:#555;font-size:.85em}.sensitive{background:#fff8e1;padding:.8rem;border-radius:6px}\
.note{color:#666;font-size:.9em}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}\
button[value=authorize]{background:#1a73e8;color:#fff;border:0;border-radius:4px}";

pub(super) async fn authorize_page(
    State(h): State<SandboxHandle>,
    Query(p): Query<Params>,
) -> Response {
    let a = match check_authorize(&h, &p) {
        Ok(a) => a,
        Err(r) => return refusal(r),
    };
    let company = h
        .shared
        .company
        .read()
        .profile
        .display_name
        .clone()
        .unwrap_or_else(|| "your company".into());
    let mut items = String::new();
    for (name, words) in a.scopes.describe() {
        items.push_str(&format!(
            "<li>{} <code>{}</code></li>",
            text(words),
            text(name)
        ));
    }
    if items.is_empty() {
        items.push_str("<li>No data (no scopes requested)</li>");
    }
    let mut hidden = String::new();
    let mut field = |k: &str, v: &str| {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            attr(k),
            attr(v)
        ));
    };
    field("response_type", "code");
    field("client_id", &a.client_id);
    field("redirect_uri", &a.redirect_raw);
    field("scope", &a.scope_raw);
    if let Some(s) = &a.state {
        field("state", s);
    }
    if let Some((c, m)) = &a.challenge {
        field("code_challenge", c);
        field(
            "code_challenge_method",
            if *m == PkceMethod::S256 {
                "S256"
            } else {
                "plain"
            },
        );
    }
    let sensitive = if a.scopes.contains_any(SENSITIVE) {
        "<div class=\"sensitive\"><label><input type=\"checkbox\" name=\"share_sensitive\" value=\"yes\" \
         id=\"share_sensitive\"> Share date of birth and sex</label>\
         <p class=\"note\">If you leave this unticked, the application will not see dates of birth \
         or sex assigned at birth.</p></div>"
    } else {
        ""
    };
    let host = a.redirect.host_str().unwrap_or_default().to_owned();
    let company = text(&company);
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Connect to {company} · Justworks sandbox</title><style>{STYLE}</style></head>\
         <body><main><p class=\"note\">Justworks Partner API sandbox</p>\
         <h1>Allow access to {company}</h1>\
         <p>The application <code>{client}</code> is asking to connect to <strong>{company}</strong>. \
         It will be able to:</p><ul>{items}</ul>\
         <form method=\"post\" action=\"authorize\">{hidden}{sensitive}\
         <p><button type=\"submit\" name=\"decision\" value=\"authorize\">Authorize</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p></form>\
         <p class=\"note\">You will be sent back to {host}.</p></main></body></html>",
        client = text(&a.client_id),
        host = text(&host),
    );
    Html(body).into_response()
}

pub(super) async fn authorize_submit(
    State(h): State<SandboxHandle>,
    form: Result<Form<Params>, FormRejection>,
) -> Response {
    let Ok(Form(p)) = form else {
        return error_page("The form could not be read.");
    };
    let a = match check_authorize(&h, &p) {
        Ok(a) => a,
        Err(r) => return refusal(r),
    };
    let state = a.state.as_deref();
    match param(&p, "decision") {
        Some("authorize") => {}
        Some("deny") => {
            return match error_redirect(&a.redirect, "access_denied", state) {
                Refusal::Redirect(url) => Redirect::to(url.as_str()).into_response(),
                Refusal::Page(m) => error_page(&m),
            };
        }
        _ => return error_page("Choose Authorize or Deny."),
    }
    let share = matches!(
        param(&p, "share_sensitive"),
        Some("yes" | "on" | "true" | "1")
    );
    let scopes = if share {
        a.scopes
    } else {
        a.scopes.without(SENSITIVE)
    };
    let code = h.shared.auth.lock().issue_code(CodeRecord {
        redirect_uri: a.redirect_raw.clone(),
        scopes,
        challenge: a.challenge.clone(),
        expires_at: after(Timestamp::now(), h.config().code_ttl),
    });
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    Redirect::to(with_query(a.redirect, &pairs).as_str()).into_response()
}

/// Client credentials from the form body, or else HTTP Basic.
fn client_ok(h: &SandboxHandle, p: &Params, headers: &HeaderMap) -> bool {
    let config = h.config();
    let (id, secret) = match (param(p, "client_id"), param(p, "client_secret")) {
        (Some(i), Some(s)) => (i.to_owned(), s.to_owned()),
        _ => {
            let basic = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Basic ").or(v.strip_prefix("basic ")))
                .and_then(|b| STANDARD.decode(b.trim()).ok())
                .and_then(|b| String::from_utf8(b).ok());
            let Some((i, s)) = basic.as_deref().and_then(|b| b.split_once(':')) else {
                return false;
            };
            let decode = |x: &str| {
                url::form_urlencoded::parse(format!("x={x}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (decode(i), decode(s))
        }
    };
    id == config.client_id && secret == config.client_secret
}

fn token_response(issued: &Issued) -> Response {
    let mut body = json!({
        "token_type": "bearer",
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "expires_at": issued.access_expires_at,
        "scope": issued.scopes.to_string(),
    });
    if let Some((rt, exp)) = &issued.refresh {
        body["refresh_token"] = json!(rt);
        body["refresh_token_expires_at"] = json!(exp);
    }
    let mut res = axum::Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

pub(super) async fn token(
    State(h): State<SandboxHandle>,
    headers: HeaderMap,
    form: Result<Form<Params>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Ok(Form(p)) = form else {
        return Err(OAuthError::invalid_request(
            "expected an application/x-www-form-urlencoded body",
        ));
    };
    let Some(grant_type) = param(&p, "grant_type") else {
        return Err(OAuthError::invalid_request("grant_type is required"));
    };
    if !client_ok(&h, &p, &headers) {
        return Err(OAuthError::invalid_client());
    }
    let config = h.config();
    match grant_type {
        "authorization_code" => {
            let code =
                param(&p, "code").ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            let record = h.shared.auth.lock().take_code(code).ok_or_else(|| {
                OAuthError::invalid_grant("unknown or already used authorization code")
            })?;
            if record.expires_at <= Timestamp::now() {
                return Err(OAuthError::invalid_grant(
                    "the authorization code has expired",
                ));
            }
            if param(&p, "redirect_uri") != Some(record.redirect_uri.as_str()) {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the authorization request",
                ));
            }
            if let Some((challenge, method)) = &record.challenge {
                let Some(verifier) = param(&p, "code_verifier") else {
                    return Err(OAuthError::invalid_grant(
                        "code_verifier is required (PKCE)",
                    ));
                };
                if !pkce_matches(challenge, method, verifier) {
                    return Err(OAuthError::invalid_grant(
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
            let issued = h.shared.auth.lock().issue(
                record.scopes,
                None,
                config.access_ttl,
                Some(config.refresh_ttl),
            );
            Ok(token_response(&issued))
        }
        "refresh_token" => {
            let rt = param(&p, "refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
            let mut auth = h.shared.auth.lock();
            let old = auth.take_refresh(rt).map_err(OAuthError::invalid_grant)?;
            let scopes = match param(&p, "scope") {
                None => old.scopes,
                Some(s) => {
                    let asked = ScopeSet::parse(s).map_err(|u| {
                        OAuthError::new(
                            StatusCode::BAD_REQUEST,
                            "invalid_scope",
                            format!("unknown scope `{}`", u.0),
                        )
                    })?;
                    if !asked.is_subset_of(old.scopes) {
                        return Err(OAuthError::new(
                            StatusCode::BAD_REQUEST,
                            "invalid_scope",
                            "a refresh cannot add scopes",
                        ));
                    }
                    asked
                }
            };
            let issued = auth.issue(
                scopes,
                Some(old.grant),
                config.access_ttl,
                Some(config.refresh_ttl),
            );
            Ok(token_response(&issued))
        }
        other => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type `{other}` is not supported"),
        )),
    }
}

pub(super) async fn revoke(
    State(h): State<SandboxHandle>,
    headers: HeaderMap,
    form: Result<Form<Params>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Ok(Form(p)) = form else {
        return Err(OAuthError::invalid_request(
            "expected an application/x-www-form-urlencoded body",
        ));
    };
    if !client_ok(&h, &p, &headers) {
        return Err(OAuthError::invalid_client());
    }
    let token =
        param(&p, "token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    h.shared.auth.lock().revoke(token);
    Ok(axum::Json(json!({})).into_response())
}
