//! `users erase --remove`: after the anonymisation, in the same transaction, the
//! record goes — its reports follow its manager ([`roster_core::privacy::removal`]),
//! the removal is recorded as a tombstone entry (the anonymised record's fields, so
//! that the history and the feed walk back to it), and the row is deleted (its
//! retention hold with it). The `erasures` row (field names, the source id's keyed
//! digest) stays: a re-hire is still recognised.

use roster_core::employee::EmployeeKey;
use roster_core::normalise::email_key as normalised_email;
use roster_core::privacy::removal as plan_removal;

use super::super::codec::to_json;
use super::super::dialect::Dialect;
use super::super::employee;
use super::super::history::own_chain;
use super::super::query::{Executor, Query};
use super::others::update_employee;
use crate::erasure::{RemovedEmployee, ReportMoved};
use crate::{AccountId, Anonymisation, EntryRecord, ImportId, Result, StoreError};

/// Remove the (anonymised) employee `key`: the entries that record it (the moves,
/// then the tombstone), and what moved.
pub(super) async fn remove(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    import_id: ImportId,
    req: &Anonymisation,
    key: EmployeeKey,
) -> Result<(Vec<EntryRecord>, RemovedEmployee)> {
    let rows = tx
        .fetch_all(
            Query::new(format!(
                "SELECT {} FROM employees e WHERE e.account_id = $1 ORDER BY e.key",
                employee::select(d, "e")
            ))
            .bind(account),
        )
        .await?;
    let directory = rows
        .iter()
        .map(|r| employee::read(d, r, 0))
        .collect::<Result<Vec<_>>>()?;
    if directory.iter().any(|e| e.merged_into == Some(key)) {
        return Err(StoreError::Conflict(format!(
            "employee key {key}: records merged into it point to it; it cannot be removed"
        )));
    }
    let day = req.at.to_zoned(jiff::tz::TimeZone::UTC).date();
    let plan =
        plan_removal(&directory, key, req.rule, day).ok_or_else(|| StoreError::NotFound {
            what: "employee",
            id: key.to_string(),
        })?;
    let manager_key = plan.tombstone.after.manager_email.as_deref().and_then(|m| {
        let m = normalised_email(m);
        directory
            .iter()
            .find(|e| e.key != key && normalised_email(&e.email) == m)
            .map(|e| e.key)
    });
    let gone = plan.tombstone.after.clone();
    let gone_email = normalised_email(&gone.email);
    let mut entries = Vec::with_capacity(plan.moves.len() + 1);
    let mut reports_moved = Vec::new();
    for m in plan.moves.into_iter().chain([plan.tombstone]) {
        let k = m.key.unwrap_or_default();
        if m.key != Some(key) {
            let was = directory.iter().find(|e| e.key == k);
            if was
                .and_then(|e| e.manager_email.as_deref())
                .map(normalised_email)
                == Some(gone_email.clone())
            {
                reports_moved.push(ReportMoved {
                    key: k,
                    manager_key,
                });
            }
            tx.execute(update_employee(
                account,
                import_id,
                req.at,
                k,
                m.after.clone(),
            )?)
            .await?;
        }
        entries.push(EntryRecord {
            action: m.action,
            key: m.key,
            employee_id: m.after.employee_id.clone(),
            changes: m.changes,
            after: m.after,
            applied: true,
            held: false,
            privacy: false,
        });
    }
    // The history reads an applied entry's employee from its row: the entries of
    // a removed record keep the record as it went (anonymised) instead.
    tx.execute(
        Query::new(format!(
            "{}UPDATE import_entries SET after = $3 \
             WHERE account_id = $1 AND employee_key = $2 AND after IS NULL \
             AND import_id IN (SELECT c.import_id FROM chain c)",
            own_chain()
        ))
        .bind(account)
        .bind(key)
        .bind(to_json(&gone)?),
    )
    .await?;
    tx.execute(
        Query::new("DELETE FROM retention_holds WHERE account_id = $1 AND employee_key = $2")
            .bind(account)
            .bind(key),
    )
    .await?;
    tx.execute(
        Query::new("DELETE FROM employees WHERE account_id = $1 AND key = $2")
            .bind(account)
            .bind(key),
    )
    .await?;
    Ok((entries, RemovedEmployee { key, reports_moved }))
}
