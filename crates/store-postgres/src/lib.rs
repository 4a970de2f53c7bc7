#![forbid(unsafe_code)]
//! The PostgreSQL adapter of the [`Store`] port, on sqlx: the same contract, the
//! same values and the same semantics as the SQLite adapter, for larger directories
//! and several rosters sharing one database.
//!
//! [`PgStore::connect`] takes a `postgres://` or `postgresql://` URL, opens a pool
//! and applies the schema in `migrations/` (embedded, append-only); a database
//! migrated by a newer roster is refused with [`StoreError::TooNew`]. Queries are
//! checked at run time (`sqlx::query` with binds).
//!
//! What this adapter records, beyond the trait's documentation (as SQLite does):
//! - Applied import entries keep no copy of the employee: [`Store::import`] fills
//!   `after` of an applied entry from the employee as it is *now*; entries not
//!   applied keep `after` as written.
//! - [`Store::import_changes`] gives, for a created employee, one marker change
//!   `employee_id: None → <its ID at creation>` flagged `created`.
//! - [`Store::outbox`] lists undelivered messages, oldest first.
//!
//! Concurrency: writes of one account are serialised by a row lock on the account
//! (`SELECT … FOR NO KEY UPDATE`), so two writers never deadlock on employees;
//! employee keys come from a sequence; the sync lock is one `INSERT … ON CONFLICT`
//! statement, safe between processes.

mod access;
mod codec;
mod copy;
mod jobs;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;
mod write;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::normalise::email_key;
use roster_core::rollback::RecordedChange;
use roster_store::{
    AccountId, Changeset, EmployeeQuery, EntryRecord, Fence, HistoryEntry, ImportId, ImportKind,
    ImportRecord, ImportStatus, ImportSummary, Integration, IntegrationId, IntegrationState,
    NewIntegration, OutboxMessage, Result, Store, StoreError, SyncLockInfo,
};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgPool};

use codec::{
    col, db, employee_columns, employee_from_row, employee_outline_columns, from_json,
    parse_opt_ts, parse_ts, search_needle, to_json, ts,
};
pub use schema::{known_versions, supported_version};

/// Connections per pool: a roster process runs one sync and a few readers.
const MAX_CONNECTIONS: u32 = 8;
/// How long a query waits for a free connection of the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    let lower = url.get(..13).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The PostgreSQL [`Store`].
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://user:password@host:port/db`,
    /// with any libpq-style query parameters sqlx knows, e.g. `?sslmode=require`)
    /// and migrate it.
    pub async fn connect(url: &str) -> Result<PgStore> {
        if !is_postgres_url(url) {
            return Err(StoreError::Database(
                "not a PostgreSQL URL (postgres://… or postgresql://…)".into(),
            ));
        }
        // The URL may carry a password: errors name neither the URL nor its parts.
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Database("the PostgreSQL URL is not valid".into()))?
            .application_name("roster")
            // Bulk writes of a large company take seconds by design: slow statements
            // are for debugging, not a warning on every first import.
            .log_slow_statements(log::LevelFilter::Debug, std::time::Duration::from_secs(1));
        // One plain connection first: a pool retries a refused connection until its
        // acquire timeout and then reports only that it timed out; this reports the
        // cause at once.
        let probe = options.connect().await.map_err(db)?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(db)?;
        schema::migrate(&pool).await?;
        Ok(PgStore { pool })
    }

    /// The connection pool, for adapter-level tests and tools.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Close every connection (waits for running queries).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

const INTEGRATION_SELECT: &str = "id, account_id, kind, name, state, settings, config, credentials, source_fields, \
     company_name, member_count, last_fetch_at, last_sync_at, created_at";

fn integration_from_row(row: &PgRow) -> Result<Integration> {
    let state: &str = col(row, 4, "integrations.state")?;
    Ok(Integration {
        id: col(row, 0, "integrations.id")?,
        account_id: col(row, 1, "integrations.account_id")?,
        kind: roster_store::sql::integration_kind(col(row, 2, "integrations.kind")?)?,
        name: col(row, 3, "integrations.name")?,
        state: IntegrationState::parse(state)
            .ok_or_else(|| StoreError::Corrupt("integrations.state is not valid".into()))?,
        settings: from_json(
            col(row, 5, "integrations.settings")?,
            "integrations.settings",
        )?,
        config: from_json(col(row, 6, "integrations.config")?, "integrations.config")?,
        credentials: col(row, 7, "integrations.credentials")?,
        source_fields: from_json(
            col(row, 8, "integrations.source_fields")?,
            "integrations.source_fields",
        )?,
        company_name: col(row, 9, "integrations.company_name")?,
        member_count: col(row, 10, "integrations.member_count")?,
        last_fetch_at: parse_opt_ts(
            col(row, 11, "integrations.last_fetch_at")?,
            "integrations.last_fetch_at",
        )?,
        last_sync_at: parse_opt_ts(
            col(row, 12, "integrations.last_sync_at")?,
            "integrations.last_sync_at",
        )?,
        created_at: parse_ts(
            col(row, 13, "integrations.created_at")?,
            "integrations.created_at",
        )?,
    })
}

const IMPORT_SELECT: &str =
    "id, integration_id, kind, trigger_kind, status, started_at, finished_at, counts";

fn kind(s: &str) -> Result<ImportKind> {
    ImportKind::parse(s).ok_or_else(|| StoreError::Corrupt("imports.kind is not valid".into()))
}

fn summary_from_row(row: &PgRow) -> Result<ImportSummary> {
    let status: &str = col(row, 4, "imports.status")?;
    Ok(ImportSummary {
        id: col(row, 0, "imports.id")?,
        integration_id: col(row, 1, "imports.integration_id")?,
        kind: kind(col(row, 2, "imports.kind")?)?,
        trigger: roster_store::sql::trigger(col(row, 3, "imports.trigger_kind")?)?,
        status: ImportStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt("imports.status is not valid".into()))?,
        started_at: parse_ts(col(row, 5, "imports.started_at")?, "imports.started_at")?,
        finished_at: parse_ts(col(row, 6, "imports.finished_at")?, "imports.finished_at")?,
        counts: from_json(col(row, 7, "imports.counts")?, "imports.counts")?,
    })
}

fn changes_from(json: Option<&str>) -> Result<Vec<roster_core::plan::Change>> {
    json.map(|s| from_json(s, "import_entries.changes"))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Run a query of [`employee_columns`] rows and decode each as it arrives.
async fn collect_employees(
    pool: &PgPool,
    query: sqlx::query::Query<'_, sqlx::Postgres, PgArguments>,
) -> Result<Vec<Employee>> {
    let mut rows = query.fetch(pool);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(db)? {
        out.push(employee_from_row(&row, 0)?);
    }
    Ok(out)
}

async fn integration_exists(
    pool: &PgPool,
    account: AccountId,
    integration: IntegrationId,
) -> Result<bool> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM integrations WHERE id = $1 AND account_id = $2")
            .bind(integration)
            .bind(account)
            .fetch_optional(pool)
            .await
            .map_err(db)?;
    Ok(found.is_some())
}

#[async_trait]
impl Store for PgStore {
    async fn ensure_account(&self, name: &str) -> Result<AccountId> {
        // Read first: an upsert would lock the account row, and a running write
        // holds that lock for its whole transaction.
        loop {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
            if let Some(id) = found {
                return Ok(id);
            }
            let created: Option<i64> = sqlx::query_scalar(
                "INSERT INTO accounts (name, created_at) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING RETURNING id",
            )
            .bind(name)
            .bind(ts(Timestamp::now()))
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
            if let Some(id) = created {
                return Ok(id);
            }
            // Someone else created it between the two statements: read it again.
        }
    }

    async fn accounts(&self) -> Result<Vec<(AccountId, String)>> {
        sqlx::query_as("SELECT id, name FROM accounts ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    async fn create_integration(&self, new: NewIntegration) -> Result<Integration> {
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = $1")
            .bind(new.account_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                what: "account",
                id: new.account_id.to_string(),
            });
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO integrations (account_id, kind, name, state, settings, config, credentials, source_fields, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8) RETURNING {INTEGRATION_SELECT}"
        )))
        .bind(new.account_id)
        .bind(new.kind.as_str())
        .bind(new.name)
        .bind(IntegrationState::Connected.as_str())
        .bind(to_json(&new.settings)?)
        .bind(to_json(&new.config)?)
        .bind(new.credentials)
        .bind(ts(Timestamp::now()))
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        integration_from_row(&row)
    }

    async fn integration(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<Option<Integration>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {INTEGRATION_SELECT} FROM integrations WHERE id = $1 AND account_id = $2"
        )))
        .bind(id)
        .bind(account)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|row| integration_from_row(&row))
        .transpose()
    }

    async fn integrations(&self, account: AccountId) -> Result<Vec<Integration>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {INTEGRATION_SELECT} FROM integrations WHERE account_id = $1 ORDER BY id"
        )))
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(integration_from_row)
        .collect()
    }

    async fn save_integration(&self, i: &Integration) -> Result<()> {
        let done = sqlx::query(
            "UPDATE integrations SET name = $3, state = $4, settings = $5, config = $6, credentials = $7, \
             source_fields = $8, company_name = $9, member_count = $10, last_fetch_at = $11, last_sync_at = $12 \
             WHERE id = $1 AND account_id = $2",
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
        .bind(i.last_fetch_at.map(ts))
        .bind(i.last_sync_at.map(ts))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "integration",
                id: i.id.to_string(),
            });
        }
        Ok(())
    }

    async fn delete_integration(&self, account: AccountId, id: IntegrationId) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM sync_locks WHERE integration_id = $1 AND account_id = $2")
            .bind(id)
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let done = sqlx::query("DELETE FROM integrations WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn directory(&self, account: AccountId) -> Result<Vec<Employee>> {
        let sql = format!(
            "SELECT {} FROM employees e WHERE e.account_id = $1 ORDER BY e.key",
            employee_columns("e")
        );
        collect_employees(&self.pool, sqlx::query(AssertSqlSafe(sql)).bind(account)).await
    }

    async fn directory_outline(&self, account: AccountId) -> Result<Vec<Employee>> {
        let sql = format!(
            "SELECT {} FROM employees e WHERE e.account_id = $1 ORDER BY e.key",
            employee_outline_columns("e")
        );
        collect_employees(&self.pool, sqlx::query(AssertSqlSafe(sql)).bind(account)).await
    }

    async fn employees_by_key(
        &self,
        account: AccountId,
        keys: &[EmployeeKey],
    ) -> Result<Vec<Employee>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // One parameter however many keys: an array.
        let sql = format!(
            "SELECT {} FROM employees e WHERE e.account_id = $1 AND e.key = ANY($2) ORDER BY e.key",
            employee_columns("e")
        );
        collect_employees(
            &self.pool,
            sqlx::query(AssertSqlSafe(sql)).bind(account).bind(keys),
        )
        .await
    }

    async fn employee(&self, account: AccountId, key: EmployeeKey) -> Result<Option<Employee>> {
        let sql = format!(
            "SELECT {} FROM employees e WHERE e.key = $1 AND e.account_id = $2",
            employee_columns("e")
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .bind(account)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|row| employee_from_row(&row, 0))
            .transpose()
    }

    async fn find_employee(
        &self,
        account: AccountId,
        id_or_email: &str,
    ) -> Result<Option<Employee>> {
        let email = email_key(id_or_email);
        if id_or_email.is_empty() {
            return Ok(None);
        }
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM employees e WHERE e.account_id = $1 \
             AND (e.employee_id = $2 OR e.email_lower = $3) \
             ORDER BY e.employee_id = $2 DESC, e.key LIMIT 1",
            employee_columns("e")
        )))
        .bind(account)
        .bind(id_or_email)
        .bind((!email.is_empty()).then_some(email))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|row| employee_from_row(&row, 0))
        .transpose()
    }

    async fn employees(&self, account: AccountId, query: &EmployeeQuery) -> Result<Vec<Employee>> {
        let needle = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(search_needle);
        // LIMIT NULL is no limit.
        let limit = query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        // `after` as its own condition, so that the planner can seek to the key.
        let after = if query.after.is_some() {
            "AND e.key > $6"
        } else {
            ""
        };
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM employees e WHERE e.account_id = $1 AND ($2 OR e.active) \
             AND ($3::text IS NULL OR strpos(e.search_text, $3) > 0) {after} \
             ORDER BY e.key LIMIT $4 OFFSET $5",
            employee_columns("e")
        )))
        .bind(account)
        .bind(query.include_inactive)
        .bind(needle)
        .bind(limit)
        .bind(offset);
        if let Some(key) = query.after {
            q = q.bind(key);
        }
        collect_employees(&self.pool, q).await
    }

    async fn count_employees(&self, account: AccountId, active_only: bool) -> Result<u64> {
        // Two statements: a parameter in an OR would keep the planner off the index.
        let sql = if active_only {
            "SELECT COUNT(*) FROM employees WHERE account_id = $1 AND active"
        } else {
            "SELECT COUNT(*) FROM employees WHERE account_id = $1"
        };
        let n: i64 = sqlx::query_scalar(sql)
            .bind(account)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(n.max(0) as u64)
    }

    async fn lock_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        until: Timestamp,
    ) -> Result<i64> {
        // One statement: take a free lock, renew our own, or take over an expired one.
        // Two processes racing for it both reach the same row: PostgreSQL inserts for
        // one and, for the other, re-checks the WHERE on the row as the first left it.
        // A take by another holder raises the generation; a renewal keeps it.
        let generation: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sync_locks (integration_id, account_id, holder, until, generation) \
             SELECT $1, $2, $3, $4, 1 WHERE EXISTS (SELECT 1 FROM integrations WHERE id = $1 AND account_id = $2) \
             ON CONFLICT (integration_id) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until, \
             generation = CASE WHEN sync_locks.holder = EXCLUDED.holder THEN sync_locks.generation \
             ELSE sync_locks.generation + 1 END \
             WHERE sync_locks.account_id = EXCLUDED.account_id \
             AND (sync_locks.until < $5 OR sync_locks.holder = EXCLUDED.holder) \
             RETURNING generation",
        )
        .bind(integration)
        .bind(account)
        .bind(holder)
        .bind(ts(until))
        .bind(ts(Timestamp::now()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if let Some(g) = generation {
            return Ok(g);
        }
        if integration_exists(&self.pool, account, integration).await? {
            Err(StoreError::SyncRunning(integration))
        } else {
            Err(StoreError::NotFound {
                what: "integration",
                id: integration.to_string(),
            })
        }
    }

    async fn renew_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        generation: i64,
        until: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_locks SET until = $5 \
             WHERE integration_id = $1 AND account_id = $2 AND holder = $3 AND generation = $4",
        )
        .bind(integration)
        .bind(account)
        .bind(holder)
        .bind(generation)
        .bind(ts(until))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn unlock_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
    ) -> Result<()> {
        // The row stays (free: no holder, lease over) so that the generation keeps
        // growing.
        sqlx::query(
            "UPDATE sync_locks SET holder = '', until = $4 \
             WHERE integration_id = $1 AND account_id = $2 AND holder = $3",
        )
        .bind(integration)
        .bind(account)
        .bind(holder)
        .bind(ts(Timestamp::UNIX_EPOCH))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn sync_lock(
        &self,
        account: AccountId,
        integration: IntegrationId,
    ) -> Result<Option<SyncLockInfo>> {
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT holder, generation, until FROM sync_locks \
             WHERE integration_id = $1 AND account_id = $2 AND holder <> ''",
        )
        .bind(integration)
        .bind(account)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|(holder, generation, until)| {
            Ok(SyncLockInfo {
                holder,
                generation,
                until: parse_ts(&until, "sync_locks.until")?,
            })
        })
        .transpose()
    }

    async fn break_sync_lock(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        generation: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_locks SET holder = '', until = $5 \
             WHERE integration_id = $1 AND account_id = $2 AND holder = $3 AND generation = $4",
        )
        .bind(integration)
        .bind(account)
        .bind(holder)
        .bind(generation)
        .bind(ts(Timestamp::UNIX_EPOCH))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn write(&self, account: AccountId, changeset: Changeset) -> Result<ImportId> {
        write::write(&self.pool, account, changeset, None).await
    }

    async fn write_fenced(
        &self,
        account: AccountId,
        changeset: Changeset,
        fence: &Fence,
    ) -> Result<ImportId> {
        write::write(&self.pool, account, changeset, Some(fence)).await
    }

    async fn imports(&self, account: AccountId, limit: usize) -> Result<Vec<ImportSummary>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {IMPORT_SELECT} FROM imports WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
        )))
        .bind(account)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(summary_from_row)
        .collect()
    }

    async fn import(&self, account: AccountId, id: ImportId) -> Result<Option<ImportRecord>> {
        // One snapshot for the import and its entries.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db)?;
        let Some(row) = sqlx::query(AssertSqlSafe(format!(
            "SELECT {IMPORT_SELECT}, details FROM imports WHERE id = $1 AND account_id = $2"
        )))
        .bind(id)
        .bind(account)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        let summary = summary_from_row(&row)?;
        let details = from_json(col(&row, 8, "imports.details")?, "imports.details")?;
        // Applied entries take `after` from the employee row as it is now.
        const EMPLOYEE_AT: usize = 8;
        let sql = format!(
            "SELECT ie.employee_key, ie.employee_id, ie.action, ie.applied, ie.held, ie.privacy, ie.changes, \
             ie.after, {} \
             FROM import_entries ie LEFT JOIN employees e ON ie.after IS NULL \
             AND e.key = ie.employee_key AND e.account_id = ie.account_id \
             WHERE ie.import_id = $1 AND ie.account_id = $2 ORDER BY ie.seq",
            employee_columns("e")
        );
        let mut entries = Vec::new();
        {
            let mut rows = sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .bind(account)
                .fetch(&mut *tx);
            while let Some(row) = rows.try_next().await.map_err(db)? {
                let after_json: Option<&str> = col(&row, 7, "import_entries.after")?;
                let after = match after_json {
                    Some(json) => from_json(json, "import_entries.after")?,
                    None => {
                        let key: Option<i64> = col(&row, EMPLOYEE_AT, "employees.key")?;
                        if key.is_none() {
                            return Err(StoreError::Corrupt(
                                "an applied import entry has no employee".into(),
                            ));
                        }
                        employee_from_row(&row, EMPLOYEE_AT)?
                    }
                };
                entries.push(EntryRecord {
                    action: roster_store::sql::action(col(&row, 2, "import_entries.action")?)?,
                    key: col(&row, 0, "import_entries.employee_key")?,
                    employee_id: col(&row, 1, "import_entries.employee_id")?,
                    changes: changes_from(col(&row, 6, "import_entries.changes")?)?,
                    after,
                    applied: col(&row, 3, "import_entries.applied")?,
                    held: col(&row, 4, "import_entries.held")?,
                    privacy: col(&row, 5, "import_entries.privacy")?,
                });
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(Some(ImportRecord {
            summary,
            details,
            entries,
        }))
    }

    async fn import_changes(
        &self,
        account: AccountId,
        id: ImportId,
    ) -> Result<Vec<RecordedChange>> {
        let rows = sqlx::query(
            "SELECT employee_key, employee_id, created, changes FROM import_entries \
             WHERE import_id = $1 AND account_id = $2 AND applied ORDER BY seq",
        )
        .bind(id)
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut out = Vec::new();
        for row in &rows {
            let key: Option<i64> = col(row, 0, "import_entries.employee_key")?;
            let key = key.ok_or_else(|| {
                StoreError::Corrupt("an applied import entry has no employee".into())
            })?;
            let created: bool = col(row, 2, "import_entries.created")?;
            if created {
                out.push(RecordedChange {
                    key,
                    field: "employee_id".into(),
                    old: None,
                    new: Some(col(row, 1, "import_entries.employee_id")?),
                    created: true,
                });
            }
            for c in changes_from(col(row, 3, "import_entries.changes")?)? {
                out.push(RecordedChange {
                    key,
                    field: c.field,
                    old: c.old,
                    new: c.new,
                    created,
                });
            }
        }
        Ok(out)
    }

    async fn employee_history(
        &self,
        account: AccountId,
        key: EmployeeKey,
    ) -> Result<Vec<HistoryEntry>> {
        // The employee's own entries and those of every record merged into it
        // (transitively), the latter marked with the merged record's employee ID.
        let rows = sqlx::query(
            "WITH RECURSIVE family(key) AS ( \
                 SELECT $2::BIGINT \
                 UNION \
                 SELECT e.key FROM employees e JOIN family f ON e.merged_into = f.key \
                 WHERE e.account_id = $1 \
             ) \
             SELECT ie.import_id, i.kind, i.finished_at, ie.action, ie.changes, \
                    CASE WHEN ie.employee_key = $2 THEN NULL ELSE e.employee_id END \
             FROM import_entries ie \
             JOIN family f ON f.key = ie.employee_key \
             JOIN imports i ON i.id = ie.import_id \
             LEFT JOIN employees e ON e.key = ie.employee_key AND e.account_id = ie.account_id \
             WHERE ie.account_id = $1 AND ie.applied \
             ORDER BY ie.import_id DESC, ie.seq DESC",
        )
        .bind(account)
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(HistoryEntry {
                    import_id: col(row, 0, "import_entries.import_id")?,
                    kind: kind(col(row, 1, "imports.kind")?)?,
                    at: parse_ts(col(row, 2, "imports.finished_at")?, "imports.finished_at")?,
                    action: roster_store::sql::action(col(row, 3, "import_entries.action")?)?,
                    changes: changes_from(col(row, 4, "import_entries.changes")?)?,
                    merged_from: col(row, 5, "employees.employee_id")?,
                })
            })
            .collect()
    }

    async fn outbox(&self, account: AccountId, limit: usize) -> Result<Vec<OutboxMessage>> {
        let rows = sqlx::query(
            "SELECT id, import_id, event, payload, created_at, delivered_at FROM outbox \
             WHERE account_id = $1 AND delivered_at IS NULL ORDER BY id LIMIT $2",
        )
        .bind(account)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(OutboxMessage {
                    id: col(row, 0, "outbox.id")?,
                    import_id: col(row, 1, "outbox.import_id")?,
                    event: col(row, 2, "outbox.event")?,
                    payload: from_json(col(row, 3, "outbox.payload")?, "outbox.payload")?,
                    created_at: parse_ts(col(row, 4, "outbox.created_at")?, "outbox.created_at")?,
                    delivered_at: parse_opt_ts(
                        col(row, 5, "outbox.delivered_at")?,
                        "outbox.delivered_at",
                    )?,
                })
            })
            .collect()
    }

    async fn mark_delivered(&self, account: AccountId, id: i64, at: Timestamp) -> Result<()> {
        let done = sqlx::query(
            "UPDATE outbox SET delivered_at = COALESCE(delivered_at, $3) WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account)
        .bind(ts(at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "outbox message",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
    }

    async fn key_check(&self) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT value FROM key_check WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn init_key_check(&self, value: &[u8], at: Timestamp) -> Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO key_check (id, value, created_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(value)
        .bind(ts(at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        self.key_check()
            .await?
            .ok_or_else(|| StoreError::Corrupt("key_check: the row just written is missing".into()))
    }

    async fn encrypted_samples(&self, limit: usize) -> Result<Vec<Vec<u8>>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        sqlx::query_scalar(
            "SELECT value FROM (\
               SELECT credentials AS value, 0 AS kind, id FROM integrations WHERE credentials IS NOT NULL \
               UNION ALL \
               SELECT secret, 1, id FROM notification_channels WHERE secret IS NOT NULL\
             ) AS s ORDER BY kind, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised() {
        for url in [
            "postgres://localhost/roster",
            "postgresql://u:p@db.example:5432/roster?sslmode=require",
            "POSTGRES://localhost/roster",
        ] {
            assert!(is_postgres_url(url), "{url}");
        }
        for url in [
            "sqlite:roster.db",
            "roster.db",
            "postgres:/x",
            "",
            "/var/lib/postgres://x",
        ] {
            assert!(!is_postgres_url(url), "{url}");
        }
    }
}
