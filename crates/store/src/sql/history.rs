//! What was recorded: imports with their entries, an employee's history, the
//! outbox.

use jiff::Timestamp;
use roster_core::employee::EmployeeKey;
use roster_core::plan::Change;
use roster_core::rollback::RecordedChange;

use super::adapter::{Adapter, Begin};
use super::codec::{action, from_json, import_kind, import_status, limit, trigger};
use super::employee;
use super::jobs::{MESSAGE_SELECT, message_from_row};
use super::query::{Columns, Executor, Query, Transaction};
use crate::{
    AccountId, EntryRecord, HistoryEntry, ImportId, ImportRecord, ImportSummary, OutboxMessage,
    Result, StoreError,
};

pub(super) const IMPORT_SELECT: &str =
    "id, integration_id, kind, trigger_kind, status, started_at, finished_at, counts";

pub(super) fn summary_from_row(row: &impl Columns) -> Result<ImportSummary> {
    Ok(ImportSummary {
        id: row.int(0, "imports.id")?,
        integration_id: row.opt_int(1, "imports.integration_id")?,
        kind: import_kind(row.text(2, "imports.kind")?, "imports.kind")?,
        trigger: trigger(row.text(3, "imports.trigger_kind")?)?,
        status: import_status(row.text(4, "imports.status")?, "imports.status")?,
        started_at: row.ts(5, "imports.started_at")?,
        finished_at: row.ts(6, "imports.finished_at")?,
        counts: row.json(7, "imports.counts")?,
    })
}

pub(super) fn changes_from(json: Option<&str>) -> Result<Vec<Change>> {
    json.map(|s| from_json(s, "import_entries.changes"))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn no_employee() -> StoreError {
    StoreError::Corrupt("an applied import entry has no employee".into())
}

pub(super) async fn imports<A: Adapter>(
    a: &A,
    account: AccountId,
    n: usize,
) -> Result<Vec<ImportSummary>> {
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(format!(
                "SELECT {IMPORT_SELECT} FROM imports WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(account)
            .bind(limit(n)),
        )
        .await?;
    rows.iter().map(summary_from_row).collect()
}

pub(super) async fn import_head<A: Adapter>(
    a: &A,
    account: AccountId,
    id: ImportId,
) -> Result<Option<(ImportSummary, serde_json::Value)>> {
    let row = a
        .pool_executor()
        .fetch_optional(
            Query::new(format!(
                "SELECT {IMPORT_SELECT}, details FROM imports WHERE id = $1 AND account_id = $2"
            ))
            .bind(id)
            .bind(account),
        )
        .await?;
    row.map(|row| Ok((summary_from_row(&row)?, row.json(8, "imports.details")?)))
        .transpose()
}

pub(super) async fn import<A: Adapter>(
    a: &A,
    account: AccountId,
    id: ImportId,
) -> Result<Option<ImportRecord>> {
    // One snapshot for the import and its entries.
    let mut tx = a.begin(Begin::Snapshot).await?;
    let Some(row) = tx
        .fetch_optional(
            Query::new(format!(
                "SELECT {IMPORT_SELECT}, details FROM imports WHERE id = $1 AND account_id = $2"
            ))
            .bind(id)
            .bind(account),
        )
        .await?
    else {
        return Ok(None);
    };
    let summary = summary_from_row(&row)?;
    let details = row.json(8, "imports.details")?;
    // Applied entries take `after` from the employee row as it is now.
    let sql = format!(
        "SELECT ie.employee_key, ie.employee_id, ie.action, ie.applied, ie.held, ie.privacy, \
         ie.changes, ie.after, {} \
         FROM import_entries ie LEFT JOIN employees e ON ie.after IS NULL \
         AND e.key = ie.employee_key AND e.account_id = ie.account_id \
         WHERE ie.import_id = $1 AND ie.account_id = $2 ORDER BY ie.seq",
        employee::select_opt(A::DIALECT, "e")
    );
    let mut entries = Vec::new();
    tx.for_each(Query::new(sql).bind(id).bind(account), &mut |row| {
        let after = match row.opt_text(7, "import_entries.after")? {
            Some(json) => from_json(json, "import_entries.after")?,
            None => employee::read_opt(A::DIALECT, row, 8)?.ok_or_else(no_employee)?,
        };
        entries.push(EntryRecord {
            action: action(row.text(2, "import_entries.action")?)?,
            key: row.opt_int(0, "import_entries.employee_key")?,
            employee_id: row.string(1, "import_entries.employee_id")?,
            changes: changes_from(row.opt_text(6, "import_entries.changes")?)?,
            after,
            applied: row.boolean(3, "import_entries.applied")?,
            held: row.boolean(4, "import_entries.held")?,
            privacy: row.boolean(5, "import_entries.privacy")?,
        });
        Ok(())
    })
    .await?;
    tx.commit().await?;
    Ok(Some(ImportRecord {
        summary,
        details,
        entries,
    }))
}

pub(super) async fn import_changes<A: Adapter>(
    a: &A,
    account: AccountId,
    id: ImportId,
) -> Result<Vec<RecordedChange>> {
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(
                "SELECT employee_key, employee_id, created, changes FROM import_entries \
                 WHERE import_id = $1 AND account_id = $2 AND applied ORDER BY seq",
            )
            .bind(id)
            .bind(account),
        )
        .await?;
    let mut out = Vec::new();
    for row in &rows {
        let key = row
            .opt_int(0, "import_entries.employee_key")?
            .ok_or_else(no_employee)?;
        let created = row.boolean(2, "import_entries.created")?;
        if created {
            out.push(RecordedChange {
                key,
                field: "employee_id".into(),
                old: None,
                new: Some(row.string(1, "import_entries.employee_id")?),
                created: true,
            });
        }
        for c in changes_from(row.opt_text(3, "import_entries.changes")?)? {
            out.push(RecordedChange {
                key,
                field: c.field,
                old: c.old,
                new: c.new,
                created,
            });
        }
    }
    Ok(out)
}

/// The person (`$2`) and every record merged into them, transitively, in account
/// `$1`: a `WITH` clause naming `family(key)`. Each join in the order it must run
/// (see [`CHAIN`]).
pub(super) const FAMILY: &str = "WITH RECURSIVE family(key) AS ( \
         SELECT e.key FROM employees e WHERE e.key = $2 AND e.account_id = $1 \
         UNION \
         SELECT e.key FROM family f CROSS JOIN employees e \
         WHERE e.merged_into = f.key AND e.account_id = $1 \
     ) ";

/// After a `WITH RECURSIVE` clause naming `family(key)` (employees of account
/// `$1`): `, chain(key, import_id)`, each import with an entry about each of them,
/// found through the history chain (migration 0017: the row names its last such
/// import, each entry the one before; [`write::link_history`](super::write::link_history))
/// instead of an index of the entries by employee. Read the entries as
/// `FROM chain c CROSS JOIN import_entries ie WHERE {CHAIN_ENTRY} …`: the chain
/// first (SQLite otherwise may walk every entry and look each up in the chain; it
/// keeps no statistics, and its guesses differ with a table's size: each join
/// here is spelled in the order it must run).
pub(super) const CHAIN: &str = ", chain(key, import_id) AS ( \
         SELECT e.key, e.history_import_id FROM family f CROSS JOIN employees e \
         WHERE e.key = f.key AND e.account_id = $1 AND e.history_import_id IS NOT NULL \
         UNION \
         SELECT c.key, ie.prev_import_id FROM chain c JOIN import_entries ie \
         ON ie.import_id = c.import_id AND ie.employee_key = c.key \
         WHERE ie.prev_import_id IS NOT NULL \
     ) ";

/// The condition joining `import_entries ie` to the `chain c` of [`CHAIN`].
pub(super) const CHAIN_ENTRY: &str = "ie.import_id = c.import_id AND ie.employee_key = c.key";

/// A `WITH` clause naming `chain(key, import_id)` ([`CHAIN`]) for one employee, key
/// `$2` of account `$1` (the records merged into it not included).
pub(super) fn own_chain() -> String {
    format!("WITH RECURSIVE family(key) AS (SELECT CAST($2 AS BIGINT)){CHAIN}")
}

/// The statement of [`employee_history`] (account `$1`, key `$2`): the employee's
/// own entries and those of every record merged into it (transitively), the latter
/// marked with the merged record's employee ID.
pub fn employee_history_sql() -> String {
    format!(
        "{FAMILY}{CHAIN}\
         SELECT ie.import_id, i.kind, i.finished_at, ie.action, ie.changes, \
                CASE WHEN ie.employee_key = $2 THEN NULL ELSE e.employee_id END \
         FROM chain c CROSS JOIN import_entries ie \
         JOIN imports i ON i.id = ie.import_id \
         LEFT JOIN employees e ON e.key = ie.employee_key AND e.account_id = ie.account_id \
         WHERE {CHAIN_ENTRY} AND ie.account_id = $1 AND ie.applied \
         ORDER BY ie.import_id DESC, ie.seq DESC"
    )
}

pub(super) async fn employee_history<A: Adapter>(
    a: &A,
    account: AccountId,
    key: EmployeeKey,
) -> Result<Vec<HistoryEntry>> {
    let rows = a
        .pool_executor()
        .fetch_all(Query::new(employee_history_sql()).bind(account).bind(key))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(HistoryEntry {
                import_id: row.int(0, "import_entries.import_id")?,
                kind: import_kind(row.text(1, "imports.kind")?, "imports.kind")?,
                at: row.ts(2, "imports.finished_at")?,
                action: action(row.text(3, "import_entries.action")?)?,
                changes: changes_from(row.opt_text(4, "import_entries.changes")?)?,
                merged_from: row.opt_string(5, "employees.employee_id")?,
            })
        })
        .collect()
}

pub(super) async fn outbox<A: Adapter>(
    a: &A,
    account: AccountId,
    n: usize,
) -> Result<Vec<OutboxMessage>> {
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(format!(
                "SELECT {MESSAGE_SELECT} FROM outbox \
                 WHERE account_id = $1 AND delivered_at IS NULL ORDER BY id LIMIT $2"
            ))
            .bind(account)
            .bind(limit(n)),
        )
        .await?;
    rows.iter().map(|row| message_from_row(row, 0)).collect()
}

pub(super) async fn mark_delivered<A: Adapter>(
    a: &A,
    account: AccountId,
    id: i64,
    at: Timestamp,
) -> Result<()> {
    let done = a
        .pool_executor()
        .execute(
            Query::new(
                "UPDATE outbox SET delivered_at = COALESCE(delivered_at, $3) \
                 WHERE id = $1 AND account_id = $2",
            )
            .bind(id)
            .bind(account)
            .bind(at),
        )
        .await?;
    if done == 0 {
        return Err(StoreError::NotFound {
            what: "outbox message",
            id: id.to_string(),
        });
    }
    Ok(())
}
