//! The contract of what spans the fleet or the store's life: closing, the key check
//! value, encrypted samples over every account.

use super::fixtures::*;
use crate::{ImportKind, IntegrationKind, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_fleet {
    ($($how:tt)*) => {
        $crate::__contract_section! { fleet [
            closing_ends_the_store,
            key_check_is_written_once,
            encrypted_samples_span_accounts,
        ] $($how)* }
    };
}

/// `close` succeeds on a store with data, again when repeated, and ends the store:
/// later calls fail rather than reopen.
pub async fn closing_ends_the_store(store: &dyn Store) {
    let a = store.ensure_account("acme").await.unwrap();
    store
        .write(
            a,
            changeset(ImportKind::Sync, at(0), vec![create_entry(minimal("C1"))]),
        )
        .await
        .unwrap();
    store.close().await.expect("close");
    store.close().await.expect("closing twice is harmless");
    assert!(
        store.directory(a).await.is_err(),
        "a closed store refuses calls"
    );
}

/// The key check value: absent at first, written once (the first writer wins, a
/// second value is not stored), the same for every account.
pub async fn key_check_is_written_once(store: &dyn Store) {
    assert_eq!(store.key_check().await.expect("key_check"), None);
    let first = store
        .init_key_check(&[1, 2, 3, 0, 0xff], at(0))
        .await
        .expect("init_key_check");
    assert_eq!(first, vec![1, 2, 3, 0, 0xff]);
    let second = store
        .init_key_check(&[9, 9], at(1))
        .await
        .expect("init_key_check again");
    assert_eq!(second, first, "the first value stays");
    assert_eq!(store.key_check().await.expect("key_check"), Some(first));
}

/// Encrypted secrets of every account are sampled (credentials first), and only
/// stored ones: an integration without credentials adds nothing.
pub async fn encrypted_samples_span_accounts(store: &dyn Store) {
    assert!(
        store
            .encrypted_samples(10)
            .await
            .expect("samples")
            .is_empty()
    );
    let a = account(store, "a").await;
    let b = account(store, "b").await;
    let mut bare = new_integration(a, IntegrationKind::Justworks);
    bare.credentials = None;
    store.create_integration(bare).await.expect("create");
    let mut with = new_integration(b, IntegrationKind::Justworks);
    with.credentials = Some(vec![7, 7, 7]);
    store.create_integration(with).await.expect("create");
    store
        .add_channel(crate::jobs::NewChannel {
            account_id: a,
            kind: crate::jobs::ChannelKind::Webhook,
            target: "https://hooks.example/x".into(),
            secret: Some(vec![5, 5]),
            events: Vec::new(),
            at: at(0),
        })
        .await
        .expect("add_channel");
    assert_eq!(
        store.encrypted_samples(10).await.expect("samples"),
        vec![vec![7, 7, 7], vec![5, 5]]
    );
    assert_eq!(
        store.encrypted_samples(1).await.expect("samples"),
        vec![vec![7, 7, 7]]
    );
}
