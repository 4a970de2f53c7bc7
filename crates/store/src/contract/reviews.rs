//! The [`AccessStore`](crate::AccessStore) contract's list of reviews waiting for a
//! decision: pending only, newest first, without payloads, per account.

use serde_json::json;

use super::fixtures::{account, at};
use crate::access::{NewReview, ReviewStatus, StoredReview};
use crate::{AccountId, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_reviews {
    ($($how:tt)*) => {
        $crate::__contract_section! { reviews [
            reviews_pending_newest_first,
        ] $($how)* }
    };
}

async fn review(
    store: &dyn Store,
    account: AccountId,
    integration: i64,
    secs: i64,
) -> StoredReview {
    let r = store
        .create_review(NewReview {
            account_id: account,
            integration_id: integration,
            created_at: at(secs),
            payload: json!({ "plan": [integration, secs] }),
        })
        .await
        .expect("create_review");
    StoredReview {
        payload: serde_json::Value::Null,
        ..r
    }
}

/// Pending reviews are listed newest first (a tie by the later id), at most the
/// limit, without payloads; applied, discarded and reserved ones are not, a released
/// one is again; another account's are not.
pub async fn reviews_pending_newest_first(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    assert_eq!(store.pending_reviews(a, 10).await.expect("empty"), vec![]);
    let oldest = review(store, a, 1, 0).await;
    let newer = review(store, a, 2, 20).await;
    let middle = review(store, a, 1, 10).await;
    let tie = review(store, a, 3, 20).await;
    let applied = review(store, a, 1, 30).await;
    let discarded = review(store, a, 2, 31).await;
    let reserved = review(store, a, 1, 40).await;
    let other = review(store, b, 9, 50).await;
    for (r, status) in [
        (&applied, ReviewStatus::Applied),
        (&discarded, ReviewStatus::Discarded),
    ] {
        assert!(
            store
                .close_review(a, r.id, status, None, at(60))
                .await
                .expect("close_review")
        );
    }
    assert!(
        store
            .reserve_review(a, reserved.id, "h", at(61))
            .await
            .expect("reserve_review")
    );
    let pending = store.pending_reviews(a, 10).await.expect("pending_reviews");
    assert_eq!(
        pending,
        vec![tie.clone(), newer.clone(), middle.clone(), oldest.clone()]
    );
    assert_eq!(
        store.pending_reviews(a, 2).await.expect("limited"),
        vec![tie.clone(), newer.clone()]
    );
    assert_eq!(
        store.pending_reviews(b, 10).await.expect("other account"),
        vec![other]
    );
    // Released by its holder, the reserved review waits again.
    assert!(
        store
            .finish_review(a, reserved.id, "h", ReviewStatus::Pending, None, at(62))
            .await
            .expect("finish_review")
    );
    assert_eq!(
        store.pending_reviews(a, 10).await.expect("released"),
        vec![reserved, tie, newer, middle, oldest]
    );
}
