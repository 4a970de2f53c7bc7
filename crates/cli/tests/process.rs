//! What the `roster` process sets up for itself before any work.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

/// The file `/proc/PID/<file>` of a running `roster serve` (its command made by
/// `setup` from the usual one), read once it listens.
#[cfg(target_os = "linux")]
fn of_running_serve(file: &str, setup: impl FnOnce(&mut std::process::Command)) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut serve = common::command(dir.path().join("roster.db"));
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--no-worker"])
        .env_remove("ROSTER_LOG");
    setup(&mut serve);
    let (mut child, _) = common::spawn_until(serve, |l| l.starts_with("roster serve: "));
    let read = std::fs::read(format!("/proc/{}/{file}", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    read.expect("the process's /proc file")
}

/// mimalloc asks the kernel for transparent huge pages, and zeroing fresh huge pages
/// cost a third of a 100k daily sync's CPU (issue #15): `roster` turns them off for
/// its own process at start. Read back from the kernel (`/proc/PID/status`) of a
/// running `roster serve`.
#[cfg(target_os = "linux")]
#[test]
fn roster_runs_without_transparent_huge_pages() {
    let status = String::from_utf8(of_running_serve("status", |_| {})).expect("text");
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

/// mimalloc keeps freed memory a second before giving it back, which held ≈ 200 MiB
/// of freed pages at a 1M first import's peak (issue #15): `roster` runs with a purge
/// delay of 250 ms (it runs itself again with `MIMALLOC_PURGE_DELAY` when started
/// without it, as the same process), and a delay the caller gives is kept. Read back
/// from the kernel (`/proc/PID/environ`) of a running `roster serve`.
#[cfg(target_os = "linux")]
#[test]
fn roster_runs_with_a_short_allocator_purge_delay() {
    let environ = |given: Option<&str>| {
        let environ = of_running_serve("environ", |serve| {
            match given {
                Some(v) => serve.env("MIMALLOC_PURGE_DELAY", v),
                None => serve.env_remove("MIMALLOC_PURGE_DELAY"),
            };
        });
        environ
            .split(|b| *b == 0)
            .filter_map(|v| v.strip_prefix(b"MIMALLOC_PURGE_DELAY="))
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(environ(None), ["250"], "started without a purge delay");
    assert_eq!(environ(Some("40")), ["40"], "a given purge delay is kept");
}
