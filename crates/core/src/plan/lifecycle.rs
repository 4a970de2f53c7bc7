//! Steps 4 and 5, the lifecycle: each matched or new employee's fields and status, and
//! the members missing from a full sync.

use std::borrow::Cow;
use std::collections::BTreeSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::matching::{SamePerson, next_generated_id};
use super::types::{PlanOptions, Rule};
use super::work::{Member, Planner, Slot, Work, issue_for};
use crate::employee::{DeactivationReason, Employee};
use crate::fields::FieldMap;
use crate::issue::{IssueCode, Severity};
use crate::member::ManagerRef;
use crate::normalise::{Record, email_key_ref};
use crate::settings::{EmployeeIds, HireDatePriority, OnMissing, Settings};

/// Where each record went.
pub(super) struct Placed {
    /// (slot, record index) for every record kept.
    pub(super) record_slot: Vec<(Slot, usize)>,
    /// Creates that look like an existing employee → that employee's ID.
    pub(super) possible_dups: HashMap<Slot, String>,
}

/// Which fields a run may write: not those in `exclude_fields`, and only those in a
/// partial import's `only_fields`.
struct Writable<'s> {
    settings: &'s Settings,
    only: Option<&'s BTreeSet<String>>,
    unrestricted: bool,
    /// The demographics the mapping fills.
    mapped: BTreeSet<&'s str>,
}

impl<'s> Writable<'s> {
    fn new(settings: &'s Settings, options: &'s PlanOptions) -> Self {
        let only = options.only_fields.as_ref();
        Writable {
            settings,
            only,
            unrestricted: settings.exclude_fields.is_empty() && only.is_none(),
            mapped: settings
                .mapping
                .iter()
                .map(|m| m.demographic.as_str())
                .collect(),
        }
    }

    fn may(&self, field: &str) -> bool {
        self.unrestricted
            || (!self.settings.exclude_fields.contains(field)
                && self.only.is_none_or(|o| o.contains(field)))
    }

    fn may_demographic(&self, name: &str) -> bool {
        self.unrestricted || (self.may(name) && self.may(&format!("demographic:{name}")))
    }
}

impl<'a> Planner<'a> {
    /// Step 4: compute each matched or new employee's state. A record in
    /// `erased_left` (an anonymised record's person, inactive in the source) gets
    /// its status and end date only: none of its fields come back. Each record is
    /// emptied, what the later steps read of it given back ([`Hollow`], by record
    /// index; a default one for a record not placed): a first import of a million
    /// members holds their values once, in the new employees, and the records can
    /// be freed.
    pub(super) fn lifecycle(
        &mut self,
        records: &mut [Record],
        assignments: Vec<(usize, Option<usize>)>,
        erased_left: &HashSet<usize>,
    ) -> (Placed, Vec<Hollow>) {
        let directory = self.directory;
        let writable = Writable::new(self.settings, self.options);
        let same_person = SamePerson::new(directory, assignments.iter().any(|(_, t)| t.is_none()));
        let mut next_generated = match self.rest {
            Some(rest) => rest.next_generated,
            None => next_generated_id(directory, &self.settings.generated_id_prefix),
        };
        let mut placed = Placed {
            record_slot: Vec::with_capacity(assignments.len()),
            possible_dups: HashMap::default(),
        };
        let mut hollows: Vec<Hollow> = std::iter::repeat_with(Hollow::default)
            .take(records.len())
            .collect();
        for (ri, target) in assignments {
            let r = &mut records[ri];
            let slot = match target {
                Some(i) => Slot::Existing(i),
                None => {
                    let slot = self.create(r, &mut next_generated);
                    if let Some(dup) = self.possible_duplicate(r, &same_person) {
                        placed.possible_dups.insert(slot, dup);
                    }
                    slot
                }
            };
            placed.record_slot.push((slot, ri));
            // The new state is copied from the old one only when something differs.
            let mut e: Cow<'a, Employee> = match slot {
                Slot::Existing(i) => Cow::Borrowed(&directory[i]),
                Slot::New(i) => Cow::Owned(std::mem::take(&mut self.work.created[i])),
            };
            if erased_left.contains(&ri) {
                if writable.may("end_date") && e.end_date != r.end_date {
                    e.to_mut().end_date = r.end_date;
                }
            } else {
                self.update_fields(slot, &mut e, r, &writable);
            }
            self.update_status(slot, &mut e, r, &writable);
            self.work.put(slot, e);
            hollows[ri] = hollow(r);
        }
        (placed, hollows)
    }

    /// A new employee for `r`, with the source's employee ID or a generated one.
    fn create(&mut self, r: &Record, next_generated: &mut u64) -> Slot {
        let mut e = Employee {
            active: true,
            ..Employee::default()
        };
        match &r.employee_id {
            Some(id) => e.employee_id = id.clone(),
            None => {
                let prefix = &self.settings.generated_id_prefix;
                e.employee_id = format!("{prefix}{:06}", *next_generated);
                *next_generated += 1;
            }
        }
        self.work.created.push(e);
        let slot = Slot::New(self.work.created.len() - 1);
        if self.settings.employee_ids == EmployeeIds::Generate {
            self.work.rule(slot, "employee_id", Rule::GeneratedId);
        }
        slot
    }

    /// The ID of an existing employee with the new one's name and date of birth, with
    /// a warning.
    fn possible_duplicate(&mut self, r: &Record, same_person: &SamePerson<'_>) -> Option<String> {
        let (Some(f), Some(l), Some(d)) = (&r.first_name, &r.last_name, r.date_of_birth) else {
            return None;
        };
        let dup = same_person.find(f, l, d)?;
        let dup_id = self.directory[dup].employee_id.clone();
        self.issues.push(issue_for(
            r,
            Severity::Warning,
            IssueCode::PossibleDuplicate,
            None,
            format!(
                "a new employee would be created, but employee {dup_id} has the same name and date of birth; \
                 if both the email and the employee ID changed, merge the new employee into {dup_id} after import"
            ),
        ));
        Some(dup_id)
    }

    /// The fields from the source, as far as the settings let them change.
    fn update_fields(
        &mut self,
        slot: Slot,
        e: &mut Cow<'_, Employee>,
        r: &mut Record,
        writable: &Writable<'_>,
    ) {
        let settings = self.settings;
        let is_new = matches!(slot, Slot::New(_));
        let may = |field: &str| writable.may(field);
        let mut kept_email = false;
        let mut kept_hire = false;
        let before_email_edited = e.email_edited;
        let before_start = e.start_date;
        // Sets a field when allowed and different.
        macro_rules! upd {
            ($allowed:expr, $field:ident, $value:expr) => {
                if $allowed && e.$field != $value {
                    e.to_mut().$field = $value.clone();
                }
            };
        }
        // The same, moving the record's value (it is not read after this step).
        macro_rules! mov {
            ($allowed:expr, $field:ident) => {
                if $allowed && e.$field != r.$field {
                    e.to_mut().$field = std::mem::take(&mut r.$field);
                }
            };
        }
        // A partial source without member ids of its own (a CSV file) leaves the
        // source id alone.
        if writable.only.is_none_or(|o| o.contains("source_id"))
            && e.source_id.as_deref() != Some(r.source_id.as_str())
        {
            e.to_mut().source_id = Some(r.source_id.clone());
        }
        if let Some(id) = &r.employee_id {
            upd!(may("employee_id"), employee_id, *id);
        }
        if let Some(email) = &r.email {
            if is_new || !before_email_edited || settings.override_emails {
                upd!(may("email"), email, *email);
            } else if email_key_ref(email) != email_key_ref(&e.email) {
                kept_email = true;
            }
        }
        mov!(may("secondary_email"), secondary_email);
        mov!(may("first_name"), first_name);
        mov!(may("last_name"), last_name);
        mov!(may("preferred_name"), preferred_name);
        upd!(may("date_of_birth"), date_of_birth, r.date_of_birth);
        if before_start.is_none() || settings.override_hire_date {
            upd!(may("start_date"), start_date, r.start_date);
        } else if r.start_date.is_some() && r.start_date != before_start {
            kept_hire = true;
        }
        upd!(
            may("latest_rehire_date"),
            latest_rehire_date,
            r.latest_rehire_date
        );
        let hire = match settings.hire_date_priority {
            HireDatePriority::Original => e.start_date,
            HireDatePriority::Latest => e.latest_rehire_date.or(e.start_date),
        };
        upd!(true, hire_date, hire);
        upd!(may("end_date"), end_date, r.end_date);
        // A manager left erased is named by the anonymous record's email (a removed
        // one by nobody).
        let manager = r.manager.email().and_then(|m| {
            match self.erased_emails.get(email_key_ref(m).as_ref()) {
                Some(instead) => instead.as_deref(),
                None => Some(m),
            }
        });
        if may("manager_email") && e.manager_email.as_deref() != manager {
            e.to_mut().manager_email = manager.map(str::to_string);
        }
        mov!(may("phone"), phone);
        take_demographics(e, r, writable);
        if kept_email {
            self.issues.push(issue_for(
                r,
                Severity::Info,
                IssueCode::EmailKept,
                Some("email"),
                "email was edited in Roster and override_emails is off: the source's email is not applied".into(),
            ));
        }
        if kept_hire {
            self.issues.push(issue_for(
                r,
                Severity::Info,
                IssueCode::HireDateKept,
                Some("start_date"),
                "override_hire_date is off: the existing hire date is kept".into(),
            ));
        }
        if settings.hire_date_priority == HireDatePriority::Latest && r.latest_rehire_date.is_some()
        {
            self.work.rule(slot, "hire_date", Rule::HireDatePriority);
        }
    }

    /// The status. The source's exclusion directive first (a CSV file's `Employee
    /// Deactivated`): TRUE excludes an active employee, sticky; FALSE re-includes.
    /// Then exclusion, end date, inactive in the source, reactivation.
    fn update_status(
        &mut self,
        slot: Slot,
        e: &mut Cow<'_, Employee>,
        r: &Record,
        writable: &Writable<'_>,
    ) {
        let work = &mut self.work;
        match r.exclude {
            Some(true) if e.active && !e.excluded => {
                e.to_mut().excluded = true;
                work.rule(slot, "excluded", Rule::Excluded);
            }
            Some(false) if e.excluded => e.to_mut().excluded = false,
            _ => {}
        }
        let ended = e.end_date.is_some_and(|d| d <= self.today);
        if e.excluded {
            deactivate(work, slot, e, DeactivationReason::Excluded, Rule::Excluded);
            if r.source_active && !ended && r.exclude != Some(true) {
                self.issues.push(issue_for(
                    r,
                    Severity::Info,
                    IssueCode::ExcludedStaysDeactivated,
                    None,
                    "excluded by an admin: stays deactivated until re-included".into(),
                ));
            }
        } else if ended {
            deactivate(work, slot, e, DeactivationReason::EndDate, Rule::EndDate);
        } else if r.exclude == Some(true) {
            // Marked deactivated and already deactivated for another reason: stays so.
        } else if !r.source_active {
            // Inactive in the source without an end date: like a missing member.
            let (missing_deactivates, rule) = on_missing(self.settings, self.options);
            if missing_deactivates || matches!(slot, Slot::New(_)) {
                deactivate(work, slot, e, DeactivationReason::Missing, rule);
            }
        } else if !e.active && writable.may("active") {
            // (A partial import without a status column leaves the status alone.)
            let m = e.to_mut();
            m.active = true;
            m.deactivation_reason = None;
            work.rule(slot, "active", Rule::Reactivated);
            work.rule(slot, "deactivation_reason", Rule::Reactivated);
        }
    }

    /// Step 5: deactivate the members missing from a full sync, when `on_missing` or
    /// `--deactivate-missing` says so.
    pub(super) fn deactivate_missing(&mut self, claimed: &[Option<usize>]) {
        let (deactivates, rule) = on_missing(self.settings, self.options);
        if !self.options.complete || !deactivates {
            return;
        }
        for (i, e) in self.directory.iter().enumerate() {
            if e.active && e.merged_into.is_none() && claimed[i].is_none() {
                let m = self.work.get_mut(Slot::Existing(i));
                m.active = false;
                m.deactivation_reason = Some(DeactivationReason::Missing);
                self.work.rule(Slot::Existing(i), "active", rule);
                self.work
                    .rule(Slot::Existing(i), "deactivation_reason", rule);
            }
        }
    }
}

/// Whether a missing (or inactive) member's employee is deactivated, and the rule.
fn on_missing(settings: &Settings, options: &PlanOptions) -> (bool, Rule) {
    let by_setting = settings.on_missing == OnMissing::Deactivate;
    let rule = if by_setting {
        Rule::OnMissing
    } else {
        Rule::DeactivateMissing
    };
    (by_setting || options.deactivate_missing, rule)
}

/// Deactivate for `reason`, unless already deactivated for it.
fn deactivate(
    work: &mut Work<'_>,
    slot: Slot,
    e: &mut Cow<'_, Employee>,
    reason: DeactivationReason,
    rule: Rule,
) {
    if e.active || e.deactivation_reason != Some(reason) {
        let m = e.to_mut();
        m.active = false;
        m.deactivation_reason = Some(reason);
        work.rule(slot, "active", rule);
        work.rule(slot, "deactivation_reason", rule);
    }
}

/// What the steps after the lifecycle read of a record: its identity (for their
/// issues), its manager and its associated fields. A third of a [`Record`]'s size:
/// a first import of a million holds these, not the records, beside the new
/// employees until the entries are made.
#[derive(Debug, Default)]
pub(super) struct Hollow {
    pub(super) source_id: String,
    pub(super) position: usize,
    pub(super) employee_id: Option<String>,
    pub(super) manager: ManagerRef,
    pub(super) associated: FieldMap,
}

impl Member for Hollow {
    fn member(&self) -> (usize, &str, Option<&str>) {
        (self.position, &self.source_id, self.employee_id.as_deref())
    }
}

/// Takes what the steps after the lifecycle read out of a record and drops the rest
/// (emails, names, phone, demographics: those the new employee took are gone already).
fn hollow(r: &mut Record) -> Hollow {
    r.email = None;
    r.secondary_email = None;
    r.first_name = None;
    r.last_name = None;
    r.preferred_name = None;
    r.phone = None;
    r.demographics = Default::default();
    Hollow {
        source_id: std::mem::take(&mut r.source_id),
        position: r.position,
        employee_id: r.employee_id.take(),
        manager: std::mem::take(&mut r.manager),
        associated: std::mem::take(&mut r.associated),
    }
}

/// The mapped demographics: set from the source; those the source no longer carries
/// are cleared (by a full sync unless excluded, by a partial import when it carries
/// them blank).
fn update_demographics(e: &mut Cow<'_, Employee>, r: &Record, writable: &Writable<'_>) {
    // The same demographics (most members of a sync): nothing is cleared, nothing
    // set, whatever the settings allow.
    if e.demographics != r.demographics {
        update_demographics_in_full(e, r, writable);
    }
}

/// [`update_demographics`], moving the record's demographics to an employee that
/// has none when every one of them may be written (a new employee, mostly): the
/// result is the one setting them one by one gives.
fn take_demographics(e: &mut Cow<'_, Employee>, r: &mut Record, writable: &Writable<'_>) {
    if e.demographics.is_empty()
        && !r.demographics.is_empty()
        && r.demographics.keys().all(|k| writable.may_demographic(k))
    {
        e.to_mut().demographics = std::mem::take(&mut r.demographics);
    } else {
        update_demographics(e, r, writable);
    }
}

/// [`update_demographics`] without the shortcut.
fn update_demographics_in_full(e: &mut Cow<'_, Employee>, r: &Record, writable: &Writable<'_>) {
    let mapped = &writable.mapped;
    if writable.only.is_none() {
        let keep = |k: &str| {
            !mapped.contains(k)
                || writable.settings.exclude_fields.contains(k)
                || r.demographics.contains_key(k)
                || r.associated.contains_key(k)
        };
        if !e.demographics.keys().all(keep) {
            e.to_mut().demographics.retain(|k, _| keep(k));
        }
    } else {
        let clear = |k: &str| {
            mapped.contains(k)
                && writable.may_demographic(k)
                && !r.demographics.contains_key(k)
                && !r.associated.contains_key(k)
        };
        if e.demographics.keys().any(clear) {
            e.to_mut().demographics.retain(|k, _| !clear(k));
        }
    }
    for (k, v) in &r.demographics {
        if writable.may_demographic(k) && e.demographics.get(k) != Some(v) {
            e.to_mut().demographics.insert(k, v);
        }
    }
    // Inserts grow the vector (to twice its size): the planned employee keeps none spare.
    if let Cow::Owned(e) = e {
        e.demographics.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {

    use proptest::prelude::*;

    use super::*;
    use crate::fields::FieldMap;
    use crate::member::ManagerRef;
    use crate::settings::{FieldKind, MappedField};

    const NAMES: &[&str] = &["team", "Team", "site", "level", "buddy"];

    fn record(demographics: FieldMap, associated: FieldMap) -> Record {
        Record {
            source_id: "m1".into(),
            position: 1,
            employee_id: None,
            email: None,
            secondary_email: None,
            first_name: None,
            last_name: None,
            preferred_name: None,
            date_of_birth: None,
            start_date: None,
            latest_rehire_date: None,
            end_date: None,
            manager: ManagerRef::None,
            phone: None,
            demographics,
            associated,
            source_active: true,
            exclude: None,
        }
    }

    fn names() -> impl Strategy<Value = FieldMap> {
        prop::collection::btree_map(
            prop::sample::select(NAMES).prop_map(str::to_string),
            prop::sample::select(&["a", "b", ""][..]).prop_map(str::to_string),
            0..4,
        )
        .prop_map(FieldMap::from)
    }

    /// Settings mapping `src_{d}` to each demographic `d` of `mapped`.
    fn mapping(mapped: &[&str], exclude_fields: BTreeSet<String>) -> Settings {
        Settings {
            mapping: mapped
                .iter()
                .map(|d| MappedField {
                    source_key: format!("src_{d}"),
                    demographic: d.to_string(),
                    kind: FieldKind::Default,
                    privacy: None,
                })
                .collect(),
            exclude_fields,
            ..Settings::default()
        }
    }

    fn excluded() -> impl Strategy<Value = BTreeSet<String>> {
        prop::collection::btree_set(prop::sample::select(NAMES).prop_map(str::to_string), 0..2)
    }

    /// A partial import's fields, or none.
    fn only() -> impl Strategy<Value = Option<BTreeSet<String>>> {
        const FIELDS: &[&str] = &["team", "demographic:team", "site", "demographic:level"];
        prop::option::of(prop::collection::btree_set(
            prop::sample::select(FIELDS).prop_map(str::to_string),
            0..3,
        ))
    }

    /// Any mapping of [`NAMES`], excluded fields and a partial import's fields.
    fn settings_and_options() -> impl Strategy<Value = (Settings, PlanOptions)> {
        let mapped = prop::collection::vec(prop::sample::select(NAMES), 0..4);
        (mapped, excluded(), only()).prop_map(|(mapped, excluded, only)| {
            let options = PlanOptions {
                only_fields: only,
                ..PlanOptions::default()
            };
            (mapping(&mapped, excluded), options)
        })
    }

    proptest! {
        /// The shortcut of `update_demographics`: when the row holds the member's
        /// demographics, the full path changes nothing either, whatever the mapping,
        /// the excluded fields, a partial import's fields and the associated fields.
        #[test]
        fn the_same_demographics_change_nothing(
            demographics in names(),
            associated in names(),
            (settings, options) in settings_and_options(),
        ) {
            let writable = Writable::new(&settings, &options);
            let row = Employee { demographics: demographics.clone(), ..Employee::default() };
            let r = record(demographics, associated);
            let mut e: Cow<'_, Employee> = Cow::Borrowed(&row);
            update_demographics_in_full(&mut e, &r, &writable);
            prop_assert_eq!(&e.demographics, &row.demographics);
            prop_assert!(matches!(e, Cow::Borrowed(_)), "the full path copied the row");
        }

        /// Moving a record's demographics (`take_demographics`) leaves the employee
        /// as setting them one by one does, whatever the row held, the mapping, the
        /// excluded fields and a partial import's fields.
        #[test]
        fn moving_the_demographics_sets_what_copying_sets(
            held in prop::option::of(names()),
            demographics in names(),
            associated in names(),
            (settings, options) in settings_and_options(),
        ) {
            let writable = Writable::new(&settings, &options);
            let row = Employee { demographics: held.unwrap_or_default(), ..Employee::default() };
            let copied = record(demographics.clone(), associated.clone());
            let mut by_copy: Cow<'_, Employee> = Cow::Borrowed(&row);
            update_demographics(&mut by_copy, &copied, &writable);
            let mut moved = record(demographics, associated);
            let mut by_move: Cow<'_, Employee> = Cow::Borrowed(&row);
            take_demographics(&mut by_move, &mut moved, &writable);
            prop_assert_eq!(&by_move.demographics, &by_copy.demographics);
        }
    }

    /// An employee whose demographics the sync sets one by one keeps no spare room
    /// for them (a million employees are held while a plan is made).
    #[test]
    fn demographics_set_one_by_one_keep_no_spare_room() {
        let settings = mapping(&["team", "site", "level"], BTreeSet::new());
        let options = PlanOptions::default();
        let writable = Writable::new(&settings, &options);
        let row = Employee {
            demographics: FieldMap::from([("team", "a")]),
            ..Employee::default()
        };
        let r = record(
            FieldMap::from([("team", "b"), ("site", "a"), ("level", "b")]),
            FieldMap::new(),
        );
        let mut e: Cow<'_, Employee> = Cow::Borrowed(&row);
        update_demographics(&mut e, &r, &writable);
        let after = e.into_owned();
        assert_eq!(after.demographics, r.demographics);
        assert_eq!(after.demographics.spare_room(), 0);
    }

    /// What the lifecycle leaves of a record: what the later steps read.
    #[test]
    fn a_hollow_record_keeps_what_later_steps_read() {
        let mut r = record(
            FieldMap::from([("team", "a")]),
            FieldMap::from([("buddy", "m2")]),
        );
        r.employee_id = Some("E1".into());
        r.email = Some("a@example.com".into());
        r.first_name = Some("Ada".into());
        r.phone = Some("+1".into());
        r.manager = ManagerRef::Email {
            email: "boss@example.com".into(),
        };
        let h = hollow(&mut r);
        assert_eq!(
            (
                r.email.as_deref(),
                r.first_name.as_deref(),
                r.phone.as_deref()
            ),
            (None, None, None)
        );
        assert!(r.demographics.is_empty());
        assert_eq!(h.employee_id.as_deref(), Some("E1"));
        assert_eq!(h.source_id, "m1");
        assert_eq!(h.position, r.position);
        assert_eq!(h.manager.email(), Some("boss@example.com"));
        assert_eq!(h.associated.len(), 1);
        assert!(
            std::mem::size_of::<Hollow>() * 2 < std::mem::size_of::<Record>(),
            "what is kept is under half a record"
        );
    }
}
