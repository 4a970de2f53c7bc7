//! [`SandboxHandle`]: in-process access to the company and the control operations
//! (the same ones the `/_sandbox` HTTP API offers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use parking_lot::{Mutex, RwLock};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::AuthStore;
use crate::config::{Faults, SandboxConfig};
use crate::error::{ControlError, SandboxError};
use crate::model::{Company, Email, Member, Period};
use crate::names::{CULTURES, fold_ascii};
use crate::scopes::ScopeSet;
use crate::wire::{
    InputMode, build_member, custom_values, member_value, merge_patch, parse_input, patch_document,
};

/// A member as the control API lists it: the full wire member (every scope) and
/// whether it is hidden from the Justworks endpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListedMember {
    pub hidden: bool,
    pub member: Value,
}

/// A new name and/or date of birth. Absent fields stay as they are; an empty
/// `preferred_name` removes it. `full_preferred_name` is recomputed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
}

/// An access token minted without the OAuth dance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MintedToken {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub expires_at: Timestamp,
    pub scope: String,
}

/// Counts for `GET /_sandbox/info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxInfo {
    pub company_id: String,
    pub company_name: Option<String>,
    pub members: usize,
    pub hidden: usize,
    pub active: usize,
    pub today: Date,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// Fixed one-second windows for the rate-limit fault.
pub(crate) struct Window {
    start: Instant,
    count: u32,
}

impl Window {
    /// Counts a request; `Err(seconds)` when over the limit.
    pub(crate) fn acquire(&mut self, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        if now.duration_since(self.start) >= Duration::from_secs(1) {
            self.start = now;
            self.count = 0;
        }
        if self.count < limit {
            self.count += 1;
            Ok(())
        } else {
            Err(1)
        }
    }
}

pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub company: RwLock<Company>,
    pub auth: Mutex<AuthStore>,
    pub faults: RwLock<Faults>,
    pub window: Mutex<Window>,
    pub fault_rng: Mutex<ChaCha8Rng>,
}

/// Cheap-to-clone access to a sandbox's company, tokens and faults.
#[derive(Clone)]
pub struct SandboxHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("company_id", &self.shared.company.read().profile.id)
            .finish_non_exhaustive()
    }
}

fn build_company(config: &SandboxConfig) -> Result<Company, SandboxError> {
    match &config.fixture {
        Some(path) => crate::fixture::load(path, config.seed, config.today),
        None => Ok(crate::generate::generate(
            config.seed,
            config.members,
            config.today,
            config.company_name.as_deref(),
        )),
    }
}

impl SandboxHandle {
    /// Builds the company (generated or from the fixture). For a million members this
    /// takes a few seconds; call it off the async runtime (`start` does).
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        config.faults.validate().map_err(SandboxError::Config)?;
        let started = Instant::now();
        let company = build_company(&config)?;
        tracing::info!(
            members = company.members.len(),
            approx_mib = company.approx_bytes() / (1 << 20),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "sandbox company ready"
        );
        Ok(SandboxHandle {
            shared: Arc::new(Shared {
                faults: RwLock::new(config.faults.clone()),
                fault_rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.seed ^ 0xfa17)),
                config,
                company: RwLock::new(company),
                auth: Mutex::new(AuthStore::default()),
                window: Mutex::new(Window {
                    start: Instant::now(),
                    count: 0,
                }),
            }),
        })
    }

    /// The configuration the sandbox was built from.
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// `GET /v1/company` as JSON.
    pub fn company(&self) -> Value {
        serde_json::to_value(&self.shared.company.read().profile).expect("plain data")
    }

    /// Company id, counts, today and the client id.
    pub fn info(&self) -> SandboxInfo {
        let c = self.shared.company.read();
        SandboxInfo {
            company_id: c.profile.id.clone(),
            company_name: c.profile.display_name.clone(),
            members: c.members.len(),
            hidden: c.members.iter().filter(|m| m.hidden).count(),
            active: c.members.iter().filter(|m| m.active && !m.hidden).count(),
            today: c.today,
            client_id: self.shared.config.client_id.clone(),
            scopes: crate::scopes::all_scopes()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// One member with every field, hidden or not.
    pub fn member(&self, id: &str) -> Option<ListedMember> {
        let c = self.shared.company.read();
        let pos = c.find(id)?;
        let m = &c.members[pos];
        Some(ListedMember {
            hidden: m.hidden,
            member: member_value(&c, m),
        })
    }

    /// Every member in list order, with every field; hidden ones only when asked.
    pub fn members(&self, include_hidden: bool) -> Vec<ListedMember> {
        self.members_page(include_hidden, 0, usize::MAX)
    }

    /// A slice of [`SandboxHandle::members`].
    pub fn members_page(
        &self,
        include_hidden: bool,
        offset: usize,
        limit: usize,
    ) -> Vec<ListedMember> {
        let c = self.shared.company.read();
        c.members
            .iter()
            .filter(|m| include_hidden || !m.hidden)
            .skip(offset)
            .take(limit)
            .map(|m| ListedMember {
                hidden: m.hidden,
                member: member_value(&c, m),
            })
            .collect()
    }

    /// Custom field values of a member: `[{"id": "cf_…", "values": [...]}]`.
    pub fn custom_field_values(&self, id: &str) -> Result<Value, ControlError> {
        let c = self.shared.company.read();
        let pos = c
            .find(id)
            .ok_or_else(|| ControlError::NotFound(id.to_owned()))?;
        Ok(serde_json::to_value(custom_values(&c, &c.members[pos])).expect("plain data"))
    }

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

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults.read().clone()
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) -> Result<(), ControlError> {
        faults.validate().map_err(ControlError::BadRequest)?;
        *self.shared.faults.write() = faults;
        Ok(())
    }

    /// An access token for these scopes, valid for the configured access TTL.
    pub fn mint_token(&self, scopes: &[&str]) -> Result<MintedToken, ControlError> {
        self.mint_token_with_ttl(scopes, self.shared.config.access_ttl)
    }

    /// An access token for these scopes with its own lifetime.
    pub fn mint_token_with_ttl(
        &self,
        scopes: &[&str],
        ttl: Duration,
    ) -> Result<MintedToken, ControlError> {
        let set =
            ScopeSet::from_names(scopes.iter().copied()).map_err(|u| ControlError::Invalid {
                field: "scopes".into(),
                message: format!("unknown scope `{}`", u.0),
            })?;
        let issued = self.shared.auth.lock().issue(set, None, ttl, None);
        Ok(MintedToken {
            access_token: issued.access_token,
            token_type: "bearer".into(),
            expires_in: issued.expires_in,
            expires_at: issued.access_expires_at,
            scope: set.to_string(),
        })
    }

    /// Revokes a token as `POST /v1/oauth/revoke` would.
    pub fn revoke_token(&self, token: &str) {
        self.shared.auth.lock().revoke(token);
    }

    /// Rebuilds the company from the configuration and restores the configured faults
    /// and today. Issued tokens stay valid.
    pub fn reset(&self) -> Result<(), SandboxError> {
        let company = build_company(&self.shared.config)?;
        *self.shared.company.write() = company;
        *self.shared.faults.write() = self.shared.config.faults.clone();
        Ok(())
    }

    /// The sandbox's today.
    pub fn today(&self) -> Date {
        self.shared.company.read().today
    }

    /// Moves today. Members whose termination date is now in the past become inactive
    /// (and those whose date is now in the future active again), with `updated_at` bumped.
    /// Returns how many members changed.
    pub fn set_today(&self, today: Date) -> usize {
        let mut c = self.shared.company.write();
        c.today = today;
        let mut changed = 0;
        for k in 0..c.members.len() {
            let m = c.members[k];
            if let Some(t) = m.termination_date {
                let active = t >= today;
                if active != m.active {
                    let now = c.now();
                    let m = &mut c.members[k];
                    m.active = active;
                    m.updated_at = now;
                    changed += 1;
                }
            }
        }
        changed
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
