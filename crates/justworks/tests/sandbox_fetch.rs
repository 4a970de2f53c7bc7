//! Fetches against the real sandbox over HTTP: mapping compared with the sandbox's
//! own data, incremental fetches, manager resolution, withheld scopes.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use roster_core::fields;
use roster_core::member::{ManagerRef, SourceMember};
use roster_justworks::{Credentials, JustworksSource, TokenSet};
use roster_sandbox::Faults;
use roster_source::{FetchRequest, Source, SourceError};
use serde_json::Value;

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn email(w: &Value, kind: &str) -> Option<String> {
    w["emails"]
        .as_array()?
        .iter()
        .find(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
        .and_then(|e| s(&e["address"]))
}

/// The sandbox's members as the API lists them (hidden ones left out).
fn listed_members(handle: &roster_sandbox::SandboxHandle) -> Vec<Value> {
    handle
        .members(false)
        .into_iter()
        .map(|l| l.member)
        .collect()
}

/// A connector on a token with every scope.
fn all_scopes_source(sandbox: &roster_sandbox::RunningSandbox) -> JustworksSource {
    common::static_source(sandbox, &common::all_scopes(), |_| {})
}

/// What the connector should make of wire member `w`, written independently of the
/// connector's mapping code.
fn expected(w: &Value, visible: &HashMap<String, Value>) -> SourceMember {
    let mut m = SourceMember::new(w["id"].as_str().unwrap(), 0);
    m.active = w["active"].as_bool();
    m.member_type = s(&w["type"]).map(|t| t.to_lowercase());
    m.given_name = s(&w["name"]["given_name"]);
    m.family_name = s(&w["name"]["family_name"]);
    m.preferred_name = s(&w["name"]["preferred_name"]);
    m.work_email = email(w, "work");
    m.personal_email = email(w, "personal");
    let phones = w["phones"].as_array().cloned().unwrap_or_default();
    let phone_of = |kind: &str| {
        phones
            .iter()
            .find(|p| p["type"] == kind)
            .and_then(|p| s(&p["number"]))
    };
    m.phone = phone_of("mobile")
        .or_else(|| phone_of("work"))
        .or_else(|| phones.first().and_then(|p| s(&p["number"])));
    m.date_of_birth = s(&w["date_of_birth"]);
    m.start_date = s(&w["employment_start_date"]);
    let earliest = w["employment_history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["start_date"].as_str())
        .min();
    m.original_start_date = match (earliest, m.start_date.as_deref()) {
        (Some(e), Some(start)) if e < start => Some(e.to_owned()),
        _ => None,
    };
    m.end_date = s(&w["employment_termination_date"]);
    m.manager = match w["manager"]["id"].as_str() {
        None => ManagerRef::None,
        Some(id) => match visible.get(id) {
            None => ManagerRef::NotInSnapshot {
                source_id: id.into(),
            },
            Some(mgr) => match email(mgr, "work") {
                Some(email) => ManagerRef::Resolved {
                    source_id: id.into(),
                    email,
                },
                None => ManagerRef::NoWorkEmail {
                    source_id: id.into(),
                },
            },
        },
    };
    let mut f = roster_core::fields::FieldMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            f.insert(k, v);
        }
    };
    put(fields::WORK_ID, s(&w["work_id"]));
    put(fields::JOB_TITLE, s(&w["job_title"]));
    put(fields::DEPARTMENT, s(&w["department"]["name"]));
    put(fields::MEMBER_TYPE, m.member_type.clone());
    let employment = w["current_employment"]
        .as_object()
        .and_then(|o| o.iter().next());
    put(
        fields::EMPLOYMENT_TYPE,
        employment.and_then(|(_, e)| s(&e["employment_type"])),
    );
    put(fields::OFFICE, s(&w["office"]["name"]));
    let office = &w["office"]["address"];
    put(fields::WORK_CITY, s(&office["city"]));
    put(fields::WORK_STATE, s(&office["state"]));
    put(
        fields::WORK_COUNTRY,
        s(&office["country"]).or_else(|| employment.map(|(cc, _)| cc.clone())),
    );
    let addresses = w["addresses"].as_array().cloned().unwrap_or_default();
    let home = addresses
        .iter()
        .find(|a| a["type"] == "home")
        .or(addresses.first());
    if let Some(home) = home {
        put(fields::HOME_CITY, s(&home["city"]));
        put(fields::HOME_STATE, s(&home["state"]));
        put(fields::HOME_COUNTRY, s(&home["country"]));
    }
    put(fields::SEX, s(&w["sex_assigned_at_birth"]));
    m.fields = f;
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn full_fetch_returns_every_member_once_mapped_like_the_sandbox_data() {
    let sandbox = common::sandbox(320, Faults::default()).await;
    let handle = sandbox.handle();
    let listed = listed_members(&handle);
    let id = |i: usize| listed[i]["id"].as_str().unwrap().to_owned();
    // Managers in any order: an early member reports to the last one; one manager
    // without a work email; one manager hidden (not in the snapshot).
    handle
        .set_manager(&id(3), Some(&id(listed.len() - 1)))
        .unwrap();
    handle.set_manager(&id(4), Some(&id(10))).unwrap();
    handle.set_work_email(&id(10), None).unwrap();
    handle.set_manager(&id(5), Some(&id(11))).unwrap();
    handle.hide(&id(11)).unwrap();

    let listed = listed_members(&handle);
    let visible: HashMap<String, Value> = listed
        .iter()
        .map(|w| (w["id"].as_str().unwrap().to_owned(), w.clone()))
        .collect();

    let source = all_scopes_source(&sandbox);
    let snapshot = source.fetch(common::with_custom_fields()).await.unwrap();

    assert!(snapshot.complete);
    assert!(snapshot.rejected.is_empty(), "{:?}", snapshot.rejected);
    assert!(
        snapshot.diagnostics.is_empty(),
        "{:?}",
        snapshot.diagnostics
    );
    assert_eq!(snapshot.members.len(), listed.len());
    let ids: HashSet<&str> = snapshot
        .members
        .iter()
        .map(|m| m.source_id.as_str())
        .collect();
    assert_eq!(ids.len(), listed.len(), "every member once");
    let pages = listed.len().div_ceil(100) as u64;
    assert_eq!(
        snapshot.requests,
        pages + listed.len() as u64,
        "one list request per page, one custom-field request per member"
    );
    assert!(snapshot.bytes_read > 0);

    for (i, (got, wire)) in snapshot.members.iter().zip(&listed).enumerate() {
        let mut want = expected(wire, &visible);
        want.position = i + 1;
        let values = handle.custom_field_values(&want.source_id).unwrap();
        for v in values.as_array().unwrap() {
            let joined: Vec<&str> = v["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            want.fields.insert(
                format!("custom:{}", v["id"].as_str().unwrap()),
                joined.join("; "),
            );
        }
        assert_eq!(got, &want, "member {} at {}", want.source_id, i + 1);
    }

    let by_id: HashMap<&str, &SourceMember> = snapshot
        .members
        .iter()
        .map(|m| (m.source_id.as_str(), m))
        .collect();
    assert!(matches!(
        by_id[id(3).as_str()].manager,
        ManagerRef::Resolved { .. }
    ));
    assert_eq!(
        by_id[id(4).as_str()].manager,
        ManagerRef::NoWorkEmail { source_id: id(10) }
    );
    assert_eq!(
        by_id[id(5).as_str()].manager,
        ManagerRef::NotInSnapshot { source_id: id(11) }
    );
    assert!(!by_id.contains_key(id(11).as_str()));
    // The generated company covers rehires, terminations and multi-value custom fields.
    assert!(
        snapshot
            .members
            .iter()
            .any(|m| m.original_start_date.is_some()),
        "a rehire"
    );
    assert!(
        snapshot
            .members
            .iter()
            .any(|m| m.end_date.is_some() && m.active == Some(false))
    );
    assert!(snapshot.members.iter().any(|m| {
        m.fields
            .iter()
            .any(|(k, v)| k.starts_with("custom:") && v.contains("; "))
    }));

    // The company and its custom-field definitions.
    let company = source.company().await.unwrap();
    let profile = handle.company();
    assert_eq!(company.id, profile["id"].as_str().unwrap());
    assert_eq!(
        Some(company.name.as_str()),
        profile["display_name"].as_str()
    );
    assert!(!company.custom_fields.is_empty());
    assert!(
        company
            .custom_fields
            .iter()
            .all(|f| f.key.starts_with("custom:") && !f.label.is_empty() && f.sample.is_none())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_fetch_returns_only_changed_members_and_resolves_outside_managers() {
    let sandbox = common::sandbox(250, Faults::default()).await;
    let handle = sandbox.handle();
    let listed = listed_members(&handle);
    let id = |i: usize| listed[i]["id"].as_str().unwrap().to_owned();
    let source = all_scopes_source(&sandbox);
    let full = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(full.members.len(), 250);

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = jiff::Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    handle
        .patch_member(&id(20), &serde_json::json!({"job_title": "Chief Tester"}))
        .unwrap();
    handle.set_manager(&id(21), Some(&id(0))).unwrap();
    handle.set_manager(&id(22), Some(&id(30))).unwrap();
    handle.set_work_email(&id(30), None).unwrap();
    handle.set_manager(&id(23), Some(&id(40))).unwrap();
    let hired = handle
        .hire(
            serde_json::json!({"name": {"given_name": "New", "family_name": "Hire"},
            "emails": [{"address": "new.hire@acme.example", "type": "work"}]}),
        )
        .unwrap();
    // Changed after `since` too, but hidden: its reports cannot resolve it.
    handle.hide(&id(40)).unwrap();

    let partial = source.fetch(common::updated_since(since)).await.unwrap();
    assert!(!partial.complete);
    let mut got: Vec<&str> = partial
        .members
        .iter()
        .map(|m| m.source_id.as_str())
        .collect();
    got.sort_unstable();
    let (i20, i21, i22, i23, i30, new) = (
        id(20),
        id(21),
        id(22),
        id(23),
        id(30),
        hired["id"].as_str().unwrap().to_owned(),
    );
    let mut want = vec![
        i20.as_str(),
        i21.as_str(),
        i22.as_str(),
        i23.as_str(),
        i30.as_str(),
        new.as_str(),
    ];
    want.sort_unstable();
    assert_eq!(got, want);
    let by_id: HashMap<&str, &SourceMember> = partial
        .members
        .iter()
        .map(|m| (m.source_id.as_str(), m))
        .collect();
    assert_eq!(
        by_id[i20.as_str()].fields.get(fields::JOB_TITLE),
        Some("Chief Tester")
    );
    let manager0 = email(&listed[0], "work").expect("member 0 has a work email");
    assert_eq!(
        by_id[i21.as_str()].manager,
        ManagerRef::Resolved {
            source_id: id(0),
            email: manager0
        }
    );
    assert_eq!(
        by_id[i22.as_str()].manager,
        ManagerRef::NoWorkEmail { source_id: id(30) }
    );
    assert_eq!(
        by_id[i23.as_str()].manager,
        ManagerRef::NotInSnapshot { source_id: id(40) }
    );
    // One list page, plus a lookup per manager outside the partial snapshot.
    let outside: HashSet<String> = partial
        .members
        .iter()
        .filter_map(|m| match &m.manager {
            ManagerRef::Resolved { source_id, .. }
            | ManagerRef::NoWorkEmail { source_id }
            | ManagerRef::NotInSnapshot { source_id } => Some(source_id.clone()),
            _ => None,
        })
        .filter(|sid| !by_id.contains_key(sid.as_str()))
        .collect();
    assert_eq!(partial.requests, 1 + outside.len() as u64);
    assert!(
        partial.diagnostics.is_empty(),
        "no scope inference on partial fetches: {:?}",
        partial.diagnostics
    );

    // Managers Roster knows are not asked of the source: with all but member 0
    // known (as the full fetch read them), one lookup is left. Member 40, hidden
    // since, resolves from what Roster knows (a full sync finds it missing).
    let known: HashMap<String, Option<String>> = full
        .members
        .iter()
        .filter(|m| outside.contains(&m.source_id) && m.source_id != id(0))
        .map(|m| (m.source_id.clone(), m.work_email.clone()))
        .collect();
    assert!(known.len() >= 2 && known.contains_key(&id(40)));
    let again = source
        .fetch(common::updated_since_knowing(
            since,
            std::sync::Arc::new(Known::new(known.clone())),
        ))
        .await
        .unwrap();
    assert_eq!(again.requests, 2, "the list page and member 0");
    let mut want = partial.members.clone();
    for m in want.iter_mut().filter(|m| m.source_id == i23) {
        m.manager = ManagerRef::Resolved {
            source_id: id(40),
            email: known[&id(40)].clone().unwrap(),
        };
    }
    assert_eq!(again.members, want, "resolved alike but for the hidden one");
}

#[tokio::test(flavor = "multi_thread")]
async fn managers_unknown_to_roster_are_asked_of_the_source_once_over_many_pages() {
    let sandbox = common::sandbox(250, Faults::default()).await;
    let handle = sandbox.handle();
    let listed = listed_members(&handle);
    let id = |i: usize| listed[i]["id"].as_str().unwrap().to_owned();
    // Three members a page: the ten changed members come on four pages.
    let source = common::static_source(&sandbox, &common::all_scopes(), |c| c.page_limit = 3);
    let full = source.fetch(FetchRequest::default()).await.unwrap();

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = jiff::Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Members 20–29 report to 100–109 (unchanged, outside the fetch), and member 29
    // to 21, fetched with them.
    for k in 0..9 {
        handle.set_manager(&id(20 + k), Some(&id(100 + k))).unwrap();
    }
    handle.set_manager(&id(29), Some(&id(21))).unwrap();
    // Roster knows 100–104; 105–108 only the source can tell about.
    let known: HashMap<String, Option<String>> = full
        .members
        .iter()
        .filter(|m| (100..105).any(|i| m.source_id == id(i)))
        .map(|m| (m.source_id.clone(), m.work_email.clone()))
        .collect();
    assert_eq!(known.len(), 5);
    let directory = std::sync::Arc::new(Known::new(known));
    let partial = source
        .fetch(common::updated_since_knowing(since, directory.clone()))
        .await
        .unwrap();
    assert_eq!(partial.members.len(), 10);
    let work_email = |i: usize| {
        full.members
            .iter()
            .find(|m| m.source_id == id(i))
            .and_then(|m| m.work_email.clone())
            .expect("a work email")
    };
    for m in &partial.members {
        let k = (20..30)
            .find(|&i| m.source_id == id(i))
            .expect("a changed member");
        let manager = if k == 29 { 21 } else { 100 + k - 20 };
        assert_eq!(
            m.manager,
            ManagerRef::Resolved {
                source_id: id(manager),
                email: work_email(manager)
            },
            "member {k}"
        );
    }
    // Four list pages and one request for each of the four managers Roster does not
    // know; member 21 (fetched) is neither asked of Roster nor of the source.
    assert_eq!(partial.requests, 4 + 4);
    let asked: Vec<String> = directory.1.lock().unwrap().concat();
    assert!(!asked.contains(&id(21)), "{asked:?}");
    assert_eq!(asked.len(), 9, "each manager outside asked once: {asked:?}");
}

/// What Roster knows of members, from a map, recording the batches it was asked.
struct Known(
    HashMap<String, Option<String>>,
    std::sync::Mutex<Vec<Vec<String>>>,
);

impl Known {
    fn new(emails: HashMap<String, Option<String>>) -> Self {
        Known(emails, Default::default())
    }
}

#[async_trait::async_trait]
impl roster_source::KnownMembers for Known {
    async fn work_emails(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Option<String>>, SourceError> {
        self.1.lock().unwrap().push(ids.to_vec());
        Ok(ids
            .iter()
            .filter_map(|id| Some((id.clone(), self.0.get(id)?.clone())))
            .collect())
    }
}

fn oauth_tokens(sandbox: &roster_sandbox::RunningSandbox, scopes: &[&str]) -> TokenSet {
    let minted = sandbox.handle().mint_token(scopes).unwrap();
    let mut tokens = TokenSet::access_only(minted.access_token);
    tokens.scopes = Some(minted.scope.split(' ').map(str::to_owned).collect());
    tokens.expires_at = Some(minted.expires_at);
    tokens
}

#[tokio::test(flavor = "multi_thread")]
async fn withheld_scopes_become_diagnostics() {
    let sandbox = common::sandbox(120, Faults::default()).await;
    let no_dob = [
        "member.detail:read",
        "member.sex:read",
        "member.employment:read",
        "company.detail:read",
    ];

    // Scopes known (OAuth): named from the token.
    let source = JustworksSource::new(
        common::config(&common::base_url(&sandbox)),
        Credentials::OAuth(oauth_tokens(&sandbox, &no_dob)),
    )
    .unwrap();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.members.len(), 120);
    assert!(snapshot.members.iter().all(|m| m.date_of_birth.is_none()));
    assert!(
        snapshot
            .members
            .iter()
            .any(|m| m.fields.contains_key(fields::SEX))
    );
    let codes: Vec<(&str, &str)> = snapshot
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(
        codes,
        [(
            "scope_missing.member.dob:read",
            "date of birth not shared: scope member.dob:read was not granted"
        )]
    );

    // Scopes unknown (static token): no guess from the data (#11.14).
    let source = common::static_source(&sandbox, &no_dob, |_| {});
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert!(
        snapshot
            .diagnostics
            .iter()
            .all(|d| !d.code.starts_with("scope_missing.")),
        "{:?}",
        snapshot.diagnostics
    );

    // Basic scope only: no personal email, phones, addresses, dob, sex, employment.
    let source = common::static_source(&sandbox, &["member.basic:read"], |_| {});
    let snapshot = source.fetch(common::with_custom_fields()).await.unwrap();
    assert!(
        snapshot
            .members
            .iter()
            .all(|m| m.personal_email.is_none() && m.phone.is_none())
    );
    assert!(snapshot.members.iter().any(|m| m.work_email.is_some()));
    let mut codes: Vec<&str> = snapshot
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    // The scopes of a static token are unknown: only what the API answered (the
    // custom-field values' 403) names a scope, nothing is guessed from absent data.
    assert_eq!(codes, ["scope_missing.member.detail:read"]);
    // The custom-field 403 is a diagnostic, and stops after the first answer.
    assert!(
        snapshot
            .diagnostics
            .iter()
            .any(|d| d.message.contains("403"))
    );
    assert!(
        snapshot.requests < 2 + 1 + 8 + 1,
        "custom-field requests stop at the first 403: {}",
        snapshot.requests
    );
    assert!(
        snapshot
            .members
            .iter()
            .all(|m| !m.fields.keys().any(|k| k.starts_with("custom:")))
    );

    // The same with known scopes skips the custom-field requests altogether.
    let source = JustworksSource::new(
        common::config(&common::base_url(&sandbox)),
        Credentials::OAuth(oauth_tokens(&sandbox, &["member.basic:read"])),
    )
    .unwrap();
    let snapshot = source.fetch(common::with_custom_fields()).await.unwrap();
    assert_eq!(snapshot.requests, 2);

    // Without member.basic:read the list itself is forbidden.
    let source = common::static_source(&sandbox, &["company.detail:read"], |_| {});
    let err = source.fetch(FetchRequest::default()).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Forbidden(ref m) if m.contains("member.basic:read")),
        "{err}"
    );
    // … and the company still reads, custom-field definitions included.
    assert!(!source.company().await.unwrap().custom_fields.is_empty());
    // Without company.detail:read the definitions are left out, not an error.
    let source = common::static_source(&sandbox, &["company.basic:read"], |_| {});
    assert!(source.company().await.unwrap().custom_fields.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn split_by_status_lists_active_and_terminated_once_each() {
    let sandbox = common::sandbox(200, Faults::default()).await;
    let source = common::static_source(&sandbox, &common::all_scopes(), |c| {
        c.split_by_status = true
    });
    let split = source.fetch(FetchRequest::default()).await.unwrap();
    let source = all_scopes_source(&sandbox);
    let whole = source.fetch(FetchRequest::default()).await.unwrap();
    let a: HashSet<&str> = split.members.iter().map(|m| m.source_id.as_str()).collect();
    let b: HashSet<&str> = whole.members.iter().map(|m| m.source_id.as_str()).collect();
    assert_eq!(a, b);
    assert_eq!(split.members.len(), whole.members.len());
    assert!(split.diagnostics.is_empty());
}

/// How many members a fetch expects only sizes what holds them: too few, about
/// right, too many or absurdly many, the snapshot is the one without the hint.
#[tokio::test(flavor = "multi_thread")]
async fn the_expected_member_count_changes_nothing_fetched() {
    let sandbox = common::sandbox(230, Faults::default()).await;
    let source = common::static_source(&sandbox, &common::all_scopes(), |c| c.page_limit = 50);
    let plain = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(plain.members.len(), 230);
    for expected in [0, 7, 230, 5_000, usize::MAX] {
        let hinted = source
            .fetch(FetchRequest {
                expected_members: Some(expected),
                ..FetchRequest::default()
            })
            .await
            .unwrap();
        assert_eq!(hinted.members, plain.members, "expecting {expected}");
        assert_eq!(hinted.requests, plain.requests, "expecting {expected}");
    }
}

/// A survey (the setup sync's read) visits every member once, as a full fetch reads
/// them but without custom-field values, with one request per page and none per
/// member; a member's custom-field values are one request, as the fetch maps them;
/// without the scope they are not shared (no request).
#[tokio::test(flavor = "multi_thread")]
async fn a_survey_visits_each_member_once_and_custom_values_come_one_by_one() {
    let sandbox = common::sandbox(250, Faults::default()).await;
    let source = all_scopes_source(&sandbox);
    let full = source.fetch(common::with_custom_fields()).await.unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<SourceMember>::new()));
    let into = seen.clone();
    let survey = source
        .survey(Box::new(move |m| into.lock().unwrap().push(m)), None)
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(survey.members, 250);
    assert_eq!(survey.requests, 3, "one request per page of 100");
    assert!(survey.diagnostics.is_empty(), "{:?}", survey.diagnostics);
    let plain = |m: &SourceMember| {
        let mut m = m.clone();
        m.manager = ManagerRef::None;
        m.position = 0;
        m.fields
            .retain(|k, _| !k.starts_with(fields::CUSTOM_PREFIX));
        m
    };
    let want: Vec<SourceMember> = full.members.iter().map(plain).collect();
    let got: Vec<SourceMember> = seen.iter().map(plain).collect();
    assert_eq!(got, want, "each member once, in source order, mapped alike");

    let with_values = full
        .members
        .iter()
        .find(|m| {
            m.fields
                .keys()
                .any(|k| k.starts_with(fields::CUSTOM_PREFIX))
        })
        .expect("some member has custom-field values");
    let values = source
        .custom_values(&with_values.source_id)
        .await
        .unwrap()
        .expect("shared");
    let want: BTreeMap<String, String> = with_values
        .fields
        .iter()
        .filter(|(k, _)| k.starts_with(fields::CUSTOM_PREFIX))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(values, want);

    let basic = common::static_source(&sandbox, &["member.basic:read"], |_| {});
    assert_eq!(
        basic.custom_values(&with_values.source_id).await.unwrap(),
        None
    );
}

/// Issue #15: an incremental fetch asks Roster about the managers of each page
/// while the next pages are read, not after the last one; what it learns stands
/// only for managers outside the fetched members (one among them resolves from
/// the fetch, whatever Roster said), and no manager Roster knows is asked of the
/// source.
#[tokio::test(flavor = "multi_thread")]
async fn an_incremental_fetch_looks_managers_up_page_by_page() {
    let sandbox = common::sandbox_with(roster_sandbox::SandboxConfig {
        members: 250,
        faults: Faults {
            latency: std::time::Duration::from_millis(20),
            ..Faults::default()
        },
        ..roster_sandbox::SandboxConfig::default()
    })
    .await;
    let handle = sandbox.handle();
    let listed = listed_members(&handle);
    let id = |i: usize| listed[i]["id"].as_str().unwrap().to_owned();
    let source = common::static_source(&sandbox, &common::all_scopes(), |c| c.page_limit = 10);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = jiff::Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Members 100–119 report to unchanged members 200–219 (outside the fetch);
    // 120–139 to the next of them (inside it), 139 to 100.
    for i in 100..120 {
        handle.set_manager(&id(i), Some(&id(i + 100))).unwrap();
    }
    for i in 120..140 {
        let manager = if i == 139 { id(100) } else { id(i + 1) };
        handle.set_manager(&id(i), Some(&manager)).unwrap();
    }

    let plain = source.fetch(common::updated_since(since)).await.unwrap();
    assert_eq!(plain.members.len(), 40);
    // What Roster says of every manager named, in and outside the fetch: an email
    // of its own (`known.ID@roster.example`).
    let said = (100..140)
        .chain(200..220)
        .map(|i| (id(i), Some(format!("known.{}@roster.example", id(i)))))
        .collect();
    let known = std::sync::Arc::new(Known::new(said));
    let partial = source
        .fetch(common::updated_since_knowing(since, known.clone()))
        .await
        .unwrap();
    assert_eq!(
        plain.requests - partial.requests,
        20,
        "the 20 managers outside the fetch were asked of Roster, not of the source"
    );
    let emails: HashMap<&str, Option<&str>> = partial
        .members
        .iter()
        .map(|m| (m.source_id.as_str(), m.work_email.as_deref()))
        .collect();
    for m in &partial.members {
        let ManagerRef::Resolved { source_id, email } = &m.manager else {
            panic!("{}: {:?}", m.source_id, m.manager);
        };
        match emails.get(source_id.as_str()) {
            Some(fetched) => assert_eq!(Some(email.as_str()), *fetched, "{}", m.source_id),
            None => assert_eq!(email, &format!("known.{source_id}@roster.example")),
        }
    }
    let batches = known.1.lock().unwrap().clone();
    assert!(
        batches.len() >= 2,
        "asked page by page (4 pages 20 ms apart), not once: {batches:?}"
    );
    let asked: HashSet<&String> = batches.iter().flatten().collect();
    assert_eq!(
        asked.len(),
        batches.iter().map(Vec::len).sum::<usize>(),
        "each id once"
    );
    for i in 200..220 {
        assert!(asked.contains(&id(i)), "manager {i} asked");
    }
}
