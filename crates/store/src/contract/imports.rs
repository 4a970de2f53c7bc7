//! The contract of listing imports: newest first, summaries, counts and details read
//! back exactly.

use jiff::Timestamp;
use roster_core::guard::Trigger;
use roster_core::plan::Counts;
use serde_json::json;

use super::fixtures::*;
use crate::{ImportKind, ImportRecord, ImportStatus, ImportSummary, IntegrationKind, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_imports {
    ($($how:tt)*) => {
        $crate::__contract_section! { imports [
            imports_list_newest_first_with_counts,
            import_head_reads_summary_and_details_without_entries,
        ] $($how)* }
    };
}

/// Imports are listed newest first; summaries, counts and details read back exactly.
pub async fn imports_list_newest_first_with_counts(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let mut summaries = Vec::new();
    let mut records = Vec::new();
    let specs = [
        (
            ImportKind::Sync,
            Trigger::Automatic,
            ImportStatus::Applied,
            true,
        ),
        (
            ImportKind::CsvImport,
            Trigger::Manual,
            ImportStatus::Blocked,
            false,
        ),
        (
            ImportKind::Sync,
            Trigger::Automatic,
            ImportStatus::Failed,
            false,
        ),
        (
            ImportKind::Tick,
            Trigger::Automatic,
            ImportStatus::Applied,
            true,
        ),
    ];
    for (i, (kind, trigger, status, applied)) in specs.into_iter().enumerate() {
        let n = i as i64;
        let mut entry = create_entry(person(
            &format!("E{n}"),
            &format!("e{n}@acme.example"),
            "N",
            "Umber",
        ));
        entry.applied = applied;
        let mut cs = changeset(
            kind,
            at(100 * n),
            if status == ImportStatus::Failed {
                Vec::new()
            } else {
                vec![entry]
            },
        );
        cs.integration_id = (kind != ImportKind::CsvImport).then_some(int.id);
        cs.trigger = trigger;
        cs.status = status;
        cs.started_at = Timestamp::new(1_772_000_000 + 100 * n - 7, 1).unwrap();
        cs.counts = Counts {
            created: 1 + i,
            updated: 2 + i,
            deactivated: 3 + i,
            reactivated: 4 + i,
            unchanged: 5 + i,
            skipped: 6 + i,
            privacy: 7 + i,
            errors: 8 + i,
            warnings: 9 + i,
            erased_left: 10 + i,
        };
        cs.details = json!({
            "issues": [{"code": "missing_email", "message": "Zoë hat keine E-Mail", "position": n}],
            "file": format!("import-{n}.csv"),
            "nested": {"ok": true, "ratio": 0.25, "none": null},
        });
        let id = write(store, a, cs.clone()).await;
        let summary = ImportSummary {
            id,
            integration_id: cs.integration_id,
            kind,
            trigger: cs.trigger,
            status,
            started_at: cs.started_at,
            finished_at: cs.finished_at,
            counts: cs.counts.clone(),
        };
        let mut entries = cs.entries.clone();
        if applied {
            let e = by_id(&directory(store, a).await, &entries[0].employee_id);
            entries[0].key = Some(e.key);
            entries[0].after.key = e.key;
        }
        records.push(ImportRecord {
            summary: summary.clone(),
            details: cs.details.clone(),
            entries,
        });
        summaries.push(summary);
    }
    assert!(
        summaries.windows(2).all(|w| w[0].id < w[1].id),
        "import ids ascend"
    );
    summaries.reverse();
    assert_eq!(
        store.imports(a, 10).await.unwrap(),
        summaries,
        "imports() newest first"
    );
    assert_eq!(
        store.imports(a, 2).await.unwrap(),
        summaries[..2],
        "imports() limit"
    );
    assert!(store.imports(a, 0).await.unwrap().is_empty(), "imports(0)");
    for record in records {
        assert_eq!(
            store.import(a, record.summary.id).await.unwrap(),
            Some(record),
            "import() read back differs"
        );
    }
    assert_eq!(
        store.import(a, summaries[0].id + 1000).await.unwrap(),
        None,
        "import() of an unknown id"
    );
}

/// `import_head` reads an import's summary and details (not its entries); another
/// account's import or an unknown id is `None`.
pub async fn import_head_reads_summary_and_details_without_entries(store: &dyn Store) {
    let a = account(store, "acme").await;
    let other = account(store, "other").await;
    let mut cs = changeset(
        ImportKind::Sync,
        at(5),
        vec![create_entry(person(
            "E1",
            "e1@acme.example",
            "Ada",
            "Umber",
        ))],
    );
    cs.status = ImportStatus::Blocked;
    cs.details = json!({
        "mass_change": {"deactivations": 1, "active_before": 237},
        "extra": {"held": [5]},
    });
    let id = write(store, a, cs.clone()).await;
    let (summary, details) = store.import_head(a, id).await.unwrap().expect("the import");
    assert_eq!(summary, store.imports(a, 1).await.unwrap()[0]);
    assert_eq!(summary.status, ImportStatus::Blocked);
    assert_eq!(details, cs.details);
    assert_eq!(
        store.import_head(other, id).await.unwrap(),
        None,
        "another account's"
    );
    assert_eq!(
        store.import_head(a, id + 1000).await.unwrap(),
        None,
        "an unknown id"
    );
}
