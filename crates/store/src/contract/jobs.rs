//! The [`JobStore`](crate::JobStore) contract: claiming due jobs with a lease, lease
//! expiry and renewal, completion, channels, outbox delivery state, and account
//! scoping of all of it.

use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use roster_core::schedule::{Frequency, Schedule};

use super::fixtures::{account, at, changeset, new_integration, notification, write};
use crate::jobs::{
    Channel, ChannelKind, DeliveryAttempt, JobDone, JobKind, JobUpsert, NewChannel, RoundDone,
};
use crate::{AccountId, ImportKind, IntegrationId, Store};

/// This section's tests, for [`store_contract_tests!`](crate::store_contract_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_jobs {
    ($($how:tt)*) => {
        $crate::__contract_section! { jobs [
            jobs_claim_lease_and_expiry,
            jobs_lease_is_renewed,
            jobs_paused_disabled_and_postponed,
            jobs_and_channels_are_scoped_by_account,
            outbox_delivery_state,
        ] $($how)* }
    };
}

fn daily() -> Schedule {
    Schedule {
        frequency: Frequency::Daily,
        at: Time::constant(2, 30, 0, 0),
        timezone: "Europe/Paris".into(),
    }
}

fn upsert(
    account: AccountId,
    integration: Option<IntegrationId>,
    kind: JobKind,
    next: Option<Timestamp>,
) -> JobUpsert {
    JobUpsert {
        account_id: account,
        integration_id: integration,
        kind,
        schedule: daily(),
        enabled: true,
        paused: false,
        next_run_at: next,
        at: at(0),
    }
}

fn done(t: Timestamp, next: Option<Timestamp>, status: &str) -> JobDone {
    JobDone {
        at: t,
        next_run_at: next,
        ran: true,
        status: status.into(),
        import_id: None,
        error: None,
    }
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

async fn integration(store: &dyn Store, a: AccountId) -> IntegrationId {
    store
        .create_integration(new_integration(a, crate::IntegrationKind::Justworks))
        .await
        .expect("create_integration")
        .id
}

/// A due job is leased to one worker; nobody else gets it while the lease lives; once
/// the lease runs out (a crashed worker) another worker claims it, and the first can
/// neither renew nor complete it any more.
pub async fn jobs_claim_lease_and_expiry(store: &dyn Store) {
    let a = account(store, "acme").await;
    let i = integration(store, a).await;
    let job = store
        .upsert_job(upsert(a, Some(i), JobKind::Sync, Some(at(100))))
        .await
        .expect("upsert_job");
    assert_eq!(
        (job.account_id, job.integration_id, job.kind, job.runs),
        (a, Some(i), JobKind::Sync, 0)
    );
    assert_eq!(job.schedule, daily(), "the schedule round-trips");
    assert_eq!(job.next_run_at, Some(at(100)));

    assert!(
        store
            .claim_jobs("w1", at(99), at(99) + secs(60), 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let claimed = store
        .claim_jobs("w1", at(100), at(160), 10)
        .await
        .expect("claim_jobs");
    assert_eq!(claimed.len(), 1, "due at next_run_at");
    assert_eq!(claimed[0].id, job.id);
    assert_eq!(claimed[0].account_id, a, "a claimed job names its account");
    assert_eq!(claimed[0].lease_holder.as_deref(), Some("w1"));
    assert_eq!(claimed[0].lease_until, Some(at(160)));
    assert!(
        store
            .claim_jobs("w2", at(159), at(219), 10)
            .await
            .unwrap()
            .is_empty(),
        "a live lease keeps other workers out"
    );

    // w1 dies; its lease runs out; w2 takes over.
    let taken = store.claim_jobs("w2", at(161), at(221), 10).await.unwrap();
    assert_eq!(taken.len(), 1, "an expired lease is claimed again");
    assert_eq!(taken[0].lease_holder.as_deref(), Some("w2"));
    assert!(
        !store.renew_job(a, job.id, "w1", at(300)).await.unwrap(),
        "the old holder cannot renew"
    );
    assert!(
        !store
            .complete_job(a, job.id, "w1", done(at(170), Some(at(999)), "applied"))
            .await
            .unwrap(),
        "the old holder cannot complete"
    );
    let mut d = done(at(180), Some(at(1000)), "applied");
    d.import_id = Some(42);
    assert!(store.complete_job(a, job.id, "w2", d).await.unwrap());
    let after = store
        .job(a, JobKind::Sync, Some(i))
        .await
        .unwrap()
        .expect("job");
    assert_eq!(after.runs, 1, "one completed run");
    assert_eq!(after.next_run_at, Some(at(1000)));
    assert_eq!(after.lease_holder, None, "completion releases the lease");
    assert_eq!(after.lease_until, None);
    assert_eq!(after.last_run_at, Some(at(180)));
    assert_eq!(after.last_status.as_deref(), Some("applied"));
    assert_eq!(after.last_import_id, Some(42));
    assert!(
        store
            .claim_jobs("w3", at(999), at(1059), 10)
            .await
            .unwrap()
            .is_empty(),
        "not due again before next_run_at"
    );
    assert_eq!(
        store
            .claim_jobs("w3", at(1000), at(1060), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Renewing moves the lease on; a renewed job is not claimed at the old expiry.
pub async fn jobs_lease_is_renewed(store: &dyn Store) {
    let a = account(store, "acme").await;
    let i = integration(store, a).await;
    let job = store
        .upsert_job(upsert(a, Some(i), JobKind::Sync, Some(at(0))))
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_jobs("w1", at(0), at(60), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.renew_job(a, job.id, "w1", at(200)).await.unwrap());
    assert!(
        store
            .claim_jobs("w2", at(100), at(160), 1)
            .await
            .unwrap()
            .is_empty(),
        "the renewed lease lives on"
    );
    let j = store.job(a, JobKind::Sync, Some(i)).await.unwrap().unwrap();
    assert_eq!(j.lease_until, Some(at(200)));
    assert_eq!(
        store
            .claim_jobs("w2", at(201), at(260), 1)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Off or paused jobs are never claimed; upserting keeps counters; a postponement
/// does not count as a run; a tick job has no integration; the earliest due comes
/// first and `limit` is respected.
pub async fn jobs_paused_disabled_and_postponed(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (i1, i2) = (integration(store, a).await, integration(store, a).await);
    let mut off = upsert(a, Some(i1), JobKind::Sync, Some(at(0)));
    off.enabled = false;
    store.upsert_job(off).await.unwrap();
    let mut paused = upsert(a, Some(i2), JobKind::Sync, Some(at(0)));
    paused.paused = true;
    store.upsert_job(paused).await.unwrap();
    assert!(
        store
            .claim_jobs("w", at(10), at(70), 10)
            .await
            .unwrap()
            .is_empty(),
        "off and paused jobs are not claimed"
    );

    // Switch both on: the same rows (one job per integration and kind).
    let j1 = store
        .upsert_job(upsert(a, Some(i1), JobKind::Sync, Some(at(5))))
        .await
        .unwrap();
    let j2 = store
        .upsert_job(upsert(a, Some(i2), JobKind::Sync, Some(at(3))))
        .await
        .unwrap();
    let tick = store
        .upsert_job(upsert(a, None, JobKind::Tick, Some(at(4))))
        .await
        .unwrap();
    assert_eq!(tick.integration_id, None);
    assert_eq!(store.jobs(a).await.unwrap().len(), 3, "one row per target");
    let first = store.claim_jobs("w", at(10), at(70), 2).await.unwrap();
    let got: Vec<_> = first.iter().map(|j| j.id).collect();
    assert_eq!(got, vec![j2.id, tick.id], "earliest due first, limit kept");

    // Postponed: not a run.
    let mut later = done(at(11), Some(at(40)), "postponed");
    later.ran = false;
    assert!(store.complete_job(a, j2.id, "w", later).await.unwrap());
    let j = store
        .job(a, JobKind::Sync, Some(i2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (j.runs, j.last_run_at, j.next_run_at),
        (0, None, Some(at(40)))
    );
    assert_eq!(j.lease_holder, None);

    // Upsert while leased keeps the lease; the run counters stay.
    let rest = store.claim_jobs("w", at(10), at(70), 10).await.unwrap();
    assert_eq!(rest.iter().map(|j| j.id).collect::<Vec<_>>(), vec![j1.id]);
    assert!(
        store
            .complete_job(a, j1.id, "w", done(at(12), Some(at(50)), "applied"))
            .await
            .unwrap()
    );
    let mut pause = upsert(a, Some(i1), JobKind::Sync, None);
    pause.paused = true;
    let j = store.upsert_job(pause).await.unwrap();
    assert_eq!((j.runs, j.paused, j.next_run_at), (1, true, None));
    assert_eq!(j.last_status.as_deref(), Some("applied"));
}

/// Jobs and channels of one account are invisible to another; deleting an
/// integration removes its job.
pub async fn jobs_and_channels_are_scoped_by_account(store: &dyn Store) {
    let a = account(store, "acme").await;
    let b = account(store, "globex").await;
    let ia = integration(store, a).await;
    let job = store
        .upsert_job(upsert(a, Some(ia), JobKind::Sync, Some(at(0))))
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .upsert_job(upsert(b, Some(ia), JobKind::Sync, Some(at(0))))
                .await,
            Err(crate::StoreError::NotFound { .. })
        ),
        "a job for another account's integration"
    );
    assert!(store.jobs(b).await.unwrap().is_empty());
    assert!(
        store
            .job(b, JobKind::Sync, Some(ia))
            .await
            .unwrap()
            .is_none()
    );
    let claimed = store.claim_jobs("w", at(0), at(60), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        !store.renew_job(b, job.id, "w", at(100)).await.unwrap(),
        "renewing under another account"
    );
    assert!(
        !store
            .complete_job(b, job.id, "w", done(at(1), None, "applied"))
            .await
            .unwrap(),
        "completing under another account"
    );

    let ch = store
        .add_channel(NewChannel {
            account_id: a,
            kind: ChannelKind::Webhook,
            target: "https://hooks.example/roster".into(),
            secret: Some(vec![1, 2, 3, 0xff]),
            events: vec!["sync.blocked".into()],
            at: at(5),
        })
        .await
        .expect("add_channel");
    assert_eq!(
        ch.secret,
        Some(vec![1, 2, 3, 0xff]),
        "the secret round-trips"
    );
    assert_eq!(store.channels(a).await.unwrap(), vec![ch.clone()]);
    assert!(store.channels(b).await.unwrap().is_empty());
    assert!(!store.delete_channel(b, ch.id).await.unwrap());
    assert_eq!(store.channels(a).await.unwrap().len(), 1);

    // Deliveries and messages of one account are not another's.
    let mut cs = changeset(ImportKind::Sync, at(10), Vec::new());
    cs.notifications = vec![notification("sync.applied", 1)];
    write(store, a, cs).await;
    let pending = store.claim_outbox("w", at(20), at(80), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].account_id, a,
        "a claimed message names its account"
    );
    let id = pending[0].message.id;
    assert!(
        store
            .record_delivery(
                b,
                DeliveryAttempt {
                    outbox_id: id,
                    channel_id: ch.id,
                    at: at(21),
                    error: None
                }
            )
            .await
            .is_err(),
        "recording under another account"
    );
    assert!(store.deliveries(b, id).await.unwrap().is_empty());
    assert!(store.notifications(b, 10).await.unwrap().is_empty());
    assert!(
        !store
            .finish_delivery(b, id, "w", RoundDone::Delivered { at: at(22) })
            .await
            .unwrap()
    );

    assert!(store.delete_channel(a, ch.id).await.unwrap());
    assert!(store.channels(a).await.unwrap().is_empty());
    assert!(store.delete_integration(a, ia).await.unwrap());
    assert!(
        store.jobs(a).await.unwrap().is_empty(),
        "deleting an integration removes its schedule"
    );
}

/// A delivery round that fails is retried at `next_attempt_at`; per-channel attempts
/// are counted; a delivered message leaves `outbox()`; a given-up one is not claimed.
pub async fn outbox_delivery_state(store: &dyn Store) {
    let a = account(store, "acme").await;
    let (hook, mail) = webhook_and_email(store, a).await;
    let mut cs = changeset(ImportKind::Sync, at(10), Vec::new());
    cs.notifications = vec![
        notification("sync.applied", 1),
        notification("sync.blocked", 2),
    ];
    write(store, a, cs).await;

    let round1 = store.claim_outbox("w1", at(20), at(80), 1).await.unwrap();
    assert_eq!(round1.len(), 1, "limit");
    let (m1, m1_id) = (&round1[0], round1[0].message.id);
    assert_eq!(m1.message.event, "sync.applied", "oldest first");
    assert_eq!(m1.attempts, 0);
    let round1b = store.claim_outbox("w2", at(21), at(81), 10).await.unwrap();
    assert_eq!(round1b.len(), 1, "a leased message is not claimed twice");
    assert_eq!(round1b[0].message.event, "sync.blocked");

    let attempt = |channel, t, error: Option<&str>| DeliveryAttempt {
        outbox_id: m1_id,
        channel_id: channel,
        at: t,
        error: error.map(str::to_string),
    };
    store
        .record_delivery(a, attempt(mail.id, at(22), None))
        .await
        .unwrap();
    store
        .record_delivery(a, attempt(hook.id, at(22), Some("HTTP 500")))
        .await
        .unwrap();
    assert!(
        store
            .finish_delivery(
                a,
                m1_id,
                "w1",
                RoundDone::Retry {
                    at: at(22),
                    next_attempt_at: at(52),
                    error: "HTTP 500".into()
                }
            )
            .await
            .unwrap()
    );
    let state = store.notifications(a, 10).await.unwrap();
    let s1 = state
        .iter()
        .find(|s| s.message.id == m1_id)
        .expect("listed");
    assert_eq!(
        (s1.attempts, s1.next_attempt_at, s1.last_error.as_deref()),
        (1, Some(at(52)), Some("HTTP 500"))
    );
    assert!(
        store
            .claim_outbox("w1", at(51), at(111), 10)
            .await
            .unwrap()
            .is_empty(),
        "not before next_attempt_at (and m2 is still leased)"
    );
    let retry = store.claim_outbox("w1", at(52), at(112), 10).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!((retry[0].message.id, retry[0].attempts), (m1_id, 1));
    store
        .record_delivery(a, attempt(hook.id, at(53), None))
        .await
        .unwrap();
    assert!(
        store
            .finish_delivery(a, m1_id, "w1", RoundDone::Delivered { at: at(53) })
            .await
            .unwrap()
    );
    let d = store.deliveries(a, m1_id).await.unwrap();
    let got: Vec<_> = d
        .iter()
        .map(|d| (d.channel_id, d.attempts, d.delivered_at, d.last_attempt_at))
        .collect();
    let mut want = vec![
        (hook.id, 2, Some(at(53)), at(53)),
        (mail.id, 1, Some(at(22)), at(22)),
    ];
    want.sort();
    assert_eq!(got, want, "per-channel attempts, by channel id");
    let outbox = store.outbox(a, 10).await.unwrap();
    assert!(
        outbox.iter().all(|m| m.id != m1_id),
        "a delivered message leaves outbox()"
    );

    given_up(store, a, round1b[0].message.id).await;
}

/// A webhook and an email channel of the account.
async fn webhook_and_email(store: &dyn Store, a: AccountId) -> (Channel, Channel) {
    let hook = store
        .add_channel(NewChannel {
            account_id: a,
            kind: ChannelKind::Webhook,
            target: "https://hooks.example/x".into(),
            secret: Some(vec![9; 32]),
            events: Vec::new(),
            at: at(0),
        })
        .await
        .unwrap();
    let mail = store
        .add_channel(NewChannel {
            account_id: a,
            kind: ChannelKind::Email,
            target: "admin@acme.example".into(),
            secret: None,
            events: Vec::new(),
            at: at(0),
        })
        .await
        .unwrap();
    (hook, mail)
}

/// The second message (leased to `w2`) given up: never claimed again, listed
/// newest first with its failure.
async fn given_up(store: &dyn Store, a: AccountId, m2_id: i64) {
    assert!(
        !store
            .finish_delivery(a, m2_id, "w1", RoundDone::Delivered { at: at(60) })
            .await
            .unwrap(),
        "only the holder finishes a round"
    );
    assert!(
        store
            .finish_delivery(
                a,
                m2_id,
                "w2",
                RoundDone::Failed {
                    at: at(60),
                    error: "gave up".into()
                }
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_outbox("w1", at(10_000), at(10_060), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let state = store.notifications(a, 10).await.unwrap();
    assert_eq!(state.len(), 2);
    assert_eq!(state[0].message.id, m2_id, "newest first");
    assert_eq!(state[0].failed_at, Some(at(60)));
    assert_eq!(state[1].message.delivered_at, Some(at(53)));
}
