//! Delivering the outbox: every due message to every enabled channel of its account
//! that wants its event, each channel's attempt recorded, the round retried with
//! back-off or given up.

use super::*;

impl Worker {
    /// Deliver due outbox messages (every account), one claimed batch after another.
    pub async fn deliver(&self) -> Result<DeliveryReport, WorkerError> {
        let mut report = DeliveryReport::default();
        loop {
            let now = self.clock.now();
            let until = now
                .saturating_add(self.config.delivery_lease)
                .unwrap_or(Timestamp::MAX);
            let batch = self
                .store
                .claim_outbox(
                    &self.config.id,
                    now,
                    until,
                    self.config.delivery_batch.max(1),
                )
                .await?;
            if batch.is_empty() {
                return Ok(report);
            }
            for m in batch {
                match self.deliver_one(&m).await? {
                    RoundDone::Delivered { .. } => report.delivered += 1,
                    RoundDone::Retry { .. } => report.retried += 1,
                    RoundDone::Failed { .. } => report.failed += 1,
                }
            }
        }
    }

    async fn deliver_one(&self, m: &PendingMessage) -> Result<RoundDone, WorkerError> {
        let account = m.account_id;
        let engine = self.engine(account);
        let channels = self.store.channels(account).await?;
        let done: Vec<_> = self
            .store
            .deliveries(account, m.message.id)
            .await?
            .into_iter()
            .filter(|d| d.delivered_at.is_some())
            .map(|d| d.channel_id)
            .collect();
        let outgoing = Outgoing {
            id: m.message.id,
            event: m.message.event.clone(),
            account_id: account,
            import_id: m.message.import_id,
            created_at: m.message.created_at,
            data: m.message.payload.clone(),
        };
        let mut errors = Vec::new();
        for ch in channels
            .iter()
            .filter(|c| c.enabled && wants(c, &m.message.event) && !done.contains(&c.id))
        {
            let now = self.clock.now();
            let result = match ch.kind {
                roster_store::jobs::ChannelKind::Webhook => match engine.channel_secret(ch) {
                    // Not the channel's failure: leave the message (its lease runs
                    // out) and stop.
                    Err(EngineError::Crypto(CryptoError::Decrypt)) => {
                        self.become_unhealthy(WRONG_KEY);
                        return Err(WorkerError::Unhealthy(WRONG_KEY.into()));
                    }
                    Ok(Some(secret)) => self
                        .notifier
                        .send(
                            Destination::Webhook {
                                url: &ch.target,
                                secret: &secret,
                            },
                            &outgoing,
                            now,
                        )
                        .await
                        .map_err(|e| e.to_string()),
                    Ok(None) => Err("the webhook has no signing secret".to_string()),
                    Err(e) => Err(e.to_string()),
                },
                roster_store::jobs::ChannelKind::Email => self
                    .notifier
                    .send(Destination::Email { to: &ch.target }, &outgoing, now)
                    .await
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = &result {
                tracing::warn!(message = m.message.id, channel = ch.id, error = %e, "delivery failed");
                errors.push(format!("channel {}: {e}", ch.id));
            }
            self.store
                .record_delivery(
                    account,
                    DeliveryAttempt {
                        outbox_id: m.message.id,
                        channel_id: ch.id,
                        at: now,
                        error: result.err(),
                    },
                )
                .await?;
        }
        let now = self.clock.now();
        let rounds = m.attempts + 1;
        let done = if errors.is_empty() {
            RoundDone::Delivered { at: now }
        } else if rounds >= self.config.delivery.max_attempts {
            RoundDone::Failed {
                at: now,
                error: errors.join("; "),
            }
        } else {
            RoundDone::Retry {
                at: now,
                next_attempt_at: now
                    .saturating_add(self.config.delivery.backoff(rounds))
                    .unwrap_or(Timestamp::MAX),
                error: errors.join("; "),
            }
        };
        self.store
            .finish_delivery(account, m.message.id, &self.config.id, done.clone())
            .await?;
        Ok(done)
    }
}
