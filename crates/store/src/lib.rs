#![forbid(unsafe_code)]
//! The `Store` port: where the directory, integrations, imports and their history
//! live. Every adapter (SQLite and PostgreSQL) passes the same contract suite in
//! `contract` (feature `contract`). The SQL both adapters run is in [`sql`].
//!
//! Every table is scoped by account. All writes to the directory go through
//! [`Store::write`], one transaction per [`Changeset`]: a changeset is applied whole
//! or not at all.

pub mod access;
#[cfg(feature = "contract")]
pub mod contract;
pub mod erasure;
pub mod feed;
pub mod integration;
pub mod jobs;
pub mod privacy;
pub mod record;
pub mod selection;
pub mod sql;

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::guard::Trigger;
use roster_core::plan::Lookups;
use roster_core::rollback::RecordedChange;

pub use access::AccessStore;
pub use erasure::{Anonymisation, Anonymised, AnonymisedEmployee, Erasure, ToAnonymise};
pub use feed::{EventQuery, FeedDone, FeedSubscription, NewFeedSubscription};
pub use integration::{
    Fence, Integration, IntegrationKind, IntegrationState, IntegrationUpdate, NewIntegration,
    SyncLockInfo,
};
pub use jobs::JobStore;
pub use record::{
    Changeset, EntryRecord, HistoryEntry, ImportRecord, ImportStatus, ImportSummary, Notification,
    OutboxMessage,
};
pub use roster_core::feed::{Cursor, Event as FeedEvent, EventType};
pub use selection::{Dated, DemographicMember, EmployeeFilter, EmployeeQuery, KeyPage, TimeBound};

pub type AccountId = i64;
pub type IntegrationId = i64;
pub use roster_core::import::ImportId;

/// A directory row's email and what tells whether it is its member's work email
/// ([`Store::source_emails`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceEmail {
    pub source_id: String,
    /// Empty when the row has none.
    pub email: String,
    /// An admin edited the email in Roster.
    pub email_edited: bool,
    /// The row keeps a secondary email beside it.
    pub secondary_email: bool,
    /// The row is merged into another employee.
    pub merged: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a sync of integration {0} is already running")]
    SyncRunning(IntegrationId),
    /// The write was fenced off: the sync lock it ran under (or its job's lease) was
    /// taken over meanwhile, so nothing was written.
    #[error("{0}: nothing was applied")]
    Fenced(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(
        "the database schema is version {found}, newer than this roster ({supported}); upgrade roster"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What kind of run produced an import (defined in core: the change feed names it).
pub use roster_core::import::ImportKind;

/// The store; its supertraits: [`JobStore`] (jobs, delivery), [`AccessStore`] (access
/// control, the server's state) and [`PrivacyStore`] (a person's record, holds).
#[async_trait]
pub trait Store: JobStore + AccessStore + privacy::PrivacyStore + Send + Sync {
    /// The account with this name, created if missing.
    async fn ensure_account(&self, name: &str) -> Result<AccountId>;
    /// Every account, `(id, name)` by id.
    async fn accounts(&self) -> Result<Vec<(AccountId, String)>>;

    async fn create_integration(&self, new: NewIntegration) -> Result<Integration>;
    async fn integration(
        &self,
        account: AccountId,
        id: IntegrationId,
    ) -> Result<Option<Integration>>;
    async fn integrations(&self, account: AccountId) -> Result<Vec<Integration>>;
    /// Overwrite an integration's mutable columns (name, state, settings, config,
    /// credentials, source fields, company, counts, marks).
    async fn save_integration(&self, integration: &Integration) -> Result<()>;
    /// Remove credentials, mapping, settings and schedule; keep directory and imports.
    async fn delete_integration(&self, account: AccountId, id: IntegrationId) -> Result<bool>;

    /// The whole directory of an account (every employee, deactivated included), in
    /// key order.
    async fn directory(&self, account: AccountId) -> Result<Vec<Employee>>;
    /// The whole directory in outline ([`Employee::outline`]), in key order: what an
    /// incremental sync plans over, loading full rows only where it must.
    async fn directory_outline(&self, account: AccountId) -> Result<Vec<Employee>> {
        Ok(self
            .directory(account)
            .await?
            .iter()
            .map(Employee::outline)
            .collect())
    }
    /// Full rows of these keys, in key order; unknown keys are left out.
    async fn employees_by_key(
        &self,
        account: AccountId,
        keys: &[EmployeeKey],
    ) -> Result<Vec<Employee>> {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(e) = self.employee(account, k).await? {
                out.push(e);
            }
        }
        Ok(out)
    }
    async fn employee(&self, account: AccountId, key: EmployeeKey) -> Result<Option<Employee>>;
    /// By employee ID, or by email (case-insensitive).
    async fn find_employee(
        &self,
        account: AccountId,
        id_or_email: &str,
    ) -> Result<Option<Employee>>;
    /// Employees matching `query`, in key order.
    async fn employees(&self, account: AccountId, query: &EmployeeQuery) -> Result<Vec<Employee>>;
    /// The account's employees, or its active ones only: that count is kept as the
    /// rows change (the SQL stores: migration 0015), so reading it costs the same at
    /// any size (the mass-change guard of every sync reads it).
    async fn count_employees(&self, account: AccountId, active_only: bool) -> Result<u64>;
    /// The employees `filter` selects, in key order, the part `page` names, with
    /// their times (each condition is an index lookup: see [`EmployeeFilter`]).
    async fn select_employees(
        &self,
        account: AccountId,
        filter: &EmployeeFilter,
        page: KeyPage,
    ) -> Result<Vec<Dated>>;
    /// How many employees `filter` selects.
    async fn count_selected(&self, account: AccountId, filter: &EmployeeFilter) -> Result<u64>;
    /// Every active, unmerged employee holding a (non-empty) value of one of these
    /// demographics, once per demographic it holds, in key order: the members of
    /// groups by value, without loading whole records.
    async fn demographic_members(
        &self,
        account: AccountId,
        demographics: &[String],
    ) -> Result<Vec<DemographicMember>>;

    /// Full rows with any of these employee IDs, source ids, email keys or birth
    /// dates, each once, in key order: a round of the look-ups an incremental sync
    /// plans over (`roster_core::plan::Part`).
    async fn employees_matching(
        &self,
        account: AccountId,
        lookups: &Lookups,
    ) -> Result<Vec<Employee>>;
    /// What the rows with these source ids hold of their email, each row once, in
    /// key order: an incremental fetch resolves managers outside it from them instead
    /// of asking the source (`roster_engine`'s known managers), and reads no more of
    /// each row than that.
    async fn source_emails(
        &self,
        account: AccountId,
        source_ids: &[String],
    ) -> Result<Vec<SourceEmail>>;
    /// Per manager email key (`roster_core::normalise::email_key`), the number of
    /// active employees naming it as manager; keys nobody names are left out.
    async fn active_report_counts(
        &self,
        account: AccountId,
        manager_keys: &[String],
    ) -> Result<Vec<(String, u64)>>;
    /// The employee IDs starting with `prefix` (generated IDs continue after them).
    async fn employee_ids_with_prefix(
        &self,
        account: AccountId,
        prefix: &str,
    ) -> Result<Vec<String>>;
    /// The demographic names of the account's first `rows` employees by key.
    async fn demographic_names(&self, account: AccountId, rows: usize) -> Result<BTreeSet<String>>;
    /// Key the manager emails of rows written before their key was stored, where
    /// the migration could not (non-ASCII); the number of rows keyed.
    async fn key_manager_emails(&self, account: AccountId) -> Result<u64>;

    /// Take the sync lock of an integration for `holder` until `until`, and return
    /// its generation (the fencing token for [`Store::write_fenced`]). A live lock
    /// held by someone else is `StoreError::SyncRunning`; an expired one is taken
    /// over. Every take raises the generation; the same holder calling again renews
    /// its lease and keeps it.
    async fn lock_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        until: Timestamp,
    ) -> Result<i64>;
    /// Extend the lease of a lock still held by `holder` at `generation` (expired or
    /// not, as long as no one took it over). `false`: it was taken over or released.
    async fn renew_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        generation: i64,
        until: Timestamp,
    ) -> Result<bool>;
    /// Release the lock if `holder` holds it (a no-op otherwise).
    async fn unlock_sync(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
    ) -> Result<()>;
    /// The lock's holder, generation and lease, if anyone holds it (expired or not).
    async fn sync_lock(
        &self,
        account: AccountId,
        integration: IntegrationId,
    ) -> Result<Option<SyncLockInfo>>;
    /// Release a lock whose holder is gone, whatever its lease: only if it is still
    /// held by `holder` at `generation` (so a lock taken meanwhile stays). `true` if
    /// it was released. The old holder's fenced writes fail from then on.
    async fn break_sync_lock(
        &self,
        account: AccountId,
        integration: IntegrationId,
        holder: &str,
        generation: i64,
    ) -> Result<bool>;

    /// Record an import and apply its applied entries, in one transaction. Returns
    /// the import id. Entries with `key: None` and `applied` are created and get keys.
    async fn write(&self, account: AccountId, changeset: Changeset) -> Result<ImportId>;
    /// [`Store::write`] under a sync lock: in the same transaction, and before it
    /// writes anything, the [`Fence`] is checked (and the lock row held until commit,
    /// so no one takes the lock over in between); a fence that no longer holds is
    /// `StoreError::Fenced` and nothing is written.
    async fn write_fenced(
        &self,
        account: AccountId,
        changeset: Changeset,
        fence: &Fence,
    ) -> Result<ImportId>;

    async fn imports(&self, account: AccountId, limit: usize) -> Result<Vec<ImportSummary>>;
    /// An import with its entries. Applied entries carry `after` as the employee is
    /// now in the directory; entries not applied carry `after` as recorded.
    async fn import(&self, account: AccountId, id: ImportId) -> Result<Option<ImportRecord>>;
    /// An import's summary and recorded details, without its entries (a page that
    /// shows the outcome of a big sync reads no entry).
    async fn import_head(
        &self,
        account: AccountId,
        id: ImportId,
    ) -> Result<Option<(ImportSummary, serde_json::Value)>>;
    /// The field changes an applied import made, for rollback (creates flagged).
    async fn import_changes(&self, account: AccountId, id: ImportId)
    -> Result<Vec<RecordedChange>>;
    /// Newest first: the employee's own applied entries, and those of every record
    /// merged into it (transitively), marked with [`HistoryEntry::merged_from`].
    async fn employee_history(
        &self,
        account: AccountId,
        key: EmployeeKey,
    ) -> Result<Vec<HistoryEntry>>;

    /// The change feed: events as `query` selects them, in cursor order. Every
    /// applied import's events are written in its transaction (`sql::feed`).
    async fn events(&self, account: AccountId, query: &EventQuery) -> Result<Vec<FeedEvent>>;
    /// Every event from the first one of an import that finished after `since`, to
    /// the last, in cursor order: what to undo on today's directory to get the
    /// directory as it stood at `since` ([`roster_core::feed::rewind`]).
    async fn events_since(&self, account: AccountId, since: Timestamp) -> Result<Vec<FeedEvent>>;
    /// The events the recorded history and today's directory give
    /// ([`roster_core::feed::events_from_history`]), numbered from 1: what
    /// [`Store::events`] must hold (the contract suite compares them).
    async fn events_from_history(&self, account: AccountId) -> Result<Vec<FeedEvent>>;

    /// Subscribe a channel of the account to the change feed, from after its last
    /// event (`NotFound`: no such channel).
    async fn subscribe_feed(
        &self,
        account: AccountId,
        sub: NewFeedSubscription,
    ) -> Result<FeedSubscription>;
    /// The account's feed subscriptions, by channel.
    async fn feed_subscriptions(&self, account: AccountId) -> Result<Vec<FeedSubscription>>;
    /// Fleet-wide: lease up to `limit` subscriptions of enabled channels that are
    /// due (no back-off pending) and not leased, to `worker` until `lease_until`.
    async fn claim_feed(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<FeedSubscription>>;
    /// Record the batch being delivered (its last event) and extend the lease;
    /// `false` when `worker` no longer holds the subscription.
    async fn start_feed_batch(
        &self,
        account: AccountId,
        channel: jobs::ChannelId,
        worker: &str,
        until: Cursor,
        lease_until: Timestamp,
    ) -> Result<bool>;
    /// The receiver accepted the batch up to `until`: the cursor moves there, the
    /// batch and back-off are cleared, the lease stays. `false` when `worker` no
    /// longer holds the subscription (nothing changed).
    async fn accept_feed_batch(
        &self,
        account: AccountId,
        channel: jobs::ChannelId,
        worker: &str,
        until: Cursor,
        at: Timestamp,
    ) -> Result<bool>;
    /// End a delivery: back off (retry) or not (idle); the lease is released.
    /// `false` when `worker` no longer holds it.
    async fn finish_feed(
        &self,
        account: AccountId,
        channel: jobs::ChannelId,
        worker: &str,
        done: FeedDone,
    ) -> Result<bool>;

    /// Undelivered messages, oldest first.
    async fn outbox(&self, account: AccountId, limit: usize) -> Result<Vec<OutboxMessage>>;
    async fn mark_delivered(&self, account: AccountId, id: i64, at: Timestamp) -> Result<()>;

    /// The end of a process's use of the store: everything written is made durable in
    /// the database itself, then the connections close (calls afterwards fail). SQLite
    /// checkpoints its write-ahead log into the database file
    /// (`wal_checkpoint(TRUNCATE)`), so that a copy of the file alone holds the
    /// directory; PostgreSQL closes its pool.
    async fn close(&self) -> Result<()>;
    /// Anonymise employees in one transaction (the SQL layer's `erasure` module lists
    /// every table it rewrites): personal values replaced in the directory and every
    /// stored copy, recorded as an import of `request.kind` (field names, no values)
    /// with its events, source ids' digests kept. `NotFound` for an unknown employee
    /// (nothing written). SQLite: `secure_delete` on, the log checkpointed after.
    async fn anonymise(&self, account: AccountId, request: &Anonymisation) -> Result<Anonymised>;
    /// Every anonymisation of the account's employees, oldest first.
    async fn erasures(&self, account: AccountId) -> Result<Vec<Erasure>>;
    /// Fleet-wide: the credentials key's check value (bytes the engine encrypted with
    /// the key; never the key), `None` until one is written.
    async fn key_check(&self) -> Result<Option<Vec<u8>>>;
    /// Fleet-wide: write the key check value unless one exists (the first writer
    /// wins). Returns the value stored afterwards: `value`, or the one found.
    async fn init_key_check(&self, value: &[u8], at: Timestamp) -> Result<Vec<u8>>;
    /// Fleet-wide: up to `limit` encrypted secrets of any account (integration
    /// credentials, notification channel secrets), to try a key on.
    async fn encrypted_samples(&self, limit: usize) -> Result<Vec<Vec<u8>>>;
}
