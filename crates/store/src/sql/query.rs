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
}
