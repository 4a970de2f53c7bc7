//! Channels' subscriptions to the change feed (`feed_subscriptions`, migration
//! 0009): where each is, its batch in flight, its back-off and its lease.

use jiff::Timestamp;
use roster_core::feed::EventType;

use super::adapter::Adapter;
use super::codec::{from_json, limit, to_json};
use super::query::{Columns, Executor, Query};
use crate::jobs::ChannelId;
use crate::{
    AccountId, Cursor, FeedDone, FeedSubscription, NewFeedSubscription, Result, StoreError,
};

const SELECT: &str = "channel_id, account_id, types, fields, batch_size, cursor_no, \
     pending_until, attempts, next_attempt_at, last_error, delivered_at";

fn from_row(row: &impl Columns) -> Result<FeedSubscription> {
    let types: Vec<String> = from_json(
        row.text(2, "feed_subscriptions.types")?,
        "feed_subscriptions.types",
    )?;
    Ok(FeedSubscription {
        channel_id: row.int(0, "feed_subscriptions.channel_id")?,
        account_id: row.int(1, "feed_subscriptions.account_id")?,
        types: types
            .iter()
            .map(|t| EventType::parse(t).ok_or_else(|| super::corrupt("feed_subscriptions.types")))
            .collect::<Result<_>>()?,
        fields: from_json(
            row.text(3, "feed_subscriptions.fields")?,
            "feed_subscriptions.fields",
        )?,
        batch_size: usize::try_from(row.int(4, "feed_subscriptions.batch_size")?).unwrap_or(1),
        cursor: row.int(5, "feed_subscriptions.cursor_no")?,
        pending_until: row.opt_int(6, "feed_subscriptions.pending_until")?,
        attempts: row.int(7, "feed_subscriptions.attempts")?,
        next_attempt_at: row.opt_ts(8, "feed_subscriptions.next_attempt_at")?,
        last_error: row.opt_string(9, "feed_subscriptions.last_error")?,
        delivered_at: row.opt_ts(10, "feed_subscriptions.delivered_at")?,
    })
}

async fn one<A: Adapter>(a: &A, channel: ChannelId) -> Result<Option<FeedSubscription>> {
    let row = a
        .pool_executor()
        .fetch_optional(
            Query::new(format!(
                "SELECT {SELECT} FROM feed_subscriptions WHERE channel_id = $1"
            ))
            .bind(channel),
        )
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn subscribe_feed<A: Adapter>(
    a: &A,
    account: AccountId,
    sub: NewFeedSubscription,
) -> Result<FeedSubscription> {
    let types: Vec<&str> = sub.types.iter().map(|t| t.as_str()).collect();
    let batch = i64::try_from(sub.batch_size.max(1)).unwrap_or(i64::MAX);
    // The channel must be the account's; the subscription starts after the
    // account's last event.
    let done = a
        .pool_executor()
        .execute(
            Query::new(
                "INSERT INTO feed_subscriptions (channel_id, account_id, types, fields, batch_size, \
                 cursor_no, attempts) \
                 SELECT c.id, c.account_id, $3, $4, $5, \
                 (SELECT COALESCE(MAX(cursor_no), 0) FROM events WHERE account_id = $2), 0 \
                 FROM notification_channels c WHERE c.id = $1 AND c.account_id = $2 \
                 ON CONFLICT (channel_id) DO UPDATE SET types = excluded.types, \
                 fields = excluded.fields, batch_size = excluded.batch_size",
            )
            .bind(sub.channel_id)
            .bind(account)
            .bind(to_json(&types)?)
            .bind(to_json(&sub.fields)?)
            .bind(batch),
        )
        .await?;
    if done == 0 {
        return Err(StoreError::NotFound {
            what: "notification channel",
            id: sub.channel_id.to_string(),
        });
    }
    one(a, sub.channel_id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "notification channel",
            id: sub.channel_id.to_string(),
        })
}

pub(super) async fn feed_subscriptions<A: Adapter>(
    a: &A,
    account: AccountId,
) -> Result<Vec<FeedSubscription>> {
    let rows = a
        .pool_executor()
        .fetch_all(
            Query::new(format!(
                "SELECT {SELECT} FROM feed_subscriptions WHERE account_id = $1 ORDER BY channel_id"
            ))
            .bind(account),
        )
        .await?;
    rows.iter().map(from_row).collect()
}

pub(super) async fn claim_feed<A: Adapter>(
    a: &A,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    n: usize,
) -> Result<Vec<FeedSubscription>> {
    let due = "(s.next_attempt_at IS NULL OR s.next_attempt_at <= $1) \
               AND (s.lease_until IS NULL OR s.lease_until <= $1)";
    let candidates = a
        .pool_executor()
        .fetch_all(
            Query::new(format!(
                "SELECT s.channel_id FROM feed_subscriptions s \
                 JOIN notification_channels c ON c.id = s.channel_id \
                 WHERE c.enabled AND {due} ORDER BY s.channel_id LIMIT $2"
            ))
            .bind(now)
            .bind(limit(n)),
        )
        .await?;
    let mut out = Vec::new();
    for row in &candidates {
        let channel = row.int(0, "feed_subscriptions.channel_id")?;
        // One statement: of two workers, the second finds the lease taken.
        let taken = a
            .pool_executor()
            .execute(
                Query::new(format!(
                    "UPDATE feed_subscriptions AS s SET lease_holder = $3, lease_until = $4 \
                     WHERE s.channel_id = $2 AND {due}"
                ))
                .bind(now)
                .bind(channel)
                .bind(worker)
                .bind(lease_until),
            )
            .await?;
        if taken == 1
            && let Some(sub) = one(a, channel).await?
        {
            out.push(sub);
        }
    }
    Ok(out)
}

pub(super) async fn start_feed_batch<A: Adapter>(
    a: &A,
    account: AccountId,
    channel: ChannelId,
    worker: &str,
    until: Cursor,
    lease_until: Timestamp,
) -> Result<bool> {
    let done = a
        .pool_executor()
        .execute(
            Query::new(
                "UPDATE feed_subscriptions SET pending_until = $4, lease_until = $5 \
                 WHERE channel_id = $1 AND account_id = $2 AND lease_holder = $3",
            )
            .bind(channel)
            .bind(account)
            .bind(worker)
            .bind(until)
            .bind(lease_until),
        )
        .await?;
    Ok(done == 1)
}

pub(super) async fn accept_feed_batch<A: Adapter>(
    a: &A,
    account: AccountId,
    channel: ChannelId,
    worker: &str,
    until: Cursor,
    at: Timestamp,
) -> Result<bool> {
    let done = a
        .pool_executor()
        .execute(
            Query::new(
                "UPDATE feed_subscriptions SET cursor_no = $4, pending_until = NULL, \
                 attempts = 0, next_attempt_at = NULL, last_error = NULL, delivered_at = $5 \
                 WHERE channel_id = $1 AND account_id = $2 AND lease_holder = $3",
            )
            .bind(channel)
            .bind(account)
            .bind(worker)
            .bind(until)
            .bind(at),
        )
        .await?;
    Ok(done == 1)
}

pub(super) async fn finish_feed<A: Adapter>(
    a: &A,
    account: AccountId,
    channel: ChannelId,
    worker: &str,
    done: FeedDone,
) -> Result<bool> {
    let release = "lease_holder = NULL, lease_until = NULL";
    let owner = "WHERE channel_id = $1 AND account_id = $2 AND lease_holder = $3";
    let q = match done {
        FeedDone::Idle => Query::new(format!("UPDATE feed_subscriptions SET {release} {owner}")),
        FeedDone::Retry {
            next_attempt_at,
            error,
        } => Query::new(format!(
            "UPDATE feed_subscriptions SET attempts = attempts + 1, next_attempt_at = $4, \
             last_error = $5, {release} {owner}"
        ))
        .bind(next_attempt_at)
        .bind(error),
    };
    // The owner's parameters come first.
    let (sql, tail) = q.into_parts();
    let mut q = Query::new(sql).bind(channel).bind(account).bind(worker);
    for arg in tail {
        q = q.bind(arg);
    }
    Ok(a.pool_executor().execute(q).await? == 1)
}
