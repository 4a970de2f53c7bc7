//! Steps 4 and 5, the lifecycle: each matched or new employee's fields and status, and
//! the members missing from a full sync.

use std::borrow::Cow;
use std::collections::BTreeSet;

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::matching::{SamePerson, next_generated_id};
use super::types::{PlanOptions, Rule};
use super::work::{Member, Planner, Slot, issue_for};
use crate::employee::{DeactivationReason, Employee};
use crate::fields::FieldMap;
use crate::issue::{Issue, IssueCode, Severity};
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
        self.lifecycle_in_batches(records, assignments, erased_left, LIFECYCLE_BATCH)
    }

    /// [`Planner::lifecycle`], `batch` records at a time (a batch of one is the loop in
    /// order).
    fn lifecycle_in_batches(
        &mut self,
        records: &mut [Record],
        assignments: Vec<(usize, Option<usize>)>,
        erased_left: &HashSet<usize>,
        batch: usize,
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
        // The records come in order (`assignments` is by record, each record and each
        // directory row at most once), a batch at a time: first each placed (a new
        // employee numbered, its generated ID given, in order), then each employee
        // updated on its own, side by side, then what each found kept in order. The
        // outcome, issues and rules included, is the one a loop in order gives.
        let mut assignments = assignments.into_iter().peekable();
        for start in (0..records.len()).step_by(batch.max(1)) {
            let end = (start + batch.max(1)).min(records.len());
            let mut slots: Vec<Option<Slot>> = vec![None; end - start];
            while let Some(&(ri, target)) = assignments.peek().filter(|(ri, _)| *ri < end) {
                assignments.next();
                debug_assert!(ri >= start, "assignments come by record, in order");
                let r = &records[ri];
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
                slots[ri - start] = Some(slot);
            }
            // A new employee's state starts from the one `create` made.
            let mut fresh: Vec<Option<Employee>> = slots
                .iter()
                .map(|s| match s {
                    Some(Slot::New(i)) => Some(std::mem::take(&mut self.work.created[*i])),
                    _ => None,
                })
                .collect();
            let planner = &*self;
            let updated: Vec<Option<Updated>> = records[start..end]
                .par_iter_mut()
                .zip(slots.par_iter())
                .zip(fresh.par_iter_mut())
                .enumerate()
                .with_min_len(LIFECYCLE_MIN_LEN)
                .map(|(k, ((r, slot), fresh))| {
                    let slot = (*slot)?;
                    let e = match slot {
                        Slot::Existing(i) => Cow::Borrowed(&directory[i]),
                        Slot::New(_) => Cow::Owned(fresh.take().unwrap_or_default()),
                    };
                    let erased = erased_left.contains(&(start + k));
                    Some(planner.update(slot, e, r, erased, &writable))
                })
                .collect();
            for (k, u) in updated.into_iter().enumerate() {
                let (Some(u), Some(slot)) = (u, slots[k]) else {
                    continue;
                };
                self.issues.extend(u.found.issues);
                for (field, rule) in u.found.rules {
                    self.work.rule(slot, field, rule);
                }
                if let Some(e) = u.changed {
                    self.work.put(slot, Cow::Owned(e));
                }
                hollows[start + k] = u.hollow;
            }
        }
        (placed, hollows)
    }

    /// One employee's new state from its record (`erased`: a record left erased, whose
    /// status and end date only come back), and what updating it found. The record is
    /// emptied ([`Hollow`]).
    fn update(
        &self,
        slot: Slot,
        mut e: Cow<'_, Employee>,
        r: &mut Record,
        erased: bool,
        writable: &Writable<'_>,
    ) -> Updated {
        let mut found = Found::default();
        if erased {
            if writable.may("end_date") && e.end_date != r.end_date {
                e.to_mut().end_date = r.end_date;
            }
        } else {
            self.update_fields(slot, &mut e, r, writable, &mut found);
        }
        self.update_status(slot, &mut e, r, writable, &mut found);
        Updated {
            changed: match e {
                Cow::Owned(e) => Some(e),
                Cow::Borrowed(_) => None,
            },
            found,
            hollow: hollow(r),
        }
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
        &self,
        slot: Slot,
        e: &mut Cow<'_, Employee>,
        r: &mut Record,
        writable: &Writable<'_>,
        found: &mut Found,
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
            found.issues.push(issue_for(
                r,
                Severity::Info,
                IssueCode::EmailKept,
                Some("email"),
                "email was edited in Roster and override_emails is off: the source's email is not applied".into(),
            ));
        }
        if kept_hire {
            found.issues.push(issue_for(
                r,
                Severity::Info,
                IssueCode::HireDateKept,
                Some("start_date"),
                "override_hire_date is off: the existing hire date is kept".into(),
            ));
        }
        if settings.hire_date_priority == HireDatePriority::Latest && r.latest_rehire_date.is_some()
        {
            found.rule("hire_date", Rule::HireDatePriority);
        }
    }

    /// The status. The source's exclusion directive first (a CSV file's `Employee
    /// Deactivated`): TRUE excludes an active employee, sticky; FALSE re-includes.
    /// Then exclusion, end date, inactive in the source, reactivation.
    fn update_status(
        &self,
        slot: Slot,
        e: &mut Cow<'_, Employee>,
        r: &Record,
        writable: &Writable<'_>,
        found: &mut Found,
    ) {
        match r.exclude {
            Some(true) if e.active && !e.excluded => {
                e.to_mut().excluded = true;
                found.rule("excluded", Rule::Excluded);
            }
            Some(false) if e.excluded => e.to_mut().excluded = false,
            _ => {}
        }
        let ended = e.end_date.is_some_and(|d| d <= self.today);
        if e.excluded {
            deactivate(found, e, DeactivationReason::Excluded, Rule::Excluded);
            if r.source_active && !ended && r.exclude != Some(true) {
                found.issues.push(issue_for(
                    r,
                    Severity::Info,
                    IssueCode::ExcludedStaysDeactivated,
                    None,
                    "excluded by an admin: stays deactivated until re-included".into(),
                ));
            }
        } else if ended {
            deactivate(found, e, DeactivationReason::EndDate, Rule::EndDate);
        } else if r.exclude == Some(true) {
            // Marked deactivated and already deactivated for another reason: stays so.
        } else if !r.source_active {
            // Inactive in the source without an end date: like a missing member.
            let (missing_deactivates, rule) = on_missing(self.settings, self.options);
            if missing_deactivates || matches!(slot, Slot::New(_)) {
                deactivate(found, e, DeactivationReason::Missing, rule);
            }
        } else if !e.active && writable.may("active") {
            // (A partial import without a status column leaves the status alone.)
            let m = e.to_mut();
            m.active = true;
            m.deactivation_reason = None;
            found.rule("active", Rule::Reactivated);
            found.rule("deactivation_reason", Rule::Reactivated);
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
    found: &mut Found,
    e: &mut Cow<'_, Employee>,
    reason: DeactivationReason,
    rule: Rule,
) {
    if e.active || e.deactivation_reason != Some(reason) {
        let m = e.to_mut();
        m.active = false;
        m.deactivation_reason = Some(reason);
        found.rule("active", rule);
        found.rule("deactivation_reason", rule);
    }
}

/// Records updated side by side at a time: a batch holds its employees' new states
/// once more (a first import of a million members is not copied whole).
const LIFECYCLE_BATCH: usize = 8192;
/// Records a thread updates at least before another takes over.
const LIFECYCLE_MIN_LEN: usize = 256;

/// One employee updated from its record: its new state when it differs (or is new),
/// what updating it found, and what is left of the record.
struct Updated {
    changed: Option<Employee>,
    found: Found,
    hollow: Hollow,
}

/// What updating one employee found: the issues, and the rule behind each field that
/// does not simply follow the source, in order (given to [`Work::rule`], which keeps
/// what it keeps).
#[derive(Default)]
struct Found {
    issues: Vec<Issue>,
    rules: Vec<(&'static str, Rule)>,
}

impl Found {
    fn rule(&mut self, field: &'static str, rule: Rule) {
        self.rules.push((field, rule));
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
    use crate::member::{ManagerRef, SourceMember};
    use crate::plan::PlanOptions;
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

    /// Member `i` of a company on `day` (0 or 1): on day 1 some change names or
    /// demographics, leave (an end date past, inactive in the source), are excluded or
    /// re-included, or join; some have an email edited in Roster.
    fn member(i: usize, day: usize) -> SourceMember {
        let mut m = SourceMember::new(format!("m{i:05}"), i + 1);
        m.work_email = Some(format!("p{i}@x.example"));
        m.given_name = Some(format!("G{}", i % 97));
        m.family_name = Some(format!("F{}", i % 89));
        m.date_of_birth = Some(format!("19{}-0{}-1{}", 50 + i % 40, 1 + i % 9, i % 9));
        m.start_date = Some(format!("20{:02}-03-0{}", 10 + i % 15, 1 + i % 9));
        m.fields
            .insert("department", ["Eng", "Ops", "Sales"][i % 3]);
        if day == 1 {
            match i % 10 {
                1 => m.family_name = Some(format!("F{}-new", i % 89)),
                2 => m.end_date = Some("2026-11-01".into()),
                3 => m.active = Some(false),
                4 => m.exclude = Some(true),
                5 => {
                    m.fields.insert("department", "Moved");
                }
                6 => m.start_date = Some("2024-05-05".into()),
                7 => m.work_email = Some(format!("p{i}.other@x.example")),
                _ => {}
            }
            if i.is_multiple_of(23) {
                m.exclude = Some(false);
            }
        }
        m
    }

    /// Updated side by side, a batch at a time, the lifecycle gives what the loop in
    /// order gives (a batch of one): the same placing, possible duplicates, new IDs,
    /// changed rows, rules, issues and what is left of each record.
    #[test]
    fn a_batch_at_a_time_gives_what_the_loop_in_order_gives() {
        let today = jiff::civil::date(2026, 12, 5);
        let mut settings = Settings::default();
        settings.set("employee_ids", "generate").expect("a setting");
        settings
            .set("override_hire_date", "false")
            .expect("a setting");
        settings.set("override_emails", "false").expect("a setting");
        let n = LIFECYCLE_BATCH + 1500;
        let options = PlanOptions {
            complete: true,
            ..PlanOptions::default()
        };
        let day0: Vec<SourceMember> = (0..n).map(|i| member(i, 0)).collect();
        let first = super::super::plan(&[], day0, &[], &settings, today, &options);
        let mut directory = super::super::apply(&[], &first.entries.iter().collect::<Vec<_>>());
        // Some emails edited in Roster; some rows excluded by an admin.
        for (k, e) in directory.iter_mut().enumerate() {
            e.email_edited = k % 17 == 0;
            if k % 29 == 0 {
                e.excluded = true;
                e.active = false;
            }
        }
        directory.sort_by_key(|e| e.key);
        // Day 1: the company and newcomers, some the image of an employee (a
        // possible duplicate).
        let mut day1: Vec<SourceMember> = (0..n).map(|i| member(i, 1)).collect();
        for j in 0..300 {
            let mut m = member(j * 31, 0);
            m.source_id = format!("new{j}");
            m.work_email = Some(format!("new{j}@x.example"));
            m.position = n + j + 1;
            day1.push(m);
        }
        let run = |batch: usize| {
            let mut p = Planner::new(&directory, &settings, today, &options, None);
            let records = p.normalise_members(day1.clone());
            let mut records = p.drop_duplicates(records);
            let index = super::super::matching::DirectoryIndex::new(&directory);
            let matches = p.match_records(&records, &index);
            let (placed, hollows) = p.lifecycle_in_batches(
                &mut records,
                matches.assignments,
                &matches.erased_left,
                batch,
            );
            let mut issues = p.issues.clone();
            issues.sort();
            let mut dups: Vec<_> = placed.possible_dups.into_iter().collect();
            dups.sort();
            let created: Vec<Employee> = p.work.created.iter().cloned().collect();
            let rules: std::collections::BTreeMap<_, _> =
                p.work.rules.clone().into_iter().collect();
            (
                placed.record_slot,
                dups,
                format!("{hollows:?}"),
                issues,
                p.work.touched.clone(),
                created,
                rules,
            )
        };
        let in_order = run(1);
        let batched = run(LIFECYCLE_BATCH);
        assert!(
            in_order.1.len() > 100,
            "possible duplicates: {}",
            in_order.1.len()
        );
        assert!(
            in_order.4.len() > n / 2,
            "rows changed: {}",
            in_order.4.len()
        );
        assert_eq!(in_order.5.len(), 300, "employees created");
        assert!(!in_order.6.is_empty(), "rules kept");
        for code in [
            IssueCode::EmailKept,
            IssueCode::PossibleDuplicate,
            IssueCode::ExcludedStaysDeactivated,
        ] {
            assert!(in_order.3.iter().any(|i| i.code == code), "{code:?}");
        }
        assert!(in_order.0 == batched.0, "placing");
        assert!(in_order.1 == batched.1, "possible duplicates");
        assert!(in_order.2 == batched.2, "what is left of the records");
        assert!(in_order.3 == batched.3, "issues");
        assert!(in_order.4 == batched.4, "rows changed");
        assert!(in_order.5 == batched.5, "employees created");
        assert!(in_order.6 == batched.6, "rules");
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
