#![forbid(unsafe_code)]
//! The SQLite adapter of the [`Store`] port, on sqlx.
//!
//! One file (or `sqlite::memory:`), WAL journal, `synchronous = NORMAL`, foreign keys
//! on, a 5 s busy timeout, reads through a memory mapping of up to 2 GiB (`MMAP_SIZE`: why,
//! and what an I/O error then does). A file's pool never hands out a connection inside a
//! transaction (see `released_clean`): one would serve an old snapshot. The schema is
//! in `migrations/` (embedded, append-only, run at [`SqliteStore::open`]); a database
//! migrated by a newer roster is refused with [`StoreError::TooNew`].
//!
//! The statements, codecs and row decoders are [`roster_store::sql`]'s, shared with
//! the PostgreSQL adapter; [`SqliteStore`] is a [`Store`] by being an [`Adapter`].
//! What is this adapter's own: connecting ([`SqliteStore::open`]), the query entry
//! point that rewrites `$N` placeholders (`exec`), the bulk write (`write`),
//! claiming due jobs and messages (`claims`), the migrations (`schema`), backups and
//! checkpoints.

mod claims;
mod exec;
mod schema;
mod write;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use roster_store::jobs::{Job, PendingMessage};
use roster_store::sql::{Adapter, Begin, Dialect};
use roster_store::{AccountId, Changeset, Fence, ImportId, Result, Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlitePool};

use exec::db;
pub use schema::{known_versions, supported_version};

/// Connections of a file database: WAL lets readers run beside the one writer.
const MAX_CONNECTIONS: u32 = 4;

/// How much of a database file SQLite reads through a memory mapping (`PRAGMA
/// mmap_size`) instead of a `pread` and a copy per page (issue #15: a sync in a new
/// process reads its few thousand pages cold; docs/benchmarks.md, sessions 8 and 19).
/// 2 GiB, SQLite's own ceiling on Linux (it keeps the smaller of the two), holds a
/// 1M-employee directory (≈ 1.2 GB) whole: an incremental sync of 1,000 members in it
/// reads ≈ 3,000 rows scattered over the file, and with 256 MiB mapped (the first 20 %
/// of the file) most of them were a `pread` each. What it costs, and why it is taken:
/// - an I/O error while reading a mapped page is a `SIGBUS` that ends the process,
///   where a `pread` would have returned an error to the caller. Writes do not go
///   through the mapping, so what is on disk is what a killed process leaves: the
///   last committed transaction (the WAL, as the kill-during-apply tests check);
///   a read error on the database disk has no useful answer but an administrator's
///   anyway;
/// - the mapped pages count in the process's resident size, and the kernel maps the
///   cached neighbours of each faulted page too: a 1M incremental sync shows
///   ≈ 0.3–0.4 GiB resident instead of ≈ 0.1 GiB, a whole-directory read of a 1M
///   directory up to the file's size more. Those pages are the page cache's, which a
///   `pread` fills the same (shared, reclaimable, charged to the same cgroup): the
///   memory used is the same, only where `ps` counts it moves. A first import maps
///   nothing: it starts from an empty file and writes through the log;
/// - it needs one coherent page cache for the mapping and the writes (Linux, macOS,
///   the BSDs have it); a database on a network file system is not supported anyway.
const MMAP_SIZE: u64 = 2 * 1024 * 1024 * 1024;

/// The page cache of each pooled connection (`PRAGMA cache_size`, KiB). SQLite
/// allocates a cache page (≈ 4.3 KiB) for each page it reads until the cache is
/// full, and on sqlx's worker threads glibc grows its arena for each of them (an
/// `mprotect` and a page fault per page): an incremental sync of 1,000 members in a
/// 1M directory reads ≈ 20k pages over 2–3 connections, and with 64 MiB caches those
/// allocations were a fifth of its CPU and a quarter of its resident size. A full cache
/// reuses its least recently used page instead. 8 MiB holds the inner pages of the
/// look-ups' indexes and table; a changeset's write raises it ([`WRITE_CACHE_KIB`]).
const READ_CACHE_KIB: u32 = 8 * 1024;

/// The page cache of a changeset's write transaction (`write`), while it runs: its
/// dirty pages stay in memory until the commit instead of being spilled to the log
/// early (a first import writes hundreds of MiB; session 6 of docs/benchmarks.md).
const WRITE_CACHE_KIB: u32 = 64 * 1024;

/// The page cache of a write that rebuilds the indexes of `employees` for fewer
/// creates than `write::indexes::CACHED_BELOW`: large enough to hold the new rows
/// while the indexes are built from them (session 21 of docs/benchmarks.md).
const REBUILD_CACHE_KIB: u32 = 256 * 1024;

/// When the write-ahead log is copied into the database file (a checkpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoints {
    /// SQLite's default: a commit that leaves the log above 1,000 pages checkpoints
    /// it (`wal_autocheckpoint`), and [`Store::close`] the rest. For a process that
    /// runs for long (`roster serve`, `roster worker`).
    Automatic,
    /// Once, at [`Store::close`], for a process that opens the store for one command
    /// and closes it when the command ends (`roster sync`): the log is copied and
    /// synced once instead of in the commit of each change above 1,000 pages and
    /// again at the close (issue #15: ≈ 10 % of a small sync's write;
    /// docs/benchmarks.md, session 12). Each commit stays atomic in the log (a killed
    /// process loses nothing committed, as before); the command has not returned
    /// before the close's checkpoint synced the log and the file, so a finished
    /// command's change survives a power cut and the file alone holds it, as before.
    /// A log above [`AT_CLOSE_LIMIT_PAGES`] is still checkpointed by the commit that
    /// passes it, so a long command's log stays bounded.
    AtClose,
}

/// [`Checkpoints::AtClose`]: the log's size (pages of 4 KiB) above which a commit
/// checkpoints anyway: 256 MiB, well above a daily sync's few thousand pages.
pub const AT_CLOSE_LIMIT_PAGES: u32 = 65_536;

/// `PRAGMA cache_size` of `kib` KiB (negative: KiB, not pages).
fn cache_size(kib: u32) -> String {
    format!("PRAGMA cache_size = -{kib}")
}

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
///
/// A transaction dropped unfinished (a reader whose caller went away mid-read: a
/// client hanging up on an export) is not one: sqlx queues its rollback on the
/// connection's worker, and this runs before sqlx's own check on release would send
/// it. So the queue is flushed first (a ping); the transaction is then over and the
/// connection serves on (it was closed and logged as an error before, issue #15).
async fn released_clean(
    conn: &mut sqlx::SqliteConnection,
) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::Connection as _;
    conn.ping().await?;
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
    /// private in-memory database, served by a single connection), with SQLite's
    /// automatic checkpoints ([`Checkpoints::Automatic`]).
    pub async fn open(url_or_path: &str) -> Result<SqliteStore> {
        SqliteStore::open_with(url_or_path, Checkpoints::Automatic).await
    }

    /// [`SqliteStore::open`], with the log checkpointed as `checkpoints` says.
    pub async fn open_with(url_or_path: &str, checkpoints: Checkpoints) -> Result<SqliteStore> {
        let autocheckpoint = match checkpoints {
            Checkpoints::Automatic => 1000,
            Checkpoints::AtClose => AT_CLOSE_LIMIT_PAGES,
        };
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
                    .pragma("cache_size", format!("-{READ_CACHE_KIB}"))
                    .pragma("temp_store", "memory")
                    // Deleted and overwritten content is zeroed, not left in free
                    // pages: an erasure (issue #17) must leave no value in the file.
                    .pragma("secure_delete", "ON")
                    // Pages read through a mapping, not a `pread` and a copy each
                    // (see MMAP_SIZE).
                    .pragma("mmap_size", MMAP_SIZE.to_string())
                    .pragma("wal_autocheckpoint", autocheckpoint.to_string())
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
        let store = SqliteStore { pool };
        // Folds migration 0008 could not compute in SQL (letters beyond ASCII).
        roster_store::sql::employee::backfill_folds(&mut store.pool_executor()).await?;
        // A history written before the change feed existed gets its events.
        roster_store::sql::feed::backfill(&store).await?;
        Ok(store)
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

#[async_trait]
impl Adapter for SqliteStore {
    type Row = exec::Row;
    type Pool = exec::Pool;
    type Tx = exec::Tx;

    const DIALECT: Dialect = Dialect::Sqlite;

    fn pool_executor(&self) -> exec::Pool {
        exec::Pool(self.pool.clone())
    }

    async fn begin(&self, mode: Begin) -> Result<exec::Tx> {
        let tx = match mode {
            // Take the write lock now, so the transaction never fails to upgrade from
            // reading to writing (the busy timeout waits for it instead).
            Begin::Write => self.pool.begin_with("BEGIN IMMEDIATE").await,
            // A read transaction: its statements see one snapshot (WAL).
            Begin::Snapshot => self.pool.begin().await,
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
        claims::jobs(&mut self.pool_executor(), worker, now, lease_until, limit).await
    }

    async fn claim_due_messages(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingMessage>> {
        claims::messages(&mut self.pool_executor(), worker, now, lease_until, limit).await
    }

    async fn close_store(&self) -> Result<()> {
        if self.pool.is_closed() {
            return Ok(());
        }
        let checkpointed = self.checkpoint().await;
        self.pool.close().await;
        checkpointed
    }

    async fn after_erasure(&self) -> Result<()> {
        self.checkpoint().await
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
