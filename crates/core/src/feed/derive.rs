//! From an applied import's entries to its events.

use jiff::civil::Date;

use super::types::{Cursor, Event, EventType, FieldDelta, ImportMeta, Stored};
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
    /// Every field the entry changed. Empty for a create as plans and the history
    /// keep it: every field of `after` from empty ([`Written::whole`]).
    pub changes: &'a [Change],
    /// The employee as the import wrote it (not as it is now).
    pub after: &'a Employee,
}

impl<'a> Written<'a> {
    /// An entry as plans and the history keep it: a create keeps no changes (the
    /// employee's row holds the values), so a create without changes stands for
    /// every field from empty ([`Change::created`]).
    pub fn new(
        key: EmployeeKey,
        action: Action,
        changes: &'a [Change],
        after: &'a Employee,
    ) -> Self {
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

    /// A create that recorded no changes: its changes are every field of `after`
    /// from empty, which its event keeps as `after` ([`Stored::created`]) and
    /// spells out when read.
    pub fn whole(&self) -> bool {
        self.action == Action::Create && self.changes.is_empty()
    }
}

/// The events of one applied import, numbered from `first`: for each written
/// employee (in the order given, the import's entry order) its event, then its
/// scheduled events; and `import.applied` last. Entries that changed nothing give
/// no event.
pub fn derive_events(import: &ImportMeta, written: &[Written<'_>], first: Cursor) -> Vec<Event> {
    derive_stored(import, written, first)
        .into_iter()
        .map(Stored::into_event)
        .collect()
}

/// [`derive_events`] as a write stores them: a create that recorded no changes
/// ([`Written::whole`]) keeps its employee instead of a change per field (a 100k
/// first import would otherwise build and store 1.5 M field changes).
pub fn derive_stored<'a>(
    import: &ImportMeta,
    written: &[Written<'a>],
    first: Cursor,
) -> Vec<Stored<'a>> {
    let mut events = Vec::with_capacity(written.len() + 1);
    let mut next = first;
    let mut push = |event_type: EventType,
                    who: Option<&Written<'a>>,
                    changes: Vec<FieldDelta>,
                    created: Option<&'a Employee>| {
        events.push(Stored {
            event: Event {
                cursor: next,
                event_type,
                at: import.at,
                import_id: import.id,
                import_kind: import.kind,
                employee_key: who.map(|w| w.key),
                employee_id: who.map(|w| w.after.employee_id.clone()),
                changes,
            },
            created,
        });
        next += 1;
    };
    for w in written {
        if w.whole() {
            // Spelled out only where it is needed: an employee without any field
            // (no event) or with a future date (scheduled events).
            let all = (w.after.employee_id.is_empty() || has_future_date(w.after, import.day))
                .then(|| Change::created(w.after));
            if all.as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            push(EventType::Created, Some(w), Vec::new(), Some(w.after));
            for (event_type, change) in
                scheduled(all.as_deref().unwrap_or(&[]), w.after, import.day)
            {
                push(event_type, Some(w), vec![FieldDelta::from(change)], None);
            }
            continue;
        }
        if w.changes.is_empty() {
            continue;
        }
        let deltas = w.changes.iter().map(FieldDelta::from).collect();
        push(event_type(w), Some(w), deltas, None);
        for (event_type, change) in scheduled(w.changes, w.after, import.day) {
            push(event_type, Some(w), vec![FieldDelta::from(change)], None);
        }
    }
    push(EventType::ImportApplied, None, Vec::new(), None);
    events
}

/// The event type of an employee's changes: created, removed, merged, deactivated,
/// reactivated, else updated. From the changes, not the recorded action (see
/// [`Written::action`]).
fn event_type(w: &Written<'_>) -> EventType {
    match w.action {
        Action::Create => return EventType::Created,
        Action::Remove => return EventType::Removed,
        _ => {}
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

/// A start or end date after `day`: a create with one gets scheduled events.
fn has_future_date(e: &Employee, day: Date) -> bool {
    e.start_date.is_some_and(|d| d > day) || e.end_date.is_some_and(|d| d > day)
}

/// The scheduled events an employee's changes give: an end date after `day` set on
/// an employee who is active after the import (`after`), and a start date after
/// `day`.
fn scheduled<'c>(
    changes: &'c [Change],
    after: &Employee,
    day: Date,
) -> Vec<(EventType, &'c Change)> {
    let future = |c: &Change| {
        c.new
            .as_deref()
            .and_then(|d| d.parse::<Date>().ok())
            .is_some_and(|d| d > day)
    };
    let mut out = Vec::new();
    for c in changes {
        match c.field.as_str() {
            "end_date" if after.active && future(c) => {
                out.push((EventType::DeactivationScheduled, c));
            }
            "start_date" if future(c) => out.push((EventType::StartScheduled, c)),
            _ => {}
        }
    }
    out
}
