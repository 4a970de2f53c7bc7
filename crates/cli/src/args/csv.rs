//! `roster import`'s arguments.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use roster_csv::DateFormat;

use super::ApplyArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// The file is everyone: employees missing from it follow `on_missing`.
    Full,
    /// Only the rows and columns in the file are updated; missing employees are untouched.
    Partial,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The users file (CSV, UTF-8; `roster users export` writes one).
    pub file: PathBuf,
    /// full: missing employees follow on_missing · partial: missing employees are untouched.
    #[arg(long, value_enum)]
    pub mode: Mode,
    /// Read a column as a directory field or mapped demographic: "Header=field"
    /// ("Header=" ignores it). Repeatable.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    pub map: Vec<String>,
    /// The column separator (default: detected from the header, `,` `;` or tab).
    #[arg(long, value_parser = roster_csv::parse_delimiter)]
    pub delimiter: Option<u8>,
    /// How dates are written: iso (YYYY-MM-DD) or mdy (MM/DD/YYYY, as spreadsheets export).
    #[arg(long, default_value = "iso", value_parser = parse_date_format)]
    pub date_format: DateFormat,
    /// Apply although some rows are in error: those rows are skipped and reported.
    #[arg(long)]
    pub skip_bad_rows: bool,
    #[command(flatten)]
    pub run: ApplyArgs,
    /// A full import: deactivate employees missing from the file, this once.
    #[arg(long)]
    pub deactivate_missing: bool,
    /// The integration whose settings and mapping apply (default: the first one; a
    /// `csv` integration is created when there is none).
    #[arg(long)]
    pub integration: Option<i64>,
    /// Write the plan to this file (.json or .csv).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the user file preview (the users as the import leaves them) to this CSV.
    #[arg(long)]
    pub preview: Option<PathBuf>,
    /// Show at most this many employees in the review.
    #[arg(long, default_value_t = 50)]
    pub show: usize,
}

fn parse_date_format(s: &str) -> Result<DateFormat, String> {
    DateFormat::parse(s).ok_or_else(|| format!("{s:?} is not iso (YYYY-MM-DD) or mdy (MM/DD/YYYY)"))
}
