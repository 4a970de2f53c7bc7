//! The contract of selecting employees by indexed conditions ([`EmployeeFilter`]):
//! each condition and their combinations against the reference
//! [`EmployeeFilter::matches`], counts, pages by offset and by key, the times of each
//! row from the writes, the members of groups by demographic value; and the whole
//! directory of an account read in key order.

use roster_core::employee::{Employee, EmployeeKey};
use roster_core::plan::{Action, Rule};

use super::fixtures::*;
use crate::selection::{Dated, EmployeeFilter as F, KeyPage, TimeBound};
use crate::{AccountId, ImportKind, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_selection {
    ($($how:tt)*) => {
        $crate::__contract_section! { selection [
            each_condition_selects_what_the_reference_does,
            selections_page_by_offset_and_by_key,
            times_follow_every_write,
            changed_since_finds_the_rows_of_every_writer,
            demographic_members_are_the_active_holders,
            a_large_directory_reads_whole_in_key_order,
        ] $($how)* }
    };
}

/// A directory with mixed-case and non-ASCII identifiers, a secondary email, a
/// deactivated and a merged employee; and one employee in another account with the
/// same identifiers.
async fn varied(store: &dyn Store) -> (AccountId, Vec<Employee>) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let mut left = person("E3", "cy@acme.example", "Cy", "Cole");
    left.active = false;
    let mut dup = person("E5", "old.ada@acme.example", "Ada", "Old");
    dup.secondary_email = Some("Ada@Home.example".into());
    let created = vec![
        full_employee("Émile-1", "Zoë.Ångström@Acme.Example"),
        person("e2", "Bob@ACME.example", "Bob", "Byte"),
        left,
        minimal("E4"),
        dup,
    ];
    let (_, mut dir) = seed(store, a, created).await;
    // Merge E5 into E2 (a later write).
    let mut merged = dir[4].clone();
    merged.merged_into = Some(dir[1].key);
    merged.active = false;
    let cs = changeset(
        ImportKind::Merge,
        at(60),
        vec![change_entry(Action::Update, &dir[4], merged, Rule::Merge)],
    );
    write(store, a, cs).await;
    dir = directory(store, a).await;
    seed(
        store,
        other,
        vec![person("e2", "bob@acme.example", "Bob", "Other")],
    )
    .await;
    (a, dir)
}

fn keys(rows: &[Dated]) -> Vec<i64> {
    rows.iter().map(|d| d.employee.key).collect()
}

const ALL: KeyPage = KeyPage {
    after: None,
    offset: 0,
    limit: None,
};

pub async fn each_condition_selects_what_the_reference_does(store: &dyn Store) {
    let (a, dir) = varied(store).await;
    let all = store.select_employees(a, &F::All, ALL).await.unwrap();
    assert_eq!(
        all.iter().map(|d| d.employee.clone()).collect::<Vec<_>>(),
        dir,
        "All selects the whole directory, full rows in key order"
    );
    let modified = |key: i64| {
        all.iter()
            .find(|d| d.employee.key == key)
            .map(|d| d.modified)
            .unwrap()
    };
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let filters = vec![
        F::Nothing,
        F::Keys(vec![dir[1].key, dir[3].key, 999_999]),
        F::Keys(vec![]),
        F::Emails(s(&["zoë.ångström@acme.example", "bob@acme.example"])),
        F::Emails(s(&["BOB@acme.example"])),
        F::Emails(vec![]),
        F::SecondaryEmails(s(&["ada@home.example", "émile-1@home.example"])),
        F::SourceIds(s(&["mbr_e2", "mbr_E4", "mbr_Émile-1"])),
        F::SourceIds(s(&["MBR_E2"])),
        F::EmployeeIds(s(&["émile-1", "e2", "e3"])),
        F::Served(true),
        F::Served(false),
        F::Modified(TimeBound::Gt, at(0)),
        F::Modified(TimeBound::Ge, at(0)),
        F::Modified(TimeBound::Lt, at(60)),
        F::Modified(TimeBound::Le, at(60)),
        F::And(vec![F::Served(true), F::EmployeeIds(s(&["e2", "e3"]))]),
        F::Or(vec![
            F::Emails(s(&["cy@acme.example"])),
            F::SecondaryEmails(s(&["ada@home.example"])),
            F::Keys(vec![dir[3].key]),
        ]),
        F::And(vec![
            F::Or(vec![F::Served(false), F::EmployeeIds(s(&["e2"]))]),
            F::Modified(TimeBound::Lt, at(30)),
        ]),
        F::And(vec![]),
        F::Or(vec![]),
    ];
    for f in &filters {
        let want: Vec<i64> = dir
            .iter()
            .filter(|e| f.matches(e, modified(e.key)))
            .map(|e| e.key)
            .collect();
        let got = store.select_employees(a, f, ALL).await.unwrap();
        assert_eq!(keys(&got), want, "select_employees({f:?})");
        assert_eq!(
            store.count_selected(a, f).await.unwrap(),
            want.len() as u64,
            "count_selected({f:?})"
        );
    }
    // The reference itself, on a few cases, so that it cannot drift unnoticed.
    let count = |f: F| dir.iter().filter(|e| f.matches(e, modified(e.key))).count();
    assert_eq!(count(F::Emails(s(&["bob@acme.example"]))), 1);
    assert_eq!(count(F::EmployeeIds(s(&["émile-1"]))), 1);
    assert_eq!(count(F::Served(false)), 2, "deactivated and merged");
    assert_eq!(count(F::Modified(TimeBound::Gt, at(0))), 1, "the merge");
}

pub async fn selections_page_by_offset_and_by_key(store: &dyn Store) {
    let a = account(store, "acme").await;
    let people: Vec<Employee> = (0..9)
        .map(|i| {
            let mut e = person(&format!("E{i}"), &format!("p{i}@acme.example"), "P", "Q");
            e.active = i % 3 != 0;
            e
        })
        .collect();
    let (_, dir) = seed(store, a, people).await;
    let k: Vec<i64> = dir.iter().map(|e| e.key).collect();
    let page = |after, offset, limit| KeyPage {
        after,
        offset,
        limit,
    };
    let sel =
        |f: F, p: KeyPage| async move { keys(&store.select_employees(a, &f, p).await.unwrap()) };
    assert_eq!(sel(F::All, page(None, 0, Some(4))).await, k[..4]);
    assert_eq!(sel(F::All, page(None, 4, Some(4))).await, k[4..8]);
    assert_eq!(sel(F::All, page(None, 8, Some(4))).await, k[8..]);
    assert!(sel(F::All, page(None, 20, Some(4))).await.is_empty());
    assert!(sel(F::All, page(None, 0, Some(0))).await.is_empty());
    assert_eq!(sel(F::All, page(Some(k[2]), 0, Some(3))).await, k[3..6]);
    assert_eq!(sel(F::All, page(Some(k[2]), 1, Some(3))).await, k[4..7]);
    assert!(sel(F::All, page(Some(k[8]), 0, None)).await.is_empty());
    // Keyset pages of a filter: the active ones (keys 1, 2, 4, 5, 7, 8).
    let active: Vec<i64> = dir.iter().filter(|e| e.active).map(|e| e.key).collect();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let got = sel(F::Served(true), page(after, 0, Some(4))).await;
        if got.is_empty() {
            break;
        }
        after = got.last().copied();
        seen.extend(got);
    }
    assert_eq!(seen, active, "keyset pages of a selection, each once");
    assert_eq!(count(store, a, F::Served(true)).await, 6);
}

async fn count(store: &dyn Store, a: AccountId, f: F) -> u64 {
    store.count_selected(a, &f).await.unwrap()
}

pub async fn times_follow_every_write(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("E1", "a@acme.example", "A", "A"),
            person("E2", "b@acme.example", "B", "B"),
            person("E3", "c@acme.example", "C", "C"),
        ],
    )
    .await;
    let mut renamed = dir[1].clone();
    renamed.first_name = Some("Bea".into());
    let cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![
            change_entry(Action::Update, &dir[1], renamed, Rule::Source),
            create_entry(person("E4", "d@acme.example", "D", "D")),
        ],
    );
    write(store, a, cs).await;
    let mut gone = dir[2].clone();
    gone.active = false;
    let cs = changeset(
        ImportKind::Tick,
        at(200),
        vec![change_entry(
            Action::Deactivate,
            &dir[2],
            gone,
            Rule::EndDate,
        )],
    );
    write(store, a, cs).await;
    let rows = store.select_employees(a, &F::All, ALL).await.unwrap();
    let times: Vec<_> = rows.iter().map(|d| (d.created, d.modified)).collect();
    assert_eq!(
        times,
        [
            (at(0), at(0)),
            (at(0), at(100)),
            (at(0), at(200)),
            (at(100), at(100)),
        ],
        "created when the row was written first, modified when last written"
    );
    let since = |t| F::Modified(TimeBound::Gt, t);
    let changed = store.select_employees(a, &since(at(0)), ALL).await.unwrap();
    assert_eq!(
        keys(&changed),
        [
            rows[1].employee.key,
            rows[2].employee.key,
            rows[3].employee.key
        ]
    );
    let changed = store
        .select_employees(a, &since(at(100)), ALL)
        .await
        .unwrap();
    assert_eq!(keys(&changed), [rows[2].employee.key]);
}

/// "Changed since" (found through the history, migration 0016) against the rows'
/// own times, around each kind of writer: a sync's update, an entry held (no write),
/// an erasure (it records no entries: its rows, and a report whose manager's email it
/// scrubbed, are found by their times) and a sync after it.
pub async fn changed_since_finds_the_rows_of_every_writer(store: &dyn Store) {
    // Updates at 100 (Q), held at 200 (no write).
    let (a, q, report) = super::erasure::story_beside_another_account(store).await;
    let check = |bound: TimeBound, t: i64, want: Vec<i64>| async move {
        let all = store.select_employees(a, &F::All, ALL).await.unwrap();
        let reference: Vec<i64> = all
            .iter()
            .filter(|d| bound.holds(d.modified, at(t)))
            .map(|d| d.employee.key)
            .collect();
        assert_eq!(reference, want, "the reference, {bound:?} at({t})");
        let f = F::Modified(bound, at(t));
        let got = store.select_employees(a, &f, ALL).await.unwrap();
        assert_eq!(keys(&got), want, "select_employees({f:?})");
        assert_eq!(
            store.count_selected(a, &f).await.unwrap(),
            want.len() as u64,
            "count_selected({f:?})"
        );
        // In an OR of lookups and with a page after a key, as SCIM asks.
        let f = F::Or(vec![f, F::Keys(vec![report.key])]);
        let mut with_report = want.clone();
        if !with_report.contains(&report.key) {
            with_report.push(report.key);
            with_report.sort();
        }
        let got = store.select_employees(a, &f, ALL).await.unwrap();
        assert_eq!(keys(&got), with_report, "select_employees({f:?})");
        let first = with_report[0];
        let page = KeyPage {
            after: Some(first),
            offset: 0,
            limit: Some(10),
        };
        let got = store.select_employees(a, &f, page).await.unwrap();
        assert_eq!(keys(&got), with_report[1..], "after {first}: {f:?}");
    };
    check(TimeBound::Gt, 0, vec![q.key]).await;
    check(TimeBound::Gt, 100, vec![]).await;
    check(TimeBound::Ge, 100, vec![q.key]).await;
    check(TimeBound::Le, 100, vec![q.key, report.key]).await;
    check(TimeBound::Lt, 100, vec![report.key]).await;

    // The erasure (at 500) writes Q and the report (its manager's email) and no entry.
    store
        .anonymise(a, &super::erasure::erase_request(q.key))
        .await
        .unwrap();
    check(TimeBound::Gt, 0, vec![q.key, report.key]).await;
    check(TimeBound::Gt, 400, vec![q.key, report.key]).await;
    check(TimeBound::Ge, 500, vec![q.key, report.key]).await;
    check(TimeBound::Gt, 500, vec![]).await;
    check(TimeBound::Lt, 500, vec![]).await;

    // A sync after it: found through its entries again.
    let dir = directory(store, a).await;
    let r = by_id(&dir, "E2");
    let mut renamed = r.clone();
    renamed.first_name = Some("Rhoda".into());
    let cs = changeset(
        ImportKind::Sync,
        at(600),
        vec![change_entry(Action::Update, &r, renamed, Rule::Source)],
    );
    write(store, a, cs).await;
    check(TimeBound::Gt, 550, vec![report.key]).await;
    check(TimeBound::Ge, 600, vec![report.key]).await;
    check(TimeBound::Gt, 400, vec![q.key, report.key]).await;
    check(TimeBound::Gt, 600, vec![]).await;
}

pub async fn demographic_members_are_the_active_holders(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let with = |id: &str, dept: &str, team: Option<&str>, active: bool| {
        let mut e = person(id, &format!("{id}@acme.example"), id, "X");
        e.preferred_name = Some(format!("{id}-pref"));
        e.demographics.insert("Department", dept);
        if let Some(t) = team {
            e.demographics.insert("Team", t);
        }
        e.active = active;
        e
    };
    let (_, dir) = seed(
        store,
        a,
        vec![
            with("E1", "R&D", Some("Core"), true),
            with("E2", "Sales", None, true),
            with("E3", "R&D", None, false),
            with("E4", "", Some("Core"), true),
            minimal("E5"),
        ],
    )
    .await;
    seed(store, other, vec![with("X1", "R&D", None, true)]).await;
    let names = vec!["Department".to_string(), "Team".to_string()];
    let members = store.demographic_members(a, &names).await.unwrap();
    let got: Vec<(i64, &str, &str)> = members
        .iter()
        .map(|m| (m.employee.key, m.demographic.as_str(), m.value.as_str()))
        .collect();
    let mut want = vec![
        (dir[0].key, "Department", "R&D"),
        (dir[0].key, "Team", "Core"),
        (dir[1].key, "Department", "Sales"),
        (dir[3].key, "Team", "Core"),
    ];
    let mut got_sorted = got.clone();
    got_sorted.sort();
    want.sort();
    assert_eq!(got_sorted, want, "active holders of non-empty values");
    let keys: Vec<i64> = got.iter().map(|g| g.0).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "in key order");
    let e1 = &members[0].employee;
    assert_eq!(
        (
            e1.email.as_str(),
            e1.first_name.as_deref(),
            e1.preferred_name.as_deref(),
            e1.active
        ),
        ("E1@acme.example", Some("E1"), Some("E1-pref"), true)
    );
    assert_eq!((members[0].created, members[0].modified), (at(0), at(0)));
    let none = store
        .demographic_members(a, &["Nope".to_string()])
        .await
        .unwrap();
    assert!(none.is_empty());
    assert!(store.demographic_members(a, &[]).await.unwrap().is_empty());
}

/// A directory of hundreds, its keys interleaved with another account's (SQLite reads
/// it a range of keys at a time, some ranges holding none of it): every row whole,
/// in key order, the same as read by key; a demographic holding the control
/// character the groups are joined with comes back as it was.
pub async fn a_large_directory_reads_whole_in_key_order(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let batch = |prefix: &str, n: usize| -> Vec<Employee> {
        (0..n)
            .map(|i| {
                let id = format!("{prefix}{i:04}");
                let mut e = if i % 7 == 0 {
                    full_employee(&id, &format!("{}@acme.example", id.to_lowercase()))
                } else {
                    person(
                        &id,
                        &format!("{}@acme.example", id.to_lowercase()),
                        "A",
                        "B",
                    )
                };
                e.demographics
                    .insert("Team", format!("t{}\u{1e}x\u{1f}", i % 5));
                e
            })
            .collect()
    };
    let (_, first) = seed(store, a, batch("A", 300)).await;
    seed(store, other, batch("O", 600)).await;
    let cs = changeset(
        ImportKind::Sync,
        at(1),
        batch("B", 300).into_iter().map(create_entry).collect(),
    );
    write(store, a, cs).await;
    let dir = directory(store, a).await;
    assert_eq!(dir.len(), 600, "every employee of the account, no other's");
    assert!(dir.windows(2).all(|w| w[0].key < w[1].key), "in key order");
    assert_eq!(&dir[..300], &first[..], "the first 300 as read before");
    let keys: Vec<EmployeeKey> = dir.iter().map(|e| e.key).collect();
    assert_eq!(
        store.employees_by_key(a, &keys).await.unwrap(),
        dir,
        "the same rows as read by key"
    );
    assert_eq!(dir[301].demographics.get("Team"), Some("t1\u{1e}x\u{1f}"));
    assert_eq!(directory(store, other).await.len(), 600);
    let none = account(store, "empty").await;
    assert!(directory(store, none).await.is_empty());
}
