//! Users file imports.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::reviews::ReviewEntryDto;
use super::shared::CountsDto;

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
