//! Scheduled work and notification delivery: the jobs table (auto-sync per
//! integration, the daily end-date tick per account), claimed by workers with a lease,
//! and the delivery state of the outbox (channels, attempts, back-off).
//!
//! Every adapter implements [`JobStore`]; it is a supertrait of [`crate::Store`], so an
//! `Arc<dyn Store>` reaches it. The contract suite (`contract::jobs`) pins it down.
//!
//! Time: every method that compares with "now" takes it as an argument (the caller's
//! injected clock), so tests move time.
//!
//! Two kinds of method:
//! - per account (`upsert_job`, `jobs`, `renew_job`, `complete_job`, channels,
//!   deliveries): scoped like the rest of the store; another account's rows are
//!   invisible;
//! - fleet-wide (`claim_jobs`, `claim_outbox`): a worker serves every account, so it
//!   claims due rows of any account; each row names its account, and everything the
//!   worker does next is scoped by it.

use async_trait::async_trait;
use jiff::Timestamp;
use roster_core::schedule::Schedule;
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::{AccountId, ImportId, IntegrationId, OutboxMessage, Result};

pub type JobId = i64;
pub type ChannelId = i64;

/// What a job does when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum JobKind {
    /// An automatic sync of one integration.
    Sync,
    /// Apply the account's future end dates that came due (`Engine::tick`).
    Tick,
}

impl JobKind {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One scheduled job: its schedule, when it is next due, who holds it, how it last
/// went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub account_id: AccountId,
    /// The integration a `sync` job syncs; `None` for a `tick` job.
    pub integration_id: Option<IntegrationId>,
    pub kind: JobKind,
    pub schedule: Schedule,
    /// Switched on (auto-sync on). Off by default.
    pub enabled: bool,
    /// Paused: keeps its schedule, runs nothing until resumed.
    pub paused: bool,
    /// When it is next due; `None` while off or paused.
    pub next_run_at: Option<Timestamp>,
    /// The worker holding it, and until when (a crashed worker's lease runs out and
    /// the job is claimed again).
    pub lease_holder: Option<String>,
    pub lease_until: Option<Timestamp>,
    /// Completed runs.
    pub runs: i64,
    pub last_run_at: Option<Timestamp>,
    /// `applied`, `partially_applied`, `blocked`, `failed`, `skipped` …
    pub last_status: Option<String>,
    pub last_import_id: Option<ImportId>,
    /// Why the last run failed (no personal data).
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Why the job was put off without running (another sync of its integration
    /// held the lock …), until it next runs.
    pub postponed: Option<String>,
}

/// Create or change the job of `(account, kind, integration)`. The lease and the
/// run counters of an existing job are kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobUpsert {
    pub account_id: AccountId,
    pub integration_id: Option<IntegrationId>,
    pub kind: JobKind,
    pub schedule: Schedule,
    pub enabled: bool,
    pub paused: bool,
    pub next_run_at: Option<Timestamp>,
    pub at: Timestamp,
}

/// How a run ended, as recorded by [`JobStore::complete_job`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobDone {
    pub at: Timestamp,
    /// When it is due again (`None`: not until switched on again).
    pub next_run_at: Option<Timestamp>,
    /// The job ran (counted in `runs`, `last_*` set); `false` for a postponement
    /// (another sync of the integration was running).
    pub ran: bool,
    pub status: String,
    pub import_id: Option<ImportId>,
    pub error: Option<String>,
}

/// Where notifications go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum ChannelKind {
    /// An HTTPS endpoint, POSTed a JSON body signed with HMAC-SHA256.
    Webhook,
    /// An email address (an account admin), over SMTP.
    Email,
}

impl ChannelKind {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// A configured notification destination of an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub account_id: AccountId,
    pub kind: ChannelKind,
    /// The webhook URL, or the email address.
    pub target: String,
    /// A webhook's signing secret, encrypted by the engine.
    #[serde(skip_serializing)]
    pub secret: Option<Vec<u8>>,
    /// The events it receives (`sync.blocked` …); empty means the default set.
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewChannel {
    pub account_id: AccountId,
    pub kind: ChannelKind,
    pub target: String,
    pub secret: Option<Vec<u8>>,
    pub events: Vec<String>,
    pub at: Timestamp,
}

/// An outbox message claimed for delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingMessage {
    pub account_id: AccountId,
    pub message: OutboxMessage,
    /// Delivery rounds tried so far.
    pub attempts: i64,
}

/// An outbox message with its delivery state (for the UI).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageState {
    pub message: OutboxMessage,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    /// Given up after too many attempts.
    pub failed_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// One channel's delivery of one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub outbox_id: i64,
    pub channel_id: ChannelId,
    pub attempts: i64,
    pub last_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// One attempt to deliver a message to a channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub outbox_id: i64,
    pub channel_id: ChannelId,
    pub at: Timestamp,
    /// `None`: delivered.
    pub error: Option<String>,
}

/// How a delivery round of a message ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RoundDone {
    /// Every channel has it.
    Delivered { at: Timestamp },
    /// Some channel failed: try again then.
    Retry {
        at: Timestamp,
        next_attempt_at: Timestamp,
        error: String,
    },
    /// Too many attempts: given up.
    Failed { at: Timestamp, error: String },
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Create or change a job. A `sync` job's integration must be the account's
    /// (`NotFound` otherwise).
    async fn upsert_job(&self, job: JobUpsert) -> Result<Job>;
    async fn job(
        &self,
        account: AccountId,
        kind: JobKind,
        integration: Option<IntegrationId>,
    ) -> Result<Option<Job>>;
    /// The account's jobs, by id.
    async fn jobs(&self, account: AccountId) -> Result<Vec<Job>>;
    /// Fleet-wide: lease up to `limit` due jobs (on, not paused, `next_run_at <= now`,
    /// no live lease) to `worker` until `lease_until`, earliest due first. A job whose
    /// lease ran out (a crashed worker) is due again. Two workers never get the same
    /// job while its lease lives.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Job>>;
    /// Extend `worker`'s lease; `false` when it no longer holds the job.
    async fn renew_job(
        &self,
        account: AccountId,
        id: JobId,
        worker: &str,
        lease_until: Timestamp,
    ) -> Result<bool>;
    /// Record a run (or a postponement) and release the lease; `false` (and nothing
    /// written) when `worker` no longer holds the job.
    async fn complete_job(
        &self,
        account: AccountId,
        id: JobId,
        worker: &str,
        done: JobDone,
    ) -> Result<bool>;

    async fn add_channel(&self, channel: NewChannel) -> Result<Channel>;
    /// The account's channels, by id.
    async fn channels(&self, account: AccountId) -> Result<Vec<Channel>>;
    async fn delete_channel(&self, account: AccountId, id: ChannelId) -> Result<bool>;

    /// Fleet-wide: lease up to `limit` outbox messages due for delivery (not
    /// delivered, not given up, `next_attempt_at` unset or passed, no live lease),
    /// oldest first.
    async fn claim_outbox(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingMessage>>;
    /// Record one channel's attempt (the attempt count goes up by one).
    async fn record_delivery(&self, account: AccountId, attempt: DeliveryAttempt) -> Result<()>;
    /// Each channel's delivery of a message, by channel id.
    async fn deliveries(&self, account: AccountId, outbox_id: i64) -> Result<Vec<Delivery>>;
    /// End a delivery round: the round count goes up by one, the lease is released.
    /// `false` when `worker` no longer holds the message.
    async fn finish_delivery(
        &self,
        account: AccountId,
        outbox_id: i64,
        worker: &str,
        done: RoundDone,
    ) -> Result<bool>;
    /// Every message with its delivery state, newest first.
    async fn notifications(&self, account: AccountId, limit: usize) -> Result<Vec<MessageState>>;
}
