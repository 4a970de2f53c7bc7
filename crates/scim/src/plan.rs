//! From a resolved User filter to a store query: the indexed part the store runs
//! ([`IndexQuery`]) and the residual filter to evaluate in memory over the rows it
//! returns. The store's rows are always a superset of the matches; when the residual
//! is `None` they are exactly the matches, and the store may count and page in SQL.
//!
//! # Indexed filters
//!
//! | Filter                                            | Index term                     | Exact |
//! |---------------------------------------------------|--------------------------------|-------|
//! | `id eq "12"`                                      | `Key([12])` (`Nothing` for a non-number) | yes |
//! | `userName eq "a@b.c"`                             | `Email(["a@b.c"])`             | yes   |
//! | `userName eq "roster-12"` (the fallback)          | `Key([12])`                    | no    |
//! | `emails eq "…"`, `emails.value eq "…"`, `emails[value eq "…"]` | `Email` or `SecondaryEmail` | yes |
//! | `emails[type eq "work"].value eq "…"`             | `Email`                        | yes   |
//! | `emails[type eq "home"].value eq "…"`             | `SecondaryEmail`               | yes   |
//! | `emails[… and value eq "…"]` (other conditions)   | `Email` or `SecondaryEmail`    | no    |
//! | `externalId eq "…"`                               | `SourceId`                     | yes   |
//! | `employeeNumber eq "…"` (with or without its URN) | `EmployeeId`                   | yes   |
//! | `active eq true`, `active ne false`               | `Active(true)`                 | yes   |
//! | `meta.lastModified gt/ge/lt/le/eq "…"`            | `LastModified`                 | yes   |
//!
//! `and` intersects (and keeps the residual of its inexact operands only), `or` unions
//! (merging equalities on one attribute into one `IN` list). Anything else — `not`,
//! `co`, `sw`, `ne`, `pr`, other attributes — is `All`: a full scan with the filter
//! evaluated in memory. Still correct, only slower on a big directory.
//!
//! The terms compare folded values: [`fold`] (Unicode lower case, as [`crate::evaluate`]
//! compares `caseExact: false` strings) and `email_key` from the core. A store keeps
//! those folds in indexed columns (computed in Rust when it writes a row) or otherwise
//! matches them exactly; [`IndexTerm::matches`] is the reference.

use jiff::Timestamp;
use roster_core::Employee;
use roster_core::employee::EmployeeKey;
use roster_core::normalise::email_key;

use crate::filter::{AttrPath, CompareOp, Filter, Value, parse_datetime};
use crate::ids::fallback_key;
use crate::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

/// How `case_exact: false` strings are compared: Unicode lower case.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// A range bound on `meta.lastModified`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Bound {
    /// Does `t` satisfy `t <bound> at`?
    pub fn holds(self, t: Timestamp, at: Timestamp) -> bool {
        match self {
            Bound::Gt => t > at,
            Bound::Ge => t >= at,
            Bound::Lt => t < at,
            Bound::Le => t <= at,
        }
    }
}

/// One condition the store answers from an index. Lists mean `IN (…)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexTerm {
    /// The employee's store key is one of these.
    Key(Vec<EmployeeKey>),
    /// `email_key(email)` is one of these (the work email: `userName`, `emails[type eq
    /// "work"]`).
    Email(Vec<String>),
    /// `email_key(secondary_email)` is one of these (`emails[type eq "home"]`).
    SecondaryEmail(Vec<String>),
    /// `source_id` is one of these, exactly (`externalId` is case-exact).
    SourceId(Vec<String>),
    /// `fold(employee_id)` is one of these (`employeeNumber`).
    EmployeeId(Vec<String>),
    /// `active` (the SCIM `active`: active and not merged) equals this.
    Active(bool),
    /// The time the employee's representation last changed, from the history
    /// ([`crate::UserMeta::last_modified`]), against a bound.
    LastModified(Bound, Timestamp),
}

impl IndexTerm {
    /// The reference semantics, for the store's contract tests.
    pub fn matches(&self, e: &Employee, last_modified: Timestamp) -> bool {
        let folded = |s: &Option<String>| s.as_deref().map(email_key);
        match self {
            IndexTerm::Key(keys) => keys.contains(&e.key),
            IndexTerm::Email(keys) => !e.email.is_empty() && keys.contains(&email_key(&e.email)),
            IndexTerm::SecondaryEmail(keys) => {
                folded(&e.secondary_email).is_some_and(|k| keys.contains(&k))
            }
            IndexTerm::SourceId(ids) => e.source_id.as_ref().is_some_and(|s| ids.contains(s)),
            IndexTerm::EmployeeId(ids) => ids.contains(&fold(&e.employee_id)),
            IndexTerm::Active(b) => (e.active && e.merged_into.is_none()) == *b,
            IndexTerm::LastModified(bound, at) => bound.holds(last_modified, *at),
        }
    }

    /// Same attribute, so `self or other` is one `IN` list.
    fn merge(&mut self, other: &IndexTerm) -> bool {
        use IndexTerm::*;
        match (self, other) {
            (Key(a), Key(b)) => a.extend(b),
            (Email(a), Email(b))
            | (SecondaryEmail(a), SecondaryEmail(b))
            | (SourceId(a), SourceId(b))
            | (EmployeeId(a), EmployeeId(b)) => a.extend(b.iter().cloned()),
            _ => return false,
        }
        true
    }
}

/// Which rows the store loads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexQuery {
    /// Every employee (a scan).
    All,
    /// No employee can match.
    Nothing,
    Term(IndexTerm),
    /// Every part holds.
    And(Vec<IndexQuery>),
    /// Some part holds.
    Or(Vec<IndexQuery>),
}

impl IndexQuery {
    /// The reference semantics, for the store's contract tests.
    pub fn matches(&self, e: &Employee, last_modified: Timestamp) -> bool {
        match self {
            IndexQuery::All => true,
            IndexQuery::Nothing => false,
            IndexQuery::Term(t) => t.matches(e, last_modified),
            IndexQuery::And(parts) => parts.iter().all(|p| p.matches(e, last_modified)),
            IndexQuery::Or(parts) => parts.iter().any(|p| p.matches(e, last_modified)),
        }
    }
}

/// The store query for a filter and what is left to check in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryPlan {
    pub index: IndexQuery,
    /// `None`: the index answers the filter exactly.
    pub residual: Option<Filter>,
}

impl QueryPlan {
    /// No filter: every user, nothing to check.
    pub fn all() -> Self {
        QueryPlan {
            index: IndexQuery::All,
            residual: None,
        }
    }
}

/// What the planner needs to know of the served representation.
pub(crate) struct Served {
    pub secondary_email: bool,
    pub external_id: bool,
}

/// Plan a resolved User filter.
pub(crate) fn plan_query(served: &Served, f: &Filter) -> QueryPlan {
    let (index, residual) = plan(served, f);
    QueryPlan { index, residual }
}

type Planned = (IndexQuery, Option<Filter>);

fn exact(t: IndexTerm) -> Planned {
    (IndexQuery::Term(t), None)
}

fn plan(served: &Served, f: &Filter) -> Planned {
    match f {
        Filter::And(items) => {
            let mut index = Vec::new();
            let mut residual = Vec::new();
            for item in items {
                let (i, r) = plan(served, item);
                match i {
                    IndexQuery::Nothing => return (IndexQuery::Nothing, None),
                    IndexQuery::All => {}
                    IndexQuery::And(parts) => index.extend(parts),
                    other => index.push(other),
                }
                residual.extend(r);
            }
            let index = match index.len() {
                0 => IndexQuery::All,
                1 => index.pop().expect("one"),
                _ => IndexQuery::And(index),
            };
            (index, Filter::all(residual))
        }
        Filter::Or(items) => {
            let mut index: Vec<IndexQuery> = Vec::new();
            let mut exact = true;
            let mut scan = false;
            for item in items {
                let (i, r) = plan(served, item);
                exact &= r.is_none();
                match i {
                    IndexQuery::Nothing => {}
                    IndexQuery::All => scan = true,
                    IndexQuery::Term(t) => {
                        let merged = index.iter_mut().any(|q| match q {
                            IndexQuery::Term(q) => q.merge(&t),
                            _ => false,
                        });
                        if !merged {
                            index.push(IndexQuery::Term(t));
                        }
                    }
                    other => index.push(other),
                }
            }
            let index = if scan {
                IndexQuery::All
            } else {
                match index.len() {
                    0 => IndexQuery::Nothing,
                    1 => index.pop().expect("one"),
                    _ => IndexQuery::Or(index),
                }
            };
            let residual = (!exact && index != IndexQuery::Nothing).then(|| f.clone());
            (index, residual)
        }
        Filter::Compare(p, op, v) => compare(served, p, *op, v).unwrap_or_else(|| scan(f)),
        Filter::ValuePath(p, inner) if p.is(USER_SCHEMA, "emails", None) => {
            emails_value_path(served, f, inner).unwrap_or_else(|| scan(f))
        }
        _ => scan(f),
    }
}

fn scan(f: &Filter) -> Planned {
    (IndexQuery::All, Some(f.clone()))
}

fn any_email(served: &Served, key: String) -> IndexQuery {
    if served.secondary_email {
        IndexQuery::Or(vec![
            IndexQuery::Term(IndexTerm::Email(vec![key.clone()])),
            IndexQuery::Term(IndexTerm::SecondaryEmail(vec![key])),
        ])
    } else {
        IndexQuery::Term(IndexTerm::Email(vec![key]))
    }
}

/// A comparison on an indexed attribute; `None` when it is not one.
fn compare(served: &Served, p: &AttrPath, op: CompareOp, v: &Value) -> Option<Planned> {
    if p.is(USER_SCHEMA, "meta", Some("lastModified")) {
        let Value::Str(s) = v else { return None };
        let at = parse_datetime(s)?;
        let bound = |b| IndexQuery::Term(IndexTerm::LastModified(b, at));
        return Some(match op {
            CompareOp::Gt => (bound(Bound::Gt), None),
            CompareOp::Ge => (bound(Bound::Ge), None),
            CompareOp::Lt => (bound(Bound::Lt), None),
            CompareOp::Le => (bound(Bound::Le), None),
            CompareOp::Eq => (
                IndexQuery::And(vec![bound(Bound::Ge), bound(Bound::Le)]),
                None,
            ),
            _ => return None,
        });
    }
    if p.is(USER_SCHEMA, "active", None) {
        let Value::Bool(b) = v else { return None };
        return match op {
            CompareOp::Eq => Some(exact(IndexTerm::Active(*b))),
            CompareOp::Ne => Some(exact(IndexTerm::Active(!*b))),
            _ => None,
        };
    }
    let (CompareOp::Eq, Value::Str(s)) = (op, v) else {
        return None;
    };
    if p.is(USER_SCHEMA, "id", None) {
        return Some(match s.parse::<EmployeeKey>() {
            Ok(k) if k.to_string() == *s => exact(IndexTerm::Key(vec![k])),
            _ => (IndexQuery::Nothing, None),
        });
    }
    if p.is(USER_SCHEMA, "userName", None) {
        if let Some(k) = fallback_key(s) {
            let f = Filter::Compare(p.clone(), op, v.clone());
            return Some((IndexQuery::Term(IndexTerm::Key(vec![k])), Some(f)));
        }
        let key = email_key(s);
        let residual = (key != fold(s)).then(|| Filter::Compare(p.clone(), op, v.clone()));
        return Some((IndexQuery::Term(IndexTerm::Email(vec![key])), residual));
    }
    if p.is(USER_SCHEMA, "emails", Some("value")) || p.is(USER_SCHEMA, "emails", None) {
        let key = email_key(s);
        let residual = (key != fold(s)).then(|| Filter::Compare(p.clone(), op, v.clone()));
        return Some((any_email(served, key), residual));
    }
    if p.is(USER_SCHEMA, "externalId", None) {
        let f = Filter::Compare(p.clone(), op, v.clone());
        let residual = (!served.external_id).then_some(f);
        return Some((
            IndexQuery::Term(IndexTerm::SourceId(vec![s.clone()])),
            residual,
        ));
    }
    if p.is(ENTERPRISE_USER_SCHEMA, "employeeNumber", None) {
        return Some(exact(IndexTerm::EmployeeId(vec![fold(s)])));
    }
    None
}

/// `emails[…]` holding `value eq "…"`: which email column, and whether the value
/// filter says no more than that.
fn emails_value_path(served: &Served, f: &Filter, inner: &Filter) -> Option<Planned> {
    let conjuncts: Vec<&Filter> = match inner {
        Filter::And(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut value = None;
    let mut kind = None;
    let mut rest = 0;
    for c in &conjuncts {
        match c {
            Filter::Compare(p, CompareOp::Eq, Value::Str(s)) if p.is_relative("value") => {
                if value.is_some() {
                    rest += 1;
                } else {
                    value = Some(s);
                }
            }
            Filter::Compare(p, CompareOp::Eq, Value::Str(s))
                if p.is_relative("type") && kind.is_none() =>
            {
                kind = Some(fold(s));
            }
            _ => rest += 1,
        }
    }
    let value = value?;
    let key = email_key(value);
    let mut is_exact = rest == 0 && key == fold(value);
    let index = match kind.as_deref() {
        Some("work") => IndexQuery::Term(IndexTerm::Email(vec![key])),
        Some("home") if served.secondary_email => {
            IndexQuery::Term(IndexTerm::SecondaryEmail(vec![key]))
        }
        Some(_) => return Some((IndexQuery::Nothing, None)),
        None => any_email(served, key),
    };
    if kind.is_none() && rest > 0 {
        is_exact = false;
    }
    let residual = (!is_exact).then(|| f.clone());
    Some((index, residual))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
