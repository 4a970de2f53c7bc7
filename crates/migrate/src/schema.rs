//! The target's catalogue (tables, columns, types, foreign-key order) and the
//! checks that source and target have the same schema.

use std::collections::{BTreeMap, BTreeSet};

use roster_store_postgres::PgStore;
use roster_store_sqlite::SqliteStore;

use crate::types::{INTERNAL, MigrateError, db};
use roster_store::sql::ident;

/// A column of the target, with the type its values are cast to.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: String,
    /// `information_schema.columns.data_type` of the target.
    pub(crate) pg_type: String,
}

impl Column {
    pub(crate) fn is_bytes(&self) -> bool {
        self.pg_type == "bytea"
    }
    pub(crate) fn is_bool(&self) -> bool {
        self.pg_type == "boolean"
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) columns: Vec<Column>,
    /// Primary-key columns (all columns when the table has none): the row order.
    pub(crate) order: Vec<String>,
}

/// One value, normalised the same way on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Text(String),
    Bytes(Vec<u8>),
}

pub(crate) async fn sqlite_version(src: &SqliteStore) -> Result<i64, MigrateError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(src.pool())
        .await
        .map_err(db)
}

pub(crate) async fn postgres_version(dst: &PgStore) -> Result<i64, MigrateError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(dst.pool())
        .await
        .map_err(db)
}

/// The target's tables in foreign-key order (referenced tables first), with their
/// columns and primary keys.
pub(crate) async fn target_tables(dst: &PgStore) -> Result<Vec<Table>, MigrateError> {
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
pub(crate) fn foreign_key_order(
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
pub(crate) async fn check_source_tables(
    src: &SqliteStore,
    tables: &[Table],
) -> Result<(), MigrateError> {
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
