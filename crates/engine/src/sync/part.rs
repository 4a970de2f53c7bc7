//! An incremental sync's plan over the part of the directory its members need
//! ([`Engine::plan_part`]).

use std::collections::HashMap;
use std::time::Instant;

use roster_core::employee::{Employee, EmployeeKey};
use roster_core::issue::IssueCode;
use roster_core::member::{RejectedMember, SourceMember};
use roster_core::plan;

use super::{PlanWith, Planned, ms};
use crate::engine::{Engine, EngineError, Result};
use crate::outcome::SyncStep;

impl Engine {
    /// Plan an incremental sync over the part of the directory its members need,
    /// read by indexed look-ups round by round (`plan::Part`), with what planning
    /// needs of the other rows counted by the store (`plan::Rest`). `None` when the
    /// plan finds a manager cycle: which link closes it depends on rows outside the
    /// part, so the caller plans over the whole directory. `held`: rows read a moment
    /// before (the fetch's known managers), not read again.
    pub(super) async fn plan_part(
        &self,
        members: &[SourceMember],
        rejected: &[RejectedMember],
        held: Vec<Employee>,
        how: &PlanWith<'_>,
    ) -> Result<Option<Planned>> {
        let t = Instant::now();
        let (account, settings) = (self.account, how.settings);
        self.store.key_manager_emails(account).await?;
        let store = &self.store;
        let mut part = plan::Part::new(members, settings);
        // Each round's look-ups are read beside the active reports of the rows the
        // round before found (on another pooled connection), and the first beside
        // what does not depend on the part: the rounds and the counts are each about
        // as long.
        let own = part.new_report_keys();
        let mut lookups = part.first();
        let (mut rows, mut reports, active, names) = tokio::try_join!(
            self.first_round(&lookups, held),
            async { Ok::<_, EngineError>(store.active_report_counts(account, &own).await?) },
            async { Ok::<_, EngineError>(store.count_employees(account, true).await?) },
            async {
                let rows = plan::DEMOGRAPHIC_SAMPLE_ROWS;
                Ok::<_, EngineError>(store.demographic_names(account, rows).await?)
            },
        )?;
        let mut rounds = 0;
        while !lookups.is_empty() {
            lookups = part.add(std::mem::take(&mut rows));
            rounds += 1;
            let keys = part.new_report_keys();
            let (next, counts) = tokio::try_join!(
                async { Ok::<_, EngineError>(store.employees_matching(account, &lookups).await?) },
                async { Ok::<_, EngineError>(store.active_report_counts(account, &keys).await?) },
            )?;
            rows = next;
            reports.extend(counts);
        }
        let active = active as usize;
        let next_generated = if part.needs_generated_ids() {
            let prefix = &settings.generated_id_prefix;
            let ids = self.store.employee_ids_with_prefix(account, prefix).await?;
            plan::next_generated(ids.iter().map(String::as_str), prefix)
        } else {
            0
        };
        let rest = part.rest(active, &reports, next_generated, names);
        let rows = part.into_rows();
        let load_ms = ms(t.elapsed());
        tracing::debug!(
            rows = rows.len(),
            rounds,
            "sync: part of the directory read"
        );
        if let Some(f) = how.on_step {
            f(SyncStep::Planning {
                members: members.len(),
            });
        }
        let t = Instant::now();
        let plan = plan::plan_part(
            &rows,
            &rest,
            members.to_vec(),
            rejected,
            settings,
            how.today,
            how.options,
        );
        if plan
            .issues
            .iter()
            .any(|i| i.code == IssueCode::ManagerCycle)
        {
            tracing::info!("sync: a manager cycle; planning over the whole directory");
            return Ok(None);
        }
        Ok(Some(Planned {
            plan,
            load_ms,
            plan_ms: ms(t.elapsed()),
        }))
    }

    /// The rows the part's first look-ups find, of which those in `held` (read a
    /// moment before) are taken as they are, not decoded again (one statement).
    async fn first_round(
        &self,
        lookups: &plan::Lookups,
        held: Vec<Employee>,
    ) -> Result<Vec<Employee>> {
        let account = self.account;
        if held.is_empty() || lookups.is_empty() {
            return Ok(self.store.employees_matching(account, lookups).await?);
        }
        let keys: Vec<EmployeeKey> = held.iter().map(|e| e.key).collect();
        let (mut rows, found) = self
            .store
            .employees_matching_held(account, lookups, &keys)
            .await?;
        let mut held: HashMap<EmployeeKey, Employee> =
            held.into_iter().map(|e| (e.key, e)).collect();
        tracing::debug!(
            held = found.len(),
            read = rows.len(),
            "sync: the part's first round"
        );
        rows.extend(found.into_iter().filter_map(|k| held.remove(&k)));
        Ok(rows)
    }
}
