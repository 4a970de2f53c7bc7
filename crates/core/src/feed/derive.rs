//! From an applied import's entries to its events.

use std::borrow::Cow;

use jiff::civil::Date;

use super::types::{Cursor, Event, EventType, FieldDelta, ImportMeta};
use crate::employee::{Employee, EmployeeKey, MERGED_INTO};
use crate::plan::{Action, Change, Entry};

/// One employee an applied import wrote, as [`derive_events`] reads it: what a plan
/// entry holds, and what the store records of an applied entry.
#[derive(Clone, Debug)]
pub struct Written<'a> {
    /// The directory key (for a create, the one the store gave it).
    pub key: EmployeeKey,
    /// The recorded action. Derive does not trust it for the event type: a
    /// rollback records every entry as `update`, also those that deactivate or
    /// reactivate.
    pub action: Action,
    /// Every field the entry changed; for a create, every field from empty.
    pub changes: Cow<'a, [Change]>,
    /// The employee as the import wrote it (not as it is now).
    pub after: &'a Employee,
}

impl<'a> Written<'a> {
    /// An entry as plans and the history keep it: a create keeps no changes (the
    /// employee's row holds the values), so a create without changes gets every
    /// field from empty ([`Change::created`]).
    pub fn new(
        key: EmployeeKey,
        action: Action,
        changes: &'a [Change],
        after: &'a Employee,
    ) -> Self {
        let changes = if action == Action::Create && changes.is_empty() {
            Cow::Owned(Change::created(after))
        } else {
            Cow::Borrowed(changes)
        };
        Self {
            key,
            action,
            changes,
            after,
        }
    }

    /// A plan entry applied under `key` (its own, or the one a create got).
    pub fn entry(key: EmployeeKey, entry: &'a Entry) -> Self {
        Self::new(key, entry.action, &entry.changes, &entry.after)
    }
}

/// The events of one applied import, numbered from `first`: for each written
/// employee (in the order given, the import's entry order) its event, then its
/// scheduled events; and `import.applied` last. Entries that changed nothing give
/// no event.
pub fn derive_events(import: &ImportMeta, written: &[Written<'_>], first: Cursor) -> Vec<Event> {
    let mut events = Vec::new();
    let mut next = first;
    let mut push = |event_type: EventType, who: Option<&Written<'_>>, changes: Vec<FieldDelta>| {
        events.push(Event {
            cursor: next,
            event_type,
            at: import.at,
            import_id: import.id,
            import_kind: import.kind,
            employee_key: who.map(|w| w.key),
            employee_id: who.map(|w| w.after.employee_id.clone()),
            changes,
        });
        next += 1;
    };
    for w in written {
        if w.changes.is_empty() {
            continue;
        }
        let deltas = w.changes.iter().map(FieldDelta::from).collect();
        push(event_type(w), Some(w), deltas);
        for (event_type, change) in scheduled(w, import.day) {
            push(event_type, Some(w), vec![FieldDelta::from(change)]);
        }
    }
    push(EventType::ImportApplied, None, Vec::new());
    events
}

/// The event type of an employee's changes: created, merged, deactivated,
/// reactivated, else updated. From the changes, not the recorded action (see
/// [`Written::action`]).
fn event_type(w: &Written<'_>) -> EventType {
    if w.action == Action::Create {
        return EventType::Created;
    }
    let change = |field: &str| w.changes.iter().find(|c| c.field == field);
    if change(MERGED_INTO).is_some_and(|c| c.new.is_some()) {
        return EventType::Merged;
    }
    match change("active").map(|c| c.new.as_deref()) {
        Some(Some("false")) => EventType::Deactivated,
        Some(Some("true")) => EventType::Reactivated,
        _ => EventType::Updated,
    }
}

/// The scheduled events an employee's changes give: an end date after `day` set on
/// an employee who is active after the import, and a start date after `day`.
fn scheduled<'w>(w: &'w Written<'_>, day: Date) -> Vec<(EventType, &'w Change)> {
    let future = |c: &Change| {
        c.new
            .as_deref()
            .and_then(|d| d.parse::<Date>().ok())
            .is_some_and(|d| d > day)
    };
    let mut out = Vec::new();
    for c in w.changes.iter() {
        match c.field.as_str() {
            "end_date" if w.after.active && future(c) => {
                out.push((EventType::DeactivationScheduled, c));
            }
            "start_date" if future(c) => out.push((EventType::StartScheduled, c)),
            _ => {}
        }
    }
    out
}
