//! Copying a table: reading SQLite rows, re-encrypting secrets, inserting in batches,
//! and resetting identity sequences afterwards.

use futures::TryStreamExt;
use roster_engine::Cipher;
use roster_store_sqlite::SqliteStore;
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use crate::schema::{Column, Table, Value};
use crate::types::{Decrypt, ENCRYPTED, MigrateError, Progress, db};
use roster_store::sql::ident;

pub(crate) fn encrypted_key_column(table: &str, column: &str) -> Option<&'static str> {
    ENCRYPTED
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, k)| *k)
}

/// The SQLite query reading `t` in primary-key order, every value as text except
/// bytes.
pub(crate) fn sqlite_select(t: &Table) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            if c.is_bytes() {
                ident(&c.name)
            } else {
                format!("CAST({} AS TEXT)", ident(&c.name))
            }
        })
        .collect();
    // Qualified: a bare name in ORDER BY would mean the text output column.
    let order: Vec<String> = t
        .order
        .iter()
        .map(|c| format!("src.{}", ident(c)))
        .collect();
    format!(
        "SELECT {} FROM {} AS src ORDER BY {}",
        cols.join(", "),
        ident(&t.name),
        order.join(", ")
    )
}

/// One SQLite row as values, booleans as `0`/`1`.
pub(crate) fn sqlite_row(
    t: &Table,
    row: &sqlx::sqlite::SqliteRow,
) -> Result<Vec<Value>, MigrateError> {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(if c.is_bytes() {
                match row.try_get::<Option<Vec<u8>>, _>(i).map_err(db)? {
                    Some(b) => Value::Bytes(b),
                    None => Value::Null,
                }
            } else {
                match row.try_get::<Option<String>, _>(i).map_err(db)? {
                    Some(s) if c.is_bool() => Value::Text(
                        match s.as_str() {
                            "0" => "0",
                            _ => "1",
                        }
                        .into(),
                    ),
                    Some(s) => Value::Text(s),
                    None => Value::Null,
                }
            })
        })
        .collect()
}

/// Re-encrypt the encrypted columns of one row from the source's key to the target's.
pub(crate) fn reencrypt(
    t: &Table,
    values: &mut [Value],
    from: &dyn Decrypt,
    to: &Cipher,
) -> Result<(), MigrateError> {
    for (i, c) in t.columns.iter().enumerate() {
        let Some(key_col) = encrypted_key_column(&t.name, &c.name) else {
            continue;
        };
        if let Value::Bytes(b) = &values[i] {
            let plain = from
                .open(b)
                .ok_or_else(|| decrypt_error(t, c, key_col, values))?;
            values[i] = Value::Bytes(to.encrypt(&plain));
        }
    }
    Ok(())
}

pub(crate) fn decrypt_error(
    t: &Table,
    c: &Column,
    key_col: &str,
    values: &[Value],
) -> MigrateError {
    let key = t
        .columns
        .iter()
        .position(|k| k.name == key_col)
        .and_then(|i| match &values[i] {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "?".into());
    MigrateError::Decrypt {
        table: t.name.clone(),
        column: c.name.clone(),
        key,
    }
}

pub(crate) async fn copy_table(
    src: &SqliteStore,
    tx: &mut Transaction<'_, Postgres>,
    t: &Table,
    from: &dyn Decrypt,
    to: &Cipher,
    progress: Progress<'_>,
) -> Result<u64, MigrateError> {
    // PostgreSQL takes at most 65,535 parameters per statement.
    let per_batch = (30_000 / t.columns.len().max(1)).clamp(1, 1_000);
    let select = sqlite_select(t);
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(src.pool());
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_batch);
    let mut copied = 0u64;
    while let Some(row) = rows.try_next().await.map_err(db)? {
        let mut values = sqlite_row(t, &row)?;
        reencrypt(t, &mut values, from, to)?;
        batch.push(values);
        if batch.len() == per_batch {
            insert(tx, t, &batch).await?;
            copied += batch.len() as u64;
            batch.clear();
            progress(&t.name, copied);
        }
    }
    if !batch.is_empty() {
        insert(tx, t, &batch).await?;
        copied += batch.len() as u64;
    }
    progress(&t.name, copied);
    Ok(copied)
}

pub(crate) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    t: &Table,
    batch: &[Vec<Value>],
) -> Result<(), MigrateError> {
    let cols: Vec<String> = t.columns.iter().map(|c| ident(&c.name)).collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ",
        ident(&t.name),
        cols.join(", ")
    );
    let mut n = 0;
    for (r, _) in batch.iter().enumerate() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (i, c) in t.columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&format!("${n}::{}", c.pg_type));
        }
        sql.push(')');
    }
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for row in batch {
        for v in row {
            q = match v {
                Value::Null => q.bind(None::<String>),
                Value::Text(s) => q.bind(s.as_str()),
                Value::Bytes(b) => q.bind(b.as_slice()),
            };
        }
    }
    q.execute(&mut **tx)
        .await
        .map_err(|e| MigrateError::Database(format!("while copying table {}: {e}", t.name)))?;
    Ok(())
}

/// Identity and serial columns continue after the highest copied value.
pub(crate) async fn reset_identities(
    tx: &mut Transaction<'_, Postgres>,
    tables: &[Table],
) -> Result<(), MigrateError> {
    for t in tables {
        let cols: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
        )
        .bind(&t.name)
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?;
        for c in cols {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), \
                 COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, false)",
                col = ident(&c),
                table = ident(&t.name)
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(ident(&t.name))
                .bind(&c)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
    }
    Ok(())
}
