//! A statement with its arguments ([`Query`]), and the traits an adapter implements
//! to run one ([`Executor`], [`Transaction`]) and to read its rows ([`Columns`]).

use std::borrow::Cow;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::de::DeserializeOwned;

use super::codec::{corrupt, from_json, parse_ts, ts};
use crate::{Result, StoreError};

/// One argument, as the adapters bind it. Timestamps are text ([`ts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Bytes(Option<Vec<u8>>),
    /// A list of integers, for [`Dialect::key_in`](super::Dialect::key_in):
    /// PostgreSQL binds an array, SQLite a JSON array.
    Ints(Vec<i64>),
    /// A list of texts, likewise.
    Texts(Vec<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_string))
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}

impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(Some(v.to_vec()))
    }
}

impl From<Option<Vec<u8>>> for Arg {
    fn from(v: Option<Vec<u8>>) -> Self {
        Arg::Bytes(v)
    }
}

impl From<Option<&[u8]>> for Arg {
    fn from(v: Option<&[u8]>) -> Self {
        Arg::Bytes(v.map(<[u8]>::to_vec))
    }
}

impl From<Timestamp> for Arg {
    fn from(v: Timestamp) -> Self {
        Arg::Text(Some(ts(v)))
    }
}

impl From<Option<Timestamp>> for Arg {
    fn from(v: Option<Timestamp>) -> Self {
        Arg::Text(v.map(ts))
    }
}

impl From<&[i64]> for Arg {
    fn from(v: &[i64]) -> Self {
        Arg::Ints(v.to_vec())
    }
}

impl From<&[String]> for Arg {
    fn from(v: &[String]) -> Self {
        Arg::Texts(v.to_vec())
    }
}

/// A statement (`$1`, `$2` … placeholders) and its arguments, in placeholder order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

impl Query {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Query {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// The next argument (`$1` first).
    pub fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    pub fn into_parts(self) -> (Cow<'static, str>, Vec<Arg>) {
        (self.sql, self.args)
    }
}

/// Column access on an adapter's row. `what` names the column (`table.column`) in
/// the error: a cell that does not decode is [`StoreError::Corrupt`], and the error
/// never quotes its value.
pub trait Columns {
    /// An integer column (either width).
    fn opt_int(&self, i: usize, what: &str) -> Result<Option<i64>>;
    fn opt_text(&self, i: usize, what: &str) -> Result<Option<&str>>;
    fn boolean(&self, i: usize, what: &str) -> Result<bool>;
    fn opt_bytes(&self, i: usize, what: &str) -> Result<Option<Vec<u8>>>;

    fn int(&self, i: usize, what: &str) -> Result<i64> {
        self.opt_int(i, what)?.ok_or_else(|| corrupt(what))
    }

    fn text(&self, i: usize, what: &str) -> Result<&str> {
        self.opt_text(i, what)?.ok_or_else(|| corrupt(what))
    }

    fn string(&self, i: usize, what: &str) -> Result<String> {
        self.text(i, what).map(str::to_string)
    }

    fn opt_string(&self, i: usize, what: &str) -> Result<Option<String>> {
        Ok(self.opt_text(i, what)?.map(str::to_string))
    }

    fn bytes(&self, i: usize, what: &str) -> Result<Vec<u8>> {
        self.opt_bytes(i, what)?.ok_or_else(|| corrupt(what))
    }

    /// A timestamp stored as [`ts`] text.
    fn ts(&self, i: usize, what: &str) -> Result<Timestamp> {
        parse_ts(self.text(i, what)?, what)
    }

    fn opt_ts(&self, i: usize, what: &str) -> Result<Option<Timestamp>> {
        self.opt_text(i, what)?
            .map(|s| parse_ts(s, what))
            .transpose()
    }

    /// A JSON text column.
    fn json<T: DeserializeOwned>(&self, i: usize, what: &str) -> Result<T>
    where
        Self: Sized,
    {
        from_json(self.text(i, what)?, what)
    }
}

/// What [`Executor::for_each`] hands each row to.
pub type OnRow<'f, R> = dyn for<'r> FnMut(&'r R) -> Result<()> + Send + 'f;

/// An adapter's [`Executor::for_each`] over its driver's row stream: each row to `f`,
/// with the runtime's other tasks given their turn now and then.
///
/// A driver's stream hands over rows it already holds without ever waiting, so a long
/// read (a 100k directory: ≈ 0.4–0.9 s of decoding) would hold its worker thread
/// throughout; a task the runtime queued behind it on that thread (tokio does not
/// let another thread take the task queued last) waited as long. In a daily full
/// sync that was the HTTP connection of the member pages read meanwhile: its chain
/// stood still 0.1–0.9 s in most runs (issue #15, docs/benchmarks.md, session 19).
/// Each row spends a unit of tokio's cooperative budget, so the read yields after
/// the budget's rows (128) and goes on after the tasks queued behind it.
pub async fn each_row<T, E, R>(
    rows: impl futures::Stream<Item = std::result::Result<T, E>>,
    wrap: impl Fn(T) -> R,
    error: impl Fn(E) -> StoreError,
    f: &mut OnRow<'_, R>,
) -> Result<()> {
    use futures::TryStreamExt;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.try_next().await.map_err(&error)? {
        f(&wrap(row))?;
        tokio::task::coop::consume_budget().await;
    }
    Ok(())
}

/// Runs statements: an adapter's pool (each statement on a connection of its own)
/// or one of its transactions. The adapter binds the [`Query`]'s arguments in order
/// and maps its driver's errors to [`StoreError`].
#[async_trait]
pub trait Executor: Send {
    type Row: Columns + Send + Sync;

    async fn fetch_all(&mut self, q: Query) -> Result<Vec<Self::Row>>;
    async fn fetch_optional(&mut self, q: Query) -> Result<Option<Self::Row>>;
    /// Rows affected.
    async fn execute(&mut self, q: Query) -> Result<u64>;
    /// Hand each row to `f` as it arrives (a long result is never held whole).
    async fn for_each<'f>(&mut self, q: Query, f: &'f mut OnRow<'f, Self::Row>) -> Result<()>;

    /// The one row a statement returns (`INSERT … RETURNING`).
    async fn fetch_one(&mut self, q: Query) -> Result<Self::Row> {
        self.fetch_optional(q)
            .await?
            .ok_or_else(|| StoreError::Database("the statement returned no row".into()))
    }
}

/// A transaction: dropped without [`Transaction::commit`], it rolls back.
#[async_trait]
pub trait Transaction: Executor + Sized {
    async fn commit(self) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_keep_their_order_and_timestamps_are_text() {
        let t = Timestamp::new(1_772_000_000, 5).unwrap();
        let q = Query::new("SELECT $1, $2, $3, $4")
            .bind(7)
            .bind("x")
            .bind(Some(t))
            .bind(None::<i64>);
        assert_eq!(
            q.args(),
            &[
                Arg::Int(Some(7)),
                Arg::Text(Some("x".into())),
                Arg::Text(Some(ts(t))),
                Arg::Int(None),
            ]
        );
    }

    /// A read of rows that are all ready at once lets a task queued behind it run
    /// within the cooperative budget's rows, not after the last row (the member pages'
    /// HTTP connection behind the directory's read; [`each_row`]).
    #[tokio::test(flavor = "current_thread")]
    async fn a_long_read_gives_the_tasks_behind_it_a_turn() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        let ran = Arc::new(AtomicBool::new(false));
        let other = tokio::spawn({
            let ran = ran.clone();
            async move { ran.store(true, SeqCst) }
        });
        let rows = futures::stream::iter((0..10_000_i64).map(Ok::<i64, StoreError>));
        let (mut read, mut first_seen) = (0, None);
        each_row(rows, |r| r, |e| e, &mut |_: &i64| {
            read += 1;
            if first_seen.is_none() && ran.load(SeqCst) {
                first_seen = Some(read);
            }
            Ok(())
        })
        .await
        .unwrap();
        other.await.unwrap();
        assert_eq!(read, 10_000);
        let at = first_seen.expect("the other task ran only after the last row");
        // The budget is 128 units a turn (tokio's; the spawn and the test's own
        // polls take a few of them): the other task runs well before 10,000 rows.
        assert!(at <= 256, "the other task ran after {at} rows");
    }

    /// A row's error ends the read with it; a driver's error is mapped.
    #[tokio::test]
    async fn each_row_stops_at_the_first_error() {
        let rows = futures::stream::iter(vec![Ok(1_i64), Err("gone"), Ok(3)]);
        let mut seen = Vec::new();
        let err = each_row(
            rows,
            |r| r,
            |e: &str| StoreError::Database(e.into()),
            &mut |r: &i64| {
                seen.push(*r);
                Ok(())
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Database(m) if m == "gone"));
        assert_eq!(seen, [1]);
        let rows = futures::stream::iter((1..=3_i64).map(Ok::<i64, StoreError>));
        let mut seen = Vec::new();
        let err = each_row(rows, |r| r, |e| e, &mut |r: &i64| {
            seen.push(*r);
            if *r == 2 {
                Err(StoreError::Corrupt("two".into()))
            } else {
                Ok(())
            }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(m) if m == "two"));
        assert_eq!(seen, [1, 2]);
    }
}
