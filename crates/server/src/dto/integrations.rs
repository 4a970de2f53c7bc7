//! Integrations: connect, read, setup sync, sync lock, mapping and settings.

use std::collections::BTreeMap;

use jiff::Timestamp;
use roster_store::{Integration, IntegrationState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::shared::DiagnosticDto;

#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStateDto {
    Connected,
    NeedsFinalise,
    Active,
}

impl From<IntegrationState> for IntegrationStateDto {
    fn from(s: IntegrationState) -> Self {
        match s {
            IntegrationState::Connected => Self::Connected,
            IntegrationState::NeedsFinalise => Self::NeedsFinalise,
            IntegrationState::Active => Self::Active,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IntegrationDto {
    pub id: i64,
    /// `justworks` or `csv`.
    pub kind: String,
    pub name: String,
    pub state: IntegrationStateDto,
    pub company_name: Option<String>,
    pub member_count: Option<i64>,
    pub last_sync_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The source's API base URL (no secrets).
    pub base_url: Option<String>,
    /// `static` (a token) or `oauth`.
    pub mode: Option<String>,
    pub scopes: Vec<String>,
}

impl From<&Integration> for IntegrationDto {
    fn from(i: &Integration) -> Self {
        // Not exposed: the account (implied), settings and mapping (their own
        // endpoints), secrets, source fields (the mapping's), the incremental marker.
        let Integration {
            id,
            account_id: _,
            kind,
            name,
            state,
            settings: _,
            config,
            credentials: _,
            source_fields: _,
            company_name,
            member_count,
            last_fetch_at: _,
            last_sync_at,
            created_at,
        } = i;
        let text = |k: &str| config.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Self {
            id: *id,
            kind: kind.as_str().to_string(),
            name: name.clone(),
            state: (*state).into(),
            company_name: company_name.clone(),
            member_count: *member_count,
            last_sync_at: *last_sync_at,
            created_at: *created_at,
            base_url: text("base_url"),
            mode: text("mode"),
            scopes: config
                .get("scopes")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Connect Justworks: with `token` the integration is created at once; with
/// `client_id` and `client_secret` the answer carries the consent page to send the
/// admin's browser to, and the callback finishes the connection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectJustworksRequest {
    /// Default `Justworks`.
    #[serde(default)]
    pub name: Option<String>,
    /// A Justworks-compatible API base URL (default: the real service).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The consent page (default: Justworks', or `{base_url}/oauth/authorize` when
    /// `base_url` is given).
    #[serde(default)]
    pub authorize_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    /// Default: the scopes Roster needs, date of birth included.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub requests_per_second: Option<u32>,
    /// An access token used as is (scripts, tests). Skips OAuth.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectResponse {
    /// The new integration (token connections).
    pub integration: Option<IntegrationDto>,
    /// Send the admin's browser here (OAuth connections).
    pub authorize_url: Option<String>,
    /// The consent must come back before this instant.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OAuthCallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceFieldDto {
    pub key: String,
    pub label: String,
    /// The first populated value (never a date of birth).
    pub sample: Option<String>,
}

/// An integration's sync lock: who holds it (a sync or CSV import that applies).
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncLockDto {
    pub integration_id: i64,
    /// Whether anyone holds it.
    pub held: bool,
    /// `host:pid:start:nonce` of the holding process.
    pub holder: Option<String>,
    pub host: Option<String>,
    pub pid: Option<u32>,
    /// The fencing token: pass it to release exactly this lock.
    pub generation: Option<i64>,
    /// The lease ends then unless its holder renews it (a live holder does).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub lease_until: Option<jiff::Timestamp>,
    pub lease_expired: Option<bool>,
}

/// Release the lock as it was read: its generation, as `GET …/lock` showed it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UnlockRequest {
    pub generation: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnlockResponse {
    pub released: bool,
    /// The `unlock` import recording the release.
    pub import_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SetupReportDto {
    pub company_name: String,
    pub member_count: usize,
    pub source_fields: Vec<SourceFieldDto>,
    pub diagnostics: Vec<DiagnosticDto>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKindDto {
    /// Shown and exported.
    Default,
    /// Holds another employee's ID or email.
    Associated,
    /// Stored, not shown or exported by default.
    Hidden,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappedFieldDto {
    pub source_key: String,
    pub demographic: String,
    pub kind: FieldKindDto,
    pub sample: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingDto {
    /// Mapped automatically; fixed after the first import.
    pub core_fields: Vec<String>,
    pub mapping: Vec<MappedFieldDto>,
    /// Every source field with its sample value (from the setup sync).
    pub source_fields: Vec<SourceFieldDto>,
    /// Remarks, e.g. two demographics differing only by case.
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMappingRequest {
    pub demographic: String,
    /// Default `default`.
    #[serde(default)]
    pub kind: Option<FieldKindDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingDto {
    pub value: String,
    pub help: String,
}

/// Every setting by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsDto {
    pub settings: BTreeMap<String, SettingDto>,
}
