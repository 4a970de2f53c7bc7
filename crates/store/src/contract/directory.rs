//! The contract of reading the directory: outlines, rows by key, every employee field,
//! empty emails, lookup by ID or email, queries and pages.

use std::collections::BTreeSet;

use jiff::civil::date;
use roster_core::employee::{DeactivationReason, Employee, EmployeeKey};
use roster_core::plan::{Action, Lookups, Rule};

use super::fixtures::*;
use crate::{EmployeeQuery, ImportKind, SourceEmail, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_directory {
    ($($how:tt)*) => {
        $crate::__contract_section! { directory [
            outline_and_rows_by_key,
            write_round_trips_every_employee_field,
            empty_email_means_no_email,
            find_employee_by_id_or_email,
            employees_query_filters_and_pages,
            part_lookups_find_rows_and_count_reports,
            source_emails_tell_what_each_row_holds,
        ] $($how)* }
    };
}

/// Creates, updates and deactivations land in the directory exactly as `after`.
pub async fn outline_and_rows_by_key(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let created = vec![
        full_employee("E1", "Zoë.Ångström@Acme.Example"),
        person("E2", "bob@acme.example", "Bob", "Byte"),
        minimal("E3"),
    ];
    let (_, dir) = seed(store, a, created).await;
    seed(
        store,
        other,
        vec![person("X1", "x@other.example", "X", "Y")],
    )
    .await;
    let outline = store.directory_outline(a).await.unwrap();
    let want: Vec<Employee> = dir.iter().map(Employee::outline).collect();
    assert_eq!(
        outline, want,
        "directory_outline() is the outline of directory()"
    );
    let keys = [dir[2].key, dir[0].key, dir[2].key, 999_999];
    let got = store.employees_by_key(a, &keys).await.unwrap();
    assert_eq!(
        got,
        vec![dir[0].clone(), dir[2].clone()],
        "employees_by_key() gives full rows in key order, each once, unknown keys left out"
    );
    let theirs = store.directory(other).await.unwrap();
    assert!(
        store
            .employees_by_key(a, &[theirs[0].key])
            .await
            .unwrap()
            .is_empty(),
        "another account's key gives nothing"
    );
    assert!(store.employees_by_key(a, &[]).await.unwrap().is_empty());
}

pub async fn write_round_trips_every_employee_field(store: &dyn Store) {
    let a = account(store, "acme").await;
    let created = vec![
        full_employee("E1", "Zoë.Ångström@Acme.Example"),
        person("E2", "bob@acme.example", "Bob", "Byte"),
        minimal("E3"),
        person("E4", "dee@acme.example", "Dee", "Dot"),
    ];
    let (imp, dir) = seed(store, a, created.clone()).await;
    assert!(imp > 0, "import ids are positive");
    assert_eq!(
        ids(&dir),
        ["E1", "E2", "E3", "E4"],
        "directory() is in key order, creates keyed in entry order"
    );
    let keys: BTreeSet<EmployeeKey> = dir.iter().map(|e| e.key).collect();
    assert_eq!(keys.len(), 4, "keys are distinct");
    assert!(dir.iter().all(|e| e.key > 0), "keys are positive");
    for (want, got) in created.iter().zip(&dir) {
        let mut want = want.clone();
        want.key = got.key;
        assert_eq!(
            got, &want,
            "employee {} read back differs from what was written",
            want.employee_id
        );
        assert_eq!(
            store.employee(a, got.key).await.unwrap().as_ref(),
            Some(&want),
            "employee() differs"
        );
    }

    let (e1, e2, e3, e4) = (
        dir[0].clone(),
        dir[1].clone(),
        dir[2].clone(),
        dir[3].clone(),
    );
    let mut n1 = e1.clone();
    n1.employee_id = "E1-NEW".into();
    n1.source_id = None;
    n1.email = "zoe@acme.example".into();
    n1.secondary_email = None;
    n1.first_name = Some("Zoe".into());
    n1.last_name = None;
    n1.preferred_name = None;
    n1.date_of_birth = Some(date(1991, 1, 31));
    n1.start_date = None;
    n1.latest_rehire_date = None;
    n1.hire_date = Some(date(2018, 1, 2));
    n1.end_date = None;
    n1.manager_email = None;
    n1.phone = None;
    n1.demographics.remove("Office");
    n1.demographics.insert("Département", "Ventes");
    n1.demographics.insert("Neu", "ß");
    n1.active = false;
    n1.deactivation_reason = Some(DeactivationReason::Merged);
    n1.is_manager = false;
    n1.excluded = true;
    n1.email_edited = false;
    n1.merged_into = Some(e4.key);
    let mut n2 = e2.clone();
    n2.active = false;
    n2.deactivation_reason = Some(DeactivationReason::EndDate);
    n2.end_date = Some(date(2026, 2, 28));
    let mut n3 = e3.clone();
    n3.email = "e3@acme.example".into();
    n3.demographics.insert("Team", "Ops");
    let mut n4 = e4.clone();
    n4.email = String::new();
    n4.is_manager = true;
    let cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![
            change_entry(Action::Deactivate, &e1, n1.clone(), Rule::Source),
            change_entry(Action::Deactivate, &e2, n2.clone(), Rule::EndDate),
            change_entry(Action::Update, &e3, n3.clone(), Rule::Source),
            change_entry(Action::Update, &e4, n4.clone(), Rule::Derived),
        ],
    );
    write(store, a, cs).await;
    assert_eq!(
        directory(store, a).await,
        vec![n1.clone(), n2.clone(), n3, n4],
        "updates read back differ"
    );
    assert_eq!(store.count_employees(a, false).await.unwrap(), 4);
    assert_eq!(
        store.count_employees(a, true).await.unwrap(),
        2,
        "active_only counts active employees"
    );

    // Reactivate.
    let mut r2 = n2.clone();
    r2.active = true;
    r2.deactivation_reason = None;
    r2.end_date = None;
    write(
        store,
        a,
        changeset(
            ImportKind::Sync,
            at(200),
            vec![change_entry(
                Action::Reactivate,
                &n2,
                r2.clone(),
                Rule::Reactivated,
            )],
        ),
    )
    .await;
    assert_eq!(
        store.employee(a, r2.key).await.unwrap(),
        Some(r2),
        "reactivation read back differs"
    );
    assert_eq!(store.count_employees(a, true).await.unwrap(), 3);
}

/// An empty email is "no email": many employees may have none, and it frees the old one.
pub async fn empty_email_means_no_email(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (_, dir) = seed(
        store,
        a,
        vec![
            minimal("E1"),
            minimal("E2"),
            person("E3", "cy@acme.example", "Cy", "Cee"),
        ],
    )
    .await;
    assert_eq!(
        dir.len(),
        3,
        "two employees without email could not coexist"
    );
    assert_eq!(dir[0].email, "", "no email reads back as an empty string");
    assert_eq!(
        store.find_employee(a, "").await.unwrap(),
        None,
        "find_employee(\"\") found someone"
    );
    assert_eq!(
        store.find_employee(a, "   ").await.unwrap(),
        None,
        "find_employee(blank) found someone"
    );

    let e3 = by_id(&dir, "E3");
    let mut n3 = e3.clone();
    n3.email = String::new();
    write(
        store,
        a,
        changeset(
            ImportKind::AdminEdit,
            at(10),
            vec![change_entry(Action::Update, &e3, n3.clone(), Rule::Source)],
        ),
    )
    .await;
    assert_eq!(
        store.employee(a, e3.key).await.unwrap(),
        Some(n3),
        "clearing an email"
    );
    assert_eq!(
        store.find_employee(a, "cy@acme.example").await.unwrap(),
        None,
        "cleared email still found"
    );
    write(
        store,
        a,
        changeset(
            ImportKind::Sync,
            at(20),
            vec![create_entry(person("E4", "CY@acme.example", "Cy", "Two"))],
        ),
    )
    .await;
    assert_eq!(
        store
            .find_employee(a, "cy@acme.example")
            .await
            .unwrap()
            .map(|e| e.employee_id),
        Some("E4".into()),
        "a cleared email could not be reused"
    );
}

/// By employee ID, or by email regardless of case; deactivated employees too.
pub async fn find_employee_by_id_or_email(store: &dyn Store) {
    let a = account(store, "acme").await;
    let mut gone = person("E3", "gone@acme.example", "Gone", "Away");
    gone.active = false;
    gone.deactivation_reason = Some(DeactivationReason::Missing);
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("E1", "Ada.Lovelace@Acme.Example", "Ada", "Lovelace"),
            person("E2", "Zoë@Acme.Example", "Zoë", "Z"),
            gone,
            minimal("E4"),
        ],
    )
    .await;
    let key = |id: &str| by_id(&dir, id).key;
    for (query, want) in [
        ("E1", Some("E1")),
        ("Ada.Lovelace@Acme.Example", Some("E1")),
        ("ada.lovelace@acme.example", Some("E1")),
        ("ADA.LOVELACE@ACME.EXAMPLE", Some("E1")),
        ("zoë@acme.example", Some("E2")),
        ("ZOË@ACME.EXAMPLE", Some("E2")),
        ("E3", Some("E3")),
        ("GONE@acme.example", Some("E3")),
        ("E4", Some("E4")),
        ("E5", None),
        ("nobody@acme.example", None),
        ("ada", None),
    ] {
        let found = store.find_employee(a, query).await.expect("find_employee");
        assert_eq!(
            found.as_ref().map(|e| e.key),
            want.map(key),
            "find_employee({query:?}) found {:?}",
            found.as_ref().map(|e| &e.employee_id)
        );
        if let (Some(found), Some(id)) = (found, want) {
            assert_eq!(
                found,
                by_id(&dir, id),
                "find_employee returns the whole employee"
            );
        }
    }
}

/// Search, the inactive filter, limit and offset.
pub async fn employees_query_filters_and_pages(store: &dyn Store) {
    let a = account(store, "acme").await;
    let mut grace = person("A-300", "grace.hopper@acme.example", "Grace", "Hopper");
    grace.active = false;
    grace.deactivation_reason = Some(DeactivationReason::Missing);
    let mut elodie = person("A-400", "e.durand@acme.example", "Élodie", "Durand");
    elodie.preferred_name = Some("Lodie".into());
    let (_, dir) = seed(
        store,
        a,
        vec![
            person("A-100", "ada.lovelace@acme.example", "Ada", "Lovelace"),
            person("A-200", "alan@acme.example", "Alan", "Turing"),
            grace,
            elodie,
            person("B_500", "bob@other.example", "Bob", "Byte"),
            minimal("A-600"),
        ],
    )
    .await;
    let q = |search: Option<&str>, include_inactive: bool, limit: Option<usize>, offset: usize| {
        EmployeeQuery {
            search: search.map(str::to_string),
            include_inactive,
            limit,
            offset,
            after: None,
        }
    };
    let cases: Vec<(EmployeeQuery, Vec<&str>)> = vec![
        (
            q(None, false, None, 0),
            vec!["A-100", "A-200", "A-400", "B_500", "A-600"],
        ),
        (
            q(None, true, None, 0),
            vec!["A-100", "A-200", "A-300", "A-400", "B_500", "A-600"],
        ),
        (q(Some("ada"), false, None, 0), vec!["A-100"]),
        (q(Some("TURING"), false, None, 0), vec!["A-200"]),
        (q(Some("hopper"), false, None, 0), vec![]),
        (q(Some("hopper"), true, None, 0), vec!["A-300"]),
        (q(Some("ÉLODIE"), false, None, 0), vec!["A-400"]),
        (q(Some("lodie"), false, None, 0), vec!["A-400"]),
        (
            q(Some("@ACME.example"), false, None, 0),
            vec!["A-100", "A-200", "A-400"],
        ),
        (q(Some("a-6"), false, None, 0), vec!["A-600"]),
        (q(Some("_"), true, None, 0), vec!["B_500"]),
        (q(Some("%"), true, None, 0), vec![]),
        (q(Some("nobody"), true, None, 0), vec![]),
        (q(None, true, Some(2), 0), vec!["A-100", "A-200"]),
        (q(None, true, Some(2), 2), vec!["A-300", "A-400"]),
        (q(None, true, Some(10), 5), vec!["A-600"]),
        (q(None, true, None, 4), vec!["B_500", "A-600"]),
        (q(None, true, Some(10), 100), vec![]),
        (q(None, true, Some(0), 0), vec![]),
        (q(None, false, Some(2), 1), vec!["A-200", "A-400"]),
        (q(Some("acme"), true, Some(1), 2), vec!["A-300"]),
    ];
    // Keyset paging: after a key, alone and with a filter, a limit or an offset.
    let key_of = |id: &str| by_id(&dir, id).key;
    let after = |mut query: EmployeeQuery, id: &str| {
        query.after = Some(key_of(id));
        query
    };
    let cases: Vec<(EmployeeQuery, Vec<&str>)> = cases
        .into_iter()
        .chain([
            (
                after(q(None, true, Some(2), 0), "A-200"),
                vec!["A-300", "A-400"],
            ),
            (
                after(q(None, false, None, 0), "A-200"),
                vec!["A-400", "B_500", "A-600"],
            ),
            (
                after(q(Some("acme"), true, Some(1), 1), "A-100"),
                vec!["A-300"],
            ),
            (after(q(None, true, None, 0), "A-600"), vec![]),
        ])
        .collect();
    for (query, want) in cases {
        let got = store.employees(a, &query).await.expect("employees");
        assert_eq!(ids(&got), want, "employees({query:?})");
        for e in &got {
            assert_eq!(
                e,
                &by_id(&dir, &e.employee_id),
                "employees() returns whole employees"
            );
        }
    }
}

/// The look-ups an incremental sync plans over: rows by employee ID, source id,
/// email key or birth date (each once, in key order, this account's only); active
/// reports per manager email key; IDs with a prefix; the first rows' demographic
/// names.
pub async fn part_lookups_find_rows_and_count_reports(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let mut boss = person("B1", "Boss@Acme.Example", "Bo", "Ss");
    boss.demographics = [("Office".to_string(), "Paris".to_string())].into();
    let mut ann = person("R000007", "ann@acme.example", "Ann", "Ay");
    ann.manager_email = Some(" BOSS@acme.example".into());
    ann.date_of_birth = Some(date(1990, 2, 3));
    let mut bea = person("R000012", "bea@acme.example", "Bea", "Bee");
    bea.manager_email = Some("boss@acme.example".into());
    bea.demographics = [("Team".to_string(), "Ops".to_string())].into();
    let mut gone = person("E9", "gone@acme.example", "Go", "Ne");
    gone.manager_email = Some("boss@acme.example".into());
    gone.active = false;
    gone.date_of_birth = Some(date(1990, 2, 3));
    let mut zoe = person("E5", "zoe@acme.example", "Zoë", "Z");
    zoe.manager_email = Some("Zoë@Acme.Example".into());
    let (_, dir) = seed(store, a, vec![boss, ann, bea, gone, zoe]).await;
    let mut theirs = person("R000099", "boss@acme.example", "X", "Y");
    theirs.manager_email = Some("boss@acme.example".into());
    theirs.date_of_birth = Some(date(1990, 2, 3));
    seed(store, other, vec![theirs]).await;

    let found = |l: Lookups| async move {
        let rows = store.employees_matching(a, &l).await.unwrap();
        rows.iter()
            .map(|e| e.employee_id.clone())
            .collect::<Vec<_>>()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        found(Lookups {
            employee_ids: s(&["E9", "nobody"]),
            source_ids: s(&["mbr_B1"]),
            emails: s(&["ann@acme.example", "boss@acme.example"]),
            dates_of_birth: vec![],
        })
        .await,
        ["B1", "R000007", "E9"],
        "by ID, source id and email key (the stored email is Boss@Acme.Example), each once, in key order"
    );
    assert_eq!(
        found(Lookups {
            dates_of_birth: vec![date(1990, 2, 3)],
            ..Lookups::default()
        })
        .await,
        ["R000007", "E9"],
        "by birth date, this account only"
    );
    assert_eq!(
        found(Lookups {
            employee_ids: s(&["R000007", "R000099"]),
            source_ids: s(&["mbr_R000007", "mbr_R000099"]),
            emails: s(&["ann@acme.example", "boss@acme.example"]),
            dates_of_birth: vec![date(1990, 2, 3)],
        })
        .await,
        ["B1", "R000007", "E9"],
        "a row every kind of look-up names comes once; the other account's rows with the \
         same values do not come"
    );
    assert!(found(Lookups::default()).await.is_empty());
    let rows = store
        .employees_matching(
            a,
            &Lookups {
                employee_ids: s(&["R000012"]),
                ..Lookups::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rows, [by_id(&dir, "R000012")], "full rows");

    let keys = s(&["boss@acme.example", "zoë@acme.example", "ann@acme.example"]);
    assert_eq!(
        store.active_report_counts(a, &keys).await.unwrap(),
        [
            ("boss@acme.example".to_string(), 2),
            ("zoë@acme.example".to_string(), 1)
        ],
        "active reports only, by the key of the manager's email; other accounts not counted"
    );
    assert!(store.active_report_counts(a, &[]).await.unwrap().is_empty());
    assert_eq!(
        store.key_manager_emails(a).await.unwrap(),
        0,
        "written keyed"
    );

    let mut generated = store.employee_ids_with_prefix(a, "R").await.unwrap();
    generated.sort();
    assert_eq!(generated, ["R000007", "R000012"]);
    assert!(
        store
            .employee_ids_with_prefix(a, "Q")
            .await
            .unwrap()
            .is_empty()
    );

    let names = store.demographic_names(a, 2).await.unwrap();
    assert_eq!(
        names,
        BTreeSet::from(["Office".to_string()]),
        "the first 2 rows"
    );
    let names = store.demographic_names(a, 1000).await.unwrap();
    assert_eq!(
        names,
        BTreeSet::from(["Office".to_string(), "Team".to_string()])
    );
}

/// The email facts of rows by source id (an incremental fetch resolves managers
/// outside it from them): each row once, in key order, with its email as stored,
/// whether an admin edited it, whether a secondary email is kept, whether the row
/// is merged; this account's rows only.
pub async fn source_emails_tell_what_each_row_holds(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let plain = person("E1", "Ann@Acme.Example", "Ann", "Ay");
    let mut edited = person("E2", "bo@acme.example", "Bo", "Bee");
    edited.email_edited = true;
    edited.secondary_email = Some("bo@home.example".into());
    let mut no_email = minimal("E3");
    no_email.source_id = Some("mbr_E3".into());
    let (_, dir) = seed(store, a, vec![plain, edited, no_email]).await;
    let mut merged = person("E4", "ann.2@acme.example", "Ann", "Ay");
    merged.merged_into = Some(by_id(&dir, "E1").key);
    seed(store, a, vec![merged]).await;
    seed(
        store,
        other,
        vec![person("E1", "x@other.example", "X", "Y")],
    )
    .await;

    let fact = |id: &str, email: &str, edited: bool, secondary: bool, merged: bool| SourceEmail {
        source_id: format!("mbr_{id}"),
        email: email.into(),
        email_edited: edited,
        secondary_email: secondary,
        merged,
    };
    let ids = ["mbr_E4", "mbr_E1", "mbr_nobody", "mbr_E2", "mbr_E3"].map(String::from);
    assert_eq!(
        store.source_emails(a, &ids).await.unwrap(),
        [
            fact("E1", "Ann@Acme.Example", false, false, false),
            fact("E2", "bo@acme.example", true, true, false),
            fact("E3", "", false, false, false),
            fact("E4", "ann.2@acme.example", false, false, true),
        ]
    );
    assert!(store.source_emails(a, &[]).await.unwrap().is_empty());
}
