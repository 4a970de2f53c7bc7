//! The contract of the change feed: every applied write's events in its
//! transaction, cursors strictly increasing per account, events equal to what the
//! history gives, reads by cursor, type and employee, and the events to undo for a
//! past moment.

use std::collections::BTreeMap;

use roster_core::employee::{DeactivationReason, Employee};
use roster_core::feed::{self, Directory, EventType};
use roster_core::plan::{Action, Rule};

use super::fixtures::*;
use crate::jobs::{ChannelKind, NewChannel};
use crate::{
    EventQuery, FeedDone, FeedEvent, ImportKind, ImportStatus, NewFeedSubscription, Store,
    StoreError,
};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_feed {
    ($($how:tt)*) => {
        $crate::__contract_section! { feed [
            every_applied_write_has_its_events,
            events_are_read_by_cursor_type_and_employee,
            each_account_has_its_own_feed,
            events_since_undo_to_the_past,
            feed_subscriptions_are_leased_and_move_on_acceptance,
            a_create_reads_as_written_through_later_changes,
        ] $($how)* }
    };
}

async fn all_events(store: &dyn Store, account: i64) -> Vec<FeedEvent> {
    store
        .events(
            account,
            &EventQuery {
                limit: usize::MAX,
                ..EventQuery::default()
            },
        )
        .await
        .expect("events")
}

fn by_key(list: &[Employee]) -> Directory {
    list.iter().map(|e| (e.key, e.clone())).collect()
}

/// A small story: creates, an update with a future end date, a partial import with
/// a held entry, a blocked import, a deactivation and a merge.
async fn story(store: &dyn Store, a: i64) -> Vec<(i64, Directory)> {
    let mut after_each = Vec::new();
    let (_, dir) = seed(
        store,
        a,
        vec![
            full_employee("E1", "a@acme.example"),
            person("E2", "b@acme.example", "B", "Two"),
            person("E3", "c@acme.example", "C", "Three"),
        ],
    )
    .await;
    after_each.push((0, by_key(&dir)));
    let (e1, e2, e3) = (by_id(&dir, "E1"), by_id(&dir, "E2"), by_id(&dir, "E3"));
    let mut later = e2.clone();
    later.end_date = Some(jiff::civil::date(2099, 1, 31));
    later.first_name = Some("Bea".into());
    let mut held = change_entry(
        Action::Update,
        &e3,
        Employee {
            phone: Some("+1".into()),
            ..e3.clone()
        },
        Rule::Source,
    );
    (held.applied, held.held) = (false, true);
    let mut cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![
            change_entry(Action::Update, &e2, later, Rule::Source),
            create_entry(person("E4", "d@acme.example", "D", "Four")),
            held,
        ],
    );
    cs.status = ImportStatus::PartiallyApplied;
    write(store, a, cs).await;
    after_each.push((100, by_key(&directory(store, a).await)));
    // Blocked: nothing applied, no events.
    let mut blocked = changeset(ImportKind::Sync, at(150), vec![create_entry(minimal("E9"))]);
    blocked.status = ImportStatus::Blocked;
    blocked.entries[0].applied = false;
    write(store, a, blocked).await;
    let gone = Employee {
        active: false,
        deactivation_reason: Some(DeactivationReason::Missing),
        ..e3.clone()
    };
    write(
        store,
        a,
        changeset(
            ImportKind::Sync,
            at(200),
            vec![change_entry(Action::Deactivate, &e3, gone, Rule::OnMissing)],
        ),
    )
    .await;
    after_each.push((200, by_key(&directory(store, a).await)));
    let e4 = by_id(&directory(store, a).await, "E4");
    let merged_e4 = Employee {
        merged_into: Some(e1.key),
        active: false,
        deactivation_reason: Some(DeactivationReason::Merged),
        ..e4.clone()
    };
    write(
        store,
        a,
        changeset(
            ImportKind::Merge,
            at(300),
            vec![change_entry(Action::Update, &e4, merged_e4, Rule::Merge)],
        ),
    )
    .await;
    after_each.push((300, by_key(&directory(store, a).await)));
    after_each
}

/// Each applied write's events are in the feed, in cursor order 1, 2, 3 …; one
/// `import.applied` per applied import (none for a blocked one); the events equal
/// those the history gives; replaying them gives the directory.
pub async fn every_applied_write_has_its_events(store: &dyn Store) {
    let a = account(store, "acme").await;
    story(store, a).await;
    let events = all_events(store, a).await;
    let cursors: Vec<i64> = events.iter().map(|e| e.cursor).collect();
    assert_eq!(cursors, (1..=events.len() as i64).collect::<Vec<_>>());
    let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    use EventType::*;
    assert_eq!(
        types,
        [
            Created,
            DeactivationScheduled, // E1's end date 2030 is after the import's day
            Created,
            Created,
            ImportApplied,
            Updated,
            DeactivationScheduled,
            Created,
            ImportApplied,
            Deactivated,
            ImportApplied,
            Merged,
            ImportApplied,
        ]
    );
    let imports = store.imports(a, 100).await.unwrap();
    let applied: Vec<i64> = imports
        .iter()
        .rev()
        .filter(|i| i.status != ImportStatus::Blocked)
        .map(|i| i.id)
        .collect();
    let closing: Vec<i64> = events
        .iter()
        .filter(|e| e.event_type == ImportApplied)
        .map(|e| e.import_id)
        .collect();
    assert_eq!(closing, applied, "one import.applied per applied import");
    let e2 = &events[5];
    assert_eq!(e2.employee_id.as_deref(), Some("E2"));
    assert_eq!(e2.import_kind, ImportKind::Sync);
    assert_eq!(e2.at, at(100));
    let fields: Vec<&str> = e2.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["first_name", "end_date"]);
    assert_eq!(
        store.events_from_history(a).await.unwrap(),
        events,
        "the stored events are what the history gives"
    );
    let replayed = feed::replay(&events).expect("the feed replays");
    assert_eq!(replayed, by_key(&directory(store, a).await));
}

/// `after` and `limit` page through the feed; `types` and `employee` filter it.
pub async fn events_are_read_by_cursor_type_and_employee(store: &dyn Store) {
    let a = account(store, "acme").await;
    story(store, a).await;
    let all = all_events(store, a).await;
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let q = EventQuery {
            after,
            limit: 4,
            ..EventQuery::default()
        };
        let page = store.events(a, &q).await.unwrap();
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        after = last.cursor;
        paged.extend(page);
    }
    assert_eq!(paged, all, "pages of 4 give the whole feed");
    let q = EventQuery {
        limit: 100,
        types: vec![EventType::Created, EventType::Merged],
        ..EventQuery::default()
    };
    let picked: Vec<(EventType, Option<String>)> = store
        .events(a, &q)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_type, e.employee_id))
        .collect();
    let want: Vec<(EventType, Option<String>)> = all
        .iter()
        .filter(|e| matches!(e.event_type, EventType::Created | EventType::Merged))
        .map(|e| (e.event_type, e.employee_id.clone()))
        .collect();
    assert_eq!(picked, want);
    assert_eq!(picked.len(), 5);
    let e2 = by_id(&directory(store, a).await, "E2");
    let q = EventQuery {
        limit: 100,
        employee: Some(e2.key),
        ..EventQuery::default()
    };
    let mine = store.events(a, &q).await.unwrap();
    let types: Vec<EventType> = mine.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::Created,
            EventType::Updated,
            EventType::DeactivationScheduled
        ]
    );
    assert!(mine.iter().all(|e| e.employee_key == Some(e2.key)));
}

/// Cursors count per account from 1; an account never sees another's events.
pub async fn each_account_has_its_own_feed(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    seed(store, a, vec![minimal("A1"), minimal("A2")]).await;
    seed(store, b, vec![minimal("B1")]).await;
    seed(store, a, vec![minimal("A3")]).await;
    let ea = all_events(store, a).await;
    let eb = all_events(store, b).await;
    let ca: Vec<i64> = ea.iter().map(|e| e.cursor).collect();
    let cb: Vec<i64> = eb.iter().map(|e| e.cursor).collect();
    assert_eq!(ca, [1, 2, 3, 4, 5]);
    assert_eq!(cb, [1, 2]);
    let ids: Vec<Option<&str>> = eb.iter().map(|e| e.employee_id.as_deref()).collect();
    assert_eq!(ids, [Some("B1"), None]);
    assert!(
        all_events(store, account(store, "initech").await)
            .await
            .is_empty()
    );
}

/// Undoing `events_since(t)` on today's directory gives the directory as it stood
/// at `t`; nothing to undo after the last import.
pub async fn events_since_undo_to_the_past(store: &dyn Store) {
    let a = account(store, "acme").await;
    let after_each = story(store, a).await;
    let now = by_key(&directory(store, a).await);
    let mut seen = BTreeMap::new();
    for (secs, want) in &after_each {
        for t in [at(*secs), at(*secs + 10)] {
            let later = store.events_since(a, t).await.unwrap();
            let mut past = now.clone();
            feed::rewind(&mut past, &later).expect("rewind");
            assert_eq!(&past, want, "as of {t}");
            seen.insert(*secs, later.len());
        }
    }
    assert_eq!(seen.get(&300), Some(&0));
    let mut before_all = now.clone();
    let every = store.events_since(a, at(-10)).await.unwrap();
    assert_eq!(every, all_events(store, a).await);
    feed::rewind(&mut before_all, &every).unwrap();
    assert!(before_all.is_empty());
}

/// The feed of `a` is what its history gives, and replays to its directory.
async fn feed_agrees(store: &dyn Store, a: i64) -> Vec<FeedEvent> {
    let events = all_events(store, a).await;
    assert_eq!(store.events_from_history(a).await.unwrap(), events);
    let replayed = feed::replay(&events).expect("the feed replays");
    assert_eq!(replayed, by_key(&directory(store, a).await));
    events
}

/// The changes of `key`'s `employee.created` event.
fn created_of(events: &[FeedEvent], key: i64) -> Vec<feed::FieldDelta> {
    let mut created = events
        .iter()
        .filter(|e| e.event_type == EventType::Created && e.employee_key == Some(key));
    let event = created.next().expect("a created event");
    assert!(created.next().is_none(), "one created event per employee");
    event.changes.clone()
}

/// A create's event (kept on its import entry, migration 0013) reads as the create
/// wrote the employee, whatever changed since: later updates, a rollback of the
/// import that created it, an erasure (then anonymised, as the history reads);
/// its cursor keeps its place among the other events of its import and the next.
pub async fn a_create_reads_as_written_through_later_changes(store: &dyn Store) {
    use EventType::*;
    let a = account(store, "acme").await;
    let (_, dir) = seed(
        store,
        a,
        vec![
            full_employee("E1", "a@acme.example"),
            person("E2", "b@acme.example", "B", "Two"),
        ],
    )
    .await;
    let (e1, e2) = (by_id(&dir, "E1"), by_id(&dir, "E2"));
    let mut renamed = e1.clone();
    renamed.last_name = Some("Later".into());
    renamed.phone = None;
    renamed.demographics.insert("Office", "Paris");
    let bea = Employee {
        first_name: Some("Bea".into()),
        ..e2.clone()
    };
    let cs = changeset(
        ImportKind::Sync,
        at(100),
        vec![
            change_entry(Action::Update, &e1, renamed.clone(), Rule::Source),
            create_entry(person("E3", "c@acme.example", "C", "Three")),
            change_entry(Action::Update, &e2, bea.clone(), Rule::Source),
        ],
    );
    let second = write(store, a, cs).await;
    let e3 = by_id(&directory(store, a).await, "E3");
    let events = feed_agrees(store, a).await;
    let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            Created,
            DeactivationScheduled,
            Created,
            ImportApplied,
            Updated,
            Created,
            Updated,
            ImportApplied
        ]
    );
    let cursors: Vec<i64> = events.iter().map(|e| e.cursor).collect();
    assert_eq!(cursors, (1..=8).collect::<Vec<_>>());
    assert_eq!(created_of(&events, e1.key), feed::FieldDelta::created(&e1));
    assert_eq!(created_of(&events, e3.key), feed::FieldDelta::created(&e3));
    assert_eq!(events[5].employee_id.as_deref(), Some("E3"));
    let page = store
        .events(
            a,
            &crate::EventQuery {
                after: 4,
                limit: 2,
                ..crate::EventQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page, events[4..6], "a page ends on a kept create");

    // Roll the second import back: E3 deactivated, E1 and E2 as they were.
    let gone = Employee {
        active: false,
        deactivation_reason: Some(DeactivationReason::RolledBack),
        ..e3.clone()
    };
    let mut undo = changeset(
        ImportKind::Rollback,
        at(200),
        vec![
            change_entry(Action::Update, &renamed, e1.clone(), Rule::Rollback),
            change_entry(Action::Update, &e3, gone, Rule::Rollback),
            change_entry(Action::Update, &bea, e2.clone(), Rule::Rollback),
        ],
    );
    undo.rolls_back = Some(second);
    write(store, a, undo).await;
    seed(store, a, vec![minimal("E4")]).await;
    let events = feed_agrees(store, a).await;
    assert_eq!(events.len(), 8 + 4 + 2);
    assert_eq!(created_of(&events, e3.key), feed::FieldDelta::created(&e3));
    let e4 = by_id(&directory(store, a).await, "E4");
    assert_eq!(
        events[12].employee_key,
        Some(e4.key),
        "after the rollback's"
    );

    // Erase E1: its create reads anonymised, as the history does.
    store
        .anonymise(a, &super::erasure::erase_request(e1.key))
        .await
        .unwrap();
    let events = feed_agrees(store, a).await;
    let created = format!("{:?}", created_of(&events, e1.key));
    for erased in [
        "Zoë",
        "Ångström",
        "Zo 🚀",
        "0100",
        "e1@home.example",
        "1990-12-10",
    ] {
        assert!(!created.contains(erased), "{erased} in {created}");
    }
    assert!(
        created.contains("2018-01-02"),
        "the start date stays: {created}"
    );
}

/// A subscription starts after the account's last event; one worker at a time
/// holds it; a batch in flight stays recorded through a retry (with its back-off);
/// accepting it moves the cursor; another account's channel cannot be subscribed;
/// deleting the channel deletes the subscription.
pub async fn feed_subscriptions_are_leased_and_move_on_acceptance(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    seed(store, a, vec![minimal("A1"), minimal("A2")]).await;
    let new_channel = |account| NewChannel {
        account_id: account,
        kind: ChannelKind::Webhook,
        target: "https://hooks.example/feed".into(),
        secret: Some(vec![1, 2, 3]),
        events: vec!["employee.*".into()],
        at: at(0),
    };
    let ch = store.add_channel(new_channel(a)).await.unwrap();
    let other = store.add_channel(new_channel(b)).await.unwrap();
    let sub = |channel_id| NewFeedSubscription {
        channel_id,
        types: vec![EventType::Created, EventType::Updated],
        fields: vec!["first_name".into()],
        batch_size: 50,
    };
    let s = store.subscribe_feed(a, sub(ch.id)).await.unwrap();
    assert_eq!(
        (s.cursor, s.pending_until, s.attempts),
        (3, None, 0),
        "after the last event"
    );
    assert_eq!(s.types, [EventType::Created, EventType::Updated]);
    assert_eq!(
        (s.fields.as_slice(), s.batch_size),
        (&["first_name".to_string()][..], 50)
    );
    let err = store.subscribe_feed(a, sub(other.id)).await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
    assert!(store.feed_subscriptions(b).await.unwrap().is_empty());

    let lease = at(60);
    let got = store.claim_feed("w1", at(0), lease, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(
        store
            .claim_feed("w2", at(1), at(61), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    assert!(
        !store
            .start_feed_batch(a, ch.id, "w2", 9, at(61))
            .await
            .unwrap()
    );
    assert!(
        store
            .start_feed_batch(a, ch.id, "w1", 9, at(90))
            .await
            .unwrap()
    );
    let retry = FeedDone::Retry {
        next_attempt_at: at(200),
        error: "HTTP 500".into(),
    };
    assert!(store.finish_feed(a, ch.id, "w1", retry).await.unwrap());
    let s = &store.feed_subscriptions(a).await.unwrap()[0];
    assert_eq!((s.cursor, s.pending_until, s.attempts), (3, Some(9), 1));
    assert_eq!(
        (s.next_attempt_at, s.last_error.as_deref()),
        (Some(at(200)), Some("HTTP 500"))
    );
    assert!(
        store
            .claim_feed("w2", at(100), at(160), 10)
            .await
            .unwrap()
            .is_empty(),
        "backing off"
    );
    let got = store.claim_feed("w2", at(200), at(260), 10).await.unwrap();
    assert_eq!(got[0].pending_until, Some(9), "the batch in flight is kept");
    assert!(
        !store
            .accept_feed_batch(a, ch.id, "w1", 9, at(201))
            .await
            .unwrap(),
        "not w1's"
    );
    assert!(
        store
            .accept_feed_batch(a, ch.id, "w2", 9, at(201))
            .await
            .unwrap()
    );
    let s = &store.feed_subscriptions(a).await.unwrap()[0];
    assert_eq!((s.cursor, s.pending_until, s.attempts), (9, None, 0));
    assert_eq!(
        (s.delivered_at, s.last_error.as_deref()),
        (Some(at(201)), None)
    );
    assert!(
        store
            .claim_feed("w3", at(202), at(262), 10)
            .await
            .unwrap()
            .is_empty(),
        "still w2's"
    );
    assert!(
        store
            .finish_feed(a, ch.id, "w2", FeedDone::Idle)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .claim_feed("w3", at(202), at(262), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.delete_channel(a, ch.id).await.unwrap());
    assert!(store.feed_subscriptions(a).await.unwrap().is_empty());
}
