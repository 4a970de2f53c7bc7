//! Names of source-field keys shared by every source, and the demographics they map
//! to by default.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumString, IntoStaticStr};

mod map;
pub use map::{FieldMap, Iter as FieldIter};

pub const JOB_TITLE: &str = "job_title";
pub const DEPARTMENT: &str = "department";
pub const MEMBER_TYPE: &str = "member_type";
pub const EMPLOYMENT_TYPE: &str = "employment_type";
pub const EMPLOYMENT_SUBTYPE: &str = "employment_subtype";
pub const WORK_ID: &str = "work_id";
pub const OFFICE: &str = "office";
pub const WORK_CITY: &str = "work_city";
pub const WORK_STATE: &str = "work_state";
pub const WORK_COUNTRY: &str = "work_country";
pub const HOME_CITY: &str = "home_city";
pub const HOME_STATE: &str = "home_state";
pub const HOME_COUNTRY: &str = "home_country";
pub const SEX: &str = "sex";
/// Prefix of custom-field keys: `custom:<definition id>`.
pub const CUSTOM_PREFIX: &str = "custom:";

/// Standard source fields and the demographic each maps to unless the admin
/// changes it.
pub const DEFAULT_DEMOGRAPHICS: &[(&str, &str)] = &[
    (JOB_TITLE, "Job Title"),
    (DEPARTMENT, "Department"),
    (MEMBER_TYPE, "Member Type"),
    (EMPLOYMENT_TYPE, "Employment Type"),
    (EMPLOYMENT_SUBTYPE, "Employment Subtype"),
    (OFFICE, "Office"),
    (WORK_CITY, "Work City"),
    (WORK_STATE, "Work State"),
    (WORK_COUNTRY, "Work Country"),
    (HOME_CITY, "Home City"),
    (HOME_STATE, "Home State"),
    (HOME_COUNTRY, "Home Country"),
];

/// Whether a mapped demographic is personal data (erased) or kept for reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, Display, AsRefStr)]
#[strum(serialize_all = "snake_case")]
pub enum Privacy {
    /// Replaced by an empty value when the employee is anonymised.
    Personal,
    /// Kept (reporting: department, member type, …).
    Keep,
}

impl Privacy {
    /// The default of a mapped source field: the home address is personal, every
    /// other field is kept unless the admin marks it personal.
    pub fn default_for(source_key: &str) -> Privacy {
        if [HOME_CITY, HOME_STATE, HOME_COUNTRY].contains(&source_key) {
            Privacy::Personal
        } else {
            Privacy::Keep
        }
    }
}
