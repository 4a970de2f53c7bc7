//! The contract of sync locks: exclusion, expiry and takeover, fencing by
//! generation.

use super::fixtures::*;
use crate::{Fence, ImportKind, IntegrationKind, Store, StoreError};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_locks {
    ($($how:tt)*) => {
        $crate::__contract_section! { locks [
            lock_sync_excludes_other_holders,
            expired_lock_is_taken_over,
            lock_generation_fences_writes,
        ] $($how)* }
    };
}

/// A live lock keeps other holders out; its holder may renew it; unlock frees it.
pub async fn lock_sync_excludes_other_holders(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let other = store
        .create_integration(new_integration(a, IntegrationKind::Csv))
        .await
        .unwrap();
    store
        .lock_sync(a, int.id, "worker-1", from_now(600))
        .await
        .expect("first lock");
    match store.lock_sync(a, int.id, "worker-2", from_now(600)).await {
        Err(StoreError::SyncRunning(id)) => {
            assert_eq!(id, int.id, "SyncRunning names the integration")
        }
        other => panic!("a second holder got {other:?}, not SyncRunning"),
    }
    store
        .lock_sync(a, int.id, "worker-1", from_now(1200))
        .await
        .expect("the holder renews its lock");
    store
        .lock_sync(a, other.id, "worker-2", from_now(600))
        .await
        .expect("locks are per integration");

    store
        .unlock_sync(a, int.id, "worker-2")
        .await
        .expect("unlock by a non-holder is a no-op");
    assert!(
        matches!(
            store.lock_sync(a, int.id, "worker-3", from_now(600)).await,
            Err(StoreError::SyncRunning(_))
        ),
        "a non-holder's unlock released the lock"
    );
    store
        .unlock_sync(a, int.id, "worker-1")
        .await
        .expect("unlock");
    store
        .lock_sync(a, int.id, "worker-3", from_now(600))
        .await
        .expect("lock after unlock");
    store.unlock_sync(a, int.id, "worker-3").await.unwrap();
    store
        .unlock_sync(a, int.id, "worker-3")
        .await
        .expect("unlocking twice is fine");
    assert!(
        is_not_found(
            &store
                .lock_sync(a, int.id + 1000, "worker-1", from_now(600))
                .await
        ),
        "locking an unknown integration"
    );
}

/// An expired lock is taken over by anyone.
pub async fn expired_lock_is_taken_over(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    store
        .lock_sync(a, int.id, "crashed", from_now(-1))
        .await
        .expect("lock");
    store
        .lock_sync(a, int.id, "worker-2", from_now(600))
        .await
        .expect("an expired lock is taken over");
    assert!(
        matches!(
            store.lock_sync(a, int.id, "crashed", from_now(600)).await,
            Err(StoreError::SyncRunning(_))
        ),
        "the old holder took back a lock taken over"
    );
    store.unlock_sync(a, int.id, "crashed").await.unwrap();
    assert!(
        matches!(
            store.lock_sync(a, int.id, "worker-3", from_now(600)).await,
            Err(StoreError::SyncRunning(_))
        ),
        "the old holder's unlock released the new holder's lock"
    );
}

/// Every take of a lock raises its generation (a renewal keeps it, a release keeps
/// the row so it never goes back); a fenced write commits only while the lock is
/// still the writer's, at its generation, and writes nothing otherwise; a renewal
/// and a break check the generation too.
pub async fn lock_generation_fences_writes(store: &dyn Store) {
    let a = account(store, "acme").await;
    let int = store
        .create_integration(new_integration(a, IntegrationKind::Justworks))
        .await
        .unwrap();
    let fence = |holder: &str, generation: i64| Fence {
        integration: int.id,
        holder: holder.into(),
        generation,
        job: None,
    };
    let cs = |id: &str| {
        let mut c = changeset(ImportKind::Sync, at(1), vec![create_entry(minimal(id))]);
        c.integration_id = Some(int.id);
        c
    };
    assert_eq!(
        store.sync_lock(a, int.id).await.unwrap(),
        None,
        "no lock yet"
    );
    let g1 = store
        .lock_sync(a, int.id, "w1", from_now(600))
        .await
        .unwrap();
    assert_eq!(
        store
            .lock_sync(a, int.id, "w1", from_now(900))
            .await
            .unwrap(),
        g1,
        "a renewal by the holder keeps the generation"
    );
    let info = store.sync_lock(a, int.id).await.unwrap().expect("held");
    assert_eq!((info.holder.as_str(), info.generation), ("w1", g1));
    assert!(
        store
            .renew_sync(a, int.id, "w1", g1, from_now(600))
            .await
            .unwrap()
    );
    store
        .write_fenced(a, cs("E1"), &fence("w1", g1))
        .await
        .expect("the holder's fenced write commits");

    // w1 stalls; its lock is broken (as after its lease ran out) and w2 takes it.
    assert!(
        !store
            .break_sync_lock(a, int.id, "w1", g1 + 7)
            .await
            .unwrap(),
        "a break of another generation does nothing"
    );
    assert!(store.break_sync_lock(a, int.id, "w1", g1).await.unwrap());
    assert_eq!(store.sync_lock(a, int.id).await.unwrap(), None, "released");
    let g2 = store
        .lock_sync(a, int.id, "w2", from_now(600))
        .await
        .unwrap();
    assert!(g2 > g1, "a take raises the generation ({g1} then {g2})");
    assert!(
        !store
            .renew_sync(a, int.id, "w1", g1, from_now(600))
            .await
            .unwrap(),
        "the old holder cannot renew a lock taken over"
    );
    match store.write_fenced(a, cs("E2"), &fence("w1", g1)).await {
        Err(StoreError::Fenced(_)) => {}
        other => panic!("the old holder's write got {other:?}, not Fenced"),
    }
    let dir = directory(store, a).await;
    assert_eq!(ids(&dir), ["E1"], "the fenced write wrote nothing");
    assert_eq!(
        store.imports(a, 10).await.unwrap().len(),
        1,
        "the fenced write recorded no import"
    );

    // Released and taken again by the same name: still a new generation, and the
    // old fence of that name does not hold.
    store.unlock_sync(a, int.id, "w2").await.unwrap();
    let g3 = store
        .lock_sync(a, int.id, "w2", from_now(600))
        .await
        .unwrap();
    assert!(g3 > g2, "taking a released lock raises the generation");
    assert!(matches!(
        store.write_fenced(a, cs("E3"), &fence("w2", g2)).await,
        Err(StoreError::Fenced(_))
    ));
    store
        .write_fenced(a, cs("E3"), &fence("w2", g3))
        .await
        .expect("the current fence holds");
    store.unlock_sync(a, int.id, "w2").await.unwrap();
}
