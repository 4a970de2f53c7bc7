//! Delivering the change feed to subscribed webhooks: per channel, batches of events
//! in cursor order, each retried until the receiver accepts it before the next is
//! sent (a channel never receives event N+1 before event N was accepted). A batch's
//! last event is recorded before it is sent, so a retry sends the same events with
//! the same delivery id; the cursor moves only when the receiver answered 2xx.

use roster_store::jobs::ChannelKind;
use roster_store::{EventQuery, FeedDone, FeedSubscription};

use super::*;
use crate::notify::{FeedBatch, minimised};

/// What a change-feed delivery pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FeedReport {
    /// Batches accepted.
    pub batches: usize,
    /// Events in them.
    pub events: usize,
    /// Channels left to retry later.
    pub retried: usize,
}

impl Worker {
    /// Deliver every due subscription's pending events (every account), one batch
    /// after another while the receiver accepts them.
    pub async fn deliver_feed(&self) -> Result<FeedReport, WorkerError> {
        let mut report = FeedReport::default();
        let now = self.clock.now();
        let until = now
            .saturating_add(self.config.delivery_lease)
            .unwrap_or(Timestamp::MAX);
        let claimed = self
            .store
            .claim_feed(
                &self.config.id,
                now,
                until,
                self.config.delivery_batch.max(1),
            )
            .await?;
        for sub in claimed {
            let done = self.deliver_subscription(sub.clone(), &mut report).await;
            let done = match done {
                Ok(done) => done,
                Err(e) => {
                    // Release the lease before giving up the pass.
                    let _ = self
                        .store
                        .finish_feed(
                            sub.account_id,
                            sub.channel_id,
                            &self.config.id,
                            FeedDone::Idle,
                        )
                        .await;
                    return Err(e);
                }
            };
            if matches!(done, FeedDone::Retry { .. }) {
                report.retried += 1;
            }
            self.store
                .finish_feed(sub.account_id, sub.channel_id, &self.config.id, done)
                .await?;
        }
        Ok(report)
    }

    /// Send the subscription's batches until none is left or one fails; how it
    /// ended (the cursor of the last accepted batch is recorded as it goes).
    async fn deliver_subscription(
        &self,
        mut sub: FeedSubscription,
        report: &mut FeedReport,
    ) -> Result<FeedDone, WorkerError> {
        let account = sub.account_id;
        let engine = self.engine(account);
        let Some(channel) = self
            .store
            .channels(account)
            .await?
            .into_iter()
            .find(|c| c.id == sub.channel_id && c.kind == ChannelKind::Webhook)
        else {
            return Ok(FeedDone::Idle);
        };
        let secret = match engine.channel_secret(&channel) {
            Err(EngineError::Crypto(CryptoError::Decrypt)) => {
                self.become_unhealthy(WRONG_KEY);
                return Err(WorkerError::Unhealthy(WRONG_KEY.into()));
            }
            Ok(Some(secret)) => secret,
            Ok(None) => return Ok(self.retry(&sub, "the webhook has no signing secret".into())),
            Err(e) => return Ok(self.retry(&sub, e.to_string())),
        };
        loop {
            let query = EventQuery {
                after: sub.cursor,
                limit: sub.batch_size.max(1),
                types: sub.types.clone(),
                employee: None,
            };
            let mut events = self.store.events(account, &query).await?;
            if let Some(until) = sub.pending_until {
                // A retry: exactly the batch sent before.
                events.retain(|e| e.cursor <= until);
            }
            let Some(last) = events.last().map(|e| e.cursor) else {
                return Ok(FeedDone::Idle);
            };
            let until = sub.pending_until.unwrap_or(last);
            let now = self.clock.now();
            let lease = now
                .saturating_add(self.config.delivery_lease)
                .unwrap_or(Timestamp::MAX);
            if sub.pending_until.is_none()
                && !self
                    .store
                    .start_feed_batch(account, sub.channel_id, &self.config.id, until, lease)
                    .await?
            {
                // The lease was lost: another worker has it now.
                return Ok(FeedDone::Idle);
            }
            let batch = FeedBatch {
                id: format!("feed-{}-{}-{}", sub.channel_id, sub.cursor, until),
                account_id: account,
                channel_id: sub.channel_id,
                after: sub.cursor,
                until,
                events: events.iter().map(|e| minimised(e, &sub.fields)).collect(),
            };
            if let Err(e) = self
                .notifier
                .send_feed(&channel.target, &secret, &batch, now)
                .await
            {
                tracing::warn!(channel = sub.channel_id, after = sub.cursor, error = %e, "feed delivery failed");
                return Ok(self.retry(&sub, e.to_string()));
            }
            report.batches += 1;
            report.events += events.len();
            // Accepted: record it before the next batch (the lease stays ours).
            if !self
                .store
                .accept_feed_batch(account, sub.channel_id, &self.config.id, until, now)
                .await?
            {
                return Ok(FeedDone::Idle);
            }
            sub.cursor = until;
            sub.pending_until = None;
            sub.attempts = 0;
        }
    }

    fn retry(&self, sub: &FeedSubscription, error: String) -> FeedDone {
        let now = self.clock.now();
        FeedDone::Retry {
            next_attempt_at: now
                .saturating_add(self.config.delivery.backoff(sub.attempts + 1))
                .unwrap_or(Timestamp::MAX),
            error,
        }
    }
}
