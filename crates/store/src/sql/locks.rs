//! The sync lock of an integration: a lease with a fencing generation.

use jiff::Timestamp;

use super::adapter::Adapter;
use super::integrations::integration_exists;
use super::query::{Columns, Executor, Query};
use crate::{AccountId, IntegrationId, Result, StoreError, SyncLockInfo};

pub(super) async fn lock_sync<A: Adapter>(
    a: &A,
    account: AccountId,
    integration: IntegrationId,
    holder: &str,
    until: Timestamp,
) -> Result<i64> {
    // One statement: take a free lock, renew our own, or take over an expired one.
    // Two processes racing for it both reach the same row: the engine inserts for
    // one and, for the other, re-checks the WHERE on the row as the first left it.
    // A take by another holder raises the generation; a renewal keeps it.
    let taken = a
        .pool_executor()
        .fetch_optional(
            Query::new(
                "INSERT INTO sync_locks (integration_id, account_id, holder, until, generation) \
                 SELECT $1, $2, $3, $4, 1 \
                 WHERE EXISTS (SELECT 1 FROM integrations WHERE id = $1 AND account_id = $2) \
                 ON CONFLICT (integration_id) DO UPDATE SET holder = excluded.holder, \
                 until = excluded.until, \
                 generation = CASE WHEN sync_locks.holder = excluded.holder \
                 THEN sync_locks.generation ELSE sync_locks.generation + 1 END \
                 WHERE sync_locks.account_id = excluded.account_id \
                 AND (sync_locks.until < $5 OR sync_locks.holder = excluded.holder) \
                 RETURNING generation",
            )
            .bind(integration)
            .bind(account)
            .bind(holder)
            .bind(until)
            .bind(Timestamp::now()),
        )
        .await?;
    if let Some(row) = taken {
        return row.int(0, "sync_locks.generation");
    }
    if integration_exists(&mut a.pool_executor(), account, integration).await? {
        Err(StoreError::SyncRunning(integration))
    } else {
        Err(StoreError::NotFound {
            what: "integration",
            id: integration.to_string(),
        })
    }
}

pub(super) async fn renew_sync<A: Adapter>(
    a: &A,
    account: AccountId,
    integration: IntegrationId,
    holder: &str,
    generation: i64,
    until: Timestamp,
) -> Result<bool> {
    let done = a
        .pool_executor()
        .execute(
            Query::new(
                "UPDATE sync_locks SET until = $5 \
                 WHERE integration_id = $1 AND account_id = $2 AND holder = $3 AND generation = $4",
            )
            .bind(integration)
            .bind(account)
            .bind(holder)
            .bind(generation)
            .bind(until),
        )
        .await?;
    Ok(done > 0)
}

pub(super) async fn unlock_sync<A: Adapter>(
    a: &A,
    account: AccountId,
    integration: IntegrationId,
    holder: &str,
) -> Result<()> {
    // The row stays (free: no holder, lease over) so that the generation keeps
    // growing.
    a.pool_executor()
        .execute(
            Query::new(
                "UPDATE sync_locks SET holder = '', until = $4 \
                 WHERE integration_id = $1 AND account_id = $2 AND holder = $3",
            )
            .bind(integration)
            .bind(account)
            .bind(holder)
            .bind(Timestamp::UNIX_EPOCH),
        )
        .await?;
    Ok(())
}

pub(super) async fn sync_lock<A: Adapter>(
    a: &A,
    account: AccountId,
    integration: IntegrationId,
) -> Result<Option<SyncLockInfo>> {
    let row = a
        .pool_executor()
        .fetch_optional(
            Query::new(
                "SELECT holder, generation, until FROM sync_locks \
                 WHERE integration_id = $1 AND account_id = $2 AND holder <> ''",
            )
            .bind(integration)
            .bind(account),
        )
        .await?;
    row.map(|row| {
        Ok(SyncLockInfo {
            holder: row.string(0, "sync_locks.holder")?,
            generation: row.int(1, "sync_locks.generation")?,
            until: row.ts(2, "sync_locks.until")?,
        })
    })
    .transpose()
}

pub(super) async fn break_sync_lock<A: Adapter>(
    a: &A,
    account: AccountId,
    integration: IntegrationId,
    holder: &str,
    generation: i64,
) -> Result<bool> {
    let done = a
        .pool_executor()
        .execute(
            Query::new(
                "UPDATE sync_locks SET holder = '', until = $5 \
                 WHERE integration_id = $1 AND account_id = $2 AND holder = $3 AND generation = $4",
            )
            .bind(integration)
            .bind(account)
            .bind(holder)
            .bind(generation)
            .bind(Timestamp::UNIX_EPOCH),
        )
        .await?;
    Ok(done > 0)
}
