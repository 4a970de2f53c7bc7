//! Personal data (issue #17): a person's own export (everything held about them, as
//! one document), retention holds, and who retention anonymises when. The rules are
//! `roster_core::retention`; this module reads and assembles.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::employee::Employee;
use roster_core::guard::Trigger;
use roster_core::plan::Rule;
use roster_core::retention::{self, Due, Excluded};
use roster_store::privacy::{PersonEntry, RetentionHold};
use roster_store::{
    Anonymisation, EventQuery, FeedEvent, ImportId, ImportKind, ImportStatus, IntegrationId,
    ToAnonymise,
};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, EngineError, Result};
use crate::lock::SyncLock;

/// The name and version of the export's shape, first in the document.
pub const PERSON_EXPORT_FORMAT: &str = "roster.person_export.v1";

/// Everything Roster holds about one person (GDPR art. 15), as one JSON document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonExport {
    /// [`PERSON_EXPORT_FORMAT`].
    pub format: String,
    pub generated_at: Timestamp,
    /// The person's directory row: every field.
    pub employee: Employee,
    /// Duplicates merged into them (their data too), in key order.
    pub merged_records: Vec<Employee>,
    /// An admin's retention hold on them, if any (with its reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_hold: Option<RetentionHold>,
    /// Every history entry about them (or a merged record), oldest first: applied,
    /// held and blocked alike, with each field's old and new value.
    pub history: Vec<PersonEntry>,
    /// Every change-feed event about them (or a merged record), in cursor order.
    pub events: Vec<FeedEvent>,
    /// Every import that touched them, oldest first.
    pub imports: Vec<ExportedImport>,
}

/// An import as the person's export names it: what ran, when, and who ran it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportedImport {
    pub id: ImportId,
    pub kind: ImportKind,
    pub status: ImportStatus,
    /// Who: an admin (`manual`) or the scheduler (`automatic`) …
    pub trigger: Trigger,
    /// … for this integration (`None`: an admin's edit, not a source's run).
    pub integration_id: Option<IntegrationId>,
    pub integration: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

impl Engine {
    /// Everything held about the employee `who` (employee ID or email).
    pub async fn person_export(&self, who: &str) -> Result<PersonExport> {
        let e = self.find(who).await?;
        self.person_export_of(e.key).await
    }

    /// [`Engine::person_export`] by key (`NotFound`: no such employee).
    pub async fn person_export_of(&self, key: i64) -> Result<PersonExport> {
        let record = self
            .store
            .person_record(self.account, key)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no employee with key {key}")))?;
        let mut events = Vec::new();
        for k in record.keys() {
            let q = EventQuery {
                employee: Some(k),
                limit: usize::MAX,
                ..EventQuery::default()
            };
            events.extend(self.store.events(self.account, &q).await?);
        }
        events.sort_by_key(|e| e.cursor);
        let names: Vec<(IntegrationId, String)> = self
            .store
            .integrations(self.account)
            .await?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect();
        let imports = record
            .imports
            .into_iter()
            .map(|i| ExportedImport {
                id: i.id,
                kind: i.kind,
                status: i.status,
                trigger: i.trigger,
                integration_id: i.integration_id,
                integration: i
                    .integration_id
                    .and_then(|id| names.iter().find(|(n, _)| *n == id))
                    .map(|(_, name)| name.clone()),
                started_at: i.started_at,
                finished_at: i.finished_at,
            })
            .collect();
        let retention_hold = self
            .store
            .retention_holds(self.account)
            .await?
            .into_iter()
            .find(|h| h.employee_key == key);
        tracing::info!(
            account = self.account,
            employee_key = key,
            "person export made"
        );
        Ok(PersonExport {
            format: PERSON_EXPORT_FORMAT.to_string(),
            generated_at: self.clock.now(),
            employee: record.employee,
            merged_records: record.merged,
            retention_hold,
            history: record.entries,
            events,
            imports,
        })
    }

    /// Put a retention hold on `who` (e.g. a legal hold): retention leaves them alone
    /// until it is lifted. A second hold replaces the reason.
    pub async fn hold_retention(&self, who: &str, reason: &str) -> Result<RetentionHold> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(EngineError::Invalid(
                "reason: say why the data is kept (e.g. \"legal hold: case 14\")".into(),
            ));
        }
        let e = self.find(who).await?;
        self.store
            .hold_retention(
                self.account,
                RetentionHold {
                    employee_key: e.key,
                    reason: reason.to_string(),
                    since: self.clock.now(),
                },
            )
            .await?;
        self.store
            .retention_holds(self.account)
            .await?
            .into_iter()
            .find(|h| h.employee_key == e.key)
            .ok_or_else(|| EngineError::NotFound(format!("no employee with ID or email {who:?}")))
    }

    /// Lift `who`'s retention hold; `false` when there was none.
    pub async fn release_retention(&self, who: &str) -> Result<bool> {
        let e = self.find(who).await?;
        Ok(self.store.release_retention(self.account, e.key).await?)
    }

    /// The account's retention holds, each with the employee it holds.
    pub async fn retention_holds(&self) -> Result<Vec<(RetentionHold, Employee)>> {
        let holds = self.store.retention_holds(self.account).await?;
        let keys: Vec<i64> = holds.iter().map(|h| h.employee_key).collect();
        let employees = self.store.employees_by_key(self.account, &keys).await?;
        Ok(holds
            .into_iter()
            .filter_map(|h| {
                let e = employees.iter().find(|e| e.key == h.employee_key)?.clone();
                Some((h, e))
            })
            .collect())
    }

    /// `retention_days` (account-wide, like the time zone: the first integration's
    /// setting); `None`: retention is off.
    pub async fn retention_days(&self) -> Result<Option<u32>> {
        Ok(self
            .store
            .integrations(self.account)
            .await?
            .first()
            .and_then(|i| i.settings.retention_days))
    }

    /// Who retention anonymises on or before `until` (today: who is due now), by due
    /// date; empty when retention is off.
    pub async fn retention_due(&self, until: Date) -> Result<Vec<Due>> {
        let Some(days) = self.retention_days().await? else {
            return Ok(Vec::new());
        };
        let directory = self.store.directory(self.account).await?;
        let excluded = self.retention_excluded(&directory).await?;
        Ok(retention::due(&directory, days, until, &excluded))
    }

    /// Who retention must leave alone: held, or anonymised already (an erasure or
    /// an earlier retention run).
    pub(crate) async fn retention_excluded(&self, _directory: &[Employee]) -> Result<Excluded> {
        let held: BTreeSet<i64> = self
            .store
            .retention_holds(self.account)
            .await?
            .into_iter()
            .map(|h| h.employee_key)
            .collect();
        let anonymised = self
            .store
            .erasures(self.account)
            .await?
            .into_iter()
            .map(|e| e.key)
            .collect();
        Ok(Excluded { held, anonymised })
    }

    /// The pending reviews' payloads (a sync's or a users file's plan waiting for a
    /// decision): anonymising someone such a plan holds would let it write their
    /// erased values back. (`pending_reviews` lists heads only: each is read whole.)
    pub(crate) async fn pending_review_payloads(
        &self,
    ) -> Result<Vec<(roster_store::access::ReviewId, serde_json::Value)>> {
        let mut out = Vec::new();
        for head in self.store.pending_reviews(self.account, usize::MAX).await? {
            if let Some(r) = self.store.review(self.account, head.id).await? {
                out.push((r.id, r.payload));
            }
        }
        Ok(out)
    }

    /// Retention's run for today: everyone due is anonymised in one import of kind
    /// `retention` (by the system, rule `retention_days = N`, the fields replaced and
    /// none of their values), in a transaction of its own, never a sync's. A person
    /// a pending review would change is skipped (and reported) until the review is
    /// applied or discarded. With `dry_run`, nothing changes: the outcome lists who
    /// would be anonymised and which fields.
    pub async fn retention(&self, trigger: Trigger, dry_run: bool) -> Result<RetentionOutcome> {
        let by = match trigger {
            Trigger::Automatic => "daily end-date job",
            Trigger::Manual => "roster retention",
        };
        self.retention_by(trigger, dry_run, by).await
    }

    /// [`Engine::retention`], recorded as run `by` this admin (an API token's or a
    /// web user's label).
    pub async fn retention_by(
        &self,
        trigger: Trigger,
        dry_run: bool,
        by: &str,
    ) -> Result<RetentionOutcome> {
        let Some(days) = self.retention_days().await? else {
            return Ok(RetentionOutcome::default());
        };
        // Under every integration's sync lock (as an erasure): no sync runs between
        // reading who is due and anonymising them. A dry run takes none.
        let mut locks = Vec::new();
        if !dry_run {
            for i in self.store.integrations(self.account).await? {
                locks.push(SyncLock::acquire(&self.store, self.account, i.id, self.lease()).await?);
            }
        }
        let outcome = self.retention_locked(days, trigger, dry_run, by).await;
        for lock in locks {
            lock.release().await;
        }
        outcome
    }

    async fn retention_locked(
        &self,
        days: u32,
        trigger: Trigger,
        dry_run: bool,
        by: &str,
    ) -> Result<RetentionOutcome> {
        let today = self.today().await?;
        let settings = self.integration(None).await?.settings;
        let mut due = self.retention_due(today).await?;
        let keys: Vec<i64> = due.iter().map(|d| d.key).collect();
        let mut rows = self.store.employees_by_key(self.account, &keys).await?;
        let reviews = self.pending_review_payloads().await?;
        let in_review: BTreeSet<i64> = rows
            .iter()
            .filter(|e| reviews.iter().any(|(_, p)| crate::erasure::holds(p, e)))
            .map(|e| e.key)
            .collect();
        let skipped: Vec<Due> = due
            .iter()
            .filter(|d| in_review.contains(&d.key))
            .cloned()
            .collect();
        due.retain(|d| !in_review.contains(&d.key));
        rows.retain(|e| !in_review.contains(&e.key));
        let personal = settings.personal_demographics();
        let fields: Vec<(Due, Vec<String>)> = due
            .into_iter()
            .map(|d| {
                let f = rows
                    .iter()
                    .find(|e| e.key == d.key)
                    .map(|e| {
                        roster_core::privacy::anonymise(
                            e,
                            &personal,
                            &settings.generated_id_prefix,
                            Rule::Retention,
                        )
                        .fields
                    })
                    .unwrap_or_default();
                (d, f)
            })
            .collect();
        let mut outcome = RetentionOutcome {
            retention_days: Some(days),
            today: Some(today),
            due: fields,
            skipped,
            import_id: None,
        };
        if dry_run || outcome.due.is_empty() {
            return Ok(outcome);
        }
        let request = Anonymisation {
            kind: ImportKind::Retention,
            rule: Rule::Retention,
            trigger,
            at: self.clock.now(),
            by: by.to_string(),
            reason: format!("retention_days = {days}"),
            personal_demographics: personal,
            id_prefix: settings.generated_id_prefix.clone(),
            employees: rows
                .iter()
                .map(|e| ToAnonymise {
                    key: e.key,
                    source_digest: e
                        .source_id
                        .as_deref()
                        .map(|s| self.cipher().source_digest(s)),
                })
                .collect(),
            remove: false,
        };
        let done = self.store.anonymise(self.account, &request).await?;
        tracing::info!(
            account = self.account,
            import = done.import_id,
            employees = done.employees.len(),
            skipped = outcome.skipped.len(),
            "retention anonymised former employees"
        );
        outcome.import_id = Some(done.import_id);
        Ok(outcome)
    }
}

/// What a retention run did (or, dry, would do).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionOutcome {
    /// `None`: retention is off (nothing was looked at).
    pub retention_days: Option<u32>,
    pub today: Option<Date>,
    /// Anonymised (or, dry, to be), with the fields replaced.
    pub due: Vec<(Due, Vec<String>)>,
    /// Due, but a pending review would change them: left for the next run.
    pub skipped: Vec<Due>,
    /// The `retention` import that recorded it (`None`: dry run, or nobody due).
    pub import_id: Option<ImportId>,
}
