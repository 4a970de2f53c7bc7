//! [`Store::anonymise`](crate::Store::anonymise): one transaction that replaces an
//! employee's personal values (the rules: [`roster_core::privacy`]) wherever the
//! store holds them, and records it; [`Store::erasures`](crate::Store::erasures).
//!
//! How to call it (the engine does, under the account's sync lock, never inside a
//! sync's transaction, and refuses while a pending review holds the person):
//!
//! ```text
//! store.anonymise(account, &Anonymisation {
//!     kind: ImportKind::Erasure, rule: Rule::Erasure, trigger, at, by, reason,
//!     personal_demographics: settings.personal_demographics(),
//!     id_prefix: settings.generated_id_prefix.clone(),
//!     employees: vec![ToAnonymise { key, source_digest }],  // digest: engine HMAC
//! }).await?  // -> Anonymised { import_id, employees: [(key, new ID, fields)], … }
//! ```
//!
//! Every table of the schema (migrations 0001–0011), and what happens to it:
//!
//! | table | holds personal values? | what the anonymisation does |
//! |---|---|---|
//! | `employees` | the row; others' `manager_email` / associated demographics name the email | row replaced by the anonymised one; others' references → the neutral email |
//! | `import_entries` | `changes` old/new, `after` of entries not applied, `employee_id` | the employee's own (by key, or a keyless entry that is the same person): personal values emptied, email/ID neutral; others: references → neutral email |
//! | `events` | `changes` before/after, `employee_id` | as `import_entries` (a create's event drops the fields left empty, as a create derived from the history would); a create kept on its import entry (0013: `event_cursor`) stores no values: it reads the anonymised row walked back through the scrubbed events |
//! | `imports` | `details` (issues, findings, file names may quote names/emails) | free text and the employee's objects scrubbed ([`Scrub::json`]) |
//! | `outbox` | `payload` (notification texts), `last_error` | scrubbed |
//! | `deliveries` | `last_error` | scrubbed |
//! | `sync_reviews` | `payload` (a stored plan: the employee's row and changes) | scrubbed (the engine refuses while a *pending* review holds the person) |
//! | `integrations` | `source_fields` (sample values of custom fields) | scrubbed; `settings`, `config`, `credentials` hold no member data |
//! | `jobs`, `feed_subscriptions` | `last_error` | scrubbed |
//! | `erasures` (0011) | field names and the source id's keyed digest only | a row per employee anonymised |
//! | `accounts`, `api_tokens`, `users`, `sessions`, `oauth_states`, `key_check`, `sync_locks`, `notification_channels` | no member data (Roster's own users and channels are configuration: an admin removes them) | untouched |
//!
//! Rows to rewrite outside the employee's own are found by the lower-cased
//! fragments [`Scrub::needles`] gives (`lower(col) LIKE '%…%'`), then decided exactly
//! in Rust. SQLite: the store's connections run with `secure_delete` (freed and
//! overwritten content is zeroed) and the write-ahead log is checkpointed after the
//! commit ([`Adapter::after_erasure`]), so `wal_checkpoint(TRUNCATE)` + `VACUUM`
//! leave no erased byte in the file. PostgreSQL: the rows are rewritten; the old
//! tuple versions stay in the table's files as dead tuples until (auto)VACUUM
//! reclaims them (`VACUUM` makes the space reusable, `VACUUM FULL` rewrites the
//! files) — an operator who must prove erasure on disk runs `VACUUM FULL` on
//! `employees`, `import_entries`, `events` and the payload tables.

use roster_core::employee::EmployeeKey;
use roster_core::feed::EventType;
use roster_core::plan::{Action, Counts, Rule};
use roster_core::privacy::{Scrub, anonymise as plan_anonymisation};
use serde_json::Value;

use super::adapter::{Adapter, Begin};
use super::codec::{from_json, to_json};
use super::dialect::Dialect;
use super::employee;
use super::feed::{EVENT_COLUMNS, changeset_events, event_values};
use super::query::{Arg, Columns, Executor, Query, Transaction};
use super::write::{ENTRY_COLUMNS, EntryRow, link_history, record_import};
use crate::{
    AccountId, Anonymisation, Anonymised, AnonymisedEmployee, Changeset, EntryRecord, Erasure,
    ImportId, ImportStatus, Result, StoreError,
};

mod others;
mod removal;

use others::{
    PAYLOADS, from_changes, other_employees, other_entries, other_events, own_entries, own_events,
    rewrite_entry, rewrite_payloads, to_changes, update_employee,
};

pub(super) async fn anonymise<A: Adapter>(
    a: &A,
    account: AccountId,
    req: &Anonymisation,
) -> Result<Anonymised> {
    let d = A::DIALECT;
    let mut tx = a.begin(Begin::Write).await?;
    let mut cs = Changeset {
        integration_id: None,
        kind: req.kind,
        trigger: req.trigger,
        status: ImportStatus::Applied,
        started_at: req.at,
        finished_at: req.at,
        counts: Counts {
            updated: req.employees.len(),
            ..Counts::default()
        },
        details: Value::Null,
        entries: Vec::new(),
        notifications: Vec::new(),
        rolls_back: None,
        integration_update: None,
    };
    // Locks the account: this is its only write until the commit.
    let import_id = record_import(&mut tx, d, account, &cs, None).await?;
    let mut done = Anonymised {
        import_id,
        employees: Vec::new(),
        rewritten: Vec::new(),
        removed: Vec::new(),
    };
    for target in &req.employees {
        let (entry, fields) =
            anonymise_one(&mut tx, d, account, import_id, req, target.key, &mut done).await?;
        tx.execute(
            Query::new(
                "INSERT INTO erasures (account_id, employee_key, import_id, source_digest, fields) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(account)
            .bind(target.key)
            .bind(import_id)
            .bind(target.source_digest.clone())
            .bind(to_json(&fields)?),
        )
        .await?;
        done.employees.push(AnonymisedEmployee {
            key: target.key,
            employee_id: entry.employee_id.clone(),
            fields,
        });
        cs.entries.push(entry);
        if req.remove {
            let (entries, removed) =
                removal::remove(&mut tx, d, account, import_id, req, target.key).await?;
            cs.entries.extend(entries);
            done.removed.push(removed);
        }
    }
    let removed: Vec<EmployeeKey> = done.removed.iter().map(|r| r.key).collect();
    for (seq, e) in cs.entries.iter().enumerate() {
        // A removed record's entries keep it (anonymised): there is no row to read.
        let after = match e.key {
            Some(k) if removed.contains(&k) => Some(to_json(&e.after)?),
            _ => None,
        };
        let row = EntryRow {
            seq: seq as i64,
            key: e.key,
            employee_id: e.employee_id.clone(),
            action: e.action.as_str(),
            applied: true,
            held: false,
            privacy: false,
            created: false,
            changes: Some(to_json(&e.changes)?),
            after,
            event_cursor: None,
        };
        tx.execute(insert(
            "import_entries",
            ENTRY_COLUMNS,
            row.values(account, import_id),
        ))
        .await?;
    }
    link_history(&mut tx, d, account, import_id).await?;
    // An erasure creates nobody: every event is a row of `events` (none kept).
    let events = changeset_events(&mut tx, account, import_id, &cs, &[]).await?;
    for event in events.events {
        tx.execute(insert(
            "events",
            EVENT_COLUMNS,
            event_values(account, event)?,
        ))
        .await?;
    }
    let mut details = serde_json::json!({
        "anonymisation": {
            "by": req.by,
            "rule": req.reason,
            "employees": done.employees,
        }
    });
    if req.remove {
        // Keys only: which records went, and whose reports moved where.
        details["anonymisation"]["removed"] = serde_json::to_value(&done.removed)
            .map_err(|e| StoreError::Database(format!("the removal's details: {e}")))?;
    }
    tx.execute(
        Query::new("UPDATE imports SET details = $1 WHERE id = $2 AND account_id = $3")
            .bind(to_json(&details)?)
            .bind(import_id)
            .bind(account),
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

fn insert(table: &str, columns: &[(&str, employee::Kind)], values: Vec<Arg>) -> Query {
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    let mut q = Query::new(format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        marks.join(", ")
    ));
    for v in values {
        q = q.bind(v);
    }
    q
}

/// One employee: read, plan, learn every stored value, rewrite everything, write
/// the row. The entry that records it, and the fields replaced.
async fn anonymise_one(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    import_id: ImportId,
    req: &Anonymisation,
    key: EmployeeKey,
    done: &mut Anonymised,
) -> Result<(EntryRecord, Vec<String>)> {
    let row = tx
        .fetch_optional(
            Query::new(format!(
                "SELECT {} FROM employees e WHERE e.key = $1 AND e.account_id = $2{}",
                employee::select(d, "e"),
                d.for_update()
            ))
            .bind(key)
            .bind(account),
        )
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "employee",
            id: key.to_string(),
        })?;
    let before = employee::read(d, &row, 0)?;
    let personal = &req.personal_demographics;
    let plan = plan_anonymisation(&before, personal, &req.id_prefix, req.rule);
    let mut scrub = Scrub::new(&before, &plan, personal);

    let own_entries = own_entries(tx, account, key).await?;
    let own_events = own_events(tx, account, key).await?;
    for (_, _, changes, after) in &own_entries {
        scrub.learn_changes(
            changes
                .iter()
                .flatten()
                .map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref())),
        );
        if let Some(after) = after {
            scrub.learn_employee(after);
        }
    }
    for (_, _, deltas) in &own_events {
        scrub.learn_changes(
            deltas
                .iter()
                .map(|(f, b, a, _)| (f.as_str(), b.as_deref(), a.as_deref())),
        );
    }
    let needles = scrub.needles();

    for (import, seq, changes, after) in own_entries {
        rewrite_entry(
            tx,
            &scrub,
            &plan.employee_id,
            import,
            seq,
            changes,
            after,
            true,
        )
        .await?;
    }
    let id_erased = scrub.neutral().employee_id.is_some();
    for (cursor, event_type, mut deltas) in own_events {
        let mut changes = to_changes(&deltas);
        scrub.changes(&mut changes, true);
        deltas = from_changes(changes);
        if event_type == EventType::Created.as_str() {
            // As a create derived from the history now reads: fields left empty are
            // not listed, and an ID that is not the source id reads as generated.
            deltas.retain(|(_, b, a, _)| b.is_some() || a.is_some());
            for delta in deltas.iter_mut() {
                if delta.0 == "employee_id" && id_erased && delta.3 == Rule::Source {
                    delta.3 = Rule::GeneratedId;
                }
            }
        }
        let changes = if deltas.is_empty() {
            None
        } else {
            Some(to_json(&deltas)?)
        };
        tx.execute(
            Query::new(
                "UPDATE events SET employee_id = $1, changes = $2 \
                 WHERE account_id = $3 AND cursor_no = $4",
            )
            .bind(&plan.employee_id)
            .bind(changes)
            .bind(account)
            .bind(cursor),
        )
        .await?;
    }
    if !needles.is_empty() {
        let n = other_entries(tx, account, key, &scrub, &plan.employee_id, &needles).await?;
        count(done, "import_entries", n);
        let n = other_events(tx, account, key, &scrub, &needles).await?;
        count(done, "events", n);
        let n = other_employees(tx, d, account, key, import_id, req, &scrub, &needles).await?;
        count(done, "employees", n);
        for (table, ids, column, json) in PAYLOADS {
            let n =
                rewrite_payloads(tx, account, table, ids, column, *json, &scrub, &needles).await?;
            count(done, table, n);
        }
    }
    tx.execute(update_employee(
        account,
        import_id,
        req.at,
        key,
        plan.after.clone(),
    )?)
    .await?;
    let entry = EntryRecord {
        action: Action::Update,
        key: Some(key),
        employee_id: plan.employee_id.clone(),
        changes: plan.changes.clone(),
        after: plan.after,
        applied: true,
        held: false,
        privacy: false,
    };
    Ok((entry, plan.fields))
}

fn count(done: &mut Anonymised, table: &str, n: u64) {
    if n == 0 {
        return;
    }
    match done.rewritten.iter_mut().find(|(t, _)| t == table) {
        Some((_, total)) => *total += n,
        None => done.rewritten.push((table.to_string(), n)),
    }
}

pub(super) async fn erasures<A: Adapter>(a: &A, account: AccountId) -> Result<Vec<Erasure>> {
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(
                "SELECT employee_key, import_id, source_digest, fields FROM erasures \
                 WHERE account_id = $1 ORDER BY import_id, employee_key",
            )
            .bind(account),
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Erasure {
                key: row.int(0, "erasures.employee_key")?,
                import_id: row.int(1, "erasures.import_id")?,
                source_digest: row.opt_string(2, "erasures.source_digest")?,
                fields: from_json(row.text(3, "erasures.fields")?, "erasures.fields")?,
            })
        })
        .collect()
}
