//! The member on the wire: writing it (with per-scope field omission and the
//! empty-value rules, here) and reading it back (fixtures, hires and merge patches:
//! `input`, `build`, `patch`).

mod build;
mod input;
mod patch;

pub(crate) use build::build_member;
pub(crate) use input::{FieldError, InputMode, MemberInput, parse_input};
pub(crate) use patch::{merge_patch, patch_document};

use jiff::civil::Date;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};

use crate::arena::{Span, Str};
use crate::model::{Address, Company, Email, Employment, Member, Period, Phone};
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
