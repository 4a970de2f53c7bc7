//! Auto-sync schedules (DESIGN §2.4): off by default; daily, weekly or monthly at a
//! local time in a time zone; pause and resume; refused while the integration still
//! needs finalising. The schedule lives in the integration's row of the store's jobs
//! table (not in `Settings`): it is "when", not "how a sync plans", and the row is
//! also what workers claim, so switching it on, pausing it and running it touch one
//! row and never race with a settings save. Deleting the integration deletes it.
//!
//! Switching any auto-sync on also schedules the account's daily end-date job
//! ([`TICK_AT`] in the account's time zone), which applies future end dates that
//! came due (`Engine::tick`) even on days no sync runs.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use roster_core::schedule::{Frequency, Schedule};
use roster_store::IntegrationId;
use roster_store::IntegrationState;
use roster_store::jobs::{Job, JobKind, JobUpsert};
use serde::Serialize;

use crate::engine::{Engine, EngineError, Result};

/// When the daily end-date job runs, local time.
pub const TICK_AT: Time = Time::constant(0, 5, 0, 0);

/// A time zone by IANA name.
pub fn time_zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|_| {
        EngineError::Invalid(format!(
            "unknown time zone {name:?}: use an IANA name such as Europe/Paris or America/New_York"
        ))
    })
}

/// Where an integration's auto-sync stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AutoSyncState {
    Off,
    On,
    Paused,
}

impl AutoSyncState {
    pub fn of(job: Option<&Job>) -> Self {
        match job {
            Some(j) if j.enabled && j.paused => Self::Paused,
            Some(j) if j.enabled => Self::On,
            _ => Self::Off,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Engine {
    /// Switch auto-sync on (or change its schedule). Refused until the first manual
    /// sync has been applied (state `active`).
    pub async fn enable_autosync(&self, id: IntegrationId, schedule: Schedule) -> Result<Job> {
        let integration = self.integration(Some(id)).await?;
        if integration.state != IntegrationState::Active {
            return Err(EngineError::NeedsFinalise(id));
        }
        let tz = time_zone(&schedule.timezone)?;
        let now = self.clock().now();
        let next = schedule.next_after(&tz, now);
        let job = self
            .store()
            .upsert_job(JobUpsert {
                account_id: self.account(),
                integration_id: Some(id),
                kind: JobKind::Sync,
                schedule,
                enabled: true,
                paused: false,
                next_run_at: next,
                at: now,
            })
            .await?;
        self.ensure_tick_job().await?;
        tracing::info!(integration = id, job = job.id, "auto-sync on");
        Ok(job)
    }

    /// Switch auto-sync off (the schedule is kept for `status`, not run).
    pub async fn disable_autosync(&self, id: IntegrationId) -> Result<Option<Job>> {
        self.integration(Some(id)).await?;
        let Some(job) = self.autosync(id).await? else {
            return Ok(None);
        };
        let job = self.save_state(job, false, false, None).await?;
        tracing::info!(integration = id, job = job.id, "auto-sync off");
        Ok(Some(job))
    }

    /// Pause: keeps the schedule, runs nothing until resumed.
    pub async fn pause_autosync(&self, id: IntegrationId) -> Result<Job> {
        let job = self.autosync_on(id).await?;
        let job = self.save_state(job, true, true, None).await?;
        tracing::info!(integration = id, job = job.id, "auto-sync paused");
        Ok(job)
    }

    /// Resume a paused auto-sync at its next scheduled time (refused while the
    /// integration needs finalising).
    pub async fn resume_autosync(&self, id: IntegrationId) -> Result<Job> {
        let integration = self.integration(Some(id)).await?;
        if integration.state != IntegrationState::Active {
            return Err(EngineError::NeedsFinalise(id));
        }
        let job = self.autosync_on(id).await?;
        let tz = time_zone(&job.schedule.timezone)?;
        let next = job.schedule.next_after(&tz, self.clock().now());
        let job = self.save_state(job, true, false, next).await?;
        tracing::info!(integration = id, job = job.id, "auto-sync resumed");
        Ok(job)
    }

    /// Make an auto-sync due now: the next worker pass runs it, then it follows its
    /// schedule again.
    pub async fn autosync_now(&self, id: IntegrationId) -> Result<Job> {
        let job = self.autosync_on(id).await?;
        if job.paused {
            return Err(EngineError::Invalid(format!(
                "auto-sync of integration {id} is paused: resume it first"
            )));
        }
        let now = self.clock().now();
        self.save_state(job, true, false, Some(now)).await
    }

    /// The auto-sync job of an integration, if it was ever switched on.
    pub async fn autosync(&self, id: IntegrationId) -> Result<Option<Job>> {
        Ok(self
            .store()
            .job(self.account(), JobKind::Sync, Some(id))
            .await?)
    }

    /// Every scheduled job of the account (auto-syncs and the end-date job).
    pub async fn jobs(&self) -> Result<Vec<Job>> {
        Ok(self.store().jobs(self.account()).await?)
    }

    async fn autosync_on(&self, id: IntegrationId) -> Result<Job> {
        self.integration(Some(id)).await?;
        match self.autosync(id).await? {
            Some(j) if j.enabled => Ok(j),
            _ => Err(EngineError::Invalid(format!(
                "auto-sync of integration {id} is off: switch it on first"
            ))),
        }
    }

    async fn save_state(
        &self,
        job: Job,
        enabled: bool,
        paused: bool,
        next_run_at: Option<jiff::Timestamp>,
    ) -> Result<Job> {
        Ok(self
            .store()
            .upsert_job(JobUpsert {
                account_id: self.account(),
                integration_id: job.integration_id,
                kind: job.kind,
                schedule: job.schedule,
                enabled,
                paused,
                next_run_at,
                at: self.clock().now(),
            })
            .await?)
    }

    /// The account's daily end-date job, created (on) if missing.
    async fn ensure_tick_job(&self) -> Result<Job> {
        if let Some(j) = self
            .store()
            .job(self.account(), JobKind::Tick, None)
            .await?
            && j.enabled
        {
            return Ok(j);
        }
        // "Today" is the first integration's time zone (as `Engine::today`).
        let timezone = self
            .integrations()
            .await?
            .first()
            .map(|i| i.settings.timezone.clone())
            .unwrap_or_else(|| "UTC".into());
        let tz = time_zone(&timezone).unwrap_or(TimeZone::UTC);
        let schedule = Schedule {
            frequency: Frequency::Daily,
            at: TICK_AT,
            timezone,
        };
        let now = self.clock().now();
        let next = schedule.next_after(&tz, now);
        Ok(self
            .store()
            .upsert_job(JobUpsert {
                account_id: self.account(),
                integration_id: None,
                kind: JobKind::Tick,
                schedule,
                enabled: true,
                paused: false,
                next_run_at: next,
                at: now,
            })
            .await?)
    }
}
