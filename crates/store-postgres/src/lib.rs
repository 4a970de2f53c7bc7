#![forbid(unsafe_code)]
//! The PostgreSQL adapter of the [`Store`](roster_store::Store) port, on sqlx: the same contract, the
//! same values and the same semantics as the SQLite adapter, for larger directories
//! and several rosters sharing one database.
//!
//! [`PgStore::connect`] takes a `postgres://` or `postgresql://` URL, opens a pool
//! and applies the schema in `migrations/` (embedded, append-only); a database
//! migrated by a newer roster is refused with [`StoreError::TooNew`].
//!
//! The statements, codecs and row decoders are [`roster_store::sql`]'s, shared with
//! the SQLite adapter; [`PgStore`] is a [`Store`](roster_store::Store) by being an [`Adapter`]. What is
//! this adapter's own: connecting, the query entry point (`exec`), the bulk write
//! with `COPY` and `UNNEST` (`write`, `copy`), claiming due jobs and messages with
//! `FOR UPDATE SKIP LOCKED` (`claims`), and the migrations (`schema`).
//!
//! Concurrency: writes of one account are serialised by a row lock on the account
//! (`SELECT … FOR NO KEY UPDATE`), so two writers never deadlock on employees;
//! employee keys come from a sequence; the sync lock is one `INSERT … ON CONFLICT`
//! statement, safe between processes.

mod claims;
mod copy;
mod exec;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;
mod write;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use roster_store::jobs::{Job, PendingMessage};
use roster_store::sql::{Adapter, Begin, Dialect};
use roster_store::{AccountId, Changeset, Fence, ImportId, Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use exec::db;
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

/// The PostgreSQL [`Store`](roster_store::Store).
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
        let store = PgStore { pool };
        // Folds migration 0008 could not compute in SQL (letters beyond ASCII).
        roster_store::sql::employee::backfill_folds(&mut store.pool_executor()).await?;
        // A history written before the change feed existed gets its events.
        roster_store::sql::feed::backfill(&store).await?;
        Ok(store)
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

#[async_trait]
impl Adapter for PgStore {
    type Row = exec::Row;
    type Pool = exec::Pool;
    type Tx = exec::Tx;

    const DIALECT: Dialect = Dialect::Postgres;

    fn pool_executor(&self) -> exec::Pool {
        exec::Pool(self.pool.clone())
    }

    async fn begin(&self, mode: Begin) -> Result<exec::Tx> {
        let tx = match mode {
            Begin::Write => self.pool.begin().await,
            Begin::Snapshot => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        };
        Ok(exec::Tx(tx.map_err(db)?))
    }

    async fn write_changeset(
        &self,
        account: AccountId,
        changeset: Changeset,
        fence: Option<&Fence>,
    ) -> Result<ImportId> {
        write::write(self, account, changeset, fence).await
    }

    async fn claim_due_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Job>> {
        let tx = self.begin(Begin::Write).await?;
        claims::jobs(tx, worker, now, lease_until, limit).await
    }

    async fn claim_due_messages(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingMessage>> {
        let tx = self.begin(Begin::Write).await?;
        claims::messages(tx, worker, now, lease_until, limit).await
    }

    async fn close_store(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
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
