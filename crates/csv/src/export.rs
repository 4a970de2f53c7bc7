//! The users export: every directory field, demographics as columns, `Manager Email`
//! and `Employee Deactivated` TRUE/FALSE. RFC 4180 (CRLF, quotes where needed), UTF-8.
//! The same columns read back in with [`crate::read`].
//!
//! Every CSV file Roster writes (this export, the user file preview, a plan written
//! with `--out plan.csv`) goes through [`Writer`]: cells a spreadsheet would run as a
//! formula (`=…`, `@…`, a tab or CR first, `+`/`-` followed by more than a number or
//! a phone number) are written with a leading `'`, which spreadsheets show as text
//! and [`crate::read`] takes off again (OWASP "CSV injection"). Phone numbers such as
//! `+1 555 0100` and negative numbers stay as they are, so the file still reads as
//! the directory.

use std::collections::BTreeSet;
use std::io::Write;

use roster_core::employee::Employee;
use roster_core::settings::{FieldKind, Settings};

use crate::columns::{Catalog, DEACTIVATED, DEMOGRAPHIC_HEADER_PREFIX, Field, READ_ONLY};

/// What to export.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Deactivated employees too (merged duplicates never: they are not people).
    pub include_deactivated: bool,
    /// Demographics not exported (mapped as `hidden`).
    pub hidden: BTreeSet<String>,
    /// Demographics whose names read as a directory column are written as
    /// `demographic:<name>` so they read back as demographics.
    pub shadowed: BTreeSet<String>,
}

impl ExportOptions {
    /// Hidden and shadowed demographics from an integration's settings.
    pub fn from_settings(settings: &Settings, include_deactivated: bool) -> Self {
        let hidden = settings
            .mapping
            .iter()
            .filter(|m| m.kind == FieldKind::Hidden)
            .map(|m| m.demographic.clone())
            .collect();
        let catalog = Catalog::new(settings);
        let shadowed = settings
            .mapping
            .iter()
            .filter(|m| catalog.shadows_demographic(&m.demographic))
            .map(|m| m.demographic.clone())
            .collect();
        Self {
            include_deactivated,
            hidden,
            shadowed,
        }
    }

    fn wanted(&self, e: &Employee) -> bool {
        e.merged_into.is_none() && (e.active || self.include_deactivated)
    }
}

/// What starts a formula in the common spreadsheets.
const FORMULA_START: [char; 6] = ['=', '@', '+', '-', '\t', '\r'];

/// True when a spreadsheet would run `cell` as a formula (a bare number or phone
/// number starting with `+` or `-` is only a number).
fn runs_as_formula(cell: &str) -> bool {
    let mut chars = cell.chars();
    match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !chars.all(|c| c.is_ascii_digit() || " ().-/".contains(c)),
        _ => false,
    }
}

/// `cell` as written: with a leading `'` when it would run as a formula, or when it
/// already starts with `'` before a formula character or another `'` (so that it
/// reads back as it was).
pub(crate) fn guard_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let quoted_already = cell
        .strip_prefix('\'')
        .is_some_and(|rest| rest.starts_with(FORMULA_START) || rest.starts_with('\''));
    if runs_as_formula(cell) || quoted_already {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A cell as read: the `'` [`guard_cell`] added taken off.
pub(crate) fn unguard_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

/// The one CSV writer of Roster: RFC 4180 (CRLF, quotes where needed), UTF-8, and
/// every cell, header included, neutralised the way the module docs say. Write
/// CSV files with this, never with `csv::Writer` directly.
pub struct Writer<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> std::fmt::Debug for Writer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Self {
            inner: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(out),
        }
    }

    /// One row (the header is a row too).
    pub fn row<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner.write_record(
            cells
                .into_iter()
                .map(|c| guard_cell(c.as_ref()).into_owned()),
        )
    }

    /// Flush, and give the output back.
    pub fn finish(self) -> Result<W, csv::Error> {
        self.inner
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

fn flag(b: bool) -> &'static str {
    if b { "TRUE" } else { "FALSE" }
}

/// The header row for these demographics.
pub fn header(demographics: &[String], options: &ExportOptions) -> Vec<String> {
    let mut h: Vec<String> = Vec::with_capacity(Field::ALL.len() + 6 + demographics.len());
    for f in Field::ALL {
        h.push(f.header().to_string());
        if f == Field::LatestRehireDate {
            h.push("Hire Date".into());
        }
    }
    h.push(DEACTIVATED.into());
    for (field, header) in READ_ONLY {
        if *field != "hire_date" {
            h.push(header.to_string());
        }
    }
    for d in demographics {
        if options.shadowed.contains(d) {
            h.push(format!("{DEMOGRAPHIC_HEADER_PREFIX}{d}"));
        } else {
            h.push(d.clone());
        }
    }
    h
}

/// Write the users file; returns the number of employees written.
pub fn export<W: Write>(
    out: W,
    employees: &[Employee],
    options: &ExportOptions,
) -> Result<usize, csv::Error> {
    let demographics: Vec<String> = employees
        .iter()
        .filter(|e| options.wanted(e))
        .flat_map(|e| e.demographics.keys())
        .filter(|d| !options.hidden.contains(*d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut w = Writer::new(out);
    w.row(header(&demographics, options))?;
    let mut row: Vec<String> = Vec::new();
    let mut n = 0;
    for e in employees.iter().filter(|e| options.wanted(e)) {
        row.clear();
        for f in Field::ALL {
            row.push(e.field(f.name()).unwrap_or_default());
            if f == Field::LatestRehireDate {
                row.push(e.field("hire_date").unwrap_or_default());
            }
        }
        row.push(flag(!e.active).into());
        for (field, _) in READ_ONLY {
            match *field {
                "hire_date" => {}
                "excluded" => row.push(flag(e.excluded).into()),
                "is_manager" => row.push(flag(e.is_manager).into()),
                other => row.push(e.field(other).unwrap_or_default()),
            }
        }
        for d in &demographics {
            row.push(
                e.demographics
                    .get(d)
                    .map(str::to_string)
                    .unwrap_or_default(),
            );
        }
        w.row(&row)?;
        n += 1;
    }
    w.finish()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_guards_every_cell_header_included() {
        let mut w = Writer::new(Vec::new());
        w.row(["=evil", "ok"]).unwrap();
        w.row(["@x", "+1 555 0100"]).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(text, "'=evil,ok\r\n'@x,+1 555 0100\r\n");
    }

    #[test]
    fn formulas_are_written_as_text_and_read_back() {
        for (cell, written) in [
            (
                r#"=HYPERLINK("http://x","y")"#,
                r#"'=HYPERLINK("http://x","y")"#,
            ),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("\t=1", "'\t=1"),
            ("'=already", "''=already"),
            ("''", "'''"),
            // Numbers, phone numbers and ordinary text stay as they are.
            ("+1 555 0100", "+1 555 0100"),
            ("+44 (20) 7946-0958", "+44 (20) 7946-0958"),
            ("-12.5", "-12.5"),
            ("Platform", "Platform"),
            ("O'Brien", "O'Brien"),
            ("'quoted'", "'quoted'"),
            ("", ""),
        ] {
            assert_eq!(guard_cell(cell), written, "{cell:?}");
            assert_eq!(unguard_cell(&guard_cell(cell)), cell, "{cell:?}");
        }
    }
}
