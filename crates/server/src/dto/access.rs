//! Access: API tokens, web users, sessions.

use jiff::Timestamp;
use roster_store::access::{ApiToken, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::shared::RoleDto;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    pub role: RoleDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenDto {
    pub id: i64,
    pub name: String,
    pub role: RoleDto,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl From<&ApiToken> for ApiTokenDto {
    fn from(t: &ApiToken) -> Self {
        let ApiToken {
            id,
            account_id: _,
            name,
            role,
            created_at,
            last_used_at,
        } = t;
        Self {
            id: *id,
            name: name.clone(),
            role: (*role).into(),
            created_at: *created_at,
            last_used_at: *last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenDto {
    /// Shown once: only its digest is stored.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiTokenDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebUserRequest {
    pub email: String,
    pub role: RoleDto,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebUserDto {
    pub id: i64,
    pub email: String,
    pub role: RoleDto,
    pub created_at: Timestamp,
}

impl From<&User> for WebUserDto {
    fn from(u: &User) -> Self {
        let User {
            id,
            account_id: _,
            email,
            role,
            created_at,
        } = u;
        Self {
            id: *id,
            email: email.clone(),
            role: (*role).into(),
            created_at: *created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The account's name: needed only when this email and password sign in to
    /// several accounts (the answer is then 422 with `field: "account"`).
    #[serde(default)]
    pub account: Option<String>,
}

/// The caller, and for a web session the CSRF token its forms must send.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    pub account_id: i64,
    pub role: RoleDto,
    /// `token:ID` or `user:ID`.
    pub principal: String,
    /// Send in `X-CSRF-Token` on every change made with the session cookie.
    pub csrf_token: Option<String>,
    pub expires_at: Option<Timestamp>,
}
