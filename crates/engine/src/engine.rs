//! The engine of one account: its error type, construction, and the reads callers
//! make (the directory, imports, history) with the account applied here. The runs
//! are in their own modules: `integrations`, `sync`, `import`, `edits`; what they
//! record is `record`'s.

use std::sync::Arc;

use jiff::civil::Date;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::settings::MappingError;
use roster_source::SourceError;
use roster_store::{
    AccountId, Changeset, EmployeeQuery, Fence, HistoryEntry, ImportId, ImportRecord,
    ImportSummary, IntegrationId, OutboxMessage, Store, StoreError,
};

use crate::clock::Clock;
use crate::crypto::{Cipher, CryptoError};
pub use crate::lock::LEASE;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cause is in the message and deliberately not a `source()`: a chain printer
    /// (`anyhow`'s `{:#}`) would repeat it.
    #[error("fetch failed, nothing was changed: {0}")]
    Source(SourceError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("integration {0} needs finalising: run and apply a manual sync first")]
    NeedsFinalise(IntegrationId),
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

impl From<SourceError> for EngineError {
    fn from(e: SourceError) -> Self {
        Self::Source(e)
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// The engine of one account.
pub struct Engine {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    cipher: Cipher,
    pub(crate) account: AccountId,
    lease: jiff::SignedDuration,
}

impl Engine {
    /// The engine for the account named `account` (created if missing).
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        account: &str,
    ) -> Result<Self> {
        let account = store.ensure_account(account).await?;
        Ok(Self {
            store,
            clock,
            cipher,
            account,
            lease: LEASE,
        })
    }

    /// The engine of an existing account, by id (a server serving many accounts; the
    /// store checks the account on every call).
    pub fn for_account(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cipher: Cipher,
        account: AccountId,
    ) -> Self {
        Self {
            store,
            clock,
            cipher,
            account,
            lease: LEASE,
        }
    }

    /// Another sync-lock lease than [`LEASE`] (tests, operators).
    pub fn with_lease(mut self, lease: jiff::SignedDuration) -> Self {
        self.lease = lease;
        self
    }

    /// The sync lock's lease.
    pub fn lease(&self) -> jiff::SignedDuration {
        self.lease
    }

    /// The store, for what is not the account's directory: access control (tokens,
    /// sessions, users, reviews) and operations across accounts. The directory, the
    /// imports and the history are read through the engine's own methods.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn account(&self) -> AccountId {
        self.account
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// Today for this account (the time zone of the first integration's settings).
    pub async fn today(&self) -> Result<Date> {
        let tz = match self.store.integrations(self.account).await?.first() {
            Some(i) => i.settings.timezone.clone(),
            None => "UTC".into(),
        };
        Ok(self.clock.today(&tz))
    }

    /// Write a changeset, fenced by the run's sync lock when it has one.
    pub(crate) async fn write(
        &self,
        changeset: Changeset,
        fence: Option<&Fence>,
    ) -> Result<ImportId> {
        Ok(match fence {
            Some(f) => self.store.write_fenced(self.account, changeset, f).await?,
            None => self.store.write(self.account, changeset).await?,
        })
    }

    // ---- reads --------------------------------------------------------------

    /// The whole directory (every employee, deactivated included), in key order.
    pub async fn directory(&self) -> Result<Vec<Employee>> {
        Ok(self.store.directory(self.account).await?)
    }

    /// Employees matching `query`, in key order.
    pub async fn employees(&self, query: &EmployeeQuery) -> Result<Vec<Employee>> {
        Ok(self.store.employees(self.account, query).await?)
    }

    /// How many employees there are (active ones only with `active_only`).
    pub async fn count_employees(&self, active_only: bool) -> Result<u64> {
        Ok(self
            .store
            .count_employees(self.account, active_only)
            .await?)
    }

    /// An employee by key.
    pub async fn employee(&self, key: EmployeeKey) -> Result<Option<Employee>> {
        Ok(self.store.employee(self.account, key).await?)
    }

    /// An employee's change history, newest first (merged records' included).
    pub async fn history(&self, key: EmployeeKey) -> Result<Vec<HistoryEntry>> {
        Ok(self.store.employee_history(self.account, key).await?)
    }

    /// The latest `limit` imports, newest first.
    pub async fn imports(&self, limit: usize) -> Result<Vec<ImportSummary>> {
        Ok(self.store.imports(self.account, limit).await?)
    }

    /// An import with everything recorded for it.
    pub async fn import(&self, id: ImportId) -> Result<Option<ImportRecord>> {
        Ok(self.store.import(self.account, id).await?)
    }

    /// Undelivered notifications, oldest first.
    pub async fn outbox(&self, limit: usize) -> Result<Vec<OutboxMessage>> {
        Ok(self.store.outbox(self.account, limit).await?)
    }
}
