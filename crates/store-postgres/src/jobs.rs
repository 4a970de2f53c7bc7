//! [`JobStore`] on PostgreSQL: several workers claim at once, so claiming selects due
//! rows `FOR UPDATE SKIP LOCKED` and sets their lease in the same transaction; a
//! row another worker is claiming is skipped, never waited for or taken twice.

use async_trait::async_trait;
use jiff::Timestamp;
use roster_store::jobs::{
    Channel, ChannelId, Delivery, DeliveryAttempt, Job, JobDone, JobId, JobKind, JobStore,
    JobUpsert, MessageState, NewChannel, PendingMessage, RoundDone,
};
use roster_store::{AccountId, IntegrationId, Result, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::PgStore;
use crate::codec::{col, db, from_json, parse_opt_ts, parse_ts, to_json, ts};

roster_store::job_row_decoders!(PgRow);
async fn integration_is_accounts(
    conn: &mut PgConnection,
    account: AccountId,
    integration: Option<IntegrationId>,
) -> Result<()> {
    let Some(id) = integration else {
        return Ok(());
    };
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM integrations WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound {
            what: "integration",
            id: id.to_string(),
        }),
    }
}

#[async_trait]
impl JobStore for PgStore {
    async fn upsert_job(&self, job: JobUpsert) -> Result<Job> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        integration_is_accounts(&mut tx, job.account_id, job.integration_id).await?;
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE account_id = $1 AND kind = $2 AND integration_id IS NOT DISTINCT FROM $3",
        )
        .bind(job.account_id)
        .bind(job.kind.as_str())
        .bind(job.integration_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let schedule = to_json(&job.schedule)?;
        let row = match existing {
            Some(id) => sqlx::query(AssertSqlSafe(format!(
                "UPDATE jobs SET schedule = $2, enabled = $3, paused = $4, next_run_at = $5, \
                 updated_at = $6 WHERE id = $1 RETURNING {JOB_SELECT}"
            )))
            .bind(id)
            .bind(schedule)
            .bind(job.enabled)
            .bind(job.paused)
            .bind(job.next_run_at.map(ts))
            .bind(ts(job.at))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?,
            None => sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO jobs (account_id, integration_id, kind, schedule, enabled, paused, \
                 next_run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                 RETURNING {JOB_SELECT}"
            )))
            .bind(job.account_id)
            .bind(job.integration_id)
            .bind(job.kind.as_str())
            .bind(schedule)
            .bind(job.enabled)
            .bind(job.paused)
            .bind(job.next_run_at.map(ts))
            .bind(ts(job.at))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?,
        };
        let job = job_from_row(&row)?;
        tx.commit().await.map_err(db)?;
        Ok(job)
    }

    async fn job(
        &self,
        account: AccountId,
        kind: JobKind,
        integration: Option<IntegrationId>,
    ) -> Result<Option<Job>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_SELECT} FROM jobs WHERE account_id = $1 AND kind = $2 AND integration_id IS NOT DISTINCT FROM $3"
        )))
        .bind(account)
        .bind(kind.as_str())
        .bind(integration)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(job_from_row)
        .transpose()
    }

    async fn jobs(&self, account: AccountId) -> Result<Vec<Job>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_SELECT} FROM jobs WHERE account_id = $1 ORDER BY id"
        )))
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(job_from_row)
        .collect()
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        n: usize,
    ) -> Result<Vec<Job>> {
        // In one transaction: lock the due rows, skipping rows another worker has
        // locked, then lease them. A row whose lease ran out is due again.
        let mut tx = self.pool.begin().await.map_err(db)?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE enabled AND NOT paused AND next_run_at IS NOT NULL \
             AND next_run_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY next_run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(ts(now))
        .bind(limit(n))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if ids.is_empty() {
            tx.commit().await.map_err(db)?;
            return Ok(Vec::new());
        }
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE jobs SET lease_holder = $1, lease_until = $2 WHERE id = ANY($3) \
             RETURNING {JOB_SELECT}"
        )))
        .bind(worker)
        .bind(ts(lease_until))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        tx.commit().await.map_err(db)?;
        jobs.sort_by_key(|j| (j.next_run_at, j.id));
        Ok(jobs)
    }

    async fn renew_job(
        &self,
        account: AccountId,
        id: JobId,
        worker: &str,
        lease_until: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $4 WHERE id = $1 AND account_id = $2 AND lease_holder = $3",
        )
        .bind(id)
        .bind(account)
        .bind(worker)
        .bind(ts(lease_until))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn complete_job(
        &self,
        account: AccountId,
        id: JobId,
        worker: &str,
        done: JobDone,
    ) -> Result<bool> {
        // A job switched off or paused while it ran stays unscheduled.
        let next = "next_run_at = CASE WHEN enabled AND NOT paused THEN $4 ELSE NULL END";
        let who = "WHERE id = $1 AND account_id = $2 AND lease_holder = $3";
        let q = if done.ran {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE jobs SET lease_holder = NULL, lease_until = NULL, {next}, runs = runs + 1, \
                 last_run_at = $5, last_status = $6, last_import_id = $7, last_error = $8, postponed = NULL {who}"
            )))
        } else {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE jobs SET lease_holder = NULL, lease_until = NULL, {next}, postponed = $5 {who}"
            )))
        };
        let mut q = q
            .bind(id)
            .bind(account)
            .bind(worker)
            .bind(done.next_run_at.map(ts));
        if done.ran {
            q = q
                .bind(ts(done.at))
                .bind(done.status)
                .bind(done.import_id)
                .bind(done.error);
        } else {
            // Not a run: why it waits (another sync held the lock …), shown by
            // `autosync status` until the job runs.
            q = q.bind(done.error.or(Some(done.status)));
        }
        let r = q.execute(&self.pool).await.map_err(db)?;
        Ok(r.rows_affected() > 0)
    }

    async fn add_channel(&self, c: NewChannel) -> Result<Channel> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO notification_channels (account_id, kind, target, secret, events, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING {CHANNEL_SELECT}"
        )))
        .bind(c.account_id)
        .bind(c.kind.as_str())
        .bind(c.target)
        .bind(c.secret)
        .bind(to_json(&c.events)?)
        .bind(ts(c.at))
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        channel_from_row(&row)
    }

    async fn channels(&self, account: AccountId) -> Result<Vec<Channel>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {CHANNEL_SELECT} FROM notification_channels WHERE account_id = $1 ORDER BY id"
        )))
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(channel_from_row)
        .collect()
    }

    async fn delete_channel(&self, account: AccountId, id: ChannelId) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM notification_channels WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account)
                .execute(&self.pool)
                .await
                .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn claim_outbox(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        n: usize,
    ) -> Result<Vec<PendingMessage>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL \
             AND (next_attempt_at IS NULL OR next_attempt_at <= $1) \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY id LIMIT $2 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind(ts(now))
        .bind(limit(n))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if ids.is_empty() {
            tx.commit().await.map_err(db)?;
            return Ok(Vec::new());
        }
        let rows = sqlx::query(AssertSqlSafe(format!(
            "UPDATE outbox SET lease_holder = $1, lease_until = $2 WHERE id = ANY($3) \
             RETURNING account_id, attempts, {MESSAGE_SELECT}"
        )))
        .bind(worker)
        .bind(ts(lease_until))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let mut out = rows
            .iter()
            .map(|row| {
                Ok(PendingMessage {
                    account_id: col(row, 0, "outbox.account_id")?,
                    attempts: col::<i32>(row, 1, "outbox.attempts")?.into(),
                    message: message_from_row(row, 2)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|m| m.message.id);
        Ok(out)
    }

    async fn record_delivery(&self, account: AccountId, a: DeliveryAttempt) -> Result<()> {
        let delivered = a.error.is_none().then(|| ts(a.at));
        let done = sqlx::query(
            "INSERT INTO deliveries (outbox_id, channel_id, account_id, attempts, last_attempt_at, \
             delivered_at, last_error) \
             SELECT $1, $2, $3, 1, $4, $5, $6 \
             WHERE EXISTS (SELECT 1 FROM outbox WHERE id = $1 AND account_id = $3) \
             AND EXISTS (SELECT 1 FROM notification_channels WHERE id = $2 AND account_id = $3) \
             ON CONFLICT (outbox_id, channel_id) DO UPDATE SET attempts = deliveries.attempts + 1, \
             last_attempt_at = excluded.last_attempt_at, \
             delivered_at = COALESCE(deliveries.delivered_at, excluded.delivered_at), \
             last_error = excluded.last_error",
        )
        .bind(a.outbox_id)
        .bind(a.channel_id)
        .bind(account)
        .bind(ts(a.at))
        .bind(delivered)
        .bind(a.error)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "outbox message or channel",
                id: format!("{}/{}", a.outbox_id, a.channel_id),
            });
        }
        Ok(())
    }

    async fn deliveries(&self, account: AccountId, outbox_id: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT outbox_id, channel_id, attempts, last_attempt_at, delivered_at, last_error \
             FROM deliveries WHERE account_id = $1 AND outbox_id = $2 ORDER BY channel_id",
        )
        .bind(account)
        .bind(outbox_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(Delivery {
                    outbox_id: col(row, 0, "deliveries.outbox_id")?,
                    channel_id: col(row, 1, "deliveries.channel_id")?,
                    attempts: col(row, 2, "deliveries.attempts")?,
                    last_attempt_at: parse_ts(
                        col(row, 3, "deliveries.last_attempt_at")?,
                        "deliveries.last_attempt_at",
                    )?,
                    delivered_at: parse_opt_ts(
                        col(row, 4, "deliveries.delivered_at")?,
                        "deliveries.delivered_at",
                    )?,
                    last_error: col(row, 5, "deliveries.last_error")?,
                })
            })
            .collect()
    }

    async fn finish_delivery(
        &self,
        account: AccountId,
        outbox_id: i64,
        worker: &str,
        done: RoundDone,
    ) -> Result<bool> {
        let head =
            "UPDATE outbox SET attempts = attempts + 1, lease_holder = NULL, lease_until = NULL";
        let who = "WHERE id = $1 AND account_id = $2 AND lease_holder = $3";
        let q = match done {
            RoundDone::Delivered { at } => sqlx::query(AssertSqlSafe(format!(
                "{head}, delivered_at = COALESCE(delivered_at, $4), next_attempt_at = NULL, \
                 last_error = NULL {who}"
            )))
            .bind(outbox_id)
            .bind(account)
            .bind(worker)
            .bind(ts(at)),
            RoundDone::Retry {
                at: _,
                next_attempt_at,
                error,
            } => sqlx::query(AssertSqlSafe(format!(
                "{head}, next_attempt_at = $4, last_error = $5 {who}"
            )))
            .bind(outbox_id)
            .bind(account)
            .bind(worker)
            .bind(ts(next_attempt_at))
            .bind(error),
            RoundDone::Failed { at, error } => sqlx::query(AssertSqlSafe(format!(
                "{head}, failed_at = $4, next_attempt_at = NULL, last_error = $5 {who}"
            )))
            .bind(outbox_id)
            .bind(account)
            .bind(worker)
            .bind(ts(at))
            .bind(error),
        };
        let r = q.execute(&self.pool).await.map_err(db)?;
        Ok(r.rows_affected() > 0)
    }

    async fn notifications(&self, account: AccountId, n: usize) -> Result<Vec<MessageState>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT attempts, next_attempt_at, failed_at, last_error, {MESSAGE_SELECT} FROM outbox \
             WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
        )))
        .bind(account)
        .bind(limit(n))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(MessageState {
                    attempts: col::<i32>(row, 0, "outbox.attempts")?.into(),
                    next_attempt_at: parse_opt_ts(
                        col(row, 1, "outbox.next_attempt_at")?,
                        "outbox.next_attempt_at",
                    )?,
                    failed_at: parse_opt_ts(col(row, 2, "outbox.failed_at")?, "outbox.failed_at")?,
                    last_error: col(row, 3, "outbox.last_error")?,
                    message: message_from_row(row, 4)?,
                })
            })
            .collect()
    }
}
