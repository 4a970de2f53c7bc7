//! Embedded, append-only migrations, and the refusal to open a newer schema.
//!
//! The migrations are the files in `migrations/`, embedded with `include_str!` and
//! run by sqlx's runtime [`Migrator`] (the `migrate!` macro would need sqlx's
//! `macros` feature, which builds a second, host copy of SQLite for the proc-macro).
//! A test checks that this list and the folder agree.

use std::borrow::Cow;

use roster_store::StoreError;
use roster_store::sql::migrations::{self, Embedded};
use sqlx::SqlSafeStr;
use sqlx::SqlitePool;
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
pub(crate) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let has_table: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    if has_table.is_some() {
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

    /// 0006 rebuilds `users` (emails unique per account, not over all): users and
    /// their sessions written under 0004 survive it, and the same email may then be
    /// in two accounts but not twice in one.
    #[tokio::test]
    async fn users_and_sessions_survive_the_per_account_email_rebuild() {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("pool");
        migrator(4).run(&pool).await.expect("old schema");
        for sql in [
            "INSERT INTO accounts (id, name, created_at) VALUES (1, 'acme', 't'), (2, 'globex', 't')",
            "INSERT INTO users (id, account_id, email, email_lower, role, password_hash, created_at) \
             VALUES (7, 1, 'HR@x.example', 'hr@x.example', 'viewer', 'h', 't')",
            "INSERT INTO sessions (digest, account_id, user_id, created_at, expires_at) \
             VALUES ('d1', 1, 7, 't', 'u')",
        ] {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        migrate(&pool).await.expect("migrate to the newest");
        let kept: (i64, String) = sqlx::query_as(
            "SELECT u.id, s.digest FROM users u JOIN sessions s ON s.user_id = u.id",
        )
        .fetch_one(&pool)
        .await
        .expect("user and session kept");
        assert_eq!(kept, (7, "d1".to_string()));
        let insert = "INSERT INTO users (account_id, email, email_lower, role, password_hash, created_at) \
                      VALUES (?1, 'hr@x.example', 'hr@x.example', 'viewer', 'h', 't')";
        sqlx::query(insert)
            .bind(2)
            .execute(&pool)
            .await
            .expect("the same email in another account");
        assert!(
            sqlx::query(insert).bind(1).execute(&pool).await.is_err(),
            "twice in one account"
        );
        // Deleting a user still takes its sessions (the foreign key survived).
        sqlx::query("DELETE FROM users WHERE id = 7")
            .execute(&pool)
            .await
            .expect("delete");
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(left, 0);
    }

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
            "6a21c7a3a64f27439a26ec2e914f789c2f81c7f5e5f3b6af3d49af117dad1bbd",
        ),
        (
            2,
            "421496a82d5c401fe34e0c953bb06905468030019d5ebd289e345f0bc1a05c74",
        ),
        (
            3,
            "a0448a68130752fcfaca3fc0ec8d2f621d4bdf6051faa3c4926c44f4d12188cb",
        ),
        (
            4,
            "8e645afd7b5b068c4da3be4b76d0d28ca2a80006a43c25012df3c6ce69abc24d",
        ),
        (
            5,
            "ce08b78c0c6cc71ce91f9f014bd00db2c580a196bbbccdabd93e445161dddbd0",
        ),
        (
            6,
            "776f76b2910d1f871ffae9c8f8dc32d1a2d637ee5743851bf73db339a4c68bf5",
        ),
        (
            7,
            "42f7a966e22a70945217afffdc9ead7de7f46e3553563fda66031533d5418e0a",
        ),
        (
            8,
            "aa4959a9e7226621b2c9b2e3d642910425e4a3dc5b2dc8480160d276fe7fc9ee",
        ),
        (
            9,
            "9fb6fe57311f3587ff86d076c733427fcd1cd1ce3c166c2fc4a0f34c04532b03",
        ),
        (
            10,
            "eee9150d738932bb7ccbc4bd4b1911c77f1c07fb2fa070225b1bcc6f7f776a77",
        ),
        (
            11,
            "f8bd27fa883d05e14ee7c5ab5f33826c5479513f20d37d4abe5f30cacf55fdc6",
        ),
        (
            12,
            "76712bf29444eb5af1a4e37585c5a8b17f0007c9f5bf4095e0f6ab490c79ed6b",
        ),
        (
            13,
            "08f9bae850f06d6169c2a083660f1d5998f2a374ec6cf37c648bd694e81f45fb",
        ),
        (
            14,
            "13d359914843feacf3a935020f0dba9a366e55e0dbeebe458f071d06368c9e0a",
        ),
        (
            15,
            "6d6c66483a1aff3f0bde81bcc55455b266916e69f2839343c1a88acde8c74128",
        ),
    ];

    /// From each older schema to the newest, with the rows each version's roster
    /// wrote: migrate to version 1, insert its rows, migrate to the next … up to
    /// `upto`, then open the store (which migrates to the newest) and read
    /// everything back.
    #[tokio::test]
    async fn old_rows_survive_every_migration() {
        use roster_store::contract::migrations::{old_rows, old_rows_survive};
        use roster_store::sql::Dialect;
        for &(upto, ..) in MIGRATIONS {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("old.db");
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .foreign_keys(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("pool");
            for &(version, ..) in MIGRATIONS.iter().filter(|m| m.0 <= upto) {
                migrator(version).run(&pool).await.expect("migrate");
                for sql in old_rows(Dialect::Sqlite, version) {
                    sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .execute(&pool)
                        .await
                        .unwrap_or_else(|e| panic!("version {version}: {e}\n{sql}"));
                }
            }
            pool.close().await;
            let store = crate::SqliteStore::open(path.to_str().expect("path"))
                .await
                .expect("open and migrate");
            old_rows_survive(&store, upto).await;
            store.close().await;
        }
    }
}
