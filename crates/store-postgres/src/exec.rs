//! The adapter's single query entry point ([`build`]): every shared statement comes
//! in PostgreSQL's own `$N` placeholders, so it is taken as written; its arguments
//! are bound (timestamps as text, lists as arrays) and its rows handed back as
//! [`Row`]s. The pool and a transaction run statements through it ([`Pool`],
//! [`Tx`]).

use async_trait::async_trait;
use roster_store::sql::{
    Arg, Columns, Executor, OnRow, Query, Transaction, corrupt, each_row, placeholders,
};
use roster_store::{Result, StoreError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Arguments, AssertSqlSafe, PgConnection, PgPool, Postgres, Row as _};

/// A sqlx error as a store error. Constraint violations are conflicts. Of a server
/// error only the primary message is kept: PostgreSQL puts the values of a violated
/// key in the detail, which is dropped.
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

/// Bind one argument (a list of integers as a `bigint[]`).
fn bind(args: &mut PgArguments, arg: Arg) -> Result<()> {
    let added = match arg {
        Arg::Int(v) => args.add(v),
        Arg::Text(v) => args.add(v),
        Arg::Bool(v) => args.add(v),
        Arg::Bytes(v) => args.add(v),
        Arg::Ints(v) => args.add(v),
        Arg::Texts(v) => args.add(v),
    };
    added.map_err(|_| StoreError::Database("cannot bind an argument".into()))
}

/// The query entry point: the statement with its arguments.
pub(crate) fn build(q: Query) -> Result<sqlx::query::Query<'static, Postgres, PgArguments>> {
    let (sql, args) = q.into_parts();
    debug_assert_eq!(placeholders::count(&sql), args.len(), "arguments of {sql}");
    let mut bound = PgArguments::default();
    for arg in args {
        bind(&mut bound, arg)?;
    }
    Ok(sqlx::query_with(AssertSqlSafe(sql.into_owned()), bound))
}

/// A row, read through [`Columns`].
pub struct Row(PgRow);

impl Row {
    fn get<'r, T>(&'r self, i: usize, what: &str) -> Result<T>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        self.0.try_get(i).map_err(|_| corrupt(what))
    }
}

impl Columns for Row {
    /// `bigint`, or `integer` (`outbox.attempts`).
    fn opt_int(&self, i: usize, what: &str) -> Result<Option<i64>> {
        match self.get::<Option<i64>>(i, what) {
            Ok(v) => Ok(v),
            Err(_) => Ok(self.get::<Option<i32>>(i, what)?.map(i64::from)),
        }
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

async fn fetch_all<'c>(e: impl sqlx::PgExecutor<'c>, q: Query) -> Result<Vec<Row>> {
    let rows = build(q)?.fetch_all(e).await.map_err(db)?;
    Ok(rows.into_iter().map(Row).collect())
}

async fn fetch_optional<'c>(e: impl sqlx::PgExecutor<'c>, q: Query) -> Result<Option<Row>> {
    Ok(build(q)?.fetch_optional(e).await.map_err(db)?.map(Row))
}

async fn execute<'c>(e: impl sqlx::PgExecutor<'c>, q: Query) -> Result<u64> {
    Ok(build(q)?.execute(e).await.map_err(db)?.rows_affected())
}

async fn for_each<'c, 'f>(
    e: impl sqlx::PgExecutor<'c>,
    q: Query,
    f: &'f mut OnRow<'f, Row>,
) -> Result<()> {
    each_row(build(q)?.fetch(e), Row, db, f).await
}

/// The pool: each statement on a connection of its own.
pub struct Pool(pub(crate) PgPool);

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
pub struct Tx(pub(crate) sqlx::Transaction<'static, Postgres>);

impl Tx {
    /// Its connection, for the statements only this adapter runs (the bulk write).
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
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

#[cfg(all(test, feature = "testing"))]
mod tests {
    use roster_store::sql::Adapter;

    use super::*;
    use crate::testing::TestDb;

    /// `$N` binds the N-th argument wherever it stands; a list is one array; an
    /// `integer` column reads as an integer.
    #[tokio::test]
    async fn arguments_bind_by_number_and_type() {
        let db = TestDb::create().await;
        let store = db.store().await;
        let mut pool = store.pool_executor();
        let row = pool
            .fetch_one(
                Query::new("SELECT $3, $1, $2, '$1', $1, 2 = ANY($4), CAST(7 AS INTEGER)")
                    .bind(1)
                    .bind("two")
                    .bind(true)
                    .bind(&[1_i64, 2][..]),
            )
            .await
            .unwrap();
        assert!(row.boolean(0, "a").unwrap());
        assert_eq!(row.int(1, "b").unwrap(), 1);
        assert_eq!(row.text(2, "c").unwrap(), "two");
        assert_eq!(row.text(3, "d").unwrap(), "$1");
        assert_eq!(row.int(4, "e").unwrap(), 1);
        assert!(row.boolean(5, "f").unwrap());
        assert_eq!(row.int(6, "g").unwrap(), 7);
        let err = row.int(2, "t.c").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(m) if m == "t.c is not valid"));
    }
}
