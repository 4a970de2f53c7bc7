//! The start most CLI tests share: a generated Justworks sandbox on a loopback port,
//! connected to a directory (and synced, for the tests that begin with data).

use std::ffi::{OsStr, OsString};

use jiff::civil::Date;
use roster_sandbox::{RunningSandbox, SandboxConfig};

use super::{DAY1, Run, blocking, ok, roster};

/// A sandbox company of `members` generated from `seed`, its today [`DAY1`].
pub async fn start_sandbox(seed: u64, members: usize) -> RunningSandbox {
    start_sandbox_on(seed, members, DAY1).await
}

/// [`start_sandbox`] with another today.
pub async fn start_sandbox_on(seed: u64, members: usize, today: Date) -> RunningSandbox {
    let config = SandboxConfig {
        seed,
        members,
        today,
        ..Default::default()
    };
    roster_sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// A token of every scope for `sandbox`.
pub fn token(sandbox: &RunningSandbox) -> String {
    sandbox.mint_token(&roster_sandbox::all_scopes())
}

/// `roster connect justworks --base-url BASE --token TOKEN` on `db`, which must
/// succeed. Blocking: call it off the runtime that serves the sandbox.
pub fn connect_to(db: impl AsRef<OsStr>, base: &str, token: &str) -> Run {
    ok(roster(
        db,
        DAY1,
        &["connect", "justworks", "--base-url", base, "--token", token],
    ))
}

/// A sandbox company (`seed`, `members`) connected to the directory `db`, and the
/// output of `roster connect`.
pub async fn sandbox(seed: u64, members: usize, db: impl AsRef<OsStr>) -> (RunningSandbox, Run) {
    let sandbox = start_sandbox(seed, members).await;
    let (base, token) = (sandbox.base_url(), token(&sandbox));
    let db: OsString = db.as_ref().to_owned();
    let connect = blocking(move || connect_to(&db, &base, &token)).await;
    (sandbox, connect)
}

/// [`sandbox`], then the setup sync and a first applied sync: a directory with
/// the whole company in it.
pub async fn synced(seed: u64, members: usize, db: impl AsRef<OsStr>) -> RunningSandbox {
    let db: OsString = db.as_ref().to_owned();
    let (sandbox, _) = sandbox(seed, members, &db).await;
    blocking(move || {
        ok(roster(&db, DAY1, &["setup-sync"]));
        ok(roster(&db, DAY1, &["sync", "--apply", "--yes"]));
    })
    .await;
    sandbox
}

/// The sandbox ids of active members with a work email and a manager, not leaving.
pub fn plain_members(s: &RunningSandbox) -> Vec<String> {
    s.handle()
        .members(false)
        .into_iter()
        .map(|l| l.member)
        .filter(|m| {
            m["active"] == true
                && m.get("employment_termination_date").is_none()
                && m.get("manager").is_some()
                && m["emails"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["type"] == "work"))
        })
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}
