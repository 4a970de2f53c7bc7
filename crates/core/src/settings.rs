//! Integration settings (DESIGN §3, §6, §7) and the field mapping. Every setting can be
//! read and written by name, validated, so the CLI, the API and the UI share one list.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

use crate::fields::{DEFAULT_DEMOGRAPHICS, Privacy};
use crate::member::SourceField;

mod marks;
mod skip;

pub use skip::SkipRule;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum EmployeeIds {
    /// The source's member id is the employee ID.
    #[default]
    Source,
    /// Roster generates an ID per member.
    Generate,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum OnMissing {
    /// Stays active (the engagement platform's rule).
    #[default]
    Keep,
    /// Archived (the recognition platform's recommended rule).
    Deactivate,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum HireDatePriority {
    #[default]
    Original,
    Latest,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum HoldMode {
    /// A guarded automatic sync is blocked as a whole.
    #[default]
    BlockSync,
    /// Apply everything else; hold the risky employees for approval.
    HoldRecords,
}

/// How a mapped field is used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum FieldKind {
    /// Shown and exported.
    #[default]
    Default,
    /// Holds another employee's ID or email, resolved like the manager.
    Associated,
    /// Stored for integrations, not shown or exported by default.
    Hidden,
}

impl FieldKind {
    /// From the name `as_str` gives (strum's `EnumString`).
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// One source field mapped to a demographic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedField {
    pub source_key: String,
    pub demographic: String,
    pub kind: FieldKind,
    /// Personal data or kept when an employee is anonymised; `None`: the default
    /// ([`Privacy::default_for`]: the home address personal, the rest kept). Set
    /// through the settings `personal_demographics` / `keep_demographics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<Privacy>,
}

/// Every setting of an integration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub employee_ids: EmployeeIds,
    pub email_fallback_personal: bool,
    pub phone_plus_prefix: bool,
    pub on_missing: OnMissing,
    pub hire_date_priority: HireDatePriority,
    pub override_hire_date: bool,
    pub override_emails: bool,
    /// Directory fields or demographics not imported (existing values are kept).
    pub exclude_fields: BTreeSet<String>,
    /// Fields never fetched where possible, never stored, never logged.
    pub redact_fields: BTreeSet<String>,
    pub do_not_import: Vec<SkipRule>,
    pub privacy_guard: bool,
    pub hold_mode: HoldMode,
    /// Block an automatic sync that deactivates more than this percentage of active
    /// employees …
    pub mass_deactivation_percent: f64,
    /// … and at least this many.
    pub mass_deactivation_min: usize,
    /// Block an automatic sync that changes the employee ID of more than this
    /// percentage of matched employees.
    pub mass_id_change_percent: f64,
    /// The account's time zone (IANA name): "today" is this zone's date.
    pub timezone: String,
    /// Prefix of generated employee IDs.
    pub generated_id_prefix: String,
    pub mapping: Vec<MappedField>,
    /// SCIM serves one group per value of each of these demographics (names of
    /// mapped demographics), in this order.
    pub scim_group_demographics: Vec<String>,
    /// Former employees' personal fields are anonymised this many days after their
    /// end date (`crate::retention`); `None`: off. Account-wide, like `timezone`:
    /// the first integration's counts.
    pub retention_days: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            employee_ids: EmployeeIds::Source,
            email_fallback_personal: true,
            phone_plus_prefix: false,
            on_missing: OnMissing::Keep,
            hire_date_priority: HireDatePriority::Original,
            override_hire_date: true,
            override_emails: true,
            exclude_fields: BTreeSet::new(),
            redact_fields: BTreeSet::new(),
            do_not_import: Vec::new(),
            privacy_guard: true,
            hold_mode: HoldMode::BlockSync,
            mass_deactivation_percent: 20.0,
            mass_deactivation_min: 10,
            mass_id_change_percent: 5.0,
            timezone: "UTC".to_string(),
            generated_id_prefix: "RST-".to_string(),
            mapping: default_mapping(),
            scim_group_demographics: vec!["Department".to_string()],
            retention_days: None,
        }
    }
}

/// The standard fields, each mapped to its usual demographic.
pub fn default_mapping() -> Vec<MappedField> {
    DEFAULT_DEMOGRAPHICS
        .iter()
        .map(|(k, d)| MappedField {
            source_key: k.to_string(),
            demographic: d.to_string(),
            kind: FieldKind::Default,
            privacy: None,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown setting {0:?}; `roster settings` lists them")]
    Unknown(String),
    #[error("invalid value for {key}: {message}")]
    Invalid { key: String, message: String },
}

/// Names of the settings that can be read and written by name, with a short help.
pub const SETTING_KEYS: &[(&str, &str)] = &[
    ("employee_ids", "source | generate"),
    (
        "email_fallback_personal",
        "true | false: use the personal email when there is no work email",
    ),
    (
        "phone_plus_prefix",
        "true | false: add a leading + to phone numbers",
    ),
    (
        "on_missing",
        "keep | deactivate: what a full sync does to employees missing from the source",
    ),
    (
        "hire_date_priority",
        "original | latest: which date anniversaries use",
    ),
    (
        "override_hire_date",
        "true | false: the source may overwrite an existing hire date",
    ),
    (
        "override_emails",
        "true | false: the source may overwrite an email an admin edited",
    ),
    (
        "exclude_fields",
        "comma-separated fields or demographics not imported",
    ),
    ("redact_fields", "comma-separated fields never stored"),
    (
        "do_not_import",
        "semicolon-separated rules like `member_type = contractor`",
    ),
    ("privacy_guard", "true | false"),
    ("hold_mode", "block_sync | hold_records"),
    ("mass_deactivation_percent", "number 0-100"),
    ("mass_deactivation_min", "whole number"),
    ("mass_id_change_percent", "number 0-100"),
    ("timezone", "IANA time zone, e.g. America/New_York"),
    ("generated_id_prefix", "prefix of generated employee IDs"),
    (
        "scim_group_demographics",
        "comma-separated demographics: SCIM serves a group per value of each",
    ),
    (
        "personal_demographics",
        "comma-separated demographics erased with a person",
    ),
    (
        "keep_demographics",
        "comma-separated demographics kept when a person is erased",
    ),
    (
        "retention_days",
        "off | days (30-36500) after the end date at which former employees are anonymised",
    ),
];

/// Fields that `redact_fields` may name.
pub const REDACTABLE: &[&str] = &[
    "date_of_birth",
    "phone",
    "secondary_email",
    "preferred_name",
    "sex",
];

fn parse_bool(key: &str, v: &str) -> Result<bool, SettingsError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(SettingsError::Invalid {
            key: key.into(),
            message: format!("{v:?} is not true or false"),
        }),
    }
}

fn parse_enum<T: std::str::FromStr>(key: &str, v: &str, allowed: &str) -> Result<T, SettingsError> {
    v.trim()
        .to_ascii_lowercase()
        .parse()
        .map_err(|_| SettingsError::Invalid {
            key: key.into(),
            message: format!("{v:?} is not one of {allowed}"),
        })
}

fn parse_percent(key: &str, v: &str) -> Result<f64, SettingsError> {
    match v.trim().parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(SettingsError::Invalid {
            key: key.into(),
            message: format!("{v:?} is not a number from 0 to 100"),
        }),
    }
}

fn list(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(",")
}

impl Settings {
    /// Whether a source field is mapped as an associated field (a value naming
    /// another employee, resolved to an email).
    pub fn maps_associated(&self) -> bool {
        self.mapping.iter().any(|m| m.kind == FieldKind::Associated)
    }

    /// A comma-separated list of demographic names, each mapped (case as mapped),
    /// each once, in the order given.
    fn known_demographics(&self, key: &str, value: &str) -> Result<Vec<String>, SettingsError> {
        let mut out: Vec<String> = Vec::new();
        for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some(m) = self
                .mapping
                .iter()
                .find(|m| m.demographic.eq_ignore_ascii_case(name))
            else {
                let mut known: Vec<&str> = self
                    .mapping
                    .iter()
                    .map(|m| m.demographic.as_str())
                    .collect();
                known.sort_unstable();
                known.dedup();
                return Err(SettingsError::Invalid {
                    key: key.into(),
                    message: format!(
                        "{name:?} is not a mapped demographic; choose from {}",
                        known.join(", ")
                    ),
                });
            };
            if !out.contains(&m.demographic) {
                out.push(m.demographic.clone());
            }
        }
        Ok(out)
    }

    /// Read one setting as text.
    pub fn get(&self, key: &str) -> Result<String, SettingsError> {
        Ok(match key {
            "employee_ids" => self.employee_ids.to_string(),
            "email_fallback_personal" => self.email_fallback_personal.to_string(),
            "phone_plus_prefix" => self.phone_plus_prefix.to_string(),
            "on_missing" => self.on_missing.to_string(),
            "hire_date_priority" => self.hire_date_priority.to_string(),
            "override_hire_date" => self.override_hire_date.to_string(),
            "override_emails" => self.override_emails.to_string(),
            "exclude_fields" => list(&self.exclude_fields),
            "redact_fields" => list(&self.redact_fields),
            "do_not_import" => self
                .do_not_import
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            "privacy_guard" => self.privacy_guard.to_string(),
            "hold_mode" => self.hold_mode.to_string(),
            "mass_deactivation_percent" => self.mass_deactivation_percent.to_string(),
            "mass_deactivation_min" => self.mass_deactivation_min.to_string(),
            "mass_id_change_percent" => self.mass_id_change_percent.to_string(),
            "timezone" => self.timezone.clone(),
            "generated_id_prefix" => self.generated_id_prefix.clone(),
            "scim_group_demographics" => self.scim_group_demographics.join(","),
            "personal_demographics" | "keep_demographics" => self.marks(key).join(","),
            "retention_days" => self
                .retention_days
                .map_or_else(|| "off".to_string(), |d| d.to_string()),
            other => return Err(SettingsError::Unknown(other.to_string())),
        })
    }

    /// Write one setting from text, validated. Nothing changes on error.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let split = |v: &str| -> BTreeSet<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        match key {
            "employee_ids" => self.employee_ids = parse_enum(key, value, "source, generate")?,
            "email_fallback_personal" => self.email_fallback_personal = parse_bool(key, value)?,
            "phone_plus_prefix" => self.phone_plus_prefix = parse_bool(key, value)?,
            "on_missing" => self.on_missing = parse_enum(key, value, "keep, deactivate")?,
            "hire_date_priority" => {
                self.hire_date_priority = parse_enum(key, value, "original, latest")?
            }
            "override_hire_date" => self.override_hire_date = parse_bool(key, value)?,
            "override_emails" => self.override_emails = parse_bool(key, value)?,
            "exclude_fields" => {
                let set = split(value);
                for f in &set {
                    if matches!(f.as_str(), "employee_id" | "email") {
                        return Err(SettingsError::Invalid {
                            key: key.into(),
                            message: format!("{f} identifies employees and cannot be excluded"),
                        });
                    }
                }
                self.exclude_fields = set;
            }
            "redact_fields" => {
                let set = split(value);
                if let Some(bad) = set.iter().find(|f| !REDACTABLE.contains(&f.as_str())) {
                    return Err(SettingsError::Invalid {
                        key: key.into(),
                        message: format!(
                            "{bad} cannot be redacted; choose from {}",
                            REDACTABLE.join(", ")
                        ),
                    });
                }
                self.redact_fields = set;
            }
            "do_not_import" => {
                self.do_not_import = value
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(SkipRule::parse)
                    .collect::<Result<_, _>>()?
            }
            "privacy_guard" => self.privacy_guard = parse_bool(key, value)?,
            "hold_mode" => self.hold_mode = parse_enum(key, value, "block_sync, hold_records")?,
            "mass_deactivation_percent" => {
                self.mass_deactivation_percent = parse_percent(key, value)?
            }
            "mass_deactivation_min" => {
                self.mass_deactivation_min =
                    value.trim().parse().map_err(|_| SettingsError::Invalid {
                        key: key.into(),
                        message: format!("{value:?} is not a whole number"),
                    })?
            }
            "mass_id_change_percent" => self.mass_id_change_percent = parse_percent(key, value)?,
            "timezone" => {
                crate::schedule::bundled_zone(value.trim()).map_err(|e| {
                    SettingsError::Invalid {
                        key: key.into(),
                        message: format!("{value:?} is not a known time zone ({e})"),
                    }
                })?;
                self.timezone = value.trim().to_string();
            }
            "generated_id_prefix" => {
                if value.trim().is_empty() || value.len() > 16 {
                    return Err(SettingsError::Invalid {
                        key: key.into(),
                        message: "must be 1 to 16 characters".into(),
                    });
                }
                self.generated_id_prefix = value.trim().to_string();
            }
            "scim_group_demographics" => {
                self.scim_group_demographics = self.known_demographics(key, value)?
            }
            "personal_demographics" | "keep_demographics" => self.set_marks(key, value)?,
            "retention_days" => {
                self.retention_days = crate::retention::parse_days(value).map_err(|message| {
                    SettingsError::Invalid {
                        key: key.into(),
                        message,
                    }
                })?
            }
            other => return Err(SettingsError::Unknown(other.to_string())),
        }
        Ok(())
    }
}

/// A mapping change refused. Each front end adds how to list the fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Neither a source field the setup sync read nor a standard field.
    #[error("unknown source field {0:?}")]
    UnknownField(String),
    #[error("the demographic name is empty")]
    EmptyDemographic,
    #[error("{0} is not mapped")]
    NotMapped(String),
}

/// Two demographic names that differ only by case, spacing or punctuation: two
/// columns where the admin meant one, which splits trend history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlike {
    /// The name just mapped (or the later one of the mapping).
    pub demographic: String,
    /// The name already there.
    pub other: String,
}

impl std::fmt::Display for LookAlike {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} differs from {:?} only by case, spacing or punctuation; this splits trend history",
            self.demographic, self.other
        )
    }
}

impl Settings {
    /// Map source field `source_key` to `demographic` (trimmed), replacing the field's
    /// mapping if it has one. The field must be one the setup sync read
    /// (`source_fields`) or a standard one; the name must not be empty. `Some` when
    /// the name looks like another mapped one ([`LookAlike`]): mapped all the same,
    /// the caller warns.
    pub fn map_field(
        &mut self,
        source_key: &str,
        demographic: &str,
        kind: FieldKind,
        source_fields: &[SourceField],
    ) -> Result<Option<LookAlike>, MappingError> {
        let known = source_fields.iter().any(|f| f.key == source_key)
            || DEFAULT_DEMOGRAPHICS.iter().any(|(k, _)| *k == source_key);
        if !known {
            return Err(MappingError::UnknownField(source_key.to_string()));
        }
        let demographic = demographic.trim();
        if demographic.is_empty() {
            return Err(MappingError::EmptyDemographic);
        }
        let privacy = self
            .mapping
            .iter()
            .find(|m| m.source_key == source_key)
            .and_then(|m| m.privacy);
        self.mapping.retain(|m| m.source_key != source_key);
        self.mapping.push(MappedField {
            source_key: source_key.to_string(),
            demographic: demographic.to_string(),
            kind,
            privacy,
        });
        let fold = demographic_fold(demographic);
        Ok(self
            .mapping
            .iter()
            .find(|m| m.demographic != demographic && demographic_fold(&m.demographic) == fold)
            .map(|m| LookAlike {
                demographic: demographic.to_string(),
                other: m.demographic.clone(),
            }))
    }

    /// Remove the mapping of `source_key`.
    pub fn unmap_field(&mut self, source_key: &str) -> Result<(), MappingError> {
        let before = self.mapping.len();
        self.mapping.retain(|m| m.source_key != source_key);
        if self.mapping.len() == before {
            return Err(MappingError::NotMapped(source_key.to_string()));
        }
        Ok(())
    }

    /// Every pair of mapped demographic names that look alike, in mapping order
    /// (`other` the earlier one).
    pub fn look_alikes(&self) -> Vec<LookAlike> {
        let mut out = Vec::new();
        for (n, a) in self.mapping.iter().enumerate() {
            for b in &self.mapping[n + 1..] {
                if a.demographic != b.demographic
                    && demographic_fold(&a.demographic) == demographic_fold(&b.demographic)
                {
                    out.push(LookAlike {
                        demographic: b.demographic.clone(),
                        other: a.demographic.clone(),
                    });
                }
            }
        }
        out
    }
}

/// Normalise a demographic name for the "differs only by case, spacing or
/// punctuation" warning.
pub fn demographic_fold(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn field(key: &str) -> SourceField {
        SourceField {
            key: key.into(),
            label: key.into(),
            sample: None,
        }
    }

    #[rstest]
    #[case::custom_field("custom:cf_1", " Team ", Ok(None))]
    #[case::standard_field("job_title", "Title", Ok(None))]
    #[case::look_alike("custom:cf_1", "job-title", Ok(Some("Job Title")))]
    #[case::same_name_is_no_look_alike("custom:cf_1", "Job Title", Ok(None))]
    #[case::unknown("custom:cf_9", "Team", Err(MappingError::UnknownField("custom:cf_9".into())))]
    #[case::empty_name("custom:cf_1", "  ", Err(MappingError::EmptyDemographic))]
    fn map_field_checks_the_field_and_the_name(
        #[case] key: &str,
        #[case] demographic: &str,
        #[case] expected: Result<Option<&str>, MappingError>,
    ) {
        let mut s = Settings {
            mapping: vec![MappedField {
                source_key: "job_title".into(),
                demographic: "Job Title".into(),
                kind: FieldKind::Default,
                privacy: None,
            }],
            ..Settings::default()
        };
        let before = s.clone();
        let got = s.map_field(key, demographic, FieldKind::Hidden, &[field("custom:cf_1")]);
        match expected {
            Ok(look_alike) => {
                assert_eq!(
                    got.unwrap().map(|l| l.other),
                    look_alike.map(str::to_string)
                );
                let m = s.mapping.last().unwrap();
                assert_eq!(
                    (m.source_key.as_str(), m.demographic.as_str(), m.kind),
                    (key, demographic.trim(), FieldKind::Hidden)
                );
                assert_eq!(
                    s.mapping.iter().filter(|m| m.source_key == key).count(),
                    1,
                    "the field's mapping is replaced"
                );
            }
            Err(e) => {
                assert_eq!(got.unwrap_err(), e);
                assert_eq!(s, before, "nothing changes on error");
            }
        }
    }

    #[test]
    fn scim_group_demographics_are_mapped_demographics() {
        let mut s = Settings::default();
        assert_eq!(s.scim_group_demographics, ["Department"]);
        s.set(
            "scim_group_demographics",
            " job title, DEPARTMENT ,Job Title,",
        )
        .unwrap();
        assert_eq!(s.scim_group_demographics, ["Job Title", "Department"]);
        assert_eq!(
            s.get("scim_group_demographics").unwrap(),
            "Job Title,Department"
        );
        let before = s.clone();
        let err = s.set("scim_group_demographics", "Department,Shoe Size");
        assert!(
            matches!(&err, Err(SettingsError::Invalid { key, message })
                if key == "scim_group_demographics" && message.contains("\"Shoe Size\"")),
            "{err:?}"
        );
        assert_eq!(s, before, "nothing changes on error");
        s.set("scim_group_demographics", "").unwrap();
        assert!(s.scim_group_demographics.is_empty(), "no groups");
        let old: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(old.scim_group_demographics, ["Department"], "stored before");
    }

    #[test]
    fn look_alikes_are_named_pairwise_and_unmapping_needs_a_mapping() {
        let mut s = Settings::default();
        s.mapping.clear();
        let fields = [field("a"), field("b"), field("c")];
        assert!(
            s.map_field("a", "Cost Center", FieldKind::Default, &fields)
                .unwrap()
                .is_none()
        );
        let warning = s
            .map_field("b", "cost_center", FieldKind::Default, &fields)
            .unwrap()
            .unwrap();
        assert_eq!(
            warning.to_string(),
            "\"cost_center\" differs from \"Cost Center\" only by case, spacing or punctuation; this splits trend history"
        );
        s.map_field("c", "Site", FieldKind::Default, &fields)
            .unwrap();
        assert_eq!(s.look_alikes(), vec![warning]);
        assert_eq!(s.unmap_field("c"), Ok(()));
        assert_eq!(s.unmap_field("c"), Err(MappingError::NotMapped("c".into())));
    }

    #[test]
    fn every_key_reads_back_what_was_written() {
        let mut s = Settings::default();
        let cases = [
            ("employee_ids", "generate"),
            ("email_fallback_personal", "false"),
            ("phone_plus_prefix", "true"),
            ("on_missing", "deactivate"),
            ("hire_date_priority", "latest"),
            ("override_hire_date", "false"),
            ("override_emails", "false"),
            ("exclude_fields", "phone,secondary_email"),
            ("redact_fields", "date_of_birth"),
            (
                "do_not_import",
                "member_type = contractor; department != Sales",
            ),
            ("privacy_guard", "false"),
            ("hold_mode", "hold_records"),
            ("mass_deactivation_percent", "35"),
            ("mass_deactivation_min", "3"),
            ("mass_id_change_percent", "1.5"),
            ("timezone", "America/New_York"),
            ("generated_id_prefix", "EMP"),
            ("scim_group_demographics", "Office,Department"),
            ("personal_demographics", "Job Title,Home City"),
            (
                "keep_demographics",
                "Job Title,Department,Member Type,Employment Type,Employment Subtype,Office,\
                 Work City,Work State,Work Country",
            ),
            ("retention_days", "730"),
        ];
        assert_eq!(cases.len(), SETTING_KEYS.len());
        for (k, v) in cases {
            s.set(k, v).unwrap();
            assert_eq!(s.get(k).unwrap(), v, "{k}");
        }
    }

    #[test]
    fn retention_is_off_by_default_and_can_be_switched_off_again() {
        let mut s = Settings::default();
        assert_eq!(s.retention_days, None);
        assert_eq!(s.get("retention_days").unwrap(), "off");
        s.set("retention_days", " 730 ").unwrap();
        assert_eq!(s.retention_days, Some(730));
        s.set("retention_days", "OFF").unwrap();
        assert_eq!(s.retention_days, None);
        let err = s.set("retention_days", "-1").unwrap_err().to_string();
        assert!(
            err.contains("retention_days") && err.contains("-1 days is out of range"),
            "{err}"
        );
        let old: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(
            old.retention_days, None,
            "stored before the setting existed"
        );
    }

    #[test]
    fn bad_values_are_refused_and_change_nothing() {
        let mut s = Settings::default();
        let before = s.clone();
        for (k, v) in [
            ("on_missing", "archive"),
            ("privacy_guard", "maybe"),
            ("mass_deactivation_percent", "120"),
            ("timezone", "Mars/Olympus"),
            ("exclude_fields", "email"),
            ("redact_fields", "last_name"),
            ("do_not_import", "contractor"),
            ("retention_days", "0"),
            ("retention_days", "-730"),
            ("retention_days", "29"),
            ("retention_days", "99999999999"),
            ("retention_days", "two years"),
            ("nope", "x"),
        ] {
            let err = s.set(k, v).unwrap_err();
            assert!(
                err.to_string().contains(k) || matches!(err, SettingsError::Unknown(_)),
                "{err}"
            );
        }
        assert_eq!(s, before);
    }
}
