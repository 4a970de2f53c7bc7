//! Integrations: their lifecycle state, what they read from, their settings, and
//! who holds their sync lock.

use jiff::Timestamp;
use roster_core::member::SourceField;
use roster_core::settings::Settings;
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::jobs;
use crate::{AccountId, IntegrationId};

/// Where an integration is in its lifecycle (DESIGN §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum IntegrationState {
    /// Credentials stored; no setup sync yet.
    Connected,
    /// Setup sync done; the first manual sync has not been applied.
    NeedsFinalise,
    /// The first sync was applied.
    Active,
}

impl IntegrationState {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// What an integration reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum IntegrationKind {
    /// The Justworks Partner API.
    Justworks,
    /// Uploaded CSV files.
    Csv,
}

impl IntegrationKind {
    /// The name, as stored and shown (strum's `IntoStaticStr`; also `Display`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant of a stored name (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One source connection of an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub account_id: AccountId,
    pub kind: IntegrationKind,
    pub name: String,
    pub state: IntegrationState,
    pub settings: Settings,
    /// Non-secret connection settings (base URL, client id, scopes …).
    pub config: serde_json::Value,
    /// Encrypted credentials (the engine encrypts; the store never sees plaintext).
    pub credentials: Option<Vec<u8>>,
    /// Source fields with sample values, from the setup sync.
    pub source_fields: Vec<SourceField>,
    pub company_name: Option<String>,
    pub member_count: Option<i64>,
    /// When the last applied sync started fetching (for incremental syncs).
    pub last_fetch_at: Option<Timestamp>,
    pub last_sync_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewIntegration {
    pub account_id: AccountId,
    pub kind: IntegrationKind,
    pub name: String,
    pub config: serde_json::Value,
    pub credentials: Option<Vec<u8>>,
    pub settings: Settings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationUpdate {
    pub state: Option<IntegrationState>,
    pub last_fetch_at: Option<Timestamp>,
    pub last_sync_at: Option<Timestamp>,
}

/// Who holds an integration's sync lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncLockInfo {
    pub holder: String,
    /// The fencing token: it grows with every take of the lock (a renewal by the same
    /// holder keeps it).
    pub generation: i64,
    /// The lease ends then unless renewed.
    pub until: Timestamp,
}

/// What a fenced write checks in its transaction before it writes anything: the
/// sync lock is still this holder's, at this generation, and the job (if any) is
/// still leased to this worker. Otherwise the write is [`StoreError::Fenced`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fence {
    pub integration: IntegrationId,
    pub holder: String,
    pub generation: i64,
    /// `(job id, worker)`: the job this run belongs to.
    pub job: Option<(jobs::JobId, String)>,
}
