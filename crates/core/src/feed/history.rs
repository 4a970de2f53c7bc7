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
    // Each import's employees as it left them, newest import first.
    let mut afters: Vec<Vec<Employee>> = Vec::with_capacity(imports.len());
    for import in imports.iter().rev() {
        let id = import.meta.id;
        let mut after = Vec::with_capacity(import.entries.len());
        for entry in &import.entries {
            let e = state.get(&entry.key).ok_or(HistoryError::Missing {
                import: id,
                key: entry.key,
            })?;
            after.push(e.clone());
        }
        for entry in import.entries.iter().rev() {
            if entry.created {
                state.remove(&entry.key);
                continue;
            }
            let e = state.get_mut(&entry.key).ok_or(HistoryError::Missing {
                import: id,
                key: entry.key,
            })?;
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
/// directory after all of them: newest first, a created employee is removed and
/// every other change's field is set back to its `before`. The result is the
/// directory before the first of `events`.
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
