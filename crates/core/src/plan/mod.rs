//! `plan(directory, members, settings, today) -> Plan`: match, apply the lifecycle
//! rules, derive the hierarchy, and evaluate the guards. Pure and deterministic: the
//! same input gives the same plan, byte for byte.
//!
//! [`plan`] runs ten steps in order. Each is a method of the `Planner` context
//! (`work.rs`, which also holds the `Work` copy of the directory the steps change),
//! in the module named after it:
//!
//! | Step | Module | What |
//! |---|---|---|
//! | 1, 2 | `validate` | rejected members, look-alike demographic names; normalise and validate each member; values two members share |
//! | 3 | `matching` | each member to a directory row, by ID, then by email |
//! | 4, 5 | `lifecycle` | fields and status; members missing from a full sync |
//! | 6 | `uniqueness` | final emails stay unique |
//! | 7 | `associated` | associated fields resolved to emails |
//! | 8 | `hierarchy` | managers not in the sync, self-managers and cycles, `is_manager` |
//! | 9 | `entries` | the entries and counts |
//! | 10 | `crate::guard` | the mass-change guard (and, in step 9, the privacy guard) |
//!
//! The plan types are in `types`. [`edits`] and [`tick`] plan admin edits and due
//! end dates ([`apply`] applies a plan in memory); [`plan_part`] plans an
//! incremental sync over the part of the directory [`Part`] collects by indexed
//! look-ups, [`rows_to_load`] and [`rows_missing`] over an outline of the directory.

mod associated;
mod edits;
mod entries;
mod hierarchy;
mod incremental;
mod lifecycle;
mod matching;
mod part;
pub(crate) mod types;
mod uniqueness;
mod validate;
mod work;

use jiff::civil::Date;
use rustc_hash::FxHashMap as HashMap;

pub use edits::{apply, edits, manager_flags, tick};
pub use incremental::{rows_missing, rows_to_load};
pub use part::{Lookups, Part, Reports, Rest, keeps_reports, managed, next_generated, report_keys};
pub use types::{Action, Change, Counts, Entry, MassChange, Plan, PlanOptions, Rule};
pub use validate::DEMOGRAPHIC_SAMPLE_ROWS;

use self::matching::DirectoryIndex;
use self::work::{Planner, Slot};
use crate::employee::Employee;
use crate::guard;
use crate::issue::Severity;
use crate::member::{RejectedMember, SourceMember};
use crate::settings::Settings;

/// Plan a sync of `members` into `directory`.
pub fn plan(
    directory: &[Employee],
    members: Vec<SourceMember>,
    rejected: &[RejectedMember],
    settings: &Settings,
    today: Date,
    options: &PlanOptions,
) -> Plan {
    plan_with(directory, None, members, rejected, settings, today, options)
}

/// Plan a sync of `members` over `part` of the directory (in key order), with what
/// planning needs of the rest in `rest`. When `part` holds the rows [`Part`] collects
/// for these members, the plan is the one the whole directory gives, unless the plan
/// finds a manager cycle (which link closes it depends on rows outside the part:
/// plan over the whole directory then). Not for a complete (full) sync: members
/// missing from it are found in the whole directory.
pub fn plan_part(
    part: &[Employee],
    rest: &Rest,
    members: Vec<SourceMember>,
    rejected: &[RejectedMember],
    settings: &Settings,
    today: Date,
    options: &PlanOptions,
) -> Plan {
    plan_with(
        part,
        Some(rest),
        members,
        rejected,
        settings,
        today,
        options,
    )
}

fn plan_with(
    directory: &[Employee],
    rest: Option<&Rest>,
    members: Vec<SourceMember>,
    rejected: &[RejectedMember],
    settings: &Settings,
    today: Date,
    options: &PlanOptions,
) -> Plan {
    let mut p = Planner::new(directory, settings, today, options, rest);
    p.reject(rejected);
    p.demographic_name_clashes();
    let records = p.normalise_members(members);
    // The directory's index is built on the other core meanwhile.
    let (records, index) = rayon::join(
        || p.drop_duplicates(records),
        || DirectoryIndex::new(directory),
    );
    let mut records = records;
    let matches = p.match_records(&records, &index);
    let (mut placed, hollows) =
        p.lifecycle(&mut records, matches.assignments, &matches.erased_left);
    // The steps after read what the lifecycle left of each record (`hollows`):
    // the records are freed here, not after the hierarchy (a first import of a
    // million members would hold them beside the new employees).
    drop(records);
    p.deactivate_missing(&matches.claimed);
    p.unique_emails(&hollows, &index.by_email, &mut placed.record_slot);
    p.associated(&hollows, &placed.record_slot);
    let record_of: HashMap<Slot, usize> = placed.record_slot.iter().copied().collect();
    p.hierarchy(&hollows, &placed.record_slot, &record_of);
    // No step after reads them: freed before the entries are built (freed on
    // another thread, the records' memory came back too late for the entries of a
    // million); a few are freed on the other core meanwhile (≈ 15 ms of 100k).
    let matched = placed
        .record_slot
        .iter()
        .filter(|(s, _)| matches!(s, Slot::Existing(_)))
        .count();
    let (entries, mut counts) = if hollows.len() <= work::HELD_TWICE_UP_TO {
        rayon::join(|| drop(hollows), || p.entries(&mut placed, &record_of)).1
    } else {
        drop(hollows);
        p.entries(&mut placed, &record_of)
    };
    let active_before = match rest {
        Some(rest) => rest.active,
        None => directory.iter().filter(|e| e.active).count(),
    };
    let mass_change = guard::mass_change(active_before, matched, &entries, settings);

    let mut issues = p.issues;
    issues.sort();
    issues.dedup();
    counts.skipped = p.skipped;
    counts.erased_left = p.erased_left;
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
