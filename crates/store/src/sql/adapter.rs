//! What an SQL adapter provides: its executors, and the operations that truly differ
//! between the engines.

use async_trait::async_trait;
use jiff::Timestamp;

use super::dialect::Dialect;
use super::query::{Columns, Executor, Transaction};
use crate::jobs::{Job, PendingMessage};
use crate::{AccountId, Changeset, Fence, ImportId, Result};

/// What a transaction is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// It writes: SQLite takes the write lock at once (`BEGIN IMMEDIATE`, so that the
    /// transaction never fails to upgrade from reading to writing).
    Write,
    /// It only reads, and its statements see one snapshot.
    Snapshot,
}

/// An SQL adapter. Every `Adapter` is a [`Store`](crate::Store): the shared
/// statements run on [`Adapter::pool_executor`] and [`Adapter::begin`]; the methods below are
/// what each engine does its own way.
#[async_trait]
pub trait Adapter: Send + Sync {
    type Row: Columns + Send + Sync;
    /// The pool, as an executor (each statement on a connection of its own).
    type Pool: Executor<Row = Self::Row>;
    type Tx: Transaction<Row = Self::Row>;

    const DIALECT: Dialect;

    fn pool_executor(&self) -> Self::Pool;
    async fn begin(&self, mode: Begin) -> Result<Self::Tx>;

    /// [`Store::write`](crate::Store::write) (with the fence, if any, of
    /// [`Store::write_fenced`](crate::Store::write_fenced)): the bulk statements
    /// differ; the steps around them are [`super::write`]'s.
    async fn write_changeset(
        &self,
        account: AccountId,
        changeset: Changeset,
        fence: Option<&Fence>,
    ) -> Result<ImportId>;

    /// [`JobStore::claim_jobs`](crate::JobStore::claim_jobs): one statement on
    /// SQLite's single writer, `FOR UPDATE SKIP LOCKED` on PostgreSQL.
    async fn claim_due_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Job>>;

    /// [`JobStore::claim_outbox`](crate::JobStore::claim_outbox), likewise.
    async fn claim_due_messages(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingMessage>>;

    /// [`Store::close`](crate::Store::close).
    async fn close_store(&self) -> Result<()>;

    /// After [`Store::anonymise`](crate::Store::anonymise) committed: what it takes
    /// for the erased values to leave the files (SQLite: checkpoint the write-ahead
    /// log into the database, truncating it). Nothing by default (PostgreSQL: see
    /// the `erasure` module's notes on VACUUM).
    async fn after_erasure(&self) -> Result<()> {
        Ok(())
    }
}
