//! Notifications: the `Notifier` port, an account's channels, and delivering the
//! store's outbox to them.
//!
//! A sync writes its notifications (`sync.applied`, `sync.held`, `sync.blocked`,
//! `sync.failed`) into the outbox in the same transaction as the import. A worker
//! then delivers each message to every enabled channel of the account that wants its
//! event: webhooks (HMAC-signed JSON) and admins' email addresses. Each channel's
//! attempt is recorded; a round with a failure is retried with exponential back-off
//! (attempts and `next_attempt_at` persisted) and given up after
//! [`DeliveryPolicy::max_attempts`] rounds; a channel that already has a message is
//! not sent it again.
//!
//! Payloads carry ids, counts and reasons, never names or emails.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use roster_store::jobs::{Channel, ChannelId, ChannelKind, MessageState, NewChannel};
use roster_store::{AccountId, ImportId};
use secrecy::SecretString;
use serde::Serialize;

use crate::engine::{Engine, EngineError, Result};

/// The events a channel gets unless it names its own.
pub const DEFAULT_EVENTS: &[&str] = &["sync.applied", "sync.held", "sync.blocked", "sync.failed"];

/// One outbox message as sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outgoing {
    /// The outbox id: stable across retries (receivers can de-duplicate on it).
    pub id: i64,
    pub event: String,
    pub account_id: AccountId,
    pub import_id: Option<ImportId>,
    pub created_at: Timestamp,
    /// Ids, counts and reasons (no personal data).
    pub data: serde_json::Value,
}

/// One request of a channel's change-feed delivery: events in cursor order, after
/// `after` up to `until`. `id` is the same on every retry of the batch (receivers
/// de-duplicate on it). Minimised: a field's `before`/`after` values only for the
/// fields the channel may receive.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedBatch {
    pub id: String,
    pub account_id: AccountId,
    pub channel_id: ChannelId,
    pub after: i64,
    pub until: i64,
    pub events: Vec<serde_json::Value>,
}

/// The event type a feed delivery carries in `X-Roster-Event`.
pub const FEED_EVENT: &str = "employee.events";

/// Events per request when a subscription names no number.
pub const FEED_BATCH: usize = 100;

/// An event as a channel may receive it: ids, type, time, import, and per field
/// its name and rule, with the values only of `fields`.
pub fn minimised(event: &roster_store::FeedEvent, fields: &[String]) -> serde_json::Value {
    let changes: Vec<serde_json::Value> = event
        .changes
        .iter()
        .map(|c| {
            let mut v = serde_json::json!({ "field": c.field, "rule": c.rule.as_str() });
            if fields.iter().any(|f| f == &c.field) {
                v["before"] = serde_json::json!(c.before);
                v["after"] = serde_json::json!(c.after);
            }
            v
        })
        .collect();
    let mut v = serde_json::json!({
        "cursor": event.cursor,
        "type": event.event_type.as_str(),
        "at": event.at,
        "import_id": event.import_id,
        "import_kind": event.import_kind.as_str(),
        "changes": changes,
    });
    if let Some(key) = event.employee_key {
        v["employee_key"] = serde_json::json!(key);
    }
    if let Some(id) = &event.employee_id {
        v["employee_id"] = serde_json::json!(id);
    }
    v
}

/// Where one message goes.
#[derive(Clone, Copy, Debug)]
pub enum Destination<'a> {
    Webhook {
        url: &'a str,
        secret: &'a SecretString,
    },
    Email {
        to: &'a str,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The transport for this kind of channel is not set up (e.g. no SMTP server).
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
    /// The destination refused or could not be reached; retried later.
    #[error("{0}")]
    Failed(String),
}

/// The port: sends one message to one destination.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// `now` is the send time (the webhook signature's timestamp).
    async fn send(
        &self,
        to: Destination<'_>,
        message: &Outgoing,
        now: Timestamp,
    ) -> std::result::Result<(), NotifyError>;

    /// POST one change-feed batch to a webhook, signed as [`Notifier::send`] signs.
    async fn send_feed(
        &self,
        _url: &str,
        _secret: &SecretString,
        _batch: &FeedBatch,
        _now: Timestamp,
    ) -> std::result::Result<(), NotifyError> {
        Err(NotifyError::NotConfigured("change-feed delivery"))
    }
}

/// A notifier that sends nothing and says so (a worker without notifications).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNotifier;

#[async_trait]
impl Notifier for NoNotifier {
    async fn send(
        &self,
        _: Destination<'_>,
        _: &Outgoing,
        _: Timestamp,
    ) -> std::result::Result<(), NotifyError> {
        Err(NotifyError::NotConfigured("notification delivery"))
    }
}

/// Retries of delivery rounds.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryPolicy {
    /// Back-off after the first failed round; doubled after each further one …
    pub first_backoff: SignedDuration,
    /// … up to this.
    pub max_backoff: SignedDuration,
    /// Rounds before giving up.
    pub max_attempts: i64,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            first_backoff: SignedDuration::from_secs(30),
            max_backoff: SignedDuration::from_hours(1),
            max_attempts: 10,
        }
    }
}

impl DeliveryPolicy {
    /// The wait after `rounds` failed rounds (1 = the first failure).
    pub fn backoff(&self, rounds: i64) -> SignedDuration {
        let exp = rounds.saturating_sub(1).clamp(0, 30) as u32;
        let secs = self
            .first_backoff
            .as_secs()
            .saturating_mul(1_i64 << exp)
            .min(self.max_backoff.as_secs());
        SignedDuration::from_secs(secs)
    }
}

/// Whether a channel wants an event.
pub fn wants(channel: &Channel, event: &str) -> bool {
    if channel.events.is_empty() {
        DEFAULT_EVENTS.contains(&event)
    } else {
        channel.events.iter().any(|e| e == event || e == "*")
    }
}

/// The change-feed types a channel's event list names (`employee.*`: every
/// `employee.` type).
pub fn feed_types(events: &[String]) -> Vec<roster_store::EventType> {
    use roster_store::EventType;
    let all = [
        EventType::Created,
        EventType::Updated,
        EventType::Deactivated,
        EventType::Reactivated,
        EventType::Merged,
        EventType::Removed,
        EventType::DeactivationScheduled,
        EventType::StartScheduled,
    ];
    let mut out: Vec<EventType> = Vec::new();
    for e in events {
        let found: Vec<EventType> = match e.as_str() {
            "employee.*" => all.to_vec(),
            other => EventType::parse(other).into_iter().collect(),
        };
        for t in found {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out.sort();
    out
}

fn check_events(events: &[String]) -> Result<()> {
    for e in events {
        let known = e == "*"
            || e == "employee.*"
            || roster_store::EventType::parse(e).is_some()
            || DEFAULT_EVENTS.contains(&e.as_str())
            || e.ends_with(".applied") && !e.contains(char::is_whitespace);
        if !known {
            return Err(EngineError::Invalid(format!(
                "unknown event {e:?}: use {}, *, a change-feed type (employee.created …, \
                 import.applied) or employee.*",
                DEFAULT_EVENTS.join(", ")
            )));
        }
    }
    Ok(())
}

/// How a webhook receives the change feed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedOptions {
    /// The fields whose values it may receive (others: names only).
    pub fields: Vec<String>,
    /// Events per request at most (default [`FEED_BATCH`]).
    pub batch_size: Option<usize>,
}

/// A new webhook channel and its signing secret (shown once).
#[derive(Debug)]
pub struct NewWebhook {
    pub channel: Channel,
    pub secret: SecretString,
}

impl Engine {
    /// Recent notifications with their delivery state, newest first.
    pub async fn notifications(&self, limit: usize) -> Result<Vec<MessageState>> {
        Ok(self.store().notifications(self.account(), limit).await?)
    }

    /// Add a webhook. Without `secret` a random one is made; either way it is
    /// stored encrypted and returned once for the receiver's configuration.
    pub async fn add_webhook(
        &self,
        url: &str,
        secret: Option<SecretString>,
        events: Vec<String>,
    ) -> Result<NewWebhook> {
        self.add_webhook_with(url, secret, events, FeedOptions::default())
            .await
    }

    /// [`Engine::add_webhook`]; when `events` names change-feed types, the webhook
    /// is subscribed to the feed from now on, with `feed`'s fields and batch size.
    pub async fn add_webhook_with(
        &self,
        url: &str,
        secret: Option<SecretString>,
        events: Vec<String>,
        feed: FeedOptions,
    ) -> Result<NewWebhook> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|_| EngineError::Invalid("the webhook URL is not a valid URL".into()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(EngineError::Invalid(
                "the webhook URL must be http:// or https://".into(),
            ));
        }
        check_events(&events)?;
        use secrecy::ExposeSecret;
        let secret = secret
            .filter(|s| !s.expose_secret().is_empty())
            .unwrap_or_else(|| {
                SecretString::from(format!(
                    "whsec_{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                ))
            });
        let channel = self
            .store()
            .add_channel(NewChannel {
                account_id: self.account(),
                kind: ChannelKind::Webhook,
                target: parsed.to_string(),
                secret: Some(self.cipher().encrypt(secret.expose_secret().as_bytes())),
                events,
                at: self.clock().now(),
            })
            .await?;
        tracing::info!(channel = channel.id, "webhook added");
        let types = feed_types(&channel.events);
        if !types.is_empty() {
            self.store()
                .subscribe_feed(
                    self.account(),
                    roster_store::NewFeedSubscription {
                        channel_id: channel.id,
                        types,
                        fields: feed.fields,
                        batch_size: feed.batch_size.unwrap_or(FEED_BATCH).clamp(1, 10_000),
                    },
                )
                .await?;
        }
        Ok(NewWebhook { channel, secret })
    }

    /// Add an admin's email address.
    pub async fn add_email(&self, address: &str, events: Vec<String>) -> Result<Channel> {
        let address = address.trim();
        if !roster_core::normalise::valid_email(address) {
            return Err(EngineError::Invalid(
                "not a valid email address".to_string(),
            ));
        }
        check_events(&events)?;
        let channel = self
            .store()
            .add_channel(NewChannel {
                account_id: self.account(),
                kind: ChannelKind::Email,
                target: address.to_string(),
                secret: None,
                events,
                at: self.clock().now(),
            })
            .await?;
        tracing::info!(channel = channel.id, "email channel added");
        Ok(channel)
    }

    /// The account's change-feed subscriptions, by channel.
    pub async fn feed_subscriptions(&self) -> Result<Vec<roster_store::FeedSubscription>> {
        Ok(self.store().feed_subscriptions(self.account()).await?)
    }

    pub async fn channels(&self) -> Result<Vec<Channel>> {
        Ok(self.store().channels(self.account()).await?)
    }

    pub async fn remove_channel(&self, id: ChannelId) -> Result<bool> {
        Ok(self.store().delete_channel(self.account(), id).await?)
    }

    /// A webhook's signing secret, decrypted.
    pub fn channel_secret(&self, channel: &Channel) -> Result<Option<SecretString>> {
        channel
            .secret
            .as_deref()
            .map(|s| {
                let plain = self.cipher().decrypt(s)?;
                String::from_utf8(plain)
                    .map(SecretString::from)
                    .map_err(|_| EngineError::Crypto(crate::CryptoError::Decrypt))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = DeliveryPolicy::default();
        assert_eq!(p.backoff(1), SignedDuration::from_secs(30));
        assert_eq!(p.backoff(2), SignedDuration::from_secs(60));
        assert_eq!(p.backoff(4), SignedDuration::from_secs(240));
        assert_eq!(p.backoff(10), SignedDuration::from_hours(1));
        assert_eq!(p.backoff(1000), SignedDuration::from_hours(1));
    }
}
