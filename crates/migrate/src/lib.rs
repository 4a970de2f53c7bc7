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

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use roster_engine::Cipher;
use roster_store_postgres::PgStore;
use roster_store_sqlite::SqliteStore;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

/// Something that decrypts a secret: one key, or the first of several that fits.
pub trait Decrypt: Sync {
    fn open(&self, data: &[u8]) -> Option<Vec<u8>>;
}

impl Decrypt for Cipher {
    fn open(&self, data: &[u8]) -> Option<Vec<u8>> {
        self.decrypt(data).ok()
    }
}

struct Keys<'a>(&'a [Cipher]);

impl Decrypt for Keys<'_> {
    fn open(&self, data: &[u8]) -> Option<Vec<u8>> {
        self.0.iter().find_map(|k| k.decrypt(data).ok())
    }
}

/// Columns holding data encrypted with the database's credentials key, as
/// (table, column, key column for messages).
pub const ENCRYPTED: &[(&str, &str, &str)] = &[
    ("integrations", "credentials", "id"),
    ("notification_channels", "secret", "id"),
    // The key check value (a constant encrypted with the key): re-encrypted, it
    // checks the target's key.
    ("key_check", "value", "id"),
];

/// Tables whose rows are not copied: they only mean something while a process runs
/// (a sync's lock, an OAuth consent in flight).
pub const TRANSIENT: &[&str] = &["sync_locks", "oauth_states"];

/// Bookkeeping tables of the migration tool itself, never copied.
const INTERNAL: &[&str] = &["_sqlx_migrations"];

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("while opening the source: {0}")]
    Source(roster_store::StoreError),
    #[error("while opening the target: {0}")]
    Target(roster_store::StoreError),
    #[error(
        "the schemas differ: the source is at version {source_version}, the target at {target_version}"
    )]
    Versions {
        source_version: i64,
        target_version: i64,
    },
    #[error("the schemas differ: {0}")]
    Schema(String),
    #[error(
        "the target already holds data (table {table} has {rows} rows); moving house needs an empty, freshly migrated database"
    )]
    NotEmpty { table: String, rows: i64 },
    #[error(
        "{table} {key}: the {column} do not decrypt with the source's key (the key file beside the SQLite database, or ROSTER_SECRET_KEY if it was set when the source was written)"
    )]
    Decrypt {
        table: String,
        column: String,
        key: String,
    },
    #[error("verification failed for table {table}: {what}; nothing was committed to the target")]
    Verify { table: String, what: String },
    #[error("database error: {0}")]
    Database(String),
}

fn db(e: sqlx::Error) -> MigrateError {
    MigrateError::Database(e.to_string())
}

/// What was copied, per table, in copy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    /// SHA-256 over the table's rows in primary-key order, each value normalised
    /// (encrypted columns by their plaintext); equal on both sides.
    pub checksum: String,
    /// Rows left behind on purpose ([`TRANSIENT`]).
    pub skipped: bool,
}

/// Progress, per table, for a progress line.
pub type Progress<'a> = &'a (dyn Fn(&str, u64) + Sync);

/// A column of the target, with the type its values are cast to.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    /// `information_schema.columns.data_type` of the target.
    pg_type: String,
}

impl Column {
    fn is_bytes(&self) -> bool {
        self.pg_type == "bytea"
    }
    fn is_bool(&self) -> bool {
        self.pg_type == "boolean"
    }
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    /// Primary-key columns (all columns when the table has none): the row order.
    order: Vec<String>,
}

/// One value, normalised the same way on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Null,
    Text(String),
    Bytes(Vec<u8>),
}

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
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn sqlite_version(src: &SqliteStore) -> Result<i64, MigrateError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(src.pool())
        .await
        .map_err(db)
}

async fn postgres_version(dst: &PgStore) -> Result<i64, MigrateError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(dst.pool())
        .await
        .map_err(db)
}

/// The target's tables in foreign-key order (referenced tables first), with their
/// columns and primary keys.
async fn target_tables(dst: &PgStore) -> Result<Vec<Table>, MigrateError> {
    let pool = dst.pool();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
         ORDER BY table_name",
    )
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| !INTERNAL.contains(&n.as_str()))
        .collect();
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT c.conrelid::regclass::text, c.confrelid::regclass::text
         FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE c.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let order = foreign_key_order(&names, &edges)?;
    let mut tables = Vec::new();
    for name in order {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .map_err(db)?;
        let columns: Vec<Column> = columns
            .into_iter()
            .map(|(name, pg_type)| Column { name, pg_type })
            .collect();
        for c in &columns {
            if !matches!(
                c.pg_type.as_str(),
                "bigint" | "integer" | "smallint" | "text" | "boolean" | "bytea"
            ) {
                return Err(MigrateError::Schema(format!(
                    "column {}.{} has type {}, which moving house does not know",
                    name, c.name, c.pg_type
                )));
            }
        }
        let mut order: Vec<String> = sqlx::query_scalar(
            "SELECT a.attname::text
             FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = to_regclass($1) AND i.indisprimary
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
        )
        .bind(ident(&name))
        .fetch_all(pool)
        .await
        .map_err(db)?;
        if order.is_empty() {
            order = columns.iter().map(|c| c.name.clone()).collect();
        }
        tables.push(Table {
            name,
            columns,
            order,
        });
    }
    Ok(tables)
}

/// Tables ordered so that every table comes after the tables it references
/// (self-references aside). Ties keep name order, so the order is stable.
fn foreign_key_order(
    names: &[String],
    edges: &[(String, String)],
) -> Result<Vec<String>, MigrateError> {
    let unquote = |s: &str| s.trim_matches('"').to_string();
    let mut needs: BTreeMap<String, BTreeSet<String>> =
        names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    for (from, to) in edges {
        let (from, to) = (unquote(from), unquote(to));
        if from != to
            && needs.contains_key(&to)
            && let Some(set) = needs.get_mut(&from)
        {
            set.insert(to);
        }
    }
    let mut done: Vec<String> = Vec::new();
    while done.len() < needs.len() {
        let next = needs
            .iter()
            .find(|(n, deps)| !done.contains(n) && deps.iter().all(|d| done.contains(d)))
            .map(|(n, _)| n.clone());
        match next {
            Some(n) => done.push(n),
            None => {
                return Err(MigrateError::Schema(
                    "the target's foreign keys form a cycle".into(),
                ));
            }
        }
    }
    Ok(done)
}

/// Every target table and column exists in the source and the other way round:
/// nothing would be lost or left empty.
async fn check_source_tables(src: &SqliteStore, tables: &[Table]) -> Result<(), MigrateError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(src.pool())
    .await
    .map_err(db)?;
    let source: BTreeSet<String> = names
        .into_iter()
        .filter(|n| !INTERNAL.contains(&n.as_str()))
        .collect();
    let target: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    if let Some(t) = source.difference(&target).next() {
        return Err(MigrateError::Schema(format!(
            "table {t} exists in the source but not in the target"
        )));
    }
    if let Some(t) = target.difference(&source).next() {
        return Err(MigrateError::Schema(format!(
            "table {t} exists in the target but not in the source"
        )));
    }
    for t in tables {
        let cols: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                .bind(&t.name)
                .fetch_all(src.pool())
                .await
                .map_err(db)?;
        let source: BTreeSet<&str> = cols.iter().map(String::as_str).collect();
        let target: BTreeSet<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        if let Some(c) = source.difference(&target).next() {
            return Err(MigrateError::Schema(format!(
                "column {}.{c} exists in the source but not in the target",
                t.name
            )));
        }
        if let Some(c) = target.difference(&source).next() {
            return Err(MigrateError::Schema(format!(
                "column {}.{c} exists in the target but not in the source",
                t.name
            )));
        }
    }
    Ok(())
}

fn encrypted_key_column(table: &str, column: &str) -> Option<&'static str> {
    ENCRYPTED
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, k)| *k)
}

/// The SQLite query reading `t` in primary-key order, every value as text except
/// bytes.
fn sqlite_select(t: &Table) -> String {
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
fn sqlite_row(t: &Table, row: &sqlx::sqlite::SqliteRow) -> Result<Vec<Value>, MigrateError> {
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
fn reencrypt(
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

fn decrypt_error(t: &Table, c: &Column, key_col: &str, values: &[Value]) -> MigrateError {
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

async fn copy_table(
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

async fn insert(
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

/// Feed one row into a checksum: encrypted columns by their plaintext.
fn hash_row(
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

async fn sqlite_checksum(
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
fn postgres_select(t: &Table) -> String {
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

fn postgres_row(t: &Table, row: &sqlx::postgres::PgRow) -> Result<Vec<Value>, MigrateError> {
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

async fn postgres_checksum(
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
fn row_digest(
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
async fn first_difference(
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

/// Identity and serial columns continue after the highest copied value.
async fn reset_identities(
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

#[cfg(test)]
mod tests {
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

    #[test]
    fn names_are_quoted() {
        assert_eq!(ident("employees"), "\"employees\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }
}
