//! What the `roster` process sets up for itself before any work.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

/// mimalloc asks the kernel for transparent huge pages, and zeroing fresh huge pages
/// cost a third of a 100k daily sync's CPU (issue #15): `roster` turns them off for
/// its own process at start. Read back from the kernel (`/proc/PID/status`) of a
/// running `roster serve`.
#[cfg(target_os = "linux")]
#[test]
fn roster_runs_without_transparent_huge_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut serve = common::command(dir.path().join("roster.db"));
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--no-worker"])
        .env_remove("ROSTER_LOG");
    let (mut child, _) = common::spawn_until(serve, |l| l.starts_with("roster serve: "));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    let status = status.expect("the process's status");
    let thp = status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .expect("the kernel reports THP_enabled (Linux 5.0 or later)");
    assert_eq!(
        thp.trim(),
        "0",
        "transparent huge pages are still on for roster"
    );
    // This test's own process is the control: the kernel leaves them on by default.
    let own = std::fs::read_to_string("/proc/self/status").expect("own status");
    assert!(own.contains("THP_enabled:\t1"), "{own}");
}
