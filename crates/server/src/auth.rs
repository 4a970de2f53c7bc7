//! Who is asking, and may they.
//!
//! - **API tokens**: `Authorization: Bearer rst_…`, 32 random bytes (base64url), shown
//!   once; the store keeps the SHA-256 digest.
//! - **Web sessions**: `POST /api/v1/session` with email and password (argon2) sets the
//!   `roster_session` cookie (HttpOnly, SameSite=Lax); the store keeps the digest of the
//!   session id. Every cookie-authenticated request that changes something (not GET or
//!   HEAD) must carry the session's CSRF token in `X-CSRF-Token` (forms: see
//!   [`csrf_token`] and [`csrf_matches`]). The CSRF token is derived from the session
//!   id, so it needs no storage and dies with the session.
//!
//! Every principal belongs to one account, and every handler works on that account
//! only. What each role may do is [`Permission`]'s matrix.

use std::marker::PhantomData;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use roster_store::AccountId;
use roster_store::access::{ApiTokenId, Role, UserId};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "roster_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of API tokens (helps secret scanners).
pub const TOKEN_PREFIX: &str = "rst_";

/// How a request authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    Token(ApiTokenId),
    Session(UserId),
}

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    pub account: AccountId,
    pub role: Role,
    pub credential: Credential,
}

impl Principal {
    /// For logs: `token:ID` or `user:ID` (never a name or an email).
    pub fn label(&self) -> String {
        match self.credential {
            Credential::Token(id) => format!("token:{id}"),
            Credential::Session(id) => format!("user:{id}"),
        }
    }
}

/// What an endpoint needs. Each role has every permission of the roles below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    /// Read the directory, integrations, settings, reviews and history.
    Read,
    /// Run syncs and CSV imports, apply, discard, roll back, edit users and the
    /// mapping, run the setup sync.
    EditData,
    /// Connect and delete integrations, change settings, manage tokens and web users.
    Admin,
}

impl Permission {
    pub fn allows(self, role: Role) -> bool {
        let level = match role {
            Role::Viewer => Permission::Read,
            Role::EmployeeDataAdmin => Permission::EditData,
            Role::AccountAdmin => Permission::Admin,
        };
        self <= level
    }

    fn action(self) -> &'static str {
        match self {
            Self::Read => "read this account's data",
            Self::EditData => "change employee data or run syncs",
            Self::Admin => "administer the account",
        }
    }
}

/// A permission as a type, for [`Auth`].
pub trait Level: Send + Sync + 'static {
    const PERMISSION: Permission;
}

#[derive(Debug)]
pub struct Read;
#[derive(Debug)]
pub struct EditData;
#[derive(Debug)]
pub struct Admin;

impl Level for Read {
    const PERMISSION: Permission = Permission::Read;
}
impl Level for EditData {
    const PERMISSION: Permission = Permission::EditData;
}
impl Level for Admin {
    const PERMISSION: Permission = Permission::Admin;
}

/// The caller, checked for `L` before the body is read: 401 without credentials,
/// 403 without the permission (or the CSRF token).
#[derive(Debug)]
pub struct Auth<L: Level>(pub Principal, pub PhantomData<L>);

impl<L: Level> FromRequestParts<AppState> for Auth<L> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = authenticate(&parts.headers, &parts.method, state).await?;
        if !L::PERMISSION.allows(principal.role) {
            return Err(ApiError::Forbidden {
                role: principal.role.as_str(),
                action: L::PERMISSION.action(),
            });
        }
        Ok(Auth(principal, PhantomData))
    }
}

/// SHA-256, lower-case hex.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes, base64url.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token (`rst_…`): give it to the caller once, store its [`digest`].
pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_secret())
}

/// The CSRF token of a session: derived from the session id, so only a holder of the
/// cookie can know it.
pub fn csrf_token(session_id: &str) -> String {
    hex::encode(Sha256::digest(
        format!("roster-csrf:{session_id}").as_bytes(),
    ))
}

/// Whether `given` is the CSRF token of `session_id` (constant time).
pub fn csrf_matches(session_id: &str, given: &str) -> bool {
    let want = csrf_token(session_id);
    want.len() == given.len()
        && want
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {0} characters")]
    TooShort(usize),
    #[error("could not hash the password: {0}")]
    Hash(String),
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(PasswordError::TooShort(MIN_PASSWORD));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The session id in the request's cookies, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(ApiError::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthenticated);
    }
    Ok(Some(token.trim().to_string()))
}

/// Who sent this request: a bearer token first, else the session cookie (with the
/// CSRF check on changes).
pub async fn authenticate(
    headers: &HeaderMap,
    method: &Method,
    state: &AppState,
) -> Result<Principal, ApiError> {
    if let Some(token) = bearer(headers)? {
        let found = state
            .store
            .api_token_by_digest(&digest(&token))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        state.touch_token(&found).await;
        return Ok(Principal {
            account: found.account_id,
            role: found.role,
            credential: Credential::Token(found.id),
        });
    }
    if let Some(session) = session_cookie(headers) {
        let found = state
            .store
            .session_by_digest(&digest(&session), state.clock.now())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let given = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !csrf_matches(&session, given) {
                return Err(ApiError::Csrf);
            }
        }
        return Ok(Principal {
            account: found.account_id,
            role: found.user.role,
            credential: Credential::Session(found.user.id),
        });
    }
    Err(ApiError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_matrix() {
        use Permission::*;
        let table = [
            (Role::Viewer, [true, false, false]),
            (Role::EmployeeDataAdmin, [true, true, false]),
            (Role::AccountAdmin, [true, true, true]),
        ];
        for (role, allowed) in table {
            for (p, want) in [Read, EditData, Admin].into_iter().zip(allowed) {
                assert_eq!(p.allows(role), want, "{role:?} {p:?}");
            }
        }
    }

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let a = new_api_token();
        let b = new_api_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        let raw = URL_SAFE_NO_PAD
            .decode(&a[TOKEN_PREFIX.len()..])
            .expect("base64url");
        assert_eq!(raw.len(), 32);
        assert_eq!(digest(&a).len(), 64);
    }

    #[test]
    fn passwords_hash_and_verify() {
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort(_))
        ));
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn csrf_is_bound_to_the_session() {
        let t = csrf_token("s1");
        assert!(csrf_matches("s1", &t));
        assert!(!csrf_matches("s2", &t));
        assert!(!csrf_matches("s1", ""));
    }

    #[test]
    fn reads_the_session_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            "a=b; roster_session=xyz; c=d".parse().expect("header"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("xyz"));
    }
}
