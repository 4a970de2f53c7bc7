//! Step 3: match each record to a directory row, by ID first and then by email, and
//! the look-ups the creates need: possible duplicates and the next generated ID.

use std::borrow::Cow;

use jiff::civil::Date;
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::work::{Planner, issue_for};
use crate::employee::Employee;
use crate::issue::{IssueCode, Severity};
use crate::normalise::{Record, email_key_ref};
use crate::settings::EmployeeIds;

/// The directory's rows by employee ID, source id and email; merged rows are left out.
pub(super) struct DirectoryIndex<'a> {
    by_id: HashMap<&'a str, usize>,
    by_source: HashMap<&'a str, usize>,
    pub(super) by_email: HashMap<Cow<'a, str>, usize>,
}

impl<'a> DirectoryIndex<'a> {
    pub(super) fn new(directory: &'a [Employee]) -> Self {
        let n = directory.len();
        let mut index = DirectoryIndex {
            by_id: HashMap::with_capacity_and_hasher(n, Default::default()),
            by_source: HashMap::with_capacity_and_hasher(n, Default::default()),
            by_email: HashMap::with_capacity_and_hasher(n, Default::default()),
        };
        for (i, e) in directory.iter().enumerate() {
            if e.merged_into.is_some() {
                continue;
            }
            index.by_id.insert(e.employee_id.as_str(), i);
            if let Some(s) = &e.source_id {
                index.by_source.insert(s.as_str(), i);
            }
            if !e.email.is_empty() {
                index.by_email.insert(email_key_ref(&e.email), i);
            }
        }
        index
    }
}

/// Records a thread of matching's look-ups takes at least (an incremental sync's
/// few hundred are not worth splitting).
const MATCH_MIN_LEN: usize = 4096;

/// What matching found.
pub(super) struct Matches {
    /// Each record kept: (record index, the directory row it updates, or `None` for a
    /// create).
    pub(super) assignments: Vec<(usize, Option<usize>)>,
    /// Directory index → the record holding it.
    pub(super) claimed: Vec<Option<usize>>,
    /// Records matched to an anonymised (erased) record through
    /// `PlanOptions::returning` while inactive in the source: a leaver the source
    /// still lists. Such a record is left erased (nothing of the source's fills it).
    pub(super) erased_left: HashSet<usize>,
}

impl Planner<'_> {
    /// Step 3: match. Matches by ID are settled first, so that a member matching an
    /// employee by email only never takes the employee another member matches by ID.
    /// An email the ID-matched employee gives up in this sync is released: it matches
    /// nobody. A member whose ID and email match two employees, or whose email matches
    /// an employee another member holds by ID, is skipped.
    pub(super) fn match_records(
        &mut self,
        records: &[Record],
        index: &DirectoryIndex<'_>,
    ) -> Matches {
        let directory = self.directory;
        let (id_target, returning) = self.id_targets(records, index);
        let released = self.released(records, &id_target);
        let mut claimed: Vec<Option<usize>> = vec![None; directory.len()];
        // Each record's row by email, looked up on every core (the look-ups hash and
        // compare text that is not in the cache: issue #15, session 19).
        let by_emails: Vec<Option<usize>> = records
            .par_iter()
            .with_min_len(MATCH_MIN_LEN)
            .map(|r| {
                let email = r.email.as_deref()?;
                index.by_email.get(email_key_ref(email).as_ref()).copied()
            })
            .collect();
        let mut targets: Vec<Option<Option<usize>>> = Vec::with_capacity(records.len());
        for (ri, r) in records.iter().enumerate() {
            let by_id = id_target[ri];
            if by_id.is_none() && returning.contains(&ri) && !r.source_active {
                // A removed person the source lists as a leaver: nothing to create,
                // and a report naming them as manager names nobody.
                self.erased_left += 1;
                self.forget_emails(r, None);
                targets.push(None);
                continue;
            }
            let by_email = by_emails[ri].filter(|b| !released.contains(b));
            targets.push(match (by_id, by_email) {
                (Some(a), Some(b)) if a != b => {
                    self.issues.push(issue_for(
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
                    self.skipped += 1;
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
                self.issues.push(issue_for(
                    r,
                    Severity::Error,
                    IssueCode::IdentifierConflict,
                    Some("email"),
                    format!(
                        "email matches employee {}, which member #{} matches by employee ID",
                        directory[t].employee_id, records[other].position
                    ),
                ));
                self.skipped += 1;
                continue;
            }
            if let Some(t) = target {
                claimed[t] = Some(ri);
            }
            assignments.push((ri, target));
        }
        let erased_left = self.erased_left(records, &assignments, &returning);
        Matches {
            assignments,
            claimed,
            erased_left,
        }
    }

    /// A person left erased: the source's emails of `r` stand for `instead` (the
    /// anonymous record's neutral email, or nobody) as a manager's email.
    fn forget_emails(&mut self, r: &Record, instead: Option<String>) {
        for email in [r.email.as_deref(), r.secondary_email.as_deref()]
            .into_iter()
            .flatten()
        {
            self.erased_emails
                .insert(email_key_ref(email).into_owned(), instead.clone());
        }
    }

    /// The records matched through `returning` that are inactive in the source
    /// (re-hired people are active there): left erased. Their email in the source
    /// maps to the anonymous record's (neutral) one, so that a report naming them
    /// as manager gets the neutral email, not the erased one back.
    fn erased_left(
        &mut self,
        records: &[Record],
        assignments: &[(usize, Option<usize>)],
        returning: &HashSet<usize>,
    ) -> HashSet<usize> {
        let mut left = HashSet::default();
        for &(ri, target) in assignments {
            let r = &records[ri];
            let Some(t) = target.filter(|_| returning.contains(&ri) && !r.source_active) else {
                continue;
            };
            left.insert(ri);
            let neutral = Some(self.directory[t].email.clone()).filter(|e| !e.is_empty());
            self.forget_emails(r, neutral);
        }
        self.erased_left += left.len();
        left
    }

    /// The directory row each record matches by ID (employee ID, or source id when
    /// Roster generates the IDs); a member recognised as a person whose data was
    /// erased (`PlanOptions::returning`) matches the anonymous record otherwise, or
    /// nothing when that record was removed (the second value: the indices of the
    /// records recognised so).
    fn id_targets(
        &self,
        records: &[Record],
        index: &DirectoryIndex<'_>,
    ) -> (Vec<Option<usize>>, HashSet<usize>) {
        let returning = &self.options.returning;
        let ids = self.settings.employee_ids;
        // The look-ups on every core; the few records the directory does not hold
        // by ID are then looked for among the returning, in order.
        let found: Vec<Option<usize>> = records
            .par_iter()
            .with_min_len(MATCH_MIN_LEN)
            .map(|r| {
                match ids {
                    EmployeeIds::Source => {
                        r.employee_id.as_deref().and_then(|id| index.by_id.get(id))
                    }
                    EmployeeIds::Generate => index.by_source.get(r.source_id.as_str()),
                }
                .copied()
            })
            .collect();
        let mut by_digest = HashSet::default();
        let targets = records
            .iter()
            .zip(found)
            .enumerate()
            .map(|(ri, (r, found))| {
                found.or_else(|| {
                    let key = returning.get(r.source_id.as_str())?;
                    // No row: the record was removed (`users erase --remove`).
                    by_digest.insert(ri);
                    self.directory
                        .iter()
                        .position(|e| e.key == *key && e.merged_into.is_none())
                })
            })
            .collect();
        (targets, by_digest)
    }

    /// The rows matched by ID whose email changes in this sync: their old email is
    /// released.
    fn released(&self, records: &[Record], id_target: &[Option<usize>]) -> HashSet<usize> {
        let (directory, override_emails) = (self.directory, self.settings.override_emails);
        records
            .par_iter()
            .zip(id_target)
            .with_min_len(MATCH_MIN_LEN)
            .filter_map(|(r, t)| {
                let a = (*t)?;
                let old = &directory[a];
                let keeps = old.email_edited && !override_emails;
                let new = r.email.as_deref()?;
                (!keeps && email_key_ref(new) != email_key_ref(&old.email)).then_some(a)
            })
            .collect()
    }
}

/// Possible duplicates: an existing employee with a new one's name and date of birth.
/// Indexed by date of birth only; names are compared for the few candidates.
pub(super) struct SamePerson<'a> {
    directory: &'a [Employee],
    by_birth: HashMap<Date, Vec<usize>>,
}

impl<'a> SamePerson<'a> {
    /// The index; empty when there are no creates to check.
    pub(super) fn new(directory: &'a [Employee], any_creates: bool) -> Self {
        let mut by_birth: HashMap<Date, Vec<usize>> = HashMap::default();
        if any_creates {
            for (i, e) in directory.iter().enumerate() {
                if let (Some(_), Some(_), Some(d)) = (&e.first_name, &e.last_name, e.date_of_birth)
                {
                    by_birth.entry(d).or_default().push(i);
                }
            }
        }
        SamePerson {
            directory,
            by_birth,
        }
    }

    /// The last directory row with this name (case-insensitive) and date of birth.
    pub(super) fn find(&self, first: &str, last: &str, dob: Date) -> Option<usize> {
        let (f, l) = (first.to_lowercase(), last.to_lowercase());
        self.by_birth.get(&dob)?.iter().rev().copied().find(|&i| {
            let e = &self.directory[i];
            e.first_name.as_deref().map(str::to_lowercase).as_deref() == Some(f.as_str())
                && e.last_name.as_deref().map(str::to_lowercase).as_deref() == Some(l.as_str())
        })
    }
}

/// Generated employee IDs continue after the highest one in the directory.
pub(super) fn next_generated_id(directory: &[Employee], prefix: &str) -> u64 {
    super::part::next_generated(directory.iter().map(|e| e.employee_id.as_str()), prefix)
}
