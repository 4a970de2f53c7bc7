//! Embedded, append-only migrations, and the refusal to open a newer schema.
//!
//! The migrations are the files in `migrations/`, embedded with `include_str!` and
//! run by sqlx's runtime [`Migrator`], as the SQLite adapter does (the `migrate!`
//! macro would need sqlx's `macros` feature, which builds a second, host copy of
//! SQLite for the proc-macro). A test checks that this list and the folder agree.
//! The migrator takes a PostgreSQL advisory lock, so several rosters starting at
//! once migrate one after the other.

use std::borrow::Cow;

use roster_store::StoreError;
use roster_store::sql::migrations::{self, Embedded};
use sqlx::PgPool;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::exec::db;

/// `(version, description, sql)`, oldest first. Append only.
pub(crate) const MIGRATIONS: &[Embedded] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "access", include_str!("../migrations/0002_access.sql")),
    (3, "jobs", include_str!("../migrations/0003_jobs.sql")),
    (
        4,
        "active_index",
        include_str!("../migrations/0004_active_index.sql"),
    ),
    (
        5,
        "sync_lock_generation",
        include_str!("../migrations/0005_sync_lock_generation.sql"),
    ),
    (
        6,
        "key_check_user_emails",
        include_str!("../migrations/0006_key_check_user_emails.sql"),
    ),
    (
        7,
        "review_reservation",
        include_str!("../migrations/0007_review_reservation.sql"),
    ),
    (
        8,
        "scim_queries",
        include_str!("../migrations/0008_scim_queries.sql"),
    ),
    (9, "events", include_str!("../migrations/0009_events.sql")),
    (
        10,
        "part_lookups",
        include_str!("../migrations/0010_part_lookups.sql"),
    ),
    (
        11,
        "erasures",
        include_str!("../migrations/0011_erasures.sql"),
    ),
    (
        12,
        "retention_holds",
        include_str!("../migrations/0012_retention_holds.sql"),
    ),
    (
        13,
        "kept_creates",
        include_str!("../migrations/0013_kept_creates.sql"),
    ),
    (
        14,
        "unfolded_lookups",
        include_str!("../migrations/0014_unfolded_lookups.sql"),
    ),
    (
        15,
        "active_counts",
        include_str!("../migrations/0015_active_counts.sql"),
    ),
    (
        16,
        "changed_since_by_history",
        include_str!("../migrations/0016_changed_since_by_history.sql"),
    ),
    (
        17,
        "history_chain",
        include_str!("../migrations/0017_history_chain.sql"),
    ),
];

/// Every schema version this build knows, oldest first (numbers may skip: each
/// engineer's migrations have their own numbers).
pub fn known_versions() -> Vec<i64> {
    migrations::known_versions(MIGRATIONS)
}

/// The newest schema version this build knows.
pub fn supported_version() -> i64 {
    migrations::supported_version(MIGRATIONS)
}

/// The migrations up to version `upto`.
fn migrator(upto: i64) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .filter(|m| m.0 <= upto)
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Refuse a database migrated by a newer roster, then apply pending migrations.
pub(crate) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(db)?;
    if has_table {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(pool)
                .await
                .map_err(db)?;
        migrations::refuse_newer(&applied, MIGRATIONS)?;
    }
    migrator(i64::MAX).run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(e) => db(e),
        other => StoreError::Database(format!("migration failed: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `migrations/` is embedded, in order, with the same text, and a
    /// released one keeps its SHA-256: a new file must be added to [`MIGRATIONS`]
    /// (and pinned in [`RELEASED`] once released), and a released one must not change.
    #[test]
    fn embedded_migrations_match_the_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        roster_store::contract::migrations::embedded_migrations_match(&dir, MIGRATIONS, RELEASED);
    }

    /// The released migrations' SHA-256, by version.
    const RELEASED: &[(i64, &str)] = &[
        (
            1,
            "7af0e3a5da19f510bae2cc6693fcc5e3fb14fc299abb46d3b360a7171629891a",
        ),
        (
            2,
            "b694c92d0184e0bacc6095c42f4aa202a427f1a9ad9dd741e655b4ba3c7b87c4",
        ),
        (
            3,
            "0d6224a89c41ceb2d78c5ab7248591e379941b13fa13c0d15904a7c1fd48d376",
        ),
        (
            4,
            "fb4b989022c101afeaf538a6c70d7f62029f140339cb248e3c86d3a0e6f6a999",
        ),
        (
            5,
            "01457479f32164cb0c6442b62fa14ce05b84f4458f06c604f8ee6d52625adf01",
        ),
        (
            6,
            "022bed06633781352f49d5ab777154ed48b451db31e6907db5025b07a36f2e74",
        ),
        (
            7,
            "146d4f508d145ba41fdc3373c471a51c814a7a32ba5515f1267f5c37f631e476",
        ),
        (
            8,
            "cfd15fb6ebacb1d301711baf841da600775cf749c2de11e7f9200099e89e1e3c",
        ),
        (
            9,
            "0e293602011fed1088f27325910739fc36d1ec002d510e8bb65574271cf401a3",
        ),
        (
            10,
            "62892237e2f60a2dd68ca41b7203b329c02e53b951111ebec423b84e7ca76e04",
        ),
        (
            11,
            "9141589e171ddd1246b8a39f59489cb54d507887802ccc16f9f594dc6ab61b5e",
        ),
        (
            12,
            "1a8b651a88385f82773cf49066b910569e2c44b36b28f8208770ec5ad9355a07",
        ),
        (
            13,
            "15f589f2c10f258b7762a82ce99e63407756cdce1bf3e2c7fca9321f3705e398",
        ),
        (
            14,
            "13d359914843feacf3a935020f0dba9a366e55e0dbeebe458f071d06368c9e0a",
        ),
        (
            15,
            "872deaf0d66110f513fac215c0be81c12c6b2e9a639c6e30b984922e1e0ca9c8",
        ),
    ];

    /// From each older schema to the newest, with the rows each version's roster
    /// wrote: migrate to version 1, insert its rows, migrate to the next … up to
    /// `upto`, then connect the store (which migrates to the newest) and read
    /// everything back.
    #[cfg(feature = "testing")]
    #[tokio::test]
    async fn old_rows_survive_every_migration() {
        use roster_store::contract::migrations::{old_rows, old_rows_survive};
        use roster_store::sql::Dialect;
        for &(upto, ..) in MIGRATIONS {
            let db = crate::testing::TestDb::create().await;
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(db.url())
                .await
                .expect("pool");
            for &(version, ..) in MIGRATIONS.iter().filter(|m| m.0 <= upto) {
                migrator(version).run(&pool).await.expect("migrate");
                for sql in old_rows(Dialect::Postgres, version) {
                    sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .execute(&pool)
                        .await
                        .unwrap_or_else(|e| panic!("version {version}: {e}\n{sql}"));
                }
            }
            pool.close().await;
            let store = db.store().await;
            old_rows_survive(&store, upto).await;
            store.close().await;
        }
    }
}
