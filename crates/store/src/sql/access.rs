//! [`AccessStore`] for every [`Adapter`]: API tokens, web users, sessions, sync
//! reviews and OAuth connections in progress.

use async_trait::async_trait;
use jiff::Timestamp;

use super::adapter::{Adapter, Begin};
use super::codec::{self, corrupt, to_json};
use super::integrations::account_exists;
use super::query::{Columns, Executor, Query, Transaction};
use crate::access::{
    AccessStore, ApiToken, ApiTokenId, NewApiToken, NewReview, NewSession, NewUser, ReviewId,
    ReviewStatus, Role, Session, StoredReview, User, UserCredentials, UserId,
};
use crate::{AccountId, ImportId, Result, StoreError};

fn role(s: &str, what: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| corrupt(what))
}

pub const TOKEN_SELECT: &str = "id, account_id, name, role, created_at, last_used_at";

fn token_from_row(row: &impl Columns) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.int(0, "api_tokens.id")?,
        account_id: row.int(1, "api_tokens.account_id")?,
        name: row.string(2, "api_tokens.name")?,
        role: role(row.text(3, "api_tokens.role")?, "api_tokens.role")?,
        created_at: row.ts(4, "api_tokens.created_at")?,
        last_used_at: row.opt_ts(5, "api_tokens.last_used_at")?,
    })
}

pub const USER_SELECT: &str = "id, account_id, email, role, created_at";

/// The [`USER_SELECT`] columns from column `at` on.
fn user_from_row(row: &impl Columns, at: usize) -> Result<User> {
    Ok(User {
        id: row.int(at, "users.id")?,
        account_id: row.int(at + 1, "users.account_id")?,
        email: row.string(at + 2, "users.email")?,
        role: role(row.text(at + 3, "users.role")?, "users.role")?,
        created_at: row.ts(at + 4, "users.created_at")?,
    })
}

/// [`USER_SELECT`] and the password hash.
fn credentials_from_row(row: &impl Columns) -> Result<UserCredentials> {
    Ok(UserCredentials {
        user: user_from_row(row, 0)?,
        password_hash: row.string(5, "users.password_hash")?,
    })
}

const REVIEW_SELECT: &str = "id, account_id, integration_id, status, created_at, closed_at, \
     import_id, payload, reserved_by, reserved_at";
/// [`REVIEW_SELECT`] with a `null` payload.
const REVIEW_HEAD_SELECT: &str = "id, account_id, integration_id, status, created_at, closed_at, \
     import_id, 'null', reserved_by, reserved_at";

fn review_from_row(row: &impl Columns) -> Result<StoredReview> {
    let status = row.text(3, "sync_reviews.status")?;
    Ok(StoredReview {
        id: row.int(0, "sync_reviews.id")?,
        account_id: row.int(1, "sync_reviews.account_id")?,
        integration_id: row.int(2, "sync_reviews.integration_id")?,
        status: ReviewStatus::parse(status).ok_or_else(|| corrupt("sync_reviews.status"))?,
        created_at: row.ts(4, "sync_reviews.created_at")?,
        closed_at: row.opt_ts(5, "sync_reviews.closed_at")?,
        import_id: row.opt_int(6, "sync_reviews.import_id")?,
        payload: row.json(7, "sync_reviews.payload")?,
        reserved_by: row.opt_string(8, "sync_reviews.reserved_by")?,
        reserved_at: row.opt_ts(9, "sync_reviews.reserved_at")?,
    })
}

/// How a login email is compared.
fn email_lower(email: &str) -> String {
    email.trim().to_lowercase()
}

#[async_trait]
impl<A: Adapter> AccessStore for A {
    async fn create_api_token(&self, new: NewApiToken) -> Result<ApiToken> {
        account_exists(&mut self.pool_executor(), new.account_id).await?;
        let q = Query::new(format!(
            "INSERT INTO api_tokens (account_id, name, role, digest, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {TOKEN_SELECT}"
        ))
        .bind(new.account_id)
        .bind(new.name)
        .bind(new.role.as_str())
        .bind(new.digest)
        .bind(new.created_at);
        token_from_row(&self.pool_executor().fetch_one(q).await?)
    }

    async fn api_token_by_digest(&self, digest: &str) -> Result<Option<ApiToken>> {
        let q = Query::new(format!(
            "SELECT {TOKEN_SELECT} FROM api_tokens WHERE digest = $1"
        ))
        .bind(digest);
        let row = self.pool_executor().fetch_optional(q).await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn touch_api_token(
        &self,
        account: AccountId,
        id: ApiTokenId,
        at: Timestamp,
    ) -> Result<()> {
        let q =
            Query::new("UPDATE api_tokens SET last_used_at = $3 WHERE account_id = $1 AND id = $2")
                .bind(account)
                .bind(id)
                .bind(at);
        self.pool_executor().execute(q).await?;
        Ok(())
    }

    async fn api_tokens(&self, account: AccountId) -> Result<Vec<ApiToken>> {
        let q = Query::new(format!(
            "SELECT {TOKEN_SELECT} FROM api_tokens WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account);
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_api_token(&self, account: AccountId, id: ApiTokenId) -> Result<bool> {
        let q = Query::new("DELETE FROM api_tokens WHERE account_id = $1 AND id = $2")
            .bind(account)
            .bind(id);
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn create_user(&self, new: NewUser) -> Result<User> {
        account_exists(&mut self.pool_executor(), new.account_id).await?;
        let q = Query::new(format!(
            "INSERT INTO users (account_id, email, email_lower, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_SELECT}"
        ))
        .bind(new.account_id)
        .bind(new.email.trim())
        .bind(email_lower(&new.email))
        .bind(new.role.as_str())
        .bind(new.password_hash)
        .bind(new.created_at);
        let row = self
            .pool_executor()
            .fetch_one(q)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    StoreError::Conflict("a user with this email already exists".into())
                }
                other => other,
            })?;
        user_from_row(&row, 0)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserCredentials>> {
        let q = Query::new(format!(
            "SELECT {USER_SELECT}, password_hash FROM users WHERE email_lower = $1 \
             ORDER BY account_id LIMIT 1"
        ))
        .bind(email_lower(email));
        let row = self.pool_executor().fetch_optional(q).await?;
        row.as_ref().map(credentials_from_row).transpose()
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<UserCredentials>> {
        let q = Query::new(format!(
            "SELECT {USER_SELECT}, password_hash FROM users WHERE email_lower = $1 \
             ORDER BY account_id"
        ))
        .bind(email_lower(email));
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter().map(credentials_from_row).collect()
    }

    async fn users(&self, account: AccountId) -> Result<Vec<User>> {
        let q = Query::new(format!(
            "SELECT {USER_SELECT} FROM users WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account);
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter().map(|r| user_from_row(r, 0)).collect()
    }

    async fn delete_user(&self, account: AccountId, id: UserId) -> Result<bool> {
        let mut tx = self.begin(Begin::Write).await?;
        tx.execute(
            Query::new("DELETE FROM sessions WHERE account_id = $1 AND user_id = $2")
                .bind(account)
                .bind(id),
        )
        .await?;
        let done = tx
            .execute(
                Query::new("DELETE FROM users WHERE account_id = $1 AND id = $2")
                    .bind(account)
                    .bind(id),
            )
            .await?;
        tx.commit().await?;
        Ok(done > 0)
    }

    async fn create_session(&self, new: NewSession) -> Result<()> {
        let q = Query::new(
            "INSERT INTO sessions (digest, account_id, user_id, created_at, expires_at) \
             SELECT $1, account_id, id, $4, $5 FROM users WHERE account_id = $2 AND id = $3",
        )
        .bind(new.digest)
        .bind(new.account_id)
        .bind(new.user_id)
        .bind(new.created_at)
        .bind(new.expires_at);
        if self.pool_executor().execute(q).await? == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: new.user_id.to_string(),
            });
        }
        Ok(())
    }

    async fn session_by_digest(&self, digest: &str, now: Timestamp) -> Result<Option<Session>> {
        let q = Query::new(
            "SELECT u.id, u.account_id, u.email, u.role, u.created_at, s.created_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id AND u.account_id = s.account_id \
             WHERE s.digest = $1 AND s.expires_at > $2",
        )
        .bind(digest)
        .bind(now);
        let row = self.pool_executor().fetch_optional(q).await?;
        row.map(|row| {
            let user = user_from_row(&row, 0)?;
            Ok(Session {
                account_id: user.account_id,
                user,
                created_at: row.ts(5, "sessions.created_at")?,
                expires_at: row.ts(6, "sessions.expires_at")?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, digest: &str) -> Result<()> {
        let q = Query::new("DELETE FROM sessions WHERE digest = $1").bind(digest);
        self.pool_executor().execute(q).await?;
        Ok(())
    }

    async fn create_review(&self, new: NewReview) -> Result<StoredReview> {
        account_exists(&mut self.pool_executor(), new.account_id).await?;
        let q = Query::new(format!(
            "INSERT INTO sync_reviews (account_id, integration_id, status, created_at, payload) \
             VALUES ($1, $2, 'pending', $3, $4) RETURNING {REVIEW_SELECT}"
        ))
        .bind(new.account_id)
        .bind(new.integration_id)
        .bind(new.created_at)
        .bind(to_json(&new.payload)?);
        review_from_row(&self.pool_executor().fetch_one(q).await?)
    }

    async fn review(&self, account: AccountId, id: ReviewId) -> Result<Option<StoredReview>> {
        let q = Query::new(format!(
            "SELECT {REVIEW_SELECT} FROM sync_reviews WHERE account_id = $1 AND id = $2"
        ))
        .bind(account)
        .bind(id);
        let row = self.pool_executor().fetch_optional(q).await?;
        row.as_ref().map(review_from_row).transpose()
    }

    async fn review_head(&self, account: AccountId, id: ReviewId) -> Result<Option<StoredReview>> {
        let q = Query::new(format!(
            "SELECT {REVIEW_HEAD_SELECT} FROM sync_reviews WHERE account_id = $1 AND id = $2"
        ))
        .bind(account)
        .bind(id);
        let row = self.pool_executor().fetch_optional(q).await?;
        row.as_ref().map(review_from_row).transpose()
    }

    async fn pending_reviews(&self, account: AccountId, limit: usize) -> Result<Vec<StoredReview>> {
        let q = Query::new(format!(
            "SELECT {REVIEW_HEAD_SELECT} FROM sync_reviews \
             WHERE account_id = $1 AND status = 'pending' \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(account)
        .bind(codec::limit(limit));
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter().map(review_from_row).collect()
    }

    async fn close_review(
        &self,
        account: AccountId,
        id: ReviewId,
        status: ReviewStatus,
        import_id: Option<ImportId>,
        at: Timestamp,
    ) -> Result<bool> {
        let q = Query::new(
            "UPDATE sync_reviews SET status = $3, import_id = $4, closed_at = $5 \
             WHERE account_id = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(account)
        .bind(id)
        .bind(status.as_str())
        .bind(import_id)
        .bind(at);
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn reserve_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let q = Query::new(
            "UPDATE sync_reviews SET status = 'applying', reserved_by = $3, reserved_at = $4 \
             WHERE account_id = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(account)
        .bind(id)
        .bind(holder)
        .bind(at);
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn renew_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let q = Query::new(
            "UPDATE sync_reviews SET reserved_at = $4 \
             WHERE account_id = $1 AND id = $2 AND status = 'applying' AND reserved_by = $3",
        )
        .bind(account)
        .bind(id)
        .bind(holder)
        .bind(at);
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn finish_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        status: ReviewStatus,
        import_id: Option<ImportId>,
        at: Timestamp,
    ) -> Result<bool> {
        if status == ReviewStatus::Applying {
            return Err(StoreError::Conflict(
                "a reservation ends in another status than applying".into(),
            ));
        }
        // Released (pending): as before the reservation; closed: at `at`.
        let closed = status != ReviewStatus::Pending;
        let q = Query::new(
            "UPDATE sync_reviews SET status = $4, import_id = $5, closed_at = $6, \
             reserved_by = NULL, reserved_at = NULL \
             WHERE account_id = $1 AND id = $2 AND status = 'applying' AND reserved_by = $3",
        )
        .bind(account)
        .bind(id)
        .bind(holder)
        .bind(status.as_str())
        .bind(import_id.filter(|_| closed))
        .bind(closed.then_some(at));
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn fail_stale_review(
        &self,
        account: AccountId,
        id: ReviewId,
        stale_before: Timestamp,
        at: Timestamp,
    ) -> Result<bool> {
        let q = Query::new(
            "UPDATE sync_reviews SET status = 'failed', closed_at = $4, reserved_by = NULL \
             WHERE account_id = $1 AND id = $2 AND status = 'applying' AND reserved_at < $3",
        )
        .bind(account)
        .bind(id)
        .bind(stale_before)
        .bind(at);
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn save_oauth_state(
        &self,
        account: AccountId,
        state_digest: &str,
        payload: Vec<u8>,
        expires_at: Timestamp,
    ) -> Result<()> {
        account_exists(&mut self.pool_executor(), account).await?;
        let q = Query::new(
            "INSERT INTO oauth_states (state_digest, account_id, payload, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(state_digest)
        .bind(account)
        .bind(payload)
        .bind(expires_at);
        self.pool_executor().execute(q).await?;
        Ok(())
    }

    async fn take_oauth_state(
        &self,
        state_digest: &str,
        now: Timestamp,
    ) -> Result<Option<(AccountId, Vec<u8>)>> {
        let mut tx = self.begin(Begin::Write).await?;
        // Expired states go on the way.
        tx.execute(Query::new("DELETE FROM oauth_states WHERE expires_at <= $1").bind(now))
            .await?;
        let row = tx
            .fetch_optional(
                Query::new(
                    "DELETE FROM oauth_states WHERE state_digest = $1 \
                     RETURNING account_id, payload",
                )
                .bind(state_digest),
            )
            .await?;
        tx.commit().await?;
        row.map(|row| {
            Ok((
                row.int(0, "oauth_states.account_id")?,
                row.bytes(1, "oauth_states.payload")?,
            ))
        })
        .transpose()
    }
}
