//! A consumer of the feed: applying events, in cursor order, rebuilds the directory.

use std::collections::BTreeMap;

use super::types::{Cursor, Event, EventType};
use crate::employee::{Employee, EmployeeKey};

/// The directory as the feed rebuilds it: each employee by key, with every field the
/// feed carries.
pub type Directory = BTreeMap<EmployeeKey, Employee>;

/// Why an event does not apply to the directory replayed so far: the consumer
/// missed events, reordered them, or read another account's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("event {cursor} comes after event {previous}")]
    OutOfOrder { cursor: Cursor, previous: Cursor },
    #[error("event {cursor} creates employee {key}, which an earlier event created")]
    Exists { cursor: Cursor, key: EmployeeKey },
    #[error("event {cursor} changes employee {key}, which no earlier event created")]
    Unknown { cursor: Cursor, key: EmployeeKey },
    #[error(
        "event {cursor}: {field} of employee {key} is {found:?}, the event says it was {expected:?}"
    )]
    Diverged {
        cursor: Cursor,
        key: EmployeeKey,
        field: String,
        expected: Option<String>,
        found: Option<String>,
    },
    #[error("event {cursor}: {message}")]
    Field { cursor: Cursor, message: String },
}

/// Apply one event to `directory`: a create starts from an empty employee, then every
/// field change's `before` is checked against the directory and its `after` set; a
/// removal (the tombstone) drops the employee once its `before`s are checked.
/// Events that do not change the directory ([`EventType::changes_directory`]) are
/// ignored.
pub fn apply_event(directory: &mut Directory, event: &Event) -> Result<(), ReplayError> {
    let (true, Some(key)) = (event.event_type.changes_directory(), event.employee_key) else {
        return Ok(());
    };
    let cursor = event.cursor;
    if event.event_type == EventType::Created {
        if directory.contains_key(&key) {
            return Err(ReplayError::Exists { cursor, key });
        }
        directory.insert(
            key,
            Employee {
                key,
                ..Employee::default()
            },
        );
    }
    let employee = directory
        .get_mut(&key)
        .ok_or(ReplayError::Unknown { cursor, key })?;
    for delta in &event.changes {
        let found = employee.field(&delta.field);
        if found != delta.before {
            return Err(ReplayError::Diverged {
                cursor,
                key,
                field: delta.field.clone(),
                expected: delta.before.clone(),
                found,
            });
        }
        employee
            .set_field(&delta.field, delta.after.as_deref())
            .map_err(|message| ReplayError::Field { cursor, message })?;
    }
    if event.event_type == EventType::Removed {
        directory.remove(&key);
    }
    Ok(())
}

/// The directory the events rebuild, applied in the order given (which must be
/// cursor order).
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Directory, ReplayError> {
    let mut directory = Directory::new();
    let mut previous: Option<Cursor> = None;
    for event in events {
        if let Some(previous) = previous.filter(|p| *p >= event.cursor) {
            return Err(ReplayError::OutOfOrder {
                cursor: event.cursor,
                previous,
            });
        }
        previous = Some(event.cursor);
        apply_event(&mut directory, event)?;
    }
    Ok(directory)
}
