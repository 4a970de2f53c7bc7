//! Snapshots (insta) of the CLI's human output for a fixed-date company: the review a
//! sync prints, its apply, the import list and one user with history. The sandbox's
//! seed and `--today` are fixed; run-to-run values (paths, ports, durations, times) are
//! replaced by markers. A change here is a change to what an admin reads.
#![allow(clippy::disallowed_macros)]
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::*;

/// Replace what differs run to run: the sandbox URL, durations and clock times.
fn scrub(text: &str, base: &str) -> String {
    let text = text.replace(base, "[sandbox]");
    text.split_inclusive('\n')
        .map(|line| {
            let mut out = String::new();
            for word in line.split_inclusive(' ') {
                let w = word.trim_end();
                let is_duration = w
                    .strip_suffix("ms")
                    .or_else(|| w.strip_suffix('s'))
                    .is_some_and(|n| !n.is_empty() && n.parse::<f64>().is_ok());
                let is_time = w.trim_matches(|c| c == '(' || c == ')' || c == ',').len() >= 20
                    && w.trim_matches(|c| c == '(' || c == ')' || c == ',')
                        .parse::<jiff::Timestamp>()
                        .is_ok();
                if is_duration {
                    out.push_str(&word.replace(w, "[duration]"));
                } else if is_time {
                    out.push_str(&word.replace(w, "[time]"));
                } else {
                    out.push_str(word);
                }
            }
            out
        })
        .collect()
}

#[tokio::test]
async fn the_human_review_and_reports_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let (sandbox, connect) = company::sandbox(11, 12, &db).await;
    let base = sandbox.base_url();
    insta::assert_snapshot!("connect", scrub(&connect.stdout, &base));
    let db2 = db.clone();
    let plan_csv = dir.path().join("review.csv");
    let out = plan_csv.to_string_lossy().into_owned();
    let (review, applied, imports) = blocking(move || {
        let review = ok(roster(&db2, DAY1, &["sync", "--out", &out]));
        let applied = ok(roster(&db2, DAY1, &["sync", "--apply", "--yes"]));
        let imports = ok(roster(&db2, DAY1, &["imports"]));
        (review, applied, imports)
    })
    .await;
    let stdout = review
        .stdout
        .replace(&plan_csv.to_string_lossy().into_owned(), "[review.csv]");
    insta::assert_snapshot!("sync_review", scrub(&stdout, &base));
    // The review as CSV (`--out`): one row per field change.
    let csv = std::fs::read_to_string(&plan_csv).unwrap();
    insta::assert_snapshot!("sync_review_csv", csv);
    insta::assert_snapshot!("sync_apply", scrub(&applied.stdout, &base));
    insta::assert_snapshot!("imports", scrub(&imports.stdout, &base));
    let db2 = db.clone();
    let listed = blocking(move || users(&db2, DAY1)).await;
    let who = listed[0]["employee_id"].as_str().unwrap().to_owned();
    let db2 = db.clone();
    let shown = blocking(move || ok(roster(&db2, DAY1, &["users", "show", &who]))).await;
    insta::assert_snapshot!("user_show", scrub(&shown.stdout, &base));
}
