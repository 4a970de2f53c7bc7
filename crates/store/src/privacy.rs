//! What the store holds about one person (for their export: GDPR art. 15), and the
//! retention holds an admin puts on people whose data must outlive `retention_days`
//! (a legal hold).
//!
//! Every adapter implements [`PrivacyStore`]; it is a supertrait of [`crate::Store`],
//! so an `Arc<dyn Store>` reaches it. The contract suite (`contract::privacy`) pins it
//! down. The person's change-feed events are [`crate::Store::events`]' (by employee).

use async_trait::async_trait;
use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::plan::{Action, Change};
use serde::{Deserialize, Serialize};

use crate::{AccountId, ImportId, ImportSummary, Result};

/// One recorded entry (`import_entries` row) about a person, applied or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonEntry {
    pub import_id: ImportId,
    /// The directory row it is about: the person's, or that of a record merged into
    /// them.
    pub employee_key: EmployeeKey,
    /// The employee ID the entry was recorded under.
    pub employee_id: String,
    pub action: Action,
    /// Written to the directory.
    pub applied: bool,
    /// Held for approval by the privacy guard.
    pub held: bool,
    pub privacy: bool,
    /// The field changes, with old and new values (none for a create: the row holds
    /// them).
    pub changes: Vec<Change>,
    /// The employee as the entry would have left them, for an entry not applied
    /// (held, blocked, discarded): the values it carried. `None` when applied (the
    /// directory row and the changes hold them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Employee>,
}

/// Everything the directory and the history hold about one person, read in one
/// snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonRecord {
    /// The person's directory row.
    pub employee: Employee,
    /// Every record merged into them (transitively), in key order: duplicates that
    /// held their data.
    pub merged: Vec<Employee>,
    /// Every entry about the person or a record merged into them, oldest first
    /// (import, then position in it).
    pub entries: Vec<PersonEntry>,
    /// Every import with one of those entries, oldest first.
    pub imports: Vec<ImportSummary>,
}

impl PersonRecord {
    /// The person's key and those of the records merged into them.
    pub fn keys(&self) -> Vec<EmployeeKey> {
        std::iter::once(self.employee.key)
            .chain(self.merged.iter().map(|e| e.key))
            .collect()
    }
}

/// An admin's hold on a person's data: retention leaves them alone while it lasts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionHold {
    pub employee_key: EmployeeKey,
    /// Why (e.g. "legal hold: case 2026-14"); shown to admins, never sent out.
    pub reason: String,
    pub since: Timestamp,
}

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Everything held about the employee with this key (`None`: no such employee
    /// in the account).
    async fn person_record(
        &self,
        account: AccountId,
        key: EmployeeKey,
    ) -> Result<Option<PersonRecord>>;

    /// Put a retention hold on an employee (replacing the reason of one already
    /// there, keeping its time). `NotFound`: no such employee in the account.
    async fn hold_retention(&self, account: AccountId, hold: RetentionHold) -> Result<()>;
    /// Lift an employee's hold; `false` when there was none.
    async fn release_retention(&self, account: AccountId, key: EmployeeKey) -> Result<bool>;
    /// The account's holds, by employee key.
    async fn retention_holds(&self, account: AccountId) -> Result<Vec<RetentionHold>>;
}
