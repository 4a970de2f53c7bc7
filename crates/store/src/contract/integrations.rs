//! The contract of integrations: every field round-trips; deleting one keeps the
//! directory and the imports.

use std::collections::BTreeSet;

use roster_core::member::SourceField;
use roster_core::settings::{FieldKind, MappedField, Settings};
use serde_json::json;

use super::fixtures::*;
use crate::{ImportKind, IntegrationKind, IntegrationState, NewIntegration, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_integrations {
    ($($how:tt)*) => {
        $crate::__contract_section! { integrations [
            integration_round_trips_every_field,
            delete_integration_keeps_imports_and_directory,
        ] $($how)* }
    };
}

/// Create, read, save and list keep every field, settings and credential bytes included.
pub async fn integration_round_trips_every_field(store: &dyn Store) {
    let a = account(store, "acme").await;
    let mut settings = Settings::default();
    for (k, v) in [
        ("on_missing", "deactivate"),
        ("timezone", "America/New_York"),
        ("redact_fields", "date_of_birth,phone"),
        (
            "do_not_import",
            "member_type = contractor; department != Sales",
        ),
        ("mass_deactivation_percent", "12.5"),
        ("generated_id_prefix", "EMP-"),
    ] {
        settings.set(k, v).expect("valid setting");
    }
    settings.mapping.push(MappedField {
        source_key: "custom.cost_center".into(),
        demographic: "Kostenstelle (Zürich)".into(),
        kind: FieldKind::Hidden,
        privacy: None,
    });
    let new = NewIntegration {
        account_id: a,
        kind: IntegrationKind::Justworks,
        name: "Justworks — ACME ✓".into(),
        config: json!({"base_url": "https://api.example/v1", "scopes": ["a", "b"], "nested": {"x": 1.5, "y": null}}),
        credentials: Some((0u8..=255).chain([0, 0, 255]).collect()),
        settings: settings.clone(),
    };
    let created = store
        .create_integration(new.clone())
        .await
        .expect("create_integration");
    assert!(created.id > 0, "integration ids are positive");
    assert_eq!(created.account_id, a);
    assert_eq!(created.kind, new.kind);
    assert_eq!(created.name, new.name);
    assert_eq!(created.config, new.config);
    assert_eq!(
        created.credentials, new.credentials,
        "credential bytes changed"
    );
    assert_eq!(created.settings, settings, "settings changed");
    assert_eq!(
        created.state,
        IntegrationState::Connected,
        "a new integration is connected"
    );
    assert!(created.source_fields.is_empty());
    assert_eq!(
        (created.company_name.as_deref(), created.member_count),
        (None, None)
    );
    assert_eq!((created.last_fetch_at, created.last_sync_at), (None, None));
    assert_eq!(
        store.integration(a, created.id).await.unwrap(),
        Some(created.clone()),
        "read back differs"
    );

    let mut changed = created.clone();
    changed.name = "Renamed ☃".into();
    changed.state = IntegrationState::NeedsFinalise;
    changed.settings.set("privacy_guard", "false").unwrap();
    changed.settings.set("hold_mode", "hold_records").unwrap();
    changed.settings.exclude_fields =
        BTreeSet::from(["phone".to_string(), "demographic:Office".to_string()]);
    changed.config = json!({"client_id": "abc", "list": [1, 2, 3]});
    changed.credentials = Some(vec![9, 8, 7, 0, 0xfe]);
    changed.source_fields = vec![
        SourceField {
            key: "department.name".into(),
            label: "Department".into(),
            sample: Some("Ingénierie".into()),
        },
        SourceField {
            key: "custom.x".into(),
            label: "X".into(),
            sample: None,
        },
    ];
    changed.company_name = Some("Acme, Inc. ™".into());
    changed.member_count = Some(1234);
    changed.last_fetch_at = Some(at(1));
    changed.last_sync_at = Some(at(2));
    store
        .save_integration(&changed)
        .await
        .expect("save_integration");
    assert_eq!(
        store.integration(a, created.id).await.unwrap(),
        Some(changed.clone()),
        "saved fields differ"
    );

    changed.credentials = None;
    changed.company_name = None;
    changed.member_count = None;
    changed.last_fetch_at = None;
    store
        .save_integration(&changed)
        .await
        .expect("save_integration");
    assert_eq!(
        store.integration(a, created.id).await.unwrap(),
        Some(changed.clone()),
        "cleared fields differ"
    );

    let mut csv = new_integration(a, IntegrationKind::Csv);
    csv.credentials = None;
    csv.config = json!({});
    let csv = store
        .create_integration(csv)
        .await
        .expect("create_integration");
    assert_ne!(csv.id, changed.id);
    assert_eq!(
        store.integrations(a).await.unwrap(),
        vec![changed, csv.clone()],
        "integrations() in creation order"
    );

    let mut ghost = csv.clone();
    ghost.id = csv.id + 1000;
    assert!(
        is_not_found(&store.save_integration(&ghost).await),
        "saving an unknown integration"
    );
    assert_eq!(store.integration(a, ghost.id).await.unwrap(), None);
}

/// Deleting an integration removes it and its lock; the directory and imports stay.
pub async fn delete_integration_keeps_imports_and_directory(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let other = store
        .create_integration(new_integration(a, IntegrationKind::Csv))
        .await
        .unwrap();
    let mut cs = changeset(
        ImportKind::Sync,
        at(0),
        vec![create_entry(full_employee("E1", "ada@acme.example"))],
    );
    cs.integration_id = Some(int.id);
    let imp = write(store, a, cs).await;
    let dir = directory(store, a).await;
    store
        .lock_sync(a, int.id, "worker", from_now(3600))
        .await
        .unwrap();

    assert!(
        store.delete_integration(a, int.id).await.unwrap(),
        "delete_integration of an existing one"
    );
    assert_eq!(
        store.integration(a, int.id).await.unwrap(),
        None,
        "deleted integration still readable"
    );
    assert_eq!(
        store.integrations(a).await.unwrap(),
        vec![other],
        "the other integration went too"
    );
    assert_eq!(
        directory(store, a).await,
        dir,
        "deleting an integration changed the directory"
    );
    let imports = store.imports(a, 10).await.unwrap();
    assert_eq!(
        imports.len(),
        1,
        "deleting an integration removed its imports"
    );
    assert_eq!(imports[0].id, imp);
    assert_eq!(
        imports[0].integration_id,
        Some(int.id),
        "the import lost its integration id"
    );
    let record = store.import(a, imp).await.unwrap().expect("import kept");
    assert_eq!(record.entries.len(), 1);
    assert_eq!(
        store.employee_history(a, dir[0].key).await.unwrap().len(),
        1,
        "history lost"
    );
    assert!(
        !store.delete_integration(a, int.id).await.unwrap(),
        "deleting twice reports a deletion"
    );
    assert!(
        is_not_found(&store.lock_sync(a, int.id, "worker-2", from_now(60)).await),
        "a deleted integration can still be locked"
    );
}
