//! Who may use the server, and the server's state between requests: API tokens, web
//! users and their sessions, sync reviews waiting for a decision, and OAuth
//! connections waiting for their redirect.
//!
//! Every adapter implements [`AccessStore`]; it is a supertrait of [`crate::Store`],
//! so an `Arc<dyn Store>` reaches it. The contract suite (`contract::access`) pins it
//! down.
//!
//! Secrets never reach the store in the clear: tokens and session ids are stored as
//! SHA-256 digests (hex, computed by the caller), passwords as argon2 PHC strings,
//! and a pending OAuth connection as bytes the caller encrypted.
//!
//! Two kinds of lookup:
//! - per account (`api_tokens`, `users`, `review`, …): scoped like the rest of the
//!   store; another account's rows are invisible;
//! - by secret (`api_token_by_digest`, `session_by_digest`, `user_by_email`,
//!   `take_oauth_state`): the secret (or the login email) names the account, and
//!   everything the caller does next is scoped by it.

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::{AccountId, ImportId, IntegrationId, Result};

pub type ApiTokenId = i64;
pub type UserId = i64;
pub type ReviewId = i64;

/// What a principal may do (the matrix is in the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Reads; runs syncs and imports; edits users and the mapping.
    EmployeeDataAdmin,
    /// Everything, including integrations, settings, tokens and web users.
    AccountAdmin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::EmployeeDataAdmin, Role::AccountAdmin];

    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// A bearer API token. The token itself is shown once and never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub account_id: AccountId,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiToken {
    pub account_id: AccountId,
    pub name: String,
    pub role: Role,
    /// SHA-256 of the token, lower-case hex.
    pub digest: String,
    pub created_at: Timestamp,
}

/// A web user (signs in with email and password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// A user with the password hash, for signing in only.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    /// argon2 PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user.id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub account_id: AccountId,
    /// Unique over every account, case-insensitively (it names the account at sign-in).
    pub email: String,
    pub role: Role,
    /// argon2 PHC string.
    pub password_hash: String,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("account_id", &self.account_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A signed-in web session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub account_id: AccountId,
    pub user: User,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    pub account_id: AccountId,
    pub user_id: UserId,
    /// SHA-256 of the session id, lower-case hex.
    pub digest: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Where a sync review stands: `pending` → `applying` (reserved by one apply or
/// discard, see [`AccessStore::reserve_review`]) → `applied` | `discarded` | `failed`,
/// or back to `pending` when the run applied nothing (a guard blocked it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting for apply or discard.
    Pending,
    /// Reserved by one apply or discard that is running now.
    Applying,
    Applied,
    Discarded,
    /// The apply failed, or its process stopped before it finished (a stale
    /// reservation): the directory is as the import history says.
    Failed,
}

impl ReviewStatus {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// A reviewed sync kept between requests. `payload` is the caller's (the plan, the
/// decision, the options); the store keeps it as JSON and never reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredReview {
    pub id: ReviewId,
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub status: ReviewStatus,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// The import that applying or discarding recorded.
    pub import_id: Option<ImportId>,
    /// Who holds the review while it is `applying` (an id the holder chose).
    pub reserved_by: Option<String>,
    /// When the holder reserved it or last renewed the reservation.
    pub reserved_at: Option<Timestamp>,
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewReview {
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub created_at: Timestamp,
    pub payload: serde_json::Value,
}

/// Access control and the server's state between requests.
#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn create_api_token(&self, new: NewApiToken) -> Result<ApiToken>;
    /// The token with this digest, of any account.
    async fn api_token_by_digest(&self, digest: &str) -> Result<Option<ApiToken>>;
    /// Record a use (at most what the caller asks; callers may throttle).
    async fn touch_api_token(
        &self,
        account: AccountId,
        id: ApiTokenId,
        at: Timestamp,
    ) -> Result<()>;
    /// Oldest first.
    async fn api_tokens(&self, account: AccountId) -> Result<Vec<ApiToken>>;
    /// Delete a token; `false` when the account has no such token.
    async fn revoke_api_token(&self, account: AccountId, id: ApiTokenId) -> Result<bool>;

    /// A duplicate email (case-insensitive) within the account is `Conflict`; other
    /// accounts may have a user with the same email.
    async fn create_user(&self, new: NewUser) -> Result<User>;
    /// By email (case-insensitive), with the password hash: the first by account id
    /// when several accounts have one ([`Self::users_by_email`] lists them all).
    async fn user_by_email(&self, email: &str) -> Result<Option<UserCredentials>>;
    /// Every account's user with this email (case-insensitive), by account id, with
    /// the password hashes: what sign-in chooses from.
    async fn users_by_email(&self, email: &str) -> Result<Vec<UserCredentials>>;
    /// Oldest first.
    async fn users(&self, account: AccountId) -> Result<Vec<User>>;
    /// Delete a user and their sessions; `false` when the account has no such user.
    async fn delete_user(&self, account: AccountId, id: UserId) -> Result<bool>;

    async fn create_session(&self, new: NewSession) -> Result<()>;
    /// The session with this digest if it has not expired at `now`.
    async fn session_by_digest(&self, digest: &str, now: Timestamp) -> Result<Option<Session>>;
    async fn delete_session(&self, digest: &str) -> Result<()>;

    async fn create_review(&self, new: NewReview) -> Result<StoredReview>;
    async fn review(&self, account: AccountId, id: ReviewId) -> Result<Option<StoredReview>>;
    /// The review without its payload (`payload` is `null`): its status, for readers
    /// that have the decoded plan already.
    async fn review_head(&self, account: AccountId, id: ReviewId) -> Result<Option<StoredReview>>;
    /// The account's reviews still waiting for a decision (`pending`), newest first
    /// (by `created_at`, then id), at most `limit`, without their payloads (`null`):
    /// what the overview lists as needing the admin.
    async fn pending_reviews(&self, account: AccountId, limit: usize) -> Result<Vec<StoredReview>>;
    /// Close a pending review: `true` when this call closed it, `false` when it was
    /// not pending (someone else applied or discarded it) or is not the account's.
    async fn close_review(
        &self,
        account: AccountId,
        id: ReviewId,
        status: ReviewStatus,
        import_id: Option<ImportId>,
        at: Timestamp,
    ) -> Result<bool>;

    /// Reserve a pending review for `holder` (`pending` → `applying`, reserved at
    /// `at`), atomically: `true` when this call reserved it; `false` when it is not
    /// pending (another apply or discard holds or closed it) or not the account's.
    async fn reserve_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Renew `holder`'s reservation (its time becomes `at`): `false` when `holder`
    /// does not hold the review (any more).
    async fn renew_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// End `holder`'s reservation: `applying` → `status`. `Applied`, `Discarded` and
    /// `Failed` close the review at `at` with `import_id`; `Pending` releases it
    /// unchanged (nothing was applied). `false` when `holder` does not hold it.
    async fn finish_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        status: ReviewStatus,
        import_id: Option<ImportId>,
        at: Timestamp,
    ) -> Result<bool>;
    /// Mark `failed` (closed at `at`) a review still `applying` whose reservation
    /// was last renewed before `stale_before`: its holder stopped. `true` when this
    /// call did; the holder's later renew or finish then returns `false`.
    async fn fail_stale_review(
        &self,
        account: AccountId,
        id: ReviewId,
        stale_before: Timestamp,
        at: Timestamp,
    ) -> Result<bool>;

    /// Keep an OAuth connection in progress until its redirect arrives.
    async fn save_oauth_state(
        &self,
        account: AccountId,
        state_digest: &str,
        payload: Vec<u8>,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Take (and delete) the connection in progress with this state digest, if it has
    /// not expired at `now`: the account and the payload. A state is taken once.
    async fn take_oauth_state(
        &self,
        state_digest: &str,
        now: Timestamp,
    ) -> Result<Option<(AccountId, Vec<u8>)>>;
}
