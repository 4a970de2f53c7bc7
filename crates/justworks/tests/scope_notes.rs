//! Scope notes on a sync (issue #11.14): a scope is named as missing only when the
//! granted scopes (the token response's `scope`, kept with the token) lack one the
//! connection asked for. Data that simply has no values says nothing, and neither
//! does a token whose scopes are unknown. Against the sandbox, which grants the
//! scopes it is told to.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use roster_justworks::{Credentials, DEFAULT_SCOPES, JustworksSource, OAuthClient, TokenSet};
use roster_source::{FetchRequest, Snapshot, Source};

/// A company of two whose members have no sex assigned at birth (nor birth dates).
const FIXTURE: &str = r#"{
  "company": { "id": "cmp_acme", "display_name": "Acme", "legal_name": "Acme Inc.",
    "created_at": "2020-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
    "addresses": [], "phones": [], "country_data": {}, "departments": [], "offices": [] },
  "members": [
    { "id": "mbr_a", "name": { "given_name": "A", "family_name": "Example" }, "active": true,
      "type": "employee", "emails": [ { "address": "a@acme.example", "type": "work" } ] },
    { "id": "mbr_b", "name": { "given_name": "B", "family_name": "Example" }, "active": true,
      "type": "employee", "emails": [ { "address": "b@acme.example", "type": "work" } ] }
  ]
}"#;

async fn sandbox_without_sex() -> (roster_sandbox::RunningSandbox, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("company.json");
    std::fs::write(&path, FIXTURE).unwrap();
    let sandbox = common::sandbox_with(roster_sandbox::SandboxConfig {
        fixture: Some(path),
        ..roster_sandbox::SandboxConfig::default()
    })
    .await;
    (sandbox, dir)
}

fn scope_codes(s: &Snapshot) -> Vec<&str> {
    s.diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .filter(|c| c.starts_with("scope_missing."))
        .collect()
}

fn oauth(sandbox: &roster_sandbox::RunningSandbox, scopes: &[&str]) -> Credentials {
    let minted = sandbox.handle().mint_token(scopes).unwrap();
    let mut tokens = TokenSet::access_only(minted.access_token);
    tokens.scopes = Some(minted.scope.split(' ').map(str::to_owned).collect());
    Credentials::OAuth(tokens)
}

#[tokio::test]
async fn granted_scopes_with_empty_data_say_nothing() {
    let (sandbox, _dir) = sandbox_without_sex().await;
    let all = common::all_scopes();
    // Every scope granted, the token's scopes known: nothing to say.
    let source = JustworksSource::new(
        common::config(&common::base_url(&sandbox)),
        oauth(&sandbox, &all),
    )
    .unwrap();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(snapshot.members.len(), 2);
    assert!(snapshot.members.iter().all(|m| m.date_of_birth.is_none()));
    assert_eq!(scope_codes(&snapshot), Vec::<&str>::new());

    // A static token (scopes unknown): no guessing from the data either.
    let source = common::static_source(&sandbox, &all, |_| {});
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    for d in &snapshot.diagnostics {
        assert!(!d.message.contains("may not be granted"), "{}", d.message);
    }
    assert_eq!(scope_codes(&snapshot), Vec::<&str>::new());
}

#[tokio::test]
async fn a_scope_asked_for_and_not_granted_is_named() {
    let (sandbox, _dir) = sandbox_without_sex().await;
    // The admin left the date-of-birth box unticked: asked for, not granted.
    let granted = [
        "member.detail:read",
        "member.employment:read",
        "company.detail:read",
    ];
    let source = JustworksSource::new(
        common::config(&common::base_url(&sandbox)),
        oauth(&sandbox, &granted),
    )
    .unwrap();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    // member.sex:read was not asked for (no mapping uses it by default): not named.
    assert_eq!(scope_codes(&snapshot), ["scope_missing.member.dob:read"]);
    assert_eq!(
        snapshot.diagnostics[0].message,
        "date of birth not shared: scope member.dob:read was not granted"
    );

    // A connection that asked for sex (a mapping uses it) hears about it.
    let mut config = common::config(&common::base_url(&sandbox));
    config.scopes.push("member.sex:read".into());
    let source = JustworksSource::new(config, oauth(&sandbox, &granted)).unwrap();
    let snapshot = source.fetch(FetchRequest::default()).await.unwrap();
    assert_eq!(
        scope_codes(&snapshot),
        [
            "scope_missing.member.dob:read",
            "scope_missing.member.sex:read"
        ]
    );
}

#[test]
fn connect_asks_for_sex_only_when_told() {
    assert!(
        !DEFAULT_SCOPES.contains(&"member.sex:read"),
        "{DEFAULT_SCOPES:?}"
    );
    assert!(DEFAULT_SCOPES.contains(&"member.dob:read"));
    let mut config = common::config(&"http://127.0.0.1:9/".parse().unwrap());
    config.client_id = "cid".into();
    let (url, _) = OAuthClient::new(&config)
        .unwrap()
        .authorize_url("state", true);
    let scope = url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(!scope.split(' ').any(|s| s == "member.sex:read"), "{scope}");
    config.scopes.push("member.sex:read".into());
    let (url, _) = OAuthClient::new(&config)
        .unwrap()
        .authorize_url("state", true);
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "scope" && v.contains("member.sex:read"))
    );
}
