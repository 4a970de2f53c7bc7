//! Incremental syncs plan over a part of the directory ([`super::plan_part`]): the
//! rows the members could match or name, the reporting chains above them, and the
//! rows a new employee could be a duplicate of, found by indexed look-ups in rounds
//! ([`Part`]). What planning needs of the other rows is in [`Rest`]. The cost follows
//! the number of members, not the size of the directory.
//!
//! Why the part suffices (the property test checks it against whole-directory
//! planning): matching, email uniqueness and associated fields look rows up by ID,
//! source id or email key, and every key a member brings is looked up. A row whose
//! reporting line or status changes is a part row, and so are its old and new
//! manager (by email); the other rows' `is_manager` cannot change. A part row's
//! `is_manager` counts its active reports in the part and, through
//! [`Rest::managed`], outside it. A manager cycle the plan creates runs through a
//! changed row and then up reporting lines, which the part follows to their top, so
//! the part sees every cycle; which link of a cycle is dropped depends on where the
//! walk in employee ID order enters it, which can be below the part, so a plan over
//! a part that finds a cycle is not used (the caller plans over the whole directory).
//! A directory as plans leave it has no cycle and a derived `is_manager` that holds.
//!
//! The reporting chains are followed only when the plan may change a link
//! ([`Part::follows_reporting_lines`], decided after the first round). They are
//! not followed when every member matches a live row by ID (so nothing may be
//! created, and no birth date is looked up), each member's directory email
//! ([`directory_email`]) has its row's email key, each member's manager email has
//! its row's manager key (both absent counts as the same), no row of the first
//! round is merged and the mapping has no associated field. Then the plan changes
//! no link and no email a link resolves through: the members' rows keep their
//! keys (a member the plan skips, a field the settings keep, an email an admin
//! edited: each leaves the row as it is, which keeps its keys too), nothing is
//! created, merged or erased (a member matched by ID is not one recognised through
//! `PlanOptions::returning`), and the rows no member matches change only in
//! `is_manager`. So the final reporting graph is the directory's, which has no
//! cycle: there is none to see, above the first round or anywhere. What the plan
//! reads of the part is then all in the first round:
//! - matching and step 6's uniqueness look rows up by the members' keys and by
//!   the email keys of the rows that change; a member's row keeps the key of the
//!   member's email, and a row whose `is_manager` changes is a member's row or a
//!   member's manager (below): every row with those keys was asked for;
//! - `is_manager` changes only where a row's active reports change: the rows whose
//!   status changes are the members' rows, whose reports are in [`Rest::managed`]
//!   or in the part and do not change, and whose manager, old and new alike, is
//!   named by the member's manager email, a first-round key;
//! - a manager not in the sync is looked up by the member's manager email.
//!
//! A row above the first round is then in the plan only as an active report of a
//! part row, which [`Rest::managed`] counts as it counts any row outside the part,
//! and as a row whose `is_manager` the plan derives again and leaves (none of its
//! reports changes status: those are members' rows, whose managers are in the
//! first round). So the plan is the one the full rounds give, which is the whole
//! directory's. One difference: a cycle made outside a plan (a merge gives the
//! original the duplicate's reports, which can close one) that runs through the
//! first round's rows and above is not seen, where the full rounds would see it
//! and have the whole directory planned (dropping a link); a cycle no part row
//! reaches is left so with the full rounds too. A full sync drops either.
//!
//! The report counts ([`Reports::Counted`]) are what the whole directory says of
//! each part row's active reports outside the part. A plan that creates nothing
//! and changes no status, email or manager ([`keeps_reports`]) leaves every row's
//! active reports as they are; a row's derived `is_manager` (active with an active
//! report) then stays what the directory holds, which is what its stored flag says
//! (every writer derives it again: plans, edits, rollbacks, removals; an erasure
//! moves reports to the neutral email with their manager). So the caller may plan
//! first with the stored flags ([`Reports::AsStored`]) and count only when that
//! plan does not keep the reports: a daily sync of changed titles, dates or names
//! does not read the counts.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::types::{Action, Plan};
use crate::employee::{Employee, EmployeeKey, MERGED_INTO};
use crate::member::SourceMember;
use crate::normalise::{Mapping, directory_email, email_key, email_key_ref, mapped};
use crate::settings::{EmployeeIds, Settings};

/// What planning over a part of the directory needs to know of the rest of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rest {
    /// Active employees in the whole directory (the mass-change guard's base).
    pub active: usize,
    /// Email keys that an active employee outside the part names as manager (or,
    /// for a plan that keeps every row's reports, the keys of the part rows flagged
    /// `is_manager`: [`Reports`]).
    pub managed: HashSet<String>,
    /// The next generated employee ID number over the whole directory (used only
    /// when a create gets a generated ID).
    pub next_generated: u64,
    /// The demographic names of the directory's first
    /// [`DEMOGRAPHIC_SAMPLE_ROWS`](super::DEMOGRAPHIC_SAMPLE_ROWS) rows by key.
    pub demographic_names: BTreeSet<String>,
}

/// One round of look-ups: the rows with any of these values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookups {
    pub employee_ids: Vec<String>,
    pub source_ids: Vec<String>,
    /// Email keys ([`email_key`]) of the row's email.
    pub emails: Vec<String>,
    pub dates_of_birth: Vec<Date>,
}

impl Lookups {
    pub fn is_empty(&self) -> bool {
        self.employee_ids.is_empty()
            && self.source_ids.is_empty()
            && self.emails.is_empty()
            && self.dates_of_birth.is_empty()
    }
}

/// The part of the directory planning `members` needs, collected round by round:
/// [`Part::first`] gives the first look-ups, [`Part::add`] takes the rows they found
/// and gives the next, until a round asks for nothing.
pub struct Part<'m> {
    members: &'m [SourceMember],
    settings: &'m Settings,
    rows: BTreeMap<EmployeeKey, Employee>,
    asked_emails: HashSet<String>,
    asked_dates: HashSet<Date>,
    rounds: usize,
    /// A member matches no part row by ID (it may be created).
    creates: bool,
    /// ... and would get a generated employee ID.
    generates: bool,
    /// The rounds after the first follow the reporting lines up (see the module doc).
    chains: bool,
}

impl<'m> Part<'m> {
    pub fn new(members: &'m [SourceMember], settings: &'m Settings) -> Self {
        Part {
            members,
            settings,
            rows: BTreeMap::new(),
            asked_emails: HashSet::default(),
            asked_dates: HashSet::default(),
            rounds: 0,
            creates: false,
            generates: false,
            chains: true,
        }
    }

    /// The first look-ups: every row a member could match (by employee ID, source id
    /// or either email), names as manager, or names in an associated field.
    pub fn first(&mut self) -> Lookups {
        let mut ids: BTreeSet<String> = BTreeSet::new();
        let mut sources: BTreeSet<String> = BTreeSet::new();
        let mut emails: BTreeSet<String> = BTreeSet::new();
        let associated = self.settings.maps_associated();
        let mapping = Mapping::new(self.settings);
        for m in self.members {
            let trimmed = m.source_id.trim();
            if self.settings.employee_ids == EmployeeIds::Source && !trimmed.is_empty() {
                ids.insert(trimmed.to_string());
            }
            sources.insert(m.source_id.clone());
            sources.insert(trimmed.to_string());
            let named = [m.work_email.as_deref(), m.personal_email.as_deref()]
                .into_iter()
                .chain([m.manager.email()])
                .flatten();
            emails.extend(named.map(email_key));
            if associated {
                for (_, raw) in mapped(m, &mapping).1 {
                    emails.insert(email_key(&raw));
                    sources.insert(raw.into_string());
                }
            }
        }
        emails.remove("");
        sources.remove("");
        self.asked_emails.extend(emails.iter().cloned());
        Lookups {
            employee_ids: ids.into_iter().collect(),
            source_ids: sources.into_iter().collect(),
            emails: emails.into_iter().collect(),
            dates_of_birth: Vec::new(),
        }
    }

    /// Add the rows a round found (rows already held are replaced by the same row);
    /// the next round's look-ups: the managers of the rows found (up every reporting
    /// line, unless the first round shows that the plan changes no link), and after
    /// the first round, the rows born on a possible create's birth date.
    pub fn add(&mut self, rows: Vec<Employee>) -> Lookups {
        let mut managers: Vec<String> = Vec::new();
        for e in rows {
            if let Some(m) = e.manager_email.as_deref() {
                let key = email_key(m);
                if !key.is_empty() {
                    managers.push(key);
                }
            }
            self.rows.insert(e.key, e);
        }
        let mut next = Lookups::default();
        if self.rounds == 0 {
            for d in self.create_birth_dates() {
                if self.asked_dates.insert(d) {
                    next.dates_of_birth.push(d);
                }
            }
            self.chains = self.links_may_change();
        }
        if self.chains {
            for key in managers {
                if !self.asked_emails.contains(&key) {
                    self.asked_emails.insert(key.clone());
                    next.emails.push(key);
                }
            }
        }
        self.rounds += 1;
        next.emails.sort_unstable();
        next.dates_of_birth.sort_unstable();
        next
    }

    /// Whether planning the members may change a link of the reporting graph, as far
    /// as the first round's rows tell (see the module doc; `creates` is set).
    fn links_may_change(&self) -> bool {
        let merged = self.rows.values().any(|e| e.merged_into.is_some());
        if self.creates || self.settings.maps_associated() || merged {
            return true;
        }
        // Each member's row as matching finds it by ID; a key two rows share is
        // left to the full rounds.
        let by_id = self.settings.employee_ids == EmployeeIds::Source;
        let mut rows: HashMap<&str, Option<&Employee>> = HashMap::default();
        for e in self.rows.values() {
            let id = match by_id {
                true => Some(e.employee_id.as_str()),
                false => e.source_id.as_deref(),
            };
            if let Some(id) = id {
                rows.entry(id).and_modify(|r| *r = None).or_insert(Some(e));
            }
        }
        fn key(e: Option<&str>) -> Option<std::borrow::Cow<'_, str>> {
            e.map(email_key_ref)
        }
        self.members.iter().any(|m| {
            let id = match by_id {
                true => m.source_id.trim(),
                false => m.source_id.as_str(),
            };
            let Some(Some(row)) = rows.get(id) else {
                return true;
            };
            let email = directory_email(m, self.settings);
            email.is_none()
                || key(email) != key(Some(&row.email))
                || key(m.manager.email()) != key(row.manager_email.as_deref())
        })
    }

    /// Whether the rounds after the first follow the reporting lines up: false when
    /// the first round showed that the plan changes no link (see the module doc).
    pub fn follows_reporting_lines(&self) -> bool {
        self.chains
    }

    /// The birth dates of members no part row matches by ID (after the first round
    /// every such row is held): they may be created, and a create is checked against
    /// existing employees of the same name and birth date.
    fn create_birth_dates(&mut self) -> Vec<Date> {
        let live = || self.rows.values().filter(|e| e.merged_into.is_none());
        let ids: HashSet<&str> = live().map(|e| e.employee_id.as_str()).collect();
        let sources: HashSet<&str> = live().filter_map(|e| e.source_id.as_deref()).collect();
        let mut dates = Vec::new();
        let (mut creates, mut generates) = (false, false);
        for m in self.members {
            let trimmed = m.source_id.trim();
            let matched = match self.settings.employee_ids {
                EmployeeIds::Source => !trimmed.is_empty() && ids.contains(trimmed),
                EmployeeIds::Generate => sources.contains(m.source_id.as_str()),
            };
            if matched {
                continue;
            }
            creates = true;
            generates |= self.settings.employee_ids == EmployeeIds::Generate || trimmed.is_empty();
            let dob = m.date_of_birth.as_deref().map(str::trim);
            if let Some(d) = dob.and_then(|d| d.parse::<Date>().ok()) {
                dates.push(d);
            }
        }
        self.creates = creates;
        self.generates = generates;
        dates
    }

    /// Whether a create may need a generated employee ID ([`Rest::next_generated`]).
    pub fn needs_generated_ids(&self) -> bool {
        self.generates
    }

    /// The email keys whose active reports [`Part::rest`] needs counted in the whole
    /// directory ([`report_keys`] of the part's rows and members).
    pub fn report_keys(&self) -> Vec<String> {
        report_keys(self.rows.values(), self.members)
    }

    /// What planning needs of the rest ([`Rest::managed`] from `reports`).
    pub fn rest(
        &self,
        active: usize,
        reports: Reports<'_>,
        next_generated: u64,
        demographic_names: BTreeSet<String>,
    ) -> Rest {
        Rest {
            active,
            managed: managed(self.rows.values(), reports),
            next_generated,
            demographic_names,
        }
    }

    /// The rows collected, in key order.
    pub fn rows(&self) -> Vec<Employee> {
        self.rows.values().cloned().collect()
    }

    /// The rows collected, in key order (taken).
    pub fn into_rows(self) -> Vec<Employee> {
        self.rows.into_values().collect()
    }
}

/// What [`Rest::managed`] is made from.
#[derive(Clone, Copy, Debug)]
pub enum Reports<'a> {
    /// Per [`Part::report_keys`] key, the active employees of the whole directory
    /// naming it as manager (keys nobody names may be left out).
    Counted(&'a [(String, u64)]),
    /// Not counted: each part row's stored `is_manager` stands for its active
    /// reports outside the part. A plan made so is the counted one when it changes
    /// no link and no status ([`keeps_reports`]; see the module doc).
    AsStored,
}

/// [`Rest::managed`] for the part's `rows`: with counts, the keys some active
/// employee outside the rows names as manager; as stored, the keys of the rows
/// flagged `is_manager`.
pub fn managed<'e>(
    rows: impl IntoIterator<Item = &'e Employee>,
    reports: Reports<'_>,
) -> HashSet<String> {
    match reports {
        Reports::AsStored => rows
            .into_iter()
            .filter(|e| e.is_manager)
            .map(|e| email_key(&e.email))
            .filter(|k| !k.is_empty())
            .collect(),
        Reports::Counted(reports) => {
            let mut inside: HashMap<String, u64> = HashMap::default();
            for e in rows.into_iter().filter(|e| e.active) {
                if let Some(m) = e.manager_email.as_deref() {
                    *inside.entry(email_key(m)).or_default() += 1;
                }
            }
            reports
                .iter()
                .filter(|(k, n)| *n > inside.get(k.as_str()).copied().unwrap_or(0))
                .map(|(k, _)| k.clone())
                .collect()
        }
    }
}

/// The email keys whose active reports are counted for a part ([`Reports::Counted`]):
/// every part row's and every member's. Also after [`Part::into_rows`], for a plan
/// made as stored that must be counted after all.
pub fn report_keys<'e>(
    rows: impl IntoIterator<Item = &'e Employee>,
    members: &[SourceMember],
) -> Vec<String> {
    let mut keys: BTreeSet<String> = rows.into_iter().map(|e| email_key(&e.email)).collect();
    for m in members {
        let own = [m.work_email.as_deref(), m.personal_email.as_deref()];
        keys.extend(own.into_iter().flatten().map(email_key));
    }
    keys.remove("");
    keys.into_iter().collect()
}

/// Whether a plan over a part with [`Reports::AsStored`] is the one counted reports
/// give: it creates nothing and changes no status, email or manager (a merge or
/// an erasure is among these), so every row keeps the active reports it had, and a
/// stored `is_manager` that held still holds.
pub fn keeps_reports(plan: &Plan) -> bool {
    plan.entries.iter().all(|e| {
        e.action == Action::Update
            && e.changes.iter().all(|c| {
                !matches!(
                    c.field.as_str(),
                    "active" | "email" | "manager_email" | MERGED_INTO | "employee_id"
                )
            })
    })
}

/// The next generated ID number after the highest `{prefix}{number}` among `ids`.
pub fn next_generated<'a>(ids: impl IntoIterator<Item = &'a str>, prefix: &str) -> u64 {
    ids.into_iter()
        .filter_map(|id| id.strip_prefix(prefix)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::member::ManagerRef;

    fn member(id: &str, email: &str, manager: Option<&str>) -> SourceMember {
        let mut m = SourceMember::new(id.to_string(), 1);
        m.work_email = Some(email.to_string());
        if let Some(b) = manager {
            m.manager = ManagerRef::Resolved {
                source_id: "x".into(),
                email: b.into(),
            };
        }
        m.date_of_birth = Some(" 1990-02-03 ".into());
        m
    }

    fn row(key: i64, id: &str, email: &str, manager: Option<&str>) -> Employee {
        Employee {
            key,
            employee_id: id.into(),
            source_id: Some(id.into()),
            email: email.into(),
            manager_email: manager.map(str::to_string),
            active: true,
            ..Employee::default()
        }
    }

    #[test]
    fn rounds_follow_reporting_lines_and_possible_creates() {
        let settings = Settings::default();
        let members = [
            member("a", "A@x.example", Some("Boss@x.example")),
            member("new", "n@x.example", None),
        ];
        let mut part = Part::new(&members, &settings);
        let first = part.first();
        assert_eq!(first.employee_ids, ["a", "new"]);
        assert_eq!(
            first.emails,
            ["a@x.example", "boss@x.example", "n@x.example"]
        );
        // Round 1 finds a and the boss; the boss's manager is asked next, and the
        // birth date of `new` (no row has its ID).
        let next = part.add(vec![
            row(1, "a", "a@x.example", Some("boss@x.example")),
            row(2, "b", "boss@x.example", Some("CEO@x.example")),
        ]);
        assert_eq!(next.emails, ["ceo@x.example"]);
        assert_eq!(next.dates_of_birth, [jiff::civil::date(1990, 2, 3)]);
        assert!(!part.needs_generated_ids());
        let next = part.add(vec![row(3, "c", "ceo@x.example", None)]);
        assert!(next.is_empty());
        assert_eq!(
            part.report_keys(),
            [
                "a@x.example",
                "boss@x.example",
                "ceo@x.example",
                "n@x.example"
            ]
        );
        // The boss has a in the part; 3 active reports in all: 2 outside.
        let reports = [
            ("boss@x.example".to_string(), 3),
            ("ceo@x.example".to_string(), 1),
        ];
        let rest = part.rest(10, Reports::Counted(&reports), 1, BTreeSet::new());
        assert_eq!(
            rest.managed,
            HashSet::from_iter(["boss@x.example".to_string()])
        );
        // As stored: the rows flagged `is_manager`, by their email key.
        let mut rows = part.into_rows();
        assert_eq!(rows.len(), 3);
        rows[1].is_manager = true;
        rows[2].email = "CEO@X.example".into();
        rows[2].is_manager = true;
        assert_eq!(
            managed(&rows, Reports::AsStored),
            HashSet::from_iter(["boss@x.example".to_string(), "ceo@x.example".to_string()])
        );
    }

    /// A plan keeps every row's reports unless it creates, changes a status, an
    /// email or a manager (a merge, an ID).
    #[rstest::rstest]
    #[case::an_update_of_a_title(Action::Update, "job_title", true)]
    #[case::an_update_of_a_flag(Action::Update, "is_manager", true)]
    #[case::a_create(Action::Create, "job_title", false)]
    #[case::a_deactivation(Action::Deactivate, "active", false)]
    #[case::a_reactivation(Action::Reactivate, "active", false)]
    #[case::a_status_in_an_update(Action::Update, "active", false)]
    #[case::an_email(Action::Update, "email", false)]
    #[case::a_manager(Action::Update, "manager_email", false)]
    #[case::a_merge(Action::Update, "merged_into", false)]
    #[case::an_id(Action::Update, "employee_id", false)]
    fn a_plan_keeps_the_reports_unless_a_link_or_status_changes(
        #[case] action: Action,
        #[case] field: &str,
        #[case] keeps: bool,
    ) {
        use crate::plan::{Change, Entry, Rule};
        let title = |field: &str| Change {
            field: field.into(),
            old: None,
            new: Some("x".into()),
            rule: Rule::Source,
        };
        let entry = Entry {
            action,
            key: Some(1),
            changes: vec![title("department"), title(field)],
            after: Employee::default(),
            privacy: false,
            id_change: false,
            possible_duplicate_of: None,
        };
        let mut plan = Plan {
            today: jiff::civil::date(2026, 12, 5),
            complete: false,
            counts: Default::default(),
            entries: vec![entry],
            issues: Vec::new(),
            mass_change: Default::default(),
        };
        assert_eq!(keeps_reports(&plan), keeps);
        plan.entries.clear();
        assert!(keeps_reports(&plan), "an empty plan keeps them");
    }

    /// A change to the case: its settings, members and directory rows.
    type Tweak = fn(&mut Settings, &mut Vec<SourceMember>, &mut Vec<Employee>);

    fn t(tweak: Tweak) -> Tweak {
        tweak
    }

    /// After the first round, the reporting lines above it are followed unless every
    /// member keeps its row's keys (see the module doc): `a` reports to the boss in
    /// the source and in the directory, the boss to the CEO, above the first round.
    #[rstest::rstest]
    #[case::keys_kept(t(|_, _, _| {}), false)]
    #[case::keys_kept_up_to_case_and_spaces(t(|_, ms, _| ms[0].work_email = Some(" a@X.example ".into())), false)]
    #[case::personal_email_as_the_directory_email(t(|_, ms, _| {
            ms[0].work_email = None;
            ms[0].personal_email = Some("a@x.example".into());
        }), false)]
    #[case::no_manager_in_either(t(|_, ms, rows| {
            ms[0].manager = ManagerRef::None;
            rows[0].manager_email = None;
        }), false)]
    #[case::matched_by_source_id_when_ids_are_generated(t(|s, _, rows| {
            s.employee_ids = EmployeeIds::Generate;
            rows[0].employee_id = "R000001".into();
        }), false)]
    #[case::a_possible_create(t(|_, ms, _| ms.push(member("new", "n@x.example", None))), true)]
    #[case::a_new_manager(t(|_, ms, _| {
            ms[0].manager = ManagerRef::Email { email: "ceo@x.example".into() };
        }), true)]
    #[case::the_manager_dropped(t(|_, ms, _| ms[0].manager = ManagerRef::None), true)]
    #[case::the_manager_unresolved(t(|_, ms, _| ms[0].manager = ManagerRef::NotInSnapshot { source_id: "b".into() }), true)]
    #[case::a_manager_gained(t(|_, _, rows| rows[0].manager_email = None), true)]
    #[case::a_new_email(t(|_, ms, _| ms[0].work_email = Some("a2@x.example".into())), true)]
    #[case::no_email(t(|_, ms, _| ms[0].work_email = None), true)]
    #[case::no_fallback_to_the_personal_email(t(|s, ms, _| {
            s.email_fallback_personal = false;
            ms[0].work_email = None;
            ms[0].personal_email = Some("a@x.example".into());
        }), true)]
    #[case::a_merged_row(t(|_, _, rows| rows.push(Employee {
            employee_id: "a~merged-3".into(),
            source_id: None,
            email: String::new(),
            merged_into: Some(1),
            ..row(3, "a", "", None)
        })), true)]
    #[case::two_rows_with_the_id(t(|_, _, rows| rows.push(row(3, "a", "a3@x.example", None))), true)]
    #[case::no_row_with_the_source_id(t(|s, _, rows| {
            s.employee_ids = EmployeeIds::Generate;
            rows[0].source_id = Some("other".into());
        }), true)]
    #[case::an_associated_field(t(|s, _, _| s.mapping.push(crate::settings::MappedField {
            source_key: "buddy".into(),
            demographic: "Buddy".into(),
            kind: crate::settings::FieldKind::Associated,
            privacy: None,
        })), true)]
    fn the_chains_are_followed_unless_every_member_keeps_its_rows_keys(
        #[case] tweak: Tweak,
        #[case] follows: bool,
    ) {
        let mut settings = Settings::default();
        let mut members = vec![member("a", "A@x.example", Some("Boss@x.example"))];
        let mut rows = vec![
            row(1, "a", "a@x.example", Some("boss@x.example")),
            row(2, "b", "boss@x.example", Some("ceo@x.example")),
        ];
        tweak(&mut settings, &mut members, &mut rows);
        let mut part = Part::new(&members, &settings);
        part.first();
        let next = part.add(rows);
        assert_eq!(part.follows_reporting_lines(), follows);
        // Followed: a manager above the rows found is asked for (the CEO, or the
        // boss where the member names another manager).
        assert_eq!(next.emails.is_empty(), !follows, "{next:?}");
        if !follows {
            assert!(next.is_empty(), "{next:?}");
            assert!(!part.needs_generated_ids());
        }
    }

    #[test]
    fn generated_ids_continue_after_the_highest() {
        assert_eq!(next_generated(["R000009", "R000010", "X5", "R1x"], "R"), 11);
        assert_eq!(next_generated([], "R"), 1);
    }
}
