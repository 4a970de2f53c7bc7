//! The adapter's single query entry point ([`build`]): every shared statement is
//! rewritten from `$N` to SQLite's `?N` here (once per statement text, cached), its
//! arguments bound, and its rows handed back as [`Row`]s. The pool and a
//! transaction run statements through it ([`Pool`], [`Tx`]).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use roster_store::sql::{
    Arg, Columns, Executor, OnRow, Query, Transaction, corrupt, each_row, placeholders,
};
use roster_store::{Result, StoreError};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, Row as _, Sqlite, SqliteConnection, SqlitePool};

/// A sqlx error as a store error. Constraint violations are conflicts; SQLite's
/// messages name the constraint's columns, never the values.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() || d.is_foreign_key_violation() => {
            StoreError::Conflict(d.message().to_string())
        }
        sqlx::Error::Database(d) => StoreError::Database(d.message().to_string()),
        sqlx::Error::ColumnDecode { index, .. } => {
            StoreError::Corrupt(format!("column {index} cannot be decoded"))
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// Bind one argument. Encoding into SQLite's argument buffer does not fail for
/// these types, but a failure is reported rather than ignored. A list of integers
/// goes in as one JSON array (read with `json_each`).
pub(crate) fn bind(args: &mut SqliteArguments, arg: Arg) -> Result<()> {
    let added =
        match arg {
            Arg::Int(v) => args.add(v),
            Arg::Text(v) => args.add(v),
            Arg::Bool(v) => args.add(v),
            Arg::Bytes(v) => args.add(v),
            Arg::Ints(v) => args
                .add(serde_json::to_string(&v).map_err(|e| StoreError::Database(e.to_string()))?),
            Arg::Texts(v) => args
                .add(serde_json::to_string(&v).map_err(|e| StoreError::Database(e.to_string()))?),
        };
    added.map_err(|_| StoreError::Database("cannot bind an argument".into()))
}

/// Bind a value of any type SQLite encodes (the bulk write's shared timestamp).
pub(crate) fn add<'q, T>(args: &mut SqliteArguments, v: T) -> Result<()>
where
    T: sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>,
{
    args.add(v)
        .map_err(|_| StoreError::Database("cannot bind an argument".into()))
}

/// Rewritten statement texts, by their shared text. Bounded: statements are
/// written in the code (values are always bound), so there are a few dozen.
static REWRITTEN: LazyLock<Mutex<HashMap<String, Arc<str>>>> = LazyLock::new(Default::default);

/// `sql` with SQLite's placeholders ([`placeholders::sqlite`]), cached.
fn rewritten(sql: &str) -> Arc<str> {
    let mut cache = REWRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(done) = cache.get(sql) {
        return done.clone();
    }
    let done: Arc<str> = placeholders::sqlite(sql).into();
    cache.insert(sql.to_string(), done.clone());
    done
}

/// The query entry point: the statement in SQLite's spelling with its arguments.
pub(crate) fn build(q: Query) -> Result<sqlx::query::Query<'static, Sqlite, SqliteArguments>> {
    let (sql, args) = q.into_parts();
    debug_assert_eq!(placeholders::count(&sql), args.len(), "arguments of {sql}");
    let mut bound = SqliteArguments::default();
    for arg in args {
        bind(&mut bound, arg)?;
    }
    Ok(sqlx::query_with(AssertSqlSafe(rewritten(&sql)), bound))
}

/// A row, read through [`Columns`].
pub struct Row(SqliteRow);

impl Row {
    fn get<'r, T>(&'r self, i: usize, what: &str) -> Result<T>
    where
        T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
    {
        self.0.try_get(i).map_err(|_| corrupt(what))
    }
}

impl Columns for Row {
    fn opt_int(&self, i: usize, what: &str) -> Result<Option<i64>> {
        self.get(i, what)
    }

    fn opt_text(&self, i: usize, what: &str) -> Result<Option<&str>> {
        self.get(i, what)
    }

    fn boolean(&self, i: usize, what: &str) -> Result<bool> {
        self.get(i, what)
    }

    fn opt_bytes(&self, i: usize, what: &str) -> Result<Option<Vec<u8>>> {
        self.get(i, what)
    }
}

async fn fetch_all<'c>(e: impl sqlx::SqliteExecutor<'c>, q: Query) -> Result<Vec<Row>> {
    let rows = build(q)?.fetch_all(e).await.map_err(db)?;
    Ok(rows.into_iter().map(Row).collect())
}

async fn fetch_optional<'c>(e: impl sqlx::SqliteExecutor<'c>, q: Query) -> Result<Option<Row>> {
    Ok(build(q)?.fetch_optional(e).await.map_err(db)?.map(Row))
}

async fn execute<'c>(e: impl sqlx::SqliteExecutor<'c>, q: Query) -> Result<u64> {
    Ok(build(q)?.execute(e).await.map_err(db)?.rows_affected())
}

async fn for_each<'c, 'f>(
    e: impl sqlx::SqliteExecutor<'c>,
    q: Query,
    f: &'f mut OnRow<'f, Row>,
) -> Result<()> {
    each_row(build(q)?.fetch(e), Row, db, f).await
}

/// The pool: each statement on a connection of its own.
pub struct Pool(pub(crate) SqlitePool);

#[async_trait]
impl Executor for Pool {
    type Row = Row;

    async fn fetch_all(&mut self, q: Query) -> Result<Vec<Row>> {
        fetch_all(&self.0, q).await
    }

    async fn fetch_optional(&mut self, q: Query) -> Result<Option<Row>> {
        fetch_optional(&self.0, q).await
    }

    async fn execute(&mut self, q: Query) -> Result<u64> {
        execute(&self.0, q).await
    }

    async fn for_each<'f>(&mut self, q: Query, f: &'f mut OnRow<'f, Row>) -> Result<()> {
        for_each(&self.0, q, f).await
    }
}

/// A transaction.
pub struct Tx(pub(crate) sqlx::Transaction<'static, Sqlite>);

impl Tx {
    /// Its connection, for the statements only this adapter runs (the bulk write).
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}

#[async_trait]
impl Executor for Tx {
    type Row = Row;

    async fn fetch_all(&mut self, q: Query) -> Result<Vec<Row>> {
        fetch_all(&mut *self.0, q).await
    }

    async fn fetch_optional(&mut self, q: Query) -> Result<Option<Row>> {
        fetch_optional(&mut *self.0, q).await
    }

    async fn execute(&mut self, q: Query) -> Result<u64> {
        execute(&mut *self.0, q).await
    }

    async fn for_each<'f>(&mut self, q: Query, f: &'f mut OnRow<'f, Row>) -> Result<()> {
        for_each(&mut *self.0, q, f).await
    }
}

#[async_trait]
impl Transaction for Tx {
    async fn commit(self) -> Result<()> {
        self.0.commit().await.map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn memory() -> SqlitePool {
        SqlitePool::connect("sqlite::memory:").await.unwrap()
    }

    /// `$N` binds the N-th argument wherever it stands: SQLite would number a
    /// named `$3` by first appearance.
    #[tokio::test]
    async fn placeholders_bind_by_number_not_by_appearance() {
        let mut pool = Pool(memory().await);
        let row = pool
            .fetch_one(
                Query::new("SELECT $3, $1, $2, '$1', $1")
                    .bind(1)
                    .bind("two")
                    .bind(true),
            )
            .await
            .unwrap();
        assert!(row.boolean(0, "a").unwrap());
        assert_eq!(row.int(1, "b").unwrap(), 1);
        assert_eq!(row.text(2, "c").unwrap(), "two");
        assert_eq!(row.text(3, "d").unwrap(), "$1");
        assert_eq!(row.int(4, "e").unwrap(), 1);
    }

    #[tokio::test]
    async fn a_list_is_one_json_parameter() {
        let mut pool = Pool(memory().await);
        let rows = pool
            .fetch_all(
                Query::new("SELECT value FROM json_each($1) ORDER BY value").bind(&[3_i64, 1][..]),
            )
            .await
            .unwrap();
        let got: Vec<i64> = rows.iter().map(|r| r.int(0, "v").unwrap()).collect();
        assert_eq!(got, [1, 3]);
    }

    #[test]
    fn a_statement_is_rewritten_once() {
        let a = rewritten("SELECT $1 -- exec test");
        let b = rewritten("SELECT $1 -- exec test");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "SELECT ?1 -- exec test");
    }

    #[tokio::test]
    async fn a_wrong_type_is_corrupt_and_names_the_column() {
        let mut pool = Pool(memory().await);
        let row = pool.fetch_one(Query::new("SELECT 'x'")).await.unwrap();
        let err = row.int(0, "t.c").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(m) if m == "t.c is not valid"));
    }
}
