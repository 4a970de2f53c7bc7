//! The change feed's store types: which events to read, and a webhook's subscription
//! to them.

use jiff::Timestamp;
use roster_core::employee::EmployeeKey;
use serde::{Deserialize, Serialize};

use crate::{AccountId, Cursor, EventType, jobs};

/// Which events of the change feed to read ([`Store::events`]), in cursor order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    /// Only events after this cursor (0: from the first).
    pub after: Cursor,
    /// At most this many.
    pub limit: usize,
    /// Only events of these types (empty: every type).
    pub types: Vec<EventType>,
    /// Only events of this employee.
    pub employee: Option<EmployeeKey>,
}

/// A notification channel's subscription to the change feed (a webhook's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedSubscription {
    pub channel_id: jobs::ChannelId,
    pub account_id: AccountId,
    /// The event types it receives (`employee.created` …).
    pub types: Vec<EventType>,
    /// The fields whose values it may receive; of the others only the names.
    pub fields: Vec<String>,
    /// Events per request at most.
    pub batch_size: usize,
    /// The last event it accepted (or that it does not subscribe to and lies
    /// before one it accepted).
    pub cursor: Cursor,
    /// The last event of the batch being delivered: a retry sends exactly it again.
    pub pending_until: Option<Cursor>,
    /// Failed attempts in a row.
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
}

/// A new subscription: it starts after the account's last event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewFeedSubscription {
    pub channel_id: jobs::ChannelId,
    pub types: Vec<EventType>,
    pub fields: Vec<String>,
    pub batch_size: usize,
}

/// How a claimed subscription's delivery ended ([`Store::finish_feed`]); the lease
/// is released.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeedDone {
    /// Nothing (more) to send.
    Idle,
    /// The receiver did not accept the batch: the same batch again then.
    Retry {
        next_attempt_at: Timestamp,
        error: String,
    },
}
