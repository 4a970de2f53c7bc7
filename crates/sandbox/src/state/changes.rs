//! The control operations that change members: hires, terminations, rehires,
//! manager, email, name and date-of-birth changes, hiding, and merge patches.

use jiff::civil::Date;
use rand::Rng;
use serde_json::{Value, json};

use super::{NameChange, SandboxHandle};
use crate::error::ControlError;
use crate::model::{Company, Email, Member, Period};
use crate::names::{CULTURES, fold_ascii};
use crate::wire::{
    InputMode, build_member, member_value, merge_patch, parse_input, patch_document,
};

impl SandboxHandle {
    /// Hires a member from a wire-shaped JSON document and returns it with its new id.
    /// Defaults: `type` employee, start date and date added today, `active` true,
    /// a new `work_id`, `created_at`/`updated_at` now (so the member sorts last).
    /// The sandbox extras `custom_field_values` and `hidden` are accepted too.
    pub fn hire(&self, member: Value) -> Result<Value, ControlError> {
        let mut c = self.shared.company.write();
        hire_locked(&mut c, member)
    }

    /// Hires a generated employee (used by the insert-while-paging fault).
    pub fn hire_random(&self) -> Result<Value, ControlError> {
        let mut c = self.shared.company.write();
        let doc = random_hire(&mut c);
        hire_locked(&mut c, doc)
    }

    fn modify(
        &self,
        id: &str,
        f: impl FnOnce(&mut Company, &mut Member) -> Result<(), ControlError>,
    ) -> Result<Value, ControlError> {
        let mut c = self.shared.company.write();
        let pos = c
            .find(id)
            .ok_or_else(|| ControlError::NotFound(id.to_owned()))?;
        let mut m = c.members[pos];
        f(&mut c, &mut m)?;
        m.updated_at = c.now();
        let pos = c.replace(pos, m);
        Ok(member_value(&c, &c.members[pos]))
    }

    /// Sets the termination date. A date before today makes the member inactive; a
    /// later one (or today) schedules it and the member stays active.
    pub fn terminate(&self, id: &str, date: Date) -> Result<Value, ControlError> {
        self.modify(id, |c, m| {
            if m.start_date.is_some_and(|s| date < s) {
                return Err(ControlError::Invalid {
                    field: "date".into(),
                    message: "is before the employment start date".into(),
                });
            }
            m.termination_date = Some(date);
            m.active = date >= c.today;
            let mut h = c.periods.get(m.history).to_vec();
            match h.last_mut() {
                Some(p) if p.start == m.start_date => p.end = Some(date),
                _ => h.push(Period {
                    start: m.start_date,
                    end: Some(date),
                }),
            }
            m.history = c.periods.push_all(h);
            Ok(())
        })
    }

    /// Removes a (past or scheduled) termination: active again, no termination date.
    pub fn cancel_termination(&self, id: &str) -> Result<Value, ControlError> {
        self.modify(id, |c, m| {
            if m.termination_date.is_none() {
                return Err(ControlError::BadRequest(
                    "the member has no termination date to cancel".into(),
                ));
            }
            m.termination_date = None;
            m.active = true;
            let mut h = c.periods.get(m.history).to_vec();
            if let Some(p) = h.last_mut()
                && p.start == m.start_date
            {
                p.end = None;
            }
            m.history = c.periods.push_all(h);
            Ok(())
        })
    }

    /// Rehires a terminated member: the old period stays in `employment_history`, a new
    /// one starts on `start`, `employment_start_date` becomes `start`, the termination
    /// date is cleared and the member is active again.
    pub fn rehire(&self, id: &str, start: Date) -> Result<Value, ControlError> {
        self.modify(id, |c, m| {
            let Some(ended) = m.termination_date else {
                return Err(ControlError::BadRequest(
                    "only a member with a termination date can be rehired".into(),
                ));
            };
            if start <= ended {
                return Err(ControlError::Invalid {
                    field: "start_date".into(),
                    message: format!("must be after the termination date {ended}"),
                });
            }
            let mut h = c.periods.get(m.history).to_vec();
            match h.last_mut() {
                Some(p) if p.start == m.start_date => p.end = Some(ended),
                _ => h.push(Period {
                    start: m.start_date,
                    end: Some(ended),
                }),
            }
            h.push(Period {
                start: Some(start),
                end: None,
            });
            m.history = c.periods.push_all(h);
            m.start_date = Some(start);
            m.termination_date = None;
            m.active = true;
            Ok(())
        })
    }

    /// Sets (or with `None` removes) the manager. The manager must exist.
    pub fn set_manager(&self, id: &str, manager_id: Option<&str>) -> Result<Value, ControlError> {
        self.modify(id, |c, m| {
            m.manager = match manager_id.filter(|s| !s.is_empty()) {
                None => crate::arena::Str::EMPTY,
                Some(mid) if mid == id => {
                    return Err(ControlError::Invalid {
                        field: "manager_id".into(),
                        message: "a member cannot be their own manager".into(),
                    });
                }
                Some(mid) => {
                    if c.find(mid).is_none() {
                        return Err(ControlError::Invalid {
                            field: "manager_id".into(),
                            message: format!("no member has id `{mid}`"),
                        });
                    }
                    c.text.push(mid)
                }
            };
            Ok(())
        })
    }

    /// Replaces (or with `None` removes) the work email. Uniqueness is not enforced,
    /// so tests can create clashes on purpose.
    pub fn set_work_email(&self, id: &str, email: Option<&str>) -> Result<Value, ControlError> {
        self.modify(id, |c, m| {
            let email = email.map(str::trim).filter(|s| !s.is_empty());
            if let Some(e) = email
                && !e.contains('@')
            {
                return Err(ControlError::Invalid {
                    field: "work_email".into(),
                    message: format!("`{e}` is not an email address"),
                });
            }
            let old: Vec<(Email, bool)> = c
                .emails
                .get(m.emails)
                .iter()
                .map(|e| (*e, c.text.get(e.kind).eq_ignore_ascii_case("work")))
                .collect();
            let mut emails: Vec<Email> = Vec::with_capacity(old.len() + 1);
            if let Some(e) = email {
                let kind = match old.iter().find(|(_, work)| *work) {
                    Some((w, _)) => w.kind,
                    None => c.text.push("work"),
                };
                let address = c.text.push(e);
                emails.push(Email { address, kind });
            }
            emails.extend(old.iter().filter(|(_, work)| !work).map(|(e, _)| *e));
            m.emails = c.emails.push_all(emails);
            Ok(())
        })
    }

    /// Changes name parts and/or date of birth together (a correction, or a name change).
    pub fn set_name_and_dob(&self, id: &str, change: &NameChange) -> Result<Value, ControlError> {
        self.modify(id, |c, m| {
            let t = &mut c.text;
            if let Some(g) = &change.given_name {
                m.given_name = t.push(g.trim());
            }
            if let Some(f) = &change.family_name {
                m.family_name = t.push(f.trim());
            }
            if let Some(p) = &change.preferred_name {
                m.preferred_name = t.push(p.trim());
            }
            if let Some(d) = change.date_of_birth {
                m.dob = Some(d);
            }
            let first = t
                .opt(m.preferred_name)
                .or(t.opt(m.given_name))
                .map(str::to_owned);
            let family = t.opt(m.family_name).map(str::to_owned);
            let full = match (first, family) {
                (Some(a), Some(b)) => format!("{a} {b}"),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => String::new(),
            };
            m.full_preferred_name = t.push(&full);
            Ok(())
        })
    }

    /// Hides a member from every Justworks endpoint (list and by id: 404) without an
    /// end date, like a member removed from Justworks.
    pub fn hide(&self, id: &str) -> Result<Value, ControlError> {
        self.modify(id, |_, m| {
            m.hidden = true;
            Ok(())
        })
    }

    /// Undoes [`SandboxHandle::hide`].
    pub fn unhide(&self, id: &str) -> Result<Value, ControlError> {
        self.modify(id, |_, m| {
            m.hidden = false;
            Ok(())
        })
    }

    /// Applies a JSON merge patch (RFC 7386) to the full wire member (plus the extras
    /// `custom_field_values` and `hidden`). `id` cannot change; `updated_at` is always
    /// set to now. When the patch changes name parts but not `full_preferred_name`, that
    /// is recomputed; when it changes `employment_termination_date` but not `active`,
    /// `active` follows the date.
    pub fn patch_member(&self, id: &str, patch: &Value) -> Result<Value, ControlError> {
        let Some(p) = patch.as_object() else {
            return Err(ControlError::BadRequest(
                "a merge patch must be a JSON object".into(),
            ));
        };
        let mut c = self.shared.company.write();
        let pos = c
            .find(id)
            .ok_or_else(|| ControlError::NotFound(id.to_owned()))?;
        let old = c.members[pos];
        let mut doc = patch_document(&c, &old);
        merge_patch(&mut doc, patch);
        if let Some(obj) = doc.as_object_mut() {
            if p.get("name")
                .is_some_and(|n| n.get("full_preferred_name").is_none())
                && let Some(Value::Object(name)) = obj.get_mut("name")
            {
                name.remove("full_preferred_name");
            }
            if p.contains_key("employment_termination_date") && !p.contains_key("active") {
                obj.remove("active");
            }
            // A new department or office id without a name must not inherit the old name.
            for key in ["department", "office"] {
                let new_id = p.get(key).and_then(|v| v.get("id"));
                if new_id.is_some()
                    && p.get(key).and_then(|v| v.get("name")).is_none()
                    && let Some(Value::Object(o)) = obj.get_mut(key)
                {
                    o.remove("name");
                    if key == "office" {
                        o.remove("address");
                    }
                }
            }
        }
        let input = parse_input(doc)?;
        let now = c.now();
        let m = build_member(&mut c, input, &InputMode::Patch { old: &old, now })?;
        let pos = c.replace(pos, m);
        Ok(member_value(&c, &c.members[pos]))
    }
}

fn hire_locked(c: &mut Company, member: Value) -> Result<Value, ControlError> {
    if !member.is_object() {
        return Err(ControlError::BadRequest(
            "a member must be a JSON object".into(),
        ));
    }
    let input = parse_input(member)?;
    let now = c.now();
    let m = build_member(c, input, &InputMode::Hire { now })?;
    let pos = c.insert(m);
    Ok(member_value(c, &c.members[pos]))
}

/// A plausible new employee for the insert-while-paging fault.
fn random_hire(c: &mut Company) -> Value {
    let culture = &CULTURES[c.rng.random_range(0..CULTURES.len())];
    let female = c.rng.random_bool(0.5);
    let names = if female { culture.female } else { culture.male };
    let given = names[c.rng.random_range(0..names.len())];
    let family = culture.family[c.rng.random_range(0..culture.family.len())];
    let mut local = String::new();
    fold_ascii(given, &mut local);
    local.push('.');
    fold_ascii(family, &mut local);
    let n = c.next_work_id;
    let today = c.today;
    let mut doc = json!({
        "name": { "given_name": given, "family_name": family },
        "type": "employee",
        "employment_location_type": "remote",
        "emails": [ { "address": format!("{local}.{n}@{}", c.domain), "type": "work" } ],
        "job_title": "Software Engineer",
        "sex_assigned_at_birth": if female { "female" } else { "male" },
        "current_employment": { "US": { "employment_type": "full_time" } },
        "employment_start_date": today.to_string(),
    });
    if let Some(d) = c.profile.departments.iter().find(|d| d.id == "dep_eng") {
        doc["department"] = json!({ "id": d.id });
    }
    doc
}
