//! Claiming due jobs and outbox messages on PostgreSQL: several workers claim at
//! once, so a claim selects due rows `FOR UPDATE SKIP LOCKED` and sets their lease in
//! the same transaction; a row another worker is claiming is skipped, never waited
//! for or taken twice.

use jiff::Timestamp;
use roster_store::Result;
use roster_store::jobs::{Job, PendingMessage};
use roster_store::sql::codec::limit;
use roster_store::sql::{
    Columns, Executor, JOB_SELECT, MESSAGE_SELECT, Query, Transaction, job_from_row,
    pending_from_row,
};

use crate::exec::{Row, Tx};

/// Lock the ids `due` selects (`$1` now, `$2` the limit) and run `lease` on them
/// (`$1` worker, `$2` lease end, `$3` the ids), in one transaction.
async fn claim(
    mut tx: Tx,
    due: &str,
    lease: String,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    n: usize,
) -> Result<Vec<Row>> {
    let ids = tx
        .fetch_all(
            Query::new(format!("{due} FOR UPDATE SKIP LOCKED"))
                .bind(now)
                .bind(limit(n)),
        )
        .await?
        .iter()
        .map(|r| r.int(0, "id"))
        .collect::<Result<Vec<i64>>>()?;
    if ids.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let rows = tx
        .fetch_all(
            Query::new(lease)
                .bind(worker)
                .bind(lease_until)
                .bind(&ids[..]),
        )
        .await?;
    tx.commit().await?;
    Ok(rows)
}

pub(crate) async fn jobs(
    tx: Tx,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    n: usize,
) -> Result<Vec<Job>> {
    let due = "SELECT id FROM jobs WHERE enabled AND NOT paused AND next_run_at IS NOT NULL \
         AND next_run_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
         ORDER BY next_run_at, id LIMIT $2";
    let lease = format!(
        "UPDATE jobs SET lease_holder = $1, lease_until = $2 WHERE id = ANY($3) \
         RETURNING {JOB_SELECT}"
    );
    let rows = claim(tx, due, lease, worker, now, lease_until, n).await?;
    rows.iter().map(job_from_row).collect()
}

pub(crate) async fn messages(
    tx: Tx,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    n: usize,
) -> Result<Vec<PendingMessage>> {
    let due = "SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL \
         AND (next_attempt_at IS NULL OR next_attempt_at <= $1) \
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY id LIMIT $2";
    let lease = format!(
        "UPDATE outbox SET lease_holder = $1, lease_until = $2 WHERE id = ANY($3) \
         RETURNING account_id, attempts, {MESSAGE_SELECT}"
    );
    let rows = claim(tx, due, lease, worker, now, lease_until, n).await?;
    rows.iter().map(pending_from_row).collect()
}
