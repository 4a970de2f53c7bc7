//! The [`AccessStore`](crate::AccessStore) contract: API tokens, web users, sessions,
//! sync reviews and OAuth states, and that no account sees another's.

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::fixtures::{account, at};
use crate::access::{
    NewApiToken, NewReview, NewSession, NewUser, ReviewStatus, Role, StoredReview,
};
use crate::{AccountId, Store, StoreError};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_access {
    ($($how:tt)*) => {
        $crate::__contract_section! { access [
            access_tokens_round_trip,
            access_users_and_sessions,
            access_reviews_close_once,
            access_reviews_reserved_once,
            access_oauth_state_taken_once,
            access_is_scoped_by_account,
        ] $($how)* }
    };
}

fn token(account: AccountId, name: &str, digest: &str) -> NewApiToken {
    NewApiToken {
        account_id: account,
        name: name.into(),
        role: Role::EmployeeDataAdmin,
        digest: digest.into(),
        created_at: at(0),
    }
}

fn user(account: AccountId, email: &str, role: Role) -> NewUser {
    NewUser {
        account_id: account,
        email: email.into(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        created_at: at(1),
    }
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

/// Tokens are found by digest (of any account), listed, touched and revoked per
/// account; a digest is unique.
pub async fn access_tokens_round_trip(store: &dyn Store) {
    let a = account(store, "acme").await;
    let t = store
        .create_api_token(token(a, "ci", "d1"))
        .await
        .expect("create_api_token");
    assert_eq!(
        (
            t.account_id,
            t.name.as_str(),
            t.role,
            t.created_at,
            t.last_used_at
        ),
        (a, "ci", Role::EmployeeDataAdmin, at(0), None)
    );
    let found = store
        .api_token_by_digest("d1")
        .await
        .expect("api_token_by_digest");
    assert_eq!(found.as_ref(), Some(&t), "token by digest");
    assert!(
        store
            .api_token_by_digest("nope")
            .await
            .expect("lookup")
            .is_none(),
        "an unknown digest found a token"
    );
    let dup = store.create_api_token(token(a, "again", "d1")).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(_))),
        "a duplicate digest must be a Conflict: {dup:?}"
    );
    store
        .touch_api_token(a, t.id, at(50))
        .await
        .expect("touch_api_token");
    let listed = store.api_tokens(a).await.expect("api_tokens");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(at(50)), "touch recorded");
    assert!(store.revoke_api_token(a, t.id).await.expect("revoke"));
    assert!(!store.revoke_api_token(a, t.id).await.expect("revoke twice"));
    assert!(
        store
            .api_token_by_digest("d1")
            .await
            .expect("lookup")
            .is_none()
    );
    let missing = store.create_api_token(token(a + 1000, "x", "d2")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "a token of an unknown account: {missing:?}"
    );
}

/// Users: unique email over every account (case-insensitive); sign-in lookup with the
/// hash; sessions expire and go with their user.
pub async fn access_users_and_sessions(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    let u = store
        .create_user(user(a, "Admin@Acme.example", Role::AccountAdmin))
        .await
        .expect("create_user");
    assert_eq!(
        (u.account_id, u.email.as_str(), u.role),
        (a, "Admin@Acme.example", Role::AccountAdmin)
    );
    let dup = store
        .create_user(user(a, "admin@acme.EXAMPLE", Role::Viewer))
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(_))),
        "an email is unique within its account, ignoring case: {dup:?}"
    );
    // Another account may have a user with the same email (it must not learn that
    // one exists elsewhere); sign-in lists both.
    let other = store
        .create_user(user(b, "admin@acme.EXAMPLE", Role::Viewer))
        .await
        .expect("the same email in another account");
    let both = store
        .users_by_email(" ADMIN@ACME.example ")
        .await
        .expect("users_by_email");
    assert_eq!(
        both.iter().map(|c| c.user.clone()).collect::<Vec<_>>(),
        vec![u.clone(), other.clone()]
    );
    assert!(store.delete_user(b, other.id).await.expect("delete"));
    let creds = store
        .user_by_email("ADMIN@acme.example")
        .await
        .expect("user_by_email")
        .expect("found ignoring case");
    assert_eq!(creds.user, u);
    assert!(creds.password_hash.starts_with("$argon2id$"));
    assert_eq!(store.users(a).await.expect("users"), vec![u.clone()]);

    store
        .create_session(NewSession {
            account_id: a,
            user_id: u.id,
            digest: "s1".into(),
            created_at: at(0),
            expires_at: at(100),
        })
        .await
        .expect("create_session");
    let s = store
        .session_by_digest("s1", at(99))
        .await
        .expect("session_by_digest")
        .expect("live session");
    assert_eq!((s.account_id, s.user.id, s.expires_at), (a, u.id, at(100)));
    assert!(
        store
            .session_by_digest("s1", at(100))
            .await
            .expect("lookup")
            .is_none(),
        "a session is dead at its expiry"
    );
    // A session for a user of another account is refused.
    let wrong = store
        .create_session(NewSession {
            account_id: b,
            user_id: u.id,
            digest: "s2".into(),
            created_at: at(0),
            expires_at: at(100),
        })
        .await;
    assert!(
        matches!(wrong, Err(StoreError::NotFound { .. })),
        "{wrong:?}"
    );
    store.delete_session("s1").await.expect("delete_session");
    assert!(
        store
            .session_by_digest("s1", at(1))
            .await
            .expect("lookup")
            .is_none()
    );

    store
        .create_session(NewSession {
            account_id: a,
            user_id: u.id,
            digest: "s3".into(),
            created_at: at(0),
            expires_at: at(100),
        })
        .await
        .expect("create_session");
    assert!(
        !store
            .delete_user(b, u.id)
            .await
            .expect("delete other account's user")
    );
    assert!(store.delete_user(a, u.id).await.expect("delete_user"));
    assert!(
        store
            .session_by_digest("s3", at(1))
            .await
            .expect("lookup")
            .is_none(),
        "sessions go with their user"
    );
    assert!(
        store
            .user_by_email("admin@acme.example")
            .await
            .expect("lookup")
            .is_none()
    );
}

/// A review is closed once; the payload round-trips.
pub async fn access_reviews_close_once(store: &dyn Store) {
    let a = account(store, "acme").await;
    let payload = json!({ "plan": { "entries": [1, 2, 3] }, "text": "Zoë 🚀" });
    let r = store
        .create_review(NewReview {
            account_id: a,
            integration_id: 7,
            created_at: at(0),
            payload: payload.clone(),
        })
        .await
        .expect("create_review");
    assert_eq!(
        (
            r.status,
            r.integration_id,
            &r.payload,
            r.closed_at,
            r.import_id
        ),
        (ReviewStatus::Pending, 7, &payload, None, None)
    );
    assert_eq!(
        store.review(a, r.id).await.expect("review"),
        Some(r.clone())
    );
    assert_eq!(
        store.review_head(a, r.id).await.expect("review_head"),
        Some(StoredReview {
            payload: serde_json::Value::Null,
            ..r.clone()
        })
    );
    assert!(
        store
            .close_review(a, r.id, ReviewStatus::Applied, Some(42), at(5))
            .await
            .expect("close_review")
    );
    assert!(
        !store
            .close_review(a, r.id, ReviewStatus::Discarded, None, at(6))
            .await
            .expect("close twice"),
        "a closed review cannot be closed again"
    );
    let closed = store.review(a, r.id).await.expect("review").expect("found");
    assert_eq!(
        (closed.status, closed.import_id, closed.closed_at),
        (ReviewStatus::Applied, Some(42), Some(at(5)))
    );
    let head = store
        .review_head(a, r.id)
        .await
        .expect("review_head")
        .expect("found");
    assert_eq!(
        (head.status, head.import_id, head.closed_at),
        (ReviewStatus::Applied, Some(42), Some(at(5)))
    );
    assert_eq!(
        store
            .review_head(a + 1000, r.id)
            .await
            .expect("other account"),
        None
    );
}

/// A pending review is reserved by one holder at a time; only the holder renews or
/// finishes it; a stale reservation is marked failed and its holder then loses it.
pub async fn access_reviews_reserved_once(store: &dyn Store) {
    let a = account(store, "acme").await;
    let new = || NewReview {
        account_id: a,
        integration_id: 7,
        created_at: at(0),
        payload: json!({ "plan": 1 }),
    };
    let r = store.create_review(new()).await.expect("create_review");
    one_holder_at_a_time(store, a, &r).await;
    let s = store.create_review(new()).await.expect("create_review");
    a_stale_reservation_fails(store, a, &s).await;

    // Another account reserves nothing.
    let t = store.create_review(new()).await.expect("create_review");
    assert!(
        !store
            .reserve_review(a + 1000, t.id, "h", at(1))
            .await
            .expect("reserve")
    );
    assert!(
        !store
            .fail_stale_review(a + 1000, t.id, at(99), at(99))
            .await
            .expect("stale")
    );
}

/// Reserved by one holder; only it renews, releases or finishes the review.
async fn one_holder_at_a_time(store: &dyn Store, a: AccountId, r: &StoredReview) {
    assert_eq!((r.reserved_by.as_deref(), r.reserved_at), (None, None));
    assert!(
        store
            .reserve_review(a, r.id, "h1", at(1))
            .await
            .expect("reserve"),
        "a pending review is reserved"
    );
    assert!(
        !store
            .reserve_review(a, r.id, "h2", at(2))
            .await
            .expect("reserve again"),
        "a reserved review is reserved twice"
    );
    assert!(
        !store
            .close_review(a, r.id, ReviewStatus::Discarded, Some(9), at(2))
            .await
            .expect("close"),
        "a reserved review was closed without its reservation"
    );
    let held = store.review(a, r.id).await.expect("review").expect("found");
    assert_eq!(
        (held.status, held.reserved_by.as_deref(), held.reserved_at),
        (ReviewStatus::Applying, Some("h1"), Some(at(1)))
    );
    assert_eq!(
        store
            .review_head(a, r.id)
            .await
            .expect("head")
            .map(|h| h.status),
        Some(ReviewStatus::Applying)
    );
    assert!(
        !store
            .renew_review(a, r.id, "h2", at(3))
            .await
            .expect("renew")
    );
    assert!(
        store
            .renew_review(a, r.id, "h1", at(4))
            .await
            .expect("renew")
    );
    assert!(
        !store
            .fail_stale_review(a, r.id, at(4), at(5))
            .await
            .expect("not stale"),
        "a reservation renewed at the limit is not stale"
    );
    assert!(
        !store
            .finish_review(a, r.id, "h2", ReviewStatus::Applied, Some(1), at(5))
            .await
            .expect("finish by another"),
        "another holder finished the review"
    );
    // Released: pending again, as before, and reservable.
    assert!(
        store
            .finish_review(a, r.id, "h1", ReviewStatus::Pending, Some(3), at(5))
            .await
            .expect("release")
    );
    let released = store.review(a, r.id).await.expect("review").expect("found");
    assert_eq!(&released, r, "a released review is as it was");
    assert!(
        store
            .reserve_review(a, r.id, "h2", at(6))
            .await
            .expect("reserve")
    );
    assert!(
        store
            .finish_review(a, r.id, "h2", ReviewStatus::Applied, Some(42), at(7))
            .await
            .expect("finish")
    );
    let done = store.review(a, r.id).await.expect("review").expect("found");
    assert_eq!(
        (
            done.status,
            done.import_id,
            done.closed_at,
            done.reserved_by.as_deref(),
            done.reserved_at
        ),
        (ReviewStatus::Applied, Some(42), Some(at(7)), None, None)
    );
    assert!(
        !store
            .finish_review(a, r.id, "h2", ReviewStatus::Failed, None, at(8))
            .await
            .expect("finish twice"),
        "a closed review was finished again"
    );
    assert!(
        !store
            .reserve_review(a, r.id, "h3", at(8))
            .await
            .expect("reserve closed")
    );
}

/// A stale reservation: failed, and its holder can neither renew nor finish.
async fn a_stale_reservation_fails(store: &dyn Store, a: AccountId, s: &StoredReview) {
    assert!(
        store
            .reserve_review(a, s.id, "dead", at(10))
            .await
            .expect("reserve")
    );
    assert!(
        store
            .fail_stale_review(a, s.id, at(11), at(20))
            .await
            .expect("stale")
    );
    assert!(
        !store
            .fail_stale_review(a, s.id, at(11), at(21))
            .await
            .expect("stale twice")
    );
    let failed = store.review(a, s.id).await.expect("review").expect("found");
    assert_eq!(
        (failed.status, failed.closed_at, failed.import_id),
        (ReviewStatus::Failed, Some(at(20)), None)
    );
    assert!(
        !store
            .renew_review(a, s.id, "dead", at(21))
            .await
            .expect("renew")
    );
    assert!(
        !store
            .finish_review(a, s.id, "dead", ReviewStatus::Applied, Some(5), at(21))
            .await
            .expect("finish")
    );
    assert!(
        store
            .finish_review(a, s.id, "dead", ReviewStatus::Applying, None, at(21))
            .await
            .is_err(),
        "applying is not an end of a reservation"
    );
}

/// An OAuth state is taken once and not after it expires.
pub async fn access_oauth_state_taken_once(store: &dyn Store) {
    let a = account(store, "acme").await;
    let now = Timestamp::now();
    store
        .save_oauth_state(a, "st1", vec![1, 2, 3], now + secs(600))
        .await
        .expect("save_oauth_state");
    store
        .save_oauth_state(a, "st2", vec![9], now - secs(1))
        .await
        .expect("save_oauth_state");
    assert_eq!(
        store.take_oauth_state("st1", now).await.expect("take"),
        Some((a, vec![1, 2, 3]))
    );
    assert_eq!(
        store
            .take_oauth_state("st1", now)
            .await
            .expect("take again"),
        None
    );
    assert_eq!(
        store
            .take_oauth_state("st2", now)
            .await
            .expect("take expired"),
        None,
        "an expired state is not taken"
    );
}

/// No account sees or changes another account's tokens, users or reviews.
pub async fn access_is_scoped_by_account(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    let t = store
        .create_api_token(token(a, "ci", "da"))
        .await
        .expect("create_api_token");
    let u = store
        .create_user(user(a, "a@acme.example", Role::Viewer))
        .await
        .expect("create_user");
    let r = store
        .create_review(NewReview {
            account_id: a,
            integration_id: 1,
            created_at: at(0),
            payload: json!({}),
        })
        .await
        .expect("create_review");
    assert!(store.api_tokens(b).await.expect("api_tokens").is_empty());
    assert!(store.users(b).await.expect("users").is_empty());
    assert_eq!(store.review(b, r.id).await.expect("review"), None);
    assert!(!store.revoke_api_token(b, t.id).await.expect("revoke"));
    assert!(!store.delete_user(b, u.id).await.expect("delete_user"));
    assert!(
        !store
            .close_review(b, r.id, ReviewStatus::Discarded, None, at(1))
            .await
            .expect("close_review"),
        "another account closed a review"
    );
    store
        .touch_api_token(b, t.id, at(9))
        .await
        .expect("touch_api_token");
    let still = store.api_tokens(a).await.expect("api_tokens");
    assert_eq!(still.len(), 1);
    assert_eq!(
        still[0].last_used_at, None,
        "another account touched a token"
    );
    assert_eq!(
        store
            .review(a, r.id)
            .await
            .expect("review")
            .map(|r| r.status),
        Some(ReviewStatus::Pending)
    );
}
