//! Removing an anonymised employee's record entirely (`users erase --remove`, issue
//! #17): its reports are re-pointed to its manager (as when a manager leaves),
//! `is_manager` is derived again, and the removal is recorded as a tombstone — every
//! field of the anonymised record, from its value to nothing — so that the history
//! and the change feed can still walk back to the record as it stood (anonymised).

use jiff::civil::Date;

use crate::employee::{Employee, EmployeeKey};
use crate::normalise::email_key;
use crate::plan::{Action, Change, Entry, Rule, edits};

/// What removing one record changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The other employees that change: reports re-pointed to the removed
    /// employee's manager (or to nobody), and managers whose `is_manager` flips,
    /// as admin edits under `rule` (`is_manager`: `derived`).
    pub moves: Vec<Entry>,
    /// The removal's own entry ([`Action::Remove`]): the record as it goes (its
    /// `after`) and every field of it to nothing ([`Change::removed`]).
    pub tombstone: Entry,
}

/// Plan the removal of the employee `key` from `directory` (which holds it, already
/// anonymised); `None` when it is not there.
pub fn removal(
    directory: &[Employee],
    key: EmployeeKey,
    rule: Rule,
    today: Date,
) -> Option<Removal> {
    let gone = directory.iter().find(|e| e.key == key)?;
    let rest: Vec<Employee> = directory.iter().filter(|e| e.key != key).cloned().collect();
    let email = email_key(&gone.email);
    let moved: Vec<Employee> = rest
        .iter()
        .filter(|e| {
            !email.is_empty() && e.manager_email.as_deref().map(email_key) == Some(email.clone())
        })
        .map(|e| {
            let mut e = e.clone();
            // Never their own manager (a cycle through the removed record).
            e.manager_email = gone
                .manager_email
                .clone()
                .filter(|m| email_key(m) != email_key(&e.email));
            e
        })
        .collect();
    let plan = edits(&rest, moved, rule, today);
    let tombstone = Entry {
        action: Action::Remove,
        key: Some(key),
        changes: Change::removed(gone, rule),
        after: gone.clone(),
        privacy: false,
        id_change: false,
        possible_duplicate_of: None,
    };
    Some(Removal {
        moves: plan.entries,
        tombstone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{Directory, ImportMeta, RecordedEntry, RecordedImport, Written};
    use crate::feed::{EventType, derive_events, events_from_history, replay, rewind};
    use crate::import::ImportKind;

    const DAY: Date = jiff::civil::date(2026, 11, 23);

    fn person(key: EmployeeKey, email: &str, manager: Option<&str>) -> Employee {
        Employee {
            key,
            employee_id: format!("E{key}"),
            email: email.into(),
            first_name: Some(format!("F{key}")),
            manager_email: manager.map(str::to_string),
            active: true,
            ..Employee::default()
        }
    }

    /// 1 ← 2 ← {3, 4}: removing 2 re-points 3 and 4 to 1.
    fn company() -> Vec<Employee> {
        let mut v = vec![
            person(1, "one@x.example", None),
            person(2, "erased-2@erased.invalid", Some("one@x.example")),
            person(3, "three@x.example", Some("Erased-2@erased.invalid")),
            person(4, "four@x.example", Some("erased-2@erased.invalid")),
        ];
        v[0].is_manager = true;
        v[1].is_manager = true;
        v
    }

    fn meta(id: i64) -> ImportMeta {
        ImportMeta {
            id,
            kind: ImportKind::Erasure,
            at: jiff::Timestamp::UNIX_EPOCH,
            day: DAY,
        }
    }

    #[test]
    fn reports_follow_the_removed_managers_manager() {
        let r = removal(&company(), 2, Rule::Erasure, DAY).unwrap();
        let moved: Vec<(Option<i64>, Option<&str>)> = r
            .moves
            .iter()
            .map(|e| (e.key, e.after.manager_email.as_deref()))
            .collect();
        assert_eq!(
            moved,
            [
                (Some(3), Some("one@x.example")),
                (Some(4), Some("one@x.example"))
            ]
        );
        assert_eq!(r.tombstone.action, Action::Remove);
        // Every field to nothing (the text fields to empty, the flags to false).
        assert!(
            r.tombstone
                .changes
                .iter()
                .all(|c| matches!(c.new.as_deref(), None | Some("" | "false"))),
            "{:?}",
            r.tombstone.changes
        );
        assert!(removal(&company(), 9, Rule::Erasure, DAY).is_none());
        // The last report gone, the manager is no manager any more.
        let two = vec![person(1, "one@x.example", None), {
            let mut e = person(2, "erased-2@erased.invalid", Some("one@x.example"));
            e.first_name = None;
            e
        }];
        let mut two = two;
        two[0].is_manager = true;
        let r = removal(&two, 2, Rule::Erasure, DAY).unwrap();
        assert_eq!(r.moves.len(), 1);
        assert_eq!(r.moves[0].key, Some(1));
        assert!(!r.moves[0].after.is_manager);
    }

    /// The removal's events replay to the directory without it; rewinding them
    /// brings the (anonymised) record back; the history alone gives the same events.
    #[test]
    fn the_tombstone_replays_rewinds_and_follows_from_the_history() {
        let before = company();
        let created: Vec<Written<'_>> = before
            .iter()
            .map(|e| Written::new(e.key, Action::Create, &[], e))
            .collect();
        let mut events = derive_events(&meta(1), &created, 1);
        let r = removal(&before, 2, Rule::Erasure, DAY).unwrap();
        let mut entries: Vec<&Entry> = r.moves.iter().collect();
        entries.push(&r.tombstone);
        let written: Vec<Written<'_>> = entries
            .iter()
            .map(|e| Written::entry(e.key.unwrap(), e))
            .collect();
        let next = events.len() as i64 + 1;
        let removal_events = derive_events(&meta(2), &written, next);
        assert!(
            removal_events
                .iter()
                .any(|e| e.event_type == EventType::Removed && e.employee_key == Some(2))
        );
        events.extend(removal_events.clone());

        let now: Vec<Employee> = {
            let mut d = crate::plan::apply(&before, &r.moves.iter().collect::<Vec<_>>());
            d.retain(|e| e.key != 2);
            d
        };
        let replayed = replay(&events).unwrap();
        let as_map: Directory = now.iter().map(|e| (e.key, e.clone())).collect();
        assert_eq!(replayed, as_map);

        let mut rewound = as_map.clone();
        rewind(&mut rewound, &removal_events).unwrap();
        let was: Directory = before.iter().map(|e| (e.key, e.clone())).collect();
        assert_eq!(rewound, was);

        let history = vec![
            RecordedImport {
                meta: meta(1),
                entries: before
                    .iter()
                    .map(|e| RecordedEntry {
                        key: e.key,
                        action: Action::Create,
                        created: true,
                        changes: Vec::new(),
                    })
                    .collect(),
            },
            RecordedImport {
                meta: meta(2),
                entries: entries
                    .iter()
                    .map(|e| RecordedEntry {
                        key: e.key.unwrap(),
                        action: e.action,
                        created: false,
                        changes: e.changes.clone(),
                    })
                    .collect(),
            },
        ];
        assert_eq!(events_from_history(&now, &history, 1).unwrap(), events);
    }
}
