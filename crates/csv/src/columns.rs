//! Which column of a users file holds what: header matching (case-, space- and
//! punctuation-insensitive) to directory fields and mapped demographics, `--map`
//! overrides, and the set of fields a file may update.

use std::collections::{BTreeMap, BTreeSet};

use roster_core::fields::MEMBER_TYPE;
use roster_core::settings::{Settings, demographic_fold};
use serde::{Deserialize, Serialize};

/// A directory field a users file can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    EmployeeId,
    Email,
    FirstName,
    LastName,
    PreferredName,
    SecondaryEmail,
    Phone,
    DateOfBirth,
    StartDate,
    LatestRehireDate,
    EndDate,
    ManagerEmail,
}

impl Field {
    /// Every field, in export order.
    pub const ALL: [Field; 12] = [
        Field::EmployeeId,
        Field::Email,
        Field::FirstName,
        Field::LastName,
        Field::PreferredName,
        Field::SecondaryEmail,
        Field::Phone,
        Field::DateOfBirth,
        Field::StartDate,
        Field::LatestRehireDate,
        Field::EndDate,
        Field::ManagerEmail,
    ];

    /// The directory field name (`roster_core::employee::CORE_FIELDS`).
    pub fn name(self) -> &'static str {
        match self {
            Field::EmployeeId => "employee_id",
            Field::Email => "email",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::PreferredName => "preferred_name",
            Field::SecondaryEmail => "secondary_email",
            Field::Phone => "phone",
            Field::DateOfBirth => "date_of_birth",
            Field::StartDate => "start_date",
            Field::LatestRehireDate => "latest_rehire_date",
            Field::EndDate => "end_date",
            Field::ManagerEmail => "manager_email",
        }
    }

    /// The column header Roster writes on export.
    pub fn header(self) -> &'static str {
        match self {
            Field::EmployeeId => "Employee ID",
            Field::Email => "Email",
            Field::FirstName => "First Name",
            Field::LastName => "Last Name",
            Field::PreferredName => "Preferred Name",
            Field::SecondaryEmail => "Secondary Email",
            Field::Phone => "Phone",
            Field::DateOfBirth => "Date of Birth",
            Field::StartDate => "Start Date",
            Field::LatestRehireDate => "Latest Rehire Date",
            Field::EndDate => "End Date",
            Field::ManagerEmail => "Manager Email",
        }
    }

    pub fn is_date(self) -> bool {
        matches!(
            self,
            Field::DateOfBirth | Field::StartDate | Field::LatestRehireDate | Field::EndDate
        )
    }

    /// Names the core's issues may use for this column (directory and source-member
    /// field names).
    fn issue_keys(self) -> &'static [&'static str] {
        match self {
            Field::EmployeeId => &["employee_id", "source_id", "id"],
            Field::Email => &["email", "work_email"],
            Field::SecondaryEmail => &["secondary_email", "personal_email"],
            Field::FirstName => &["first_name", "given_name"],
            Field::LastName => &["last_name", "family_name"],
            Field::StartDate => &["start_date", "original_start_date"],
            Field::PreferredName => &["preferred_name"],
            Field::Phone => &["phone"],
            Field::DateOfBirth => &["date_of_birth"],
            Field::LatestRehireDate => &["latest_rehire_date"],
            Field::EndDate => &["end_date"],
            Field::ManagerEmail => &["manager_email"],
        }
    }
}

/// The header of the exclusion column.
pub const DEACTIVATED: &str = "Employee Deactivated";

/// Columns Roster writes on export but derives itself: ignored on import.
pub const READ_ONLY: &[(&str, &str)] = &[
    ("hire_date", "Hire Date"),
    ("deactivation_reason", "Deactivation Reason"),
    ("excluded", "Excluded"),
    ("is_manager", "Is Manager"),
    ("source_id", "Source ID"),
];

/// Header prefix that names a demographic explicitly (used on export when a
/// demographic's name would read as a directory column).
pub const DEMOGRAPHIC_HEADER_PREFIX: &str = "demographic:";

/// What a column of a users file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A directory field.
    Field { field: Field },
    /// A mapped demographic: the source-field key it feeds and the demographic name.
    Demographic { source_key: String, name: String },
    /// `Employee Deactivated`: TRUE excludes (sticky), FALSE re-includes.
    Deactivated,
    /// Written on export, derived by Roster: ignored on import.
    ReadOnly { field: String },
    /// Ignored on the admin's say (`--map "Header="`).
    Ignored,
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Target::Field { field } => field.name().to_string(),
            Target::Demographic { name, .. } => format!("demographic {name:?}"),
            Target::Deactivated => "the exclusion flag".into(),
            Target::ReadOnly { field } => field.clone(),
            Target::Ignored => "nothing".into(),
        }
    }
}

/// One column of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// 0-based index in the row.
    pub index: usize,
    /// The header as written in the file (trimmed).
    pub header: String,
    /// `None`: no directory field or mapped demographic; ignored and reported.
    pub target: Option<Target>,
}

/// The columns of a users file and what each holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub columns: Vec<Column>,
}

/// The header name-space: folded name → target.
pub struct Catalog {
    names: BTreeMap<String, Target>,
    demographics: BTreeMap<String, Target>,
}

fn fold(s: &str) -> String {
    demographic_fold(s)
}

impl Catalog {
    /// Directory fields (by header and by field name, plus a few common aliases)
    /// and the demographics mapped in `settings`.
    pub fn new(settings: &Settings) -> Self {
        let mut names = BTreeMap::new();
        for f in Field::ALL {
            names.insert(fold(f.header()), Target::Field { field: f });
            names.insert(fold(f.name()), Target::Field { field: f });
        }
        for (alias, f) in [
            ("Work Email", Field::Email),
            ("Personal Email", Field::SecondaryEmail),
            ("Preferred First Name", Field::PreferredName),
            ("Phone Number", Field::Phone),
            ("Birth Date", Field::DateOfBirth),
            ("Termination Date", Field::EndDate),
            ("Supervisor Email", Field::ManagerEmail),
        ] {
            names.insert(fold(alias), Target::Field { field: f });
        }
        names.insert(fold(DEACTIVATED), Target::Deactivated);
        names.insert(fold("deactivated"), Target::Deactivated);
        for (field, header) in READ_ONLY {
            let t = Target::ReadOnly {
                field: field.to_string(),
            };
            names.insert(fold(header), t.clone());
            names.insert(fold(field), t);
        }
        let mut demographics = BTreeMap::new();
        for m in &settings.mapping {
            let t = Target::Demographic {
                source_key: m.source_key.clone(),
                name: m.demographic.clone(),
            };
            // The demographic name first; its source key as a fallback spelling.
            demographics
                .entry(fold(&m.source_key))
                .or_insert_with(|| t.clone());
            demographics.insert(fold(&m.demographic), t);
        }
        Self {
            names,
            demographics,
        }
    }

    /// What a header (or a `--map` target) names: a directory column first, then a
    /// mapped demographic. `demographic:<name>` names a demographic only.
    pub fn resolve(&self, text: &str) -> Option<Target> {
        let t = text.trim();
        if let Some(rest) = strip_prefix_ci(t, DEMOGRAPHIC_HEADER_PREFIX) {
            return self.demographics.get(&fold(rest)).cloned();
        }
        let key = fold(t);
        if key.is_empty() {
            return None;
        }
        self.names
            .get(&key)
            .or_else(|| self.demographics.get(&key))
            .cloned()
    }

    /// Does a demographic name read as a directory column? (Then the export names it
    /// `demographic:<name>`.)
    pub fn shadows_demographic(&self, name: &str) -> bool {
        self.names.contains_key(&fold(name))
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Split a `--map` argument `Header=field` at its first `=`.
pub fn parse_map(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((h, t)) if !h.trim().is_empty() => Ok((h.trim().to_string(), t.trim().to_string())),
        _ => Err(format!(
            "--map {spec:?} must look like \"Header=field\" (or \"Header=\" to ignore the column)"
        )),
    }
}

impl Layout {
    pub fn has(&self, target: &Target) -> bool {
        self.columns
            .iter()
            .any(|c| c.target.as_ref() == Some(target))
    }

    pub fn has_field(&self, field: Field) -> bool {
        self.has(&Target::Field { field })
    }

    /// The fields this file updates (`PlanOptions::only_fields`): the columns present.
    /// A full import always speaks about status (present = active); a partial one
    /// only with an `Employee Deactivated` column.
    pub fn fields(&self, full: bool) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for c in &self.columns {
            match &c.target {
                Some(Target::Field { field }) => {
                    out.insert(field.name().to_string());
                }
                Some(Target::Demographic { name, .. }) => {
                    out.insert(name.clone());
                    out.insert(format!("demographic:{name}"));
                }
                Some(Target::Deactivated) => {
                    for f in ["active", "excluded", "deactivation_reason"] {
                        out.insert(f.to_string());
                    }
                }
                _ => {}
            }
        }
        if full {
            out.insert("active".to_string());
        }
        out
    }

    /// Issue field name → column header, to name the column of a planning issue.
    pub fn column_names(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for c in &self.columns {
            match &c.target {
                Some(Target::Field { field }) => {
                    for k in field.issue_keys() {
                        out.insert(k.to_string(), c.header.clone());
                    }
                }
                Some(Target::Demographic { source_key, name }) => {
                    out.insert(name.clone(), c.header.clone());
                    out.insert(format!("demographic:{name}"), c.header.clone());
                    out.entry(source_key.clone())
                        .or_insert_with(|| c.header.clone());
                    if source_key == MEMBER_TYPE {
                        out.insert("type".into(), c.header.clone());
                    }
                }
                Some(Target::Deactivated) => {
                    out.insert("excluded".into(), c.header.clone());
                }
                _ => {}
            }
        }
        out
    }

    /// Headers of the columns nothing reads, in file order.
    pub fn unknown(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.target.is_none())
    }
}

/// Assign a target to each header; `--map` entries win over the catalogue.
pub(crate) fn layout(
    headers: Vec<String>,
    catalog: &Catalog,
    map: &[(String, String)],
) -> Result<Layout, crate::FileError> {
    use crate::FileError;
    let mut overrides: Vec<(String, Option<Target>, &str, bool)> = Vec::new();
    for (header, target) in map {
        let resolved = if target.trim().is_empty() {
            Some(Target::Ignored)
        } else {
            Some(catalog.resolve(target).ok_or_else(|| FileError::Map {
                spec: format!("{header}={target}"),
                message: format!(
                    "{target:?} is no directory field or mapped demographic (see `roster mapping`)"
                ),
            })?)
        };
        if matches!(resolved, Some(Target::ReadOnly { .. })) {
            return Err(FileError::Map {
                spec: format!("{header}={target}"),
                message: format!("{target:?} is derived by Roster and cannot be imported"),
            });
        }
        overrides.push((fold(header), resolved, header.as_str(), false));
    }
    let mut columns = Vec::with_capacity(headers.len());
    for (index, header) in headers.into_iter().enumerate() {
        let key = fold(&header);
        let target = match overrides.iter_mut().find(|o| !key.is_empty() && o.0 == key) {
            Some(o) => {
                o.3 = true;
                o.1.clone()
            }
            None => catalog.resolve(&header),
        };
        columns.push(Column {
            index,
            header,
            target,
        });
    }
    if let Some(o) = overrides.iter().find(|o| !o.3) {
        return Err(FileError::Map {
            spec: o.2.to_string(),
            message: format!("the file has no column {:?}", o.2),
        });
    }
    // Two columns holding the same thing would make one of them silently lose.
    for (i, a) in columns.iter().enumerate() {
        let Some(ta) = &a.target else { continue };
        if matches!(ta, Target::Ignored | Target::ReadOnly { .. }) {
            continue;
        }
        let same = |tb: &Target| match (ta, tb) {
            (
                Target::Demographic { source_key: x, .. },
                Target::Demographic { source_key: y, .. },
            ) => x == y,
            _ => ta == tb,
        };
        if let Some(b) = columns[i + 1..]
            .iter()
            .find(|b| b.target.as_ref().is_some_and(same))
        {
            return Err(FileError::DuplicateColumn {
                first: a.header.clone(),
                second: b.header.clone(),
                target: ta.describe(),
            });
        }
    }
    let l = Layout { columns };
    if !l.has_field(Field::EmployeeId) && !l.has_field(Field::Email) {
        return Err(FileError::NoIdentifier);
    }
    if l.has_field(Field::LatestRehireDate) && !l.has_field(Field::StartDate) {
        return Err(FileError::NeedsColumn {
            column: Field::LatestRehireDate.header(),
            needs: Field::StartDate.header(),
        });
    }
    if l.has_field(Field::SecondaryEmail) && !l.has_field(Field::Email) {
        return Err(FileError::NeedsColumn {
            column: Field::SecondaryEmail.header(),
            needs: Field::Email.header(),
        });
    }
    Ok(l)
}
