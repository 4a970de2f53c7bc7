//! The feed from the history alone, and the directory as it was.
//!
//! The history records, per applied import, which fields of which employee changed
//! from what to what; a create records only that it created the employee (its row
//! holds the values). Walking the history backwards from the directory as it is now,
//! setting each change's field back to its `old` value, gives every employee as each
//! import left it: [`events_from_history`] derives each import's events from that,
//! exactly as the write derived them ([`derive_events`]); the store's test compares
//! the two. [`rewind`] walks the feed backwards the same way: the directory before a
//! given event (the directory as of a date).

use std::collections::BTreeMap;

use super::derive::{Written, derive_events};
use super::replay::Directory;
use super::types::{Cursor, Event, EventType, ImportMeta};
use crate::employee::{Employee, EmployeeKey};
use crate::plan::{Action, Change};

/// One applied entry of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEntry {
    pub key: EmployeeKey,
    pub action: Action,
    /// The import created the employee.
    pub created: bool,
    /// The recorded changes (empty for a create that recorded none).
    pub changes: Vec<Change>,
}

/// An applied import of the history, with its applied entries in entry order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedImport {
    pub meta: ImportMeta,
    pub entries: Vec<RecordedEntry>,
}

/// Why the history does not lead to the directory: a field it names is unknown, or
/// an entry names an employee the directory does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("import {import}: employee {key} is not in the directory")]
    Missing { import: i64, key: EmployeeKey },
    #[error("import {import}: {message}")]
    Field { import: i64, message: String },
}

/// Every event the `imports` (applied, in commit order) gave, numbered from
/// `first`, derived from the history and the directory as it is now (`directory`).
pub fn events_from_history(
    directory: &[Employee],
    imports: &[RecordedImport],
    first: Cursor,
) -> Result<Vec<Event>, HistoryError> {
    let mut state: BTreeMap<EmployeeKey, Employee> =
        directory.iter().map(|e| (e.key, e.clone())).collect();
    // Each entry's employee as the import left it, newest import first: walking
    // each import's entries back from its last, an entry's employee is the state
    // before the later entries are undone (an employee an import changed and then
    // removed has two entries in it).
    let mut afters: Vec<Vec<Employee>> = Vec::with_capacity(imports.len());
    for import in imports.iter().rev() {
        let id = import.meta.id;
        let mut after = vec![Employee::default(); import.entries.len()];
        for (i, entry) in import.entries.iter().enumerate().rev() {
            if entry.action == Action::Remove {
                // Not in the directory since: the tombstone's values rebuild it.
                let e =
                    rebuilt(entry.key, &entry.changes).map_err(|message| HistoryError::Field {
                        import: id,
                        message,
                    })?;
                after[i] = e.clone();
                state.insert(entry.key, e);
                continue;
            }
            let e = state.get_mut(&entry.key).ok_or(HistoryError::Missing {
                import: id,
                key: entry.key,
            })?;
            after[i] = e.clone();
            if entry.created {
                state.remove(&entry.key);
                continue;
            }
            for c in entry.changes.iter().rev() {
                e.set_field(&c.field, c.old.as_deref())
                    .map_err(|message| HistoryError::Field {
                        import: id,
                        message,
                    })?;
            }
        }
        afters.push(after);
    }
    let mut events = Vec::new();
    let mut next = first;
    for (import, after) in imports.iter().zip(afters.iter().rev()) {
        let written: Vec<Written<'_>> = import
            .entries
            .iter()
            .zip(after)
            .map(|(entry, after)| {
                let action = if entry.created {
                    Action::Create
                } else {
                    entry.action
                };
                Written::new(entry.key, action, &entry.changes, after)
            })
            .collect();
        let derived = derive_events(&import.meta, &written, next);
        next += derived.len() as Cursor;
        events.extend(derived);
    }
    Ok(events)
}

/// Undo `events` (in cursor order, the last events of the feed) on `directory`, the
/// directory after all of them: newest first, a created employee is removed, a
/// removed one comes back from its tombstone's `before`s (anonymised: that is all
/// the feed kept), and every other change's field is set back to its `before`. The
/// result is the directory before the first of `events`.
pub fn rewind(directory: &mut Directory, events: &[Event]) -> Result<(), HistoryError> {
    for event in events.iter().rev() {
        let (true, Some(key)) = (event.event_type.changes_directory(), event.employee_key) else {
            continue;
        };
        let import = event.import_id;
        if event.event_type == EventType::Created {
            directory.remove(&key);
            continue;
        }
        if event.event_type == EventType::Removed {
            let changes: Vec<Change> = event
                .changes
                .iter()
                .map(|d| Change {
                    field: d.field.clone(),
                    old: d.before.clone(),
                    new: d.after.clone(),
                    rule: d.rule,
                })
                .collect();
            let e = rebuilt(key, &changes)
                .map_err(|message| HistoryError::Field { import, message })?;
            directory.insert(key, e);
            continue;
        }
        let e = directory
            .get_mut(&key)
            .ok_or(HistoryError::Missing { import, key })?;
        for delta in event.changes.iter().rev() {
            e.set_field(&delta.field, delta.before.as_deref())
                .map_err(|message| HistoryError::Field { import, message })?;
        }
    }
    Ok(())
}

/// An employee removed since, rebuilt from its tombstone's changes (each field from
/// its value to nothing): every field back to its `old` value.
fn rebuilt(key: EmployeeKey, changes: &[Change]) -> Result<Employee, String> {
    let mut e = Employee {
        key,
        ..Employee::default()
    };
    for c in changes {
        e.set_field(&c.field, c.old.as_deref())?;
    }
    Ok(e)
}
