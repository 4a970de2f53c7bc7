#![forbid(unsafe_code)]
//! The `Source` port: where members come from. The engine plans from a [`Snapshot`]
//! and never learns whether it came over HTTP (Justworks) or from a file (CSV).

use std::sync::Arc;

use async_trait::async_trait;
use roster_core::member::{RejectedMember, SourceField, SourceMember};
use serde::{Deserialize, Serialize};

/// A named problem with what the source shares, e.g. a withheld scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Stable code, e.g. `scope_missing.member.dob:read`.
    pub code: String,
    /// Human sentence, e.g. "date of birth not shared: scope member.dob:read was not granted".
    pub message: String,
}

/// The company behind a connection, as read by the setup sync.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyInfo {
    pub id: String,
    pub name: String,
    /// Custom-field definitions as mappable source fields (`custom:<id>`, label).
    pub custom_fields: Vec<SourceField>,
}

/// Everything one fetch read. A snapshot is whole or it is an error: a fetch that
/// fails part-way must return `Err`, never a partial snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Members in source order; `position` is 1-based within this list.
    pub members: Vec<SourceMember>,
    /// True when this is the complete population (a full fetch). An incremental
    /// fetch is never complete, so nobody is treated as missing.
    pub complete: bool,
    /// Members the source could not parse; reported by id and position.
    pub rejected: Vec<RejectedMember>,
    /// Named problems, e.g. withheld scopes.
    pub diagnostics: Vec<Diagnostic>,
    /// Bytes read from the wire (for benchmarks and logs).
    pub bytes_read: u64,
    /// Requests made.
    pub requests: u64,
}

/// Progress of a running fetch.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchProgress {
    pub members: usize,
    pub requests: u64,
}

pub type ProgressFn = Arc<dyn Fn(FetchProgress) + Send + Sync>;

/// What to fetch.
#[derive(Clone, Default)]
pub struct FetchRequest {
    /// Only members updated at or after this instant (incremental sync).
    pub updated_since: Option<jiff::Timestamp>,
    /// Also read per-member custom-field values.
    pub custom_fields: bool,
    /// Called now and then while fetching.
    pub progress: Option<ProgressFn>,
    /// What Roster already knows of members: an incremental fetch resolves the
    /// managers outside it here first and asks the source only about the others.
    pub known: Option<Arc<dyn KnownMembers>>,
    /// About how many members the source holds (the setup sync's count): a full
    /// fetch sizes what holds them once by it (an incremental one ignores it). A
    /// hint, not a limit.
    pub expected_members: Option<usize>,
}

impl std::fmt::Debug for FetchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchRequest")
            .field("updated_since", &self.updated_since)
            .field("custom_fields", &self.custom_fields)
            .field("known", &self.known.is_some())
            .field("expected_members", &self.expected_members)
            .finish_non_exhaustive()
    }
}

/// Members Roster has seen before, as the source last gave them.
#[async_trait]
pub trait KnownMembers: Send + Sync {
    /// For each of these member ids Roster knows, its work email as the source last
    /// gave it (`None`: it had none). Ids left out are asked of the source.
    async fn work_emails(
        &self,
        source_ids: &[String],
    ) -> Result<std::collections::HashMap<String, Option<String>>, SourceError>;
}

/// Why a fetch failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("not authorised: {0}")]
    Unauthorized(String),
    #[error("access denied: {0}")]
    Forbidden(String),
    #[error("the source answered {status} for {what} after {attempts} attempt(s)")]
    Status {
        status: u16,
        what: String,
        attempts: u32,
    },
    #[error("could not reach the source for {what}: {message}")]
    Transport { what: String, message: String },
    /// The source URL (or an address its host resolves or redirects to) is one
    /// Roster does not connect to; nothing was sent there.
    #[error("the source address is not allowed: {0}")]
    AddressRefused(String),
    #[error("the source sent a malformed response for {what}: {message}")]
    Malformed { what: String, message: String },
    #[error("pagination stopped: {0}")]
    Pagination(String),
    #[error("{0}")]
    Other(String),
}

/// What [`Source::survey`] hands each member to, as it is read.
pub type MemberFn = Box<dyn FnMut(SourceMember) + Send>;

/// What a survey read: members counted and visited, not held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Survey {
    /// Members read (each once).
    pub members: usize,
    /// Named problems, e.g. withheld scopes.
    pub diagnostics: Vec<Diagnostic>,
    /// Requests made.
    pub requests: u64,
}

/// A place members come from.
#[async_trait]
pub trait Source: Send + Sync {
    /// Short kind name, e.g. `justworks`, `csv`.
    fn kind(&self) -> &'static str;
    /// The company and its custom-field definitions.
    async fn company(&self) -> Result<CompanyInfo, SourceError>;
    /// Read members. `Err` means nothing may be planned from this fetch.
    async fn fetch(&self, request: FetchRequest) -> Result<Snapshot, SourceError>;

    /// Read every member once and hand each to `visit` as it is read, without
    /// holding them all (the setup sync counts members and samples values; managers
    /// are not resolved and custom-field values not read). By default a fetch.
    async fn survey(
        &self,
        mut visit: MemberFn,
        progress: Option<ProgressFn>,
    ) -> Result<Survey, SourceError> {
        let snapshot = self
            .fetch(FetchRequest {
                progress,
                ..FetchRequest::default()
            })
            .await?;
        let members = snapshot.members.len();
        snapshot.members.into_iter().for_each(&mut visit);
        Ok(Survey {
            members,
            diagnostics: snapshot.diagnostics,
            requests: snapshot.requests,
        })
    }

    /// One member's custom-field values (`custom:<id>` → value); `None` when the
    /// source does not share them (then asking about other members is no use). By
    /// default none.
    async fn custom_values(
        &self,
        _source_id: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, SourceError> {
        Ok(None)
    }
}
