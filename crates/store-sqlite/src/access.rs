//! [`AccessStore`] on SQLite: API tokens, web users, sessions, sync reviews and OAuth
//! connections in progress (migration `0002_access.sql`).

use async_trait::async_trait;
use jiff::Timestamp;
use roster_store::access::{
    AccessStore, ApiToken, ApiTokenId, NewApiToken, NewReview, NewSession, NewUser, ReviewId,
    ReviewStatus, Session, StoredReview, User, UserCredentials, UserId,
};
use roster_store::{AccountId, ImportId, Result, StoreError};
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::codec::{col, db, from_json, parse_opt_ts, parse_ts, to_json, ts};

roster_store::access_row_decoders!(SqliteRow);
impl SqliteStore {
    async fn account_exists(&self, account: AccountId) -> Result<()> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = ?1")
            .bind(account)
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        match exists {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound {
                what: "account",
                id: account.to_string(),
            }),
        }
    }
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn create_api_token(&self, new: NewApiToken) -> Result<ApiToken> {
        self.account_exists(new.account_id).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO api_tokens (account_id, name, role, digest, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {TOKEN_SELECT}"
        )))
        .bind(new.account_id)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(&new.digest)
        .bind(ts(new.created_at))
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        token_from_row(&row)
    }

    async fn api_token_by_digest(&self, digest: &str) -> Result<Option<ApiToken>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_SELECT} FROM api_tokens WHERE digest = ?1"
        )))
        .bind(digest)
        .fetch_optional(self.pool())
        .await
        .map_err(db)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn touch_api_token(
        &self,
        account: AccountId,
        id: ApiTokenId,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = ?3 WHERE account_id = ?1 AND id = ?2")
            .bind(account)
            .bind(id)
            .bind(ts(at))
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn api_tokens(&self, account: AccountId) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_SELECT} FROM api_tokens WHERE account_id = ?1 ORDER BY id"
        )))
        .bind(account)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_api_token(&self, account: AccountId, id: ApiTokenId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE account_id = ?1 AND id = ?2")
            .bind(account)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_user(&self, new: NewUser) -> Result<User> {
        self.account_exists(new.account_id).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO users (account_id, email, email_lower, role, password_hash, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {USER_SELECT}"
        )))
        .bind(new.account_id)
        .bind(new.email.trim())
        .bind(new.email.trim().to_lowercase())
        .bind(new.role.as_str())
        .bind(&new.password_hash)
        .bind(ts(new.created_at))
        .fetch_one(self.pool())
        .await
        .map_err(|e| match db(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict("a user with this email already exists".into())
            }
            other => other,
        })?;
        user_from_row(&row, 0)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserCredentials>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_SELECT}, password_hash FROM users WHERE email_lower = ?1 \
             ORDER BY account_id LIMIT 1"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.pool())
        .await
        .map_err(db)?;
        row.map(|row| {
            Ok(UserCredentials {
                user: user_from_row(&row, 0)?,
                password_hash: col(&row, 5, "users.password_hash")?,
            })
        })
        .transpose()
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<UserCredentials>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_SELECT}, password_hash FROM users WHERE email_lower = ?1 \
             ORDER BY account_id"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(UserCredentials {
                    user: user_from_row(row, 0)?,
                    password_hash: col(row, 5, "users.password_hash")?,
                })
            })
            .collect()
    }

    async fn users(&self, account: AccountId) -> Result<Vec<User>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_SELECT} FROM users WHERE account_id = ?1 ORDER BY id"
        )))
        .bind(account)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(|r| user_from_row(r, 0)).collect()
    }

    async fn delete_user(&self, account: AccountId, id: UserId) -> Result<bool> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        sqlx::query("DELETE FROM sessions WHERE account_id = ?1 AND user_id = ?2")
            .bind(account)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let done = sqlx::query("DELETE FROM users WHERE account_id = ?1 AND id = ?2")
            .bind(account)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_session(&self, new: NewSession) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO sessions (digest, account_id, user_id, created_at, expires_at) \
             SELECT ?1, account_id, id, ?4, ?5 FROM users WHERE account_id = ?2 AND id = ?3",
        )
        .bind(&new.digest)
        .bind(new.account_id)
        .bind(new.user_id)
        .bind(ts(new.created_at))
        .bind(ts(new.expires_at))
        .execute(self.pool())
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: new.user_id.to_string(),
            });
        }
        Ok(())
    }

    async fn session_by_digest(&self, digest: &str, now: Timestamp) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT u.id, u.account_id, u.email, u.role, u.created_at, s.created_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id AND u.account_id = s.account_id \
             WHERE s.digest = ?1 AND s.expires_at > ?2",
        )
        .bind(digest)
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await
        .map_err(db)?;
        row.map(|row| {
            let user = user_from_row(&row, 0)?;
            Ok(Session {
                account_id: user.account_id,
                user,
                created_at: parse_ts(col(&row, 5, "sessions.created_at")?, "sessions.created_at")?,
                expires_at: parse_ts(col(&row, 6, "sessions.expires_at")?, "sessions.expires_at")?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE digest = ?1")
            .bind(digest)
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn create_review(&self, new: NewReview) -> Result<StoredReview> {
        self.account_exists(new.account_id).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO sync_reviews (account_id, integration_id, status, created_at, payload) \
             VALUES (?1, ?2, 'pending', ?3, ?4) RETURNING {REVIEW_SELECT}"
        )))
        .bind(new.account_id)
        .bind(new.integration_id)
        .bind(ts(new.created_at))
        .bind(to_json(&new.payload)?)
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        review_from_row(&row)
    }

    async fn review(&self, account: AccountId, id: ReviewId) -> Result<Option<StoredReview>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVIEW_SELECT} FROM sync_reviews WHERE account_id = ?1 AND id = ?2"
        )))
        .bind(account)
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(db)?;
        row.as_ref().map(review_from_row).transpose()
    }

    async fn review_head(&self, account: AccountId, id: ReviewId) -> Result<Option<StoredReview>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVIEW_HEAD_SELECT} FROM sync_reviews WHERE account_id = ?1 AND id = ?2"
        )))
        .bind(account)
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(db)?;
        row.as_ref().map(review_from_row).transpose()
    }

    async fn close_review(
        &self,
        account: AccountId,
        id: ReviewId,
        status: ReviewStatus,
        import_id: Option<ImportId>,
        at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_reviews SET status = ?3, import_id = ?4, closed_at = ?5 \
             WHERE account_id = ?1 AND id = ?2 AND status = 'pending'",
        )
        .bind(account)
        .bind(id)
        .bind(status.as_str())
        .bind(import_id)
        .bind(ts(at))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn reserve_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_reviews SET status = 'applying', reserved_by = ?3, reserved_at = ?4 \
             WHERE account_id = ?1 AND id = ?2 AND status = 'pending'",
        )
        .bind(account)
        .bind(id)
        .bind(holder)
        .bind(ts(at))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn renew_review(
        &self,
        account: AccountId,
        id: ReviewId,
        holder: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_reviews SET reserved_at = ?4 \
             WHERE account_id = ?1 AND id = ?2 AND status = 'applying' AND reserved_by = ?3",
        )
        .bind(account)
        .bind(id)
        .bind(holder)
        .bind(ts(at))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
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
        let done = sqlx::query(
            "UPDATE sync_reviews SET status = ?4, import_id = ?5, closed_at = ?6, \
             reserved_by = NULL, reserved_at = NULL \
             WHERE account_id = ?1 AND id = ?2 AND status = 'applying' AND reserved_by = ?3",
        )
        .bind(account)
        .bind(id)
        .bind(holder)
        .bind(status.as_str())
        .bind(import_id.filter(|_| closed))
        .bind(closed.then(|| ts(at)))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn fail_stale_review(
        &self,
        account: AccountId,
        id: ReviewId,
        stale_before: Timestamp,
        at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_reviews SET status = 'failed', closed_at = ?4, reserved_by = NULL \
             WHERE account_id = ?1 AND id = ?2 AND status = 'applying' AND reserved_at < ?3",
        )
        .bind(account)
        .bind(id)
        .bind(ts(stale_before))
        .bind(ts(at))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn save_oauth_state(
        &self,
        account: AccountId,
        state_digest: &str,
        payload: Vec<u8>,
        expires_at: Timestamp,
    ) -> Result<()> {
        self.account_exists(account).await?;
        sqlx::query(
            "INSERT INTO oauth_states (state_digest, account_id, payload, expires_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(state_digest)
        .bind(account)
        .bind(payload)
        .bind(ts(expires_at))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn take_oauth_state(
        &self,
        state_digest: &str,
        now: Timestamp,
    ) -> Result<Option<(AccountId, Vec<u8>)>> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        // Expired states go on the way.
        sqlx::query("DELETE FROM oauth_states WHERE expires_at <= ?1")
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let row: Option<(AccountId, Vec<u8>)> = sqlx::query_as(
            "DELETE FROM oauth_states WHERE state_digest = ?1 RETURNING account_id, payload",
        )
        .bind(state_digest)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }
}
