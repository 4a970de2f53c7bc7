//! Admin changes to the directory (set email, exclude, include, merge), the daily
//! tick, rollback, and what is coming up. The rules are `roster_core::edits`,
//! `plan::edits`/`tick`, `rollback` and `calendar`; this module reads, records and
//! returns what happened.

use roster_core::calendar;
pub use roster_core::calendar::{Milestone, MilestoneKind, Upcoming, UpcomingKind};
use roster_core::edits;
use roster_core::employee::Employee;
use roster_core::plan::{self, Entry, Plan, Rule};
use roster_core::rollback::plan_rollback_after_erasure;
use roster_core::settings::Settings;
use roster_store::{ImportId, ImportKind, ImportStatus, IntegrationId};

use crate::engine::{Engine, EngineError, Result};
use crate::outcome::{ChangeOutcome, DirectoryAfter};
use crate::record;

fn invalid(e: edits::EditError) -> EngineError {
    EngineError::Invalid(e.to_string())
}

impl Engine {
    /// Record an admin change applied whole (`record::edits`); `None` when there
    /// was nothing to record.
    async fn record_edits(
        &self,
        kind: ImportKind,
        plan: &Plan,
        details: serde_json::Value,
        rolls_back: Option<ImportId>,
    ) -> Result<Option<ImportId>> {
        match record::edits(kind, plan, details, rolls_back, self.clock.now()) {
            Some(changeset) => Ok(Some(self.write(changeset, None).await?)),
            None => Ok(None),
        }
    }

    /// An employee by employee ID or email.
    pub async fn find(&self, who: &str) -> Result<Employee> {
        self.store
            .find_employee(self.account, who)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no employee with ID or email {who:?}")))
    }

    /// Record admin edits. With `repoint = Some((old, new))`, employees whose manager
    /// email is `old` follow to `new` in the same import.
    async fn edit(
        &self,
        kind: ImportKind,
        rule: Rule,
        mut changed: Vec<Employee>,
        repoint: Option<(&str, &str)>,
        details: serde_json::Value,
    ) -> Result<ChangeOutcome> {
        let directory = self.store.directory(self.account).await?;
        if let Some((old, new)) = repoint {
            let reports = edits::reports_following(&directory, &changed, old, new);
            changed.extend(reports);
        }
        let today = self.today().await?;
        let plan = plan::edits(&directory, changed, rule, today);
        let import_id = self.record_edits(kind, &plan, details, None).await?;
        Ok(ChangeOutcome {
            import_id,
            plan,
            conflicts: Vec::new(),
            erased: Vec::new(),
            removed: Vec::new(),
        })
    }

    /// An admin sets an employee's email. With `override_emails` off, syncs keep it.
    pub async fn set_email(&self, who: &str, email: &str) -> Result<ChangeOutcome> {
        let email = edits::checked_email(email).map_err(invalid)?;
        let e = self.find(who).await?;
        if let Some(other) = self.store.find_employee(self.account, email).await?
            && other.key != e.key
        {
            return Err(EngineError::Invalid(format!(
                "that email already belongs to employee {}",
                other.employee_id
            )));
        }
        let edited = edits::set_email(&e, email).map_err(invalid)?;
        // Reports follow their manager's new address.
        self.edit(
            ImportKind::AdminEdit,
            Rule::AdminEdit,
            vec![edited],
            Some((&e.email, email)),
            serde_json::json!({ "action": "set_email" }),
        )
        .await
    }

    /// Exclude: deactivated now and in every later sync until included again.
    pub async fn exclude(&self, who: &str) -> Result<ChangeOutcome> {
        let e = self.find(who).await?;
        self.edit(
            ImportKind::AdminEdit,
            Rule::Exclusion,
            vec![edits::exclude(&e)],
            None,
            serde_json::json!({ "action": "exclude" }),
        )
        .await
    }

    /// Include again: active unless the end date has passed.
    pub async fn include(&self, who: &str) -> Result<ChangeOutcome> {
        let e = self.find(who).await?;
        let today = self.today().await?;
        self.edit(
            ImportKind::AdminEdit,
            Rule::Exclusion,
            vec![edits::include(&e, today)],
            None,
            serde_json::json!({ "action": "include" }),
        )
        .await
    }

    /// Merge a duplicate into the original: the original takes the duplicate's
    /// identifiers (the ones the source now uses) and the duplicate is deactivated,
    /// in one audited step (`core::edits::merge`).
    pub async fn merge(&self, duplicate: &str, into: &str) -> Result<ChangeOutcome> {
        let dup = self.find(duplicate).await?;
        let orig = self.find(into).await?;
        let merged = edits::merge(&dup, &orig).map_err(invalid)?;
        // Reports of the duplicate now report to the original (same email, so nothing
        // changes for them unless the original's email differs).
        self.edit(
            ImportKind::Merge,
            Rule::Merge,
            merged.into_vec(),
            Some((&orig.email, &dup.email)),
            serde_json::json!({ "action": "merge", "duplicate": dup.key, "into": orig.key }),
        )
        .await
    }

    /// Apply what has come due today: future end dates.
    pub async fn tick(&self) -> Result<ChangeOutcome> {
        let directory = self.store.directory(self.account).await?;
        let today = self.today().await?;
        let plan = plan::tick(&directory, today);
        let import_id = self
            .record_edits(
                ImportKind::Tick,
                &plan,
                serde_json::json!({ "today": today }),
                None,
            )
            .await?;
        Ok(ChangeOutcome {
            import_id,
            plan,
            conflicts: Vec::new(),
            erased: Vec::new(),
            removed: Vec::new(),
        })
    }

    /// Roll back an applied import: employees it touched return to their prior values,
    /// unless changed since (reported per employee).
    pub async fn rollback(&self, import_id: ImportId) -> Result<ChangeOutcome> {
        let record = self
            .store
            .import(self.account, import_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("no import {import_id}")))?;
        if record.summary.kind.is_anonymisation() {
            return Err(EngineError::Invalid(format!(
                "import {import_id} is an anonymisation (kind {}): it cannot be rolled back \
                 (the erased values are gone, and a removed record does not come back)",
                record.summary.kind.as_str()
            )));
        }
        match record.summary.status {
            ImportStatus::Applied | ImportStatus::PartiallyApplied => {}
            s => {
                return Err(EngineError::Invalid(format!(
                    "import {import_id} is {}: only applied imports can be rolled back",
                    s.as_str()
                )));
            }
        }
        let changes = self.store.import_changes(self.account, import_id).await?;
        let directory = self.store.directory(self.account).await?;
        // Fields erased after this import are not restored (issue #17).
        let mut erased: std::collections::HashMap<_, std::collections::BTreeSet<String>> =
            Default::default();
        for e in self.store.erasures(self.account).await? {
            if e.import_id > import_id {
                erased.entry(e.key).or_default().extend(e.fields);
            }
        }
        let rb = plan_rollback_after_erasure(&changes, &directory, &erased);
        let today = self.today().await?;
        let restored: Vec<Employee> = rb.restore.iter().map(|(e, _)| e.clone()).collect();
        let mut plan = plan::edits(&directory, restored, Rule::Rollback, today);
        for e in &mut plan.entries {
            e.action = roster_core::plan::Action::Update;
        }
        let details = serde_json::json!({
            "rolls_back": import_id,
            "conflicts": rb.conflicts,
            "erased": rb.erased,
            "removed": rb.removed,
        });
        let id = self
            .record_edits(ImportKind::Rollback, &plan, details, Some(import_id))
            .await?;
        Ok(ChangeOutcome {
            import_id: id,
            plan,
            conflicts: rb.conflicts,
            erased: rb.erased,
            removed: rb.removed,
        })
    }

    /// Deactivations due within `days` days (those due today or earlier that `tick`
    /// has not applied yet included), starts from today on (`core::calendar`), and
    /// anonymisations by retention due within them (those due and not done yet
    /// included: `core::retention`), by date then employee ID.
    pub async fn upcoming(&self, days: i64) -> Result<Vec<Upcoming>> {
        let today = self.today().await?;
        let directory = self.store.directory(self.account).await?;
        let mut list = calendar::upcoming(&directory, today, days);
        if let Some(retention_days) = self.retention_days().await? {
            let until = today
                .checked_add(jiff::Span::new().days(days))
                .unwrap_or(jiff::civil::Date::MAX);
            let excluded = self.retention_excluded(&directory).await?;
            list.extend(
                roster_core::retention::due(&directory, retention_days, until, &excluded)
                    .into_iter()
                    .map(|d| Upcoming {
                        date: d.due_on,
                        kind: UpcomingKind::Anonymisation,
                        employee_id: d.employee_id,
                        name: d.name,
                    }),
            );
            list.sort_by(|a, b| {
                a.date
                    .cmp(&b.date)
                    .then_with(|| a.employee_id.cmp(&b.employee_id))
            });
        }
        Ok(list)
    }

    /// Work anniversaries (following the first integration's `hire_date_priority`)
    /// and birthdays (only where no integration hides the date of birth) within
    /// `days` days (`core::calendar`).
    pub async fn milestones(&self, days: i64) -> Result<Vec<Milestone>> {
        let integrations = self.integrations().await?;
        let settings: Vec<&Settings> = integrations.iter().map(|i| &i.settings).collect();
        let priority = settings
            .first()
            .map(|s| s.hire_date_priority)
            .unwrap_or_default();
        let today = self.today().await?;
        let directory = self.store.directory(self.account).await?;
        Ok(calendar::milestones(
            &directory,
            priority,
            calendar::dob_shared(&settings),
            today,
            days,
        ))
    }

    /// The user file preview's data: the directory as `plan` leaves it (every planned
    /// change applied; with `applied`, the plan is in the directory already and the
    /// directory is read as it is), and the settings of the run's `integration` the
    /// export follows.
    pub async fn directory_after(
        &self,
        integration: IntegrationId,
        plan: &Plan,
        applied: bool,
    ) -> Result<DirectoryAfter> {
        let settings = self.integration(Some(integration)).await?.settings;
        let directory = self.store.directory(self.account).await?;
        let employees = if applied {
            directory
        } else {
            let entries: Vec<&Entry> = plan.entries.iter().collect();
            plan::apply(&directory, &entries)
        };
        Ok(DirectoryAfter {
            employees,
            settings,
        })
    }
}
