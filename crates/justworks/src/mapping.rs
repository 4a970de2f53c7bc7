//! Wire member → source-neutral [`SourceMember`], manager resolution, and the
//! diagnostics about withheld scopes.

use std::collections::HashMap;

use roster_core::fields;
use roster_core::member::{ManagerRef, SourceMember};
use roster_core::normalise::{clean, nonblank};
use roster_source::Diagnostic;

use crate::auth::scope_granted;
use crate::wire::{WireAddress, WireEmail, WireMember};

/// Which scope-gated parts of a member were present on any member of a fetch
/// (a missing field scope omits the field; an empty array is still sent as `[]`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Presence {
    pub date_of_birth: bool,
    pub sex: bool,
    pub employment: bool,
    pub detail: bool,
}

/// A mapped member and the id its `manager` points at.
pub(crate) struct Mapped {
    pub member: SourceMember,
    pub manager_id: Option<String>,
}

/// The first entry of `emails` of the given type (case-insensitive).
pub(crate) fn email_of_type(emails: Option<&[WireEmail<'_>]>, kind: &str) -> Option<String> {
    emails?
        .iter()
        .filter(|e| is_type(e.kind.as_deref(), kind))
        .find_map(|e| nonblank(e.address.as_deref()).map(str::to_owned))
}

/// Like [`email_of_type`], moving the address out instead of copying it.
fn take_email(emails: &mut [WireEmail<'_>], kind: &str) -> Option<String> {
    emails
        .iter_mut()
        .filter(|e| is_type(e.kind.as_deref(), kind))
        .find_map(|e| clean(e.address.take()))
}

fn is_type(kind: Option<&str>, wanted: &str) -> bool {
    kind.is_some_and(|k| k.trim().eq_ignore_ascii_case(wanted))
}

/// The earliest date among `dates` when it is earlier than `current`.
fn earlier_start<'a>(current: &str, dates: impl Iterator<Item = &'a str>) -> Option<String> {
    type Dated<'a> = (&'a str, Option<jiff::civil::Date>);
    fn before(a: Dated<'_>, b: Dated<'_>) -> bool {
        match (a.1, b.1) {
            (Some(x), Some(y)) => x < y,
            _ => a.0 < b.0,
        }
    }
    let mut earliest: Option<Dated<'a>> = None;
    for date in dates {
        let dated = (date, date.parse().ok());
        if earliest.is_none_or(|e| before(dated, e)) {
            earliest = Some(dated);
        }
    }
    let earliest = earliest?;
    before(earliest, (current, current.parse().ok())).then(|| earliest.0.to_owned())
}

/// The fields [`map_member`] sets, in the keys' order: each entry is appended to
/// the member's map, none is spliced in.
const MAPPED_FIELDS: [&str; 13] = [
    fields::DEPARTMENT,
    fields::EMPLOYMENT_TYPE,
    fields::HOME_CITY,
    fields::HOME_COUNTRY,
    fields::HOME_STATE,
    fields::JOB_TITLE,
    fields::MEMBER_TYPE,
    fields::OFFICE,
    fields::SEX,
    fields::WORK_CITY,
    fields::WORK_COUNTRY,
    fields::WORK_ID,
    fields::WORK_STATE,
];

/// Map one wire member. `position` is provisional (renumbered at the end).
pub(crate) fn map_member(
    mut wire: WireMember<'_>,
    position: usize,
    presence: &mut Presence,
) -> Mapped {
    presence.sex |= wire.sex_assigned_at_birth.is_some();
    presence.employment |= wire.current_employment.is_some() || wire.employment_history.is_some();
    presence.detail |= wire.phones.is_some() || wire.addresses.is_some();

    let mut member = SourceMember::new(std::mem::take(&mut wire.id), position);
    member.active = wire.active;
    member.member_type = clean(wire.member_type).map(|t| {
        if t.bytes().any(|b| b.is_ascii_uppercase()) || !t.is_ascii() {
            t.to_lowercase()
        } else {
            t
        }
    });
    if let Some(name) = wire.name {
        member.given_name = clean(name.given_name);
        member.family_name = clean(name.family_name);
        member.preferred_name = clean(name.preferred_name);
    }
    if let Some(emails) = wire.emails.as_deref_mut() {
        member.work_email = take_email(emails, "work");
        member.personal_email = take_email(emails, "personal");
    }
    presence.detail |= member.personal_email.is_some();

    if let Some(phones) = wire.phones.as_deref_mut() {
        let position = ["mobile", "work"]
            .iter()
            .find_map(|kind| {
                phones.iter().position(|p| {
                    is_type(p.kind.as_deref(), kind)
                        && p.number.as_deref().is_some_and(|n| !n.trim().is_empty())
                })
            })
            .or_else(|| {
                phones
                    .iter()
                    .position(|p| p.number.as_deref().is_some_and(|n| !n.trim().is_empty()))
            });
        member.phone =
            position.and_then(|i| clean(phones[i].number.take().map(|n| n.0.into_owned())));
    }

    member.date_of_birth = clean(wire.date_of_birth);
    presence.date_of_birth |= member.date_of_birth.is_some();
    member.start_date = clean(wire.employment_start_date);
    if let (Some(start), Some(history)) = (&member.start_date, &wire.employment_history) {
        member.original_start_date = earlier_start(
            start,
            history
                .iter()
                .filter_map(|p| p.start_date.as_deref())
                .map(str::trim)
                .filter(|d| !d.is_empty()),
        );
    }
    member.end_date = clean(wire.employment_termination_date);

    let employment = wire.current_employment.and_then(|m| m.0.into_iter().next());
    let (employment_country, employment_type) = match employment {
        Some((country, employment)) => (Some(country), employment.employment_type),
        None => (None, None),
    };
    let home = home_address(wire.addresses);
    let home = home.as_ref();
    let (office_name, office_address) = match wire.office {
        Some(office) => (office.name, office.address),
        None => (None, None),
    };
    let (work_city, work_state, work_country) = match office_address {
        Some(a) => (a.city, a.state, a.country),
        None => (None, None, None),
    };
    let work_country = nonblank(work_country.as_deref()).or(employment_country.as_deref());
    let values = [
        wire.department.as_ref().and_then(|d| d.name.as_deref()),
        employment_type.as_deref(),
        home.and_then(|h| h.city.as_deref()),
        home.and_then(|h| h.country.as_deref()),
        home.and_then(|h| h.state.as_deref()),
        wire.job_title.as_deref(),
        member.member_type.as_deref(),
        office_name.as_deref(),
        wire.sex_assigned_at_birth.as_deref(),
        work_city.as_deref(),
        work_country,
        wire.work_id.as_deref(),
        work_state.as_deref(),
    ];
    // In key order (MAPPED_FIELDS is sorted): each appended after the last, not
    // looked up among the ones before (`FieldMap::extend`).
    let present = MAPPED_FIELDS.into_iter().zip(values);
    member
        .fields
        .extend(present.filter_map(|(key, value)| Some((key, nonblank(value)?))));
    // Kept until the plan is made: no spare room (custom fields, when read, are
    // added later and the map shrunk again).
    member.fields.shrink_to_fit();

    let manager_id = clean(wire.manager.and_then(|m| m.id));
    if let Some(id) = &manager_id {
        member.manager = ManagerRef::NotInSnapshot {
            source_id: id.clone(),
        };
    }
    Mapped { member, manager_id }
}

/// The home-typed address, else the first.
fn home_address(addresses: Option<Vec<WireAddress<'_>>>) -> Option<WireAddress<'_>> {
    let mut addresses = addresses?;
    let at = addresses
        .iter()
        .position(|a| is_type(a.kind.as_deref(), "home"))
        .unwrap_or(0);
    (at < addresses.len()).then(|| addresses.swap_remove(at))
}

/// What is known of a manager that is not in the snapshot (incremental fetches).
#[derive(Clone, Debug)]
pub(crate) enum ManagerLookup {
    Found { work_email: Option<String> },
    Missing,
}

/// Point every member's manager at the member with that id: in the snapshot
/// (any order), else in `fetched`.
pub(crate) fn resolve_managers(
    members: &mut [SourceMember],
    manager_ids: Vec<Option<String>>,
    index: &rustc_hash::FxHashMap<String, usize>,
    fetched: &HashMap<String, ManagerLookup>,
) {
    use rayon::prelude::*;
    // On every core, each id moved into its reference rather than copied: after the
    // last page this step is the fetch's alone, 31 ms of a 100k daily sync on one core
    // (a look-up and a read of another member each; issue #15, session 19).
    let known: &[SourceMember] = members;
    let resolved: Vec<ManagerRef> = manager_ids
        .into_par_iter()
        .with_min_len(RESOLVE_MIN_LEN)
        .map(|id| {
            let Some(id) = id else {
                return ManagerRef::None;
            };
            let email = match index.get(&id) {
                Some(&i) => Some(known[i].work_email.clone()),
                None => match fetched.get(&id) {
                    Some(ManagerLookup::Found { work_email }) => Some(work_email.clone()),
                    Some(ManagerLookup::Missing) | None => None,
                },
            };
            match email {
                Some(Some(email)) => ManagerRef::Resolved {
                    source_id: id,
                    email,
                },
                Some(None) => ManagerRef::NoWorkEmail { source_id: id },
                None => ManagerRef::NotInSnapshot { source_id: id },
            }
        })
        .collect();
    members
        .par_iter_mut()
        .zip(resolved)
        .with_min_len(RESOLVE_MIN_LEN)
        .for_each(|(member, manager)| member.manager = manager);
}

/// Members a thread of [`resolve_managers`] takes at least (fewer are not worth
/// splitting: an incremental fetch resolves a few hundred).
const RESOLVE_MIN_LEN: usize = 4096;

/// Scope-gated data and how the diagnostics name it.
const GATED: &[(&str, &str, &str)] = &[
    ("member.dob:read", "date of birth", "date of birth"),
    (
        "member.sex:read",
        "sex assigned at birth",
        "sex assigned at birth",
    ),
    (
        "member.employment:read",
        "employment type and history",
        "employment data",
    ),
    (
        "member.detail:read",
        "personal email, phones, addresses and custom field values",
        "phones and addresses",
    ),
    ("company.detail:read", "custom field definitions", ""),
];

pub(crate) fn scope_code(scope: &str) -> String {
    format!("scope_missing.{scope}")
}

/// Diagnostics for the scopes the connection asked for (`requested`) and the token
/// was not granted. Only known grants count: a token whose scopes are unknown, or
/// data that simply has no values, says nothing (issue #11.14).
pub(crate) fn missing_scope_diagnostics(
    granted: &[String],
    requested: &[String],
) -> Vec<Diagnostic> {
    GATED
        .iter()
        .filter(|(scope, _, _)| scope_granted(requested, scope) && !scope_granted(granted, scope))
        .map(|(scope, what, _)| Diagnostic {
            code: scope_code(scope),
            message: format!("{what} not shared: scope {scope} was not granted"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_item;
    use roster_core::fields::FieldMap;

    #[test]
    fn mapped_fields_are_put_in_key_order() {
        assert!(MAPPED_FIELDS.is_sorted(), "{MAPPED_FIELDS:?}");
        let mut keys = MAPPED_FIELDS.to_vec();
        keys.dedup();
        assert_eq!(keys.len(), MAPPED_FIELDS.len());
    }

    fn map(json: &str) -> (SourceMember, Option<String>, Presence) {
        let mut presence = Presence::default();
        let mapped = map_member(parse_item(json).unwrap(), 1, &mut presence);
        (mapped.member, mapped.manager_id, presence)
    }

    const FULL: &str = r#"{
      "id": "mbr_1", "company_id": "cmp_1", "work_id": "E0042",
      "name": { "given_name": "Ada", "family_name": "Lovelace", "preferred_name": "Addie",
                "full_preferred_name": "Addie Lovelace", "additional_names": [] },
      "active": true, "type": "Employee_EOR", "employment_location_type": "international",
      "emails": [ { "address": "ada@home.example", "type": "PERSONAL" },
                  { "address": "ada@acme.example", "type": "Work" },
                  { "address": "second@acme.example", "type": "work" },
                  { "address": "x@y.example", "type": "pager" } ],
      "phones": [ { "number": "+1 home", "type": "home" }, { "number": "+1 work", "type": "WORK" },
                  { "number": "+1 mobile", "type": "mobile" } ],
      "addresses": [ { "type": "mailing", "city": "Boston", "state": "MA", "country": "US" },
                     { "type": "HOME", "line1": "1 Main St", "city": "London", "country": "GB" } ],
      "current_employment": { "GB": { "employment_type": "full_time" } },
      "employment_history": [ { "start_date": "2021-03-15" }, { "start_date": "2018-01-02", "end_date": "2019-06-30" } ],
      "date_added_to_justworks": "2021-03-01",
      "date_of_birth": "1990-12-10",
      "sex_assigned_at_birth": "female",
      "department": { "id": "dep_eng", "name": "Engineering" },
      "employment_start_date": "2021-03-15",
      "employment_termination_date": "2025-01-31",
      "job_title": "Engineer",
      "manager": { "id": "mbr_0" },
      "office": { "id": "off_nyc", "name": "New York", "address": { "city": "New York", "state": "NY", "country": "US" } },
      "created_at": "2021-03-01T12:00:00Z", "updated_at": "2024-05-01T09:30:00Z"
    }"#;

    #[test]
    fn maps_every_field() {
        let (m, manager, presence) = map(FULL);
        assert_eq!(m.source_id, "mbr_1");
        assert_eq!(m.active, Some(true));
        assert_eq!(m.member_type.as_deref(), Some("employee_eor"));
        assert_eq!(m.given_name.as_deref(), Some("Ada"));
        assert_eq!(m.family_name.as_deref(), Some("Lovelace"));
        assert_eq!(m.preferred_name.as_deref(), Some("Addie"));
        assert_eq!(m.work_email.as_deref(), Some("ada@acme.example"));
        assert_eq!(m.personal_email.as_deref(), Some("ada@home.example"));
        assert_eq!(m.phone.as_deref(), Some("+1 mobile"));
        assert_eq!(m.date_of_birth.as_deref(), Some("1990-12-10"));
        assert_eq!(m.start_date.as_deref(), Some("2021-03-15"));
        assert_eq!(m.original_start_date.as_deref(), Some("2018-01-02"));
        assert_eq!(m.end_date.as_deref(), Some("2025-01-31"));
        assert_eq!(manager.as_deref(), Some("mbr_0"));
        let expected: FieldMap = [
            (fields::WORK_ID, "E0042"),
            (fields::JOB_TITLE, "Engineer"),
            (fields::DEPARTMENT, "Engineering"),
            (fields::MEMBER_TYPE, "employee_eor"),
            (fields::EMPLOYMENT_TYPE, "full_time"),
            (fields::OFFICE, "New York"),
            (fields::WORK_CITY, "New York"),
            (fields::WORK_STATE, "NY"),
            (fields::WORK_COUNTRY, "US"),
            (fields::HOME_CITY, "London"),
            (fields::HOME_COUNTRY, "GB"),
            (fields::SEX, "female"),
        ]
        .into();
        assert_eq!(m.fields, expected);
        assert!(presence.date_of_birth && presence.sex && presence.employment && presence.detail);
    }

    #[test]
    fn fallbacks() {
        let (m, manager, presence) = map(r#"{"id":"m2","type":"contractor",
                "emails":[{"address":"p@home.example","type":"personal"}],
                "phones":[{"number":"+1 home","type":"home"},{"number":"+1 work","type":"work"}],
                "addresses":[{"city":"Paris","country":"FR"},{"type":"mailing","city":"Lyon"}],
                "current_employment":{"FR":{"employment_type":"part_time"}},
                "office":{"name":"Remote"},
                "employment_start_date":"2020-01-01",
                "employment_history":[{"start_date":"2020-01-01"}]}"#);
        assert_eq!(m.work_email, None);
        assert_eq!(m.personal_email.as_deref(), Some("p@home.example"));
        assert_eq!(m.phone.as_deref(), Some("+1 work"));
        assert_eq!(
            m.original_start_date, None,
            "a single period is not a rehire"
        );
        assert_eq!(
            m.fields.get(fields::WORK_COUNTRY),
            Some("FR"),
            "work country from the employment key"
        );
        assert!(!m.fields.contains_key(fields::WORK_CITY));
        assert_eq!(
            m.fields.get(fields::HOME_CITY),
            Some("Paris"),
            "first address when none is home-typed"
        );
        assert_eq!(manager, None);
        assert_eq!(m.manager, ManagerRef::None);
        assert!(!presence.date_of_birth && !presence.sex);

        let (m, _, _) =
            map(r#"{"id":"m3","phones":[{"number":"+1 other","type":"fax"}],"manager":{"id":""}}"#);
        assert_eq!(m.phone.as_deref(), Some("+1 other"));
        assert_eq!(m.manager, ManagerRef::None);
    }

    #[test]
    fn unknown_member_types_are_kept_lower_cased() {
        let (m, _, _) = map(r#"{"id":"m4","type":"Third_Party_Admin"}"#);
        assert_eq!(m.member_type.as_deref(), Some("third_party_admin"));
        assert_eq!(m.fields.get(fields::MEMBER_TYPE), Some("third_party_admin"));
    }

    #[test]
    fn managers_resolve_in_any_order() {
        let mut presence = Presence::default();
        let wire = [
            r#"{"id":"a","manager":{"id":"c"}}"#,
            r#"{"id":"b","manager":{"id":"a"}}"#,
            r#"{"id":"c","emails":[{"address":"c@x.example","type":"work"}],"manager":{"id":"zz"}}"#,
            r#"{"id":"d","manager":{"id":"ext"}}"#,
            r#"{"id":"e","manager":{"id":"gone"}}"#,
            r#"{"id":"f"}"#,
        ];
        let mapped: Vec<Mapped> = wire
            .iter()
            .enumerate()
            .map(|(i, j)| map_member(parse_item(j).unwrap(), i + 1, &mut presence))
            .collect();
        let ids: Vec<Option<String>> = mapped.iter().map(|m| m.manager_id.clone()).collect();
        let mut members: Vec<SourceMember> = mapped.into_iter().map(|m| m.member).collect();
        let index = members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.source_id.clone(), i))
            .collect();
        let fetched = HashMap::from([
            (
                "ext".to_owned(),
                ManagerLookup::Found {
                    work_email: Some("ext@x.example".into()),
                },
            ),
            ("gone".to_owned(), ManagerLookup::Missing),
        ]);
        resolve_managers(&mut members, ids, &index, &fetched);
        let c = |s: &str| s.to_owned();
        assert_eq!(
            members[0].manager,
            ManagerRef::Resolved {
                source_id: c("c"),
                email: c("c@x.example")
            }
        );
        assert_eq!(
            members[1].manager,
            ManagerRef::NoWorkEmail { source_id: c("a") }
        );
        assert_eq!(
            members[2].manager,
            ManagerRef::NotInSnapshot { source_id: c("zz") }
        );
        assert_eq!(
            members[3].manager,
            ManagerRef::Resolved {
                source_id: c("ext"),
                email: c("ext@x.example")
            }
        );
        assert_eq!(
            members[4].manager,
            ManagerRef::NotInSnapshot {
                source_id: c("gone")
            }
        );
        assert_eq!(members[5].manager, ManagerRef::None);
    }

    /// Split over the cores, every member still gets its own manager, in order
    /// (three times the smallest share, each kind of reference among them).
    #[test]
    fn managers_resolve_in_order_across_threads() {
        let n = 3 * RESOLVE_MIN_LEN + 5;
        let id = |i: usize| format!("m{i}");
        let mut members: Vec<SourceMember> = (0..n)
            .map(|i| {
                let mut m = SourceMember::new(id(i), i + 1);
                m.work_email = (i % 5 != 0).then(|| format!("w{i}@x.example"));
                m
            })
            .collect();
        let index = (0..n).map(|i| (id(i), i)).collect();
        // Member i reports to i / 3 (a member of the snapshot), to `gone` when i is
        // a multiple of 7, and to nobody when a multiple of 11.
        let ids: Vec<Option<String>> = (0..n)
            .map(|i| match i {
                _ if i % 11 == 0 => None,
                _ if i % 7 == 0 => Some("gone".to_owned()),
                _ => Some(id(i / 3)),
            })
            .collect();
        resolve_managers(&mut members, ids, &index, &HashMap::new());
        for (i, m) in members.iter().enumerate() {
            let boss = i / 3;
            let want = match i {
                _ if i % 11 == 0 => ManagerRef::None,
                _ if i % 7 == 0 => ManagerRef::NotInSnapshot {
                    source_id: "gone".into(),
                },
                _ if boss % 5 == 0 => ManagerRef::NoWorkEmail {
                    source_id: id(boss),
                },
                _ => ManagerRef::Resolved {
                    source_id: id(boss),
                    email: format!("w{boss}@x.example"),
                },
            };
            assert_eq!(m.manager, want, "member {i}");
        }
    }

    #[test]
    fn scope_diagnostics() {
        let granted = vec![
            "member.detail:read".to_owned(),
            "member.employment:read".to_owned(),
        ];
        let requested: Vec<String> = crate::DEFAULT_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let diags = missing_scope_diagnostics(&granted, &requested);
        let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        // Sex was not asked for: not named.
        assert_eq!(
            codes,
            [
                "scope_missing.member.dob:read",
                "scope_missing.company.detail:read"
            ]
        );
        assert_eq!(
            diags[0].message,
            "date of birth not shared: scope member.dob:read was not granted"
        );
    }
}
