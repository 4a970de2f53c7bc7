//! Where an integration's base URL may point (issue #11.9), through the real binary:
//! cloud metadata never; a sandbox on loopback in a single-account SQLite directory
//! (the README's tour), but not once the directory is shared (several accounts)
//! unless the operator passes --allow-private-source-urls.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::company::{start_sandbox, token};
use common::{DAY1, ok, roster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_urls_follow_the_deployment_policy() {
    let sandbox = start_sandbox(2, 4).await;
    let token = token(&sandbox);
    let base = sandbox.base_url();
    common::blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roster.db");
        let connect = |url: &str, extra: &[&str]| {
            let mut args = vec!["connect", "justworks", "--base-url", url, "--token", &token];
            args.extend_from_slice(extra);
            roster(&db, DAY1, &args)
        };

        // The metadata address: refused before anything is stored or sent.
        let r = connect(
            "http://169.254.169.254/latest/",
            &["--allow-private-source-urls"],
        );
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("the source address is not allowed"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("cloud metadata"), "{}", r.stderr);
        assert!(
            !r.stderr.contains(token.as_str()),
            "the token is never printed"
        );

        // Single account: the local sandbox is fine, and syncs.
        ok(connect(&base, &[]));
        ok(roster(&db, DAY1, &["setup-sync"]));

        // A second account makes the directory shared: loopback is refused …
        ok(roster(
            &db,
            DAY1,
            &[
                "admin",
                "create-token",
                "--account",
                "acme",
                "--create-account",
                "--role",
                "viewer",
            ],
        ));
        let r = connect(&base, &["--account", "default", "--name", "again"]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("loopback"), "{}", r.stderr);
        assert!(
            r.stderr.contains("allow_private_source_urls"),
            "{}",
            r.stderr
        );
        // … also for the integration already stored, when it syncs.
        let r = roster(&db, DAY1, &["--account", "default", "setup-sync"]);
        assert_ne!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("not allowed"), "{}", r.stderr);
        // … unless the operator allows it.
        ok(roster(
            &db,
            DAY1,
            &[
                "--allow-private-source-urls",
                "--account",
                "default",
                "setup-sync",
            ],
        ));
        let mut c = common::command(&db);
        c.env("ROSTER_ALLOW_PRIVATE_SOURCE_URLS", "true")
            .arg("--today")
            .arg(DAY1.to_string())
            .args(["--account", "default", "setup-sync"]);
        ok(common::run(c));
    })
    .await;
}
