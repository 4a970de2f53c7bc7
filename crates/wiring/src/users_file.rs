//! Users file intake, shared by `roster import` and `POST /api/v1/imports/csv` (and
//! the review of an upload applied later): parse the `map` entries, read the file
//! with the integration's settings (`roster-csv`), record a file that fails as a
//! whole when it was to be applied, and build the engine's [`FileImport`].

use std::collections::BTreeMap;
use std::io::Read;

use roster_csv::{DateFormat, ReadOptions};
use roster_engine::{Engine, EngineError, FileImport};
use roster_source::Diagnostic;
use roster_store::{ImportId, Integration};

/// How to read a users file: what `roster import`'s flags or the API's query say.
#[derive(Clone, Debug, Default)]
pub struct ReadRequest {
    /// The file's name as the admin gave it (recorded in the history).
    pub file_name: String,
    /// Full (missing employees follow `on_missing`) or partial.
    pub full: bool,
    /// `None`: detected from the header line.
    pub delimiter: Option<u8>,
    pub date_format: DateFormat,
    /// `HEADER=field` entries (`--map`, `map=`); one that does not parse fails the
    /// file.
    pub map: Vec<String>,
    /// The file is to be applied: a file that fails as a whole is recorded as a
    /// failed import.
    pub apply: bool,
}

/// A users file, read: what the engine plans, and the columns that name the line
/// and column of each planning issue (`roster_csv::describe`).
#[derive(Clone, Debug)]
pub struct UsersFile {
    pub import: FileImport,
    /// Issue field → column header ([`roster_csv::Layout::column_names`]).
    pub columns: BTreeMap<String, String>,
}

/// Why a users file was not read.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The file fails as a whole (or a `map` entry does not parse): nothing was
    /// planned. `recorded`: the failed import recording it (on apply).
    #[error("{message}")]
    Unreadable {
        message: String,
        recorded: Option<ImportId>,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Parse `HEADER=field` entries.
pub fn parse_map(specs: &[String]) -> Result<Vec<(String, String)>, String> {
    specs.iter().map(|s| roster_csv::parse_map(s)).collect()
}

/// Read a users file (`input`: the opened file, or why it could not be opened) for
/// `integration` with its settings and mapping. A file that fails as a whole is
/// recorded as a failed import when `request.apply`.
pub async fn read_users_file(
    engine: &Engine,
    integration: &Integration,
    input: Result<impl Read, String>,
    request: &ReadRequest,
) -> Result<UsersFile, IntakeError> {
    // The map first: a bad entry is named even when the file is also unreadable.
    let read = parse_map(&request.map)
        .and_then(|map| input.and_then(|reader| read(reader, integration, request, map)));
    match read {
        Ok(file) => Ok(file),
        Err(message) => {
            let recorded = if request.apply {
                Some(
                    engine
                        .record_file_failure(integration, &request.file_name, &message)
                        .await?,
                )
            } else {
                None
            };
            Err(IntakeError::Unreadable { message, recorded })
        }
    }
}

fn read(
    reader: impl Read,
    integration: &Integration,
    request: &ReadRequest,
    map: Vec<(String, String)>,
) -> Result<UsersFile, String> {
    let options = ReadOptions {
        delimiter: request.delimiter,
        date_format: request.date_format,
        map,
    };
    let csv =
        roster_csv::read(reader, &integration.settings, &options).map_err(|e| e.to_string())?;
    let columns = csv.layout.column_names();
    let import = FileImport {
        file_name: request.file_name.clone(),
        rows: csv.rows,
        bytes: csv.bytes,
        members: csv.members,
        rejected: csv.rejected,
        full: request.full,
        fields: csv.layout.fields(request.full),
        diagnostics: csv
            .notes
            .into_iter()
            .map(|n| Diagnostic {
                code: n.code,
                message: n.message,
            })
            .collect(),
        columns: serde_json::to_value(&columns).map_err(|e| e.to_string())?,
    };
    Ok(UsersFile { import, columns })
}
