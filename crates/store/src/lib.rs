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
pub mod jobs;
pub mod privacy;
pub mod selection;
pub mod sql;

use std::collections::BTreeSet;

use async_trait::async_trait;
use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::guard::Trigger;
use roster_core::member::SourceField;
use roster_core::plan::{Action, Change, Counts, Lookups};
use roster_core::rollback::RecordedChange;
use roster_core::settings::Settings;
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

pub use access::AccessStore;
pub use erasure::{Anonymisation, Anonymised, AnonymisedEmployee, Erasure, ToAnonymise};
pub use feed::{EventQuery, FeedDone, FeedSubscription, NewFeedSubscription};
pub use jobs::JobStore;
pub use roster_core::feed::{Cursor, Event as FeedEvent, EventType};
pub use selection::{Dated, DemographicMember, EmployeeFilter, KeyPage, TimeBound};

pub type AccountId = i64;
pub type IntegrationId = i64;
pub use roster_core::import::ImportId;

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

/// Where an integration is in its lifecycle (DESIGN §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum IntegrationState {
    /// Credentials stored; no setup sync yet.
    Connected,
    /// Setup sync done; the first manual sync has not been applied.
    NeedsFinalise,
    /// The first sync was applied.
    Active,
}

impl IntegrationState {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// What an integration reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum IntegrationKind {
    /// The Justworks Partner API.
    Justworks,
    /// Uploaded CSV files.
    Csv,
}

impl IntegrationKind {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One source connection of an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub account_id: AccountId,
    pub kind: IntegrationKind,
    pub name: String,
    pub state: IntegrationState,
    pub settings: Settings,
    /// Non-secret connection settings (base URL, client id, scopes …).
    pub config: serde_json::Value,
    /// Encrypted credentials (the engine encrypts; the store never sees plaintext).
    pub credentials: Option<Vec<u8>>,
    /// Source fields with sample values, from the setup sync.
    pub source_fields: Vec<SourceField>,
    pub company_name: Option<String>,
    pub member_count: Option<i64>,
    /// When the last applied sync started fetching (for incremental syncs).
    pub last_fetch_at: Option<Timestamp>,
    pub last_sync_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewIntegration {
    pub account_id: AccountId,
    pub kind: IntegrationKind,
    pub name: String,
    pub config: serde_json::Value,
    pub credentials: Option<Vec<u8>>,
    pub settings: Settings,
}

/// What kind of run produced an import (defined in core: the change feed names it).
pub use roster_core::import::ImportKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum ImportStatus {
    /// Everything planned was applied.
    Applied,
    /// Applied, with privacy-guarded employees held for approval.
    PartiallyApplied,
    /// A guard blocked it: nothing applied.
    Blocked,
    /// Reviewed, not applied (a dry run or the admin said no).
    Discarded,
    /// The fetch or the apply failed: nothing applied.
    Failed,
    /// Applied, then rolled back.
    RolledBack,
}

impl ImportStatus {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One employee an import touches (or would have touched).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// What the entry does (a rollback records the plan of its edits: `update`,
    /// `deactivate` …).
    pub action: Action,
    /// `None` for an employee the write creates; filled in by the store.
    pub key: Option<EmployeeKey>,
    pub employee_id: String,
    /// Field changes. Empty for a create (the employee row holds the values).
    pub changes: Vec<Change>,
    /// The employee as it will be. Written to the directory when `applied`.
    pub after: Employee,
    /// Written to the directory by this changeset.
    pub applied: bool,
    /// Held for approval by the privacy guard.
    pub held: bool,
    pub privacy: bool,
}

/// An outbound notification, delivered later from the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// e.g. `sync.applied`, `sync.blocked`, `sync.failed`.
    pub event: String,
    pub payload: serde_json::Value,
}

/// Everything one run records, written in one transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Changeset {
    pub integration_id: Option<IntegrationId>,
    pub kind: ImportKind,
    pub trigger: Trigger,
    pub status: ImportStatus,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub counts: Counts,
    /// The plan's issues, diagnostics, guard findings, file name … (JSON).
    pub details: serde_json::Value,
    pub entries: Vec<EntryRecord>,
    pub notifications: Vec<Notification>,
    /// This changeset rolls back that import; its status becomes `rolled_back`.
    pub rolls_back: Option<ImportId>,
    /// Set the integration's state / last-sync marks in the same transaction.
    pub integration_update: Option<IntegrationUpdate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationUpdate {
    pub state: Option<IntegrationState>,
    pub last_fetch_at: Option<Timestamp>,
    pub last_sync_at: Option<Timestamp>,
}

/// Who holds an integration's sync lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncLockInfo {
    pub holder: String,
    /// The fencing token: it grows with every take of the lock (a renewal by the same
    /// holder keeps it).
    pub generation: i64,
    /// The lease ends then unless renewed.
    pub until: Timestamp,
}

/// What a fenced write checks in its transaction before it writes anything: the
/// sync lock is still this holder's, at this generation, and the job (if any) is
/// still leased to this worker. Otherwise the write is [`StoreError::Fenced`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fence {
    pub integration: IntegrationId,
    pub holder: String,
    pub generation: i64,
    /// `(job id, worker)`: the job this run belongs to.
    pub job: Option<(jobs::JobId, String)>,
}

/// An import as listed in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub id: ImportId,
    pub integration_id: Option<IntegrationId>,
    pub kind: ImportKind,
    pub trigger: Trigger,
    pub status: ImportStatus,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub counts: Counts,
}

/// An import with everything recorded for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub summary: ImportSummary,
    pub details: serde_json::Value,
    pub entries: Vec<EntryRecord>,
}

/// One line of an employee's change history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub import_id: ImportId,
    pub kind: ImportKind,
    pub at: Timestamp,
    pub action: Action,
    pub changes: Vec<Change>,
    /// A line of a duplicate merged into this employee (DESIGN §6: merging moves the
    /// history): the merged record's employee ID. `None` for the employee's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub import_id: Option<ImportId>,
    pub event: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// Filter for listing employees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmployeeQuery {
    /// Case-insensitive substring of employee ID, email, first, last or preferred name.
    pub search: Option<String>,
    pub include_inactive: bool,
    pub limit: Option<usize>,
    pub offset: usize,
    /// Only employees whose key is greater (keyset paging: the previous page's last
    /// key; a deep page then costs what the first does). Combines with `offset`.
    pub after: Option<EmployeeKey>,
}

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
