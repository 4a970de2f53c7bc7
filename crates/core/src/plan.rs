//! `plan(directory, members, settings, today) -> Plan`: match, apply the lifecycle
//! rules, derive the hierarchy, and evaluate the guards. Pure and deterministic: the
//! same input gives the same plan, byte for byte.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::employee::{DeactivationReason, Employee, EmployeeKey, diff};
use crate::issue::{Issue, IssueCode, Severity};
use crate::member::{ManagerRef, RejectedMember, SourceMember};
use crate::normalise::{Record, email_key, email_key_ref, normalise, skipped_by_rule};
use crate::settings::{EmployeeIds, HireDatePriority, OnMissing, Settings};

/// Why a field gets its new value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The source's value.
    Source,
    /// End date on or before today.
    EndDate,
    /// Missing from a full sync, or inactive there without an end date, under
    /// `on_missing = deactivate`.
    OnMissing,
    /// A one-off `--deactivate-missing`.
    DeactivateMissing,
    /// Present again and active: restored.
    Reactivated,
    /// `hire_date_priority` chose the hire date.
    HireDatePriority,
    /// Derived from the rest of the directory (`is_manager`).
    Derived,
    /// The link that closed a manager cycle was dropped.
    ManagerCycle,
    /// Roster generated the employee ID.
    GeneratedId,
    /// Excluded by an admin: stays deactivated.
    Excluded,
    /// An associated field resolved to an employee's email.
    Associated,
    /// An admin edited the employee (`users set-email`).
    AdminEdit,
    /// An admin merged a duplicate into the original.
    Merge,
    /// An admin excluded or re-included the employee.
    Exclusion,
    /// An import was rolled back.
    Rollback,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::EndDate => "end_date",
            Self::OnMissing => "on_missing",
            Self::DeactivateMissing => "deactivate_missing",
            Self::Reactivated => "reactivated",
            Self::HireDatePriority => "hire_date_priority",
            Self::Derived => "derived",
            Self::ManagerCycle => "manager_cycle",
            Self::GeneratedId => "generated_id",
            Self::Excluded => "excluded",
            Self::Associated => "associated",
            Self::AdminEdit => "admin_edit",
            Self::Merge => "merge",
            Self::Exclusion => "exclusion",
            Self::Rollback => "rollback",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Deactivate,
    Reactivate,
    Update,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Deactivate => "deactivate",
            Self::Reactivate => "reactivate",
            Self::Update => "update",
        }
    }
}

/// One field's change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub rule: Rule,
}

/// What the plan does to one employee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub action: Action,
    /// The directory key; `None` for a create.
    pub key: Option<EmployeeKey>,
    pub employee_id: String,
    pub source_id: Option<String>,
    /// Field changes. Empty for a create: see [`Entry::changes`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// The employee as it will be.
    pub after: Employee,
    /// Two or more of name, date of birth and email change at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privacy: bool,
    /// The employee ID changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub id_change: bool,
    /// An existing employee with the same name and date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_duplicate_of: Option<String>,
}

impl Entry {
    /// Every field change, also for a create (all fields from empty).
    pub fn all_changes(&self) -> Vec<Change> {
        if self.action != Action::Create {
            return self.changes.clone();
        }
        diff(&Employee::default(), &self.after)
            .into_iter()
            .filter(|(f, _, _)| f != "active" || self.after.active)
            .map(|(field, old, new)| {
                let rule = match field.as_str() {
                    "employee_id" if self.after.source_id.as_deref() != Some(&self.employee_id) => {
                        Rule::GeneratedId
                    }
                    "is_manager" => Rule::Derived,
                    _ => Rule::Source,
                };
                Change {
                    field,
                    old,
                    new,
                    rule,
                }
            })
            .collect()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub reactivated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Employees whose changes are privacy-guarded.
    pub privacy: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// The mass-change guard's finding.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MassChange {
    pub deactivations: usize,
    pub active_before: usize,
    pub id_changes: usize,
    pub matched: usize,
    pub deactivation_triggered: bool,
    pub id_change_triggered: bool,
}

impl MassChange {
    pub fn triggered(&self) -> bool {
        self.deactivation_triggered || self.id_change_triggered
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.deactivation_triggered {
            parts.push(format!(
                "would deactivate {} of {} active employees",
                self.deactivations, self.active_before
            ));
        }
        if self.id_change_triggered {
            parts.push(format!(
                "would change the employee ID of {} of {} matched employees",
                self.id_changes, self.matched
            ));
        }
        parts.join("; ")
    }
}

/// Options of one planning run beyond the settings.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// The snapshot is the whole population (a full sync): missing members follow
    /// `on_missing`. False for incremental syncs and partial imports.
    pub complete: bool,
    /// Deactivate missing members this once, whatever `on_missing` says.
    pub deactivate_missing: bool,
    /// Partial import: only these fields are updated (directory field names or
    /// `demographic:<name>`). `None` updates every field.
    pub only_fields: Option<BTreeSet<String>>,
}

/// The full, deterministic list of what a sync would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub today: Date,
    pub complete: bool,
    pub counts: Counts,
    /// Sorted by action, then employee ID.
    pub entries: Vec<Entry>,
    /// Sorted by position, then code.
    pub issues: Vec<Issue>,
    pub mass_change: MassChange,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn privacy_entries(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries.iter().enumerate().filter(|(_, e)| e.privacy)
    }
}

/// Where an employee of the final state lives while planning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Slot {
    Existing(usize),
    New(usize),
}

struct Work<'a> {
    directory: &'a [Employee],
    /// Changed copies of directory rows by index.
    touched: BTreeMap<usize, Employee>,
    created: Vec<Employee>,
    /// Special rules per employee and field (default: `Rule::Source`).
    rules: HashMap<Slot, BTreeMap<String, Rule>>,
    issues: Vec<Issue>,
}

impl Work<'_> {
    fn get(&self, slot: Slot) -> &Employee {
        match slot {
            Slot::Existing(i) => self.touched.get(&i).unwrap_or(&self.directory[i]),
            Slot::New(i) => &self.created[i],
        }
    }

    fn get_mut(&mut self, slot: Slot) -> &mut Employee {
        match slot {
            Slot::Existing(i) => {
                let dir = self.directory;
                self.touched.entry(i).or_insert_with(|| dir[i].clone())
            }
            Slot::New(i) => &mut self.created[i],
        }
    }

    fn rule(&mut self, slot: Slot, field: &str, rule: Rule) {
        self.rules
            .entry(slot)
            .or_default()
            .insert(field.to_string(), rule);
    }

    fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        (0..self.directory.len())
            .map(Slot::Existing)
            .chain((0..self.created.len()).map(Slot::New))
    }
}

fn issue_for(
    r: &Record,
    sev: Severity,
    code: IssueCode,
    field: Option<&str>,
    message: String,
) -> Issue {
    Issue {
        position: Some(r.position),
        severity: sev,
        code,
        source_id: Some(r.source_id.clone()),
        employee_id: r.employee_id.clone(),
        field: field.map(str::to_string),
        message,
    }
}

/// Plan a sync of `members` into `directory`.
pub fn plan(
    directory: &[Employee],
    members: Vec<SourceMember>,
    rejected: &[RejectedMember],
    settings: &Settings,
    today: Date,
    options: &PlanOptions,
) -> Plan {
    let mut issues: Vec<Issue> = rejected
        .iter()
        .map(|r| Issue {
            position: Some(r.position),
            severity: Severity::Error,
            code: IssueCode::Unparseable,
            source_id: r.source_id.clone(),
            employee_id: None,
            field: None,
            message: r.reason.clone(),
        })
        .collect();
    let mut skipped = rejected.len();

    // Demographic names that differ from another only by case, spacing or punctuation.
    let mut folds: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for name in settings.mapping.iter().map(|m| m.demographic.as_str()) {
        folds
            .entry(crate::settings::demographic_fold(name))
            .or_default()
            .insert(name);
    }
    for e in directory.iter().take(1000) {
        for name in e.demographics.keys() {
            folds
                .entry(crate::settings::demographic_fold(name))
                .or_default()
                .insert(name);
        }
    }
    for names in folds.values().filter(|n| n.len() > 1) {
        issues.push(Issue {
            position: None,
            severity: Severity::Warning,
            code: IssueCode::DemographicNameClash,
            source_id: None,
            employee_id: None,
            field: None,
            message: format!(
                "demographics {} differ only by case, spacing or punctuation; this splits trend history",
                names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
            ),
        });
    }

    // 1. Normalise and validate.
    let mut records: Vec<Record> = Vec::with_capacity(members.len());
    for m in members {
        if let Some(rule) = skipped_by_rule(&m, settings) {
            issues.push(Issue {
                position: Some(m.position),
                severity: Severity::Info,
                code: IssueCode::DoNotImport,
                source_id: Some(m.source_id.clone()),
                employee_id: None,
                field: Some(rule.field.clone()),
                message: format!("not imported by rule `{rule}`"),
            });
            skipped += 1;
            continue;
        }
        let (record, mut found) = normalise(m, settings, today);
        issues.append(&mut found);
        match record {
            Some(r) => records.push(r),
            None => skipped += 1,
        }
    }
    records.sort_by(|a, b| {
        a.source_id
            .cmp(&b.source_id)
            .then(a.position.cmp(&b.position))
    });

    // 2. The same email or key on two members: an error for each of them.
    fn key_of(ids: EmployeeIds, r: &Record) -> Option<&str> {
        match ids {
            EmployeeIds::Source => r.employee_id.as_deref(),
            EmployeeIds::Generate => Some(r.source_id.as_str()),
        }
    }
    // First holder of each value, then the groups of the few values held twice.
    let mut first_email: HashMap<Cow<'_, str>, usize> =
        HashMap::with_capacity_and_hasher(records.len(), Default::default());
    let mut first_key: HashMap<&str, usize> =
        HashMap::with_capacity_and_hasher(records.len(), Default::default());
    let mut by_email: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut by_key: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if let Some(e) = &r.email {
            let f = *first_email.entry(email_key_ref(e)).or_insert(i);
            if f != i {
                by_email.entry(f).or_insert_with(|| vec![f]).push(i);
            }
        }
        if let Some(k) = key_of(settings.employee_ids, r) {
            let f = *first_key.entry(k).or_insert(i);
            if f != i {
                by_key.entry(f).or_insert_with(|| vec![f]).push(i);
            }
        }
    }
    drop((first_email, first_key));
    let mut bad: BTreeMap<usize, Issue> = BTreeMap::new();
    for (groups, code, what) in [
        (&by_email, IssueCode::DuplicateEmail, "email"),
        (&by_key, IssueCode::DuplicateEmployeeId, "employee ID"),
    ] {
        for idxs in groups.values().filter(|v| v.len() > 1) {
            let positions: Vec<String> = idxs
                .iter()
                .map(|&i| format!("#{}", records[i].position))
                .collect();
            for &i in idxs {
                bad.entry(i).or_insert_with(|| {
                    issue_for(
                        &records[i],
                        Severity::Error,
                        code,
                        Some(if what == "email" {
                            "email"
                        } else {
                            "employee_id"
                        }),
                        format!("the same {what} is on members {}", positions.join(", ")),
                    )
                });
            }
        }
    }
    skipped += bad.len();
    let bad_idx: HashSet<usize> = bad.keys().copied().collect();
    issues.extend(bad.into_values());
    let records: Vec<Record> = records
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !bad_idx.contains(i))
        .map(|(_, r)| r)
        .collect();

    // 3. Match.
    let mut dir_by_id: HashMap<&str, usize> =
        HashMap::with_capacity_and_hasher(directory.len(), Default::default());
    let mut dir_by_source: HashMap<&str, usize> =
        HashMap::with_capacity_and_hasher(directory.len(), Default::default());
    let mut dir_by_email: HashMap<Cow<'_, str>, usize> =
        HashMap::with_capacity_and_hasher(directory.len(), Default::default());
    for (i, e) in directory.iter().enumerate() {
        if e.merged_into.is_some() {
            continue;
        }
        dir_by_id.insert(e.employee_id.as_str(), i);
        if let Some(s) = &e.source_id {
            dir_by_source.insert(s.as_str(), i);
        }
        if !e.email.is_empty() {
            dir_by_email.insert(email_key_ref(&e.email), i);
        }
    }
    let mut work = Work {
        directory,
        touched: BTreeMap::new(),
        created: Vec::new(),
        rules: HashMap::default(),
        issues: Vec::new(),
    };
    // Matches by ID are settled first, so that a member matching an employee by
    // email only never takes the employee another member matches by ID. An email the
    // ID-matched employee gives up in this sync is released: it matches nobody.
    let id_target: Vec<Option<usize>> = records
        .iter()
        .map(|r| {
            match settings.employee_ids {
                EmployeeIds::Source => r.employee_id.as_deref().and_then(|id| dir_by_id.get(id)),
                EmployeeIds::Generate => dir_by_source.get(r.source_id.as_str()),
            }
            .copied()
        })
        .collect();
    let released: HashSet<usize> = records
        .iter()
        .zip(&id_target)
        .filter_map(|(r, t)| {
            let a = (*t)?;
            let old = &directory[a];
            let keeps = old.email_edited && !settings.override_emails;
            let new = r.email.as_deref()?;
            (!keeps && email_key_ref(new) != email_key_ref(&old.email)).then_some(a)
        })
        .collect();
    let mut claimed: Vec<Option<usize>> = vec![None; directory.len()]; // directory idx → record idx
    let mut targets: Vec<Option<Option<usize>>> = Vec::with_capacity(records.len());
    for (ri, r) in records.iter().enumerate() {
        let by_id = id_target[ri];
        let by_email = r
            .email
            .as_deref()
            .and_then(|e| dir_by_email.get(email_key_ref(e).as_ref()))
            .copied()
            .filter(|b| !released.contains(b));
        targets.push(match (by_id, by_email) {
            (Some(a), Some(b)) if a != b => {
                issues.push(issue_for(
                    r,
                    Severity::Error,
                    IssueCode::IdentifierConflict,
                    None,
                    format!(
                        "employee ID matches employee {} but email matches employee {}; \
                         correct the member in the source, or merge the two employees in Roster",
                        directory[a].employee_id, directory[b].employee_id
                    ),
                ));
                skipped += 1;
                // Skipped, but it still holds the employee its ID matches.
                claimed[a] = Some(ri);
                None
            }
            (Some(a), _) => {
                claimed[a] = Some(ri);
                Some(Some(a))
            }
            (None, b) => Some(b),
        });
    }
    let mut assignments: Vec<(usize, Option<usize>)> = Vec::with_capacity(records.len());
    for (ri, t) in targets.into_iter().enumerate() {
        let Some(target) = t else { continue };
        let r = &records[ri];
        if let Some(t) = target
            && let Some(other) = claimed[t]
            && other != ri
        {
            issues.push(issue_for(
                r,
                Severity::Error,
                IssueCode::IdentifierConflict,
                Some("email"),
                format!(
                    "email matches employee {}, which member #{} matches by employee ID",
                    directory[t].employee_id, records[other].position
                ),
            ));
            skipped += 1;
            continue;
        }
        if let Some(t) = target {
            claimed[t] = Some(ri);
        }
        assignments.push((ri, target));
    }

    // Possible duplicates: a create whose name and date of birth match an existing employee.
    // Indexed by date of birth only; names are compared for the few candidates.
    let mut by_birth: HashMap<Date, Vec<usize>> = HashMap::default();
    if assignments.iter().any(|(_, t)| t.is_none()) {
        for (i, e) in directory.iter().enumerate() {
            if let (Some(_), Some(_), Some(d)) = (&e.first_name, &e.last_name, e.date_of_birth) {
                by_birth.entry(d).or_default().push(i);
            }
        }
    }
    let same_person = |f: &str, l: &str, d: Date| -> Option<usize> {
        let (f, l) = (f.to_lowercase(), l.to_lowercase());
        by_birth.get(&d)?.iter().rev().copied().find(|&i| {
            let e = &directory[i];
            e.first_name.as_deref().map(str::to_lowercase).as_deref() == Some(f.as_str())
                && e.last_name.as_deref().map(str::to_lowercase).as_deref() == Some(l.as_str())
        })
    };

    // Generated employee IDs continue after the highest one in the directory.
    let prefix = settings.generated_id_prefix.as_str();
    let mut next_generated = directory
        .iter()
        .filter_map(|e| e.employee_id.strip_prefix(prefix)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1;

    // 4. Lifecycle: compute each matched or new employee's state.
    let only = options.only_fields.as_ref();
    let unrestricted = settings.exclude_fields.is_empty() && only.is_none();
    let may = |field: &str| -> bool {
        unrestricted
            || (!settings.exclude_fields.contains(field) && only.is_none_or(|o| o.contains(field)))
    };
    let may_demographic =
        |name: &str| unrestricted || (may(name) && may(&format!("demographic:{name}")));
    let mapped: BTreeSet<&str> = settings
        .mapping
        .iter()
        .map(|m| m.demographic.as_str())
        .collect();
    let mut record_slot: Vec<(Slot, usize)> = Vec::with_capacity(assignments.len());
    let mut possible_dups: HashMap<Slot, String> = HashMap::default();
    for (ri, target) in assignments {
        let r = &records[ri];
        let slot = match target {
            Some(i) => Slot::Existing(i),
            None => {
                let mut e = Employee {
                    active: true,
                    ..Employee::default()
                };
                match &r.employee_id {
                    Some(id) => e.employee_id = id.clone(),
                    None => {
                        e.employee_id = format!("{prefix}{next_generated:06}");
                        next_generated += 1;
                    }
                }
                work.created.push(e);
                let slot = Slot::New(work.created.len() - 1);
                if settings.employee_ids == EmployeeIds::Generate {
                    work.rule(slot, "employee_id", Rule::GeneratedId);
                }
                if let (Some(f), Some(l), Some(d)) = (&r.first_name, &r.last_name, r.date_of_birth)
                    && let Some(dup) = same_person(f, l, d)
                {
                    let dup_id = directory[dup].employee_id.clone();
                    issues.push(issue_for(
                        r,
                        Severity::Warning,
                        IssueCode::PossibleDuplicate,
                        None,
                        format!(
                            "a new employee would be created, but employee {dup_id} has the same name and date of birth; \
                             if both the email and the employee ID changed, merge the new employee into {dup_id} after import"
                        ),
                    ));
                    possible_dups.insert(slot, dup_id);
                }
                slot
            }
        };
        record_slot.push((slot, ri));
        let is_new = matches!(slot, Slot::New(_));
        let mut kept_email = false;
        let mut kept_hire = false;
        // The new state is copied from the old one only when something differs.
        let mut e: Cow<'_, Employee> = match slot {
            Slot::Existing(i) => Cow::Borrowed(&directory[i]),
            Slot::New(i) => Cow::Owned(std::mem::take(&mut work.created[i])),
        };
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
        // A partial source without member ids of its own (a CSV file) leaves the
        // source id alone.
        if only.is_none_or(|o| o.contains("source_id"))
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
        upd!(may("secondary_email"), secondary_email, r.secondary_email);
        upd!(may("first_name"), first_name, r.first_name);
        upd!(may("last_name"), last_name, r.last_name);
        upd!(may("preferred_name"), preferred_name, r.preferred_name);
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
        if may("manager_email") && e.manager_email.as_deref() != r.manager.email() {
            e.to_mut().manager_email = r.manager.email().map(str::to_string);
        }
        upd!(may("phone"), phone, r.phone);
        if only.is_none() {
            // Mapped demographics the source no longer carries are cleared,
            // unless excluded.
            let keep = |k: &String| {
                !mapped.contains(k.as_str())
                    || settings.exclude_fields.contains(k)
                    || r.demographics.contains_key(k)
                    || r.associated.contains_key(k)
            };
            if !e.demographics.keys().all(keep) {
                e.to_mut().demographics.retain(|k, _| keep(k));
            }
        } else {
            // A partial import clears the mapped demographics it carries blank.
            let clear = |k: &String| {
                mapped.contains(k.as_str())
                    && may_demographic(k)
                    && !r.demographics.contains_key(k)
                    && !r.associated.contains_key(k)
            };
            if e.demographics.keys().any(clear) {
                e.to_mut().demographics.retain(|k, _| !clear(k));
            }
        }
        for (k, v) in &r.demographics {
            if may_demographic(k) && e.demographics.get(k) != Some(v) {
                e.to_mut().demographics.insert(k.clone(), v.clone());
            }
        }
        if kept_email {
            issues.push(issue_for(
                r,
                Severity::Info,
                IssueCode::EmailKept,
                Some("email"),
                "email was edited in Roster and override_emails is off: the source's email is not applied".into(),
            ));
        }
        if kept_hire {
            issues.push(issue_for(
                r,
                Severity::Info,
                IssueCode::HireDateKept,
                Some("start_date"),
                "override_hire_date is off: the existing hire date is kept".into(),
            ));
        }
        if settings.hire_date_priority == HireDatePriority::Latest && r.latest_rehire_date.is_some()
        {
            work.rule(slot, "hire_date", Rule::HireDatePriority);
        }

        // Status. The source's exclusion directive first (a CSV file's `Employee
        // Deactivated`): TRUE excludes an active employee, sticky; FALSE re-includes.
        match r.exclude {
            Some(true) if e.active && !e.excluded => {
                e.to_mut().excluded = true;
                work.rule(slot, "excluded", Rule::Excluded);
            }
            Some(false) if e.excluded => e.to_mut().excluded = false,
            _ => {}
        }
        let ended = e.end_date.is_some_and(|d| d <= today);
        let mut deactivate_for = |e: &mut Cow<'_, Employee>, reason, rule| {
            if e.active || e.deactivation_reason != Some(reason) {
                let m = e.to_mut();
                m.active = false;
                m.deactivation_reason = Some(reason);
                work.rule(slot, "active", rule);
                work.rule(slot, "deactivation_reason", rule);
            }
        };
        if e.excluded {
            deactivate_for(&mut e, DeactivationReason::Excluded, Rule::Excluded);
            if r.source_active && !ended && r.exclude != Some(true) {
                issues.push(issue_for(
                    r,
                    Severity::Info,
                    IssueCode::ExcludedStaysDeactivated,
                    None,
                    "excluded by an admin: stays deactivated until re-included".into(),
                ));
            }
        } else if ended {
            deactivate_for(&mut e, DeactivationReason::EndDate, Rule::EndDate);
        } else if r.exclude == Some(true) {
            // Marked deactivated and already deactivated for another reason: stays so.
        } else if !r.source_active {
            // Inactive in the source without an end date: like a missing member.
            let deactivate =
                settings.on_missing == OnMissing::Deactivate || options.deactivate_missing;
            if deactivate || is_new {
                let rule = if settings.on_missing == OnMissing::Deactivate {
                    Rule::OnMissing
                } else {
                    Rule::DeactivateMissing
                };
                deactivate_for(&mut e, DeactivationReason::Missing, rule);
            }
        } else if !e.active && may("active") {
            // (A partial import without a status column leaves the status alone.)
            let m = e.to_mut();
            m.active = true;
            m.deactivation_reason = None;
            work.rule(slot, "active", Rule::Reactivated);
            work.rule(slot, "deactivation_reason", Rule::Reactivated);
        }
        match (slot, e) {
            (Slot::New(i), e) => work.created[i] = e.into_owned(),
            (Slot::Existing(i), Cow::Owned(e)) => {
                if e != directory[i] {
                    work.touched.insert(i, e);
                }
            }
            (Slot::Existing(_), Cow::Borrowed(_)) => {}
        }
    }

    // 5. Missing members of a full sync.
    if options.complete {
        let deactivate = settings.on_missing == OnMissing::Deactivate || options.deactivate_missing;
        let rule = if settings.on_missing == OnMissing::Deactivate {
            Rule::OnMissing
        } else {
            Rule::DeactivateMissing
        };
        if deactivate {
            for (i, e) in directory.iter().enumerate() {
                if e.active && e.merged_into.is_none() && claimed[i].is_none() {
                    let m = work.get_mut(Slot::Existing(i));
                    m.active = false;
                    m.deactivation_reason = Some(DeactivationReason::Missing);
                    work.rule(Slot::Existing(i), "active", rule);
                    work.rule(Slot::Existing(i), "deactivation_reason", rule);
                }
            }
        }
    }

    // 6. Final emails must stay unique: a member taking an email another employee
    // keeps is skipped (its changes are undone).
    // Only changed rows can clash: each is checked against the unchanged directory
    // (its email index) and against the other changed rows.
    loop {
        let mut owner: HashMap<Cow<'_, str>, Slot> = HashMap::default();
        let mut clash: Option<(Slot, Slot)> = None;
        let changed = work
            .touched
            .iter()
            .map(|(i, e)| (Slot::Existing(*i), e))
            .chain(
                work.created
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (Slot::New(i), e)),
            );
        for (slot, e) in changed {
            if e.email.is_empty()
                || (matches!(slot, Slot::Existing(i) if directory[i].merged_into.is_some()))
            {
                continue;
            }
            let key = email_key_ref(&e.email);
            if let Some(&j) = dir_by_email.get(key.as_ref())
                && Slot::Existing(j) != slot
                && !work.touched.contains_key(&j)
            {
                clash = Some((Slot::Existing(j), slot));
                break;
            }
            if let Some(prev) = owner.insert(key, slot) {
                clash = Some((prev, slot));
                break;
            }
        }
        let Some((a, b)) = clash else { break };
        let loser = if matches!(b, Slot::New(_))
            || work.touched.contains_key(&match b {
                Slot::Existing(i) => i,
                Slot::New(_) => usize::MAX,
            }) {
            b
        } else {
            a
        };
        let ri = record_slot
            .iter()
            .find(|(s, _)| *s == loser)
            .map(|(_, ri)| *ri);
        let other = work.get(if loser == a { b } else { a }).employee_id.clone();
        if let Some(ri) = ri {
            issues.push(issue_for(
                &records[ri],
                Severity::Error,
                IssueCode::EmailTaken,
                Some("email"),
                format!("the member's email already belongs to employee {other}"),
            ));
        }
        skipped += 1;
        match loser {
            Slot::Existing(i) => {
                work.touched.remove(&i);
            }
            Slot::New(i) => {
                // Keep indices stable: blank the row so it is dropped below.
                work.created[i].email.clear();
                work.created[i].employee_id.clear();
            }
        }
        record_slot.retain(|(s, _)| *s != loser);
    }

    // 7. Associated fields: a member id or email → that employee's email.
    let mut email_of_source: HashMap<String, String> = HashMap::default();
    let mut known_email: HashSet<String> = HashSet::default();
    let any_associated = record_slot
        .iter()
        .any(|&(_, ri)| !records[ri].associated.is_empty());
    for slot in work.slots().filter(|_| any_associated) {
        let e = work.get(slot);
        if let Some(s) = &e.source_id {
            email_of_source.insert(s.clone(), e.email.clone());
        }
        known_email.insert(email_key(&e.email));
    }
    let mut associated_updates: Vec<(Slot, String, Option<String>)> = Vec::new();
    for &(slot, ri) in &record_slot {
        let r = &records[ri];
        for (demo, raw) in &r.associated {
            let resolved = email_of_source
                .get(raw)
                .cloned()
                .filter(|e| !e.is_empty())
                .or_else(|| known_email.contains(&email_key(raw)).then(|| raw.clone()));
            if resolved.is_none() {
                work.issues.push(issue_for(
                    r,
                    Severity::Warning,
                    IssueCode::AssociatedUnresolved,
                    Some(demo),
                    format!("{demo} refers to {raw:?}, which is no employee in the sync"),
                ));
            }
            associated_updates.push((slot, demo.clone(), resolved));
        }
    }
    for (slot, demo, value) in associated_updates {
        let e = work.get_mut(slot);
        match value {
            Some(v) => {
                e.demographics.insert(demo.clone(), v);
            }
            None => {
                e.demographics.remove(&demo);
            }
        }
        work.rule(slot, &format!("demographic:{demo}"), Rule::Associated);
    }
    issues.append(&mut work.issues);

    // 8. Hierarchy: managers not active, self-managers and cycles; then is_manager.
    let final_slots: Vec<Slot> = work
        .slots()
        .filter(|s| match s {
            Slot::New(i) => !work.created[*i].employee_id.is_empty(),
            Slot::Existing(_) => true,
        })
        .collect();
    // Slots as dense indices: directory rows, then created ones.
    let dense = |s: Slot| match s {
        Slot::Existing(i) => i,
        Slot::New(i) => directory.len() + i,
    };
    let mut by_final_email: HashMap<Cow<'_, str>, Slot> =
        HashMap::with_capacity_and_hasher(final_slots.len(), Default::default());
    for &s in &final_slots {
        // Unchanged rows lend their email; changed ones are copied, as they change below.
        let (e, lent) = match s {
            Slot::Existing(i) if !work.touched.contains_key(&i) => (&directory[i], true),
            _ => (work.get(s), false),
        };
        if e.merged_into.is_none() && !e.email.is_empty() {
            let key = if lent {
                email_key_ref(&directory[dense(s)].email)
            } else {
                Cow::Owned(email_key(&e.email))
            };
            by_final_email.insert(key, s);
        }
    }
    let record_of: HashMap<Slot, usize> = record_slot.iter().copied().collect();
    for &(slot, ri) in &record_slot {
        let r = &records[ri];
        let e = work.get(slot);
        if !e.active {
            continue;
        }
        if let Some(email) = r.manager.email() {
            let ok = by_final_email
                .get(email_key_ref(email).as_ref())
                .is_some_and(|m| work.get(*m).active);
            if !ok {
                let who = match source_id_of(&r.manager) {
                    Some(id) => format!("manager {id}"),
                    None => "the manager".to_string(),
                };
                issues.push(issue_for(
                    r,
                    Severity::Warning,
                    IssueCode::ManagerNotInSync,
                    Some("manager_email"),
                    format!("{who} is not an active employee in the sync"),
                ));
            }
        }
    }
    // Self-manager and cycles, over the whole final directory (a functional graph).
    let mut order: Vec<Slot> = final_slots
        .iter()
        .copied()
        .filter(|s| work.get(*s).manager_email.is_some())
        .collect();
    order.sort_by(|a, b| work.get(*a).employee_id.cmp(&work.get(*b).employee_id));
    // 0 = not seen, 1 = on the current path, 2 = done; indexed by `dense`.
    let mut state: Vec<u8> = vec![0; directory.len() + work.created.len()];
    let mut drops: Vec<(Slot, IssueCode)> = Vec::new();
    for &start in &order {
        if state[dense(start)] != 0 {
            continue;
        }
        let mut path = Vec::new();
        let mut cur = start;
        loop {
            state[dense(cur)] = 1;
            path.push(cur);
            let next = work
                .get(cur)
                .manager_email
                .as_deref()
                .and_then(|m| by_final_email.get(email_key_ref(m).as_ref()).copied());
            match next {
                Some(n) if n == cur => {
                    drops.push((cur, IssueCode::SelfManager));
                    break;
                }
                Some(n) if state[dense(n)] == 1 => {
                    drops.push((cur, IssueCode::ManagerCycle));
                    break;
                }
                Some(n) if state[dense(n)] == 0 => cur = n,
                _ => break,
            }
        }
        for p in path {
            state[dense(p)] = 2;
        }
    }
    for (slot, code) in drops {
        let emp_id = work.get(slot).employee_id.clone();
        work.get_mut(slot).manager_email = None;
        work.rule(slot, "manager_email", Rule::ManagerCycle);
        let message = if code == IssueCode::SelfManager {
            "the employee is their own manager; the link is dropped".to_string()
        } else {
            "this reporting line closes a manager cycle; the link is dropped".to_string()
        };
        let issue = match record_of.get(&slot) {
            Some(&ri) => issue_for(
                &records[ri],
                Severity::Warning,
                code,
                Some("manager_email"),
                message,
            ),
            None => Issue {
                position: None,
                severity: Severity::Warning,
                code,
                source_id: None,
                employee_id: Some(emp_id),
                field: Some("manager_email".into()),
                message,
            },
        };
        issues.push(issue);
    }
    // is_manager: active with at least one active report.
    let mut reports: Vec<bool> = vec![false; directory.len() + work.created.len()];
    for &s in &final_slots {
        let e = work.get(s);
        if e.active
            && let Some(m) = e
                .manager_email
                .as_deref()
                .and_then(|m| by_final_email.get(email_key_ref(m).as_ref()))
        {
            reports[dense(*m)] = true;
        }
    }
    for &s in &final_slots {
        let e = work.get(s);
        let is_manager = e.active && reports[dense(s)];
        if e.is_manager != is_manager && e.merged_into.is_none() {
            work.get_mut(s).is_manager = is_manager;
            work.rule(s, "is_manager", Rule::Derived);
        }
    }

    // 9. Entries.
    let mut entries = Vec::new();
    let mut counts = Counts::default();
    let active_before = directory.iter().filter(|e| e.active).count();
    let matched = record_slot
        .iter()
        .filter(|(s, _)| matches!(s, Slot::Existing(_)))
        .count();
    let unchanged_matched = record_slot
        .iter()
        .filter(|(s, _)| matches!(s, Slot::Existing(i) if !work.touched.contains_key(i)))
        .count();
    let touched = std::mem::take(&mut work.touched);
    for (i, after) in touched {
        let before = &directory[i];
        let changes = diff(before, &after);
        if changes.is_empty() {
            if record_of.contains_key(&Slot::Existing(i)) {
                counts.unchanged += 1;
            }
            continue;
        }
        let rules = work.rules.get(&Slot::Existing(i));
        let changes: Vec<Change> = changes
            .into_iter()
            .map(|(field, old, new)| {
                let rule = rules
                    .and_then(|r| r.get(&field))
                    .copied()
                    .unwrap_or(Rule::Source);
                Change {
                    field,
                    old,
                    new,
                    rule,
                }
            })
            .collect();
        let action = match (before.active, after.active) {
            (true, false) => Action::Deactivate,
            (false, true) => Action::Reactivate,
            _ => Action::Update,
        };
        let touched_field = |f: &str| changes.iter().any(|c| c.field == f);
        let categories = [
            touched_field("first_name") || touched_field("last_name"),
            touched_field("date_of_birth"),
            changes.iter().any(|c| {
                c.field == "email"
                    && c.old.as_deref().map(email_key) != c.new.as_deref().map(email_key)
            }),
        ];
        let privacy = settings.privacy_guard && categories.iter().filter(|b| **b).count() >= 2;
        let id_change = touched_field("employee_id");
        entries.push(Entry {
            action,
            key: Some(before.key),
            employee_id: after.employee_id.clone(),
            source_id: after.source_id.clone(),
            changes,
            after,
            privacy,
            id_change,
            possible_duplicate_of: None,
        });
    }
    counts.unchanged += unchanged_matched;
    for (i, after) in std::mem::take(&mut work.created).into_iter().enumerate() {
        if after.employee_id.is_empty() {
            continue;
        }
        entries.push(Entry {
            action: Action::Create,
            key: None,
            employee_id: after.employee_id.clone(),
            source_id: after.source_id.clone(),
            changes: Vec::new(),
            after,
            privacy: false,
            id_change: false,
            possible_duplicate_of: possible_dups.remove(&Slot::New(i)),
        });
    }
    entries.sort_by(|a, b| {
        a.action
            .cmp(&b.action)
            .then_with(|| a.employee_id.cmp(&b.employee_id))
            .then_with(|| a.key.cmp(&b.key))
    });
    for e in &entries {
        match e.action {
            Action::Create => counts.created += 1,
            Action::Update => counts.updated += 1,
            Action::Deactivate => counts.deactivated += 1,
            Action::Reactivate => counts.reactivated += 1,
        }
        if e.privacy {
            counts.privacy += 1;
        }
    }
    counts.skipped = skipped;

    // 10. Mass-change guard.
    let deactivations = entries
        .iter()
        .filter(|e| e.action == Action::Deactivate)
        .count();
    let id_changes = entries.iter().filter(|e| e.id_change).count();
    let mass_change = MassChange {
        deactivations,
        active_before,
        id_changes,
        matched,
        deactivation_triggered: deactivations >= settings.mass_deactivation_min.max(1)
            && (deactivations as f64)
                > settings.mass_deactivation_percent / 100.0 * active_before as f64,
        id_change_triggered: id_changes > 0
            && (id_changes as f64) > settings.mass_id_change_percent / 100.0 * matched as f64,
    };

    issues.sort();
    issues.dedup();
    counts.errors = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .count();
    counts.warnings = issues
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .count();
    Plan {
        today,
        complete: options.complete,
        counts,
        entries,
        issues,
        mass_change,
    }
}

fn source_id_of(m: &ManagerRef) -> Option<&str> {
    match m {
        ManagerRef::Resolved { source_id, .. }
        | ManagerRef::NoWorkEmail { source_id }
        | ManagerRef::NotInSnapshot { source_id } => Some(source_id),
        _ => None,
    }
}

/// The rows of an outline directory (see [`Employee::outline`]) that planning
/// `members` needs in full: every row a member could match, by employee ID, source
/// ID or either of its emails (a superset of what [`plan`] matches).
pub fn rows_to_load(
    outline: &[Employee],
    members: &[SourceMember],
    settings: &Settings,
) -> Vec<usize> {
    let mut ids: HashSet<&str> = HashSet::default();
    let mut emails: HashSet<String> = HashSet::default();
    for m in members {
        ids.insert(m.source_id.trim());
        for e in [&m.work_email, &m.personal_email].into_iter().flatten() {
            emails.insert(email_key(e));
        }
    }
    let by_id = settings.employee_ids == EmployeeIds::Source;
    outline
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            (by_id && ids.contains(e.employee_id.as_str()))
                || e.source_id.as_deref().is_some_and(|s| ids.contains(s))
                || (!e.email.is_empty() && emails.contains(email_key_ref(&e.email).as_ref()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Rows of `directory` that `plan` changes although they were not loaded in full
/// (`loaded[i]` false): derived changes such as `is_manager`. Load them and plan
/// again; the plan is then the one the whole directory gives.
pub fn rows_missing(plan: &Plan, directory: &[Employee], loaded: &[bool]) -> Vec<usize> {
    let index: HashMap<EmployeeKey, usize> = directory
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key, i))
        .collect();
    let mut rows: Vec<usize> = plan
        .entries
        .iter()
        .filter_map(|e| index.get(&e.key?).copied())
        .filter(|&i| !loaded[i])
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// Apply entries to an in-memory directory, as the store would: creates get the
/// next free keys. Used by dry runs and tests; the store has its own transactional
/// path.
pub fn apply(directory: &[Employee], entries: &[&Entry]) -> Vec<Employee> {
    let mut out = directory.to_vec();
    let index: HashMap<EmployeeKey, usize> =
        out.iter().enumerate().map(|(i, e)| (e.key, i)).collect();
    let mut next_key = out.iter().map(|e| e.key).max().unwrap_or(0) + 1;
    for entry in entries {
        match entry.key.and_then(|k| index.get(&k)) {
            Some(&i) => {
                let key = out[i].key;
                out[i] = entry.after.clone();
                out[i].key = key;
            }
            None => {
                let mut e = entry.after.clone();
                e.key = next_key;
                next_key += 1;
                out.push(e);
            }
        }
    }
    out
}

/// Re-derive `is_manager` for a directory after some rows changed; returns the keys
/// whose flag flips.
pub fn manager_flags(directory: &[Employee]) -> Vec<(EmployeeKey, bool)> {
    let by_email: HashMap<String, usize> = directory
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.email.is_empty() && e.merged_into.is_none())
        .map(|(i, e)| (email_key(&e.email), i))
        .collect();
    let mut has_report = vec![false; directory.len()];
    for e in directory.iter().filter(|e| e.active) {
        if let Some(&m) = e
            .manager_email
            .as_deref()
            .and_then(|m| by_email.get(&email_key(m)))
        {
            has_report[m] = true;
        }
    }
    directory
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let flag = e.active && has_report[i];
            (flag != e.is_manager).then_some((e.key, flag))
        })
        .collect()
}

/// Turn admin edits (employees as they should be) into a plan of updates, with
/// `is_manager` re-derived over the whole directory.
pub fn edits(directory: &[Employee], changed: Vec<Employee>, rule: Rule, today: Date) -> Plan {
    let index: HashMap<EmployeeKey, usize> = directory
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key, i))
        .collect();
    let mut after: BTreeMap<usize, Employee> = BTreeMap::new();
    for e in changed {
        if let Some(&i) = index.get(&e.key) {
            after.insert(i, e);
        }
    }
    let mut merged: Vec<Employee> = directory.to_vec();
    for (i, e) in &after {
        merged[*i] = e.clone();
    }
    for (key, flag) in manager_flags(&merged) {
        let i = index[&key];
        after
            .entry(i)
            .or_insert_with(|| merged[i].clone())
            .is_manager = flag;
    }
    let mut entries = Vec::new();
    let mut counts = Counts::default();
    for (i, a) in after {
        let before = &directory[i];
        let changes: Vec<Change> = diff(before, &a)
            .into_iter()
            .map(|(field, old, new)| {
                let r = if field == "is_manager" {
                    Rule::Derived
                } else {
                    rule
                };
                Change {
                    field,
                    old,
                    new,
                    rule: r,
                }
            })
            .collect();
        if changes.is_empty() {
            continue;
        }
        let action = match (before.active, a.active) {
            (true, false) => {
                counts.deactivated += 1;
                Action::Deactivate
            }
            (false, true) => {
                counts.reactivated += 1;
                Action::Reactivate
            }
            _ => {
                counts.updated += 1;
                Action::Update
            }
        };
        entries.push(Entry {
            action,
            key: Some(before.key),
            employee_id: a.employee_id.clone(),
            source_id: a.source_id.clone(),
            changes,
            after: a,
            privacy: false,
            id_change: false,
            possible_duplicate_of: None,
        });
    }
    entries.sort_by(|a, b| {
        a.action
            .cmp(&b.action)
            .then_with(|| a.employee_id.cmp(&b.employee_id))
    });
    Plan {
        today,
        complete: false,
        counts,
        entries,
        issues: Vec::new(),
        mass_change: MassChange::default(),
    }
}

/// Future end dates that have come due: deactivate those employees today even though
/// the source did not change (DESIGN §6).
pub fn tick(directory: &[Employee], today: Date) -> Plan {
    let due: Vec<Employee> = directory
        .iter()
        .filter(|e| e.active && e.merged_into.is_none() && e.end_date.is_some_and(|d| d <= today))
        .map(|e| {
            let mut e = e.clone();
            e.active = false;
            e.deactivation_reason = Some(DeactivationReason::EndDate);
            e
        })
        .collect();
    edits(directory, due, Rule::EndDate, today)
}
