//! The sync lock as an admin meets it (issue #11.4): a killed `sync --apply` or
//! `import --apply` on this machine does not block the next run; a lock held from
//! another host is refused with a hint that names the real wait and `roster
//! unlock`, which shows the holder, asks, and records the release in the history.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::time::Duration;

use common::company::sandbox;
use common::{DAY1, blocking, command, ok, roster};
use roster_sandbox::Faults;
use serde_json::Value;

async fn connected() -> (roster_sandbox::RunningSandbox, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db").to_string_lossy().into_owned();
    let (sandbox, _) = sandbox(3, 40, &db).await;
    (sandbox, dir, db)
}

fn imports(db: &str) -> Vec<Value> {
    serde_json::from_str(&ok(roster(db, DAY1, &["--json", "imports"])).stdout).unwrap()
}

/// SIGKILL a `sync --apply` while it waits on a slow source (holding the lock): the
/// next `sync --apply` on this machine takes the dead process's lock over at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_on_this_host_does_not_block_the_next() {
    let (sandbox, _dir, db) = connected().await;
    sandbox
        .handle()
        .set_faults(Faults {
            latency: Duration::from_secs(30),
            ..Faults::default()
        })
        .unwrap();
    let db2 = db.clone();
    let killed_at = blocking(move || {
        let mut child = command(&db2)
            .args(["--today", &DAY1.to_string(), "sync", "--apply", "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // It takes the lock before it fetches; the fetch waits 30 s per request.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(child.try_wait().unwrap().is_none(), "still fetching");
        child.kill().unwrap(); // SIGKILL: nothing releases the lock
        child.wait().unwrap();
        std::time::Instant::now()
    })
    .await;
    sandbox.handle().set_faults(Faults::default()).unwrap();
    let db2 = db.clone();
    let r = blocking(move || roster(&db2, DAY1, &["sync", "--apply", "--yes"])).await;
    assert_eq!(
        r.code, 0,
        "the dead holder's lock is taken over, not waited for:\n{}",
        r.stderr
    );
    assert!(
        killed_at.elapsed() < Duration::from_secs(60),
        "taken over well within the lease"
    );
    let list = blocking(move || imports(&db)).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["status"], "applied");
    sandbox.shutdown().await.unwrap();
}

/// A lock held by a process on another host: `sync --apply` exits 5 with a hint
/// naming the wait and `roster unlock`; `unlock` without a terminal or `--yes` is a
/// usage error; `unlock --yes` releases it, records it, and the sync then runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_from_another_host_is_released_by_unlock() {
    let (sandbox, _dir, db) = connected().await;
    // Another host's live-looking lock, planted as its roster would write it.
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{db}"))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO sync_locks (integration_id, account_id, holder, until, generation) \
             VALUES (1, (SELECT account_id FROM integrations WHERE id = 1), \
             'build-7.example:4242:1234:abc', '2999-01-01T00:00:00.000000000Z', 3)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let db2 = db.clone();
    let (refused, no_tty, released, after) = blocking(move || {
        let refused = roster(&db2, DAY1, &["sync", "--apply", "--yes"]);
        let mut c = command(&db2);
        c.args(["--today", &DAY1.to_string(), "unlock", "1"])
            .stdin(std::process::Stdio::null());
        let no_tty = common::run(c);
        let released = roster(&db2, DAY1, &["--json", "unlock", "1", "--yes"]);
        let after = roster(&db2, DAY1, &["sync", "--apply", "--yes"]);
        (refused, no_tty, released, after)
    })
    .await;
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("roster unlock") && refused.stderr.contains("2 minutes"),
        "the hint names the wait and the command: {}",
        refused.stderr
    );
    assert_eq!(
        no_tty.code, 2,
        "no terminal and no --yes: {}",
        no_tty.stderr
    );
    assert!(
        no_tty.stderr.contains("build-7.example") && no_tty.stderr.contains("4242"),
        "unlock shows the holder: {}",
        no_tty.stderr
    );
    assert_eq!(released.code, 0, "{}", released.stderr);
    let released: Value = serde_json::from_str(&released.stdout).unwrap();
    assert_eq!(released["released"], true);
    assert_eq!(
        after.code, 0,
        "the sync runs once released: {}",
        after.stderr
    );
    let list = blocking(move || imports(&db)).await;
    let kinds: Vec<&str> = list.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"unlock"),
        "the release is in the history: {kinds:?}"
    );
    sandbox.shutdown().await.unwrap();
}
