//! Erasure on request (issue #17): a person's personal data replaced by neutral
//! values everywhere Roster keeps it ([`roster_store::Store::anonymise`]), under the
//! account's sync locks (every integration's: no sync runs meanwhile, and the
//! erasure is never part of a sync's transaction), refused while a pending review
//! holds the person.

use roster_core::employee::Employee;
use roster_core::guard::Trigger;
use roster_core::plan::Rule;
use roster_store::{Anonymisation, Anonymised, ImportKind, ToAnonymise};
use serde_json::Value;

use crate::engine::{Engine, EngineError, Result};
use crate::lock::SyncLock;

impl Engine {
    /// Erase the personal data of the employee `who` (employee ID or email): it
    /// stays as an anonymous record (reporting fields kept, reports still pointing
    /// at it). `by` is who asked (recorded with the import, kind `erasure`).
    pub async fn erase(&self, who: &str, by: &str) -> Result<Anonymised> {
        let e = self.find(who).await?;
        self.refuse_if_reviewed(&e).await?;
        let integrations = self.store.integrations(self.account).await?;
        let mut locks = Vec::new();
        for i in &integrations {
            locks.push(SyncLock::acquire(&self.store, self.account, i.id, self.lease()).await?);
        }
        let settings = integrations
            .first()
            .map(|i| i.settings.clone())
            .unwrap_or_default();
        let request = Anonymisation {
            kind: ImportKind::Erasure,
            rule: Rule::Erasure,
            trigger: Trigger::Manual,
            at: self.clock.now(),
            by: by.to_string(),
            reason: "on request".into(),
            personal_demographics: settings.personal_demographics(),
            id_prefix: settings.generated_id_prefix.clone(),
            employees: vec![ToAnonymise {
                key: e.key,
                source_digest: e
                    .source_id
                    .as_deref()
                    .map(|s| self.cipher().source_digest(s)),
            }],
        };
        let done = self.store.anonymise(self.account, &request).await;
        for lock in locks {
            lock.release().await;
        }
        Ok(done?)
    }

    /// A pending review whose plan holds `e`: the admin applies or discards it first.
    async fn refuse_if_reviewed(&self, e: &Employee) -> Result<()> {
        for review in self.store.pending_reviews(self.account, 10_000).await? {
            if holds(&review.payload, e) {
                return Err(EngineError::Invalid(format!(
                    "review {} (pending) holds employee {}: apply or discard it first \
                     (the review's page, or POST /api/v1/reviews/{0}/apply or …/discard)",
                    review.id, e.employee_id
                )));
            }
        }
        Ok(())
    }
}

/// Whether a review's payload holds the employee: an object with its key, or a
/// value equal to its employee ID, email or source id.
pub(crate) fn holds(v: &Value, e: &Employee) -> bool {
    match v {
        Value::String(s) => {
            s == &e.employee_id
                || (!e.email.is_empty() && s.eq_ignore_ascii_case(&e.email))
                || e.source_id.as_deref() == Some(s.as_str())
        }
        Value::Array(items) => items.iter().any(|i| holds(i, e)),
        Value::Object(map) => {
            map.get("key").and_then(Value::as_i64) == Some(e.key)
                || map.values().any(|i| holds(i, e))
        }
        _ => false,
    }
}
