//! Delivering the outbox for real: a webhook receiver (axum on port 0) that checks
//! every signature and answers 500 at first, and an SMTP server started by the test
//! (a minimal one on tokio: it speaks just enough SMTP for a client to hand over a
//! message) receiving the admins' email.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use common::{NoSources, World, world};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jiff::SignedDuration;
use roster_engine::Clock;
use roster_engine::notify::{DeliveryPolicy, Notifier};
use roster_engine::worker::{Worker, WorkerConfig};
use roster_notify::{Notifiers, SmtpSender, WebhookSender};
use roster_store::{ImportKind, ImportStatus, Notification};
use secrecy::SecretString;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

impl World {
    fn worker(&self, notifier: Notifiers) -> Worker {
        Worker::new(
            self.store.clone(),
            self.clock.clone(),
            self.cipher.clone(),
            Arc::new(NoSources),
            Arc::new(notifier) as Arc<dyn Notifier>,
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

    /// A blocked automatic sync's notification, as the engine queues it.
    async fn blocked_sync(&self) -> i64 {
        let mut cs = roster_store::contract::changeset(ImportKind::Sync, self.clock.now(), vec![]);
        cs.status = ImportStatus::Blocked;
        cs.trigger = roster_core::guard::Trigger::Automatic;
        cs.notifications = vec![Notification {
            event: "sync.blocked".into(),
            payload: serde_json::json!({
                "integration_id": 1, "reasons": ["privacy"], "privacy_employees": 1,
                "mass_change": "", "counts": {"created": 0, "updated": 2, "deactivated": 0}
            }),
        }];
        self.store.write(self.engine.account(), cs).await.unwrap()
    }
}

#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<AtomicUsize>,
}

async fn hook(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    r.got.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    let left = r.fail_first.load(Ordering::SeqCst);
    if left > 0 {
        r.fail_first.store(left - 1, Ordering::SeqCst);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::NO_CONTENT
}

async fn receiver(fail_first: usize) -> (SocketAddr, Receiver) {
    let r = Receiver::default();
    r.fail_first.store(fail_first, Ordering::SeqCst);
    let app = axum::Router::new()
        .route("/hooks/roster", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, r)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_after_a_500() {
    let w = world().await;
    let (addr, rx) = receiver(2).await;
    let secret = "whsec_test_0123456789";
    let hook = w
        .engine
        .add_webhook(
            &format!("http://{addr}/hooks/roster"),
            Some(SecretString::from(secret)),
            Vec::new(),
        )
        .await
        .unwrap();
    let import = w.blocked_sync().await;
    // One quick in-process retry: the first round makes two requests, both 500.
    let worker = w.worker(Notifiers {
        webhook: WebhookSender::new(Duration::from_secs(5), 1).unwrap(),
        smtp: None,
    });

    let r = worker.deliver().await.unwrap();
    assert_eq!((r.delivered, r.retried, r.failed), (0, 1, 0));
    assert_eq!(rx.got.lock().unwrap().len(), 2);
    let account = w.engine.account();
    let state = w.store.notifications(account, 10).await.unwrap();
    let msg = &state[0];
    assert_eq!(msg.attempts, 1);
    assert_eq!(
        msg.next_attempt_at,
        Some(w.clock.now() + SignedDuration::from_secs(30)),
        "backed off by the first interval"
    );
    assert!(
        msg.last_error
            .as_deref()
            .is_some_and(|e| e.contains("HTTP 500")),
        "{msg:?}"
    );
    let d = w.store.deliveries(account, msg.message.id).await.unwrap();
    assert_eq!(
        (d[0].channel_id, d[0].attempts, d[0].delivered_at),
        (hook.channel.id, 1, None)
    );

    // Not before its time …
    let r = worker.deliver().await.unwrap();
    assert_eq!((r.delivered, r.retried), (0, 0));
    // … then delivered.
    w.clock.set(w.clock.now() + SignedDuration::from_secs(31));
    let r = worker.deliver().await.unwrap();
    assert_eq!(r.delivered, 1);
    assert!(w.store.outbox(account, 10).await.unwrap().is_empty());
    let d = w.store.deliveries(account, msg.message.id).await.unwrap();
    assert_eq!(d[0].attempts, 2);
    assert_eq!(d[0].delivered_at, Some(w.clock.now()));

    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    for (n, req) in got.iter().enumerate() {
        let h = &req.headers;
        let ts: i64 = header(h, "x-roster-timestamp").parse().unwrap();
        assert!(
            roster_notify::verify(secret, ts, &req.body, header(h, "x-roster-signature")),
            "request {n}: the signature verifies"
        );
        assert!(!roster_notify::verify(
            "wrong",
            ts,
            &req.body,
            header(h, "x-roster-signature")
        ));
        assert_eq!(header(h, "x-roster-event"), "sync.blocked");
        assert_eq!(header(h, "x-roster-delivery"), msg.message.id.to_string());
        assert_eq!(header(h, "content-type"), "application/json");
    }
    let last = &got[2];
    let ts: i64 = header(&last.headers, "x-roster-timestamp").parse().unwrap();
    assert_eq!(
        ts,
        w.clock.now().as_second(),
        "the timestamp is the send time"
    );
    let body: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(body["event"], "sync.blocked");
    assert_eq!(body["import_id"], import);
    assert_eq!(body["account_id"], account);
    assert_eq!(body["data"]["reasons"][0], "privacy");
    assert_eq!(body["data"]["counts"]["updated"], 2);

    // Delivered once: another pass sends nothing.
    w.clock.set(w.clock.now() + SignedDuration::from_hours(2));
    assert_eq!(worker.deliver().await.unwrap().delivered, 0);
    assert_eq!(rx.got.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_given_up() {
    let w = world().await;
    let (addr, rx) = receiver(usize::MAX).await;
    w.engine
        .add_webhook(&format!("http://{addr}/hooks/roster"), None, Vec::new())
        .await
        .unwrap();
    w.blocked_sync().await;
    let worker = w.worker(Notifiers {
        webhook: WebhookSender::new(Duration::from_secs(5), 0).unwrap(),
        smtp: None,
    });
    for _ in 0..3 {
        worker.deliver().await.unwrap();
        w.clock.set(w.clock.now() + SignedDuration::from_mins(30));
    }
    let state = w.store.notifications(w.engine.account(), 10).await.unwrap();
    assert_eq!(state[0].attempts, 3);
    assert!(state[0].failed_at.is_some(), "given up after max_attempts");
    assert_eq!(rx.got.lock().unwrap().len(), 3);
    worker.deliver().await.unwrap();
    assert_eq!(rx.got.lock().unwrap().len(), 3, "not tried again");
}

/// One message as the SMTP server received it.
#[derive(Clone, Debug, Default)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP server on 127.0.0.1:0 that accepts every message.
async fn smtp_server() -> (SocketAddr, Arc<Mutex<Vec<Mail>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let sink = mails.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 localhost ESMTP test\r\n").await;
                let mut mail = Mail::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-localhost\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail = Mail {
                            from: line[10..].trim().to_string(),
                            ..Mail::default()
                        };
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        mail.to.push(line[8..].trim().to_string());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            mail.data.push_str(&l);
                            mail.data.push('\n');
                        }
                        sink.lock().unwrap().push(std::mem::take(&mut mail));
                        b"250 OK queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, mails)
}

#[tokio::test]
async fn email_goes_to_every_admin_over_smtp() {
    let w = world().await;
    let (addr, mails) = smtp_server().await;
    w.engine
        .add_email("admin@acme.example", Vec::new())
        .await
        .unwrap();
    w.engine
        .add_email("hr-lead@acme.example", vec!["sync.blocked".into()])
        .await
        .unwrap();
    let import = w.blocked_sync().await;
    let smtp = SmtpSender::new(
        &SecretString::from(format!("smtp://{addr}")),
        "Roster <roster@acme.example>",
        Some("https://roster.example/"),
    )
    .unwrap();
    let worker = w.worker(Notifiers {
        webhook: WebhookSender::new(Duration::from_secs(5), 0).unwrap(),
        smtp: Some(smtp),
    });
    let r = worker.deliver().await.unwrap();
    assert_eq!(r.delivered, 1, "{r:?}");
    let got = mails.lock().unwrap().clone();
    let mut to: Vec<&str> = got
        .iter()
        .flat_map(|m| m.to.iter().map(String::as_str))
        .collect();
    to.sort();
    assert_eq!(to, vec!["<admin@acme.example>", "<hr-lead@acme.example>"]);
    for m in &got {
        assert_eq!(m.from, "<roster@acme.example>");
        assert!(
            m.data
                .contains("Subject: Roster: sync of integration 1 blocked"),
            "{}",
            m.data
        );
        assert!(
            m.data.contains("blocked by the privacy guard"),
            "{}",
            m.data
        );
        assert!(
            m.data
                .contains(&format!("https://roster.example/imports/{import}")),
            "{}",
            m.data
        );
    }
    let account = w.engine.account();
    let msg = &w.store.notifications(account, 10).await.unwrap()[0];
    let d = w.store.deliveries(account, msg.message.id).await.unwrap();
    assert_eq!(d.len(), 2);
    assert!(
        d.iter()
            .all(|d| d.delivered_at.is_some() && d.attempts == 1)
    );
}

#[tokio::test]
async fn email_without_an_smtp_server_is_retried_not_lost() {
    let w = world().await;
    w.engine
        .add_email("admin@acme.example", Vec::new())
        .await
        .unwrap();
    // A channel that does not want the event is not sent it.
    w.engine
        .add_email("ops@acme.example", vec!["sync.failed".into()])
        .await
        .unwrap();
    w.blocked_sync().await;
    let worker = w.worker(Notifiers::webhooks_only().unwrap());
    let r = worker.deliver().await.unwrap();
    assert_eq!(r.retried, 1);
    let account = w.engine.account();
    let msg = &w.store.notifications(account, 10).await.unwrap()[0];
    assert!(
        msg.last_error
            .as_deref()
            .is_some_and(|e| e.contains("not configured")),
        "{msg:?}"
    );
    let d = w.store.deliveries(account, msg.message.id).await.unwrap();
    assert_eq!(
        d.len(),
        1,
        "only the channel that wants sync.blocked was tried"
    );
}
