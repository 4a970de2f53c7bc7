//! Migrations with old-shaped data, on every backend (as lldap tests its schema
//! versions): an adapter's test walks the schema versions, at each one inserts the
//! rows that version's roster wrote ([`old_rows`], plain SQL in the columns of that
//! version), then migrates to the newest and checks through the [`Store`] that every
//! row survived and the columns added since hold their defaults
//! ([`old_rows_survive`]).
//!
//! Ids start at 100 and above, so that PostgreSQL's identity sequences (which the
//! literal ids do not advance) do not run into them when the store writes next.

use std::path::Path;

use jiff::Timestamp;
use roster_core::plan::Counts;
use roster_core::schedule::{Frequency, Schedule};
use roster_core::settings::Settings;
use sha2::{Digest, Sha256};

mod survives;

use crate::Store;
use crate::access::ReviewStatus;
use crate::selection::EmployeeFilter as F;
use crate::sql::Dialect;
use survives::{
    active_counts_match, feed_filled, history_chained, reports_survive, times_and_folds,
    v1_survives, v2_survives, v3_survives, v5_survives, writes_on,
};

pub(super) const ACME: i64 = 101;
pub(super) const GLOBEX: i64 = 102;
pub(super) const JUSTWORKS: i64 = 201;
pub(super) const CSV: i64 = 202;
/// The lease of the oldest lock ran out this long (seconds) before [`at`]'s epoch.
pub(super) const LONG_AGO: i64 = 1_000_000_000;

/// Text of a timestamp, as every version wrote it.
pub(super) fn t(secs: i64) -> String {
    crate::sql::codec::ts(at(secs))
}

pub(super) fn at(secs: i64) -> Timestamp {
    Timestamp::new(1_772_000_000 + secs, 0).expect("a timestamp")
}

/// A literal of bytes in the dialect's spelling.
fn bytes(d: Dialect, hex: &str) -> String {
    match d {
        Dialect::Sqlite => format!("X'{hex}'"),
        Dialect::Postgres => format!("decode('{hex}', 'hex')"),
    }
}

/// JSON text as an SQL string's content (quotes doubled).
fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("JSON").replace('\'', "''")
}

/// The statements filling a database at schema `version` with rows in that
/// version's columns (empty for a version that changed no table's columns).
pub fn old_rows(d: Dialect, version: i64) -> Vec<String> {
    match version {
        1 => v1(),
        2 => v2(d),
        3 => v3(),
        5 => v5(),
        6 => v6(d),
        7 => v7(),
        _ => Vec::new(),
    }
}

fn v1() -> Vec<String> {
    let counts = json(&Counts {
        created: 1,
        ..Counts::default()
    });
    let settings = json(&Settings::default());
    let changes = r#"[{"field":"first_name","old":"A","new":"Ada","rule":"source"}]"#;
    vec![
        format!(
            "INSERT INTO accounts (id, name, created_at) VALUES ({ACME}, 'acme', '{}')",
            t(0)
        ),
        format!(
            "INSERT INTO integrations (id, account_id, kind, name, state, settings, config, \
             credentials, source_fields, company_name, member_count, last_fetch_at, last_sync_at, \
             created_at) VALUES ({JUSTWORKS}, {ACME}, 'justworks', 'Justworks', 'active', \
             '{settings}', '{{\"base_url\":\"https://api.example\"}}', NULL, '[]', 'Acme Inc', 2, \
             '{}', '{}', '{}')",
            t(10),
            t(11),
            t(1)
        ),
        format!(
            "INSERT INTO employees (key, account_id, employee_id, source_id, email, email_lower, \
             search_text, secondary_email, first_name, last_name, preferred_name, date_of_birth, \
             start_date, latest_rehire_date, hire_date, end_date, manager_email, phone, \
             demographics, active, deactivation_reason, is_manager, excluded, email_edited, \
             merged_into, updated_at, last_import_id) VALUES \
             (301, {ACME}, 'E1', 'mbr_1', 'Ada@acme.example', 'ada@acme.example', \
             'e1\nada@acme.example\nada\nlovelace\n', NULL, 'Ada', 'Lovelace', NULL, '1990-12-10', \
             '2020-01-02', NULL, '2020-01-02', NULL, NULL, '+1 555', '{{\"Office\":\"Paris\"}}', \
             TRUE, NULL, TRUE, FALSE, FALSE, NULL, '{0}', 401), \
             (302, {ACME}, 'E2', NULL, NULL, NULL, 'e2\n', NULL, NULL, NULL, NULL, NULL, NULL, \
             NULL, NULL, '2026-01-31', 'ada@acme.example', NULL, '{{}}', FALSE, 'end_date', FALSE, \
             FALSE, FALSE, NULL, '{0}', 401)",
            t(10)
        ),
        format!(
            "INSERT INTO imports (id, account_id, integration_id, kind, trigger_kind, status, \
             started_at, finished_at, counts, details, rolls_back) VALUES \
             (401, {ACME}, {JUSTWORKS}, 'sync', 'manual', 'applied', '{}', '{}', '{counts}', '{{}}', NULL), \
             (402, {ACME}, NULL, 'manual', 'manual', 'applied', '{}', '{}', '{counts}', '{{}}', NULL)",
            t(9),
            t(10),
            t(19),
            t(20)
        ),
        format!(
            "INSERT INTO import_entries (account_id, import_id, seq, employee_key, employee_id, \
             action, applied, held, privacy, created, changes, after) VALUES \
             ({ACME}, 401, 0, 301, 'E1', 'create', TRUE, FALSE, FALSE, TRUE, NULL, NULL), \
             ({ACME}, 401, 1, 302, 'E2', 'create', TRUE, FALSE, FALSE, TRUE, NULL, NULL), \
             ({ACME}, 402, 0, 301, 'E1', 'update', TRUE, FALSE, FALSE, FALSE, '{changes}', NULL)"
        ),
        format!(
            "INSERT INTO outbox (id, account_id, import_id, event, payload, created_at, \
             delivered_at, attempts) VALUES \
             (501, {ACME}, 401, 'sync.applied', '{{\"n\":1}}', '{}', NULL, 0)",
            t(10)
        ),
        format!(
            "INSERT INTO sync_locks (integration_id, account_id, holder, until) \
             VALUES ({JUSTWORKS}, {ACME}, 'worker-1', '{}')",
            t(-LONG_AGO)
        ),
    ]
}

fn v2(d: Dialect) -> Vec<String> {
    vec![
        format!(
            "INSERT INTO api_tokens (id, account_id, name, role, digest, created_at, last_used_at) \
             VALUES (601, {ACME}, 'ci', 'viewer', 'digest-1', '{}', NULL)",
            t(30)
        ),
        format!(
            "INSERT INTO users (id, account_id, email, email_lower, role, password_hash, created_at) \
             VALUES (701, {ACME}, 'HR@acme.example', 'hr@acme.example', 'account_admin', 'hash', '{}')",
            t(31)
        ),
        format!(
            "INSERT INTO sessions (digest, account_id, user_id, created_at, expires_at) \
             VALUES ('session-1', {ACME}, 701, '{}', '2099-01-01T00:00:00.000000000Z')",
            t(32)
        ),
        format!(
            "INSERT INTO sync_reviews (id, account_id, integration_id, status, created_at, \
             closed_at, import_id, payload) VALUES \
             (801, {ACME}, {JUSTWORKS}, 'pending', '{}', NULL, NULL, '{{\"plan\":1}}')",
            t(33)
        ),
        format!(
            "INSERT INTO oauth_states (state_digest, account_id, payload, expires_at) \
             VALUES ('state-1', {ACME}, {}, '2099-01-01T00:00:00.000000000Z')",
            bytes(d, "00ff01")
        ),
    ]
}

pub(super) fn schedule() -> Schedule {
    Schedule {
        frequency: Frequency::Daily,
        at: jiff::civil::Time::constant(2, 30, 0, 0),
        timezone: "Europe/Paris".into(),
    }
}

fn v3() -> Vec<String> {
    let schedule = json(&schedule());
    vec![
        format!(
            "INSERT INTO jobs (id, account_id, integration_id, kind, schedule, enabled, paused, \
             next_run_at, lease_holder, lease_until, runs, last_run_at, last_status, \
             last_import_id, last_error, created_at, updated_at) VALUES \
             (901, {ACME}, {JUSTWORKS}, 'sync', '{schedule}', TRUE, FALSE, '{}', NULL, NULL, 3, \
             '{}', 'applied', 401, NULL, '{}', '{}')",
            t(1000),
            t(40),
            t(2),
            t(40)
        ),
        format!(
            "INSERT INTO notification_channels (id, account_id, kind, target, secret, events, \
             enabled, created_at) VALUES \
             (1001, {ACME}, 'webhook', 'https://hooks.example/x', NULL, '[]', TRUE, '{}')",
            t(41)
        ),
        format!(
            "INSERT INTO outbox (id, account_id, import_id, event, payload, created_at, \
             delivered_at, attempts, next_attempt_at, lease_holder, lease_until, last_error, \
             failed_at) VALUES (502, {ACME}, NULL, 'sync.failed', '{{\"n\":2}}', '{}', NULL, 1, \
             '{}', NULL, NULL, 'HTTP 500', NULL)",
            t(42),
            t(2000)
        ),
        format!(
            "INSERT INTO deliveries (outbox_id, channel_id, account_id, attempts, \
             last_attempt_at, delivered_at, last_error) \
             VALUES (502, 1001, {ACME}, 1, '{}', NULL, 'HTTP 500')",
            t(43)
        ),
    ]
}

fn v5() -> Vec<String> {
    let schedule = json(&schedule());
    vec![
        format!(
            "INSERT INTO integrations (id, account_id, kind, name, state, settings, config, \
             credentials, source_fields, company_name, member_count, last_fetch_at, last_sync_at, \
             created_at) VALUES ({CSV}, {ACME}, 'csv', 'CSV files', 'connected', '{{}}', '{{}}', \
             NULL, '[]', NULL, NULL, NULL, NULL, '{}')",
            t(50)
        ),
        format!(
            "INSERT INTO sync_locks (integration_id, account_id, holder, until, generation) \
             VALUES ({CSV}, {ACME}, 'worker-2', '{}', 3)",
            t(200)
        ),
        format!(
            "INSERT INTO jobs (id, account_id, integration_id, kind, schedule, enabled, paused, \
             next_run_at, lease_holder, lease_until, runs, last_run_at, last_status, \
             last_import_id, last_error, created_at, updated_at, postponed) VALUES \
             (902, {ACME}, NULL, 'tick', '{schedule}', TRUE, TRUE, NULL, NULL, NULL, 0, NULL, \
             NULL, NULL, NULL, '{}', '{}', 'another sync ran')",
            t(51),
            t(51)
        ),
    ]
}

fn v6(d: Dialect) -> Vec<String> {
    vec![
        format!(
            "INSERT INTO key_check (id, value, created_at) VALUES (1, {}, '{}')",
            bytes(d, "0102ff"),
            t(60)
        ),
        format!(
            "INSERT INTO accounts (id, name, created_at) VALUES ({GLOBEX}, 'globex', '{}')",
            t(61)
        ),
        format!(
            "INSERT INTO users (id, account_id, email, email_lower, role, password_hash, created_at) \
             VALUES (702, {GLOBEX}, 'hr@acme.example', 'hr@acme.example', 'viewer', 'hash2', '{}')",
            t(62)
        ),
    ]
}

fn v7() -> Vec<String> {
    vec![
        // Identifiers beyond ASCII, which migration 0008's SQL does not fold.
        format!(
            "INSERT INTO employees (key, account_id, employee_id, source_id, email, email_lower, \
             search_text, secondary_email, demographics, active, is_manager, excluded, \
             email_edited, updated_at) VALUES (303, {GLOBEX}, 'ÉVE-7', NULL, NULL, NULL, \
             'éve-7\n', ' Öz@Home.Example ', '{{}}', TRUE, FALSE, FALSE, FALSE, '{}')",
            t(72)
        ),
        format!(
            "INSERT INTO sync_reviews (id, account_id, integration_id, status, created_at, \
         closed_at, import_id, payload, reserved_by, reserved_at) VALUES \
         (802, {ACME}, {JUSTWORKS}, 'applying', '{}', NULL, NULL, '{{\"plan\":2}}', 'h1', '{}')",
            t(70),
            t(71)
        ),
        // Reports whose manager emails migration 0010 keys (ASCII) or leaves to the
        // store (non-ASCII); an inactive one is not counted.
        format!(
            "INSERT INTO employees (key, account_id, employee_id, source_id, email, email_lower, \
             search_text, demographics, manager_email, active, is_manager, excluded, \
             email_edited, updated_at) VALUES \
             (311, {GLOBEX}, 'G1', NULL, NULL, NULL, 'g1\n', '{{}}', ' Boss@Globex.Example ', \
             TRUE, FALSE, FALSE, FALSE, '{0}'), \
             (312, {GLOBEX}, 'G2', NULL, NULL, NULL, 'g2\n', '{{}}', 'Zoë@Globex.Example', \
             TRUE, FALSE, FALSE, FALSE, '{0}'), \
             (313, {GLOBEX}, 'G3', NULL, NULL, NULL, 'g3\n', '{{}}', 'boss@globex.example', \
             FALSE, FALSE, FALSE, FALSE, '{0}')",
            t(72)
        ),
    ]
}

/// After the rows of every version up to `upto` were inserted and the database was
/// migrated to the newest: each row reads back through the store, the columns added
/// since hold their defaults, and the store writes on.
pub async fn old_rows_survive(store: &dyn Store, upto: i64) {
    v1_survives(store).await;
    let e1 = F::EmployeeIds(vec!["e1".into()]);
    times_and_folds(store, ACME, &[(10, 10), (10, 10)], &[e1]).await;
    if upto >= 2 {
        v2_survives(store, upto).await;
    }
    if upto >= 3 {
        v3_survives(store).await;
    }
    if upto >= 5 {
        v5_survives(store).await;
    }
    if upto >= 6 {
        assert_eq!(
            store.key_check().await.expect("key_check"),
            Some(vec![1, 2, 0xff])
        );
        let users = store
            .users_by_email("hr@acme.example")
            .await
            .expect("users_by_email");
        let accounts: Vec<i64> = users.iter().map(|u| u.user.account_id).collect();
        assert_eq!(accounts, [ACME, GLOBEX], "one email in two accounts");
    }
    if upto >= 7 {
        let r = store.review(ACME, 802).await.unwrap().expect("review 802");
        assert_eq!(
            (r.status, r.reserved_by.as_deref(), r.reserved_at),
            (ReviewStatus::Applying, Some("h1"), Some(at(71)))
        );
        reports_survive(store).await;
    }
    if upto >= 7 {
        let f = [
            F::EmployeeIds(vec!["éve-7".into()]),
            F::SecondaryEmails(vec!["öz@home.example".into()]),
        ];
        // 303 (0008's folds) and 311–313 (0010's report keys), none in the history.
        times_and_folds(store, GLOBEX, &[(72, 72); 4], &f).await;
    }
    feed_filled(store).await;
    active_counts_match(store).await;
    writes_on(store).await;
    active_counts_match(store).await;
    history_chained(store).await;
}

/// Every file in `dir` is embedded (`embedded`: version, description, text), in
/// order, with the same text; and every released file still has its pinned SHA-256
/// (`released`: version, hex digest): a new file must be added to the list, and a
/// released one must not change.
pub fn embedded_migrations_match(
    dir: &Path,
    embedded: &[(i64, &str, &str)],
    released: &[(i64, &str)],
) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        embedded.len(),
        "migrations/ and MIGRATIONS differ in length"
    );
    for (path, &(version, description, sql)) in files.iter().zip(embedded) {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name");
        let (num, desc) = name.split_once('_').expect("NNNN_description.sql");
        assert_eq!(
            num.parse::<i64>().expect("numbered file"),
            version,
            "{name}"
        );
        assert_eq!(desc, description, "{name}");
        let text = std::fs::read_to_string(path).expect("read migration");
        assert_eq!(text, sql, "{name}");
        if let Some((_, pinned)) = released.iter().find(|(v, _)| *v == version) {
            assert_eq!(
                hex::encode(Sha256::digest(text.as_bytes())),
                *pinned,
                "{name} was released and must not change: add a migration instead"
            );
        }
    }
    assert!(
        embedded.windows(2).all(|w| w[0].0 < w[1].0),
        "versions ascend"
    );
    assert!(
        released
            .iter()
            .all(|(v, _)| embedded.iter().any(|m| m.0 == *v)),
        "a released migration is missing"
    );
}
