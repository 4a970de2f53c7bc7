//! Running a claimed job: an automatic sync (a failure the engine could not record
//! is recorded here) or the daily tick.

use super::*;

impl Worker {
    /// `(status, import, error, postpone)`, or the job goes back untouched.
    pub(super) async fn run_sync(
        &self,
        job: &Job,
    ) -> Result<(String, Option<ImportId>, Option<String>, bool), PutBack> {
        let Some(id) = job.integration_id else {
            return Ok((
                "gone".into(),
                None,
                Some("a sync job without an integration".into()),
                false,
            ));
        };
        let engine = self.engine(job.account_id);
        let integration = match self.store.integration(job.account_id, id).await {
            Ok(Some(i)) => i,
            Ok(None) => {
                return Ok((
                    "gone".into(),
                    None,
                    Some("the integration was deleted".into()),
                    false,
                ));
            }
            Err(e) => return Ok(("failed".into(), None, Some(e.to_string()), false)),
        };
        if integration.state != IntegrationState::Active {
            // Auto-sync is refused before finalising; a job can only meet this if the
            // state changed under it. Nothing to record but the job's status.
            return Ok((
                "skipped".into(),
                None,
                Some(EngineError::NeedsFinalise(id).to_string()),
                false,
            ));
        }
        // Credentials this worker's key cannot open: not the account's failure.
        if let Err(EngineError::Crypto(CryptoError::Decrypt)) = engine.credentials(&integration) {
            return Err(PutBack(WRONG_KEY.into()));
        }
        let started = self.clock.now();
        let source = match self.sources.source(&engine, &integration).await {
            Ok(s) => s,
            Err(msg) => {
                let import = self
                    .record_failure(&engine, &integration, started, &msg)
                    .await;
                return Ok(("failed".into(), import, Some(msg), false));
            }
        };
        let opts = SyncOptions {
            trigger: Some(Trigger::Automatic),
            apply: true,
            job: Some((job.id, self.config.id.clone())),
            ..SyncOptions::default()
        };
        Ok(match engine.sync(id, source.as_ref(), opts).await {
            Ok(o) => {
                let status = match o.status {
                    SyncStatus::Applied => "applied",
                    SyncStatus::PartiallyApplied => "partially_applied",
                    SyncStatus::Blocked | SyncStatus::NeedsConfirmation => "blocked",
                    SyncStatus::Reviewed => "reviewed",
                };
                (status.into(), o.import_id, None, false)
            }
            Err(EngineError::Store(StoreError::SyncRunning(_))) => (
                "postponed".into(),
                None,
                Some("another sync of this integration is running".into()),
                true,
            ),
            // This run's lock or job lease was taken over while it ran (the worker
            // stalled): its apply was refused and nothing recorded. Whoever took
            // over runs or ran the sync; the job is completed only if still ours.
            Err(e @ EngineError::Store(StoreError::Fenced(_))) => {
                metrics::counter!(names::FENCING_REFUSALS, "kind" => "apply").increment(1);
                tracing::warn!(worker = %self.config.id, job = job.id, integration = id, error = %e, "fencing refused the apply");
                ("fenced".into(), None, Some(e.to_string()), true)
            }
            // Recorded by the engine as a failed import, notified.
            Err(e @ EngineError::Source(_)) => {
                let import = self.latest_import(job.account_id).await;
                ("failed".into(), import, Some(e.to_string()), false)
            }
            Err(e @ EngineError::NeedsFinalise(_)) => {
                ("skipped".into(), None, Some(e.to_string()), false)
            }
            Err(e) => {
                let msg = e.to_string();
                let import = self
                    .record_failure(&engine, &integration, started, &msg)
                    .await;
                ("failed".into(), import, Some(msg), false)
            }
        })
    }

    async fn latest_import(&self, account: AccountId) -> Option<ImportId> {
        self.store
            .imports(account, 1)
            .await
            .ok()
            .and_then(|l| l.first().map(|i| i.id))
    }

    async fn record_failure(
        &self,
        engine: &Engine,
        integration: &Integration,
        started: Timestamp,
        message: &str,
    ) -> Option<ImportId> {
        match engine
            .record_failure(integration, Trigger::Automatic, started, message, None)
            .await
        {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(integration = integration.id, error = %e, "could not record the failed sync");
                None
            }
        }
    }

    pub(super) async fn run_tick(
        &self,
        job: &Job,
    ) -> (String, Option<ImportId>, Option<String>, bool) {
        let engine = self.engine(job.account_id);
        let ticked = match engine.tick().await {
            Ok(o) => o.import_id,
            Err(e) => return ("failed".into(), None, Some(e.to_string()), false),
        };
        // Then retention (its own transaction, after the day's end dates): who is due
        // today is anonymised; a person a pending review holds waits for the next day.
        let retained = match engine.retention(Trigger::Automatic, false).await {
            Ok(o) => {
                if !o.skipped.is_empty() {
                    tracing::warn!(
                        account = job.account_id,
                        skipped = o.skipped.len(),
                        "retention skipped employees a pending review would change"
                    );
                }
                o.import_id
            }
            Err(e) => {
                return (
                    "failed".into(),
                    ticked,
                    Some(format!("retention: {e}")),
                    false,
                );
            }
        };
        match ticked.or(retained) {
            Some(id) => ("applied".into(), Some(id), None, false),
            None => ("nothing_due".into(), None, None, false),
        }
    }
}
