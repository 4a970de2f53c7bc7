//! Steps 1 and 2: members the source could not parse, look-alike demographic names,
//! normalising and validating each member, and values two members share.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::work::{
    GivingBack, HELD_TWICE_UP_TO, Planner, issue_for, sort_in_place_by_prefix, text_prefix,
};
use crate::issue::{Issue, IssueCode, Severity};
use crate::member::{RejectedMember, SourceMember};
use crate::normalise::{Mapping, Record, email_key_ref, normalise_mapped, skipped_by_rule};
use crate::settings::{EmployeeIds, Settings, demographic_fold};

/// Members normalised side by side at a time: a batch holds its members and their
/// records once more, so a million members are not copied whole.
const NORMALISE_BATCH: usize = 8192;
/// Members a thread normalises at least before another takes over (≈ 3 µs each).
const NORMALISE_MIN_LEN: usize = 256;

/// One member normalised: its record (none when not imported by a rule or invalid)
/// and what normalising found.
type Normalised = (Option<Record>, Vec<Issue>);

fn normalise_one(
    m: SourceMember,
    settings: &Settings,
    mapping: &Mapping<'_>,
    today: Date,
) -> Normalised {
    if let Some(rule) = skipped_by_rule(&m, settings) {
        let issue = Issue {
            position: Some(m.position),
            severity: Severity::Info,
            code: IssueCode::DoNotImport,
            source_id: Some(m.source_id.clone()),
            employee_id: None,
            field: Some(rule.field.clone()),
            message: format!("not imported by rule `{rule}`"),
        };
        return (None, vec![issue]);
    }
    normalise_mapped(m, settings, mapping, today)
}

/// The directory rows (the first, by key) whose demographic names the look-alike
/// check reads.
pub const DEMOGRAPHIC_SAMPLE_ROWS: usize = 1000;

impl Planner<'_> {
    /// Members the source could not parse: an error each, and skipped.
    pub(super) fn reject(&mut self, rejected: &[RejectedMember]) {
        self.issues.extend(rejected.iter().map(|r| Issue {
            position: Some(r.position),
            severity: Severity::Error,
            code: IssueCode::Unparseable,
            source_id: r.source_id.clone(),
            employee_id: None,
            field: None,
            message: r.reason.clone(),
        }));
        self.skipped += rejected.len();
    }

    /// Demographic names that differ from another only by case, spacing or
    /// punctuation: a warning for each group.
    pub(super) fn demographic_name_clashes(&mut self) {
        let mut folds: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for name in self.settings.mapping.iter().map(|m| m.demographic.as_str()) {
            folds
                .entry(demographic_fold(name))
                .or_default()
                .insert(name);
        }
        let names: Box<dyn Iterator<Item = &str>> = match self.rest {
            Some(rest) => Box::new(rest.demographic_names.iter().map(String::as_str)),
            None => Box::new(
                self.directory
                    .iter()
                    .take(DEMOGRAPHIC_SAMPLE_ROWS)
                    .flat_map(|e| e.demographics.keys()),
            ),
        };
        for name in names {
            folds
                .entry(demographic_fold(name))
                .or_default()
                .insert(name);
        }
        for names in folds.values().filter(|n| n.len() > 1) {
            self.issues.push(Issue {
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
    }

    /// Step 1: normalise and validate each member; those not imported by a rule or
    /// invalid are skipped. The records come sorted by source id, then position.
    /// Members normalise on every core, a batch at a time (each on its own: the
    /// outcome, issues included, is the one a loop in order gives).
    pub(super) fn normalise_members(&mut self, members: Vec<SourceMember>) -> Vec<Record> {
        let batch = if members.len() <= HELD_TWICE_UP_TO {
            members.len().max(1)
        } else {
            NORMALISE_BATCH
        };
        self.normalise_in_batches(members, batch)
    }

    /// [`Planner::normalise_members`], `batch` members at a time.
    fn normalise_in_batches(&mut self, members: Vec<SourceMember>, batch: usize) -> Vec<Record> {
        let mapping = Mapping::new(self.settings);
        let mut records: Vec<Record> = Vec::with_capacity(members.len());
        if members.len() <= batch {
            self.normalise_batch(members, &mapping, &mut records);
            return in_source_order(records);
        }
        // The members' room is given back as they go, for the records to take.
        let mut members = GivingBack::new(members);
        while members.len() > 0 {
            let some: Vec<SourceMember> = members.by_ref().take(batch).collect();
            self.normalise_batch(some, &mapping, &mut records);
        }
        in_source_order(records)
    }

    /// Normalise `some` members on every core, their records appended to `records`
    /// in order, their issues and skips counted.
    fn normalise_batch(
        &mut self,
        some: Vec<SourceMember>,
        mapping: &Mapping<'_>,
        records: &mut Vec<Record>,
    ) {
        let (settings, today) = (self.settings, self.today);
        let outcomes: Vec<Normalised> = some
            .into_par_iter()
            .with_min_len(NORMALISE_MIN_LEN)
            .map(|m| normalise_one(m, settings, mapping, today))
            .collect();
        for (record, mut found) in outcomes {
            self.issues.append(&mut found);
            match record {
                Some(r) => records.push(r),
                None => self.skipped += 1,
            }
        }
    }

    /// Step 2: the same email or key on two members is an error for each of them;
    /// they are skipped.
    pub(super) fn drop_duplicates(&mut self, mut records: Vec<Record>) -> Vec<Record> {
        let (by_email, by_key) = shared_values(self.settings.employee_ids, &records);
        let mut bad: BTreeMap<usize, Issue> = BTreeMap::new();
        for (groups, code, what, field) in [
            (&by_email, IssueCode::DuplicateEmail, "email", "email"),
            (
                &by_key,
                IssueCode::DuplicateEmployeeId,
                "employee ID",
                "employee_id",
            ),
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
                            Some(field),
                            format!("the same {what} is on members {}", positions.join(", ")),
                        )
                    });
                }
            }
        }
        self.skipped += bad.len();
        let bad_idx: HashSet<usize> = bad.keys().copied().collect();
        self.issues.extend(bad.into_values());
        if !bad_idx.is_empty() {
            let mut i = 0;
            records.retain(|_| {
                i += 1;
                !bad_idx.contains(&(i - 1))
            });
        }
        records
    }
}

/// Records (by index) sharing a value, keyed by the value's first holder.
type Groups = BTreeMap<usize, Vec<usize>>;

/// The groups of records sharing an email, and those sharing a key.
fn shared_values(ids: EmployeeIds, records: &[Record]) -> (Groups, Groups) {
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
    let mut by_email = Groups::new();
    let mut by_key = Groups::new();
    for (i, r) in records.iter().enumerate() {
        if let Some(e) = &r.email {
            let f = *first_email.entry(email_key_ref(e)).or_insert(i);
            if f != i {
                by_email.entry(f).or_insert_with(|| vec![f]).push(i);
            }
        }
        if let Some(k) = key_of(ids, r) {
            let f = *first_key.entry(k).or_insert(i);
            if f != i {
                by_key.entry(f).or_insert_with(|| vec![f]).push(i);
            }
        }
    }
    (by_email, by_key)
}

/// `records` ordered by source id, then position. A record is a few hundred bytes:
/// the order is found over their indices and each record moved once, not at every
/// step of the sort (a tenth of a 100k daily plan went to moving records).
fn in_source_order(mut records: Vec<Record>) -> Vec<Record> {
    sort_in_place_by_prefix(
        &mut records,
        |r| text_prefix(&r.source_id),
        |a, b| {
            a.source_id
                .cmp(&b.source_id)
                .then(a.position.cmp(&b.position))
        },
    );
    records
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;
    use crate::normalise::normalise;
    use crate::plan::PlanOptions;

    fn record(source_id: &str, position: usize, nth: usize) -> Record {
        let mut m = SourceMember::new(source_id.to_string(), position);
        m.work_email = Some(format!("n{nth}@x.example"));
        let (r, _) = normalise(m, &Settings::default(), date(2026, 12, 4));
        r.expect("a valid member")
    }

    fn keys(records: &[Record]) -> Vec<(String, usize, Option<String>)> {
        records
            .iter()
            .map(|r| (r.source_id.clone(), r.position, r.email.clone()))
            .collect()
    }

    /// Members across several batches, some not imported by a rule, some invalid:
    /// normalising side by side gives the records, issues and count of skipped
    /// members of one loop in order.
    #[test]
    fn normalising_side_by_side_gives_what_a_loop_in_order_gives() {
        let mut settings = Settings::default();
        settings
            .set("do_not_import", "member_type = contractor")
            .expect("a rule");
        let today = date(2026, 12, 4);
        let n = 2 * NORMALISE_BATCH + 1234;
        let members = || {
            (0..n).map(|i| {
                // Source ids out of order, so the sort at the end has work to do.
                let mut m = SourceMember::new(format!("m{}", (i * 7919) % n), i + 1);
                if i % 11 == 0 {
                    m.member_type = Some("contractor".into());
                }
                // No email on a member without an id: invalid, skipped with an error.
                if i % 13 != 0 {
                    m.work_email = Some(format!("n{i}@x.example"));
                }
                if i % 13 == 0 {
                    m.source_id = " ".into();
                }
                m.date_of_birth = (i % 17 == 0).then(|| "not a date".into());
                m
            })
        };
        let (directory, options) = (Vec::new(), PlanOptions::default());
        let mut p = Planner::new(&directory, &settings, today, &options, None);
        let records = p.normalise_in_batches(members().collect(), NORMALISE_BATCH);
        // All in one batch (as so few members are normalised): the same.
        let mut one = Planner::new(&directory, &settings, today, &options, None);
        assert_eq!(one.normalise_members(members().collect()), records);
        assert_eq!((&one.issues, one.skipped), (&p.issues, p.skipped));

        let (mut issues, mut skipped, mut expected) = (Vec::new(), 0, Vec::new());
        // One loop in order over the same members.
        for m in members() {
            let (record, mut found) = normalise_one(m, &settings, &Mapping::new(&settings), today);
            issues.append(&mut found);
            match record {
                Some(r) => expected.push(r),
                None => skipped += 1,
            }
        }
        let by_rule = issues.iter().filter(|i| i.code == IssueCode::DoNotImport);
        assert_eq!(
            by_rule.count(),
            n.div_ceil(11),
            "every 11th member is left out by the rule"
        );
        assert!(
            skipped > n / 11 && !issues.is_empty(),
            "the test skips members"
        );
        assert_eq!(p.skipped, skipped);
        assert_eq!(p.issues, issues);
        assert_eq!(records, in_source_order(expected));
    }

    proptest! {
        /// The order is the stable sort's by (source id, position): records with the
        /// same both keep their order (told apart by their emails).
        #[test]
        fn records_come_in_the_order_a_stable_sort_gives(
            given in proptest::collection::vec((0u8..6, 0usize..8), 0..40)
        ) {
            let records: Vec<Record> = given
                .iter()
                .enumerate()
                .map(|(nth, &(s, p))| record(&format!("m{s}"), p, nth))
                .collect();
            let mut expected = keys(&records);
            expected.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            prop_assert_eq!(keys(&in_source_order(records)), expected);
        }
    }
}
