#![forbid(unsafe_code)]
//! CSV files in and out of Roster (issue #5).
//!
//! - [`read()`] turns a users file into source members for the core's planner, the
//!   same path as the API sync: normalising, validation, matching, guards and
//!   history are the core's. This crate only knows the file: its dialect (byte
//!   order mark, CRLF, quoted newlines, `,` `;` or tab, `MM/DD/YYYY` dates), which
//!   column holds which field, and the problems only a file has (wrong column count,
//!   invalid UTF-8, a date or flag it cannot read), each named by line and column.
//! - [`export()`] writes the directory as a users file that reads back unchanged;
//!   [`Writer`] is the one CSV writer (formulas neutralised) of every file Roster writes.
//! - [`describe`] names the line and column of any planning issue of a file.
//!
//! A row's identity is its `Employee ID` (matched like the API sync's employee IDs,
//! DESIGN §5), else its email; it carries no source id of its own, so planning with
//! the columns present as `only_fields` leaves employees' source ids alone.

pub mod columns;
mod export;
mod read;

use std::collections::BTreeMap;

use roster_core::issue::{Issue, Severity};

pub use columns::{Column, DEACTIVATED, Field, Layout, Target, parse_map};
pub use export::{ExportOptions, Writer, export, header};
pub use read::{CsvFile, DateFormat, Note, ReadOptions, parse_delimiter, read};

/// A file that fails as a whole: nothing may be planned from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("could not read the file: {0}")]
    Io(String),
    #[error("the file is empty: a users file starts with a header row")]
    Empty,
    #[error("line 1, column {column}: the header is not valid UTF-8")]
    HeaderNotUtf8 { column: usize },
    #[error(
        "line 1: the header has neither an \"Employee ID\" nor an \"Email\" column, so no row could be matched"
    )]
    NoIdentifier,
    #[error("line 1: columns {first:?} and {second:?} both hold {target}")]
    DuplicateColumn {
        first: String,
        second: String,
        target: String,
    },
    #[error("line 1: column {column:?} needs a {needs:?} column beside it")]
    NeedsColumn {
        column: &'static str,
        needs: &'static str,
    },
    #[error("--map {spec:?}: {message}")]
    Map { spec: String, message: String },
}

/// Name the line and column of a planning issue of a file read with [`read()`]:
/// `error: line 7, column "Email": work_email is not a valid email address`.
/// `columns` is [`Layout::column_names`].
pub fn describe(issue: &Issue, columns: &BTreeMap<String, String>) -> String {
    let sev = match issue.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    // The core numbers members "#N"; a file's members are its lines.
    let message = issue
        .message
        .replace("members #", "lines ")
        .replace(", #", ", ")
        .replace("member #", "line ");
    let column = issue.field.as_deref().and_then(|f| columns.get(f));
    match (issue.position, column) {
        (Some(line), Some(col)) => format!("{sev}: line {line}, column {col:?}: {message}"),
        (Some(line), None) => format!("{sev}: line {line}: {message}"),
        (None, Some(col)) => format!("{sev}: column {col:?}: {message}"),
        (None, None) => format!("{sev}: {message}"),
    }
}
