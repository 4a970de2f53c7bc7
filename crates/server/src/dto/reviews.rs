//! Syncs and their reviews: start, read, page entries, apply, discard.

use jiff::Timestamp;
use jiff::civil::Date;
use roster_core::plan::Entry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::shared::{ChangeDto, CountsDto, DiagnosticDto, IssueDto};

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
        // Not exposed: the source id and the employee as it will be (the changes say
        // what moves).
        let Entry {
            action,
            key,
            changes: _,
            after: _,
            privacy,
            id_change,
            possible_duplicate_of,
        } = e;
        Self {
            index,
            action: action.as_str().to_string(),
            employee_id: e.employee_id().to_string(),
            key: *key,
            privacy: *privacy,
            held,
            id_change: *id_change,
            possible_duplicate_of: possible_duplicate_of.clone(),
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
