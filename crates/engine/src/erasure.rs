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
        self.erase_and(who, by, false).await
    }

    /// [`Engine::erase`], and with `remove` the record removed entirely once
    /// anonymised (`users erase --remove`): its reports follow its manager, the
    /// change feed gets an `employee.removed` tombstone (the anonymised record), and
    /// only the keyed digest of the source id (to recognise a re-hire) and the
    /// anonymised history stay.
    pub async fn erase_and(&self, who: &str, by: &str, remove: bool) -> Result<Anonymised> {
        let e = self.find(who).await?;
        self.refuse_if_reviewed(&e).await?;
        if remove
            && let Some(m) = self
                .store
                .directory(self.account)
                .await?
                .iter()
                .find(|m| m.merged_into == Some(e.key))
        {
            return Err(EngineError::Invalid(format!(
                "employee {} has record {} merged into it: it cannot be removed (erase it                  without --remove)",
                e.employee_id, m.employee_id
            )));
        }
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
            remove,
        };
        let done = self.store.anonymise(self.account, &request).await;
        for lock in locks {
            lock.release().await;
        }
        Ok(done?)
    }

    /// The warning an admin reads before erasing `e`: `Some` when it is active (as
    /// of the last sync, the source lists them as employed), so that the next sync
    /// brings their data back from the source (held by the privacy guard) unless
    /// they leave the source first.
    pub fn erasure_warning(e: &Employee) -> Option<String> {
        e.active.then(|| {
            format!(
                "employee {} is active (in the source, as of the last sync): the next sync                  recognises them and brings their data back from the source (the privacy                  guard holds that for review) unless they leave the source first",
                e.employee_id
            )
        })
    }

    /// The members recognised as people whose data was erased: the keyed digest of
    /// their source id is one an erasure kept (`PlanOptions::returning`). With the
    /// whole `directory` at hand, members whose source id a row holds are not
    /// digested (an anonymised record holds none): one HMAC per new or erased
    /// member, not per member.
    pub(crate) async fn returning(
        &self,
        members: &[roster_core::SourceMember],
        directory: Option<&[Employee]>,
    ) -> Result<std::collections::BTreeMap<String, roster_core::employee::EmployeeKey>> {
        let erasures = self.store.erasures(self.account).await?;
        let digests: std::collections::HashMap<&str, _> = erasures
            .iter()
            .filter_map(|e| Some((e.source_digest.as_deref()?, e.key)))
            .collect();
        if digests.is_empty() {
            return Ok(Default::default());
        }
        let held: std::collections::HashSet<&str> = directory
            .into_iter()
            .flatten()
            .filter_map(|e| e.source_id.as_deref())
            .collect();
        Ok(members
            .iter()
            .filter(|m| !m.source_id.trim().is_empty() && !held.contains(m.source_id.as_str()))
            .filter_map(|m| {
                let key = digests.get(self.cipher().source_digest(&m.source_id).as_str())?;
                Some((m.source_id.clone(), *key))
            })
            .collect())
    }

    /// A pending review whose plan holds `e`: the admin applies or discards it first.
    async fn refuse_if_reviewed(&self, e: &Employee) -> Result<()> {
        // `pending_reviews` lists heads (payload `null`): read each review whole.
        for (id, payload) in self.pending_review_payloads().await? {
            if holds(&payload, e) {
                return Err(EngineError::Invalid(format!(
                    "review {} (pending) holds employee {}: apply or discard it first \
                     (the review's page, or POST /api/v1/reviews/{0}/apply or …/discard)",
                    id, e.employee_id
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_holds_an_employee_by_key_id_email_or_source_id() {
        let e = Employee {
            key: 7,
            employee_id: "E7".into(),
            source_id: Some("mbr_7".into()),
            email: "Seven@acme.example".into(),
            ..Employee::default()
        };
        let by_key = serde_json::json!({"plan": {"entries": [{"key": 7, "changes": []}]}});
        let by_email = serde_json::json!({"entries": [{"after": {"email": "seven@acme.example"}}]});
        let by_source = serde_json::json!([["mbr_7"]]);
        let other = serde_json::json!({"entries": [{"key": 8, "employee_id": "E8",
            "after": {"email": "eight@acme.example", "source_id": "mbr_8"}}]});
        assert!(holds(&by_key, &e));
        assert!(holds(&by_email, &e));
        assert!(holds(&by_source, &e));
        assert!(!holds(&other, &e));
    }
}
