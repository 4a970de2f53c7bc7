//! A created employee as its `employee.created` event stores it: `{"created": [...]}`,
//! the employee's values in a fixed order, without field names (half the bytes of
//! the employee's JSON object, which a 100k first import encodes and stores 100k
//! times). The key is the event's `employee_key`; [`FieldDelta::created`] of the
//! decoded employee is the event's field list.
//!
//! The order is this file's. A field added to [`Employee`] needs a new shape (a
//! new key beside `created`, read as well): rows already stored keep theirs.

use roster_core::fields::FieldMap;

use jiff::civil::Date;
use roster_core::employee::{DeactivationReason, Employee, EmployeeKey};
use serde::{Deserialize, Serialize};

/// The values of [`Employee`] but its key, borrowed, in the order of [`Owned`].
#[derive(Serialize)]
struct Borrowed<'a>(
    &'a str,
    &'a Option<String>,
    &'a str,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<Date>,
    &'a Option<Date>,
    &'a Option<Date>,
    &'a Option<Date>,
    &'a Option<Date>,
    &'a Option<String>,
    &'a Option<String>,
    &'a FieldMap,
    bool,
    &'a Option<DeactivationReason>,
    bool,
    bool,
    bool,
    &'a Option<EmployeeKey>,
);

/// The values as read back.
#[derive(Deserialize)]
struct Owned(
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Date>,
    Option<Date>,
    Option<Date>,
    Option<Date>,
    Option<Date>,
    Option<String>,
    Option<String>,
    FieldMap,
    bool,
    Option<DeactivationReason>,
    bool,
    bool,
    bool,
    Option<EmployeeKey>,
);

#[derive(Serialize)]
struct Doc<'a> {
    created: Borrowed<'a>,
}

#[derive(Deserialize)]
struct OwnedDoc {
    created: Owned,
}

/// `after` as its created event stores it.
pub(super) fn encode(after: &Employee) -> crate::Result<String> {
    let e = after;
    super::to_json(&Doc {
        created: Borrowed(
            &e.employee_id,
            &e.source_id,
            &e.email,
            &e.secondary_email,
            &e.first_name,
            &e.last_name,
            &e.preferred_name,
            &e.date_of_birth,
            &e.start_date,
            &e.latest_rehire_date,
            &e.hire_date,
            &e.end_date,
            &e.manager_email,
            &e.phone,
            &e.demographics,
            e.active,
            &e.deactivation_reason,
            e.is_manager,
            e.excluded,
            e.email_edited,
            &e.merged_into,
        ),
    })
}

/// The employee [`encode`] stored, under `key`.
pub(super) fn decode(json: &str, key: EmployeeKey) -> crate::Result<Employee> {
    let OwnedDoc {
        created:
            Owned(
                employee_id,
                source_id,
                email,
                secondary_email,
                first_name,
                last_name,
                preferred_name,
                date_of_birth,
                start_date,
                latest_rehire_date,
                hire_date,
                end_date,
                manager_email,
                phone,
                demographics,
                active,
                deactivation_reason,
                is_manager,
                excluded,
                email_edited,
                merged_into,
            ),
    } = super::from_json(json, "events.changes")?;
    Ok(Employee {
        key,
        employee_id,
        source_id,
        email,
        secondary_email,
        first_name,
        last_name,
        preferred_name,
        date_of_birth,
        start_date,
        latest_rehire_date,
        hire_date,
        end_date,
        manager_email,
        phone,
        demographics,
        active,
        deactivation_reason,
        is_manager,
        excluded,
        email_edited,
        merged_into,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use jiff::civil::date;
    use roster_core::employee::DeactivationReason;

    use super::*;

    #[test]
    fn an_employee_comes_back_as_it_went_in() {
        let e = Employee {
            key: 42,
            employee_id: "E1".into(),
            source_id: Some("mbr_1".into()),
            email: "ada@x.example".into(),
            secondary_email: Some("a@y.example".into()),
            first_name: Some("Ada".into()),
            last_name: Some("L".into()),
            preferred_name: Some("A".into()),
            date_of_birth: Some(date(1990, 1, 2)),
            start_date: Some(date(2020, 3, 4)),
            latest_rehire_date: Some(date(2021, 5, 6)),
            hire_date: Some(date(2021, 5, 6)),
            end_date: Some(date(2027, 7, 8)),
            manager_email: Some("boss@x.example".into()),
            phone: Some("+1 212".into()),
            demographics: FieldMap::from([("Team", "Blue")]),
            active: false,
            deactivation_reason: Some(DeactivationReason::Excluded),
            is_manager: true,
            excluded: true,
            email_edited: true,
            merged_into: Some(7),
        };
        let json = encode(&e).unwrap();
        assert!(json.starts_with("{\"created\":[\"E1\","), "{json}");
        assert_eq!(decode(&json, 42).unwrap(), e);
        let empty = Employee::default();
        assert_eq!(decode(&encode(&empty).unwrap(), 0).unwrap(), empty);
    }
}
