//! Personal data and its anonymisation (issue #17), pure: which fields of an
//! employee are personal, the neutral values that replace them, the plan of one
//! employee's anonymisation, and the [`Scrub`] that rewrites every stored copy of
//! the erased values (history, events, review and outbox payloads, free text).
//!
//! - **Personal**: first, last and preferred name, email, secondary email, phone,
//!   date of birth, the source id (a keyed digest is kept instead, by the caller),
//!   the employee ID when it is the source's id (`employee_ids = source`), and every
//!   mapped demographic whose [`Privacy`] is `personal` (by default Home City, Home
//!   State and Home Country; the admin marks others with the settings
//!   `personal_demographics` / `keep_demographics`).
//! - **Kept** (reporting): department and every other `keep` demographic, start,
//!   rehire, hire and end dates, manager, status and member type.
//! - **Neutral values** are stable per employee and derived from its store key only:
//!   employee ID `{generated_id_prefix}E{key}` (when the ID was the source's), first
//!   name `Former employee`, last name the (neutral) employee ID, email
//!   `erased-{key}@erased.invalid` (when there was one, so that reports still point
//!   at their manager); every other personal field becomes empty.
//! - **History** (import entries, events) of the erased employee keeps the *field
//!   names* of every change but none of the values: personal values become empty,
//!   the email and erased ID become their neutral values (so that walking the history
//!   back from the directory stays consistent). Other employees' rows that name an
//!   erased email (manager, associated fields) get the neutral email.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::employee::{DEMOGRAPHIC_PREFIX, Employee, EmployeeKey};
pub use crate::fields::Privacy;
use crate::normalise::email_key;
use crate::plan::{Change, Rule};

/// The directory fields that are always personal (the employee ID is personal only
/// when it is the source's id: see [`id_is_personal`]).
pub const PERSONAL_FIELDS: &[&str] = &[
    "source_id",
    "email",
    "secondary_email",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "phone",
];

/// The first name of an anonymised employee.
pub const NEUTRAL_FIRST_NAME: &str = "Former employee";

/// The domain of neutral emails (`.invalid` is reserved: it never delivers).
pub const NEUTRAL_DOMAIN: &str = "erased.invalid";

/// The employee ID is the source's member id (`employee_ids = source`), so it is as
/// personal as the source id.
pub fn id_is_personal(e: &Employee) -> bool {
    e.source_id.as_deref() == Some(e.employee_id.as_str())
}

/// The neutral values of one employee: derived from its key (and the ID prefix),
/// never from the erased values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neutral {
    /// `Some` when the employee ID is replaced.
    pub employee_id: Option<String>,
    pub email: String,
}

impl Neutral {
    pub fn of(e: &Employee, id_prefix: &str) -> Neutral {
        Neutral {
            employee_id: id_is_personal(e).then(|| format!("{id_prefix}E{}", e.key)),
            email: format!("erased-{}@{NEUTRAL_DOMAIN}", e.key),
        }
    }
}

/// One employee's anonymisation: the row as it will be, and which fields it
/// replaces (names only: the record of an anonymisation never holds the values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anonymised {
    pub key: EmployeeKey,
    /// The employee ID after (neutral or kept).
    pub employee_id: String,
    pub after: Employee,
    /// The replaced fields, in display order (`demographic:<name>` for demographics).
    pub fields: Vec<String>,
    /// The recorded changes: each replaced field from empty (the erased value is
    /// not recorded) to its neutral value, under `rule`; the employee ID and email
    /// from their neutral value (the rewritten history shows it throughout).
    pub changes: Vec<Change>,
    pub neutral: Neutral,
}

/// Plan the anonymisation of `e`: `personal` names the personal demographics
/// (`Settings::personal_demographics`), `id_prefix` the generated ID prefix.
pub fn anonymise(e: &Employee, personal: &[String], id_prefix: &str, rule: Rule) -> Anonymised {
    let neutral = Neutral::of(e, id_prefix);
    let mut after = e.clone();
    if let Some(id) = &neutral.employee_id {
        after.employee_id = id.clone();
    }
    after.source_id = None;
    if !after.email.is_empty() {
        after.email = neutral.email.clone();
    }
    after.secondary_email = None;
    after.first_name = Some(NEUTRAL_FIRST_NAME.to_string());
    after.last_name = Some(after.employee_id.clone());
    after.preferred_name = None;
    after.date_of_birth = None;
    after.phone = None;
    after.email_edited = false;
    after
        .demographics
        .retain(|name, _| !personal.iter().any(|p| p == name));
    let mut fields: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    let mut names: Vec<String> = Vec::new();
    if neutral.employee_id.is_some() {
        names.push("employee_id".into());
    }
    names.extend(PERSONAL_FIELDS.iter().map(|f| f.to_string()));
    names.extend(
        e.demographics
            .keys()
            .filter(|d| personal.iter().any(|p| p == d))
            .map(|d| format!("{DEMOGRAPHIC_PREFIX}{d}")),
    );
    for name in names {
        let (was, now) = (e.field(&name), after.field(&name));
        if was.is_none() && now.is_none() {
            continue;
        }
        fields.push(name.clone());
        // The rewritten history shows the neutral ID and email throughout (reports
        // point at it): the change starts from it, so that walking the history back
        // from the directory stays consistent.
        let old = match name.as_str() {
            "employee_id" | "email" => now.clone(),
            _ => None,
        };
        changes.push(Change {
            field: name,
            old,
            new: now,
            rule,
        });
    }
    if e.email_edited {
        changes.push(Change {
            field: crate::employee::EMAIL_EDITED.into(),
            old: Some("true".into()),
            new: Some("false".into()),
            rule,
        });
    }
    Anonymised {
        key: e.key,
        employee_id: after.employee_id.clone(),
        after,
        fields,
        changes,
        neutral,
    }
}

/// How the values of one erased employee are found and replaced wherever they are
/// stored. Seeded from the directory row ([`Scrub::new`]); the store adds every
/// value the employee's history held ([`Scrub::learn`]) before it rewrites.
#[derive(Clone, Debug)]
pub struct Scrub {
    pub key: EmployeeKey,
    neutral: Neutral,
    /// The personal demographics (names).
    personal: Vec<String>,
    /// Every email the employee had, as keys (lower case).
    emails: BTreeSet<String>,
    /// Every employee ID (when personal) and source id the employee had.
    ids: BTreeSet<String>,
    /// Names and phones: replaced as whole words in free text.
    words: BTreeSet<String>,
    /// Dates of birth: replaced in free text and under a `date_of_birth` key.
    dates: BTreeSet<String>,
    /// Personal demographic values: replaced only in the employee's own objects.
    demographic_values: BTreeSet<String>,
}

/// What free text shows in place of an erased value.
pub const ERASED_TEXT: &str = "[erased]";

impl Scrub {
    pub fn new(before: &Employee, plan: &Anonymised, personal: &[String]) -> Scrub {
        let mut s = Scrub {
            key: before.key,
            neutral: plan.neutral.clone(),
            personal: personal.to_vec(),
            emails: BTreeSet::new(),
            ids: BTreeSet::new(),
            words: BTreeSet::new(),
            dates: BTreeSet::new(),
            demographic_values: BTreeSet::new(),
        };
        for name in before.field_names() {
            s.learn(&name, before.field(&name).as_deref());
        }
        s
    }

    /// Whether `field` of this employee is erased from its history.
    pub fn is_personal(&self, field: &str) -> bool {
        if field == "employee_id" {
            return self.neutral.employee_id.is_some();
        }
        PERSONAL_FIELDS.contains(&field)
            || field
                .strip_prefix(DEMOGRAPHIC_PREFIX)
                .is_some_and(|d| self.personal.iter().any(|p| p == d))
    }

    /// Note a value the employee's `field` held (in the directory or the history).
    pub fn learn(&mut self, field: &str, value: Option<&str>) {
        let Some(v) = crate::normalise::nonblank(value) else {
            return;
        };
        if !self.is_personal(field) || self.is_neutral(v) {
            return;
        }
        match field {
            "email" | "secondary_email" => {
                self.emails.insert(email_key(v));
            }
            "employee_id" | "source_id" => {
                self.ids.insert(v.to_string());
            }
            "date_of_birth" => {
                self.dates.insert(v.to_string());
            }
            "first_name" | "last_name" | "preferred_name" | "phone" => {
                self.words.insert(v.to_string());
            }
            _ => {
                self.demographic_values.insert(v.to_string());
            }
        }
    }

    fn is_neutral(&self, v: &str) -> bool {
        v == NEUTRAL_FIRST_NAME
            || Some(v) == self.neutral.employee_id.as_deref()
            || v.eq_ignore_ascii_case(&self.neutral.email)
    }

    /// Learn the personal values of a stored copy of the employee (an entry not
    /// applied, a review's row).
    pub fn learn_employee(&mut self, e: &Employee) {
        for name in e.field_names() {
            self.learn(&name, e.field(&name).as_deref());
        }
    }

    /// Learn from recorded changes of the employee (old and new values).
    pub fn learn_changes<'a>(
        &mut self,
        changes: impl IntoIterator<Item = (&'a str, Option<&'a str>, Option<&'a str>)>,
    ) {
        for (field, old, new) in changes {
            self.learn(field, old);
            self.learn(field, new);
        }
    }

    /// Whether a stored copy of an employee (an entry not applied, which has no key)
    /// is this person: the same key, an erased email or an erased source id.
    pub fn is_same_person(&self, e: &Employee) -> bool {
        e.key == self.key
            || (!e.email.trim().is_empty() && self.emails.contains(&email_key(&e.email)))
            || e.source_id.as_ref().is_some_and(|s| self.ids.contains(s))
    }

    /// The neutral values.
    pub fn neutral(&self) -> &Neutral {
        &self.neutral
    }

    /// Lower-cased fragments any stored text holding an erased value contains: a
    /// store selects the rows to rewrite by them (then [`Scrub`] decides exactly).
    pub fn needles(&self) -> Vec<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        for v in self
            .emails
            .iter()
            .chain(&self.ids)
            .chain(&self.words)
            .chain(&self.dates)
            .chain(&self.demographic_values)
        {
            out.insert(v.to_lowercase());
        }
        out.into_iter().collect()
    }

    /// The value this employee's own `field` keeps in its history: personal values
    /// become empty (the email and a personal ID their neutral value); other fields
    /// as [`Scrub::other_value`].
    pub fn own_value(&self, field: &str, value: Option<String>) -> Option<String> {
        let v = value?;
        if !self.is_personal(field) {
            return self.other_value(field, Some(v));
        }
        if v.trim().is_empty() && matches!(field, "email" | "employee_id") {
            return Some(v);
        }
        match field {
            "email" if !v.trim().is_empty() => Some(self.neutral.email.clone()),
            "email" => Some(v),
            "employee_id" => self.neutral.employee_id.clone(),
            _ => None,
        }
    }

    /// A value in another employee's row: an erased email (as manager or in an
    /// associated field) becomes the neutral email; anything else stays.
    pub fn other_value(&self, field: &str, value: Option<String>) -> Option<String> {
        let v = value?;
        let refers = field == "manager_email" || field.starts_with(DEMOGRAPHIC_PREFIX);
        if refers && self.emails.contains(&email_key(&v)) {
            return Some(self.neutral.email.clone());
        }
        Some(v)
    }

    /// Rewrite the recorded changes of this employee (`own`) or of another; whether
    /// anything changed.
    pub fn changes(&self, changes: &mut [Change], own: bool) -> bool {
        let mut changed = false;
        for c in changes.iter_mut() {
            let (old, new) = if own {
                (
                    self.own_value(&c.field, c.old.clone()),
                    self.own_value(&c.field, c.new.clone()),
                )
            } else {
                (
                    self.other_value(&c.field, c.old.clone()),
                    self.other_value(&c.field, c.new.clone()),
                )
            };
            if old != c.old || new != c.new {
                c.old = old;
                c.new = new;
                changed = true;
            }
        }
        changed
    }

    /// Rewrite a stored copy of an employee: this employee's (`own`: every personal
    /// field as in its history) or another's (references to an erased email).
    pub fn employee(&self, e: &mut Employee, own: bool) -> bool {
        let before = e.clone();
        let names: Vec<String> = e.field_names().collect();
        for name in names {
            let v = e.field(&name);
            let now = if own {
                self.own_value(&name, v.clone())
            } else {
                self.other_value(&name, v.clone())
            };
            if now != v {
                // Only known fields come from field_names(): set_field cannot fail
                // on them; a date field set to None cannot fail either.
                let _ = e.set_field(&name, now.as_deref());
            }
        }
        if own && self.neutral.employee_id.is_some() {
            e.source_id = None;
        }
        *e != before
    }

    /// Free text with every erased value replaced: emails and IDs wherever they
    /// occur, names, phones and birth dates (inside a longer text) as whole words.
    /// `None` when unchanged.
    pub fn text(&self, s: &str) -> Option<String> {
        let mut out = s.to_string();
        for email in &self.emails {
            out = replace_ci(&out, email, &self.neutral.email, false);
        }
        for v in self.ids.iter().chain(&self.words) {
            out = replace_ci(&out, v, ERASED_TEXT, true);
        }
        // A date alone may be anybody's date (a start date): only dates inside a
        // longer text, and values under a `date_of_birth` key (see `json`).
        for v in self.dates.iter().filter(|d| s.trim() != d.as_str()) {
            out = replace_ci(&out, v, ERASED_TEXT, true);
        }
        (out != s).then_some(out)
    }

    /// Rewrite a JSON document (a review's plan, an outbox payload, an import's
    /// details): an object that is this employee (its `key` is the employee's) is
    /// rewritten field by field; every string elsewhere as [`Scrub::text`]. Whether
    /// anything changed.
    pub fn json(&self, v: &mut Value) -> bool {
        match v {
            Value::String(s) => match self.text(s) {
                Some(t) => {
                    *s = t;
                    true
                }
                None => false,
            },
            Value::Array(items) => {
                let mut changed = false;
                for item in items {
                    changed |= self.json(item);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                if map.get("key").and_then(Value::as_i64) == Some(self.key) {
                    changed |= self.own_object(map);
                }
                for (name, item) in map.iter_mut() {
                    if let (Value::String(s), true) = (&*item, self.is_personal(name))
                        && (self.dates.contains(s.as_str()) || self.ids.contains(s.as_str()))
                    {
                        *item = Value::Null;
                        changed = true;
                        continue;
                    }
                    changed |= self.json(item);
                }
                changed
            }
            _ => false,
        }
    }

    /// This employee's object in a JSON document: every personal key emptied (the
    /// email and ID neutral), personal demographics removed.
    fn own_object(&self, map: &mut serde_json::Map<String, Value>) -> bool {
        let mut changed = false;
        for (name, item) in map.iter_mut() {
            if name == "demographics" {
                if let Value::Object(d) = item {
                    let before = d.len();
                    d.retain(|k, _| !self.personal.contains(k));
                    changed |= d.len() != before;
                }
                continue;
            }
            if !self.is_personal(name) || item.is_null() {
                continue;
            }
            let now = match item.as_str() {
                Some(s) => self.own_value(name, Some(s.to_string())),
                None => None,
            };
            let now = now.map_or(Value::Null, Value::String);
            if *item != now {
                *item = now;
                changed = true;
            }
        }
        changed
    }
}

/// Replace every case-insensitive occurrence of `needle` in `hay` (as a whole word
/// when `word`: not preceded or followed by a letter or digit).
fn replace_ci(hay: &str, needle: &str, with: &str, word: bool) -> String {
    if needle.is_empty() {
        return hay.to_string();
    }
    let lower_hay = hay.to_lowercase();
    let lower_needle = needle.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII: then compare exactly.
    let (h, n) = if lower_hay.len() == hay.len() && lower_needle.len() == needle.len() {
        (lower_hay.as_str(), lower_needle.as_str())
    } else {
        (hay, needle)
    };
    let mut out = String::with_capacity(hay.len());
    let mut at = 0;
    while let Some(found) = h[at..].find(n) {
        let start = at + found;
        let end = start + n.len();
        let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        if !hay.is_char_boundary(start) || !hay.is_char_boundary(end) {
            break;
        }
        let whole = !word
            || (!alnum(hay[..start].chars().next_back()) && !alnum(hay[end..].chars().next()));
        out.push_str(&hay[at..start]);
        out.push_str(if whole { with } else { &hay[start..end] });
        at = end;
    }
    out.push_str(&hay[at..]);
    out
}

mod removal;

pub use removal::{Removal, removal};

#[cfg(test)]
mod tests;
