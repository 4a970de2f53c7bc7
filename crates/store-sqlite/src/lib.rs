#![forbid(unsafe_code)]
//! The SQLite adapter of the [`Store`] port, on sqlx.
//!
//! One file (or `sqlite::memory:`), WAL journal, `synchronous = NORMAL`, foreign keys
//! on, a 5 s busy timeout. A file's pool never hands out a connection inside a
//! transaction (see `released_clean`): one would serve an old snapshot. The schema is in `migrations/` (embedded, append-only, run
//! at [`SqliteStore::open`]); a database migrated by a newer roster is refused with
//! [`StoreError::TooNew`]. Queries are checked at run time (`sqlx::query` with binds).
//!
//! What this adapter records, beyond the trait's documentation:
//! - Applied import entries keep no copy of the employee: [`Store::import`] fills
//!   `after` of an applied entry from the employee as it is *now* (for the latest
//!   import that is exactly what was written); the field changes of that import are
//!   in `changes`. Entries not applied keep `after` as written.
//! - [`Store::import_changes`] gives, for a created employee, one marker change
//!   `employee_id: None → <its ID at creation>` flagged `created`.
//! - [`Store::outbox`] lists undelivered messages, oldest first.

mod access;
mod codec;
mod jobs;
mod schema;
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
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, ConnectOptions, SqlitePool};

use codec::{
    col, db, employee_from_json, employee_json, employee_outline_json, from_json, parse_opt_ts,
    parse_ts, search_needle, to_json, ts,
};
pub use schema::{known_versions, supported_version};

/// Connections of a file database: WAL lets readers run beside the one writer.
const MAX_CONNECTIONS: u32 = 4;

/// The SQLite [`Store`].
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// Where a URL or path points.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    Memory,
    File(&'a str),
}

fn target(url_or_path: &str) -> Result<Target<'_>> {
    let rest = url_or_path
        .strip_prefix("sqlite://")
        .or_else(|| url_or_path.strip_prefix("sqlite:"))
        .unwrap_or(url_or_path);
    match rest {
        ":memory:" => Ok(Target::Memory),
        "" => Err(StoreError::Database("no database path given".into())),
        path => Ok(Target::File(path)),
    }
}

/// Create the database file, empty, readable by its owner only (0600, whatever the
/// umask), unless it exists. SQLite gives the `-wal` and `-shm` files it creates the
/// database file's permissions, so they are 0600 too. An existing file keeps its
/// mode: an administrator may have chosen it.
fn create_private(path: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Database(format!(
            "could not create the database file {path}: {e}"
        ))),
    }
}

/// Whether a connection coming back to the pool may serve the next caller: it must
/// not be inside a transaction, in sqlx's books or in SQLite's own. A connection
/// left in a transaction keeps the read snapshot of its first read for as long as it
/// lives (WAL): every later caller it serves would read the database as it was then —
/// new API tokens unknown, revoked ones still valid — while the pool's other
/// connections read the present. A connection found so is rolled back and closed
/// (the pool opens a fresh one).
///
/// No statement can still be running here: sqlx resets each statement when the
/// command that ran it ends (`ExecuteIter`'s drop), and this check runs on the
/// connection's worker after every command the caller sent. So an open transaction
/// is the only way a pooled connection can keep an old snapshot.
async fn released_clean(
    conn: &mut sqlx::SqliteConnection,
) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::Connection as _;
    if conn.is_in_transaction() {
        tracing::error!("a database connection came back to the pool inside a transaction: closed");
        return Ok(false);
    }
    // SQLite's view: a ROLLBACK succeeds only inside a transaction (one sqlx does not
    // know of: a raw BEGIN, a failed COMMIT or ROLLBACK), and ends it.
    match sqlx::query("ROLLBACK").execute(&mut *conn).await {
        Ok(_) => {
            tracing::error!(
                "a database connection came back to the pool inside a transaction sqlx did not know of: rolled back and closed"
            );
            Ok(false)
        }
        Err(sqlx::Error::Database(_)) => Ok(true),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Open (creating if missing, readable by its owner only) and migrate the database at `url_or_path`:
    /// `sqlite:PATH`, `sqlite://PATH`, a plain path, or `sqlite::memory:` (one
    /// private in-memory database, served by a single connection).
    pub async fn open(url_or_path: &str) -> Result<SqliteStore> {
        let pool = match target(url_or_path)? {
            Target::Memory => {
                let options = SqliteConnectOptions::from_str("sqlite::memory:")
                    .map_err(db)?
                    .foreign_keys(true);
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(options)
                    .await
                    .map_err(db)?
            }
            Target::File(path) => {
                create_private(path)?;
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
                    .pragma("cache_size", "-65536")
                    .pragma("temp_store", "memory")
                    .row_buffer_size(1024)
                    // Bulk writes of a large company take seconds by design: slow
                    // statements are for debugging, not a warning on every first import.
                    .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
                SqlitePoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .after_release(|conn, _| Box::pin(released_clean(conn)))
                    .connect_with(options)
                    .await
                    .map_err(db)?
            }
        };
        schema::migrate(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// The connection pool, for adapter-level tests and tools.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Checkpoint the write-ahead log into the database file and close every
    /// connection (waits for running queries); see [`Store::close`].
    pub async fn close(&self) {
        let _ = Store::close(self).await;
    }

    /// Move what the write-ahead log holds into the database file and truncate the
    /// log. Another process reading at the same time keeps part of it (not an error:
    /// that process's own close checkpoints the rest).
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// An online, consistent copy of the database in the new file `to` (`VACUUM
    /// INTO`), readable by its owner only (0600). The copy is written beside `to`
    /// under a temporary name and renamed over it when complete (an existing `to` is
    /// replaced: refusing is the caller's choice), so a failed backup leaves no
    /// half-written file.
    pub async fn backup(&self, to: &std::path::Path) -> Result<()> {
        let name = to
            .file_name()
            .ok_or_else(|| StoreError::Database("the backup path names no file".into()))?;
        let tmp = to.with_file_name(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let tmp_str = tmp
            .to_str()
            .ok_or_else(|| StoreError::Database("the backup path is not UTF-8".into()))?;
        let _ = std::fs::remove_file(&tmp);
        create_private(tmp_str)?;
        let copied = sqlx::query("VACUUM INTO ?1")
            .bind(tmp_str)
            .execute(&self.pool)
            .await
            .map_err(db);
        let renamed = copied.and_then(|_| {
            std::fs::rename(&tmp, to)
                .map_err(|e| StoreError::Database(format!("could not write {}: {e}", to.display())))
        });
        if renamed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        renamed
    }
}

const INTEGRATION_SELECT: &str = "id, account_id, kind, name, state, settings, config, credentials, source_fields, \
     company_name, member_count, last_fetch_at, last_sync_at, created_at";

fn integration_from_row(row: &SqliteRow) -> Result<Integration> {
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

fn summary_from_row(row: &SqliteRow) -> Result<ImportSummary> {
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

fn employee_from_row(row: &SqliteRow) -> Result<Employee> {
    employee_from_json(col(row, 0, "an employees row")?)
}

/// Run a query of [`employee_json`] rows and decode each as it arrives.
async fn collect_employees(
    pool: &SqlitePool,
    query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
) -> Result<Vec<Employee>> {
    let mut rows = query.fetch(pool);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(db)? {
        out.push(employee_from_row(&row)?);
    }
    Ok(out)
}

#[async_trait]
impl Store for SqliteStore {
    async fn ensure_account(&self, name: &str) -> Result<AccountId> {
        sqlx::query_scalar(
            "INSERT INTO accounts (name, created_at) VALUES (?1, ?2) \
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(name)
        .bind(ts(Timestamp::now()))
        .fetch_one(&self.pool)
        .await
        .map_err(db)
    }

    async fn accounts(&self) -> Result<Vec<(AccountId, String)>> {
        sqlx::query_as("SELECT id, name FROM accounts ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    async fn create_integration(&self, new: NewIntegration) -> Result<Integration> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = ?1")
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
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '[]', ?8) RETURNING {INTEGRATION_SELECT}"
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
            "SELECT {INTEGRATION_SELECT} FROM integrations WHERE id = ?1 AND account_id = ?2"
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
            "SELECT {INTEGRATION_SELECT} FROM integrations WHERE account_id = ?1 ORDER BY id"
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
            "UPDATE integrations SET name = ?3, state = ?4, settings = ?5, config = ?6, credentials = ?7, \
             source_fields = ?8, company_name = ?9, member_count = ?10, last_fetch_at = ?11, last_sync_at = ?12 \
             WHERE id = ?1 AND account_id = ?2",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
        sqlx::query("DELETE FROM sync_locks WHERE integration_id = ?1 AND account_id = ?2")
            .bind(id)
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let done = sqlx::query("DELETE FROM integrations WHERE id = ?1 AND account_id = ?2")
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
            "SELECT {} FROM employees e WHERE account_id = ?1 ORDER BY key",
            employee_json("e")
        );
        collect_employees(&self.pool, sqlx::query(AssertSqlSafe(sql)).bind(account)).await
    }

    async fn directory_outline(&self, account: AccountId) -> Result<Vec<Employee>> {
        let sql = format!(
            "SELECT {} FROM employees e WHERE account_id = ?1 ORDER BY key",
            employee_outline_json("e")
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
        // One parameter however many keys: a JSON array read by json_each.
        let keys = serde_json::to_string(keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = format!(
            "SELECT {} FROM employees e WHERE account_id = ?1 \
             AND key IN (SELECT value FROM json_each(?2)) ORDER BY key",
            employee_json("e")
        );
        collect_employees(
            &self.pool,
            sqlx::query(AssertSqlSafe(sql)).bind(account).bind(keys),
        )
        .await
    }

    async fn employee(&self, account: AccountId, key: EmployeeKey) -> Result<Option<Employee>> {
        let sql = format!(
            "SELECT {} FROM employees e WHERE key = ?1 AND account_id = ?2",
            employee_json("e")
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .bind(account)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|row| employee_from_row(&row))
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
            "SELECT {} FROM employees e WHERE account_id = ?1 AND (employee_id = ?2 OR email_lower = ?3) \
             ORDER BY employee_id = ?2 DESC, key LIMIT 1",
            employee_json("e")
        )))
        .bind(account)
        .bind(id_or_email)
        .bind((!email.is_empty()).then_some(email))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|row| employee_from_row(&row))
        .transpose()
    }

    async fn employees(&self, account: AccountId, query: &EmployeeQuery) -> Result<Vec<Employee>> {
        let needle = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(search_needle);
        let limit = query
            .limit
            .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        // `after` as its own condition, not `(?6 IS NULL OR …)`: a parameter in an OR
        // would keep SQLite from seeking to the key.
        let after = if query.after.is_some() {
            "AND key > ?6"
        } else {
            ""
        };
        let q = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM employees e WHERE account_id = ?1 AND (?2 OR active = 1) \
             AND (?3 IS NULL OR instr(search_text, ?3) > 0) {after} ORDER BY key LIMIT ?4 OFFSET ?5",
            employee_json("e")
        )))
        .bind(account)
        .bind(query.include_inactive)
        .bind(needle)
        .bind(limit)
        .bind(offset)
        .bind(query.after);
        collect_employees(&self.pool, q).await
    }

    async fn count_employees(&self, account: AccountId, active_only: bool) -> Result<u64> {
        // Two statements: a parameter in an OR would keep SQLite off the index.
        let sql = if active_only {
            "SELECT COUNT(*) FROM employees WHERE account_id = ?1 AND active = 1"
        } else {
            "SELECT COUNT(*) FROM employees WHERE account_id = ?1"
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
        // A take by another holder raises the generation; a renewal keeps it.
        let generation: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sync_locks (integration_id, account_id, holder, until, generation) \
             SELECT ?1, ?2, ?3, ?4, 1 WHERE EXISTS (SELECT 1 FROM integrations WHERE id = ?1 AND account_id = ?2) \
             ON CONFLICT (integration_id) DO UPDATE SET holder = excluded.holder, until = excluded.until, \
             generation = CASE WHEN sync_locks.holder = excluded.holder THEN sync_locks.generation \
             ELSE sync_locks.generation + 1 END \
             WHERE sync_locks.account_id = excluded.account_id \
             AND (sync_locks.until < ?5 OR sync_locks.holder = excluded.holder) \
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
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM integrations WHERE id = ?1 AND account_id = ?2")
                .bind(integration)
                .bind(account)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        match exists {
            Some(_) => Err(StoreError::SyncRunning(integration)),
            None => Err(StoreError::NotFound {
                what: "integration",
                id: integration.to_string(),
            }),
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
            "UPDATE sync_locks SET until = ?5 \
             WHERE integration_id = ?1 AND account_id = ?2 AND holder = ?3 AND generation = ?4",
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
            "UPDATE sync_locks SET holder = '', until = ?4 \
             WHERE integration_id = ?1 AND account_id = ?2 AND holder = ?3",
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
             WHERE integration_id = ?1 AND account_id = ?2 AND holder <> ''",
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
            "UPDATE sync_locks SET holder = '', until = ?5 \
             WHERE integration_id = ?1 AND account_id = ?2 AND holder = ?3 AND generation = ?4",
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
            "SELECT {IMPORT_SELECT} FROM imports WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2"
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
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let Some(row) = sqlx::query(AssertSqlSafe(format!(
            "SELECT {IMPORT_SELECT}, details FROM imports WHERE id = ?1 AND account_id = ?2"
        )))
        .bind(id)
        .bind(account)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        else {
            return Ok(None);
        };
        let summary = summary_from_row(&row)?;
        let details = from_json(col(&row, 8, "imports.details")?, "imports.details")?;
        // Applied entries take `after` from the employee row as it is now.
        let sql = format!(
            "SELECT ie.employee_key, ie.employee_id, ie.action, ie.applied, ie.held, ie.privacy, ie.changes, \
             ie.after, CASE WHEN e.key IS NULL THEN NULL ELSE {} END \
             FROM import_entries ie LEFT JOIN employees e ON ie.after IS NULL \
             AND e.key = ie.employee_key AND e.account_id = ie.account_id \
             WHERE ie.import_id = ?1 AND ie.account_id = ?2 ORDER BY ie.seq",
            employee_json("e")
        );
        let mut rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(account)
            .fetch(&mut *conn);
        let mut entries = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(db)? {
            let after_json: Option<&str> = col(&row, 7, "import_entries.after")?;
            let after = match after_json {
                Some(json) => from_json(json, "import_entries.after")?,
                None => {
                    let json: Option<&str> = col(&row, 8, "an employees row")?;
                    let json = json.ok_or_else(|| {
                        StoreError::Corrupt("an applied import entry has no employee".into())
                    })?;
                    employee_from_json(json)?
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
             WHERE import_id = ?1 AND account_id = ?2 AND applied = 1 ORDER BY seq",
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
                 SELECT ?2 \
                 UNION \
                 SELECT e.key FROM employees e JOIN family f ON e.merged_into = f.key \
                 WHERE e.account_id = ?1 \
             ) \
             SELECT ie.import_id, i.kind, i.finished_at, ie.action, ie.changes, \
                    CASE WHEN ie.employee_key = ?2 THEN NULL ELSE e.employee_id END \
             FROM import_entries ie \
             JOIN family f ON f.key = ie.employee_key \
             JOIN imports i ON i.id = ie.import_id \
             LEFT JOIN employees e ON e.key = ie.employee_key AND e.account_id = ie.account_id \
             WHERE ie.account_id = ?1 AND ie.applied = 1 \
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
             WHERE account_id = ?1 AND delivered_at IS NULL ORDER BY id LIMIT ?2",
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
            "UPDATE outbox SET delivered_at = COALESCE(delivered_at, ?3) WHERE id = ?1 AND account_id = ?2",
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
        if self.pool.is_closed() {
            return Ok(());
        }
        let checkpointed = self.checkpoint().await;
        self.pool.close().await;
        checkpointed
    }

    async fn key_check(&self) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT value FROM key_check WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn init_key_check(&self, value: &[u8], at: Timestamp) -> Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO key_check (id, value, created_at) VALUES (1, ?1, ?2) \
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
             ) AS s ORDER BY kind, id LIMIT ?1",
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
    fn urls_and_paths() {
        assert_eq!(target("sqlite::memory:").unwrap(), Target::Memory);
        assert_eq!(
            target("sqlite:roster.db").unwrap(),
            Target::File("roster.db")
        );
        assert_eq!(
            target("sqlite://roster.db").unwrap(),
            Target::File("roster.db")
        );
        assert_eq!(
            target("sqlite:///var/lib/roster.db").unwrap(),
            Target::File("/var/lib/roster.db")
        );
        assert_eq!(target("/tmp/x.db").unwrap(), Target::File("/tmp/x.db"));
        assert!(target("sqlite:").is_err());
        assert!(target("").is_err());
    }
}
