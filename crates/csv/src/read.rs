//! Reading a users file into source members: streamed record by record, with the
//! dialect handled here (byte order mark, CRLF, quoted newlines, `,` `;` or tab,
//! `MM/DD/YYYY` dates) and everything else left to the core's normalising.

use std::collections::VecDeque;
use std::io::{Cursor, Read};

use jiff::civil::Date;
use roster_core::fields::MEMBER_TYPE;
use roster_core::member::{ManagerRef, RejectedMember, SourceMember};
use roster_core::settings::Settings;
use serde::{Deserialize, Serialize};

use crate::FileError;
use crate::columns::{self, Catalog, Field, Layout, Target};

/// How dates are written in the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// `YYYY-MM-DD` only.
    #[default]
    Iso,
    /// `MM/DD/YYYY` as spreadsheets export it (`M/D/YYYY` too); `YYYY-MM-DD` is
    /// still accepted since it cannot be misread.
    Mdy,
}

impl DateFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "iso" | "ymd" | "yyyy-mm-dd" => Some(Self::Iso),
            "mdy" | "us" | "mm/dd/yyyy" => Some(Self::Mdy),
            _ => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Iso => "YYYY-MM-DD",
            Self::Mdy => "MM/DD/YYYY",
        }
    }

    /// A date as the file writes it → the date.
    pub fn read(self, s: &str) -> Option<Date> {
        if let Some(d) = iso(s) {
            return Some(d);
        }
        if self != Self::Mdy {
            return None;
        }
        let mut parts = s.split('/');
        let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
        let small = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
        if parts.next().is_some() || !small(m) || !small(d) || y.len() != 4 {
            return None;
        }
        if !y.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
    }
}

/// Strict `YYYY-MM-DD`.
fn iso(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) {
        return None;
    }
    if !digits(5..7) || !digits(8..10) {
        return None;
    }
    s.parse().ok()
}

/// Parse a `--delimiter` value: one ASCII character, or `tab`.
pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Ok(s.as_bytes()[0])
        }
        _ => Err(format!(
            "--delimiter {s:?} must be one ASCII character (e.g. \";\"), or \"tab\""
        )),
    }
}

/// How to read a file.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// `None`: detected from the header line (`,`, `;` or tab).
    pub delimiter: Option<u8>,
    pub date_format: DateFormat,
    /// `--map` entries: header → directory field or mapped demographic ("" ignores).
    pub map: Vec<(String, String)>,
}

/// A file-level remark (an unknown column, the detected delimiter …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub code: String,
    pub message: String,
}

/// A users file, read.
#[derive(Clone, Debug, Default)]
pub struct CsvFile {
    /// Rows that parsed, in file order; `position` is the row's first line.
    pub members: Vec<SourceMember>,
    /// Rows that did not (wrong column count, invalid UTF-8, a bad date or flag):
    /// `position` is the line, `reason` names the column.
    pub rejected: Vec<RejectedMember>,
    /// Data rows read (blank rows aside).
    pub rows: usize,
    pub bytes: u64,
    pub delimiter: u8,
    pub layout: Layout,
    pub notes: Vec<Note>,
}

/// How much of the file is looked at to find the byte order mark and the delimiter.
const PREFIX: u64 = 64 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most frequent of `,` `;` and tab on the first line, outside quotes (`,` on a tie).
fn detect_delimiter(prefix: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in prefix {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// The input, remembering where its recent newlines are so that a record's first
/// line can be named exactly (the csv crate's record positions count the blank lines
/// and the `\n` of a CRLF before a record as part of it).
struct Lines<R> {
    inner: R,
    offset: u64,
    newlines: VecDeque<u64>,
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                self.newlines.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> Lines<R> {
    /// The first line of the record that ends at byte `end` on line `after` (the
    /// reader's position after it), holding `inner` newlines inside quotes.
    fn first_line(&mut self, end: u64, after: u64, inner: u64) -> u64 {
        let terminated = end > 0 && self.newlines.binary_search(&(end - 1)).is_ok();
        while self.newlines.front().is_some_and(|&o| o < end) {
            self.newlines.pop_front();
        }
        after
            .saturating_sub(inner)
            .saturating_sub(u64::from(terminated))
            .max(1)
    }
}

fn truthy(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

fn io(e: impl std::fmt::Display) -> FileError {
    FileError::Io(e.to_string())
}

/// Read a users file. Row problems are returned as rejected rows; `Err` means the
/// file fails as a whole and nothing may be planned from it.
pub fn read<R: Read>(
    mut input: R,
    settings: &Settings,
    options: &ReadOptions,
) -> Result<CsvFile, FileError> {
    // Look at the start of the file without loading the rest of it.
    let mut prefix = Vec::with_capacity(PREFIX as usize);
    (&mut input)
        .take(PREFIX)
        .read_to_end(&mut prefix)
        .map_err(io)?;
    let bom = prefix.starts_with(BOM);
    if bom {
        prefix.drain(..BOM.len());
    }
    let detected = options.delimiter.is_none();
    let delimiter = options
        .delimiter
        .unwrap_or_else(|| detect_delimiter(&prefix));
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(64 * 1024)
        .from_reader(Lines {
            inner: Cursor::new(prefix).chain(input),
            offset: 0,
            newlines: VecDeque::new(),
        });

    let mut record = csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut record).map_err(io)? {
        return Err(FileError::Empty);
    }
    let (end, after) = (rdr.position().byte(), rdr.position().line());
    rdr.get_mut().first_line(end, after, 0);
    let mut headers = Vec::with_capacity(record.len());
    for (i, h) in record.iter().enumerate() {
        let h = std::str::from_utf8(h).map_err(|_| FileError::HeaderNotUtf8 { column: i + 1 })?;
        headers.push(crate::export::unguard_cell(h.trim()).to_string());
    }
    let catalog = Catalog::new(settings);
    let layout = columns::layout(headers, &catalog, &options.map)?;
    let width = layout.columns.len();

    let notes = notes(detected.then_some(delimiter), &layout);

    let mut file = CsvFile {
        delimiter,
        ..CsvFile::default()
    };
    let mut problems: Vec<String> = Vec::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let at = e
                    .position()
                    .map(|p| format!(" at line {}", p.line()))
                    .unwrap_or_default();
                return Err(FileError::Io(format!("{at} {e}").trim().to_string()));
            }
        }
        let inner = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
        let (end, after) = (rdr.position().byte(), rdr.position().line());
        let line = rdr.get_mut().first_line(end, after, inner) as usize;
        // Spreadsheets leave rows of empty cells behind: not rows.
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        file.rows += 1;
        problems.clear();
        if record.len() != width {
            problems.push(format!(
                "{} fields, but the header has {width} columns",
                record.len()
            ));
        }
        let m = if problems.is_empty() {
            row(&record, &layout, &options.date_format, line, &mut problems)
        } else {
            SourceMember::new(String::new(), line)
        };
        if problems.is_empty() {
            file.members.push(m);
        } else {
            file.rejected.push(RejectedMember {
                source_id: (!m.source_id.is_empty()).then(|| m.source_id.clone()),
                position: line,
                reason: problems.join("; "),
            });
        }
    }
    file.bytes = rdr.position().byte() + if bom { BOM.len() as u64 } else { 0 };
    file.layout = layout;
    file.notes = notes;
    Ok(file)
}

/// What the admin should know about the file's shape: a detected delimiter other than a
/// comma, columns that are ignored, columns Roster derives itself.
fn notes(detected: Option<u8>, layout: &Layout) -> Vec<Note> {
    let mut notes = Vec::new();
    if let Some(delimiter) = detected
        && delimiter != b','
    {
        notes.push(Note {
            code: "csv.delimiter".into(),
            message: format!(
                "columns are separated by {} (detected)",
                if delimiter == b'\t' {
                    "tabs".to_string()
                } else {
                    format!("{:?}", delimiter as char)
                }
            ),
        });
    }
    for c in layout.unknown() {
        let name = if c.header.is_empty() {
            format!("column {} (no header)", c.index + 1)
        } else {
            format!("column {:?}", c.header)
        };
        notes.push(Note {
            code: "csv.unknown_column".into(),
            message: format!(
                "{name} is no directory field or mapped demographic: ignored (map it with --map \"{}=FIELD\")",
                c.header
            ),
        });
    }
    let derived: Vec<String> = layout
        .columns
        .iter()
        .filter(|c| matches!(c.target, Some(Target::ReadOnly { .. })))
        .map(|c| format!("{:?}", c.header))
        .collect();
    if !derived.is_empty() {
        notes.push(Note {
            code: "csv.derived_column".into(),
            message: format!("{} derived by Roster: ignored", derived.join(", ")),
        });
    }

    notes
}

/// One row's member; problems with its cells are added to `problems`.
fn row(
    record: &csv::ByteRecord,
    layout: &Layout,
    date_format: &DateFormat,
    line: usize,
    problems: &mut Vec<String>,
) -> SourceMember {
    let mut m = SourceMember::new(String::new(), line);
    for c in &layout.columns {
        let Some(target) = &c.target else { continue };
        if matches!(target, Target::ReadOnly { .. } | Target::Ignored) {
            continue;
        }
        let raw = record.get(c.index).unwrap_or_default();
        let Ok(text) = std::str::from_utf8(raw) else {
            problems.push(format!("column {:?} is not valid UTF-8", c.header));
            continue;
        };
        let v = crate::export::unguard_cell(text.trim());
        let value = (!v.is_empty()).then(|| v.to_string());
        match target {
            Target::Field { field } if field.is_date() => {
                let Some(v) = value else { continue };
                match date_format.read(&v) {
                    Some(d) => set(&mut m, *field, Some(d.to_string())),
                    None => problems.push(format!(
                        "column {:?} is not a date in {} form",
                        c.header,
                        date_format.describe()
                    )),
                }
            }
            Target::Field { field } => set(&mut m, *field, value),
            Target::Demographic { source_key, .. } => {
                if let Some(v) = value {
                    if source_key == MEMBER_TYPE {
                        m.member_type = Some(v.to_lowercase());
                    }
                    m.fields.insert(source_key.as_str(), v);
                }
            }
            Target::Deactivated => match value.as_deref().map(truthy) {
                None => {}
                Some(Some(b)) => m.exclude = Some(b),
                Some(None) => {
                    problems.push(format!("column {:?} is neither TRUE nor FALSE", c.header))
                }
            },
            Target::ReadOnly { .. } | Target::Ignored => {}
        }
    }
    // Kept until the plan is made: no spare room.
    m.fields.shrink_to_fit();
    m
}

fn set(m: &mut SourceMember, field: Field, value: Option<String>) {
    match field {
        Field::EmployeeId => m.source_id = value.unwrap_or_default(),
        Field::Email => m.work_email = value,
        Field::SecondaryEmail => m.personal_email = value,
        Field::FirstName => m.given_name = value,
        Field::LastName => m.family_name = value,
        Field::PreferredName => m.preferred_name = value,
        Field::Phone => m.phone = value,
        Field::DateOfBirth => m.date_of_birth = value,
        // The directory's start date is the original hire date; the latest rehire
        // date is the start of the current period (see `SourceMember`).
        Field::StartDate => m.original_start_date = value,
        Field::LatestRehireDate => m.start_date = value,
        Field::EndDate => m.end_date = value,
        Field::ManagerEmail => {
            m.manager = match value {
                Some(email) => ManagerRef::Email { email },
                None => ManagerRef::None,
            }
        }
    }
}
