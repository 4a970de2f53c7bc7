//! The rows of an anonymisation beyond the employee's own: found by the erased
//! values' fragments, decided in Rust ([`Scrub`]), rewritten.

use roster_core::employee::{Employee, EmployeeKey};
use roster_core::plan::{Change, Rule};
use roster_core::privacy::Scrub;
use serde_json::Value;

use super::super::codec::{from_json, to_json};
use super::super::dialect::Dialect;
use super::super::employee::{self, WRITE_COLUMNS};
use super::super::feed::read_changes;
use super::super::history::{CHAIN_ENTRY, own_chain};
use super::super::query::{Arg, Columns, Executor, Query};
use crate::{AccountId, Anonymisation, ImportId, Result};

/// A field change as the events table stores it.
pub(super) type StoredDelta = (String, Option<String>, Option<String>, Rule);

/// The tables whose payload or error text may quote a person: (table, id columns,
/// column, JSON?). Each has `account_id`.
pub(super) const PAYLOADS: &[(&str, &[&str], &str, bool)] = &[
    ("imports", &["id"], "details", true),
    ("outbox", &["id"], "payload", true),
    ("outbox", &["id"], "last_error", false),
    (
        "deliveries",
        &["outbox_id", "channel_id"],
        "last_error",
        false,
    ),
    ("sync_reviews", &["id"], "payload", true),
    ("integrations", &["id"], "source_fields", true),
    ("jobs", &["id"], "last_error", false),
    ("feed_subscriptions", &["channel_id"], "last_error", false),
];

/// ` AND (lower(c1) LIKE $n … OR …)` over `columns`, binding the needles from
/// parameter `first` on.
fn matching(columns: &[&str], needles: &[String], first: usize) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut ors = Vec::new();
    for n in needles {
        let escaped = n
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(Arg::from(format!("%{escaped}%")));
        let mark = first + args.len() - 1;
        for c in columns {
            ors.push(format!("lower({c}) LIKE ${mark} ESCAPE '\\'"));
        }
    }
    (format!(" AND ({})", ors.join(" OR ")), args)
}

pub(super) type OwnEntry = (i64, i64, Option<Vec<Change>>, Option<Employee>);

pub(super) async fn own_entries(
    tx: &mut impl Executor,
    account: AccountId,
    key: EmployeeKey,
) -> Result<Vec<OwnEntry>> {
    let rows = tx
        .fetch_all(
            Query::new(format!(
                "{}SELECT ie.import_id, ie.seq, ie.changes, ie.after \
                 FROM chain c CROSS JOIN import_entries ie \
                 WHERE {CHAIN_ENTRY} AND ie.account_id = $1",
                own_chain()
            ))
            .bind(account)
            .bind(key),
        )
        .await?;
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(row: &impl Columns) -> Result<OwnEntry> {
    let changes = row
        .opt_text(2, "import_entries.changes")?
        .map(|s| from_json(s, "import_entries.changes"))
        .transpose()?;
    let after = row
        .opt_text(3, "import_entries.after")?
        .map(|s| from_json(s, "import_entries.after"))
        .transpose()?;
    Ok((
        row.int(0, "import_entries.import_id")?,
        row.int(1, "import_entries.seq")?,
        changes,
        after,
    ))
}

pub(super) async fn own_events(
    tx: &mut impl Executor,
    account: AccountId,
    key: EmployeeKey,
) -> Result<Vec<(i64, String, Vec<StoredDelta>)>> {
    let rows = tx
        .fetch_all(
            Query::new(
                "SELECT cursor_no, event_type, changes FROM events \
                 WHERE account_id = $1 AND employee_key = $2",
            )
            .bind(account)
            .bind(key),
        )
        .await?;
    rows.iter()
        .map(|row| {
            // Read as the feed reads it: a create stored as its employee comes back
            // spelled out, and is written back spelled out (scrubbed).
            let deltas = read_changes(row.opt_text(2, "events.changes")?, Some(key))?
                .into_iter()
                .map(|d| (d.field, d.before, d.after, d.rule))
                .collect();
            Ok((
                row.int(0, "events.cursor_no")?,
                row.string(1, "events.event_type")?,
                deltas,
            ))
        })
        .collect()
}

pub(super) fn to_changes(deltas: &[StoredDelta]) -> Vec<Change> {
    deltas
        .iter()
        .map(|(field, before, after, rule)| Change {
            field: field.clone(),
            old: before.clone(),
            new: after.clone(),
            rule: *rule,
        })
        .collect()
}

pub(super) fn from_changes(changes: Vec<Change>) -> Vec<StoredDelta> {
    changes
        .into_iter()
        .map(|c| (c.field, c.old, c.new, c.rule))
        .collect()
}

/// Rewrite one import entry: the employee's own (its ID column too) or another's.
#[allow(clippy::too_many_arguments)]
pub(super) async fn rewrite_entry(
    tx: &mut impl Executor,
    scrub: &Scrub,
    employee_id: &str,
    import: i64,
    seq: i64,
    changes: Option<Vec<Change>>,
    after: Option<Employee>,
    own: bool,
) -> Result<bool> {
    let mut changed = own;
    let changes = match changes {
        Some(mut c) => {
            changed |= scrub.changes(&mut c, own);
            Some(to_json(&c)?)
        }
        None => None,
    };
    let after = match after {
        Some(mut e) => {
            changed |= scrub.employee(&mut e, own);
            Some(to_json(&e)?)
        }
        None => None,
    };
    if !changed {
        return Ok(false);
    }
    let id_set = if own { ", employee_id = $5" } else { "" };
    let mut q = Query::new(format!(
        "UPDATE import_entries SET changes = $1, after = $2{id_set} \
         WHERE import_id = $3 AND seq = $4"
    ))
    .bind(changes)
    .bind(after)
    .bind(import)
    .bind(seq);
    if own {
        q = q.bind(employee_id);
    }
    tx.execute(q).await?;
    Ok(true)
}

/// Entries of other employees (or of nobody: creates not applied) that hold an
/// erased value.
pub(super) async fn other_entries(
    tx: &mut impl Executor,
    account: AccountId,
    key: EmployeeKey,
    scrub: &Scrub,
    employee_id: &str,
    needles: &[String],
) -> Result<u64> {
    let (filter, args) = matching(&["changes", "after"], needles, 3);
    let mut q = Query::new(format!(
        "SELECT import_id, seq, changes, after FROM import_entries \
         WHERE account_id = $1 AND (employee_key IS NULL OR employee_key <> $2){filter}"
    ))
    .bind(account)
    .bind(key);
    for a in args {
        q = q.bind(a);
    }
    let rows = tx.fetch_all(q).await?;
    let found: Vec<OwnEntry> = rows.iter().map(entry_from_row).collect::<Result<_>>()?;
    let mut n = 0;
    for (import, seq, changes, after) in found {
        let own = after.as_ref().is_some_and(|e| scrub.is_same_person(e));
        if rewrite_entry(tx, scrub, employee_id, import, seq, changes, after, own).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Events of other employees that name an erased email.
pub(super) async fn other_events(
    tx: &mut impl Executor,
    account: AccountId,
    key: EmployeeKey,
    scrub: &Scrub,
    needles: &[String],
) -> Result<u64> {
    let (filter, args) = matching(&["changes"], needles, 3);
    let mut q = Query::new(format!(
        "SELECT cursor_no, changes, employee_key FROM events \
         WHERE account_id = $1 AND (employee_key IS NULL OR employee_key <> $2){filter}"
    ))
    .bind(account)
    .bind(key);
    for a in args {
        q = q.bind(a);
    }
    let rows = tx.fetch_all(q).await?;
    let mut found = Vec::new();
    for row in &rows {
        // A create stored as its employee is read spelled out, as the feed reads it.
        let owner = row.opt_int(2, "events.employee_key")?;
        let deltas: Vec<StoredDelta> = read_changes(Some(row.text(1, "events.changes")?), owner)?
            .into_iter()
            .map(|d| (d.field, d.before, d.after, d.rule))
            .collect();
        found.push((row.int(0, "events.cursor_no")?, deltas));
    }
    let mut n = 0;
    for (cursor, deltas) in found {
        let mut changes = to_changes(&deltas);
        if !scrub.changes(&mut changes, false) {
            continue;
        }
        tx.execute(
            Query::new("UPDATE events SET changes = $1 WHERE account_id = $2 AND cursor_no = $3")
                .bind(to_json(&from_changes(changes))?)
                .bind(account)
                .bind(cursor),
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Other employees whose manager or associated field is an erased email: it
/// becomes the neutral one (the reporting line stays whole).
#[allow(clippy::too_many_arguments)]
pub(super) async fn other_employees(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    key: EmployeeKey,
    import_id: ImportId,
    req: &Anonymisation,
    scrub: &Scrub,
    needles: &[String],
) -> Result<u64> {
    let (filter, args) = matching(&["e.manager_email", "e.demographics"], needles, 3);
    let mut q = Query::new(format!(
        "SELECT {} FROM employees e WHERE e.account_id = $1 AND e.key <> $2{filter}",
        employee::select(d, "e")
    ))
    .bind(account)
    .bind(key);
    for a in args {
        q = q.bind(a);
    }
    let rows = tx.fetch_all(q).await?;
    let found: Vec<Employee> = rows
        .iter()
        .map(|r| employee::read(d, r, 0))
        .collect::<Result<_>>()?;
    let mut n = 0;
    for mut e in found {
        if !scrub.employee(&mut e, false) {
            continue;
        }
        let k = e.key;
        tx.execute(update_employee(account, import_id, req.at, k, e)?)
            .await?;
        n += 1;
    }
    Ok(n)
}

/// One employee row written whole (the write's columns, derived ones included).
pub(super) fn update_employee(
    account: AccountId,
    import_id: ImportId,
    at: jiff::Timestamp,
    key: EmployeeKey,
    e: Employee,
) -> Result<Query> {
    let set: Vec<String> = WRITE_COLUMNS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, (c, _))| format!("{c} = ${}", i + 1))
        .collect();
    let n = WRITE_COLUMNS.len();
    let mut q = Query::new(format!(
        "UPDATE employees SET {}, updated_at = ${}, last_import_id = ${} \
         WHERE key = $1 AND account_id = ${}",
        set.join(", "),
        n + 1,
        n + 2,
        n + 3
    ));
    for v in employee::write_values(key, e)? {
        q = q.bind(v);
    }
    Ok(q.bind(at).bind(import_id).bind(account))
}

/// Rows of `table` whose `column` (JSON or text) holds an erased value, rewritten.
#[allow(clippy::too_many_arguments)]
pub(super) async fn rewrite_payloads(
    tx: &mut impl Executor,
    account: AccountId,
    table: &str,
    ids: &[&str],
    column: &str,
    json: bool,
    scrub: &Scrub,
    needles: &[String],
) -> Result<u64> {
    let (filter, args) = matching(&[column], needles, 2);
    let mut q = Query::new(format!(
        "SELECT {column}, {} FROM {table} WHERE account_id = $1{filter}",
        ids.join(", ")
    ))
    .bind(account);
    for a in args {
        q = q.bind(a);
    }
    let rows = tx.fetch_all(q).await?;
    let what = format!("{table}.{column}");
    let mut found = Vec::new();
    for row in &rows {
        let text = row.text(0, &what)?;
        let now = if json {
            let mut v: Value = from_json(text, &what)?;
            if scrub.json(&mut v) {
                Some(to_json(&v)?)
            } else {
                None
            }
        } else {
            scrub.text(text)
        };
        if let Some(now) = now {
            let keys: Vec<i64> = (0..ids.len())
                .map(|i| row.int(i + 1, &what))
                .collect::<Result<_>>()?;
            found.push((now, keys));
        }
    }
    let n = found.len() as u64;
    let by: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 3))
        .collect();
    for (now, keys) in found {
        let mut q = Query::new(format!(
            "UPDATE {table} SET {column} = $1 WHERE account_id = $2 AND {}",
            by.join(" AND ")
        ))
        .bind(now)
        .bind(account);
        for k in keys {
            q = q.bind(k);
        }
        tx.execute(q).await?;
    }
    Ok(n)
}
