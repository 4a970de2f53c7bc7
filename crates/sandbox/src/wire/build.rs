//! A member document → a stored member, in steps: the id, the dates and employment
//! history, the timestamps, the department and office (added to the company when new),
//! the manager, the custom field values, and last the strings and arrays, which go
//! into the company's storage only once everything checked out.

use jiff::Timestamp;
use jiff::civil::Date;

use super::CustomValueOut;
use super::input::{
    EmailInput, FieldError, InputMode, MemberInput, OfficeInput, PeriodInput, PhoneInput, RefInput,
    clean, err,
};
use crate::arena::Str;
use crate::model::{
    Address, Company, CustomValue, Department, Email, Employment, Member, Office, Period, Phone,
    WireAddress,
};

/// Turns a member document into a stored member (strings go into the company's text).
pub(crate) fn build_member(
    c: &mut Company,
    mut input: MemberInput,
    mode: &InputMode<'_>,
) -> Result<Member, FieldError> {
    let id = member_id(c, input.id.take(), mode)?;
    if let Some(cid) = clean(input.company_id.take())
        && cid != c.profile.id
    {
        return err(
            "company_id",
            format!("`{cid}` is not this company's id `{}`", c.profile.id),
        );
    }
    let hire = matches!(mode, InputMode::Hire { .. });
    let today = c.today;
    let dates = employment_dates(&input, hire, today)?;
    let (created_at, updated_at) = timestamps(&input, mode)?;
    let department = department(c, input.department.take())?;
    let office = office(c, input.office.take())?;
    let manager = manager(c, input.manager.take().and_then(|m| clean(m.id)), &id, mode)?;
    let custom = custom_values(c, input.custom_field_values.take().unwrap_or_default())?;
    let fields = Checked {
        id,
        dates,
        created_at,
        updated_at,
        department,
        office,
        manager,
        custom,
        hire,
        today,
    };
    store(c, input, fields)
}

/// Everything checked, ready to be stored.
struct Checked {
    id: String,
    dates: Dates,
    created_at: Timestamp,
    updated_at: Timestamp,
    department: Option<u16>,
    office: Option<u16>,
    manager: Option<String>,
    custom: Vec<(u16, String)>,
    hire: bool,
    today: Date,
}

struct Dates {
    history: Vec<Period>,
    start_date: Option<Date>,
    termination_date: Option<Date>,
    active: bool,
}

fn member_id(
    c: &mut Company,
    id: Option<String>,
    mode: &InputMode<'_>,
) -> Result<String, FieldError> {
    Ok(match (mode, clean(id)) {
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
    })
}

/// Dates and employment.
fn employment_dates(input: &MemberInput, hire: bool, today: Date) -> Result<Dates, FieldError> {
    let mut history = Vec::new();
    let periods: &[PeriodInput] = input.employment_history.as_deref().unwrap_or_default();
    for (i, p) in periods.iter().enumerate() {
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
    Ok(Dates {
        history,
        start_date,
        termination_date,
        active,
    })
}

fn timestamps(
    input: &MemberInput,
    mode: &InputMode<'_>,
) -> Result<(Timestamp, Timestamp), FieldError> {
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
    Ok((created_at, updated_at))
}

/// The department, by id; a new one (with a name) is added to the company.
fn department(c: &mut Company, input: Option<RefInput>) -> Result<Option<u16>, FieldError> {
    let (did, name) = match input {
        None => return Ok(None),
        Some(RefInput { id: None, .. }) => return err("department.id", "required"),
        Some(RefInput {
            id: Some(did),
            name,
        }) => (did, clean(name)),
    };
    if let Some(i) = c.department_index(&did) {
        let known = &c.profile.departments[usize::from(i)].name;
        if let Some(n) = name
            && &n != known
        {
            return err(
                "department.name",
                format!("department `{did}` is named `{known}`, not `{n}`"),
            );
        }
        return Ok(Some(i));
    }
    let Some(name) = name else {
        return err(
            "department.name",
            format!("department `{did}` is new, so it needs a name"),
        );
    };
    c.profile.departments.push(Department { id: did, name });
    Ok(u16::try_from(c.profile.departments.len() - 1).ok())
}

/// The office, by id; a new one (with a name) is added to the company.
fn office(c: &mut Company, input: Option<OfficeInput>) -> Result<Option<u16>, FieldError> {
    let (oid, name, address) = match input {
        None => return Ok(None),
        Some(OfficeInput { id: None, .. }) => return err("office.id", "required"),
        Some(OfficeInput {
            id: Some(oid),
            name,
            address,
        }) => (oid, clean(name), address),
    };
    if let Some(i) = c.office_index(&oid) {
        let known = &c.profile.offices[usize::from(i)].name;
        if let Some(n) = name
            && &n != known
        {
            return err(
                "office.name",
                format!("office `{oid}` is named `{known}`, not `{n}`"),
            );
        }
        return Ok(Some(i));
    }
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
    Ok(u16::try_from(c.profile.offices.len() - 1).ok())
}

/// Manager: must exist (fixtures are checked once every member is loaded).
fn manager(
    c: &Company,
    mid: Option<String>,
    id: &str,
    mode: &InputMode<'_>,
) -> Result<Option<String>, FieldError> {
    let Some(mid) = mid else {
        return Ok(None);
    };
    if mid == id {
        return err("manager.id", "a member cannot be their own manager");
    }
    if !matches!(mode, InputMode::Fixture { .. }) && c.find(&mid).is_none() {
        return err("manager.id", format!("no member has id `{mid}`"));
    }
    Ok(Some(mid))
}

/// Custom field values, checked against their definitions.
fn custom_values(
    c: &Company,
    input: Vec<CustomValueOut>,
) -> Result<Vec<(u16, String)>, FieldError> {
    let mut custom = Vec::new();
    for (i, cv) in input.into_iter().enumerate() {
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
    Ok(custom)
}

/// Emails and phones as (value, kind) pairs; a blank address or number is refused.
type Pairs = Vec<(String, Option<String>)>;

fn contacts(
    emails: Option<Vec<EmailInput>>,
    phones: Option<Vec<PhoneInput>>,
) -> Result<(Pairs, Pairs), FieldError> {
    let mut e_out = Vec::new();
    for (i, e) in emails.unwrap_or_default().into_iter().enumerate() {
        let Some(address) = clean(e.address) else {
            return err(format!("emails[{i}].address"), "required");
        };
        e_out.push((address, clean(e.kind)));
    }
    let mut p_out = Vec::new();
    for (i, p) in phones.unwrap_or_default().into_iter().enumerate() {
        let Some(number) = clean(p.number) else {
            return err(format!("phones[{i}].number"), "required");
        };
        p_out.push((number, clean(p.kind)));
    }
    Ok((e_out, p_out))
}

/// Strings and arrays go into the company's storage only once everything checked out.
fn store(c: &mut Company, mut input: MemberInput, f: Checked) -> Result<Member, FieldError> {
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

    let (emails, phones) = contacts(input.emails.take(), input.phones.take())?;

    let hire = f.hire;
    let t = &mut c.text;
    let s = |t: &mut crate::arena::Text, v: Option<&str>| t.push(v.unwrap_or(""));
    let id_s = t.push(&f.id);
    let mut member = Member {
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
            .or(if hire { Some(f.today) } else { None }),
        dob: input.date_of_birth,
        start_date: f.dates.start_date,
        termination_date: f.dates.termination_date,
        department: f.department,
        office: f.office,
        job_title: s(t, clean(input.job_title).as_deref()),
        manager: s(t, f.manager.as_deref()),
        created_at: f.created_at,
        updated_at: f.updated_at,
        active: f.dates.active,
        hidden: input.hidden.unwrap_or(false),
    };
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
    member.history = c.periods.push_all(f.dates.history);
    let custom: Vec<CustomValue> = f
        .custom
        .into_iter()
        .map(|(field, v)| CustomValue {
            field,
            value: c.text.push(&v),
        })
        .collect();
    member.custom = c.custom.push_all(custom);
    Ok(member)
}
