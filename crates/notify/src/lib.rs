#![forbid(unsafe_code)]
//! Roster's notification adapters of the engine's [`Notifier`] port: webhooks
//! (JSON, signed with HMAC-SHA256) and email over SMTP (lettre, rustls).
//!
//! **Webhooks.** `POST` of the message as JSON (`id`, `event`, `account_id`,
//! `import_id`, `created_at`, `data`) with the headers
//! - `X-Roster-Event`: the event (`sync.blocked` …),
//! - `X-Roster-Delivery`: the outbox id (the same on every retry: de-duplicate on it),
//! - `X-Roster-Timestamp`: Unix seconds when sent,
//! - `X-Roster-Signature`: `v1=<hex>` of HMAC-SHA256 with the webhook's secret over
//!   `timestamp + "." + body`.
//!
//! A receiver recomputes the signature over the raw body ([`verify`]) and refuses
//! old timestamps. A 2xx answer is delivered; anything else is retried.
//!
//! **Change feed.** A webhook subscribed to employee events gets `POST`s with
//! `X-Roster-Event: employee.events` and a body `{id, account_id, channel_id, after,
//! until, events: [...]}` (events in cursor order, at most the channel's batch size);
//! `X-Roster-Delivery` is the batch id `feed-<channel>-<after>-<until>`, the same on
//! every retry. The next batch follows only once this one was answered 2xx. Each
//! event carries ids, type, time and per field its name and rule; `before` and
//! `after` only for the fields the channel was configured to receive.
//!
//! **Email.** Plain text to one admin address, from `--smtp-from`, through the SMTP
//! server of `--smtp-url`: `smtp://host:25` (plain), `smtp://host:587?tls=required`
//! (STARTTLS), `smtps://user:password@host:465` (TLS).
//!
//! Neither carries personal data: ids, counts and reasons, and a link to the import.

use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use roster_core::guard::BlockReason;
use roster_core::plan::Counts;
use roster_engine::event::{Blocked, Event};
use roster_engine::notify::{Destination, FEED_EVENT, FeedBatch, Notifier, NotifyError, Outgoing};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

pub const HEADER_EVENT: &str = "X-Roster-Event";
pub const HEADER_DELIVERY: &str = "X-Roster-Delivery";
pub const HEADER_TIMESTAMP: &str = "X-Roster-Timestamp";
pub const HEADER_SIGNATURE: &str = "X-Roster-Signature";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the SMTP URL is not valid: {0}")]
    SmtpUrl(String),
    #[error("the sender address is not a valid mailbox")]
    From,
    #[error("the HTTP client could not be built: {0}")]
    Http(String),
    #[error("the link base is not a valid URL")]
    Link,
}

/// `v1=<hex>`: HMAC-SHA256 with `secret` over `timestamp + "." + body`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `signature` (`v1=<hex>`) signs `timestamp + "." + body` with `secret`, in
/// constant time.
pub fn verify(secret: &str, timestamp: i64, body: &[u8], signature: &str) -> bool {
    let Some(hex_sig) = signature.trim().strip_prefix("v1=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The webhook body of a message.
pub fn webhook_body(message: &Outgoing) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}

/// Posts signed webhooks.
#[derive(Clone, Debug)]
pub struct WebhookSender {
    client: reqwest::Client,
    /// In-process retries of one attempt (connection errors, 5xx, 429) before the
    /// attempt counts as failed and the outbox backs off.
    quick_retries: usize,
}

impl WebhookSender {
    pub fn new(timeout: Duration, quick_retries: usize) -> Result<Self, SetupError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("roster-webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(Self {
            client,
            quick_retries,
        })
    }

    pub async fn send(
        &self,
        url: &str,
        secret: &SecretString,
        message: &Outgoing,
        now: Timestamp,
    ) -> Result<(), NotifyError> {
        let body = webhook_body(message);
        let delivery = message.id.to_string();
        self.post(url, secret, &message.event, &delivery, body, now)
            .await
    }

    /// POST one change-feed batch: `X-Roster-Event: employee.events`, the batch id
    /// as `X-Roster-Delivery`, signed like every webhook.
    pub async fn send_feed(
        &self,
        url: &str,
        secret: &SecretString,
        batch: &FeedBatch,
        now: Timestamp,
    ) -> Result<(), NotifyError> {
        let body = serde_json::to_vec(batch).unwrap_or_default();
        self.post(url, secret, FEED_EVENT, &batch.id, body, now)
            .await
    }

    /// POST a signed body, with the quick retries.
    async fn post(
        &self,
        url: &str,
        secret: &SecretString,
        event: &str,
        delivery: &str,
        body: Vec<u8>,
        now: Timestamp,
    ) -> Result<(), NotifyError> {
        let ts = now.as_second();
        let signature = sign(secret.expose_secret(), ts, &body);
        let attempt = || async {
            let r = self
                .client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(HEADER_EVENT, event)
                .header(HEADER_DELIVERY, delivery)
                .header(HEADER_TIMESTAMP, ts.to_string())
                .header(HEADER_SIGNATURE, &signature)
                .body(body.clone())
                .send()
                .await
                .map_err(|e| Attempt::Retry(describe_http(&e)))?;
            let status = r.status();
            if status.is_success() {
                Ok(())
            } else if status.is_server_error() || status.as_u16() == 429 {
                Err(Attempt::Retry(format!("HTTP {}", status.as_u16())))
            } else {
                Err(Attempt::Stop(format!("HTTP {}", status.as_u16())))
            }
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_times(self.quick_retries),
            )
            .when(|e| matches!(e, Attempt::Retry(_)))
            .await
            .map_err(|e| match e {
                Attempt::Retry(m) | Attempt::Stop(m) => NotifyError::Failed(m),
            })
    }
}

enum Attempt {
    Retry(String),
    Stop(String),
}

/// An HTTP error without the URL (it may carry a token in its query).
fn describe_http(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the webhook timed out".into()
    } else if e.is_connect() {
        "the webhook could not be reached".into()
    } else {
        "the webhook request failed".into()
    }
}

/// Sends email through one SMTP server.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Base of links to imports in the body (the admin UI), e.g. `https://roster.example`.
    link_base: Option<url::Url>,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender").finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// `smtp_url`: `smtp://host:port`, `smtp://host:587?tls=required`,
    /// `smtps://user:password@host:465`.
    pub fn new(
        smtp_url: &SecretString,
        from: &str,
        link_base: Option<&str>,
    ) -> Result<Self, SetupError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url.expose_secret())
            // lettre's message names the scheme or TLS parameter, not the password.
            .map_err(|e| SetupError::SmtpUrl(e.to_string()))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = from.parse().map_err(|_| SetupError::From)?;
        let link_base = link_base
            .map(|b| url::Url::parse(b).map_err(|_| SetupError::Link))
            .transpose()?;
        Ok(Self {
            transport,
            from,
            link_base,
        })
    }

    pub async fn send(&self, to: &str, message: &Outgoing) -> Result<(), NotifyError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| NotifyError::Failed("the recipient is not a valid address".into()))?;
        let (subject, body) = email_text(message, self.link_base.as_ref());
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| NotifyError::Failed(format!("the email could not be built: {e}")))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| NotifyError::Failed(format!("SMTP: {}", smtp_error(&e))))
    }
}

fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    if e.is_transient() {
        "temporary failure".into()
    } else if e.is_permanent() {
        "refused".into()
    } else if e.is_timeout() {
        "timed out".into()
    } else {
        "connection failed".into()
    }
}

/// The subject and plain-text body of a message's email: ids, counts, reasons. An
/// event this version does not know is named as it is.
pub fn email_text(m: &Outgoing, link_base: Option<&url::Url>) -> (String, String) {
    let integration = |id: i64| format!("integration {id}");
    let (subject, mut body) = match Event::decode(&m.event, &m.data) {
        Some(Event::SyncBlocked {
            integration_id,
            blocked,
        }) => blocked_text(&integration(integration_id), &blocked),
        Some(Event::SyncFailed {
            integration_id,
            error,
        }) => {
            let integration = integration(integration_id);
            (
                format!("Roster: sync of {integration} failed"),
                format!("The sync of {integration} failed: nothing was changed.\nError: {error}\n"),
            )
        }
        Some(Event::SyncHeld {
            integration_id,
            held,
        }) => {
            let integration = integration(integration_id);
            (
                format!("Roster: sync of {integration} held employees for approval"),
                format!(
                    "The sync of {integration} was applied; {held} employee(s) with privacy-guarded \
                     changes are held for approval.\n"
                ),
            )
        }
        Some(Event::SyncApplied {
            integration_id,
            counts,
            ..
        }) => {
            let integration = integration(integration_id);
            (
                format!("Roster: sync of {integration} applied"),
                format!(
                    "The sync of {integration} was applied: {}.\n",
                    counts_text(&counts)
                ),
            )
        }
        _ => {
            let other = &m.event;
            (format!("Roster: {other}"), format!("Event {other}.\n"))
        }
    };
    if let Some(id) = m.import_id {
        body.push_str(&format!("Import: {id}\n"));
        match link_base.and_then(|b| b.join(&format!("imports/{id}")).ok()) {
            Some(link) => body.push_str(&format!("{link}\n")),
            None => body.push_str(&format!("roster imports show {id}\n")),
        }
    }
    (subject, body)
}

fn counts_text(c: &Counts) -> String {
    format!(
        "created {}, updated {}, deactivated {}, reactivated {}, skipped {}",
        c.created, c.updated, c.deactivated, c.reactivated, c.skipped,
    )
}

/// A blocked automatic sync's email: which guard, how many employees, what it would
/// have done.
fn blocked_text(integration: &str, blocked: &Blocked) -> (String, String) {
    let reasons: Vec<&str> = blocked
        .reasons
        .iter()
        .map(|r| match r {
            BlockReason::Privacy => "the privacy guard",
            BlockReason::MassChange => "the mass-change guard",
        })
        .collect();
    let mut body = format!(
        "The automatic sync of {integration} was blocked by {}: nothing was applied.\n",
        if reasons.is_empty() {
            "a guard".to_string()
        } else {
            reasons.join(" and ")
        }
    );
    if let Some(n) = blocked.privacy_employees.filter(|n| *n > 0) {
        body.push_str(&format!(
            "Employees with two or more of name, date of birth and email changing: {n}\n"
        ));
    }
    if !blocked.mass_change.is_empty() {
        body.push_str(&format!("Mass change: {}\n", blocked.mass_change));
    }
    body.push_str(&format!("Planned: {}\n", counts_text(&blocked.counts)));
    body.push_str("Review the import and run the sync by hand to confirm.\n");
    (format!("Roster: sync of {integration} blocked"), body)
}

/// The [`Notifier`]: webhooks always, email when an SMTP server is configured.
#[derive(Clone, Debug)]
pub struct Notifiers {
    pub webhook: WebhookSender,
    pub smtp: Option<SmtpSender>,
}

impl Notifiers {
    /// Webhooks with a 10 s timeout and two quick retries; no email.
    pub fn webhooks_only() -> Result<Self, SetupError> {
        Ok(Self {
            webhook: WebhookSender::new(Duration::from_secs(10), 2)?,
            smtp: None,
        })
    }
}

#[async_trait]
impl Notifier for Notifiers {
    async fn send(
        &self,
        to: Destination<'_>,
        message: &Outgoing,
        now: Timestamp,
    ) -> Result<(), NotifyError> {
        match to {
            Destination::Webhook { url, secret } => {
                self.webhook.send(url, secret, message, now).await
            }
            Destination::Email { to } => match &self.smtp {
                Some(s) => s.send(to, message).await,
                None => Err(NotifyError::NotConfigured("email (no --smtp-url)")),
            },
        }
    }

    async fn send_feed(
        &self,
        url: &str,
        secret: &SecretString,
        batch: &FeedBatch,
        now: Timestamp,
    ) -> Result<(), NotifyError> {
        self.webhook.send_feed(url, secret, batch, now).await
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn message(event: &str, data: serde_json::Value) -> Outgoing {
        Outgoing {
            id: 1,
            event: event.into(),
            account_id: 1,
            import_id: None,
            created_at: Timestamp::UNIX_EPOCH,
            data,
        }
    }

    #[rstest]
    #[case::applied(
        "sync.applied",
        serde_json::json!({ "integration_id": 3, "counts": { "created": 2 }, "held": 0 }),
        "Roster: sync of integration 3 applied",
        "The sync of integration 3 was applied: created 2, updated 0, deactivated 0, reactivated 0, skipped 0.\n"
    )]
    #[case::held(
        "sync.held",
        serde_json::json!({ "integration_id": 3, "held": 2 }),
        "Roster: sync of integration 3 held employees for approval",
        "The sync of integration 3 was applied; 2 employee(s) with privacy-guarded changes are held for approval.\n"
    )]
    #[case::failed(
        "sync.failed",
        serde_json::json!({ "integration_id": 3, "error": "timed out" }),
        "Roster: sync of integration 3 failed",
        "The sync of integration 3 failed: nothing was changed.\nError: timed out\n"
    )]
    #[case::mass_change_to_confirm(
        "sync.blocked",
        serde_json::json!({
            "integration_id": 3, "reasons": ["mass_change"],
            "mass_change": "would deactivate 9 of 10 active employees", "counts": { "deactivated": 9 }
        }),
        "Roster: sync of integration 3 blocked",
        "The automatic sync of integration 3 was blocked by the mass-change guard: nothing was applied.\nMass change: would deactivate 9 of 10 active employees\nPlanned: created 0, updated 0, deactivated 9, reactivated 0, skipped 0\nReview the import and run the sync by hand to confirm.\n"
    )]
    #[case::other_events_are_named(
        "csv_import.applied",
        serde_json::json!({ "integration_id": 3, "file": "users.csv", "counts": {}, "held": 0 }),
        "Roster: csv_import.applied",
        "Event csv_import.applied.\n"
    )]
    fn every_event_has_its_email(
        #[case] event: &str,
        #[case] data: serde_json::Value,
        #[case] subject: &str,
        #[case] body: &str,
    ) {
        assert_eq!(
            email_text(&message(event, data), None),
            (subject.to_string(), body.to_string())
        );
    }

    #[test]
    fn signatures_verify_and_detect_tampering() {
        let sig = sign("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(sig.starts_with("v1="));
        assert_eq!(sig.len(), 3 + 64);
        assert!(verify("s3cret", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!verify("s3cret", 1_700_000_001, b"{\"a\":1}", &sig));
        assert!(!verify("s3cret", 1_700_000_000, b"{\"a\":2}", &sig));
        assert!(!verify("other", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!verify("s3cret", 1_700_000_000, b"{\"a\":1}", "v1=zz"));
        assert!(!verify("s3cret", 1_700_000_000, b"{\"a\":1}", "nonsense"));
    }

    #[test]
    fn email_text_has_counts_and_ids_only() {
        let m = Outgoing {
            id: 7,
            event: "sync.blocked".into(),
            account_id: 1,
            import_id: Some(12),
            created_at: Timestamp::UNIX_EPOCH,
            data: serde_json::json!({
                "integration_id": 3, "reasons": ["privacy"], "privacy_employees": 2,
                "mass_change": "", "counts": {"created": 1, "updated": 4}
            }),
        };
        let base = url::Url::parse("https://roster.example/").unwrap();
        let (subject, body) = email_text(&m, Some(&base));
        assert_eq!(subject, "Roster: sync of integration 3 blocked");
        assert!(body.contains("blocked by the privacy guard"), "{body}");
        assert!(body.contains(": 2\n"), "{body}");
        assert!(body.contains("created 1, updated 4"), "{body}");
        assert!(body.contains("https://roster.example/imports/12"), "{body}");
    }
}
