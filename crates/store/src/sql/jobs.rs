//! [`JobStore`] for every [`Adapter`]: scheduled jobs, notification channels and
//! delivery state. Claiming due rows is the adapter's own
//! ([`Adapter::claim_due_jobs`], [`Adapter::claim_due_messages`]); it decodes them
//! with [`job_from_row`] and [`pending_from_row`].

use async_trait::async_trait;
use jiff::Timestamp;

use super::adapter::{Adapter, Begin};
use super::codec::{corrupt, limit, to_json};
use super::query::{Columns, Executor, Query, Transaction};
use crate::jobs::{
    Channel, ChannelId, ChannelKind, Delivery, DeliveryAttempt, Job, JobDone, JobId, JobKind,
    JobStore, JobUpsert, MessageState, NewChannel, PendingMessage, RoundDone,
};
use crate::{AccountId, IntegrationId, OutboxMessage, Result, StoreError};

pub const JOB_SELECT: &str = "id, account_id, integration_id, kind, schedule, enabled, paused, \
     next_run_at, lease_holder, lease_until, runs, last_run_at, last_status, last_import_id, \
     last_error, created_at, updated_at, postponed";

pub fn job_from_row(row: &impl Columns) -> Result<Job> {
    Ok(Job {
        id: row.int(0, "jobs.id")?,
        account_id: row.int(1, "jobs.account_id")?,
        integration_id: row.opt_int(2, "jobs.integration_id")?,
        kind: JobKind::parse(row.text(3, "jobs.kind")?).ok_or_else(|| corrupt("jobs.kind"))?,
        schedule: row.json(4, "jobs.schedule")?,
        enabled: row.boolean(5, "jobs.enabled")?,
        paused: row.boolean(6, "jobs.paused")?,
        next_run_at: row.opt_ts(7, "jobs.next_run_at")?,
        lease_holder: row.opt_string(8, "jobs.lease_holder")?,
        lease_until: row.opt_ts(9, "jobs.lease_until")?,
        runs: row.int(10, "jobs.runs")?,
        last_run_at: row.opt_ts(11, "jobs.last_run_at")?,
        last_status: row.opt_string(12, "jobs.last_status")?,
        last_import_id: row.opt_int(13, "jobs.last_import_id")?,
        last_error: row.opt_string(14, "jobs.last_error")?,
        created_at: row.ts(15, "jobs.created_at")?,
        updated_at: row.ts(16, "jobs.updated_at")?,
        postponed: row.opt_string(17, "jobs.postponed")?,
    })
}

const CHANNEL_SELECT: &str = "id, account_id, kind, target, secret, events, enabled, created_at";

fn channel_from_row(row: &impl Columns) -> Result<Channel> {
    let kind = row.text(2, "notification_channels.kind")?;
    Ok(Channel {
        id: row.int(0, "notification_channels.id")?,
        account_id: row.int(1, "notification_channels.account_id")?,
        kind: ChannelKind::parse(kind).ok_or_else(|| corrupt("notification_channels.kind"))?,
        target: row.string(3, "notification_channels.target")?,
        secret: row.opt_bytes(4, "notification_channels.secret")?,
        events: row.json(5, "notification_channels.events")?,
        enabled: row.boolean(6, "notification_channels.enabled")?,
        created_at: row.ts(7, "notification_channels.created_at")?,
    })
}

/// An outbox message's columns: [`message_from_row`] reads them.
pub const MESSAGE_SELECT: &str = "id, import_id, event, payload, created_at, delivered_at";

/// The [`MESSAGE_SELECT`] columns from column `at` on.
pub fn message_from_row(row: &impl Columns, at: usize) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: row.int(at, "outbox.id")?,
        import_id: row.opt_int(at + 1, "outbox.import_id")?,
        event: row.string(at + 2, "outbox.event")?,
        payload: row.json(at + 3, "outbox.payload")?,
        created_at: row.ts(at + 4, "outbox.created_at")?,
        delivered_at: row.opt_ts(at + 5, "outbox.delivered_at")?,
    })
}

/// A claimed message: `account_id, attempts`, then [`MESSAGE_SELECT`].
pub fn pending_from_row(row: &impl Columns) -> Result<PendingMessage> {
    Ok(PendingMessage {
        account_id: row.int(0, "outbox.account_id")?,
        attempts: row.int(1, "outbox.attempts")?,
        message: message_from_row(row, 2)?,
    })
}

async fn integration_is_accounts(
    db: &mut impl Executor,
    account: AccountId,
    integration: Option<IntegrationId>,
) -> Result<()> {
    let Some(id) = integration else {
        return Ok(());
    };
    let found = db
        .fetch_optional(
            Query::new("SELECT id FROM integrations WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account),
        )
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound {
            what: "integration",
            id: id.to_string(),
        }),
    }
}

const THE_JOB: &str = "account_id = $1 AND kind = $2 AND integration_id IS NOT DISTINCT FROM $3";

#[async_trait]
impl<A: Adapter> JobStore for A {
    async fn upsert_job(&self, job: JobUpsert) -> Result<Job> {
        let mut tx = self.begin(Begin::Write).await?;
        integration_is_accounts(&mut tx, job.account_id, job.integration_id).await?;
        let existing = tx
            .fetch_optional(
                Query::new(format!("SELECT id FROM jobs WHERE {THE_JOB}"))
                    .bind(job.account_id)
                    .bind(job.kind.as_str())
                    .bind(job.integration_id),
            )
            .await?;
        let schedule = to_json(&job.schedule)?;
        let q = match existing {
            Some(row) => Query::new(format!(
                "UPDATE jobs SET schedule = $2, enabled = $3, paused = $4, next_run_at = $5, \
                 updated_at = $6 WHERE id = $1 RETURNING {JOB_SELECT}"
            ))
            .bind(row.int(0, "jobs.id")?)
            .bind(schedule)
            .bind(job.enabled)
            .bind(job.paused)
            .bind(job.next_run_at)
            .bind(job.at),
            None => Query::new(format!(
                "INSERT INTO jobs (account_id, integration_id, kind, schedule, enabled, paused, \
                 next_run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                 RETURNING {JOB_SELECT}"
            ))
            .bind(job.account_id)
            .bind(job.integration_id)
            .bind(job.kind.as_str())
            .bind(schedule)
            .bind(job.enabled)
            .bind(job.paused)
            .bind(job.next_run_at)
            .bind(job.at),
        };
        let job = job_from_row(&tx.fetch_one(q).await?)?;
        tx.commit().await?;
        Ok(job)
    }

    async fn job(
        &self,
        account: AccountId,
        kind: JobKind,
        integration: Option<IntegrationId>,
    ) -> Result<Option<Job>> {
        self.pool_executor()
            .fetch_optional(
                Query::new(format!("SELECT {JOB_SELECT} FROM jobs WHERE {THE_JOB}"))
                    .bind(account)
                    .bind(kind.as_str())
                    .bind(integration),
            )
            .await?
            .as_ref()
            .map(job_from_row)
            .transpose()
    }

    async fn jobs(&self, account: AccountId) -> Result<Vec<Job>> {
        let q = Query::new(format!(
            "SELECT {JOB_SELECT} FROM jobs WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account);
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        n: usize,
    ) -> Result<Vec<Job>> {
        let mut jobs = self.claim_due_jobs(worker, now, lease_until, n).await?;
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
        let q = Query::new(
            "UPDATE jobs SET lease_until = $4 WHERE id = $1 AND account_id = $2 AND lease_holder = $3",
        )
        .bind(id)
        .bind(account)
        .bind(worker)
        .bind(lease_until);
        Ok(self.pool_executor().execute(q).await? > 0)
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
        let head = "UPDATE jobs SET lease_holder = NULL, lease_until = NULL";
        let q = if done.ran {
            Query::new(format!(
                "{head}, {next}, runs = runs + 1, last_run_at = $5, last_status = $6, \
                 last_import_id = $7, last_error = $8, postponed = NULL {who}"
            ))
        } else {
            Query::new(format!("{head}, {next}, postponed = $5 {who}"))
        };
        let mut q = q.bind(id).bind(account).bind(worker).bind(done.next_run_at);
        if done.ran {
            q = q
                .bind(done.at)
                .bind(done.status)
                .bind(done.import_id)
                .bind(done.error);
        } else {
            // Not a run: why it waits (another sync held the lock …), shown by
            // `autosync status` until the job runs.
            q = q.bind(done.error.or(Some(done.status)));
        }
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn add_channel(&self, c: NewChannel) -> Result<Channel> {
        let q = Query::new(format!(
            "INSERT INTO notification_channels (account_id, kind, target, secret, events, enabled, \
             created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING {CHANNEL_SELECT}"
        ))
        .bind(c.account_id)
        .bind(c.kind.as_str())
        .bind(c.target)
        .bind(c.secret)
        .bind(to_json(&c.events)?)
        .bind(c.at);
        channel_from_row(&self.pool_executor().fetch_one(q).await?)
    }

    async fn channels(&self, account: AccountId) -> Result<Vec<Channel>> {
        let q = Query::new(format!(
            "SELECT {CHANNEL_SELECT} FROM notification_channels WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account);
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter().map(channel_from_row).collect()
    }

    async fn delete_channel(&self, account: AccountId, id: ChannelId) -> Result<bool> {
        let q = Query::new("DELETE FROM notification_channels WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account);
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn claim_outbox(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        n: usize,
    ) -> Result<Vec<PendingMessage>> {
        let mut out = self.claim_due_messages(worker, now, lease_until, n).await?;
        out.sort_by_key(|m| m.message.id);
        Ok(out)
    }

    async fn record_delivery(&self, account: AccountId, a: DeliveryAttempt) -> Result<()> {
        let delivered = a.error.is_none().then_some(a.at);
        let q = Query::new(
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
        .bind(a.at)
        .bind(delivered)
        .bind(a.error);
        if self.pool_executor().execute(q).await? == 0 {
            return Err(StoreError::NotFound {
                what: "outbox message or channel",
                id: format!("{}/{}", a.outbox_id, a.channel_id),
            });
        }
        Ok(())
    }

    async fn deliveries(&self, account: AccountId, outbox_id: i64) -> Result<Vec<Delivery>> {
        let q = Query::new(
            "SELECT outbox_id, channel_id, attempts, last_attempt_at, delivered_at, last_error \
             FROM deliveries WHERE account_id = $1 AND outbox_id = $2 ORDER BY channel_id",
        )
        .bind(account)
        .bind(outbox_id);
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter()
            .map(|row| {
                Ok(Delivery {
                    outbox_id: row.int(0, "deliveries.outbox_id")?,
                    channel_id: row.int(1, "deliveries.channel_id")?,
                    attempts: row.int(2, "deliveries.attempts")?,
                    last_attempt_at: row.ts(3, "deliveries.last_attempt_at")?,
                    delivered_at: row.opt_ts(4, "deliveries.delivered_at")?,
                    last_error: row.opt_string(5, "deliveries.last_error")?,
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
        let round = |set: &str| {
            Query::new(format!("{head}, {set} {who}"))
                .bind(outbox_id)
                .bind(account)
                .bind(worker)
        };
        let q = match done {
            RoundDone::Delivered { at } => round(
                "delivered_at = COALESCE(delivered_at, $4), next_attempt_at = NULL, \
                 last_error = NULL",
            )
            .bind(at),
            RoundDone::Retry {
                at: _,
                next_attempt_at,
                error,
            } => round("next_attempt_at = $4, last_error = $5")
                .bind(next_attempt_at)
                .bind(error),
            RoundDone::Failed { at, error } => {
                round("failed_at = $4, next_attempt_at = NULL, last_error = $5")
                    .bind(at)
                    .bind(error)
            }
        };
        Ok(self.pool_executor().execute(q).await? > 0)
    }

    async fn notifications(&self, account: AccountId, n: usize) -> Result<Vec<MessageState>> {
        let q = Query::new(format!(
            "SELECT attempts, next_attempt_at, failed_at, last_error, {MESSAGE_SELECT} FROM outbox \
             WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(account)
        .bind(limit(n));
        let rows = self.pool_executor().fetch_all(q).await?;
        rows.iter()
            .map(|row| {
                Ok(MessageState {
                    attempts: row.int(0, "outbox.attempts")?,
                    next_attempt_at: row.opt_ts(1, "outbox.next_attempt_at")?,
                    failed_at: row.opt_ts(2, "outbox.failed_at")?,
                    last_error: row.opt_string(3, "outbox.last_error")?,
                    message: message_from_row(row, 4)?,
                })
            })
            .collect()
    }
}
