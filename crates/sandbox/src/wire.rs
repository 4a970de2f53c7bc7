//! The member on the wire: writing it (with per-scope field omission and the
//! empty-value rules) and reading it back (fixtures, hires and merge patches).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};

use crate::arena::{Span, Str};
use crate::model::{
    Address, Company, CustomValue, Department, Email, Employment, Member, Office, Period, Phone,
    WireAddress,
};
use crate::scopes::{MEMBER_DETAIL, MEMBER_DOB, MEMBER_EMPLOYMENT, MEMBER_SEX};

/// A member as JSON for a token whose expanded scopes are `scopes`.
pub(crate) struct MemberView<'a> {
    pub c: &'a Company,
    pub m: &'a Member,
    pub scopes: u16,
}

impl Serialize for MemberView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (c, m, t) = (self.c, self.m, &self.c.text);
        let has = |bits: u16| self.scopes & bits == bits;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", t.get(m.id))?;
        map.serialize_entry("company_id", &c.profile.id)?;
        if let Some(v) = t.opt(m.work_id) {
            map.serialize_entry("work_id", v)?;
        }
        if m.given_name.is_some()
            || m.family_name.is_some()
            || m.preferred_name.is_some()
            || m.full_preferred_name.is_some()
            || !m.additional_names.is_empty()
        {
            map.serialize_entry("name", &NameView { c, m })?;
        }
        map.serialize_entry("active", &m.active)?;
        if let Some(v) = t.opt(m.kind) {
            map.serialize_entry("type", v)?;
        }
        if let Some(v) = t.opt(m.location_type) {
            map.serialize_entry("employment_location_type", v)?;
        }
        map.serialize_entry(
            "emails",
            &EmailsView {
                c,
                span: m.emails,
                personal: has(MEMBER_DETAIL),
            },
        )?;
        if has(MEMBER_DETAIL) {
            map.serialize_entry("phones", &PhonesView { c, span: m.phones })?;
            map.serialize_entry(
                "addresses",
                &AddressesView {
                    c,
                    span: m.addresses,
                },
            )?;
        }
        if has(MEMBER_EMPLOYMENT) {
            let employment = c.employment.get(m.employment);
            if employment
                .iter()
                .any(|e| e.country.is_some() && e.employment_type.is_some())
            {
                map.serialize_entry("current_employment", &EmploymentView { c, employment })?;
            }
            map.serialize_entry(
                "employment_history",
                &HistoryView {
                    periods: c.periods.get(m.history),
                },
            )?;
        }
        if let Some(d) = m.date_added {
            map.serialize_entry("date_added_to_justworks", &d)?;
        }
        if has(MEMBER_DOB)
            && let Some(d) = m.dob
        {
            map.serialize_entry("date_of_birth", &d)?;
        }
        if has(MEMBER_SEX)
            && let Some(v) = t.opt(m.sex)
        {
            map.serialize_entry("sex_assigned_at_birth", v)?;
        }
        if let Some(d) = m
            .department
            .and_then(|i| c.profile.departments.get(usize::from(i)))
        {
            map.serialize_entry("department", d)?;
        }
        if let Some(d) = m.start_date {
            map.serialize_entry("employment_start_date", &d)?;
        }
        if let Some(d) = m.termination_date {
            map.serialize_entry("employment_termination_date", &d)?;
        }
        if let Some(v) = t.opt(m.job_title) {
            map.serialize_entry("job_title", v)?;
        }
        if let Some(v) = t.opt(m.manager) {
            map.serialize_entry("manager", &IdRef { id: v })?;
        }
        if let Some(o) = m.office.and_then(|i| c.profile.offices.get(usize::from(i))) {
            map.serialize_entry("office", o)?;
        }
        map.serialize_entry("created_at", &m.created_at)?;
        map.serialize_entry("updated_at", &m.updated_at)?;
        map.end()
    }
}

#[derive(Serialize)]
struct IdRef<'a> {
    id: &'a str,
}

struct NameView<'a> {
    c: &'a Company,
    m: &'a Member,
}

impl Serialize for NameView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (c, m, t) = (self.c, self.m, &self.c.text);
        let mut map = s.serialize_map(None)?;
        for (key, v) in [
            ("given_name", m.given_name),
            ("family_name", m.family_name),
            ("preferred_name", m.preferred_name),
            ("full_preferred_name", m.full_preferred_name),
        ] {
            if let Some(v) = t.opt(v) {
                map.serialize_entry(key, v)?;
            }
        }
        map.serialize_entry(
            "additional_names",
            &StrsView {
                c,
                items: c.names.get(m.additional_names),
            },
        )?;
        map.end()
    }
}

struct StrsView<'a> {
    c: &'a Company,
    items: &'a [Str],
}

impl Serialize for StrsView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.items.iter().map(|v| self.c.text.get(*v)))
    }
}

/// Writes `{k: v, …}` skipping empty values.
fn write_pairs<S: Serializer>(s: S, c: &Company, pairs: &[(&str, Str)]) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    for (k, v) in pairs {
        if let Some(v) = c.text.opt(*v) {
            map.serialize_entry(k, v)?;
        }
    }
    map.end()
}

struct EmailsView<'a> {
    c: &'a Company,
    span: Span<Email>,
    personal: bool,
}

struct Pairs<'a, const N: usize>(&'a Company, [(&'static str, Str); N]);

impl<const N: usize> Serialize for Pairs<'_, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        write_pairs(s, self.0, &self.1)
    }
}

impl Serialize for EmailsView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.c;
        let mut seq = s.serialize_seq(None)?;
        for e in c.emails.get(self.span) {
            if !self.personal && c.text.get(e.kind).eq_ignore_ascii_case("personal") {
                continue;
            }
            seq.serialize_element(&Pairs(c, [("address", e.address), ("type", e.kind)]))?;
        }
        seq.end()
    }
}

struct PhonesView<'a> {
    c: &'a Company,
    span: Span<Phone>,
}

impl Serialize for PhonesView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.c;
        s.collect_seq(
            c.phones
                .get(self.span)
                .iter()
                .map(|p| Pairs(c, [("number", p.number), ("type", p.kind)])),
        )
    }
}

struct AddressesView<'a> {
    c: &'a Company,
    span: Span<Address>,
}

impl Serialize for AddressesView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.c;
        s.collect_seq(c.addresses.get(self.span).iter().map(|a| {
            Pairs(
                c,
                [
                    ("type", a.kind),
                    ("line1", a.line1),
                    ("line2", a.line2),
                    ("city", a.city),
                    ("state", a.state),
                    ("postal_code", a.postal_code),
                    ("country", a.country),
                ],
            )
        }))
    }
}

struct EmploymentView<'a> {
    c: &'a Company,
    employment: &'a [Employment],
}

impl Serialize for EmploymentView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.c;
        let mut map = s.serialize_map(None)?;
        for e in self.employment {
            if let (Some(country), true) = (c.text.opt(e.country), e.employment_type.is_some()) {
                map.serialize_entry(country, &Pairs(c, [("employment_type", e.employment_type)]))?;
            }
        }
        map.end()
    }
}

struct HistoryView<'a> {
    periods: &'a [Period],
}

#[derive(Serialize)]
struct PeriodOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_date: Option<Date>,
}

impl Serialize for HistoryView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.periods.iter().map(|p| PeriodOut {
            start_date: p.start,
            end_date: p.end,
        }))
    }
}

/// `{ "id": "cf_…", "values": [...] }` entries, grouped by field in definition order.
pub(crate) fn custom_values(c: &Company, m: &Member) -> Vec<CustomValueOut> {
    let values = c.custom.get(m.custom);
    let mut out = Vec::new();
    for (i, def) in c.custom_fields.iter().enumerate() {
        let vals: Vec<String> = values
            .iter()
            .filter(|v| usize::from(v.field) == i)
            .map(|v| c.text.get(v.value).to_owned())
            .collect();
        if !vals.is_empty() {
            out.push(CustomValueOut {
                id: def.id.clone(),
                values: vals,
            });
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomValueOut {
    pub id: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// The full member (every scope) as a JSON value.
pub(crate) fn member_value(c: &Company, m: &Member) -> serde_json::Value {
    serde_json::to_value(MemberView {
        c,
        m,
        scopes: crate::scopes::ScopeSet::ALL.expanded(),
    })
    .expect("a member always serialises")
}

// ---------------------------------------------------------------------------------------
// Input

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NameInput {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub preferred_name: Option<String>,
    pub full_preferred_name: Option<String>,
    pub additional_names: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailInput {
    pub address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneInput {
    pub number: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmploymentInput {
    pub employment_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeriodInput {
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefInput {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfficeInput {
    pub id: Option<String>,
    pub name: Option<String>,
    pub address: Option<WireAddress>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManagerInput {
    pub id: Option<String>,
}

/// A member in the wire shape, as read from a fixture, a hire or a patched document.
/// `custom_field_values` and `hidden` are sandbox extras.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberInput {
    pub id: Option<String>,
    pub company_id: Option<String>,
    pub work_id: Option<String>,
    pub name: Option<NameInput>,
    pub active: Option<bool>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub employment_location_type: Option<String>,
    pub emails: Option<Vec<EmailInput>>,
    pub phones: Option<Vec<PhoneInput>>,
    pub addresses: Option<Vec<WireAddress>>,
    pub current_employment: Option<BTreeMap<String, EmploymentInput>>,
    pub employment_history: Option<Vec<PeriodInput>>,
    pub date_added_to_justworks: Option<Date>,
    pub date_of_birth: Option<Date>,
    pub sex_assigned_at_birth: Option<String>,
    pub department: Option<RefInput>,
    pub employment_start_date: Option<Date>,
    pub employment_termination_date: Option<Date>,
    pub job_title: Option<String>,
    pub manager: Option<ManagerInput>,
    pub office: Option<OfficeInput>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub custom_field_values: Option<Vec<CustomValueOut>>,
    pub hidden: Option<bool>,
}

/// What a [`MemberInput`] is for; decides defaults and which checks apply.
pub(crate) enum InputMode<'a> {
    /// A fixture member: the id is required; the manager is checked after loading.
    Fixture { default_created_at: Timestamp },
    /// A hire at run time: the id is optional; defaults fill a new employee.
    Hire { now: Timestamp },
    /// A merge-patched existing member: the id must not change.
    Patch { old: &'a Member, now: Timestamp },
}

/// A problem with one field of a member document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
}

fn err<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        field: field.into(),
        message: message.into(),
    })
}

/// `Some(s)` for a non-blank string.
fn clean(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Turns a member document into a stored member (strings go into the company's text).
pub(crate) fn build_member(
    c: &mut Company,
    input: MemberInput,
    mode: &InputMode<'_>,
) -> Result<Member, FieldError> {
    let id = match (mode, clean(input.id)) {
        (InputMode::Fixture { .. }, None) => return err("id", "required"),
        (InputMode::Fixture { .. }, Some(id)) => id,
        (InputMode::Hire { .. }, Some(id)) => {
            if c.find(&id).is_some() {
                return err("id", format!("a member with id `{id}` already exists"));
            }
            id
        }
        (InputMode::Hire { .. }, None) => loop {
            let id = crate::generate::random_id(&mut c.rng, "mbr_");
            if c.find(&id).is_none() {
                break id;
            }
        },
        (InputMode::Patch { old, .. }, new) => {
            let old_id = c.text.get(old.id).to_owned();
            if new.as_deref() != Some(old_id.as_str()) {
                return err("id", "the id cannot be changed or removed");
            }
            old_id
        }
    };
    if let Some(cid) = clean(input.company_id)
        && cid != c.profile.id
    {
        return err(
            "company_id",
            format!("`{cid}` is not this company's id `{}`", c.profile.id),
        );
    }

    // Dates and employment.
    let mut history = Vec::new();
    for (i, p) in input
        .employment_history
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if let (Some(s), Some(e)) = (p.start_date, p.end_date)
            && e < s
        {
            return err(
                format!("employment_history[{i}].end_date"),
                "is before start_date",
            );
        }
        if p.start_date.is_some() || p.end_date.is_some() {
            history.push(Period {
                start: p.start_date,
                end: p.end_date,
            });
        }
    }
    let hire = matches!(mode, InputMode::Hire { .. });
    let today = c.today;
    let start_date = input
        .employment_start_date
        .or(if hire { Some(today) } else { None });
    let termination_date = input.employment_termination_date;
    if let (Some(s), Some(t)) = (start_date, termination_date)
        && t < s
    {
        return err(
            "employment_termination_date",
            "is before employment_start_date",
        );
    }
    if hire && history.is_empty() {
        history.push(Period {
            start: start_date,
            end: termination_date,
        });
    }
    let active = input
        .active
        .unwrap_or_else(|| termination_date.is_none_or(|t| t >= today));

    let (created_at, updated_at) = match mode {
        InputMode::Fixture { default_created_at } => {
            let created = input.created_at.unwrap_or(*default_created_at);
            (created, input.updated_at.unwrap_or(created))
        }
        InputMode::Hire { now } => {
            let created = input.created_at.unwrap_or(*now);
            (created, (*now).max(created))
        }
        InputMode::Patch { old, now } => {
            let created = input.created_at.unwrap_or(old.created_at);
            (created, (*now).max(created))
        }
    };
    if updated_at < created_at {
        return err("updated_at", "is before created_at");
    }

    // Department and office: resolved by id, added to the company when new.
    let department = match input.department {
        None => None,
        Some(RefInput { id: None, .. }) => return err("department.id", "required"),
        Some(RefInput {
            id: Some(did),
            name,
        }) => {
            let name = clean(name);
            match c.department_index(&did) {
                Some(i) => {
                    let known = &c.profile.departments[usize::from(i)].name;
                    if let Some(n) = name
                        && &n != known
                    {
                        return err(
                            "department.name",
                            format!("department `{did}` is named `{known}`, not `{n}`"),
                        );
                    }
                    Some(i)
                }
                None => {
                    let Some(name) = name else {
                        return err(
                            "department.name",
                            format!("department `{did}` is new, so it needs a name"),
                        );
                    };
                    c.profile.departments.push(Department { id: did, name });
                    u16::try_from(c.profile.departments.len() - 1).ok()
                }
            }
        }
    };
    let office = match input.office {
        None => None,
        Some(OfficeInput { id: None, .. }) => return err("office.id", "required"),
        Some(OfficeInput {
            id: Some(oid),
            name,
            address,
        }) => {
            let name = clean(name);
            match c.office_index(&oid) {
                Some(i) => {
                    let known = &c.profile.offices[usize::from(i)].name;
                    if let Some(n) = name
                        && &n != known
                    {
                        return err(
                            "office.name",
                            format!("office `{oid}` is named `{known}`, not `{n}`"),
                        );
                    }
                    Some(i)
                }
                None => {
                    let Some(name) = name else {
                        return err(
                            "office.name",
                            format!("office `{oid}` is new, so it needs a name"),
                        );
                    };
                    let address = address
                        .map(WireAddress::normalised)
                        .filter(|a| !a.is_empty());
                    c.profile.offices.push(Office {
                        id: oid,
                        name,
                        address,
                    });
                    u16::try_from(c.profile.offices.len() - 1).ok()
                }
            }
        }
    };

    // Manager: must exist (fixtures are checked once every member is loaded).
    let manager = match input.manager.and_then(|m| clean(m.id)) {
        None => None,
        Some(mid) => {
            if mid == id {
                return err("manager.id", "a member cannot be their own manager");
            }
            if !matches!(mode, InputMode::Fixture { .. }) && c.find(&mid).is_none() {
                return err("manager.id", format!("no member has id `{mid}`"));
            }
            Some(mid)
        }
    };

    // Custom field values.
    let mut custom = Vec::new();
    for (i, cv) in input
        .custom_field_values
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let Some(field) = c.custom_fields.iter().position(|d| d.id == cv.id) else {
            return err(
                format!("custom_field_values[{i}].id"),
                format!("unknown custom field `{}`", cv.id),
            );
        };
        let def = &c.custom_fields[field];
        let values: Vec<String> = cv
            .values
            .into_iter()
            .filter(|v| !v.trim().is_empty())
            .collect();
        let at = format!("custom_field_values[{i}].values");
        if def.cardinality == "single" && values.len() > 1 {
            return err(at, format!("`{}` takes a single value", def.id));
        }
        for v in &values {
            match def.kind.as_str() {
                "select" if !def.options.contains(v) => {
                    return err(
                        at,
                        format!("`{v}` is not an option of `{}` ({:?})", def.id, def.options),
                    );
                }
                "date" if v.parse::<Date>().is_err() => {
                    return err(at, format!("`{v}` is not a YYYY-MM-DD date"));
                }
                "number" if v.parse::<f64>().is_err() => {
                    return err(at, format!("`{v}` is not a number"));
                }
                _ => {}
            }
        }
        let field = u16::try_from(field).expect("fewer than 65536 custom fields");
        for v in values {
            custom.push((field, v));
        }
    }

    // Strings and arrays go into the company's storage only once everything checked out.
    let name = input.name.unwrap_or_default();
    let given = clean(name.given_name);
    let family = clean(name.family_name);
    let preferred = clean(name.preferred_name);
    let full = clean(name.full_preferred_name).or_else(|| {
        let first = preferred.as_deref().or(given.as_deref());
        match (first, family.as_deref()) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(f), None) => Some(f.to_owned()),
            (None, Some(l)) => Some(l.to_owned()),
            (None, None) => None,
        }
    });

    let mut emails = Vec::new();
    for (i, e) in input.emails.unwrap_or_default().into_iter().enumerate() {
        let Some(address) = clean(e.address) else {
            return err(format!("emails[{i}].address"), "required");
        };
        emails.push((address, clean(e.kind)));
    }
    let mut phones = Vec::new();
    for (i, p) in input.phones.unwrap_or_default().into_iter().enumerate() {
        let Some(number) = clean(p.number) else {
            return err(format!("phones[{i}].number"), "required");
        };
        phones.push((number, clean(p.kind)));
    }

    let t = &mut c.text;
    let s = |t: &mut crate::arena::Text, v: Option<&str>| t.push(v.unwrap_or(""));
    let id_s = t.push(&id);
    let member = Member {
        id: id_s,
        work_id: Str::EMPTY,
        given_name: s(t, given.as_deref()),
        family_name: s(t, family.as_deref()),
        preferred_name: s(t, preferred.as_deref()),
        full_preferred_name: s(t, full.as_deref()),
        additional_names: Default::default(),
        kind: s(
            t,
            clean(input.kind)
                .as_deref()
                .or(if hire { Some("employee") } else { None }),
        ),
        location_type: s(t, clean(input.employment_location_type).as_deref()),
        sex: s(t, clean(input.sex_assigned_at_birth).as_deref()),
        emails: Default::default(),
        phones: Default::default(),
        addresses: Default::default(),
        employment: Default::default(),
        history: Default::default(),
        custom: Default::default(),
        date_added: input
            .date_added_to_justworks
            .or(if hire { Some(today) } else { None }),
        dob: input.date_of_birth,
        start_date,
        termination_date,
        department,
        office,
        job_title: s(t, clean(input.job_title).as_deref()),
        manager: s(t, manager.as_deref()),
        created_at,
        updated_at,
        active,
        hidden: input.hidden.unwrap_or(false),
    };
    let mut member = member;
    member.work_id = match clean(input.work_id) {
        Some(w) => c.text.push(&w),
        None if hire => {
            let n = c.next_work_id;
            c.next_work_id += 1;
            c.text.push_fmt(format_args!("E{n:05}"))
        }
        None => Str::EMPTY,
    };
    let names: Vec<Str> = name
        .additional_names
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| c.text.push(&n))
        .collect();
    member.additional_names = c.names.push_all(names);
    let emails: Vec<Email> = emails
        .into_iter()
        .map(|(a, k)| Email {
            address: c.text.push(&a),
            kind: c.text.push(k.as_deref().unwrap_or("")),
        })
        .collect();
    member.emails = c.emails.push_all(emails);
    let phones: Vec<Phone> = phones
        .into_iter()
        .map(|(n, k)| Phone {
            number: c.text.push(&n),
            kind: c.text.push(k.as_deref().unwrap_or("")),
        })
        .collect();
    member.phones = c.phones.push_all(phones);
    let addresses: Vec<Address> = input
        .addresses
        .unwrap_or_default()
        .into_iter()
        .map(WireAddress::normalised)
        .filter(|a| !a.is_empty())
        .map(|a| {
            let t = &mut c.text;
            Address {
                kind: t.push(a.kind.as_deref().unwrap_or("")),
                line1: t.push(a.line1.as_deref().unwrap_or("")),
                line2: t.push(a.line2.as_deref().unwrap_or("")),
                city: t.push(a.city.as_deref().unwrap_or("")),
                state: t.push(a.state.as_deref().unwrap_or("")),
                postal_code: t.push(a.postal_code.as_deref().unwrap_or("")),
                country: t.push(a.country.as_deref().unwrap_or("")),
            }
        })
        .collect();
    member.addresses = c.addresses.push_all(addresses);
    let employment: Vec<Employment> = input
        .current_employment
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(country, e)| {
            let et = clean(e.employment_type)?;
            Some((country, et))
        })
        .filter(|(country, _)| !country.trim().is_empty())
        .map(|(country, et)| Employment {
            country: c.text.push(&country),
            employment_type: c.text.push(&et),
        })
        .collect();
    member.employment = c.employment.push_all(employment);
    member.history = c.periods.push_all(history);
    let custom: Vec<CustomValue> = custom
        .into_iter()
        .map(|(field, v)| CustomValue {
            field,
            value: c.text.push(&v),
        })
        .collect();
    member.custom = c.custom.push_all(custom);
    Ok(member)
}

/// The member as a document for merge patching: the full wire member plus the
/// sandbox extras `custom_field_values` and `hidden`.
pub(crate) fn patch_document(c: &Company, m: &Member) -> serde_json::Value {
    let mut doc = member_value(c, m);
    if let serde_json::Value::Object(map) = &mut doc {
        map.insert(
            "custom_field_values".into(),
            serde_json::to_value(custom_values(c, m)).expect("plain data"),
        );
        map.insert("hidden".into(), serde_json::Value::Bool(m.hidden));
    }
    doc
}

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Parses a member document, naming the failing field in the error.
pub(crate) fn parse_input(doc: serde_json::Value) -> Result<MemberInput, FieldError> {
    serde_path_to_error::deserialize(doc).map_err(|e| FieldError {
        field: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "arr": [1, 2]});
        merge_patch(
            &mut doc,
            &json!({"a": "z", "c": {"f": null}, "arr": [3], "new": {"x": 1}}),
        );
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "arr": [3], "new": {"x": 1}})
        );
    }

    #[test]
    fn parse_input_names_the_field() {
        let e = parse_input(json!({"id": "mbr_1", "date_of_birth": "1990-13-01"})).unwrap_err();
        assert_eq!(e.field, "date_of_birth");
        let e = parse_input(json!({"id": "mbr_1", "nmae": {}})).unwrap_err();
        assert!(e.message.contains("nmae"), "{e:?}");
        let e = parse_input(json!({"emails": [{"address": "a@b", "kind": "work"}]})).unwrap_err();
        assert!(e.field.starts_with("emails[0]"), "{e:?}");
    }
}
