//! The API's wire types (and their OpenAPI schemas). Request bodies refuse unknown
//! fields, so a typo is an error naming the field rather than silently ignored.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::employee::Employee;
use roster_core::plan::{Change, Counts, Entry};
use roster_store::access::{ApiToken, Role, User};
use roster_store::{EntryRecord, HistoryEntry, ImportSummary, Integration, IntegrationState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

// ---- shared -----------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Viewer,
    EmployeeDataAdmin,
    AccountAdmin,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Viewer => Self::Viewer,
            Role::EmployeeDataAdmin => Self::EmployeeDataAdmin,
            Role::AccountAdmin => Self::AccountAdmin,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Viewer => Self::Viewer,
            RoleDto::EmployeeDataAdmin => Self::EmployeeDataAdmin,
            RoleDto::AccountAdmin => Self::AccountAdmin,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok`.
    pub status: &'static str,
}

/// Paging of a list.
#[derive(Clone, Copy, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Skip this many (default 0).
    #[serde(default)]
    pub offset: Option<usize>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

pub const MAX_LIMIT: usize = 1000;

pub fn limit_of(limit: Option<usize>, default: usize) -> usize {
    limit.unwrap_or(default).clamp(1, MAX_LIMIT)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CountsDto {
    pub created: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub reactivated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Employees whose changes are privacy-guarded.
    pub privacy: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl From<&Counts> for CountsDto {
    fn from(c: &Counts) -> Self {
        Self {
            created: c.created,
            updated: c.updated,
            deactivated: c.deactivated,
            reactivated: c.reactivated,
            unchanged: c.unchanged,
            skipped: c.skipped,
            privacy: c.privacy,
            errors: c.errors,
            warnings: c.warnings,
        }
    }
}

/// One field's change, with the rule that caused it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChangeDto {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// e.g. `source`, `end_date`, `on_missing`, `hire_date_priority`, `derived`; an
    /// admin's change: `admin_edit`, `merge`, `exclusion`, `rollback`.
    pub rule: String,
}

impl From<&Change> for ChangeDto {
    fn from(c: &Change) -> Self {
        Self {
            field: c.field.clone(),
            old: c.old.clone(),
            new: c.new.clone(),
            rule: c.rule.as_str().to_string(),
        }
    }
}

/// A note from the source or the file (a missing scope, an unknown column …).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DiagnosticDto {
    pub code: String,
    pub message: String,
}

/// An error or warning about one member, named by position and id.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IssueDto {
    /// `error` (the member is skipped) or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// Position of the member in the source (line for a file), when known.
    pub position: Option<usize>,
    pub employee_id: Option<String>,
    pub field: Option<String>,
}

// ---- integrations -------------------------------------------------------------

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
        let text = |k: &str| i.config.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Self {
            id: i.id,
            kind: i.kind.as_str().to_string(),
            name: i.name.clone(),
            state: i.state.into(),
            company_name: i.company_name.clone(),
            member_count: i.member_count,
            last_sync_at: i.last_sync_at,
            created_at: i.created_at,
            base_url: text("base_url"),
            mode: text("mode"),
            scopes: i
                .config
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

// ---- syncs and reviews --------------------------------------------------------

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSyncRequest {
    /// Fetch only members updated since the last applied sync.
    #[serde(default)]
    pub incremental: bool,
    /// Deactivate members missing from this full sync, this once.
    #[serde(default)]
    pub deactivate_missing: bool,
    /// Also read per-member custom-field values.
    #[serde(default)]
    pub custom_fields: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Apply the privacy-guarded employees too.
    #[serde(default)]
    pub confirm_privacy: bool,
    /// Apply despite the mass-change warning.
    #[serde(default)]
    pub confirm_mass_change: bool,
    /// A users file's review: import the good rows although some are in error.
    #[serde(default)]
    pub skip_bad_rows: bool,
}

#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatusDto {
    /// Waiting for apply or discard.
    Pending,
    /// An apply or discard is running now; others answer 409 meanwhile.
    Applying,
    Applied,
    Discarded,
    /// The apply failed, or stopped before it finished (its process ended): start a
    /// new sync; the import history says what the directory holds.
    Failed,
}

/// What applying as reviewed would do.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictDto {
    /// Applies; privacy-guarded employees are held unless confirmed.
    Apply,
    /// The mass-change guard fired: apply needs `confirm_mass_change`.
    NeedsConfirmation,
    /// A guard blocks it.
    Blocked,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MassChangeDto {
    pub triggered: bool,
    pub description: String,
    pub deactivations: usize,
    pub active_before: usize,
    pub id_changes: usize,
    pub matched: usize,
}

/// One employee the plan changes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReviewEntryDto {
    /// Position in the plan.
    pub index: usize,
    /// `create`, `update`, `deactivate` or `reactivate`.
    pub action: String,
    pub employee_id: String,
    /// The directory key; none for a create.
    pub key: Option<i64>,
    /// Two or more of name, date of birth and email change at once.
    pub privacy: bool,
    /// Held unless the apply confirms privacy.
    pub held: bool,
    pub id_change: bool,
    pub possible_duplicate_of: Option<String>,
    /// Every field change (for a create: every field from empty).
    pub changes: Vec<ChangeDto>,
}

impl ReviewEntryDto {
    pub fn new(index: usize, e: &Entry, held: bool) -> Self {
        Self {
            index,
            action: e.action.as_str().to_string(),
            employee_id: e.employee_id.clone(),
            key: e.key,
            privacy: e.privacy,
            held,
            id_change: e.id_change,
            possible_duplicate_of: e.possible_duplicate_of.clone(),
            changes: e.all_changes().iter().map(ChangeDto::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewEntriesPage {
    /// Entries matching the filter.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<ReviewEntryDto>,
}

/// Filters of the review's entries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryFilter {
    /// `create`, `update`, `deactivate` or `reactivate`.
    #[serde(default)]
    pub action: Option<String>,
    /// Only privacy-guarded employees (true) or only the others (false).
    #[serde(default)]
    pub privacy: Option<bool>,
    /// Only entries changing this field (e.g. `manager_email`, `demographic:Department`).
    #[serde(default)]
    pub field: Option<String>,
    /// Case-insensitive substring of the employee ID, email or name.
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub offset: Option<usize>,
    /// Default 50, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A reviewed sync, kept until applied or discarded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDto {
    pub id: i64,
    pub integration_id: i64,
    pub status: ReviewStatusDto,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// The import that applying or discarding recorded.
    pub import_id: Option<i64>,
    pub verdict: VerdictDto,
    pub today: Date,
    pub complete: bool,
    pub members_fetched: usize,
    pub counts: CountsDto,
    pub mass_change: MassChangeDto,
    /// Employee IDs held for privacy unless the apply confirms.
    pub privacy_held: Vec<String>,
    pub issues: Vec<IssueDto>,
    pub diagnostics: Vec<DiagnosticDto>,
    /// The first page of entries (all filters off); page on with `/entries`.
    pub entries: ReviewEntriesPage,
    /// A users file's review (`POST /api/v1/imports/csv` without `apply`); absent for
    /// a sync's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileReviewDto>,
}

/// The users file a review reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileReviewDto {
    pub file_name: String,
    /// `partial` or `full`.
    pub mode: String,
    /// Data rows read.
    pub rows: usize,
    /// Lines with an error: applying needs `skip_bad_rows` while there are any.
    pub bad_rows: Vec<usize>,
    /// Every issue, naming its line and column.
    pub messages: Vec<String>,
}

/// What applying a review did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplyResponse {
    pub review_id: i64,
    pub import_id: Option<i64>,
    /// `applied`, `partially_applied` (privacy-guarded employees held), `blocked` or
    /// `needs_confirmation` (nothing applied).
    pub status: String,
    pub counts: CountsDto,
    /// Employee IDs held for privacy.
    pub held: Vec<String>,
    /// The source changed since the review: the applied plan differs from the one
    /// reviewed (the import records what was applied).
    pub plan_changed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscardResponse {
    pub review_id: i64,
    /// The `discarded` import recording the review.
    pub import_id: i64,
}

// ---- imports ------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummaryDto {
    pub id: i64,
    pub integration_id: Option<i64>,
    /// `sync`, `csv_import`, `rollback`, `admin_edit` (an admin's set-email, exclude or
    /// include; older rows stored `manual`, read as `admin_edit`), `merge` or `tick`.
    pub kind: String,
    /// `manual` or `automatic`.
    pub trigger: String,
    /// `applied`, `partially_applied`, `blocked`, `discarded`, `failed`, `rolled_back`.
    pub status: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub counts: CountsDto,
}

impl From<&ImportSummary> for ImportSummaryDto {
    fn from(s: &ImportSummary) -> Self {
        Self {
            id: s.id,
            integration_id: s.integration_id,
            kind: s.kind.as_str().to_string(),
            trigger: s.trigger.as_str().to_string(),
            status: s.status.as_str().to_string(),
            started_at: s.started_at,
            finished_at: s.finished_at,
            counts: (&s.counts).into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportsQuery {
    /// At most this many, newest first (default 50, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportEntryDto {
    pub action: String,
    pub employee_id: String,
    pub key: Option<i64>,
    pub applied: bool,
    pub held: bool,
    pub privacy: bool,
    pub changes: Vec<ChangeDto>,
}

impl From<&EntryRecord> for ImportEntryDto {
    fn from(e: &EntryRecord) -> Self {
        Self {
            action: e.action.as_str().to_string(),
            employee_id: e.employee_id.clone(),
            key: e.key,
            applied: e.applied,
            held: e.held,
            privacy: e.privacy,
            changes: e.changes.iter().map(ChangeDto::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportDetailDto {
    pub summary: ImportSummaryDto,
    /// Issues, diagnostics, guard findings, file name … as recorded.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub entries_total: usize,
    pub offset: usize,
    pub limit: usize,
    pub entries: Vec<ImportEntryDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictDto {
    pub employee_id: String,
    /// Fields changed since, left as they are.
    pub fields: Vec<String>,
}

/// What an admin change (edit, exclude, merge, rollback) did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOutcomeDto {
    /// None when there was nothing to change.
    pub import_id: Option<i64>,
    pub entries: Vec<ReviewEntryDto>,
    /// Rollback: employees changed since, not rolled back.
    pub conflicts: Vec<ConflictDto>,
}

impl From<&roster_engine::ChangeOutcome> for ChangeOutcomeDto {
    fn from(o: &roster_engine::ChangeOutcome) -> Self {
        Self {
            import_id: o.import_id,
            entries: o
                .plan
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| ReviewEntryDto::new(i, e, false))
                .collect(),
            conflicts: o
                .conflicts
                .iter()
                .map(|c| ConflictDto {
                    employee_id: c.employee_id.clone(),
                    fields: c.fields.clone(),
                })
                .collect(),
        }
    }
}

// ---- users (the directory) -----------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeDto {
    /// The directory's key (stable).
    pub key: i64,
    pub employee_id: String,
    pub source_id: Option<String>,
    /// `null`: no email (a merged record's, or an employee without one).
    pub email: Option<String>,
    pub secondary_email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub preferred_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub start_date: Option<Date>,
    pub latest_rehire_date: Option<Date>,
    pub hire_date: Option<Date>,
    pub end_date: Option<Date>,
    pub manager_email: Option<String>,
    pub phone: Option<String>,
    pub demographics: BTreeMap<String, String>,
    pub active: bool,
    pub deactivation_reason: Option<String>,
    pub is_manager: bool,
    pub excluded: bool,
    pub email_edited: bool,
    pub merged_into: Option<i64>,
}

impl From<&Employee> for EmployeeDto {
    fn from(e: &Employee) -> Self {
        Self {
            key: e.key,
            employee_id: e.employee_id.clone(),
            source_id: e.source_id.clone(),
            email: (!e.email.is_empty()).then(|| e.email.clone()),
            secondary_email: e.secondary_email.clone(),
            first_name: e.first_name.clone(),
            last_name: e.last_name.clone(),
            preferred_name: e.preferred_name.clone(),
            date_of_birth: e.date_of_birth,
            start_date: e.start_date,
            latest_rehire_date: e.latest_rehire_date,
            hire_date: e.hire_date,
            end_date: e.end_date,
            manager_email: e.manager_email.clone(),
            phone: e.phone.clone(),
            demographics: e.demographics.clone(),
            active: e.active,
            deactivation_reason: e.deactivation_reason.map(|r| r.as_str().to_string()),
            is_manager: e.is_manager,
            excluded: e.excluded,
            email_edited: e.email_edited,
            merged_into: e.merged_into,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Case-insensitive substring of employee ID, email or a name.
    #[serde(default)]
    pub search: Option<String>,
    /// Deactivated employees too.
    #[serde(default)]
    pub include_deactivated: bool,
    #[serde(default)]
    pub offset: Option<usize>,
    /// Continue after this key: the previous page's `next_after`. Every page then costs
    /// the same, however deep (an `offset` walks the rows before it).
    #[serde(default)]
    pub after: Option<i64>,
    /// Default 100, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsersPage {
    pub items: Vec<EmployeeDto>,
    pub offset: usize,
    pub limit: usize,
    /// Employees in the listing (without a search), else none.
    pub total: Option<u64>,
    /// Offset of the next page, when there may be one.
    pub next_offset: Option<usize>,
    /// `after` for the next page (the last key of this one), when there may be one.
    pub next_after: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntryDto {
    pub import_id: i64,
    pub kind: String,
    pub at: Timestamp,
    pub action: String,
    pub changes: Vec<ChangeDto>,
    /// A line of a duplicate merged into this employee: the merged record's employee
    /// ID (DESIGN §6: merging moves the history). `null` for the employee's own.
    pub merged_from: Option<String>,
}

impl From<&HistoryEntry> for HistoryEntryDto {
    fn from(h: &HistoryEntry) -> Self {
        Self {
            import_id: h.import_id,
            kind: h.kind.as_str().to_string(),
            at: h.at,
            action: h.action.as_str().to_string(),
            changes: h.changes.iter().map(ChangeDto::from).collect(),
            merged_from: h.merged_from.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetailDto {
    pub employee: EmployeeDto,
    /// Newest first.
    pub history: Vec<HistoryEntryDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEmailRequest {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The original (employee ID or email) the duplicate is merged into.
    pub into: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Look this many days ahead (default 90 for upcoming, 30 for milestones; at most
    /// 366).
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpcomingDto {
    pub date: Date,
    /// `deactivation` or `start`.
    pub kind: String,
    pub employee_id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneDto {
    pub date: Date,
    /// `work_anniversary` or `birthday`.
    pub kind: String,
    pub employee_id: String,
    pub name: String,
    /// Years of service on that date (anniversaries only).
    pub years: Option<i16>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Deactivated employees too (`Employee Deactivated` TRUE).
    #[serde(default)]
    pub include_deactivated: bool,
}

// ---- access ---------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    pub role: RoleDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenDto {
    pub id: i64,
    pub name: String,
    pub role: RoleDto,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl From<&ApiToken> for ApiTokenDto {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            role: t.role.into(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenDto {
    /// Shown once: only its digest is stored.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiTokenDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebUserRequest {
    pub email: String,
    pub role: RoleDto,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebUserDto {
    pub id: i64,
    pub email: String,
    pub role: RoleDto,
    pub created_at: Timestamp,
}

impl From<&User> for WebUserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            role: u.role.into(),
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The account's name: needed only when this email and password sign in to
    /// several accounts (the answer is then 422 with `field: "account"`).
    #[serde(default)]
    pub account: Option<String>,
}

/// The caller, and for a web session the CSRF token its forms must send.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    pub account_id: i64,
    pub role: RoleDto,
    /// `token:ID` or `user:ID`.
    pub principal: String,
    /// Send in `X-CSRF-Token` on every change made with the session cookie.
    pub csrf_token: Option<String>,
    pub expires_at: Option<Timestamp>,
}

// ---- CSV import -------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CsvModeDto {
    /// Employees missing from the file follow `on_missing`; a row present means active.
    Full,
    /// Employees missing from the file are untouched.
    Partial,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CsvImportQuery {
    pub mode: CsvModeDto,
    /// Apply (otherwise review only: nothing is recorded).
    #[serde(default)]
    pub apply: bool,
    /// Import the good rows of a file with rows in error.
    #[serde(default)]
    pub skip_bad_rows: bool,
    #[serde(default)]
    pub confirm_privacy: bool,
    #[serde(default)]
    pub confirm_mass_change: bool,
    /// A full import: deactivate missing employees this once.
    #[serde(default)]
    pub deactivate_missing: bool,
    /// `iso` (YYYY-MM-DD, the default) or `mdy` (MM/DD/YYYY).
    #[serde(default)]
    pub date_format: Option<String>,
    /// The field separator: one character (`;`), or `tab`. Default: detected from
    /// the header line (`,`, `;` or tab).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// `map` parameters (taken from the query string by the handler, which
    /// documents them).
    #[serde(skip)]
    pub map: Vec<String>,
    /// Recorded in the history (default `upload.csv`).
    #[serde(default)]
    pub file_name: Option<String>,
    /// The integration whose settings and mapping apply (default: the first; a
    /// directory without one gets a `csv` integration).
    #[serde(default)]
    pub integration: Option<i64>,
}

/// What a CSV import did (or would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct CsvImportResponse {
    /// `reviewed`, `applied`, `partially_applied`, `blocked`, `needs_confirmation`, or
    /// `refused` (rows in error without `skip_bad_rows`: nothing applied).
    pub status: String,
    pub import_id: Option<i64>,
    /// A review (`reviewed`) is kept with the file: apply it with
    /// `POST /api/v1/reviews/{id}/apply`, or discard it.
    pub review_id: Option<i64>,
    pub rows: usize,
    pub counts: CountsDto,
    /// Lines with an error.
    pub bad_rows: Vec<usize>,
    /// Every issue, naming its line and column.
    pub messages: Vec<String>,
    pub held: Vec<String>,
    /// The first 100 entries.
    pub entries: Vec<ReviewEntryDto>,
}
