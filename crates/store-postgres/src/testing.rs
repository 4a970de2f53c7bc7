//! A fresh PostgreSQL database per test (feature `testing`).
//!
//! The server is named by `ROSTER_TEST_POSTGRES_URL` (a URL of any database on it,
//! e.g. `postgres://postgres@127.0.0.1:55432/postgres`, for a role that may create
//! databases). [`TestDb::create`] makes a database `roster_test_<uuid>` there;
//! dropping the [`TestDb`] drops that database again. Without the variable the
//! test fails, saying how to start a server: a PostgreSQL test never passes by
//! skipping.
//!
//! ```text
//! bash .ci/postgres.sh start
//! export ROSTER_TEST_POSTGRES_URL="$(bash .ci/postgres.sh url)"
//! cargo test -p roster-store-postgres
//! ```
//!
//! In another crate's tests:
//!
//! ```text
//! [dev-dependencies]
//! roster-store-postgres = { workspace = true, features = ["testing"] }
//! ```
//! ```text
//! let db = roster_store_postgres::testing::TestDb::create().await;
//! let store = db.store().await; // a migrated, empty PgStore
//! run_roster_with(db.url());    // or hand the URL to the binary
//! ```

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use crate::PgStore;

/// The variable naming the test server.
pub const URL_VAR: &str = "ROSTER_TEST_POSTGRES_URL";

/// The test server's URL.
///
/// # Panics
/// When `ROSTER_TEST_POSTGRES_URL` is not set, with instructions.
pub fn server_url() -> String {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{URL_VAR} is not set: the PostgreSQL tests need a server. Start a throwaway one \
             and point the tests at it:\n\n    bash .ci/postgres.sh start\n    \
             export {URL_VAR}=\"$(bash .ci/postgres.sh url)\"\n\n\
             (.ci/run does both; `bash .ci/postgres.sh stop` removes the server again)"
        ),
    }
}

/// A database of its own on the test server, dropped with this value.
#[derive(Debug)]
pub struct TestDb {
    server: PgConnectOptions,
    name: String,
    url: String,
}

impl TestDb {
    /// Create an empty database `roster_test_<uuid>` on the test server.
    ///
    /// # Panics
    /// When `ROSTER_TEST_POSTGRES_URL` is not set or the server cannot be reached.
    pub async fn create() -> TestDb {
        let server_url = server_url();
        let server = PgConnectOptions::from_str(&server_url)
            .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}"));
        let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = server.connect().await.unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test server {URL_VAR}={server_url}: {e}\n\
                 (is it running? `bash .ci/postgres.sh start`)"
            )
        });
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;
        let url = with_database(&server_url, &name);
        TestDb { server, name, url }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL of this database (for [`PgStore::connect`] or a `roster --db`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new [`PgStore`] on this database (migrated on first use). Call it twice for
    /// two independent handles, as two processes would have.
    pub async fn store(&self) -> PgStore {
        PgStore::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("PgStore::connect to test database {}: {e}", self.name))
    }
}

impl Drop for TestDb {
    /// Drop the database, from a thread of its own (this may run inside an async
    /// runtime, which must not be blocked on). Failures are reported, not raised:
    /// a database left behind is harmless on a throwaway server.
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = server.connect().await.map_err(|e| e.to_string())?;
                // FORCE: ends connections a store of this test may still hold.
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<(), String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: test database {} not dropped: {e}", self.name),
            Err(_) => eprintln!("warning: test database {} not dropped", self.name),
        }
    }
}

/// `url` with its database (the path) replaced by `name`, query string kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_at..].find('/') {
        Some(slash) => &base[..authority_at + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced_and_the_rest_kept() {
        for (url, want) in [
            (
                "postgres://postgres@127.0.0.1:55432/postgres",
                "postgres://postgres@127.0.0.1:55432/x",
            ),
            (
                "postgres://u:p@host/db?sslmode=disable",
                "postgres://u:p@host/x?sslmode=disable",
            ),
            ("postgresql://host:5432", "postgresql://host:5432/x"),
            ("postgres://host?user=me", "postgres://host/x?user=me"),
        ] {
            assert_eq!(with_database(url, "x"), want, "{url}");
        }
    }
}
