//! Delivering the change feed to webhooks for real: a local receiver (axum on port
//! 0) that checks every signature and fails some requests. Batches come in cursor
//! order, at most the channel's batch size each; a failed batch is sent again, the
//! same events with the same delivery id, and the next one only after it was
//! accepted; a channel without value rights never receives a value.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{NoSources, World, world};

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jiff::SignedDuration;
use roster_core::employee::Employee;
use roster_core::plan::{Action, Rule};
use roster_engine::Clock;
use roster_engine::notify::{DeliveryPolicy, FeedOptions, Notifier};
use roster_engine::worker::{Worker, WorkerConfig};
use roster_notify::{Notifiers, WebhookSender};
use roster_store::contract::{change_entry, changeset, create_entry, person};
use roster_store::{EventQuery, ImportKind};
use secrecy::SecretString;
use serde_json::Value;

const SECRET: &str = "whsec_feed_0123456789";

#[derive(Clone, Debug)]
struct Request {
    delivery: String,
    body: Value,
    raw: String,
    accepted: bool,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Request>>>,
    /// Answers to come: `false` is a 500; when empty, 204.
    plan: Arc<Mutex<VecDeque<bool>>>,
}

async fn hook(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
    let ts: i64 = h(roster_notify::HEADER_TIMESTAMP).parse().unwrap();
    assert!(
        roster_notify::verify(SECRET, ts, &body, &h(roster_notify::HEADER_SIGNATURE)),
        "every delivery is signed"
    );
    assert_eq!(h(roster_notify::HEADER_EVENT), "employee.events");
    let accepted = r.plan.lock().unwrap().pop_front().unwrap_or(true);
    r.got.lock().unwrap().push(Request {
        delivery: h(roster_notify::HEADER_DELIVERY),
        body: serde_json::from_slice(&body).unwrap(),
        raw: String::from_utf8(body.to_vec()).unwrap(),
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

async fn receiver(plan: &[bool]) -> (SocketAddr, Receiver) {
    let r = Receiver::default();
    r.plan.lock().unwrap().extend(plan.iter().copied());
    let app = axum::Router::new()
        .route("/feed", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, r)
}

impl World {
    fn worker(&self) -> Worker {
        Worker::new(
            self.store.clone(),
            self.clock.clone(),
            self.cipher.clone(),
            Arc::new(NoSources),
            Arc::new(Notifiers {
                // No quick retries: each failure is one request.
                webhook: WebhookSender::new(Duration::from_secs(5), 0).unwrap(),
                smtp: None,
            }) as Arc<dyn Notifier>,
            WorkerConfig {
                id: "w1".into(),
                delivery: DeliveryPolicy {
                    first_backoff: SignedDuration::from_secs(30),
                    max_backoff: SignedDuration::from_mins(10),
                    max_attempts: 3,
                },
                ..WorkerConfig::default()
            },
        )
    }

    /// Ten people created, then five renamed: 15 employee events and two
    /// `import.applied`.
    async fn story(&self) -> Vec<Employee> {
        let a = self.engine.account();
        let people: Vec<Employee> = (0..10)
            .map(|i| {
                person(
                    &format!("E{i}"),
                    &format!("p{i}@acme.example"),
                    "Zoë",
                    &format!("Name{i}"),
                )
            })
            .collect();
        let cs = changeset(
            ImportKind::Sync,
            self.clock.now(),
            people.into_iter().map(create_entry).collect(),
        );
        self.store.write(a, cs).await.unwrap();
        let dir = self.store.directory(a).await.unwrap();
        let renames = dir
            .iter()
            .take(5)
            .map(|e| {
                let after = Employee {
                    first_name: Some("Renée".into()),
                    ..e.clone()
                };
                change_entry(Action::Update, e, after, Rule::Source)
            })
            .collect();
        let cs = changeset(ImportKind::Sync, self.clock.now(), renames);
        self.store.write(a, cs).await.unwrap();
        dir
    }
}

fn cursors(body: &Value) -> Vec<i64> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn batches_arrive_in_order_and_a_failed_one_is_retried_before_the_next() {
    let w = world().await;
    // The 2nd and 3rd requests fail: the second batch is sent three times.
    let (addr, rx) = receiver(&[true, false, false]).await;
    let hook = w
        .engine
        .add_webhook_with(
            &format!("http://{addr}/feed"),
            Some(SecretString::from(SECRET)),
            vec!["employee.*".into(), "import.applied".into()],
            FeedOptions {
                fields: vec!["first_name".into()],
                batch_size: Some(4),
            },
        )
        .await
        .unwrap();
    let dir = w.story().await;
    let worker = w.worker();

    let r = worker.deliver_feed().await.unwrap();
    assert_eq!((r.batches, r.events, r.retried), (1, 4, 1));
    // Backed off: nothing before its time …
    let r = worker.deliver_feed().await.unwrap();
    assert_eq!((r.batches, r.retried), (0, 0));
    assert_eq!(rx.got.lock().unwrap().len(), 2);
    // … then the same batch fails once more, and after that goes through with the rest.
    for _ in 0..2 {
        w.clock.set(w.clock.now() + SignedDuration::from_mins(5));
        worker.deliver_feed().await.unwrap();
    }
    let got = rx.got.lock().unwrap().clone();
    let all = w
        .store
        .events(
            w.engine.account(),
            &EventQuery {
                limit: 1000,
                ..EventQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 17);
    // Accepted batches: every event once, in cursor order, at most 4 a request.
    let accepted: Vec<i64> = got
        .iter()
        .filter(|r| r.accepted)
        .flat_map(|r| cursors(&r.body))
        .collect();
    assert_eq!(accepted, all.iter().map(|e| e.cursor).collect::<Vec<_>>());
    assert!(got.iter().all(|r| cursors(&r.body).len() <= 4));
    // Never N+1 before N: each request starts where the last accepted one ended.
    let mut accepted_until = 0;
    for r in &got {
        assert_eq!(
            r.body["after"].as_i64().unwrap(),
            accepted_until,
            "{:?}",
            r.delivery
        );
        assert_eq!(cursors(&r.body)[0], accepted_until + 1);
        if r.accepted {
            accepted_until = r.body["until"].as_i64().unwrap();
        }
    }
    // A retry is the same batch with the same delivery id.
    assert_eq!(got[1].delivery, got[2].delivery);
    assert_eq!(got[2].delivery, got[3].delivery);
    assert_eq!(got[1].body["events"], got[3].body["events"]);
    assert!(got[3].accepted);
    assert_ne!(got[0].delivery, got[1].delivery);
    // The subscription is at the end, with nothing pending.
    let subs = w.engine.feed_subscriptions().await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].channel_id, hook.channel.id);
    assert_eq!(
        (subs[0].cursor, subs[0].pending_until, subs[0].attempts),
        (17, None, 0)
    );
    // Values only of first_name: the renames carry it, no email or last name is sent.
    let renamed = got
        .iter()
        .flat_map(|r| r.body["events"].as_array().unwrap().clone())
        .find(|e| e["type"] == "employee.updated")
        .unwrap();
    assert_eq!(renamed["changes"][0]["field"], "first_name");
    assert_eq!(renamed["changes"][0]["after"], "Renée");
    for r in &got {
        for e in &dir {
            assert!(!r.raw.contains(&e.email), "an email was sent");
            assert!(
                !r.raw.contains(e.last_name.as_deref().unwrap()),
                "a last name was sent"
            );
        }
    }
}

#[tokio::test]
async fn a_channel_without_value_rights_gets_names_only_and_only_its_types() {
    let w = world().await;
    let (addr, rx) = receiver(&[]).await;
    w.engine
        .add_webhook_with(
            &format!("http://{addr}/feed"),
            Some(SecretString::from(SECRET)),
            vec!["employee.updated".into()],
            FeedOptions::default(),
        )
        .await
        .unwrap();
    let dir = w.story().await;
    let r = w.worker().deliver_feed().await.unwrap();
    assert_eq!((r.batches, r.events), (1, 5));
    let got = rx.got.lock().unwrap().clone();
    let events = got[0].body["events"].as_array().unwrap();
    assert!(events.iter().all(|e| e["type"] == "employee.updated"));
    for e in events {
        for c in e["changes"].as_array().unwrap() {
            assert!(c.get("before").is_none() && c.get("after").is_none(), "{c}");
            assert!(c["field"].is_string() && c["rule"].is_string());
        }
    }
    for e in &dir {
        assert!(!got[0].raw.contains(&e.email));
        assert!(!got[0].raw.contains("Zoë") && !got[0].raw.contains("Renée"));
    }
    // Nothing new: nothing sent.
    let r = w.worker().deliver_feed().await.unwrap();
    assert_eq!(r.batches, 0);
    assert_eq!(rx.got.lock().unwrap().len(), 1);
}
