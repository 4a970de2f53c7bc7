//! Anonymising employees (issue #17): the request a caller makes and what it did.
//! The operation is [`Store::anonymise`](crate::Store::anonymise); its SQL and the
//! list of tables it rewrites are in [`crate::sql`]'s `erasure` module.

use jiff::Timestamp;
use roster_core::employee::EmployeeKey;
use roster_core::plan::Rule;
use serde::{Deserialize, Serialize};

use crate::{ImportId, ImportKind, Trigger};

/// One employee to anonymise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToAnonymise {
    pub key: EmployeeKey,
    /// The keyed digest of the employee's source id (the engine's HMAC), kept so that
    /// a re-hire is recognised; `None` when it had none.
    pub source_digest: Option<String>,
}

/// What [`Store::anonymise`](crate::Store::anonymise) is asked to do, and how the
/// import that records it reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anonymisation {
    /// The import's kind: `erasure` (on request) or `retention` (the daily job).
    pub kind: ImportKind,
    /// The rule of every recorded change (`Rule::Erasure`, …).
    pub rule: Rule,
    pub trigger: Trigger,
    pub at: Timestamp,
    /// Who asked (an admin's email, a token's name, "daily job").
    pub by: String,
    /// By which rule, in words (`on request`, `retention_days = 730`).
    pub reason: String,
    /// The demographics erased (`Settings::personal_demographics`).
    pub personal_demographics: Vec<String>,
    /// The generated-ID prefix: an employee ID that was the source's id becomes
    /// `{prefix}E{key}`.
    pub id_prefix: String,
    pub employees: Vec<ToAnonymise>,
    /// Remove each record once anonymised (`users erase --remove`): its reports
    /// follow its manager, the removal is recorded (a tombstone entry and event of
    /// the anonymised record) and the row is deleted.
    #[serde(default)]
    pub remove: bool,
}

/// One employee anonymised: its (new) employee ID and the fields replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymisedEmployee {
    pub key: EmployeeKey,
    pub employee_id: String,
    pub fields: Vec<String>,
}

/// What an anonymisation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anonymised {
    pub import_id: ImportId,
    pub employees: Vec<AnonymisedEmployee>,
    /// Rows rewritten outside the employees' own rows, by table (for the report).
    pub rewritten: Vec<(String, u64)>,
    /// With [`Anonymisation::remove`]: the records removed, and whose reports moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<RemovedEmployee>,
}

/// A record removed entirely, after its anonymisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedEmployee {
    pub key: EmployeeKey,
    /// Its reports, now reporting to its manager (or to nobody).
    pub reports_moved: Vec<ReportMoved>,
}

/// A report of a removed record, re-pointed (keys only: the import's details keep
/// it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMoved {
    pub key: EmployeeKey,
    /// The manager it reports to now (the removed record's manager), if any.
    pub manager_key: Option<EmployeeKey>,
}

/// An earlier anonymisation of an employee, as kept: the fields replaced and the
/// digest of its source id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub key: EmployeeKey,
    pub import_id: ImportId,
    pub source_digest: Option<String>,
    pub fields: Vec<String>,
}
