use roster_core::fields::FieldMap;

use jiff::Timestamp;
use roster_core::employee::DeactivationReason;
use roster_core::settings::{FieldKind, MappedField};
use roster_core::{Employee, Settings};
use rstest::rstest;

use super::*;
use crate::etag::version;
use crate::ids::fallback_key;
use crate::{ScimConfig, ScimProvider};

pub(crate) fn config() -> ScimConfig {
    ScimConfig {
        base_url: "https://roster.example.com/scim/v2".into(),
        ..ScimConfig::default()
    }
}

pub(crate) fn meta() -> UserMeta {
    UserMeta {
        created: "2024-01-15T09:30:00Z".parse().unwrap(),
        last_modified: "2024-06-01T12:00:00.25Z".parse().unwrap(),
    }
}

pub(crate) fn barbara() -> Employee {
    Employee {
        key: 42,
        employee_id: "E-701984".into(),
        source_id: Some("jw-abc-123".into()),
        email: "bjensen@example.com".into(),
        secondary_email: Some("babs@home.example.org".into()),
        first_name: Some("Barbara".into()),
        last_name: Some("Jensen".into()),
        preferred_name: Some("Babs".into()),
        date_of_birth: Some("1980-02-29".parse().unwrap()),
        start_date: Some("2020-03-01".parse().unwrap()),
        hire_date: Some("2020-03-01".parse().unwrap()),
        manager_email: Some("jsmith@example.com".into()),
        phone: Some("+1 555 0100".into()),
        demographics: FieldMap::from([
            ("Job Title", "Tour Guide"),
            ("Department", "Tour Operations"),
            ("Member Type", "employee"),
            ("Office", "Oslo"),
            ("Shirt", "XL"),
        ]),
        active: true,
        ..Employee::default()
    }
}

pub(crate) fn smith() -> ManagerLink {
    ManagerLink {
        key: 26,
        display_name: "John Smith".into(),
    }
}

fn provider(settings: &Settings) -> ScimProvider {
    ScimProvider::new(settings, config())
}

#[test]
fn a_user() {
    let p = provider(&Settings::default());
    let u = p.user(&barbara(), &meta(), Some(&smith()));
    insta::assert_json_snapshot!("user", u);
    assert_eq!(u["meta"]["version"], version(&u));
}

#[test]
fn never_serves_the_date_of_birth_or_unmapped_demographics() {
    let p = provider(&Settings::default());
    let text = p.user(&barbara(), &meta(), None).to_string();
    assert!(!text.contains("1980"), "{text}");
    assert!(!text.contains("XL"), "{text}");
}

#[test]
fn deactivated_users_are_inactive_and_in_no_group() {
    let p = provider(&Settings::default());
    let e = Employee {
        active: false,
        deactivation_reason: Some(DeactivationReason::EndDate),
        end_date: Some("2024-05-31".parse().unwrap()),
        ..barbara()
    };
    let u = p.user(&e, &meta(), Some(&smith()));
    assert_eq!(u["active"], false);
    assert!(u.get("groups").is_none());
    assert_eq!(u[ENTERPRISE_USER_SCHEMA]["manager"]["value"], "26");
}

#[test]
fn merged_duplicates_point_nowhere() {
    let p = provider(&Settings::default());
    let e = Employee {
        key: 77,
        employee_id: "E-701984~merged-42".into(),
        source_id: None,
        email: String::new(),
        active: false,
        deactivation_reason: Some(DeactivationReason::Merged),
        merged_into: Some(42),
        ..barbara()
    };
    let u = p.user(&e, &meta(), Some(&smith()));
    assert_eq!(u["active"], false);
    assert_eq!(u["userName"], "roster-77");
    assert!(u.get("externalId").is_none());
    assert!(u[ENTERPRISE_USER_SCHEMA].get("manager").is_none());
    assert_eq!(u["emails"].as_array().unwrap().len(), 1);
    assert_eq!(u["emails"][0]["type"], "home");
    // Even an active record that is merged is not active.
    let u = p.user(&Employee { active: true, ..e }, &meta(), None);
    assert_eq!(u["active"], false);
}

#[test]
fn hidden_excluded_and_redacted_fields_never_appear() {
    let mut settings = Settings::default();
    for m in &mut settings.mapping {
        if m.demographic == "Office" {
            m.kind = FieldKind::Hidden;
        }
    }
    settings.mapping.push(MappedField {
        source_key: "custom:1".into(),
        demographic: "Shirt".into(),
        kind: FieldKind::Associated,
        privacy: None,
    });
    settings.exclude_fields = ["phone", "Member Type", "source_id", "manager_email"]
        .map(String::from)
        .into();
    settings.redact_fields = ["preferred_name", "secondary_email"]
        .map(String::from)
        .into();
    let p = provider(&settings);
    let u = p.user(&barbara(), &meta(), Some(&smith()));
    let text = u.to_string();
    for absent in [
        "Oslo",
        "XL",
        "+1 555",
        "employee\"",
        "jw-abc",
        "Babs",
        "babs@",
        "John Smith",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    assert_eq!(u["displayName"], "Barbara Jensen");
    assert!(u.get("userType").is_none());
    assert!(u.get("nickName").is_none());
    assert!(
        p.schemas(crate::ResourceType::User)
            .lookup(None, "office")
            .is_none()
    );
    assert!(
        p.schemas(crate::ResourceType::User)
            .lookup(None, "memberType")
            .is_none()
    );
    assert!(
        p.schemas(crate::ResourceType::User)
            .lookup(None, "jobTitle")
            .is_some()
    );
}

#[test]
fn title_department_and_user_type_follow_the_mapping() {
    let mut settings = Settings::default();
    for m in &mut settings.mapping {
        if m.source_key == "job_title" {
            m.demographic = "Role".into();
        }
    }
    let mut e = barbara();
    e.demographics.insert("Role", "Captain");
    let p = provider(&settings);
    let u = p.user(&e, &meta(), None);
    assert_eq!(u["title"], "Captain");
    assert_eq!(u[ROSTER_USER_SCHEMA]["role"], "Captain");
    assert!(u[ROSTER_USER_SCHEMA].get("jobTitle").is_none());
}

#[test]
fn a_sparse_employee() {
    let p = provider(&Settings::default());
    let e = Employee {
        key: 5,
        employee_id: "5".into(),
        email: "x@example.com".into(),
        active: true,
        ..Employee::default()
    };
    let u = p.user(&e, &meta(), None);
    insta::assert_json_snapshot!("user_sparse", u);
}

#[test]
fn the_version_changes_with_the_representation() {
    let p = provider(&Settings::default());
    let a = p.user(&barbara(), &meta(), None);
    assert_eq!(a, p.user(&barbara(), &meta(), None));
    let mut e = barbara();
    e.demographics.insert("Office", "Bergen");
    let b = p.user(&e, &meta(), None);
    assert_ne!(a["meta"]["version"], b["meta"]["version"]);
    let c = p.user(&barbara(), &meta(), Some(&smith()));
    assert_ne!(a["meta"]["version"], c["meta"]["version"]);
    let v = a["meta"]["version"].as_str().unwrap();
    assert!(
        v.starts_with("W/\"") && v.ends_with('"') && v.len() == 36,
        "{v}"
    );
}

#[rstest]
#[case("roster-12", Some(12))]
#[case("ROSTER-12", Some(12))]
#[case("Roster-0", Some(0))]
#[case("roster-012", None)]
#[case("roster-", None)]
#[case("roster-1x", None)]
#[case("roster12", None)]
#[case("r@example.com", None)]
#[case("rost", None)]
#[case("rosté-1", None)]
fn fallback_keys(#[case] name: &str, #[case] key: Option<i64>) {
    assert_eq!(fallback_key(name), key);
}

#[test]
fn timestamps_are_rfc3339() {
    let p = provider(&Settings::default());
    let u = p.user(&barbara(), &meta(), None);
    let t: Timestamp = u["meta"]["lastModified"].as_str().unwrap().parse().unwrap();
    assert_eq!(t, meta().last_modified);
}
