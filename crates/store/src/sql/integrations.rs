//! Accounts, integrations, and the fleet-wide key check.

use jiff::Timestamp;

use super::adapter::{Adapter, Begin};
use super::codec::{integration_kind, integration_state, limit, to_json};
use super::query::{Columns, Executor, Query, Transaction};
use crate::{
    AccountId, Integration, IntegrationId, IntegrationState, NewIntegration, Result, StoreError,
};

pub(super) const INTEGRATION_SELECT: &str = "id, account_id, kind, name, state, settings, config, credentials, \
     source_fields, company_name, member_count, last_fetch_at, last_sync_at, created_at";

pub(super) fn integration_from_row(row: &impl Columns) -> Result<Integration> {
    Ok(Integration {
        id: row.int(0, "integrations.id")?,
        account_id: row.int(1, "integrations.account_id")?,
        kind: integration_kind(row.text(2, "integrations.kind")?)?,
        name: row.string(3, "integrations.name")?,
        state: integration_state(row.text(4, "integrations.state")?, "integrations.state")?,
        settings: row.json(5, "integrations.settings")?,
        config: row.json(6, "integrations.config")?,
        credentials: row.opt_bytes(7, "integrations.credentials")?,
        source_fields: row.json(8, "integrations.source_fields")?,
        company_name: row.opt_string(9, "integrations.company_name")?,
        member_count: row.opt_int(10, "integrations.member_count")?,
        last_fetch_at: row.opt_ts(11, "integrations.last_fetch_at")?,
        last_sync_at: row.opt_ts(12, "integrations.last_sync_at")?,
        created_at: row.ts(13, "integrations.created_at")?,
    })
}

/// `NotFound` unless the account exists.
pub(super) async fn account_exists(db: &mut impl Executor, account: AccountId) -> Result<()> {
    let found = db
        .fetch_optional(Query::new("SELECT id FROM accounts WHERE id = $1").bind(account))
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound {
            what: "account",
            id: account.to_string(),
        }),
    }
}

/// Whether the account has this integration.
pub(super) async fn integration_exists(
    db: &mut impl Executor,
    account: AccountId,
    integration: IntegrationId,
) -> Result<bool> {
    let found = db
        .fetch_optional(
            Query::new("SELECT id FROM integrations WHERE id = $1 AND account_id = $2")
                .bind(integration)
                .bind(account),
        )
        .await?;
    Ok(found.is_some())
}

pub(super) async fn ensure_account<A: Adapter>(a: &A, name: &str) -> Result<AccountId> {
    // Read first: an upsert would take a write lock on the account (PostgreSQL: its
    // row, which a running write holds for its whole transaction; SQLite: the
    // database).
    loop {
        let found = a
            .pool_executor()
            .fetch_optional(Query::new("SELECT id FROM accounts WHERE name = $1").bind(name))
            .await?;
        if let Some(row) = found {
            return row.int(0, "accounts.id");
        }
        let created = a
            .pool_executor()
            .fetch_optional(
                Query::new(
                    "INSERT INTO accounts (name, created_at) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING RETURNING id",
                )
                .bind(name)
                .bind(Timestamp::now()),
            )
            .await?;
        if let Some(row) = created {
            return row.int(0, "accounts.id");
        }
        // Someone else created it between the two statements: read it again.
    }
}

pub(super) async fn accounts<A: Adapter>(a: &A) -> Result<Vec<(AccountId, String)>> {
    let rows = a
        .pool_executor()
        .fetch_all(Query::new("SELECT id, name FROM accounts ORDER BY id"))
        .await?;
    rows.iter()
        .map(|r| Ok((r.int(0, "accounts.id")?, r.string(1, "accounts.name")?)))
        .collect()
}

pub(super) async fn create_integration<A: Adapter>(
    a: &A,
    new: NewIntegration,
) -> Result<Integration> {
    account_exists(&mut a.pool_executor(), new.account_id).await?;
    let row = a
        .pool_executor()
        .fetch_one(
            Query::new(format!(
                "INSERT INTO integrations (account_id, kind, name, state, settings, config, credentials, \
                 source_fields, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8) \
                 RETURNING {INTEGRATION_SELECT}"
            ))
            .bind(new.account_id)
            .bind(new.kind.as_str())
            .bind(new.name)
            .bind(IntegrationState::Connected.as_str())
            .bind(to_json(&new.settings)?)
            .bind(to_json(&new.config)?)
            .bind(new.credentials)
            .bind(Timestamp::now()),
        )
        .await?;
    integration_from_row(&row)
}

pub(super) async fn integration<A: Adapter>(
    a: &A,
    account: AccountId,
    id: IntegrationId,
) -> Result<Option<Integration>> {
    a.pool_executor()
        .fetch_optional(
            Query::new(format!(
                "SELECT {INTEGRATION_SELECT} FROM integrations WHERE id = $1 AND account_id = $2"
            ))
            .bind(id)
            .bind(account),
        )
        .await?
        .map(|row| integration_from_row(&row))
        .transpose()
}

pub(super) async fn integrations<A: Adapter>(
    a: &A,
    account: AccountId,
) -> Result<Vec<Integration>> {
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(format!(
                "SELECT {INTEGRATION_SELECT} FROM integrations WHERE account_id = $1 ORDER BY id"
            ))
            .bind(account),
        )
        .await?;
    rows.iter().map(integration_from_row).collect()
}

pub(super) async fn save_integration<A: Adapter>(a: &A, i: &Integration) -> Result<()> {
    let done = a
        .pool_executor()
        .execute(
            Query::new(
                "UPDATE integrations SET name = $3, state = $4, settings = $5, config = $6, \
                 credentials = $7, source_fields = $8, company_name = $9, member_count = $10, \
                 last_fetch_at = $11, last_sync_at = $12 WHERE id = $1 AND account_id = $2",
            )
            .bind(i.id)
            .bind(i.account_id)
            .bind(&i.name)
            .bind(i.state.as_str())
            .bind(to_json(&i.settings)?)
            .bind(to_json(&i.config)?)
            .bind(i.credentials.as_deref())
            .bind(to_json(&i.source_fields)?)
            .bind(i.company_name.as_deref())
            .bind(i.member_count)
            .bind(i.last_fetch_at)
            .bind(i.last_sync_at),
        )
        .await?;
    if done == 0 {
        return Err(StoreError::NotFound {
            what: "integration",
            id: i.id.to_string(),
        });
    }
    Ok(())
}

pub(super) async fn delete_integration<A: Adapter>(
    a: &A,
    account: AccountId,
    id: IntegrationId,
) -> Result<bool> {
    let mut tx = a.begin(Begin::Write).await?;
    tx.execute(
        Query::new("DELETE FROM sync_locks WHERE integration_id = $1 AND account_id = $2")
            .bind(id)
            .bind(account),
    )
    .await?;
    let done = tx
        .execute(
            Query::new("DELETE FROM integrations WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account),
        )
        .await?;
    tx.commit().await?;
    Ok(done > 0)
}

pub(super) async fn key_check<A: Adapter>(a: &A) -> Result<Option<Vec<u8>>> {
    a.pool_executor()
        .fetch_optional(Query::new("SELECT value FROM key_check WHERE id = 1"))
        .await?
        .map(|row| row.bytes(0, "key_check.value"))
        .transpose()
}

pub(super) async fn init_key_check<A: Adapter>(
    a: &A,
    value: &[u8],
    at: Timestamp,
) -> Result<Vec<u8>> {
    a.pool_executor()
        .execute(
            Query::new(
                "INSERT INTO key_check (id, value, created_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(value)
            .bind(at),
        )
        .await?;
    key_check(a)
        .await?
        .ok_or_else(|| StoreError::Corrupt("key_check: the row just written is missing".into()))
}

pub(super) async fn encrypted_samples<A: Adapter>(a: &A, n: usize) -> Result<Vec<Vec<u8>>> {
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(
                "SELECT value FROM (\
                   SELECT credentials AS value, 0 AS kind, id FROM integrations \
                   WHERE credentials IS NOT NULL \
                   UNION ALL \
                   SELECT secret, 1, id FROM notification_channels WHERE secret IS NOT NULL\
                 ) AS s ORDER BY kind, id LIMIT $1",
            )
            .bind(limit(n)),
        )
        .await?;
    rows.iter().map(|r| r.bytes(0, "a secret")).collect()
}
