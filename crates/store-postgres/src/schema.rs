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
use sqlx::PgPool;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::exec::db;

/// `(version, description, sql)`, oldest first. Append only.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
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
];

/// Every schema version this build knows, oldest first (numbers may skip: each
/// engineer's migrations have their own numbers).
pub fn known_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|m| m.0).collect()
}

/// The newest schema version this build knows.
pub fn supported_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
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
        // A version this build does not know was applied by a newer roster.
        if applied
            .iter()
            .any(|v| !MIGRATIONS.iter().any(|m| m.0 == *v))
        {
            let found = applied.iter().copied().max().unwrap_or_default();
            return Err(StoreError::TooNew {
                found,
                supported: supported_version(),
            });
        }
    }
    migrator().run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(e) => db(e),
        other => StoreError::Database(format!("migration failed: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `migrations/` is embedded, in order, with the same text: a new
    /// file must be added to [`MIGRATIONS`], and a released one must not change.
    #[test]
    fn embedded_migrations_match_the_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("migrations folder")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        assert_eq!(
            files.len(),
            MIGRATIONS.len(),
            "migrations/ and MIGRATIONS differ in length"
        );
        for (path, &(version, description, sql)) in files.iter().zip(MIGRATIONS) {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("file name");
            let (num, desc) = name.split_once('_').expect("NNNN_description.sql");
            assert_eq!(
                num.parse::<i64>().expect("numbered file"),
                version,
                "{name}"
            );
            assert_eq!(desc, description, "{name}");
            assert_eq!(
                std::fs::read_to_string(path).expect("read migration"),
                sql,
                "{name}"
            );
        }
        assert!(
            MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0),
            "versions ascend"
        );
    }
}
