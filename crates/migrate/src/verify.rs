//! Verification: per-table checksums over normalised rows on both sides, and the
//! first differing row when they disagree.

use futures::TryStreamExt;
use roster_engine::Cipher;
use roster_store_sqlite::SqliteStore;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use crate::copy::{decrypt_error, encrypted_key_column, sqlite_row, sqlite_select};
use crate::schema::{Table, Value};
use crate::types::{Decrypt, MigrateError, db};
use roster_store::sql::ident;

/// Feed one row into a checksum: encrypted columns by their plaintext.
pub(crate) fn hash_row(
    hasher: &mut Sha256,
    t: &Table,
    values: &[Value],
    key: &dyn Decrypt,
) -> Result<(), MigrateError> {
    for (c, v) in t.columns.iter().zip(values) {
        match v {
            Value::Null => hasher.update([0u8]),
            Value::Text(s) => {
                hasher.update([1u8]);
                hasher.update((s.len() as u64).to_le_bytes());
                hasher.update(s.as_bytes());
            }
            Value::Bytes(b) => {
                let plain;
                let bytes = match encrypted_key_column(&t.name, &c.name) {
                    Some(k) => {
                        plain = key.open(b).ok_or_else(|| decrypt_error(t, c, k, values))?;
                        &plain
                    }
                    None => b,
                };
                hasher.update([2u8]);
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(bytes);
            }
        }
    }
    Ok(())
}

pub(crate) async fn sqlite_checksum(
    src: &SqliteStore,
    t: &Table,
    key: &dyn Decrypt,
) -> Result<(u64, String), MigrateError> {
    let mut rows = sqlx::query(AssertSqlSafe(sqlite_select(t))).fetch(src.pool());
    let mut hasher = Sha256::new();
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await.map_err(db)? {
        hash_row(&mut hasher, t, &sqlite_row(t, &row)?, key)?;
        n += 1;
    }
    Ok((n, hex::encode(hasher.finalize())))
}

/// The target query reading `t` in the source's order, every value as text except
/// bytes, booleans as `0`/`1`.
pub(crate) fn postgres_select(t: &Table) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            if c.is_bytes() {
                ident(&c.name)
            } else if c.is_bool() {
                format!("({}::int)::text", ident(&c.name))
            } else {
                format!("{}::text", ident(&c.name))
            }
        })
        .collect();
    // Text order is compared byte for byte, as SQLite's BINARY collation does.
    let order: Vec<String> = t
        .order
        .iter()
        .map(|name| match t.columns.iter().find(|c| &c.name == name) {
            Some(c) if c.pg_type == "text" => format!("src.{} COLLATE \"C\"", ident(name)),
            _ => format!("src.{}", ident(name)),
        })
        .collect();
    // Qualified: a bare name in ORDER BY would mean the text output column.
    format!(
        "SELECT {} FROM {} AS src ORDER BY {}",
        cols.join(", "),
        ident(&t.name),
        order.join(", ")
    )
}

pub(crate) fn postgres_row(
    t: &Table,
    row: &sqlx::postgres::PgRow,
) -> Result<Vec<Value>, MigrateError> {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(if c.is_bytes() {
                row.try_get::<Option<Vec<u8>>, _>(i)
                    .map_err(db)?
                    .map_or(Value::Null, Value::Bytes)
            } else {
                row.try_get::<Option<String>, _>(i)
                    .map_err(db)?
                    .map_or(Value::Null, Value::Text)
            })
        })
        .collect()
}

pub(crate) async fn postgres_checksum(
    tx: &mut Transaction<'_, Postgres>,
    t: &Table,
    key: &Cipher,
) -> Result<(u64, String), MigrateError> {
    let mut rows = sqlx::query(AssertSqlSafe(postgres_select(t))).fetch(&mut **tx);
    let mut hasher = Sha256::new();
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await.map_err(db)? {
        hash_row(&mut hasher, t, &postgres_row(t, &row)?, key)?;
        n += 1;
    }
    Ok((n, hex::encode(hasher.finalize())))
}

/// One row's digest per column, for naming the first difference.
pub(crate) fn row_digest(
    t: &Table,
    values: &[Value],
    key: &dyn Decrypt,
) -> Result<Vec<[u8; 32]>, MigrateError> {
    t.columns
        .iter()
        .zip(values)
        .map(|(c, v)| {
            let mut h = Sha256::new();
            let one = Table {
                name: t.name.clone(),
                columns: vec![c.clone()],
                order: Vec::new(),
            };
            hash_row(&mut h, &one, std::slice::from_ref(v), key)?;
            Ok(h.finalize().into())
        })
        .collect()
}

/// The first source row whose values differ from the target's, named by its
/// primary key and column (never by its values: they may be personal data).
pub(crate) async fn first_difference(
    src: &SqliteStore,
    tx: &mut Transaction<'_, Postgres>,
    t: &Table,
    source_key: &dyn Decrypt,
    target_key: &Cipher,
) -> Result<Option<String>, MigrateError> {
    let mut ours = sqlx::query(AssertSqlSafe(sqlite_select(t))).fetch(src.pool());
    let mut theirs = sqlx::query(AssertSqlSafe(postgres_select(t))).fetch(&mut **tx);
    let mut i = 0usize;
    while let (Some(a), Some(b)) = (
        ours.try_next().await.map_err(db)?,
        theirs.try_next().await.map_err(db)?,
    ) {
        i += 1;
        let values = sqlite_row(t, &a)?;
        let mine = row_digest(t, &values, source_key)?;
        let other = row_digest(t, &postgres_row(t, &b)?, target_key)?;
        if let Some(col) = (0..mine.len()).find(|&c| mine[c] != other[c]) {
            let key: Vec<String> = t
                .order
                .iter()
                .filter_map(|k| {
                    let p = t.columns.iter().position(|c| &c.name == k)?;
                    match &values[p] {
                        Value::Text(s) if t.columns[p].pg_type != "text" => {
                            Some(format!("{k}={s}"))
                        }
                        _ => None,
                    }
                })
                .collect();
            return Ok(Some(format!(
                "row {i} ({}) differs in column {}",
                key.join(", "),
                t.columns[col].name
            )));
        }
    }
    Ok(None)
}
