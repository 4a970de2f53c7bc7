use jiff::Timestamp;
use roster_core::{Employee, Settings};
use rstest::rstest;

use super::*;
use crate::{ResourceType, ScimConfig, ScimProvider};

fn provider(settings: &Settings) -> ScimProvider {
    ScimProvider::new(settings, ScimConfig::default())
}

fn planned(text: &str) -> QueryPlan {
    let p = provider(&Settings::default());
    p.plan_query(&p.filter(ResourceType::User, text).unwrap())
}

fn term(t: IndexTerm) -> IndexQuery {
    IndexQuery::Term(t)
}

fn email(s: &str) -> IndexQuery {
    term(IndexTerm::Email(vec![s.into()]))
}

fn any_email(s: &str) -> IndexQuery {
    IndexQuery::Or(vec![
        email(s),
        term(IndexTerm::SecondaryEmail(vec![s.into()])),
    ])
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[rstest]
#[case(r#"id eq "12""#, term(IndexTerm::Key(vec![12])))]
#[case(r#"id eq "012""#, IndexQuery::Nothing)]
#[case(r#"id eq "abc""#, IndexQuery::Nothing)]
#[case(r#"userName eq "Ann@Example.com""#, email("ann@example.com"))]
#[case(r#"emails.value eq "Ann@Example.com""#, any_email("ann@example.com"))]
#[case(r#"emails eq "ann@example.com""#, any_email("ann@example.com"))]
#[case(r#"emails[value eq "ann@example.com"]"#, any_email("ann@example.com"))]
#[case(
    r#"emails[type eq "work"].value eq "ann@example.com""#,
    email("ann@example.com")
)]
#[case(
    r#"emails[value eq "ann@example.com" and type eq "Work"]"#,
    email("ann@example.com")
)]
#[case(r#"emails[type eq "home"].value eq "ann@example.com""#, term(IndexTerm::SecondaryEmail(vec!["ann@example.com".into()])))]
#[case(
    r#"emails[type eq "other"].value eq "ann@example.com""#,
    IndexQuery::Nothing
)]
#[case(r#"externalId eq "Src-1""#, term(IndexTerm::SourceId(vec!["Src-1".into()])))]
#[case(r#"employeeNumber eq "E-12""#, term(IndexTerm::EmployeeId(vec!["e-12".into()])))]
#[case(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-12""#, term(IndexTerm::EmployeeId(vec!["e-12".into()])))]
#[case("active eq true", term(IndexTerm::Active(true)))]
#[case("active ne true", term(IndexTerm::Active(false)))]
#[case(
    r#"meta.lastModified gt "2024-05-01T00:00:00Z""#,
    term(IndexTerm::LastModified(Bound::Gt, ts("2024-05-01T00:00:00Z")))
)]
#[case(
    r#"meta.lastModified ge "2024-05-01T02:00:00+02:00""#,
    term(IndexTerm::LastModified(Bound::Ge, ts("2024-05-01T00:00:00Z")))
)]
#[case(
    r#"meta.lastModified lt "2024-05-01T00:00:00Z""#,
    term(IndexTerm::LastModified(Bound::Lt, ts("2024-05-01T00:00:00Z")))
)]
#[case(
    r#"meta.lastModified le "2024-05-01T00:00:00Z""#,
    term(IndexTerm::LastModified(Bound::Le, ts("2024-05-01T00:00:00Z")))
)]
#[case(r#"meta.lastModified eq "2024-05-01T00:00:00Z""#, IndexQuery::And(vec![
    term(IndexTerm::LastModified(Bound::Ge, ts("2024-05-01T00:00:00Z"))),
    term(IndexTerm::LastModified(Bound::Le, ts("2024-05-01T00:00:00Z"))),
]))]
#[case(r#"userName eq "a@x.com" and active eq true"#, IndexQuery::And(vec![
    email("a@x.com"),
    term(IndexTerm::Active(true)),
]))]
#[case(r#"userName eq "a@x.com" or userName eq "B@x.com" or userName eq "c@x.com""#,
    term(IndexTerm::Email(vec!["a@x.com".into(), "b@x.com".into(), "c@x.com".into()])))]
#[case(r#"externalId eq "1" or id eq "2" or externalId eq "3""#, IndexQuery::Or(vec![
    term(IndexTerm::SourceId(vec!["1".into(), "3".into()])),
    term(IndexTerm::Key(vec![2])),
]))]
#[case(r#"id eq "x" or id eq "5""#, term(IndexTerm::Key(vec![5])))]
#[case(r#"id eq "x" or id eq "y""#, IndexQuery::Nothing)]
#[case(r#"id eq "x" and title pr"#, IndexQuery::Nothing)]
#[case(r#"meta.lastModified gt "2024-05-01T00:00:00Z" and meta.lastModified le "2024-06-01T00:00:00Z" and active eq true"#, IndexQuery::And(vec![
    term(IndexTerm::LastModified(Bound::Gt, ts("2024-05-01T00:00:00Z"))),
    term(IndexTerm::LastModified(Bound::Le, ts("2024-06-01T00:00:00Z"))),
    term(IndexTerm::Active(true)),
]))]
fn exact_plans(#[case] text: &str, #[case] index: IndexQuery) {
    let plan = planned(text);
    assert_eq!(plan.index, index, "{text}");
    assert_eq!(plan.residual, None, "{text}");
}

#[rstest]
#[case(r#"title eq "Engineer""#, IndexQuery::All, "title eq \"Engineer\"")]
#[case(r#"userName co "ann""#, IndexQuery::All, "userName co \"ann\"")]
#[case(r#"not (active eq true)"#, IndexQuery::All, "not (active eq true)")]
#[case(r#"userName eq "roster-12""#, term(IndexTerm::Key(vec![12])), "userName eq \"roster-12\"")]
#[case(r#"userName eq "ROSTER-12""#, term(IndexTerm::Key(vec![12])), "userName eq \"ROSTER-12\"")]
#[case(
    r#"userName eq " a@x.com""#,
    email("a@x.com"),
    "userName eq \" a@x.com\""
)]
#[case(r#"userName eq "a@x.com" and title pr"#, email("a@x.com"), "title pr")]
#[case(
    r#"userName eq "a@x.com" or title pr"#,
    IndexQuery::All,
    "userName eq \"a@x.com\" or title pr"
)]
#[case(r#"(userName eq "a@x.com" or userName eq "roster-3") and active eq true"#,
    IndexQuery::And(vec![
        IndexQuery::Or(vec![email("a@x.com"), term(IndexTerm::Key(vec![3]))]),
        term(IndexTerm::Active(true)),
    ]),
    "userName eq \"a@x.com\" or userName eq \"roster-3\"")]
#[case(
    r#"emails[type eq "work" and primary eq true].value eq "a@x.com""#,
    email("a@x.com"),
    "emails[type eq \"work\" and primary eq true and value eq \"a@x.com\"]"
)]
#[case(
    r#"emails[primary eq true and value eq "a@x.com"]"#,
    any_email("a@x.com"),
    "emails[primary eq true and value eq \"a@x.com\"]"
)]
#[case(
    r#"emails[type eq "work"]"#,
    IndexQuery::All,
    "emails[type eq \"work\"]"
)]
fn inexact_plans(#[case] text: &str, #[case] index: IndexQuery, #[case] residual: &str) {
    let plan = planned(text);
    assert_eq!(plan.index, index, "{text}");
    assert_eq!(
        plan.residual.map(|r| r.to_string()).as_deref(),
        Some(residual),
        "{text}"
    );
}

#[test]
fn plans_follow_what_is_served() {
    let mut settings = Settings::default();
    settings.exclude_fields.insert("secondary_email".into());
    settings.exclude_fields.insert("source_id".into());
    let p = provider(&settings);
    let plan = |t: &str| p.plan_query(&p.filter(ResourceType::User, t).unwrap());
    assert_eq!(plan(r#"emails.value eq "a@x.com""#).index, email("a@x.com"));
    assert_eq!(
        plan(r#"emails[type eq "home"].value eq "a@x.com""#).index,
        IndexQuery::Nothing
    );
    // externalId is not served: the index narrows, the residual (no value) decides.
    let ext = plan(r#"externalId eq "1""#);
    assert_eq!(ext.index, term(IndexTerm::SourceId(vec!["1".into()])));
    assert!(ext.residual.is_some());
}

fn employee(key: i64, email: &str) -> Employee {
    Employee {
        key,
        employee_id: format!("E-{key}"),
        source_id: Some(format!("src-{key}")),
        email: email.into(),
        secondary_email: Some(format!("Home{key}@Example.org")),
        active: key % 2 == 0,
        ..Employee::default()
    }
}

#[test]
fn reference_semantics() {
    let t = ts("2024-05-01T00:00:00Z");
    let e = employee(2, "Ann@Example.com");
    assert!(IndexTerm::Key(vec![1, 2]).matches(&e, t));
    assert!(IndexTerm::Email(vec!["ann@example.com".into()]).matches(&e, t));
    assert!(!IndexTerm::Email(vec!["".into()]).matches(&employee(4, ""), t));
    assert!(IndexTerm::SecondaryEmail(vec!["home2@example.org".into()]).matches(&e, t));
    assert!(IndexTerm::SourceId(vec!["src-2".into()]).matches(&e, t));
    assert!(!IndexTerm::SourceId(vec!["SRC-2".into()]).matches(&e, t));
    assert!(IndexTerm::EmployeeId(vec!["e-2".into()]).matches(&e, t));
    assert!(IndexTerm::Active(true).matches(&e, t));
    let merged = Employee {
        merged_into: Some(9),
        ..e.clone()
    };
    assert!(IndexTerm::Active(false).matches(&merged, t));
    assert!(IndexTerm::LastModified(Bound::Ge, t).matches(&e, t));
    assert!(!IndexTerm::LastModified(Bound::Gt, t).matches(&e, t));
    assert!(IndexQuery::Or(vec![IndexQuery::Nothing, IndexQuery::All]).matches(&e, t));
    assert!(!IndexQuery::And(vec![IndexQuery::Nothing, IndexQuery::All]).matches(&e, t));
}

/// For every filter, over a small directory: the index returns a superset of the
/// matches, exactly the matches when there is no residual, and the residual over the
/// candidates gives the matches.
#[test]
fn plans_agree_with_evaluate() {
    use crate::user::{ManagerLink, UserMeta};
    let p = provider(&Settings::default());
    let base = ts("2024-05-01T00:00:00Z");
    let mut directory = Vec::new();
    for key in 1..=12i64 {
        let mut e = employee(key, &format!("User{key}@Example.com"));
        if key % 5 == 0 {
            e.email = String::new();
        }
        if key == 7 {
            e.merged_into = Some(1);
            e.active = true;
        }
        if key % 3 == 0 {
            e.secondary_email = None;
        }
        e.first_name = Some(format!("Name{key}"));
        e.demographics
            .insert("Job Title", format!("Title{}", key % 4));
        let meta = UserMeta {
            created: base,
            last_modified: base + jiff::SignedDuration::from_hours(key),
        };
        let manager = ManagerLink {
            key: 1,
            display_name: "One".into(),
        };
        let json = p.user(&e, &meta, Some(&manager));
        directory.push((e, meta, json));
    }
    let filters = [
        r#"id eq "3""#,
        r#"id eq "3" or id eq "4" or id eq "x""#,
        r#"userName eq "user2@example.com""#,
        r#"userName eq "roster-5""#,
        r#"userName eq "roster-6""#,
        r#"userName eq "USER2@example.com" or userName eq "roster-10""#,
        r#"emails.value eq "home4@example.org""#,
        r#"emails eq "user4@example.com""#,
        r#"emails[type eq "work"].value eq "user4@example.com""#,
        r#"emails[type eq "home"].value eq "user4@example.com""#,
        r#"emails[type eq "home"].value eq "HOME4@example.org""#,
        r#"emails[value eq "home4@example.org" and type eq "work"]"#,
        r#"emails[primary eq true and value eq "user4@example.com"]"#,
        r#"externalId eq "src-8""#,
        r#"externalId eq "SRC-8""#,
        r#"employeeNumber eq "e-9""#,
        "active eq true",
        "active eq false",
        "active ne true",
        r#"meta.lastModified gt "2024-05-01T05:00:00Z""#,
        r#"meta.lastModified ge "2024-05-01T05:00:00Z""#,
        r#"meta.lastModified lt "2024-05-01T05:00:00Z" and active eq true"#,
        r#"meta.lastModified eq "2024-05-01T07:00:00+02:00""#,
        r#"meta.lastModified le "2024-05-01T05:00:00Z" or title eq "title1""#,
        r#"title eq "Title2" and active eq true"#,
        r#"(userName sw "user1" or externalId eq "src-2") and not (active eq false)"#,
        r#"name.givenName co "1" and meta.lastModified gt "2024-05-01T02:00:00Z""#,
    ];
    for text in filters {
        let f = p.filter(ResourceType::User, text).unwrap();
        let plan = p.plan_query(&f);
        let matches: Vec<i64> = directory
            .iter()
            .filter(|(_, _, j)| crate::evaluate(&f, j))
            .map(|(e, _, _)| e.key)
            .collect();
        let candidates: Vec<&(Employee, UserMeta, serde_json::Value)> = directory
            .iter()
            .filter(|(e, m, _)| plan.index.matches(e, m.last_modified))
            .collect();
        let found: Vec<i64> = candidates
            .iter()
            .filter(|(_, _, j)| plan.residual.as_ref().is_none_or(|r| crate::evaluate(r, j)))
            .map(|(e, _, _)| e.key)
            .collect();
        assert_eq!(found, matches, "{text}: {plan:?}");
        assert!(
            matches
                .iter()
                .all(|k| candidates.iter().any(|(e, _, _)| e.key == *k)),
            "{text}"
        );
        if text.contains("sw") || text.contains("title") || text.contains("givenName") {
            assert!(plan.residual.is_some(), "{text}");
        }
    }
}
