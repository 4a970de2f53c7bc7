//! Claiming due jobs and outbox messages on SQLite: one writer at a time, so a claim
//! is a single atomic `UPDATE … WHERE id IN (due rows) RETURNING …` that sets the
//! lease (the sub-select and the update see the same rows).

use jiff::Timestamp;
use roster_store::Result;
use roster_store::jobs::{Job, PendingMessage};
use roster_store::sql::codec::limit;
use roster_store::sql::{
    Executor, JOB_SELECT, MESSAGE_SELECT, Query, job_from_row, pending_from_row,
};

use crate::exec::Pool;

pub(crate) async fn jobs(
    pool: &mut Pool,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    n: usize,
) -> Result<Vec<Job>> {
    // `enabled = 1 AND paused = 0`: as the partial index `jobs_due` says it.
    let q = Query::new(format!(
        "UPDATE jobs SET lease_holder = $1, lease_until = $2 WHERE id IN ( \
           SELECT id FROM jobs WHERE enabled = 1 AND paused = 0 AND next_run_at IS NOT NULL \
           AND next_run_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
           ORDER BY next_run_at, id LIMIT $4) \
         RETURNING {JOB_SELECT}"
    ))
    .bind(worker)
    .bind(lease_until)
    .bind(now)
    .bind(limit(n));
    pool.fetch_all(q).await?.iter().map(job_from_row).collect()
}

pub(crate) async fn messages(
    pool: &mut Pool,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    n: usize,
) -> Result<Vec<PendingMessage>> {
    let q = Query::new(format!(
        "UPDATE outbox SET lease_holder = $1, lease_until = $2 WHERE id IN ( \
           SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL \
           AND (next_attempt_at IS NULL OR next_attempt_at <= $3) \
           AND (lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $4) \
         RETURNING account_id, attempts, {MESSAGE_SELECT}"
    ))
    .bind(worker)
    .bind(lease_until)
    .bind(now)
    .bind(limit(n));
    pool.fetch_all(q)
        .await?
        .iter()
        .map(pending_from_row)
        .collect()
}
