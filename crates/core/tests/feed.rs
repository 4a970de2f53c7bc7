//! The change feed is complete: over random days of syncs, ticks, admin edits,
//! merges and rollbacks (planned and applied as the engine does, recorded as the
//! store does), replaying every derived event rebuilds the directory.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use proptest::prelude::*;
use roster_core::edits;
use roster_core::employee::{Employee, EmployeeKey};
use roster_core::feed::{
    self, Directory, Event, ImportMeta, RecordedEntry, RecordedImport, Written, derive_events,
};
use roster_core::import::{ImportId, ImportKind};
use roster_core::member::{ManagerRef, SourceMember};
use roster_core::normalise::email_key;
use roster_core::plan::{self, Action, Entry, PlanOptions, Rule};
use roster_core::rollback::{RecordedChange, plan_rollback};
use roster_core::settings::Settings;

const FIRST: &[&str] = &["Ada", "Grace", "Alan"];
const ENDS: &[Option<&str>] = &[
    None,
    None,
    None,
    Some("2020-01-01"),
    Some("2026-11-22"),
    Some("2026-11-26"),
    Some("2027-06-30"),
];
const STARTS: &[Option<&str>] = &[Some("2015-01-01"), Some("2026-11-25"), None];
const DEPARTMENTS: &[Option<&str>] = &[None, Some("Sales"), Some("R&D")];

#[derive(Clone, Debug)]
struct Spec {
    id: u8,
    first: usize,
    email: Option<u8>,
    manager: Option<usize>,
    end: usize,
    start: usize,
    department: usize,
    active: bool,
}

#[derive(Clone, Debug)]
enum Op {
    Sync {
        specs: Vec<Spec>,
        complete: bool,
        flags: u8,
    },
    Tick,
    SetEmail(usize, u8),
    Exclude(usize),
    Include(usize),
    Merge(usize, usize),
    Rollback(usize),
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            0u8..10,
            0..FIRST.len(),
            prop::option::weighted(0.9, 0u8..12),
        ),
        prop::option::of(0usize..8),
        (0..ENDS.len(), 0..STARTS.len(), 0..DEPARTMENTS.len()),
        prop::bool::weighted(0.9),
    )
        .prop_map(
            |((id, first, email), manager, (end, start, department), active)| Spec {
                id,
                first,
                email,
                manager,
                end,
                start,
                department,
                active,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop::collection::vec(spec(), 0..8), any::<bool>(), 0u8..4)
            .prop_map(|(specs, complete, flags)| Op::Sync { specs, complete, flags }),
        1 => Just(Op::Tick),
        1 => (any::<usize>(), 0u8..12).prop_map(|(w, e)| Op::SetEmail(w, e)),
        1 => any::<usize>().prop_map(Op::Exclude),
        1 => any::<usize>().prop_map(Op::Include),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(d, o)| Op::Merge(d, o)),
        2 => any::<usize>().prop_map(Op::Rollback),
    ]
}

fn members(specs: &[Spec]) -> Vec<SourceMember> {
    let mut ms: Vec<SourceMember> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut m = SourceMember::new(format!("m{}", s.id), i + 1);
            m.active = Some(s.active);
            m.given_name = Some(FIRST[s.first].into());
            m.family_name = Some("Hopper".into());
            m.work_email = s.email.map(|e| format!("p{e}@acme.example"));
            m.start_date = STARTS[s.start].map(str::to_string);
            m.end_date = ENDS[s.end].map(str::to_string);
            if let Some(d) = DEPARTMENTS[s.department] {
                m.fields.insert("department", d);
            }
            m
        })
        .collect();
    let emails: Vec<(String, Option<String>)> = ms
        .iter()
        .map(|m| (m.source_id.clone(), m.work_email.clone()))
        .collect();
    for (m, s) in ms.iter_mut().zip(specs) {
        if let Some((sid, Some(email))) = s.manager.and_then(|k| emails.get(k)) {
            m.manager = ManagerRef::Resolved {
                source_id: sid.clone(),
                email: email.clone(),
            };
        }
    }
    ms
}

fn settings(flags: u8) -> Settings {
    let mut s = Settings::default();
    if flags & 1 != 0 {
        s.set("on_missing", "deactivate").unwrap();
    }
    if flags & 2 != 0 {
        s.set("employee_ids", "generate").unwrap();
    }
    s
}

/// An applied import as the store keeps it for rollback.
struct Recorded {
    changes: Vec<RecordedChange>,
    rolled_back: bool,
}

/// The directory, the history and the feed, kept as the engine and the store would.
struct World {
    directory: Vec<Employee>,
    today: Date,
    imports: Vec<Recorded>,
    events: Vec<Event>,
    /// The directory a consumer of `events` holds.
    replayed: Directory,
    /// The history as the store keeps it (a create records no changes).
    history: Vec<RecordedImport>,
    /// After each import: its last event's cursor and the directory.
    after_each: Vec<(feed::Cursor, Directory)>,
}

impl World {
    /// Apply a plan's entries, record the import and derive its events.
    fn record(&mut self, kind: ImportKind, entries: &[Entry]) -> ImportId {
        let mut next_key = self.directory.iter().map(|e| e.key).max().unwrap_or(0) + 1;
        let keys: Vec<EmployeeKey> = entries
            .iter()
            .map(|e| {
                e.key.unwrap_or_else(|| {
                    next_key += 1;
                    next_key - 1
                })
            })
            .collect();
        let refs: Vec<&Entry> = entries.iter().collect();
        self.directory = plan::apply(&self.directory, &refs);
        let id = self.imports.len() as ImportId + 1;
        // The store keeps no changes for a create: only that it created the employee.
        let mut changes = Vec::new();
        for (key, e) in keys.iter().zip(entries) {
            if e.action == Action::Create {
                changes.push(RecordedChange {
                    key: *key,
                    field: "employee_id".into(),
                    old: None,
                    new: Some(e.employee_id().to_string()),
                    created: true,
                });
            }
            changes.extend(e.changes.iter().map(|c| RecordedChange {
                key: *key,
                field: c.field.clone(),
                old: c.old.clone(),
                new: c.new.clone(),
                created: e.action == Action::Create,
            }));
        }
        self.imports.push(Recorded {
            changes,
            rolled_back: false,
        });
        let meta = ImportMeta {
            id,
            kind,
            at: Timestamp::from_second(1_790_000_000 + id).unwrap(),
            day: self.today,
        };
        let written: Vec<Written> = keys
            .iter()
            .zip(entries)
            .map(|(key, e)| Written::entry(*key, e))
            .collect();
        let first = self.events.last().map_or(1, |e| e.cursor + 1);
        let events = derive_events(&meta, &written, first);
        self.history.push(RecordedImport {
            meta: meta.clone(),
            entries: keys
                .iter()
                .zip(entries)
                .map(|(key, e)| RecordedEntry {
                    key: *key,
                    action: e.action,
                    created: e.action == Action::Create,
                    changes: e.changes.clone(),
                })
                .collect(),
        });
        for event in &events {
            feed::apply_event(&mut self.replayed, event).unwrap();
        }
        self.events.extend(events);
        let last = self.events.last().map_or(0, |e| e.cursor);
        self.after_each.push((last, self.carried()));
        id
    }

    /// An admin edit (`plan::edits`), recorded when it changes anything.
    fn edit(&mut self, kind: ImportKind, rule: Rule, changed: Vec<Employee>) {
        let plan = plan::edits(&self.directory, changed, rule, self.today);
        if !plan.entries.is_empty() {
            self.record(kind, &plan.entries);
        }
    }

    fn pick(&self, i: usize) -> Option<Employee> {
        (!self.directory.is_empty()).then(|| self.directory[i % self.directory.len()].clone())
    }

    fn sync(&mut self, specs: &[Spec], complete: bool, flags: u8) {
        let options = PlanOptions {
            complete,
            ..PlanOptions::default()
        };
        let p = plan::plan(
            &self.directory,
            members(specs),
            &[],
            &settings(flags),
            self.today,
            &options,
        );
        self.record(ImportKind::Sync, &p.entries);
    }

    fn set_email(&mut self, who: usize, n: u8) {
        let email = format!("p{n}@acme.example");
        let Some(e) = self.pick(who) else { return };
        let taken = self
            .directory
            .iter()
            .any(|o| o.key != e.key && email_key(&o.email) == email_key(&email));
        if taken {
            return;
        }
        let mut changed = vec![edits::set_email(&e, &email).unwrap()];
        changed.extend(edits::reports_following(
            &self.directory,
            &changed,
            &e.email,
            &email,
        ));
        self.edit(ImportKind::AdminEdit, Rule::AdminEdit, changed);
    }

    fn merge(&mut self, dup: usize, orig: usize) {
        let (Some(dup), Some(orig)) = (self.pick(dup), self.pick(orig)) else {
            return;
        };
        let Ok(merged) = edits::merge(&dup, &orig) else {
            return;
        };
        let mut changed = merged.into_vec();
        changed.extend(edits::reports_following(
            &self.directory,
            &changed,
            &orig.email,
            &dup.email,
        ));
        self.edit(ImportKind::Merge, Rule::Merge, changed);
    }

    /// As the engine rolls back: the recorded changes against the directory now,
    /// planned as edits, every entry recorded as an update.
    fn rollback(&mut self, which: usize) {
        let open: Vec<usize> = (0..self.imports.len())
            .filter(|i| !self.imports[*i].rolled_back)
            .collect();
        if open.is_empty() {
            return;
        }
        let i = open[which % open.len()];
        let rb = plan_rollback(&self.imports[i].changes, &self.directory);
        let restored = rb.restore.into_iter().map(|(e, _)| e).collect();
        let mut p = plan::edits(&self.directory, restored, Rule::Rollback, self.today);
        for e in &mut p.entries {
            e.action = Action::Update;
        }
        if !p.entries.is_empty() {
            self.record(ImportKind::Rollback, &p.entries);
            self.imports[i].rolled_back = true;
        }
    }

    fn run(&mut self, op: &Op) {
        match op {
            Op::Sync {
                specs,
                complete,
                flags,
            } => self.sync(specs, *complete, *flags),
            Op::Tick => {
                let p = plan::tick(&self.directory, self.today);
                if !p.entries.is_empty() {
                    self.record(ImportKind::Tick, &p.entries);
                }
            }
            Op::SetEmail(who, n) => self.set_email(*who, *n),
            Op::Exclude(who) => {
                if let Some(e) = self.pick(*who) {
                    self.edit(
                        ImportKind::AdminEdit,
                        Rule::Exclusion,
                        vec![edits::exclude(&e)],
                    );
                }
            }
            Op::Include(who) => {
                if let Some(e) = self.pick(*who) {
                    let included = edits::include(&e, self.today);
                    self.edit(ImportKind::AdminEdit, Rule::Exclusion, vec![included]);
                }
            }
            Op::Merge(dup, orig) => self.merge(*dup, *orig),
            Op::Rollback(which) => self.rollback(*which),
        }
    }

    /// The directory by key: what the feed carries (every field).
    fn carried(&self) -> BTreeMap<EmployeeKey, Employee> {
        self.directory.iter().map(|e| (e.key, e.clone())).collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn replaying_the_feed_rebuilds_the_directory(
        days in prop::collection::vec((0u8..3, op()), 1..24),
    ) {
        let mut world = World {
            directory: Vec::new(),
            today: date(2026, 11, 20),
            imports: Vec::new(),
            events: Vec::new(),
            replayed: Directory::new(),
            history: Vec::new(),
            after_each: Vec::new(),
        };
        for (advance, op) in &days {
            world.today = world.today.checked_add(jiff::Span::new().days(*advance)).unwrap();
            world.run(op);
            prop_assert_eq!(&world.replayed, &world.carried(), "after {:?}", op);
        }
        prop_assert_eq!(feed::replay(&world.events).unwrap(), world.carried());
        let closing = world
            .events
            .iter()
            .filter(|e| e.event_type == feed::EventType::ImportApplied)
            .count();
        prop_assert_eq!(closing, world.imports.len());
        // The history and today's directory give the same events.
        let from_history = feed::events_from_history(&world.directory, &world.history, 1).unwrap();
        prop_assert_eq!(&from_history, &world.events);
        // Rewinding the feed's later events gives the directory after each import.
        for (last, directory) in &world.after_each {
            let mut rewound = world.carried();
            let later: Vec<Event> = world.events.iter().filter(|e| e.cursor > *last).cloned().collect();
            feed::rewind(&mut rewound, &later).unwrap();
            prop_assert_eq!(&rewound, directory, "rewound to event {}", last);
        }
    }
}
