//! [`Store::write`](crate::Store::write) in steps: what every adapter does around
//! its own bulk statements, in one transaction.
//!
//! ```text
//! check(&changeset)?;                                   // before the transaction
//! let mut tx = adapter.begin(Begin::Write).await?;
//! let import_id = record_import(&mut tx, dialect, account, &changeset, fence).await?;
//! let rows = split(changeset.entries, new_keys)?;     // keys for creates: the adapter's
//! … the adapter writes rows.take_updates(), rows.take_creates(), rows.into_entries() …
//! count_created(&mut tx, dialect, account, active).await?;  // rows.active_created(), if Some
//! queue_notifications(&mut tx, account, import_id, finished_at, notifications).await?;
//! tx.commit().await?;
//! ```

use std::collections::HashSet;

use jiff::Timestamp;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::feed::Cursor;

use super::codec::to_json;
use super::dialect::Dialect;
use super::employee::Kind;
use super::query::{Arg, Columns, Executor, Query};
use crate::{AccountId, Changeset, EntryRecord, Fence, ImportId, Notification, Result, StoreError};

/// Refuse a changeset that cannot be written: an employee changed twice, or an
/// integration update without an integration.
pub fn check(cs: &Changeset) -> Result<()> {
    let mut seen = HashSet::new();
    for key in cs
        .entries
        .iter()
        .filter(|e| e.applied)
        .filter_map(|e| e.key)
    {
        if !seen.insert(key) {
            return Err(StoreError::Conflict(format!(
                "employee {key} is changed twice in one changeset"
            )));
        }
    }
    if cs.integration_update.is_some() && cs.integration_id.is_none() {
        return Err(StoreError::Conflict(
            "an integration update without an integration".into(),
        ));
    }
    Ok(())
}

/// In the write's transaction: lock the account (PostgreSQL: its row, so that this
/// is the account's only write until the commit), check the fence, mark the import
/// rolled back, update the integration, and insert the import. Its id.
pub async fn record_import(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    cs: &Changeset,
    fence: Option<&Fence>,
) -> Result<ImportId> {
    // FOR NO KEY UPDATE leaves the account free for inserts that merely refer to it.
    let locked = tx
        .fetch_optional(
            Query::new(format!(
                "SELECT id FROM accounts WHERE id = $1{}",
                d.for_no_key_update()
            ))
            .bind(account),
        )
        .await?;
    if locked.is_none() {
        return Err(StoreError::NotFound {
            what: "account",
            id: account.to_string(),
        });
    }
    if let Some(fence) = fence {
        check_fence(tx, d, account, fence).await?;
    }
    if let Some(old) = cs.rolls_back {
        let done = tx
            .execute(
                Query::new(
                    "UPDATE imports SET status = 'rolled_back' WHERE id = $1 AND account_id = $2",
                )
                .bind(old)
                .bind(account),
            )
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "import",
                id: old.to_string(),
            });
        }
    }
    if let (Some(u), Some(integration)) = (&cs.integration_update, cs.integration_id) {
        let done = tx
            .execute(
                Query::new(
                    "UPDATE integrations SET state = COALESCE($3, state), \
                     last_fetch_at = COALESCE($4, last_fetch_at), \
                     last_sync_at = COALESCE($5, last_sync_at) WHERE id = $1 AND account_id = $2",
                )
                .bind(integration)
                .bind(account)
                .bind(u.state.map(|s| s.as_str()))
                .bind(u.last_fetch_at)
                .bind(u.last_sync_at),
            )
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "integration",
                id: integration.to_string(),
            });
        }
    }
    let row = tx
        .fetch_one(
            Query::new(
                "INSERT INTO imports (account_id, integration_id, kind, trigger_kind, status, \
                 started_at, finished_at, counts, details, rolls_back) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(account)
            .bind(cs.integration_id)
            .bind(cs.kind.as_str())
            .bind(cs.trigger.as_str())
            .bind(cs.status.as_str())
            .bind(cs.started_at)
            .bind(cs.finished_at)
            .bind(to_json(&cs.counts)?)
            .bind(to_json(&cs.details)?)
            .bind(cs.rolls_back),
        )
        .await?;
    row.int(0, "imports.id")
}

/// The fence still holds: the sync lock is the writer's, at its generation, and the
/// job (if any) is still leased to its worker. Inside the write's transaction; the
/// rows are locked until the commit (PostgreSQL: `FOR UPDATE`; SQLite's write
/// transaction holds the database), so no one takes either over before it.
async fn check_fence(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    fence: &Fence,
) -> Result<()> {
    let held = tx
        .fetch_optional(
            Query::new(format!(
                "SELECT generation FROM sync_locks WHERE integration_id = $1 AND account_id = $2 \
                 AND holder = $3 AND generation = $4{}",
                d.for_update()
            ))
            .bind(fence.integration)
            .bind(account)
            .bind(&fence.holder)
            .bind(fence.generation),
        )
        .await?;
    if held.is_none() {
        return Err(StoreError::Fenced(format!(
            "the sync lock of integration {} was taken over",
            fence.integration
        )));
    }
    if let Some((job, worker)) = &fence.job {
        let leased = tx
            .fetch_optional(
                Query::new(format!(
                    "SELECT id FROM jobs WHERE id = $1 AND account_id = $2 AND lease_holder = $3{}",
                    d.for_update()
                ))
                .bind(*job)
                .bind(account)
                .bind(worker),
            )
            .await?;
        if leased.is_none() {
            return Err(StoreError::Fenced(format!(
                "the lease of job {job} was taken over"
            )));
        }
    }
    Ok(())
}

/// How many entries create an employee (and need a new key).
pub fn creates(entries: &[EntryRecord]) -> usize {
    entries
        .iter()
        .filter(|e| e.applied && e.key.is_none())
        .count()
}

/// Count the active employees a write created into the account's kept count
/// (migration 0015's `active_counts`, whose triggers follow updates and deletes):
/// `active` of the created rows were active. Run after the creates are in. An
/// account without its row gets one, counted from its rows (its first write).
pub async fn count_created(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    active: usize,
) -> Result<()> {
    let counted = tx
        .execute(
            Query::new("UPDATE active_counts SET active = active + $1 WHERE account_id = $2")
                .bind(active as i64)
                .bind(account),
        )
        .await?;
    if counted == 0 {
        tx.execute(
            Query::new(format!(
                "INSERT INTO active_counts (account_id, active) \
                 SELECT $1, COUNT(*) FROM employees WHERE account_id = $1 AND {}",
                d.is_true("active")
            ))
            .bind(account),
        )
        .await?;
    }
    Ok(())
}

/// The history chain (migration 0017) through the entries of import `import_id`
/// about employees it did not create: each such entry names the import before it
/// with an entry about its employee (the row's `history_import_id`), and the row
/// then names this import. (A created row names its import when it is inserted; its
/// entry has none before it.) Run after the import's entries are in, once: entries
/// of one employee in one import name the same import before them, and
/// [`history::CHAIN`](super::history::CHAIN) reads an import's entries about an
/// employee together. A removed row (deleted) leaves its entries unlinked.
pub async fn link_history(
    tx: &mut impl Executor,
    d: Dialect,
    account: AccountId,
    import_id: ImportId,
) -> Result<()> {
    let not_created = format!("NOT ({})", d.is_true("created"));
    tx.execute(
        Query::new(format!(
            "UPDATE import_entries SET prev_import_id = (\
                 SELECT e.history_import_id FROM employees e \
                 WHERE e.key = import_entries.employee_key AND e.account_id = $2) \
             WHERE import_id = $1 AND employee_key IS NOT NULL AND {not_created}"
        ))
        .bind(import_id)
        .bind(account),
    )
    .await?;
    tx.execute(
        Query::new(format!(
            "UPDATE employees SET history_import_id = $1 WHERE account_id = $2 AND key IN (\
                 SELECT employee_key FROM import_entries \
                 WHERE import_id = $1 AND employee_key IS NOT NULL AND {not_created})"
        ))
        .bind(import_id)
        .bind(account),
    )
    .await?;
    Ok(())
}

/// The columns of an import entry a write inserts, in the order of
/// [`EntryRow::values`].
pub const ENTRY_COLUMNS: &[(&str, Kind)] = &[
    ("account_id", Kind::Int),
    ("import_id", Kind::Int),
    ("seq", Kind::Int),
    ("employee_key", Kind::Int),
    ("employee_id", Kind::Text),
    ("action", Kind::Text),
    ("applied", Kind::Bool),
    ("held", Kind::Bool),
    ("privacy", Kind::Bool),
    ("created", Kind::Bool),
    ("changes", Kind::Text),
    ("after", Kind::Text),
    ("event_cursor", Kind::Int),
];

/// One import entry as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryRow {
    pub seq: i64,
    pub key: Option<i64>,
    pub employee_id: String,
    pub action: &'static str,
    pub applied: bool,
    pub held: bool,
    pub privacy: bool,
    pub created: bool,
    pub changes: Option<String>,
    pub after: Option<String>,
    /// The cursor of the create's `employee.created` event when the event is kept
    /// here rather than in `events` ([`crate::sql::feed::ImportEvents::kept`]).
    pub event_cursor: Option<i64>,
}

impl EntryRow {
    /// The values of [`ENTRY_COLUMNS`].
    pub fn values(self, account: AccountId, import_id: ImportId) -> Vec<Arg> {
        vec![
            Arg::Int(Some(account)),
            Arg::Int(Some(import_id)),
            Arg::Int(Some(self.seq)),
            Arg::Int(self.key),
            Arg::Text(Some(self.employee_id)),
            Arg::Text(Some(self.action.to_string())),
            Arg::Bool(self.applied),
            Arg::Bool(self.held),
            Arg::Bool(self.privacy),
            Arg::Bool(self.created),
            Arg::Text(self.changes),
            Arg::Text(self.after),
            Arg::Int(self.event_cursor),
        ]
    }
}

/// A changeset's entries ready to be written: the employees to update and to
/// create (by key), then the import entries. The employees are taken from the
/// entries as they are written, and the entry rows built one by one, so that a
/// first import of a million members holds its employees once (no second vector
/// of them, nor of the rows).
#[derive(Debug, Default)]
pub struct Rows {
    entries: Vec<EntryRecord>,
    marks: Vec<Mark>,
    updates: usize,
    creates: usize,
}

/// What [`split`] settled of one entry.
#[derive(Clone, Copy, Debug)]
struct Mark {
    /// Its key: the new one of a create.
    key: Option<i64>,
    /// An applied create.
    created: bool,
    event_cursor: Option<Cursor>,
}

impl Rows {
    /// How many employees the changeset updates.
    pub fn updates_len(&self) -> usize {
        self.updates
    }

    /// How many employees it creates.
    pub fn creates_len(&self) -> usize {
        self.creates
    }

    /// How many of the employees it creates are active, for [`count_created`];
    /// `None` when it creates none (the kept count is then left alone).
    pub fn active_created(&self) -> Option<usize> {
        (self.creates > 0).then(|| {
            self.entries
                .iter()
                .zip(&self.marks)
                .filter(|(e, m)| e.applied && m.created && e.after.active)
                .count()
        })
    }

    /// Does it record an entry about an employee it does not create (one that
    /// [`link_history`] must link)?
    pub fn links(&self) -> bool {
        self.marks.iter().any(|m| m.key.is_some() && !m.created)
    }

    /// How many import entries it records.
    pub fn entries_len(&self) -> usize {
        self.entries.len()
    }

    /// The employees to update, by key, in entry order.
    pub fn updates(&self) -> impl Iterator<Item = (i64, &Employee)> + '_ {
        self.entries.iter().zip(&self.marks).filter_map(|(e, m)| {
            match (e.applied, m.created, m.key) {
                (true, false, Some(k)) => Some((k, &e.after)),
                _ => None,
            }
        })
    }

    /// [`Rows::updates`], each employee moved out of its entry.
    pub fn take_updates(&mut self) -> impl Iterator<Item = (i64, Employee)> + '_ {
        self.take(false)
    }

    /// The employees to create, by their new keys, in entry order, each moved out of
    /// its entry.
    pub fn take_creates(&mut self) -> impl Iterator<Item = (i64, Employee)> + '_ {
        self.take(true)
    }

    fn take(&mut self, created: bool) -> impl Iterator<Item = (i64, Employee)> + '_ {
        self.entries
            .iter_mut()
            .zip(&self.marks)
            .filter_map(move |(e, m)| match (e.applied, m.created, m.key) {
                (true, c, Some(k)) if c == created => Some((k, std::mem::take(&mut e.after))),
                _ => None,
            })
    }

    /// The import entries as stored, in order (after the employees are taken).
    /// Applied entries keep no copy of the employee (the directory row is it); an
    /// applied create keeps no changes unless the caller recorded some.
    pub fn into_entries(self) -> impl Iterator<Item = Result<EntryRow>> {
        self.entries
            .into_iter()
            .zip(self.marks)
            .enumerate()
            .map(|(seq, (entry, m))| {
                let EntryRecord {
                    action,
                    employee_id,
                    changes,
                    after,
                    applied,
                    held,
                    privacy,
                    ..
                } = entry;
                let changes = if m.created && changes.is_empty() {
                    None
                } else {
                    Some(to_json(&changes)?)
                };
                let after = if applied {
                    None
                } else {
                    Some(to_json(&after)?)
                };
                Ok(EntryRow {
                    seq: seq as i64,
                    key: m.key,
                    employee_id,
                    action: action.as_str(),
                    applied,
                    held,
                    privacy,
                    created: m.created,
                    changes,
                    after,
                    event_cursor: m.event_cursor,
                })
            })
    }
}

/// Settle the entries' keys; `new_keys` gives the keys of the created employees,
/// in entry order ([`creates`] of them). `kept` are the creates whose event the
/// entry keeps (by key, in entry order: [`crate::sql::feed::ImportEvents::kept`]).
pub fn split(
    entries: Vec<EntryRecord>,
    mut new_keys: impl Iterator<Item = i64>,
    kept: &[(EmployeeKey, Cursor)],
) -> Result<Rows> {
    let mut kept = kept.iter().copied().peekable();
    let mut marks = Vec::with_capacity(entries.len());
    let (mut updates, mut creates) = (0, 0);
    for entry in &entries {
        let mark = match (entry.applied, entry.key) {
            (true, None) => {
                let k = new_keys
                    .next()
                    .ok_or_else(|| StoreError::Database("too few keys for the creates".into()))?;
                creates += 1;
                Mark {
                    key: Some(k),
                    created: true,
                    event_cursor: kept.next_if(|(key, _)| *key == k).map(|(_, c)| c),
                }
            }
            (applied, key) => {
                updates += usize::from(applied);
                Mark {
                    key,
                    created: false,
                    event_cursor: None,
                }
            }
        };
        marks.push(mark);
    }
    if kept.next().is_some() {
        return Err(StoreError::Database(
            "a kept event names no create of the import".into(),
        ));
    }
    Ok(Rows {
        entries,
        marks,
        updates,
        creates,
    })
}

/// Queue the notifications in the outbox, one by one so that their ids follow
/// their order; `created_at` is the changeset's `finished_at`.
pub async fn queue_notifications(
    tx: &mut impl Executor,
    account: AccountId,
    import_id: ImportId,
    finished_at: Timestamp,
    notifications: Vec<Notification>,
) -> Result<()> {
    for note in notifications {
        tx.execute(
            Query::new(
                "INSERT INTO outbox (account_id, import_id, event, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(account)
            .bind(import_id)
            .bind(note.event)
            .bind(to_json(&note.payload)?)
            .bind(finished_at),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_core::plan::Action;

    fn entry(key: Option<i64>, applied: bool) -> EntryRecord {
        EntryRecord {
            action: Action::Create,
            key,
            employee_id: "E".into(),
            changes: Vec::new(),
            after: Employee::default(),
            applied,
            held: false,
            privacy: false,
        }
    }

    #[test]
    fn creates_get_the_new_keys_in_order() {
        let entries = vec![entry(None, true), entry(Some(3), true), entry(None, true)];
        assert_eq!(creates(&entries), 2);
        let mut rows = split(entries, [10, 11].into_iter(), &[(11, 5)]).unwrap();
        assert_eq!(
            (rows.creates_len(), rows.updates_len(), rows.entries_len()),
            (2, 1, 3)
        );
        let updates: Vec<i64> = rows.updates().map(|(k, _)| k).collect();
        assert_eq!(updates, [3]);
        let created: Vec<i64> = rows.take_creates().map(|(k, _)| k).collect();
        assert_eq!(created, [10, 11]);
        let updated: Vec<i64> = rows.take_updates().map(|(k, _)| k).collect();
        assert_eq!(updated, [3]);
        let rows: Vec<EntryRow> = rows.into_entries().map(Result::unwrap).collect();
        let keys: Vec<_> = rows.iter().map(|r| r.key).collect();
        assert_eq!(keys, [Some(10), Some(3), Some(11)]);
        assert!(rows.iter().all(|r| r.after.is_none()));
        assert_eq!(rows[0].changes, None);
        assert_eq!(rows[1].changes.as_deref(), Some("[]"));
        let cursors: Vec<_> = rows.iter().map(|r| r.event_cursor).collect();
        assert_eq!(cursors, [None, None, Some(5)]);
        let seqs: Vec<_> = rows.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [0, 1, 2]);
        let created: Vec<_> = rows.iter().map(|r| r.created).collect();
        assert_eq!(created, [true, false, true]);
    }

    /// The employees are moved out of the entries once: a second take finds none.
    #[test]
    fn an_employee_is_taken_once() {
        let mut e = entry(None, true);
        e.after.first_name = Some("Ada".into());
        let mut rows = split(vec![e], [7].into_iter(), &[]).unwrap();
        let taken: Vec<_> = rows.take_creates().collect();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].1.first_name.as_deref(), Some("Ada"));
        assert_eq!(rows.entries[0].after, Employee::default());
    }

    #[test]
    fn an_entry_not_applied_keeps_its_employee() {
        let mut rows = split(vec![entry(None, false)], std::iter::empty(), &[]).unwrap();
        assert_eq!(rows.take_creates().count(), 0);
        assert_eq!(rows.updates().count(), 0);
        let rows: Vec<EntryRow> = rows.into_entries().map(Result::unwrap).collect();
        assert!(rows[0].after.is_some());
        assert_eq!(rows[0].key, None);
        let values = rows[0].clone().values(1, 2);
        assert_eq!(values.len(), ENTRY_COLUMNS.len());
    }

    #[test]
    fn too_few_keys_is_an_error() {
        assert!(split(vec![entry(None, true)], std::iter::empty(), &[]).is_err());
        // A kept event must name one of the import's creates.
        assert!(split(vec![entry(None, true)], [4].into_iter(), &[(9, 1)]).is_err());
    }
}
