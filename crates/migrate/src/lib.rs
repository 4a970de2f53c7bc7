#![forbid(unsafe_code)]
//! Moving house: copy a whole Roster database — every account, its directory, its
//! import history, integrations and whatever else the schema holds — from SQLite to
//! PostgreSQL, in one PostgreSQL transaction, verified by row counts and checksums
//! before it commits.
//!
//! The two adapters keep the same tables with the same columns and the same values
//! (see the note at the top of `crates/store-postgres/migrations/0001_init.sql`), so
//! the copy is generic: the target's catalogue says which tables, columns, types,
//! foreign keys and identity columns there are, and rows are copied in foreign-key
//! order. Two things are not copied verbatim:
//! - encrypted columns ([`ENCRYPTED`]) are decrypted with the source's key and
//!   encrypted again with the target's (SQLite keeps its key in a file beside the
//!   database; PostgreSQL takes it from `ROSTER_SECRET_KEY`);
//! - sync locks ([`TRANSIENT`]) are not copied: nothing may be running while a
//!   database moves.
//!
//! The target must be freshly migrated and empty; anything else is refused before a
//! row is written. A failure anywhere rolls the whole copy back.

use roster_engine::Cipher;
use roster_store_postgres::PgStore;
use roster_store_sqlite::SqliteStore;
use sqlx::AssertSqlSafe;

mod copy;
mod schema;
mod types;
mod verify;

use copy::{copy_table, reset_identities};
use roster_store::sql::ident;
use schema::{check_source_tables, postgres_version, sqlite_version, target_tables};
pub use types::{Decrypt, ENCRYPTED, MigrateError, Progress, TRANSIENT, TableReport};
use types::{Keys, db};
use verify::{first_difference, postgres_checksum, sqlite_checksum};

/// Copy everything in `source` (an SQLite path or URL) to `target` (a PostgreSQL
/// URL). Both are migrated to this build's schema first; the target must be empty.
/// `source_keys` are the keys the source's secrets may be encrypted with (its key
/// file, `ROSTER_SECRET_KEY`): each value is decrypted with the first that fits.
pub async fn sqlite_to_postgres(
    source: &str,
    source_keys: &[Cipher],
    target: &str,
    target_key: &Cipher,
    progress: Progress<'_>,
) -> Result<Vec<TableReport>, MigrateError> {
    let src = SqliteStore::open(source)
        .await
        .map_err(MigrateError::Source)?;
    let dst = PgStore::connect(target)
        .await
        .map_err(MigrateError::Target)?;
    let (sv, tv) = (sqlite_version(&src).await?, postgres_version(&dst).await?);
    if sv != tv {
        return Err(MigrateError::Versions {
            source_version: sv,
            target_version: tv,
        });
    }
    let tables = target_tables(&dst).await?;
    check_source_tables(&src, &tables).await?;

    let mut tx = dst.pool().begin().await.map_err(db)?;
    for t in &tables {
        let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM {}",
            ident(&t.name)
        )))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if rows > 0 {
            return Err(MigrateError::NotEmpty {
                table: t.name.clone(),
                rows,
            });
        }
    }
    let source_key = &Keys(source_keys);
    let mut reports = Vec::new();
    for t in &tables {
        if TRANSIENT.contains(&t.name.as_str()) {
            reports.push(TableReport {
                table: t.name.clone(),
                rows: 0,
                checksum: String::new(),
                skipped: true,
            });
            continue;
        }
        let copied = copy_table(&src, &mut tx, t, source_key, target_key, progress).await?;
        let (src_rows, src_sum) = sqlite_checksum(&src, t, source_key).await?;
        let (dst_rows, dst_sum) = postgres_checksum(&mut tx, t, target_key).await?;
        if src_rows != copied || dst_rows != copied {
            return Err(MigrateError::Verify {
                table: t.name.clone(),
                what: format!(
                    "{src_rows} rows in the source, {copied} copied, {dst_rows} in the target"
                ),
            });
        }
        if src_sum != dst_sum {
            let what = first_difference(&src, &mut tx, t, source_key, target_key)
                .await?
                .unwrap_or_else(|| "the checksums differ".into());
            return Err(MigrateError::Verify {
                table: t.name.clone(),
                what,
            });
        }
        reports.push(TableReport {
            table: t.name.clone(),
            rows: copied,
            checksum: src_sum,
            skipped: false,
        });
    }
    reset_identities(&mut tx, &tables).await?;
    tx.commit().await.map_err(db)?;
    tracing::info!(tables = reports.len(), "moved the database to PostgreSQL");
    Ok(reports)
}

/// `"name"`, quoted for SQL (names come from the target's catalogue).
#[cfg(test)]
mod tests {
    use super::schema::foreign_key_order;
    use super::*;

    #[test]
    fn tables_come_after_the_tables_they_reference() {
        let names: Vec<String> = ["employees", "imports", "accounts", "import_entries"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let edges = vec![
            ("import_entries".to_string(), "imports".to_string()),
            ("imports".to_string(), "accounts".to_string()),
            ("imports".to_string(), "imports".to_string()),
            ("employees".to_string(), "accounts".to_string()),
        ];
        let order = foreign_key_order(&names, &edges).unwrap();
        let pos = |n: &str| order.iter().position(|o| o == n).unwrap();
        assert!(pos("accounts") < pos("imports"));
        assert!(pos("accounts") < pos("employees"));
        assert!(pos("imports") < pos("import_entries"));
        assert_eq!(order.len(), 4);
    }

    #[test]
    fn a_foreign_key_cycle_is_an_error() {
        let names = vec!["a".to_string(), "b".to_string()];
        let edges = vec![
            ("a".to_string(), "b".to_string()),
            ("b".to_string(), "a".to_string()),
        ];
        assert!(matches!(
            foreign_key_order(&names, &edges),
            Err(MigrateError::Schema(_))
        ));
    }
}
